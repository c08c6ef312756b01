/* Test knobs of the simulated computestorage.dll (see storage_knobs.h). Per process, as the real
   computestorage.dll runs in its caller's process; the compute sim (hcssim-service.exe) holds no
   storage state, so "refused for a while after the container on this volume stopped" cannot be a
   rule here: the container's stop happens in another process's state. A count of refusals set by
   the test right before teardown is the faithful part of it: the caller must retry. */
#include <stdio.h>
#include "common.h"
#include "storage_knobs.h"

static CRITICAL_SECTION g_kcs;
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;
static long long g_refusals;              /* HcsDetachLayerStorageFilter calls left to refuse */
static HRESULT g_refusalHr;
static int g_mountSep = 1;

/* GUESS: the HRESULT of the refusal. measured: hcsctl findings (shared/docs/REAL-WINDOWS-AUDIT.md
   row 9) saw the filter refuse to detach ("Do not detach...") for a few seconds after the
   container's teardown, and got past it with about 10 tries 1 s apart; the code was not recorded.
   HRESULT_FROM_WIN32(ERROR_BUSY) stands in for it; a test may choose another. */
#define DEFAULT_REFUSAL_HR ((HRESULT)0x800700AA)

static BOOL CALLBACK init_lock(PINIT_ONCE once, PVOID p, PVOID *ctx) {
    (void)once; (void)p; (void)ctx;
    InitializeCriticalSection(&g_kcs);
    g_refusalHr = DEFAULT_REFUSAL_HR;
    return TRUE;
}
static void lock(void) { InitOnceExecuteOnce(&g_once, init_lock, NULL, NULL); EnterCriticalSection(&g_kcs); }
static void unlock(void) { LeaveCriticalSection(&g_kcs); }

void stk_set_config(const jv *cfg) {
    long long v;
    lock();
    if (jgeti(cfg, "DetachRefusals", &v)) g_refusals = v < 0 ? 0 : v;
    if (jgeti(cfg, "DetachRefusalHResult", &v)) g_refusalHr = (HRESULT)(LONG)(unsigned long)v;
    /* Whether HcsGetLayerVhdMountPath's answer ends with '\' is not documented. hcsctl appends one
       to any volume path that lacks it (internal/storage/storage.go volumeJoin, internal/cim/cim.go
       parseVolumePath) and notes a stat of \\?\Volume{..} needs it; hcsshim strips one if present
       (internal/wclayer/expandscratchsize.go). GUESS: real hosts may answer either way. */
    const jv *b = jget((jv *)cfg, "MountPathTrailingBackslash");
    if (b && b->t == J_BOOL) g_mountSep = b->b;
    unlock();
}

void stk_reset(void) {
    lock();
    g_refusals = 0; g_refusalHr = DEFAULT_REFUSAL_HR; g_mountSep = 1;
    unlock();
}

char *stk_config_doc(void) {
    char buf[160];
    lock();
    snprintf(buf, sizeof buf, "{\"DetachRefusals\":%lld,\"DetachRefusalHResult\":%ld,\"MountPathTrailingBackslash\":%s}",
             g_refusals, (long)g_refusalHr, g_mountSep ? "true" : "false");
    unlock();
    return xstrdup(buf);
}

int stk_refuse_detach(HRESULT *hr) {
    int refuse = 0;
    lock();
    if (g_refusals > 0) { g_refusals--; refuse = 1; *hr = g_refusalHr; }
    unlock();
    return refuse;
}

int stk_mount_path_separator(void) {
    lock();
    int sep = g_mountSep;
    unlock();
    return sep;
}
