/* The life of a disk-booted Windows VM in the simulated host (test-host/sim/vm_disk_rules.c): which
   documents boot, what a worker crash looks like, the guest's answer to a shutdown or a reboot, the
   guest state files and the disk chain. service.c calls these hooks; vm_rules.c calls vmd_disk_parent. */
#ifndef HCSSIM_VM_DISK_RULES_H
#define HCSSIM_VM_DISK_RULES_H
#include <windows.h>
#include <stddef.h>
#include "json.h"

/* What the simulated guest of one compute system is doing. NULL for containers. */
typedef struct vmd_guest vmd_guest;

/* SetConfig members this file owns (GuestShutdownDelayMs, GuestShutdownIgnored); Reset clears them. */
void vmd_config(const jv *config);
void vmd_reset(void);
const char *vmd_config_json(void); /* `,"GuestShutdownDelayMs":n,"GuestShutdownIgnored":b` */

/* A simulated disk file's parent: 1 and its path in `out`; 0 when it has none or is not a simulated
   disk (nothing to walk); -1 when its metadata names a parent that is not a readable simulated disk. */
int vmd_disk_parent(const char *path, char *out, size_t n);

/* HcsCreateComputeSystem: the guest state files (rule G). S_OK or the failure and its message. */
HRESULT vmd_create(const char *id, const jv *doc, char *msg, size_t n);
/* After a successful create: the guest record (NULL for a container document). */
vmd_guest *vmd_guest_new(const jv *doc);
void vmd_guest_free(vmd_guest *g);

/* HcsStartComputeSystem, Created -> Running. S_OK: the system runs (the guest may still boot nothing,
   rules B1/B2). VMD_WORKER_CRASH: the worker died (rule W): the caller stops the system with
   vmd_crash_exit_type / vmd_crash_status and fails the start with HCS_E_TERMINATED_DURING_START. */
#define VMD_WORKER_CRASH ((HRESULT)0x80370100) /* HCS_E_TERMINATED_DURING_START */
HRESULT vmd_start(vmd_guest *g, const char *id, char *msg, size_t n);
const char *vmd_crash_exit_type(void);
HRESULT vmd_crash_status(void);

/* HcsShutDownComputeSystem of a system whose guest handles shutdown itself (disk-booted VMs): 1, and the
   operation waits on vmd_shutdown_poll; 0 for every other system (stopped at once, as before). */
int vmd_guest_shutdown(const vmd_guest *g);
/* Whether the guest boots its own OS disk (the VMs the product makes; vm_agent.c starts their agent). */
int vmd_guest_disk_booted(const vmd_guest *g);
/* Polled by the pending shutdown operation. `state` is the service's: 1 running, 2 paused, 3 stopped.
   VMD_SD_WAIT: poll again in VMD_POLL_MS; VMD_SD_STOP: stop the system now (GracefulExit, the guest
   powered off), then complete S_OK; VMD_SD_DONE: the system stopped some other way: complete with
   vmd_shutdown_lost(). */
enum { VMD_SD_WAIT, VMD_SD_STOP, VMD_SD_DONE };
#define VMD_POLL_MS 20
int vmd_shutdown_poll(vmd_guest *g, int state, int firstCall);
HRESULT vmd_shutdown_lost(void);

/* HcsSimControl {"Op":"GuestReboot"}: 1 when the VM stops (StopOnReset), else 0 (the guest came back). */
int vmd_guest_reboot(vmd_guest *g);
int vmd_guest_reboots(const vmd_guest *g);

/* `,"Guest":{...}` for a system in ServiceState ("" for a container). Static buffer: use at once. */
const char *vmd_guest_json(const vmd_guest *g);
#endif
