/*
 * log.h - ReportLink's log: stderr, one line per message, a fixed prefix.
 *
 * LibreOffice's own stderr is where an administrator looks first when an
 * office misbehaves, and it needs no configuration. Each line is written
 * with one write() so that lines from different threads do not interleave.
 * On Windows soffice.exe has no stderr: the lines go to the debugger and
 * to <profile>/user/reportlink/reportlink.log (rl_os_log_write).
 * Never log a key or a report's content. Thread-safe.
 */
#ifndef RL_LOG_H
#define RL_LOG_H

#include "platform.h"

#define RL_LOG_LINE_MAX 1024   /* bytes of one line; a longer one is cut */

/* "reportlink: <message>\n" on stderr (platform.h: rl_os_log_write). */
void rl_log(const char *fmt, ...) RL_PRINTF(1, 2);

#endif
