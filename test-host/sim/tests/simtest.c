/* simtest.exe: self-test of the simulated computecore.dll + hcssim-service.exe.
   Prints "ok N - name" / "not ok N - name: detail" and "N passed, N failed". */
#include <windows.h>
#include <computecore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common.h"

HRESULT WINAPI HcsSimControl(PCWSTR request, PWSTR *response);

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

static WCHAR g_exe[MAX_PATH];
static const WCHAR *CONTAINER_DOC = L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"simtest\",\"Container\":{}}";
static const WCHAR *VM_DOC = L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"simtest-vm\",\"VirtualMachine\":{\"ComputeTopology\":{\"Memory\":{\"SizeInMB\":2048}}}}";

/* ---------------------------------------------------------------- helpers */
static char *control(const char *req) {
    WCHAR *w = u2w(req);
    PWSTR resp = NULL;
    HRESULT hr = HcsSimControl(w, &resp);
    free(w);
    char *u = resp ? w2u(resp) : NULL;
    if (resp) LocalFree(resp);
    if (FAILED(hr)) { printf("# control %s failed 0x%08lx %s\n", req, (unsigned long)hr, u ? u : ""); }
    return u;
}
static jv *control_json(const char *req) {
    char *u = control(req);
    char err[128];
    jv *v = u ? json_parse(u, err, sizeof err) : NULL;
    free(u);
    return v;
}
static jv *parse_w(PWSTR doc) {
    if (!doc) return NULL;
    char *u = w2u(doc);
    char err[128];
    jv *v = json_parse(u, err, sizeof err);
    free(u);
    return v;
}
/* waits for an operation, parses its document, frees the string */
static HRESULT wait_doc(HCS_OPERATION op, DWORD ms, jv **out) {
    PWSTR doc = NULL;
    HRESULT hr = HcsWaitForOperationResult(op, ms, &doc);
    if (out) *out = parse_w(doc);
    if (doc) LocalFree(doc);
    return hr;
}
static HRESULT create_sys(const WCHAR *id, const WCHAR *doc, HCS_SYSTEM *sys) {
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HRESULT hr = HcsCreateComputeSystem(id, doc, op, NULL, sys);
    if (SUCCEEDED(hr)) hr = wait_doc(op, 10000, NULL);
    HcsCloseOperation(op);
    return hr;
}
typedef HRESULT (WINAPI *sysfn)(HCS_SYSTEM, HCS_OPERATION, PCWSTR);
static HRESULT sys_do(sysfn fn, HCS_SYSTEM sys, const WCHAR *opts, jv **out) {
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (out) *out = NULL;
    HRESULT hr = fn(sys, op, opts);
    if (SUCCEEDED(hr)) hr = wait_doc(op, 10000, out);
    HcsCloseOperation(op);
    return hr;
}
static char *sys_state(HCS_SYSTEM sys) {
    jv *d = NULL;
    HRESULT hr = sys_do(HcsGetComputeSystemProperties, sys, NULL, &d);
    char *s = xstrdup(SUCCEEDED(hr) && jgets(d, "State") ? jgets(d, "State") : "(error)");
    json_free(d);
    return s;
}
static int state_is(HCS_SYSTEM sys, const char *want, const char *name) {
    char *s = sys_state(sys);
    int ok = !strcmp(s, want);
    check(ok, name, "state %s, want %s", s, want);
    free(s);
    return ok;
}
static HRESULT start_sys(const WCHAR *id, const WCHAR *doc, HCS_SYSTEM *sys) {
    HRESULT hr = create_sys(id, doc, sys);
    if (SUCCEEDED(hr)) hr = sys_do(HcsStartComputeSystem, *sys, NULL, NULL);
    return hr;
}
static void terminate_close(HCS_SYSTEM sys) {
    sys_do(HcsTerminateComputeSystem, sys, NULL, NULL);
    HcsCloseComputeSystem(sys);
}

typedef struct {
    HCS_PROCESS proc;
    HCS_PROCESS_INFORMATION pi;
    HRESULT hr;
} proc_t;
static HRESULT create_proc(HCS_SYSTEM sys, const char *paramsUtf8, proc_t *p) {
    memset(p, 0, sizeof *p);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    WCHAR *w = u2w(paramsUtf8);
    HRESULT hr = HcsCreateProcess(sys, w, op, NULL, &p->proc);
    free(w);
    if (SUCCEEDED(hr)) {
        PWSTR doc = NULL;
        hr = HcsWaitForOperationResultAndProcessInfo(op, 10000, &p->pi, &doc);
        if (doc) LocalFree(doc);
    }
    HcsCloseOperation(op);
    p->hr = hr;
    return hr;
}
static void close_proc(proc_t *p) {
    if (p->pi.StdInput) CloseHandle(p->pi.StdInput);
    if (p->pi.StdOutput) CloseHandle(p->pi.StdOutput);
    if (p->pi.StdError) CloseHandle(p->pi.StdError);
    if (p->proc) HcsCloseProcess(p->proc);
    memset(p, 0, sizeof *p);
}
static char *read_all(HANDLE h) {
    sb b; sb_init(&b);
    char buf[512]; DWORD n;
    while (ReadFile(h, buf, sizeof buf, &n, NULL) && n) sb_putn(&b, buf, n);
    return sb_take(&b);
}
static void json_escape_path(const WCHAR *in, char *out, size_t n) {
    char *u = w2u(in);
    size_t j = 0;
    for (char *p = u; *p && j + 2 < n; p++) { if (*p == '\\') out[j++] = '\\'; out[j++] = *p; }
    out[j] = 0;
    free(u);
}
static char g_exeJson[MAX_PATH * 2];

/* event collector */
typedef struct {
    CRITICAL_SECTION cs;
    int n;
    HCS_EVENT_TYPE types[32];
    char data[32][512];
    HCS_OPERATION ops[32];
    HANDLE ev;
    DWORD thread;
} events_t;
static void events_init(events_t *e) { memset(e, 0, sizeof *e); InitializeCriticalSection(&e->cs); e->ev = CreateEventW(NULL, FALSE, FALSE, NULL); }
static void events_free(events_t *e) { DeleteCriticalSection(&e->cs); CloseHandle(e->ev); }
static void CALLBACK event_cb(HCS_EVENT *ev, void *ctx) {
    events_t *e = ctx;
    EnterCriticalSection(&e->cs);
    if (e->n < 32) {
        e->types[e->n] = ev->Type;
        e->ops[e->n] = ev->Operation;
        e->data[e->n][0] = 0;
        if (ev->EventData) { char *u = w2u(ev->EventData); snprintf(e->data[e->n], 512, "%s", u); free(u); }
        e->n++;
    }
    e->thread = GetCurrentThreadId();
    LeaveCriticalSection(&e->cs);
    SetEvent(e->ev);
}
static int events_wait_type(events_t *e, HCS_EVENT_TYPE t, DWORD ms, int *idx) {
    ULONGLONG end = GetTickCount64() + ms;
    for (;;) {
        EnterCriticalSection(&e->cs);
        for (int i = 0; i < e->n; i++) if (e->types[i] == t) { if (idx) *idx = i; LeaveCriticalSection(&e->cs); return 1; }
        LeaveCriticalSection(&e->cs);
        ULONGLONG now = GetTickCount64();
        if (now >= end) return 0;
        WaitForSingleObject(e->ev, (DWORD)(end - now));
    }
}

static DWORD run_child(const WCHAR *args, DWORD timeoutMs) {
    WCHAR cmd[2048];
    swprintf(cmd, 2048, L"\"%ls\" %ls", g_exe, args);
    STARTUPINFOW si; memset(&si, 0, sizeof si); si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(g_exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 0xFFFFFFFF;
    DWORD code = 0xFFFFFFFE;
    if (WaitForSingleObject(pi.hProcess, timeoutMs) == WAIT_OBJECT_0) GetExitCodeProcess(pi.hProcess, &code);
    else TerminateProcess(pi.hProcess, 99);
    CloseHandle(pi.hProcess); CloseHandle(pi.hThread);
    return code;
}

/* ---------------------------------------------------------------- child modes */
static int child_main(int argc, WCHAR **argv) {
    const WCHAR *mode = argv[1];
    if (!wcscmp(mode, L"child-cat")) {
        char buf[512]; DWORD n, w;
        HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
        while (ReadFile(in, buf, sizeof buf, &n, NULL) && n) WriteFile(out, buf, n, &w, NULL);
        return 0;
    }
    if (!wcscmp(mode, L"child-sleep")) { Sleep(60000); return 0; }
    if (!wcscmp(mode, L"child-exit")) return argc > 2 ? _wtoi(argv[2]) : 0;
    if (!wcscmp(mode, L"child-create") && argc > 3) {
        /* creates (and starts) a system; with flag 1 it sets ShouldTerminateOnLastHandleClosed; exits without closing */
        WCHAR doc[512];
        swprintf(doc, 512, L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"simtest-child\",\"ShouldTerminateOnLastHandleClosed\":%ls,\"Container\":{}}",
                 _wtoi(argv[3]) ? L"true" : L"false");
        HCS_SYSTEM sys;
        HRESULT hr = start_sys(argv[2], doc, &sys);
        if (FAILED(hr)) { printf("child-create failed 0x%08lx\n", (unsigned long)hr); return 2; }
        return 0; /* no close: the process exit drops the handle */
    }
    if (!wcscmp(mode, L"child-open") && argc > 2) {
        HCS_SYSTEM sys;
        HRESULT hr = HcsOpenComputeSystem(argv[2], GENERIC_ALL, &sys);
        if (FAILED(hr)) return (int)(hr & 0xFFFF) | 0x10000;
        HcsCloseComputeSystem(sys);
        return 0;
    }
    if (!wcscmp(mode, L"child-killproc") && argc > 3) {
        /* opens a process of another client's system by pid and terminates it */
        HCS_SYSTEM sys;
        HCS_PROCESS proc;
        if (FAILED(HcsOpenComputeSystem(argv[2], GENERIC_ALL, &sys))) return 3;
        HRESULT hr = HcsOpenProcess(sys, (DWORD)_wtoi(argv[3]), GENERIC_ALL, &proc);
        if (FAILED(hr)) { HcsCloseComputeSystem(sys); return 4; }
        HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
        HcsTerminateProcess(proc, op, NULL);
        hr = HcsWaitForOperationResult(op, 10000, NULL);
        HcsCloseOperation(op);
        HRESULT hw = HcsWaitForProcessExit(proc, 10000, NULL);
        HcsCloseProcess(proc);
        HcsCloseComputeSystem(sys);
        return SUCCEEDED(hr) && SUCCEEDED(hw) ? 0 : 5;
    }
    if (!wcscmp(mode, L"child-terminate") && argc > 2) {
        HCS_SYSTEM sys;
        HRESULT hr = HcsOpenComputeSystem(argv[2], GENERIC_ALL, &sys);
        if (FAILED(hr)) return 3;
        hr = sys_do(HcsTerminateComputeSystem, sys, NULL, NULL);
        HcsCloseComputeSystem(sys);
        return SUCCEEDED(hr) ? 0 : 4;
    }
    return 1;
}

/* ---------------------------------------------------------------- tests */
typedef struct { void *ctx; DWORD thread; HRESULT hr; int calls; HANDLE ev; PWSTR doc; } opcb_t;
static void CALLBACK op_cb(HCS_OPERATION op, void *ctx) {
    opcb_t *c = ctx;
    c->ctx = ctx;
    c->thread = GetCurrentThreadId();
    c->calls++;
    c->hr = HcsGetOperationResult(op, &c->doc);
    SetEvent(c->ev);
}

static void test_operations(void) {
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    PWSTR doc = (PWSTR)1;
    CHECK_HR(HcsGetOperationResult(op, &doc), HCS_E_OPERATION_NOT_STARTED, "unused operation: GetOperationResult is NOT_STARTED");
    check(doc == NULL, "unused operation: result document is NULL", NULL);
    CHECK_HR(HcsWaitForOperationResult(op, 10, NULL), HCS_E_OPERATION_NOT_STARTED, "unused operation: Wait is NOT_STARTED");
    check(HcsGetOperationId(op) == HCS_INVALID_OPERATION_ID, "unused operation: id is HCS_INVALID_OPERATION_ID", NULL);
    check(HcsGetOperationType(op) == HcsOperationTypeNone, "unused operation: type None", NULL);
    int x;
    CHECK_HR(HcsSetOperationContext(op, &x), S_OK, "SetOperationContext");
    check(HcsGetOperationContext(op) == &x, "GetOperationContext returns it", NULL);
    HcsCloseOperation(op);
    CHECK_HR(HcsGetOperationResult(op, &doc), E_HANDLE, "closed operation gives E_HANDLE");
    CHECK_HR(HcsGetOperationResult((HCS_OPERATION)(ULONG_PTR)0x12345678, &doc), E_HANDLE, "garbage operation pointer gives E_HANDLE");
    CHECK_HR(HcsStartComputeSystem((HCS_SYSTEM)(ULONG_PTR)0x1234, NULL, NULL), E_HANDLE, "garbage system handle gives E_HANDLE");

    /* async completion through the callback, on another thread, with the context; never instant */
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CompletionDelayMs\":50}}"));
    opcb_t c; memset(&c, 0, sizeof c);
    c.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    op = HcsCreateOperation(&c, op_cb);
    HCS_SYSTEM sys = NULL;
    HRESULT hr = HcsCreateComputeSystem(L"ops-1", CONTAINER_DOC, op, NULL, &sys);
    CHECK_HR(hr, S_OK, "HcsCreateComputeSystem accepted");
    check(sys != NULL, "HcsCreateComputeSystem returns the handle at once", NULL);
    CHECK_HR(HcsGetOperationResult(op, NULL), HCS_E_OPERATION_PENDING, "result is pending right after the call");
    check(c.calls == 0, "callback did not run inside the call", NULL);
    check(HcsGetOperationType(op) == HcsOperationTypeCreate, "operation type Create", NULL);
    check(HcsGetOperationId(op) != HCS_INVALID_OPERATION_ID, "operation id assigned", NULL);
    check(HcsGetComputeSystemFromOperation(op) == sys, "HcsGetComputeSystemFromOperation", NULL);
    check(HcsGetProcessFromOperation(op) == NULL, "HcsGetProcessFromOperation is NULL for system ops", NULL);
    HCS_SYSTEM sys2;
    CHECK_HR(HcsCreateComputeSystem(L"ops-x", CONTAINER_DOC, op, NULL, &sys2), HCS_E_OPERATION_ALREADY_STARTED, "reusing a pending operation: ALREADY_STARTED");
    DWORD w = WaitForSingleObject(c.ev, 10000);
    check(w == WAIT_OBJECT_0, "completion callback ran", NULL);
    Sleep(50);
    check(c.calls == 1, "completion callback ran exactly once", "calls=%d", c.calls);
    check(c.ctx == &c, "callback got its context", NULL);
    check(c.thread && c.thread != GetCurrentThreadId(), "callback ran on a DLL thread, not the caller's", NULL);
    CHECK_HR(c.hr, S_OK, "HcsGetOperationResult inside the callback");
    if (c.doc) LocalFree(c.doc);
    CHECK_HR(HcsGetOperationResultAndProcessInfo(op, NULL, NULL), E_INVALIDARG, "...AndProcessInfo on a Create operation: E_INVALIDARG");
    HcsCloseOperation(op);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CompletionDelayMs\":2}}"));

    /* operation reused sequentially (the docs' tutorial pattern) */
    op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), S_OK, "start accepted");
    CHECK_HR(HcsWaitForOperationResult(op, INFINITE, NULL), S_OK, "wait INFINITE");
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), S_OK, "reusing a completed operation");
    jv *d = NULL;
    CHECK_HR(wait_doc(op, 5000, &d), S_OK, "properties");
    check(d && jgets(d, "Id") && !strcmp(jgets(d, "Id"), "ops-1") && jgets(d, "State") && !strcmp(jgets(d, "State"), "Running") &&
          jgets(d, "SystemType") && !strcmp(jgets(d, "SystemType"), "Container") && jgets(d, "RuntimeId") &&
          jgets(d, "RuntimeOsType") && jgets(d, "Owner") && !strcmp(jgets(d, "Owner"), "simtest") && jgets(d, "Name"),
          "default properties document", NULL);
    json_free(d);
    HcsCloseOperation(op);

    /* event-callback delivery of operation completions */
    events_t e; events_init(&e);
    CHECK_HR(HcsSetComputeSystemCallback(sys, HcsEventOptionEnableOperationCallbacks, &e, event_cb), S_OK, "register callback with EnableOperationCallbacks");
    op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), S_OK, "properties (no op callback)");
    int idx = -1;
    check(events_wait_type(&e, HcsEventOperationCallback, 5000, &idx) && e.ops[idx] == op, "HcsEventOperationCallback delivered with Operation set", NULL);
    HcsCloseOperation(op);
    opcb_t c2; memset(&c2, 0, sizeof c2); c2.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    op = HcsCreateOperation(&c2, op_cb);
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, "op with own callback on such a system: CALLBACK_ALREADY_SET");
    HcsCloseOperation(op);
    CloseHandle(c2.ev);
    terminate_close(sys);
    events_free(&e);
    CloseHandle(c.ev);
}

static void test_wait_timeout_and_cancel(void) {
    HCS_SYSTEM sys;
    create_sys(L"cancel-1", CONTAINER_DOC, &sys);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetComputeSystemProperties\",\"Action\":\"Hang\"}}"));
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), S_OK, "hung call accepted");
    ULONGLONG t0 = GetTickCount64();
    CHECK_HR(HcsWaitForOperationResult(op, 150, NULL), HCS_E_OPERATION_TIMEOUT, "wait with timeout: OPERATION_TIMEOUT");
    check(GetTickCount64() - t0 >= 100, "wait really waited", NULL);
    CHECK_HR(HcsWaitForOperationResult(op, 50, NULL), HCS_E_OPERATION_TIMEOUT, "waiting again is allowed");
    CHECK_HR(HcsCancelOperation(op), S_OK, "cancel a pending operation: S_OK");
    jv *d = NULL;
    CHECK_HR(wait_doc(op, 5000, &d), HCSSIM_E_CANCELLED, "cancelled operation completes with ERROR_CANCELLED");
    long long v = 0;
    check(d && jgeti(d, "Error", &v) && (HRESULT)v == HCSSIM_E_CANCELLED, "cancelled operation has a ResultError", NULL);
    json_free(d);
    CHECK_HR(HcsCancelOperation(op), HCS_E_OPERATION_ALREADY_CANCELLED, "second cancel: ALREADY_CANCELLED");
    HcsCloseOperation(op);
    op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsCancelOperation(op), HCS_E_OPERATION_NOT_STARTED, "cancel unused operation: NOT_STARTED");
    HcsGetComputeSystemProperties(sys, op, NULL);
    wait_doc(op, 5000, NULL);
    CHECK_HR(HcsCancelOperation(op), S_OK, "cancel completed operation: S_OK");
    CHECK_HR(HcsGetOperationResult(op, NULL), S_OK, "completed operation unchanged by cancel");
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CancelNotImplemented\":true}}"));
    CHECK_HR(HcsCancelOperation(op), E_NOTIMPL, "CancelNotImplemented: E_NOTIMPL");
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CancelNotImplemented\":false}}"));
    HcsCloseOperation(op);

    /* closing a pending operation abandons it: the work still happens, no callback */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsStartComputeSystem\",\"Action\":\"Delay\",\"DelayMs\":300}}"));
    opcb_t c; memset(&c, 0, sizeof c); c.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    op = HcsCreateOperation(&c, op_cb);
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), S_OK, "delayed start accepted");
    HcsCloseOperation(op);
    Sleep(600);
    check(c.calls == 0, "abandoned operation: callback not called after close", NULL);
    state_is(sys, "Running", "abandoned operation: the work still happened");
    CloseHandle(c.ev);
    terminate_close(sys);
}

static void test_states(void) {
    HCS_SYSTEM sys;
    CHECK_HR(create_sys(L"st-1", VM_DOC, &sys), S_OK, "create VM");
    state_is(sys, "Created", "state Created");
    events_t e; events_init(&e);
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, &e, event_cb);
    CHECK_HR(sys_do(HcsPauseComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "pause Created: INVALID_STATE");
    CHECK_HR(sys_do(HcsResumeComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "resume Created: INVALID_STATE");
    CHECK_HR(sys_do(HcsShutDownComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "shutdown Created: INVALID_STATE");
    CHECK_HR(sys_do(HcsStartComputeSystem, sys, NULL, NULL), S_OK, "start");
    state_is(sys, "Running", "state Running");
    CHECK_HR(sys_do(HcsStartComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "start Running: INVALID_STATE");
    CHECK_HR(sys_do(HcsResumeComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "resume Running: INVALID_STATE");
    CHECK_HR(sys_do(HcsSaveComputeSystem, sys, L"{\"SaveType\":\"ToFile\",\"SaveStateFilePath\":\"C:\\\\simtest-save.vmrs\"}", NULL), HCS_E_INVALID_STATE, "save Running: INVALID_STATE");
    CHECK_HR(sys_do(HcsPauseComputeSystem, sys, NULL, NULL), S_OK, "pause");
    state_is(sys, "Paused", "state Paused");
    CHECK_HR(sys_do(HcsPauseComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "pause Paused: INVALID_STATE");
    DeleteFileW(L"C:\\simtest-save.vmrs");
    CHECK_HR(sys_do(HcsSaveComputeSystem, sys, L"{\"SaveType\":\"ToFile\",\"SaveStateFilePath\":\"C:\\\\simtest-save.vmrs\"}", NULL), S_OK, "save ToFile while Paused");
    check(GetFileAttributesW(L"C:\\simtest-save.vmrs") != INVALID_FILE_ATTRIBUTES, "save wrote SaveStateFilePath", NULL);
    state_is(sys, "Paused", "still Paused after save to file");
    CHECK_HR(sys_do(HcsResumeComputeSystem, sys, NULL, NULL), S_OK, "resume");
    state_is(sys, "Running", "Running after resume");
    CHECK_HR(sys_do(HcsShutDownComputeSystem, sys, NULL, NULL), S_OK, "shutdown");
    state_is(sys, "Stopped", "Stopped after shutdown");
    int idx;
    check(events_wait_type(&e, HcsEventSystemExited, 5000, &idx) && strstr(e.data[idx], "\"ExitType\":\"GracefulExit\"") && strstr(e.data[idx], "\"Status\":0"),
          "SystemExited event with GracefulExit", "%s", e.n ? e.data[0] : "(none)");
    PWSTR doc = NULL;
    CHECK_HR(HcsWaitForComputeSystemExit(sys, 1000, &doc), S_OK, "HcsWaitForComputeSystemExit after stop");
    jv *d = parse_w(doc);
    check(d && jgets(d, "ExitType") && !strcmp(jgets(d, "ExitType"), "GracefulExit"), "exit status document", NULL);
    json_free(d); if (doc) LocalFree(doc);
    CHECK_HR(sys_do(HcsShutDownComputeSystem, sys, NULL, NULL), HCS_E_SYSTEM_ALREADY_STOPPED, "shutdown Stopped: ALREADY_STOPPED");
    CHECK_HR(sys_do(HcsTerminateComputeSystem, sys, NULL, NULL), HCS_E_SYSTEM_ALREADY_STOPPED, "terminate Stopped: ALREADY_STOPPED");
    CHECK_HR(sys_do(HcsStartComputeSystem, sys, NULL, NULL), HCS_E_SYSTEM_ALREADY_STOPPED, "start Stopped: ALREADY_STOPPED");
    CHECK_HR(sys_do(HcsPauseComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "pause Stopped: INVALID_STATE");
    HcsCloseComputeSystem(sys);
    events_free(&e);
    HCS_SYSTEM s2;
    CHECK_HR(HcsOpenComputeSystem(L"st-1", GENERIC_ALL, &s2), HCS_E_SYSTEM_NOT_FOUND, "stopped system removed when its last handle closed");

    /* Created -> Terminate */
    CHECK_HR(create_sys(L"st-2", CONTAINER_DOC, &sys), S_OK, "create");
    events_init(&e);
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, &e, event_cb);
    CHECK_HR(sys_do(HcsTerminateComputeSystem, sys, NULL, NULL), S_OK, "terminate Created");
    check(events_wait_type(&e, HcsEventSystemExited, 5000, &idx) && strstr(e.data[idx], "ForcedExit"), "terminate gives ForcedExit", NULL);
    HcsCloseComputeSystem(sys);
    events_free(&e);

    /* crash */
    CHECK_HR(start_sys(L"st-3", CONTAINER_DOC, &sys), S_OK, "create+start");
    events_init(&e);
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, &e, event_cb);
    CHECK_HR(sys_do(HcsCrashComputeSystem, sys, L"{\"Type\":\"CrashGuest\"}", NULL), S_OK, "crash");
    events_wait_type(&e, HcsEventSystemExited, 5000, &idx);
    check(e.n >= 3 && e.types[0] == HcsEventSystemCrashInitiated && e.types[1] == HcsEventSystemCrashReport && e.types[2] == HcsEventSystemExited &&
          strstr(e.data[2], "UnexpectedExit"), "crash: CrashInitiated, CrashReport, then SystemExited(UnexpectedExit)", "n=%d", e.n);
    HcsCloseComputeSystem(sys);
    events_free(&e);

    /* save as template */
    CHECK_HR(start_sys(L"st-4", CONTAINER_DOC, &sys), S_OK, "create+start");
    sys_do(HcsPauseComputeSystem, sys, NULL, NULL);
    CHECK_HR(sys_do(HcsSaveComputeSystem, sys, L"{\"SaveType\":\"AsTemplate\"}", NULL), S_OK, "save AsTemplate");
    state_is(sys, "SavedAsTemplate", "state SavedAsTemplate");
    CHECK_HR(sys_do(HcsResumeComputeSystem, sys, NULL, NULL), HCS_E_INVALID_STATE, "resume SavedAsTemplate: INVALID_STATE");
    CHECK_HR(sys_do(HcsTerminateComputeSystem, sys, NULL, NULL), S_OK, "terminate SavedAsTemplate");
    state_is(sys, "Stopped", "Stopped");
    HcsCloseComputeSystem(sys);

    /* bad documents, duplicates, unknown ids */
    CHECK_HR(create_sys(L"st-5", L"{not json", &sys), HCS_E_INVALID_JSON, "invalid JSON: INVALID_JSON");
    HcsCloseComputeSystem(sys);
    CHECK_HR(create_sys(L"st-5", L"{\"Container\":{}}", &sys), HCS_E_INVALID_JSON, "no SchemaVersion: INVALID_JSON");
    HcsCloseComputeSystem(sys);
    CHECK_HR(create_sys(L"st-5", L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1}}", &sys), HCS_E_INVALID_JSON, "no Container/VirtualMachine/HostedSystem: INVALID_JSON");
    HcsCloseComputeSystem(sys);
    CHECK_HR(create_sys(L"st-6", CONTAINER_DOC, &sys), S_OK, "create st-6");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM dup;
    HcsCreateComputeSystem(L"st-6", CONTAINER_DOC, op, NULL, &dup);
    jv *err = NULL;
    CHECK_HR(wait_doc(op, 5000, &err), HCS_E_SYSTEM_ALREADY_EXISTS, "duplicate id: SYSTEM_ALREADY_EXISTS");
    long long v = 0;
    jv *evs = jget(err, "ErrorEvents");
    check(err && jgeti(err, "Error", &v) && (HRESULT)v == HCS_E_SYSTEM_ALREADY_EXISTS && jgets(err, "ErrorMessage") && evs && evs->child &&
          jgets(evs->child, "Provider"), "failed operation carries a ResultError", NULL);
    json_free(err);
    HcsCloseOperation(op);
    HcsCloseComputeSystem(dup);
    CHECK_HR(HcsOpenComputeSystem(L"no-such-system", GENERIC_ALL, &dup), HCS_E_SYSTEM_NOT_FOUND, "open unknown id: SYSTEM_NOT_FOUND");
    terminate_close(sys);
    CHECK_HR(HcsStartComputeSystem(sys, NULL, NULL), E_HANDLE, "closed system handle: E_HANDLE");
}

static void test_properties_modify_enumerate(void) {
    HCS_SYSTEM sys;
    CHECK_HR(start_sys(L"pm-1", VM_DOC, &sys), S_OK, "create+start VM");
    proc_t p;
    char params[1024];
    snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" child-sleep\"}", g_exeJson);
    CHECK_HR(create_proc(sys, params, &p), S_OK, "start a sleeping process");
    jv *d = NULL;
    CHECK_HR(sys_do(HcsGetComputeSystemProperties, sys, L"{\"PropertyTypes\":[\"Statistics\",\"ProcessList\",\"Memory\"]}", &d), S_OK, "query Statistics, ProcessList, Memory");
    { char *dump = json_dump(d); printf("# properties: %s\n", dump); free(dump); }
    jv *st = jget(d, "Statistics"), *pl = jget(d, "ProcessList"), *mem = jget(d, "Memory");
    long long v;
    check(st && jgets(st, "Timestamp") && jgets(st, "ContainerStartTime") && jgeti(st, "Uptime100ns", &v) &&
          jgeti(jget(st, "Processor"), "TotalRuntime100ns", &v) && jgeti(jget(st, "Memory"), "MemoryUsageCommitBytes", &v) &&
          jgeti(jget(st, "Storage"), "ReadSizeBytes", &v), "Statistics fields", NULL);
    int found = 0;
    for (jv *x = pl ? pl->child : NULL; x; x = x->next) if (jgeti(x, "ProcessId", &v) && (DWORD)v == p.pi.ProcessId && jgets(x, "ImageName")) found = 1;
    check(found, "ProcessList lists the live process", NULL);
    check(mem && jgeti(mem, "VirtualNodeCount", &v) && jgeti(jget(mem, "VirtualMachineMemory"), "AssignedMemory", &v) && v == 2048,
          "Memory: AssignedMemory from the document (MB)", NULL);
    json_free(d);
    CHECK_HR(sys_do(HcsGetComputeSystemProperties, sys, L"{\"PropertyTypes\":[\"Bogus\"]}", &d), E_INVALIDARG, "unknown property type: E_INVALIDARG");
    check(d && jget(d, "ErrorMessage"), "unknown property type has a ResultError", NULL);
    json_free(d);

    /* modify */
    CHECK_HR(HcsStartComputeSystem(NULL, NULL, NULL), E_HANDLE, "null system handle: E_HANDLE");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HcsModifyComputeSystem(sys, op, L"{\"ResourcePath\":\"VirtualMachine/ComputeTopology/Memory/SizeInMB\",\"RequestType\":\"Update\",\"Settings\":4096}", NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "modify memory size");
    HcsModifyComputeSystem(sys, op, L"{\"Settings\":1}", NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), HCS_E_INVALID_JSON, "modify without ResourcePath/GuestRequest: INVALID_JSON");
    HcsModifyComputeSystem(sys, op, L"{\"ResourcePath\":\"x\",\"RequestType\":\"Frob\"}", NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), HCS_E_INVALID_JSON, "modify with unknown RequestType: INVALID_JSON");
    HcsModifyComputeSystem(sys, op, L"{\"GuestRequest\":{\"ResourceType\":\"Network\"}}", NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "modify GuestRequest");
    HcsCloseOperation(op);
    CHECK_HR(sys_do(HcsGetComputeSystemProperties, sys, L"{\"PropertyTypes\":[\"Memory\"]}", &d), S_OK, "query Memory");
    check(jgeti(jget(jget(d, "Memory"), "VirtualMachineMemory"), "AssignedMemory", &v) && v == 4096, "memory size updated by modify", "v=%lld", v);
    json_free(d);
    jv *ss = control_json("{\"Op\":\"ServiceState\"}");
    int recorded = 0;
    for (jv *s = jget(ss, "Systems") ? jget(ss, "Systems")->child : NULL; s; s = s->next)
        if (jgets(s, "Id") && !strcmp(jgets(s, "Id"), "pm-1")) recorded = jlen(jget(s, "ModifyRequests"));
    check(recorded == 2, "ServiceState records the accepted modify requests", "recorded=%d", recorded);
    json_free(ss);

    /* enumerate */
    HCS_SYSTEM s2;
    create_sys(L"pm-2", CONTAINER_DOC, &s2);
    op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsEnumerateComputeSystems(NULL, op), S_OK, "enumerate accepted");
    CHECK_HR(wait_doc(op, 5000, &d), S_OK, "enumerate all");
    check(d && d->t == J_ARR && jlen(d) >= 2, "enumerate returns an array", NULL);
    json_free(d);
    HcsEnumerateComputeSystems(L"{\"Owners\":[\"simtest-vm\"]}", op);
    wait_doc(op, 5000, &d);
    check(d && jlen(d) == 1 && !strcmp(jgets(d->child, "Id"), "pm-1") && jgets(d->child, "State") && jgets(d->child, "RuntimeId") &&
          jgets(d->child, "SystemType") && !strcmp(jgets(d->child, "SystemType"), "VirtualMachine"), "enumerate filtered by Owners", NULL);
    json_free(d);
    HcsEnumerateComputeSystems(L"{\"Types\":[\"Container\"],\"Ids\":[\"pm-2\"]}", op);
    wait_doc(op, 5000, &d);
    check(d && jlen(d) == 1 && !strcmp(jgets(d->child, "Id"), "pm-2"), "enumerate filtered by Types and Ids", NULL);
    json_free(d);
    HcsCloseOperation(op);
    terminate_close(s2);
    CHECK_HR(sys_do(HcsTerminateComputeSystem, sys, NULL, NULL), S_OK, "terminate");
    op = HcsCreateOperation(NULL, NULL);
    HcsModifyComputeSystem(sys, op, L"{\"ResourcePath\":\"x\"}", NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), HCS_E_SYSTEM_ALREADY_STOPPED, "modify Stopped: ALREADY_STOPPED");
    HcsCloseOperation(op);
    PWSTR doc;
    CHECK_HR(HcsWaitForProcessExit(p.proc, 5000, &doc), S_OK, "terminating the system killed its process");
    if (doc) LocalFree(doc);
    close_proc(&p);
    HcsCloseComputeSystem(sys);

    /* service-level functions */
    PWSTR r = NULL;
    CHECK_HR(HcsGetServiceProperties(NULL, &r), S_OK, "HcsGetServiceProperties");
    d = parse_w(r); if (r) LocalFree(r);
    jv *props = jget(d, "Properties");
    jv *vers = props && props->child ? jget(props->child, "SupportedSchemaVersions") : NULL;
    check(vers && jlen(vers) == 6, "six supported schema versions by default", NULL);
    json_free(d);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"SupportedSchemaVersions\":[{\"Major\":2,\"Minor\":1}]}}"));
    {
        HCS_SYSTEM sv;
        CHECK_HR(create_sys(L"sv-1", L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":5},\"Container\":{}}", &sv), HCS_E_INVALID_JSON, "document newer than the supported schema versions: INVALID_JSON");
        HcsCloseComputeSystem(sv);
        CHECK_HR(create_sys(L"sv-1", L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Container\":{}}", &sv), S_OK, "2.0 document accepted when 2.1 is supported");
        terminate_close(sv);
    }
    HcsGetServiceProperties(L"{\"PropertyTypes\":[\"Basic\"]}", &r);
    d = parse_w(r); if (r) LocalFree(r);
    props = jget(d, "Properties");
    vers = props && props->child ? jget(props->child, "SupportedSchemaVersions") : NULL;
    check(vers && jlen(vers) == 1, "SupportedSchemaVersions configurable", NULL);
    json_free(d);
    DeleteFileW(L"C:\\simtest.vmgs");
    CHECK_HR(HcsCreateEmptyGuestStateFile(L"C:\\simtest.vmgs"), S_OK, "HcsCreateEmptyGuestStateFile");
    CHECK_HR(HcsCreateEmptyRuntimeStateFile(L"C:\\simtest.vmrs"), S_OK, "HcsCreateEmptyRuntimeStateFile");
    check(GetFileAttributesW(L"C:\\simtest.vmgs") != INVALID_FILE_ATTRIBUTES, "guest state file exists", NULL);
    CHECK_HR(HcsGrantVmAccess(L"pm-1", L"C:\\simtest.vmgs"), S_OK, "HcsGrantVmAccess on an existing file");
    CHECK_HR(HcsGrantVmAccess(L"pm-1", L"C:\\no-such-file.vhdx"), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "HcsGrantVmAccess on a missing file");
    CHECK_HR(HcsGrantVmGroupAccess(L"C:\\simtest.vmrs"), S_OK, "HcsGrantVmGroupAccess");
    CHECK_HR(HcsRevokeVmAccess(L"pm-1", L"C:\\simtest.vmgs"), S_OK, "HcsRevokeVmAccess");
    ss = control_json("{\"Op\":\"ServiceState\"}");
    check(jlen(jget(ss, "Grants")) >= 3, "grants recorded in ServiceState", NULL);
    json_free(ss);
    PCWSTR feat = NULL;
    CHECK_HR(HcsGetProcessorCompatibilityFromSavedState(L"C:\\simtest.vmrs", &feat), E_NOTIMPL, "unsimulated sync function: E_NOTIMPL");
    op = HcsCreateOperation(NULL, NULL);
    CHECK_HR(HcsEnumerateComputeSystemsInNamespace(L"ns", NULL, op), S_OK, "unsimulated async function accepted");
    CHECK_HR(wait_doc(op, 5000, &d), E_NOTIMPL, "unsimulated async function completes with E_NOTIMPL");
    check(d && jgets(d, "ErrorMessage") && strstr(jgets(d, "ErrorMessage"), "not simulated"), "with a ResultError", NULL);
    json_free(d);
    HcsCloseOperation(op);
}

/* 1 if `h` was opened for overlapped I/O (FileModeInformation has neither FILE_SYNCHRONOUS_IO_*
   flag, as libuv checks it), 0 if synchronous, -1 if it cannot be told. */
static int handle_is_overlapped(HANDLE h) {
    typedef LONG (WINAPI *query_fn)(HANDLE, void *, void *, ULONG, int);
    query_fn query = (query_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationFile");
    ULONG_PTR iosb[2]; ULONG mode = 0;
    if (!query || query(h, iosb, &mode, sizeof mode, 16 /* FileModeInformation */) < 0) return -1;
    return (mode & (0x10 | 0x20)) ? 0 : 1; /* FILE_SYNCHRONOUS_IO_ALERT | _NONALERT */
}

static void test_processes(void) {
    HCS_SYSTEM sys;
    CHECK_HR(create_sys(L"proc-1", CONTAINER_DOC, &sys), S_OK, "create");
    proc_t p;
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo hello\"}", &p), HCS_E_INVALID_STATE, "process in a Created system: INVALID_STATE");
    close_proc(&p);
    sys_do(HcsStartComputeSystem, sys, NULL, NULL);

    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo hello\",\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}", &p), S_OK, "cmd /c echo hello");
    check(p.pi.ProcessId != 0 && p.pi.StdOutput && p.pi.StdError && !p.pi.StdInput, "process info: pid, stdout, stderr, no stdin", NULL);
    check(handle_is_overlapped(p.pi.StdOutput) == 1 && handle_is_overlapped(p.pi.StdError) == 1,
          "stdout/stderr handed over as overlapped pipe ends (stdio_pipe.c rule 2)", "got %d/%d",
          handle_is_overlapped(p.pi.StdOutput), handle_is_overlapped(p.pi.StdError));
    events_t e; events_init(&e);
    CHECK_HR(HcsSetProcessCallback(p.proc, HcsEventOptionNone, &e, event_cb), S_OK, "HcsSetProcessCallback");
    char *out = read_all(p.pi.StdOutput);
    check(!strncmp(out, "hello", 5), "stdout pipe carries 'hello' and reaches EOF", "got '%s'", out);
    free(out);
    PWSTR doc = NULL;
    CHECK_HR(HcsWaitForProcessExit(p.proc, 10000, &doc), S_OK, "HcsWaitForProcessExit");
    jv *d = parse_w(doc); if (doc) LocalFree(doc);
    long long v = -1;
    check(d && jgetb(d, "Exited", 0) && jgeti(d, "ExitCode", &v) && v == 0, "ProcessStatus: Exited, ExitCode 0", NULL);
    json_free(d);
    int idx;
    check(events_wait_type(&e, HcsEventProcessExited, 5000, &idx) && strstr(e.data[idx], "\"Exited\":true") && strstr(e.data[idx], "\"ExitCode\":0"),
          "ProcessExited event", NULL);
    close_proc(&p);
    events_free(&e);

    /* exit code, properties, open by pid */
    char params[1024];
    snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" child-exit 7\"}", g_exeJson);
    CHECK_HR(create_proc(sys, params, &p), S_OK, "process exiting with 7");
    HcsWaitForProcessExit(p.proc, 10000, NULL);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HcsGetProcessProperties(p.proc, op, NULL);
    CHECK_HR(wait_doc(op, 5000, &d), S_OK, "HcsGetProcessProperties");
    check(d && jgeti(d, "ExitCode", &v) && v == 7 && jgetb(d, "Exited", 0), "exit code 7", NULL);
    json_free(d);
    HCS_PROCESS p2;
    CHECK_HR(HcsOpenProcess(sys, p.pi.ProcessId, GENERIC_ALL, &p2), S_OK, "HcsOpenProcess by pid");
    CHECK_HR(HcsWaitForProcessExit(p2, 1000, NULL), S_OK, "opened handle sees the exit");
    HcsCloseProcess(p2);
    CHECK_HR(HcsOpenProcess(sys, 999999, GENERIC_ALL, &p2), HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "HcsOpenProcess unknown pid: ERROR_NOT_FOUND");
    HcsTerminateProcess(p.proc, op, NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), HCS_E_PROCESS_ALREADY_STOPPED, "terminate exited process: PROCESS_ALREADY_STOPPED");
    HcsCloseOperation(op);
    close_proc(&p);

    /* stdin relay: client closes its stdin handle */
    snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" child-cat\",\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true}", g_exeJson);
    CHECK_HR(create_proc(sys, params, &p), S_OK, "cat-like process with stdin");
    DWORD w;
    WriteFile(p.pi.StdInput, "abc\r\n", 5, &w, NULL);
    CloseHandle(p.pi.StdInput); p.pi.StdInput = NULL;
    out = read_all(p.pi.StdOutput);
    check(!strcmp(out, "abc\r\n"), "stdin relayed; closing the client's stdin ends the child's input", "got '%s'", out);
    free(out);
    close_proc(&p);

    /* knob StdioPipes Anonymous: CreatePipe's synchronous ends, which carry the same data */
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"StdioPipes\":\"Anonymous\"}}"));
    CHECK_HR(create_proc(sys, params, &p), S_OK, "cat-like process, anonymous pipes");
    check(handle_is_overlapped(p.pi.StdInput) == 0 && handle_is_overlapped(p.pi.StdOutput) == 0,
          "StdioPipes Anonymous: synchronous ends", NULL);
    WriteFile(p.pi.StdInput, "def\r\n", 5, &w, NULL);
    CloseHandle(p.pi.StdInput); p.pi.StdInput = NULL;
    out = read_all(p.pi.StdOutput);
    check(!strcmp(out, "def\r\n"), "StdioPipes Anonymous: stdin relayed, stdout read to EOF", "got '%s'", out);
    free(out);
    close_proc(&p);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"StdioPipes\":\"Overlapped\"}}"));

    /* stdin closed through HcsModifyProcess while the client still holds its handle */
    CHECK_HR(create_proc(sys, params, &p), S_OK, "cat-like process again");
    WriteFile(p.pi.StdInput, "xyz", 3, &w, NULL);
    Sleep(200);
    op = HcsCreateOperation(NULL, NULL);
    HcsModifyProcess(p.proc, op, L"{\"Operation\":\"CloseHandle\",\"CloseHandle\":{\"Handle\":\"StdIn\"}}");
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "HcsModifyProcess CloseHandle StdIn");
    out = read_all(p.pi.StdOutput);
    check(!strcmp(out, "xyz"), "child saw EOF after CloseHandle StdIn", "got '%s'", out);
    free(out);
    CHECK_HR(HcsWaitForProcessExit(p.proc, 5000, NULL), S_OK, "child exited");
    HcsCloseOperation(op);
    close_proc(&p);

    /* cmd reading a line from the relayed stdin (Wine 8's findstr and sort are stubs, so cmd's set /p is used) */
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /v:on /c \\\"set /p L=&& echo got !L!\\\"\",\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true}", &p), S_OK, "cmd set /p reading stdin");
    WriteFile(p.pi.StdInput, "axb\r\n", 5, &w, NULL);
    CloseHandle(p.pi.StdInput); p.pi.StdInput = NULL;
    out = read_all(p.pi.StdOutput);
    check(strstr(out, "got axb") != NULL, "cmd read the relayed stdin line", "got '%s'", out);
    free(out);
    close_proc(&p);

    /* environment and working directory */
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo %SIMTEST_VAR%\",\"Environment\":{\"SIMTEST_VAR\":\"from-env\"},\"WorkingDirectory\":\"C:\\\\\",\"CreateStdOutPipe\":true}", &p), S_OK, "Environment + WorkingDirectory");
    out = read_all(p.pi.StdOutput);
    check(strstr(out, "from-env") != NULL, "Environment reaches the process", "got '%s'", out);
    free(out);
    close_proc(&p);
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo x\",\"WorkingDirectory\":\"C:\\\\no\\\\such\\\\dir\"}", &p), HRESULT_FROM_WIN32(ERROR_DIRECTORY), "missing WorkingDirectory: ERROR_DIRECTORY");
    close_proc(&p);

    /* terminate, signal, console size, process info */
    snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" child-sleep\"}", g_exeJson);
    CHECK_HR(create_proc(sys, params, &p), S_OK, "sleeping process");
    op = HcsCreateOperation(NULL, NULL);
    HcsModifyProcess(p.proc, op, L"{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":40,\"Width\":120}}");
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "ConsoleSize");
    HcsGetProcessProperties(p.proc, op, NULL);
    wait_doc(op, 5000, &d);
    check(jgeti(jget(d, "ConsoleSize"), "Width", &v) && v == 120 && jgetb(d, "Exited", 1) == 0, "ConsoleSize visible in properties", NULL);
    json_free(d);
    HcsGetProcessInfo(p.proc, op);
    HCS_PROCESS_INFORMATION pi;
    CHECK_HR(HcsWaitForOperationResultAndProcessInfo(op, 5000, &pi, NULL), S_OK, "HcsGetProcessInfo");
    check(pi.ProcessId == p.pi.ProcessId && !pi.StdInput && !pi.StdOutput && !pi.StdError, "GetProcessInfo: pid, NULL stdio", NULL);
    check(HcsGetProcessFromOperation(op) == p.proc, "HcsGetProcessFromOperation", NULL);
    HcsSignalProcess(p.proc, op, L"{\"Signal\":\"Bogus\"}");
    CHECK_HR(wait_doc(op, 5000, NULL), E_INVALIDARG, "unknown signal: E_INVALIDARG");
    HcsTerminateProcess(p.proc, op, NULL);
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "HcsTerminateProcess");
    HcsWaitForProcessExit(p.proc, 5000, &doc);
    d = parse_w(doc); if (doc) LocalFree(doc);
    check(jgeti(d, "ExitCode", &v) && v == 1, "terminated process exit code 1", NULL);
    json_free(d);
    close_proc(&p);
    CHECK_HR(create_proc(sys, params, &p), S_OK, "sleeping process 2");
    HcsSignalProcess(p.proc, op, L"{\"Signal\":\"CtrlC\"}");
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "HcsSignalProcess CtrlC");
    HcsWaitForProcessExit(p.proc, 5000, &doc);
    d = parse_w(doc); if (doc) LocalFree(doc);
    check(jgeti(d, "ExitCode", &v) && (DWORD)v == 0xC000013A, "signalled process exit code STATUS_CONTROL_C_EXIT", "v=%llx", v);
    json_free(d);
    close_proc(&p);
    HcsCloseOperation(op);

    /* system stop kills processes */
    CHECK_HR(create_proc(sys, params, &p), S_OK, "sleeping process 3");
    events_init(&e);
    HcsSetProcessCallback(p.proc, HcsEventOptionNone, &e, event_cb);
    sys_do(HcsTerminateComputeSystem, sys, NULL, NULL);
    check(events_wait_type(&e, HcsEventProcessExited, 5000, NULL), "terminating the system: ProcessExited delivered", NULL);
    close_proc(&p);
    events_free(&e);
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo x\"}", &p), HCS_E_SYSTEM_ALREADY_STOPPED, "process in a Stopped system: ALREADY_STOPPED");
    close_proc(&p);
    HcsCloseComputeSystem(sys);
}

static void test_cross_process(void) {
    DWORD code = run_child(L"child-create xp-keep 0", 30000);
    check(code == 0, "child created xp-keep (no ShouldTerminateOnLastHandleClosed) and exited", "code=%lu", code);
    HCS_SYSTEM sys = NULL;
    CHECK_HR(HcsOpenComputeSystem(L"xp-keep", GENERIC_ALL, &sys), S_OK, "parent opens the child's system");
    state_is(sys, "Running", "child's system still Running");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    jv *d = NULL;
    HcsEnumerateComputeSystems(L"{\"Ids\":[\"xp-keep\"]}", op);
    wait_doc(op, 5000, &d);
    check(jlen(d) == 1, "parent lists the child's system", NULL);
    json_free(d);
    HcsCloseOperation(op);
    /* another process terminates it; our callback sees SystemExited */
    events_t e; events_init(&e);
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, &e, event_cb);
    code = run_child(L"child-terminate xp-keep", 30000);
    check(code == 0, "a second child terminated it", "code=%lu", code);
    check(events_wait_type(&e, HcsEventSystemExited, 5000, NULL), "SystemExited delivered across processes", NULL);
    HcsCloseComputeSystem(sys);
    events_free(&e);
    CHECK_HR(HcsOpenComputeSystem(L"xp-keep", GENERIC_ALL, &sys), HCS_E_SYSTEM_NOT_FOUND, "gone after the last handle of the stopped system closed");

    code = run_child(L"child-create xp-temp 1", 30000);
    check(code == 0, "child created xp-temp with ShouldTerminateOnLastHandleClosed and exited", "code=%lu", code);
    HRESULT hr = S_OK;
    for (int i = 0; i < 40; i++) {
        hr = HcsOpenComputeSystem(L"xp-temp", GENERIC_ALL, &sys);
        if (FAILED(hr)) break;
        HcsCloseComputeSystem(sys);
        Sleep(50);
    }
    CHECK_HR(hr, HCS_E_SYSTEM_NOT_FOUND, "xp-temp terminated and removed when its creator died");

    /* a process started here is opened by pid and terminated by another process */
    HCS_SYSTEM s3;
    start_sys(L"xp-proc", CONTAINER_DOC, &s3);
    proc_t p;
    char params[1024];
    snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" child-sleep\"}", g_exeJson);
    CHECK_HR(create_proc(s3, params, &p), S_OK, "sleeping process for the cross-process check");
    events_t pe; events_init(&pe);
    HcsSetProcessCallback(p.proc, HcsEventOptionNone, &pe, event_cb);
    WCHAR args[128];
    swprintf(args, 128, L"child-killproc xp-proc %lu", (unsigned long)p.pi.ProcessId);
    code = run_child(args, 30000);
    check(code == 0, "another process opened the process by pid and terminated it", "code=%lu", code);
    int pidx = -1;
    check(events_wait_type(&pe, HcsEventProcessExited, 5000, &pidx) && strstr(pe.data[pidx], "\"ExitCode\":1"), "ProcessExited delivered here with exit code 1", NULL);
    close_proc(&p);
    events_free(&pe);
    terminate_close(s3);

    /* faults are service-wide: a fault injected here hits the child's call */
    HCS_SYSTEM s2;
    create_sys(L"xp-fault", CONTAINER_DOC, &s2);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsOpenComputeSystem\",\"SystemId\":\"xp-fault\",\"Action\":\"FailCall\",\"HResult\":-2147024891}}"));
    code = run_child(L"child-open xp-fault", 30000);
    check(code == (0x10000 | 5), "fault injected by the parent applies to the child's call", "code=%lx", (unsigned long)code);
    code = run_child(L"child-open xp-fault", 30000);
    check(code == 0, "Count 1: the next call succeeds", "code=%lx", (unsigned long)code);
    terminate_close(s2);
}

static void test_faults(void) {
    HCS_SYSTEM sys;
    create_sys(L"f-1", CONTAINER_DOC, &sys);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    jv *d;
    long long v;
    /* Fail with a verbatim error document */
    jv *fr = control_json("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsStartComputeSystem\",\"Action\":\"Fail\",\"HResult\":-2147024891,\"ErrorDocument\":{\"Error\":-2147024891,\"ErrorMessage\":\"injected\"}}}");
    check(fr && jgeti(fr, "FaultId", &v) && v > 0, "InjectFault returns a FaultId", NULL);
    json_free(fr);
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), S_OK, "Fail: call accepted");
    CHECK_HR(wait_doc(op, 5000, &d), E_ACCESSDENIED, "Fail: operation completes with the HResult");
    check(d && jgets(d, "ErrorMessage") && !strcmp(jgets(d, "ErrorMessage"), "injected"), "Fail: ErrorDocument returned verbatim", NULL);
    json_free(d);
    state_is(sys, "Created", "Fail: the work was not done");
    /* FailCall */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsStartComputeSystem\",\"Action\":\"FailCall\",\"HResult\":-2147024882}}"));
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), E_OUTOFMEMORY, "FailCall: the call returns the HResult");
    CHECK_HR(HcsGetOperationResult(op, NULL), HCS_E_OPERATION_NOT_STARTED, "FailCall: operation stays not started");
    /* Nth / Count */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetComputeSystemProperties\",\"Action\":\"FailCall\",\"HResult\":-2147467259,\"Nth\":2,\"Count\":2}}"));
    HRESULT r1 = HcsGetComputeSystemProperties(sys, op, NULL); wait_doc(op, 5000, NULL);
    HRESULT r2 = HcsGetComputeSystemProperties(sys, op, NULL);
    HRESULT r3 = HcsGetComputeSystemProperties(sys, op, NULL);
    HRESULT r4 = HcsGetComputeSystemProperties(sys, op, NULL); wait_doc(op, 5000, NULL);
    check(r1 == S_OK && r2 == E_FAIL && r3 == E_FAIL && r4 == S_OK, "Nth 2, Count 2", "%lx %lx %lx %lx", (unsigned long)r1, (unsigned long)r2, (unsigned long)r3, (unsigned long)r4);
    /* Delay */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsStartComputeSystem\",\"Action\":\"Delay\",\"DelayMs\":400}}"));
    ULONGLONG t0 = GetTickCount64();
    HcsStartComputeSystem(sys, op, NULL);
    CHECK_HR(HcsWaitForOperationResult(op, 100, NULL), HCS_E_OPERATION_TIMEOUT, "Delay: still pending after 100 ms");
    CHECK_HR(wait_doc(op, 5000, NULL), S_OK, "Delay: completes");
    check(GetTickCount64() - t0 >= 350, "Delay: took at least DelayMs", NULL);
    /* sync function Fail returns HResult and the doc */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetServiceProperties\",\"Action\":\"Fail\",\"HResult\":-2147467259}}"));
    PWSTR r = NULL;
    CHECK_HR(HcsGetServiceProperties(NULL, &r), E_FAIL, "Fail on a synchronous function returns the HResult");
    d = parse_w(r); if (r) LocalFree(r);
    check(d && jgeti(d, "Error", &v) && (HRESULT)v == E_FAIL, "...and a ResultError through result", NULL);
    json_free(d);
    /* wildcard + SystemId filter + ClearFaults */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"*\",\"SystemId\":\"other\",\"Action\":\"FailCall\",\"Count\":0}}"));
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), S_OK, "SystemId filter: other systems unaffected");
    wait_doc(op, 5000, NULL);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"*\",\"Action\":\"FailCall\",\"Count\":0,\"HResult\":-2147467259}}"));
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), E_FAIL, "wildcard fault");
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), E_FAIL, "Count 0: every call");
    free(control("{\"Op\":\"ClearFaults\"}"));
    CHECK_HR(HcsGetComputeSystemProperties(sys, op, NULL), S_OK, "ClearFaults");
    wait_doc(op, 5000, NULL);

    /* Disconnect */
    events_t e; events_init(&e);
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, &e, event_cb);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetComputeSystemProperties\",\"Action\":\"Hang\"}}"));
    HCS_OPERATION hung = HcsCreateOperation(NULL, NULL);
    HcsGetComputeSystemProperties(sys, hung, NULL);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsPauseComputeSystem\",\"Action\":\"Disconnect\"}}"));
    HRESULT hr = HcsPauseComputeSystem(sys, op, NULL);
    HRESULT hr2 = wait_doc(op, 5000, NULL);
    check(hr == HCS_E_SERVICE_DISCONNECT || hr2 == HCS_E_SERVICE_DISCONNECT, "Disconnect: the call returns or completes with SERVICE_DISCONNECT", "%lx %lx", (unsigned long)hr, (unsigned long)hr2);
    CHECK_HR(wait_doc(hung, 5000, NULL), HCS_E_SERVICE_DISCONNECT, "Disconnect: pending operations complete with SERVICE_DISCONNECT");
    check(events_wait_type(&e, HcsEventServiceDisconnect, 5000, NULL), "Disconnect: event callbacks get HcsEventServiceDisconnect", NULL);
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), HCS_E_SERVICE_DISCONNECT, "Disconnect: old handles return SERVICE_DISCONNECT");
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(hung);
    events_free(&e);
    CHECK_HR(HcsOpenComputeSystem(L"f-1", GENERIC_ALL, &sys), S_OK, "Disconnect: reopen reconnects; service state survived");
    state_is(sys, "Running", "Disconnect: system state intact");
    /* control-API disconnect */
    free(control("{\"Op\":\"Disconnect\"}"));
    CHECK_HR(HcsStartComputeSystem(sys, op, NULL), HCS_E_SERVICE_DISCONNECT, "control Disconnect: old handle dead");
    HcsCloseComputeSystem(sys);
    CHECK_HR(HcsOpenComputeSystem(L"f-1", GENERIC_ALL, &sys), S_OK, "reopen after control Disconnect");
    terminate_close(sys);
    HcsCloseOperation(op);
}

static volatile LONG g_concDone;
static HANDLE g_concEv;
static void CALLBACK conc_cb(HCS_OPERATION op, void *ctx) {
    (void)ctx;
    if (SUCCEEDED(HcsGetOperationResult(op, NULL))) { if (InterlockedIncrement(&g_concDone) == 64) SetEvent(g_concEv); }
}
static void test_concurrency(void) {
    HCS_SYSTEM sys;
    start_sys(L"conc-1", CONTAINER_DOC, &sys);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CompletionDelayMs\":100}}"));
    g_concEv = CreateEventW(NULL, TRUE, FALSE, NULL);
    HCS_OPERATION ops[64];
    HCS_SYSTEM syss[32];
    int accepted = 0;
    for (int i = 0; i < 64; i++) {
        ops[i] = HcsCreateOperation(NULL, conc_cb);
        HRESULT hr;
        if (i < 32) {
            WCHAR id[32]; swprintf(id, 32, L"conc-x-%d", i);
            hr = HcsCreateComputeSystem(id, CONTAINER_DOC, ops[i], NULL, &syss[i]);
        } else hr = HcsGetComputeSystemProperties(sys, ops[i], L"{\"PropertyTypes\":[\"Statistics\"]}");
        if (SUCCEEDED(hr)) accepted++;
    }
    check(accepted == 64, "64 operations accepted at once", "accepted=%d", accepted);
    check(g_concDone < 64, "they were not completed synchronously", "done=%ld", g_concDone);
    check(WaitForSingleObject(g_concEv, 20000) == WAIT_OBJECT_0, "all 64 operations completed", "done=%ld", g_concDone);
    for (int i = 0; i < 64; i++) HcsCloseOperation(ops[i]);
    for (int i = 0; i < 32; i++) terminate_close(syss[i]);
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"CompletionDelayMs\":2}}"));
    terminate_close(sys);
    CloseHandle(g_concEv);
}

static HCS_SYSTEM g_closeInside;
static volatile LONG g_closeInsideDone;
static void CALLBACK close_inside_cb(HCS_EVENT *ev, void *ctx) {
    (void)ctx;
    if (ev->Type == HcsEventSystemExited) { HcsCloseComputeSystem(g_closeInside); InterlockedExchange(&g_closeInsideDone, 1); }
}

/* Simulates koffi's relay: the event callback hands the work to another thread and blocks until it is done;
   that thread closes the handle (so the close happens "inside" the callback, but on another thread). */
static HCS_OPERATION g_relayOp;
static volatile LONG g_relayDone;
static DWORD WINAPI relay_thread(void *arg) {
    (void)arg;
    HcsCloseOperation(g_relayOp);
    InterlockedExchange(&g_relayDone, 1);
    return 0;
}
static void CALLBACK relay_op_cb(HCS_OPERATION op, void *ctx) {
    (void)op; (void)ctx;
    HANDLE t = CreateThread(NULL, 0, relay_thread, NULL, 0, NULL);
    WaitForSingleObject(t, 10000);
    CloseHandle(t);
}

static jv *audit(void) { return control_json("{\"Op\":\"Audit\"}"); }
static long long aget(jv *a, const char *grp, const char *k) { long long v = -1; jgeti(grp ? jget(a, grp) : a, k, &v); return v; }

static void test_audit(void) {
    free(control("{\"Op\":\"ResetAudit\"}"));
    /* correct use */
    HCS_SYSTEM sys;
    start_sys(L"au-1", CONTAINER_DOC, &sys);
    proc_t p;
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo hi\",\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}", &p), S_OK, "audit: process");
    free(read_all(p.pi.StdOutput));
    PWSTR doc = NULL;
    HcsWaitForProcessExit(p.proc, 5000, &doc);
    if (doc) LocalFree(doc);
    close_proc(&p);
    jv *d = NULL;
    sys_do(HcsGetComputeSystemProperties, sys, NULL, &d);
    json_free(d);
    terminate_close(sys);
    jv *a = audit();
    check(aget(a, "Operations", "Created") > 0 && aget(a, "Operations", "Created") == aget(a, "Operations", "Closed"), "audit: operations created == closed", NULL);
    check(aget(a, "SystemHandles", "Opened") == 1 && aget(a, "SystemHandles", "Closed") == 1, "audit: system handles opened == closed", NULL);
    check(aget(a, "ProcessHandles", "Opened") == 1 && aget(a, "ProcessHandles", "Closed") == 1, "audit: process handles opened == closed", NULL);
    check(aget(a, "Strings", "Allocated") > 0 && aget(a, "Strings", "Live") == 0, "audit: no live strings after LocalFree", "alloc=%lld live=%lld", aget(a, "Strings", "Allocated"), aget(a, "Strings", "Live"));
    check(aget(a, "StdioHandles", "Returned") == 2 && aget(a, "StdioHandles", "Live") == 0, "audit: stdio handles returned and closed", "ret=%lld live=%lld", aget(a, "StdioHandles", "Returned"), aget(a, "StdioHandles", "Live"));
    check(aget(a, NULL, "CallbacksInFlight") == 0 && aget(a, NULL, "EventRegistrations") == 0 && jlen(jget(a, "Violations")) == 0, "audit: no callbacks, registrations or violations", NULL);
    json_free(a);
    /* deliberate leaks */
    PWSTR leak = NULL;
    HcsGetServiceProperties(NULL, &leak);
    start_sys(L"au-2", CONTAINER_DOC, &sys);
    CHECK_HR(create_proc(sys, "{\"CommandLine\":\"cmd /c echo hi\",\"CreateStdOutPipe\":true}", &p), S_OK, "audit: process 2");
    HANDLE keep = p.pi.StdOutput; p.pi.StdOutput = NULL;
    close_proc(&p);
    a = audit();
    check(aget(a, "Strings", "Live") == 1, "audit: an unfreed string is Live", "live=%lld", aget(a, "Strings", "Live"));
    check(aget(a, "StdioHandles", "Live") == 1, "audit: an unclosed stdio handle is Live", "live=%lld", aget(a, "StdioHandles", "Live"));
    json_free(a);
    LocalFree(leak);
    CloseHandle(keep);
    /* a freed string whose block is handed out again (its tail, with the marker, untouched) is not live */
    PWSTR again = NULL;
    HcsGetServiceProperties(NULL, &again);
    SIZE_T sz = LocalSize(again);
    LocalFree(again);
    char *reuse = HeapAlloc(GetProcessHeap(), 0, sz);
    if (reuse) reuse[0] = 'x';
    a = audit();
    printf("# freed string's block reused by HeapAlloc: %s\n", (void *)reuse == (void *)again ? "yes" : "no");
    check(aget(a, "Strings", "Live") == 0, "audit: a freed string's block reused by another allocation is not Live", "live=%lld", aget(a, "Strings", "Live"));
    json_free(a);
    HeapFree(GetProcessHeap(), 0, reuse);
    a = audit();
    check(aget(a, "Strings", "Live") == 0 && aget(a, "StdioHandles", "Live") == 0, "audit: Live back to 0 after freeing", NULL);
    json_free(a);
    /* close from inside own callback: recorded violation, no deadlock */
    g_closeInside = sys;
    HcsSetComputeSystemCallback(sys, HcsEventOptionNone, NULL, close_inside_cb);
    sys_do(HcsTerminateComputeSystem, sys, NULL, NULL);
    for (int i = 0; i < 100 && !g_closeInsideDone; i++) Sleep(20);
    check(g_closeInsideDone, "HcsCloseComputeSystem inside its own callback returns", NULL);
    a = audit();
    check(jlen(jget(a, "Violations")) == 1, "audit: the violation is recorded", NULL);
    json_free(a);
    /* close from inside a completion callback relayed to another thread: bounded wait + violation, no deadlock */
    start_sys(L"au-3", CONTAINER_DOC, &sys);
    g_relayOp = HcsCreateOperation(NULL, relay_op_cb);
    ULONGLONG t0 = GetTickCount64();
    HcsGetComputeSystemProperties(sys, g_relayOp, NULL);
    for (int i = 0; i < 250 && !g_relayDone; i++) Sleep(20);
    check(g_relayDone, "HcsCloseOperation from a relayed callback thread returns (bounded wait)", "after %llu ms", GetTickCount64() - t0);
    a = audit();
    check(jlen(jget(a, "Violations")) == 2, "audit: the relayed close is recorded as a violation", "n=%d", jlen(jget(a, "Violations")));
    json_free(a);
    terminate_close(sys);
    free(control("{\"Op\":\"ResetAudit\"}"));
    a = audit();
    check(aget(a, "Operations", "Created") == 0 && jlen(jget(a, "Violations")) == 0, "ResetAudit zeroes the counters", NULL);
    json_free(a);
}

static volatile HRESULT g_hangHr;
static DWORD WINAPI hang_thread(void *arg) {
    (void)arg;
    PWSTR r = NULL;
    g_hangHr = HcsGetServiceProperties(NULL, &r);
    if (r) LocalFree(r);
    return 0;
}
static void test_reset(void) {
    /* Delay / Hang on a synchronous function */
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetServiceProperties\",\"Action\":\"Delay\",\"DelayMs\":300}}"));
    ULONGLONG t0 = GetTickCount64();
    PWSTR r0 = NULL;
    CHECK_HR(HcsGetServiceProperties(NULL, &r0), S_OK, "Delay on a synchronous function");
    if (r0) LocalFree(r0);
    check(GetTickCount64() - t0 >= 280, "...returns DelayMs later", "%llu ms", GetTickCount64() - t0);
    free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsGetServiceProperties\",\"Action\":\"Hang\"}}"));
    g_hangHr = 1;
    HANDLE t = CreateThread(NULL, 0, hang_thread, NULL, 0, NULL);
    check(WaitForSingleObject(t, 300) == WAIT_TIMEOUT, "Hang on a synchronous function blocks the call", NULL);

    HCS_SYSTEM sys;
    start_sys(L"rs-1", CONTAINER_DOC, &sys);
    HcsCloseComputeSystem(sys);
    CHECK_HR(HcsOpenComputeSystem(L"rs-1", GENERIC_ALL, &sys), S_OK, "system without the flag survives its handle");
    HcsCloseComputeSystem(sys);
    char *r = control("{\"Op\":\"Reset\"}");
    check(r != NULL, "Reset", NULL);
    free(r);
    check(WaitForSingleObject(t, 5000) == WAIT_OBJECT_0 && g_hangHr == HCSSIM_E_CANCELLED, "Reset releases the hung synchronous call (ERROR_CANCELLED)", "hr=%lx", (unsigned long)g_hangHr);
    CloseHandle(t);
    CHECK_HR(HcsOpenComputeSystem(L"rs-1", GENERIC_ALL, &sys), HCS_E_SYSTEM_NOT_FOUND, "Reset removed every system");
    jv *ss = control_json("{\"Op\":\"ServiceState\"}");
    check(ss && jlen(jget(ss, "Systems")) == 0, "ServiceState empty after Reset", NULL);
    json_free(ss);
}

int wmain(int argc, WCHAR **argv) {
    GetModuleFileNameW(NULL, g_exe, MAX_PATH);
    json_escape_path(g_exe, g_exeJson, sizeof g_exeJson);
    if (argc > 1 && !wcsncmp(argv[1], L"child-", 6)) return child_main(argc, argv);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!GetEnvironmentVariableW(L"HCSSIM_INSTANCE", NULL, 0)) {
        WCHAR inst[64]; swprintf(inst, 64, L"simtest-%lu", GetCurrentProcessId());
        SetEnvironmentVariableW(L"HCSSIM_INSTANCE", inst);
    }
    SetEnvironmentVariableW(L"HCSSIM_CLOSE_WAIT_MS", L"300");
    ULONGLONG t0 = GetTickCount64();
    free(control("{\"Op\":\"Reset\"}"));
    test_operations();
    test_wait_timeout_and_cancel();
    test_states();
    test_properties_modify_enumerate();
    test_processes();
    test_cross_process();
    test_faults();
    test_concurrency();
    test_audit();
    test_reset();
    printf("# %.1f s\n", (GetTickCount64() - t0) / 1000.0);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
