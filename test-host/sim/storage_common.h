/* Shared by the simulated computestorage.dll and virtdisk.dll: on-disk state helpers (stateless; every
   process-wide or cross-process piece of state lives in files under the storage root, guarded by one named
   mutex). See README.md, "Simulated storage". */
#ifndef HCSSIM_STORAGE_COMMON_H
#define HCSSIM_STORAGE_COMMON_H
#include <windows.h>
#include "json.h"

#define STC_PATH 1024
#define STC_DISK_HEAD 65536 /* a disk file's metadata lives in its first STC_DISK_HEAD bytes */
#define HCSSIM_ERROR_VHD_PARENT_VHD_NOT_FOUND 0xC03A000Du
#define HCSSIM_ERROR_VHD_INVALID_TYPE 0xC03A001Bu

#define HCSSIM_E_INVALID_LAYER ((HRESULT)0x80370112)             /* HCS_E_INVALID_LAYER */
#define HCSSIM_E_FLT_INSTANCE_NAME_COLLISION ((HRESULT)0x801F0012) /* ERROR_FLT_INSTANCE_NAME_COLLISION */
#define HCSSIM_E_FLT_INSTANCE_NOT_FOUND ((HRESULT)0x801F0015)      /* ERROR_FLT_INSTANCE_NOT_FOUND */
#define HCSSIM_ERROR_VIRTDISK_NOT_VIRTUAL_DISK 0xC03A0015u

/* virtual-disk handle flags kept in computestorage's handle table */
#define VDH_READONLY 1u
#define VDH_INFOONLY 2u

#define STC_WRITABLE_MARKER L".hcssim-writable.json"
#define STC_LAYER_MARKER L".hcssim-layer.json"
#define STC_BASEOS_MARKER L".hcssim-baseos.json"

void stc_lock(void);
void stc_unlock(void);

/* %HCSSIM_STORAGE_ROOT% or %ProgramData%\hcssim (no trailing backslash) */
void stc_root(WCHAR out[STC_PATH]);
void stc_join(WCHAR out[STC_PATH], const WCHAR *a, const WCHAR *b);   /* a\b */
DWORD stc_full_path(const WCHAR *in, WCHAR out[STC_PATH]);            /* absolute, no trailing '\' (except "C:\") */
int stc_is_dir(const WCHAR *p);
int stc_exists(const WCHAR *p);
int stc_dir_empty(const WCHAR *p);                                     /* 1 if a dir without entries */
DWORD stc_mkdirs(const WCHAR *p);
DWORD stc_rmtree(const WCHAR *p);        /* files and dirs, read-only too; reparse points removed, not followed */
DWORD stc_copytree(const WCHAR *src, const WCHAR *dst, int skipMarkers);

DWORD stc_read_all(const WCHAR *p, char **data, DWORD *len);
DWORD stc_write_all(const WCHAR *p, const char *data, DWORD len, DWORD disposition);
DWORD stc_read_json(const WCHAR *p, jv **out);    /* ERROR_INVALID_DATA if not JSON */
DWORD stc_write_json(const WCHAR *p, const jv *v); /* CREATE_ALWAYS */

/* Simulated disk files: 8-byte signature ("vhdxfile" / "conectix"), "HCSSIM01", '\n', JSON metadata. */
DWORD stc_disk_read(const WCHAR *path, jv **meta);   /* FILE/PATH_NOT_FOUND, ERROR_VIRTDISK_NOT_VIRTUAL_DISK */
DWORD stc_disk_write(const WCHAR *path, const jv *meta, HANDLE viaHandle); /* viaHandle may be NULL */
void stc_disk_data_dir(const char *diskId, int attached, WCHAR out[STC_PATH]); /* volumes\{G} or disks\{G} */
/* Under the lock. attach: ERROR_SHARING_VIOLATION if attached. detach: ERROR_NOT_READY if not attached.
   volOut (may be NULL) receives the volume folder (attach) / the former one (detach). */
DWORD stc_disk_attach(const WCHAR *path, DWORD flags, WCHAR volOut[STC_PATH]);
DWORD stc_disk_detach(const WCHAR *path, WCHAR volOut[STC_PATH]);

jv *jbool(int b);
void stc_new_disk_id(char out[40]);   /* "{UPPERCASE-GUID}" */
#endif
