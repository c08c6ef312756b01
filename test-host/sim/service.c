/* hcssim-service.exe: the simulated Host Compute Service.
   Holds every compute system, process, fault and setting for one instance; computecore.dll
   instances (clients) talk to it over \\.\pipe\hcssim-<instance>. See README.md. */
#include "common.h"
#include "vm_rules.h"
#include "vm_disk_rules.h"
#include "video_pipe.h"
#include "stdio_pipe.h"
#include "vm_agent.h"
#include <psapi.h>
#include <computedefs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ data */
enum { ST_CREATED, ST_RUNNING, ST_PAUSED, ST_SAVED_TEMPLATE, ST_STOPPED };
static const char *state_name(int s) {
    switch (s) {
    case ST_CREATED: return "Created";
    case ST_RUNNING: return "Running";
    case ST_PAUSED: return "Paused";
    case ST_SAVED_TEMPLATE: return "SavedAsTemplate";
    case ST_STOPPED: return "Stopped";
    }
    return "Unknown";
}

typedef struct client {
    struct client *next;
    HANDLE pipe;
    DWORD pid;
    LONG refs;
    int gone;          /* pipe broken / disconnected */
    int disconnecting; /* a Disconnect was sent; ignore further requests */
} client;

struct system;
typedef struct proc {
    struct proc *next;
    struct system *sys;
    DWORD pid;
    HANDLE hproc;
    char *image, *cmdline;
    ULONGLONG created;
    int exited;
    DWORD exitCode;
    int consoleH, consoleW;
    int refs;
    /* stdin relay */
    CRITICAL_SECTION io;
    HANDLE relayIn;   /* read end of pipe A (client writes to A) */
    HANDLE childIn;   /* write end of pipe B (child reads B) */
    int stdinClosed, stdinWriting;
    ULONGLONG hostFt;  /* creation filetime */
} proc;

typedef struct system {
    struct system *next;
    char *id, *name, *owner, *type;
    int terminateOnClose;
    jv *doc;
    char runtimeId[37];
    int state;
    const char *exitType;
    HANDLE job;
    proc *procs;
    ULONGLONG startFt;
    ULONGLONG createdFt;
    jv *modifies;      /* array of accepted ModifySettingRequest documents */
    vmd_guest *guest;  /* the simulated guest of a VM (vm_disk_rules.c); NULL for containers */
    int handles;       /* open handles (system + process) over all clients */
    char *exitDoc;
} system_t;

typedef struct hentry {
    struct hentry *next;
    ULONGLONG id;
    client *c;
    char *sysid;
    system_t *sys;
    proc *p;           /* process handles only */
    int isProc;
    int linked;        /* counted in sys->handles */
} hentry;

typedef struct pending {
    struct pending *next;
    client *c;
    ULONGLONG opid;
    char *fn;
    ULONGLONG hid;
    char *sysid;
    DWORD procPid;
    jv *req;
    ULONGLONG due;
    int hang;
    int fail;
    HRESULT failHr;
    char *failDoc;
    char *raw;          /* deferred reply of a synchronous function (Delay / Hang faults) */
    ULONGLONG reqId;
    int workDone;       /* knob TerminateCompletionDelayMs: the work ran, only the completion is left */
    int guestWait;      /* a shutdown waiting for the guest to power off (vm_disk_rules.c rule D) */
} pending;

typedef struct fault {
    struct fault *next;
    long long id;
    char *fn, *sysid, *action;
    DWORD pid;
    long long skip;    /* matching calls to let pass before the first hit */
    long long count;   /* remaining hits; <0 = unlimited */
    HRESULT hr;
    char *errdoc;
    long long delayMs;
} fault;

typedef struct outmsg { struct outmsg *next; client *c; char *msg; } outmsg;

static CRITICAL_SECTION g_lock;
static client *g_clients;
static system_t *g_systems;
static hentry *g_handles;
static pending *g_pending;   /* sorted by due; hung ones have due = ~0 */
static fault *g_faults;
static long long g_faultSeq;
static ULONGLONG g_hidSeq = 1000;
static HANDLE g_schedWake, g_sendWake;
static outmsg *g_outHead, *g_outTail;
static WCHAR g_instance[128];
static ULONGLONG g_idleSince;
static HANDLE g_logFile = INVALID_HANDLE_VALUE;
static ULONGLONG g_lastClient, g_orphanExitMs; /* HCSSIM_ORPHAN_EXIT_MS: exit even with systems after this long without clients */

/* config */
static long long cfg_delayMs = 2;
static int cfg_cancelNotImpl = 0;
static char *cfg_schemaVersions = NULL; /* JSON array text */
/* Knob: a terminate that ends the process completes this much later, after ProcessExited went out.
   HCS documents no order between a process's events and its operations' completions (HCS-NOTES,
   "Abandon"; hcsshim's v2 process code waits on either), so the exit may come first. */
static long long cfg_termLateMs = 0;
/* Knobs: ProcessStatus without ExitCode, and a non-zero LastWaitResult. HCS-NOTES (HcsEventProcessExited):
   ExitCode is valid only when LastWaitResult is 0; hcsshim internal/hcs/process.go waitBackground keeps
   exit code -1 when LastWaitResult != 0. GUESS: when a real host leaves ExitCode out. */
static int cfg_exitOmitCode = 0;
static long long cfg_exitLastWait = 0;
static const char *DEFAULT_VERSIONS =
    "[{\"Major\":2,\"Minor\":0},{\"Major\":2,\"Minor\":1},{\"Major\":2,\"Minor\":2},{\"Major\":2,\"Minor\":3},{\"Major\":2,\"Minor\":4},{\"Major\":2,\"Minor\":5}]";

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void slog(const char *fmt, ...) {
    if (g_logFile == INVALID_HANDLE_VALUE) return;
    char buf[2048];
    SYSTEMTIME st; GetLocalTime(&st);
    int n = snprintf(buf, sizeof buf, "[%02u:%02u:%02u.%03u svc %lu] ", st.wHour, st.wMinute, st.wSecond, st.wMilliseconds, GetCurrentProcessId());
    va_list ap; va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 2, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    DWORD w; WriteFile(g_logFile, buf, (DWORD)n, &w, NULL);
}

/* ------------------------------------------------------------------ outbox (single sender thread, FIFO) */
static void client_release(client *c);
static void send_msg(client *c, char *msg /* takes ownership */) {
    outmsg *m = calloc(1, sizeof *m);
    m->c = c; m->msg = msg;
    InterlockedIncrement(&c->refs);
    if (g_outTail) g_outTail->next = m; else g_outHead = m;
    g_outTail = m;
    SetEvent(g_sendWake);
}
static DWORD WINAPI sender_thread(void *arg) {
    (void)arg;
    for (;;) {
        WaitForSingleObject(g_sendWake, INFINITE);
        for (;;) {
            EnterCriticalSection(&g_lock);
            outmsg *m = g_outHead;
            if (m) { g_outHead = m->next; if (!g_outHead) g_outTail = NULL; }
            int gone = m ? m->c->gone : 0;
            LeaveCriticalSection(&g_lock);
            if (!m) break;
            if (!gone) wire_write(m->c->pipe, m->msg, (DWORD)strlen(m->msg));
            EnterCriticalSection(&g_lock);
            client_release(m->c);
            LeaveCriticalSection(&g_lock);
            free(m->msg); free(m);
        }
    }
    return 0;
}
static void client_release(client *c) {
    if (InterlockedDecrement(&c->refs) == 0) {
        client **pp = &g_clients;
        while (*pp && *pp != c) pp = &(*pp)->next;
        if (*pp) *pp = c->next;
        CloseHandle(c->pipe);
        free(c);
    }
}

/* ------------------------------------------------------------------ helpers */
static system_t *find_system(const char *id) {
    if (!id) return NULL;
    for (system_t *s = g_systems; s; s = s->next) if (!_stricmp(s->id, id)) return s;
    return NULL;
}
static hentry *find_handle(client *c, ULONGLONG id) {
    for (hentry *h = g_handles; h; h = h->next) if (h->id == id && h->c == c) return h;
    return NULL;
}
static proc *find_proc(system_t *s, DWORD pid) {
    if (!s) return NULL;
    for (proc *p = s->procs; p; p = p->next) if (p->pid == pid) return p;
    return NULL;
}
static void proc_release(proc *p) {
    if (--p->refs > 0) return;
    EnterCriticalSection(&p->io);
    if (p->childIn) { CloseHandle(p->childIn); p->childIn = NULL; }
    p->stdinClosed = 1;
    LeaveCriticalSection(&p->io);
    /* relayIn and the critical section are owned by the relay thread if it still runs; leak them
       deliberately in that case (the relay exits when the client closes its stdin end). */
    if (p->hproc) CloseHandle(p->hproc);
    free(p->image); free(p->cmdline);
    /* proc struct itself is freed only if no relay thread references it: keep it simple and leak
       the small struct when a relay exists. */
    if (!p->relayIn) { DeleteCriticalSection(&p->io); free(p); }
}

static char *exit_status_doc(HRESULT status, const char *exitType) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"Status\":%ld,\"ExitType\":\"%s\"}", (long)status, exitType);
    return sb_take(&b);
}

/* Sends an event to every handle (of the given kind) on a system / process, grouped per client. */
static void emit_event(system_t *s, proc *p, int wantProc, DWORD type, const char *data) {
    for (client *c = g_clients; c; c = c->next) {
        if (c->gone) continue;
        sb b; sb_init(&b);
        int n = 0;
        sb_printf(&b, "{\"T\":\"Event\",\"Type\":%lu,\"Data\":", (unsigned long)type);
        sb_jstr(&b, data);
        sb_puts(&b, ",\"Handles\":[");
        for (hentry *h = g_handles; h; h = h->next) {
            if (h->c != c) continue;
            if (wantProc) { if (!h->isProc || h->p != p) continue; }
            else { if (h->isProc || h->sys != s) continue; }
            sb_printf(&b, "%s%llu", n ? "," : "", h->id);
            n++;
        }
        sb_puts(&b, "]}");
        if (n) send_msg(c, sb_take(&b)); else sb_free(&b);
    }
}

static void kill_system_processes(system_t *s, UINT code) {
    if (s->job) TerminateJobObject(s->job, code);
    for (proc *p = s->procs; p; p = p->next)
        if (!p->exited && p->hproc) TerminateProcess(p->hproc, code);
}

static void stop_system_status(system_t *s, const char *exitType, int crash, HRESULT status) {
    if (s->state == ST_STOPPED) return;
    kill_system_processes(s, 1);
    s->state = ST_STOPPED;
    video_pipe_stop(s->id);
    vm_agent_stop(s->id); /* vm_agent.c: the guest's agent dies with the guest */
    s->exitType = exitType;
    free(s->exitDoc);
    s->exitDoc = exit_status_doc(status, exitType);
    slog("system %s stopped (%s)", s->id, exitType);
    if (crash) {
        sb b; sb_init(&b);
        sb_puts(&b, "{\"SystemId\":"); sb_jstr(&b, s->id);
        sb_puts(&b, ",\"CrashParameters\":[0,0,0,0,0],\"Status\":0}");
        char *d = sb_take(&b);
        emit_event(s, NULL, 0, HcsEventSystemCrashInitiated, d);
        free(d);
        sb_init(&b);
        sb_puts(&b, "{\"SystemId\":"); sb_jstr(&b, s->id);
        char act[37]; new_guid_str(act);
        sb_printf(&b, ",\"ActivityId\":\"%s\",\"CrashParameters\":[0,0,0,0,0],\"CrashLog\":\"simulated crash\",\"Status\":0,\"PreOSId\":0,\"CrashStackUnavailable\":true}", act);
        d = sb_take(&b);
        emit_event(s, NULL, 0, HcsEventSystemCrashReport, d);
        free(d);
    }
    emit_event(s, NULL, 0, HcsEventSystemExited, s->exitDoc);
}
static void stop_system(system_t *s, const char *exitType, int crash) { stop_system_status(s, exitType, crash, 0); }

static void remove_system(system_t *s) {
    system_t **pp = &g_systems;
    while (*pp && *pp != s) pp = &(*pp)->next;
    if (*pp) *pp = s->next;
    for (hentry *h = g_handles; h; h = h->next)
        if (h->sys == s) { h->sys = NULL; h->linked = 0; }
    proc *p = s->procs;
    while (p) { proc *n = p->next; p->sys = NULL; p->next = NULL; proc_release(p); p = n; }
    if (s->job) CloseHandle(s->job);
    slog("system %s removed", s->id);
    free(s->id); free(s->name); free(s->owner); free(s->type); free(s->exitDoc);
    json_free(s->doc); json_free(s->modifies);
    vmd_guest_free(s->guest);
    free(s);
}

/* Called when a system loses a handle. */
static void system_handle_dropped(system_t *s) {
    if (s->handles > 0) return;
    if (s->state != ST_STOPPED && s->terminateOnClose) {
        slog("last handle of %s closed: terminating (ShouldTerminateOnLastHandleClosed)", s->id);
        stop_system(s, "ForcedExit", 0);
    }
    if (s->state == ST_STOPPED) remove_system(s);
}

static void release_handle(hentry *h) {
    hentry **pp = &g_handles;
    while (*pp && *pp != h) pp = &(*pp)->next;
    if (*pp) *pp = h->next;
    system_t *s = h->sys;
    if (h->p) proc_release(h->p);
    int linked = h->linked;
    free(h->sysid); free(h);
    if (s && linked) { s->handles--; system_handle_dropped(s); }
}

static hentry *new_handle(client *c, const char *sysid, system_t *s, proc *p) {
    hentry *h = calloc(1, sizeof *h);
    h->id = ++g_hidSeq;
    h->c = c;
    h->sysid = xstrdup(sysid);
    h->sys = s;
    h->p = p;
    if (p) p->refs++;
    if (s) { s->handles++; h->linked = 1; }
    h->next = g_handles; g_handles = h;
    return h;
}

/* ------------------------------------------------------------------ faults */
typedef struct { int hit; const char *action; HRESULT hr; const char *errdoc; long long delayMs; } fault_hit;

static fault_hit check_faults(client *c, const char *fn, const char *sysid) {
    fault_hit r = { 0, NULL, 0, NULL, 0 };
    for (fault *f = g_faults; f; f = f->next) {
        if (f->count == 0) continue;
        if (strcmp(f->fn, "*") && _stricmp(f->fn, fn)) continue;
        if (f->sysid && (!sysid || _stricmp(f->sysid, sysid))) continue;
        if (f->pid && f->pid != c->pid) continue;
        if (f->skip > 0) { f->skip--; continue; }
        if (f->count > 0) f->count--;
        r.hit = 1; r.action = f->action; r.hr = f->hr; r.errdoc = f->errdoc; r.delayMs = f->delayMs;
        slog("fault %lld hit: %s on %s", f->id, f->action, fn);
        return r;
    }
    return r;
}

static void clear_faults(void) {
    while (g_faults) {
        fault *f = g_faults; g_faults = f->next;
        free(f->fn); free(f->sysid); free(f->action); free(f->errdoc); free(f);
    }
}

/* ------------------------------------------------------------------ scheduling */
static void schedule(pending *p) {
    pending **pp = &g_pending;
    while (*pp && (*pp)->due <= p->due) pp = &(*pp)->next;
    p->next = *pp; *pp = p;
    SetEvent(g_schedWake);
}
static void free_pending(pending *p) { free(p->fn); free(p->sysid); json_free(p->req); free(p->failDoc); free(p->raw); free(p); }

typedef struct {
    HRESULT hr;
    char *doc;             /* malloc'd or NULL */
    int hasPi;
    DWORD pid;
    ULONGLONG in, out, err;  /* handle values in the client */
    ULONGLONG repollMs;      /* not done yet: run the operation again this much later (rule D) */
} result_t;

static void send_done(client *c, ULONGLONG opid, result_t *r) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"T\":\"Done\",\"Op\":%llu,\"HResult\":%ld,\"Doc\":", opid, (long)r->hr);
    sb_jstr(&b, r->doc);
    if (r->hasPi) sb_printf(&b, ",\"Pi\":{\"ProcessId\":%lu,\"StdInput\":%llu,\"StdOutput\":%llu,\"StdError\":%llu}",
                            (unsigned long)r->pid, r->in, r->out, r->err);
    sb_puts(&b, "}");
    send_msg(c, sb_take(&b));
}

static void set_err(result_t *r, HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(result_t *r, HRESULT hr, const char *fmt, ...) {
    char msg[1024];
    va_list ap; va_start(ap, fmt); vsnprintf(msg, sizeof msg, fmt, ap); va_end(ap);
    r->hr = hr;
    free(r->doc);
    r->doc = result_error_doc(hr, msg);
}

/* ---- compute system work */
static void do_create(pending *pd, result_t *r) {
    const char *id = jgets(pd->req, "SysId");
    const char *cfg = jgets(pd->req, "Doc");
    char err[256];
    if (!id || !id[0]) { set_err(r, E_INVALIDARG, "The compute system id is empty"); return; }
    jv *doc = json_parse(cfg ? cfg : "", err, sizeof err);
    if (!doc || doc->t != J_OBJ) {
        json_free(doc);
        set_err(r, HCS_E_INVALID_JSON, "The compute system configuration is not valid JSON: %s", doc ? "not an object" : err);
        return;
    }
    jv *sv = jget(doc, "SchemaVersion");
    if (!sv || sv->t != J_OBJ) {
        json_free(doc);
        set_err(r, HCS_E_INVALID_JSON, "The compute system configuration is invalid: missing SchemaVersion");
        return;
    }
    {
        long long maj, min;
        if (!jgeti(sv, "Major", &maj) || !jgeti(sv, "Minor", &min)) {
            json_free(doc);
            set_err(r, HCS_E_INVALID_JSON, "The compute system configuration is invalid: SchemaVersion needs integer Major and Minor");
            return;
        }
        /* each supported x.y covers x.0 .. x.y */
        char e2[64];
        jv *sup = json_parse(cfg_schemaVersions ? cfg_schemaVersions : DEFAULT_VERSIONS, e2, sizeof e2);
        int ok = 0;
        for (jv *x = sup ? sup->child : NULL; x; x = x->next) {
            long long a, b;
            if (jgeti(x, "Major", &a) && jgeti(x, "Minor", &b) && a == maj && min <= b) ok = 1;
        }
        json_free(sup);
        if (!ok) {
            json_free(doc);
            set_err(r, HCS_E_INVALID_JSON, "The compute system configuration is invalid: schema version %lld.%lld is not supported by this host", maj, min);
            return;
        }
    }
    int hasC = jget(doc, "Container") != NULL, hasVm = jget(doc, "VirtualMachine") != NULL, hasH = jget(doc, "HostedSystem") != NULL;
    if (!hasC && !hasVm && !hasH) {
        json_free(doc);
        set_err(r, HCS_E_INVALID_JSON, "The compute system configuration is invalid: none of Container, VirtualMachine or HostedSystem is present");
        return;
    }
    if (find_system(id)) {
        json_free(doc);
        set_err(r, HCS_E_SYSTEM_ALREADY_EXISTS, "A compute system with id '%s' already exists", id);
        return;
    }
    { /* utility VM rules: disk grants, guest networking (vm_rules.c) */
        system_t *hs = jgets(doc, "HostingSystemId") ? find_system(jgets(doc, "HostingSystemId")) : NULL;
        char vmsg[768];
        HRESULT vhr = vm_rules_create(id, doc, hs ? hs->modifies : NULL, vmsg, sizeof vmsg);
        if (FAILED(vhr)) { json_free(doc); set_err(r, vhr, "%s", vmsg); return; }
        vhr = vmd_create(id, doc, vmsg, sizeof vmsg); /* guest state files (vm_disk_rules.c rule G) */
        if (FAILED(vhr)) { json_free(doc); set_err(r, vhr, "%s", vmsg); return; }
    }
    system_t *s = calloc(1, sizeof *s);
    s->id = xstrdup(id);
    s->name = xstrdup(id);
    s->owner = xstrdup(jgets(doc, "Owner") ? jgets(doc, "Owner") : "");
    s->type = xstrdup((hasC || hasH) ? "Container" : "VirtualMachine");
    s->terminateOnClose = jgetb(doc, "ShouldTerminateOnLastHandleClosed", 0);
    s->doc = doc;
    new_guid_str(s->runtimeId);
    s->state = ST_CREATED;
    s->createdFt = filetime_now();
    s->job = CreateJobObjectW(NULL, NULL);
    s->modifies = jnew(J_ARR);
    s->guest = vmd_guest_new(doc);
    s->next = g_systems; g_systems = s;
    /* link the creating handle, and any other handle that named this id before it existed */
    for (hentry *h = g_handles; h; h = h->next)
        if (h->id == pd->hid && h->c == pd->c && !h->sys) { h->sys = s; h->linked = 1; s->handles++; }
    slog("system %s created (%s, owner '%s', terminateOnClose %d)", s->id, s->type, s->owner, s->terminateOnClose);
    r->hr = S_OK;
    if (s->handles == 0) system_handle_dropped(s); /* creator closed its handle already */
}

static system_t *target_system(pending *pd, result_t *r) {
    hentry *h = find_handle(pd->c, pd->hid);
    system_t *s = h ? h->sys : NULL;
    if (!s) s = find_system(pd->sysid);
    if (!s) set_err(r, HCS_E_SYSTEM_NOT_FOUND, "The compute system '%s' was not found", pd->sysid ? pd->sysid : "");
    return s;
}

static long long doc_memory_mb(system_t *s) {
    jv *vm = jget(s->doc, "VirtualMachine");
    jv *m = jget(jget(vm, "ComputeTopology"), "Memory");
    long long mb;
    if (jgeti(m, "SizeInMB", &mb)) return mb;
    m = jget(jget(s->doc, "Container"), "Memory");
    if (jgeti(m, "SizeInMB", &mb)) return mb;
    return 1024;
}

/* HcsShutDownComputeSystem of a disk-booted VM: ask the guest, then poll until it has powered off (or the
   system stopped some other way). vm_disk_rules.c rule D. */
static void guest_shutdown(pending *pd, result_t *r, system_t *s) {
    int first = !pd->guestWait;
    pd->guestWait = 1;
    int state = s->state == ST_STOPPED ? 3 : s->state == ST_PAUSED ? 2 : 1;
    switch (vmd_shutdown_poll(s->guest, state, first)) {
    case VMD_SD_WAIT: r->repollMs = VMD_POLL_MS; return;
    case VMD_SD_STOP:
        stop_system(s, "GracefulExit", 0);
        r->hr = S_OK;
        if (s->handles == 0) remove_system(s);
        return;
    default:
        set_err(r, vmd_shutdown_lost(), "The compute system '%s' stopped before its guest shut down", s->id);
    }
}

static void lifecycle(pending *pd, result_t *r) {
    system_t *s = target_system(pd, r);
    if (!s) return;
    const char *fn = pd->fn;
    const char *opts = jgets(pd->req, "Options");
    int st = s->state;
    r->hr = S_OK;
    if (!strcmp(fn, "HcsStartComputeSystem")) {
        if (st != ST_CREATED) { set_err(r, st == ST_STOPPED ? HCS_E_SYSTEM_ALREADY_STOPPED : HCS_E_INVALID_STATE, "Cannot start compute system '%s' in state %s", s->id, state_name(st)); return; }
        char vmsg[512];
        if (vmd_start(s->guest, s->id, vmsg, sizeof vmsg) == VMD_WORKER_CRASH) { /* vm_disk_rules.c rule W */
            stop_system_status(s, vmd_crash_exit_type(), 0, vmd_crash_status());
            set_err(r, VMD_WORKER_CRASH, "%s", vmsg);
            if (s->handles == 0) remove_system(s);
            return;
        }
        s->state = ST_RUNNING;
        s->startFt = filetime_now();
        video_pipe_start(s->id, s->doc); /* video_pipe.c: the VM's screen while it runs */
        if (vmd_guest_disk_booted(s->guest)) { /* vm_agent.c: the agent service starts at boot */
            unsigned long pid = vm_agent_start(s->id, s->runtimeId);
            if (pid) slog("system %s: guest agent pid %lu", s->id, pid);
        }
    } else if (!strcmp(fn, "HcsPauseComputeSystem")) {
        if (st != ST_RUNNING) { set_err(r, HCS_E_INVALID_STATE, "Cannot pause compute system '%s' in state %s", s->id, state_name(st)); return; }
        s->state = ST_PAUSED;
    } else if (!strcmp(fn, "HcsResumeComputeSystem")) {
        if (st != ST_PAUSED) { set_err(r, HCS_E_INVALID_STATE, "Cannot resume compute system '%s' in state %s", s->id, state_name(st)); return; }
        s->state = ST_RUNNING;
    } else if (!strcmp(fn, "HcsSaveComputeSystem")) {
        if (st != ST_PAUSED) { set_err(r, HCS_E_INVALID_STATE, "Cannot save compute system '%s' in state %s (pause it first)", s->id, state_name(st)); return; }
        char err[256];
        jv *o = opts && opts[0] ? json_parse(opts, err, sizeof err) : jnew(J_OBJ);
        if (!o || o->t != J_OBJ) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "SaveOptions is not a valid JSON object"); return; }
        const char *type = jgets(o, "SaveType");
        const char *path = jgets(o, "SaveStateFilePath");
        if (type && !strcmp(type, "AsTemplate")) {
            s->state = ST_SAVED_TEMPLATE;
        } else {
            if (type && strcmp(type, "ToFile")) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "Unknown SaveType '%s'", type); return; }
            if (!path || !path[0]) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "SaveOptions.SaveStateFilePath is required for SaveType ToFile"); return; }
            WCHAR *wp = u2w(path);
            HANDLE f = CreateFileW(wp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
            free(wp);
            if (f == INVALID_HANDLE_VALUE) { DWORD e = GetLastError(); json_free(o); set_err(r, HRESULT_FROM_WIN32(e), "Cannot write the saved state file '%s' (error %lu)", path, e); return; }
            sb b; sb_init(&b);
            sb_puts(&b, "HCSSIM-SAVED-STATE\r\n{\"Id\":"); sb_jstr(&b, s->id);
            sb_printf(&b, ",\"RuntimeId\":\"%s\",\"Configuration\":", s->runtimeId);
            json_write(&b, s->doc);
            sb_puts(&b, "}\r\n");
            DWORD w; WriteFile(f, b.p, (DWORD)b.n, &w, NULL);
            CloseHandle(f); sb_free(&b);
        }
        json_free(o);
    } else if (!strcmp(fn, "HcsShutDownComputeSystem") || !strcmp(fn, "HcsTerminateComputeSystem") || !strcmp(fn, "HcsCrashComputeSystem")) {
        int term = !strcmp(fn, "HcsTerminateComputeSystem"), crash = !strcmp(fn, "HcsCrashComputeSystem");
        if (pd->guestWait) { guest_shutdown(pd, r, s); return; }
        if (st == ST_STOPPED) { set_err(r, HCS_E_SYSTEM_ALREADY_STOPPED, "The compute system '%s' is already stopped", s->id); return; }
        int ok = st == ST_RUNNING || st == ST_PAUSED || (term && (st == ST_CREATED || st == ST_SAVED_TEMPLATE));
        if (!ok) { set_err(r, HCS_E_INVALID_STATE, "Cannot %s compute system '%s' in state %s", term ? "terminate" : crash ? "crash" : "shut down", s->id, state_name(st)); return; }
        if (!term && !crash && vmd_guest_shutdown(s->guest)) { /* the guest powers off by itself (vm_disk_rules.c rule D) */
            guest_shutdown(pd, r, s);
            return;
        }
        stop_system(s, term ? "ForcedExit" : crash ? "UnexpectedExit" : "GracefulExit", crash);
        if (s->handles == 0) remove_system(s);
    }
}

static void proc_stats(proc *p, ULONGLONG *user, ULONGLONG *kern, PROCESS_MEMORY_COUNTERS_EX *mc, IO_COUNTERS *io) {
    FILETIME a, b, k, u;
    *user = *kern = 0;
    memset(mc, 0, sizeof *mc);
    memset(io, 0, sizeof *io);
    if (!p->hproc) return;
    if (GetProcessTimes(p->hproc, &a, &b, &k, &u)) {
        *user = ((ULONGLONG)u.dwHighDateTime << 32) | u.dwLowDateTime;
        *kern = ((ULONGLONG)k.dwHighDateTime << 32) | k.dwLowDateTime;
    }
    mc->cb = sizeof *mc;
    if (!p->exited) K32GetProcessMemoryInfo(p->hproc, (PROCESS_MEMORY_COUNTERS *)mc, sizeof *mc);
    GetProcessIoCounters(p->hproc, io);
}

static ULONGLONG commit_of(const PROCESS_MEMORY_COUNTERS_EX *mc) {
    /* Wine 8 leaves PrivateUsage at 0; PagefileUsage is its commit charge */
    return mc->PrivateUsage ? (ULONGLONG)mc->PrivateUsage : (ULONGLONG)mc->PagefileUsage;
}

static void get_properties(pending *pd, result_t *r) {
    system_t *s = target_system(pd, r);
    if (!s) return;
    const char *q = jgets(pd->req, "Query");
    char err[256];
    jv *query = NULL;
    if (q && q[0]) {
        query = json_parse(q, err, sizeof err);
        if (!query || query->t != J_OBJ) { json_free(query); set_err(r, HCS_E_INVALID_JSON, "The property query is not a valid JSON object: %s", err); return; }
    }
    jv *types = jget(query, "PropertyTypes");
    if (types && types->t != J_ARR) { json_free(query); set_err(r, HCS_E_INVALID_JSON, "PropertyTypes must be an array"); return; }
    for (jv *t = types ? types->child : NULL; t; t = t->next) {
        static const char *known[] = { "Statistics", "ProcessList", "Memory", "TerminateOnLastHandleClosed", "SharedMemoryRegion", "GuestConnection", NULL };
        int ok = 0;
        for (int i = 0; known[i]; i++) if (t->t == J_STR && !strcmp(t->s, known[i])) ok = 1;
        if (!ok) { set_err(r, E_INVALIDARG, "Unknown property type '%s'", t->t == J_STR ? t->s : "(not a string)"); json_free(query); return; }
    }
    sb b; sb_init(&b);
    sb_puts(&b, "{\"Id\":"); sb_jstr(&b, s->id);
    sb_puts(&b, ",\"SystemType\":"); sb_jstr(&b, s->type);
    sb_puts(&b, ",\"Name\":"); sb_jstr(&b, s->name);
    sb_puts(&b, ",\"Owner\":"); sb_jstr(&b, s->owner);
    sb_printf(&b, ",\"State\":\"%s\",\"RuntimeOsType\":\"Windows\",\"RuntimeId\":\"%s\"", state_name(s->state), s->runtimeId);
    if (s->state == ST_STOPPED) sb_printf(&b, ",\"Stopped\":true,\"ExitType\":\"%s\"", s->exitType);
    for (jv *t = types ? types->child : NULL; t; t = t->next) {
        if (!strcmp(t->s, "Statistics")) {
            ULONGLONG now = filetime_now(), tu = 0, tk = 0, commit = 0, peak = 0, priv = 0, rc = 0, rb = 0, wc = 0, wb = 0;
            JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION ja;
            memset(&ja, 0, sizeof ja);
            for (proc *p = s->procs; p; p = p->next) {
                ULONGLONG u, k; PROCESS_MEMORY_COUNTERS_EX mc; IO_COUNTERS io;
                proc_stats(p, &u, &k, &mc, &io);
                tu += u; tk += k;
                if (!p->exited) { commit += commit_of(&mc); priv += mc.WorkingSetSize; }
                if (mc.PeakPagefileUsage > peak) peak = mc.PeakPagefileUsage;
                rc += io.ReadOperationCount; rb += io.ReadTransferCount; wc += io.WriteOperationCount; wb += io.WriteTransferCount;
            }
            if (s->job && QueryInformationJobObject(s->job, JobObjectBasicAndIoAccountingInformation, &ja, sizeof ja, NULL)) {
                ULONGLONG ju = (ULONGLONG)ja.BasicInfo.TotalUserTime.QuadPart, jk = (ULONGLONG)ja.BasicInfo.TotalKernelTime.QuadPart;
                if (ju + jk > tu + tk) { tu = ju; tk = jk; }
                if (ja.IoInfo.ReadOperationCount > rc) { rc = ja.IoInfo.ReadOperationCount; rb = ja.IoInfo.ReadTransferCount; }
                if (ja.IoInfo.WriteOperationCount > wc) { wc = ja.IoInfo.WriteOperationCount; wb = ja.IoInfo.WriteTransferCount; }
            }
            if (peak < commit) peak = commit;
            char ts[40], st[40];
            iso8601_from_filetime(now, ts);
            iso8601_from_filetime(s->startFt ? s->startFt : s->createdFt, st);
            ULONGLONG up = (s->startFt && s->state != ST_STOPPED) ? now - s->startFt : 0;
            sb_printf(&b, ",\"Statistics\":{\"Timestamp\":\"%s\",\"ContainerStartTime\":\"%s\",\"Uptime100ns\":%llu,"
                      "\"Processor\":{\"TotalRuntime100ns\":%llu,\"RuntimeUser100ns\":%llu,\"RuntimeKernel100ns\":%llu},"
                      "\"Memory\":{\"MemoryUsageCommitBytes\":%llu,\"MemoryUsageCommitPeakBytes\":%llu,\"MemoryUsagePrivateWorkingSetBytes\":%llu},"
                      "\"Storage\":{\"ReadCountNormalized\":%llu,\"ReadSizeBytes\":%llu,\"WriteCountNormalized\":%llu,\"WriteSizeBytes\":%llu}}",
                      ts, st, up, tu + tk, tu, tk, commit, peak, priv, rc, rb, wc, wb);
        } else if (!strcmp(t->s, "ProcessList")) {
            sb_puts(&b, ",\"ProcessList\":[");
            int n = 0;
            for (proc *p = s->procs; p; p = p->next) {
                if (p->exited) continue;
                ULONGLONG u, k; PROCESS_MEMORY_COUNTERS_EX mc; IO_COUNTERS io;
                proc_stats(p, &u, &k, &mc, &io);
                char ct[40]; iso8601_from_filetime(p->created, ct);
                sb_printf(&b, "%s{\"ProcessId\":%lu,\"ImageName\":", n++ ? "," : "", (unsigned long)p->pid);
                sb_jstr(&b, p->image);
                sb_printf(&b, ",\"CreateTimestamp\":\"%s\",\"UserTime100ns\":%llu,\"KernelTime100ns\":%llu,\"MemoryCommitBytes\":%llu,"
                          "\"MemoryWorkingSetPrivateBytes\":%llu,\"MemoryWorkingSetSharedBytes\":%llu}",
                          ct, u, k, commit_of(&mc), (ULONGLONG)mc.WorkingSetSize, (ULONGLONG)0);
            }
            sb_puts(&b, "]");
        } else if (!strcmp(t->s, "Memory")) {
            ULONGLONG total = (ULONGLONG)doc_memory_mb(s) * 1024ULL * 1024ULL;
            ULONGLONG used = 0;
            for (proc *p = s->procs; p; p = p->next) {
                ULONGLONG u, k; PROCESS_MEMORY_COUNTERS_EX mc; IO_COUNTERS io;
                if (p->exited) continue;
                proc_stats(p, &u, &k, &mc, &io);
                used += commit_of(&mc);
            }
            ULONGLONG assigned = s->state == ST_STOPPED || s->state == ST_CREATED ? 0 : total;
            ULONGLONG avail = assigned > used ? (assigned - used) : 0;
            sb_printf(&b, ",\"Memory\":{\"VirtualNodeCount\":1,\"VirtualMachineMemory\":{\"AvailableMemory\":%llu,\"AvailableMemoryBuffer\":%llu,"
                      "\"ReservedMemory\":0,\"AssignedMemory\":%llu,\"SlpActive\":false,\"BalancingEnabled\":false,\"DmOperationInProgress\":false}}",
                      avail / (1024 * 1024), assigned ? 20ULL : 0ULL, assigned / (1024 * 1024));
        } else if (!strcmp(t->s, "TerminateOnLastHandleClosed")) {
            sb_printf(&b, ",\"TerminateOnLastHandleClosed\":%s", s->terminateOnClose ? "true" : "false");
        } else if (!strcmp(t->s, "SharedMemoryRegion")) {
            sb_puts(&b, ",\"SharedMemoryRegionInfo\":[]");
        } else if (!strcmp(t->s, "GuestConnection")) {
            sb_puts(&b, ",\"GuestConnectionInfo\":{}");
        }
    }
    sb_puts(&b, "}");
    json_free(query);
    r->hr = S_OK;
    r->doc = sb_take(&b);
}

static void do_modify(pending *pd, result_t *r) {
    system_t *s = target_system(pd, r);
    if (!s) return;
    const char *d = jgets(pd->req, "Doc");
    char err[256];
    jv *req = json_parse(d ? d : "", err, sizeof err);
    if (!req || req->t != J_OBJ) { json_free(req); set_err(r, HCS_E_INVALID_JSON, "The ModifySettingRequest is not a valid JSON object: %s", err); return; }
    jv *rp = jget(req, "ResourcePath"), *gr = jget(req, "GuestRequest");
    if ((!rp || rp->t != J_STR) && !gr) { json_free(req); set_err(r, HCS_E_INVALID_JSON, "The ModifySettingRequest needs a ResourcePath string or a GuestRequest"); return; }
    jv *rt = jget(req, "RequestType");
    if (rt && (rt->t != J_STR || (strcmp(rt->s, "Add") && strcmp(rt->s, "Remove") && strcmp(rt->s, "Update")))) {
        json_free(req); set_err(r, HCS_E_INVALID_JSON, "Unknown RequestType in ModifySettingRequest"); return;
    }
    if (s->state == ST_STOPPED) { json_free(req); set_err(r, HCS_E_SYSTEM_ALREADY_STOPPED, "The compute system '%s' is stopped", s->id); return; }
    { /* utility VM rules: SCSI grants and controller keys, NIC requests (vm_rules.c) */
        char vmsg[768];
        HRESULT vhr = vm_rules_modify(s->id, s->doc, s->modifies, req, vmsg, sizeof vmsg);
        if (FAILED(vhr)) { json_free(req); set_err(r, vhr, "%s", vmsg); return; }
    }
    const char *type = rt ? rt->s : "Update";
    jv *settings = jget(req, "Settings");
    if (rp && rp->t == J_STR && !_stricmp(rp->s, "VirtualMachine/ComputeTopology/Memory/SizeInMB") && !strcmp(type, "Update") &&
        settings && settings->t == J_NUM && settings->isint) {
        jv *vm = jget(s->doc, "VirtualMachine");
        if (!vm) { vm = jnew(J_OBJ); jset(s->doc, "VirtualMachine", vm); }
        jv *ct = jget(vm, "ComputeTopology");
        if (!ct || ct->t != J_OBJ) { ct = jnew(J_OBJ); jset(vm, "ComputeTopology", ct); }
        jv *mem = jget(ct, "Memory");
        if (!mem || mem->t != J_OBJ) { mem = jnew(J_OBJ); jset(ct, "Memory", mem); }
        jset(mem, "SizeInMB", jnew_int(settings->i));
    }
    if (!rt) jset(req, "RequestType", jnew_str("Update"));
    jpush(s->modifies, req);
    r->hr = S_OK;
}

static int matches_filter(jv *arr, const char *val) {
    if (!arr || arr->t != J_ARR || !arr->child) return 1;
    for (jv *c = arr->child; c; c = c->next) if (c->t == J_STR && val && !_stricmp(c->s, val)) return 1;
    return 0;
}
static void do_enumerate(pending *pd, result_t *r) {
    const char *q = jgets(pd->req, "Query");
    char err[256];
    jv *query = NULL;
    if (q && q[0]) {
        query = json_parse(q, err, sizeof err);
        if (!query || query->t != J_OBJ) { json_free(query); set_err(r, HCS_E_INVALID_JSON, "The system query is not a valid JSON object: %s", err); return; }
    }
    sb b; sb_init(&b);
    sb_puts(&b, "[");
    int n = 0;
    for (system_t *s = g_systems; s; s = s->next) {
        if (!matches_filter(jget(query, "Ids"), s->id) || !matches_filter(jget(query, "Names"), s->name) ||
            !matches_filter(jget(query, "Owners"), s->owner) || !matches_filter(jget(query, "Types"), s->type)) continue;
        sb_puts(&b, n++ ? ",{\"Id\":" : "{\"Id\":"); sb_jstr(&b, s->id);
        sb_puts(&b, ",\"Name\":"); sb_jstr(&b, s->name);
        sb_puts(&b, ",\"SystemType\":"); sb_jstr(&b, s->type);
        sb_puts(&b, ",\"Owner\":"); sb_jstr(&b, s->owner);
        sb_printf(&b, ",\"State\":\"%s\",\"RuntimeId\":\"%s\",\"RuntimeOsType\":\"Windows\"}", state_name(s->state), s->runtimeId);
    }
    sb_puts(&b, "]");
    json_free(query);
    r->hr = S_OK;
    r->doc = sb_take(&b);
}

/* ---- processes */
static DWORD WINAPI stdin_relay(void *arg) {
    proc *p = arg;
    char buf[4096];
    for (;;) {
        DWORD n = 0;
        if (!ReadFile(p->relayIn, buf, sizeof buf, &n, NULL) || n == 0) break;
        EnterCriticalSection(&p->io);
        if (p->stdinClosed || !p->childIn) { LeaveCriticalSection(&p->io); continue; /* drain until the client closes */ }
        p->stdinWriting = 1;
        HANDLE h = p->childIn;
        LeaveCriticalSection(&p->io);
        DWORD off = 0, w = 0;
        while (off < n && WriteFile(h, buf + off, n - off, &w, NULL) && w) off += w;
        EnterCriticalSection(&p->io);
        p->stdinWriting = 0;
        if (p->stdinClosed && p->childIn) { CloseHandle(p->childIn); p->childIn = NULL; }
        LeaveCriticalSection(&p->io);
    }
    EnterCriticalSection(&p->io);
    if (p->childIn) { CloseHandle(p->childIn); p->childIn = NULL; }
    p->stdinClosed = 1;
    LeaveCriticalSection(&p->io);
    CloseHandle(p->relayIn);
    return 0;
}

static void close_child_stdin(proc *p) {
    EnterCriticalSection(&p->io);
    p->stdinClosed = 1;
    if (!p->stdinWriting && p->childIn) { CloseHandle(p->childIn); p->childIn = NULL; }
    LeaveCriticalSection(&p->io);
}

/* ProcessStatus without its closing brace (the exit knobs apply once the process exited). */
static void process_status_fields(sb *b, proc *p) {
    int omit = p->exited && cfg_exitOmitCode;
    sb_printf(b, "{\"ProcessId\":%lu,\"Exited\":%s", (unsigned long)p->pid, p->exited ? "true" : "false");
    if (!omit) sb_printf(b, ",\"ExitCode\":%lu", (unsigned long)(p->exited ? p->exitCode : 0));
    sb_printf(b, ",\"LastWaitResult\":%ld", (long)(p->exited ? (LONG)cfg_exitLastWait : 0));
}

static char *process_status_doc(proc *p) {
    sb b; sb_init(&b);
    process_status_fields(&b, p);
    sb_puts(&b, "}");
    return sb_take(&b);
}

static DWORD WINAPI proc_watch(void *arg) {
    proc *p = arg;
    HANDLE h;
    EnterCriticalSection(&g_lock);
    DuplicateHandle(GetCurrentProcess(), p->hproc, GetCurrentProcess(), &h, SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, 0);
    LeaveCriticalSection(&g_lock);
    WaitForSingleObject(h, INFINITE);
    DWORD code = 0;
    GetExitCodeProcess(h, &code);
    CloseHandle(h);
    EnterCriticalSection(&g_lock);
    p->exited = 1;
    p->exitCode = code;
    slog("process %lu exited with %lu", (unsigned long)p->pid, (unsigned long)code);
    char *d = process_status_doc(p);
    emit_event(p->sys, p, 1, HcsEventProcessExited, d);
    free(d);
    close_child_stdin(p);
    proc_release(p);  /* the watcher's reference */
    LeaveCriticalSection(&g_lock);
    return 0;
}

static WCHAR *build_env(jv *env) {
    /* current environment minus overridden names, plus the overrides */
    WCHAR *cur = GetEnvironmentStringsW();
    sb out; sb_init(&out); /* build as UTF-16 bytes */
    for (WCHAR *e = cur; *e; e += wcslen(e) + 1) {
        int skip = 0;
        if (env && e[0] != L'=') {
            for (jv *c = env->child; c; c = c->next) {
                WCHAR *wk = u2w(c->key);
                size_t kl = wcslen(wk);
                if (!_wcsnicmp(e, wk, kl) && e[kl] == L'=') skip = 1;
                free(wk);
                if (skip) break;
            }
        }
        if (!skip) sb_putn(&out, (const char *)e, (wcslen(e) + 1) * sizeof(WCHAR));
    }
    FreeEnvironmentStringsW(cur);
    for (jv *c = env ? env->child : NULL; c; c = c->next) {
        char *val = c->t == J_STR ? xstrdup(c->s) : json_dump(c);
        sb kv; sb_init(&kv); sb_puts(&kv, c->key); sb_puts(&kv, "="); sb_puts(&kv, val);
        WCHAR *w = u2w(kv.p);
        sb_putn(&out, (const char *)w, (wcslen(w) + 1) * sizeof(WCHAR));
        free(w); sb_free(&kv); free(val);
    }
    WCHAR z = 0;
    sb_putn(&out, (const char *)&z, sizeof z);
    return (WCHAR *)sb_take(&out);
}

static BOOL dup_to_client(HANDLE hClientProc, HANDLE *h, ULONGLONG *out) {
    HANDLE remote = NULL;
    if (!*h) { *out = 0; return TRUE; }
    BOOL ok = DuplicateHandle(GetCurrentProcess(), *h, hClientProc, &remote, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE);
    *h = NULL;
    *out = ok ? (ULONGLONG)(ULONG_PTR)remote : 0;
    return ok;
}

static void do_create_process(pending *pd, result_t *r) {
    system_t *s = target_system(pd, r);
    if (!s) return;
    if (s->state == ST_STOPPED) { set_err(r, HCS_E_SYSTEM_ALREADY_STOPPED, "The compute system '%s' is stopped", s->id); return; }
    if (s->state != ST_RUNNING) { set_err(r, HCS_E_INVALID_STATE, "Cannot create a process in compute system '%s' in state %s", s->id, state_name(s->state)); return; }
    const char *d = jgets(pd->req, "Doc");
    char err[256];
    jv *pp = json_parse(d ? d : "", err, sizeof err);
    if (!pp || pp->t != J_OBJ) { json_free(pp); set_err(r, HCS_E_INVALID_JSON, "The process parameters are not a valid JSON object: %s", err); return; }
    const char *cmd = jgets(pp, "CommandLine");
    const char *app = jgets(pp, "ApplicationName");
    if ((!cmd || !cmd[0]) && (!app || !app[0])) { json_free(pp); set_err(r, HCS_E_INVALID_JSON, "ProcessParameters.CommandLine is required"); return; }
    const char *wd = jgets(pp, "WorkingDirectory");
    WCHAR *wwd = NULL;
    if (wd && wd[0]) {
        wwd = u2w(wd);
        DWORD a = GetFileAttributesW(wwd);
        if (a == INVALID_FILE_ATTRIBUTES || !(a & FILE_ATTRIBUTE_DIRECTORY)) {
            free(wwd); json_free(pp);
            set_err(r, HRESULT_FROM_WIN32(ERROR_DIRECTORY), "The working directory '%s' does not exist", wd);
            return;
        }
    }
    jv *env = jget(pp, "Environment");
    if (env && env->t != J_OBJ) env = NULL;
    int wantIn = jgetb(pp, "CreateStdInPipe", 0), wantOut = jgetb(pp, "CreateStdOutPipe", 0), wantErr = jgetb(pp, "CreateStdErrPipe", 0);
    HANDLE hClient = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pd->c->pid);
    if (!hClient && (wantIn || wantOut || wantErr)) {
        DWORD e = GetLastError(); free(wwd); json_free(pp);
        set_err(r, HRESULT_FROM_WIN32(e), "Cannot open the client process %lu to hand over stdio handles", (unsigned long)pd->c->pid);
        return;
    }
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, FALSE };
    HANDLE aR = NULL, aW = NULL, bR = NULL, bW = NULL, oR = NULL, oW = NULL, eR = NULL, eW = NULL, nul = NULL;
    /* The caller's ends (aW, oR, eR) are what dup_to_client hands over (stdio_pipe.c). */
    BOOL piped = TRUE;
    if (wantIn) piped = stdio_pipe_create(0, &aW, &aR) && CreatePipe(&bR, &bW, &sa, 0);
    if (piped && wantOut) piped = stdio_pipe_create(1, &oR, &oW);
    if (piped && wantErr) piped = stdio_pipe_create(1, &eR, &eW);
    if (!piped) {
        DWORD e = GetLastError();
        HANDLE all[] = { aR, aW, bR, bW, oR, oW, eR, eW, hClient };
        for (int i = 0; i < 9; i++) if (all[i]) CloseHandle(all[i]);
        free(wwd); json_free(pp);
        set_err(r, HRESULT_FROM_WIN32(e), "Cannot create the stdio pipes (error %lu)", (unsigned long)e);
        return;
    }
    if (!wantIn || !wantOut || !wantErr) nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = wantIn ? bR : nul;
    si.hStdOutput = wantOut ? oW : nul;
    si.hStdError = wantErr ? eW : nul;
    HANDLE inh[] = { si.hStdInput, si.hStdOutput, si.hStdError };
    for (int i = 0; i < 3; i++) if (inh[i] && inh[i] != INVALID_HANDLE_VALUE) SetHandleInformation(inh[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    WCHAR *envBlock = build_env(env);
    WCHAR *wcmd = u2w(cmd && cmd[0] ? cmd : app);
    WCHAR *wapp = app && app[0] ? u2w(app) : NULL;
    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    BOOL ok = CreateProcessW(wapp, wcmd, NULL, NULL, TRUE, CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW,
                             envBlock, wwd, &si, &pi);
    DWORD cerr = GetLastError();
    for (int i = 0; i < 3; i++) if (inh[i] && inh[i] != INVALID_HANDLE_VALUE) SetHandleInformation(inh[i], HANDLE_FLAG_INHERIT, 0);
    if (bR) CloseHandle(bR);
    if (oW) CloseHandle(oW);
    if (eW) CloseHandle(eW);
    if (nul && nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
    free(envBlock); free(wcmd); free(wapp); free(wwd);
    if (!ok) {
        if (aR) CloseHandle(aR);
        if (aW) CloseHandle(aW);
        if (bW) CloseHandle(bW);
        if (oR) CloseHandle(oR);
        if (eR) CloseHandle(eR);
        if (hClient) CloseHandle(hClient);
        set_err(r, HRESULT_FROM_WIN32(cerr), "CreateProcess failed for '%s' (error %lu)", cmd ? cmd : app, (unsigned long)cerr);
        json_free(pp);
        return;
    }
    if (s->job && !AssignProcessToJobObject(s->job, pi.hProcess))
        slog("AssignProcessToJobObject failed (%lu); the process is tracked by handle only", GetLastError());
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    proc *p = calloc(1, sizeof *p);
    InitializeCriticalSection(&p->io);
    p->sys = s;
    p->pid = pi.dwProcessId;
    p->hproc = pi.hProcess;
    p->created = filetime_now();
    p->cmdline = xstrdup(cmd && cmd[0] ? cmd : app);
    {
        /* image name: first token of the command line, without path */
        const char *c = p->cmdline; char img[260]; size_t n = 0;
        if (*c == '"') { c++; while (*c && *c != '"' && n < sizeof img - 1) img[n++] = *c++; }
        else while (*c && *c != ' ' && *c != '\t' && n < sizeof img - 1) img[n++] = *c++;
        img[n] = 0;
        char *base = img;
        for (char *q = img; *q; q++) if (*q == '\\' || *q == '/') base = q + 1;
        p->image = xstrdup(base);
    }
    p->refs = 2; /* system list + watcher */
    p->next = s->procs; s->procs = p;
    if (wantIn) {
        p->relayIn = aR;
        p->childIn = bW;
        HANDLE t = CreateThread(NULL, 64 * 1024, stdin_relay, p, 0, NULL);
        if (t) CloseHandle(t);
    }
    HANDLE t = CreateThread(NULL, 64 * 1024, proc_watch, p, 0, NULL);
    if (t) CloseHandle(t);
    r->hasPi = 1;
    r->pid = p->pid;
    if (hClient) {
        dup_to_client(hClient, &aW, &r->in);
        dup_to_client(hClient, &oR, &r->out);
        dup_to_client(hClient, &eR, &r->err);
        CloseHandle(hClient);
    }
    /* link the process handle */
    hentry *h = find_handle(pd->c, pd->procPid ? 0 : jget(pd->req, "PH") ? (ULONGLONG)jget(pd->req, "PH")->i : 0);
    if (h && !h->p) { h->p = p; p->refs++; h->sys = s; h->linked = 1; s->handles++; }
    slog("process %lu started in %s: %s", (unsigned long)p->pid, s->id, p->cmdline);
    json_free(pp);
    r->hr = S_OK;
}

static proc *target_proc(pending *pd, result_t *r) {
    hentry *h = find_handle(pd->c, pd->hid);
    proc *p = h ? h->p : NULL;
    if (!p) {
        system_t *s = find_system(pd->sysid);
        p = find_proc(s, pd->procPid);
    }
    if (!p) set_err(r, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "The process %lu was not found", (unsigned long)pd->procPid);
    return p;
}

static void process_op(pending *pd, result_t *r) {
    proc *p = target_proc(pd, r);
    if (!p) return;
    const char *fn = pd->fn;
    const char *opts = jgets(pd->req, "Options");
    char err[256];
    r->hr = S_OK;
    if (!strcmp(fn, "HcsTerminateProcess")) {
        if (p->exited) { set_err(r, HCS_E_PROCESS_ALREADY_STOPPED, "The process %lu has already exited", (unsigned long)p->pid); return; }
        TerminateProcess(p->hproc, 1);
    } else if (!strcmp(fn, "HcsSignalProcess")) {
        jv *o = json_parse(opts ? opts : "", err, sizeof err);
        const char *sig = jgets(o, "Signal");
        static const char *sigs[] = { "CtrlC", "CtrlBreak", "CtrlClose", "CtrlLogOff", "CtrlShutdown", NULL };
        int ok = 0;
        for (int i = 0; sig && sigs[i]; i++) if (!strcmp(sig, sigs[i])) ok = 1;
        if (!ok) { json_free(o); set_err(r, E_INVALIDARG, "Unknown or missing Signal in SignalProcessOptions"); return; }
        json_free(o);
        if (p->exited) { set_err(r, HCS_E_PROCESS_ALREADY_STOPPED, "The process %lu has already exited", (unsigned long)p->pid); return; }
        TerminateProcess(p->hproc, 0xC000013A);
    } else if (!strcmp(fn, "HcsGetProcessInfo")) {
        r->hasPi = 1;
        r->pid = p->pid;
    } else if (!strcmp(fn, "HcsGetProcessProperties")) {
        sb b; sb_init(&b);
        process_status_fields(&b, p);
        if (p->consoleW || p->consoleH) sb_printf(&b, ",\"ConsoleSize\":{\"Height\":%d,\"Width\":%d}", p->consoleH, p->consoleW);
        sb_puts(&b, ",\"CommandLine\":"); sb_jstr(&b, p->cmdline);
        sb_puts(&b, "}");
        r->doc = sb_take(&b);
    } else if (!strcmp(fn, "HcsModifyProcess")) {
        jv *o = json_parse(opts ? opts : "", err, sizeof err);
        const char *op = jgets(o, "Operation");
        if (!o || !op) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "ProcessModifyRequest needs an Operation"); return; }
        if (!strcmp(op, "ConsoleSize")) {
            jv *cs = jget(o, "ConsoleSize");
            long long h, w;
            if (!jgeti(cs, "Height", &h) || !jgeti(cs, "Width", &w)) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "ConsoleSize needs Height and Width"); return; }
            p->consoleH = (int)h; p->consoleW = (int)w;
        } else if (!strcmp(op, "CloseHandle")) {
            const char *which = jgets(jget(o, "CloseHandle"), "Handle");
            if (!which) { json_free(o); set_err(r, HCS_E_INVALID_JSON, "CloseHandle needs Handle"); return; }
            if (!strcmp(which, "StdIn")) close_child_stdin(p);
            else if (strcmp(which, "StdOut") && strcmp(which, "StdErr") && strcmp(which, "All")) {
                json_free(o); set_err(r, HCS_E_INVALID_JSON, "Unknown handle '%s'", which); return;
            } else if (!strcmp(which, "All")) close_child_stdin(p);
        } else { json_free(o); set_err(r, HCS_E_INVALID_JSON, "Unknown process modify Operation '%s'", op); return; }
        json_free(o);
    }
}

static void execute(pending *pd, result_t *r) {
    const char *fn = pd->fn;
    if (pd->fail) { r->hr = pd->failHr; r->doc = pd->failDoc ? xstrdup(pd->failDoc) : result_error_doc(pd->failHr, "Injected fault"); return; }
    if (!strcmp(fn, "HcsCreateComputeSystem")) do_create(pd, r);
    else if (!strcmp(fn, "HcsGetComputeSystemProperties")) get_properties(pd, r);
    else if (!strcmp(fn, "HcsModifyComputeSystem")) do_modify(pd, r);
    else if (!strcmp(fn, "HcsEnumerateComputeSystems")) do_enumerate(pd, r);
    else if (!strcmp(fn, "HcsCreateProcess")) do_create_process(pd, r);
    else if (!strcmp(fn, "HcsTerminateProcess") || !strcmp(fn, "HcsSignalProcess") || !strcmp(fn, "HcsGetProcessInfo") ||
             !strcmp(fn, "HcsGetProcessProperties") || !strcmp(fn, "HcsModifyProcess")) process_op(pd, r);
    else if (!strcmp(fn, "HcsStartComputeSystem") || !strcmp(fn, "HcsShutDownComputeSystem") || !strcmp(fn, "HcsTerminateComputeSystem") ||
             !strcmp(fn, "HcsCrashComputeSystem") || !strcmp(fn, "HcsPauseComputeSystem") || !strcmp(fn, "HcsResumeComputeSystem") ||
             !strcmp(fn, "HcsSaveComputeSystem")) lifecycle(pd, r);
    else {
        char msg[200]; snprintf(msg, sizeof msg, "%s is not simulated by the test host", fn);
        r->hr = E_NOTIMPL; r->doc = result_error_doc(E_NOTIMPL, msg);
    }
}

static DWORD WINAPI scheduler_thread(void *arg) {
    (void)arg;
    for (;;) {
        EnterCriticalSection(&g_lock);
        ULONGLONG now = now_ms();
        DWORD wait = INFINITE;
        while (g_pending && !g_pending->hang && g_pending->due <= now) {
            pending *pd = g_pending;
            g_pending = pd->next;
            result_t r; memset(&r, 0, sizeof r);
            if (pd->raw) {
                if (!pd->c->gone) { send_msg(pd->c, pd->raw); pd->raw = NULL; }
            } else if (!pd->c->gone) {
                if (!pd->workDone) execute(pd, &r);
                if (r.repollMs) { /* a shutdown still waiting for its guest (vm_disk_rules.c rule D) */
                    pd->due = now_ms() + r.repollMs;
                    schedule(pd);
                    free(r.doc);
                    now = now_ms();
                    continue;
                }
                if (!pd->workDone && cfg_termLateMs > 0 && r.hr == S_OK && !strcmp(pd->fn, "HcsTerminateProcess")) {
                    /* knob TerminateCompletionDelayMs: the process is killed now, the op completes later */
                    pd->workDone = 1;
                    pd->due = now_ms() + (ULONGLONG)cfg_termLateMs;
                    schedule(pd);
                    free(r.doc);
                    now = now_ms();
                    continue;
                }
                send_done(pd->c, pd->opid, &r);
            }
            free(r.doc);
            client_release(pd->c);
            free_pending(pd);
            now = now_ms();
        }
        if (g_pending && !g_pending->hang) wait = (DWORD)(g_pending->due - now);
        LeaveCriticalSection(&g_lock);
        WaitForSingleObject(g_schedWake, wait);
    }
    return 0;
}

/* ------------------------------------------------------------------ control */
/* Every system ends and is forgotten (SystemExited is sent to whoever still listens). */
static void drop_all_systems(void) {
    while (g_systems) {
        system_t *s = g_systems;
        kill_system_processes(s, 1);
        if (s->state != ST_STOPPED) stop_system(s, "ForcedExit", 0);
        remove_system(s);
    }
}

static void reset_all(void) {
    drop_all_systems();
    /* hung operations complete as cancelled; others run (and find nothing) */
    pending **pp = &g_pending;
    while (*pp) {
        pending *pd = *pp;
        if (pd->hang) {
            *pp = pd->next;
            result_t r; memset(&r, 0, sizeof r);
            set_err(&r, HCSSIM_E_CANCELLED, "The operation was cancelled by a test-host Reset");
            if (pd->c->gone) {
            } else if (pd->raw) {
                sb b; sb_init(&b);
                sb_printf(&b, "{\"T\":\"Ack\",\"Id\":%llu,\"HResult\":%ld,\"Doc\":", pd->reqId, (long)r.hr);
                sb_jstr(&b, r.doc);
                sb_puts(&b, "}");
                send_msg(pd->c, sb_take(&b));
            } else send_done(pd->c, pd->opid, &r);
            free(r.doc); client_release(pd->c); free_pending(pd);
        } else pp = &pd->next;
    }
    clear_faults();
    cfg_delayMs = 2;
    cfg_cancelNotImpl = 0;
    cfg_termLateMs = 0; cfg_exitOmitCode = 0; cfg_exitLastWait = 0;
    stdio_pipe_reset();
    free(cfg_schemaVersions); cfg_schemaVersions = NULL;
    vm_rules_reset();
    vmd_reset();
    slog("reset");
}

static char *service_state_doc(void) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"ServicePid\":%lu,\"Instance\":", GetCurrentProcessId());
    char *inst = w2u(g_instance); sb_jstr(&b, inst); free(inst);
    sb_puts(&b, ",\"Clients\":[");
    int n = 0;
    for (client *c = g_clients; c; c = c->next) if (!c->gone) sb_printf(&b, "%s%lu", n++ ? "," : "", (unsigned long)c->pid);
    sb_puts(&b, "],\"Systems\":[");
    n = 0;
    for (system_t *s = g_systems; s; s = s->next) {
        sb_puts(&b, n++ ? ",{\"Id\":" : "{\"Id\":"); sb_jstr(&b, s->id);
        sb_printf(&b, ",\"State\":\"%s\",\"SystemType\":\"%s\",\"RuntimeId\":\"%s\",\"Owner\":", state_name(s->state), s->type, s->runtimeId);
        sb_jstr(&b, s->owner);
        sb_printf(&b, ",\"ShouldTerminateOnLastHandleClosed\":%s,\"HandleCount\":%d,\"Handles\":{", s->terminateOnClose ? "true" : "false", s->handles);
        int m = 0;
        for (client *c = g_clients; c; c = c->next) {
            int cnt = 0;
            for (hentry *h = g_handles; h; h = h->next) if (h->c == c && h->sys == s && h->linked) cnt++;
            if (cnt) sb_printf(&b, "%s\"%lu\":%d", m++ ? "," : "", (unsigned long)c->pid, cnt);
        }
        sb_puts(&b, "},\"Processes\":[");
        m = 0;
        for (proc *p = s->procs; p; p = p->next) {
            sb_printf(&b, "%s{\"ProcessId\":%lu,\"Exited\":%s,\"ExitCode\":%lu,\"CommandLine\":", m++ ? "," : "", (unsigned long)p->pid,
                      p->exited ? "true" : "false", (unsigned long)p->exitCode);
            sb_jstr(&b, p->cmdline);
            if (p->consoleW || p->consoleH) sb_printf(&b, ",\"ConsoleSize\":{\"Height\":%d,\"Width\":%d}", p->consoleH, p->consoleW);
            sb_puts(&b, "}");
        }
        sb_puts(&b, "],\"ModifyRequests\":");
        json_write(&b, s->modifies);
        sb_printf(&b, ",\"MemorySizeInMB\":%lld,\"Document\":", doc_memory_mb(s));
        json_write(&b, s->doc);
        sb_puts(&b, vmd_guest_json(s->guest));
        sb_puts(&b, "}");
    }
    sb_puts(&b, "],\"Grants\":");
    extern jv *g_grants;
    json_write(&b, g_grants);
    sb_puts(&b, ",\"Faults\":[");
    n = 0;
    for (fault *f = g_faults; f; f = f->next) {
        sb_printf(&b, "%s{\"FaultId\":%lld,\"Function\":", n++ ? "," : "", f->id);
        sb_jstr(&b, f->fn);
        sb_puts(&b, ",\"Action\":"); sb_jstr(&b, f->action);
        if (f->sysid) { sb_puts(&b, ",\"SystemId\":"); sb_jstr(&b, f->sysid); }
        sb_printf(&b, ",\"Pid\":%lu,\"SkipsLeft\":%lld,\"HitsLeft\":%lld}", (unsigned long)f->pid, f->skip, f->count);
    }
    sb_puts(&b, "],\"PendingOperations\":");
    n = 0; for (pending *p = g_pending; p; p = p->next) n++;
    sb_printf(&b, "%d,\"Config\":{\"CompletionDelayMs\":%lld,\"CancelNotImplemented\":%s,\"SupportedSchemaVersions\":%s,"
              "\"TerminateCompletionDelayMs\":%lld,\"ExitStatus\":{\"OmitExitCode\":%s,\"LastWaitResult\":%lld}%s", n, cfg_delayMs,
              cfg_cancelNotImpl ? "true" : "false", cfg_schemaVersions ? cfg_schemaVersions : DEFAULT_VERSIONS,
              cfg_termLateMs, cfg_exitOmitCode ? "true" : "false", cfg_exitLastWait, vm_rules_config_json());
    sb_puts(&b, vmd_config_json());
    sb_puts(&b, stdio_pipe_config_json());
    sb_puts(&b, "}}");
    return sb_take(&b);
}
jv *g_grants;

static HRESULT control(client *c, jv *req, char **out) {
    const char *op = jgets(req, "Op");
    *out = NULL;
    if (!op) { *out = result_error_doc(E_INVALIDARG, "HcsSimControl: missing Op"); return E_INVALIDARG; }
    if (!strcmp(op, "Reset")) { reset_all(); *out = xstrdup("{}"); return S_OK; }
    /* A host restart: no compute system survives one. HCS has no persisted compute systems: a system
       exists from HcsCreateComputeSystem until it is terminated or its last handle closes
       (https://learn.microsoft.com/virtualization/api/hcs/reference/hcscreatecomputesystem), and a
       reboot ends every VM and container. Faults, config and grants (file ACLs) are kept. */
    if (!strcmp(op, "HostRestart")) { drop_all_systems(); slog("host restart"); *out = xstrdup("{}"); return S_OK; }
    if (!strcmp(op, "SetConfig")) {
        jv *cfg = jget(req, "Config");
        long long v;
        if (jgeti(cfg, "CompletionDelayMs", &v)) cfg_delayMs = v < 0 ? 0 : v;
        if (jgeti(cfg, "TerminateCompletionDelayMs", &v)) cfg_termLateMs = v < 0 ? 0 : v;
        jv *es = jget(cfg, "ExitStatus");
        if (es) { cfg_exitOmitCode = jgetb(es, "OmitExitCode", 0); cfg_exitLastWait = jgeti(es, "LastWaitResult", &v) ? v : 0; }
        jv *b = jget(cfg, "CancelNotImplemented");
        if (b && b->t == J_BOOL) cfg_cancelNotImpl = b->b;
        jv *sv = jget(cfg, "SupportedSchemaVersions");
        if (sv && sv->t == J_ARR) { free(cfg_schemaVersions); cfg_schemaVersions = json_dump(sv); }
        vm_rules_config(cfg);
        vmd_config(cfg);
        stdio_pipe_config(cfg);
        *out = xstrdup("{}");
        return S_OK;
    }
    if (!strcmp(op, "InjectFault")) {
        jv *f = jget(req, "Fault");
        const char *fn = jgets(f, "Function"), *action = jgets(f, "Action");
        static const char *actions[] = { "Fail", "FailCall", "Hang", "Delay", "Disconnect", NULL };
        int ok = 0;
        for (int i = 0; action && actions[i]; i++) if (!strcmp(action, actions[i])) ok = 1;
        if (!fn || !ok) { *out = result_error_doc(E_INVALIDARG, "InjectFault needs Function and a known Action (Fail, FailCall, Hang, Delay, Disconnect)"); return E_INVALIDARG; }
        fault *nf = calloc(1, sizeof *nf);
        nf->id = ++g_faultSeq;
        nf->fn = xstrdup(fn);
        nf->action = xstrdup(action);
        nf->sysid = xstrdup(jgets(f, "SystemId"));
        long long v;
        nf->skip = jgeti(f, "Nth", &v) && v > 1 ? v - 1 : 0;
        nf->count = jgeti(f, "Count", &v) ? (v == 0 ? -1 : v) : 1;
        nf->hr = jgeti(f, "HResult", &v) ? (HRESULT)(LONG)(unsigned long)v : E_FAIL;
        jv *ed = jget(f, "ErrorDocument");
        if (ed) nf->errdoc = json_dump(ed);
        nf->delayMs = jgeti(f, "DelayMs", &v) ? v : 1000;
        nf->pid = jgeti(f, "Pid", &v) ? (DWORD)v : 0;
        fault **pp = &g_faults; while (*pp) pp = &(*pp)->next; *pp = nf;
        sb b; sb_init(&b); sb_printf(&b, "{\"FaultId\":%lld}", nf->id); *out = sb_take(&b);
        return S_OK;
    }
    if (!strcmp(op, "ClearFaults")) { clear_faults(); *out = xstrdup("{}"); return S_OK; }
    if (!strcmp(op, "GuestReboot")) { /* the guest restarts itself, as Windows Setup does (vm_disk_rules.c rule R) */
        const char *id = jgets(req, "SystemId");
        system_t *s = id ? find_system(id) : NULL;
        if (!s || !s->guest || s->state != ST_RUNNING) {
            *out = result_error_doc(E_INVALIDARG, "GuestReboot needs the SystemId of a running virtual machine");
            return E_INVALIDARG;
        }
        int stops = vmd_guest_reboot(s->guest);
        if (stops) stop_system(s, "GracefulExit", 0);
        sb b; sb_init(&b);
        sb_printf(&b, "{\"Stopped\":%s,\"Reboots\":%d}", stops ? "true" : "false", vmd_guest_reboots(s->guest));
        if (stops && s->handles == 0) remove_system(s);
        *out = sb_take(&b);
        return S_OK;
    }
    if (!strcmp(op, "ServiceState")) { *out = service_state_doc(); return S_OK; }
    (void)c;
    sb b; sb_init(&b); sb_printf(&b, "HcsSimControl: unknown Op '%s'", op);
    char *m = sb_take(&b);
    *out = result_error_doc(E_INVALIDARG, m); free(m);
    return E_INVALIDARG;
}

/* ------------------------------------------------------------------ synchronous functions */
static HRESULT file_exists(const char *path) {
    WCHAR *w = u2w(path ? path : "");
    DWORD a = GetFileAttributesW(w);
    free(w);
    return a == INVALID_FILE_ATTRIBUTES ? HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) : S_OK;
}
/* Grants outlive this process. HcsGrantVmAccess adds an ACE for the VM's SID to the file
   itself (hcsshim internal/security/grantvmgroupaccess.go does the same by hand for the VM
   group: SetEntriesInAcl + SetNamedSecurityInfo on the file), so a grant made before the
   service stopped still holds when a later one starts the VM: the record of grants is kept in
   a file per instance (%TEMP%\hcssim-<instance>-grants.json) and read back at start-up.
   Measured by the VM driver's stop -> start, which can straddle this service's idle exit. */
static void grants_path(WCHAR *out, DWORD cap) {
    WCHAR tmp[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, tmp);
    if (!n || n >= MAX_PATH) wcscpy(tmp, L".\\");
    swprintf(out, cap, L"%lshcssim-%ls-grants.json", tmp, g_instance);
}
static void save_grants(void) {
    WCHAR path[MAX_PATH + 160];
    grants_path(path, MAX_PATH + 160);
    sb b; sb_init(&b);
    json_write(&b, g_grants);
    char *text = sb_take(&b);
    HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (f != INVALID_HANDLE_VALUE) {
        DWORD w;
        WriteFile(f, text, (DWORD)strlen(text), &w, NULL);
        CloseHandle(f);
    }
    free(text);
}
static void load_grants(void) {
    WCHAR path[MAX_PATH + 160];
    grants_path(path, MAX_PATH + 160);
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE) return;
    DWORD size = GetFileSize(f, NULL), got = 0;
    char *text = size != INVALID_FILE_SIZE && size < (16u << 20) ? calloc(1, size + 1) : NULL;
    if (text && ReadFile(f, text, size, &got, NULL) && got == size) {
        char err[128];
        jv *v = json_parse(text, err, sizeof err);
        if (v && v->t == J_ARR) { json_free(g_grants); g_grants = v; }
        else json_free(v);
    }
    free(text);
    CloseHandle(f);
}
static void record_grant(const char *kind, const char *vmid, const char *path) {
    if (!g_grants) g_grants = jnew(J_ARR);
    jv *g = jnew(J_OBJ);
    jset(g, "Action", jnew_str(kind));
    if (vmid) jset(g, "VmId", jnew_str(vmid));
    jset(g, "FilePath", jnew_str(path));
    jpush(g_grants, g);
    save_grants();
}
static HRESULT sync_call(client *c, const char *fn, jv *req, char **out) {
    *out = NULL;
    const char *path = jgets(req, "Path");
    if (!strcmp(fn, "HcsGetServiceProperties")) {
        const char *q = jgets(req, "Query");
        if (q && q[0]) {
            char err[256];
            jv *query = json_parse(q, err, sizeof err);
            if (!query || query->t != J_OBJ) { json_free(query); *out = result_error_doc(HCS_E_INVALID_JSON, "The service property query is not a valid JSON object"); return HCS_E_INVALID_JSON; }
            jv *pt = jget(query, "PropertyTypes");
            for (jv *t = pt && pt->t == J_ARR ? pt->child : NULL; t; t = t->next)
                if (t->t != J_STR || strcmp(t->s, "Basic")) {
                    json_free(query);
                    *out = result_error_doc(E_INVALIDARG, "Only the Basic service property type is simulated");
                    return E_INVALIDARG;
                }
            json_free(query);
        }
        sb b; sb_init(&b);
        sb_printf(&b, "{\"Properties\":[{\"SupportedSchemaVersions\":%s}]}", cfg_schemaVersions ? cfg_schemaVersions : DEFAULT_VERSIONS);
        *out = sb_take(&b);
        return S_OK;
    }
    if (!strcmp(fn, "HcsCreateEmptyGuestStateFile") || !strcmp(fn, "HcsCreateEmptyRuntimeStateFile")) {
        WCHAR *w = u2w(path ? path : "");
        HANDLE f = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        free(w);
        if (f == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
        const char *hdr = strstr(fn, "Guest") ? "HCSSIM-VMGS\r\n" : "HCSSIM-VMRS\r\n";
        DWORD wr; WriteFile(f, hdr, (DWORD)strlen(hdr), &wr, NULL);
        CloseHandle(f);
        return S_OK;
    }
    if (!strcmp(fn, "HcsGrantVmAccess") || !strcmp(fn, "HcsRevokeVmAccess") || !strcmp(fn, "HcsGrantVmGroupAccess") || !strcmp(fn, "HcsRevokeVmGroupAccess")) {
        HRESULT hr = file_exists(path);
        if (FAILED(hr)) return hr;
        record_grant(fn + 3, jgets(req, "VmId"), path);
        return S_OK;
    }
    (void)c;
    char msg[200]; snprintf(msg, sizeof msg, "%s is not simulated by the test host", fn);
    *out = result_error_doc(E_NOTIMPL, msg);
    return E_NOTIMPL;
}

/* ------------------------------------------------------------------ request dispatch */
static int is_async(const char *fn) {
    static const char *a[] = { "HcsEnumerateComputeSystems", "HcsEnumerateComputeSystemsInNamespace", "HcsCreateComputeSystem",
        "HcsCreateComputeSystemInNamespace", "HcsStartComputeSystem", "HcsShutDownComputeSystem", "HcsTerminateComputeSystem",
        "HcsCrashComputeSystem", "HcsPauseComputeSystem", "HcsResumeComputeSystem", "HcsSaveComputeSystem",
        "HcsGetComputeSystemProperties", "HcsModifyComputeSystem", "HcsCreateProcess", "HcsTerminateProcess", "HcsSignalProcess",
        "HcsGetProcessInfo", "HcsGetProcessProperties", "HcsModifyProcess", NULL };
    for (int i = 0; a[i]; i++) if (!strcmp(a[i], fn)) return 1;
    return 0;
}

/* When set (Delay / Hang faults on synchronous functions), reply() defers the Ack through the scheduler. */
static int g_deferHang;
static long long g_deferMs = -1;
static void reply(client *c, ULONGLONG id, HRESULT hr, const char *doc, const char *extra) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"T\":\"Ack\",\"Id\":%llu,\"HResult\":%ld,\"Doc\":", id, (long)hr);
    sb_jstr(&b, doc);
    if (extra) sb_puts(&b, extra);
    sb_puts(&b, "}");
    if (g_deferHang || g_deferMs >= 0) {
        pending *pd = calloc(1, sizeof *pd);
        pd->c = c;
        InterlockedIncrement(&c->refs);
        pd->fn = xstrdup("(deferred reply)");
        pd->raw = sb_take(&b);
        pd->reqId = id;
        pd->hang = g_deferHang;
        pd->due = g_deferHang ? ~0ULL : now_ms() + (ULONGLONG)g_deferMs;
        schedule(pd);
        return;
    }
    send_msg(c, sb_take(&b));
}

static void send_disconnect(client *c) {
    c->disconnecting = 1;
    send_msg(c, xstrdup("{\"T\":\"Disconnect\"}"));
    slog("client %lu: injected disconnect", (unsigned long)c->pid);
}

static void handle_sync(client *c, ULONGLONG id, const char *fn, hentry *h, const char *sysid, jv *req);
static void handle_async(client *c, ULONGLONG id, const char *fn, hentry *h, const char *sysid, jv *req, fault_hit fh);
static void handle_request(client *c, jv *req) {
    long long v;
    ULONGLONG id = jgeti(req, "Id", &v) ? (ULONGLONG)v : 0;
    const char *fn = jgets(req, "Fn");
    if (!fn) return;
    if (c->disconnecting) return;
    if (!strcmp(fn, "Hello")) {
        c->pid = jgeti(req, "Pid", &v) ? (DWORD)v : 0;
        char extra[64]; snprintf(extra, sizeof extra, ",\"ServicePid\":%lu", GetCurrentProcessId());
        reply(c, id, S_OK, NULL, extra);
        return;
    }
    if (!strcmp(fn, "Cancel")) {
        ULONGLONG opid = jgeti(req, "Op", &v) ? (ULONGLONG)v : 0;
        if (cfg_cancelNotImpl) { reply(c, id, E_NOTIMPL, NULL, NULL); return; }
        for (pending **pp = &g_pending; *pp; pp = &(*pp)->next) {
            pending *pd = *pp;
            if (pd->c == c && pd->opid == opid && !pd->raw) {
                *pp = pd->next;
                result_t r; memset(&r, 0, sizeof r);
                set_err(&r, HCSSIM_E_CANCELLED, "The operation was cancelled");
                reply(c, id, S_OK, NULL, NULL);
                send_done(c, opid, &r);
                free(r.doc); client_release(pd->c); free_pending(pd);
                return;
            }
        }
        reply(c, id, S_OK, NULL, NULL);
        return;
    }
    if (!strcmp(fn, "CloseHandle")) {
        hentry *h = find_handle(c, jgeti(req, "H", &v) ? (ULONGLONG)v : 0);
        if (h) release_handle(h);
        reply(c, id, S_OK, NULL, NULL);
        return;
    }
    if (!strcmp(fn, "HcsSimControl")) {
        const char *d = jgets(req, "Doc");
        char err[256], *out = NULL;
        jv *creq = json_parse(d ? d : "", err, sizeof err);
        HRESULT hr;
        if (!creq || creq->t != J_OBJ) { hr = E_INVALIDARG; out = result_error_doc(hr, "HcsSimControl: request is not a JSON object"); }
        else hr = control(c, creq, &out);
        json_free(creq);
        reply(c, id, hr, out, NULL);
        free(out);
        return;
    }

    /* resolve the handle for functions that take one */
    hentry *h = NULL;
    const char *sysid = jgets(req, "SysId");
    if (jgeti(req, "H", &v)) {
        h = find_handle(c, (ULONGLONG)v);
        if (!h) { reply(c, id, E_HANDLE, NULL, NULL); return; }
        sysid = h->sys ? h->sys->id : h->sysid;
    }
    fault_hit fh = check_faults(c, fn, sysid);
    int async = is_async(fn);
    if (fh.hit && !strcmp(fh.action, "FailCall")) {
        char *doc = fh.errdoc ? xstrdup(fh.errdoc) : result_error_doc(fh.hr, "Injected fault (FailCall)");
        reply(c, id, fh.hr, async ? NULL : doc, NULL);
        free(doc);
        return;
    }
    if (fh.hit && !strcmp(fh.action, "Disconnect")) {
        if (async) reply(c, id, S_OK, NULL, NULL);
        send_disconnect(c);
        return;
    }
    if (!async) {
        if (fh.hit && !strcmp(fh.action, "Fail")) {
            char *doc = fh.errdoc ? xstrdup(fh.errdoc) : result_error_doc(fh.hr, "Injected fault (Fail)");
            reply(c, id, fh.hr, doc, NULL);
            free(doc);
            return;
        }
        /* Hang / Delay on a synchronous function: the reply is deferred (Hang: until Reset or disconnect) */
        if (fh.hit && !strcmp(fh.action, "Hang")) g_deferHang = 1;
        if (fh.hit && !strcmp(fh.action, "Delay")) g_deferMs = cfg_delayMs + fh.delayMs;
        handle_sync(c, id, fn, h, sysid, req);
        g_deferHang = 0; g_deferMs = -1;
        return;
    }
    handle_async(c, id, fn, h, sysid, req, fh);
}

static void handle_sync(client *c, ULONGLONG id, const char *fn, hentry *h, const char *sysid, jv *req) {
    long long v;
    {
        if (!strcmp(fn, "HcsOpenComputeSystem")) {
            system_t *s = find_system(sysid);
            if (!s) { char *d = result_error_doc(HCS_E_SYSTEM_NOT_FOUND, "The compute system was not found"); reply(c, id, HCS_E_SYSTEM_NOT_FOUND, d, NULL); free(d); return; }
            hentry *nh = new_handle(c, s->id, s, NULL);
            sb b; sb_init(&b);
            sb_printf(&b, ",\"H\":%llu,\"State\":\"%s\",\"ExitDoc\":", nh->id, state_name(s->state));
            sb_jstr(&b, s->state == ST_STOPPED ? s->exitDoc : NULL);
            char *extra = sb_take(&b);
            reply(c, id, S_OK, NULL, extra);
            free(extra);
            return;
        }
        if (!strcmp(fn, "HcsOpenProcess")) {
            system_t *s = h ? h->sys : NULL;
            DWORD pid = jgeti(req, "ProcessId", &v) ? (DWORD)v : 0;
            if (!s) { reply(c, id, HCS_E_SYSTEM_NOT_FOUND, NULL, NULL); return; }
            proc *p = find_proc(s, pid);
            if (!p) { reply(c, id, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), NULL, NULL); return; }
            hentry *nh = new_handle(c, s->id, s, p);
            nh->isProc = 1;
            char *sd = process_status_doc(p);
            sb b; sb_init(&b);
            sb_printf(&b, ",\"H\":%llu,\"Exited\":%s,\"ExitDoc\":", nh->id, p->exited ? "true" : "false");
            sb_jstr(&b, sd);
            free(sd);
            char *extra = sb_take(&b);
            reply(c, id, S_OK, NULL, extra);
            free(extra);
            return;
        }
        char *out = NULL;
        HRESULT hr = sync_call(c, fn, req, &out);
        reply(c, id, hr, out, NULL);
        free(out);
        return;
    }
}

static void handle_async(client *c, ULONGLONG id, const char *fn, hentry *h, const char *sysid, jv *req, fault_hit fh) {
    long long v;
    /* asynchronous: accept now, complete later */
    pending *pd = calloc(1, sizeof *pd);
    pd->c = c;
    InterlockedIncrement(&c->refs);
    pd->opid = jgeti(req, "Op", &v) ? (ULONGLONG)v : 0;
    pd->fn = xstrdup(fn);
    pd->hid = h ? h->id : 0;
    pd->sysid = xstrdup(sysid);
    pd->procPid = h && h->p ? h->p->pid : 0;
    pd->req = req; /* owned now */
    pd->due = now_ms() + (ULONGLONG)cfg_delayMs;
    char extra[64] = "";
    if (!strcmp(fn, "HcsCreateComputeSystem")) {
        hentry *nh = new_handle(c, sysid, NULL, NULL);
        pd->hid = nh->id;
        snprintf(extra, sizeof extra, ",\"H\":%llu", nh->id);
    } else if (!strcmp(fn, "HcsCreateProcess")) {
        hentry *nh = new_handle(c, sysid, NULL, NULL);
        nh->isProc = 1;
        jset(req, "PH", jnew_int((long long)nh->id));
        snprintf(extra, sizeof extra, ",\"H\":%llu", nh->id);
    }
    if (fh.hit) {
        if (!strcmp(fh.action, "Fail")) { pd->fail = 1; pd->failHr = fh.hr; pd->failDoc = xstrdup(fh.errdoc); }
        else if (!strcmp(fh.action, "Hang")) { pd->hang = 1; pd->due = ~0ULL; }
        else if (!strcmp(fh.action, "Delay")) pd->due += (ULONGLONG)fh.delayMs;
    }
    reply(c, id, S_OK, NULL, extra);
    schedule(pd);
}

/* ------------------------------------------------------------------ connections */
static void client_gone(client *c) {
    c->gone = 1;
    slog("client %lu disconnected", (unsigned long)c->pid);
    /* drop its pending operations */
    pending **pp = &g_pending;
    while (*pp) {
        pending *pd = *pp;
        if (pd->c == c) { *pp = pd->next; client_release(c); free_pending(pd); }
        else pp = &pd->next;
    }
    /* release its handles */
    for (;;) {
        hentry *h = g_handles;
        while (h && h->c != c) h = h->next;
        if (!h) break;
        release_handle(h);
    }
}

static DWORD WINAPI client_thread(void *arg) {
    client *c = arg;
    for (;;) {
        char *msg = wire_read(c->pipe, NULL);
        if (!msg) break;
        char err[128];
        jv *req = json_parse(msg, err, sizeof err);
        free(msg);
        if (!req) continue;
        EnterCriticalSection(&g_lock);
        const char *fn = jgets(req, "Fn");
        int keep = fn && is_async(fn) && !c->disconnecting;
        handle_request(c, req);
        /* handle_request keeps req for accepted async requests (it is freed by the scheduler) */
        if (!keep) json_free(req);
        else {
            /* if it was not scheduled (rejected), req is still ours: detect by scanning pending */
            int found = 0;
            for (pending *pd = g_pending; pd; pd = pd->next) if (pd->req == req) { found = 1; break; }
            if (!found) json_free(req);
        }
        LeaveCriticalSection(&g_lock);
    }
    EnterCriticalSection(&g_lock);
    client_gone(c);
    client_release(c);
    g_idleSince = now_ms();
    LeaveCriticalSection(&g_lock);
    return 0;
}

int wmain(int argc, WCHAR **argv) {
    wcscpy(g_instance, L"default");
    if (argc > 1 && argv[1][0]) { wcsncpy(g_instance, argv[1], 127); g_instance[127] = 0; }
    WCHAR logPath[MAX_PATH];
    if (GetEnvironmentVariableW(L"HCSSIM_LOG", logPath, MAX_PATH)) {
        g_logFile = CreateFileW(logPath, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS, 0, NULL);
    }
    {
        WCHAR b[32];
        DWORD n = GetEnvironmentVariableW(L"HCSSIM_ORPHAN_EXIT_MS", b, 32);
        if (n && n < 32) g_orphanExitMs = (ULONGLONG)_wtoi(b);
    }
    g_lastClient = now_ms();
    load_grants();
    InitializeCriticalSection(&g_lock);
    g_schedWake = CreateEventW(NULL, FALSE, FALSE, NULL);
    g_sendWake = CreateEventW(NULL, FALSE, FALSE, NULL);
    WCHAR pipeName[256];
    swprintf(pipeName, 256, L"\\\\.\\pipe\\hcssim-%ls", g_instance);
    int first = 1;
    HANDLE connEv = CreateEventW(NULL, TRUE, FALSE, NULL);
    CloseHandle(CreateThread(NULL, 0, scheduler_thread, NULL, 0, NULL));
    CloseHandle(CreateThread(NULL, 0, sender_thread, NULL, 0, NULL));
    g_idleSince = now_ms();
    {
        char *in = w2u(g_instance);
        slog("service starting, instance '%s'", in);
        free(in);
    }
    for (;;) {
        HANDLE pipe = CreateNamedPipeW(pipeName, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, PIPE_UNLIMITED_INSTANCES, 65536, 65536, 0, NULL);
        if (pipe == INVALID_HANDLE_VALUE) {
            slog("CreateNamedPipe failed (%lu)%s", GetLastError(), first ? "; another service owns the instance, exiting" : "");
            if (first) return 1;
            Sleep(100);
            continue;
        }
        first = 0;
        OVERLAPPED ov; memset(&ov, 0, sizeof ov);
        ResetEvent(connEv);
        ov.hEvent = connEv;
        BOOL connected = ConnectNamedPipe(pipe, &ov);
        DWORD e = GetLastError();
        if (!connected && e == ERROR_IO_PENDING) {
            for (;;) {
                DWORD w = WaitForSingleObject(connEv, 500);
                if (w == WAIT_OBJECT_0) { DWORD n; connected = GetOverlappedResult(pipe, &ov, &n, FALSE); break; }
                EnterCriticalSection(&g_lock);
                int live = 0;
                for (client *c = g_clients; c; c = c->next) if (!c->gone) live++;
                int idle = !live && !g_systems && !g_pending && !g_outHead && now_ms() - g_idleSince > 5000;
                if (live || g_systems) g_idleSince = now_ms();
                if (live) g_lastClient = now_ms();
                if (!live && g_orphanExitMs && now_ms() - g_lastClient > g_orphanExitMs) {
                    slog("no clients for %llu ms (HCSSIM_ORPHAN_EXIT_MS): terminating every system and exiting", g_orphanExitMs);
                    reset_all();
                    idle = 1;
                }
                LeaveCriticalSection(&g_lock);
                if (idle) {
                    slog("idle for 5 s with no clients and no systems: exiting");
                    CancelIo(pipe);
                    CloseHandle(pipe);
                    ExitProcess(0);
                }
            }
        } else if (!connected && e == ERROR_PIPE_CONNECTED) connected = TRUE;
        if (!connected) { CloseHandle(pipe); continue; }
        client *c = calloc(1, sizeof *c);
        c->pipe = pipe;
        c->refs = 1;
        EnterCriticalSection(&g_lock);
        c->next = g_clients; g_clients = c;
        g_idleSince = now_ms();
        LeaveCriticalSection(&g_lock);
        HANDLE t = CreateThread(NULL, 256 * 1024, client_thread, c, 0, NULL);
        if (t) CloseHandle(t);
    }
}
