/* computecore.dll (simulated): a client of hcssim-service.exe. See README.md. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <winternl.h>
#include <computecore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define EXPORT __declspec(dllexport)
HRESULT WINAPI HcsSimControl(PCWSTR request, PWSTR *response);

enum { K_OP = 0x4F50, K_SYS = 0x5359, K_PROC = 0x5052 };
#define MAGIC 0x48435353u /* 'HCSS' */

typedef struct conn {
    HANDLE pipe;
    HANDLE stopEv;
    LONG refs;
    int dead;
    CRITICAL_SECTION wlock;
    DWORD servicePid;
} conn;

typedef struct obj {
    DWORD magic;
    int kind;
    LONG refs;
    struct obj *nextAll;  /* registry of live (not closed) handles */
    int busy;             /* a worker is delivering something keyed on this object */
} obj;

typedef struct hobj {
    obj h;
    conn *c;
    ULONGLONG sid;        /* service-side handle id */
    HCS_EVENT_CALLBACK cb;
    void *ctx;
    DWORD options;
    int closed;
    int inflight;
    HANDLE drained;
    HANDLE exitEv;
    int exited, disconnected;
    WCHAR *exitDoc;
    DWORD pid;            /* process handles */
    struct hobj *nextH;   /* all system/process handle objects (incl. closing) */
} hobj;

typedef struct op {
    obj h;
    void *ctx;
    HCS_OPERATION_COMPLETION cb;
    int state;            /* 0 not started, 1 pending, 2 completed */
    HCS_OPERATION_TYPE type;
    ULONGLONG id;
    HRESULT hr;
    WCHAR *doc;
    int hasPi, piReturned;
    HCS_PROCESS_INFORMATION pi;
    hobj *sys, *proc;     /* references held while pending / until reused or closed */
    conn *c;
    HANDLE doneEv, cbDoneEv;
    int closed, cancelled, cbRunning;
    DWORD cbThread;
    struct op *nextPending;
} op;

typedef struct waiter {
    struct waiter *next;
    conn *c;
    ULONGLONG id;
    HANDLE ev;
    jv *resp;
    int done;
} waiter;

typedef struct work {
    struct work *next;
    int kind;             /* 1 op completion, 2 event */
    obj *key;
    op *o;
    hobj *hh;
    HCS_EVENT_TYPE type;
    WCHAR *data;
} work;

/* ------------------------------------------------------------------ globals */
static CRITICAL_SECTION g_cs, g_connCs;
static CONDITION_VARIABLE g_workCv;
static obj *g_objs;
static hobj *g_hobjs;
static op *g_pendingOps;
static waiter *g_waiters;
static work *g_workHead, *g_workTail;
static int g_workers, g_idleWorkers;
static conn *g_conn;
static ULONGLONG g_reqSeq, g_opSeq;
static DWORD g_tls = TLS_OUT_OF_INDEXES;
static HMODULE g_module;

typedef struct { HANDLE h; WCHAR name[160]; } stdiotrack;
static struct {
    LONG opsCreated, opsClosed, sysOpened, sysClosed, procOpened, procClosed;
    LONG strAllocated, stdioReturned, callbacksInFlight, eventRegs;
    char violations[16][200];
    int nviol;
} g_audit;
static strtable g_strtab;
static stdiotrack *g_stdio; static int g_nstdio, g_capstdio;

static void violation(const char *fmt, ...) {
    if (g_audit.nviol >= 16) return;
    va_list ap; va_start(ap, fmt);
    vsnprintf(g_audit.violations[g_audit.nviol++], 200, fmt, ap);
    va_end(ap);
}

/* How long a Close* waits for an in-flight callback before it assumes it is called from inside that callback on a
   relayed thread (records a violation instead of deadlocking). HCSSIM_CLOSE_WAIT_MS, default 2000. */
static DWORD close_wait_ms(void) {
    static DWORD v;
    if (!v) {
        WCHAR b[32];
        DWORD n = GetEnvironmentVariableW(L"HCSSIM_CLOSE_WAIT_MS", b, 32);
        DWORD x = (n && n < 32) ? (DWORD)_wtoi(b) : 0;
        v = x ? x : 2000;
    }
    return v;
}

/* ------------------------------------------------------------------ strings handed to the caller */
static PWSTR out_string(const WCHAR *s, int track) {
    if (!s) return NULL;
    size_t n = (wcslen(s) + 1) * sizeof(WCHAR);
    size_t total = n + (track ? STRTRACK_EXTRA : 0);
    PWSTR p = LocalAlloc(LMEM_FIXED, total);
    if (!p) return NULL;
    memcpy(p, s, n);
    if (track) {
        EnterCriticalSection(&g_cs);
        strtable_add(&g_strtab, p, n);
        g_audit.strAllocated++;
        LeaveCriticalSection(&g_cs);
    }
    return p;
}
static PWSTR out_string_u(const char *u, int track) {
    if (!u) return NULL;
    WCHAR *w = u2w(u);
    PWSTR p = out_string(w, track);
    free(w);
    return p;
}

typedef LONG (WINAPI *NtQueryObject_t)(HANDLE, int, void *, ULONG, ULONG *);
static void handle_identity(HANDLE h, WCHAR out[160]) {
    static NtQueryObject_t q;
    out[0] = 0;
    if (!q) q = (NtQueryObject_t)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
    if (!q) return;
    union { UNICODE_STRING us; BYTE b[1024]; } buf;
    ULONG n = 0;
    if (q(h, 1 /* ObjectNameInformation */, &buf, sizeof buf, &n) != 0 || !buf.us.Buffer) return;
    size_t len = buf.us.Length / sizeof(WCHAR);
    if (len > 159) len = 159;
    memcpy(out, buf.us.Buffer, len * sizeof(WCHAR));
    out[len] = 0;
}
static void track_stdio(HANDLE h) {
    if (!h) return;
    if (g_nstdio == g_capstdio) { g_capstdio = g_capstdio ? g_capstdio * 2 : 32; g_stdio = realloc(g_stdio, (size_t)g_capstdio * sizeof *g_stdio); }
    g_stdio[g_nstdio].h = h;
    handle_identity(h, g_stdio[g_nstdio].name);
    g_nstdio++;
    g_audit.stdioReturned++;
}
static int stdio_live(stdiotrack *t) {
    DWORD f;
    if (!GetHandleInformation(t->h, &f)) return 0;
    if (GetFileType(t->h) != FILE_TYPE_PIPE) return 0;
    WCHAR now[160];
    handle_identity(t->h, now);
    return wcscmp(now, t->name) == 0;
}

/* ------------------------------------------------------------------ object registry */
static void reg_add(obj *o, int kind) {
    o->magic = MAGIC; o->kind = kind; o->refs = 1;
    o->nextAll = g_objs; g_objs = o;
}
static int reg_has(const void *p, int kind) {
    for (obj *o = g_objs; o; o = o->nextAll) if ((const void *)o == p) return o->kind == kind && o->magic == MAGIC;
    return 0;
}
static void reg_remove(obj *o) {
    obj **pp = &g_objs;
    while (*pp && *pp != o) pp = &(*pp)->nextAll;
    if (*pp) *pp = o->nextAll;
}
static void conn_release(conn *c);
static void hobj_release(hobj *h) {
    if (!h || --h->h.refs > 0) return;
    hobj **pp = &g_hobjs;
    while (*pp && *pp != h) pp = &(*pp)->nextH;
    if (*pp) *pp = h->nextH;
    CloseHandle(h->drained); CloseHandle(h->exitEv);
    free(h->exitDoc);
    if (h->c) conn_release(h->c);
    h->h.magic = 0;
    free(h);
}
static void op_release(op *o) {
    if (--o->h.refs > 0) return;
    hobj_release(o->sys); hobj_release(o->proc);
    if (o->c) conn_release(o->c);
    free(o->doc);
    CloseHandle(o->doneEv); CloseHandle(o->cbDoneEv);
    o->h.magic = 0;
    free(o);
}
static void conn_release(conn *c) {
    if (InterlockedDecrement(&c->refs) == 0) {
        CloseHandle(c->pipe); CloseHandle(c->stopEv); DeleteCriticalSection(&c->wlock); free(c);
    }
}

/* ------------------------------------------------------------------ worker pool */
typedef struct { obj *key; } tlsframe;
static DWORD WINAPI worker_main(void *arg);
static void enqueue(work *w) {
    /* g_cs held */
    if (g_workTail) g_workTail->next = w; else g_workHead = w;
    g_workTail = w;
    w->next = NULL;
    if (g_idleWorkers == 0 && g_workers < 256) {
        HANDLE t = CreateThread(NULL, 256 * 1024, worker_main, NULL, 0, NULL);
        if (t) { CloseHandle(t); g_workers++; g_idleWorkers++; }
    }
    WakeAllConditionVariable(&g_workCv);
}

static void deliver_op(op *o) {
    EnterCriticalSection(&g_cs);
    if (o->closed) { LeaveCriticalSection(&g_cs); return; }
    HCS_OPERATION_COMPLETION cb = o->cb;
    void *ctx = o->ctx;
    hobj *target = o->proc ? o->proc : o->sys;
    HCS_EVENT_CALLBACK ecb = NULL; void *ectx = NULL;
    if (!cb && target && !target->closed && target->cb && (target->options & HcsEventOptionEnableOperationCallbacks)) {
        ecb = target->cb; ectx = target->ctx;
        target->inflight++; ResetEvent(target->drained);
        target->h.refs++;
    }
    if (!cb && !ecb) { LeaveCriticalSection(&g_cs); return; }
    o->cbRunning = 1; o->cbThread = GetCurrentThreadId();
    ResetEvent(o->cbDoneEv);
    g_audit.callbacksInFlight++;
    LeaveCriticalSection(&g_cs);
    void *prev = TlsGetValue(g_tls);
    if (cb) {
        TlsSetValue(g_tls, o);
        cb((HCS_OPERATION)o, ctx);
    } else {
        TlsSetValue(g_tls, target);
        HCS_EVENT ev; memset(&ev, 0, sizeof ev);
        ev.Type = HcsEventOperationCallback; ev.EventData = NULL; ev.Operation = (HCS_OPERATION)o;
        ecb(&ev, ectx);
    }
    TlsSetValue(g_tls, prev);
    EnterCriticalSection(&g_cs);
    g_audit.callbacksInFlight--;
    o->cbRunning = 0; o->cbThread = 0;
    SetEvent(o->cbDoneEv);
    if (ecb) {
        if (--target->inflight == 0) SetEvent(target->drained);
        hobj_release(target);
    }
    LeaveCriticalSection(&g_cs);
}

static void deliver_event(hobj *h, HCS_EVENT_TYPE type, const WCHAR *data) {
    EnterCriticalSection(&g_cs);
    if (h->closed || !h->cb) { LeaveCriticalSection(&g_cs); return; }
    HCS_EVENT_CALLBACK cb = h->cb; void *ctx = h->ctx;
    h->inflight++; ResetEvent(h->drained);
    g_audit.callbacksInFlight++;
    LeaveCriticalSection(&g_cs);
    void *prev = TlsGetValue(g_tls);
    TlsSetValue(g_tls, h);
    HCS_EVENT ev; memset(&ev, 0, sizeof ev);
    ev.Type = type; ev.EventData = data; ev.Operation = NULL;
    cb(&ev, ctx);
    TlsSetValue(g_tls, prev);
    EnterCriticalSection(&g_cs);
    g_audit.callbacksInFlight--;
    if (--h->inflight == 0) SetEvent(h->drained);
    LeaveCriticalSection(&g_cs);
}

static DWORD WINAPI worker_main(void *arg) {
    (void)arg;
    EnterCriticalSection(&g_cs);
    for (;;) {
        work **pp = &g_workHead, *w = NULL, *prevw = NULL;
        for (work *it = g_workHead; it; prevw = it, it = it->next) {
            if (!it->key->busy) { w = it; break; }
        }
        if (!w) {
            SleepConditionVariableCS(&g_workCv, &g_cs, INFINITE);
            continue;
        }
        (void)pp;
        if (prevw) prevw->next = w->next; else g_workHead = w->next;
        if (g_workTail == w) g_workTail = prevw;
        w->key->busy = 1;
        g_idleWorkers--;
        LeaveCriticalSection(&g_cs);
        if (w->kind == 1) deliver_op(w->o);
        else deliver_event(w->hh, w->type, w->data);
        EnterCriticalSection(&g_cs);
        w->key->busy = 0;
        g_idleWorkers++;
        if (w->o) op_release(w->o);
        if (w->hh) hobj_release(w->hh);
        free(w->data);
        free(w);
        WakeAllConditionVariable(&g_workCv);
    }
    return 0;
}

/* ------------------------------------------------------------------ operation completion */
static void op_complete(op *o, HRESULT hr, const char *doc, jv *pi) {
    /* g_cs held; o is in the pending list */
    op **pp = &g_pendingOps;
    while (*pp && *pp != o) pp = &(*pp)->nextPending;
    if (!*pp) return;
    *pp = o->nextPending;
    o->state = 2;
    o->hr = hr;
    free(o->doc);
    o->doc = doc ? u2w(doc) : NULL;
    if (pi) {
        long long v;
        o->hasPi = 1;
        memset(&o->pi, 0, sizeof o->pi);
        if (jgeti(pi, "ProcessId", &v)) o->pi.ProcessId = (DWORD)v;
        if (jgeti(pi, "StdInput", &v)) o->pi.StdInput = (HANDLE)(ULONG_PTR)v;
        if (jgeti(pi, "StdOutput", &v)) o->pi.StdOutput = (HANDLE)(ULONG_PTR)v;
        if (jgeti(pi, "StdError", &v)) o->pi.StdError = (HANDLE)(ULONG_PTR)v;
    } else if (o->type == HcsOperationTypeCreateProcess || o->type == HcsOperationTypeGetProcessInfo) {
        o->hasPi = 1;
        memset(&o->pi, 0, sizeof o->pi);
    }
    if (o->closed) {
        /* abandoned: nobody can collect the stdio handles any more */
        if (o->hasPi) {
            if (o->pi.StdInput) CloseHandle(o->pi.StdInput);
            if (o->pi.StdOutput) CloseHandle(o->pi.StdOutput);
            if (o->pi.StdError) CloseHandle(o->pi.StdError);
            memset(&o->pi, 0, sizeof o->pi);
        }
        SetEvent(o->doneEv);
        op_release(o); /* the pending list's reference */
        return;
    }
    SetEvent(o->doneEv);
    work *w = calloc(1, sizeof *w);
    w->kind = 1; w->key = &o->h; w->o = o; /* takes the pending list's reference */
    enqueue(w);
}

/* ------------------------------------------------------------------ connection */
static void on_disconnect(conn *c) {
    EnterCriticalSection(&g_cs);
    c->dead = 1;
    if (g_conn == c) { g_conn = NULL; conn_release(c); }
    for (waiter *w = g_waiters; w; w = w->next)
        if (w->c == c && !w->done) { w->done = 1; w->resp = NULL; SetEvent(w->ev); }
    char *doc = result_error_doc(HCS_E_SERVICE_DISCONNECT, "The connection to the compute service was lost");
    for (;;) {
        op *o = g_pendingOps;
        while (o && o->c != c) o = o->nextPending;
        if (!o) break;
        op_complete(o, HCS_E_SERVICE_DISCONNECT, doc, NULL);
    }
    free(doc);
    for (hobj *h = g_hobjs; h; h = h->nextH) {
        if (h->c != c || h->disconnected) continue;
        h->disconnected = 1;
        SetEvent(h->exitEv);
        if (h->cb && !h->closed) {
            work *w = calloc(1, sizeof *w);
            w->kind = 2; w->key = &h->h; w->hh = h; h->h.refs++;
            w->type = HcsEventServiceDisconnect; w->data = NULL;
            enqueue(w);
        }
    }
    LeaveCriticalSection(&g_cs);
}

static hobj *find_hobj(conn *c, ULONGLONG sid) {
    for (hobj *h = g_hobjs; h; h = h->nextH) if (h->c == c && h->sid == sid) return h;
    return NULL;
}

static DWORD WINAPI reader_main(void *arg) {
    conn *c = arg;
    for (;;) {
        char *msg = wire_read(c->pipe, c->stopEv);
        if (!msg) break;
        char err[128];
        jv *m = json_parse(msg, err, sizeof err);
        free(msg);
        if (!m) continue;
        const char *t = jgets(m, "T");
        long long v;
        if (t && !strcmp(t, "Disconnect")) { json_free(m); break; }
        EnterCriticalSection(&g_cs);
        if (t && !strcmp(t, "Ack")) {
            ULONGLONG id = jgeti(m, "Id", &v) ? (ULONGLONG)v : 0;
            for (waiter *w = g_waiters; w; w = w->next)
                if (w->c == c && w->id == id && !w->done) { w->done = 1; w->resp = m; m = NULL; SetEvent(w->ev); break; }
        } else if (t && !strcmp(t, "Done")) {
            ULONGLONG id = jgeti(m, "Op", &v) ? (ULONGLONG)v : 0;
            op *o = g_pendingOps;
            while (o && !(o->c == c && o->id == id)) o = o->nextPending;
            if (o) {
                jgeti(m, "HResult", &v);
                op_complete(o, (HRESULT)(LONG)v, jgets(m, "Doc"), jget(m, "Pi"));
            } else {
                /* completion of an operation this DLL no longer tracks: close any stdio handles it carries */
                jv *pi = jget(m, "Pi");
                const char *names[] = { "StdInput", "StdOutput", "StdError" };
                for (int i = 0; pi && i < 3; i++) if (jgeti(pi, names[i], &v) && v) CloseHandle((HANDLE)(ULONG_PTR)v);
            }
        } else if (t && !strcmp(t, "Event")) {
            jgeti(m, "Type", &v);
            HCS_EVENT_TYPE type = (HCS_EVENT_TYPE)v;
            const char *data = jgets(m, "Data");
            jv *hs = jget(m, "Handles");
            for (jv *x = hs ? hs->child : NULL; x; x = x->next) {
                hobj *h = find_hobj(c, (ULONGLONG)x->i);
                if (!h) continue;
                if (type == HcsEventSystemExited || type == HcsEventProcessExited) {
                    if (!h->exited) {
                        h->exited = 1;
                        free(h->exitDoc);
                        h->exitDoc = u2w(data);
                        SetEvent(h->exitEv);
                    }
                }
                if (h->cb && !h->closed) {
                    work *w = calloc(1, sizeof *w);
                    w->kind = 2; w->key = &h->h; w->hh = h; h->h.refs++;
                    w->type = type; w->data = u2w(data);
                    enqueue(w);
                }
            }
        }
        LeaveCriticalSection(&g_cs);
        json_free(m);
    }
    on_disconnect(c);
    conn_release(c); /* the reader's reference */
    return 0;
}

static HRESULT conn_send(conn *c, const char *msg) {
    EnterCriticalSection(&c->wlock);
    BOOL ok = !c->dead && wire_write(c->pipe, msg, (DWORD)strlen(msg));
    LeaveCriticalSection(&c->wlock);
    return ok ? S_OK : HCS_E_SERVICE_DISCONNECT;
}

/* Sends a request (fields already in b, without the leading '{' and the Id) and waits for the Ack. */
static HRESULT call(conn *c, sb *fields, jv **resp) {
    *resp = NULL;
    waiter w; memset(&w, 0, sizeof w);
    w.c = c;
    w.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    EnterCriticalSection(&g_cs);
    if (c->dead) { LeaveCriticalSection(&g_cs); CloseHandle(w.ev); return HCS_E_SERVICE_DISCONNECT; }
    w.id = ++g_reqSeq;
    w.next = g_waiters; g_waiters = &w;
    LeaveCriticalSection(&g_cs);
    sb b; sb_init(&b);
    sb_printf(&b, "{\"T\":\"Req\",\"Id\":%llu,", w.id);
    sb_putn(&b, fields->p ? fields->p : "", fields->n);
    sb_puts(&b, "}");
    HRESULT hr = conn_send(c, b.p);
    sb_free(&b);
    if (SUCCEEDED(hr)) WaitForSingleObject(w.ev, INFINITE);
    EnterCriticalSection(&g_cs);
    waiter **pp = &g_waiters;
    while (*pp && *pp != &w) pp = &(*pp)->next;
    if (*pp) *pp = w.next;
    LeaveCriticalSection(&g_cs);
    CloseHandle(w.ev);
    if (FAILED(hr)) return hr;
    if (!w.resp) return HCS_E_SERVICE_DISCONNECT;
    long long v = 0;
    jgeti(w.resp, "HResult", &v);
    *resp = w.resp;
    return (HRESULT)(LONG)v;
}

static void get_instance(WCHAR *out, DWORD n) {
    if (!GetEnvironmentVariableW(L"HCSSIM_INSTANCE", out, n) || !out[0]) wcscpy(out, L"default");
}

static HANDLE try_open_pipe(const WCHAR *name, DWORD *err) {
    for (int i = 0; i < 50; i++) {
        HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
        if (h != INVALID_HANDLE_VALUE) return h;
        *err = GetLastError();
        if (*err != ERROR_PIPE_BUSY) return NULL;
        WaitNamedPipeW(name, 200);
    }
    return NULL;
}

static BOOL start_service(const WCHAR *instance) {
    WCHAR path[MAX_PATH + 64];
    DWORD n = GetModuleFileNameW(g_module, path, MAX_PATH);
    if (!n || n >= MAX_PATH) return FALSE;
    WCHAR *slash = wcsrchr(path, L'\\');
    if (!slash) slash = wcsrchr(path, L'/');
    wcscpy(slash ? slash + 1 : path, L"hcssim-service.exe");
    WCHAR cmd[MAX_PATH * 2];
    swprintf(cmd, MAX_PATH * 2, L"\"%ls\" %ls", path, instance);
    STARTUPINFOW si; memset(&si, 0, sizeof si); si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    DWORD flags = CREATE_NO_WINDOW | DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP;
    BOOL ok = CreateProcessW(path, cmd, NULL, NULL, FALSE, flags | CREATE_BREAKAWAY_FROM_JOB, NULL, NULL, &si, &pi);
    if (!ok) ok = CreateProcessW(path, cmd, NULL, NULL, FALSE, flags, NULL, NULL, &si, &pi);
    if (!ok) return FALSE;
    CloseHandle(pi.hThread); CloseHandle(pi.hProcess);
    return TRUE;
}

/* Returns a referenced live connection, connecting (and starting the service) if needed. */
static conn *get_conn(HRESULT *phr) {
    EnterCriticalSection(&g_cs);
    conn *c = g_conn;
    if (c && !c->dead) { InterlockedIncrement(&c->refs); LeaveCriticalSection(&g_cs); return c; }
    LeaveCriticalSection(&g_cs);
    EnterCriticalSection(&g_connCs);
    EnterCriticalSection(&g_cs);
    c = g_conn;
    if (c && !c->dead) { InterlockedIncrement(&c->refs); LeaveCriticalSection(&g_cs); LeaveCriticalSection(&g_connCs); return c; }
    LeaveCriticalSection(&g_cs);
    WCHAR inst[128], name[200], mname[200];
    get_instance(inst, 128);
    swprintf(name, 200, L"\\\\.\\pipe\\hcssim-%ls", inst);
    swprintf(mname, 200, L"Local\\hcssim-start-%ls", inst);
    HANDLE pipe = NULL;
    DWORD err = 0;
    pipe = try_open_pipe(name, &err);
    if (!pipe) {
        HANDLE mtx = CreateMutexW(NULL, FALSE, mname);
        if (mtx) WaitForSingleObject(mtx, 30000);
        ULONGLONG start = now_ms(), lastSpawn = 0;
        while (!pipe && now_ms() - start < 20000) {
            pipe = try_open_pipe(name, &err);
            if (pipe) break;
            if (!lastSpawn || now_ms() - lastSpawn > 3000) {
                if (!start_service(inst)) break;
                lastSpawn = now_ms();
            }
            Sleep(20);
        }
        if (mtx) { ReleaseMutex(mtx); CloseHandle(mtx); }
    }
    if (!pipe) { LeaveCriticalSection(&g_connCs); *phr = HCS_E_SERVICE_DISCONNECT; return NULL; }
    c = calloc(1, sizeof *c);
    c->pipe = pipe;
    c->stopEv = CreateEventW(NULL, TRUE, FALSE, NULL);
    c->refs = 3; /* g_conn, reader, caller */
    InitializeCriticalSection(&c->wlock);
    HANDLE t = CreateThread(NULL, 256 * 1024, reader_main, c, 0, NULL);
    if (!t) { LeaveCriticalSection(&g_connCs); free(c); CloseHandle(pipe); *phr = E_OUTOFMEMORY; return NULL; }
    CloseHandle(t);
    EnterCriticalSection(&g_cs);
    g_conn = c;
    LeaveCriticalSection(&g_cs);
    sb f; sb_init(&f);
    sb_printf(&f, "\"Fn\":\"Hello\",\"Pid\":%lu", GetCurrentProcessId());
    jv *resp;
    HRESULT hr = call(c, &f, &resp);
    sb_free(&f);
    if (resp) { long long v; if (jgeti(resp, "ServicePid", &v)) c->servicePid = (DWORD)v; json_free(resp); }
    LeaveCriticalSection(&g_connCs);
    if (FAILED(hr)) { conn_release(c); *phr = hr; return NULL; }
    return c;
}

/* ------------------------------------------------------------------ helpers for exports */
static hobj *new_hobj(int kind, conn *c, ULONGLONG sid) {
    hobj *h = calloc(1, sizeof *h);
    reg_add(&h->h, kind);
    h->c = c; InterlockedIncrement(&c->refs);
    h->sid = sid;
    h->drained = CreateEventW(NULL, TRUE, TRUE, NULL);
    h->exitEv = CreateEventW(NULL, TRUE, FALSE, NULL);
    h->nextH = g_hobjs; g_hobjs = h;
    if (kind == K_SYS) g_audit.sysOpened++; else g_audit.procOpened++;
    return h;
}

/* validates and references a handle; returns E_HANDLE / HCS_E_SERVICE_DISCONNECT on failure */
static HRESULT ref_hobj(void *p, int kind, hobj **out) {
    EnterCriticalSection(&g_cs);
    if (!p || !reg_has(p, kind)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    hobj *h = p;
    if (h->c->dead || h->disconnected) { LeaveCriticalSection(&g_cs); return HCS_E_SERVICE_DISCONNECT; }
    h->h.refs++;
    *out = h;
    LeaveCriticalSection(&g_cs);
    return S_OK;
}
static void unref_hobj(hobj *h) { EnterCriticalSection(&g_cs); hobj_release(h); LeaveCriticalSection(&g_cs); }

static void put_str_field(sb *b, const char *name, PCWSTR w) {
    if (!w) return;
    char *u = w2u(w);
    sb_printf(b, ",\"%s\":", name);
    sb_jstr(b, u);
    free(u);
}

/* Common path for every asynchronous function. */
static HRESULT async_call(const char *fn, HCS_OPERATION_TYPE type, HCS_OPERATION operation, hobj *sys, hobj *proc, conn *c,
                          sb *extra, ULONGLONG *newSid) {
    if (newSid) *newSid = 0;
    EnterCriticalSection(&g_cs);
    if (!operation || !reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    op *o = (op *)operation;
    if (o->state == 1) { LeaveCriticalSection(&g_cs); return HCS_E_OPERATION_ALREADY_STARTED; }
    hobj *target = proc ? proc : sys;
    if (o->cb && target && target->cb && (target->options & HcsEventOptionEnableOperationCallbacks)) {
        LeaveCriticalSection(&g_cs); return HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET;
    }
    /* (re)start the operation */
    if (o->state == 2 && o->hasPi && !o->piReturned) {
        if (o->pi.StdInput) CloseHandle(o->pi.StdInput);
        if (o->pi.StdOutput) CloseHandle(o->pi.StdOutput);
        if (o->pi.StdError) CloseHandle(o->pi.StdError);
    }
    free(o->doc); o->doc = NULL;
    o->hr = S_OK; o->hasPi = 0; o->piReturned = 0; o->cancelled = 0;
    memset(&o->pi, 0, sizeof o->pi);
    hobj_release(o->sys); hobj_release(o->proc);
    o->sys = sys; o->proc = proc;
    if (sys) sys->h.refs++;
    if (proc) proc->h.refs++;
    if (o->c) conn_release(o->c);
    o->c = c; InterlockedIncrement(&c->refs);
    o->state = 1;
    o->type = type;
    o->id = ++g_opSeq;
    ResetEvent(o->doneEv);
    o->h.refs++;
    o->nextPending = g_pendingOps; g_pendingOps = o;
    ULONGLONG opid = o->id;
    LeaveCriticalSection(&g_cs);

    sb f; sb_init(&f);
    sb_printf(&f, "\"Fn\":\"%s\",\"Op\":%llu", fn, opid);
    if (target) sb_printf(&f, ",\"H\":%llu", target->sid);
    if (extra && extra->n) sb_putn(&f, extra->p, extra->n);
    jv *resp = NULL;
    HRESULT hr = call(c, &f, &resp);
    sb_free(&f);
    long long v;
    if (resp && newSid && jgeti(resp, "H", &v)) *newSid = (ULONGLONG)v;
    json_free(resp);
    if (FAILED(hr)) {
        EnterCriticalSection(&g_cs);
        /* rejected: the operation goes back to not started (if it is still pending) */
        op **pp = &g_pendingOps;
        while (*pp && *pp != o) pp = &(*pp)->nextPending;
        if (*pp && hr != HCS_E_SERVICE_DISCONNECT) {
            *pp = o->nextPending;
            o->state = 0;
            o->id = HCS_INVALID_OPERATION_ID;
            op_release(o);
        } else if (*pp && c->dead) {
            /* the connection died before (or while) the request was sent: complete it here */
            char *doc = result_error_doc(HCS_E_SERVICE_DISCONNECT, "The connection to the compute service was lost");
            op_complete(o, HCS_E_SERVICE_DISCONNECT, doc, NULL);
            free(doc);
        }
        LeaveCriticalSection(&g_cs);
        if (hr == HCS_E_SERVICE_DISCONNECT) return S_OK; /* accepted; it completes with HCS_E_SERVICE_DISCONNECT */
    }
    return hr;
}

/* ------------------------------------------------------------------ DllMain */
BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        g_module = inst;
        DisableThreadLibraryCalls(inst);
        InitializeCriticalSection(&g_cs);
        InitializeCriticalSection(&g_connCs);
        InitializeConditionVariable(&g_workCv);
        g_tls = TlsAlloc();
    }
    return TRUE;
}

/* ================================================================== operations */
EXPORT HCS_OPERATION WINAPI HcsCreateOperation(const void *context, HCS_OPERATION_COMPLETION callback) {
    op *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->ctx = (void *)context;
    o->cb = callback;
    o->id = HCS_INVALID_OPERATION_ID;
    o->type = HcsOperationTypeNone;
    o->doneEv = CreateEventW(NULL, TRUE, FALSE, NULL);
    o->cbDoneEv = CreateEventW(NULL, TRUE, TRUE, NULL);
    EnterCriticalSection(&g_cs);
    reg_add(&o->h, K_OP);
    g_audit.opsCreated++;
    LeaveCriticalSection(&g_cs);
    return (HCS_OPERATION)o;
}

EXPORT void WINAPI HcsCloseOperation(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    if (!operation || !reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return; }
    op *o = (op *)operation;
    reg_remove(&o->h);
    o->closed = 1;
    g_audit.opsClosed++;
    if (o->cbRunning && o->cbThread != GetCurrentThreadId() && TlsGetValue(g_tls) != (void *)o) {
        LeaveCriticalSection(&g_cs);
        DWORD w = WaitForSingleObject(o->cbDoneEv, close_wait_ms());
        EnterCriticalSection(&g_cs);
        if (w != WAIT_OBJECT_0)
            violation("HcsCloseOperation waited %lu ms for the operation's in-flight completion callback and gave up: probably called "
                      "from inside that callback on another thread (e.g. a koffi callback relayed to the JS thread); real HCS may deadlock here",
                      (unsigned long)close_wait_ms());
    }
    if (o->state == 2 && o->hasPi && !o->piReturned) {
        if (o->pi.StdInput) CloseHandle(o->pi.StdInput);
        if (o->pi.StdOutput) CloseHandle(o->pi.StdOutput);
        if (o->pi.StdError) CloseHandle(o->pi.StdError);
        memset(&o->pi, 0, sizeof o->pi);
    }
    op_release(o);
    LeaveCriticalSection(&g_cs);
}

EXPORT void *WINAPI HcsGetOperationContext(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    void *r = reg_has(operation, K_OP) ? ((op *)operation)->ctx : NULL;
    LeaveCriticalSection(&g_cs);
    return r;
}
EXPORT HRESULT WINAPI HcsSetOperationContext(HCS_OPERATION operation, const void *context) {
    EnterCriticalSection(&g_cs);
    if (!reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    ((op *)operation)->ctx = (void *)context;
    LeaveCriticalSection(&g_cs);
    return S_OK;
}
EXPORT HRESULT WINAPI HcsSetOperationCallback(HCS_OPERATION operation, const void *context, HCS_OPERATION_COMPLETION callback) {
    EnterCriticalSection(&g_cs);
    if (!reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    op *o = (op *)operation;
    if (o->state == 1) { LeaveCriticalSection(&g_cs); return HCS_E_OPERATION_ALREADY_STARTED; }
    o->ctx = (void *)context;
    o->cb = callback;
    LeaveCriticalSection(&g_cs);
    return S_OK;
}
EXPORT HCS_SYSTEM WINAPI HcsGetComputeSystemFromOperation(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    HCS_SYSTEM r = NULL;
    if (reg_has(operation, K_OP)) { op *o = (op *)operation; if (o->sys && !o->sys->closed) r = (HCS_SYSTEM)o->sys; }
    LeaveCriticalSection(&g_cs);
    return r;
}
EXPORT HCS_PROCESS WINAPI HcsGetProcessFromOperation(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    HCS_PROCESS r = NULL;
    if (reg_has(operation, K_OP)) { op *o = (op *)operation; if (o->proc && !o->proc->closed) r = (HCS_PROCESS)o->proc; }
    LeaveCriticalSection(&g_cs);
    return r;
}
EXPORT HCS_OPERATION_TYPE WINAPI HcsGetOperationType(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    HCS_OPERATION_TYPE t = reg_has(operation, K_OP) ? ((op *)operation)->type : HcsOperationTypeNone;
    LeaveCriticalSection(&g_cs);
    return t;
}
EXPORT UINT64 WINAPI HcsGetOperationId(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    UINT64 id = reg_has(operation, K_OP) ? ((op *)operation)->id : HCS_INVALID_OPERATION_ID;
    LeaveCriticalSection(&g_cs);
    return id;
}

static HRESULT collect(op *o, HCS_PROCESS_INFORMATION *pi, PWSTR *doc, int wantPi) {
    /* g_cs held, o completed */
    if (wantPi) {
        if (!o->hasPi) return E_INVALIDARG;
        if (pi) {
            *pi = o->pi;
            if (!o->piReturned) {
                o->piReturned = 1;
                track_stdio(o->pi.StdInput); track_stdio(o->pi.StdOutput); track_stdio(o->pi.StdError);
            }
        }
    }
    if (doc) *doc = o->doc ? out_string(o->doc, 1) : NULL;
    return o->hr;
}

static HRESULT get_result(HCS_OPERATION operation, HCS_PROCESS_INFORMATION *pi, PWSTR *doc, int wantPi) {
    if (doc) *doc = NULL;
    if (pi) memset(pi, 0, sizeof *pi);
    EnterCriticalSection(&g_cs);
    if (!reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    op *o = (op *)operation;
    HRESULT hr;
    if (wantPi && o->state != 0 && o->type != HcsOperationTypeCreateProcess && o->type != HcsOperationTypeGetProcessInfo) hr = E_INVALIDARG;
    else if (o->state == 0) hr = HCS_E_OPERATION_NOT_STARTED;
    else if (o->state == 1) hr = HCS_E_OPERATION_PENDING;
    else hr = collect(o, pi, doc, wantPi);
    LeaveCriticalSection(&g_cs);
    return hr;
}
EXPORT HRESULT WINAPI HcsGetOperationResult(HCS_OPERATION operation, PWSTR *resultDocument) {
    return get_result(operation, NULL, resultDocument, 0);
}
EXPORT HRESULT WINAPI HcsGetOperationResultAndProcessInfo(HCS_OPERATION operation, HCS_PROCESS_INFORMATION *processInformation, PWSTR *resultDocument) {
    return get_result(operation, processInformation, resultDocument, 1);
}
static HRESULT wait_result(HCS_OPERATION operation, DWORD timeoutMs, HCS_PROCESS_INFORMATION *pi, PWSTR *doc, int wantPi) {
    if (doc) *doc = NULL;
    if (pi) memset(pi, 0, sizeof *pi);
    EnterCriticalSection(&g_cs);
    if (!reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    op *o = (op *)operation;
    if (o->state == 0) { LeaveCriticalSection(&g_cs); return HCS_E_OPERATION_NOT_STARTED; }
    if (wantPi && o->type != HcsOperationTypeCreateProcess && o->type != HcsOperationTypeGetProcessInfo) { LeaveCriticalSection(&g_cs); return E_INVALIDARG; }
    o->h.refs++;
    HANDLE ev = o->doneEv;
    LeaveCriticalSection(&g_cs);
    DWORD w = WaitForSingleObject(ev, timeoutMs);
    EnterCriticalSection(&g_cs);
    HRESULT hr;
    if (w != WAIT_OBJECT_0 || o->state != 2) hr = HCS_E_OPERATION_TIMEOUT;
    else if (o->closed) hr = E_HANDLE;
    else hr = collect(o, pi, doc, wantPi);
    op_release(o);
    LeaveCriticalSection(&g_cs);
    return hr;
}
EXPORT HRESULT WINAPI HcsWaitForOperationResult(HCS_OPERATION operation, DWORD timeoutMs, PWSTR *resultDocument) {
    return wait_result(operation, timeoutMs, NULL, resultDocument, 0);
}
EXPORT HRESULT WINAPI HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, DWORD timeoutMs, HCS_PROCESS_INFORMATION *processInformation, PWSTR *resultDocument) {
    return wait_result(operation, timeoutMs, processInformation, resultDocument, 1);
}

EXPORT HRESULT WINAPI HcsCancelOperation(HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    if (!reg_has(operation, K_OP)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    op *o = (op *)operation;
    o->h.refs++;
    conn *c = o->c;
    int state = o->state, cancelled = o->cancelled;
    ULONGLONG id = o->id;
    if (c) InterlockedIncrement(&c->refs);
    LeaveCriticalSection(&g_cs);
    HRESULT hr = S_OK;
    if (!c) {
        /* never used: ask the service anyway so that CancelNotImplemented applies */
        c = get_conn(&hr);
    }
    if (c && !c->dead) {
        sb f; sb_init(&f);
        sb_printf(&f, "\"Fn\":\"Cancel\",\"Op\":%llu", (state == 1 && !cancelled) ? id : 0ULL);
        jv *r = NULL;
        hr = call(c, &f, &r);
        sb_free(&f); json_free(r);
    }
    if (hr != E_NOTIMPL) {
        if (state == 0) hr = HCS_E_OPERATION_NOT_STARTED;
        else if (cancelled) hr = HCS_E_OPERATION_ALREADY_CANCELLED;
        else if (state == 2) hr = S_OK;
        else {
            EnterCriticalSection(&g_cs);
            if (o->id == id) o->cancelled = 1;
            LeaveCriticalSection(&g_cs);
            hr = S_OK;
        }
    }
    EnterCriticalSection(&g_cs);
    if (c) conn_release(c);
    op_release(o);
    LeaveCriticalSection(&g_cs);
    return hr;
}

/* ================================================================== compute systems */
static HRESULT create_system(PCWSTR id, PCWSTR configuration, HCS_OPERATION operation, HCS_SYSTEM *computeSystem) {
    if (computeSystem) *computeSystem = NULL;
    if (!id || !computeSystem) return E_INVALIDARG;
    EnterCriticalSection(&g_cs);
    int okop = operation && reg_has(operation, K_OP);
    LeaveCriticalSection(&g_cs);
    if (!okop) return E_HANDLE;
    HRESULT hr;
    conn *c = get_conn(&hr);
    if (!c) return hr;
    sb x; sb_init(&x);
    put_str_field(&x, "SysId", id);
    put_str_field(&x, "Doc", configuration);
    ULONGLONG sid;
    hr = async_call("HcsCreateComputeSystem", HcsOperationTypeCreate, operation, NULL, NULL, c, &x, &sid);
    sb_free(&x);
    if (SUCCEEDED(hr)) {
        EnterCriticalSection(&g_cs);
        hobj *h = new_hobj(K_SYS, c, sid);
        op *o = (op *)operation;
        if (reg_has(operation, K_OP) && !o->sys) { o->sys = h; h->h.refs++; }
        if (c->dead) h->disconnected = 1;
        LeaveCriticalSection(&g_cs);
        *computeSystem = (HCS_SYSTEM)h;
    }
    conn_release(c);
    return hr;
}
EXPORT HRESULT WINAPI HcsCreateComputeSystem(PCWSTR id, PCWSTR configuration, HCS_OPERATION operation, const SECURITY_DESCRIPTOR *securityDescriptor, HCS_SYSTEM *computeSystem) {
    (void)securityDescriptor;
    return create_system(id, configuration, operation, computeSystem);
}

EXPORT HRESULT WINAPI HcsOpenComputeSystem(PCWSTR id, DWORD requestedAccess, HCS_SYSTEM *computeSystem) {
    (void)requestedAccess;
    if (computeSystem) *computeSystem = NULL;
    if (!id || !computeSystem) return E_INVALIDARG;
    HRESULT hr;
    conn *c = get_conn(&hr);
    if (!c) return hr;
    sb f; sb_init(&f);
    sb_puts(&f, "\"Fn\":\"HcsOpenComputeSystem\"");
    put_str_field(&f, "SysId", id);
    jv *resp;
    hr = call(c, &f, &resp);
    sb_free(&f);
    long long v;
    if (SUCCEEDED(hr) && resp && jgeti(resp, "H", &v)) {
        EnterCriticalSection(&g_cs);
        hobj *h = new_hobj(K_SYS, c, (ULONGLONG)v);
        const char *ed = jgets(resp, "ExitDoc");
        if (ed) { h->exited = 1; h->exitDoc = u2w(ed); SetEvent(h->exitEv); }
        LeaveCriticalSection(&g_cs);
        *computeSystem = (HCS_SYSTEM)h;
    }
    json_free(resp);
    conn_release(c);
    return hr;
}

static void close_hobj(void *p, int kind) {
    EnterCriticalSection(&g_cs);
    if (!p || !reg_has(p, kind)) { LeaveCriticalSection(&g_cs); return; }
    hobj *h = p;
    reg_remove(&h->h);
    h->closed = 1;
    if (h->cb) g_audit.eventRegs--;
    h->cb = NULL; h->ctx = NULL;
    if (kind == K_SYS) g_audit.sysClosed++; else g_audit.procClosed++;
    if (TlsGetValue(g_tls) == (void *)h) {
        violation("%s called from inside an event callback of the same handle (not waiting for in-flight callbacks)",
                  kind == K_SYS ? "HcsCloseComputeSystem" : "HcsCloseProcess");
    } else {
        ULONGLONG deadline = now_ms() + close_wait_ms();
        while (h->inflight > 0) {
            ULONGLONG now = now_ms();
            if (now >= deadline) {
                violation("%s waited %lu ms for an in-flight event callback of the same handle and gave up: probably called from inside "
                          "that callback on another thread (e.g. a koffi callback relayed to the JS thread); real HCS would deadlock here",
                          kind == K_SYS ? "HcsCloseComputeSystem" : "HcsCloseProcess", (unsigned long)close_wait_ms());
                break;
            }
            LeaveCriticalSection(&g_cs);
            WaitForSingleObject(h->drained, (DWORD)(deadline - now));
            EnterCriticalSection(&g_cs);
        }
    }
    conn *c = h->c;
    int live = !c->dead && !h->disconnected;
    ULONGLONG sid = h->sid;
    InterlockedIncrement(&c->refs);
    LeaveCriticalSection(&g_cs);
    if (live) {
        sb f; sb_init(&f);
        sb_printf(&f, "\"Fn\":\"CloseHandle\",\"H\":%llu", sid);
        jv *r; call(c, &f, &r); json_free(r); sb_free(&f);
    }
    EnterCriticalSection(&g_cs);
    conn_release(c);
    hobj_release(h);
    LeaveCriticalSection(&g_cs);
}
EXPORT void WINAPI HcsCloseComputeSystem(HCS_SYSTEM computeSystem) { close_hobj(computeSystem, K_SYS); }

static HRESULT sys_async(const char *fn, HCS_OPERATION_TYPE type, HCS_SYSTEM s, HCS_OPERATION operation, const char *field, PCWSTR arg) {
    hobj *h;
    HRESULT hr = ref_hobj(s, K_SYS, &h);
    if (FAILED(hr)) return hr;
    sb x; sb_init(&x);
    if (field) put_str_field(&x, field, arg);
    hr = async_call(fn, type, operation, h, NULL, h->c, &x, NULL);
    sb_free(&x);
    unref_hobj(h);
    return hr;
}
EXPORT HRESULT WINAPI HcsStartComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsStartComputeSystem", HcsOperationTypeStart, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsShutDownComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsShutDownComputeSystem", HcsOperationTypeShutdown, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsTerminateComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsTerminateComputeSystem", HcsOperationTypeTerminate, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsCrashComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsCrashComputeSystem", HcsOperationTypeCrash, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsPauseComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsPauseComputeSystem", HcsOperationTypePause, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsResumeComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsResumeComputeSystem", HcsOperationTypeResume, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsSaveComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR options) { return sys_async("HcsSaveComputeSystem", HcsOperationTypeSave, s, o, "Options", options); }
EXPORT HRESULT WINAPI HcsGetComputeSystemProperties(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR propertyQuery) { return sys_async("HcsGetComputeSystemProperties", HcsOperationTypeGetProperties, s, o, "Query", propertyQuery); }
EXPORT HRESULT WINAPI HcsModifyComputeSystem(HCS_SYSTEM s, HCS_OPERATION o, PCWSTR configuration, HANDLE identity) {
    (void)identity;
    if (!configuration) return E_INVALIDARG;
    return sys_async("HcsModifyComputeSystem", HcsOperationTypeModify, s, o, "Doc", configuration);
}

EXPORT HRESULT WINAPI HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, DWORD timeoutMs, PWSTR *result) {
    if (result) *result = NULL;
    hobj *h;
    HRESULT hr = ref_hobj(computeSystem, K_SYS, &h);
    if (FAILED(hr)) return hr;
    DWORD w = WaitForSingleObject(h->exitEv, timeoutMs);
    EnterCriticalSection(&g_cs);
    if (w != WAIT_OBJECT_0) hr = HCS_E_OPERATION_TIMEOUT;
    else if (h->exited) { hr = S_OK; if (result) *result = out_string(h->exitDoc, 1); }
    else hr = HCS_E_SERVICE_DISCONNECT;
    hobj_release(h);
    LeaveCriticalSection(&g_cs);
    return hr;
}

static HRESULT set_callback(void *p, int kind, HCS_EVENT_OPTIONS options, const void *context, HCS_EVENT_CALLBACK callback) {
    EnterCriticalSection(&g_cs);
    if (!p || !reg_has(p, kind)) { LeaveCriticalSection(&g_cs); return E_HANDLE; }
    hobj *h = p;
    if (h->c->dead || h->disconnected) { LeaveCriticalSection(&g_cs); return HCS_E_SERVICE_DISCONNECT; }
    if (h->cb && !callback) g_audit.eventRegs--;
    if (!h->cb && callback) g_audit.eventRegs++;
    h->cb = callback;
    h->ctx = (void *)context;
    h->options = (DWORD)options;
    LeaveCriticalSection(&g_cs);
    return S_OK;
}
EXPORT HRESULT WINAPI HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem, HCS_EVENT_OPTIONS callbackOptions, const void *context, HCS_EVENT_CALLBACK callback) {
    return set_callback(computeSystem, K_SYS, callbackOptions, context, callback);
}

EXPORT HRESULT WINAPI HcsEnumerateComputeSystems(PCWSTR query, HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    int okop = operation && reg_has(operation, K_OP);
    LeaveCriticalSection(&g_cs);
    if (!okop) return E_HANDLE;
    HRESULT hr;
    conn *c = get_conn(&hr);
    if (!c) return hr;
    sb x; sb_init(&x);
    put_str_field(&x, "Query", query);
    hr = async_call("HcsEnumerateComputeSystems", HcsOperationTypeEnumerate, operation, NULL, NULL, c, &x, NULL);
    sb_free(&x);
    conn_release(c);
    return hr;
}

/* not simulated (asynchronous): accepted, completes with E_NOTIMPL */
static HRESULT not_simulated_async(const char *fn, HCS_OPERATION_TYPE type, HCS_OPERATION operation) {
    EnterCriticalSection(&g_cs);
    int okop = operation && reg_has(operation, K_OP);
    LeaveCriticalSection(&g_cs);
    if (!okop) return E_HANDLE;
    HRESULT hr;
    conn *c = get_conn(&hr);
    if (!c) return hr;
    hr = async_call(fn, type, operation, NULL, NULL, c, NULL, NULL);
    conn_release(c);
    return hr;
}
EXPORT HRESULT WINAPI HcsEnumerateComputeSystemsInNamespace(PCWSTR idNamespace, PCWSTR query, HCS_OPERATION operation) {
    (void)idNamespace; (void)query;
    return not_simulated_async("HcsEnumerateComputeSystemsInNamespace", HcsOperationTypeEnumerate, operation);
}
EXPORT HRESULT WINAPI HcsCreateComputeSystemInNamespace(PCWSTR idNamespace, PCWSTR id, PCWSTR configuration, HCS_OPERATION operation, const HCS_CREATE_OPTIONS *options, HCS_SYSTEM *computeSystem) {
    (void)idNamespace; (void)id; (void)configuration; (void)options;
    if (computeSystem) *computeSystem = NULL;
    return not_simulated_async("HcsCreateComputeSystemInNamespace", HcsOperationTypeCreate, operation);
}
EXPORT HRESULT WINAPI HcsOpenComputeSystemInNamespace(PCWSTR idNamespace, PCWSTR id, DWORD requestedAccess, HCS_SYSTEM *computeSystem) {
    (void)idNamespace; (void)id; (void)requestedAccess;
    if (computeSystem) *computeSystem = NULL;
    return E_NOTIMPL;
}

/* ================================================================== processes */
EXPORT HRESULT WINAPI HcsCreateProcess(HCS_SYSTEM computeSystem, PCWSTR processParameters, HCS_OPERATION operation, const SECURITY_DESCRIPTOR *securityDescriptor, HCS_PROCESS *process) {
    (void)securityDescriptor;
    if (process) *process = NULL;
    if (!process || !processParameters) return E_INVALIDARG;
    hobj *s;
    HRESULT hr = ref_hobj(computeSystem, K_SYS, &s);
    if (FAILED(hr)) return hr;
    sb x; sb_init(&x);
    put_str_field(&x, "Doc", processParameters);
    ULONGLONG sid;
    hr = async_call("HcsCreateProcess", HcsOperationTypeCreateProcess, operation, s, NULL, s->c, &x, &sid);
    sb_free(&x);
    if (SUCCEEDED(hr)) {
        EnterCriticalSection(&g_cs);
        hobj *p = new_hobj(K_PROC, s->c, sid);
        if (s->c->dead) p->disconnected = 1;
        op *o = (op *)operation;
        if (reg_has(operation, K_OP) && !o->proc) { o->proc = p; p->h.refs++; }
        hobj_release(s);
        LeaveCriticalSection(&g_cs);
        *process = (HCS_PROCESS)p;
        return hr;
    }
    unref_hobj(s);
    return hr;
}

EXPORT HRESULT WINAPI HcsOpenProcess(HCS_SYSTEM computeSystem, DWORD processId, DWORD requestedAccess, HCS_PROCESS *process) {
    (void)requestedAccess;
    if (process) *process = NULL;
    if (!process) return E_INVALIDARG;
    hobj *s;
    HRESULT hr = ref_hobj(computeSystem, K_SYS, &s);
    if (FAILED(hr)) return hr;
    sb f; sb_init(&f);
    sb_printf(&f, "\"Fn\":\"HcsOpenProcess\",\"H\":%llu,\"ProcessId\":%lu", s->sid, (unsigned long)processId);
    jv *resp;
    hr = call(s->c, &f, &resp);
    sb_free(&f);
    long long v;
    if (SUCCEEDED(hr) && resp && jgeti(resp, "H", &v)) {
        EnterCriticalSection(&g_cs);
        hobj *p = new_hobj(K_PROC, s->c, (ULONGLONG)v);
        p->pid = processId;
        if (jgetb(resp, "Exited", 0)) { p->exited = 1; p->exitDoc = u2w(jgets(resp, "ExitDoc")); SetEvent(p->exitEv); }
        LeaveCriticalSection(&g_cs);
        *process = (HCS_PROCESS)p;
    }
    json_free(resp);
    unref_hobj(s);
    return hr;
}
EXPORT void WINAPI HcsCloseProcess(HCS_PROCESS process) { close_hobj(process, K_PROC); }

static HRESULT proc_async(const char *fn, HCS_OPERATION_TYPE type, HCS_PROCESS p, HCS_OPERATION operation, PCWSTR arg) {
    hobj *h;
    HRESULT hr = ref_hobj(p, K_PROC, &h);
    if (FAILED(hr)) return hr;
    sb x; sb_init(&x);
    put_str_field(&x, "Options", arg);
    hr = async_call(fn, type, operation, NULL, h, h->c, &x, NULL);
    sb_free(&x);
    unref_hobj(h);
    return hr;
}
EXPORT HRESULT WINAPI HcsTerminateProcess(HCS_PROCESS p, HCS_OPERATION o, PCWSTR options) { return proc_async("HcsTerminateProcess", HcsOperationTypeSignalProcess, p, o, options); }
EXPORT HRESULT WINAPI HcsSignalProcess(HCS_PROCESS p, HCS_OPERATION o, PCWSTR options) { return proc_async("HcsSignalProcess", HcsOperationTypeSignalProcess, p, o, options); }
EXPORT HRESULT WINAPI HcsGetProcessInfo(HCS_PROCESS p, HCS_OPERATION o) { return proc_async("HcsGetProcessInfo", HcsOperationTypeGetProcessInfo, p, o, NULL); }
EXPORT HRESULT WINAPI HcsGetProcessProperties(HCS_PROCESS p, HCS_OPERATION o, PCWSTR propertyQuery) { return proc_async("HcsGetProcessProperties", HcsOperationTypeGetProcessProperties, p, o, propertyQuery); }
EXPORT HRESULT WINAPI HcsModifyProcess(HCS_PROCESS p, HCS_OPERATION o, PCWSTR settings) {
    if (!settings) return E_INVALIDARG;
    return proc_async("HcsModifyProcess", HcsOperationTypeModifyProcess, p, o, settings);
}
EXPORT HRESULT WINAPI HcsSetProcessCallback(HCS_PROCESS process, HCS_EVENT_OPTIONS callbackOptions, void *context, HCS_EVENT_CALLBACK callback) {
    return set_callback(process, K_PROC, callbackOptions, context, callback);
}
EXPORT HRESULT WINAPI HcsWaitForProcessExit(HCS_PROCESS computeSystem, DWORD timeoutMs, PWSTR *result) {
    if (result) *result = NULL;
    hobj *h;
    HRESULT hr = ref_hobj(computeSystem, K_PROC, &h);
    if (FAILED(hr)) return hr;
    DWORD w = WaitForSingleObject(h->exitEv, timeoutMs);
    EnterCriticalSection(&g_cs);
    if (w != WAIT_OBJECT_0) hr = HCS_E_OPERATION_TIMEOUT;
    else if (h->exited) { hr = S_OK; if (result) *result = out_string(h->exitDoc, 1); }
    else hr = HCS_E_SERVICE_DISCONNECT;
    hobj_release(h);
    LeaveCriticalSection(&g_cs);
    return hr;
}

/* ================================================================== service-level functions */
static HRESULT sync_service(const char *fn, const char *f1, PCWSTR a1, const char *f2, PCWSTR a2, PWSTR *result) {
    if (result) *result = NULL;
    HRESULT hr;
    conn *c = get_conn(&hr);
    if (!c) return hr;
    sb f; sb_init(&f);
    sb_printf(&f, "\"Fn\":\"%s\"", fn);
    if (f1) put_str_field(&f, f1, a1);
    if (f2) put_str_field(&f, f2, a2);
    jv *resp;
    hr = call(c, &f, &resp);
    sb_free(&f);
    const char *doc = resp ? jgets(resp, "Doc") : NULL;
    if (result && doc) *result = out_string_u(doc, 1);
    json_free(resp);
    conn_release(c);
    return hr;
}
EXPORT HRESULT WINAPI HcsGetServiceProperties(PCWSTR propertyQuery, PWSTR *result) {
    if (!result) return E_INVALIDARG;
    return sync_service("HcsGetServiceProperties", "Query", propertyQuery, NULL, NULL, result);
}
EXPORT HRESULT WINAPI HcsModifyServiceSettings(PCWSTR settings, PWSTR *result) {
    return sync_service("HcsModifyServiceSettings", "Doc", settings, NULL, NULL, result);
}
EXPORT HRESULT WINAPI HcsSubmitWerReport(PCWSTR settings) { return sync_service("HcsSubmitWerReport", "Doc", settings, NULL, NULL, NULL); }
EXPORT HRESULT WINAPI HcsCreateEmptyGuestStateFile(PCWSTR guestStateFilePath) {
    if (!guestStateFilePath) return E_INVALIDARG;
    return sync_service("HcsCreateEmptyGuestStateFile", "Path", guestStateFilePath, NULL, NULL, NULL);
}
EXPORT HRESULT WINAPI HcsCreateEmptyRuntimeStateFile(PCWSTR runtimeStateFilePath) {
    if (!runtimeStateFilePath) return E_INVALIDARG;
    return sync_service("HcsCreateEmptyRuntimeStateFile", "Path", runtimeStateFilePath, NULL, NULL, NULL);
}
EXPORT HRESULT WINAPI HcsGrantVmAccess(PCWSTR vmId, PCWSTR filePath) {
    if (!vmId || !filePath) return E_INVALIDARG;
    return sync_service("HcsGrantVmAccess", "VmId", vmId, "Path", filePath, NULL);
}
EXPORT HRESULT WINAPI HcsRevokeVmAccess(PCWSTR vmId, PCWSTR filePath) {
    if (!vmId || !filePath) return E_INVALIDARG;
    return sync_service("HcsRevokeVmAccess", "VmId", vmId, "Path", filePath, NULL);
}
EXPORT HRESULT WINAPI HcsGrantVmGroupAccess(PCWSTR filePath) {
    if (!filePath) return E_INVALIDARG;
    return sync_service("HcsGrantVmGroupAccess", "Path", filePath, NULL, NULL, NULL);
}
EXPORT HRESULT WINAPI HcsRevokeVmGroupAccess(PCWSTR filePath) {
    if (!filePath) return E_INVALIDARG;
    return sync_service("HcsRevokeVmGroupAccess", "Path", filePath, NULL, NULL, NULL);
}
EXPORT HRESULT WINAPI HcsGetProcessorCompatibilityFromSavedState(PCWSTR RuntimeFileName, PCWSTR *ProcessorFeaturesString) {
    (void)RuntimeFileName;
    if (ProcessorFeaturesString) *ProcessorFeaturesString = NULL;
    return E_NOTIMPL;
}

/* ================================================================== control API (test only) */
static char *audit_doc(void) {
    int liveStr = 0, liveStdio = 0;
    int j = 0;
    sb samples; sb_init(&samples);
    heapsnap heap;
    heapsnap_take(&heap);
    for (int i = 0; i < g_strtab.n; i++) if (strtrack_live(&g_strtab.v[i], &heap)) {
        if (liveStr < 5) {
            WCHAR tmp[81];
            size_t n = g_strtab.v[i].bytes / sizeof(WCHAR) - 1;
            if (n > 80) n = 80;
            memcpy(tmp, g_strtab.v[i].p, n * sizeof(WCHAR));
            tmp[n] = 0;
            char *u = w2u(tmp);
            if (liveStr) sb_puts(&samples, ",");
            sb_jstr(&samples, u);
            free(u);
        }
        liveStr++; g_strtab.v[j++] = g_strtab.v[i];
    }
    g_strtab.n = j;
    heapsnap_free(&heap);
    j = 0;
    for (int i = 0; i < g_nstdio; i++) if (stdio_live(&g_stdio[i])) { liveStdio++; g_stdio[j++] = g_stdio[i]; }
    g_nstdio = j;
    sb b; sb_init(&b);
    sb_printf(&b, "{\"Operations\":{\"Created\":%ld,\"Closed\":%ld},\"SystemHandles\":{\"Opened\":%ld,\"Closed\":%ld},"
              "\"ProcessHandles\":{\"Opened\":%ld,\"Closed\":%ld},\"Strings\":{\"Allocated\":%ld,\"Live\":%d},"
              "\"StdioHandles\":{\"Returned\":%ld,\"Live\":%d},\"CallbacksInFlight\":%ld,\"EventRegistrations\":%ld,\"Violations\":[",
              g_audit.opsCreated, g_audit.opsClosed, g_audit.sysOpened, g_audit.sysClosed, g_audit.procOpened, g_audit.procClosed,
              g_audit.strAllocated, liveStr, g_audit.stdioReturned, liveStdio, g_audit.callbacksInFlight, g_audit.eventRegs);
    for (int i = 0; i < g_audit.nviol; i++) { if (i) sb_puts(&b, ","); sb_jstr(&b, g_audit.violations[i]); }
    sb_puts(&b, "],\"LiveStringSamples\":[");
    if (samples.p) sb_puts(&b, samples.p);
    sb_puts(&b, "]}");
    sb_free(&samples);
    return sb_take(&b);
}

EXPORT HRESULT WINAPI HcsSimControl(PCWSTR request, PWSTR *response) {
    if (response) *response = NULL;
    if (!request) return E_INVALIDARG;
    char *u = w2u(request);
    char err[128];
    jv *req = json_parse(u, err, sizeof err);
    const char *opn = jgets(req, "Op");
    HRESULT hr = S_OK;
    char *out = NULL;
    if (!opn) {
        hr = E_INVALIDARG;
        out = result_error_doc(hr, "HcsSimControl: the request must be a JSON object with an Op");
    } else if (!strcmp(opn, "Audit")) {
        EnterCriticalSection(&g_cs);
        out = audit_doc();
        LeaveCriticalSection(&g_cs);
    } else if (!strcmp(opn, "ResetAudit")) {
        EnterCriticalSection(&g_cs);
        int cb = g_audit.callbacksInFlight, regs = g_audit.eventRegs;
        memset(&g_audit, 0, sizeof g_audit);
        g_audit.callbacksInFlight = cb; g_audit.eventRegs = regs; /* these are current values, not counters */
        g_strtab.n = 0; g_nstdio = 0;
        LeaveCriticalSection(&g_cs);
        out = xstrdup("{}");
    } else if (!strcmp(opn, "Disconnect")) {
        EnterCriticalSection(&g_cs);
        conn *c = g_conn;
        if (c) SetEvent(c->stopEv);
        LeaveCriticalSection(&g_cs);
        /* wait until the reader has run the disconnect procedure */
        for (int i = 0; c && i < 500; i++) {
            EnterCriticalSection(&g_cs);
            int dead = c->dead;
            LeaveCriticalSection(&g_cs);
            if (dead) break;
            Sleep(5);
        }
        out = xstrdup(c ? "{\"Disconnected\":true}" : "{\"Disconnected\":false}");
    } else {
        conn *c = get_conn(&hr);
        if (c) {
            sb f; sb_init(&f);
            sb_puts(&f, "\"Fn\":\"HcsSimControl\",\"Doc\":");
            sb_jstr(&f, u);
            jv *resp;
            hr = call(c, &f, &resp);
            sb_free(&f);
            const char *d = jgets(resp, "Doc");
            out = xstrdup(d);
            json_free(resp);
            conn_release(c);
        }
    }
    json_free(req);
    free(u);
    if (response && out) *response = out_string_u(out, 0);
    free(out);
    return hr;
}
