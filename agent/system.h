/* Facts about the guest for READY, and SHUTDOWN. */
#ifndef AGENT_SYSTEM_H
#define AGENT_SYSTEM_H
#include "session.h"
#include "wire.h"

#define READY_CONSOLE_MODE 0x1u /* SHUTDOWN ends the agent, not the machine */
#define READY_PTY 0x2u          /* this Windows has a pseudo console */

void system_ready_payload(wr_t *w);
void system_shutdown(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);

#endif
