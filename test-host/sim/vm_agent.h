/* The guest agent of a simulated disk-booted VM (vm_agent.c). Two hooks, called by service.c
   under its own lock, like video_pipe.h's: */
#ifndef HCSSIM_VM_AGENT_H
#define HCSSIM_VM_AGENT_H

/* The disk-booted VM `system_id` (runtime id `runtime_id`) has started running: start its agent.
   Returns its pid, or 0 when none was started (HCSSIM_AGENT_EXE unset or not startable). */
unsigned long vm_agent_start(const char *system_id, const char *runtime_id);
/* The VM `system_id` has stopped (shutdown, terminate, crash, service exit): its agent is killed. */
void vm_agent_stop(const char *system_id);
#endif
