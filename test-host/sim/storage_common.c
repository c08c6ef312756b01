/* On-disk state helpers shared by the simulated computestorage.dll and virtdisk.dll. See storage_common.h. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "storage_common.h"

static HANDLE g_mutex;

void stc_lock(void) {
    if (!g_mutex) {
        HANDLE m = CreateMutexW(NULL, FALSE, L"Local\\hcssim-storage-lock");
        if (InterlockedCompareExchangePointer((PVOID *)&g_mutex, m, NULL) != NULL) CloseHandle(m);
    }
    WaitForSingleObject(g_mutex, INFINITE); /* WAIT_ABANDONED also gives us ownership */
}
void stc_unlock(void) { ReleaseMutex(g_mutex); }

jv *jbool(int b) { jv *v = jnew(J_BOOL); v->b = b ? 1 : 0; return v; }

void stc_root(WCHAR out[STC_PATH]) {
    DWORD n = GetEnvironmentVariableW(L"HCSSIM_STORAGE_ROOT", out, STC_PATH);
    if (n && n < STC_PATH) {
        size_t l = wcslen(out);
        while (l > 3 && (out[l - 1] == L'\\' || out[l - 1] == L'/')) out[--l] = 0;
        return;
    }
    WCHAR pd[STC_PATH];
    n = GetEnvironmentVariableW(L"ProgramData", pd, STC_PATH);
    if (!n || n >= STC_PATH - 16) wcscpy(pd, L"C:\\ProgramData");
    _snwprintf(out, STC_PATH, L"%ls\\hcssim", pd);
    out[STC_PATH - 1] = 0;
}

void stc_join(WCHAR out[STC_PATH], const WCHAR *a, const WCHAR *b) {
    size_t l = wcslen(a);
    int sep = l && a[l - 1] != L'\\' && a[l - 1] != L'/';
    _snwprintf(out, STC_PATH, L"%ls%ls%ls", a, sep ? L"\\" : L"", b);
    out[STC_PATH - 1] = 0;
}

DWORD stc_full_path(const WCHAR *in, WCHAR out[STC_PATH]) {
    if (!in || !*in) return ERROR_INVALID_PARAMETER;
    DWORD n = GetFullPathNameW(in, STC_PATH, out, NULL);
    if (!n || n >= STC_PATH) return ERROR_FILENAME_EXCED_RANGE;
    size_t l = wcslen(out);
    while (l > 3 && (out[l - 1] == L'\\' || out[l - 1] == L'/')) out[--l] = 0;
    return 0;
}

int stc_is_dir(const WCHAR *p) {
    DWORD a = GetFileAttributesW(p);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}
int stc_exists(const WCHAR *p) { return GetFileAttributesW(p) != INVALID_FILE_ATTRIBUTES; }

int stc_dir_empty(const WCHAR *p) {
    WCHAR pat[STC_PATH]; stc_join(pat, p, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f == INVALID_HANDLE_VALUE) return stc_is_dir(p);
    int empty = 1;
    do {
        if (wcscmp(fd.cFileName, L".") && wcscmp(fd.cFileName, L"..")) { empty = 0; break; }
    } while (FindNextFileW(f, &fd));
    FindClose(f);
    return empty;
}

DWORD stc_mkdirs(const WCHAR *p) {
    if (stc_is_dir(p)) return 0;
    WCHAR buf[STC_PATH];
    DWORD e = stc_full_path(p, buf);
    if (e) return e;
    for (WCHAR *s = buf + 3; *s; s++) { /* skip "C:\" */
        if (*s == L'\\' || *s == L'/') {
            WCHAR c = *s; *s = 0;
            if (!stc_is_dir(buf) && !CreateDirectoryW(buf, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) { *s = c; return GetLastError(); }
            *s = c;
        }
    }
    if (!stc_is_dir(buf) && !CreateDirectoryW(buf, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) return GetLastError();
    return 0;
}

DWORD stc_rmtree(const WCHAR *p) {
    DWORD a = GetFileAttributesW(p);
    if (a == INVALID_FILE_ATTRIBUTES) return GetLastError();
    if (a & FILE_ATTRIBUTE_READONLY) SetFileAttributesW(p, a & ~FILE_ATTRIBUTE_READONLY);
    if (!(a & FILE_ATTRIBUTE_DIRECTORY)) return DeleteFileW(p) ? 0 : GetLastError();
    if (!(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
        WCHAR pat[STC_PATH]; stc_join(pat, p, L"*");
        WIN32_FIND_DATAW fd;
        HANDLE f = FindFirstFileW(pat, &fd);
        if (f != INVALID_HANDLE_VALUE) {
            do {
                if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
                WCHAR c[STC_PATH]; stc_join(c, p, fd.cFileName);
                DWORD e = stc_rmtree(c);
                if (e) { FindClose(f); return e; }
            } while (FindNextFileW(f, &fd));
            FindClose(f);
        }
    }
    return RemoveDirectoryW(p) ? 0 : GetLastError();
}

static int is_marker(const WCHAR *name) { return !_wcsnicmp(name, L".hcssim-", 8); }

DWORD stc_copytree(const WCHAR *src, const WCHAR *dst, int skipMarkers) {
    DWORD e = stc_mkdirs(dst);
    if (e) return e;
    WCHAR pat[STC_PATH]; stc_join(pat, src, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE f = FindFirstFileW(pat, &fd);
    if (f == INVALID_HANDLE_VALUE) return GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : GetLastError();
    do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
        if (skipMarkers && is_marker(fd.cFileName)) continue;
        WCHAR s[STC_PATH], d[STC_PATH];
        stc_join(s, src, fd.cFileName); stc_join(d, dst, fd.cFileName);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) continue; /* not followed */
            e = stc_copytree(s, d, 0);
        } else {
            e = CopyFileW(s, d, TRUE) ? 0 : GetLastError();
        }
        if (e) { FindClose(f); return e; }
    } while (FindNextFileW(f, &fd));
    FindClose(f);
    return 0;
}

DWORD stc_read_all(const WCHAR *p, char **data, DWORD *len) {
    *data = NULL; if (len) *len = 0;
    HANDLE h = CreateFileW(p, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    DWORD sz = GetFileSize(h, NULL), got = 0;
    if (sz == INVALID_FILE_SIZE || sz > 16u * 1024 * 1024) { CloseHandle(h); return ERROR_INVALID_DATA; }
    char *b = malloc(sz + 1);
    if (sz && (!ReadFile(h, b, sz, &got, NULL) || got != sz)) { DWORD e = GetLastError(); free(b); CloseHandle(h); return e ? e : ERROR_READ_FAULT; }
    CloseHandle(h);
    b[sz] = 0;
    *data = b; if (len) *len = sz;
    return 0;
}

DWORD stc_write_all(const WCHAR *p, const char *data, DWORD len, DWORD disposition) {
    HANDLE h = CreateFileW(p, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    DWORD put = 0, e = 0;
    if (len && (!WriteFile(h, data, len, &put, NULL) || put != len)) e = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
    if (!e && !SetEndOfFile(h)) e = GetLastError();
    CloseHandle(h);
    return e;
}

DWORD stc_read_json(const WCHAR *p, jv **out) {
    char *d; *out = NULL;
    DWORD e = stc_read_all(p, &d, NULL);
    if (e) return e;
    char err[64];
    *out = json_parse(d, err, sizeof err);
    free(d);
    return *out ? 0 : ERROR_INVALID_DATA;
}

DWORD stc_write_json(const WCHAR *p, const jv *v) {
    char *s = json_dump(v);
    DWORD e = stc_write_all(p, s, (DWORD)strlen(s), CREATE_ALWAYS);
    free(s);
    return e;
}

/* ---------------------------------------------------------------- simulated disks */
/* The first `max` bytes of a file (a fixed-size disk file is as big as the disk: only its head holds the
   metadata). */
static DWORD read_head(const WCHAR *p, DWORD max, char **data, DWORD *len) {
    *data = NULL; *len = 0;
    HANDLE h = CreateFileW(p, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    char *b = malloc(max + 1);
    DWORD got = 0;
    if (!ReadFile(h, b, max, &got, NULL)) { DWORD e = GetLastError(); free(b); CloseHandle(h); return e ? e : ERROR_READ_FAULT; }
    CloseHandle(h);
    b[got] = 0;
    *data = b; *len = got;
    return 0;
}

DWORD stc_disk_read(const WCHAR *path, jv **meta) {
    *meta = NULL;
    char *d; DWORD n;
    DWORD e = read_head(path, STC_DISK_HEAD, &d, &n);
    if (e == ERROR_ACCESS_DENIED && stc_is_dir(path)) e = HCSSIM_ERROR_VIRTDISK_NOT_VIRTUAL_DISK;
    if (e) return e;
    if (n < 17 || memcmp(d + 8, "HCSSIM01", 8) || d[16] != '\n') { free(d); return HCSSIM_ERROR_VIRTDISK_NOT_VIRTUAL_DISK; }
    char err[64];
    *meta = json_parse(d + 17, err, sizeof err);
    free(d);
    return *meta ? 0 : HCSSIM_ERROR_VIRTDISK_NOT_VIRTUAL_DISK;
}

DWORD stc_disk_write(const WCHAR *path, const jv *meta, HANDLE via) {
    sb b; sb_init(&b);
    const char *type = jgets(meta, "Type");
    sb_puts(&b, type && !strcmp(type, "VHD") ? "conectix" : "vhdxfile");
    sb_puts(&b, "HCSSIM01\n");
    json_write(&b, meta);
    sb_puts(&b, "\n");
    DWORD e = 0;
    HANDLE h = via;
    if (!h) {
        h = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
        if (h == INVALID_HANDLE_VALUE) { sb_free(&b); return GetLastError(); }
    }
    /* A fixed-size disk keeps its full length (FileSize; sparse on the Linux side): the metadata is
       rewritten in place and the zeros after it end the JSON text for stc_disk_read. */
    long long fileSize = 0;
    LARGE_INTEGER end = { 0 };
    end.QuadPart = jgeti(meta, "FileSize", &fileSize) && fileSize > (long long)b.n ? fileSize : (long long)b.n;
    LARGE_INTEGER z = { 0 };
    DWORD put = 0;
    if (b.n >= STC_DISK_HEAD) e = ERROR_INVALID_DATA;
    else if (!SetFilePointerEx(h, z, NULL, FILE_BEGIN) || !WriteFile(h, b.p, (DWORD)b.n, &put, NULL) || put != b.n)
        e = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
    else if (end.QuadPart > (long long)b.n) {
        /* zero what an earlier, longer metadata text left between this one and the end */
        static const char zeros[4096];
        DWORD left = STC_DISK_HEAD - (DWORD)b.n;
        if ((long long)left > end.QuadPart - (long long)b.n) left = (DWORD)(end.QuadPart - (long long)b.n);
        while (!e && left) {
            DWORD chunk = left > sizeof zeros ? (DWORD)sizeof zeros : left;
            if (!WriteFile(h, zeros, chunk, &put, NULL) || put != chunk) e = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
            left -= chunk;
        }
    }
    if (!e && (!SetFilePointerEx(h, end, NULL, FILE_BEGIN) || !SetEndOfFile(h))) e = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
    if (!via) CloseHandle(h);
    sb_free(&b);
    return e;
}

void stc_disk_data_dir(const char *diskId, int attached, WCHAR out[STC_PATH]) {
    WCHAR root[STC_PATH]; stc_root(root);
    WCHAR *g = u2w(diskId ? diskId : "{00000000-0000-0000-0000-000000000000}");
    _snwprintf(out, STC_PATH, L"%ls\\%ls\\%ls", root, attached ? L"volumes" : L"disks", g);
    out[STC_PATH - 1] = 0;
    free(g);
}

void stc_new_disk_id(char out[40]) {
    char g[37]; new_guid_str(g);
    for (char *p = g; *p; p++) if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    snprintf(out, 40, "{%s}", g);
}

DWORD stc_disk_attach(const WCHAR *path, DWORD flags, WCHAR volOut[STC_PATH]) {
    jv *m; DWORD e = stc_disk_read(path, &m);
    if (e) return e;
    if (jgetb(m, "Attached", 0)) { json_free(m); return ERROR_SHARING_VIOLATION; }
    /* a disk file copied or moved keeps its metadata: give the copy its own identity and a copy of the data */
    const char *rec = jgets(m, "Path");
    WCHAR *recw = u2w(rec ? rec : "");
    if (_wcsicmp(recw, path)) {
        char oldId[64]; snprintf(oldId, sizeof oldId, "%s", jgets(m, "DiskId") ? jgets(m, "DiskId") : "");
        char nid[40]; stc_new_disk_id(nid);
        WCHAR src[STC_PATH], dst[STC_PATH];
        stc_disk_data_dir(oldId, 0, src);
        if (!stc_is_dir(src)) stc_disk_data_dir(oldId, 1, src);
        stc_disk_data_dir(nid, 0, dst);
        if (stc_is_dir(src)) stc_copytree(src, dst, 0);
        jset(m, "DiskId", jnew_str(nid));
        char *pu = w2u(path); jset(m, "Path", jnew_str(pu)); free(pu);
    }
    free(recw);
    WCHAR root[STC_PATH], drives[STC_PATH], vol[STC_PATH], data[STC_PATH];
    stc_root(root);
    stc_join(drives, root, L"drives");
    stc_mkdirs(drives);
    int drive = 0;
    for (int n = 1; n < 1000 && !drive; n++) {
        WCHAR f[STC_PATH], num[16];
        _snwprintf(num, 16, L"%d", n); num[15] = 0;
        stc_join(f, drives, num);
        char *pu = w2u(path);
        if (!stc_write_all(f, pu, (DWORD)strlen(pu), CREATE_NEW)) drive = n;
        free(pu);
    }
    if (!drive) { json_free(m); return ERROR_TOO_MANY_OPEN_FILES; }
    stc_disk_data_dir(jgets(m, "DiskId"), 1, vol);
    stc_disk_data_dir(jgets(m, "DiskId"), 0, data);
    WCHAR vols[STC_PATH]; stc_join(vols, root, L"volumes"); stc_mkdirs(vols);
    if (stc_is_dir(data) && !stc_is_dir(vol)) {
        if (!MoveFileW(data, vol)) { e = stc_copytree(data, vol, 0); if (!e) stc_rmtree(data); }
    }
    if (!e) e = stc_mkdirs(vol);
    if (!e) {
        jset(m, "Attached", jbool(1));
        jset(m, "AttachedByPid", jnew_int(GetCurrentProcessId()));
        jset(m, "AttachFlags", jnew_int(flags));
        jset(m, "PhysicalDrive", jnew_int(drive));
        e = stc_disk_write(path, m, NULL);
    }
    if (e) {
        WCHAR f[STC_PATH], num[16]; _snwprintf(num, 16, L"%d", drive); num[15] = 0;
        stc_join(f, drives, num); DeleteFileW(f);
    } else if (volOut) {
        wcscpy(volOut, vol);
    }
    json_free(m);
    return e;
}

DWORD stc_disk_detach(const WCHAR *path, WCHAR volOut[STC_PATH]) {
    jv *m; DWORD e = stc_disk_read(path, &m);
    if (e) return e;
    if (!jgetb(m, "Attached", 0)) { json_free(m); return ERROR_NOT_READY; }
    WCHAR root[STC_PATH], vol[STC_PATH], data[STC_PATH], disks[STC_PATH];
    stc_root(root);
    stc_disk_data_dir(jgets(m, "DiskId"), 1, vol);
    stc_disk_data_dir(jgets(m, "DiskId"), 0, data);
    stc_join(disks, root, L"disks"); stc_mkdirs(disks);
    if (stc_is_dir(data)) stc_rmtree(data);
    if (stc_is_dir(vol) && !MoveFileW(vol, data)) {
        if (!stc_copytree(vol, data, 0)) stc_rmtree(vol);
    }
    long long drive = 0;
    if (jgeti(m, "PhysicalDrive", &drive) && drive > 0) {
        WCHAR f[STC_PATH], num[24]; _snwprintf(num, 24, L"%lld", drive); num[23] = 0;
        WCHAR drives[STC_PATH]; stc_join(drives, root, L"drives");
        stc_join(f, drives, num); DeleteFileW(f);
    }
    jset(m, "Attached", jbool(0));
    jset(m, "AttachedByPid", jnew_int(0));
    jset(m, "AttachFlags", jnew_int(0));
    jset(m, "PhysicalDrive", jnew_int(0));
    e = stc_disk_write(path, m, NULL);
    if (!e && volOut) wcscpy(volOut, vol);
    json_free(m);
    return e;
}
