/* The agent's log: one line per event, to a file (a service has no console) and, in --console mode, stderr. */
#ifndef AGENT_LOG_H
#define AGENT_LOG_H
#include <windows.h>

/* Opens the log; path NULL means <exe folder>\agent.log, "" no file. Safe to call once at start. */
void log_open(const wchar_t *path, int also_stderr);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
