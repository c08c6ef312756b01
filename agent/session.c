/*
 * A connection's reader loop and stream table. Frames are validated here
 * (length bound, known type, stream id rules) before any handler sees them;
 * handlers validate their own payloads (wire.c). A malformed frame gets an
 * error frame and the connection keeps being served; only a length above
 * MAX_PAYLOAD ends it, since the byte stream can no longer be trusted to be
 * in sync.
 */
#include "session.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exec.h"
#include "files.h"
#include "log.h"
#include "system.h"
#include "wire.h"

struct session {
  conn_t *conn;
  CRITICAL_SECTION send_lock, table_lock;
  stream_t *streams[MAX_STREAMS];
  volatile LONG refs;
  int ready;
  int closed; /* under table_lock: no new streams */
};

HANDLE g_stop_event;
int g_console_mode;

static void session_release(session_t *s) {
  if (InterlockedDecrement(&s->refs)) return;
  conn_free(s->conn);
  DeleteCriticalSection(&s->send_lock);
  DeleteCriticalSection(&s->table_lock);
  free(s);
}

static void put_header(uint8_t *h, uint32_t len, uint8_t type, uint32_t id) {
  for (int i = 0; i < 4; i++) h[i] = (uint8_t)(len >> (8 * i));
  h[4] = type;
  for (int i = 0; i < 4; i++) h[5 + i] = (uint8_t)(id >> (8 * i));
}

int send_framed(session_t *s, uint8_t type, uint32_t id, uint8_t *buf, uint32_t len) {
  put_header(buf, len, type, id);
  EnterCriticalSection(&s->send_lock);
  int r = conn_write(s->conn, buf, FRAME_HEADER + len);
  LeaveCriticalSection(&s->send_lock);
  return r;
}

int send_frame(session_t *s, uint8_t type, uint32_t id, const void *payload, uint32_t len) {
  uint8_t *buf = malloc(FRAME_HEADER + (size_t)len);
  if (!buf) return -1;
  if (len) memcpy(buf + FRAME_HEADER, payload, len);
  int r = send_framed(s, type, id, buf, len);
  free(buf);
  return r;
}

static void error_payload(wr_t *w, uint32_t code, uint32_t win32, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  put_u32(w, code);
  put_u32(w, win32);
  put_str(w, msg);
}

int send_error(session_t *s, uint32_t id, uint32_t code, uint32_t win32, const char *fmt, ...) {
  wr_t w = {0};
  va_list ap;
  va_start(ap, fmt);
  error_payload(&w, code, win32, fmt, ap);
  va_end(ap);
  log_msg("error to client (stream %u): code %u win32 %u: %.*s", id, code, win32, (int)w.len - 12, w.p + 12);
  int r = w.failed ? -1 : send_frame(s, T_ERROR, id, w.p, w.len);
  wr_free(&w);
  return r;
}

stream_t *stream_open(session_t *s, uint32_t id, const stream_ops_t *ops, void *impl) {
  if (id == 0) {
    send_error(s, 0, E_BAD_STREAM, 0, "stream id 0 is the connection's own: requests need a nonzero id");
    return NULL;
  }
  EnterCriticalSection(&s->table_lock);
  int free_slot = -1, in_use = 0;
  for (int i = 0; i < MAX_STREAMS; i++) {
    if (!s->streams[i]) {
      if (free_slot < 0) free_slot = i;
    } else if (s->streams[i]->id == id) {
      in_use = 1;
    }
  }
  if (in_use || free_slot < 0 || s->closed) {
    LeaveCriticalSection(&s->table_lock);
    if (in_use) send_error(s, 0, E_BAD_STREAM, 0, "stream id %u is already open", id);
    else send_error(s, id, E_LIMIT, 0, "more than %d streams open on one connection", MAX_STREAMS);
    return NULL;
  }
  stream_t *st = calloc(1, sizeof *st);
  st->id = id;
  st->session = s;
  st->ops = ops;
  st->impl = impl;
  st->refs = 2; /* the table's and the caller's */
  st->out_credit[CH_OUT] = st->out_credit[CH_ERR] = INITIAL_WINDOW;
  st->in_credit = INITIAL_WINDOW;
  InitializeCriticalSection(&st->lock);
  InitializeConditionVariable(&st->cv);
  InterlockedIncrement(&s->refs);
  s->streams[free_slot] = st;
  LeaveCriticalSection(&s->table_lock);
  return st;
}

void stream_hold(stream_t *st) { InterlockedIncrement(&st->refs); }

void stream_release(stream_t *st) {
  if (InterlockedDecrement(&st->refs)) return;
  if (st->ops->free_impl) st->ops->free_impl(st->impl);
  DeleteCriticalSection(&st->lock);
  session_t *s = st->session;
  free(st);
  session_release(s);
}

static void unlist(stream_t *st) {
  session_t *s = st->session;
  int found = 0;
  EnterCriticalSection(&s->table_lock);
  for (int i = 0; i < MAX_STREAMS; i++)
    if (s->streams[i] == st) {
      s->streams[i] = NULL;
      found = 1;
    }
  LeaveCriticalSection(&s->table_lock);
  if (found) stream_release(st);
}

static void abort_once(stream_t *st) {
  EnterCriticalSection(&st->lock);
  int was = st->aborted;
  st->aborted = 1;
  WakeAllConditionVariable(&st->cv);
  LeaveCriticalSection(&st->lock);
  if (!was && st->ops->on_abort) st->ops->on_abort(st);
}

int stream_end(stream_t *st, uint8_t type, const void *payload, uint32_t len) {
  if (InterlockedCompareExchange(&st->ended, 1, 0)) return 0;
  send_frame(st->session, type, st->id, payload, len);
  unlist(st);
  return 1;
}

void stream_fail(stream_t *st, uint32_t code, uint32_t win32, const char *fmt, ...) {
  if (InterlockedCompareExchange(&st->ended, 1, 0)) return;
  wr_t w = {0};
  va_list ap;
  va_start(ap, fmt);
  error_payload(&w, code, win32, fmt, ap);
  va_end(ap);
  log_msg("stream %u failed: code %u win32 %u: %.*s", st->id, code, win32, (int)w.len - 12, w.p + 12);
  if (!w.failed) send_frame(st->session, T_ERROR, st->id, w.p, w.len);
  wr_free(&w);
  unlist(st);
  abort_once(st);
}

uint32_t credit_take(stream_t *st, int ch, uint32_t want) {
  EnterCriticalSection(&st->lock);
  while (!st->aborted && st->out_credit[ch] == 0) SleepConditionVariableCS(&st->cv, &st->lock, INFINITE);
  uint32_t n = 0;
  if (!st->aborted) {
    n = st->out_credit[ch] < want ? st->out_credit[ch] : want;
    st->out_credit[ch] -= n;
  }
  LeaveCriticalSection(&st->lock);
  return n;
}

void credit_return(stream_t *st, int ch, uint32_t n) {
  EnterCriticalSection(&st->lock);
  st->out_credit[ch] += n;
  LeaveCriticalSection(&st->lock);
}

int credit_grant(stream_t *st, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  uint8_t ch = get_u8(&r);
  uint32_t n = get_u32(&r);
  if (!rd_done(&r) || (ch != CH_OUT && ch != CH_ERR)) return -1;
  EnterCriticalSection(&st->lock);
  /* Outstanding credit above 2^31 can only be a client bug (it would wrap): refuse it. */
  int ok = (uint64_t)st->out_credit[ch] + n <= 0x80000000u;
  if (ok) st->out_credit[ch] += n;
  WakeAllConditionVariable(&st->cv);
  LeaveCriticalSection(&st->lock);
  return ok ? 0 : -1;
}

int credit_consume_in(stream_t *st, uint32_t n) {
  EnterCriticalSection(&st->lock);
  int ok = n <= st->in_credit;
  if (ok) st->in_credit -= n;
  LeaveCriticalSection(&st->lock);
  return ok ? 0 : -1;
}

void credit_give_in(stream_t *st, uint32_t n) {
  if (!n) return;
  EnterCriticalSection(&st->lock);
  st->in_credit += n;
  LeaveCriticalSection(&st->lock);
  uint8_t p[5] = {CH_IN, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
  if (!st->ended) send_frame(st->session, T_WINDOW, st->id, p, 5);
}

static stream_t *find(session_t *s, uint32_t id) {
  stream_t *st = NULL;
  EnterCriticalSection(&s->table_lock);
  for (int i = 0; i < MAX_STREAMS && !st; i++)
    if (s->streams[i] && s->streams[i]->id == id) st = s->streams[i];
  if (st) stream_hold(st);
  LeaveCriticalSection(&s->table_lock);
  return st;
}

static void on_hello(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  uint16_t lo = get_u16(&r), hi = get_u16(&r);
  wchar_t *client = get_wstr(&r, 256);
  int ok = rd_done(&r);
  if (ok) log_msg("hello from %ls (versions %u..%u)", client, lo, hi);
  free(client);
  if (!ok || id != 0) {
    send_error(s, 0, E_BAD_FRAME, 0, "HELLO: expected u16 min, u16 max, string client (<= 256 bytes) on stream 0");
  } else if (lo > PROTO_VERSION || hi < PROTO_VERSION) {
    send_error(s, 0, E_VERSION, 0, "no common protocol version: client speaks %u..%u, agent %u", lo, hi,
               PROTO_VERSION);
  } else {
    wr_t w = {0};
    system_ready_payload(&w);
    if (!w.failed) send_frame(s, T_READY, 0, w.p, w.len);
    wr_free(&w);
    s->ready = 1;
  }
}

static int is_follow_up(uint8_t type) {
  switch (type) {
  case T_STDIN: case T_STDIN_EOF: case T_WINDOW: case T_KILL: case T_RESIZE: case T_FILE_DATA: case T_FILE_EOF:
    return 1;
  default:
    return 0;
  }
}

static void dispatch(session_t *s, uint8_t type, uint32_t id, const uint8_t *p, uint32_t len) {
  if (type == T_HELLO) return on_hello(s, id, p, len);
  if (type == T_PING) {
    send_frame(s, T_PONG, id, p, len);
    return;
  }
  if (!s->ready) {
    send_error(s, 0, E_NOT_READY, 0, "frame type 0x%02x before HELLO", type);
    return;
  }
  if (is_follow_up(type)) {
    /* A follow-up for a stream that already ended is a normal race (the client had not seen
     * the terminal frame yet): it is dropped, not an error. */
    stream_t *st = find(s, id);
    if (!st) return;
    if (type == T_WINDOW) {
      if (credit_grant(st, p, len))
        stream_fail(st, E_FLOW, 0, "WINDOW: expected u8 channel 1|2 and u32 bytes, credit below 2^31");
    } else {
      st->ops->on_frame(st, type, p, len);
    }
    stream_release(st);
    return;
  }
  switch (type) {
  case T_EXEC: exec_request(s, id, p, len); break;
  case T_FILE_PUT: files_put(s, id, p, len); break;
  case T_FILE_GET: files_get(s, id, p, len); break;
  case T_STAT: files_stat(s, id, p, len); break;
  case T_LIST: files_list(s, id, p, len); break;
  case T_REMOVE: files_remove(s, id, p, len); break;
  case T_SHUTDOWN: system_shutdown(s, id, p, len); break;
  default: send_error(s, 0, E_UNKNOWN_TYPE, 0, "frame type 0x%02x is not a client request", type);
  }
}

static void close_session(session_t *s) {
  stream_t *open[MAX_STREAMS];
  int n = 0;
  EnterCriticalSection(&s->table_lock);
  s->closed = 1;
  for (int i = 0; i < MAX_STREAMS; i++)
    if (s->streams[i]) {
      open[n++] = s->streams[i];
      s->streams[i] = NULL;
    }
  LeaveCriticalSection(&s->table_lock);
  conn_shutdown(s->conn);
  /* Nobody is left to read a process's output or send its input: its work is aborted. */
  for (int i = 0; i < n; i++) {
    InterlockedExchange(&open[i]->ended, 1);
    abort_once(open[i]);
    stream_release(open[i]);
  }
}

DWORD WINAPI session_thread(void *arg) {
  session_t *s = calloc(1, sizeof *s);
  s->conn = arg;
  s->refs = 1;
  InitializeCriticalSection(&s->send_lock);
  InitializeCriticalSection(&s->table_lock);
  log_msg("connection opened");
  uint8_t h[FRAME_HEADER];
  while (conn_read(s->conn, h, FRAME_HEADER) == 0) {
    uint32_t len = le32(h), id = le32(h + 5);
    uint8_t type = h[4];
    if (len > MAX_PAYLOAD) {
      send_error(s, 0, E_FRAME_TOO_LARGE, 0, "frame length %u above the maximum %u: closing", len, MAX_PAYLOAD);
      break;
    }
    uint8_t *p = malloc(len ? len : 1);
    if (!p || conn_read(s->conn, p, len)) {
      free(p);
      break;
    }
    dispatch(s, type, id, p, len);
    free(p);
  }
  log_msg("connection closed");
  close_session(s);
  session_release(s);
  return 0;
}
