/* virtdisk.dll (simulated): virtual disks as small files (signature + JSON metadata); attach = a folder under
   the storage root. Shares its in-process state (faults, handle table, audit) with the simulated
   computestorage.dll, which it imports. See README.md, "Simulated storage". */
/* virtdisk.h (which windows.h always includes) declares every function dllimport; we define them here, so
   declare nothing dllimport in this file (imported functions still link through their thunks). */
#define DECLSPEC_IMPORT
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "common.h"
#include "storage_common.h"
#include <virtdisk.h>

#define EXPORT __declspec(dllexport)

/* from computestorage.dll (simulated) */
__declspec(dllimport) int WINAPI HcsSimStFault(const char *fn, HRESULT *hr);
__declspec(dllimport) void WINAPI HcsSimStRegisterHandle(HANDLE h, const WCHAR *path, DWORD flags);
__declspec(dllimport) int WINAPI HcsSimStLookupHandle(HANDLE h, WCHAR *path, DWORD cch, DWORD *flags);
__declspec(dllimport) void WINAPI HcsSimStNoteAttach(const WCHAR *path, HANDLE h, int attached, DWORD flags);
__declspec(dllimport) void WINAPI HcsSimStViolation(const char *msg);

EXPORT const char *WINAPI HcsSimVirtDiskInfo(void) { return "hcssim virtdisk 1"; }

/* an injected HRESULT becomes the Win32 code: 0x8007xxxx -> xxxx, anything else is returned unchanged */
#define VFAULT(name) do { HRESULT _fh; if (HcsSimStFault(name, &_fh)) { DWORD _u = (DWORD)_fh; \
    return (_u & 0xFFFF0000u) == 0x80070000u ? (_u & 0xFFFFu) : _u; } } while (0)

static ULONG rd32(const void *p, size_t off) { ULONG v; memcpy(&v, (const char *)p + off, 4); return v; }
static ULONGLONG rd64(const void *p, size_t off) { ULONGLONG v; memcpy(&v, (const char *)p + off, 8); return v; }
static const WCHAR *rdptr(const void *p, size_t off) { const WCHAR *v; memcpy(&v, (const char *)p + off, sizeof v); return v; }

static ULONG type_from_ext(const WCHAR *path) {
    size_t n = wcslen(path);
    if (n > 5 && !_wcsicmp(path + n - 5, L".vhdx")) return VIRTUAL_STORAGE_TYPE_DEVICE_VHDX;
    if (n > 4 && !_wcsicmp(path + n - 4, L".vhd")) return VIRTUAL_STORAGE_TYPE_DEVICE_VHD;
    if (n > 4 && !_wcsicmp(path + n - 4, L".iso")) return VIRTUAL_STORAGE_TYPE_DEVICE_ISO;
    return 0;
}
static int vendor_ok(const VIRTUAL_STORAGE_TYPE *t) {
    static const GUID ms = { 0xEC984AEC, 0xA0F9, 0x47e9, { 0x90, 0x1F, 0x71, 0x41, 0x5A, 0x66, 0x34, 0x5B } };
    static const GUID zero;
    return !memcmp(&t->VendorId, &zero, sizeof zero) || !memcmp(&t->VendorId, &ms, sizeof ms);
}
static void guid_str(const GUID *g, char out[40]) {
    snprintf(out, 40, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", (unsigned long)g->Data1, g->Data2, g->Data3,
             g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}
static int is_pow2(ULONG x) { return x && !(x & (x - 1)); }

#define FIXED_OVERHEAD (4ull << 20)

static HANDLE open_disk_file(const WCHAR *path, int write, DWORD disposition) {
    return CreateFileW(path, GENERIC_READ | (write ? GENERIC_WRITE : 0), FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
}

DWORD WINAPI CreateVirtualDisk(PVIRTUAL_STORAGE_TYPE VirtualStorageType, PCWSTR Path, VIRTUAL_DISK_ACCESS_MASK VirtualDiskAccessMask,
                               PSECURITY_DESCRIPTOR SecurityDescriptor, CREATE_VIRTUAL_DISK_FLAG Flags, ULONG ProviderSpecificFlags,
                               PCREATE_VIRTUAL_DISK_PARAMETERS Parameters, LPOVERLAPPED Overlapped, PHANDLE Handle) {
    (void)SecurityDescriptor;
    VFAULT("CreateVirtualDisk");
    if (!VirtualStorageType || !Path || !*Path || !Parameters || !Handle || ProviderSpecificFlags) return ERROR_INVALID_PARAMETER;
    *Handle = NULL;
    if (Overlapped) return ERROR_NOT_SUPPORTED;
    WCHAR full[STC_PATH];
    DWORD e = stc_full_path(Path, full);
    if (e) return e;
    ULONG ext = type_from_ext(full), dev = VirtualStorageType->DeviceId ? VirtualStorageType->DeviceId : ext;
    if (!vendor_ok(VirtualStorageType)) return ERROR_INVALID_PARAMETER;
    if (dev != VIRTUAL_STORAGE_TYPE_DEVICE_VHD && dev != VIRTUAL_STORAGE_TYPE_DEVICE_VHDX) return ERROR_INVALID_PARAMETER;
    /* read the parameters at the real SDK offsets (mingw's Version2 lacks PhysicalSectorSizeInBytes) */
    const void *p = Parameters;
    ULONG ver = rd32(p, 0);
    GUID uid; memcpy(&uid, (const char *)p + 8, sizeof uid);
    ULONGLONG maxSize = rd64(p, 24);
    ULONG block = rd32(p, 32), sector = rd32(p, 36), phys = 0, openFlags = 0;
    const WCHAR *parent, *source;
    if (ver == 1) { parent = rdptr(p, 40); source = rdptr(p, 48); }
    else if (ver == 2) {
        if (VirtualDiskAccessMask != VIRTUAL_DISK_ACCESS_NONE) return ERROR_INVALID_PARAMETER;
        phys = rd32(p, 40); parent = rdptr(p, 48); source = rdptr(p, 56); openFlags = rd32(p, 64);
    } else return ERROR_INVALID_PARAMETER;
    if (parent && !*parent) parent = NULL;
    if (source && !*source) source = NULL;
    if (sector == 0) sector = 512;
    if (sector != 512 && sector != 4096) return ERROR_INVALID_PARAMETER;
    if (phys && phys != 512 && phys != 4096) return ERROR_INVALID_PARAMETER;
    if (block == 0) block = dev == VIRTUAL_STORAGE_TYPE_DEVICE_VHDX ? 32u << 20 : 2u << 20;
    if (!is_pow2(block) || block < (1u << 20) || block > (256u << 20)) return ERROR_INVALID_PARAMETER;
    if (maxSize % sector) return ERROR_INVALID_PARAMETER;

    WCHAR parentFull[STC_PATH] = L"", sourceFull[STC_PATH] = L"";
    jv *pm = NULL, *sm = NULL;
    if (parent) {
        if ((e = stc_full_path(parent, parentFull))) return e;
        if ((e = stc_disk_read(parentFull, &pm))) return e; /* ERROR_FILE_NOT_FOUND / PATH_NOT_FOUND / NOT_VIRTUAL_DISK */
        long long ps = 0;
        if (!maxSize && jgeti(pm, "MaximumSize", &ps)) maxSize = (ULONGLONG)ps;
    }
    if (source) {
        if ((e = stc_full_path(source, sourceFull)) || (e = stc_disk_read(sourceFull, &sm))) { json_free(pm); return e; }
        long long ss = 0;
        if (!maxSize && jgeti(sm, "MaximumSize", &ss)) maxSize = (ULONGLONG)ss;
    }
    if (!maxSize) { json_free(pm); json_free(sm); return ERROR_INVALID_PARAMETER; }
    /* A fixed disk (FULL_PHYSICAL_ALLOCATION) has no parent: the flag is "valid only for non-differencing
       disks" (learn.microsoft.com, CREATE_VIRTUAL_DISK_FLAG). GUESS: the error code. */
    int fixed = (Flags & CREATE_VIRTUAL_DISK_FLAG_FULL_PHYSICAL_ALLOCATION) != 0;
    if (fixed && parent) { json_free(pm); json_free(sm); return ERROR_INVALID_PARAMETER; }

    stc_lock();
    HANDLE h = INVALID_HANDLE_VALUE;
    if (stc_exists(full)) e = ERROR_FILE_EXISTS;
    else {
        h = open_disk_file(full, 1, CREATE_NEW);
        if (h == INVALID_HANDLE_VALUE) e = GetLastError();
    }
    if (!e) {
        static const GUID zero;
        char id[40];
        char uidStr[40];
        stc_new_disk_id(id); /* always random: two files with the same UniqueId must not share a volume */
        if (memcmp(&uid, &zero, sizeof zero)) guid_str(&uid, uidStr); else snprintf(uidStr, sizeof uidStr, "%s", id);
        jv *m = jnew(J_OBJ);
        char *u;
        jset(m, "Format", jnew_str("hcssim-virtual-disk"));
        jset(m, "Type", jnew_str(dev == VIRTUAL_STORAGE_TYPE_DEVICE_VHD ? "VHD" : "VHDX"));
        jset(m, "DiskId", jnew_str(id));
        jset(m, "UniqueId", jnew_str(uidStr));
        u = w2u(full); jset(m, "Path", jnew_str(u)); free(u);
        jset(m, "MaximumSize", jnew_int((long long)maxSize));
        jset(m, "BlockSizeInBytes", jnew_int(block));
        jset(m, "SectorSizeInBytes", jnew_int(sector));
        jset(m, "PhysicalSectorSizeInBytes", jnew_int(phys ? phys : sector));
        u = parent ? w2u(parentFull) : NULL; jset(m, "ParentPath", u ? jnew_str(u) : jnew(J_NULL)); free(u);
        u = source ? w2u(sourceFull) : NULL; jset(m, "SourcePath", u ? jnew_str(u) : jnew(J_NULL)); free(u);
        jset(m, "CreateFlags", jnew_int(Flags));
        jset(m, "OpenFlags", jnew_int(openFlags));
        /* ProviderSubtype of GET_VIRTUAL_DISK_INFO (2 fixed, 3 dynamic, 4 differencing: learn.microsoft.com,
           GET_VIRTUAL_DISK_INFO). A fixed disk's file is allocated at its full size (sparse under Wine on
           Linux): the disk plus FIXED_OVERHEAD for the VHDX header, log and metadata regions (GUESS: the
           exact overhead; the VHDX format puts 1 MiB regions before the payload). */
        jset(m, "Subtype", jnew_str(parent ? "Differencing" : fixed ? "Fixed" : "Dynamic"));
        if (fixed) jset(m, "FileSize", jnew_int((long long)(maxSize + FIXED_OVERHEAD)));
        jv *from = pm ? pm : sm;
        jset(m, "Formatted", jbool(from ? jgetb(from, "Formatted", 0) : 0));
        jset(m, "Attached", jbool(0));
        jset(m, "AttachedByPid", jnew_int(0));
        jset(m, "AttachFlags", jnew_int(0));
        jset(m, "PhysicalDrive", jnew_int(0));
        /* a child or copy starts with the content of its parent/source */
        const char *fid = from ? jgets(from, "DiskId") : NULL;
        if (fid) {
            WCHAR src[STC_PATH], dst[STC_PATH];
            stc_disk_data_dir(fid, jgetb(from, "Attached", 0), src);
            stc_disk_data_dir(id, 0, dst);
            if (stc_is_dir(dst)) stc_rmtree(dst);
            if (stc_is_dir(src)) stc_copytree(src, dst, 0);
        }
        e = stc_disk_write(full, m, h);
        json_free(m);
        if (e) { CloseHandle(h); DeleteFileW(full); h = INVALID_HANDLE_VALUE; }
    }
    stc_unlock();
    json_free(pm); json_free(sm);
    if (e) return e;
    HcsSimStRegisterHandle(h, full, 0);
    *Handle = h;
    return ERROR_SUCCESS;
}

/* 0, or ERROR_VHD_PARENT_VHD_NOT_FOUND when an ancestor of the disk described by `m` is missing or is not
   a disk. Bounded: a chain longer than 64 (or a loop) counts as broken. */
static DWORD chain_missing(const jv *m) {
    const char *parent = jgets(m, "ParentPath");
    jv *cur = NULL;
    DWORD e = 0;
    for (int depth = 0; parent && !e; depth++) {
        WCHAR *pw = u2w(parent);
        jv *next = NULL;
        if (depth >= 64 || stc_disk_read(pw, &next)) e = HCSSIM_ERROR_VHD_PARENT_VHD_NOT_FOUND;
        free(pw);
        json_free(cur);
        cur = next;
        parent = cur ? jgets(cur, "ParentPath") : NULL;
    }
    json_free(cur);
    return e;
}

DWORD WINAPI OpenVirtualDisk(PVIRTUAL_STORAGE_TYPE VirtualStorageType, PCWSTR Path, VIRTUAL_DISK_ACCESS_MASK VirtualDiskAccessMask,
                             OPEN_VIRTUAL_DISK_FLAG Flags, POPEN_VIRTUAL_DISK_PARAMETERS Parameters, PHANDLE Handle) {
    VFAULT("OpenVirtualDisk");
    if (!VirtualStorageType || !Path || !*Path || !Handle) return ERROR_INVALID_PARAMETER;
    *Handle = NULL;
    if (!vendor_ok(VirtualStorageType)) return ERROR_INVALID_PARAMETER;
    ULONG ver = Parameters ? rd32(Parameters, 0) : 1;
    DWORD hflags = 0;
    if (ver == 2 || ver == 3) {
        if (VirtualDiskAccessMask != VIRTUAL_DISK_ACCESS_NONE) return ERROR_INVALID_PARAMETER;
        if (rd32(Parameters, 4)) hflags |= VDH_INFOONLY;  /* GetInfoOnly @4 */
        if (rd32(Parameters, 8)) hflags |= VDH_READONLY;  /* ReadOnly @8 */
    } else if (ver == 1) {
        if (VirtualDiskAccessMask == VIRTUAL_DISK_ACCESS_GET_INFO) hflags |= VDH_INFOONLY;
        else if (!(VirtualDiskAccessMask & (VIRTUAL_DISK_ACCESS_ATTACH_RW | VIRTUAL_DISK_ACCESS_CREATE | VIRTUAL_DISK_ACCESS_METAOPS))) hflags |= VDH_READONLY;
    } else return ERROR_INVALID_PARAMETER;
    WCHAR full[STC_PATH];
    DWORD e = stc_full_path(Path, full);
    if (e) return e;
    ULONG ext = type_from_ext(full);
    if (VirtualStorageType->DeviceId && ext && VirtualStorageType->DeviceId != ext) return ERROR_INVALID_PARAMETER;
    jv *m;
    if ((e = stc_disk_read(full, &m))) return e;
    /* The whole chain must be there: a differencing disk whose parent (or any ancestor) is missing does
       not open (unless NO_PARENTS). Code: ERROR_VHD_PARENT_VHD_NOT_FOUND, "the process has not been able
       to locate the parent virtual hard disk for the differencing disk" (learn.microsoft.com, System
       Error Codes / winerror.h); that OpenVirtualDisk returns this one rather than ERROR_FILE_NOT_FOUND
       is a GUESS (docs/windows-verification.md). */
    if (!(Flags & OPEN_VIRTUAL_DISK_FLAG_NO_PARENTS)) e = chain_missing(m);
    json_free(m);
    if (e) return e;
    HANDLE h = open_disk_file(full, !(hflags & (VDH_READONLY | VDH_INFOONLY)), OPEN_EXISTING);
    if (h == INVALID_HANDLE_VALUE) return GetLastError();
    HcsSimStRegisterHandle(h, full, hflags);
    *Handle = h;
    return ERROR_SUCCESS;
}

DWORD WINAPI AttachVirtualDisk(HANDLE VirtualDiskHandle, PSECURITY_DESCRIPTOR SecurityDescriptor, ATTACH_VIRTUAL_DISK_FLAG Flags,
                               ULONG ProviderSpecificFlags, PATTACH_VIRTUAL_DISK_PARAMETERS Parameters, LPOVERLAPPED Overlapped) {
    (void)SecurityDescriptor;
    VFAULT("AttachVirtualDisk");
    WCHAR path[STC_PATH]; DWORD hflags = 0;
    if (!HcsSimStLookupHandle(VirtualDiskHandle, path, STC_PATH, &hflags)) return ERROR_INVALID_HANDLE;
    if (ProviderSpecificFlags) return ERROR_INVALID_PARAMETER;
    if (Parameters) { ULONG v = rd32(Parameters, 0); if (v != 1 && v != 2) return ERROR_INVALID_PARAMETER; }
    if (Overlapped) return ERROR_NOT_SUPPORTED;
    if (hflags & VDH_INFOONLY) return ERROR_ACCESS_DENIED;
    if ((hflags & VDH_READONLY) && !(Flags & ATTACH_VIRTUAL_DISK_FLAG_READ_ONLY)) return ERROR_ACCESS_DENIED;
    stc_lock();
    DWORD e = stc_disk_attach(path, (DWORD)Flags, NULL);
    stc_unlock();
    if (!e) HcsSimStNoteAttach(path, VirtualDiskHandle, 1, (DWORD)Flags);
    return e;
}

DWORD WINAPI DetachVirtualDisk(HANDLE VirtualDiskHandle, DETACH_VIRTUAL_DISK_FLAG Flags, ULONG ProviderSpecificFlags) {
    VFAULT("DetachVirtualDisk");
    WCHAR path[STC_PATH]; DWORD hflags = 0;
    if (!HcsSimStLookupHandle(VirtualDiskHandle, path, STC_PATH, &hflags)) return ERROR_INVALID_HANDLE;
    if (Flags || ProviderSpecificFlags) return ERROR_INVALID_PARAMETER;
    if (hflags & VDH_INFOONLY) return ERROR_ACCESS_DENIED;
    stc_lock();
    /* a storage filter still attached on the volume goes away with it (recorded as a violation) */
    jv *m; DWORD e = stc_disk_read(path, &m);
    if (!e && jgetb(m, "Attached", 0)) {
        WCHAR vol[STC_PATH], mk[STC_PATH];
        stc_disk_data_dir(jgets(m, "DiskId"), 1, vol);
        stc_join(mk, vol, STC_WRITABLE_MARKER);
        jv *w;
        if (!stc_read_json(mk, &w)) {
            if (jgetb(w, "FilterAttached", 0)) {
                char *u = w2u(vol), msg[240];
                snprintf(msg, sizeof msg, "DetachVirtualDisk: a layer storage filter was still attached on %s (detach it first)", u);
                free(u);
                HcsSimStViolation(msg);
                jset(w, "FilterAttached", jbool(0)); jset(w, "FilterPid", jnew_int(0));
                stc_write_json(mk, w);
            }
            json_free(w);
        }
    }
    json_free(m);
    if (!e) e = stc_disk_detach(path, NULL);
    stc_unlock();
    if (!e) HcsSimStNoteAttach(path, VirtualDiskHandle, 0, 0);
    return e;
}

DWORD WINAPI GetVirtualDiskPhysicalPath(HANDLE VirtualDiskHandle, PULONG DiskPathSizeInBytes, PWSTR DiskPath) {
    VFAULT("GetVirtualDiskPhysicalPath");
    WCHAR path[STC_PATH];
    if (!HcsSimStLookupHandle(VirtualDiskHandle, path, STC_PATH, NULL)) return ERROR_INVALID_HANDLE;
    if (!DiskPathSizeInBytes) return ERROR_INVALID_PARAMETER;
    jv *m; DWORD e = stc_disk_read(path, &m);
    if (e) return e;
    long long drive = 0;
    if (!jgetb(m, "Attached", 0) || !jgeti(m, "PhysicalDrive", &drive)) { json_free(m); return ERROR_NOT_READY; }
    json_free(m);
    WCHAR out[64];
    _snwprintf(out, 64, L"\\\\.\\PhysicalDrive%lld", drive); out[63] = 0;
    ULONG need = (ULONG)((wcslen(out) + 1) * sizeof(WCHAR));
    if (!DiskPath || *DiskPathSizeInBytes < need) { *DiskPathSizeInBytes = need; return ERROR_INSUFFICIENT_BUFFER; }
    memcpy(DiskPath, out, need);
    *DiskPathSizeInBytes = need;
    return ERROR_SUCCESS;
}

/* ---------------------------------------------------------------- GetVirtualDiskInformation */
/* GET_VIRTUAL_DISK_INFO at the SDK offsets: Version@0, the union@8 (it holds ULONGLONGs). Layouts from
   learn.microsoft.com (GET_VIRTUAL_DISK_INFO): Size {VirtualSize@8, PhysicalSize@16, BlockSize@24,
   SectorSize@28}; ParentLocation {ParentResolved@8, ParentLocationBuffer@12: one path when resolved, else
   the list of paths tried as a MULTI_SZ}; Identifier / ParentIdentifier / VirtualDiskId a GUID@8;
   VirtualStorageType {DeviceId@8, VendorId@12}; ProviderSubtype@8 (2 fixed, 3 dynamic, 4 differencing). */
#define INFO_FIXED_SIZE 32u /* sizeof(GET_VIRTUAL_DISK_INFO) in the SDK (8 + its largest fixed member) */

static void wr32(void *p, size_t off, ULONG v) { memcpy((char *)p + off, &v, 4); }
static void wr64(void *p, size_t off, ULONGLONG v) { memcpy((char *)p + off, &v, 8); }
static void put_guid(void *p, size_t off, const char *s) {
    GUID g; memset(&g, 0, sizeof g);
    unsigned long d1 = 0; unsigned d2 = 0, d3 = 0, b[8] = { 0 };
    if (s && sscanf(s[0] == '{' ? s + 1 : s, "%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]) == 11) {
        g.Data1 = d1; g.Data2 = (USHORT)d2; g.Data3 = (USHORT)d3;
        for (int i = 0; i < 8; i++) g.Data4[i] = (UCHAR)b[i];
    }
    memcpy((char *)p + off, &g, sizeof g);
}

DWORD WINAPI GetVirtualDiskInformation(HANDLE VirtualDiskHandle, PULONG VirtualDiskInfoSize, PGET_VIRTUAL_DISK_INFO VirtualDiskInfo, PULONG SizeUsed) {
    WCHAR path[STC_PATH];
    if (!HcsSimStLookupHandle(VirtualDiskHandle, path, STC_PATH, NULL)) return ERROR_INVALID_HANDLE;
    if (!VirtualDiskInfoSize || !VirtualDiskInfo) return ERROR_INVALID_PARAMETER;
    ULONG ver = rd32(VirtualDiskInfo, 0);
    if (ver < GET_VIRTUAL_DISK_INFO_SIZE || ver > 15) return ERROR_INVALID_PARAMETER;
    jv *m; DWORD e = stc_disk_read(path, &m);
    if (e) return e;
    const char *parent = jgets(m, "ParentPath"), *type = jgets(m, "Type"), *sub = jgets(m, "Subtype");
    /* disks made before the Subtype member: differencing if they have a parent, else dynamic */
    ULONG subtype = sub && !strcmp(sub, "Fixed") ? 2 : parent ? 4 : 3;
    WCHAR *pw = parent ? u2w(parent) : NULL;
    ULONG need = INFO_FIXED_SIZE;
    if (ver == GET_VIRTUAL_DISK_INFO_PARENT_LOCATION && pw) need = 12 + (ULONG)(wcslen(pw) + 2) * sizeof(WCHAR);
    if ((ver == GET_VIRTUAL_DISK_INFO_PARENT_LOCATION || ver == GET_VIRTUAL_DISK_INFO_PARENT_IDENTIFIER) && !pw) {
        e = HCSSIM_ERROR_VHD_INVALID_TYPE; /* not a differencing disk. GUESS: the code */
    } else if (*VirtualDiskInfoSize < need) {
        *VirtualDiskInfoSize = need;
        e = ERROR_INSUFFICIENT_BUFFER;
    } else {
        void *o = VirtualDiskInfo;
        long long v = 0;
        switch (ver) {
        case GET_VIRTUAL_DISK_INFO_SIZE: {
            LARGE_INTEGER fs = { 0 };
            WIN32_FILE_ATTRIBUTE_DATA fa;
            if (GetFileAttributesExW(path, GetFileExInfoStandard, &fa)) { fs.LowPart = fa.nFileSizeLow; fs.HighPart = (LONG)fa.nFileSizeHigh; }
            wr64(o, 8, jgeti(m, "MaximumSize", &v) ? (ULONGLONG)v : 0);
            wr64(o, 16, (ULONGLONG)fs.QuadPart);
            /* a fixed disk has no block allocation table to speak of: Get-VHD shows BlockSize 0 (GUESS) */
            wr32(o, 24, subtype == 2 ? 0 : jgeti(m, "BlockSizeInBytes", &v) ? (ULONG)v : 0);
            wr32(o, 28, jgeti(m, "SectorSizeInBytes", &v) ? (ULONG)v : 512);
            break;
        }
        case GET_VIRTUAL_DISK_INFO_IDENTIFIER: put_guid(o, 8, jgets(m, "UniqueId")); break;
        case GET_VIRTUAL_DISK_INFO_VIRTUAL_DISK_ID: put_guid(o, 8, jgets(m, "DiskId")); break;
        case GET_VIRTUAL_DISK_INFO_PARENT_LOCATION: {
            jv *pm = NULL;
            int resolved = !stc_disk_read(pw, &pm);
            wr32(o, 8, resolved);
            WCHAR *buf = (WCHAR *)((char *)o + 12);
            size_t n = wcslen(pw);
            memcpy(buf, pw, (n + 1) * sizeof(WCHAR));
            buf[n + 1] = 0; /* the MULTI_SZ end (harmless after a single resolved path) */
            json_free(pm);
            need = 12 + (ULONG)(n + (resolved ? 1 : 2)) * sizeof(WCHAR);
            break;
        }
        case GET_VIRTUAL_DISK_INFO_PARENT_IDENTIFIER: {
            jv *pm = NULL;
            if (stc_disk_read(pw, &pm)) e = HCSSIM_ERROR_VHD_PARENT_VHD_NOT_FOUND;
            else put_guid(o, 8, jgets(pm, "UniqueId"));
            json_free(pm);
            break;
        }
        case GET_VIRTUAL_DISK_INFO_VIRTUAL_STORAGE_TYPE: {
            static const GUID ms = { 0xEC984AEC, 0xA0F9, 0x47e9, { 0x90, 0x1F, 0x71, 0x41, 0x5A, 0x66, 0x34, 0x5B } };
            wr32(o, 8, type && !strcmp(type, "VHD") ? VIRTUAL_STORAGE_TYPE_DEVICE_VHD : VIRTUAL_STORAGE_TYPE_DEVICE_VHDX);
            memcpy((char *)o + 12, &ms, sizeof ms);
            break;
        }
        case GET_VIRTUAL_DISK_INFO_PROVIDER_SUBTYPE: wr32(o, 8, subtype); break;
        default: e = ERROR_CALL_NOT_IMPLEMENTED; /* the simulator's choice for the versions nobody needs yet */
        }
        if (!e && SizeUsed) *SizeUsed = need;
    }
    free(pw);
    json_free(m);
    return e;
}

/* ---------------------------------------------------------------- the rest of virtdisk.h: not implemented */
#define NI return ERROR_CALL_NOT_IMPLEMENTED
DWORD WINAPI CompactVirtualDisk(HANDLE a, COMPACT_VIRTUAL_DISK_FLAG b, PCOMPACT_VIRTUAL_DISK_PARAMETERS c, LPOVERLAPPED d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI ExpandVirtualDisk(HANDLE a, EXPAND_VIRTUAL_DISK_FLAG b, PEXPAND_VIRTUAL_DISK_PARAMETERS c, LPOVERLAPPED d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI GetStorageDependencyInformation(HANDLE a, GET_STORAGE_DEPENDENCY_FLAG b, ULONG c, PSTORAGE_DEPENDENCY_INFO d, PULONG e) { (void)a; (void)b; (void)c; (void)d; (void)e; NI; }
DWORD WINAPI GetVirtualDiskOperationProgress(HANDLE a, LPOVERLAPPED b, PVIRTUAL_DISK_PROGRESS c) { (void)a; (void)b; (void)c; NI; }
DWORD WINAPI MergeVirtualDisk(HANDLE a, MERGE_VIRTUAL_DISK_FLAG b, PMERGE_VIRTUAL_DISK_PARAMETERS c, LPOVERLAPPED d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI SetVirtualDiskInformation(HANDLE a, PSET_VIRTUAL_DISK_INFO b) { (void)a; (void)b; NI; }
DWORD WINAPI AddVirtualDiskParent(HANDLE a, PCWSTR b) { (void)a; (void)b; NI; }
DWORD WINAPI BreakMirrorVirtualDisk(HANDLE a) { (void)a; NI; }
DWORD WINAPI DeleteVirtualDiskMetadata(HANDLE a, LPGUID b) { (void)a; (void)b; NI; }
DWORD WINAPI EnumerateVirtualDiskMetadata(HANDLE a, PULONG b, GUID *c) { (void)a; (void)b; (void)c; NI; }
DWORD WINAPI GetVirtualDiskMetadata(HANDLE a, LPGUID b, PULONG c, PVOID d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI MirrorVirtualDisk(HANDLE a, MIRROR_VIRTUAL_DISK_FLAG b, PMIRROR_VIRTUAL_DISK_PARAMETERS c, LPOVERLAPPED d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI ResizeVirtualDisk(HANDLE a, RESIZE_VIRTUAL_DISK_FLAG b, PRESIZE_VIRTUAL_DISK_PARAMETERS c, LPOVERLAPPED d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI SetVirtualDiskMetadata(HANDLE a, LPGUID b, ULONG c, PVOID d) { (void)a; (void)b; (void)c; (void)d; NI; }
DWORD WINAPI ApplySnapshotVhdSet(HANDLE a, const PAPPLY_SNAPSHOT_VHDSET_PARAMETERS b, APPLY_SNAPSHOT_VHDSET_FLAG c) { (void)a; (void)b; (void)c; NI; }
DWORD WINAPI DeleteSnapshotVhdSet(HANDLE a, const PDELETE_SNAPSHOT_VHDSET_PARAMETERS b, DELETE_SNAPSHOT_VHDSET_FLAG c) { (void)a; (void)b; (void)c; NI; }
DWORD WINAPI ModifyVhdSet(HANDLE a, const PMODIFY_VHDSET_PARAMETERS b, MODIFY_VHDSET_FLAG c) { (void)a; (void)b; (void)c; NI; }
DWORD WINAPI QueryChangesVirtualDisk(HANDLE a, PCWSTR b, ULONG64 c, ULONG64 d, QUERY_CHANGES_VIRTUAL_DISK_FLAG e, PQUERY_CHANGES_VIRTUAL_DISK_RANGE f, PULONG g, PULONG64 h) { (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h; NI; }
DWORD WINAPI TakeSnapshotVhdSet(HANDLE a, const PTAKE_SNAPSHOT_VHDSET_PARAMETERS b, TAKE_SNAPSHOT_VHDSET_FLAG c) { (void)a; (void)b; (void)c; NI; }
