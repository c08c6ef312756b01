/* storagetest.exe: self-test of the simulated computestorage.dll + virtdisk.dll.
   Prints "ok N - name" / "not ok N - name: detail" and "N passed, N failed"; exit code 0 only if all pass.
   "storagetest.exe child-attach <vhdx> <drive path>" is the child for the cross-process check. */
#include <windows.h>
#include <computestorage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "../common.h"

HRESULT WINAPI HcsSimStorageControl(PCWSTR request, PWSTR *response);

#define E_INVALID_LAYER ((HRESULT)0x80370112)
#define E_INVALID_JSON ((HRESULT)0x8037010D)
#define E_FLT_COLLISION ((HRESULT)0x801F0012)
#define E_FLT_NOT_FOUND ((HRESULT)0x801F0015)
#define NOT_VIRTUAL_DISK 0xC03A0015u
#define HRW(e) HRESULT_FROM_WIN32(e)

static int g_n, g_pass, g_fail;
static char g_diskId[64];
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
#define CHECK_DW(v, want, name) do { DWORD _h = (v), _w = (want); check(_h == _w, name, "got %lu (0x%08lx), want %lu", (unsigned long)_h, (unsigned long)_h, (unsigned long)_w); } while (0)
#define CHECK(c, name) check((c), name, "%s", #c)

/* ---------------------------------------------------------------- helpers */
static WCHAR *wf(const WCHAR *fmt, ...) {
    static WCHAR bufs[16][1024]; static int i;
    WCHAR *b = bufs[i++ & 15];
    va_list ap; va_start(ap, fmt); _vsnwprintf(b, 1024, fmt, ap); va_end(ap);
    b[1023] = 0;
    return b;
}
static char *control(const char *req) {
    WCHAR *w = u2w(req);
    PWSTR resp = NULL;
    HRESULT hr = HcsSimStorageControl(w, &resp);
    free(w);
    char *u = resp ? w2u(resp) : NULL;
    if (resp) LocalFree(resp);
    if (FAILED(hr)) printf("# control %s failed 0x%08lx %s\n", req, (unsigned long)hr, u ? u : "");
    return u ? u : xstrdup("");
}
static jv *control_json(const char *req) {
    char *s = control(req), err[64];
    jv *v = json_parse(s, err, sizeof err);
    free(s);
    return v;
}
static long long jpath_int(jv *v, const char *a, const char *b) {
    long long x = -1; jv *o = jget(v, a);
    if (o) jgeti(o, b, &x);
    return x;
}
static int is_dir(const WCHAR *p) { DWORD a = GetFileAttributesW(p); return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY); }
static int exists(const WCHAR *p) { return GetFileAttributesW(p) != INVALID_FILE_ATTRIBUTES; }
static void mkfile(const WCHAR *p, const char *content) {
    HANDLE h = CreateFileW(p, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    DWORD n; WriteFile(h, content, (DWORD)strlen(content), &n, NULL); CloseHandle(h);
}
/* The transport format HcsImportLayer takes (transport.c): attribute word + backup stream per Files entry. */
static void mkblob(const WCHAR *p, DWORD attr, const char *data) {
    HANDLE h = CreateFileW(p, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    DWORD n; unsigned char hdr[20] = { 0 };
    WriteFile(h, &attr, 4, &n, NULL);
    if (data) { /* BackupData (1), no name */
        unsigned long long sz = strlen(data);
        hdr[0] = 1; memcpy(hdr + 8, &sz, 8);
        WriteFile(h, hdr, 20, &n, NULL); WriteFile(h, data, (DWORD)sz, &n, NULL);
    }
    CloseHandle(h);
}
static void mkdirs(const WCHAR *p);
static void mktdir(const WCHAR *p) { mkdirs(p); mkblob(wf(L"%ls.$wcidirs$", p), FILE_ATTRIBUTE_DIRECTORY, NULL); }
static void mktransport(const WCHAR *root, int withHives, int withTombstones) {
    mktdir(wf(L"%ls\\Files", root));
    if (withHives) {
        static const WCHAR *h[] = { L"DefaultUser", L"Sam", L"Security", L"Software", L"System" };
        mktdir(wf(L"%ls\\Hives", root));
        for (int i = 0; i < 5; i++) mkfile(wf(L"%ls\\Hives\\%ls_Delta", root, h[i]), "delta");
    }
    if (withTombstones) mkfile(wf(L"%ls\\tombstones.txt", root), "\xEF\xBB\xBFVersion 1.0\n");
}
static void mkdirs(const WCHAR *p) {
    WCHAR b[1024]; wcsncpy(b, p, 1023); b[1023] = 0;
    for (WCHAR *s = b + 3; *s; s++) if (*s == L'\\') { *s = 0; CreateDirectoryW(b, NULL); *s = L'\\'; }
    CreateDirectoryW(b, NULL);
}
static char *readfile(const WCHAR *p) {
    HANDLE h = CreateFileW(p, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) return NULL;
    char *b = calloc(1, 65536); DWORD n = 0;
    ReadFile(h, b, 65535, &n, NULL); CloseHandle(h);
    return b;
}
static void rmtree(const WCHAR *p) {
    WIN32_FIND_DATAW fd; HANDLE f = FindFirstFileW(wf(L"%ls\\*", p), &fd);
    if (f != INVALID_HANDLE_VALUE) {
        do {
            if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
            WCHAR c[1024]; _snwprintf(c, 1024, L"%ls\\%ls", p, fd.cFileName); c[1023] = 0;
            SetFileAttributesW(c, FILE_ATTRIBUTE_NORMAL);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) rmtree(c); else DeleteFileW(c);
        } while (FindNextFileW(f, &fd));
        FindClose(f);
    }
    RemoveDirectoryW(p);
}
/* JSON-escaped copy of a path (backslashes doubled) */
static WCHAR *jp(const WCHAR *p) {
    static WCHAR bufs[8][2048]; static int i;
    WCHAR *b = bufs[i++ & 7], *o = b;
    for (; *p && o < b + 2040; p++) { if (*p == L'\\' || *p == L'"') *o++ = L'\\'; *o++ = *p; }
    *o = 0;
    return b;
}
static const WCHAR *ID1 = L"8a3cbd3c-6b7e-5d1f-9c3e-2a1f4b5c6d7e";
static const WCHAR *ID2 = L"0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b";
static WCHAR *layer_data1(const WCHAR *path) {
    return wf(L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Layers\":[{\"Id\":\"%ls\",\"Path\":\"%ls\",\"PathType\":\"AbsolutePath\"}]}", ID1, jp(path));
}
static WCHAR *layer_data2(const WCHAR *p1, const WCHAR *p2) {
    return wf(L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Layers\":[{\"Id\":\"%ls\",\"Path\":\"%ls\"},{\"Id\":\"%ls\",\"Path\":\"%ls\"}]}", ID2, jp(p1), ID1, jp(p2));
}

/* CREATE_VIRTUAL_DISK_PARAMETERS v2 at the real SDK offsets (mingw's struct lacks PhysicalSectorSizeInBytes) */
typedef struct { unsigned char b[256]; } cvd_params;
static void put32(void *p, size_t off, ULONG v) { memcpy((char *)p + off, &v, 4); }
static void put64(void *p, size_t off, ULONGLONG v) { memcpy((char *)p + off, &v, 8); }
static void putptr(void *p, size_t off, const void *v) { memcpy((char *)p + off, &v, sizeof v); }
static DWORD create_disk(const WCHAR *path, ULONGLONG size, const WCHAR *parent, HANDLE *h) {
    VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
    cvd_params p; memset(&p, 0, sizeof p);
    put32(&p, 0, 2); put64(&p, 24, size); put32(&p, 32, 1u << 20);
    if (parent) { putptr(&p, 48, parent); put32(&p, 64, 8 /* OPEN_VIRTUAL_DISK_FLAG_CACHED_IO */); }
    *h = NULL;
    return CreateVirtualDisk(&t, path, VIRTUAL_DISK_ACCESS_NONE, NULL, CREATE_VIRTUAL_DISK_FLAG_NONE, 0, (PCREATE_VIRTUAL_DISK_PARAMETERS)&p, NULL, h);
}
static DWORD open_disk(const WCHAR *path, int readOnly, int infoOnly, HANDLE *h) {
    VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
    unsigned char p[64]; memset(p, 0, sizeof p);
    put32(p, 0, 2); put32(p, 4, infoOnly); put32(p, 8, readOnly);
    *h = NULL;
    return OpenVirtualDisk(&t, path, VIRTUAL_DISK_ACCESS_NONE, OPEN_VIRTUAL_DISK_FLAG_NONE, (POPEN_VIRTUAL_DISK_PARAMETERS)p, h);
}
static DWORD attach(HANDLE h, DWORD flags) {
    unsigned char p[24]; memset(p, 0, sizeof p); put32(p, 0, 2);
    return AttachVirtualDisk(h, NULL, (ATTACH_VIRTUAL_DISK_FLAG)flags, 0, (PATTACH_VIRTUAL_DISK_PARAMETERS)p, NULL);
}
#define ATT_FLAGS (ATTACH_VIRTUAL_DISK_FLAG_NO_DRIVE_LETTER | ATTACH_VIRTUAL_DISK_FLAG_PERMANENT_LIFETIME)
static jv *disk_info(const WCHAR *path) {
    char *u = w2u(jp(path)), req[2048];
    snprintf(req, sizeof req, "{\"Op\":\"DiskInfo\",\"Path\":\"%s\"}", u);
    free(u);
    return control_json(req);
}
static char *phys_path(HANDLE h) {
    WCHAR b[128]; ULONG sz = sizeof b;
    if (GetVirtualDiskPhysicalPath(h, &sz, b)) return xstrdup("");
    return w2u(b);
}
static WCHAR *mount_path(HANDLE h, HRESULT *hr) {
    PWSTR p = NULL;
    *hr = HcsGetLayerVhdMountPath(h, &p);
    return p;
}

/* ---------------------------------------------------------------- child */
static int child_attach(const WCHAR *vhdx, const WCHAR *drive) {
    HANDLE h; int bad = 0;
    DWORD e = open_disk(vhdx, 0, 0, &h);
    if (e) { printf("child: open %lu\n", (unsigned long)e); return 10; }
    e = attach(h, ATT_FLAGS);
    if (e != ERROR_SHARING_VIOLATION) { printf("child: attach %lu\n", (unsigned long)e); bad |= 1; }
    WCHAR b[128]; ULONG sz = sizeof b;
    e = GetVirtualDiskPhysicalPath(h, &sz, b);
    if (e || wcscmp(b, drive)) { printf("child: phys %lu %ls\n", (unsigned long)e, e ? L"" : b); bad |= 2; }
    HRESULT hr; WCHAR *mp = mount_path(h, &hr);
    if (FAILED(hr) || !mp) { printf("child: mount 0x%08lx\n", (unsigned long)hr); bad |= 4; }
    if (mp) LocalFree(mp);
    CloseHandle(h);
    return bad;
}
static DWORD run_child(const WCHAR *args) {
    WCHAR exe[MAX_PATH]; GetModuleFileNameW(NULL, exe, MAX_PATH);
    WCHAR *cmd = wf(L"\"%ls\" %ls", exe, args);
    STARTUPINFOW si; memset(&si, 0, sizeof si); si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 999;
    WaitForSingleObject(pi.hProcess, 30000);
    DWORD code = 998; GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess); CloseHandle(pi.hThread);
    return code;
}

/* ---------------------------------------------------------------- main */
static void enable_backup_restore(void) {
    static const WCHAR *names[] = { L"SeBackupPrivilege", L"SeRestorePrivilege" };
    HANDLE t;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &t)) return;
    for (int i = 0; i < 2; i++) {
        TOKEN_PRIVILEGES tp = { 1, { { { 0, 0 }, SE_PRIVILEGE_ENABLED } } };
        if (LookupPrivilegeValueW(NULL, names[i], &tp.Privileges[0].Luid)) AdjustTokenPrivileges(t, FALSE, &tp, 0, NULL, NULL);
    }
    CloseHandle(t);
}

int wmain(int argc, WCHAR **argv) {
    if (argc >= 4 && !wcscmp(argv[1], L"child-attach")) return child_attach(argv[2], argv[3]);

    WCHAR dir[MAX_PATH];
    _snwprintf(dir, MAX_PATH, L"C:\\storagetest-%lu", (unsigned long)GetCurrentProcessId());
    rmtree(dir);
    mkdirs(dir);
    free(control("{\"Op\":\"Reset\"}"));
    free(control("{\"Op\":\"ResetAudit\"}"));
    /* The host rules of privileges.c: this suite exercises the folder model, so it enables the backup and restore
       privileges as the product does, and lets unset-up base layers be parents (the rules have their own tests
       in test/wine/storage-rules.test.ts). */
    enable_backup_restore();
    free(control("{\"Op\":\"SetConfig\",\"Config\":{\"RequireBaseSetup\":false}}"));

    /* which virtdisk.dll is this? */
    HMODULE vd = GetModuleHandleW(L"virtdisk.dll");
    WCHAR vdPath[MAX_PATH] = L"";
    if (vd) GetModuleFileNameW(vd, vdPath, MAX_PATH);
    printf("# virtdisk.dll loaded from %ls\n", vdPath);
    check(vd && GetProcAddress(vd, "HcsSimVirtDiskInfo"), "the simulated virtdisk.dll is loaded (not Wine's builtin)", "module %ls", vdPath);

    /* fixtures: a base layer */
    WCHAR *base = wf(L"%ls\\base", dir);
    WCHAR baseP[MAX_PATH]; wcscpy(baseP, base);
    mkdirs(wf(L"%ls\\Files\\Windows\\System32\\config", baseP));
    mkfile(wf(L"%ls\\Files\\Windows\\System32\\config\\SYSTEM", baseP), "hive");
    mkfile(wf(L"%ls\\Files\\hello.txt", baseP), "hello from base");
    mkdirs(wf(L"%ls\\Hives", baseP));
    mkfile(wf(L"%ls\\Hives\\System_Base", baseP), "hive");
    WCHAR noFiles[MAX_PATH]; wcscpy(noFiles, wf(L"%ls\\nofiles", dir)); mkdirs(noFiles);
    /* the same base layer as an import source, in the transport format */
    WCHAR baseT[MAX_PATH]; wcscpy(baseT, wf(L"%ls\\base-transport", dir));
    mktransport(baseT, 1, 1);
    mktdir(wf(L"%ls\\Files\\Windows", baseT));
    mkblob(wf(L"%ls\\Files\\hello.txt", baseT), FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN, "hello from base");

    /* ---------------- CreateVirtualDisk */
    WCHAR scratchDir[MAX_PATH], vhdx[MAX_PATH];
    wcscpy(scratchDir, wf(L"%ls\\scratch", dir)); mkdirs(scratchDir);
    wcscpy(vhdx, wf(L"%ls\\sandbox.vhdx", scratchDir));
    {
        VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
        cvd_params p; memset(&p, 0, sizeof p); HANDLE h;
        put32(&p, 0, 7); put64(&p, 24, 1 << 30);
        CHECK_DW(CreateVirtualDisk(&t, vhdx, VIRTUAL_DISK_ACCESS_NONE, NULL, 0, 0, (PCREATE_VIRTUAL_DISK_PARAMETERS)&p, NULL, &h), ERROR_INVALID_PARAMETER, "CreateVirtualDisk: bad Version -> ERROR_INVALID_PARAMETER");
        put32(&p, 0, 2);
        CHECK_DW(CreateVirtualDisk(&t, vhdx, VIRTUAL_DISK_ACCESS_ALL, NULL, 0, 0, (PCREATE_VIRTUAL_DISK_PARAMETERS)&p, NULL, &h), ERROR_INVALID_PARAMETER, "CreateVirtualDisk: v2 with an access mask -> ERROR_INVALID_PARAMETER");
        CHECK_DW(CreateVirtualDisk(&t, vhdx, VIRTUAL_DISK_ACCESS_NONE, NULL, 0, 0, NULL, NULL, &h), ERROR_INVALID_PARAMETER, "CreateVirtualDisk: NULL Parameters -> ERROR_INVALID_PARAMETER");
        CHECK_DW(create_disk(vhdx, 0, NULL, &h), ERROR_INVALID_PARAMETER, "CreateVirtualDisk: MaximumSize 0 without parent -> ERROR_INVALID_PARAMETER");
        CHECK_DW(create_disk(wf(L"%ls\\nope\\x.vhdx", dir), 1 << 30, NULL, &h), ERROR_PATH_NOT_FOUND, "CreateVirtualDisk: missing folder -> ERROR_PATH_NOT_FOUND");
        CHECK_DW(create_disk(wf(L"%ls\\x.img", dir), 1 << 30, NULL, &h), ERROR_INVALID_PARAMETER, "CreateVirtualDisk: unknown extension with DeviceId 0 -> ERROR_INVALID_PARAMETER");
        CHECK_DW(create_disk(wf(L"%ls\\child.vhdx", dir), 0, wf(L"%ls\\missing.vhdx", dir), &h), ERROR_FILE_NOT_FOUND, "CreateVirtualDisk: missing ParentPath -> ERROR_FILE_NOT_FOUND");
        CHECK(!exists(wf(L"%ls\\child.vhdx", dir)), "CreateVirtualDisk: nothing created on failure");
        mkfile(wf(L"%ls\\notadisk.vhdx", dir), "just text, not a disk");
        CHECK_DW(create_disk(wf(L"%ls\\child.vhdx", dir), 0, wf(L"%ls\\notadisk.vhdx", dir), &h), NOT_VIRTUAL_DISK, "CreateVirtualDisk: ParentPath not a disk -> ERROR_VIRTDISK_NOT_VIRTUAL_DISK");
    }
    HANDLE hd = NULL;
    {
        VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
        cvd_params p; memset(&p, 0, sizeof p);
        static const GUID uid = { 0x11223344, 0x5566, 0x7788, { 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00 } };
        put32(&p, 0, 2); memcpy(p.b + 8, &uid, 16); put64(&p, 24, 20ull << 30); put32(&p, 32, 1u << 20);
        put32(&p, 36, 512); put32(&p, 40, 4096);
        DWORD e = CreateVirtualDisk(&t, vhdx, VIRTUAL_DISK_ACCESS_NONE, NULL, 0, 0, (PCREATE_VIRTUAL_DISK_PARAMETERS)&p, NULL, &hd);
        CHECK_DW(e, 0, "CreateVirtualDisk v2 (20 GiB, 1 MiB blocks) -> ERROR_SUCCESS");
        CHECK(hd && hd != INVALID_HANDLE_VALUE && GetFileType(hd) == FILE_TYPE_DISK, "CreateVirtualDisk returns a real kernel file handle");
        char *raw = readfile(vhdx);
        CHECK(raw && !memcmp(raw, "vhdxfile", 8), "the .vhdx file starts with the VHDX signature");
        free(raw);
        jv *m = disk_info(vhdx);
        long long x = 0;
        check(jgeti(m, "MaximumSize", &x) && x == (20ll << 30), "metadata MaximumSize read at offset 24", "%lld", x);
        check(jgeti(m, "BlockSizeInBytes", &x) && x == (1 << 20), "metadata BlockSizeInBytes read at offset 32", "%lld", x);
        check(jgeti(m, "PhysicalSectorSizeInBytes", &x) && x == 4096, "PhysicalSectorSizeInBytes read at offset 40 (real SDK layout)", "%lld", x);
        check(jgets(m, "UniqueId") && !strcmp(jgets(m, "UniqueId"), "{11223344-5566-7788-99AA-BBCCDDEEFF00}"), "UniqueId read at offset 8", "%s", jgets(m, "UniqueId"));
        snprintf(g_diskId, sizeof g_diskId, "%s", jgets(m, "DiskId") ? jgets(m, "DiskId") : "?");
        CHECK(!jgetb(m, "Formatted", 1) && !jgetb(m, "Attached", 1), "a new disk is neither formatted nor attached");
        json_free(m);
        HANDLE h2;
        CHECK_DW(create_disk(vhdx, 1 << 30, NULL, &h2), ERROR_FILE_EXISTS, "CreateVirtualDisk: existing file -> ERROR_FILE_EXISTS");
    }

    /* ---------------- OpenVirtualDisk */
    {
        HANDLE h;
        CHECK_DW(open_disk(wf(L"%ls\\missing.vhdx", dir), 0, 0, &h), ERROR_FILE_NOT_FOUND, "OpenVirtualDisk: missing -> ERROR_FILE_NOT_FOUND");
        CHECK_DW(open_disk(wf(L"%ls\\notadisk.vhdx", dir), 0, 0, &h), NOT_VIRTUAL_DISK, "OpenVirtualDisk: not a disk -> ERROR_VIRTDISK_NOT_VIRTUAL_DISK");
        VIRTUAL_STORAGE_TYPE t; memset(&t, 0, sizeof t);
        unsigned char p[64]; memset(p, 0, sizeof p); put32(p, 0, 9);
        CHECK_DW(OpenVirtualDisk(&t, vhdx, VIRTUAL_DISK_ACCESS_NONE, 0, (POPEN_VIRTUAL_DISK_PARAMETERS)p, &h), ERROR_INVALID_PARAMETER, "OpenVirtualDisk: bad Version -> ERROR_INVALID_PARAMETER");
        CHECK_DW(open_disk(vhdx, 0, 0, &h), 0, "OpenVirtualDisk v2 -> ERROR_SUCCESS");
        CloseHandle(h);
    }

    /* ---------------- format / mount path / attach errors */
    CHECK_HR(HcsFormatWritableLayerVhd(NULL), E_INVALIDARG, "HcsFormatWritableLayerVhd(NULL) -> E_INVALIDARG");
    {
        HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
        CHECK_HR(HcsFormatWritableLayerVhd(ev), E_HANDLE, "HcsFormatWritableLayerVhd(not a disk handle) -> E_HANDLE");
        CHECK_DW(attach(ev, ATT_FLAGS), ERROR_INVALID_HANDLE, "AttachVirtualDisk(not a disk handle) -> ERROR_INVALID_HANDLE");
        CloseHandle(ev);
        HANDLE ro;
        open_disk(vhdx, 1, 0, &ro);
        CHECK_HR(HcsFormatWritableLayerVhd(ro), HRW(ERROR_ACCESS_DENIED), "HcsFormatWritableLayerVhd(read-only handle) -> E_ACCESSDENIED");
        CHECK_DW(attach(ro, ATT_FLAGS), ERROR_ACCESS_DENIED, "AttachVirtualDisk(read-only handle, no READ_ONLY flag) -> ERROR_ACCESS_DENIED");
        CloseHandle(ro);
        HANDLE closed; open_disk(vhdx, 0, 0, &closed); CloseHandle(closed);
        CHECK_HR(HcsFormatWritableLayerVhd(closed), E_HANDLE, "HcsFormatWritableLayerVhd(closed handle) -> E_HANDLE");
    }
    {
        HRESULT hr; WCHAR *mp = mount_path(hd, &hr);
        CHECK_HR(hr, HRW(ERROR_NOT_READY), "HcsGetLayerVhdMountPath before attach -> HRESULT_FROM_WIN32(ERROR_NOT_READY)");
        CHECK(mp == NULL, "no string on failure");
        CHECK_HR(HcsGetLayerVhdMountPath(hd, NULL), E_POINTER, "HcsGetLayerVhdMountPath(h, NULL) -> E_POINTER");
        WCHAR b[64]; ULONG sz = sizeof b;
        CHECK_DW(GetVirtualDiskPhysicalPath(hd, &sz, b), ERROR_NOT_READY, "GetVirtualDiskPhysicalPath before attach -> ERROR_NOT_READY");
        CHECK_DW(DetachVirtualDisk(hd, 0, 0), ERROR_NOT_READY, "DetachVirtualDisk when not attached -> ERROR_NOT_READY");
    }

    /* ---------------- unformatted attached disk */
    {
        HANDLE h2; WCHAR *raw = wf(L"%ls\\raw.vhdx", dir); WCHAR rawP[MAX_PATH]; wcscpy(rawP, raw);
        create_disk(rawP, 1 << 30, NULL, &h2);
        CHECK_DW(attach(h2, ATT_FLAGS), 0, "AttachVirtualDisk (unformatted disk) -> ERROR_SUCCESS");
        HRESULT hr; WCHAR *mp = mount_path(h2, &hr);
        CHECK_HR(hr, HRW(ERROR_UNRECOGNIZED_VOLUME), "HcsGetLayerVhdMountPath on an unformatted disk -> HRESULT_FROM_WIN32(ERROR_UNRECOGNIZED_VOLUME)");
        if (mp) LocalFree(mp);
        CHECK_DW(DetachVirtualDisk(h2, 0, 0), 0, "DetachVirtualDisk -> ERROR_SUCCESS");
        CloseHandle(h2);
    }

    /* ---------------- the scratch-layer flow */
    CHECK_HR(HcsFormatWritableLayerVhd(hd), S_OK, "HcsFormatWritableLayerVhd -> S_OK");
    { jv *m = disk_info(vhdx); CHECK(jgetb(m, "Formatted", 0), "metadata Formatted=true"); json_free(m); }
    CHECK_DW(attach(hd, ATT_FLAGS), 0, "AttachVirtualDisk v2 NO_DRIVE_LETTER|PERMANENT_LIFETIME -> ERROR_SUCCESS");
    CHECK_DW(attach(hd, ATT_FLAGS), ERROR_SHARING_VIOLATION, "AttachVirtualDisk twice -> ERROR_SHARING_VIOLATION");
    char *drive = NULL;
    {
        WCHAR b[64]; ULONG sz = 4;
        CHECK_DW(GetVirtualDiskPhysicalPath(hd, &sz, b), ERROR_INSUFFICIENT_BUFFER, "GetVirtualDiskPhysicalPath small buffer -> ERROR_INSUFFICIENT_BUFFER");
        CHECK(sz > 4 && sz <= sizeof b, "... and the needed size");
        drive = phys_path(hd);
        check(!strncmp(drive, "\\\\.\\PhysicalDrive", 17) && drive[17] >= '1' && drive[17] <= '9', "GetVirtualDiskPhysicalPath -> \\\\.\\PhysicalDriveN", "%s", drive);
    }
    WCHAR mount[1024] = L"";
    {
        HRESULT hr; WCHAR *mp = mount_path(hd, &hr);
        CHECK_HR(hr, S_OK, "HcsGetLayerVhdMountPath -> S_OK");
        if (mp) { wcsncpy(mount, mp, 1023); LocalFree(mp); }
        size_t n = wcslen(mount);
        WCHAR *idw = u2w(g_diskId);
        int hasId = wcsstr(mount, wf(L"\\volumes\\%ls\\", idw)) != NULL;
        free(idw);
        check(n > 0 && mount[n - 1] == L'\\' && is_dir(mount) && hasId,
              "mount path is the volume folder with a trailing backslash", "%ls", mount);
    }
    /* another process sees the attach */
    {
        WCHAR *dw = u2w(drive);
        DWORD code = run_child(wf(L"child-attach \"%ls\" %ls", vhdx, dw));
        free(dw);
        CHECK_DW(code, 0, "another process: attach -> ERROR_SHARING_VIOLATION, same PhysicalDrive, mount path works");
    }
    /* initialise the writable layer on the volume */
    CHECK_HR(HcsInitializeWritableLayer(wf(L"%ls\\missing", dir), layer_data1(baseP), NULL), HRW(ERROR_PATH_NOT_FOUND), "HcsInitializeWritableLayer: missing path -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsInitializeWritableLayer(mount, L"{not json", NULL), E_INVALID_JSON, "HcsInitializeWritableLayer: bad JSON -> HCS_E_INVALID_JSON");
    CHECK_HR(HcsInitializeWritableLayer(mount, L"{\"Layers\":[]}", NULL), E_INVALIDARG, "HcsInitializeWritableLayer: no parents -> E_INVALIDARG");
    CHECK_HR(HcsInitializeWritableLayer(mount, layer_data1(wf(L"%ls\\nolayer", dir)), NULL), HRW(ERROR_PATH_NOT_FOUND), "HcsInitializeWritableLayer: missing parent -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsInitializeWritableLayer(mount, layer_data1(noFiles), NULL), E_INVALID_LAYER, "HcsInitializeWritableLayer: parent without Files -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsInitializeWritableLayer(mount, wf(L"{\"Layers\":[{\"Id\":\"nope\",\"Path\":\"%ls\"}]}", jp(baseP)), NULL), E_INVALID_JSON, "HcsInitializeWritableLayer: bad layer Id -> HCS_E_INVALID_JSON");
    CHECK_HR(HcsInitializeWritableLayer(mount, layer_data1(baseP), NULL), S_OK, "HcsInitializeWritableLayer(volume, base) -> S_OK");
    CHECK(is_dir(wf(L"%lsFiles", mount)) && is_dir(wf(L"%lsHives", mount)) && exists(wf(L"%ls.hcssim-writable.json", mount)), "writable layer has Files, Hives and the marker");
    CHECK_HR(HcsInitializeWritableLayer(mount, layer_data1(baseP), NULL), HRW(ERROR_ALREADY_EXISTS), "HcsInitializeWritableLayer twice -> ERROR_ALREADY_EXISTS");
    /* storage filter */
    CHECK_HR(HcsAttachLayerStorageFilter(noFiles, layer_data1(baseP)), E_INVALID_LAYER, "HcsAttachLayerStorageFilter: not initialised -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsAttachLayerStorageFilter(wf(L"%ls\\missing", dir), layer_data1(baseP)), HRW(ERROR_PATH_NOT_FOUND), "HcsAttachLayerStorageFilter: missing -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsDetachLayerStorageFilter(mount), E_FLT_NOT_FOUND, "HcsDetachLayerStorageFilter when not attached -> ERROR_FLT_INSTANCE_NOT_FOUND");
    CHECK_HR(HcsAttachLayerStorageFilter(mount, layer_data1(baseP)), S_OK, "HcsAttachLayerStorageFilter -> S_OK");
    CHECK_HR(HcsAttachLayerStorageFilter(mount, layer_data1(baseP)), E_FLT_COLLISION, "HcsAttachLayerStorageFilter twice -> ERROR_FLT_INSTANCE_NAME_COLLISION");
    {
        jv *a = control_json("{\"Op\":\"Audit\"}");
        CHECK(jlen(jget(a, "AttachedFilters")) == 1 && jlen(jget(a, "AttachedDisks")) >= 1, "Audit lists the attached filter and disk");
        json_free(a);
    }
    CHECK_HR(HcsFormatWritableLayerVhd(hd), HRW(ERROR_SHARING_VIOLATION), "HcsFormatWritableLayerVhd with a filter on its volume -> ERROR_SHARING_VIOLATION");
    CHECK_HR(HcsDestroyLayer(mount), HRW(ERROR_SHARING_VIOLATION), "HcsDestroyLayer with the filter attached -> ERROR_SHARING_VIOLATION");
    mkfile(wf(L"%lsFiles\\written.txt", mount), "data on the volume");
    CHECK_HR(HcsDetachLayerStorageFilter(mount), S_OK, "HcsDetachLayerStorageFilter -> S_OK");
    CHECK_HR(HcsDetachLayerStorageFilter(noFiles), E_INVALID_LAYER, "HcsDetachLayerStorageFilter: not initialised -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsDestroyLayer(scratchDir), HRW(ERROR_SHARING_VIOLATION), "HcsDestroyLayer of a folder holding an attached disk -> ERROR_SHARING_VIOLATION");
    CHECK_DW(DetachVirtualDisk(hd, 1, 0), ERROR_INVALID_PARAMETER, "DetachVirtualDisk with flags -> ERROR_INVALID_PARAMETER");
    CHECK_DW(DetachVirtualDisk(hd, 0, 0), 0, "DetachVirtualDisk -> ERROR_SUCCESS");
    CHECK(!is_dir(mount), "the volume folder is gone after detach");
    CHECK_DW(DetachVirtualDisk(hd, 0, 0), ERROR_NOT_READY, "DetachVirtualDisk twice -> ERROR_NOT_READY");
    CHECK_DW(attach(hd, ATT_FLAGS), 0, "re-attach");
    CHECK(exists(wf(L"%lsFiles\\written.txt", mount)), "data written to the volume survives detach/attach");
    CHECK_DW(DetachVirtualDisk(hd, 0, 0), 0, "detach again");
    CHECK(CloseHandle(hd), "CloseHandle on the disk handle (a real kernel handle)");
    CHECK_HR(HcsDestroyLayer(scratchDir), S_OK, "HcsDestroyLayer(scratch folder) -> S_OK");
    CHECK(!exists(scratchDir), "scratch folder deleted");
    CHECK_HR(HcsDestroyLayer(scratchDir), HRW(ERROR_PATH_NOT_FOUND), "HcsDestroyLayer twice -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsDestroyLayer(NULL), E_INVALIDARG, "HcsDestroyLayer(NULL) -> E_INVALIDARG");

    /* ---------------- differencing disk */
    {
        HANDLE hb, hc; WCHAR pb[MAX_PATH], pc[MAX_PATH];
        wcscpy(pb, wf(L"%ls\\blank-base.vhdx", dir)); wcscpy(pc, wf(L"%ls\\blank.vhdx", dir));
        create_disk(pb, 1 << 30, NULL, &hb);
        HcsFormatWritableLayerVhd(hb);
        CloseHandle(hb);
        CHECK_DW(create_disk(pc, 0, pb, &hc), 0, "CreateVirtualDisk differencing (ParentPath at offset 48) -> ERROR_SUCCESS");
        jv *m = disk_info(pc); long long sz = 0;
        CHECK(jgets(m, "ParentPath") && strstr(jgets(m, "ParentPath"), "blank-base.vhdx") && jgeti(m, "MaximumSize", &sz) && sz == (1 << 30) && jgetb(m, "Formatted", 0),
              "child records its parent, inherits size and the formatted state");
        json_free(m);
        CloseHandle(hc);
    }

    /* ---------------- import / export */
    WCHAR imp[MAX_PATH], imp2[MAX_PATH], exp[MAX_PATH];
    wcscpy(imp, wf(L"%ls\\layers\\base-imported", dir));
    wcscpy(imp2, wf(L"%ls\\layers\\app", dir));
    wcscpy(exp, wf(L"%ls\\export", dir));
    CHECK_HR(HcsImportLayer(imp, wf(L"%ls\\nosrc", dir), L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: missing source -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsImportLayer(imp, noFiles, L"{\"Layers\":[]}"), E_INVALID_LAYER, "HcsImportLayer: source without Files -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsImportLayer(imp, baseT, layer_data1(wf(L"%ls\\nolayer", dir))), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: missing parent -> ERROR_PATH_NOT_FOUND");
    /* the transport format is enforced (transport.c): plain files, missing hives or tombstones.txt are refused */
    CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\plain", dir), baseP, L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: plain folder (no Files.$wcidirs$) -> ERROR_PATH_NOT_FOUND");
    {
        WCHAR t[MAX_PATH]; wcscpy(t, wf(L"%ls\\plainfile", dir));
        mktransport(t, 1, 1); mkfile(wf(L"%ls\\Files\\plain.txt", t), "just text");
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\pf", dir), t, L"{\"Layers\":[]}"), HRW(ERROR_INVALID_DATA), "HcsImportLayer: a plain file in Files -> ERROR_INVALID_DATA");
        wcscpy(t, wf(L"%ls\\plaindir", dir));
        mktransport(t, 1, 1); mkdirs(wf(L"%ls\\Files\\nowcidirs", t));
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\pd", dir), t, L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: a folder without .$wcidirs$ -> ERROR_PATH_NOT_FOUND");
        wcscpy(t, wf(L"%ls\\nohives", dir));
        mktransport(t, 0, 1);
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\nh", dir), t, L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: no Hives (base layer) -> ERROR_PATH_NOT_FOUND");
        wcscpy(t, wf(L"%ls\\onehive", dir));
        mktransport(t, 1, 1); DeleteFileW(wf(L"%ls\\Hives\\Sam_Delta", t));
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\oh", dir), t, L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: a hive delta missing -> ERROR_PATH_NOT_FOUND");
        wcscpy(t, wf(L"%ls\\notomb", dir));
        mktransport(t, 1, 0);
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\nt", dir), t, L"{\"Layers\":[]}"), HRW(ERROR_PATH_NOT_FOUND), "HcsImportLayer: no tombstones.txt -> ERROR_PATH_NOT_FOUND");
    }
    CHECK_HR(HcsImportLayer(imp, baseT, L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Layers\":[]}"), S_OK, "HcsImportLayer(base, no parents) -> S_OK");
    {
        char *t = readfile(wf(L"%ls\\Files\\hello.txt", imp));
        char *m = readfile(wf(L"%ls\\.hcssim-transport.json", imp));
        CHECK(t && !strcmp(t, "hello from base") && is_dir(wf(L"%ls\\Hives", imp)) && exists(wf(L"%ls\\Hives\\System_Delta", imp)) && exists(wf(L"%ls\\.hcssim-layer.json", imp)) && !exists(wf(L"%ls\\Files.$wcidirs$", imp)), "imported layer: blobs decoded to plain files, Hives, marker");
        CHECK(m && strstr(m, "\"Files\\\\hello.txt\":{\"Attributes\":34"), "imported layer: the attribute word is kept in .hcssim-transport.json");
        free(t); free(m);
    }
    CHECK_HR(HcsImportLayer(imp, baseT, L"{\"Layers\":[]}"), HRW(ERROR_ALREADY_EXISTS), "HcsImportLayer into a non-empty folder -> ERROR_ALREADY_EXISTS");
    {
        WCHAR src[MAX_PATH]; wcscpy(src, wf(L"%ls\\appsrc", dir));
        mktransport(src, 1, 1);
        mktdir(wf(L"%ls\\Files\\app", src));
        mkblob(wf(L"%ls\\Files\\app\\app.exe", src), FILE_ATTRIBUTE_READONLY, "MZ");
        SetFileAttributesW(wf(L"%ls\\Files\\app\\app.exe", src), FILE_ATTRIBUTE_READONLY);
        CHECK_HR(HcsImportLayer(imp2, src, layer_data1(imp)), S_OK, "HcsImportLayer(app layer with parent) -> S_OK");
        char *mk = readfile(wf(L"%ls\\.hcssim-layer.json", imp2));
        CHECK(mk && strstr(mk, "base-imported"), "marker records the parent");
        free(mk);
    }
    CHECK_HR(HcsExportLayer(wf(L"%ls\\nolayer", dir), exp, L"{\"Layers\":[]}", NULL), HRW(ERROR_PATH_NOT_FOUND), "HcsExportLayer: missing layer -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsExportLayer(imp2, exp, layer_data1(imp), L"{\"IsWritableLayer\":3}"), E_INVALID_JSON, "HcsExportLayer: bad options -> HCS_E_INVALID_JSON");
    CHECK_HR(HcsExportLayer(imp2, exp, layer_data1(imp), L"{\"IsWritableLayer\":true}"), E_INVALID_LAYER, "HcsExportLayer IsWritableLayer on a read-only layer -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsExportLayer(noFiles, exp, L"{\"Layers\":[]}", NULL), E_INVALID_LAYER, "HcsExportLayer: layer without Files -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsExportLayer(imp2, exp, layer_data1(imp), L"{\"IsWritableLayer\":false}"), S_OK, "HcsExportLayer -> S_OK");
    CHECK(exists(wf(L"%ls\\Files\\app\\app.exe", exp)) && is_dir(wf(L"%ls\\Hives", exp)) && !exists(wf(L"%ls\\.hcssim-layer.json", exp)), "export has Files and Hives, no simulator marker");
    {
        char *b = readfile(wf(L"%ls\\Files\\app\\app.exe", exp));
        CHECK(b && b[0] == FILE_ATTRIBUTE_READONLY && b[4] == 1 && !memcmp(b + 24, "MZ", 2), "export writes the transport format: attribute word, then a data stream");
        free(b);
        CHECK(exists(wf(L"%ls\\Files.$wcidirs$", exp)) && exists(wf(L"%ls\\Files\\app.$wcidirs$", exp)) && exists(wf(L"%ls\\Hives.$wcidirs$", exp)) && exists(wf(L"%ls\\Hives\\Sam_Delta", exp)) && exists(wf(L"%ls\\tombstones.txt", exp)), "export has $wcidirs$ entries, the five hive deltas, tombstones.txt");
        CHECK_HR(HcsImportLayer(wf(L"%ls\\layers\\again", dir), exp, layer_data1(imp)), S_OK, "an export imports again (round trip)");
    }
    CHECK_HR(HcsExportLayer(imp2, exp, layer_data1(imp), NULL), HRW(ERROR_ALREADY_EXISTS), "HcsExportLayer into a non-empty folder -> ERROR_ALREADY_EXISTS");
    CHECK_HR(HcsDestroyLayer(imp2), S_OK, "HcsDestroyLayer with a read-only file inside -> S_OK");
    CHECK(!exists(imp2), "layer deleted");

    /* ---------------- base OS layer / volume, legacy */
    CHECK_HR(HcsSetupBaseOSLayer(imp, NULL, NULL), E_INVALIDARG, "HcsSetupBaseOSLayer: no options -> E_INVALIDARG");
    CHECK_HR(HcsSetupBaseOSLayer(imp, NULL, L"{\"Type\":\"Nope\"}"), E_INVALID_JSON, "HcsSetupBaseOSLayer: bad Type -> HCS_E_INVALID_JSON");
    CHECK_HR(HcsSetupBaseOSLayer(noFiles, NULL, L"{\"Type\":\"Container\"}"), E_INVALID_LAYER, "HcsSetupBaseOSLayer: no Files -> HCS_E_INVALID_LAYER");
    CHECK_HR(HcsSetupBaseOSLayer(wf(L"%ls\\nolayer", dir), NULL, L"{\"Type\":\"Container\"}"), HRW(ERROR_PATH_NOT_FOUND), "HcsSetupBaseOSLayer: missing -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsSetupBaseOSLayer(imp, NULL, L"{\"Type\":\"Container\"}"), HRW(ERROR_ALREADY_EXISTS), "HcsSetupBaseOSLayer with Hives\\ present -> ERROR_ALREADY_EXISTS");
    rmtree(wf(L"%ls\\Hives", imp)); /* what hcsshim's SetupContainerBaseLayer does first */
    CHECK_HR(HcsSetupBaseOSLayer(imp, NULL, L"{\"Type\":\"Container\"}"), S_OK, "HcsSetupBaseOSLayer Container -> S_OK");
    CHECK_HR(HcsSetupBaseOSLayer(imp, NULL, L"{\"Type\":\"Container\"}"), HRW(ERROR_ALREADY_EXISTS), "HcsSetupBaseOSLayer twice -> ERROR_ALREADY_EXISTS (it made Hives\\)");
    CHECK(exists(wf(L"%ls\\.hcssim-baseos.json", imp)), "base OS marker written");
    {
        WCHAR uvm[MAX_PATH], tv[MAX_PATH]; HANDLE ht;
        wcscpy(uvm, wf(L"%ls\\UtilityVM", imp)); mkdirs(wf(L"%ls\\Files\\EFI", uvm));
        wcscpy(tv, wf(L"%ls\\SystemTemplateBase.vhdx", uvm));
        create_disk(tv, 10ull << 30, NULL, &ht);
        HcsFormatWritableLayerVhd(ht);
        CHECK_HR(HcsSetupBaseOSLayer(uvm, ht, L"{\"Type\":\"Vm\"}"), HRW(ERROR_NOT_READY), "HcsSetupBaseOSLayer Vm with a detached disk -> ERROR_NOT_READY");
        CHECK_HR(HcsSetupBaseOSLayer(uvm, (HANDLE)(ULONG_PTR)0x1234, L"{\"Type\":\"Vm\"}"), E_HANDLE, "HcsSetupBaseOSLayer Vm with a bad handle -> E_HANDLE");
        attach(ht, ATT_FLAGS);
        CHECK_HR(HcsSetupBaseOSLayer(wf(L"%ls\\Files", uvm), ht, L"{\"Type\":\"Vm\"}"), HRW(ERROR_GEN_FAILURE), "HcsSetupBaseOSLayer Vm on UtilityVM\\Files -> ERROR_GEN_FAILURE (measured by hcsctl)");
        CHECK_HR(HcsSetupBaseOSLayer(uvm, ht, L"{\"Type\":\"Vm\"}"), S_OK, "HcsSetupBaseOSLayer Vm with an attached formatted disk -> S_OK");
        DetachVirtualDisk(ht, 0, 0);
        CloseHandle(ht);
    }
    CHECK_HR(HcsSetupBaseOSVolume(imp, wf(L"%ls\\novol", dir), L"{\"Type\":\"Container\"}"), HRW(ERROR_PATH_NOT_FOUND), "HcsSetupBaseOSVolume: missing volume -> ERROR_PATH_NOT_FOUND");
    CHECK_HR(HcsSetupBaseOSVolume(imp, dir, L"{\"Type\":\"Container\"}"), S_OK, "HcsSetupBaseOSVolume -> S_OK");
    CHECK_HR(HcsSetupBaseOSVolume(imp, dir, L"[]"), E_INVALID_JSON, "HcsSetupBaseOSVolume: options not an object -> HCS_E_INVALID_JSON");
    CHECK_HR(HcsInitializeLegacyWritableLayer(dir, dir, L"{}", NULL), E_NOTIMPL, "HcsInitializeLegacyWritableLayer -> E_NOTIMPL");
    CHECK_HR(HcsExportLegacyWritableLayer(dir, dir, dir, L"{}"), E_NOTIMPL, "HcsExportLegacyWritableLayer -> E_NOTIMPL");

    /* ---------------- faults */
    {
        jv *r = control_json("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsImportLayer\",\"Action\":\"Fail\",\"HResult\":-2147024891}}");
        long long id = 0;
        CHECK(jgeti(r, "FaultId", &id) && id > 0, "InjectFault -> FaultId");
        json_free(r);
        CHECK_HR(HcsImportLayer(imp2, baseT, L"{}"), (HRESULT)0x80070005, "injected Fail on HcsImportLayer -> the HResult, work not done");
        CHECK(!exists(imp2), "... nothing imported");
        CHECK_HR(HcsImportLayer(imp2, baseT, L"{}"), S_OK, "Count 1: the next call works");
        HcsDestroyLayer(imp2);
        free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsDestroyLayer\",\"Nth\":2,\"HResult\":2147942432}}"));
        CHECK_HR(HcsDestroyLayer(wf(L"%ls\\nolayer", dir)), HRW(ERROR_PATH_NOT_FOUND), "Nth 2: first call normal");
        CHECK_HR(HcsDestroyLayer(wf(L"%ls\\nolayer", dir)), HRW(ERROR_SHARING_VIOLATION), "Nth 2: second call fails (unsigned HResult accepted)");
        free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"CreateVirtualDisk\",\"HResult\":-2147024891}}"));
        HANDLE h;
        CHECK_DW(create_disk(wf(L"%ls\\f.vhdx", dir), 1 << 30, NULL, &h), ERROR_ACCESS_DENIED, "virtdisk fault: 0x80070005 -> Win32 5");
        CHECK(!exists(wf(L"%ls\\f.vhdx", dir)), "... no file created");
        free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"AttachVirtualDisk\",\"HResult\":-2147467259}}"));
        create_disk(wf(L"%ls\\f.vhdx", dir), 1 << 30, NULL, &h);
        CHECK_DW(attach(h, ATT_FLAGS), 0x80004005u, "virtdisk fault: a non-Win32 HRESULT is returned unchanged");
        CloseHandle(h);
        free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"*\",\"Count\":0,\"HResult\":-2147467259}}"));
        CHECK_HR(HcsDetachLayerStorageFilter(dir), E_FAIL, "'*' with Count 0 hits any function");
        CHECK_HR(HcsDetachLayerStorageFilter(dir), E_FAIL, "... every time");
        free(control("{\"Op\":\"ClearFaults\"}"));
        CHECK_HR(HcsDetachLayerStorageFilter(dir), E_INVALID_LAYER, "ClearFaults removes them");
        free(control("{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsDetachLayerStorageFilter\",\"Action\":\"Delay\",\"DelayMs\":300}}"));
        ULONGLONG t0 = GetTickCount64();
        HRESULT hr = HcsDetachLayerStorageFilter(dir);
        ULONGLONG dt = GetTickCount64() - t0;
        check(hr == E_INVALID_LAYER && dt >= 280, "Delay action delays then runs normally", "hr 0x%08lx after %llu ms", (unsigned long)hr, dt);
        PWSTR resp = NULL;
        CHECK_HR(HcsSimStorageControl(L"{\"Op\":\"InjectFault\",\"Fault\":{\"Function\":\"HcsNope\"}}", &resp), E_INVALIDARG, "InjectFault with an unknown function -> E_INVALIDARG");
        if (resp) LocalFree(resp);
        CHECK_HR(HcsSimStorageControl(L"{\"Op\":\"Nope\"}", &resp), E_INVALIDARG, "unknown Op -> E_INVALIDARG");
        if (resp) LocalFree(resp);
    }

    /* ---------------- audit */
    free(control("{\"Op\":\"Reset\"}"));
    free(control("{\"Op\":\"ResetAudit\"}"));
    WCHAR av[MAX_PATH]; wcscpy(av, wf(L"%ls\\audit.vhdx", dir));
    {
        HANDLE h; HRESULT hr;
        create_disk(av, 1 << 30, NULL, &h);
        HcsFormatWritableLayerVhd(h);
        attach(h, ATT_FLAGS);
        WCHAR *mp = mount_path(h, &hr);
        if (mp) LocalFree(mp);
        DetachVirtualDisk(h, 0, 0);
        CloseHandle(h);
        jv *a = control_json("{\"Op\":\"Audit\"}");
        check(jpath_int(a, "VirtualDiskHandles", "Opened") == 1 && jpath_int(a, "VirtualDiskHandles", "Live") == 0 &&
              jpath_int(a, "Strings", "Allocated") == 1 && jpath_int(a, "Strings", "Live") == 0 &&
              jlen(jget(a, "AttachedDisks")) == 0 && jlen(jget(a, "AttachedFilters")) == 0 && jlen(jget(a, "Violations")) == 0,
              "Audit after correct use: no leaks", "%s", json_dump(a));
        json_free(a);
    }
    {
        HANDLE h; HRESULT hr;
        open_disk(av, 0, 0, &h);
        attach(h, ATT_FLAGS);
        WCHAR *mp = mount_path(h, &hr);
        jv *a = control_json("{\"Op\":\"Audit\"}");
        check(jpath_int(a, "VirtualDiskHandles", "Live") == 1 && jpath_int(a, "Strings", "Live") == 1 && jlen(jget(a, "AttachedDisks")) == 1 && jlen(jget(a, "LiveStringSamples")) == 1,
              "Audit with a deliberate leak: Live handle 1, Live string 1, 1 attached disk", "%s", json_dump(a));
        json_free(a);
        LocalFree(mp);
        CloseHandle(h);
        /* the handle value may be reused by another object: it must still count as closed */
        HANDLE other = CreateFileW(wf(L"%ls\\notadisk.vhdx", dir), GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        a = control_json("{\"Op\":\"Audit\"}");
        check(jpath_int(a, "VirtualDiskHandles", "Live") == 0 && jpath_int(a, "Strings", "Live") == 0 && jlen(jget(a, "AttachedDisks")) == 1,
              "after LocalFree + CloseHandle: Live 0/0 (the disk stays attached: PERMANENT_LIFETIME)", "%s", json_dump(a));
        json_free(a);
        CloseHandle(other);
        jv *r = control_json("{\"Op\":\"Reset\"}");
        CHECK(jlen(jget(r, "DisksDetached")) == 1, "Reset detaches the disks this process attached");
        json_free(r);
        jv *m = disk_info(av);
        CHECK(!jgetb(m, "Attached", 1), "... on disk too");
        json_free(m);
    }
    {
        HANDLE h;
        free(control("{\"Op\":\"ResetAudit\"}"));
        open_disk(av, 0, 0, &h);
        attach(h, ATTACH_VIRTUAL_DISK_FLAG_NO_DRIVE_LETTER); /* not permanent */
        CloseHandle(h);
        jv *a = control_json("{\"Op\":\"Audit\"}");
        jv *v = jget(a, "Violations");
        check(jlen(v) == 1 && v->child->s && strstr(v->child->s, "PERMANENT_LIFETIME"), "non-permanent attach whose handle is closed -> violation", "%s", json_dump(a));
        json_free(a);
        jv *r = control_json("{\"Op\":\"Reset\"}");
        CHECK(jlen(jget(r, "DisksDetached")) == 1, "Reset detaches it");
        json_free(r);
    }
    {
        /* detaching a disk whose volume still has a filter attached is recorded */
        HANDLE h; HRESULT hr;
        free(control("{\"Op\":\"ResetAudit\"}"));
        open_disk(av, 0, 0, &h);
        attach(h, ATT_FLAGS);
        WCHAR *mp = mount_path(h, &hr);
        HcsInitializeWritableLayer(mp, layer_data1(baseP), NULL);
        HcsAttachLayerStorageFilter(mp, layer_data2(imp, baseP));
        CHECK_DW(DetachVirtualDisk(h, 0, 0), 0, "DetachVirtualDisk with a filter still on the volume -> ERROR_SUCCESS");
        jv *a = control_json("{\"Op\":\"Audit\"}");
        check(jlen(jget(a, "Violations")) == 1 && jlen(jget(a, "AttachedFilters")) == 0, "... recorded as a violation, filter gone", "%s", json_dump(a));
        json_free(a);
        LocalFree(mp);
        CloseHandle(h);
    }
    free(control("{\"Op\":\"ResetAudit\"}"));
    {
        jv *a = control_json("{\"Op\":\"Audit\"}");
        check(jpath_int(a, "VirtualDiskHandles", "Opened") == 0 && jpath_int(a, "Strings", "Allocated") == 0 && jlen(jget(a, "Violations")) == 0,
              "ResetAudit zeroes the counters", "%s", json_dump(a));
        json_free(a);
    }

    /* cleanup */
    CHECK_HR(HcsDestroyLayer(dir), S_OK, "HcsDestroyLayer of the whole test folder (disk data folders too)");
    rmtree(dir);
    free(drive);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
