/*
 * Process creation for EXEC. The process starts suspended, joins a job object
 * (so KILL and a lost connection take its whole tree, which a plain
 * TerminateProcess would not), then resumes. As SYSTEM it inherits the
 * agent's token; EXEC_INTERACTIVE uses the active console session's user
 * token (WTSQueryUserToken + CreateProcessAsUserW, as appsandbox
 * tools/agent/agent.c reaches the user's desktop).
 */
#include "launch.h"
#include <stdlib.h>
#include <string.h>
#include <userenv.h>
#include <wtsapi32.h>
#include "protocol.h"

typedef HRESULT(WINAPI *create_pc_fn)(COORD, HANDLE, HANDLE, DWORD, void **);
typedef HRESULT(WINAPI *resize_pc_fn)(void *, COORD);
typedef void(WINAPI *close_pc_fn)(void *);

/* Looked up at run time: builds before 1809 have no ConPTY, and the agent must still start there. */
static void *conpty(const char *name) { return (void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), name); }

wchar_t *build_cmdline(wchar_t **argv, uint32_t argc) {
  size_t cap = 1;
  for (uint32_t i = 0; i < argc; i++) cap += wcslen(argv[i]) * 2 + 3;
  wchar_t *out = malloc(cap * sizeof(wchar_t)), *o = out;
  if (!out) return NULL;
  for (uint32_t i = 0; i < argc; i++) {
    const wchar_t *a = argv[i];
    if (i) *o++ = L' ';
    int quote = !*a || wcspbrk(a, L" \t\n\v\"");
    if (!quote) {
      wcscpy(o, a);
      o += wcslen(a);
      continue;
    }
    *o++ = L'"';
    for (;;) {
      size_t slashes = 0;
      while (*a == L'\\') a++, slashes++;
      if (!*a) { /* backslashes before the closing quote are doubled */
        for (size_t k = 0; k < slashes * 2; k++) *o++ = L'\\';
        break;
      }
      if (*a == L'"') { /* backslashes before a quote are doubled, and the quote escaped */
        for (size_t k = 0; k < slashes * 2 + 1; k++) *o++ = L'\\';
      } else {
        for (size_t k = 0; k < slashes; k++) *o++ = L'\\';
      }
      *o++ = *a++;
    }
    *o++ = L'"';
  }
  *o = 0;
  return out;
}

static size_t name_len(const wchar_t *entry) {
  /* "=C:=C:\x" style entries start with '=': the name runs to the second '='. */
  const wchar_t *eq = wcschr(entry + 1, L'=');
  return eq ? (size_t)(eq - entry) : wcslen(entry);
}

static int has_name(wchar_t **env, uint32_t n, const wchar_t *entry) {
  size_t len = name_len(entry);
  for (uint32_t i = 0; i < n; i++)
    if (name_len(env[i]) == len && !_wcsnicmp(env[i], entry, len)) return 1;
  return 0;
}

/* The request's entries first, then the base block's entries they do not override. */
static wchar_t *build_env(const launch_req_t *req, const wchar_t *base) {
  size_t total = 1;
  for (uint32_t i = 0; i < req->envc; i++) total += wcslen(req->env[i]) + 1;
  if (base && !(req->flags & EXEC_ENV_REPLACE))
    for (const wchar_t *e = base; *e; e += wcslen(e) + 1) total += wcslen(e) + 1;
  wchar_t *block = malloc((total + 1) * sizeof(wchar_t)), *o = block;
  if (!block) return NULL;
  for (uint32_t i = 0; i < req->envc; i++) {
    wcscpy(o, req->env[i]);
    o += wcslen(o) + 1;
  }
  if (base && !(req->flags & EXEC_ENV_REPLACE))
    for (const wchar_t *e = base; *e; e += wcslen(e) + 1)
      if (!has_name(req->env, req->envc, e)) {
        wcscpy(o, e);
        o += wcslen(o) + 1;
      }
  if (o == block) *o++ = 0; /* an empty block still needs two NULs */
  *o = 0;
  return block;
}

static HANDLE interactive_token(DWORD *win32) {
  DWORD session = WTSGetActiveConsoleSessionId();
  HANDLE token = NULL;
  if (session == 0xFFFFFFFF || !WTSQueryUserToken(session, &token)) {
    *win32 = session == 0xFFFFFFFF ? ERROR_NO_SUCH_LOGON_SESSION : GetLastError();
    return NULL;
  }
  return token;
}

/* An anonymous pipe whose `child_end` is inheritable and the other is not. */
static int make_pipe(HANDLE *read, HANDLE *write, int child_reads) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  if (!CreatePipe(read, write, &sa, 256 * 1024)) return -1;
  SetHandleInformation(child_reads ? *write : *read, HANDLE_FLAG_INHERIT, 0);
  return 0;
}

/* Inheritable handles exist from CreatePipe until the child ends are closed after
 * CreateProcess; a concurrent exec with bInheritHandles would inherit them too and
 * hold another exec's output open. One exec is created at a time. */
static SRWLOCK spawn_lock = SRWLOCK_INIT;

static void close_h(HANDLE *h) {
  if (*h && *h != INVALID_HANDLE_VALUE) CloseHandle(*h);
  *h = NULL;
}

int launch(const launch_req_t *req, launch_t *out, DWORD *win32, const char **what) {
  memset(out, 0, sizeof *out);
  HANDLE in_r = NULL, out_w = NULL, err_w = NULL, token = NULL;
  void *base_env = NULL;
  wchar_t *cmdline = NULL, *env = NULL;
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  PROCESS_INFORMATION pi = {0};
  int code = E_WIN32;
  *win32 = 0;
  AcquireSRWLockExclusive(&spawn_lock);

#define FAIL(step) do { *what = step; if (!*win32) *win32 = GetLastError(); goto fail; } while (0)
  if (req->flags & EXEC_INTERACTIVE) {
    if (!(token = interactive_token(win32))) {
      code = E_UNSUPPORTED;
      FAIL("no interactive user session (WTSQueryUserToken)");
    }
    if (!CreateEnvironmentBlock(&base_env, token, FALSE)) FAIL("CreateEnvironmentBlock");
  } else {
    base_env = GetEnvironmentStringsW();
  }
  env = build_env(req, base_env);
  cmdline = (req->flags & EXEC_RAW_CMDLINE) ? _wcsdup(req->argv[0]) : build_cmdline(req->argv, req->argc);
  if (!env || !cmdline) FAIL("out of memory");
  if (make_pipe(&in_r, &out->in_w, 1) || make_pipe(&out->out_r, &out_w, 0)) FAIL("CreatePipe");

  STARTUPINFOEXW si = {0};
  si.StartupInfo.cb = sizeof si;
  size_t attr_size = 0;
  if (req->flags & EXEC_PTY) {
    create_pc_fn create = (create_pc_fn)conpty("CreatePseudoConsole");
    if (!create) {
      code = E_UNSUPPORTED;
      *win32 = ERROR_PROC_NOT_FOUND;
      FAIL("this Windows has no pseudo console (CreatePseudoConsole, build 17763+)");
    }
    COORD size = {(SHORT)(req->cols ? req->cols : 80), (SHORT)(req->rows ? req->rows : 25)};
    HRESULT hr = create(size, in_r, out_w, 0, &out->pty);
    if (FAILED(hr)) {
      *win32 = (DWORD)hr;
      FAIL("CreatePseudoConsole");
    }
    InitializeProcThreadAttributeList(NULL, 1, 0, &attr_size);
    attrs = malloc(attr_size);
    if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size) ||
        !UpdateProcThreadAttribute(attrs, 0, 0x00020016 /* PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE */, out->pty,
                                   sizeof(void *), NULL, NULL))
      FAIL("attach the pseudo console");
    si.lpAttributeList = attrs;
    /* The console owns its pipe ends now; ours would keep the output from ending. */
    close_h(&in_r);
    close_h(&out_w);
  } else {
    if (make_pipe(&out->err_r, &err_w, 0)) FAIL("CreatePipe");
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = in_r;
    si.StartupInfo.hStdOutput = out_w;
    si.StartupInfo.hStdError = err_w;
  }

  DWORD cf = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | CREATE_NEW_PROCESS_GROUP |
             (attrs ? EXTENDED_STARTUPINFO_PRESENT : CREATE_NO_WINDOW);
  const wchar_t *cwd = req->cwd && *req->cwd ? req->cwd : NULL;
  BOOL inherit = attrs ? FALSE : TRUE;
  BOOL ok = token ? CreateProcessAsUserW(token, NULL, cmdline, NULL, NULL, inherit, cf, env, cwd,
                                         &si.StartupInfo, &pi)
                  : CreateProcessW(NULL, cmdline, NULL, NULL, inherit, cf, env, cwd, &si.StartupInfo, &pi);
  if (!ok) FAIL("CreateProcess");
  out->job = CreateJobObjectW(NULL, NULL);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim = {0};
  /* If the agent dies, the job's last handle closes and the tree goes with it. */
  lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!out->job || !SetInformationJobObject(out->job, JobObjectExtendedLimitInformation, &lim, sizeof lim) ||
      !AssignProcessToJobObject(out->job, pi.hProcess)) {
    *win32 = GetLastError();
    TerminateProcess(pi.hProcess, 1);
    FAIL("put the process in a job object");
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  out->process = pi.hProcess;
  out->pid = pi.dwProcessId;
  code = 0;
  goto done;
#undef FAIL

fail:
  close_h(&pi.hThread);
  close_h(&pi.hProcess);
  close_h(&out->job);
  close_h(&out->in_w);
  close_h(&out->out_r);
  close_h(&out->err_r);
  launch_close_pty(out);
done:
  close_h(&in_r);
  close_h(&out_w);
  close_h(&err_w);
  ReleaseSRWLockExclusive(&spawn_lock);
  if (attrs) {
    DeleteProcThreadAttributeList(attrs);
    free(attrs);
  }
  if (token) {
    if (base_env) DestroyEnvironmentBlock(base_env);
    CloseHandle(token);
  } else if (base_env) {
    FreeEnvironmentStringsW(base_env);
  }
  free(env);
  free(cmdline);
  return code;
}

void launch_resize(launch_t *l, uint16_t cols, uint16_t rows) {
  resize_pc_fn resize = (resize_pc_fn)conpty("ResizePseudoConsole");
  if (l->pty && resize && cols && rows) resize(l->pty, (COORD){(SHORT)cols, (SHORT)rows});
}

void launch_close_pty(launch_t *l) {
  close_pc_fn close = (close_pc_fn)conpty("ClosePseudoConsole");
  if (l->pty && close) close(l->pty);
  l->pty = NULL;
}
