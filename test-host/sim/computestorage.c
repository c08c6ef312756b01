/* computestorage.dll (simulated): container layer functions over plain folders, plus the in-process state
   shared with the simulated virtdisk.dll (fault table, virtual-disk handle table, audit). See README.md,
   "Simulated storage". */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <computestorage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "storage_restart.h"
#include "storage_common.h"
#include "transport.h"
#include "storage_knobs.h"
#include "sim_rules.h"

#define EXPORT __declspec(dllexport)
#define HR_W32(e) HRESULT_FROM_WIN32(e)
#define VD_ATTACH_PERMANENT 4u /* ATTACH_VIRTUAL_DISK_FLAG_PERMANENT_LIFETIME */

EXPORT HRESULT WINAPI HcsSimStorageControl(PCWSTR request, PWSTR *response);
/* internal hooks for virtdisk.dll (not part of any Windows API) */
EXPORT int WINAPI HcsSimStFault(const char *fn, HRESULT *hr);
EXPORT void WINAPI HcsSimStRegisterHandle(HANDLE h, const WCHAR *path, DWORD flags);
EXPORT int WINAPI HcsSimStLookupHandle(HANDLE h, WCHAR *path, DWORD cch, DWORD *flags);
EXPORT void WINAPI HcsSimStNoteAttach(const WCHAR *path, HANDLE h, int attached, DWORD flags);
EXPORT void WINAPI HcsSimStViolation(const char *msg);

static CRITICAL_SECTION g_cs;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)inst; (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) InitializeCriticalSection(&g_cs);
    return TRUE;
}

/* ---------------------------------------------------------------- faults (in-process) */
static const char *KNOWN_FNS[] = {
    "HcsImportLayer", "HcsExportLayer", "HcsExportLegacyWritableLayer", "HcsDestroyLayer", "HcsSetupBaseOSLayer",
    "HcsInitializeWritableLayer", "HcsInitializeLegacyWritableLayer", "HcsAttachLayerStorageFilter",
    "HcsDetachLayerStorageFilter", "HcsFormatWritableLayerVhd", "HcsGetLayerVhdMountPath", "HcsSetupBaseOSVolume",
    "CreateVirtualDisk", "OpenVirtualDisk", "AttachVirtualDisk", "DetachVirtualDisk", "GetVirtualDiskPhysicalPath",
    "*", NULL };
typedef struct { int id; char fn[64]; int skips; int hits; int delay; DWORD delayMs; HRESULT hr; } fault;
#define MAX_FAULTS 64
static fault g_faults[MAX_FAULTS];
static int g_nfaults, g_faultSeq;

EXPORT int WINAPI HcsSimStFault(const char *fn, HRESULT *hr) {
    int fire = 0, delay = 0; DWORD ms = 0; HRESULT h = S_OK;
    EnterCriticalSection(&g_cs);
    for (int i = 0; i < g_nfaults; i++) {
        fault *f = &g_faults[i];
        if (strcmp(f->fn, "*") && strcmp(f->fn, fn)) continue;
        if (f->skips > 0) { f->skips--; continue; }
        if (f->delay) { delay = 1; ms = f->delayMs; } else { fire = 1; h = f->hr; }
        if (f->hits > 0 && --f->hits == 0) {
            memmove(&g_faults[i], &g_faults[i + 1], (size_t)(g_nfaults - i - 1) * sizeof *f);
            g_nfaults--;
        }
        break;
    }
    LeaveCriticalSection(&g_cs);
    if (delay) Sleep(ms);
    if (fire && hr) *hr = h;
    return fire;
}
#define FAULT(name) do { HRESULT _fh; if (HcsSimStFault(name, &_fh)) return _fh; } while (0)

/* ---------------------------------------------------------------- audit state */
typedef struct { HANDLE h; WCHAR path[STC_PATH]; DWORD serial, idxHi, idxLo, flags; int dead; } vdh;
typedef struct { WCHAR path[STC_PATH]; HANDLE h; DWORD flags; int warned; } attached_disk;
typedef struct { WCHAR path[STC_PATH]; } attached_filter;
static vdh *g_h; static int g_nh, g_caph;
static attached_disk *g_disks; static int g_ndisks, g_capdisks;
static attached_filter *g_filters; static int g_nfilters, g_capfilters;
static strtable g_strtab;
static struct { LONG handlesOpened, strAllocated; char violations[16][240]; int nviol; } g_audit;

static void violation_locked(const char *msg) {
    if (g_audit.nviol >= 16) return;
    snprintf(g_audit.violations[g_audit.nviol++], 240, "%s", msg);
}
EXPORT void WINAPI HcsSimStViolation(const char *msg) {
    EnterCriticalSection(&g_cs); violation_locked(msg); LeaveCriticalSection(&g_cs);
}

static int vdh_live(vdh *e) {
    if (e->dead) return 0;
    BY_HANDLE_FILE_INFORMATION i;
    if (!GetFileInformationByHandle(e->h, &i)) return 0;
    return i.dwVolumeSerialNumber == e->serial && i.nFileIndexHigh == e->idxHi && i.nFileIndexLow == e->idxLo;
}

EXPORT void WINAPI HcsSimStRegisterHandle(HANDLE h, const WCHAR *path, DWORD flags) {
    BY_HANDLE_FILE_INFORMATION i; memset(&i, 0, sizeof i);
    GetFileInformationByHandle(h, &i);
    EnterCriticalSection(&g_cs);
    for (int k = 0; k < g_nh; k++) if (g_h[k].h == h) g_h[k].dead = 1; /* the value was reused: the old one is closed */
    if (g_nh == g_caph) { g_caph = g_caph ? g_caph * 2 : 32; g_h = realloc(g_h, (size_t)g_caph * sizeof *g_h); }
    vdh *e = &g_h[g_nh++];
    memset(e, 0, sizeof *e);
    e->h = h; wcsncpy(e->path, path, STC_PATH - 1); e->flags = flags;
    e->serial = i.dwVolumeSerialNumber; e->idxHi = i.nFileIndexHigh; e->idxLo = i.nFileIndexLow;
    g_audit.handlesOpened++;
    LeaveCriticalSection(&g_cs);
}

EXPORT int WINAPI HcsSimStLookupHandle(HANDLE h, WCHAR *path, DWORD cch, DWORD *flags) {
    int ok = 0;
    if (!h || h == INVALID_HANDLE_VALUE) return 0;
    EnterCriticalSection(&g_cs);
    for (int k = g_nh - 1; k >= 0; k--) {
        if (g_h[k].h != h || g_h[k].dead) continue;
        if (!vdh_live(&g_h[k])) { g_h[k].dead = 1; break; }
        if (path && cch) { wcsncpy(path, g_h[k].path, cch - 1); path[cch - 1] = 0; }
        if (flags) *flags = g_h[k].flags;
        ok = 1;
        break;
    }
    LeaveCriticalSection(&g_cs);
    return ok;
}

EXPORT void WINAPI HcsSimStNoteAttach(const WCHAR *path, HANDLE h, int attached, DWORD flags) {
    EnterCriticalSection(&g_cs);
    for (int k = 0; k < g_ndisks; k++)
        if (!_wcsicmp(g_disks[k].path, path)) { g_disks[k] = g_disks[--g_ndisks]; break; }
    if (attached) {
        if (g_ndisks == g_capdisks) { g_capdisks = g_capdisks ? g_capdisks * 2 : 8; g_disks = realloc(g_disks, (size_t)g_capdisks * sizeof *g_disks); }
        attached_disk *d = &g_disks[g_ndisks++];
        memset(d, 0, sizeof *d);
        wcsncpy(d->path, path, STC_PATH - 1); d->h = h; d->flags = flags;
    }
    LeaveCriticalSection(&g_cs);
}

static void note_filter(const WCHAR *path, int attached) {
    EnterCriticalSection(&g_cs);
    for (int k = 0; k < g_nfilters; k++)
        if (!_wcsicmp(g_filters[k].path, path)) { g_filters[k] = g_filters[--g_nfilters]; break; }
    if (attached) {
        if (g_nfilters == g_capfilters) { g_capfilters = g_capfilters ? g_capfilters * 2 : 8; g_filters = realloc(g_filters, (size_t)g_capfilters * sizeof *g_filters); }
        wcsncpy(g_filters[g_nfilters].path, path, STC_PATH - 1);
        g_filters[g_nfilters++].path[STC_PATH - 1] = 0;
    }
    LeaveCriticalSection(&g_cs);
}

/* ---------------------------------------------------------------- strings handed to the caller (as computecore) */
static PWSTR out_string(const WCHAR *s, int track) {
    size_t n = (wcslen(s) + 1) * sizeof(WCHAR);
    PWSTR p = LocalAlloc(LMEM_FIXED, n + (track ? STRTRACK_EXTRA : 0));
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

/* ---------------------------------------------------------------- argument helpers */
static HRESULT path_arg(PCWSTR in, WCHAR out[STC_PATH]) {
    if (!in || !*in) return E_INVALIDARG;
    DWORD e = stc_full_path(in, out);
    return e ? HR_W32(e) : S_OK;
}

static int is_guid(const char *s) {
    if (!s) return 0;
    size_t n = strlen(s);
    if (n == 38) { if (s[0] != '{' || s[37] != '}') return 0; s++; n = 36; }
    if (n != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return 0; }
        else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F'))) return 0;
    }
    return 1;
}

static HRESULT parse_json_arg(PCWSTR w, jv **out) {
    *out = NULL;
    if (!w || !*w) return S_OK;
    char *u = w2u(w), err[64];
    *out = json_parse(u, err, sizeof err);
    free(u);
    if (!*out || (*out)->t != J_OBJ) { json_free(*out); *out = NULL; return HCS_E_INVALID_JSON; }
    return S_OK;
}

/* LayerData → array of {"Id","Path"} (the parents, nearest first). Each Path must be a folder with Files\. */
static HRESULT parse_layers(PCWSTR layerData, int minLayers, jv **parents) {
    *parents = NULL;
    jv *doc; HRESULT hr = parse_json_arg(layerData, &doc);
    if (FAILED(hr)) return hr;
    jv *out = jnew(J_ARR);
    jv *arr = doc ? jget(doc, "Layers") : NULL;
    jv *sv = doc ? jget(doc, "SchemaVersion") : NULL;
    if ((arr && arr->t != J_ARR) || (sv && sv->t != J_OBJ)) hr = HCS_E_INVALID_JSON;
    for (jv *l = arr && !FAILED(hr) ? arr->child : NULL; l && !FAILED(hr); l = l->next) {
        const char *id = jgets(l, "Id"), *p = jgets(l, "Path");
        if (l->t != J_OBJ || !p || !*p || !is_guid(id)) { hr = HCS_E_INVALID_JSON; break; }
        WCHAR *pw = u2w(p), full[STC_PATH], files[STC_PATH];
        DWORD e = stc_full_path(pw, full);
        free(pw);
        if (e) { hr = HR_W32(e); break; }
        if (!stc_is_dir(full)) { hr = HR_W32(ERROR_PATH_NOT_FOUND); break; }
        stc_join(files, full, L"Files");
        if (!stc_is_dir(files)) { hr = HCSSIM_E_INVALID_LAYER; break; }
        jv *o = jnew(J_OBJ);
        jset(o, "Id", jnew_str(id));
        char *fu = w2u(full); jset(o, "Path", jnew_str(fu)); free(fu);
        jpush(out, o);
    }
    if (!FAILED(hr) && jlen(out) < minLayers) hr = E_INVALIDARG;
    json_free(doc);
    if (FAILED(hr)) { json_free(out); return hr; }
    *parents = out;
    return S_OK;
}

static HRESULT base_os_type(PCWSTR options, int *isVm) {
    if (!options || !*options) return E_INVALIDARG;
    jv *o; HRESULT hr = parse_json_arg(options, &o);
    if (FAILED(hr)) return hr;
    const char *t = jgets(o, "Type");
    if (t && !strcmp(t, "Container")) *isVm = 0;
    else if (t && !strcmp(t, "Vm")) *isVm = 1;
    else hr = HCS_E_INVALID_JSON;
    json_free(o);
    return hr;
}

static void marker_path(const WCHAR *dir, const WCHAR *name, WCHAR out[STC_PATH]) { stc_join(out, dir, name); }

static HRESULT disk_of_handle(HANDLE h, WCHAR path[STC_PATH], DWORD *flags, jv **meta) {
    *meta = NULL;
    if (!h || h == INVALID_HANDLE_VALUE) return E_INVALIDARG;
    if (!HcsSimStLookupHandle(h, path, STC_PATH, flags)) return E_HANDLE;
    DWORD e = stc_disk_read(path, meta);
    return e ? HR_W32(e) : S_OK;
}

/* ---------------------------------------------------------------- computestorage.h */
HRESULT WINAPI HcsImportLayer(PCWSTR layerPath, PCWSTR sourceFolderPath, PCWSTR layerData) {
    FAULT("HcsImportLayer");
    HRESULT rule = simr_privileges(); /* privileges.c */
    if (FAILED(rule)) return rule;
    WCHAR layer[STC_PATH], src[STC_PATH], files[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    if (FAILED(hr = path_arg(sourceFolderPath, src))) return hr;
    if (!stc_is_dir(src)) return HR_W32(ERROR_PATH_NOT_FOUND);
    stc_join(files, src, L"Files");
    if (!stc_is_dir(files)) return HCSSIM_E_INVALID_LAYER;
    jv *parents;
    if (FAILED(hr = parse_layers(layerData, 0, &parents))) return hr;
    if (stc_exists(layer) && (!stc_is_dir(layer) || !stc_dir_empty(layer))) { json_free(parents); return HR_W32(ERROR_ALREADY_EXISTS); }
    DWORD e = stc_mkdirs(layer);
    /* the transport format, validated and decoded (transport.c) */
    if (!e && FAILED(hr = tr_import(src, layer))) { json_free(parents); return hr; }
    if (!e) {
        jv *m = jnew(J_OBJ);
        jset(m, "Kind", jnew_str("Imported"));
        char *su = w2u(src); jset(m, "Source", jnew_str(su)); free(su);
        jset(m, "BaseLayer", jbool(jlen(parents) == 0));
        jset(m, "Parents", parents); parents = NULL;
        WCHAR mk[STC_PATH]; marker_path(layer, STC_LAYER_MARKER, mk);
        e = stc_write_json(mk, m);
        json_free(m);
    }
    json_free(parents);
    return e ? HR_W32(e) : S_OK;
}

HRESULT WINAPI HcsExportLayer(PCWSTR layerPath, PCWSTR exportFolderPath, PCWSTR layerData, PCWSTR options) {
    FAULT("HcsExportLayer");
    HRESULT rule = simr_privileges(); /* privileges.c */
    if (FAILED(rule)) return rule;
    WCHAR layer[STC_PATH], dst[STC_PATH], files[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    if (FAILED(hr = path_arg(exportFolderPath, dst))) return hr;
    jv *opt;
    if (FAILED(hr = parse_json_arg(options, &opt))) return hr;
    jv *w = opt ? jget(opt, "IsWritableLayer") : NULL;
    if (w && w->t != J_BOOL) { json_free(opt); return HCS_E_INVALID_JSON; }
    int writable = w && w->b;
    json_free(opt);
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    stc_join(files, layer, L"Files");
    if (!stc_is_dir(files)) return HCSSIM_E_INVALID_LAYER;
    if (writable) {
        WCHAR mk[STC_PATH]; marker_path(layer, STC_WRITABLE_MARKER, mk);
        if (!stc_exists(mk)) return HCSSIM_E_INVALID_LAYER;
    }
    jv *parents;
    if (FAILED(hr = parse_layers(layerData, 0, &parents))) return hr;
    json_free(parents);
    if (stc_exists(dst) && (!stc_is_dir(dst) || !stc_dir_empty(dst))) return HR_W32(ERROR_ALREADY_EXISTS);
    DWORD e = stc_mkdirs(dst);
    if (e) return HR_W32(e);
    return tr_export(layer, dst, writable); /* the transport format (transport.c) */
}

HRESULT WINAPI HcsExportLegacyWritableLayer(PCWSTR writableLayerMountPath, PCWSTR writableLayerFolderPath, PCWSTR exportFolderPath, PCWSTR layerData) {
    (void)writableLayerMountPath; (void)writableLayerFolderPath; (void)exportFolderPath; (void)layerData;
    FAULT("HcsExportLegacyWritableLayer");
    return E_NOTIMPL;
}

HRESULT WINAPI HcsInitializeLegacyWritableLayer(PCWSTR writableLayerMountPath, PCWSTR writableLayerFolderPath, PCWSTR layerData, PCWSTR options) {
    (void)writableLayerMountPath; (void)writableLayerFolderPath; (void)layerData; (void)options;
    FAULT("HcsInitializeLegacyWritableLayer");
    return E_NOTIMPL;
}

/* Finds simulated disks under dir: returns ERROR_SHARING_VIOLATION if one is attached; collects their ids. */
static DWORD scan_disks(const WCHAR *dir, jv *ids) {
    WCHAR pat[STC_PATH]; stc_join(pat, dir, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f == INVALID_HANDLE_VALUE) return 0;
    DWORD e = 0;
    do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
        WCHAR c[STC_PATH]; stc_join(c, dir, fd.cFileName);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
            if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) e = scan_disks(c, ids);
            WCHAR mk[STC_PATH]; marker_path(c, STC_WRITABLE_MARKER, mk);
            jv *m;
            if (!e && !stc_read_json(mk, &m)) { if (jgetb(m, "FilterAttached", 0)) e = ERROR_SHARING_VIOLATION; json_free(m); }
        } else {
            size_t n = wcslen(fd.cFileName);
            if ((n > 4 && !_wcsicmp(fd.cFileName + n - 4, L".vhd")) || (n > 5 && !_wcsicmp(fd.cFileName + n - 5, L".vhdx"))) {
                jv *m;
                if (!stc_disk_read(c, &m)) {
                    if (jgetb(m, "Attached", 0)) e = ERROR_SHARING_VIOLATION;
                    else if (jgets(m, "DiskId")) jpush(ids, jnew_str(jgets(m, "DiskId")));
                    json_free(m);
                }
            }
        }
    } while (!e && FindNextFileW(f, &fd));
    FindClose(f);
    return e;
}

HRESULT WINAPI HcsDestroyLayer(PCWSTR layerPath) {
    FAULT("HcsDestroyLayer");
    WCHAR layer[STC_PATH];
    HRESULT hr = simr_privileges(); /* privileges.c */
    if (FAILED(hr)) return hr;
    if (FAILED(hr = path_arg(layerPath, layer))) return hr;
    if (!stc_exists(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    if (!stc_is_dir(layer)) return HR_W32(ERROR_DIRECTORY);
    if (simr_destroy_leaves_folder()) return S_OK; /* privileges.c: success, folder left behind */
    stc_lock();
    jv *ids = jnew(J_ARR);
    WCHAR mk[STC_PATH]; marker_path(layer, STC_WRITABLE_MARKER, mk);
    jv *m; DWORD e = 0;
    if (!stc_read_json(mk, &m)) { if (jgetb(m, "FilterAttached", 0)) e = ERROR_SHARING_VIOLATION; json_free(m); }
    if (!e) e = scan_disks(layer, ids);
    if (!e) {
        e = stc_rmtree(layer);
        for (jv *i = ids->child; !e && i; i = i->next) {
            WCHAR d[STC_PATH]; stc_disk_data_dir(i->s, 0, d);
            if (stc_is_dir(d)) stc_rmtree(d);
        }
    }
    stc_unlock();
    json_free(ids);
    return e ? HR_W32(e) : S_OK;
}

HRESULT WINAPI HcsSetupBaseOSLayer(PCWSTR layerPath, HANDLE vhdHandle, PCWSTR options) {
    FAULT("HcsSetupBaseOSLayer");
    WCHAR layer[STC_PATH], files[STC_PATH], mk[STC_PATH], disk[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    int isVm = 0;
    if (FAILED(hr = base_os_type(options, &isVm))) return hr;
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    if (FAILED(hr = simr_setup_base_os(layer, isVm))) return hr; /* privileges.c */
    stc_join(files, layer, L"Files");
    if (!stc_is_dir(files)) return HCSSIM_E_INVALID_LAYER;
    jv *out = jnew(J_OBJ);
    jset(out, "Type", jnew_str(isVm ? "Vm" : "Container"));
    { char *lu = w2u(layer); jset(out, "LayerPath", jnew_str(lu)); free(lu); } /* where it was set up */
    if (isVm) {
        jv *meta; DWORD flags;
        if (FAILED(hr = disk_of_handle(vhdHandle, disk, &flags, &meta))) { json_free(out); return hr; }
        /* Attached, not formatted: SetupBaseOSLayer Vm writes the disk itself (hcsshim
           computestorage/helpers.go SetupUtilityVMBaseLayer: "no need to format it"). */
        if (!jgetb(meta, "Attached", 0)) hr = HR_W32(ERROR_NOT_READY);
        if (!FAILED(hr)) {
            WCHAR vol[STC_PATH], vmk[STC_PATH];
            stc_disk_data_dir(jgets(meta, "DiskId"), 1, vol);
            DWORD me = stc_mkdirs(vol);
            if (me) hr = HR_W32(me);
            jset(meta, "Formatted", jbool(1));
            if (!me && (me = stc_disk_write(disk, meta, NULL))) hr = HR_W32(me);
            char *du = w2u(disk); jset(out, "Disk", jnew_str(du)); free(du);
            char *lu = w2u(layer);
            jv *vm = jnew(J_OBJ); jset(vm, "Type", jnew_str("Vm")); jset(vm, "LayerPath", jnew_str(lu)); free(lu);
            marker_path(vol, STC_BASEOS_MARKER, vmk);
            DWORD e = stc_write_json(vmk, vm);
            json_free(vm);
            if (e) hr = HR_W32(e);
        }
        json_free(meta);
    } else {
        WCHAR hives[STC_PATH]; stc_join(hives, layer, L"Hives");
        DWORD e = stc_mkdirs(hives);
        if (e) hr = HR_W32(e);
    }
    if (!FAILED(hr)) {
        marker_path(layer, STC_BASEOS_MARKER, mk);
        DWORD e = stc_write_json(mk, out);
        if (e) hr = HR_W32(e);
    }
    json_free(out);
    return hr;
}

HRESULT WINAPI HcsSetupBaseOSVolume(PCWSTR layerPath, PCWSTR volumePath, PCWSTR options) {
    FAULT("HcsSetupBaseOSVolume");
    WCHAR layer[STC_PATH], vol[STC_PATH], files[STC_PATH], mk[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    if (FAILED(hr = path_arg(volumePath, vol))) return hr;
    int isVm = 0;
    if (FAILED(hr = base_os_type(options, &isVm))) return hr;
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    stc_join(files, layer, L"Files");
    if (!stc_is_dir(files)) return HCSSIM_E_INVALID_LAYER;
    if (!stc_is_dir(vol)) return HR_W32(ERROR_PATH_NOT_FOUND);
    jv *out = jnew(J_OBJ);
    jset(out, "Type", jnew_str(isVm ? "Vm" : "Container"));
    char *vu = w2u(vol); jset(out, "VolumePath", jnew_str(vu)); free(vu);
    marker_path(layer, STC_BASEOS_MARKER, mk);
    DWORD e = stc_write_json(mk, out);
    json_free(out);
    return e ? HR_W32(e) : S_OK;
}

HRESULT WINAPI HcsInitializeWritableLayer(PCWSTR writableLayerPath, PCWSTR layerData, PCWSTR options) {
    FAULT("HcsInitializeWritableLayer");
    WCHAR layer[STC_PATH], mk[STC_PATH], d[STC_PATH];
    HRESULT hr = path_arg(writableLayerPath, layer);
    if (FAILED(hr)) return hr;
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    jv *opt;
    if (FAILED(hr = parse_json_arg(options, &opt))) return hr;
    json_free(opt);
    jv *parents;
    if (FAILED(hr = parse_layers(layerData, 1, &parents))) return hr;
    if (FAILED(hr = simr_base_setup(parents))) { json_free(parents); return hr; } /* privileges.c */
    marker_path(layer, STC_WRITABLE_MARKER, mk);
    stc_lock();
    DWORD e = 0;
    if (stc_exists(mk)) hr = HR_W32(ERROR_ALREADY_EXISTS);
    else {
        stc_join(d, layer, L"Files"); e = stc_mkdirs(d);
        stc_join(d, layer, L"Hives"); if (!e) e = stc_mkdirs(d);
        if (!e) {
            jv *m = jnew(J_OBJ);
            jset(m, "Kind", jnew_str("Writable"));
            jset(m, "Parents", parents); parents = NULL;
            jset(m, "FilterAttached", jbool(0));
            e = stc_write_json(mk, m);
            json_free(m);
        }
        if (e) hr = HR_W32(e);
    }
    stc_unlock();
    json_free(parents);
    return hr;
}

HRESULT WINAPI HcsAttachLayerStorageFilter(PCWSTR layerPath, PCWSTR layerData) {
    FAULT("HcsAttachLayerStorageFilter");
    WCHAR layer[STC_PATH], mk[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    jv *parents;
    if (FAILED(hr = parse_layers(layerData, 1, &parents))) return hr;
    if (FAILED(hr = simr_base_setup(parents))) { json_free(parents); return hr; } /* privileges.c */
    marker_path(layer, STC_WRITABLE_MARKER, mk);
    stc_lock();
    jv *m;
    if (stc_read_json(mk, &m)) hr = HCSSIM_E_INVALID_LAYER;
    else {
        if (jgetb(m, "FilterAttached", 0)) hr = HCSSIM_E_FLT_INSTANCE_NAME_COLLISION;
        else {
            jset(m, "FilterAttached", jbool(1));
            jset(m, "FilterPid", jnew_int(GetCurrentProcessId()));
            jset(m, "FilterLayers", parents); parents = NULL;
            DWORD e = stc_write_json(mk, m);
            if (e) hr = HR_W32(e);
        }
        json_free(m);
    }
    stc_unlock();
    json_free(parents);
    if (!FAILED(hr)) note_filter(layer, 1);
    return hr;
}

HRESULT WINAPI HcsDetachLayerStorageFilter(PCWSTR layerPath) {
    FAULT("HcsDetachLayerStorageFilter");
    WCHAR layer[STC_PATH], mk[STC_PATH];
    HRESULT hr = path_arg(layerPath, layer);
    if (FAILED(hr)) return hr;
    if (!stc_is_dir(layer)) return HR_W32(ERROR_PATH_NOT_FOUND);
    marker_path(layer, STC_WRITABLE_MARKER, mk);
    stc_lock();
    jv *m;
    if (stc_read_json(mk, &m)) hr = HCSSIM_E_INVALID_LAYER;
    else {
        if (!jgetb(m, "FilterAttached", 0)) hr = HCSSIM_E_FLT_INSTANCE_NOT_FOUND;
        else if (stk_refuse_detach(&hr)) { /* knob: the filter is still busy (storage_knobs.c) */ }
        else {
            jset(m, "FilterAttached", jbool(0));
            jset(m, "FilterPid", jnew_int(0));
            jset(m, "FilterLayers", jnew(J_NULL));
            DWORD e = stc_write_json(mk, m);
            if (e) hr = HR_W32(e);
        }
        json_free(m);
    }
    stc_unlock();
    if (!FAILED(hr)) note_filter(layer, 0);
    return hr;
}

HRESULT WINAPI HcsFormatWritableLayerVhd(HANDLE vhdHandle) {
    FAULT("HcsFormatWritableLayerVhd");
    if (simr_unelevated()) return HR_W32(ERROR_ACCESS_DENIED); /* privileges.c */
    WCHAR disk[STC_PATH]; DWORD flags = 0; jv *meta;
    stc_lock();
    HRESULT hr = disk_of_handle(vhdHandle, disk, &flags, &meta);
    if (!FAILED(hr) && (flags & (VDH_READONLY | VDH_INFOONLY))) hr = HR_W32(ERROR_ACCESS_DENIED);
    if (!FAILED(hr)) {
        int att = jgetb(meta, "Attached", 0);
        WCHAR dir[STC_PATH], mk[STC_PATH];
        stc_disk_data_dir(jgets(meta, "DiskId"), att, dir);
        marker_path(dir, STC_WRITABLE_MARKER, mk);
        jv *wm;
        if (att && !stc_read_json(mk, &wm)) { if (jgetb(wm, "FilterAttached", 0)) hr = HR_W32(ERROR_SHARING_VIOLATION); json_free(wm); }
        DWORD e = 0;
        if (!FAILED(hr)) {
            if (stc_is_dir(dir)) e = stc_rmtree(dir);
            if (!e && att) e = stc_mkdirs(dir);
            jset(meta, "Formatted", jbool(1));
            if (!e) e = stc_disk_write(disk, meta, NULL);
            if (e) hr = HR_W32(e);
        }
    }
    json_free(meta);
    stc_unlock();
    return hr;
}

HRESULT WINAPI HcsGetLayerVhdMountPath(HANDLE vhdHandle, PWSTR *mountPath) {
    if (mountPath) *mountPath = NULL;
    FAULT("HcsGetLayerVhdMountPath");
    if (!mountPath) return E_POINTER;
    WCHAR disk[STC_PATH]; DWORD flags; jv *meta;
    HRESULT hr = disk_of_handle(vhdHandle, disk, &flags, &meta);
    if (!FAILED(hr)) {
        if (!jgetb(meta, "Attached", 0)) hr = HR_W32(ERROR_NOT_READY);
        else if (!jgetb(meta, "Formatted", 0)) hr = HR_W32(ERROR_UNRECOGNIZED_VOLUME);
        else if (simr_unelevated()) { /* privileges.c: a filtered token gets success and an empty path */
            *mountPath = out_string(L"", 1);
            if (!*mountPath) hr = E_OUTOFMEMORY;
        } else {
            WCHAR vol[STC_PATH], withSep[STC_PATH];
            stc_disk_data_dir(jgets(meta, "DiskId"), 1, vol);
            /* knob MountPathTrailingBackslash (storage_knobs.c) */
            _snwprintf(withSep, STC_PATH, stk_mount_path_separator() ? L"%ls\\" : L"%ls", vol); withSep[STC_PATH - 1] = 0;
            *mountPath = out_string(withSep, 1);
            if (!*mountPath) hr = E_OUTOFMEMORY;
        }
    }
    json_free(meta);
    return hr;
}

/* ---------------------------------------------------------------- control */
static void push_wpath(sb *b, int *first, const WCHAR *p) {
    char *u = w2u(p);
    if (!*first) sb_puts(b, ",");
    *first = 0;
    sb_jstr(b, u);
    free(u);
}

static char *audit_doc(void) {
    /* called with g_cs held */
    int liveH = 0, liveS = 0;
    for (int k = 0; k < g_nh; k++) if (vdh_live(&g_h[k])) liveH++; else g_h[k].dead = 1;
    sb samples; sb_init(&samples); int nsamples = 0;
    heapsnap heap;
    heapsnap_take(&heap);
    for (int k = 0; k < g_strtab.n;) {
        if (strtrack_live(&g_strtab.v[k], &heap)) {
            liveS++;
            if (nsamples < 5) {
                WCHAR tmp[81]; wcsncpy(tmp, (const WCHAR *)g_strtab.v[k].p, 80); tmp[80] = 0;
                char *u = w2u(tmp);
                if (nsamples++) sb_puts(&samples, ",");
                sb_jstr(&samples, u); free(u);
            }
            k++;
        } else {
            g_strtab.v[k] = g_strtab.v[--g_strtab.n]; /* dead ones are forgotten */
        }
    }
    heapsnap_free(&heap);
    sb b; sb_init(&b);
    sb_printf(&b, "{\"VirtualDiskHandles\":{\"Opened\":%ld,\"Live\":%d},\"Strings\":{\"Allocated\":%ld,\"Live\":%d},\"AttachedDisks\":[",
              g_audit.handlesOpened, liveH, g_audit.strAllocated, liveS);
    int first = 1;
    for (int k = 0; k < g_ndisks;) {
        jv *m;
        int still = !stc_disk_read(g_disks[k].path, &m) && jgetb(m, "Attached", 0);
        json_free(m);
        if (!still) { g_disks[k] = g_disks[--g_ndisks]; continue; } /* detached elsewhere */
        push_wpath(&b, &first, g_disks[k].path);
        if (!(g_disks[k].flags & VD_ATTACH_PERMANENT) && !g_disks[k].warned) {
            int live = 0;
            for (int j = 0; j < g_nh; j++)
                if (g_h[j].h == g_disks[k].h && !_wcsicmp(g_h[j].path, g_disks[k].path) && vdh_live(&g_h[j])) live = 1;
            if (!live) {
                char *u = w2u(g_disks[k].path), msg[240];
                snprintf(msg, sizeof msg, "%s: attached without ATTACH_VIRTUAL_DISK_FLAG_PERMANENT_LIFETIME and the handle used to attach it is closed; real Windows would have detached it (the simulator keeps it attached)", u);
                free(u);
                violation_locked(msg);
                g_disks[k].warned = 1;
            }
        }
        k++;
    }
    sb_puts(&b, "],\"AttachedFilters\":[");
    first = 1;
    for (int k = 0; k < g_nfilters;) {
        WCHAR mk[STC_PATH]; marker_path(g_filters[k].path, STC_WRITABLE_MARKER, mk);
        jv *m;
        int still = !stc_read_json(mk, &m) && jgetb(m, "FilterAttached", 0);
        json_free(m);
        if (!still) { g_filters[k] = g_filters[--g_nfilters]; continue; }
        push_wpath(&b, &first, g_filters[k].path);
        k++;
    }
    sb_puts(&b, "],\"Violations\":[");
    for (int i = 0; i < g_audit.nviol; i++) { if (i) sb_puts(&b, ","); sb_jstr(&b, g_audit.violations[i]); }
    sb_puts(&b, "],\"LiveStringSamples\":[");
    if (samples.p) sb_puts(&b, samples.p);
    sb_puts(&b, "]}");
    sb_free(&samples);
    return sb_take(&b);
}

static char *do_reset(void) {
    EnterCriticalSection(&g_cs);
    g_nfaults = 0;
    int nd = g_ndisks, nf = g_nfilters;
    attached_disk *disks = malloc(sizeof *disks * (size_t)(nd + 1));
    attached_filter *filters = malloc(sizeof *filters * (size_t)(nf + 1));
    memcpy(disks, g_disks, sizeof *disks * (size_t)nd);
    memcpy(filters, g_filters, sizeof *filters * (size_t)nf);
    g_ndisks = 0; g_nfilters = 0;
    LeaveCriticalSection(&g_cs);
    sb b; sb_init(&b);
    sb_puts(&b, "{\"FiltersDetached\":[");
    int first = 1;
    stc_lock();
    for (int k = 0; k < nf; k++) {
        WCHAR mk[STC_PATH]; marker_path(filters[k].path, STC_WRITABLE_MARKER, mk);
        jv *m;
        if (!stc_read_json(mk, &m)) {
            if (jgetb(m, "FilterAttached", 0)) {
                jset(m, "FilterAttached", jbool(0)); jset(m, "FilterPid", jnew_int(0));
                if (!stc_write_json(mk, m)) push_wpath(&b, &first, filters[k].path);
            }
            json_free(m);
        }
    }
    sb_puts(&b, "],\"DisksDetached\":[");
    first = 1;
    for (int k = 0; k < nd; k++)
        if (!stc_disk_detach(disks[k].path, NULL)) push_wpath(&b, &first, disks[k].path);
    stc_unlock();
    sb_puts(&b, "]}");
    free(disks); free(filters);
    return sb_take(&b);
}

static HRESULT inject_fault(const jv *f, char **out) {
    if (!f || f->t != J_OBJ) return E_INVALIDARG;
    const char *fn = jgets(f, "Function");
    int known = 0;
    for (int i = 0; fn && KNOWN_FNS[i]; i++) if (!strcmp(fn, KNOWN_FNS[i])) known = 1;
    if (!known) return E_INVALIDARG;
    const char *act = jgets(f, "Action");
    if (act && strcmp(act, "Fail") && strcmp(act, "Delay")) return E_INVALIDARG;
    long long nth = 1, count = 1, hr = (long long)(LONG)E_FAIL, delay = 1000;
    jgeti(f, "Nth", &nth); jgeti(f, "Count", &count); jgeti(f, "HResult", &hr); jgeti(f, "DelayMs", &delay);
    if (nth < 1 || count < 0 || delay < 0) return E_INVALIDARG;
    EnterCriticalSection(&g_cs);
    if (g_nfaults >= MAX_FAULTS) { LeaveCriticalSection(&g_cs); return E_OUTOFMEMORY; }
    fault *x = &g_faults[g_nfaults++];
    memset(x, 0, sizeof *x);
    x->id = ++g_faultSeq;
    snprintf(x->fn, sizeof x->fn, "%s", fn);
    x->skips = (int)(nth - 1);
    x->hits = count == 0 ? -1 : (int)count;
    x->delay = act && !strcmp(act, "Delay");
    x->delayMs = (DWORD)delay;
    x->hr = (HRESULT)(ULONG)(unsigned long long)hr;
    int id = x->id;
    LeaveCriticalSection(&g_cs);
    sb b; sb_init(&b); sb_printf(&b, "{\"FaultId\":%d}", id);
    *out = sb_take(&b);
    return S_OK;
}

EXPORT HRESULT WINAPI HcsSimStorageControl(PCWSTR request, PWSTR *response) {
    if (response) *response = NULL;
    if (!request) return E_INVALIDARG;
    char *u = w2u(request), err[128];
    jv *req = json_parse(u, err, sizeof err);
    free(u);
    const char *op = jgets(req, "Op");
    HRESULT hr = S_OK;
    char *out = NULL;
    if (!op) {
        hr = E_INVALIDARG;
    } else if (!strcmp(op, "InjectFault")) {
        hr = inject_fault(jget(req, "Fault"), &out);
    } else if (!strcmp(op, "SetConfig")) {
        /* One config object for both knob sets: the host rules (privileges.c) and the
           mount-path/detach knobs (storage_knobs.c); the answer is the two merged. */
        char *rules = NULL;
        hr = simr_set_config(jget(req, "Config"), &rules);
        if (!FAILED(hr)) {
            stk_set_config(jget(req, "Config"));
            char *knobs = stk_config_doc();
            size_t n = strlen(rules) + strlen(knobs) + 2;
            out = malloc(n);
            if (!out) hr = E_OUTOFMEMORY;
            else {
                rules[strlen(rules) - 1] = 0; /* drop '}' */
                snprintf(out, n, "%s%s%s", rules, strcmp(rules, "{") ? "," : "", knobs + 1);
            }
            free(knobs);
        }
        free(rules);
    } else if (!strcmp(op, "ClearFaults")) {
        EnterCriticalSection(&g_cs); g_nfaults = 0; LeaveCriticalSection(&g_cs);
        out = xstrdup("{}");
    } else if (!strcmp(op, "Audit")) {
        EnterCriticalSection(&g_cs); out = audit_doc(); LeaveCriticalSection(&g_cs);
    } else if (!strcmp(op, "ResetAudit")) {
        EnterCriticalSection(&g_cs);
        memset(&g_audit, 0, sizeof g_audit);
        g_strtab.n = 0; g_nh = 0;
        for (int k = 0; k < g_ndisks; k++) g_disks[k].warned = 1; /* do not report attaches made before the reset */
        LeaveCriticalSection(&g_cs);
        out = xstrdup("{}");
    } else if (!strcmp(op, "Reset")) {
        stk_reset();
        out = do_reset();
    } else if (!strcmp(op, "HostRestart")) { /* storage_restart.c; this process's tables forget theirs too */
        out = stc_host_restart();
        EnterCriticalSection(&g_cs); g_ndisks = 0; g_nfilters = 0; LeaveCriticalSection(&g_cs);
    } else if (!strcmp(op, "DiskInfo")) {
        const char *p = jgets(req, "Path");
        if (!p) hr = E_INVALIDARG;
        else {
            WCHAR *pw = u2w(p), full[STC_PATH];
            jv *m = NULL;
            DWORD e = stc_full_path(pw, full);
            if (!e) e = stc_disk_read(full, &m);
            free(pw);
            if (e) hr = HR_W32(e);
            else {
                WCHAR vol[STC_PATH]; stc_disk_data_dir(jgets(m, "DiskId"), jgetb(m, "Attached", 0), vol);
                char *vu = w2u(vol); jset(m, "DataFolder", jnew_str(vu)); free(vu);
                out = json_dump(m);
            }
            json_free(m);
        }
    } else {
        hr = E_INVALIDARG;
    }
    if (FAILED(hr) && !out) out = result_error_doc(hr, "HcsSimStorageControl: bad request (see README.md, Simulated storage)");
    json_free(req);
    if (response && out) { WCHAR *w = u2w(out); *response = out_string(w, 0); free(w); }
    free(out);
    return hr;
}
