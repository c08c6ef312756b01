/* The stdio pipes of a process HcsCreateProcess starts (stdio_pipe.c): the caller's end is
   handed over as it is (no relay for stdout/stderr), overlapped by default as real HCS's ends
   appear to be; the knob StdioPipes "Anonymous" gives CreatePipe's synchronous ends instead. */
#ifndef HCSSIM_STDIO_PIPE_H
#define HCSSIM_STDIO_PIPE_H
#include <windows.h>
#include "json.h"

/* Creates one stdio pipe. `childWrites`: stdout/stderr (the child writes, the caller reads);
   else stdin (the caller writes, the reader is `*childEnd`). Both ends are not inheritable.
   FALSE with GetLastError() on failure, nothing left open. */
BOOL stdio_pipe_create(int childWrites, HANDLE *callerEnd, HANDLE *childEnd);

/* SetConfig's "StdioPipes" ("Overlapped" | "Anonymous"); Reset goes back to Overlapped. */
void stdio_pipe_config(const jv *cfg);
void stdio_pipe_reset(void);
/* ,"StdioPipes":"..." for GetState's Config. */
const char *stdio_pipe_config_json(void);
#endif
