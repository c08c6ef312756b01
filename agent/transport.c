/*
 * The agent's transports. hvsock is the product's (a VM's agent, bound to the
 * wildcard VM id as disco-vm pkg/guest/listen_windows.go and appsandbox
 * tools/agent/agent.c do); pipe is the simulated host's (Wine has no AF_HYPERV,
 * VM-SANDBOXES.md §6); tcp is for debugging and binds loopback only, because
 * the agent runs commands as SYSTEM for whoever connects.
 */
#include "transport.h"
#include <hvsocket.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"

enum { K_SOCKET, K_PIPE };

struct conn {
  int kind;
  SOCKET s;
  HANDLE h;
  /* Named-pipe I/O is overlapped with one event per direction: on a handle opened
   * for synchronous I/O, a blocked ReadFile would hold up WriteFile from the
   * writer thread (the I/O manager serialises synchronous file objects). */
  HANDLE rd_event, wr_event;
  volatile LONG dead;
};

struct listener {
  int kind;
  SOCKET s;
  wchar_t pipe_name[300];
};

int parse_guid(const wchar_t *s, GUID *out) {
  wchar_t buf[40];
  size_t n = wcslen(s);
  if (n == 38 && s[0] == L'{' && s[37] == L'}') {
    wcsncpy(buf, s + 1, 36);
    buf[36] = 0;
    s = buf;
  } else if (n != 36) {
    return -1;
  }
  for (int i = 0; i < 36; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != L'-' : !iswxdigit(s[i])) return -1;
  }
  unsigned long d1;
  unsigned d2, d3, b[8];
  if (swscanf(s, L"%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &b[0], &b[1], &b[2], &b[3], &b[4],
              &b[5], &b[6], &b[7]) != 11)
    return -1;
  out->Data1 = d1;
  out->Data2 = (unsigned short)d2;
  out->Data3 = (unsigned short)d3;
  for (int i = 0; i < 8; i++) out->Data4[i] = (unsigned char)b[i];
  return 0;
}

static listener_t *listen_socket(int family, const struct sockaddr *addr, int addrlen, int protocol) {
  SOCKET s = socket(family, SOCK_STREAM, protocol);
  if (s == INVALID_SOCKET) {
    log_msg("socket(family %d) failed: WSA error %d", family, WSAGetLastError());
    return NULL;
  }
  if (bind(s, addr, addrlen) != 0 || listen(s, SOMAXCONN) != 0) {
    log_msg("bind/listen (family %d) failed: WSA error %d", family, WSAGetLastError());
    closesocket(s);
    return NULL;
  }
  listener_t *l = calloc(1, sizeof *l);
  l->kind = K_SOCKET;
  l->s = s;
  return l;
}

listener_t *listener_open(const wchar_t *spec) {
  if (!wcsncmp(spec, L"hvsock:", 7)) {
    SOCKADDR_HV a = {0};
    a.Family = AF_HYPERV_;
    a.VmId = HV_GUID_WILDCARD; /* any partition may connect; the ServiceTable's SDDL decides who */
    if (parse_guid(spec + 7, &a.ServiceId)) {
      log_msg("--listen hvsock:<service-guid>: not a GUID: %ls", spec + 7);
      return NULL;
    }
    return listen_socket(AF_HYPERV_, (struct sockaddr *)&a, sizeof a, HV_PROTOCOL_RAW_);
  }
  if (!wcsncmp(spec, L"tcp:", 4)) {
    wchar_t *end;
    unsigned long port = wcstoul(spec + 4, &end, 10);
    if (*end || !spec[4] || port > 65535) {
      log_msg("--listen tcp:<port>: not a port: %ls", spec + 4);
      return NULL;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((u_short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return listen_socket(AF_INET, (struct sockaddr *)&a, sizeof a, IPPROTO_TCP);
  }
  if (!wcsncmp(spec, L"pipe:", 5)) {
    const wchar_t *name = spec + 5;
    listener_t *l = calloc(1, sizeof *l);
    l->kind = K_PIPE;
    if (!wcsncmp(name, L"\\\\.\\pipe\\", 9)) name += 9;
    if (!*name || wcslen(name) > 256) {
      log_msg("--listen pipe:<name>: empty or too long");
      free(l);
      return NULL;
    }
    swprintf(l->pipe_name, 300, L"\\\\.\\pipe\\%ls", name);
    return l;
  }
  log_msg("--listen: expected hvsock:<guid>, pipe:<name> or tcp:<port>, got %ls", spec);
  return NULL;
}

static conn_t *new_conn(int kind) {
  conn_t *c = calloc(1, sizeof *c);
  c->kind = kind;
  c->s = INVALID_SOCKET;
  c->h = INVALID_HANDLE_VALUE;
  return c;
}

conn_t *conn_from_socket(SOCKET s) {
  conn_t *c = new_conn(K_SOCKET);
  c->s = s;
  return c;
}

conn_t *conn_from_pipe(HANDLE h) {
  conn_t *c = new_conn(K_PIPE);
  c->h = h;
  c->rd_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  c->wr_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  return c;
}

conn_t *listener_accept(listener_t *l, HANDLE stop) {
  if (l->kind == K_SOCKET) {
    for (;;) {
      if (WaitForSingleObject(stop, 0) == WAIT_OBJECT_0) return NULL;
      fd_set set;
      FD_ZERO(&set);
      FD_SET(l->s, &set);
      struct timeval tv = {0, 250000}; /* poll the stop event 4 times a second */
      int r = select(0, &set, NULL, NULL, &tv);
      if (r < 0) return NULL;
      if (r == 0) continue;
      SOCKET s = accept(l->s, NULL, NULL);
      if (s != INVALID_SOCKET) return conn_from_socket(s);
    }
  }
  /* A fresh pipe instance per client: PIPE_UNLIMITED_INSTANCES lets many sessions run at once. */
  HANDLE h = CreateNamedPipeW(l->pipe_name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                              PIPE_UNLIMITED_INSTANCES, 256 * 1024, 256 * 1024, 0, NULL);
  if (h == INVALID_HANDLE_VALUE) {
    log_msg("CreateNamedPipe %ls failed: %lu", l->pipe_name, GetLastError());
    return NULL;
  }
  OVERLAPPED ov = {0};
  ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  BOOL ok = ConnectNamedPipe(h, &ov);
  DWORD err = ok ? ERROR_PIPE_CONNECTED : GetLastError();
  if (err == ERROR_IO_PENDING) {
    HANDLE both[2] = {ov.hEvent, stop};
    if (WaitForMultipleObjects(2, both, FALSE, INFINITE) != WAIT_OBJECT_0) {
      CancelIoEx(h, &ov);
      DWORD n;
      GetOverlappedResult(h, &ov, &n, TRUE);
      CloseHandle(ov.hEvent);
      CloseHandle(h);
      return NULL;
    }
    DWORD n;
    err = GetOverlappedResult(h, &ov, &n, FALSE) ? ERROR_PIPE_CONNECTED : GetLastError();
  }
  CloseHandle(ov.hEvent);
  if (err != ERROR_PIPE_CONNECTED) {
    /* One client failing to connect (ERROR_NO_DATA: it connected and left before we
     * accepted, which the fuzz test does) must not stop the listener: next instance. */
    log_msg("pipe client did not connect (error %lu)", err);
    CloseHandle(h);
    return listener_accept(l, stop);
  }
  return conn_from_pipe(h);
}

void listener_close(listener_t *l) {
  if (l->kind == K_SOCKET) closesocket(l->s);
  free(l);
}

static int pipe_io(conn_t *c, int write, void *buf, DWORD n, DWORD *done) {
  OVERLAPPED ov = {0};
  ov.hEvent = write ? c->wr_event : c->rd_event;
  ResetEvent(ov.hEvent);
  BOOL ok = write ? WriteFile(c->h, buf, n, NULL, &ov) : ReadFile(c->h, buf, n, NULL, &ov);
  if (!ok && GetLastError() != ERROR_IO_PENDING) return -1;
  return GetOverlappedResult(c->h, &ov, done, TRUE) ? 0 : -1;
}

int conn_read_some(conn_t *c, void *buf, DWORD n, DWORD *got) {
  *got = 0;
  if (c->dead) return -1;
  if (c->kind == K_SOCKET) {
    int r = recv(c->s, buf, (int)(n > 1 << 20 ? 1 << 20 : n), 0);
    if (r < 0) return -1;
    *got = (DWORD)r;
    return 0;
  }
  if (pipe_io(c, 0, buf, n, got)) {
    /* A pipe reports the other end closing as ERROR_BROKEN_PIPE: that is EOF, not an error. */
    return GetLastError() == ERROR_BROKEN_PIPE || GetLastError() == ERROR_PIPE_NOT_CONNECTED ? 0 : -1;
  }
  return 0;
}

int conn_read(conn_t *c, void *buf, DWORD n) {
  char *p = buf;
  while (n) {
    DWORD got;
    if (conn_read_some(c, p, n, &got) || got == 0) return -1;
    p += got;
    n -= got;
  }
  return 0;
}

int conn_write(conn_t *c, const void *buf, DWORD n) {
  const char *p = buf;
  while (n) {
    if (c->dead) return -1;
    DWORD put = 0;
    if (c->kind == K_SOCKET) {
      int r = send(c->s, p, (int)(n > 1 << 20 ? 1 << 20 : n), 0);
      if (r <= 0) return -1;
      put = (DWORD)r;
    } else if (pipe_io(c, 1, (void *)p, n, &put) || put == 0) {
      return -1;
    }
    p += put;
    n -= put;
  }
  return 0;
}

void conn_shutdown(conn_t *c) {
  InterlockedExchange(&c->dead, 1);
  if (c->kind == K_SOCKET) {
    shutdown(c->s, SD_BOTH);
  } else {
    /* No DisconnectNamedPipe: it discards what the client has not read yet (such as the
     * FRAME_TOO_LARGE error just sent); closing the handle in conn_free keeps it readable. */
    CancelIoEx(c->h, NULL);
  }
}

void conn_free(conn_t *c) {
  if (c->kind == K_SOCKET) {
    closesocket(c->s);
  } else {
    CloseHandle(c->h);
    CloseHandle(c->rd_event);
    CloseHandle(c->wr_event);
  }
  free(c);
}
