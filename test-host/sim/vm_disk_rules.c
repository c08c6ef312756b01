/* The life of a disk-booted Windows VM, kept apart from service.c (which calls the hooks declared in
   vm_disk_rules.h). Every rule names its evidence; what nobody has measured says GUESS, and
   docs/windows-verification.md names the probe that would settle it.

   Shapes. A VirtualMachine document is
     - VmbFs-booted when it has a VirtualSmb share named "os" (Windows Sandbox's document, MouriDocs
       docs/4/ReadMe.md; hcsshim's WCOW utility VM, internal/uvm/create_wcow.go:583). These keep the
       behaviour they had before this file: no rule below applies to them but G and the disk chain.
     - disk-booted when it is not VmbFs-booted, has Chipset.Uefi, and a SCSI VirtualDisk attachment:
       the shape appsandbox (src/backend_win/hcs_vm.c:980-1000) and disco-vm
       (pkg/machine/hcs/config_windows.go newDocument) boot Windows from.
     - anything else (no firmware section, e.g. simtest's bare VM): untouched.

   B1. A disk-booted VM with Chipset.Uefi.BootThis starts, but its firmware boots nothing and the worker
       logs Hyper-V-Worker event 18603 (disco-vm config_windows.go:13-16: "Pinning the boot device makes
       the firmware log Hyper-V-Worker 18603 and boot nothing"; docs/drivers/hcs.md "Boot": the three
       fields "silently prevent boot"). So the start succeeds; the guest never answers a shutdown
       (there is no OS), and ServiceState shows Booted:false with the event.
   B2. SecureBootTemplateId without ApplySecureBootTemplate "Apply": the same, event 18604 (disco-vm
       config_windows.go:17-18, "every boot source fails").
   W.  A disk-booted VM without Devices.VideoMonitor: the worker crashes at start (appsandbox
       src/backend_win/hcs_vm.c:897, "vmwp.exe crashes (0xC0000005) without it"). Reported as HCS
       reports a system that dies: SystemExited {"Status":HCS_E_UNEXPECTED_EXIT,"ExitType":
       "UnexpectedExit"} (hcsshim internal/hcs/v2/system.go:338 reads ExitType "UnexpectedExit";
       internal/hcs/system.go:287 and errors.go:86 name 0xC0370106 for an unexpected exit), no
       CrashInitiated/CrashReport (those are guest bugchecks), and the start operation fails with
       HCS_E_TERMINATED_DURING_START ("the compute system unexpectedly terminated while starting").
       GUESS: the Status value, the start's HRESULT, that the event precedes the completion, and that
       utility VMs without a monitor are unaffected (hcsshim adds one only with EnableGraphicsConsole,
       create_wcow.go:385-388, so they are).
   G.  GuestState.GuestStateFilePath / RuntimeStateFilePath, when given, must exist, must be the kind
       of file HcsCreateEmptyGuestStateFile / HcsCreateEmptyRuntimeStateFile made (the simulator's
       files start with HCSSIM-VMGS / HCSSIM-VMRS), and must be granted to the VM, before create.
       Evidence: appsandbox hcs_vm.c:840-888 (create both, then HcsGrantVmAccess both); hcsshim
       create_wcow.go:475 grants the guest state file before the create; disco-vm fork_windows.go
       (createGuestStateFile, createRuntimeStateFile, grantAll). GUESS: every error code (missing ->
       ERROR_FILE_NOT_FOUND, wrong kind -> ERROR_INVALID_DATA, ungranted -> E_ACCESSDENIED as
       vm_rules.c rule 1) and that the create (not the start) fails.
   R.  A guest reboot (HcsSimControl GuestReboot) of a VM with StopOnReset:true powers it off:
       SystemExited GracefulExit (disco-vm config_windows.go:19-20 and docs/drivers/hcs.md: "a true here
       turns the first reboot into a power-off (18515)"; hcsshim sets StopOnReset for utility VMs,
       create_wcow.go:317). With StopOnReset false the guest comes back and the system stays Running.
       GUESS: the ExitType.
   D.  HcsShutDownComputeSystem on a disk-booted VM asks the guest; the guest powers off
       GuestShutdownDelayMs later (knob, default 50) and only then does the operation complete S_OK
       with SystemExited GracefulExit ("S_OK: the compute system shut down successfully",
       learn.microsoft.com HcsShutDownComputeSystem; hcsctl findings.md: shutdown "returns
       ErrVmcomputeOperationPending on success. Wait is what confirms"). A guest that ignores it (knob
       GuestShutdownIgnored, or a guest that never booted, B1/B2) leaves the operation pending until
       the system stops some other way (a terminate), when it completes HCS_E_SYSTEM_ALREADY_STOPPED.
       GUESS: that last code, and the time a paused guest takes (the delay runs only while Running).
   Chain. Every disk in a differencing chain must be granted (vm_rules.c rule 1 walks parents through
       vmd_disk_parent): disco-vm docs/drivers/hcs.md "Prepare": "Call HcsGrantVmAccess on every file in
       the chain, grandparents included." */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "vm_disk_rules.h"
#include "vm_rules.h"

#define VMD_E_ACCESSDENIED HCSSIM_HR(0x80070005)
#define VMD_E_FILE_NOT_FOUND HCSSIM_HR(0x80070002)
#define VMD_E_INVALID_DATA HCSSIM_HR(0x8007000D)

enum { SHAPE_OTHER, SHAPE_VMBFS, SHAPE_DISK };
static const char *shape_name(int s) { return s == SHAPE_DISK ? "DiskBoot" : s == SHAPE_VMBFS ? "VmbFs" : "Other"; }

struct vmd_guest {
    int shape;
    int stopOnReset;
    int noVideoMonitor;
    int bootEvent;        /* 18603 / 18604 when the firmware will boot nothing, else 0 */
    int booted;           /* set at start */
    int reboots;
    int shutdownAsked, shutdownHonoured, stoppedByGuest;
    long long shutdownLeftMs; /* running time the guest still needs to power off */
    ULONGLONG lastPoll;
};

static long long g_shutdownDelayMs = 50;
static int g_shutdownIgnored;

void vmd_config(const jv *config) {
    long long v;
    if (jgeti(config, "GuestShutdownDelayMs", &v)) g_shutdownDelayMs = v < 0 ? 0 : v;
    jv *b = jget(config, "GuestShutdownIgnored");
    if (b && b->t == J_BOOL) g_shutdownIgnored = b->b;
}
void vmd_reset(void) { g_shutdownDelayMs = 50; g_shutdownIgnored = 0; }
const char *vmd_config_json(void) {
    static char buf[96];
    snprintf(buf, sizeof buf, ",\"GuestShutdownDelayMs\":%lld,\"GuestShutdownIgnored\":%s", g_shutdownDelayMs, g_shutdownIgnored ? "true" : "false");
    return buf;
}

/* ------------------------------------------------------------------ the document */
static jv *member_ci(const jv *obj, const char *key) {
    for (jv *m = obj && obj->t == J_OBJ ? obj->child : NULL; m; m = m->next)
        if (m->key && !_stricmp(m->key, key)) return m;
    return NULL;
}
static int has_scsi_disk(const jv *vm) {
    jv *scsi = jget(jget(vm, "Devices"), "Scsi");
    for (jv *c = scsi && scsi->t == J_OBJ ? scsi->child : NULL; c; c = c->next) {
        jv *atts = jget(c, "Attachments");
        for (jv *a = atts && atts->t == J_OBJ ? atts->child : NULL; a; a = a->next) {
            const char *type = jgets(a, "Type");
            if (jgets(a, "Path") && (!type || !strcmp(type, "VirtualDisk"))) return 1;
        }
    }
    return 0;
}
static int has_os_share(const jv *vm) {
    jv *shares = jget(jget(jget(vm, "Devices"), "VirtualSmb"), "Shares");
    for (jv *s = shares && shares->t == J_ARR ? shares->child : NULL; s; s = s->next)
        if (jgets(s, "Name") && !_stricmp(jgets(s, "Name"), "os")) return 1;
    return 0;
}
static int shape_of(const jv *vm) {
    if (has_os_share(vm)) return SHAPE_VMBFS;
    if (jget(jget(vm, "Chipset"), "Uefi") && has_scsi_disk(vm)) return SHAPE_DISK;
    return SHAPE_OTHER;
}

/* ------------------------------------------------------------------ disks and files */
/* The head of a file (simulated disks and state files keep what matters at the start). */
static char *read_head(const char *path, DWORD max, DWORD *len) {
    WCHAR *w = u2w(path);
    HANDLE f = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    free(w);
    *len = 0;
    if (f == INVALID_HANDLE_VALUE) return NULL;
    char *b = malloc(max + 1);
    if (!ReadFile(f, b, max, len, NULL)) *len = 0;
    CloseHandle(f);
    b[*len] = 0;
    return b;
}

int vmd_disk_parent(const char *path, char *out, size_t n) {
    DWORD len;
    char *d = read_head(path, 65536, &len); /* STC_DISK_HEAD: the metadata of a simulated disk (storage_common.h) */
    if (!d) return 0;
    int r = 0;
    if (len > 17 && !memcmp(d + 8, "HCSSIM01", 8) && d[16] == '\n') {
        char err[64];
        jv *m = json_parse(d + 17, err, sizeof err);
        const char *p = jgets(m, "ParentPath");
        if (p) {
            snprintf(out, n, "%s", p);
            DWORD plen;
            char *pd = read_head(p, 17, &plen);
            r = pd && plen == 17 && !memcmp(pd + 8, "HCSSIM01", 8) ? 1 : -1;
            free(pd);
        }
        json_free(m);
    }
    free(d);
    return r;
}

/* Rule G for one file. */
static HRESULT state_file(const char *id, const char *member, const char *path, const char *magic, char *msg, size_t n) {
    DWORD len;
    char *d = read_head(path, 16, &len);
    HRESULT hr = S_OK;
    if (!d) {
        hr = VMD_E_FILE_NOT_FOUND;
        snprintf(msg, n, "GuestState.%s '%s' does not exist: create it with HcsCreateEmpty%sFile first", member, path,
                 !strcmp(magic, "HCSSIM-VMGS") ? "GuestState" : "RuntimeState");
    } else if (len < strlen(magic) || memcmp(d, magic, strlen(magic))) {
        hr = VMD_E_INVALID_DATA;
        snprintf(msg, n, "GuestState.%s '%s' is not a %s file (make it with HcsCreateEmpty%sFile)", member, path,
                 !strcmp(magic, "HCSSIM-VMGS") ? "guest state" : "runtime state", !strcmp(magic, "HCSSIM-VMGS") ? "GuestState" : "RuntimeState");
    } else if (!vm_rules_granted(id, path)) {
        hr = VMD_E_ACCESSDENIED;
        snprintf(msg, n, "Access is denied: the virtual machine '%s' cannot open its GuestState.%s '%s'; grant it access first (HcsGrantVmAccess)", id,
                 member, path);
    }
    free(d);
    return hr;
}

HRESULT vmd_create(const char *id, const jv *doc, char *msg, size_t n) {
    jv *gs = jget(jget(doc, "VirtualMachine"), "GuestState");
    const char *vmgs = jgets(gs, "GuestStateFilePath"), *vmrs = jgets(gs, "RuntimeStateFilePath");
    HRESULT hr = S_OK;
    if (vmgs && vmgs[0]) hr = state_file(id, "GuestStateFilePath", vmgs, "HCSSIM-VMGS", msg, n);
    if (SUCCEEDED(hr) && vmrs && vmrs[0]) hr = state_file(id, "RuntimeStateFilePath", vmrs, "HCSSIM-VMRS", msg, n);
    return hr;
}

/* ------------------------------------------------------------------ the guest */
vmd_guest *vmd_guest_new(const jv *doc) {
    jv *vm = jget(doc, "VirtualMachine");
    if (!vm) return NULL;
    vmd_guest *g = calloc(1, sizeof *g);
    g->shape = shape_of(vm);
    g->stopOnReset = jgetb(vm, "StopOnReset", 0);
    if (g->shape == SHAPE_DISK) {
        jv *uefi = jget(jget(vm, "Chipset"), "Uefi");
        const char *apply = jgets(uefi, "ApplySecureBootTemplate");
        g->noVideoMonitor = !member_ci(jget(vm, "Devices"), "VideoMonitor");
        if (jget(uefi, "BootThis")) g->bootEvent = 18603; /* B1 */
        else if (jgets(uefi, "SecureBootTemplateId") && (!apply || strcmp(apply, "Apply"))) g->bootEvent = 18604; /* B2 */
    }
    return g;
}
void vmd_guest_free(vmd_guest *g) { free(g); }

HRESULT vmd_start(vmd_guest *g, const char *id, char *msg, size_t n) {
    if (!g) return S_OK;
    if (g->noVideoMonitor) { /* W */
        snprintf(msg, n, "The virtual machine worker process of '%s' terminated unexpectedly while starting (0xC0000005, simulated): "
                 "a disk-booted VM needs Devices.VideoMonitor", id);
        return VMD_WORKER_CRASH;
    }
    g->booted = g->shape != SHAPE_DISK || !g->bootEvent; /* B1, B2: running, booting nothing */
    return S_OK;
}
const char *vmd_crash_exit_type(void) { return "UnexpectedExit"; }
HRESULT vmd_crash_status(void) { return HCSSIM_HR(0x80370106); /* HCS_E_UNEXPECTED_EXIT; GUESS (rule W) */ }

int vmd_guest_shutdown(const vmd_guest *g) { return g && g->shape == SHAPE_DISK; }
int vmd_guest_disk_booted(const vmd_guest *g) { return g && g->shape == SHAPE_DISK; }

int vmd_shutdown_poll(vmd_guest *g, int state, int firstCall) {
    ULONGLONG now = now_ms();
    if (state == 3) return VMD_SD_DONE;
    if (firstCall && !g->shutdownAsked) { /* D: the request reaches the guest (or nobody) */
        g->shutdownAsked = 1;
        g->shutdownHonoured = g->booted && !g_shutdownIgnored;
        g->shutdownLeftMs = g_shutdownDelayMs;
        g->lastPoll = now;
    }
    if (state == 1 && g->shutdownHonoured) g->shutdownLeftMs -= (long long)(now - g->lastPoll);
    g->lastPoll = now;
    if (!g->shutdownHonoured || state != 1 || g->shutdownLeftMs > 0) return VMD_SD_WAIT;
    g->stoppedByGuest = 1;
    return VMD_SD_STOP;
}
HRESULT vmd_shutdown_lost(void) { return HCSSIM_HR(0x80370110); /* HCS_E_SYSTEM_ALREADY_STOPPED; GUESS (rule D) */ }

int vmd_guest_reboot(vmd_guest *g) {
    g->reboots++;
    return g->stopOnReset; /* R */
}
int vmd_guest_reboots(const vmd_guest *g) { return g ? g->reboots : 0; }

const char *vmd_guest_json(const vmd_guest *g) {
    static char buf[256];
    if (!g) return "";
    snprintf(buf, sizeof buf,
             ",\"Guest\":{\"Shape\":\"%s\",\"Booted\":%s,\"Reboots\":%d,\"ShutdownRequested\":%s,\"WorkerEvents\":[%s]}",
             shape_name(g->shape), g->booted ? "true" : "false", g->reboots, g->shutdownAsked ? "true" : "false",
             g->bootEvent ? (g->bootEvent == 18603 ? "18603" : "18604") : "");
    return buf;
}
