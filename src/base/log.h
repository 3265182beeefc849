/*
 * log.h - ReportLink's log: stderr, one line per message, a fixed prefix.
 *
 * LibreOffice's own stderr is where an administrator looks first when an
 * office misbehaves, and it needs no configuration. Each line is written
 * with one write() so that lines from different threads do not interleave.
 * Never log a key or a report's content. Thread-safe.
 */
#ifndef RL_LOG_H
#define RL_LOG_H

#define RL_LOG_LINE_MAX 1024   /* bytes of one line; a longer one is cut */

/* "reportlink: <message>\n" on stderr. */
void rl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
