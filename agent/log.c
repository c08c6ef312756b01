/* A tiny thread-safe line logger. Failures to log are ignored: logging must never stop the agent. */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>

static HANDLE log_file = INVALID_HANDLE_VALUE;
static int log_stderr;
static CRITICAL_SECTION log_lock;

void log_open(const wchar_t *path, int also_stderr) {
  InitializeCriticalSection(&log_lock);
  log_stderr = also_stderr;
  wchar_t def[MAX_PATH + 16];
  if (path && !*path) return; /* "": no file (the relay logs to stderr only) */
  if (!path) {
    DWORD n = GetModuleFileNameW(NULL, def, MAX_PATH);
    wchar_t *slash = n ? wcsrchr(def, L'\\') : NULL;
    if (!slash) return;
    wcscpy(slash + 1, L"agent.log");
    path = def;
  }
  log_file = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, NULL);
}

void log_msg(const char *fmt, ...) {
  char line[1024];
  SYSTEMTIME t;
  GetSystemTime(&t);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ [%lu] ", t.wYear, t.wMonth, t.wDay,
                   t.wHour, t.wMinute, t.wSecond, t.wMilliseconds, GetCurrentThreadId());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 2, fmt, ap);
  va_end(ap);
  if (m < 0) m = 0;
  if (m > (int)(sizeof line) - n - 3) m = (int)(sizeof line) - n - 3;
  n += m;
  line[n++] = '\r';
  line[n++] = '\n';
  EnterCriticalSection(&log_lock);
  DWORD w;
  if (log_file != INVALID_HANDLE_VALUE) WriteFile(log_file, line, (DWORD)n, &w, NULL);
  if (log_stderr) WriteFile(GetStdHandle(STD_ERROR_HANDLE), line, (DWORD)n, &w, NULL);
  LeaveCriticalSection(&log_lock);
}
