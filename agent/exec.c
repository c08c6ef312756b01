/*
 * An EXEC stream. Threads per process: one pump per output pipe (they block in
 * ReadFile, and wait for the client's credit before reading more, so a slow
 * client slows the process instead of growing our memory), one stdin writer
 * (the reader thread must never block on a process that does not read its
 * input) and one waiter that reports EXIT after both outputs reached EOF, so
 * the client has seen every byte before the exit code.
 */
#include "exec.h"
#include <stdlib.h>
#include <string.h>
#include "launch.h"
#include "log.h"
#include "wire.h"

typedef struct chunk {
  struct chunk *next;
  uint32_t len;
  uint8_t data[];
} chunk_t;

/* How long a pseudo console's output may stay open after its process exited. */
#define PTY_DRAIN_MS 2000u

typedef struct {
  launch_t l;
  HANDLE threads[4]; /* out pump, err pump, stdin writer, waiter */
  chunk_t *head, *tail; /* stdin not yet written: bounded by the window we granted */
  int in_eof;
} exec_t;

typedef struct {
  stream_t *st;
  int ch;
} pump_arg_t;

static DWORD WINAPI pump(void *arg) {
  pump_arg_t a = *(pump_arg_t *)arg;
  free(arg);
  exec_t *e = a.st->impl;
  HANDLE from = a.ch == CH_OUT ? e->l.out_r : e->l.err_r;
  uint8_t *buf = malloc(FRAME_HEADER + DATA_CHUNK);
  for (;;) {
    uint32_t n = credit_take(a.st, a.ch, DATA_CHUNK);
    if (!n) break;
    DWORD got = 0;
    if (!ReadFile(from, buf + FRAME_HEADER, n, &got, NULL) || got == 0) break;
    credit_return(a.st, a.ch, n - got);
    if (send_framed(a.st->session, a.ch == CH_OUT ? T_STDOUT : T_STDERR, a.st->id, buf, got)) break;
  }
  free(buf);
  stream_release(a.st);
  return 0;
}

static DWORD WINAPI stdin_writer(void *arg) {
  stream_t *st = arg;
  exec_t *e = st->impl;
  int broken = 0;
  for (;;) {
    EnterCriticalSection(&st->lock);
    while (!e->head && !e->in_eof && !st->aborted) SleepConditionVariableCS(&st->cv, &st->lock, INFINITE);
    chunk_t *c = st->aborted ? NULL : e->head;
    if (c && !(e->head = c->next)) e->tail = NULL;
    LeaveCriticalSection(&st->lock);
    if (!c) break;
    DWORD wrote;
    /* A process that closed its input still gets the window back, so the client never stalls on it. */
    if (!broken && !WriteFile(e->l.in_w, c->data, c->len, &wrote, NULL)) broken = 1;
    credit_give_in(st, c->len);
    free(c);
  }
  CloseHandle(e->l.in_w); /* the process sees EOF on its stdin */
  e->l.in_w = NULL;
  stream_release(st);
  return 0;
}

static DWORD WINAPI waiter(void *arg) {
  stream_t *st = arg;
  exec_t *e = st->impl;
  WaitForSingleObject(e->l.process, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(e->l.process, &code);
  int was_pty = e->l.pty != NULL;
  launch_close_pty(&e->l);
  DWORD pumps = e->l.err_r ? 2 : 1;
  /* Closing the pseudo console ends its output on Windows (disco-vm docs/drivers/hcs.md);
   * where it does not (Wine 8's ClosePseudoConsole, or a console process left in the
   * job), the output is ended here after a grace period, so EXIT never waits on a KILL. */
  if (was_pty && WaitForMultipleObjects(pumps, e->threads, TRUE, PTY_DRAIN_MS) == WAIT_TIMEOUT) {
    log_msg("stream %u: pseudo console output still open %u ms after pid %lu exited: ending it", st->id,
            PTY_DRAIN_MS, e->l.pid);
    if (e->l.job) TerminateJobObject(e->l.job, code);
    /* A pump blocked in ReadFile is cancelled; one between reads is caught on the next try. */
    for (int tries = 0; tries < 100; tries++) {
      for (DWORD i = 0; i < pumps; i++) CancelSynchronousIo(e->threads[i]);
      if (WaitForMultipleObjects(pumps, e->threads, TRUE, 50) != WAIT_TIMEOUT) break;
    }
  }
  WaitForMultipleObjects(pumps, e->threads, TRUE, INFINITE);
  uint8_t p[4] = {(uint8_t)code, (uint8_t)(code >> 8), (uint8_t)(code >> 16), (uint8_t)(code >> 24)};
  if (stream_end(st, T_EXIT, p, 4)) log_msg("stream %u: pid %lu exited with 0x%08lx", st->id, e->l.pid, code);
  /* Stops the stdin writer if the client never sent STDIN_EOF. */
  EnterCriticalSection(&st->lock);
  st->aborted = 1;
  WakeAllConditionVariable(&st->cv);
  LeaveCriticalSection(&st->lock);
  stream_release(st);
  return 0;
}

static void exec_frame(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len) {
  exec_t *e = st->impl;
  rd_t r;
  rd_init(&r, p, len);
  if (type == T_STDIN) {
    if (credit_consume_in(st, len)) {
      stream_fail(st, E_FLOW, 0, "STDIN: %u bytes beyond the granted window", len);
      return;
    }
    chunk_t *c = malloc(sizeof *c + len);
    if (!c) return stream_fail(st, E_WIN32, ERROR_OUTOFMEMORY, "out of memory");
    c->next = NULL;
    c->len = len;
    memcpy(c->data, p, len);
    EnterCriticalSection(&st->lock);
    if (e->in_eof) {
      LeaveCriticalSection(&st->lock);
      free(c);
      return stream_fail(st, E_BAD_FRAME, 0, "STDIN after STDIN_EOF");
    }
    if (e->tail) e->tail->next = c;
    else e->head = c;
    e->tail = c;
    WakeAllConditionVariable(&st->cv);
    LeaveCriticalSection(&st->lock);
  } else if (type == T_STDIN_EOF && len == 0) {
    EnterCriticalSection(&st->lock);
    e->in_eof = 1;
    WakeAllConditionVariable(&st->cv);
    LeaveCriticalSection(&st->lock);
  } else if (type == T_KILL) {
    uint32_t code = get_u32(&r);
    if (!rd_done(&r)) return stream_fail(st, E_BAD_FRAME, 0, "KILL: expected u32 exit code");
    /* The whole tree: every process the command started is in its job. EXIT follows as usual. */
    TerminateJobObject(e->l.job, code);
  } else if (type == T_RESIZE) {
    uint16_t cols = get_u16(&r), rows = get_u16(&r);
    if (!rd_done(&r) || !cols || !rows) return stream_fail(st, E_BAD_FRAME, 0, "RESIZE: expected u16 cols, u16 rows, both > 0");
    launch_resize(&e->l, cols, rows);
  } else {
    stream_fail(st, E_BAD_FRAME, 0, "frame type 0x%02x (length %u) is not valid on an exec stream", type, len);
  }
}

static void exec_abort(stream_t *st) {
  exec_t *e = st->impl;
  if (e->l.job) TerminateJobObject(e->l.job, 0xC000013A /* STATUS_CONTROL_C_EXIT: the client went away */);
}

static void exec_free(void *impl) {
  exec_t *e = impl;
  for (chunk_t *c = e->head, *n; c; c = n) n = c->next, free(c);
  for (int i = 0; i < 4; i++)
    if (e->threads[i]) CloseHandle(e->threads[i]);
  HANDLE hs[] = {e->l.process, e->l.job, e->l.in_w, e->l.out_r, e->l.err_r};
  for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
    if (hs[i]) CloseHandle(hs[i]);
  launch_close_pty(&e->l);
  free(e);
}

static const stream_ops_t exec_ops = {exec_frame, exec_abort, exec_free};

static void free_strings(wchar_t **v, uint32_t n) {
  if (!v) return;
  for (uint32_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* Reads `n` strings; rejects env entries without a name (they would corrupt the block). */
static wchar_t **get_strings(rd_t *r, uint32_t n, int env) {
  wchar_t **v = calloc(n ? n : 1, sizeof *v);
  for (uint32_t i = 0; v && i < n && r->ok; i++) {
    v[i] = get_wstr(r, MAX_PATH_BYTES);
    if (env && v[i] && (!v[i][0] || !wcschr(v[i] + 1, L'='))) r->ok = 0;
  }
  return v;
}

static HANDLE start(LPTHREAD_START_ROUTINE fn, void *arg) { return CreateThread(NULL, 64 * 1024, fn, arg, 0, NULL); }

static void start_pump(stream_t *st, exec_t *e, int ch, int slot) {
  pump_arg_t *a = malloc(sizeof *a);
  a->st = st;
  a->ch = ch;
  stream_hold(st);
  e->threads[slot] = start(pump, a);
}

void exec_request(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  launch_req_t q = {0};
  q.flags = get_u32(&r);
  q.cols = get_u16(&r);
  q.rows = get_u16(&r);
  q.cwd = get_wstr(&r, MAX_PATH_BYTES);
  q.argc = get_u32(&r);
  if (q.argc > MAX_ARGS) r.ok = 0;
  if (r.ok) q.argv = get_strings(&r, q.argc, 0);
  q.envc = get_u32(&r);
  if (q.envc > MAX_ENV) r.ok = 0;
  if (r.ok) q.env = get_strings(&r, q.envc, 1);
  const char *bad = !rd_done(&r) ? "EXEC: expected u32 flags, u16 cols, u16 rows, string cwd, u32 argc (1..1024), "
                                   "argc strings, u32 envc (<= 4096), envc \"NAME=value\" strings"
                    : (q.flags & ~EXEC_KNOWN_FLAGS) ? "EXEC: unknown flag bits"
                    : q.argc == 0 || (q.argv && !q.argv[0][0]) ? "EXEC: argv[0] must be a non-empty string"
                    : (q.flags & EXEC_RAW_CMDLINE) && q.argc != 1 ? "EXEC: a raw command line is exactly one string"
                                                                  : NULL;
  if (bad) {
    send_error(s, id, E_BAD_FRAME, 0, "%s", bad);
  } else {
    exec_t *e = calloc(1, sizeof *e);
    stream_t *st = e ? stream_open(s, id, &exec_ops, e) : NULL;
    if (!st) {
      free(e);
    } else {
      DWORD win32;
      const char *what = NULL;
      int code = launch(&q, &e->l, &win32, &what);
      if (code) {
        stream_fail(st, (uint32_t)code, win32, "%s failed (error %lu)", what, win32);
      } else {
        uint8_t pid[4] = {(uint8_t)e->l.pid, (uint8_t)(e->l.pid >> 8), (uint8_t)(e->l.pid >> 16),
                          (uint8_t)(e->l.pid >> 24)};
        send_frame(s, T_STARTED, id, pid, 4);
        log_msg("stream %u: started pid %lu (%s)", id, e->l.pid, q.flags & EXEC_PTY ? "pty" : "pipes");
        start_pump(st, e, CH_OUT, 0);
        if (e->l.err_r) start_pump(st, e, CH_ERR, 1);
        stream_hold(st);
        e->threads[2] = start(stdin_writer, st);
        stream_hold(st);
        e->threads[3] = start(waiter, st);
      }
      stream_release(st);
    }
  }
  free(q.cwd);
  free_strings(q.argv, q.argc);
  free_strings(q.env, q.envc);
}
