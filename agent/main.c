/*
 * agent.exe: the hcs-sandbox guest agent (docs/agent-protocol.md).
 *   agent.exe --console [--listen <spec>] [--log <file>]   run in the foreground
 *   agent.exe --service [--listen <spec>] [--log <file>]   run under the SCM (what --install registers)
 *   agent.exe --install [--listen <spec>]                  register, set to start at boot, start
 *   agent.exe --uninstall                                  stop and delete the service
 * <spec> is hvsock:<service-guid> (default: the product's AGENT_SERVICE_ID),
 * pipe:<name> or tcp:<port>. The image build's SetupComplete runs --install
 * (src/storage/vm-images/build-plan.ts AGENT_INSTALL_ARGS), as appsandbox's
 * disk_util.c has its agent install itself.
 */
#include <winsock2.h>
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "service-id.h"
#include "session.h"
#include "transport.h"

#define WIDEN2(s) L##s
#define WIDEN(s) WIDEN2(s)
#define DEFAULT_LISTEN WIDEN("hvsock:" AGENT_SERVICE_ID_TEXT)
#define SERVICE_NAME L"hcs-sandbox-agent"

static const wchar_t *listen_spec = DEFAULT_LISTEN;
static const wchar_t *log_path;
static SERVICE_STATUS_HANDLE status_handle;

static int serve(void) {
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  listener_t *l = listener_open(listen_spec);
  if (!l) return 3;
  log_msg("agent %s listening on %ls (pid %lu)", AGENT_VERSION, listen_spec, GetCurrentProcessId());
  for (;;) {
    conn_t *c = listener_accept(l, g_stop_event);
    if (!c) break;
    HANDLE t = CreateThread(NULL, 128 * 1024, session_thread, c, 0, NULL);
    if (t) CloseHandle(t);
    else conn_free(c);
  }
  listener_close(l);
  log_msg("agent stopping");
  return 0;
}

static void report(DWORD state, DWORD exit_code) {
  SERVICE_STATUS st = {SERVICE_WIN32_OWN_PROCESS, state, state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0,
                       exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : 0, exit_code, 0, state == SERVICE_START_PENDING ? 5000 : 0};
  SetServiceStatus(status_handle, &st);
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *ctx) {
  (void)type, (void)data, (void)ctx;
  if (code == SERVICE_CONTROL_STOP || code == SERVICE_CONTROL_SHUTDOWN) {
    report(SERVICE_STOP_PENDING, 0);
    SetEvent(g_stop_event);
  }
  return NO_ERROR;
}

static void WINAPI service_main(DWORD argc, wchar_t **argv) {
  (void)argc, (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, control, NULL);
  report(SERVICE_RUNNING, 0);
  int rc = serve();
  report(SERVICE_STOPPED, (DWORD)rc);
}

static int install(const wchar_t *self) {
  wchar_t bin[2 * MAX_PATH + 400];
  _snwprintf(bin, sizeof bin / sizeof *bin - 1, L"\"%ls\" --service --listen %ls", self, listen_spec);
  bin[sizeof bin / sizeof *bin - 1] = 0;
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
  if (!scm) return log_msg("OpenSCManager failed: %lu", GetLastError()), 4;
  SC_HANDLE svc = CreateServiceW(scm, SERVICE_NAME, L"hcs-sandbox guest agent", SERVICE_ALL_ACCESS,
                                 SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, bin, NULL, NULL,
                                 NULL, NULL /* LocalSystem */, NULL);
  if (!svc && GetLastError() == ERROR_SERVICE_EXISTS) {
    /* Installing again refreshes the command line (a new listen spec or a moved exe). */
    svc = OpenServiceW(scm, SERVICE_NAME, SERVICE_ALL_ACCESS);
    if (svc) ChangeServiceConfigW(svc, SERVICE_NO_CHANGE, SERVICE_AUTO_START, SERVICE_NO_CHANGE, bin, NULL, NULL, NULL,
                                  NULL, NULL, NULL);
  }
  if (!svc) {
    log_msg("CreateService failed: %lu", GetLastError());
    CloseServiceHandle(scm);
    return 4;
  }
  /* Restart after a crash: a VM without its agent is unreachable. */
  SC_ACTION actions[3] = {{SC_ACTION_RESTART, 1000}, {SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 30000}};
  SERVICE_FAILURE_ACTIONSW fa = {86400, NULL, NULL, 3, actions};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa);
  SERVICE_DESCRIPTIONW desc = {L"Runs commands and moves files for the hcs-sandbox host over Hyper-V sockets."};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
  int rc = 0;
  if (!StartServiceW(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
    log_msg("installed, but StartService failed: %lu (it starts at the next boot)", GetLastError());
  } else {
    log_msg("installed and started: %ls", bin);
  }
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

static int uninstall(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
  SC_HANDLE svc = scm ? OpenServiceW(scm, SERVICE_NAME, SERVICE_STOP | DELETE | SERVICE_QUERY_STATUS) : NULL;
  if (!svc) {
    log_msg("no service to uninstall (error %lu)", GetLastError());
    if (scm) CloseServiceHandle(scm);
    return GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? 0 : 4;
  }
  SERVICE_STATUS st;
  ControlService(svc, SERVICE_CONTROL_STOP, &st);
  int rc = DeleteService(svc) ? 0 : 4;
  log_msg(rc ? "DeleteService failed: %lu" : "uninstalled (error %lu)", GetLastError());
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

static int usage(void) {
  fwprintf(stderr, L"usage: agent.exe --console|--service|--install|--uninstall [--listen hvsock:<guid>|pipe:<name>|tcp:<port>] "
                   L"[--log <file>]\n");
  return 2;
}

int wmain(int argc, wchar_t **argv) {
  const wchar_t *mode = NULL;
  for (int i = 1; i < argc; i++) {
    if (!wcscmp(argv[i], L"--listen") && i + 1 < argc) listen_spec = argv[++i];
    else if (!wcscmp(argv[i], L"--log") && i + 1 < argc) log_path = argv[++i];
    else if (!mode && (!wcscmp(argv[i], L"--console") || !wcscmp(argv[i], L"--service") ||
                       !wcscmp(argv[i], L"--install") || !wcscmp(argv[i], L"--uninstall")))
      mode = argv[i];
    else return usage();
  }
  if (!mode) return usage();
  g_console_mode = !wcscmp(mode, L"--console");
  log_open(log_path, g_console_mode || !wcscmp(mode, L"--install") || !wcscmp(mode, L"--uninstall"));
  g_stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!wcscmp(mode, L"--install")) {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    return install(self);
  }
  if (!wcscmp(mode, L"--uninstall")) return uninstall();
  if (g_console_mode) return serve();
  SERVICE_TABLE_ENTRYW table[] = {{(wchar_t *)SERVICE_NAME, service_main}, {NULL, NULL}};
  if (!StartServiceCtrlDispatcherW(table)) {
    log_msg("StartServiceCtrlDispatcher failed: %lu (use --console outside the SCM)", GetLastError());
    return 4;
  }
  return 0;
}
