/* Simulated computenetwork.dll (Host Compute Network) for the Wine test tier.
   Every function of MinGW's computenetwork.h, compiled against the header.
   State (networks, endpoints, namespaces, load balancers, guest network services, faults)
   lives in a JSON file C:\ProgramData\hcssim\hcn-<HCSSIM_INSTANCE>.json, read and written
   under the named mutex Local\hcssim-hcn-<instance> by every call, so every process of
   the same instance sees the same objects. Handles, audit counters and tracked strings
   are per process. See README.md, "Simulated computenetwork.dll". */
#include <windows.h>
#include <objbase.h>
#include <computenetwork.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "hcn_host.h"

/* HCN_E_* (hcn/Reference/HCNHResult.md) */
#define HCN_E_NETWORK_NOT_FOUND HCSSIM_HR(0x803B0001)
#define HCN_E_ENDPOINT_NOT_FOUND HCSSIM_HR(0x803B0002)
#define HCN_E_INVALID_NETWORK HCSSIM_HR(0x803B000A)
#define HCN_E_INVALID_NETWORK_TYPE HCSSIM_HR(0x803B000B)
#define HCN_E_INVALID_ENDPOINT HCSSIM_HR(0x803B000C)
#define HCN_E_INVALID_POLICY HCSSIM_HR(0x803B000D)
#define HCN_E_INVALID_POLICY_TYPE HCSSIM_HR(0x803B000E)
#define HCN_E_NETWORK_ALREADY_EXISTS HCSSIM_HR(0x803B0010)
#define HCN_E_PORT_ALREADY_EXISTS HCSSIM_HR(0x803B0013)
#define HCN_E_ENDPOINT_ALREADY_ATTACHED HCSSIM_HR(0x803B0014)
#define HCN_E_REQUEST_UNSUPPORTED HCSSIM_HR(0x803B0015)
#define HCN_E_MAPPING_NOT_SUPPORTED HCSSIM_HR(0x803B0016)
#define HCN_E_INVALID_JSON HCSSIM_HR(0x803B001B)
#define HCN_E_INVALID_IP HCSSIM_HR(0x803B001E)
#define HCN_E_ENTITY_HAS_REFERENCES HCSSIM_HR(0x803B002C)
#define HCN_E_INVALID_INTERNAL_PORT HCSSIM_HR(0x803B002D)
#define HCN_E_ADDR_INVALID_OR_RESERVED HCSSIM_HR(0x803B002F)
#define HCN_E_INVALID_PREFIX HCSSIM_HR(0x803B0030)
#define HCN_E_INVALID_SUBNET HCSSIM_HR(0x803B0032)
#define HCN_E_ENDPOINT_NOT_ATTACHED HCSSIM_HR(0x803B0034)
#define HCNSIM_E_NOT_FOUND HCSSIM_HR(0x80070490) /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND) */

HRESULT WINAPI HcsSimNetworkControl(PCWSTR request, PWSTR *response);

/* ------------------------------------------------------------------ kinds and handles */
enum { K_NETWORK, K_ENDPOINT, K_NAMESPACE, K_LB, K_GNS, K_CALLBACK, K_COUNT };
static const char *KIND_KEY[K_COUNT] = { "Networks", "Endpoints", "Namespaces", "LoadBalancers", "GuestNetworkServices", "Callbacks" };
static const char *KIND_AUDIT[K_COUNT] = { "NetworkHandles", "EndpointHandles", "NamespaceHandles", "LoadBalancerHandles", "GuestNetworkServiceHandles", "CallbackHandles" };
static const HRESULT KIND_NOT_FOUND[K_COUNT] = { HCN_E_NETWORK_NOT_FOUND, HCN_E_ENDPOINT_NOT_FOUND, HCNSIM_E_NOT_FOUND, HCNSIM_E_NOT_FOUND, HCNSIM_E_NOT_FOUND, HCNSIM_E_NOT_FOUND };

#define HMAGIC 0x48434E53u /* 'HCNS' */
typedef struct hobj { unsigned magic; int kind; char id[40]; struct hobj *next; } hobj;

static CRITICAL_SECTION g_cs;
static hobj *g_handles;
static HANDLE g_mutex;
static WCHAR g_statePath[MAX_PATH];

static struct { LONG opened[K_COUNT], closed[K_COUNT], strAllocated; } g_audit;
static strtable g_strtab;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)inst; (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) InitializeCriticalSection(&g_cs);
    return TRUE;
}

static hobj *new_handle(int kind, const char *id) {
    hobj *h = calloc(1, sizeof *h);
    h->magic = HMAGIC; h->kind = kind;
    snprintf(h->id, sizeof h->id, "%s", id);
    EnterCriticalSection(&g_cs);
    h->next = g_handles; g_handles = h; g_audit.opened[kind]++;
    LeaveCriticalSection(&g_cs);
    return h;
}
/* Looks the pointer up in the registry: a closed or garbage handle is never dereferenced. */
static int find_handle(void *p, int kind, char id[40]) {
    int ok = 0;
    EnterCriticalSection(&g_cs);
    for (hobj *h = g_handles; h; h = h->next)
        if (h == p && h->magic == HMAGIC && h->kind == kind) { memcpy(id, h->id, 40); ok = 1; break; }
    LeaveCriticalSection(&g_cs);
    return ok;
}
static HRESULT close_handle(void *p, int kind) {
    HRESULT hr = E_HANDLE;
    EnterCriticalSection(&g_cs);
    for (hobj **pp = &g_handles; *pp; pp = &(*pp)->next)
        if (*pp == p && (*pp)->kind == kind) {
            hobj *h = *pp; *pp = h->next; h->magic = 0; free(h);
            g_audit.closed[kind]++; hr = S_OK; break;
        }
    LeaveCriticalSection(&g_cs);
    return hr;
}

/* ------------------------------------------------------------------ strings handed to the caller (CoTaskMemAlloc) */
static PWSTR out_str(const char *u, int track) {
    if (!u) return NULL;
    WCHAR *w = u2w(u);
    size_t n = (wcslen(w) + 1) * sizeof(WCHAR);
    PWSTR p = CoTaskMemAlloc(n + (track ? STRTRACK_EXTRA : 0));
    if (p) {
        memcpy(p, w, n);
        if (track) {
            EnterCriticalSection(&g_cs);
            strtable_add(&g_strtab, p, n); g_audit.strAllocated++;
            LeaveCriticalSection(&g_cs);
        }
    }
    free(w);
    return p;
}

/* ErrorRecord: {"ErrorCode":<unsigned HRESULT>,"Error":"<message>","Success":false} (the shape NanaBox reads). */
static HRESULT fail(PWSTR *errorRecord, HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static HRESULT fail(PWSTR *errorRecord, HRESULT hr, const char *fmt, ...) {
    if (errorRecord) {
        char msg[600]; va_list ap; va_start(ap, fmt); vsnprintf(msg, sizeof msg, fmt, ap); va_end(ap);
        sb b; sb_init(&b);
        sb_printf(&b, "{\"ErrorCode\":%lu,\"Error\":", (unsigned long)(DWORD)hr);
        sb_jstr(&b, msg);
        sb_puts(&b, ",\"Success\":false}");
        char *doc = sb_take(&b);
        *errorRecord = out_str(doc, 1);
        free(doc);
    }
    return hr;
}

/* ------------------------------------------------------------------ state file */
static void instance_name(char out[64]) {
    WCHAR w[64];
    DWORD n = GetEnvironmentVariableW(L"HCSSIM_INSTANCE", w, 64);
    if (!n || n >= 64) { strcpy(out, "default"); return; }
    char *u = w2u(w);
    snprintf(out, 64, "%s", u);
    free(u);
    for (char *p = out; *p; p++) if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) *p = '_';
}
static void lock_state(void) {
    EnterCriticalSection(&g_cs);
    if (!g_mutex) {
        char inst[64]; instance_name(inst);
        WCHAR name[128], dir[MAX_PATH];
        swprintf(name, 128, L"Local\\hcssim-hcn-%hs", inst);
        g_mutex = CreateMutexW(NULL, FALSE, name);
        DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
        if (!n || n >= MAX_PATH) wcscpy(dir, L"C:\\ProgramData");
        wcscat(dir, L"\\hcssim");
        CreateDirectoryW(dir, NULL);
        swprintf(g_statePath, MAX_PATH, L"%ls\\hcn-%hs.json", dir, inst);
    }
    LeaveCriticalSection(&g_cs);
    DWORD w = WaitForSingleObject(g_mutex, INFINITE);
    (void)w; /* WAIT_ABANDONED: a process died holding it; the file is written atomically, so go on */
}
static void unlock_state(void) { ReleaseMutex(g_mutex); }

static jv *load_state(void) {
    jv *st = NULL;
    HANDLE f = CreateFileW(g_statePath, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (f != INVALID_HANDLE_VALUE) {
        DWORD size = GetFileSize(f, NULL), got = 0;
        char *buf = malloc(size + 1);
        if (ReadFile(f, buf, size, &got, NULL)) {
            buf[got] = 0;
            char err[128];
            st = json_parse(buf, err, sizeof err);
        }
        free(buf);
        CloseHandle(f);
    }
    if (!st || st->t != J_OBJ) { json_free(st); st = jnew(J_OBJ); }
    for (int k = 0; k < K_COUNT; k++) if (!jget(st, KIND_KEY[k])) jset(st, KIND_KEY[k], jnew(J_ARR));
    if (!jget(st, "Faults")) jset(st, "Faults", jnew(J_ARR));
    if (!jget(st, "Reservations")) jset(st, "Reservations", jnew(J_ARR));
    return st;
}
static void save_state(jv *st) {
    char *text = json_dump(st);
    WCHAR tmp[MAX_PATH + 32];
    swprintf(tmp, MAX_PATH + 32, L"%ls.%lu.tmp", g_statePath, (unsigned long)GetCurrentProcessId());
    HANDLE f = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (f != INVALID_HANDLE_VALUE) {
        DWORD put = 0;
        WriteFile(f, text, (DWORD)strlen(text), &put, NULL);
        CloseHandle(f);
        MoveFileExW(tmp, g_statePath, MOVEFILE_REPLACE_EXISTING);
    }
    free(text);
}

/* ------------------------------------------------------------------ JSON helpers */
static jv *parse_u(const char *u) { char err[128]; return u ? json_parse(u, err, sizeof err) : NULL; }
static jv *parse_doc(PCWSTR w) { if (!w) return NULL; char *u = w2u(w); jv *v = parse_u(u); free(u); return v; }
static void guid_str(REFGUID g, char out[40]) {
    snprintf(out, 40, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned long)g->Data1, g->Data2, g->Data3,
             g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}
static int guid_is_null(REFGUID g) { static const GUID z; return memcmp(g, &z, sizeof z) == 0; }
static void id_from(REFGUID g, char out[40]) { if (!g || guid_is_null(g)) new_guid_str(out); else guid_str(g, out); }
static jv *find_obj(jv *st, int kind, const char *id) {
    for (jv *o = jget(st, KIND_KEY[kind])->child; o; o = o->next) {
        const char *oid = jgets(o, "ID");
        if (oid && !_stricmp(oid, id)) return o;
    }
    return NULL;
}
static void remove_obj(jv *st, int kind, jv *obj) {
    jv *arr = jget(st, KIND_KEY[kind]);
    for (jv **pp = &arr->child; *pp; pp = &(*pp)->next)
        if (*pp == obj) { *pp = obj->next; obj->next = NULL; json_free(obj); return; }
}
static void jdel(jv *obj, const char *key) {
    for (jv **pp = &obj->child; *pp; pp = &(*pp)->next)
        if ((*pp)->key && !strcmp((*pp)->key, key)) { jv *v = *pp; *pp = v->next; v->next = NULL; json_free(v); return; }
}
static int schema_ok(jv *doc) {
    jv *sv = jget(doc, "SchemaVersion");
    long long major;
    return sv && sv->t == J_OBJ && jgeti(sv, "Major", &major) && major == 2;
}

/* ------------------------------------------------------------------ faults (kept in the state file: they hit any process) */
/* Returns 0, or the HRESULT of the injected failure (the caller returns it). Needs the state lock. */
static HRESULT check_fault(jv *st, const char *fn, PWSTR *errorRecord, int *dirty) {
    for (jv *f = jget(st, "Faults")->child; f; f = f->next) {
        const char *ffn = jgets(f, "Function");
        if (!ffn || (strcmp(ffn, "*") && strcmp(ffn, fn))) continue;
        long long pid;
        if (jgeti(f, "Pid", &pid) && pid != (long long)GetCurrentProcessId()) continue;
        long long skips = 0, hits = 1, hr = (long long)(DWORD)E_FAIL;
        jgeti(f, "SkipsLeft", &skips); jgeti(f, "HitsLeft", &hits); jgeti(f, "HResult", &hr);
        if (hits == 0) continue;
        *dirty = 1;
        if (skips > 0) { jset(f, "SkipsLeft", jnew_int(skips - 1)); continue; }
        if (hits > 0) jset(f, "HitsLeft", jnew_int(hits - 1));
        const char *msg = jgets(f, "Message");
        return fail(errorRecord, (HRESULT)(DWORD)hr, "%s", msg ? msg : "Injected fault");
    }
    return 0;
}

/* Every faultable entry point: lock, load, fault check. */
typedef struct { jv *st; int dirty; } ctx;
static HRESULT begin(ctx *c, const char *fn, PWSTR *errorRecord) {
    if (errorRecord) *errorRecord = NULL;
    lock_state();
    c->st = load_state(); c->dirty = 0;
    HRESULT hr = check_fault(c->st, fn, errorRecord, &c->dirty);
    return hr;
}
static HRESULT end(ctx *c, HRESULT hr) {
    if (c->dirty) save_state(c->st);
    json_free(c->st);
    unlock_state();
    return hr;
}

/* ------------------------------------------------------------------ IPv4 / CIDR */
static int parse_ip(const char *s, unsigned *out) {
    unsigned a, b, c, d; char tail;
    if (!s || sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255) return 0;
    *out = (a << 24) | (b << 16) | (c << 8) | d;
    return 1;
}
static int parse_cidr(const char *s, unsigned *net, int *len) {
    char ip[40]; int l; char tail;
    if (!s || strlen(s) > 39) return 0;
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15) return 0;
    memcpy(ip, s, (size_t)(slash - s)); ip[slash - s] = 0;
    if (sscanf(slash + 1, "%d%c", &l, &tail) != 1 || l < 0 || l > 32) return 0;
    unsigned a;
    if (!parse_ip(ip, &a)) return 0;
    unsigned mask = l ? 0xFFFFFFFFu << (32 - l) : 0;
    *net = a & mask; *len = l;
    return 1;
}
static void ip_str(unsigned a, char out[16]) { snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255); }
static int in_subnet(unsigned ip, unsigned net, int len) { unsigned mask = len ? 0xFFFFFFFFu << (32 - len) : 0; return (ip & mask) == net; }
/* The first subnet of a network (Ipams[0].Subnets[0].IpAddressPrefix). */
static int network_subnet(jv *net, unsigned *n, int *len) {
    jv *ipams = jget(net, "Ipams");
    if (!ipams || ipams->t != J_ARR) return 0;
    for (jv *ipam = ipams->child; ipam; ipam = ipam->next) {
        jv *subs = jget(ipam, "Subnets");
        if (subs && subs->t == J_ARR && subs->child && parse_cidr(jgets(subs->child, "IpAddressPrefix"), n, len)) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ validation */
static const char *NETWORK_TYPES[] = { "NAT", "ICS", "Transparent", "L2Bridge", "L2Tunnel", "Overlay", "Private", "Internal", "Mirrored", NULL };
static const char *NETWORK_POLICY_TYPES[] = { "SourceMacAddress", "NetAdapterName", "VSwitchExtension", "DrMacAddress", "AutomaticDNS", "InterfaceConstraint",
                                              "ProviderAddress", "RemoteSubnetRoute", "VxlanPort", "HostRoute", "SetPolicy", "L4Proxy", "LayerConstraint", "NetworkACL", NULL };
static const char *ENDPOINT_POLICY_TYPES[] = { "PortMapping", "ACL", "QOS", "L2Driver", "OutBoundNAT", "SDNRoute", "L4Proxy", "L4WFPPROXY", "PortName",
                                               "EncapOverhead", "Iov", "ProviderAddress", "InterfaceConstraint", "TierAcl", NULL };
static int in_list(const char *s, const char **list) { for (; s && *list; list++) if (!_stricmp(s, *list)) return 1; return 0; }

/* A comma-separated list of IPv4 addresses or CIDRs (ACL RemoteAddresses/LocalAddresses); empty is fine. */
static int address_list_ok(const char *s) {
    if (!s || !*s) return 1;
    char *copy = xstrdup(s), *save = NULL; int ok = 1;
    for (char *t = strtok_r(copy, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        unsigned a, n; int l;
        ok = strchr(t, '/') ? parse_cidr(t, &n, &l) : parse_ip(t, &a);
    }
    free(copy);
    return ok;
}

/* Policies: an array of {Type, Settings}. Returns 0 or an HCN_E_*; *why says what. */
static HRESULT check_policies(jv *pol, const char **types, const char **why, const char **bad) {
    if (!pol) return 0;
    if (pol->t != J_ARR) { *why = "Policies must be an array"; return HCN_E_INVALID_JSON; }
    for (jv *p = pol->child; p; p = p->next) {
        const char *t = p->t == J_OBJ ? jgets(p, "Type") : NULL;
        if (!t) { *why = "a policy has no Type"; return HCN_E_INVALID_POLICY; }
        if (!in_list(t, types)) { *why = "unknown policy Type"; *bad = t; return HCN_E_INVALID_POLICY_TYPE; }
        jv *set = jget(p, "Settings");
        if (set && set->t != J_OBJ) { *why = "policy Settings must be an object"; *bad = t; return HCN_E_INVALID_POLICY; }
        if (!_stricmp(t, "PortMapping")) {
            long long proto = 0, in = 0, ex = 0;
            if (!set || !jgeti(set, "Protocol", &proto) || (proto != 6 && proto != 17)) { *why = "PortMapping Protocol must be 6 (TCP) or 17 (UDP)"; return HCN_E_INVALID_POLICY; }
            if (!jgeti(set, "InternalPort", &in) || in < 1 || in > 65535) { *why = "PortMapping InternalPort must be 1-65535"; return HCN_E_INVALID_INTERNAL_PORT; }
            if (!jgeti(set, "ExternalPort", &ex) || ex < 1 || ex > 65535) { *why = "PortMapping ExternalPort must be 1-65535"; return HCN_E_INVALID_POLICY; }
            const char *vip = jgets(set, "VIP"); unsigned a;
            if (vip && *vip && !parse_ip(vip, &a)) { *why = "PortMapping VIP is not an IPv4 address"; return HCN_E_INVALID_IP; }
        } else if (!_stricmp(t, "ACL")) {
            const char *act = set ? jgets(set, "Action") : NULL, *dir = set ? jgets(set, "Direction") : NULL;
            if (!act || (_stricmp(act, "Allow") && _stricmp(act, "Block"))) { *why = "ACL Action must be Allow or Block"; return HCN_E_INVALID_POLICY; }
            if (!dir || (_stricmp(dir, "In") && _stricmp(dir, "Out"))) { *why = "ACL Direction must be In or Out"; return HCN_E_INVALID_POLICY; }
            const char *rt = jgets(set, "RuleType");
            if (rt && _stricmp(rt, "Host") && _stricmp(rt, "Switch")) { *why = "ACL RuleType must be Host or Switch"; return HCN_E_INVALID_POLICY; }
            long long prio;
            if (jget(set, "Priority") && (!jgeti(set, "Priority", &prio) || prio < 0 || prio > 65535)) { *why = "ACL Priority must be 0-65535"; return HCN_E_INVALID_POLICY; }
            if (!address_list_ok(jgets(set, "RemoteAddresses")) || !address_list_ok(jgets(set, "LocalAddresses"))) { *why = "ACL addresses must be IPv4 addresses or CIDRs, comma-separated"; return HCN_E_INVALID_POLICY; }
        } else if (!_stricmp(t, "OutBoundNAT")) {
            jv *ex = set ? jget(set, "Exceptions") : NULL;
            if (ex && ex->t != J_ARR) { *why = "OutBoundNAT Exceptions must be an array"; return HCN_E_INVALID_POLICY; }
        }
    }
    return 0;
}

/* PortMapping conflicts: same ExternalPort and Protocol on the same host address (an empty VIP means all). */
static int mapping_conflicts(jv *a, jv *b) {
    long long pa, pb, ea, eb;
    if (!jgeti(a, "Protocol", &pa) || !jgeti(b, "Protocol", &pb) || pa != pb) return 0;
    if (!jgeti(a, "ExternalPort", &ea) || !jgeti(b, "ExternalPort", &eb) || ea != eb) return 0;
    const char *va = jgets(a, "VIP"), *vb = jgets(b, "VIP");
    if (!va || !*va || !vb || !*vb) return 1;
    return !_stricmp(va, vb);
}
static jv *mapping_settings(jv *policy) {
    const char *t = jgets(policy, "Type");
    return t && !_stricmp(t, "PortMapping") ? jget(policy, "Settings") : NULL;
}
/* Checks new PortMapping policies against each other and every other endpoint's. */
static HRESULT check_port_conflicts(jv *st, jv *policies, const char *selfId, char *why, size_t whylen) {
    if (!policies || policies->t != J_ARR) return 0;
    for (jv *p = policies->child; p; p = p->next) {
        jv *m = mapping_settings(p);
        if (!m) continue;
        long long ex = 0, proto = 0; jgeti(m, "ExternalPort", &ex); jgeti(m, "Protocol", &proto);
        for (jv *q = p->next; q; q = q->next) {
            jv *n = mapping_settings(q);
            if (n && mapping_conflicts(m, n)) { snprintf(why, whylen, "external port %lld/%s is mapped twice in the document", ex, proto == 6 ? "tcp" : "udp"); return HCN_E_PORT_ALREADY_EXISTS; }
        }
        for (jv *e = jget(st, "Endpoints")->child; e; e = e->next) {
            const char *eid = jgets(e, "ID");
            if (selfId && eid && !_stricmp(eid, selfId)) continue;
            jv *ep = jget(e, "Policies");
            if (!ep || ep->t != J_ARR) continue;
            for (jv *q = ep->child; q; q = q->next) {
                jv *n = mapping_settings(q);
                if (n && mapping_conflicts(m, n)) { snprintf(why, whylen, "external port %lld/%s is already mapped by endpoint %s", ex, proto == 6 ? "tcp" : "udp", eid ? eid : "?"); return HCN_E_PORT_ALREADY_EXISTS; }
            }
        }
    }
    return 0;
}

static int mac_ok(const char *m) {
    if (!m || strlen(m) != 17) return 0;
    for (int i = 0; i < 17; i++) {
        char c = m[i];
        if (i % 3 == 2) { if (c != '-' && c != ':') return 0; }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ query filters */
/* Query: NULL, "", "{}" or a HostComputeQuery {"SchemaVersion":..,"Flags":..,"Filter":"<json>"} (Filter may also
   be an object). Every filter key must match the object's member (strings case-insensitively; "Id" = "ID").
   Returns 0 on a bad query. */
static int parse_filter(PCWSTR query, jv **filter) {
    *filter = NULL;
    if (!query || !*query) return 1;
    jv *q = parse_doc(query);
    if (!q || q->t != J_OBJ) { json_free(q); return 0; }
    jv *f = jget(q, "Filter");
    if (!f) { json_free(q); return 1; }
    if (f->t == J_STR) {
        if (!*f->s) { json_free(q); return 1; }
        jv *pf = parse_u(f->s);
        json_free(q);
        if (!pf || pf->t != J_OBJ) { json_free(pf); return 0; }
        *filter = pf;
        return 1;
    }
    if (f->t != J_OBJ) { json_free(q); return 0; }
    *filter = jclone(f);
    json_free(q);
    return 1;
}
static int matches(jv *obj, jv *filter) {
    if (!filter) return 1;
    for (jv *k = filter->child; k; k = k->next) {
        const char *key = !_stricmp(k->key, "Id") ? "ID" : k->key;
        jv *v = jget(obj, key);
        if (!v) return 0;
        if (k->t == J_STR) { if (v->t != J_STR || _stricmp(v->s, k->s)) return 0; }
        else if (k->t == J_NUM) { if (v->t != J_NUM || v->n != k->n) return 0; }
        else if (k->t == J_BOOL) { if (v->t != J_BOOL || v->b != k->b) return 0; }
        else { char *a = json_dump(k), *b = json_dump(v); int eq = !strcmp(a, b); free(a); free(b); if (!eq) return 0; }
    }
    return 1;
}
static HRESULT enumerate(int kind, const char *fn, PCWSTR query, PWSTR *out, PWSTR *errorRecord) {
    if (!out) return E_POINTER;
    *out = NULL;
    ctx c; HRESULT hr = begin(&c, fn, errorRecord);
    if (hr) return end(&c, hr);
    jv *filter;
    if (!parse_filter(query, &filter)) return end(&c, fail(errorRecord, HCN_E_INVALID_JSON, "%s: the query is not a valid HostComputeQuery document", fn));
    sb b; sb_init(&b); sb_puts(&b, "[");
    int first = 1;
    for (jv *o = jget(c.st, KIND_KEY[kind])->child; o; o = o->next)
        if (matches(o, filter)) { if (!first) sb_puts(&b, ","); first = 0; sb_jstr(&b, jgets(o, "ID")); }
    sb_puts(&b, "]");
    json_free(filter);
    char *text = sb_take(&b);
    *out = out_str(text, 1);
    free(text);
    return end(&c, S_OK);
}

/* ------------------------------------------------------------------ generic open / query / delete / close */
static HRESULT open_obj(int kind, const char *fn, REFGUID id, void **handle, PWSTR *errorRecord) {
    if (!handle) return E_POINTER;
    *handle = NULL;
    if (!id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, fn, errorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(id, sid);
    if (!find_obj(c.st, kind, sid)) return end(&c, fail(errorRecord, KIND_NOT_FOUND[kind], "%s: %s not found", fn, sid));
    *handle = new_handle(kind, sid);
    return end(&c, S_OK);
}
static HRESULT query_obj(int kind, const char *fn, void *handle, PCWSTR query, PWSTR *props, PWSTR *errorRecord) {
    if (!props) return E_POINTER;
    *props = NULL;
    char id[40];
    if (errorRecord) *errorRecord = NULL;
    if (!find_handle(handle, kind, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, fn, errorRecord);
    if (hr) return end(&c, hr);
    if (query && *query) {
        jv *q = parse_doc(query);
        int ok = q && q->t == J_OBJ;
        json_free(q);
        if (!ok) return end(&c, fail(errorRecord, HCN_E_INVALID_JSON, "%s: the query is not a JSON object", fn));
    }
    jv *o = find_obj(c.st, kind, id);
    if (!o) return end(&c, fail(errorRecord, KIND_NOT_FOUND[kind], "%s: %s no longer exists", fn, id));
    char *text = json_dump(o);
    *props = out_str(text, 1);
    free(text);
    return end(&c, S_OK);
}

/* ------------------------------------------------------------------ networks */
HRESULT WINAPI HcnEnumerateNetworks(PCWSTR Query, PWSTR *Networks, PWSTR *ErrorRecord) {
    return enumerate(K_NETWORK, "HcnEnumerateNetworks", Query, Networks, ErrorRecord);
}
HRESULT WINAPI HcnCreateNetwork(REFGUID Id, PCWSTR Settings, PHCN_NETWORK Network, PWSTR *ErrorRecord) {
    if (!Network) return E_POINTER;
    *Network = NULL;
    ctx c; HRESULT hr = begin(&c, "HcnCreateNetwork", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *doc = parse_doc(Settings);
    const char *why = NULL, *bad = NULL;
    if (!doc || doc->t != J_OBJ) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: the settings are not a JSON object")); }
    if (!schema_ok(doc)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: SchemaVersion {Major: 2, Minor} is required")); }
    jv *type = jget(doc, "Type");
    if (!type || type->t != J_STR || !in_list(type->s, NETWORK_TYPES)) {
        char *shown = type ? json_dump(type) : xstrdup("(missing)");
        hr = fail(ErrorRecord, HCN_E_INVALID_NETWORK_TYPE, "HcnCreateNetwork: Type %s is not a network type (NAT, ICS, Transparent, L2Bridge, L2Tunnel, Overlay, Private, Internal, Mirrored)", shown);
        free(shown); json_free(doc);
        return end(&c, hr);
    }
    jv *name = jget(doc, "Name");
    if (name && name->t != J_STR) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: Name must be a string")); }
    jv *flags = jget(doc, "Flags");
    if (flags && (flags->t != J_NUM || !flags->isint)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: Flags must be a number (a bit mask)")); }
    jv *ipams = jget(doc, "Ipams");
    if (ipams) {
        if (ipams->t != J_ARR) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: Ipams must be an array")); }
        for (jv *ipam = ipams->child; ipam; ipam = ipam->next) {
            jv *subs = jget(ipam, "Subnets");
            if (subs && subs->t != J_ARR) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNetwork: Ipams[].Subnets must be an array")); }
            for (jv *s = subs ? subs->child : NULL; s; s = s->next) {
                unsigned n; int l;
                const char *pfx = jgets(s, "IpAddressPrefix");
                if (!parse_cidr(pfx, &n, &l) || l > 30) {
                    hr = fail(ErrorRecord, HCN_E_INVALID_PREFIX, "HcnCreateNetwork: IpAddressPrefix %s is not an IPv4 CIDR with room for hosts", pfx ? pfx : "(missing)");
                    json_free(doc); return end(&c, hr);
                }
                /* a subnet may not overlap another network's */
                for (jv *o = jget(c.st, "Networks")->child; o; o = o->next) {
                    unsigned on; int ol;
                    if (network_subnet(o, &on, &ol)) {
                        int m = l < ol ? l : ol;
                        if (in_subnet(n, on & (m ? 0xFFFFFFFFu << (32 - m) : 0), m) && in_subnet(on, n & (m ? 0xFFFFFFFFu << (32 - m) : 0), m)) {
                            hr = fail(ErrorRecord, HCN_E_INVALID_SUBNET, "HcnCreateNetwork: subnet %s overlaps network %s", pfx, jgets(o, "Name") ? jgets(o, "Name") : jgets(o, "ID"));
                            json_free(doc); return end(&c, hr);
                        }
                    }
                }
            }
        }
    }
    if ((hr = check_policies(jget(doc, "Policies"), NETWORK_POLICY_TYPES, &why, &bad))) {
        hr = fail(ErrorRecord, hr, "HcnCreateNetwork: %s%s%s", why, bad ? ": " : "", bad ? bad : "");
        json_free(doc); return end(&c, hr);
    }
    char sid[40]; id_from(Id, sid);
    if (find_obj(c.st, K_NETWORK, sid)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_NETWORK_ALREADY_EXISTS, "HcnCreateNetwork: network %s already exists", sid)); }
    jset(doc, "ID", jnew_str(sid));
    if (!jget(doc, "Name")) jset(doc, "Name", jnew_str(sid));
    if (!jget(doc, "Flags")) jset(doc, "Flags", jnew_int(0));
    jset(doc, "Health", jnew(J_OBJ));
    jset(jget(doc, "Health"), "Extra", jnew(J_OBJ));
    jpush(jget(c.st, "Networks"), doc);
    c.dirty = 1;
    *Network = new_handle(K_NETWORK, sid);
    return end(&c, S_OK);
}
HRESULT WINAPI HcnOpenNetwork(REFGUID Id, PHCN_NETWORK Network, PWSTR *ErrorRecord) {
    return open_obj(K_NETWORK, "HcnOpenNetwork", Id, Network, ErrorRecord);
}
HRESULT WINAPI HcnModifyNetwork(HCN_NETWORK Network, PCWSTR Settings, PWSTR *ErrorRecord) {
    char id[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(Network, K_NETWORK, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnModifyNetwork", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *net = find_obj(c.st, K_NETWORK, id);
    if (!net) return end(&c, fail(ErrorRecord, HCN_E_NETWORK_NOT_FOUND, "HcnModifyNetwork: network %s no longer exists", id));
    jv *req = parse_doc(Settings);
    const char *rt = req ? jgets(req, "ResourceType") : NULL, *rq = req ? jgets(req, "RequestType") : NULL;
    if (!rt || !rq) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyNetwork: ResourceType and RequestType are required")); }
    if (_stricmp(rt, "Policy")) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_REQUEST_UNSUPPORTED, "HcnModifyNetwork: ResourceType %s is not simulated", rt)); }
    jv *set = jget(req, "Settings"), *pols = set ? jget(set, "Policies") : NULL;
    const char *why = NULL, *bad = NULL;
    if (!pols || (hr = check_policies(pols, NETWORK_POLICY_TYPES, &why, &bad))) {
        hr = fail(ErrorRecord, pols ? hr : HCN_E_INVALID_JSON, "HcnModifyNetwork: %s", pols ? why : "Settings.Policies is required");
        json_free(req); return end(&c, hr);
    }
    if (!jget(net, "Policies")) jset(net, "Policies", jnew(J_ARR));
    jv *cur = jget(net, "Policies");
    if (!_stricmp(rq, "Add")) for (jv *p = pols->child; p; p = p->next) jpush(cur, jclone(p));
    else if (!_stricmp(rq, "Update")) jset(net, "Policies", jclone(pols));
    else if (!_stricmp(rq, "Remove")) jset(net, "Policies", jnew(J_ARR));
    else { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_REQUEST_UNSUPPORTED, "HcnModifyNetwork: RequestType %s", rq)); }
    json_free(req);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnQueryNetworkProperties(HCN_NETWORK Network, PCWSTR Query, PWSTR *Properties, PWSTR *ErrorRecord) {
    return query_obj(K_NETWORK, "HcnQueryNetworkProperties", Network, Query, Properties, ErrorRecord);
}
HRESULT WINAPI HcnDeleteNetwork(REFGUID Id, PWSTR *ErrorRecord) {
    if (!Id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, "HcnDeleteNetwork", ErrorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(Id, sid);
    jv *net = find_obj(c.st, K_NETWORK, sid);
    if (!net) return end(&c, fail(ErrorRecord, HCN_E_NETWORK_NOT_FOUND, "HcnDeleteNetwork: network %s not found", sid));
    for (jv *e = jget(c.st, "Endpoints")->child; e; e = e->next) {
        const char *n = jgets(e, "HostComputeNetwork");
        if (n && !_stricmp(n, sid)) return end(&c, fail(ErrorRecord, HCN_E_ENTITY_HAS_REFERENCES, "HcnDeleteNetwork: network %s still has endpoint %s", sid, jgets(e, "ID")));
    }
    remove_obj(c.st, K_NETWORK, net);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnCloseNetwork(HCN_NETWORK Network) { return close_handle(Network, K_NETWORK); }

/* ------------------------------------------------------------------ endpoints */
static void stable_mac(const char *id, char out[18]) {
    ULONGLONG h = fnv1a(id, strlen(id));
    snprintf(out, 18, "00-15-5D-%02X-%02X-%02X", (unsigned)(h & 255), (unsigned)((h >> 8) & 255), (unsigned)((h >> 16) & 255));
}
static int ip_used(jv *st, const char *netId, unsigned ip) {
    for (jv *e = jget(st, "Endpoints")->child; e; e = e->next) {
        const char *n = jgets(e, "HostComputeNetwork");
        if (!n || _stricmp(n, netId)) continue;
        jv *cfgs = jget(e, "IpConfigurations");
        for (jv *cfg = cfgs && cfgs->t == J_ARR ? cfgs->child : NULL; cfg; cfg = cfg->next) {
            unsigned a;
            if (parse_ip(jgets(cfg, "IpAddress"), &a) && a == ip) return 1;
        }
    }
    return 0;
}
HRESULT WINAPI HcnEnumerateEndpoints(PCWSTR Query, PWSTR *Endpoints, PWSTR *ErrorRecord) {
    return enumerate(K_ENDPOINT, "HcnEnumerateEndpoints", Query, Endpoints, ErrorRecord);
}
HRESULT WINAPI HcnCreateEndpoint(HCN_NETWORK Network, REFGUID Id, PCWSTR Settings, PHCN_ENDPOINT Endpoint, PWSTR *ErrorRecord) {
    if (!Endpoint) return E_POINTER;
    *Endpoint = NULL;
    char netId[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(Network, K_NETWORK, netId)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnCreateEndpoint", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *net = find_obj(c.st, K_NETWORK, netId);
    if (!net) return end(&c, fail(ErrorRecord, HCN_E_NETWORK_NOT_FOUND, "HcnCreateEndpoint: network %s no longer exists", netId));
    jv *doc = parse_doc(Settings);
    if (!doc || doc->t != J_OBJ) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateEndpoint: the settings are not a JSON object")); }
    if (!schema_ok(doc)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateEndpoint: SchemaVersion {Major: 2, Minor} is required")); }
    const char *hcnet = jgets(doc, "HostComputeNetwork");
    if (jget(doc, "HostComputeNetwork") && (!hcnet || _stricmp(hcnet, netId))) {
        json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_NETWORK, "HcnCreateEndpoint: HostComputeNetwork does not name the network of the handle (%s)", netId));
    }
    if (jget(doc, "HostComputeNamespace")) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_ENDPOINT, "HcnCreateEndpoint: HostComputeNamespace is read-only (attach with HcnModifyNamespace)")); }
    const char *why = NULL, *bad = NULL;
    jv *pols = jget(doc, "Policies");
    if ((hr = check_policies(pols, ENDPOINT_POLICY_TYPES, &why, &bad))) {
        hr = fail(ErrorRecord, hr, "HcnCreateEndpoint: %s%s%s", why, bad ? ": " : "", bad ? bad : "");
        json_free(doc); return end(&c, hr);
    }
    const char *ntype = jgets(net, "Type");
    for (jv *p = pols ? pols->child : NULL; p; p = p->next)
        if (mapping_settings(p) && ntype && _stricmp(ntype, "NAT") && _stricmp(ntype, "ICS")) {
            json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_MAPPING_NOT_SUPPORTED, "HcnCreateEndpoint: PortMapping needs a NAT network (this one is %s)", ntype));
        }
    char why2[300];
    if ((hr = check_port_conflicts(c.st, pols, NULL, why2, sizeof why2))) { json_free(doc); return end(&c, fail(ErrorRecord, hr, "HcnCreateEndpoint: %s", why2)); }
    const char *mac = jgets(doc, "MacAddress");
    if (jget(doc, "MacAddress") && !mac_ok(mac)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_ENDPOINT, "HcnCreateEndpoint: MacAddress must look like 00-15-5D-12-34-56")); }
    char sid[40]; id_from(Id, sid);
    if (find_obj(c.st, K_ENDPOINT, sid)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_ENDPOINT, "HcnCreateEndpoint: endpoint %s already exists", sid)); }
    /* IP: the one asked for (inside the subnet, unused), else the next free one */
    unsigned subnet = 0; int len = 0;
    int hasSubnet = network_subnet(net, &subnet, &len);
    jv *cfgs = jget(doc, "IpConfigurations");
    if (cfgs && (cfgs->t != J_ARR)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateEndpoint: IpConfigurations must be an array")); }
    if (cfgs && cfgs->child) {
        for (jv *cfg = cfgs->child; cfg; cfg = cfg->next) {
            unsigned a; const char *s = jgets(cfg, "IpAddress");
            if (!parse_ip(s, &a)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_IP, "HcnCreateEndpoint: IpAddress %s is not an IPv4 address", s ? s : "(missing)")); }
            unsigned host = len < 32 ? a & ~(0xFFFFFFFFu << (32 - len)) : 1;
            if (hasSubnet && (!in_subnet(a, subnet, len) || host == 0 || host == 1 || (len < 31 && host == ~(0xFFFFFFFFu << (32 - len))))) {
                json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_ADDR_INVALID_OR_RESERVED, "HcnCreateEndpoint: %s is outside the network's subnet or reserved", s));
            }
            if (ip_used(c.st, netId, a)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_ADDR_INVALID_OR_RESERVED, "HcnCreateEndpoint: %s is already in use", s)); }
            if (!jget(cfg, "PrefixLength") && hasSubnet) jset(cfg, "PrefixLength", jnew_int(len));
        }
    } else if (hasSubnet) {
        unsigned size = len <= 30 ? 1u << (32 - len) : 4, pick = 0;
        for (unsigned h = 2; h < size - 1 && h < 65536; h++) if (!ip_used(c.st, netId, subnet + h)) { pick = subnet + h; break; }
        if (!pick) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_ADDR_INVALID_OR_RESERVED, "HcnCreateEndpoint: no free address left in the network's subnet")); }
        char ip[16]; ip_str(pick, ip);
        jv *arr = jnew(J_ARR), *cfg = jnew(J_OBJ);
        jset(cfg, "IpAddress", jnew_str(ip)); jset(cfg, "PrefixLength", jnew_int(len));
        jpush(arr, cfg);
        jset(doc, "IpConfigurations", arr);
    }
    if (hasSubnet && !jget(doc, "Routes")) {
        char gw[16]; ip_str(subnet + 1, gw);
        jv *arr = jnew(J_ARR), *r = jnew(J_OBJ);
        jset(r, "NextHop", jnew_str(gw)); jset(r, "DestinationPrefix", jnew_str("0.0.0.0/0"));
        jpush(arr, r);
        jset(doc, "Routes", arr);
    }
    if (!mac) { char m[18]; stable_mac(sid, m); jset(doc, "MacAddress", jnew_str(m)); }
    hcnsim_default_dns(doc, net);
    jset(doc, "ID", jnew_str(sid));
    jset(doc, "HostComputeNetwork", jnew_str(netId));
    if (!jget(doc, "Flags")) jset(doc, "Flags", jnew_int(0));
    jset(doc, "State", jnew_int(1));
    jpush(jget(c.st, "Endpoints"), doc);
    c.dirty = 1;
    *Endpoint = new_handle(K_ENDPOINT, sid);
    return end(&c, S_OK);
}
HRESULT WINAPI HcnOpenEndpoint(REFGUID Id, PHCN_ENDPOINT Endpoint, PWSTR *ErrorRecord) {
    return open_obj(K_ENDPOINT, "HcnOpenEndpoint", Id, Endpoint, ErrorRecord);
}
static int same_json(jv *a, jv *b) { char *x = json_dump(a), *y = json_dump(b); int eq = !strcmp(x, y); free(x); free(y); return eq; }
HRESULT WINAPI HcnModifyEndpoint(HCN_ENDPOINT Endpoint, PCWSTR Settings, PWSTR *ErrorRecord) {
    char id[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(Endpoint, K_ENDPOINT, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnModifyEndpoint", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *ep = find_obj(c.st, K_ENDPOINT, id);
    if (!ep) return end(&c, fail(ErrorRecord, HCN_E_ENDPOINT_NOT_FOUND, "HcnModifyEndpoint: endpoint %s no longer exists", id));
    jv *req = parse_doc(Settings);
    const char *rt = req ? jgets(req, "ResourceType") : NULL, *rq = req ? jgets(req, "RequestType") : NULL;
    if (!rt || !rq) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyEndpoint: ResourceType and RequestType are required")); }
    if (_stricmp(rt, "Policy")) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_REQUEST_UNSUPPORTED, "HcnModifyEndpoint: ResourceType %s is not simulated", rt)); }
    if (!_stricmp(rq, "Refresh")) { json_free(req); return end(&c, S_OK); }
    jv *set = jget(req, "Settings"), *pols = set ? jget(set, "Policies") : NULL;
    const char *why = NULL, *bad = NULL;
    if (!pols) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyEndpoint: Settings.Policies is required")); }
    if ((hr = check_policies(pols, ENDPOINT_POLICY_TYPES, &why, &bad))) { hr = fail(ErrorRecord, hr, "HcnModifyEndpoint: %s", why); json_free(req); return end(&c, hr); }
    if (!jget(ep, "Policies")) jset(ep, "Policies", jnew(J_ARR));
    jv *cur = jget(ep, "Policies");
    char why2[300];
    if (!_stricmp(rq, "Add") || !_stricmp(rq, "Update")) {
        if ((hr = check_port_conflicts(c.st, pols, id, why2, sizeof why2))) { json_free(req); return end(&c, fail(ErrorRecord, hr, "HcnModifyEndpoint: %s", why2)); }
        if (!_stricmp(rq, "Add")) {
            for (jv *p = pols->child; p; p = p->next) {
                jv *m = mapping_settings(p);
                for (jv *q = m ? cur->child : NULL; q; q = q->next)
                    if (mapping_settings(q) && mapping_conflicts(m, mapping_settings(q))) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_PORT_ALREADY_EXISTS, "HcnModifyEndpoint: the endpoint already maps that port")); }
                jpush(cur, jclone(p));
            }
        } else jset(ep, "Policies", jclone(pols));
    } else if (!_stricmp(rq, "Remove")) {
        for (jv *p = pols->child; p; p = p->next) {
            int found = 0;
            for (jv **pp = &cur->child; *pp; pp = &(*pp)->next)
                if (same_json(*pp, p)) { jv *v = *pp; *pp = v->next; v->next = NULL; json_free(v); found = 1; break; }
            if (!found) { json_free(req); return end(&c, fail(ErrorRecord, HCSSIM_HR(0x803B0008) /* HCN_E_POLICY_NOT_FOUND */, "HcnModifyEndpoint: no such policy on the endpoint")); }
        }
    } else { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_REQUEST_UNSUPPORTED, "HcnModifyEndpoint: RequestType %s", rq)); }
    json_free(req);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnQueryEndpointProperties(HCN_ENDPOINT Endpoint, PCWSTR Query, PWSTR *Properties, PWSTR *ErrorRecord) {
    return query_obj(K_ENDPOINT, "HcnQueryEndpointProperties", Endpoint, Query, Properties, ErrorRecord);
}
HRESULT WINAPI HcnDeleteEndpoint(REFGUID Id, PWSTR *ErrorRecord) {
    if (!Id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, "HcnDeleteEndpoint", ErrorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(Id, sid);
    jv *ep = find_obj(c.st, K_ENDPOINT, sid);
    if (!ep) return end(&c, fail(ErrorRecord, HCN_E_ENDPOINT_NOT_FOUND, "HcnDeleteEndpoint: endpoint %s not found", sid));
    if (jgets(ep, "HostComputeNamespace")) return end(&c, fail(ErrorRecord, HCN_E_ENTITY_HAS_REFERENCES, "HcnDeleteEndpoint: endpoint %s is attached to namespace %s", sid, jgets(ep, "HostComputeNamespace")));
    for (jv *lb = jget(c.st, "LoadBalancers")->child; lb; lb = lb->next) {
        jv *eps = jget(lb, "HostComputeEndpoints");
        for (jv *e = eps && eps->t == J_ARR ? eps->child : NULL; e; e = e->next)
            if (e->t == J_STR && !_stricmp(e->s, sid)) return end(&c, fail(ErrorRecord, HCN_E_ENTITY_HAS_REFERENCES, "HcnDeleteEndpoint: endpoint %s is used by load balancer %s", sid, jgets(lb, "ID")));
    }
    remove_obj(c.st, K_ENDPOINT, ep);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnCloseEndpoint(HCN_ENDPOINT Endpoint) { return close_handle(Endpoint, K_ENDPOINT); }

/* ------------------------------------------------------------------ namespaces */
HRESULT WINAPI HcnEnumerateNamespaces(PCWSTR Query, PWSTR *Namespaces, PWSTR *ErrorRecord) {
    return enumerate(K_NAMESPACE, "HcnEnumerateNamespaces", Query, Namespaces, ErrorRecord);
}
HRESULT WINAPI HcnCreateNamespace(REFGUID Id, PCWSTR Settings, PHCN_NAMESPACE Namespace, PWSTR *ErrorRecord) {
    if (!Namespace) return E_POINTER;
    *Namespace = NULL;
    ctx c; HRESULT hr = begin(&c, "HcnCreateNamespace", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *doc = parse_doc(Settings);
    if (!doc || doc->t != J_OBJ || !schema_ok(doc)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNamespace: a JSON object with SchemaVersion {Major: 2} is required")); }
    const char *t = jgets(doc, "Type");
    static const char *NS_TYPES[] = { "Host", "HostDefault", "Guest", "GuestDefault", NULL };
    if (jget(doc, "Type") && !in_list(t, NS_TYPES)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateNamespace: Type must be Host, HostDefault, Guest or GuestDefault")); }
    char sid[40]; id_from(Id, sid);
    if (find_obj(c.st, K_NAMESPACE, sid)) { json_free(doc); return end(&c, fail(ErrorRecord, HCSSIM_HR(0x803B002B) /* HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS */, "HcnCreateNamespace: namespace %s already exists", sid)); }
    jset(doc, "ID", jnew_str(sid));
    if (!t) jset(doc, "Type", jnew_str("Host"));
    jset(doc, "NamespaceId", jnew_int(0));
    jset(doc, "Resources", jnew(J_ARR));
    jpush(jget(c.st, "Namespaces"), doc);
    c.dirty = 1;
    *Namespace = new_handle(K_NAMESPACE, sid);
    return end(&c, S_OK);
}
HRESULT WINAPI HcnOpenNamespace(REFGUID Id, PHCN_NAMESPACE Namespace, PWSTR *ErrorRecord) {
    return open_obj(K_NAMESPACE, "HcnOpenNamespace", Id, Namespace, ErrorRecord);
}
HRESULT WINAPI HcnModifyNamespace(HCN_NAMESPACE Namespace, PCWSTR Settings, PWSTR *ErrorRecord) {
    char id[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(Namespace, K_NAMESPACE, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnModifyNamespace", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *ns = find_obj(c.st, K_NAMESPACE, id);
    if (!ns) return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnModifyNamespace: namespace %s no longer exists", id));
    jv *req = parse_doc(Settings);
    const char *rt = req ? jgets(req, "ResourceType") : NULL, *rq = req ? jgets(req, "RequestType") : NULL;
    jv *set = req ? jget(req, "Settings") : NULL;
    const char *epId = set ? jgets(set, "EndpointId") : NULL;
    if (!rt || !rq || _stricmp(rt, "Endpoint") || !epId) {
        json_free(req);
        return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyNamespace: {ResourceType: \"Endpoint\", RequestType, Settings: {EndpointId}} is required"));
    }
    jv *ep = find_obj(c.st, K_ENDPOINT, epId);
    if (!ep) { hr = fail(ErrorRecord, HCN_E_ENDPOINT_NOT_FOUND, "HcnModifyNamespace: endpoint %s not found", epId); json_free(req); return end(&c, hr); }
    jv *res = jget(ns, "Resources");
    const char *attached = jgets(ep, "HostComputeNamespace");
    if (!_stricmp(rq, "Add")) {
        if (attached) { hr = fail(ErrorRecord, HCN_E_ENDPOINT_ALREADY_ATTACHED, "HcnModifyNamespace: endpoint %s is already attached to namespace %s", epId, attached); json_free(req); return end(&c, hr); }
        jv *r = jnew(J_OBJ), *d = jnew(J_OBJ);
        jset(d, "ID", jnew_str(jgets(ep, "ID")));
        jset(r, "Type", jnew_str("Endpoint")); jset(r, "Data", d);
        jpush(res, r);
        jset(ep, "HostComputeNamespace", jnew_str(id));
    } else if (!_stricmp(rq, "Remove")) {
        if (!attached || _stricmp(attached, id)) { hr = fail(ErrorRecord, HCN_E_ENDPOINT_NOT_ATTACHED, "HcnModifyNamespace: endpoint %s is not attached to namespace %s", epId, id); json_free(req); return end(&c, hr); }
        for (jv **pp = &res->child; *pp; pp = &(*pp)->next) {
            jv *d = jget(*pp, "Data");
            const char *rid = d ? jgets(d, "ID") : NULL;
            if (rid && !_stricmp(rid, epId)) { jv *v = *pp; *pp = v->next; v->next = NULL; json_free(v); break; }
        }
        jdel(ep, "HostComputeNamespace");
    } else { hr = fail(ErrorRecord, HCN_E_REQUEST_UNSUPPORTED, "HcnModifyNamespace: RequestType %s", rq); json_free(req); return end(&c, hr); }
    json_free(req);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnQueryNamespaceProperties(HCN_NAMESPACE Namespace, PCWSTR Query, PWSTR *Properties, PWSTR *ErrorRecord) {
    return query_obj(K_NAMESPACE, "HcnQueryNamespaceProperties", Namespace, Query, Properties, ErrorRecord);
}
HRESULT WINAPI HcnDeleteNamespace(REFGUID Id, PWSTR *ErrorRecord) {
    if (!Id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, "HcnDeleteNamespace", ErrorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(Id, sid);
    jv *ns = find_obj(c.st, K_NAMESPACE, sid);
    if (!ns) return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnDeleteNamespace: namespace %s not found", sid));
    if (jlen(jget(ns, "Resources")) > 0) return end(&c, fail(ErrorRecord, HCN_E_ENTITY_HAS_REFERENCES, "HcnDeleteNamespace: namespace %s still has endpoints attached", sid));
    remove_obj(c.st, K_NAMESPACE, ns);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnCloseNamespace(HCN_NAMESPACE Namespace) { return close_handle(Namespace, K_NAMESPACE); }

/* ------------------------------------------------------------------ load balancers */
HRESULT WINAPI HcnEnumerateLoadBalancers(PCWSTR Query, PWSTR *LoadBalancer, PWSTR *ErrorRecord) {
    return enumerate(K_LB, "HcnEnumerateLoadBalancers", Query, LoadBalancer, ErrorRecord);
}
HRESULT WINAPI HcnCreateLoadBalancer(REFGUID Id, PCWSTR Settings, PHCN_LOADBALANCER LoadBalancer, PWSTR *ErrorRecord) {
    if (!LoadBalancer) return E_POINTER;
    *LoadBalancer = NULL;
    ctx c; HRESULT hr = begin(&c, "HcnCreateLoadBalancer", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *doc = parse_doc(Settings);
    if (!doc || doc->t != J_OBJ || !schema_ok(doc)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateLoadBalancer: a JSON object with SchemaVersion {Major: 2} is required")); }
    jv *eps = jget(doc, "HostComputeEndpoints");
    if (eps && eps->t != J_ARR) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateLoadBalancer: HostComputeEndpoints must be an array")); }
    for (jv *e = eps ? eps->child : NULL; e; e = e->next)
        if (e->t != J_STR || !find_obj(c.st, K_ENDPOINT, e->s)) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_ENDPOINT_NOT_FOUND, "HcnCreateLoadBalancer: an endpoint of HostComputeEndpoints does not exist")); }
    char sid[40]; id_from(Id, sid);
    if (find_obj(c.st, K_LB, sid)) { json_free(doc); return end(&c, fail(ErrorRecord, HCSSIM_HR(0x803B0012), "HcnCreateLoadBalancer: load balancer %s already exists", sid)); }
    jset(doc, "ID", jnew_str(sid));
    jpush(jget(c.st, "LoadBalancers"), doc);
    c.dirty = 1;
    *LoadBalancer = new_handle(K_LB, sid);
    return end(&c, S_OK);
}
HRESULT WINAPI HcnOpenLoadBalancer(REFGUID Id, PHCN_LOADBALANCER LoadBalancer, PWSTR *ErrorRecord) {
    return open_obj(K_LB, "HcnOpenLoadBalancer", Id, LoadBalancer, ErrorRecord);
}
HRESULT WINAPI HcnModifyLoadBalancer(HCN_LOADBALANCER LoadBalancer, PCWSTR Settings, PWSTR *ErrorRecord) {
    char id[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(LoadBalancer, K_LB, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnModifyLoadBalancer", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *lb = find_obj(c.st, K_LB, id);
    if (!lb) return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnModifyLoadBalancer: load balancer %s no longer exists", id));
    jv *req = parse_doc(Settings);
    const char *rt = req ? jgets(req, "ResourceType") : NULL, *rq = req ? jgets(req, "RequestType") : NULL;
    if (!rt || !rq) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyLoadBalancer: ResourceType and RequestType are required")); }
    jv *mods = jget(lb, "Modifications");
    if (!mods) { jset(lb, "Modifications", jnew(J_ARR)); mods = jget(lb, "Modifications"); }
    jpush(mods, req);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnQueryLoadBalancerProperties(HCN_LOADBALANCER LoadBalancer, PCWSTR Query, PWSTR *Properties, PWSTR *ErrorRecord) {
    return query_obj(K_LB, "HcnQueryLoadBalancerProperties", LoadBalancer, Query, Properties, ErrorRecord);
}
HRESULT WINAPI HcnDeleteLoadBalancer(REFGUID Id, PWSTR *ErrorRecord) {
    if (!Id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, "HcnDeleteLoadBalancer", ErrorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(Id, sid);
    jv *lb = find_obj(c.st, K_LB, sid);
    if (!lb) return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnDeleteLoadBalancer: load balancer %s not found", sid));
    remove_obj(c.st, K_LB, lb);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnCloseLoadBalancer(HCN_LOADBALANCER LoadBalancer) { return close_handle(LoadBalancer, K_LB); }

/* ------------------------------------------------------------------ service callbacks (registered, never fired) */
HRESULT WINAPI HcnRegisterServiceCallback(HCN_NOTIFICATION_CALLBACK Callback, void *Context, HCN_CALLBACK *CallbackHandle) {
    (void)Context;
    if (!Callback || !CallbackHandle) return E_POINTER;
    *CallbackHandle = new_handle(K_CALLBACK, "service");
    return S_OK;
}
HRESULT WINAPI HcnUnregisterServiceCallback(HCN_CALLBACK CallbackHandle) { return close_handle(CallbackHandle, K_CALLBACK); }

/* ------------------------------------------------------------------ guest network services and port reservations */
HRESULT WINAPI HcnRegisterGuestNetworkServiceCallback(HCN_GUESTNETWORKSERVICE GuestNetworkService, HCN_NOTIFICATION_CALLBACK Callback, void *Context, HCN_CALLBACK *CallbackHandle) {
    (void)Context;
    char id[40];
    if (!Callback || !CallbackHandle) return E_POINTER;
    if (!find_handle(GuestNetworkService, K_GNS, id)) return E_HANDLE;
    *CallbackHandle = new_handle(K_CALLBACK, id);
    return S_OK;
}
HRESULT WINAPI HcnUnregisterGuestNetworkServiceCallback(HCN_CALLBACK CallbackHandle) { return close_handle(CallbackHandle, K_CALLBACK); }
HRESULT WINAPI HcnCreateGuestNetworkService(REFGUID Id, PCWSTR Settings, PHCN_GUESTNETWORKSERVICE GuestNetworkService, PWSTR *ErrorRecord) {
    if (!GuestNetworkService) return E_POINTER;
    *GuestNetworkService = NULL;
    ctx c; HRESULT hr = begin(&c, "HcnCreateGuestNetworkService", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *doc = parse_doc(Settings);
    if (!doc || doc->t != J_OBJ) { json_free(doc); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnCreateGuestNetworkService: the settings are not a JSON object")); }
    char sid[40]; id_from(Id, sid);
    if (find_obj(c.st, K_GNS, sid)) { json_free(doc); return end(&c, fail(ErrorRecord, HCSSIM_HR(0x803B0029), "HcnCreateGuestNetworkService: %s already exists", sid)); }
    jset(doc, "ID", jnew_str(sid));
    jpush(jget(c.st, "GuestNetworkServices"), doc);
    c.dirty = 1;
    *GuestNetworkService = new_handle(K_GNS, sid);
    return end(&c, S_OK);
}
HRESULT WINAPI HcnCloseGuestNetworkService(HCN_GUESTNETWORKSERVICE GuestNetworkService) { return close_handle(GuestNetworkService, K_GNS); }
HRESULT WINAPI HcnModifyGuestNetworkService(HCN_GUESTNETWORKSERVICE GuestNetworkService, PCWSTR Settings, PWSTR *ErrorRecord) {
    char id[40];
    if (ErrorRecord) *ErrorRecord = NULL;
    if (!find_handle(GuestNetworkService, K_GNS, id)) return E_HANDLE;
    ctx c; HRESULT hr = begin(&c, "HcnModifyGuestNetworkService", ErrorRecord);
    if (hr) return end(&c, hr);
    jv *g = find_obj(c.st, K_GNS, id);
    jv *req = parse_doc(Settings);
    if (!g) { json_free(req); return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnModifyGuestNetworkService: %s no longer exists", id)); }
    if (!req || req->t != J_OBJ) { json_free(req); return end(&c, fail(ErrorRecord, HCN_E_INVALID_JSON, "HcnModifyGuestNetworkService: the settings are not a JSON object")); }
    jset(g, "LastModify", req);
    c.dirty = 1;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnDeleteGuestNetworkService(REFGUID Id, PWSTR *ErrorRecord) {
    if (!Id) return E_POINTER;
    ctx c; HRESULT hr = begin(&c, "HcnDeleteGuestNetworkService", ErrorRecord);
    if (hr) return end(&c, hr);
    char sid[40]; guid_str(Id, sid);
    jv *g = find_obj(c.st, K_GNS, sid);
    if (!g) return end(&c, fail(ErrorRecord, HCNSIM_E_NOT_FOUND, "HcnDeleteGuestNetworkService: %s not found", sid));
    remove_obj(c.st, K_GNS, g);
    c.dirty = 1;
    return end(&c, S_OK);
}
/* Port reservations: recorded in the state (owner pid, protocol, range) and returned as an event HANDLE of the caller. */
static HRESULT reserve(const char *gns, int protocol, int start, int endp, HANDLE *out) {
    ctx c; HRESULT hr = begin(&c, "HcnReserveGuestNetworkServicePort", NULL);
    if (hr) return end(&c, hr);
    for (jv *r = jget(c.st, "Reservations")->child; r; r = r->next) {
        long long s, e, p;
        jgeti(r, "StartingPort", &s); jgeti(r, "EndingPort", &e); jgeti(r, "Protocol", &p);
        if ((p & protocol) && start <= e && endp >= s) return end(&c, HCN_E_PORT_ALREADY_EXISTS);
    }
    HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
    jv *r = jnew(J_OBJ);
    jset(r, "GuestNetworkService", jnew_str(gns)); jset(r, "Protocol", jnew_int(protocol));
    jset(r, "StartingPort", jnew_int(start)); jset(r, "EndingPort", jnew_int(endp));
    jset(r, "Pid", jnew_int(GetCurrentProcessId())); jset(r, "Handle", jnew_int((long long)(ULONG_PTR)h));
    jpush(jget(c.st, "Reservations"), r);
    c.dirty = 1;
    *out = h;
    return end(&c, S_OK);
}
HRESULT WINAPI HcnReserveGuestNetworkServicePort(HCN_GUESTNETWORKSERVICE GuestNetworkService, HCN_PORT_PROTOCOL Protocol, HCN_PORT_ACCESS Access, USHORT Port, HANDLE *PortReservationHandle) {
    char id[40];
    if (!PortReservationHandle) return E_POINTER;
    *PortReservationHandle = NULL;
    if (!find_handle(GuestNetworkService, K_GNS, id)) return E_HANDLE;
    if (Protocol < HCN_PORT_PROTOCOL_TCP || Protocol > HCN_PORT_PROTOCOL_BOTH || Access < HCN_PORT_ACCESS_EXCLUSIVE || Access > HCN_PORT_ACCESS_SHARED || !Port) return E_INVALIDARG;
    return reserve(id, (int)Protocol, Port, Port, PortReservationHandle);
}
HRESULT WINAPI HcnReserveGuestNetworkServicePortRange(HCN_GUESTNETWORKSERVICE GuestNetworkService, USHORT PortCount, HCN_PORT_RANGE_RESERVATION *PortRangeReservation, HANDLE *PortReservationHandle) {
    char id[40];
    if (!PortReservationHandle || !PortRangeReservation) return E_POINTER;
    *PortReservationHandle = NULL;
    if (!find_handle(GuestNetworkService, K_GNS, id)) return E_HANDLE;
    if (!PortCount) return E_INVALIDARG;
    for (unsigned start = 50000; start + PortCount - 1 <= 65535; start += PortCount) {
        HRESULT hr = reserve(id, HCN_PORT_PROTOCOL_BOTH, (int)start, (int)(start + PortCount - 1), PortReservationHandle);
        if (hr == S_OK) { PortRangeReservation->startingPort = (USHORT)start; PortRangeReservation->endingPort = (USHORT)(start + PortCount - 1); return S_OK; }
        if (hr != HCN_E_PORT_ALREADY_EXISTS) return hr;
    }
    return HCN_E_PORT_ALREADY_EXISTS;
}
HRESULT WINAPI HcnReleaseGuestNetworkServicePortReservationHandle(HANDLE PortReservationHandle) {
    ctx c; HRESULT hr = begin(&c, "HcnReleaseGuestNetworkServicePortReservationHandle", NULL);
    if (hr) return end(&c, hr);
    jv *arr = jget(c.st, "Reservations");
    hr = E_HANDLE;
    for (jv **pp = &arr->child; *pp; pp = &(*pp)->next) {
        long long h, pid;
        jgeti(*pp, "Handle", &h); jgeti(*pp, "Pid", &pid);
        if (pid == (long long)GetCurrentProcessId() && h == (long long)(ULONG_PTR)PortReservationHandle) {
            jv *v = *pp; *pp = v->next; v->next = NULL; json_free(v);
            CloseHandle(PortReservationHandle);
            c.dirty = 1; hr = S_OK; break;
        }
    }
    return end(&c, hr);
}
HRESULT WINAPI HcnEnumerateGuestNetworkPortReservations(ULONG *ReturnCount, HCN_PORT_RANGE_ENTRY **PortEntries) {
    if (!ReturnCount || !PortEntries) return E_POINTER;
    *ReturnCount = 0; *PortEntries = NULL;
    ctx c; HRESULT hr = begin(&c, "HcnEnumerateGuestNetworkPortReservations", NULL);
    if (hr) return end(&c, hr);
    int n = jlen(jget(c.st, "Reservations"));
    if (n) {
        HCN_PORT_RANGE_ENTRY *e = CoTaskMemAlloc((size_t)n * sizeof *e);
        memset(e, 0, (size_t)n * sizeof *e);
        int i = 0;
        for (jv *r = jget(c.st, "Reservations")->child; r; r = r->next, i++) {
            long long s, en, p; jgeti(r, "StartingPort", &s); jgeti(r, "EndingPort", &en); jgeti(r, "Protocol", &p);
            e[i].Protocol = (HCN_PORT_PROTOCOL)p; e[i].StartingPort = (USHORT)s; e[i].EndingPort = (USHORT)en;
        }
        *PortEntries = e; *ReturnCount = (ULONG)n;
    }
    return end(&c, S_OK);
}
VOID WINAPI HcnFreeGuestNetworkPortReservations(HCN_PORT_RANGE_ENTRY *PortEntries) { if (PortEntries) CoTaskMemFree(PortEntries); }

/* ------------------------------------------------------------------ test-only control */
static char *audit_json(void) {
    sb b; sb_init(&b);
    EnterCriticalSection(&g_cs);
    sb_puts(&b, "{");
    for (int k = 0; k < K_COUNT; k++) sb_printf(&b, "\"%s\":{\"Opened\":%ld,\"Closed\":%ld},", KIND_AUDIT[k], g_audit.opened[k], g_audit.closed[k]);
    int live = 0, samples = 0, w = 0;
    sb s; sb_init(&s); sb_puts(&s, "[");
    heapsnap heap;
    heapsnap_take(&heap);
    for (int i = 0; i < g_strtab.n; i++) {
        if (!strtrack_live(&g_strtab.v[i], &heap)) continue;
        live++;
        g_strtab.v[w++] = g_strtab.v[i];
        if (samples < 5) {
            char *u = w2u(g_strtab.v[i].p);
            if (strlen(u) > 80) u[80] = 0;
            if (samples) sb_puts(&s, ",");
            sb_jstr(&s, u); free(u); samples++;
        }
    }
    g_strtab.n = w; /* dead ones are forgotten */
    heapsnap_free(&heap);
    sb_puts(&s, "]");
    char *st = sb_take(&s);
    sb_printf(&b, "\"Strings\":{\"Allocated\":%ld,\"Live\":%d},\"LiveStringSamples\":%s}", g_audit.strAllocated, live, st);
    free(st);
    LeaveCriticalSection(&g_cs);
    return sb_take(&b);
}

HRESULT WINAPI HcsSimNetworkControl(PCWSTR request, PWSTR *response) {
    if (!response) return E_POINTER;
    *response = NULL;
    jv *req = parse_doc(request);
    const char *op = req ? jgets(req, "Op") : NULL;
    char *out = NULL; HRESULT hr = S_OK;
    if (!op) { out = xstrdup("{\"Error\":\"a JSON object with Op is required\"}"); hr = E_INVALIDARG; }
    else if (!strcmp(op, "Audit")) out = audit_json();
    else if (!strcmp(op, "ResetAudit")) {
        EnterCriticalSection(&g_cs);
        memset(&g_audit, 0, sizeof g_audit); g_strtab.n = 0;
        LeaveCriticalSection(&g_cs);
        out = xstrdup("{}");
    } else {
        ctx c; lock_state(); c.st = load_state(); c.dirty = 0;
        if (!strcmp(op, "State")) out = json_dump(c.st);
        else if (!strcmp(op, "Reset")) {
            json_free(c.st); c.st = jnew(J_OBJ); c.dirty = 1;
            for (int k = 0; k < K_COUNT; k++) jset(c.st, KIND_KEY[k], jnew(J_ARR));
            jset(c.st, "Faults", jnew(J_ARR)); jset(c.st, "Reservations", jnew(J_ARR));
            out = xstrdup("{}");
        } else if (!strcmp(op, "HostRestart")) { out = hcnsim_host_restart(c.st); c.dirty = 1; }
        else if (!strcmp(op, "ClearFaults")) { jset(c.st, "Faults", jnew(J_ARR)); c.dirty = 1; out = xstrdup("{}"); }
        else if (!strcmp(op, "InjectFault")) {
            jv *f = jget(req, "Fault");
            const char *fn = f ? jgets(f, "Function") : NULL, *action = f ? jgets(f, "Action") : NULL;
            if (!fn || (action && strcmp(action, "Fail"))) { out = xstrdup("{\"Error\":\"InjectFault needs Fault.Function; the only Action is Fail\"}"); hr = E_INVALIDARG; }
            else {
                long long nth = 1, count = 1, hres = (long long)(DWORD)E_FAIL, pid, seq = 0;
                jgeti(f, "Nth", &nth); jgeti(f, "Count", &count); jgeti(f, "HResult", &hres);
                jgeti(c.st, "FaultSeq", &seq);
                jv *nf = jnew(J_OBJ);
                jset(nf, "FaultId", jnew_int(++seq));
                jset(nf, "Function", jnew_str(fn)); jset(nf, "Action", jnew_str("Fail"));
                jset(nf, "HResult", jnew_int((long long)(DWORD)(LONG)hres));
                jset(nf, "SkipsLeft", jnew_int(nth > 1 ? nth - 1 : 0));
                jset(nf, "HitsLeft", jnew_int(count == 0 ? -1 : count));
                if (jgeti(f, "Pid", &pid)) jset(nf, "Pid", jnew_int(pid));
                if (jgets(f, "Message")) jset(nf, "Message", jnew_str(jgets(f, "Message")));
                jpush(jget(c.st, "Faults"), nf);
                jset(c.st, "FaultSeq", jnew_int(seq));
                c.dirty = 1;
                char buf[64]; snprintf(buf, sizeof buf, "{\"FaultId\":%lld}", seq);
                out = xstrdup(buf);
            }
        } else { out = xstrdup("{\"Error\":\"unknown Op (Audit, ResetAudit, State, Reset, HostRestart, InjectFault, ClearFaults)\"}"); hr = E_INVALIDARG; }
        end(&c, S_OK);
    }
    json_free(req);
    *response = out_str(out, 0);
    free(out);
    return hr;
}
