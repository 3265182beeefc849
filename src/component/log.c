/* log.c - the component's log: stderr, one line per message, a fixed prefix.
 *
 * LibreOffice's own stderr is where an administrator looks first when an
 * office misbehaves, and it needs no configuration. Each line is written
 * with one write() so that lines from different threads do not interleave. */
#include "component.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static void write_line(const char *text)
{
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof line - 1, "reportlink: %s", text);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;   /* nowhere to report a failing stderr */
}

void rlc_log(const char *fmt, ...)
{
    char text[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    write_line(text);
}

static void lws_line(int level, const char *line)
{
    char text[LOG_LINE_MAX];
    snprintf(text, sizeof text, "lws %s: %s", level == LLL_ERR ? "error" : "warning", line);
    write_line(text);
}

void rlc_log_route_lws(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_line);
}

/* Read once: the environment does not change under a running office. */
int rlc_debug(void)
{
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        const char *e = getenv("REPORTLINK_DEBUG");
        v = e && strcmp(e, "1") == 0;
        atomic_store(&cached, v);
    }
    return v;
}

void rlc_debug_report(const char *what, const rl_report *r)
{
    if (!rlc_debug() || !r)
        return;
    rlc_log("debug: %s report_ready, %zu bytes, %zu json_report field(s), html %zu bytes, rtf %zu bytes, "
            "plain text %zu bytes",
            what, r->raw_len, r->n_fields, r->html_content ? strlen(r->html_content) : 0,
            r->rtf_report ? strlen(r->rtf_report) : 0,
            r->plaintext_report ? strlen(r->plaintext_report) : 0);
}
