/* EXEC streams: one process (tree) per stream, its stdio pumped under flow control. */
#ifndef AGENT_EXEC_H
#define AGENT_EXEC_H
#include "session.h"

void exec_request(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);

#endif
