/* log.c - the log's one sink (log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void rl_log(const char *fmt, ...)
{
    char text[RL_LOG_LINE_MAX], line[RL_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    int n = snprintf(line, sizeof line - 1, "reportlink: %s", text);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    rl_os_log_write(line, (size_t)n);
}
