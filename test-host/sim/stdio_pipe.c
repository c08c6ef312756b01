/* The stdio pipes of a simulated process (stdio_pipe.h).

   What a real host hands the caller, and the evidence:
   1. HcsCreateProcess returns the process's stdio as HANDLEs in HCS_PROCESS_INFORMATION
      (StdInput/StdOutput/StdError, "standard input handle of the process",
      learn.microsoft.com/virtualization/api/hcs/reference/hcs_process_information): the caller
      reads and writes those handles directly. The simulator does the same for stdout/stderr: the
      read end of the pipe the child writes to is duplicated into the caller (service.c
      dup_to_client), no relay thread and no copy in between. (stdin keeps the service's relay,
      which is what lets HcsModifyProcess close the child's stdin while the caller's end is open.)
   2. hcsshim wraps each of those handles with go-winio's NewOpenFile (hcsshim
      internal/hcs/process.go Stdio/StdioLegacy -> internal/hcs/utils.go makeOpenFiles), which
      binds the handle to an I/O completion port and issues overlapped ReadFile/WriteFile on it
      (go-winio file.go makeWin32File: createIoCompletionPort + FILE_SKIP_COMPLETION_PORT_ON_SUCCESS;
      win32File.Read). CreateIoCompletionPort requires a handle opened for overlapped I/O
      (learn.microsoft.com/windows/win32/api/ioapiset/nf-ioapiset-createiocompletionport). So the
      caller's ends are overlapped: the simulator creates a named pipe whose server end
      (FILE_FLAG_OVERLAPPED) goes to the caller, and whose client end (synchronous, as a
      console program's stdio is) goes to the child. Whether real HCS's end is the server or the
      client end, and its buffer size, is a GUESS (the probe sandbox.stdio-pipe-kind records it;
      docs/windows-verification.md row 6). The buffer is 64 KiB, what libuv gives its own
      children's stdio pipes.
   3. Knob StdioPipes "Anonymous": CreatePipe's synchronous ends, as this simulator used to hand
      out, so a caller can be tested against both kinds. */
#include "stdio_pipe.h"
#include <stdio.h>
#include <string.h>

#define STDIO_PIPE_BUFFER 65536

static int g_anonymous = 0;

static BOOL anonymous_pipe(int childWrites, HANDLE *callerEnd, HANDLE *childEnd) {
    HANDLE r = NULL, w = NULL;
    if (!CreatePipe(&r, &w, NULL, 0)) return FALSE;
    *callerEnd = childWrites ? r : w;
    *childEnd = childWrites ? w : r;
    return TRUE;
}

static BOOL overlapped_pipe(int childWrites, HANDLE *callerEnd, HANDLE *childEnd) {
    static volatile LONG serial = 0;
    WCHAR name[96];
    swprintf(name, 96, L"\\\\.\\pipe\\hcssim-stdio-%lu-%ld", (unsigned long)GetCurrentProcessId(),
             (long)InterlockedIncrement(&serial));
    DWORD direction = childWrites ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND;
    HANDLE server = CreateNamedPipeW(name, direction | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                     PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
                                     STDIO_PIPE_BUFFER, STDIO_PIPE_BUFFER, 0, NULL);
    if (server == INVALID_HANDLE_VALUE) return FALSE;
    /* FILE_READ_ATTRIBUTES / FILE_WRITE_ATTRIBUTES so the child can query and set its pipe's mode. */
    DWORD access = childWrites ? GENERIC_WRITE | FILE_READ_ATTRIBUTES : GENERIC_READ | FILE_WRITE_ATTRIBUTES;
    HANDLE client = CreateFileW(name, access, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        CloseHandle(server);
        SetLastError(e);
        return FALSE;
    }
    *callerEnd = server;
    *childEnd = client;
    return TRUE;
}

BOOL stdio_pipe_create(int childWrites, HANDLE *callerEnd, HANDLE *childEnd) {
    *callerEnd = *childEnd = NULL;
    return g_anonymous ? anonymous_pipe(childWrites, callerEnd, childEnd) : overlapped_pipe(childWrites, callerEnd, childEnd);
}

void stdio_pipe_config(const jv *cfg) {
    const char *kind = jgets(cfg, "StdioPipes");
    if (kind && !_stricmp(kind, "Anonymous")) g_anonymous = 1;
    else if (kind && !_stricmp(kind, "Overlapped")) g_anonymous = 0;
}

void stdio_pipe_reset(void) { g_anonymous = 0; }

const char *stdio_pipe_config_json(void) {
    return g_anonymous ? ",\"StdioPipes\":\"Anonymous\"" : ",\"StdioPipes\":\"Overlapped\"";
}
