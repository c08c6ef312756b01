/*
 * The guest agent of a simulated disk-booted VM.
 *
 * Evidence: on a real host the agent is a service inside the guest (agent/main.c --install,
 * run by the image's SetupComplete) that starts at boot and listens on AF_HYPERV
 * {HV_GUID_WILDCARD, AGENT_SERVICE_ID}; the host reaches it at {RuntimeId, AGENT_SERVICE_ID}
 * (src/schema/builders/sandbox-vm-disk.ts, the VM document's HvSocket ServiceTable). Wine has no
 * AF_HYPERV (shared/docs/VM-SANDBOXES.md §6), so the simulated host runs the real agent.exe on
 * the host, in --console mode, listening on the named pipe
 *   \\.\pipe\hcs-sim\<RuntimeId>\<AGENT_SERVICE_ID>
 * which the product dials through hvsock-relay --pipe when HCS_SANDBOX_AGENT_PIPE_PREFIX=hcs-sim.
 * It lives exactly as long as the VM runs: started when the VM starts, killed when it stops for
 * any reason. When the agent exits by itself (its SHUTDOWN in --console mode) the VM keeps
 * running, as a VM whose agent service stopped would; the service never waits for it.
 *
 * Where agent.exe is: the service's environment variable HCSSIM_AGENT_EXE (test-host/prepare.sh
 * writes it into .cache/test-host/env). Unset, or not startable: no agent, and the VM runs
 * without one, as a VM made from an image without the agent does. Its log goes to
 * %TEMP%\hcssim-agent-<RuntimeId>.log.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include "vm_agent.h"
#include "../../agent/service-id.h"

/* The agent's own id (agent/service-id.h), as the product's VM document names it. */
#define WIDEN2(s) L##s
#define WIDEN(s) WIDEN2(s)
#define AGENT_SERVICE_ID WIDEN(AGENT_SERVICE_ID_TEXT)
#define MAX_AGENTS 256

typedef struct {
    char id[128];
    HANDLE process;
} agent_t;

static agent_t g_agents[MAX_AGENTS];
static HANDLE g_job; /* kill-on-close: a service that dies takes its agents with it */

static agent_t *find(const char *system_id) {
    for (int i = 0; i < MAX_AGENTS; i++)
        if (g_agents[i].process && !strcmp(g_agents[i].id, system_id)) return &g_agents[i];
    return NULL;
}

unsigned long vm_agent_start(const char *system_id, const char *runtime_id) {
    wchar_t exe[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"HCSSIM_AGENT_EXE", exe, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) return 0;
    vm_agent_stop(system_id); /* a restart after a crash nobody noticed: one agent per VM */
    agent_t *slot = NULL;
    for (int i = 0; i < MAX_AGENTS && !slot; i++)
        if (!g_agents[i].process) slot = &g_agents[i];
    if (!slot) return 0;
    wchar_t temp[MAX_PATH];
    if (!GetTempPathW(MAX_PATH, temp)) wcscpy(temp, L".\\");
    static wchar_t cmd[4 * MAX_PATH];
    _snwprintf(cmd, sizeof cmd / sizeof *cmd - 1,
               L"\"%ls\" --console --listen \"pipe:hcs-sim\\%hs\\%ls\" --log \"%lshcssim-agent-%hs.log\"",
               exe, runtime_id, AGENT_SERVICE_ID, temp, runtime_id);
    cmd[sizeof cmd / sizeof *cmd - 1] = 0;
    if (!g_job) {
        g_job = CreateJobObjectW(NULL, NULL);
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION li = {0};
        li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if (g_job) SetInformationJobObject(g_job, JobObjectExtendedLimitInformation, &li, sizeof li);
    }
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW | CREATE_SUSPENDED, NULL, NULL, &si, &pi)) return 0;
    if (g_job) AssignProcessToJobObject(g_job, pi.hProcess); /* best effort: Wine's jobs are partial */
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    snprintf(slot->id, sizeof slot->id, "%s", system_id);
    slot->process = pi.hProcess;
    return pi.dwProcessId;
}

void vm_agent_stop(const char *system_id) {
    agent_t *a = find(system_id);
    if (!a) return;
    TerminateProcess(a->process, 1); /* fails harmlessly when it already exited */
    WaitForSingleObject(a->process, 2000);
    CloseHandle(a->process);
    a->process = NULL;
    a->id[0] = 0;
}
