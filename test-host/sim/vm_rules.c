/* Rules a real host applies to utility VMs, kept apart from service.c (which calls the two
   hooks in do_create and do_modify). Every rule names its evidence; a rule whose error code
   or exact behaviour nobody has measured says GUESS.

   1. Disk access. A VM opens its VHDs under its own identity, so each disk it attaches must
      first be granted to it (HcsGrantVmAccess(vmId, path)) or to every VM
      (HcsGrantVmGroupAccess(path), the NT VIRTUAL MACHINE\Virtual Machines group S-1-5-83-0).
      Measured (hcsctl commit 4b51580, "storage: grant Virtual Machines group ACE on scratch
      VHD"): vmwp opens the scratch VHD at create under that group and, without the ACE, the
      create is refused with Access denied; granting it flips the create to a full boot.
      hcsshim grants before the create (internal/uvm/create_wcow.go:597, the UVM scratch;
      internal/wcow/scratch.go:22 CreateUVMScratch) and before each SCSI hot-add
      (internal/uvm/scsi/manager.go:154). -> E_ACCESSDENIED (0x80070005).
      The whole differencing chain: a VM opens every parent of its disk too, so each must be granted
      (disco-vm docs/drivers/hcs.md "Prepare": "Call HcsGrantVmAccess on every file in the chain,
      grandparents included"; hcsshim grants both template disks, computestorage/helpers.go
      SetupUtilityVMBaseLayer). Parents are read from the simulated virtdisk's metadata
      (vm_disk_rules.c vmd_disk_parent); a disk that is not a simulated one has no known parents. A
      parent named by the metadata but missing -> 0xC03A000D ERROR_VHD_PARENT_VHD_NOT_FOUND (GUESS:
      that the create fails with it).
   2. SCSI controllers exist from the create on: a hot-add names a controller key of the VM's
      document. hcsshim puts every controller in the create document
      (internal/uvm/create_wcow.go:416) and never adds one later. GUESS: the error code.
   3. Knob RefuseGuidScsiControllers: a host that only takes index keys ("0") for SCSI
      hot-adds, the layout hcsshim used with HCS's internal guest connection until commit
      cd895b4d1 (internal/uvm/scsi.go there: SCSIResourceFormat with strconv.Itoa(controller)).
      Whether any real host refuses GUID keys is UNCONFIRMED (REAL-WINDOWS-AUDIT row 12); the
      knob exists so the product's fallback can be exercised. GUESS: the error code.
   4. Guest networking (hcsshim internal/uvm/network.go): a guest NetworkNamespace Add
      (AddNetNS, :398-407) before any NIC; per NIC a guest "Network" request whose
      NetworkModifyRequest has RequestType PreAdd and the NIC id as AdapterId (:649-664),
      then the host Add of VirtualMachine/Devices/NetworkAdapters/{id} with
      {EndpointId, MacAddress} of the HCN endpoint and a guest Add for the same AdapterId
      (:666-684). The endpoint is looked up in the simulated HCN's state file, so it must
      exist and the MAC must be its own. A hosted container (HostingSystemId) whose
      Networking.Namespace was never added to its utility VM this way has no network in it
      (REAL-WINDOWS-AUDIT row 6); the simulator refuses its create. GUESS: every error code
      here, and refusing (rather than a container without a network). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "vm_rules.h"
#include "vm_disk_rules.h"

#define VMR_E_ACCESSDENIED HCSSIM_HR(0x80070005)
#define VMR_E_INVALIDARG HCSSIM_HR(0x80070057)          /* GUESS, see rules 2-4 */
#define VMR_E_PARENT_NOT_FOUND HCSSIM_HR(0xC03A000D)    /* ERROR_VHD_PARENT_VHD_NOT_FOUND; GUESS, rule 1 */
#define VMR_E_ENDPOINT_NOT_FOUND HCSSIM_HR(0x803B0002)  /* HCN_E_ENDPOINT_NOT_FOUND; GUESS for HCS */

static int g_refuseGuidScsi;

void vm_rules_config(const jv *config) {
    jv *b = jget(config, "RefuseGuidScsiControllers");
    if (b && b->t == J_BOOL) g_refuseGuidScsi = b->b;
}
void vm_rules_reset(void) { g_refuseGuidScsi = 0; }
const char *vm_rules_config_json(void) {
    return g_refuseGuidScsi ? ",\"RefuseGuidScsiControllers\":true" : ",\"RefuseGuidScsiControllers\":false";
}

/* ------------------------------------------------------------------ helpers */
static int path_eq(const char *a, const char *b) {
    if (!a || !b) return 0;
    for (; *a && *b; a++, b++) {
        char x = *a == '/' ? '\\' : *a, y = *b == '/' ? '\\' : *b;
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return 0;
    }
    return *a == *b;
}
static int is_guid(const char *s) {
    if (!s || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (c != '-') return 0; }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return 1;
}
static jv *member_ci(const jv *obj, const char *key) {
    for (jv *m = obj && obj->t == J_OBJ ? obj->child : NULL; m; m = m->next)
        if (m->key && !_stricmp(m->key, key)) return m;
    return NULL;
}
static const char *request_type(const jv *req) {
    const char *t = jgets(req, "RequestType");
    return t ? t : "Update";
}
/* "<prefix><key>/<rest>": copies <key> into out and returns <rest> (NULL if it does not match). */
static const char *resource_key(const char *rp, const char *prefix, char *out, size_t n) {
    size_t pl = strlen(prefix);
    if (!rp || _strnicmp(rp, prefix, pl)) return NULL;
    const char *k = rp + pl, *slash = strchr(k, '/');
    size_t kl = slash ? (size_t)(slash - k) : strlen(k);
    if (kl == 0 || kl >= n) return NULL;
    memcpy(out, k, kl); out[kl] = 0;
    return slash ? slash : k + kl;
}

/* Rule 1: the last grant or revoke naming this VM (or every VM) and path wins. */
int vm_rules_granted(const char *vmid, const char *path) {
    int ok = 0;
    for (jv *g = g_grants ? g_grants->child : NULL; g; g = g->next) {
        const char *a = jgets(g, "Action"), *f = jgets(g, "FilePath"), *v = jgets(g, "VmId");
        if (!a || !path_eq(f, path)) continue;
        if (!strcmp(a, "GrantVmGroupAccess")) ok = 1;
        else if (!strcmp(a, "RevokeVmGroupAccess")) ok = 0;
        else if (v && !_stricmp(v, vmid)) {
            if (!strcmp(a, "GrantVmAccess")) ok = 1;
            else if (!strcmp(a, "RevokeVmAccess")) ok = 0;
        }
    }
    return ok;
}

/* Rule 1 over the differencing chain of `path`: 1 when every disk is granted; else 0 with the message
   written and *hr set (E_ACCESSDENIED, or ERROR_VHD_PARENT_VHD_NOT_FOUND for a missing parent). */
static int chain_granted(const char *vmid, const char *path, char *msg, size_t n, HRESULT *hr) {
    char cur[1024], parent[1024];
    snprintf(cur, sizeof cur, "%s", path);
    for (int depth = 0; depth < 64; depth++) {
        if (!vm_rules_granted(vmid, cur)) {
            *hr = VMR_E_ACCESSDENIED;
            if (depth) snprintf(msg, n, "Access is denied: the virtual machine '%s' cannot open '%s', a parent of its disk '%s'; grant every disk of the chain (HcsGrantVmAccess)", vmid, cur, path);
            else snprintf(msg, n, "Access is denied: the virtual machine '%s' cannot open '%s'; grant it access first (HcsGrantVmAccess)", vmid, cur);
            return 0;
        }
        int r = vmd_disk_parent(cur, parent, sizeof parent);
        if (r == 0) return 1;
        if (r < 0) {
            *hr = VMR_E_PARENT_NOT_FOUND;
            snprintf(msg, n, "The virtual machine '%s' cannot open the disk chain of '%s': the parent '%s' of '%s' is missing", vmid, path, parent, cur);
            return 0;
        }
        snprintf(cur, sizeof cur, "%s", parent);
    }
    *hr = VMR_E_PARENT_NOT_FOUND;
    snprintf(msg, n, "The disk chain of '%s' is longer than 64 disks (a loop?)", path);
    return 0;
}

/* The simulated HCN's endpoint `id`: its MAC into mac (empty if none); 0 if there is no such
   endpoint. Same file and mutex as computenetwork.c (README, "Simulated computenetwork.dll"). */
static int hcn_endpoint(const char *id, char *mac, size_t n) {
    WCHAR w[64], dir[MAX_PATH], name[128], path[MAX_PATH + 64];
    char inst[64] = "default";
    DWORD len = GetEnvironmentVariableW(L"HCSSIM_INSTANCE", w, 64);
    if (len && len < 64) {
        char *u = w2u(w);
        snprintf(inst, sizeof inst, "%s", u);
        free(u);
        for (char *p = inst; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) *p = '_';
    }
    len = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
    if (!len || len >= MAX_PATH) wcscpy(dir, L"C:\\ProgramData");
    swprintf(name, 128, L"Local\\hcssim-hcn-%hs", inst);
    swprintf(path, MAX_PATH + 64, L"%ls\\hcssim\\hcn-%hs.json", dir, inst);
    HANDLE mutex = CreateMutexW(NULL, FALSE, name);
    if (mutex) WaitForSingleObject(mutex, 10000);
    jv *st = NULL;
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (f != INVALID_HANDLE_VALUE) {
        DWORD size = GetFileSize(f, NULL), got = 0;
        char *buf = malloc(size + 1), err[64];
        if (buf && ReadFile(f, buf, size, &got, NULL)) { buf[got] = 0; st = json_parse(buf, err, sizeof err); }
        free(buf);
        CloseHandle(f);
    }
    if (mutex) { ReleaseMutex(mutex); CloseHandle(mutex); }
    int found = 0;
    for (jv *e = jget(st, "Endpoints") ? jget(st, "Endpoints")->child : NULL; e && !found; e = e->next) {
        const char *eid = jgets(e, "ID");
        if (eid && !_stricmp(eid, id)) {
            found = 1;
            snprintf(mac, n, "%s", jgets(e, "MacAddress") ? jgets(e, "MacAddress") : "");
        }
    }
    json_free(st);
    return found;
}

/* A guest request among `mods` of ResourceType `type` and (for "Network") the inner request
   type `inner` for adapter `adapter`; for "NetworkNamespace" the namespace id `adapter`. */
static int guest_seen(const jv *mods, const char *type, const char *inner, const char *adapter) {
    for (jv *m = mods ? mods->child : NULL; m; m = m->next) {
        jv *g = jget(m, "GuestRequest");
        const char *rt = jgets(g, "ResourceType");
        if (!rt || strcmp(rt, type) || strcmp(request_type(g), "Add")) continue;
        jv *s = jget(g, "Settings");
        if (!strcmp(type, "NetworkNamespace")) {
            const char *nid = jgets(s, "ID") ? jgets(s, "ID") : jgets(s, "Id");
            if (!adapter || (nid && !_stricmp(nid, adapter))) return 1;
        } else if (jgets(s, "RequestType") && !strcmp(jgets(s, "RequestType"), inner) && jgets(s, "AdapterId") &&
                   !_stricmp(jgets(s, "AdapterId"), adapter)) {
            return 1;
        }
    }
    return 0;
}
static int nic_added(const jv *mods) {
    char nic[80];
    for (jv *m = mods ? mods->child : NULL; m; m = m->next)
        if (resource_key(jgets(m, "ResourcePath"), "VirtualMachine/Devices/NetworkAdapters/", nic, sizeof nic) &&
            !strcmp(request_type(m), "Add"))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ hooks */
HRESULT vm_rules_create(const char *id, const jv *doc, const jv *hostModifies, char *msg, size_t n) {
    jv *scsi = jget(jget(jget(doc, "VirtualMachine"), "Devices"), "Scsi");
    for (jv *c = scsi && scsi->t == J_OBJ ? scsi->child : NULL; c; c = c->next) {
        jv *atts = jget(c, "Attachments");
        for (jv *a = atts && atts->t == J_OBJ ? atts->child : NULL; a; a = a->next) {
            const char *type = jgets(a, "Type"), *path = jgets(a, "Path");
            if (!path || (type && strcmp(type, "VirtualDisk"))) continue;
            HRESULT chainHr = S_OK;
            if (!chain_granted(id, path, msg, n, &chainHr)) return chainHr; /* rule 1 */
        }
    }
    const char *ns = jgets(jget(jget(jget(doc, "HostedSystem"), "Container"), "Networking"), "Namespace");
    if (hostModifies && ns && (!guest_seen(hostModifies, "NetworkNamespace", NULL, ns) || !nic_added(hostModifies))) { /* rule 4 */
        snprintf(msg, n, "The utility VM hosting '%s' has no network namespace '%s' with a network adapter: add the namespace to the guest and the endpoint's adapter first",
                 id, ns);
        return VMR_E_INVALIDARG;
    }
    return S_OK;
}

HRESULT vm_rules_modify(const char *id, const jv *doc, const jv *modifies, const jv *req, char *msg, size_t n) {
    jv *vm = jget(doc, "VirtualMachine");
    if (!vm) return S_OK;
    const char *rp = jgets(req, "ResourcePath"), *rt = request_type(req), *rest;
    char key[80];
    jv *settings = jget(req, "Settings"), *guest = jget(req, "GuestRequest");
    if ((rest = resource_key(rp, "VirtualMachine/Devices/Scsi/", key, sizeof key)) && !strcmp(rt, "Add")) {
        if (!member_ci(jget(jget(vm, "Devices"), "Scsi"), key)) { /* rule 2 */
            snprintf(msg, n, "The virtual machine '%s' has no SCSI controller '%s' (controllers are fixed at create)", id, key);
            return VMR_E_INVALIDARG;
        }
        if (g_refuseGuidScsi && is_guid(key)) { /* rule 3 */
            snprintf(msg, n, "The SCSI controller key '%s' is not supported by this host (knob RefuseGuidScsiControllers)", key);
            return VMR_E_INVALIDARG;
        }
        const char *path = jgets(settings, "Path");
        HRESULT chainHr = S_OK;
        if (path && !chain_granted(id, path, msg, n, &chainHr)) return chainHr; /* rule 1 */
    }
    if (resource_key(rp, "VirtualMachine/Devices/NetworkAdapters/", key, sizeof key) && !strcmp(rt, "Add")) { /* rule 4 */
        const char *ep = jgets(settings, "EndpointId"), *mac = jgets(settings, "MacAddress");
        char known[40] = "";
        if (!ep || !mac) {
            snprintf(msg, n, "The network adapter '%s' needs Settings {EndpointId, MacAddress}", key);
            return HCS_E_INVALID_JSON;
        }
        if (!hcn_endpoint(ep, known, sizeof known)) {
            snprintf(msg, n, "The network adapter '%s' names endpoint '%s', which HCN does not have", key, ep);
            return VMR_E_ENDPOINT_NOT_FOUND;
        }
        if (_stricmp(known, mac)) {
            snprintf(msg, n, "The network adapter '%s' has MacAddress '%s', but endpoint '%s' has '%s'", key, mac, ep, known);
            return VMR_E_INVALIDARG;
        }
        const char *gid = jgets(jget(guest, "Settings"), "AdapterId");
        if (!guest_seen(modifies, "Network", "PreAdd", key) || !gid || _stricmp(gid, key)) {
            snprintf(msg, n, "The network adapter '%s' needs a guest PreAdd before it and a guest Add with it (AdapterId '%s')", key, key);
            return VMR_E_INVALIDARG;
        }
    }
    const char *gt = jgets(guest, "ResourceType"), *inner = jgets(jget(guest, "Settings"), "RequestType");
    if (!rp && gt && !strcmp(gt, "Network") && inner && !strcmp(inner, "PreAdd") && !guest_seen(modifies, "NetworkNamespace", NULL, NULL)) {
        snprintf(msg, n, "The guest has no network namespace yet: add one (GuestRequest NetworkNamespace) before a network adapter");
        return VMR_E_INVALIDARG;
    }
    return S_OK;
}
