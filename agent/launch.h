/* Starting one exec'd process: command line, environment, token, pseudo console, job object. */
#ifndef AGENT_LAUNCH_H
#define AGENT_LAUNCH_H
#include <windows.h>
#include <stdint.h>

typedef struct {
  uint32_t flags;
  uint16_t cols, rows;
  wchar_t *cwd;      /* NULL or empty: the agent's own */
  wchar_t **argv;    /* argc strings */
  uint32_t argc;
  wchar_t **env;     /* envc "NAME=value" strings */
  uint32_t envc;
} launch_req_t;

typedef struct {
  HANDLE process, job;
  HANDLE in_w, out_r, err_r; /* err_r is NULL with a pseudo console (it has one output) */
  void *pty;                 /* HPCON, or NULL */
  DWORD pid;
} launch_t;

/* Starts the process inside a new job (killed with the job). On failure returns a
 * protocol error code, sets *win32 and a static description of the failing step in *what. */
int launch(const launch_req_t *req, launch_t *out, DWORD *win32, const char **what);
void launch_resize(launch_t *l, uint16_t cols, uint16_t rows);
/* Closes the pseudo console so the output pipe reaches EOF (disco-vm docs/drivers/hcs.md:
 * ConPTY output never ends while the console is open). */
void launch_close_pty(launch_t *l);

/* The Windows command line for argv (CommandLineToArgvW's quoting rules); free(). */
wchar_t *build_cmdline(wchar_t **argv, uint32_t argc);

#endif
