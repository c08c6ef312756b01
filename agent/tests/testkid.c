/*
 * agent-testkid.exe: small behaviours the agent's Wine tests need and cmd.exe
 * does not give reliably.
 *   exit <n>          exit with n (decimal, negative or above 2^31 allowed: the raw 32 bits)
 *   cat               copy stdin to stdout byte for byte, then exit 0
 *   tree <depth>      print "pid <n>" and start `tree <depth-1>` sharing stdout, then sleep forever
 *   alive <pid>       exit 0 if the process is still running, 1 if not
 *   stderr <text>     write text to stderr, "out" to stdout, exit 0
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static void say(HANDLE h, const char *s) {
  DWORD n;
  WriteFile(h, s, (DWORD)strlen(s), &n, NULL);
}

int wmain(int argc, wchar_t **argv) {
  if (argc == 3 && !wcscmp(argv[1], L"exit")) ExitProcess((UINT)_wcstoi64(argv[2], NULL, 10));
  if (argc == 2 && !wcscmp(argv[1], L"cat")) {
    static char buf[65536];
    DWORD n, w;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    while (ReadFile(in, buf, sizeof buf, &n, NULL) && n)
      for (DWORD off = 0; off < n; off += w)
        if (!WriteFile(out, buf + off, n - off, &w, NULL)) return 3;
    return 0;
  }
  if (argc == 3 && !wcscmp(argv[1], L"tree")) {
    char line[64];
    snprintf(line, sizeof line, "pid %lu\n", GetCurrentProcessId());
    say(GetStdHandle(STD_OUTPUT_HANDLE), line);
    int depth = _wtoi(argv[2]);
    if (depth > 0) {
      wchar_t self[MAX_PATH], cmd[MAX_PATH + 64];
      GetModuleFileNameW(NULL, self, MAX_PATH);
      swprintf(cmd, MAX_PATH + 64, L"\"%ls\" tree %d", self, depth - 1);
      STARTUPINFOW si = {0};
      si.cb = sizeof si;
      PROCESS_INFORMATION pi;
      if (CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
      }
    }
    Sleep(INFINITE);
  }
  if (argc == 3 && !wcscmp(argv[1], L"alive")) {
    HANDLE p = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)_wtoi(argv[2]));
    int alive = p && WaitForSingleObject(p, 0) == WAIT_TIMEOUT;
    return alive ? 0 : 1;
  }
  if (argc == 3 && !wcscmp(argv[1], L"stderr")) {
    char text[512];
    WideCharToMultiByte(CP_UTF8, 0, argv[2], -1, text, sizeof text, NULL, NULL);
    say(GetStdHandle(STD_ERROR_HANDLE), text);
    say(GetStdHandle(STD_OUTPUT_HANDLE), "out");
    return 0;
  }
  return 2;
}
