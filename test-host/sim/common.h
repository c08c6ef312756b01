/* Shared by computecore.dll and hcssim-service.exe: error codes, wire framing, UTF helpers. */
#ifndef HCSSIM_COMMON_H
#define HCSSIM_COMMON_H
#include <windows.h>
#include "json.h"

#define HCSSIM_HR(x) ((HRESULT)(x))
#ifndef HCS_E_TERMINATED_DURING_START
#define HCS_E_TERMINATED_DURING_START HCSSIM_HR(0x80370100)
#define HCS_E_INVALID_STATE HCSSIM_HR(0x80370105)
#define HCS_E_UNEXPECTED_EXIT HCSSIM_HR(0x80370106)
#define HCS_E_TERMINATED HCSSIM_HR(0x80370107)
#define HCS_E_INVALID_JSON HCSSIM_HR(0x8037010D)
#define HCS_E_SYSTEM_NOT_FOUND HCSSIM_HR(0x8037010E)
#define HCS_E_SYSTEM_ALREADY_EXISTS HCSSIM_HR(0x8037010F)
#define HCS_E_SYSTEM_ALREADY_STOPPED HCSSIM_HR(0x80370110)
#define HCS_E_OPERATION_NOT_STARTED HCSSIM_HR(0x80370115)
#define HCS_E_OPERATION_ALREADY_STARTED HCSSIM_HR(0x80370116)
#define HCS_E_OPERATION_PENDING HCSSIM_HR(0x80370117)
#define HCS_E_OPERATION_TIMEOUT HCSSIM_HR(0x80370118)
#define HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET HCSSIM_HR(0x80370119)
#define HCS_E_OPERATION_RESULT_ALLOCATION_FAILED HCSSIM_HR(0x8037011A)
#define HCS_E_PROCESS_INFO_NOT_AVAILABLE HCSSIM_HR(0x8037011D)
#define HCS_E_SERVICE_DISCONNECT HCSSIM_HR(0x8037011E)
#define HCS_E_PROCESS_ALREADY_STOPPED HCSSIM_HR(0x8037011F)
#define HCS_E_OPERATION_ALREADY_CANCELLED HCSSIM_HR(0x80370121)
#endif
#define HCSSIM_E_CANCELLED HCSSIM_HR(0x800704C7) /* HRESULT_FROM_WIN32(ERROR_CANCELLED) */

/* Event provider GUID the simulator puts into ResultError.ErrorEvents. */
#define HCSSIM_PROVIDER "6ad3f4b2-5f0e-4c2a-9a51-0d1c7e3b5a10"

/* Wire framing: 4-byte little-endian length, then that many bytes of UTF-8 JSON.
   The pipe handle must be opened for overlapped I/O. Writes must be serialized by the caller. */
#define HCSSIM_MAX_MSG (64u * 1024u * 1024u)
BOOL wire_write(HANDLE h, const char *msg, DWORD len);
/* Reads one message; returns malloc'd NUL-terminated text or NULL on error/disconnect.
   If stopEvent is signalled while waiting, cancels and returns NULL. */
char *wire_read(HANDLE h, HANDLE stopEvent);

char *w2u(const WCHAR *w);      /* malloc'd UTF-8 (NULL -> NULL) */
WCHAR *u2w(const char *u);      /* malloc'd UTF-16 (NULL -> NULL) */

void new_guid_str(char out[37]);
ULONGLONG now_ms(void);         /* monotonic milliseconds */
ULONGLONG filetime_now(void);   /* 100ns since 1601 */
void iso8601_from_filetime(ULONGLONG ft, char out[40]);

/* Builds a ResultError document (malloc'd). */
char *result_error_doc(HRESULT hr, const char *message);
#endif

/* A snapshot of the process heap's busy blocks, taken with HeapWalk. The audits
 * use it to decide whether a string they handed out is still allocated without
 * touching a pointer that may have been freed: HeapValidate/HeapSize on a
 * stale pointer can crash Wine's heap code when the block was reused. */
typedef struct { const void *p; SIZE_T size; } heapblock;
typedef struct { heapblock *b; size_t n; size_t cap; } heapsnap;
void heapsnap_take(heapsnap *s);
/* The size of the busy block whose data starts at p, or 0 if there is none. */
SIZE_T heapsnap_find(const heapsnap *s, const void *p);
void heapsnap_free(heapsnap *s);

/* Strings the simulated DLLs hand out, tracked for the leak audit. Each block is
 * allocated 16 bytes longer than the string: after its NUL go the marker
 * "HCSSIMTK" and a serial, and the content hash is recorded. */
typedef struct { void *p; ULONGLONG serial; size_t bytes; ULONGLONG hash; } strtrack;
typedef struct { strtrack *v; int n, cap; ULONGLONG serial; } strtable;
#define STRTRACK_EXTRA 16
ULONGLONG fnv1a(const void *p, size_t n);
/* Marks and records a string of `bytes` bytes (NUL included) at p; the caller holds its lock. */
void strtable_add(strtable *t, void *p, size_t bytes);
/* Still allocated, same marker, serial and content: see the HeapWalk snapshot above. */
int strtrack_live(const strtrack *s, const heapsnap *heap);
