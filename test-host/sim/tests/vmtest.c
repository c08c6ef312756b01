/* vmtest.exe: the disk-booted VM rules (vm_disk_rules.c, vm_rules.c rule 1's chain) and the virtdisk
   chain/size information, driven through the simulated computecore.dll and virtdisk.dll exports.
   Each rule: the case where it fires, and the allowed path. Prints TAP-like lines and
   "N passed, N failed". Uses C:\vmtest-<pid>\ (storage root inside it) and cleans up. */
#include <windows.h>
#include <computecore.h>
#include <virtdisk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common.h"

HRESULT WINAPI HcsSimControl(PCWSTR request, PWSTR *response);

static int g_n, g_pass, g_fail;
static void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *name, const char *fmt, ...) {
    g_n++;
    if (ok) { g_pass++; printf("ok %d - %s\n", g_n, name); return; }
    char d[1024] = "";
    if (fmt) { va_list ap; va_start(ap, fmt); vsnprintf(d, sizeof d, fmt, ap); va_end(ap); }
    g_fail++; printf("not ok %d - %s: %s\n", g_n, name, d);
}
#define CHECK_HR(hr, want, name) do { HRESULT _h = (hr), _w = (want); check(_h == _w, name, "got 0x%08lx, want 0x%08lx", (unsigned long)_h, (unsigned long)_w); } while (0)

#define E_PARENT_NOT_FOUND ((HRESULT)0xC03A000D)
#define E_VHD_INVALID_TYPE 0xC03A001Bu
#define HR_ACCESSDENIED ((HRESULT)0x80070005)

static WCHAR g_dir[MAX_PATH];
static char g_dirJ[MAX_PATH * 2]; /* g_dir with JSON-escaped backslashes */

/* ---------------------------------------------------------------- helpers */
static char *control(const char *req) {
    WCHAR *w = u2w(req);
    PWSTR resp = NULL;
    HcsSimControl(w, &resp);
    free(w);
    char *u = resp ? w2u(resp) : NULL;
    if (resp) LocalFree(resp);
    return u;
}
static WCHAR *path(const WCHAR *name) {
    static WCHAR bufs[8][MAX_PATH]; static int i;
    WCHAR *b = bufs[i++ % 8];
    swprintf(b, MAX_PATH, L"%ls\\%ls", g_dir, name);
    return b;
}
static DWORD create_disk(const WCHAR *name, ULONGLONG size, const WCHAR *parent, DWORD flags) {
    VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
    unsigned char p[128]; memset(p, 0, sizeof p);
    ULONG v2 = 2, block = 1u << 20; memcpy(p, &v2, 4); memcpy(p + 24, &size, 8); memcpy(p + 32, &block, 4);
    memcpy(p + 48, &parent, sizeof parent); /* ParentPath@48 (SDK offsets, README "Layouts") */
    HANDLE h = NULL;
    DWORD e = CreateVirtualDisk(&t, path(name), VIRTUAL_DISK_ACCESS_NONE, NULL, (CREATE_VIRTUAL_DISK_FLAG)flags, 0, (PCREATE_VIRTUAL_DISK_PARAMETERS)p, NULL, &h);
    if (h) CloseHandle(h);
    return e;
}
static DWORD open_disk(const WCHAR *name, DWORD flags, HANDLE *h) {
    VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
    unsigned char p[16]; memset(p, 0, sizeof p);
    ULONG v2 = 2; memcpy(p, &v2, 4); ULONG one = 1; memcpy(p + 4, &one, 4); /* GetInfoOnly */
    *h = NULL;
    return OpenVirtualDisk(&t, path(name), VIRTUAL_DISK_ACCESS_NONE, (OPEN_VIRTUAL_DISK_FLAG)flags, (POPEN_VIRTUAL_DISK_PARAMETERS)p, h);
}
/* GetVirtualDiskInformation of one version into buf (raw, SDK offsets: the union at 8). */
static DWORD disk_info(const WCHAR *name, ULONG version, unsigned char *buf, ULONG *size) {
    HANDLE h;
    DWORD e = open_disk(name, OPEN_VIRTUAL_DISK_FLAG_NO_PARENTS, &h);
    if (e) return e;
    memset(buf, 0, *size);
    memcpy(buf, &version, 4);
    e = GetVirtualDiskInformation(h, size, (PGET_VIRTUAL_DISK_INFO)buf, NULL);
    CloseHandle(h);
    return e;
}
static ULONGLONG u64at(const unsigned char *b, size_t o) { ULONGLONG v; memcpy(&v, b + o, 8); return v; }
static ULONG u32at(const unsigned char *b, size_t o) { ULONG v; memcpy(&v, b + o, 4); return v; }
static ULONGLONG file_size(const WCHAR *name) {
    WIN32_FILE_ATTRIBUTE_DATA fa;
    if (!GetFileAttributesExW(path(name), GetFileExInfoStandard, &fa)) return 0;
    return ((ULONGLONG)fa.nFileSizeHigh << 32) | fa.nFileSizeLow;
}

static HRESULT grant(const WCHAR *vm, const WCHAR *name) { return HcsGrantVmAccess(vm, path(name)); }
static void make_state_files(const WCHAR *vm) {
    HcsCreateEmptyGuestStateFile(path(L"vm.vmgs"));
    HcsCreateEmptyRuntimeStateFile(path(L"vm.vmrs"));
    grant(vm, L"vm.vmgs");
    grant(vm, L"vm.vmrs");
}

enum { NO_VIDEO = 1, BOOT_THIS = 2, NO_APPLY = 4, STOP_ON_RESET = 8, NO_GUEST_STATE = 16, SWAP_STATE = 32, VMBFS = 64 };
/* The disk-boot document of the brief's shared facts (or the VmbFs shape with VMBFS), tweaked by flags. */
static WCHAR *vm_doc(const char *disk, int flags) {
    static WCHAR w[8192];
    char d[8192];
    char devices[2048], uefi[512], gs[1024];
    snprintf(uefi, sizeof uefi, "\"ApplySecureBootTemplate\":\"%s\",\"SecureBootTemplateId\":\"1734c6e8-3154-4dda-ba5f-a874cc483422\"%s",
             flags & NO_APPLY ? "Skip" : "Apply",
             flags & (BOOT_THIS | VMBFS) ? ",\"BootThis\":{\"DeviceType\":\"VmbFs\",\"DevicePath\":\"\\\\EFI\\\\Microsoft\\\\Boot\\\\bootmgfw.efi\"}" : "");
    snprintf(devices, sizeof devices,
             "\"Scsi\":{\"0\":{\"Attachments\":{\"0\":{\"Type\":\"VirtualDisk\",\"Path\":\"%s\\\\%s\"}}}}%s%s,"
             "\"HvSocket\":{\"HvSocketConfig\":{\"ServiceTable\":{}}}",
             g_dirJ, disk, flags & (NO_VIDEO | VMBFS) ? "" : ",\"VideoMonitor\":{},\"Keyboard\":{},\"Mouse\":{}",
             flags & VMBFS ? ",\"VirtualSmb\":{\"Shares\":[{\"Name\":\"os\",\"Path\":\"C:\\\\windows\"}]}" : "");
    const char *a = flags & SWAP_STATE ? "vm.vmrs" : "vm.vmgs", *b = "vm.vmrs";
    snprintf(gs, sizeof gs, flags & NO_GUEST_STATE ? "%s" : ",\"GuestState\":{\"GuestStateFilePath\":\"%s/%s\",\"RuntimeStateFilePath\":\"%s/%s\"}",
             flags & NO_GUEST_STATE ? "" : g_dirJ, a, g_dirJ, b);
    snprintf(d, sizeof d,
             "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"vmtest\",\"VirtualMachine\":{\"StopOnReset\":%s,"
             "\"Chipset\":{\"Uefi\":{%s}},\"ComputeTopology\":{\"Memory\":{\"SizeInMB\":4096},\"Processor\":{\"Count\":2}},"
             "\"Devices\":{%s}%s}}",
             flags & STOP_ON_RESET ? "true" : "false", uefi, devices, gs);
    MultiByteToWideChar(CP_UTF8, 0, d, -1, w, 8192);
    return w;
}
static HRESULT sys_op(HRESULT (WINAPI *fn)(HCS_SYSTEM, HCS_OPERATION, PCWSTR), HCS_SYSTEM s, PCWSTR opts, DWORD ms) {
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HRESULT hr = fn(s, op, opts);
    if (SUCCEEDED(hr)) hr = HcsWaitForOperationResult(op, ms, NULL);
    HcsCloseOperation(op);
    return hr;
}
static HRESULT create(const WCHAR *id, const WCHAR *doc, HCS_SYSTEM *s, char **err) {
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    PWSTR res = NULL;
    HRESULT hr = HcsCreateComputeSystem(id, doc, op, NULL, s);
    if (SUCCEEDED(hr)) hr = HcsWaitForOperationResult(op, 10000, &res);
    HcsCloseOperation(op);
    if (err) *err = res ? w2u(res) : NULL;
    if (res) LocalFree(res);
    if (FAILED(hr) && *s) { HcsCloseComputeSystem(*s); *s = NULL; }
    return hr;
}
/* ServiceState's record of system `id` (a fresh parse; free with json_free). */
static jv *sys_record(const char *id) {
    char *st = control("{\"Op\":\"ServiceState\"}"), err[64];
    jv *all = st ? json_parse(st, err, sizeof err) : NULL, *found = NULL;
    free(st);
    for (jv *s = jget(all, "Systems") ? jget(all, "Systems")->child : NULL; s; s = s->next)
        if (jgets(s, "Id") && !strcmp(jgets(s, "Id"), id)) {
            char *dump = json_dump(s);
            found = json_parse(dump, err, sizeof err);
            free(dump);
            break;
        }
    json_free(all);
    return found;
}
static int state_is(const char *id, const char *want) {
    jv *r = sys_record(id);
    int ok = r && jgets(r, "State") && !strcmp(jgets(r, "State"), want);
    json_free(r);
    return ok;
}
static char *exit_doc(HCS_SYSTEM s) {
    PWSTR d = NULL;
    HRESULT hr = HcsWaitForComputeSystemExit(s, 5000, &d);
    char *u = SUCCEEDED(hr) && d ? w2u(d) : xstrdup("(no exit)");
    if (d) LocalFree(d);
    return u;
}
static void finish(HCS_SYSTEM s) {
    if (!s) return;
    sys_op(HcsTerminateComputeSystem, s, NULL, 5000);
    HcsCloseComputeSystem(s);
}

/* ---------------------------------------------------------------- virtdisk: chain, size, subtype */
static void test_virtdisk(void) {
    unsigned char b[1024];
    ULONG sz = sizeof b;
    check(!create_disk(L"base.vhdx", 64ull << 20, NULL, 0), "a dynamic base VHDX", NULL);
    check(!disk_info(L"base.vhdx", GET_VIRTUAL_DISK_INFO_SIZE, b, &sz) && u64at(b, 8) == 64ull << 20 && u64at(b, 16) < 65536 && u32at(b, 24) == 1u << 20,
          "SIZE of a dynamic disk: virtual 64 MiB, a small file, its block size", "virtual %llu physical %llu block %lu", u64at(b, 8), u64at(b, 16), u32at(b, 24));
    sz = sizeof b;
    check(!disk_info(L"base.vhdx", GET_VIRTUAL_DISK_INFO_PROVIDER_SUBTYPE, b, &sz) && u32at(b, 8) == 3, "PROVIDER_SUBTYPE of a dynamic disk is 3", "%lu", u32at(b, 8));

    check(!create_disk(L"fixed.vhdx", 32ull << 20, NULL, CREATE_VIRTUAL_DISK_FLAG_FULL_PHYSICAL_ALLOCATION), "a fixed VHDX (FULL_PHYSICAL_ALLOCATION)", NULL);
    ULONGLONG want = (32ull << 20) + (4ull << 20);
    check(file_size(L"fixed.vhdx") == want, "a fixed disk's file has its full size", "%llu", file_size(L"fixed.vhdx"));
    sz = sizeof b;
    check(!disk_info(L"fixed.vhdx", GET_VIRTUAL_DISK_INFO_SIZE, b, &sz) && u64at(b, 8) == 32ull << 20 && u64at(b, 16) == want && u32at(b, 24) == 0,
          "SIZE of a fixed disk: physical = the file, block 0", "virtual %llu physical %llu block %lu", u64at(b, 8), u64at(b, 16), u32at(b, 24));
    sz = sizeof b;
    check(!disk_info(L"fixed.vhdx", GET_VIRTUAL_DISK_INFO_PROVIDER_SUBTYPE, b, &sz) && u32at(b, 8) == 2, "PROVIDER_SUBTYPE of a fixed disk is 2", "%lu", u32at(b, 8));
    { /* the metadata rewrite of an attach/detach keeps the full size */
        HANDLE h; VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
        DWORD e = OpenVirtualDisk(&t, path(L"fixed.vhdx"), VIRTUAL_DISK_ACCESS_ALL, OPEN_VIRTUAL_DISK_FLAG_NONE, NULL, &h);
        unsigned char ap[24]; memset(ap, 0, sizeof ap); ap[0] = 1;
        if (!e) e = AttachVirtualDisk(h, NULL, ATTACH_VIRTUAL_DISK_FLAG_NO_DRIVE_LETTER | ATTACH_VIRTUAL_DISK_FLAG_PERMANENT_LIFETIME, 0, (PATTACH_VIRTUAL_DISK_PARAMETERS)ap, NULL);
        if (!e) e = DetachVirtualDisk(h, DETACH_VIRTUAL_DISK_FLAG_NONE, 0);
        if (h) CloseHandle(h);
        check(!e && file_size(L"fixed.vhdx") == want, "attach + detach of a fixed disk keep its size", "e=%lu size %llu", e, file_size(L"fixed.vhdx"));
    }
    check(create_disk(L"fixed-child.vhdx", 0, path(L"fixed.vhdx"), CREATE_VIRTUAL_DISK_FLAG_FULL_PHYSICAL_ALLOCATION) == ERROR_INVALID_PARAMETER,
          "a fixed differencing disk -> ERROR_INVALID_PARAMETER", NULL);

    check(!create_disk(L"os.vhdx", 0, path(L"base.vhdx"), 0), "a differencing os.vhdx over base.vhdx", NULL);
    check(!create_disk(L"os2.vhdx", 0, path(L"os.vhdx"), 0), "a second level (os2 over os over base)", NULL);
    sz = sizeof b;
    DWORD e = disk_info(L"os.vhdx", GET_VIRTUAL_DISK_INFO_PARENT_LOCATION, b, &sz);
    check(!e && u32at(b, 8) == 1 && !_wcsicmp((WCHAR *)(b + 12), path(L"base.vhdx")), "PARENT_LOCATION: resolved, the parent's absolute path", "e=%lu", e);
    sz = 16;
    check(disk_info(L"os.vhdx", GET_VIRTUAL_DISK_INFO_PARENT_LOCATION, b, &sz) == ERROR_INSUFFICIENT_BUFFER && sz == 12 + (wcslen(path(L"base.vhdx")) + 2) * 2,
          "PARENT_LOCATION into a small buffer: ERROR_INSUFFICIENT_BUFFER and the size needed", "size %lu", sz);
    sz = sizeof b;
    check(disk_info(L"base.vhdx", GET_VIRTUAL_DISK_INFO_PARENT_LOCATION, b, &sz) == E_VHD_INVALID_TYPE, "PARENT_LOCATION of a disk without parent -> ERROR_VHD_INVALID_TYPE", NULL);
    unsigned char idb[64]; ULONG isz = sizeof idb;
    sz = sizeof b;
    check(!disk_info(L"base.vhdx", GET_VIRTUAL_DISK_INFO_IDENTIFIER, idb, &isz) && !disk_info(L"os.vhdx", GET_VIRTUAL_DISK_INFO_PARENT_IDENTIFIER, b, &sz) &&
          !memcmp(idb + 8, b + 8, 16), "PARENT_IDENTIFIER of os.vhdx = IDENTIFIER of base.vhdx", NULL);
    sz = sizeof b;
    check(!disk_info(L"os.vhdx", GET_VIRTUAL_DISK_INFO_PROVIDER_SUBTYPE, b, &sz) && u32at(b, 8) == 4, "PROVIDER_SUBTYPE of a differencing disk is 4", NULL);

    /* the chain must be whole: a missing grandparent fails the open (NO_PARENTS still opens) */
    MoveFileW(path(L"base.vhdx"), path(L"base.moved"));
    HANDLE h;
    VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
    e = OpenVirtualDisk(&t, path(L"os2.vhdx"), VIRTUAL_DISK_ACCESS_ALL, OPEN_VIRTUAL_DISK_FLAG_NONE, NULL, &h);
    check(e == (DWORD)E_PARENT_NOT_FOUND, "open of os2.vhdx with its grandparent gone -> ERROR_VHD_PARENT_VHD_NOT_FOUND", "got 0x%lx", e);
    if (!e) CloseHandle(h);
    sz = sizeof b;
    e = disk_info(L"os.vhdx", GET_VIRTUAL_DISK_INFO_PARENT_LOCATION, b, &sz);
    check(!e && u32at(b, 8) == 0, "PARENT_LOCATION with the parent gone (opened NO_PARENTS): not resolved", "e=%lu", e);
    MoveFileW(path(L"base.moved"), path(L"base.vhdx"));
    e = OpenVirtualDisk(&t, path(L"os2.vhdx"), VIRTUAL_DISK_ACCESS_ALL, OPEN_VIRTUAL_DISK_FLAG_NONE, NULL, &h);
    check(!e, "open of os2.vhdx with the chain back", "e=%lu", e);
    if (!e) CloseHandle(h);
}

/* ---------------------------------------------------------------- rule 1 over the chain, rule G */
static void test_grants(void) {
    HCS_SYSTEM s = NULL;
    char *err = NULL;
    const WCHAR *id = L"vmt-grant";
    make_state_files(id);
    grant(id, L"os.vhdx");
    HRESULT hr = create(id, vm_doc("os.vhdx", 0), &s, &err);
    check(hr == HR_ACCESSDENIED && err && strstr(err, "base.vhdx") && strstr(err, "parent"), "chain: os.vhdx granted, its parent base.vhdx not -> E_ACCESSDENIED naming base.vhdx",
          "0x%08lx %s", (unsigned long)hr, err ? err : "");
    free(err);
    HcsGrantVmGroupAccess(path(L"base.vhdx")); /* the VM group counts too */
    CHECK_HR(create(id, vm_doc("os.vhdx", 0), &s, NULL), S_OK, "chain: base granted to the VM group -> create succeeds");
    finish(s); s = NULL;

    grant(L"vmt-g2", L"os2.vhdx"); grant(L"vmt-g2", L"os.vhdx"); make_state_files(L"vmt-g2");
    MoveFileW(path(L"base.vhdx"), path(L"base.moved"));
    CHECK_HR(create(L"vmt-g2", vm_doc("os2.vhdx", 0), &s, NULL), E_PARENT_NOT_FOUND, "chain: a missing grandparent -> ERROR_VHD_PARENT_VHD_NOT_FOUND");
    MoveFileW(path(L"base.moved"), path(L"base.vhdx"));
    CHECK_HR(create(L"vmt-g2", vm_doc("os2.vhdx", 0), &s, NULL), S_OK, "chain: three disks, all granted -> create succeeds");
    finish(s); s = NULL;

    /* rule G: the guest state files */
    const WCHAR *g = L"vmt-gs";
    grant(g, L"os.vhdx");
    DeleteFileW(path(L"vm.vmgs")); DeleteFileW(path(L"vm.vmrs"));
    CHECK_HR(create(g, vm_doc("os.vhdx", 0), &s, NULL), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "GuestState: a missing .vmgs -> ERROR_FILE_NOT_FOUND");
    HcsCreateEmptyGuestStateFile(path(L"vm.vmgs"));
    HcsCreateEmptyRuntimeStateFile(path(L"vm.vmrs"));
    CHECK_HR(create(g, vm_doc("os.vhdx", 0), &s, NULL), HR_ACCESSDENIED, "GuestState: files not granted -> E_ACCESSDENIED");
    grant(g, L"vm.vmgs"); grant(g, L"vm.vmrs");
    CHECK_HR(create(g, vm_doc("os.vhdx", SWAP_STATE), &s, NULL), HRESULT_FROM_WIN32(ERROR_INVALID_DATA), "GuestState: a runtime state file as the guest state -> ERROR_INVALID_DATA");
    CHECK_HR(create(g, vm_doc("os.vhdx", 0), &s, NULL), S_OK, "GuestState: made by HcsCreateEmpty*File and granted -> create succeeds");
    finish(s);
}

/* ---------------------------------------------------------------- lifecycle rules */
typedef struct { volatile LONG n; HCS_EVENT_TYPE types[8]; char data[8][512]; } events_t;
static void CALLBACK on_event(HCS_EVENT *ev, void *ctx) {
    events_t *e = ctx;
    LONG i = InterlockedIncrement(&e->n) - 1;
    if (i >= 8) return;
    e->types[i] = ev->Type;
    char *u = ev->EventData ? w2u(ev->EventData) : xstrdup("");
    snprintf(e->data[i], sizeof e->data[i], "%s", u);
    free(u);
}

static HCS_SYSTEM started(const WCHAR *id, int flags, HRESULT *startHr) {
    HCS_SYSTEM s = NULL;
    grant(id, L"os.vhdx"); grant(id, L"base.vhdx"); make_state_files(id);
    HRESULT hr = create(id, vm_doc("os.vhdx", flags), &s, NULL);
    if (SUCCEEDED(hr)) hr = sys_op(HcsStartComputeSystem, s, NULL, 10000);
    *startHr = hr;
    return s;
}

static void test_lifecycle(void) {
    HRESULT hr;
    HCS_SYSTEM s = started(L"vmt-life", 0, &hr);
    CHECK_HR(hr, S_OK, "a disk-booted VM starts");
    check(state_is("vmt-life", "Running"), "it is Running", NULL);
    jv *r = sys_record("vmt-life");
    jv *guest = jget(r, "Guest");
    check(jgets(guest, "Shape") && !strcmp(jgets(guest, "Shape"), "DiskBoot") && jgetb(guest, "Booted", 0), "ServiceState: Guest DiskBoot, booted", NULL);
    json_free(r);
    CHECK_HR(sys_op(HcsSaveComputeSystem, s, L"{\"SaveType\":\"AsTemplate\"}", 5000), HCS_E_INVALID_STATE, "Save AsTemplate while running -> HCS_E_INVALID_STATE");
    CHECK_HR(sys_op(HcsPauseComputeSystem, s, L"{\"SuspensionLevel\":\"Suspend\"}", 5000), S_OK, "pause");
    CHECK_HR(sys_op(HcsResumeComputeSystem, s, NULL, 5000), S_OK, "resume");
    check(state_is("vmt-life", "Running"), "Running again", NULL);

    /* rule D: the guest powers off after GuestShutdownDelayMs; the operation completes then */
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"GuestShutdownDelayMs\":400}}"));
    ULONGLONG t0 = GetTickCount64();
    hr = sys_op(HcsShutDownComputeSystem, s, NULL, 10000);
    ULONGLONG took = GetTickCount64() - t0;
    CHECK_HR(hr, S_OK, "guest shutdown completes S_OK");
    check(took >= 350, "... after the guest's delay", "%llu ms", took);
    char *x = exit_doc(s);
    check(strstr(x, "\"GracefulExit\"") && strstr(x, "\"Status\":0"), "SystemExited: GracefulExit, Status 0", "%s", x);
    free(x);
    HcsCloseComputeSystem(s);

    /* a guest that ignores the request: the operation waits until a terminate */
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"GuestShutdownDelayMs\":10,\"GuestShutdownIgnored\":true}}"));
    s = started(L"vmt-deaf", 0, &hr);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsShutDownComputeSystem(s, op, NULL), S_OK, "shutdown accepted");
    CHECK_HR(HcsWaitForOperationResult(op, 500, NULL), HCS_E_OPERATION_TIMEOUT, "GuestShutdownIgnored: still pending after 500 ms");
    check(state_is("vmt-deaf", "Running"), "... and the VM still runs", NULL);
    CHECK_HR(sys_op(HcsTerminateComputeSystem, s, NULL, 5000), S_OK, "terminate after the timeout");
    CHECK_HR(HcsWaitForOperationResult(op, 5000, NULL), HCS_E_SYSTEM_ALREADY_STOPPED, "the pending shutdown then completes HCS_E_SYSTEM_ALREADY_STOPPED");
    HcsCloseOperation(op);
    x = exit_doc(s);
    check(strstr(x, "ForcedExit") != NULL, "SystemExited: ForcedExit", "%s", x);
    free(x);
    HcsCloseComputeSystem(s);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"GuestShutdownDelayMs\":50,\"GuestShutdownIgnored\":false}}"));

    /* Save AsTemplate once paused (rule: only when paused) */
    s = started(L"vmt-tmpl", 0, &hr);
    sys_op(HcsPauseComputeSystem, s, L"{\"SuspensionLevel\":\"Suspend\"}", 5000);
    CHECK_HR(sys_op(HcsSaveComputeSystem, s, L"{\"SaveType\":\"AsTemplate\"}", 5000), S_OK, "Save AsTemplate when paused");
    check(state_is("vmt-tmpl", "SavedAsTemplate"), "state SavedAsTemplate", NULL);
    finish(s);
}

static void test_worker_crash(void) {
    HCS_SYSTEM s = NULL;
    events_t ev; memset(&ev, 0, sizeof ev);
    grant(L"vmt-crash", L"os.vhdx"); grant(L"vmt-crash", L"base.vhdx"); make_state_files(L"vmt-crash");
    CHECK_HR(create(L"vmt-crash", vm_doc("os.vhdx", NO_VIDEO), &s, NULL), S_OK, "a disk-booted VM without VideoMonitor is created");
    HcsSetComputeSystemCallback(s, HcsEventOptionNone, &ev, on_event);
    CHECK_HR(sys_op(HcsStartComputeSystem, s, NULL, 10000), HCS_E_TERMINATED_DURING_START, "its start fails: HCS_E_TERMINATED_DURING_START (worker crash)");
    check(state_is("vmt-crash", "Stopped"), "the system is Stopped", NULL);
    for (int i = 0; i < 100 && ev.n < 1; i++) Sleep(20);
    check(ev.n == 1 && ev.types[0] == HcsEventSystemExited && strstr(ev.data[0], "\"UnexpectedExit\"") && strstr(ev.data[0], "-2143878906"),
          "one SystemExited: UnexpectedExit, Status HCS_E_UNEXPECTED_EXIT", "n=%ld %s", ev.n, ev.data[0]);
    HcsCloseComputeSystem(s);

    HRESULT hr;
    s = started(L"vmt-vmbfs", VMBFS, &hr);
    CHECK_HR(hr, S_OK, "a VmbFs-booted VM (os share) without VideoMonitor still starts");
    CHECK_HR(sys_op(HcsShutDownComputeSystem, s, NULL, 2000), S_OK, "... and shuts down at once, as before");
    HcsCloseComputeSystem(s);
}

static void test_boot_and_reset(void) {
    HRESULT hr;
    HCS_SYSTEM s = started(L"vmt-bootthis", BOOT_THIS, &hr);
    CHECK_HR(hr, S_OK, "BootThis on a disk-booted VM: the start succeeds (the firmware boots nothing)");
    jv *r = sys_record("vmt-bootthis"), *guest = jget(r, "Guest");
    check(!jgetb(guest, "Booted", 1) && jget(guest, "WorkerEvents") && jget(guest, "WorkerEvents")->child &&
          jget(guest, "WorkerEvents")->child->i == 18603, "ServiceState: not booted, worker event 18603", NULL);
    json_free(r);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HcsShutDownComputeSystem(s, op, NULL);
    CHECK_HR(HcsWaitForOperationResult(op, 300, NULL), HCS_E_OPERATION_TIMEOUT, "a guest that never booted does not answer a shutdown");
    finish(s);
    HcsWaitForOperationResult(op, 5000, NULL);
    HcsCloseOperation(op);

    s = started(L"vmt-noapply", NO_APPLY, &hr);
    r = sys_record("vmt-noapply"); guest = jget(r, "Guest");
    check(SUCCEEDED(hr) && !jgetb(guest, "Booted", 1) && jget(guest, "WorkerEvents")->child && jget(guest, "WorkerEvents")->child->i == 18604,
          "SecureBootTemplateId without ApplySecureBootTemplate Apply: not booted, event 18604", NULL);
    json_free(r);
    finish(s);

    s = started(L"vmt-reset", STOP_ON_RESET, &hr);
    char *out = control("{\"Op\":\"GuestReboot\",\"SystemId\":\"vmt-reset\"}");
    check(out && strstr(out, "\"Stopped\":true"), "StopOnReset:true: a guest reboot stops the VM", "%s", out ? out : "");
    free(out);
    char *x = exit_doc(s);
    check(strstr(x, "GracefulExit") != NULL, "... with SystemExited GracefulExit", "%s", x);
    free(x);
    HcsCloseComputeSystem(s);

    s = started(L"vmt-reboot", 0, &hr);
    out = control("{\"Op\":\"GuestReboot\",\"SystemId\":\"vmt-reboot\"}");
    check(out && strstr(out, "\"Stopped\":false") && strstr(out, "\"Reboots\":1") && state_is("vmt-reboot", "Running"),
          "StopOnReset:false: the guest reboots and the VM keeps running", "%s", out ? out : "");
    free(out);
    finish(s);
    out = control("{\"Op\":\"GuestReboot\",\"SystemId\":\"nope\"}");
    check(out && strstr(out, "GuestReboot needs"), "GuestReboot of an unknown system is refused", NULL);
    free(out);
}

int wmain(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!GetEnvironmentVariableW(L"HCSSIM_INSTANCE", NULL, 0)) {
        WCHAR inst[64]; swprintf(inst, 64, L"vmtest-%lu", GetCurrentProcessId());
        SetEnvironmentVariableW(L"HCSSIM_INSTANCE", inst);
    }
    swprintf(g_dir, MAX_PATH, L"C:\\vmtest-%lu", GetCurrentProcessId());
    CreateDirectoryW(g_dir, NULL);
    WCHAR root[MAX_PATH]; swprintf(root, MAX_PATH, L"%ls\\root", g_dir);
    SetEnvironmentVariableW(L"HCSSIM_STORAGE_ROOT", root);
    char *u = w2u(g_dir);
    size_t j = 0;
    for (char *p = u; *p && j + 2 < sizeof g_dirJ; p++) { if (*p == '\\') g_dirJ[j++] = '\\'; g_dirJ[j++] = *p; }
    free(u);
    free(control("{\"Op\":\"Reset\"}"));
    test_virtdisk();
    test_grants();
    test_lifecycle();
    test_worker_crash();
    test_boot_and_reset();
    free(control("{\"Op\":\"Reset\"}"));
    WCHAR cmd[MAX_PATH + 32]; swprintf(cmd, MAX_PATH + 32, L"cmd /c rd /s /q %ls", g_dir);
    _wsystem(cmd);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
