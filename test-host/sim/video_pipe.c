/* The simulated video monitor pipe of a running VM (video_pipe.h).

   What a real host does, and the evidence:
   1. The VM worker serves the VM's emulated video card as an RDP server ("basic session") on the
      named pipe the create document names in Devices.VideoMonitor.ConnectionOptions.NamedPipe
      (schema RdpConnectionOptions {AccessSids, NamedPipe}, shared/reference/hcs-schema). NanaBox
      writes "\\.\pipe\<Name>.BasicSession" there and its viewer connects to exactly that name
      (M2Team/NanaBox NanaBox/ConfigurationManager.cpp MakeHcsConfiguration, MainWindow.cpp
      RdpClientConnect); disco-vm writes "\\.\pipe\disco-vm-console-<id>" and relays its viewer's
      loopback port to it (discobox-ai/vm pkg/machine/hcs/config_windows.go videoMonitor,
      console_windows.go consolePipe/openViewer). So the pipe exists while the VM runs, under the
      document's name.
   2. A VideoMonitor without ConnectionOptions (hcsshim's create_wcow.go puts an empty one) serves
      on a name nobody has published: GUESS, the simulator serves nothing then.
   3. "The console takes one viewer at a time; a second connection takes it over from the first"
      (disco-vm console_windows.go): a new pipe client cuts the previous one off.
   4. The pipe stays while the VM is paused (the worker process lives on; GUESS that the pipe does),
      and goes when the VM stops (the worker exits).
   5. AccessSids restrict who may open the pipe: not simulated (GUESS: Wine pipes have no ACLs
      worth the name), nor is a second VM naming the same pipe.

   What the simulator puts behind the pipe: nothing can render a Windows desktop here, so each
   client is relayed byte for byte to the TCP address in the service's environment variable
   HCSSIM_VIDEO_TCP ("127.0.0.1:3390"), where a test runs a real RDP server (freerdp-shadow-cli
   under Xvfb; Wine's sockets are Linux sockets). Without the knob the client is accepted and held
   (what it sends is read and dropped) until it leaves or the VM stops: the pipe accepting a
   connection is then all there is to observe, as a boot probe would. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "video_pipe.h"

#define VP_BUF 65536

typedef struct vp_session {
    HANDLE pipe;
    SOCKET sock;          /* INVALID_SOCKET when held (no knob) */
    HANDLE stop;          /* manual reset: set to end the session */
    volatile LONG refs;   /* the served pipe's `current` + one per pump thread */
} vp_session;

typedef struct vp_entry {
    struct vp_entry *next;
    char *system_id;
    WCHAR *name;
    HANDLE stop;          /* manual reset: set when the VM stops */
    vp_session *current;  /* under g_vp_lock */
    volatile LONG refs;   /* the list + the accept thread */
} vp_entry;

static CRITICAL_SECTION g_vp_lock;
static INIT_ONCE g_vp_once = INIT_ONCE_STATIC_INIT;
static vp_entry *g_vp_list;

static BOOL CALLBACK vp_init(PINIT_ONCE once, PVOID p, PVOID *ctx) {
    (void)once; (void)p; (void)ctx;
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    InitializeCriticalSection(&g_vp_lock);
    return TRUE;
}

static void session_release(vp_session *s) {
    if (InterlockedDecrement(&s->refs) > 0) return;
    if (s->sock != INVALID_SOCKET) closesocket(s->sock);
    DisconnectNamedPipe(s->pipe);
    CloseHandle(s->pipe);
    CloseHandle(s->stop);
    free(s);
}

/* One side ended: the other side sees its end at once (the server a FIN, the pipe client a broken
   pipe), the other pump stops, and the handles stay valid until the last reference goes. */
static void session_end(vp_session *s) {
    SetEvent(s->stop);
    if (s->sock != INVALID_SOCKET) shutdown(s->sock, SD_BOTH);
    DisconnectNamedPipe(s->pipe);
}

static void entry_release(vp_entry *e) {
    if (InterlockedDecrement(&e->refs) > 0) return;
    CloseHandle(e->stop);
    free(e->system_id);
    free(e->name);
    free(e);
}

/* Waits for an overlapped pipe operation, or cancels it when the session stops. 1: done, n set. */
static int pipe_io_wait(vp_session *s, OVERLAPPED *ov, DWORD *n) {
    HANDLE hs[2] = { ov->hEvent, s->stop };
    if (WaitForMultipleObjects(2, hs, FALSE, INFINITE) != WAIT_OBJECT_0) {
        CancelIoEx(s->pipe, ov);
        GetOverlappedResult(s->pipe, ov, n, TRUE);
        return 0;
    }
    return GetOverlappedResult(s->pipe, ov, n, FALSE) ? 1 : 0;
}

static int pipe_read(vp_session *s, OVERLAPPED *ov, char *buf, DWORD *n) {
    ResetEvent(ov->hEvent);
    if (!ReadFile(s->pipe, buf, VP_BUF, NULL, ov) && GetLastError() != ERROR_IO_PENDING) return 0;
    return pipe_io_wait(s, ov, n) && *n > 0;
}

static int pipe_write_all(vp_session *s, OVERLAPPED *ov, const char *buf, DWORD len) {
    while (len > 0) {
        DWORD n = 0;
        ResetEvent(ov->hEvent);
        if (!WriteFile(s->pipe, buf, len, NULL, ov) && GetLastError() != ERROR_IO_PENDING) return 0;
        if (!pipe_io_wait(s, ov, &n) || n == 0) return 0;
        buf += n; len -= n;
    }
    return 1;
}

/* The same for the socket: overlapped WSARecv/WSASend, cancelled when the session stops. */
static int sock_io_wait(vp_session *s, WSAOVERLAPPED *ov, DWORD *n) {
    DWORD flags = 0;
    HANDLE hs[2] = { ov->hEvent, s->stop };
    if (WaitForMultipleObjects(2, hs, FALSE, INFINITE) != WAIT_OBJECT_0) {
        CancelIoEx((HANDLE)s->sock, ov);
        WSAGetOverlappedResult(s->sock, ov, n, TRUE, &flags);
        return 0;
    }
    return WSAGetOverlappedResult(s->sock, ov, n, FALSE, &flags) ? 1 : 0;
}

static int sock_recv(vp_session *s, WSAOVERLAPPED *ov, char *buf, DWORD *n) {
    WSABUF b = { VP_BUF, buf };
    DWORD flags = 0;
    WSAResetEvent(ov->hEvent);
    if (WSARecv(s->sock, &b, 1, NULL, &flags, ov, NULL) == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) return 0;
    return sock_io_wait(s, ov, n) && *n > 0;
}

static int sock_send_all(vp_session *s, WSAOVERLAPPED *ov, char *buf, DWORD len) {
    while (len > 0) {
        WSABUF b = { len, buf };
        DWORD n = 0;
        WSAResetEvent(ov->hEvent);
        if (WSASend(s->sock, &b, 1, NULL, 0, ov, NULL) == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) return 0;
        if (!sock_io_wait(s, ov, &n) || n == 0) return 0;
        buf += n; len -= n;
    }
    return 1;
}

/* One direction of a session until either side ends or the session stops: pipe -> socket (held:
   pipe -> nowhere) when fromPipe, else socket -> pipe. */
static void pump(vp_session *s, int fromPipe) {
    char *buf = malloc(VP_BUF);
    OVERLAPPED rov, wov; /* WSAOVERLAPPED is the same structure, and a WSAEVENT an event handle */
    memset(&rov, 0, sizeof rov); memset(&wov, 0, sizeof wov);
    rov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    wov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD n;
    while (buf && (fromPipe ? pipe_read(s, &rov, buf, &n) : sock_recv(s, &rov, buf, &n))) {
        int ok = fromPipe ? (s->sock == INVALID_SOCKET || sock_send_all(s, &wov, buf, n)) : pipe_write_all(s, &wov, buf, n);
        if (!ok) break;
    }
    session_end(s);
    CloseHandle(rov.hEvent); CloseHandle(wov.hEvent);
    free(buf);
    session_release(s);
}
static DWORD WINAPI pump_from_pipe(void *arg) { pump(arg, 1); return 0; }
static DWORD WINAPI pump_from_socket(void *arg) { pump(arg, 0); return 0; }

/* The knob's "host:port" as a connected socket, or INVALID_SOCKET (no knob, or unreachable). */
static SOCKET connect_target(int *configured) {
    char target[128];
    DWORD len = GetEnvironmentVariableA("HCSSIM_VIDEO_TCP", target, sizeof target);
    *configured = len > 0 && len < sizeof target;
    if (!*configured) return INVALID_SOCKET;
    char *colon = strrchr(target, ':');
    if (!colon) return INVALID_SOCKET;
    *colon = 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(target, colon + 1, &hints, &res) != 0 || !res) return INVALID_SOCKET;
    SOCKET sock = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (sock != INVALID_SOCKET && connect(sock, res->ai_addr, (int)res->ai_addrlen) != 0) {
        closesocket(sock);
        sock = INVALID_SOCKET;
    }
    freeaddrinfo(res);
    if (sock != INVALID_SOCKET) {
        BOOL on = TRUE; /* RDP is interactive: no Nagle delay on the relayed frames */
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, sizeof on);
    }
    return sock;
}

/* A client connected to e's pipe: it becomes the one viewer (rule 3) and is relayed or held. */
static void start_session(vp_entry *e, HANDLE pipe) {
    int configured;
    SOCKET sock = connect_target(&configured);
    if (configured && sock == INVALID_SOCKET) { /* the knob's server is not there: the client sees the pipe close */
        DisconnectNamedPipe(pipe);
        CloseHandle(pipe);
        return;
    }
    vp_session *s = calloc(1, sizeof *s);
    s->pipe = pipe;
    s->sock = sock;
    s->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    s->refs = sock == INVALID_SOCKET ? 2 : 3;
    EnterCriticalSection(&g_vp_lock);
    vp_session *old = e->current;
    e->current = s;
    LeaveCriticalSection(&g_vp_lock);
    if (old) { session_end(old); session_release(old); }
    HANDLE t = CreateThread(NULL, 64 * 1024, pump_from_pipe, s, 0, NULL);
    if (t) CloseHandle(t); else { session_end(s); session_release(s); }
    if (sock != INVALID_SOCKET) {
        t = CreateThread(NULL, 64 * 1024, pump_from_socket, s, 0, NULL);
        if (t) CloseHandle(t); else { session_end(s); session_release(s); }
    }
}

/* Serves e's pipe until the VM stops: one listening instance at a time, each client a session. */
static DWORD WINAPI accept_thread(void *arg) {
    vp_entry *e = arg;
    HANDLE connected = CreateEventW(NULL, TRUE, FALSE, NULL);
    while (WaitForSingleObject(e->stop, 0) != WAIT_OBJECT_0) {
        HANDLE pipe = CreateNamedPipeW(e->name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                                       PIPE_UNLIMITED_INSTANCES, VP_BUF, VP_BUF, 0, NULL);
        if (pipe == INVALID_HANDLE_VALUE) { WaitForSingleObject(e->stop, 200); continue; }
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ResetEvent(connected);
        ov.hEvent = connected;
        BOOL ok = ConnectNamedPipe(pipe, &ov);
        DWORD err = GetLastError(), n;
        if (!ok && err == ERROR_IO_PENDING) {
            HANDLE hs[2] = { connected, e->stop };
            if (WaitForMultipleObjects(2, hs, FALSE, INFINITE) != WAIT_OBJECT_0) {
                CancelIoEx(pipe, &ov);
                GetOverlappedResult(pipe, &ov, &n, TRUE);
                CloseHandle(pipe);
                break;
            }
            ok = GetOverlappedResult(pipe, &ov, &n, FALSE);
        } else if (!ok && err == ERROR_PIPE_CONNECTED) {
            ok = TRUE;
        }
        if (!ok || WaitForSingleObject(e->stop, 0) == WAIT_OBJECT_0) { CloseHandle(pipe); continue; }
        start_session(e, pipe);
    }
    CloseHandle(connected);
    entry_release(e);
    return 0;
}

/* Devices.VideoMonitor.ConnectionOptions.NamedPipe of a VM document, if it names a pipe (rules 1-2). */
static const char *pipe_name_of(const jv *doc) {
    jv *video = jget(jget(jget(doc, "VirtualMachine"), "Devices"), "VideoMonitor");
    const char *name = jgets(jget(video, "ConnectionOptions"), "NamedPipe");
    return name && !_strnicmp(name, "\\\\.\\pipe\\", 9) && name[9] ? name : NULL;
}

void video_pipe_start(const char *system_id, const jv *doc) {
    const char *name = pipe_name_of(doc);
    if (!system_id || !name) return;
    InitOnceExecuteOnce(&g_vp_once, vp_init, NULL, NULL);
    vp_entry *e = calloc(1, sizeof *e);
    e->system_id = xstrdup(system_id);
    e->name = u2w(name);
    e->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    e->refs = 2;
    EnterCriticalSection(&g_vp_lock);
    e->next = g_vp_list;
    g_vp_list = e;
    LeaveCriticalSection(&g_vp_lock);
    HANDLE t = CreateThread(NULL, 64 * 1024, accept_thread, e, 0, NULL);
    if (t) CloseHandle(t); else entry_release(e);
}

void video_pipe_stop(const char *system_id) {
    if (!system_id) return;
    InitOnceExecuteOnce(&g_vp_once, vp_init, NULL, NULL);
    EnterCriticalSection(&g_vp_lock);
    vp_entry **pp = &g_vp_list;
    while (*pp && strcmp((*pp)->system_id, system_id)) pp = &(*pp)->next;
    vp_entry *e = *pp;
    vp_session *s = NULL;
    if (e) { *pp = e->next; s = e->current; e->current = NULL; }
    LeaveCriticalSection(&g_vp_lock);
    if (!e) return;
    SetEvent(e->stop);
    if (s) { session_end(s); session_release(s); }
    entry_release(e);
}
