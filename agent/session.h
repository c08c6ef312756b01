/*
 * One client connection: its reader loop, its open streams and the lock that
 * keeps frames from different threads whole on the wire.
 */
#ifndef AGENT_SESSION_H
#define AGENT_SESSION_H
#include <stdint.h>
#include "protocol.h"
#include "transport.h"

typedef struct session session_t;
typedef struct stream stream_t;

/* What a kind of stream does with follow-up frames and when its connection goes away. */
typedef struct {
  /* A frame for this open stream (not its opening request). Runs on the reader thread. */
  void (*on_frame)(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len);
  /* The connection is gone or the stream was aborted: stop work, kill processes. Any thread, once. */
  void (*on_abort)(stream_t *st);
  /* Frees impl when the last reference goes. */
  void (*free_impl)(void *impl);
} stream_ops_t;

struct stream {
  uint32_t id;
  session_t *session;
  const stream_ops_t *ops;
  void *impl;
  volatile LONG refs;
  CRITICAL_SECTION lock;
  CONDITION_VARIABLE cv;
  /* Credit the agent may still spend sending on CH_OUT / CH_ERR (granted by WINDOW frames). */
  uint32_t out_credit[3];
  /* Bytes the client may still send on CH_IN before we grant more. */
  uint32_t in_credit;
  int aborted; /* under lock: no more work, wake every waiter */
  volatile LONG ended; /* a terminal frame was sent (or the stream was dropped) */
};

/* Thread entry: serves one connection until it closes, then frees it. */
DWORD WINAPI session_thread(void *conn);

/* Sends one frame. `buf` must have FRAME_HEADER writable bytes before the payload
 * at buf + FRAME_HEADER (so data frames go out in one write). 0 on success. */
int send_framed(session_t *s, uint8_t type, uint32_t id, uint8_t *buf, uint32_t payload_len);
/* Sends one frame from a payload anywhere in memory. */
int send_frame(session_t *s, uint8_t type, uint32_t id, const void *payload, uint32_t len);
int send_error(session_t *s, uint32_t id, uint32_t code, uint32_t win32, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Registers a new stream for a request; NULL (and an error frame sent) when the id is 0,
 * in use, or the connection has too many streams. The caller owns one reference. */
stream_t *stream_open(session_t *s, uint32_t id, const stream_ops_t *ops, void *impl);
void stream_hold(stream_t *st);
void stream_release(stream_t *st);
/* Sends the stream's terminal frame once and removes it from the connection; 0 if already ended. */
int stream_end(stream_t *st, uint8_t type, const void *payload, uint32_t len);
/* Ends the stream with an error frame and aborts its work (a protocol violation or a failure). */
void stream_fail(stream_t *st, uint32_t code, uint32_t win32, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Blocks until there is credit on `ch`, then takes up to `want`; 0 once aborted. */
uint32_t credit_take(stream_t *st, int ch, uint32_t want);
void credit_return(stream_t *st, int ch, uint32_t n);
/* A WINDOW frame from the client; 0 if it parses and keeps credit bounded. */
int credit_grant(stream_t *st, const uint8_t *p, uint32_t len);
/* Accounts n inbound bytes against the client's window; 0 if within it. */
int credit_consume_in(stream_t *st, uint32_t n);
/* Gives n inbound bytes of window back to the client (a WINDOW frame on CH_IN). */
void credit_give_in(stream_t *st, uint32_t n);

/* Set by SHUTDOWN in --console mode (and by the service's stop control). */
extern HANDLE g_stop_event;
extern int g_console_mode;

#endif
