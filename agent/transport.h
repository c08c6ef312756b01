/* Where the agent listens (hvsock:<guid> | pipe:<name> | tcp:<port>) and one accepted byte stream. */
#ifndef AGENT_TRANSPORT_H
#define AGENT_TRANSPORT_H
#include <winsock2.h>
#include <windows.h>

typedef struct conn conn_t;

typedef struct listener listener_t;

/* Parses and opens a listen spec. Returns NULL (and logs why) on failure. */
listener_t *listener_open(const wchar_t *spec);
/* Blocks for the next connection; NULL once `stop` is signalled or the listener broke. */
conn_t *listener_accept(listener_t *l, HANDLE stop);
void listener_close(listener_t *l);

/* Reads exactly n bytes; 0 on success, -1 on EOF or error. One reader thread at a time. */
int conn_read(conn_t *c, void *buf, DWORD n);
/* Reads what is available (at most n); *got 0 means EOF. 0 on success, -1 on error. */
int conn_read_some(conn_t *c, void *buf, DWORD n, DWORD *got);
/* Writes all n bytes; 0 on success, -1 on error. Callers serialise writers. */
int conn_write(conn_t *c, const void *buf, DWORD n);
/* Unblocks a pending read and makes further I/O fail (any thread). */
void conn_shutdown(conn_t *c);
void conn_free(conn_t *c);
/* Wraps a connected socket, or a pipe handle opened with FILE_FLAG_OVERLAPPED (the relay's side). */
conn_t *conn_from_socket(SOCKET s);
conn_t *conn_from_pipe(HANDLE h);

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (braces optional); 0 on success. */
int parse_guid(const wchar_t *s, GUID *out);

/* AF_HYPERV: MinGW's hvsocket.h has SOCKADDR_HV but not the family (VM-SANDBOXES.md §2;
 * appsandbox tools/agent/agent.c defines it the same way; go-winio hvsock.go uses 34). */
#define AF_HYPERV_ 34
#define HV_PROTOCOL_RAW_ 1

#endif
