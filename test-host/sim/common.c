#include "common.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static BOOL ov_io(HANDLE h, BOOL write, void *buf, DWORD len, DWORD *done, HANDLE stopEvent) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ov.hEvent) return FALSE;
    BOOL ok = write ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
    if (!ok && GetLastError() != ERROR_IO_PENDING) { CloseHandle(ov.hEvent); return FALSE; }
    if (stopEvent) {
        HANDLE hs[2] = { ov.hEvent, stopEvent };
        DWORD w = WaitForMultipleObjects(2, hs, FALSE, INFINITE);
        if (w != WAIT_OBJECT_0) {
            CancelIo(h);
            GetOverlappedResult(h, &ov, done, TRUE);
            CloseHandle(ov.hEvent);
            SetLastError(ERROR_OPERATION_ABORTED);
            return FALSE;
        }
    }
    ok = GetOverlappedResult(h, &ov, done, TRUE);
    DWORD e = GetLastError();
    CloseHandle(ov.hEvent);
    SetLastError(e);
    return ok;
}

BOOL wire_write(HANDLE h, const char *msg, DWORD len) {
    char *buf = malloc(len + 4);
    if (!buf) return FALSE;
    buf[0] = (char)(len & 0xFF); buf[1] = (char)((len >> 8) & 0xFF);
    buf[2] = (char)((len >> 16) & 0xFF); buf[3] = (char)((len >> 24) & 0xFF);
    memcpy(buf + 4, msg, len);
    DWORD total = len + 4, off = 0;
    BOOL ok = TRUE;
    while (off < total) {
        DWORD n = 0;
        if (!ov_io(h, TRUE, buf + off, total - off, &n, NULL) || n == 0) { ok = FALSE; break; }
        off += n;
    }
    free(buf);
    return ok;
}

static BOOL read_exact(HANDLE h, char *buf, DWORD len, HANDLE stopEvent) {
    DWORD off = 0;
    while (off < len) {
        DWORD n = 0;
        if (!ov_io(h, FALSE, buf + off, len - off, &n, stopEvent)) {
            if (GetLastError() == ERROR_MORE_DATA) { off += n; continue; }
            return FALSE;
        }
        if (n == 0) continue;
        off += n;
    }
    return TRUE;
}

char *wire_read(HANDLE h, HANDLE stopEvent) {
    unsigned char hdr[4];
    if (!read_exact(h, (char *)hdr, 4, stopEvent)) return NULL;
    DWORD len = (DWORD)hdr[0] | ((DWORD)hdr[1] << 8) | ((DWORD)hdr[2] << 16) | ((DWORD)hdr[3] << 24);
    if (len > HCSSIM_MAX_MSG) return NULL;
    char *buf = malloc(len + 1);
    if (!buf) return NULL;
    if (!read_exact(h, buf, len, stopEvent)) { free(buf); return NULL; }
    buf[len] = 0;
    return buf;
}

char *w2u(const WCHAR *w) {
    if (!w) return NULL;
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0) { char *e = malloc(1); e[0] = 0; return e; }
    char *u = malloc((size_t)n);
    WideCharToMultiByte(CP_UTF8, 0, w, -1, u, n, NULL, NULL);
    return u;
}
WCHAR *u2w(const char *u) {
    if (!u) return NULL;
    int n = MultiByteToWideChar(CP_UTF8, 0, u, -1, NULL, 0);
    if (n <= 0) { WCHAR *e = malloc(2); e[0] = 0; return e; }
    WCHAR *w = malloc((size_t)n * sizeof(WCHAR));
    MultiByteToWideChar(CP_UTF8, 0, u, -1, w, n);
    return w;
}

static CRITICAL_SECTION g_rand_cs;
static LONG g_rand_init;
static ULONGLONG g_rand_state;
static ULONGLONG rnd64(void) {
    if (InterlockedCompareExchange(&g_rand_init, 1, 0) == 0) {
        InitializeCriticalSection(&g_rand_cs);
        LARGE_INTEGER c; QueryPerformanceCounter(&c);
        g_rand_state = (ULONGLONG)c.QuadPart ^ ((ULONGLONG)GetCurrentProcessId() << 32) ^ GetTickCount64();
        InterlockedExchange(&g_rand_init, 2);
    }
    while (g_rand_init != 2) Sleep(0);
    EnterCriticalSection(&g_rand_cs);
    /* splitmix64 */
    ULONGLONG z = (g_rand_state += 0x9E3779B97F4A7C15ULL);
    LeaveCriticalSection(&g_rand_cs);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
void new_guid_str(char out[37]) {
    ULONGLONG a = rnd64(), b = rnd64();
    unsigned d1 = (unsigned)(a >> 32), d2 = (unsigned)((a >> 16) & 0xFFFF), d3 = (unsigned)((a & 0x0FFF) | 0x4000);
    unsigned d4 = (unsigned)(((b >> 48) & 0x3FFF) | 0x8000);
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", d1, d2, d3, d4, (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}
ULONGLONG now_ms(void) { return GetTickCount64(); }
ULONGLONG filetime_now(void) {
    FILETIME ft; GetSystemTimeAsFileTime(&ft);
    return ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}
void iso8601_from_filetime(ULONGLONG t, char out[40]) {
    FILETIME ft; SYSTEMTIME st;
    ft.dwLowDateTime = (DWORD)t; ft.dwHighDateTime = (DWORD)(t >> 32);
    FileTimeToSystemTime(&ft, &st);
    snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%07uZ", st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute, st.wSecond,
             (unsigned)(t % 10000000ULL));
}
char *result_error_doc(HRESULT hr, const char *message) {
    sb b; sb_init(&b);
    sb_printf(&b, "{\"Error\":%ld,\"ErrorMessage\":", (long)hr);
    sb_jstr(&b, message ? message : "");
    sb_puts(&b, ",\"ErrorEvents\":[{\"Message\":");
    sb_jstr(&b, message ? message : "");
    sb_printf(&b, ",\"StackTrace\":\"\",\"Provider\":\"%s\",\"EventId\":%u,\"Flags\":0,\"Source\":\"hcssim\"}]}",
              HCSSIM_PROVIDER, (unsigned)(hr & 0xFFFF));
    return sb_take(&b);
}

static int heapblock_cmp(const void *a, const void *b) {
    const char *x = ((const heapblock *)a)->p, *y = ((const heapblock *)b)->p;
    return x < y ? -1 : x > y;
}

/* Walks without allocating from any heap while the walk runs (the array lives
 * in VirtualAlloc'ed memory), so the walk sees a consistent heap. */
void heapsnap_take(heapsnap *s) {
    HANDLE heap = GetProcessHeap();
    s->b = NULL; s->n = 0; s->cap = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        size_t count = 0;
        PROCESS_HEAP_ENTRY e;
        HeapLock(heap);
        e.lpData = NULL;
        while (HeapWalk(heap, &e)) if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) count++;
        HeapUnlock(heap);
        size_t cap = count * 2 + 4096;
        heapblock *b = VirtualAlloc(NULL, cap * sizeof *b, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        if (!b) return;
        size_t n = 0;
        int overflow = 0;
        HeapLock(heap);
        e.lpData = NULL;
        while (HeapWalk(heap, &e)) {
            if (!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY)) continue;
            if (n == cap) { overflow = 1; break; }
            b[n].p = e.lpData; b[n].size = e.cbData; n++;
        }
        HeapUnlock(heap);
        if (overflow) { VirtualFree(b, 0, MEM_RELEASE); continue; }
        qsort(b, n, sizeof *b, heapblock_cmp);
        s->b = b; s->n = n; s->cap = cap;
        return;
    }
}

SIZE_T heapsnap_find(const heapsnap *s, const void *p) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((const char *)s->b[mid].p < (const char *)p) lo = mid + 1; else hi = mid;
    }
    return lo < s->n && s->b[lo].p == p ? s->b[lo].size : 0;
}

void heapsnap_free(heapsnap *s) {
    if (s->b) VirtualFree(s->b, 0, MEM_RELEASE);
    s->b = NULL; s->n = 0; s->cap = 0;
}

static const char STR_TAIL[8] = { 'H', 'C', 'S', 'S', 'I', 'M', 'T', 'K' };

ULONGLONG fnv1a(const void *p, size_t n) {
    ULONGLONG h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= ((const unsigned char *)p)[i]; h *= 1099511628211ULL; }
    return h;
}

void strtable_add(strtable *t, void *p, size_t bytes) {
    ULONGLONG serial = ++t->serial;
    memcpy((char *)p + bytes, STR_TAIL, 8);
    memcpy((char *)p + bytes + 8, &serial, 8);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = realloc(t->v, (size_t)t->cap * sizeof *t->v);
    }
    t->v[t->n].p = p; t->v[t->n].serial = serial; t->v[t->n].bytes = bytes; t->v[t->n].hash = fnv1a(p, bytes);
    t->n++;
}

/* Live = a busy heap block still big enough, with our marker, serial and content.
   Freeing a block makes the heap write its free-list links over the first bytes
   of the data, so a freed (and possibly reused) block no longer hashes the same. */
int strtrack_live(const strtrack *s, const heapsnap *heap) {
    SIZE_T sz = heapsnap_find(heap, s->p);
    if (sz < s->bytes + STRTRACK_EXTRA) return 0;
    if (memcmp((char *)s->p + s->bytes, STR_TAIL, 8)) return 0;
    ULONGLONG serial; memcpy(&serial, (char *)s->p + s->bytes + 8, 8);
    if (serial != s->serial) return 0;
    return fnv1a(s->p, s->bytes) == s->hash;
}
