/*
 * File requests. Paths are the guest's own and must be absolute (the service's
 * working directory is System32, so a relative path would be a surprise). A put
 * writes <path>.<id>.agent-part and renames it over <path> only at FILE_EOF, so
 * a cancelled or broken transfer never leaves a half-written file behind.
 * Directory walks never follow reparse points: removing a link removes the link.
 */
#include "files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "wire.h"

typedef struct {
  HANDLE f;
  wchar_t *path, *part;
  uint32_t attrs;
  uint64_t mtime, bytes;
} xfer_t;

static uint64_t ft64(FILETIME t) { return ((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime; }

static int absolute(const wchar_t *p) {
  return (iswalpha(p[0]) && p[1] == L':' && (p[2] == L'\\' || p[2] == L'/')) || (p[0] == L'\\' && p[1] == L'\\');
}

/* Parses a request whose payload ends with the path; NULL after replying with an error. */
static wchar_t *tail_path(session_t *s, uint32_t id, rd_t *r, const char *layout) {
  wchar_t *path = get_wstr(r, MAX_PATH_BYTES);
  if (!rd_done(r) || !path || !absolute(path)) {
    send_error(s, id, E_BAD_FRAME, 0, "%s: expected %s, the path absolute (C:\\... or \\\\...)", layout, layout);
    free(path);
    return NULL;
  }
  return path;
}

/* FILE_INFO's payload: u32 attributes, u64 size, u64 last-write time (FILETIME). */
static void info_payload(uint8_t out[20], uint32_t attrs, uint64_t size, uint64_t mtime) {
  for (int i = 0; i < 4; i++) out[i] = (uint8_t)(attrs >> (8 * i));
  for (int i = 0; i < 8; i++) out[4 + i] = (uint8_t)(size >> (8 * i));
  for (int i = 0; i < 8; i++) out[12 + i] = (uint8_t)(mtime >> (8 * i));
}

static void end_done(stream_t *st, uint64_t value) {
  uint8_t p[8];
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(value >> (8 * i));
  stream_end(st, T_DONE, p, 8);
}

static void fail_win32(stream_t *st, const char *what, const wchar_t *path) {
  DWORD err = GetLastError();
  stream_fail(st, E_WIN32, err, "%s %ls failed (error %lu)", what, path, err);
}

static void xfer_free(void *impl) {
  xfer_t *x = impl;
  if (x->f && x->f != INVALID_HANDLE_VALUE) CloseHandle(x->f);
  free(x->path);
  free(x->part);
  free(x);
}

static void put_abort(stream_t *st) {
  xfer_t *x = st->impl;
  if (x->f != INVALID_HANDLE_VALUE) CloseHandle(x->f);
  x->f = INVALID_HANDLE_VALUE;
  if (x->part) DeleteFileW(x->part);
}

static void put_frame(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len) {
  xfer_t *x = st->impl;
  DWORD wrote;
  if (type == T_FILE_DATA) {
    if (credit_consume_in(st, len)) return stream_fail(st, E_FLOW, 0, "FILE_DATA beyond the granted window");
    if (!WriteFile(x->f, p, len, &wrote, NULL)) return fail_win32(st, "write", x->part);
    x->bytes += len;
    credit_give_in(st, len);
  } else if (type == T_FILE_EOF && len == 0) {
    FILETIME t = {(DWORD)x->mtime, (DWORD)(x->mtime >> 32)};
    if (x->mtime) SetFileTime(x->f, NULL, NULL, &t);
    CloseHandle(x->f);
    x->f = INVALID_HANDLE_VALUE;
    DWORD old = GetFileAttributesW(x->path);
    if (old != INVALID_FILE_ATTRIBUTES && (old & FILE_ATTRIBUTE_READONLY))
      SetFileAttributesW(x->path, old & ~FILE_ATTRIBUTE_READONLY); /* else the rename is refused */
    if (!MoveFileExW(x->part, x->path, MOVEFILE_REPLACE_EXISTING)) return fail_win32(st, "rename onto", x->path);
    free(x->part);
    x->part = NULL;
    if (x->attrs) SetFileAttributesW(x->path, x->attrs);
    end_done(st, x->bytes);
  } else if (type == T_KILL) {
    stream_fail(st, E_CANCELLED, 0, "put cancelled by the client");
  } else {
    stream_fail(st, E_BAD_FRAME, 0, "frame type 0x%02x (length %u) is not valid on a put stream", type, len);
  }
}

static void nothing(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len) { (void)st, (void)type, (void)p, (void)len; }
static const stream_ops_t put_ops = {put_frame, put_abort, xfer_free};
static const stream_ops_t sync_ops = {nothing, NULL, NULL};

static void make_parents(const wchar_t *path) {
  wchar_t *copy = _wcsdup(path);
  for (wchar_t *c = copy + 3; copy && *c; c++)
    if (*c == L'\\' || *c == L'/') {
      wchar_t keep = *c;
      *c = 0;
      CreateDirectoryW(copy, NULL);
      *c = keep;
    }
  free(copy);
}

void files_put(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  uint32_t attrs = get_u32(&r);
  uint64_t mtime = get_u64(&r);
  uint32_t flags = get_u32(&r);
  wchar_t *path = tail_path(s, id, &r, "FILE_PUT: u32 attributes, u64 mtime, u32 flags, string path");
  if (!path) return;
  if (flags & ~PUT_MKDIRS) {
    free(path);
    send_error(s, id, E_BAD_FRAME, 0, "FILE_PUT: unknown flag bits 0x%x", flags);
    return;
  }
  xfer_t *x = calloc(1, sizeof *x);
  x->f = INVALID_HANDLE_VALUE;
  x->path = path;
  x->attrs = attrs;
  x->mtime = mtime;
  stream_t *st = stream_open(s, id, (attrs & FILE_ATTRIBUTE_DIRECTORY) ? &sync_ops : &put_ops, x);
  if (!st) return xfer_free(x);
  if (flags & PUT_MKDIRS) make_parents(path);
  if (attrs & FILE_ATTRIBUTE_DIRECTORY) {
    /* A directory has no data: created (or kept) and its attributes set, then DONE. */
    if (!CreateDirectoryW(path, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) fail_win32(st, "create directory", path);
    else {
      SetFileAttributesW(path, attrs);
      end_done(st, 0);
    }
    xfer_free(x);
  } else {
    size_t n = wcslen(path) + 32;
    x->part = malloc(n * sizeof(wchar_t));
    swprintf(x->part, n, L"%ls.%u.agent-part", path, id);
    x->f = CreateFileW(x->part, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (x->f == INVALID_HANDLE_VALUE) {
      free(x->part);
      x->part = NULL; /* nothing was created: nothing to delete */
      fail_win32(st, "create", path);
    }
  }
  stream_release(st);
}

static DWORD WINAPI get_sender(void *arg) {
  stream_t *st = arg;
  xfer_t *x = st->impl;
  uint8_t *buf = malloc(FRAME_HEADER + DATA_CHUNK);
  for (;;) {
    uint32_t n = credit_take(st, CH_OUT, DATA_CHUNK);
    if (!n) break;
    DWORD got = 0;
    if (!ReadFile(x->f, buf + FRAME_HEADER, n, &got, NULL)) {
      fail_win32(st, "read", x->path);
      break;
    }
    if (got == 0) {
      end_done(st, x->bytes);
      break;
    }
    credit_return(st, CH_OUT, n - got);
    x->bytes += got;
    if (send_framed(st->session, T_FILE_DATA, st->id, buf, got)) break;
  }
  free(buf);
  stream_release(st);
  return 0;
}

static void get_frame(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len) {
  (void)p;
  if (type == T_KILL) stream_fail(st, E_CANCELLED, 0, "get cancelled by the client");
  else stream_fail(st, E_BAD_FRAME, 0, "frame type 0x%02x (length %u) is not valid on a get stream", type, len);
}

static const stream_ops_t get_ops = {get_frame, NULL, xfer_free};

void files_get(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  wchar_t *path = tail_path(s, id, &r, "FILE_GET: string path");
  if (!path) return;
  xfer_t *x = calloc(1, sizeof *x);
  x->path = path;
  x->f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                     FILE_FLAG_SEQUENTIAL_SCAN | FILE_FLAG_BACKUP_SEMANTICS /* opens a directory too, to name it */,
                     NULL);
  DWORD err = GetLastError();
  stream_t *st = stream_open(s, id, &get_ops, x);
  if (!st) return xfer_free(x);
  BY_HANDLE_FILE_INFORMATION info;
  SetLastError(err);
  if (x->f == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(x->f, &info)) {
    fail_win32(st, "open", path);
  } else if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
    stream_fail(st, E_WIN32, ERROR_DIRECTORY, "%ls is a directory: LIST it and get its files", path);
  } else {
    uint8_t fi[20];
    info_payload(fi, info.dwFileAttributes, ((uint64_t)info.nFileSizeHigh << 32) | info.nFileSizeLow,
                 ft64(info.ftLastWriteTime));
    send_frame(s, T_FILE_INFO, id, fi, sizeof fi);
    stream_hold(st);
    HANDLE t = CreateThread(NULL, 64 * 1024, get_sender, st, 0, NULL);
    if (t) CloseHandle(t);
    else stream_release(st), fail_win32(st, "start a thread for", path);
  }
  stream_release(st);
}

void files_stat(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  wchar_t *path = tail_path(s, id, &r, "STAT: string path");
  stream_t *st = path ? stream_open(s, id, &sync_ops, NULL) : NULL;
  if (st) {
    WIN32_FILE_ATTRIBUTE_DATA d;
    if (!GetFileAttributesExW(path, GetFileExInfoStandard, &d)) fail_win32(st, "stat", path);
    else {
      uint8_t fi[20];
      info_payload(fi, d.dwFileAttributes, ((uint64_t)d.nFileSizeHigh << 32) | d.nFileSizeLow,
                   ft64(d.ftLastWriteTime));
      stream_end(st, T_FILE_INFO, fi, sizeof fi); /* STAT's answer is its terminal frame */
    }
    stream_release(st);
  }
  free(path);
}

void files_list(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  wchar_t *path = tail_path(s, id, &r, "LIST: string path");
  stream_t *st = path ? stream_open(s, id, &sync_ops, NULL) : NULL;
  if (st) {
    size_t n = wcslen(path) + 3;
    wchar_t *pattern = malloc(n * sizeof(wchar_t));
    swprintf(pattern, n, L"%ls\\*", path);
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    if (h == INVALID_HANDLE_VALUE) fail_win32(st, "list", path);
    else {
      uint64_t total = 0;
      wr_t w = {0};
      uint32_t batch = 0;
      put_u32(&w, 0);
      do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
        put_u32(&w, fd.dwFileAttributes);
        put_u64(&w, ((uint64_t)fd.nFileSizeHigh << 32) | fd.nFileSizeLow);
        put_u64(&w, ft64(fd.ftLastWriteTime));
        put_wstr(&w, fd.cFileName);
        batch++, total++;
        if (w.len > 60 * 1024 && !w.failed) { /* batches stay well under MAX_PAYLOAD */
          memcpy(w.p, &batch, 4);
          send_frame(s, T_LIST_ENTRIES, id, w.p, w.len);
          w.len = 4, batch = 0;
        }
      } while (FindNextFileW(h, &fd));
      FindClose(h);
      if (batch && !w.failed) {
        memcpy(w.p, &batch, 4); /* x86: little-endian already */
        send_frame(s, T_LIST_ENTRIES, id, w.p, w.len);
      }
      wr_free(&w);
      end_done(st, total);
    }
    free(pattern);
    stream_release(st);
  }
  free(path);
}

/* Removes a tree without following reparse points; 0 on success (GetLastError() otherwise). */
static int remove_tree(const wchar_t *path) {
  DWORD a = GetFileAttributesW(path);
  if (a == INVALID_FILE_ATTRIBUTES) return -1;
  if (a & FILE_ATTRIBUTE_READONLY) SetFileAttributesW(path, a & ~FILE_ATTRIBUTE_READONLY);
  if (!(a & FILE_ATTRIBUTE_DIRECTORY)) return DeleteFileW(path) ? 0 : -1;
  if (!(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    size_t n = wcslen(path) + 3;
    wchar_t *pattern = malloc(n * sizeof(wchar_t));
    swprintf(pattern, n, L"%ls\\*", path);
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    free(pattern);
    if (h != INVALID_HANDLE_VALUE) {
      do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
        size_t m = wcslen(path) + wcslen(fd.cFileName) + 2;
        wchar_t *child = malloc(m * sizeof(wchar_t));
        swprintf(child, m, L"%ls\\%ls", path, fd.cFileName);
        int r = remove_tree(child);
        free(child);
        if (r) {
          DWORD err = GetLastError();
          FindClose(h);
          SetLastError(err);
          return -1;
        }
      } while (FindNextFileW(h, &fd));
      FindClose(h);
    }
  }
  return RemoveDirectoryW(path) ? 0 : -1;
}

void files_remove(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  uint32_t flags = get_u32(&r);
  wchar_t *path = tail_path(s, id, &r, "REMOVE: u32 flags, string path");
  if (path && (flags & ~REMOVE_RECURSIVE)) {
    send_error(s, id, E_BAD_FRAME, 0, "REMOVE: unknown flag bits 0x%x", flags);
    free(path);
    return;
  }
  stream_t *st = path ? stream_open(s, id, &sync_ops, NULL) : NULL;
  if (st) {
    DWORD a = GetFileAttributesW(path);
    int ok;
    if (a == INVALID_FILE_ATTRIBUTES) ok = 0;
    else if (flags & REMOVE_RECURSIVE) ok = remove_tree(path) == 0;
    else if (a & FILE_ATTRIBUTE_DIRECTORY) ok = RemoveDirectoryW(path);
    else {
      if (a & FILE_ATTRIBUTE_READONLY) SetFileAttributesW(path, a & ~FILE_ATTRIBUTE_READONLY);
      ok = DeleteFileW(path);
    }
    if (!ok) fail_win32(st, "remove", path);
    else end_done(st, 0);
    stream_release(st);
  }
  free(path);
}
