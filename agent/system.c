/* READY's facts about the guest, and SHUTDOWN/restart of the guest (or, in --console mode, of the agent). */
#include "system.h"
#include <stdio.h>
#include <stdlib.h>
#include <wtsapi32.h>
#include "log.h"

typedef LONG(WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *);

/* "DOMAIN\user" of the active console session, or "" when nobody is logged on. */
static void put_console_user(wr_t *w) {
  DWORD session = WTSGetActiveConsoleSessionId();
  wchar_t *user = NULL, *domain = NULL, both[600] = L"";
  DWORD n;
  if (session != 0xFFFFFFFF &&
      WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, session, WTSUserName, &user, &n) && user && *user) {
    if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, session, WTSDomainName, &domain, &n) && domain && *domain)
      swprintf(both, 599, L"%ls\\%ls", domain, user);
    else
      swprintf(both, 599, L"%ls", user);
  }
  if (user) WTSFreeMemory(user);
  if (domain) WTSFreeMemory(domain);
  put_wstr(w, both);
}

void system_ready_payload(wr_t *w) {
  /* RtlGetVersion, because GetVersionEx reports what the manifest asks for, not the build. */
  OSVERSIONINFOW v = {0};
  v.dwOSVersionInfoSize = sizeof v;
  rtl_get_version_fn get = (rtl_get_version_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion");
  if (get) get(&v);
  uint32_t flags = g_console_mode ? READY_CONSOLE_MODE : 0;
  if (GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "CreatePseudoConsole")) flags |= READY_PTY;
  put_u16(w, PROTO_VERSION);
  put_u32(w, flags);
  put_u32(w, v.dwMajorVersion);
  put_u32(w, v.dwMinorVersion);
  put_u32(w, v.dwBuildNumber);
  put_str(w, AGENT_VERSION);
  put_console_user(w);
  put_u32(w, MAX_PAYLOAD);
  put_u32(w, INITIAL_WINDOW);
}

static int enable_shutdown_privilege(void) {
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) return -1;
  TOKEN_PRIVILEGES tp = {1, {{{0, 0}, SE_PRIVILEGE_ENABLED}}};
  int ok = LookupPrivilegeValueW(NULL, L"SeShutdownPrivilege", &tp.Privileges[0].Luid) &&
           AdjustTokenPrivileges(token, FALSE, &tp, 0, NULL, NULL) && GetLastError() == ERROR_SUCCESS;
  CloseHandle(token);
  return ok ? 0 : -1;
}

static void nothing(stream_t *st, uint8_t type, const uint8_t *p, uint32_t len) { (void)st, (void)type, (void)p, (void)len; }
static const stream_ops_t sync_ops = {nothing, NULL, NULL};

void system_shutdown(session_t *s, uint32_t id, const uint8_t *p, uint32_t len) {
  rd_t r;
  rd_init(&r, p, len);
  uint32_t flags = get_u32(&r);
  if (!rd_done(&r) || (flags & ~(SHUTDOWN_FLAG_RESTART | SHUTDOWN_FLAG_FORCE))) {
    send_error(s, id, E_BAD_FRAME, 0, "SHUTDOWN: expected u32 flags (1 restart, 2 force)");
    return;
  }
  stream_t *st = stream_open(s, id, &sync_ops, NULL);
  if (!st) return;
  uint8_t done[8] = {0};
  if (g_console_mode) {
    /* A foreground agent is a test or a debugging session: stopping it is the shutdown. */
    log_msg("shutdown requested (flags %u): --console mode, the agent stops", flags);
    stream_end(st, T_DONE, done, 8);
    SetEvent(g_stop_event);
  } else {
    int restart = flags & SHUTDOWN_FLAG_RESTART, force = flags & SHUTDOWN_FLAG_FORCE;
    DWORD reason = SHTDN_REASON_MAJOR_OTHER | SHTDN_REASON_MINOR_OTHER | SHTDN_REASON_FLAG_PLANNED;
    DWORD err = enable_shutdown_privilege() ? GetLastError() : 0;
    /* InitiateShutdown returns at once; the machine goes down after the grace period (0 here). */
    DWORD how = (restart ? SHUTDOWN_RESTART : SHUTDOWN_POWEROFF) | SHUTDOWN_GRACE_OVERRIDE |
                (force ? SHUTDOWN_FORCE_OTHERS | SHUTDOWN_FORCE_SELF : 0);
    if (!err) err = InitiateShutdownW(NULL, NULL, 0, how, reason);
    if (err && ExitWindowsEx((restart ? EWX_REBOOT : EWX_POWEROFF) | (force ? EWX_FORCE : 0), reason)) err = 0;
    log_msg("shutdown requested (flags %u): %s (error %lu)", flags, err ? "refused" : "initiated", err);
    if (err) stream_fail(st, E_WIN32, err, "InitiateShutdown and ExitWindowsEx failed (error %lu)", err);
    else stream_end(st, T_DONE, done, 8);
  }
  stream_release(st);
}
