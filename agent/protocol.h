/*
 * The agent's wire protocol: numbers only. docs/agent-protocol.md is the
 * normative description; src/sandbox/agent/protocol.ts mirrors these values
 * for the host side. Change both together and bump PROTO_VERSION when a
 * message's layout changes.
 */
#ifndef AGENT_PROTOCOL_H
#define AGENT_PROTOCOL_H

#define PROTO_VERSION 1
#define AGENT_VERSION "0.1.0"

/* Header: u32 LE payload length, u8 type, u32 LE stream id. */
#define FRAME_HEADER 9
/* The largest payload either side may send. A bigger length cannot be skipped
 * safely (it may be a desynchronised stream), so it ends the connection. */
#define MAX_PAYLOAD (1024u * 1024u)
/* Data frames (stdout/stderr/file data) the agent sends are at most this big. */
#define DATA_CHUNK (64u * 1024u)
/* Flow-control credit per direction per stream, announced in READY. */
#define INITIAL_WINDOW (1024u * 1024u)
/* Open streams per connection: bounds the threads and handles one client can hold. */
#define MAX_STREAMS 256

enum frame_type {
  T_HELLO = 0x01, T_READY = 0x02, T_ERROR = 0x03, T_PING = 0x04, T_PONG = 0x05,
  T_EXEC = 0x10, T_STARTED = 0x11, T_STDIN = 0x12, T_STDIN_EOF = 0x13, T_STDOUT = 0x14,
  T_STDERR = 0x15, T_WINDOW = 0x16, T_EXIT = 0x17, T_KILL = 0x18, T_RESIZE = 0x19,
  T_FILE_PUT = 0x20, T_FILE_GET = 0x21, T_FILE_INFO = 0x22, T_FILE_DATA = 0x23, T_FILE_EOF = 0x24,
  T_STAT = 0x25, T_LIST = 0x26, T_LIST_ENTRIES = 0x27, T_REMOVE = 0x28, T_DONE = 0x29,
  T_SHUTDOWN = 0x30,
};

enum error_code {
  E_BAD_FRAME = 1,      /* a payload does not parse as its type says */
  E_FRAME_TOO_LARGE = 2, /* length above MAX_PAYLOAD: the connection is closed after this */
  E_UNKNOWN_TYPE = 3,
  E_BAD_STREAM = 4,     /* stream id 0 where a stream is needed, in use, or unknown */
  E_VERSION = 5,        /* no protocol version in common */
  E_NOT_READY = 6,      /* a request before HELLO */
  E_FLOW = 7,           /* more data than the granted window */
  E_WIN32 = 8,          /* a Windows call failed: win32 field holds GetLastError() */
  E_UNSUPPORTED = 9,    /* e.g. no pseudo console on this build, no interactive user */
  E_LIMIT = 10,         /* too many open streams */
  E_CANCELLED = 11,     /* the client sent KILL on a file stream */
};

/* EXEC flags */
#define EXEC_INTERACTIVE 0x1u /* in the active console session's user, not SYSTEM */
#define EXEC_PTY 0x2u         /* attach a pseudo console of cols x rows */
#define EXEC_RAW_CMDLINE 0x4u /* argv has one element: the command line, verbatim */
#define EXEC_ENV_REPLACE 0x8u /* env replaces the base environment instead of overriding it */
#define EXEC_KNOWN_FLAGS 0xFu

/* WINDOW channels */
#define CH_IN 0  /* client -> agent: STDIN, FILE_DATA of a put */
#define CH_OUT 1 /* agent -> client: STDOUT, FILE_DATA of a get */
#define CH_ERR 2 /* agent -> client: STDERR */

#define PUT_MKDIRS 0x1u     /* create missing parent directories */
#define REMOVE_RECURSIVE 0x1u
#define SHUTDOWN_FLAG_RESTART 0x1u
#define SHUTDOWN_FLAG_FORCE 0x2u

/* Bounds on request contents, so one frame cannot make the agent allocate without limit. */
#define MAX_ARGS 1024
#define MAX_ENV 4096
#define MAX_PATH_BYTES 32767

#endif
