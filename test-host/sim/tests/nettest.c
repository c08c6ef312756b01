/* nettest.exe: self-test of the simulated computenetwork.dll.
   Prints "ok N - name" / "not ok N - name: detail" and "N passed, N failed"; exit code 0 when all pass.
   `nettest.exe child-create <guid> <name>` is the child half of the cross-process check. */
#include <windows.h>
#include <objbase.h>
#include <computenetwork.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common.h"

HRESULT WINAPI HcsSimNetworkControl(PCWSTR request, PWSTR *response);

static int g_n, g_pass, g_fail;
static void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *name, const char *fmt, ...) {
    g_n++;
    if (ok) { g_pass++; printf("ok %d - %s\n", g_n, name); }
    else {
        char d[1024] = "";
        if (fmt) { va_list ap; va_start(ap, fmt); vsnprintf(d, sizeof d, fmt, ap); va_end(ap); }
        g_fail++; printf("not ok %d - %s: %s\n", g_n, name, d);
    }
    fflush(stdout);
}
#define CHECK_HR(hr, want, name) do { HRESULT _h = (hr), _w = (want); check(_h == _w, name, "got 0x%08lx, want 0x%08lx", (unsigned long)_h, (unsigned long)_w); } while (0)

static jv *take(PWSTR s) { /* parses and CoTaskMemFrees */
    if (!s) return NULL;
    char *u = w2u(s); CoTaskMemFree(s);
    char err[128]; jv *v = json_parse(u, err, sizeof err); free(u);
    return v;
}
static void drop(PWSTR s) { if (s) CoTaskMemFree(s); }
static jv *control(const char *req) {
    WCHAR *w = u2w(req); PWSTR resp = NULL;
    HRESULT hr = HcsSimNetworkControl(w, &resp); free(w);
    if (FAILED(hr)) printf("# control %s failed 0x%08lx\n", req, (unsigned long)hr);
    return take(resp);
}
static GUID guid_of(const char *s) {
    GUID g; unsigned long d1; unsigned d2, d3, b[8];
    sscanf(s, "%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]);
    g.Data1 = d1; g.Data2 = (USHORT)d2; g.Data3 = (USHORT)d3;
    for (int i = 0; i < 8; i++) g.Data4[i] = (BYTE)b[i];
    return g;
}
static GUID new_guid(char out[37]) { new_guid_str(out); return guid_of(out); }
static int list_has(PWSTR list, const char *id) { jv *v = take(list); int found = 0; for (jv *c = v ? v->child : NULL; c; c = c->next) if (c->t == J_STR && !_stricmp(c->s, id)) found = 1; json_free(v); return found; }
static int list_len(PWSTR list) { jv *v = take(list); int n = jlen(v); json_free(v); return n; }
static HRESULT create_net(const GUID *g, const char *json, HCN_NETWORK *h, PWSTR *err) {
    WCHAR *w = u2w(json); HRESULT hr = HcnCreateNetwork(g, w, h, err); free(w); return hr;
}
static HRESULT create_ep(HCN_NETWORK n, const GUID *g, const char *json, HCN_ENDPOINT *h, PWSTR *err) {
    WCHAR *w = u2w(json); HRESULT hr = HcnCreateEndpoint(n, g, w, h, err); free(w); return hr;
}
static HRESULT modify_ns(HCN_NAMESPACE ns, const char *req, PWSTR *err) { WCHAR *w = u2w(req); HRESULT hr = HcnModifyNamespace(ns, w, err); free(w); return hr; }

#define SV "\"SchemaVersion\":{\"Major\":2,\"Minor\":0}"

static int child(const char *id, const char *name) {
    GUID g = guid_of(id); HCN_NETWORK h = NULL; PWSTR err = NULL;
    char doc[512];
    snprintf(doc, sizeof doc, "{" SV ",\"Name\":\"%s\",\"Type\":\"Internal\"}", name);
    HRESULT hr = create_net(&g, doc, &h, &err);
    drop(err);
    if (h) HcnCloseNetwork(h);
    return hr == S_OK ? 0 : 1;
}

int wmain(int argc, WCHAR **argv) {
    if (argc >= 4 && !wcscmp(argv[1], L"child-create")) { char *id = w2u(argv[2]), *name = w2u(argv[3]); return child(id, name); }
    WCHAR inst[64];
    if (!GetEnvironmentVariableW(L"HCSSIM_INSTANCE", inst, 64)) {
        swprintf(inst, 64, L"nettest-%lu", (unsigned long)GetCurrentProcessId());
        SetEnvironmentVariableW(L"HCSSIM_INSTANCE", inst);
    }
    json_free(control("{\"Op\":\"Reset\"}"));
    json_free(control("{\"Op\":\"ResetAudit\"}"));
    HRESULT hr; PWSTR err = NULL, out = NULL;
    char natId[37], intId[37], epA[37], epB[37], epC[37], nsId[37], tmp[37];
    GUID natG = new_guid(natId), intG = new_guid(intId);

    /* networks */
    HCN_NETWORK nat = NULL, in = NULL, h = NULL;
    hr = create_net(&natG, "{" SV ",\"Name\":\"t-nat\",\"Type\":\"NAT\",\"Flags\":8,\"Ipams\":[{\"Type\":\"Static\",\"Subnets\":[{\"IpAddressPrefix\":\"172.28.0.0/16\",\"Routes\":[{\"NextHop\":\"172.28.0.1\",\"DestinationPrefix\":\"0.0.0.0/0\"}]}]}]}", &nat, &err);
    CHECK_HR(hr, S_OK, "create NAT network"); drop(err); err = NULL;
    check(nat != NULL, "create returns a handle", NULL);
    hr = create_net(&intG, "{" SV ",\"Name\":\"t-int\",\"Type\":\"Internal\",\"Ipams\":[{\"Type\":\"Static\",\"Subnets\":[{\"IpAddressPrefix\":\"10.99.0.0/24\"}]}]}", &in, &err);
    CHECK_HR(hr, S_OK, "create Internal network"); drop(err); err = NULL;
    hr = create_net(&natG, "{" SV ",\"Name\":\"again\",\"Type\":\"NAT\"}", &h, &err);
    CHECK_HR(hr, (HRESULT)0x803B0010, "same id -> HCN_E_NETWORK_ALREADY_EXISTS");
    {
        jv *e = take(err); err = NULL; long long code = 0;
        check(e && jgeti(e, "ErrorCode", &code) && code == 0x803B0010 && jgets(e, "Error"), "ErrorRecord {ErrorCode, Error}", NULL);
        json_free(e);
    }
    GUID g = new_guid(tmp);
    CHECK_HR(create_net(&g, "{" SV ",\"Type\":\"Bogus\"}", &h, &err), (HRESULT)0x803B000B, "unknown Type -> HCN_E_INVALID_NETWORK_TYPE"); drop(err); err = NULL;
    CHECK_HR(create_net(&g, "{\"Type\":\"NAT\"}", &h, &err), (HRESULT)0x803B001B, "no SchemaVersion -> HCN_E_INVALID_JSON"); drop(err); err = NULL;
    CHECK_HR(create_net(&g, "not json", &h, &err), (HRESULT)0x803B001B, "not JSON -> HCN_E_INVALID_JSON"); drop(err); err = NULL;
    CHECK_HR(create_net(&g, "{" SV ",\"Type\":\"NAT\",\"Ipams\":[{\"Subnets\":[{\"IpAddressPrefix\":\"300.1.0.0/16\"}]}]}", &h, &err), (HRESULT)0x803B0030, "bad prefix -> HCN_E_INVALID_PREFIX"); drop(err); err = NULL;
    CHECK_HR(create_net(&g, "{" SV ",\"Type\":\"NAT\",\"Ipams\":[{\"Subnets\":[{\"IpAddressPrefix\":\"172.28.5.0/24\"}]}]}", &h, &err), (HRESULT)0x803B0032, "overlapping subnet -> HCN_E_INVALID_SUBNET"); drop(err); err = NULL;
    CHECK_HR(create_net(&g, "{" SV ",\"Type\":\"NAT\",\"Policies\":[{\"Type\":\"Nope\"}]}", &h, &err), (HRESULT)0x803B000E, "unknown network policy -> HCN_E_INVALID_POLICY_TYPE"); drop(err); err = NULL;

    /* enumerate + filters */
    CHECK_HR(HcnEnumerateNetworks(L"", &out, &err), S_OK, "enumerate all");
    check(list_len(out) == 2, "two networks", NULL); drop(err); err = NULL;
    HcnEnumerateNetworks(L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0,\"Filter\":\"{\\\"Name\\\":\\\"t-nat\\\"}\"}", &out, &err);
    check(list_has(out, natId), "filter by Name", NULL); drop(err); err = NULL;
    HcnEnumerateNetworks(L"{\"Filter\":\"{\\\"Type\\\":\\\"Internal\\\"}\"}", &out, &err);
    { jv *v = take(out); check(jlen(v) == 1 && !_stricmp(v->child->s, intId), "filter by Type", NULL); json_free(v); } drop(err); err = NULL;
    { char q[200]; snprintf(q, sizeof q, "{\"Filter\":\"{\\\"Id\\\":\\\"%s\\\"}\"}", natId); WCHAR *w = u2w(q); HcnEnumerateNetworks(w, &out, &err); free(w); }
    { jv *v = take(out); check(jlen(v) == 1, "filter by Id", NULL); json_free(v); } drop(err); err = NULL;
    CHECK_HR(HcnEnumerateNetworks(L"{nope", &out, &err), (HRESULT)0x803B001B, "bad query -> HCN_E_INVALID_JSON"); drop(out); out = NULL; drop(err); err = NULL;

    /* endpoints */
    GUID gA = new_guid(epA), gB = new_guid(epB), gC = new_guid(epC);
    HCN_ENDPOINT a = NULL, b = NULL, c = NULL;
    hr = create_ep(nat, &gA, "{" SV ",\"Name\":\"ep-a\",\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":6,\"InternalPort\":80,\"ExternalPort\":8080}},{\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Block\",\"Direction\":\"Out\",\"RemoteAddresses\":\"10.0.0.0/8,192.168.0.0/16\",\"Priority\":200}}]}", &a, &err);
    CHECK_HR(hr, S_OK, "create endpoint with PortMapping + ACL"); drop(err); err = NULL;
    HcnQueryEndpointProperties(a, L"", &out, &err);
    {
        jv *p = take(out); out = NULL;
        jv *cfg = p ? jget(p, "IpConfigurations") : NULL;
        const char *ip = cfg && cfg->child ? jgets(cfg->child, "IpAddress") : NULL, *mac = p ? jgets(p, "MacAddress") : NULL;
        check(ip && !strcmp(ip, "172.28.0.2"), "first endpoint gets 172.28.0.2", "got %s", ip ? ip : "(none)");
        check(mac && !strncmp(mac, "00-15-5D-", 9), "MAC from the Hyper-V range", "got %s", mac ? mac : "(none)");
        check(p && jgets(p, "HostComputeNetwork") && !_stricmp(jgets(p, "HostComputeNetwork"), natId), "HostComputeNetwork filled in", NULL);
        check(p && jlen(jget(p, "Policies")) == 2, "policies kept (ACL included)", NULL);
        json_free(p);
    }
    drop(err); err = NULL;
    hr = create_ep(nat, &gB, "{" SV ",\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":6,\"InternalPort\":81,\"ExternalPort\":8080}}]}", &b, &err);
    CHECK_HR(hr, (HRESULT)0x803B0013, "same external port/tcp -> HCN_E_PORT_ALREADY_EXISTS"); drop(err); err = NULL;
    hr = create_ep(nat, &gB, "{" SV ",\"MacAddress\":\"00-15-5D-AA-BB-CC\",\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":17,\"InternalPort\":81,\"ExternalPort\":8080}}]}", &b, &err);
    CHECK_HR(hr, S_OK, "same port over udp is fine"); drop(err); err = NULL;
    HcnQueryEndpointProperties(b, NULL, &out, &err);
    { jv *p = take(out); jv *cfg = jget(p, "IpConfigurations"); check(cfg && !strcmp(jgets(cfg->child, "IpAddress"), "172.28.0.3") && !strcmp(jgets(p, "MacAddress"), "00-15-5D-AA-BB-CC"), "second endpoint .3, MAC as asked", NULL); json_free(p); }
    drop(err); err = NULL;
    CHECK_HR(create_ep(in, &gC, "{" SV ",\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":6,\"InternalPort\":1,\"ExternalPort\":9}}]}", &c, &err), (HRESULT)0x803B0016, "PortMapping on Internal -> HCN_E_MAPPING_NOT_SUPPORTED"); drop(err); err = NULL;
    CHECK_HR(create_ep(in, &gC, "{" SV ",\"Policies\":[{\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Drop\",\"Direction\":\"Out\"}}]}", &c, &err), (HRESULT)0x803B000D, "bad ACL -> HCN_E_INVALID_POLICY"); drop(err); err = NULL;
    CHECK_HR(create_ep(in, &gC, "{" SV ",\"IpConfigurations\":[{\"IpAddress\":\"10.98.0.5\"}]}", &c, &err), (HRESULT)0x803B002F, "IP outside subnet -> HCN_E_ADDR_INVALID_OR_RESERVED"); drop(err); err = NULL;
    { char d[300]; snprintf(d, sizeof d, "{" SV ",\"HostComputeNetwork\":\"%s\"}", natId);
      CHECK_HR(create_ep(in, &gC, d, &c, &err), (HRESULT)0x803B000A, "HostComputeNetwork of another network -> HCN_E_INVALID_NETWORK"); drop(err); err = NULL; }
    CHECK_HR(create_ep(in, &gC, "{" SV ",\"IpConfigurations\":[{\"IpAddress\":\"10.99.0.7\",\"PrefixLength\":24}]}", &c, &err), S_OK, "static IP in subnet"); drop(err); err = NULL;
    HcnEnumerateEndpoints(L"{\"Filter\":\"{\\\"Name\\\":\\\"ep-a\\\"}\"}", &out, &err);
    check(list_has(out, epA), "endpoint filter by Name", NULL); drop(err); err = NULL;
    { char q[200]; snprintf(q, sizeof q, "{\"Filter\":{\"HostComputeNetwork\":\"%s\"}}", natId); WCHAR *w = u2w(q); HcnEnumerateEndpoints(w, &out, &err); free(w); }
    check(list_len(out) == 2, "endpoint filter by network (object Filter)", NULL); drop(err); err = NULL;
    CHECK_HR(HcnModifyEndpoint(a, L"{\"ResourceType\":\"Policy\",\"RequestType\":\"Add\",\"Settings\":{\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":17,\"InternalPort\":5,\"ExternalPort\":8080}}]}}", &err), (HRESULT)0x803B0013, "modify: conflicting mapping refused"); drop(err); err = NULL;
    CHECK_HR(HcnModifyEndpoint(a, L"{\"ResourceType\":\"Policy\",\"RequestType\":\"Add\",\"Settings\":{\"Policies\":[{\"Type\":\"PortMapping\",\"Settings\":{\"Protocol\":6,\"InternalPort\":5,\"ExternalPort\":8081}}]}}", &err), S_OK, "modify: add mapping"); drop(err); err = NULL;

    /* namespaces */
    HCN_NAMESPACE ns = NULL;
    GUID gN = new_guid(nsId);
    CHECK_HR(HcnCreateNamespace(&gN, L"{" SV "}", &ns, &err), S_OK, "create namespace"); drop(err); err = NULL;
    { char r[200]; snprintf(r, sizeof r, "{\"ResourceType\":\"Endpoint\",\"RequestType\":\"Add\",\"Settings\":{\"EndpointId\":\"%s\"}}", epA);
      CHECK_HR(modify_ns(ns, r, &err), S_OK, "attach endpoint"); drop(err); err = NULL;
      CHECK_HR(modify_ns(ns, r, &err), (HRESULT)0x803B0014, "attach twice -> HCN_E_ENDPOINT_ALREADY_ATTACHED"); drop(err); err = NULL; }
    HcnQueryNamespaceProperties(ns, NULL, &out, &err);
    { jv *p = take(out); jv *r = jget(p, "Resources"); jv *d = r && r->child ? jget(r->child, "Data") : NULL;
      check(d && !_stricmp(jgets(d, "ID"), epA) && !strcmp(jgets(r->child, "Type"), "Endpoint"), "namespace lists {Type: Endpoint, Data: {ID}}", NULL); json_free(p); }
    drop(err); err = NULL;
    HcnQueryEndpointProperties(a, NULL, &out, &err);
    { jv *p = take(out); check(jgets(p, "HostComputeNamespace") && !_stricmp(jgets(p, "HostComputeNamespace"), nsId), "endpoint shows its namespace", NULL); json_free(p); }
    drop(err); err = NULL;
    CHECK_HR(HcnDeleteEndpoint(&gA, &err), (HRESULT)0x803B002C, "delete attached endpoint -> HCN_E_ENTITY_HAS_REFERENCES"); drop(err); err = NULL;
    CHECK_HR(HcnDeleteNamespace(&gN, &err), (HRESULT)0x803B002C, "delete namespace with endpoints -> HCN_E_ENTITY_HAS_REFERENCES"); drop(err); err = NULL;
    { char r[200]; snprintf(r, sizeof r, "{\"ResourceType\":\"Endpoint\",\"RequestType\":\"Remove\",\"Settings\":{\"EndpointId\":\"%s\"}}", epA);
      CHECK_HR(modify_ns(ns, r, &err), S_OK, "detach endpoint"); drop(err); err = NULL;
      CHECK_HR(modify_ns(ns, r, &err), (HRESULT)0x803B0034, "detach again -> HCN_E_ENDPOINT_NOT_ATTACHED"); drop(err); err = NULL; }
    CHECK_HR(HcnDeleteNamespace(&gN, &err), S_OK, "delete namespace"); drop(err); err = NULL;
    CHECK_HR(HcnCloseNamespace(ns), S_OK, "close namespace");
    CHECK_HR(HcnCloseNamespace(ns), E_HANDLE, "close twice -> E_HANDLE");

    /* faults */
    json_free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcnDeleteEndpoint\",\"Nth\":2,\"HResult\":-2147024891,\"Message\":\"denied by test\"}}"));
    CHECK_HR(HcnDeleteNetwork(&natG, &err), (HRESULT)0x803B002C, "delete network with endpoints -> HCN_E_ENTITY_HAS_REFERENCES"); drop(err); err = NULL;
    CHECK_HR(HcnDeleteEndpoint(&gA, &err), S_OK, "delete endpoint (fault skips the 1st call)"); drop(err); err = NULL;
    CHECK_HR(HcnDeleteEndpoint(&gB, &err), E_ACCESSDENIED, "injected fault on the 2nd call");
    { jv *e = take(err); err = NULL; check(e && jgets(e, "Error") && strstr(jgets(e, "Error"), "denied by test"), "fault ErrorRecord carries the message", NULL); json_free(e); }
    CHECK_HR(HcnDeleteEndpoint(&gB, &err), S_OK, "fault used up"); drop(err); err = NULL;
    CHECK_HR(HcnQueryEndpointProperties(a, NULL, &out, &err), (HRESULT)0x803B0002, "query a deleted endpoint -> HCN_E_ENDPOINT_NOT_FOUND"); drop(out); out = NULL; drop(err); err = NULL;
    CHECK_HR(HcnOpenEndpoint(&gA, &h, &err), (HRESULT)0x803B0002, "open a deleted endpoint"); drop(err); err = NULL;

    /* load balancers, callbacks, guest network services */
    { char d[300], lbId[37]; GUID gL = new_guid(lbId); HCN_LOADBALANCER lb = NULL;
      snprintf(d, sizeof d, "{" SV ",\"HostComputeEndpoints\":[\"%s\"],\"FrontendVIPs\":[\"10.99.0.100\"],\"PortMappings\":[{\"Protocol\":6,\"InternalPort\":80,\"ExternalPort\":80}]}", epC);
      WCHAR *w = u2w(d); CHECK_HR(HcnCreateLoadBalancer(&gL, w, &lb, &err), S_OK, "create load balancer"); free(w); drop(err); err = NULL;
      HcnEnumerateLoadBalancers(NULL, &out, &err); check(list_has(out, lbId), "enumerate load balancers", NULL); drop(err); err = NULL;
      CHECK_HR(HcnDeleteEndpoint(&gC, &err), (HRESULT)0x803B002C, "endpoint used by a load balancer"); drop(err); err = NULL;
      CHECK_HR(HcnDeleteLoadBalancer(&gL, &err), S_OK, "delete load balancer"); drop(err); err = NULL;
      HcnCloseLoadBalancer(lb); }
    CHECK_HR(HcnDeleteEndpoint(&gC, &err), S_OK, "delete endpoint C"); drop(err); err = NULL;
    { HCN_CALLBACK cb = NULL;
      CHECK_HR(HcnRegisterServiceCallback((HCN_NOTIFICATION_CALLBACK)(void *)check, NULL, &cb), S_OK, "register service callback");
      CHECK_HR(HcnUnregisterServiceCallback(cb), S_OK, "unregister service callback"); }
    { char gid[37]; GUID gG = new_guid(gid); HCN_GUESTNETWORKSERVICE gns = NULL; HANDLE r1 = NULL, r2 = NULL; HCN_PORT_RANGE_RESERVATION rr;
      CHECK_HR(HcnCreateGuestNetworkService(&gG, L"{" SV "}", &gns, &err), S_OK, "create guest network service"); drop(err); err = NULL;
      CHECK_HR(HcnReserveGuestNetworkServicePort(gns, HCN_PORT_PROTOCOL_TCP, HCN_PORT_ACCESS_EXCLUSIVE, 5000, &r1), S_OK, "reserve port");
      CHECK_HR(HcnReserveGuestNetworkServicePort(gns, HCN_PORT_PROTOCOL_TCP, HCN_PORT_ACCESS_EXCLUSIVE, 5000, &r2), (HRESULT)0x803B0013, "reserve it again");
      CHECK_HR(HcnReserveGuestNetworkServicePortRange(gns, 10, &rr, &r2), S_OK, "reserve a range");
      ULONG n = 0; HCN_PORT_RANGE_ENTRY *ents = NULL;
      CHECK_HR(HcnEnumerateGuestNetworkPortReservations(&n, &ents), S_OK, "enumerate reservations");
      check(n == 2 && ents[0].StartingPort == 5000 && ents[1].EndingPort - ents[1].StartingPort == 9, "two reservations", "n=%lu", n);
      HcnFreeGuestNetworkPortReservations(ents);
      CHECK_HR(HcnReleaseGuestNetworkServicePortReservationHandle(r1), S_OK, "release port");
      CHECK_HR(HcnReleaseGuestNetworkServicePortReservationHandle(r2), S_OK, "release range");
      CHECK_HR(HcnDeleteGuestNetworkService(&gG, &err), S_OK, "delete guest network service"); drop(err); err = NULL;
      HcnCloseGuestNetworkService(gns); }

    /* cross-process: a child creates a network; this process opens and deletes it */
    {
        char cid[37]; GUID cg = new_guid(cid);
        WCHAR exe[MAX_PATH], cmd[MAX_PATH + 128];
        GetModuleFileNameW(NULL, exe, MAX_PATH);
        swprintf(cmd, MAX_PATH + 128, L"\"%ls\" child-create %hs child-net", exe, cid);
        STARTUPINFOW si = { .cb = sizeof si }; PROCESS_INFORMATION pi;
        DWORD code = 99;
        if (CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
            WaitForSingleObject(pi.hProcess, 30000); GetExitCodeProcess(pi.hProcess, &code);
            CloseHandle(pi.hProcess); CloseHandle(pi.hThread);
        }
        check(code == 0, "child process created a network", "exit %lu", code);
        HcnEnumerateNetworks(L"{\"Filter\":\"{\\\"Name\\\":\\\"child-net\\\"}\"}", &out, &err);
        check(list_has(out, cid), "the child's network is visible here", NULL); drop(err); err = NULL;
        HCN_NETWORK cn = NULL;
        CHECK_HR(HcnOpenNetwork(&cg, &cn, &err), S_OK, "open the child's network"); drop(err); err = NULL;
        CHECK_HR(HcnDeleteNetwork(&cg, &err), S_OK, "delete it"); drop(err); err = NULL;
        HcnCloseNetwork(cn);
    }

    /* cleanup and audit */
    CHECK_HR(HcnDeleteNetwork(&natG, &err), S_OK, "delete NAT network"); drop(err); err = NULL;
    CHECK_HR(HcnDeleteNetwork(&intG, &err), S_OK, "delete Internal network"); drop(err); err = NULL;
    CHECK_HR(HcnDeleteNetwork(&intG, &err), (HRESULT)0x803B0001, "delete again -> HCN_E_NETWORK_NOT_FOUND"); drop(err); err = NULL;
    HcnCloseEndpoint(a); HcnCloseEndpoint(b); HcnCloseEndpoint(c);
    CHECK_HR(HcnQueryNetworkProperties(nat, NULL, &out, &err), (HRESULT)0x803B0001, "query a deleted network"); drop(out); out = NULL; drop(err); err = NULL;
    HcnCloseNetwork(nat); HcnCloseNetwork(in);
    CHECK_HR(HcnQueryNetworkProperties(nat, NULL, &out, &err), E_HANDLE, "closed handle -> E_HANDLE");
    jv *au = control("{\"Op\":\"Audit\"}");
    {
        jv *s = jget(au, "Strings"), *n = jget(au, "NetworkHandles"), *e = jget(au, "EndpointHandles");
        long long live = -1, alloc = 0, no = 0, nc = 0, eo = 0, ec = 0;
        jgeti(s, "Live", &live); jgeti(s, "Allocated", &alloc);
        jgeti(n, "Opened", &no); jgeti(n, "Closed", &nc); jgeti(e, "Opened", &eo); jgeti(e, "Closed", &ec);
        check(live == 0 && alloc > 10, "audit: every string freed", "live %lld of %lld", live, alloc);
        check(no == nc && no == 3 && eo == ec && eo == 3, "audit: handles balanced", "net %lld/%lld ep %lld/%lld", no, nc, eo, ec);
    }
    json_free(au);
    HcnEnumerateNetworks(NULL, &out, &err); /* leak one string on purpose */
    au = control("{\"Op\":\"Audit\"}");
    { long long live = 0; jgeti(jget(au, "Strings"), "Live", &live); check(live == 1, "audit: an unfreed string is live", "live %lld", live); }
    json_free(au);
    CoTaskMemFree(out);
    { PWSTR junk = CoTaskMemAlloc(64); (void)junk; CoTaskMemFree(junk); } /* heap churn */
    au = control("{\"Op\":\"Audit\"}");
    { long long live = 9; jgeti(jget(au, "Strings"), "Live", &live); check(live == 0, "audit: freed again -> not live", "live %lld", live); }
    json_free(au);
    jv *st = control("{\"Op\":\"State\"}");
    check(st && jlen(jget(st, "Networks")) == 0 && jlen(jget(st, "Endpoints")) == 0 && jlen(jget(st, "Namespaces")) == 0, "state empty at the end", NULL);
    json_free(st);
    json_free(control("{\"Op\":\"Reset\"}"));
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
