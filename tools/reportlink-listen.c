/* reportlink-listen - the connection core as a command, for developers, tests
 * and IT people checking a clinic's set-up.
 *
 *   reportlink-listen --url URL [--key-file FILE] [--ca-file PEM]
 *                     [--ping-interval S] [--pong-timeout S] [--connect-timeout S]
 *                     [--count N] [--quiet] [--backoff-base S] [--backoff-cap S] [--docx]
 *
 * The key comes from --key-file or REPORTLINK_DOCTOR_KEY, never from argv
 * (argv is world-readable in /proc). stdout is JSON Lines, one object per
 * event; human logs go to stderr. Exit: 0 after --count reports or on
 * SIGINT/SIGTERM (closing with 1000), 3 on auth_failed, 4 on replaced, 2 on a
 * usage error, 1 on any other failure.
 *
 * --backoff-base / --backoff-cap change the reconnection schedule (default 1 s
 * and 60 s, as in the extension, which has no such setting). They exist so
 * that tests and IT people can watch the full-jitter schedule reach its cap in
 * seconds rather than minutes. Every state event carries "t_ms", the
 * CLOCK_MONOTONIC time in milliseconds at which it happened, so retry delays
 * can be measured from the output alone.
 *
 * On Windows (reportlink-listen.exe) Ctrl-C and Ctrl-Break count as SIGINT
 * and the console closing as SIGTERM (platform.h: rl_os_stop_*); stdout is
 * binary, so each line ends in one '\n' as on Linux.
 *
 * REPORTLINK_LWS_LOG=N sets libwebsockets' own log mask (lws_set_log_level;
 * 15 adds its INFO lines), for reading what the library decided on a link. */
#include "reportlink_core.h"
#include "platform.h"

#include <cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2
#define EXIT_AUTH_FAILED 3
#define EXIT_REPLACED 4

typedef struct listener {
    long count_wanted;      /* 0: unlimited */
    long count_seen;
    rl_os_stop *stop;       /* the service thread asks main to finish */
    atomic_int exit_code;   /* -1 while running */
} listener;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: reportlink-listen --url URL [--key-file FILE] [--ca-file PEM]\n"
            "                         [--ping-interval S] [--pong-timeout S]\n"
            "                         [--connect-timeout S] [--count N] [--quiet]\n"
            "                         [--backoff-base S] [--backoff-cap S] [--docx]\n"
            "--docx also downloads each report's signed DOCX (its url) as the extension\n"
            "does, and prints the outcome as a \"docx\" event.\n"
            "The doctor key is read from --key-file or the environment variable\n"
            "REPORTLINK_DOCTOR_KEY; it is never accepted on the command line.\n"
            "stdout: one JSON object per event. Exit: 0 done, 2 usage, 3 key refused,\n"
            "4 replaced by another connection, 1 other failure.\n");
}

static void print_line(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    cJSON_Delete(obj);
}

static void finish(listener *l, int code)
{
    int expected = -1;
    if (atomic_compare_exchange_strong(&l->exit_code, &expected, code))
        rl_os_stop_wake(l->stop);
}

static int64_t monotonic_ms(void)
{
    return rl_os_monotonic_ms();
}

/* Runs on the client's service thread. */
static void on_event(void *user, const rl_event *ev)
{
    listener *l = user;
    cJSON *o = cJSON_CreateObject();

    switch (ev->kind) {
    case RL_EVENT_STATE:
        cJSON_AddStringToObject(o, "event", "state");
        cJSON_AddStringToObject(o, "state", rl_state_name(ev->state));
        cJSON_AddNumberToObject(o, "attempt", ev->attempt);
        cJSON_AddNumberToObject(o, "retry_in_ms", (double)ev->retry_in_ms);
        cJSON_AddStringToObject(o, "detail", ev->detail ? ev->detail : "");
        cJSON_AddNumberToObject(o, "t_ms", (double)monotonic_ms());
        print_line(o);
        if (ev->state == RL_STATE_AUTH_FAILED)
            finish(l, EXIT_AUTH_FAILED);
        else if (ev->state == RL_STATE_REPLACED)
            finish(l, EXIT_REPLACED);
        break;
    case RL_EVENT_REPORT: {
        cJSON *msg = cJSON_ParseWithLength(ev->report->raw, ev->report->raw_len);
        cJSON_AddStringToObject(o, "event", "report");
        cJSON_AddItemToObject(o, "message", msg ? msg : cJSON_CreateNull());
        print_line(o);
        rl_report_free(ev->report);
        if (l->count_wanted && ++l->count_seen >= l->count_wanted)
            finish(l, 0);
        break;
    }
    case RL_EVENT_SERVER_ERROR:
        cJSON_AddStringToObject(o, "event", "server_error");
        cJSON_AddNumberToObject(o, "code", ev->code);
        cJSON_AddStringToObject(o, "message", ev->message ? ev->message : "");
        print_line(o);
        break;
    case RL_EVENT_REJECTED:
        cJSON_AddStringToObject(o, "event", "rejected");
        cJSON_AddStringToObject(o, "reason", ev->reason ? ev->reason : "");
        print_line(o);
        break;
    case RL_EVENT_HEARTBEAT:
        cJSON_AddStringToObject(o, "event", "heartbeat");
        cJSON_AddNumberToObject(o, "rtt_ms", (double)ev->rtt_ms);
        print_line(o);
        break;
    case RL_EVENT_DOCX:
        /* The report's signed document: only its outcome, never its bytes. */
        cJSON_AddStringToObject(o, "event", "docx");
        cJSON_AddNumberToObject(o, "fetch_id", (double)ev->docx->fetch_id);
        cJSON_AddStringToObject(o, "result", rl_docx_error_name(ev->docx->error));
        cJSON_AddNumberToObject(o, "http_status", ev->docx->http_status);
        cJSON_AddNumberToObject(o, "bytes", (double)ev->docx->len);
        cJSON_AddStringToObject(o, "detail", ev->docx->detail);
        print_line(o);
        rl_docx_free(ev->docx);
        break;
    default:
        cJSON_Delete(o);
        break;
    }
}

/* Reads the key: the first line of the file, without its line ending. The
 * buffer is the caller's; it wipes it. */
static int read_key_file(const char *path, char *key, size_t cap)
{
    FILE *f = rl_os_fopen(path, "r");
    if (!f) {
        fprintf(stderr, "reportlink-listen: cannot open the key file %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    if (rl_os_readable_by_others(path) == 1)
        fprintf(stderr, "reportlink-listen: warning: the key file %s is readable by "
                "other users (chmod 600 it)\n", path);
    if (!fgets(key, (int)cap, f)) {
        fprintf(stderr, "reportlink-listen: the key file %s is empty\n", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    key[strcspn(key, "\r\n")] = 0;
    return 0;
}

static int parse_seconds(const char *s, int *ms_out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0.05 || v > 86400)
        return -1;
    *ms_out = (int)(v * 1000.0 + 0.5);
    return 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *key_file = NULL, *ca_file = NULL;
    int ping_ms = 0, pong_ms = 0, connect_ms = 0, quiet = 0, docx = 0;
    int backoff_base_ms = 0, backoff_cap_ms = 0;
    long count = 0;
    static char key[RL_MAX_KEY + 2];

    rl_os_stdout_binary();

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
            takes = 0;
        } else if (!strcmp(a, "--docx")) {
            docx = 1;
            takes = 0;
        } else if (!v) {
            fprintf(stderr, "reportlink-listen: %s needs a value\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!strcmp(a, "--url")) {
            url = v;
        } else if (!strcmp(a, "--key-file")) {
            key_file = v;
        } else if (!strcmp(a, "--ca-file")) {
            ca_file = v;
        } else if (!strcmp(a, "--ping-interval")) {
            if (parse_seconds(v, &ping_ms)) goto bad_value;
        } else if (!strcmp(a, "--pong-timeout")) {
            if (parse_seconds(v, &pong_ms)) goto bad_value;
        } else if (!strcmp(a, "--connect-timeout")) {
            if (parse_seconds(v, &connect_ms)) goto bad_value;
        } else if (!strcmp(a, "--backoff-base")) {
            if (parse_seconds(v, &backoff_base_ms)) goto bad_value;
        } else if (!strcmp(a, "--backoff-cap")) {
            if (parse_seconds(v, &backoff_cap_ms)) goto bad_value;
        } else if (!strcmp(a, "--count")) {
            char *end;
            count = strtol(v, &end, 10);
            if (end == v || *end || count < 1) goto bad_value;
        } else if (!strcmp(a, "--key")) {
            fprintf(stderr, "reportlink-listen: the key is never taken from the command "
                    "line; use --key-file or REPORTLINK_DOCTOR_KEY\n");
            return EXIT_USAGE;
        } else {
            fprintf(stderr, "reportlink-listen: unknown option %s\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        i += takes;
        continue;
bad_value:
        fprintf(stderr, "reportlink-listen: invalid value for %s: %s\n", a, v);
        return EXIT_USAGE;
    }
    if (!url) {
        fprintf(stderr, "reportlink-listen: --url is required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (key_file) {
        if (read_key_file(key_file, key, sizeof key))
            return EXIT_USAGE;
    } else {
        char *env = getenv("REPORTLINK_DOCTOR_KEY");
        if (!env || !*env) {
            fprintf(stderr, "reportlink-listen: no doctor key: use --key-file FILE or "
                    "REPORTLINK_DOCTOR_KEY\n");
            return EXIT_USAGE;
        }
        snprintf(key, sizeof key, "%s", env);
        /* Wipe the original so it no longer shows in /proc/PID/environ. */
        rl_os_unsetenv_wipe("REPORTLINK_DOCTOR_KEY");
    }
    if (strlen(key) >= RL_MAX_KEY) {
        fprintf(stderr, "reportlink-listen: the key is too long\n");
        rl_os_wipe(key, sizeof key);
        return EXIT_USAGE;
    }

    lws_set_log_level(getenv("REPORTLINK_LWS_LOG") ? atoi(getenv("REPORTLINK_LWS_LOG")) : quiet ? LLL_ERR : (LLL_ERR | LLL_WARN | LLL_USER),
                      lwsl_emit_stderr_notimestamp);

    /* Signals are taken synchronously by the main thread only: this runs
     * before the client creates its thread. */
    listener l = { .count_wanted = count, .stop = rl_os_stop_open() };
    atomic_init(&l.exit_code, -1);
    if (!l.stop) {
        perror("reportlink-listen");
        return 1;
    }

    rl_client_config cfg = {
        .url = url,
        .key = key,
        .ca_file = ca_file,
        .ping_interval_ms = ping_ms,
        .pong_timeout_ms = pong_ms,
        .connect_timeout_ms = connect_ms,
        .backoff_base_ms = backoff_base_ms,
        .backoff_cap_ms = backoff_cap_ms,
        .autostart = 1,
        .no_docx = !docx,
        .on_event = on_event,
        .user = &l,
    };
    char err[256];
    rl_client *c = rl_client_create(&cfg, err, sizeof err);
    rl_os_wipe(key, sizeof key);
    if (!c) {
        fprintf(stderr, "reportlink-listen: %s\n", err);
        return strstr(err, "address") || strstr(err, "port") || strstr(err, "host") ? EXIT_USAGE
                                                                                   : 1;
    }

    int code = -1;
    while (code < 0) {
        const char *why = NULL;
        int r = rl_os_stop_wait(l.stop, &why);
        if (r < 0)
            break;
        if (r == 1) {
            fprintf(stderr, "reportlink-listen: %s, closing\n", why);
            code = 0;
        } else {
            code = atomic_load(&l.exit_code);
        }
    }
    rl_client_destroy(c);   /* closes with 1000 */
    rl_os_stop_close(l.stop);
    return code < 0 ? 1 : code;
}
