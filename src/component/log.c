/* log.c - what the component adds to the log (src/base/log.h): libwebsockets'
 * warnings and errors routed to it, and the REPORTLINK_DEBUG switch. */
#include "component.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static void lws_line(int level, const char *line)
{
    rl_log("lws %s: %s", level == LLL_ERR ? "error" : "warning", line);
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
    rl_log("debug: %s report_ready, %zu bytes, %zu json_report field(s), html %zu bytes, rtf %zu bytes, "
            "plain text %zu bytes",
            what, r->raw_len, r->n_fields, r->html_content ? strlen(r->html_content) : 0,
            r->rtf_report ? strlen(r->rtf_report) : 0,
            r->plaintext_report ? strlen(r->plaintext_report) : 0);
}
