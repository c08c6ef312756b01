/* The layer transport format, read by the simulated HcsImportLayer and written by HcsExportLayer.
 *
 * The format (what real HcsExportLayer writes and HcsImportLayer reads):
 * - Files\<path> (a file): a 4-byte little-endian FILE_ATTRIBUTE_* word, then a Win32 backup stream
 *   (BackupRead format: WIN32_STREAM_ID headers - id u32, attributes u32, size u64, name size u32, name
 *   UTF-16 - each followed by its data). Evidence: hcsshim internal/wclayer/legacy.go, legacyLayerWriter.Add
 *   ("The file attributes are written before the stream") and legacyLayerReader.Next (reads the word, then
 *   walks the stream with winio.NewBackupStreamReader); stream ids: go-winio backup.go (BackupData = 1 ...
 *   BackupTxfsData = 10).
 * - every folder of Files\ (and Files, Hives themselves) has a sibling <folder>.$wcidirs$ holding its
 *   attribute word and stream. Evidence: legacy.go Add, `fname += ".$wcidirs$"` for every directory entry.
 * - Hives\ holds the five registry deltas as plain files (legacy.go Add: Hives entries go through a
 *   BackupFileWriter without security, so only their data lands; names: hcsshim
 *   internal/wclayer/cim/common.go `hives`).
 * - tombstones.txt: "\xEF\xBB\xBFVersion 1.0", then one "\path" per deleted file (legacy.go readTombstones).
 * - Hives, the five deltas and tombstones.txt are all required. Evidence, measured: hcsctl
 *   internal/storage/storage.go importCmd, "the source must be a complete export (Files, Hives,
 *   tombstones.txt) -- a partial or wrapped export fails path-not-found after writing Files", and hcsctl
 *   commit 95b5422 ("plain dir fails path-not-found").
 *
 * The simulation's own on-disk model of an imported layer stays plain files (so the rest of the simulator
 * and the tests read layer content directly); what the plain files cannot hold (attributes, security
 * descriptor, EAs, reparse data, alternate streams) goes to <layer>\.hcssim-transport.json, from which
 * HcsExportLayer writes the blobs back (so export -> import round-trips). Hard-linked blobs are decoded as
 * separate files (no links in the simulated layer). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "json.h"
#include "storage_common.h"
#include "transport.h"

#define HR_W32(e) HRESULT_FROM_WIN32(e)
/* measured (hcsctl, above): a missing part of the export fails path-not-found */
#define TR_E_MISSING HR_W32(ERROR_PATH_NOT_FOUND)
/* GUESS: the HRESULT real HcsImportLayer gives for a malformed blob is unknown; ERROR_INVALID_DATA */
#define TR_E_BAD HR_W32(ERROR_INVALID_DATA)
#define MAX_META_STREAM (16u * 1024 * 1024)

static const WCHAR *HIVES[] = { L"DefaultUser_Delta", L"Sam_Delta", L"Security_Delta", L"Software_Delta", L"System_Delta", NULL };
static const char TOMBSTONE_HEADER[] = "\xEF\xBB\xBFVersion 1.0";

/* ---------------------------------------------------------------- small helpers */
static char *hex_of(const char *p, size_t n) {
    char *s = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) sprintf(s + i * 2, "%02x", (unsigned char)p[i]);
    s[n * 2] = 0;
    return s;
}
static char *unhex(const char *s, size_t *n) {
    size_t len = s ? strlen(s) / 2 : 0;
    char *b = malloc(len + 1);
    for (size_t i = 0; i < len; i++) { unsigned v = 0; sscanf(s + i * 2, "%2x", &v); b[i] = (char)v; }
    *n = len;
    return b;
}
static int rd(HANDLE h, void *buf, DWORD n) { DWORD got = 0; return !n || (ReadFile(h, buf, n, &got, NULL) && got == n); }
static int wr(HANDLE h, const void *buf, DWORD n) { DWORD put = 0; return !n || (WriteFile(h, buf, n, &put, NULL) && put == n); }
static int copy_bytes(HANDLE from, HANDLE to, ULONGLONG n) {
    enum { CHUNK = 65536 };
    char *buf = malloc(CHUNK);
    int ok = 1;
    while (ok && n) {
        DWORD chunk = n > CHUNK ? (DWORD)CHUNK : (DWORD)n;
        ok = rd(from, buf, chunk) && (!to || wr(to, buf, chunk));
        n -= chunk;
    }
    free(buf);
    return ok;
}
static int ends_with(const WCHAR *s, const WCHAR *suffix) {
    size_t a = wcslen(s), b = wcslen(suffix);
    return a >= b && !_wcsicmp(s + a - b, suffix);
}
static void rel_join(WCHAR out[STC_PATH], const WCHAR *rel, const WCHAR *name) {
    _snwprintf(out, STC_PATH, L"%ls\\%ls", rel, name); out[STC_PATH - 1] = 0;
}

/* ---------------------------------------------------------------- one blob */
typedef struct { DWORD attributes; sb pre, post; int hasData; char *reparse; } blob;

static void blob_free(blob *b) { sb_free(&b->pre); sb_free(&b->post); free(b->reparse); }

/* The print name of a symlink / mount-point REPARSE_DATA_BUFFER (go-winio reparse.go layout). */
static char *reparse_print_name(const char *d, size_t n) {
    if (n < 16) return NULL;
    DWORD tag; memcpy(&tag, d, 4);
    size_t names = 16 + (tag == 0xA000000Cu ? 4 : 0);
    WORD off, len; memcpy(&off, d + 12, 2); memcpy(&len, d + 14, 2);
    if (names + off + len > n) return NULL;
    WCHAR *w = calloc(len / 2 + 1, sizeof(WCHAR));
    memcpy(w, d + names + off, len);
    char *u = w2u(w); free(w);
    return u;
}

/* Parses `path` (attribute word + backup stream). The data stream goes to `plainOut` (if not NULL); every
   other stream is kept raw in b->pre (before the data) or b->post (after it). */
static HRESULT parse_blob(const WCHAR *path, const WCHAR *plainOut, blob *b) {
    memset(b, 0, sizeof *b); sb_init(&b->pre); sb_init(&b->post);
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) return HR_W32(GetLastError());
    HANDLE out = NULL;
    if (plainOut) {
        out = CreateFileW(plainOut, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (out == INVALID_HANDLE_VALUE) { DWORD e = GetLastError(); CloseHandle(h); return HR_W32(e); }
    }
    LARGE_INTEGER size; GetFileSizeEx(h, &size);
    ULONGLONG total = (ULONGLONG)size.QuadPart, pos = 4;
    HRESULT hr = S_OK;
    if (total < 4 || !rd(h, &b->attributes, 4)) hr = TR_E_BAD;
    while (hr == S_OK && pos < total) {
        unsigned char hdr[20];
        if (total - pos < 20 || !rd(h, hdr, 20)) { hr = TR_E_BAD; break; }
        DWORD id, nameSize; ULONGLONG sz;
        memcpy(&id, hdr, 4); memcpy(&sz, hdr + 8, 8); memcpy(&nameSize, hdr + 16, 4);
        /* go-winio backup.go: ids 1..10; the name is UTF-16 (an even byte count) */
        if (id < 1 || id > 10 || nameSize % 2 || nameSize > 2048 || pos + 20 + nameSize + sz > total) { hr = TR_E_BAD; break; }
        char name[2048];
        if (!rd(h, name, nameSize)) { hr = TR_E_BAD; break; }
        pos += 20 + nameSize + sz;
        if (id == 1) {
            if (b->hasData) { hr = TR_E_BAD; break; } /* one unnamed data stream per file */
            b->hasData = 1;
            if (!copy_bytes(h, out, sz)) hr = HR_W32(ERROR_WRITE_FAULT);
            continue;
        }
        if (sz > MAX_META_STREAM) { hr = TR_E_BAD; break; }
        char *data = malloc((size_t)sz + 1);
        if (!rd(h, data, (DWORD)sz)) { free(data); hr = TR_E_BAD; break; }
        sb *keep = b->hasData ? &b->post : &b->pre;
        sb_putn(keep, (const char *)hdr, 20); sb_putn(keep, name, nameSize); sb_putn(keep, data, (size_t)sz);
        if (id == 8) { free(b->reparse); b->reparse = reparse_print_name(data, (size_t)sz); }
        free(data);
    }
    CloseHandle(h);
    if (out) CloseHandle(out);
    if (FAILED(hr)) { if (plainOut) DeleteFileW(plainOut); blob_free(b); }
    return hr;
}

static void record(jv *entries, const WCHAR *rel, const blob *b) {
    jv *o = jnew(J_OBJ);
    jset(o, "Attributes", jnew_int(b->attributes));
    jset(o, "Data", jbool(b->hasData));
    if (b->pre.n) { char *x = hex_of(b->pre.p, b->pre.n); jset(o, "Pre", jnew_str(x)); free(x); }
    if (b->post.n) { char *x = hex_of(b->post.p, b->post.n); jset(o, "Post", jnew_str(x)); free(x); }
    if (b->reparse) jset(o, "ReparseTarget", jnew_str(b->reparse));
    char *k = w2u(rel); jset(entries, k, o); free(k);
}

/* A folder's .$wcidirs$ entry: must exist and carry FILE_ATTRIBUTE_DIRECTORY (legacy.go Add). */
static HRESULT import_wcidirs(const WCHAR *dirPath, const WCHAR *rel, jv *entries) {
    WCHAR w[STC_PATH]; _snwprintf(w, STC_PATH, L"%ls.$wcidirs$", dirPath); w[STC_PATH - 1] = 0;
    if (!stc_exists(w)) return TR_E_MISSING; /* GUESS: treated like the other missing parts */
    blob b; HRESULT hr = parse_blob(w, NULL, &b);
    if (FAILED(hr)) return hr;
    if (!(b.attributes & FILE_ATTRIBUTE_DIRECTORY)) hr = TR_E_BAD;
    else record(entries, rel, &b);
    blob_free(&b);
    return hr;
}

static HRESULT import_files(const WCHAR *src, const WCHAR *dst, const WCHAR *rel, jv *entries) {
    DWORD e = stc_mkdirs(dst);
    if (e) return HR_W32(e);
    WCHAR pat[STC_PATH]; stc_join(pat, src, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f == INVALID_HANDLE_VALUE) return S_OK;
    HRESULT hr = S_OK;
    do {
        const WCHAR *n = fd.cFileName;
        if (!wcscmp(n, L".") || !wcscmp(n, L"..") || ends_with(n, L".$wcidirs$")) continue;
        WCHAR s[STC_PATH], d[STC_PATH], r[STC_PATH];
        stc_join(s, src, n); stc_join(d, dst, n); rel_join(r, rel, n);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
            hr = import_wcidirs(s, r, entries);
            if (!FAILED(hr)) hr = import_files(s, d, r, entries);
        } else {
            blob b;
            hr = parse_blob(s, d, &b); /* a plain file fails here: no valid attribute word + stream */
            if (FAILED(hr)) break;
            if (b.attributes & FILE_ATTRIBUTE_DIRECTORY) hr = TR_E_BAD;
            else record(entries, r, &b);
            blob_free(&b);
        }
    } while (!FAILED(hr) && FindNextFileW(f, &fd));
    FindClose(f);
    return hr;
}

static HRESULT read_tombstones(const WCHAR *src, jv *list) {
    WCHAR p[STC_PATH]; stc_join(p, src, L"tombstones.txt");
    char *d; DWORD len;
    DWORD e = stc_read_all(p, &d, &len);
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return TR_E_MISSING;
    if (e) return HR_W32(e);
    size_t hl = strlen(TOMBSTONE_HEADER);
    /* legacy.go readTombstones: the first line must be exactly the BOM + "Version 1.0" */
    HRESULT hr = len >= hl && !memcmp(d, TOMBSTONE_HEADER, hl) && (d[hl] == 0 || d[hl] == '\r' || d[hl] == '\n') ? S_OK : TR_E_BAD;
    for (char *line = strtok(d + hl, "\r\n"); !FAILED(hr) && line; line = strtok(NULL, "\r\n")) {
        if (line[0] != '\\') { hr = TR_E_BAD; break; } /* each entry is "\path" under Files */
        jpush(list, jnew_str(line));
    }
    free(d);
    return hr;
}

HRESULT tr_import(const WCHAR *src, const WCHAR *layer) {
    jv *meta = jnew(J_OBJ), *entries = jnew(J_OBJ), *tomb = jnew(J_ARR);
    jset(meta, "Entries", entries); jset(meta, "Tombstones", tomb);
    WCHAR s[STC_PATH], d[STC_PATH];
    /* Files first: the real import "fails path-not-found after writing Files" (hcsctl, above) */
    stc_join(s, src, L"Files"); stc_join(d, layer, L"Files");
    HRESULT hr = import_wcidirs(s, L"Files", entries);
    if (!FAILED(hr)) hr = import_files(s, d, L"Files", entries);
    stc_join(s, src, L"Hives"); stc_join(d, layer, L"Hives");
    if (!FAILED(hr) && !stc_is_dir(s)) hr = TR_E_MISSING;
    if (!FAILED(hr)) hr = import_wcidirs(s, L"Hives", entries);
    for (int i = 0; !FAILED(hr) && HIVES[i]; i++) {
        WCHAR h[STC_PATH]; stc_join(h, s, HIVES[i]);
        if (!stc_exists(h) || stc_is_dir(h)) hr = TR_E_MISSING;
    }
    if (!FAILED(hr)) { DWORD e = stc_copytree(s, d, 1); if (e) hr = HR_W32(e); }
    if (!FAILED(hr)) hr = read_tombstones(src, tomb);
    /* UtilityVM\ and anything else: real files, copied as they are */
    WCHAR pat[STC_PATH]; stc_join(pat, src, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FAILED(hr) ? INVALID_HANDLE_VALUE : FindFirstFileW(pat, &fd);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            const WCHAR *n = fd.cFileName;
            if (!wcscmp(n, L".") || !wcscmp(n, L"..") || !_wcsicmp(n, L"Files") || !_wcsicmp(n, L"Hives") ||
                !_wcsicmp(n, L"tombstones.txt") || ends_with(n, L".$wcidirs$") || !_wcsnicmp(n, L".hcssim-", 8)) continue;
            stc_join(s, src, n); stc_join(d, layer, n);
            DWORD e = (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? stc_copytree(s, d, 1) : (CopyFileW(s, d, TRUE) ? 0 : GetLastError());
            if (e) hr = HR_W32(e);
        } while (!FAILED(hr) && FindNextFileW(f, &fd));
        FindClose(f);
    }
    if (!FAILED(hr)) {
        WCHAR mk[STC_PATH]; stc_join(mk, layer, TR_META_MARKER);
        DWORD e = stc_write_json(mk, meta);
        if (e) hr = HR_W32(e);
    }
    json_free(meta);
    return hr;
}

/* ---------------------------------------------------------------- export */
static DWORD write_blob(const WCHAR *path, const WCHAR *plain, const jv *m, DWORD defaultAttributes) {
    long long a = defaultAttributes;
    if (m) jgeti(m, "Attributes", &a);
    int hasData = plain && (!m || jgetb(m, "Data", 1));
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    DWORD attr = (DWORD)a, e = 0;
    size_t n; char *pre = unhex(m ? jgets(m, "Pre") : NULL, &n);
    if (!wr(h, &attr, 4) || !wr(h, pre, (DWORD)n)) e = ERROR_WRITE_FAULT;
    free(pre);
    if (!e && hasData) {
        HANDLE in = CreateFileW(plain, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
        if (in == INVALID_HANDLE_VALUE) e = GetLastError();
        else {
            LARGE_INTEGER sz; GetFileSizeEx(in, &sz);
            unsigned char hdr[20] = { 1 }; /* BackupData, no attributes, no name */
            memcpy(hdr + 8, &sz.QuadPart, 8);
            if (!wr(h, hdr, 20) || !copy_bytes(in, h, (ULONGLONG)sz.QuadPart)) e = ERROR_WRITE_FAULT;
            CloseHandle(in);
        }
    }
    char *post = unhex(m ? jgets(m, "Post") : NULL, &n);
    if (!e && !wr(h, post, (DWORD)n)) e = ERROR_WRITE_FAULT;
    free(post);
    CloseHandle(h);
    return e;
}

static const jv *meta_of(const jv *entries, const WCHAR *rel) {
    char *k = w2u(rel); const jv *m = entries ? jget(entries, k) : NULL; free(k);
    return m;
}

static DWORD export_dir_entry(const WCHAR *dst, const WCHAR *rel, const jv *entries) {
    WCHAR w[STC_PATH]; _snwprintf(w, STC_PATH, L"%ls.$wcidirs$", dst); w[STC_PATH - 1] = 0;
    DWORD e = stc_mkdirs(dst);
    return e ? e : write_blob(w, NULL, meta_of(entries, rel), FILE_ATTRIBUTE_DIRECTORY);
}

static DWORD export_files(const WCHAR *src, const WCHAR *dst, const WCHAR *rel, const jv *entries) {
    WCHAR pat[STC_PATH]; stc_join(pat, src, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f == INVALID_HANDLE_VALUE) return 0;
    DWORD e = 0;
    do {
        const WCHAR *n = fd.cFileName;
        if (!wcscmp(n, L".") || !wcscmp(n, L"..") || !_wcsnicmp(n, L".hcssim", 7)) continue;
        WCHAR s[STC_PATH], d[STC_PATH], r[STC_PATH];
        stc_join(s, src, n); stc_join(d, dst, n); rel_join(r, rel, n);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
            e = export_dir_entry(d, r, entries);
            if (!e) e = export_files(s, d, r, entries);
        } else {
            e = write_blob(d, s, meta_of(entries, r), FILE_ATTRIBUTE_ARCHIVE);
        }
    } while (!e && FindNextFileW(f, &fd));
    FindClose(f);
    return e;
}

HRESULT tr_export(const WCHAR *layer, const WCHAR *dst, int writable) {
    WCHAR s[STC_PATH], d[STC_PATH];
    jv *meta = NULL;
    stc_join(s, layer, TR_META_MARKER);
    if (stc_exists(s)) stc_read_json(s, &meta);
    const jv *entries = meta ? jget(meta, "Entries") : NULL;
    stc_join(s, layer, L"Files"); stc_join(d, dst, L"Files");
    DWORD e = export_dir_entry(d, L"Files", entries);
    if (!e) e = export_files(s, d, L"Files", entries);
    if (!e && writable) {
        /* A mounted writable layer shows the container's C:\ at its root (the storage filter's merged view);
           the simulation has no filter, so what was written at the root belongs under Files\<name>. */
        WCHAR pat[STC_PATH]; stc_join(pat, layer, L"*");
        WIN32_FIND_DATAW fd;
        HANDLE f = FindFirstFileW(pat, &fd);
        if (f != INVALID_HANDLE_VALUE) {
            do {
                const WCHAR *n = fd.cFileName;
                if (!wcscmp(n, L".") || !wcscmp(n, L"..") || !_wcsicmp(n, L"Files") || !_wcsicmp(n, L"Hives") || !_wcsnicmp(n, L".hcssim", 7)) continue;
                WCHAR from[STC_PATH], to[STC_PATH], r[STC_PATH];
                stc_join(from, layer, n); stc_join(to, d, n); rel_join(r, L"Files", n);
                if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
                    e = export_dir_entry(to, r, entries);
                    if (!e) e = export_files(from, to, r, entries);
                } else {
                    e = write_blob(to, from, NULL, FILE_ATTRIBUTE_ARCHIVE);
                }
            } while (!e && FindNextFileW(f, &fd));
            FindClose(f);
        }
    }
    stc_join(s, layer, L"Hives"); stc_join(d, dst, L"Hives");
    if (!e) e = stc_is_dir(s) ? stc_copytree(s, d, 1) : stc_mkdirs(d);
    if (!e) e = export_dir_entry(d, L"Hives", entries);
    for (int i = 0; !e && HIVES[i]; i++) {
        /* GUESS: a real export carries the deltas the storage filter computed; the simulation has no
           registry, so a layer without them (a scratch layer) gets empty ones. */
        WCHAR h[STC_PATH]; stc_join(h, d, HIVES[i]);
        if (!stc_exists(h)) e = stc_write_all(h, "", 0, CREATE_NEW);
    }
    if (!e) {
        sb t; sb_init(&t);
        sb_puts(&t, TOMBSTONE_HEADER); sb_puts(&t, "\n");
        const jv *list = meta ? jget(meta, "Tombstones") : NULL;
        for (const jv *x = list ? list->child : NULL; x; x = x->next) if (x->t == J_STR) { sb_puts(&t, x->s); sb_puts(&t, "\n"); }
        stc_join(s, dst, L"tombstones.txt");
        e = stc_write_all(s, t.p, (DWORD)t.n, CREATE_NEW);
        sb_free(&t);
    }
    json_free(meta);
    return e ? HR_W32(e) : S_OK;
}
