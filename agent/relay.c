/*
 * hvsock-relay.exe: lets Node (which cannot open AF_HYPERV sockets) talk to a
 * VM's agent through a child process's stdin/stdout, the pattern of appsandbox
 * vm_ssh_proxy.c and disco-vm console_windows.go (VM-SANDBOXES.md §2).
 *   hvsock-relay [--wait-ms N] <vm-id> <service-guid>   connect over AF_HYPERV
 *   hvsock-relay [--wait-ms N] --pipe <name>            dial a named pipe (the simulated host)
 * --wait-ms retries the connection until the agent listens (readiness), up to N ms.
 * Exit codes: 0 the agent or stdin closed; 2 usage; 3 could not connect; 4 I/O error.
 * Nothing but relayed bytes goes to stdout; diagnostics go to stderr.
 */
#include <winsock2.h>
#include <windows.h>
#include <hvsocket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transport.h"

#define CHUNK (64 * 1024)

static DWORD WINAPI stdin_to_conn(void *arg) {
  conn_t *c = arg;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  char *buf = malloc(CHUNK);
  DWORD n;
  while (ReadFile(in, buf, CHUNK, &n, NULL) && n)
    if (conn_write(c, buf, n)) {
      log_msg("hvsock-relay: write to the agent failed");
      ExitProcess(4);
    }
  /* The host closed our stdin: it is done with this connection. */
  ExitProcess(0);
}

static conn_t *dial_pipe(const wchar_t *name, DWORD wait_ms) {
  wchar_t path[300];
  if (!wcsncmp(name, L"\\\\.\\pipe\\", 9)) name += 9;
  if (!*name || wcslen(name) > 256) return NULL;
  swprintf(path, 300, L"\\\\.\\pipe\\%ls", name);
  ULONGLONG end = GetTickCount64() + wait_ms;
  for (;;) {
    HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (h != INVALID_HANDLE_VALUE) return conn_from_pipe(h);
    DWORD err = GetLastError();
    if (err == ERROR_PIPE_BUSY) WaitNamedPipeW(path, 100);
    else if (err != ERROR_FILE_NOT_FOUND || GetTickCount64() >= end) {
      log_msg("hvsock-relay: cannot open %ls (error %lu)", path, err);
      return NULL;
    }
    else Sleep(50);
  }
}

static conn_t *dial_hvsock(const wchar_t *vm, const wchar_t *service, DWORD wait_ms) {
  SOCKADDR_HV a = {0};
  a.Family = AF_HYPERV_;
  if (parse_guid(vm, &a.VmId) || parse_guid(service, &a.ServiceId)) {
    log_msg("hvsock-relay: <vm-id> and <service-guid> must be GUIDs");
    return NULL;
  }
  ULONGLONG end = GetTickCount64() + wait_ms;
  for (;;) {
    SOCKET s = socket(AF_HYPERV_, SOCK_STREAM, HV_PROTOCOL_RAW_);
    if (s == INVALID_SOCKET) {
      /* Wine: WSAEAFNOSUPPORT (VM-SANDBOXES.md §6); only --pipe works there. */
      log_msg("hvsock-relay: socket(AF_HYPERV) failed: WSA error %d", WSAGetLastError());
      return NULL;
    }
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) return conn_from_socket(s);
    int err = WSAGetLastError();
    closesocket(s);
    if (GetTickCount64() >= end) {
      log_msg("hvsock-relay: connect to %ls/%ls failed: WSA error %d", vm, service, err);
      return NULL;
    }
    Sleep(200);
  }
}

static int usage(void) {
  log_msg("usage: hvsock-relay [--wait-ms N] <vm-id> <service-guid> | hvsock-relay [--wait-ms N] --pipe <name>");
  return 2;
}

int wmain(int argc, wchar_t **argv) {
  log_open(L"", 1);
  DWORD wait_ms = 0;
  int i = 1;
  if (i + 1 < argc && !wcscmp(argv[i], L"--wait-ms")) {
    wchar_t *end;
    wait_ms = wcstoul(argv[i + 1], &end, 10);
    if (*end || !argv[i + 1][0] || wait_ms > 600000) return usage();
    i += 2;
  }
  if (argc - i != 2) return usage();
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  conn_t *c = !wcscmp(argv[i], L"--pipe") ? dial_pipe(argv[i + 1], wait_ms) : dial_hvsock(argv[i], argv[i + 1], wait_ms);
  if (!c) return 3;
  HANDLE t = CreateThread(NULL, 0, stdin_to_conn, c, 0, NULL);
  if (!t) return 4;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  char *buf = malloc(CHUNK);
  for (;;) {
    DWORD n = 0, wrote;
    if (conn_read_some(c, buf, CHUNK, &n) || n == 0) ExitProcess(0); /* the agent closed */
    if (!WriteFile(out, buf, n, &wrote, NULL)) ExitProcess(0);      /* the host stopped reading */
  }
}
