/* File requests: FILE_PUT / FILE_GET (streamed under flow control), STAT, LIST, REMOVE. */
#ifndef AGENT_FILES_H
#define AGENT_FILES_H
#include "session.h"

void files_put(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);
void files_get(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);
void files_stat(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);
void files_list(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);
void files_remove(session_t *s, uint32_t id, const uint8_t *p, uint32_t len);

#endif
