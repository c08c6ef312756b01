/* Host rules of the simulated computestorage.dll (sim_rules.h): privileges, elevation, base-layer setup and
   HcsDestroyLayer leaving its folder. Every rule cites its evidence; "GUESS:" marks what no source shows.
   Knobs: HcsSimStorageControl {"Op":"SetConfig","Config":{...}}, or %HCSSIM_STORAGE_CONFIG% (the same JSON
   object) read on first use, for processes a test cannot reach through the control function (the CLI). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "storage_common.h"
#include "sim_rules.h"

#define HR_W32(e) HRESULT_FROM_WIN32(e)

static struct {
    int loaded;
    int requirePrivileges; /* default on: Wine reports token privileges and their enabled state faithfully */
    int requireBaseSetup;  /* default on */
    int unelevated;        /* default off: Wine's token is always elevated, so this one is a knob */
    int destroyLeaves;     /* the next N successful HcsDestroyLayer calls leave the folder */
} g_cfg;
static CRITICAL_SECTION g_lock;
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;

static void apply(const jv *c) {
    if (!c || c->t != J_OBJ) return;
    g_cfg.requirePrivileges = jgetb(c, "RequirePrivileges", g_cfg.requirePrivileges);
    g_cfg.requireBaseSetup = jgetb(c, "RequireBaseSetup", g_cfg.requireBaseSetup);
    g_cfg.unelevated = jgetb(c, "Unelevated", g_cfg.unelevated);
    long long n;
    if (jgeti(c, "DestroyLeavesFolder", &n)) g_cfg.destroyLeaves = n < 0 ? 0 : (int)n;
}

static BOOL CALLBACK init_once(PINIT_ONCE o, PVOID p, PVOID *ctx) {
    (void)o; (void)p; (void)ctx;
    InitializeCriticalSection(&g_lock);
    g_cfg.requirePrivileges = 1;
    g_cfg.requireBaseSetup = 1;
    WCHAR env[4096];
    DWORD n = GetEnvironmentVariableW(L"HCSSIM_STORAGE_CONFIG", env, 4096);
    if (n > 0 && n < 4096) {
        char *u = w2u(env), err[64];
        jv *c = json_parse(u, err, sizeof err);
        apply(c);
        json_free(c);
        free(u);
    }
    return TRUE;
}
static void lock(void) { InitOnceExecuteOnce(&g_once, init_once, NULL, NULL); EnterCriticalSection(&g_lock); }
static void unlock(void) { LeaveCriticalSection(&g_lock); }

static char *config_doc(void) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"RequirePrivileges\":%s,\"RequireBaseSetup\":%s,\"Unelevated\":%s,\"DestroyLeavesFolder\":%d}",
              g_cfg.requirePrivileges ? "true" : "false", g_cfg.requireBaseSetup ? "true" : "false",
              g_cfg.unelevated ? "true" : "false", g_cfg.destroyLeaves);
    return sb_take(&b);
}

HRESULT simr_set_config(const jv *config, char **out) {
    if (config && config->t != J_OBJ) return E_INVALIDARG;
    lock(); apply(config); *out = config_doc(); unlock();
    return S_OK;
}

/* Whether the process token has `name` enabled. The simulated DLL runs in the caller's process, so this is the
   very token computestorage.dll would see. Measured under Wine (2026, wine 9): the default token holds
   SeBackupPrivilege/SeRestorePrivilege disabled, AdjustTokenPrivileges enables them and reports
   ERROR_NOT_ALL_ASSIGNED for one not held, so the real check works here and no knob is needed for it. */
static int privilege_enabled(HANDLE token, const WCHAR *name) {
    LUID luid;
    if (!LookupPrivilegeValueW(NULL, name, &luid)) return 0;
    BYTE buf[4096]; DWORD len = 0;
    if (!GetTokenInformation(token, TokenPrivileges, buf, sizeof buf, &len)) return 0;
    const TOKEN_PRIVILEGES *tp = (const TOKEN_PRIVILEGES *)buf;
    for (DWORD i = 0; i < tp->PrivilegeCount; i++) {
        const LUID_AND_ATTRIBUTES *p = &tp->Privileges[i];
        if (p->Luid.LowPart == luid.LowPart && p->Luid.HighPart == luid.HighPart)
            return (p->Attributes & SE_PRIVILEGE_ENABLED) != 0;
    }
    return 0;
}

/* HcsImportLayer / HcsExportLayer / HcsDestroyLayer need SeBackupPrivilege and SeRestorePrivilege enabled on
   the caller's token, and computestorage does not enable them itself. Evidence: hcsctl docs/findings.md,
   "Elevation" (image import needs SeBackup + SeRestore) and "computestorage" ("The raw computestorage
   syscalls do not enable privileges for you"); hcsshim cmd/wclayer enables both before import/export
   (winio.EnableProcessPrivileges). The code: hcsctl findings measure 0x80070522 (ERROR_PRIVILEGE_NOT_HELD)
   for a missing privilege on the storage path; GUESS: that these three functions report the same code. */
HRESULT simr_privileges(void) {
    lock(); int need = g_cfg.requirePrivileges; unlock();
    if (!need) return S_OK;
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return HR_W32(GetLastError());
    int ok = privilege_enabled(token, L"SeBackupPrivilege") && privilege_enabled(token, L"SeRestorePrivilege");
    CloseHandle(token);
    return ok ? S_OK : HR_W32(ERROR_PRIVILEGE_NOT_HELD);
}

/* A filtered (UAC) token: hcsctl findings, "Elevation": HcsFormatWritableLayerVhd is denied from a filtered
   token even holding SeManageVolumePrivilege; HcsGetLayerVhdMountPath answers success with an empty path
   (measured by hcsctl, issue 12). Wine has no filtered token, hence the knob. */
int simr_unelevated(void) {
    lock(); int u = g_cfg.unelevated; unlock();
    return u;
}

/* HcsDestroyLayer "can return success and leave the tree" (hcsctl docs/findings.md, "API behaviour that is not
   visible from the call site"). The knob makes the next N calls do exactly that. */
int simr_destroy_leaves_folder(void) {
    lock();
    int leave = g_cfg.destroyLeaves > 0;
    if (leave) g_cfg.destroyLeaves--;
    unlock();
    return leave;
}

/* A base layer is usable as a parent (HcsInitializeWritableLayer, HcsAttachLayerStorageFilter) only once
   HcsSetupBaseOSLayer {"Type":"Container"} ran on it *where it now is*: setup creates blank-base.vhdx and the
   differencing blank.vhdx, and a differencing disk records its parent's absolute path (hcsshim
   computestorage/helpers.go SetupContainerBaseLayer; go-winio vhd.CreateDiffVhd sets ParentPath), so a layer
   set up and then moved points at the old place. GUESS: the HRESULT a real host gives for a base that was
   never set up (HCS_E_INVALID_LAYER here). */
HRESULT simr_base_setup(const jv *parents) {
    lock(); int need = g_cfg.requireBaseSetup; unlock();
    if (!need || !parents || !parents->child) return S_OK;
    const jv *base = parents->child;
    while (base->next) base = base->next;
    const char *p = jgets(base, "Path");
    if (!p) return S_OK;
    WCHAR *pw = u2w(p), mk[STC_PATH];
    stc_join(mk, pw, STC_BASEOS_MARKER);
    jv *m = NULL;
    HRESULT hr = HCSSIM_E_INVALID_LAYER;
    if (!stc_read_json(mk, &m)) {
        const char *t = jgets(m, "Type"), *at = jgets(m, "LayerPath");
        WCHAR *aw = at ? u2w(at) : NULL;
        if (t && !strcmp(t, "Container") && aw && !_wcsicmp(aw, pw)) hr = S_OK;
        free(aw);
    }
    json_free(m);
    free(pw);
    return hr;
}

/* HcsSetupBaseOSLayer's preconditions, measured by hcsctl (commit 294d3b8, host 26200): it fails
   ERROR_ALREADY_EXISTS when the layer already has Hives\ or Layout (hcsshim helpers.go removes both first,
   for the same reason), and for a utility VM the path is <base>\UtilityVM: <base>\UtilityVM\Files gives
   ERROR_GEN_FAILURE. */
HRESULT simr_setup_base_os(const WCHAR *layer, int isVm) {
    WCHAR p[STC_PATH];
    if (isVm) {
        size_t n = wcslen(layer);
        if (n >= 6 && !_wcsicmp(layer + n - 6, L"\\Files")) return HR_W32(ERROR_GEN_FAILURE);
    }
    stc_join(p, layer, L"Hives");
    if (stc_exists(p)) return HR_W32(ERROR_ALREADY_EXISTS);
    stc_join(p, layer, L"Layout");
    if (stc_exists(p)) return HR_W32(ERROR_ALREADY_EXISTS);
    return S_OK;
}
