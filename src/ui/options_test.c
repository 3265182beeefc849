/* options_test.c - "Test connection" on the options page (options.c).
 *
 * A one-shot core client on a thread of its own (the test thread): it
 * creates the client, waits for the first decisive state (connected, key
 * refused, or the first failure), destroys the client (a join, bounded by
 * the core), and posts the outcome to the main thread through
 * com.sun.star.awt.AsyncCallback; the main thread shows it. The main thread
 * never waits for the network. theReportLink's connection is left alone;
 * when it is already connected with the same address, key and CA file, the
 * test reports that connection instead of opening a second one. */
#include "options_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The core's service thread: keeps the first decisive outcome. */
static void on_test_event(void *user, const rl_event *ev)
{
    test_job *job = user;
    pthread_mutex_lock(&job->lock);
    if (ev->kind == RL_EVENT_REPORT) {
        /* The test connection holds the key for a moment: a report sent in
         * that moment is handed to theReportLink afterwards, not dropped. */
        if (job->n_reports < TEST_MAX_REPORTS && (job->reports[job->n_reports] = strdup(ev->report->raw)))
            job->n_reports++;
        else
            job->lost_reports++;
        rl_report_free(ev->report);
    } else if (ev->kind == RL_EVENT_STATE && job->result == OUT_NONE) {
        const char *detail = ev->detail ? ev->detail : "";
        switch (ev->state) {
        case RL_STATE_CONNECTED:
            job->result = OUT_CONNECTED;
            break;
        case RL_STATE_AUTH_FAILED:
            job->result = OUT_REFUSED;
            break;
        case RL_STATE_BACKOFF:
        case RL_STATE_REPLACED:
            if (strstr(detail, "no answer from")) {
                /* The core's connect deadline: TCP, TLS or the handshake hung. */
                job->result = OUT_TIMEOUT;
                snprintf(job->reason, sizeof job->reason, "%d", TEST_CONNECT_TIMEOUT_MS / 1000);
            } else {
                job->result = strstr(detail, "TLS") || strstr(detail, "certificate") ? OUT_TLS : OUT_UNREACHABLE;
                snprintf(job->reason, sizeof job->reason, "%s", detail);
            }
            break;
        default:
            break;
        }
        if (job->result != OUT_NONE)
            pthread_cond_signal(&job->cond);
    }
    pthread_mutex_unlock(&job->lock);
}

static void post_result(options *o, outcome result, const char *reason)
{
    rl_uno_err err;
    uno_Any nothing;

    pthread_mutex_lock(&o->lock);
    o->result = result;
    snprintf(o->reason, sizeof o->reason, "%s", reason);
    pthread_mutex_unlock(&o->lock);
    rl_uno_any_void(&nothing);
    if (rl_uno_XRequestCallback_addCallback(o->async, &err, &o->obj.iface, &nothing) != RL_OK)
        rl_log("options: the test result cannot reach the main thread: %s", err.message);
    uno_any_destruct(&nothing, NULL);
}

/* Reports that reached the test connection go to theReportLink, which
 * places them or keeps them in its inbox, as if it had received them. */
static void hand_over_reports(test_job *job)
{
    if (job->cancelled) {
        /* The office is exiting and its main thread waits for us: it
         * cannot take a report any more. */
        for (int i = 0; i < job->n_reports; i++)
            free(job->reports[i]);
        if (job->n_reports)
            rl_log("options: %d reports arrived during the connection test while the office was "
                    "exiting; they were not placed", job->n_reports);
        return;
    }
    uno_Interface *link = job->n_reports ? rlc_link_get(job->o->ctx) : NULL;
    for (int i = 0; i < job->n_reports; i++) {
        rl_uno_err err;
        sal_Int32 filled;
        rtl_uString *s = rl_uno_str(job->reports[i]);
        if (!link || rl_uno_XReportLink_applyReport(link, &err, &filled, s) != RL_OK)
            rl_log("options: a report that arrived during the connection test could not be handed "
                    "to ReportLink: %s", link ? err.message : "ReportLink is not available");
        else
            rl_log("options: a report arrived during the connection test; handed to ReportLink");
        rtl_uString_release(s);
        free(job->reports[i]);
    }
    if (job->lost_reports)
        rl_log("options: %u reports arrived during the connection test beyond the %d it keeps; "
                "they were not placed", job->lost_reports, TEST_MAX_REPORTS);
    rl_uno_release(link);
}

static void *test_main(void *arg)
{
    test_job *job = arg;
    options *o = job->o;
    char err[RL_MAX_DETAIL] = "";
    rl_client_config cfg = {
        .url = job->url,
        .key = job->key,
        .ca_file = job->ca_file[0] ? job->ca_file : NULL,
        .connect_timeout_ms = TEST_CONNECT_TIMEOUT_MS,
        .autostart = 1,
        .on_event = on_test_event,
        .user = job,
    };
    rl_client *c = rl_client_create(&cfg, err, sizeof err);
    rl_os_wipe(job->key, sizeof job->key);   /* the core has its own copy */

    outcome result = OUT_FAILED;
    if (c) {
        int64_t until = rl_os_monotonic_ms() + TEST_TIMEOUT_S * 1000;
        pthread_mutex_lock(&job->lock);
        while (job->result == OUT_NONE && !job->cancelled)
            if (rl_os_cond_wait_until(&job->cond, &job->lock, until) != 0)
                break;
        result = job->result == OUT_NONE ? OUT_TIMEOUT : job->result;
        if (job->result == OUT_NONE)
            snprintf(err, sizeof err, "%d", TEST_TIMEOUT_S);
        else
            snprintf(err, sizeof err, "%s", job->reason);
        pthread_mutex_unlock(&job->lock);
        rl_client_destroy(c);   /* close 1000, join; bounded by the core */
    }
    if (!job->cancelled)
        post_result(o, result, err);
    hand_over_reports(job);

    pthread_mutex_lock(&o->lock);
    o->job = NULL;
    pthread_cond_broadcast(&o->idle);
    pthread_mutex_unlock(&o->lock);
    pthread_cond_destroy(&job->cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
    rl_uno_release(&o->obj.iface);
    return NULL;
}

/* Whether theReportLink is connected with exactly this address, key and CA
 * file: then testing means looking at it, not opening a rival connection. */
static int is_current_connection(options *o, const char *url, const char *key, const char *ca_file)
{
    rlc_connection c;
    rl_uno_ReportStatus s;
    rl_uno_err err;
    char state[32] = "", stored[RL_MAX_KEY];
    int same = 0;

    if (rlc_settings_read_connection(o->ctx, &c, &err) != RL_OK ||
        strcmp(c.endpoint, url) != 0 || strcmp(c.ca_file, ca_file) != 0)
        return 0;
    rlc_key_get(stored, sizeof stored);
    same = strcmp(stored, key) == 0;
    rl_os_wipe(stored, sizeof stored);
    uno_Interface *link = same ? rlc_link_get(o->ctx) : NULL;
    if (link && rl_uno_XReportLink_getStatus(link, &err, &s) == RL_OK) {
        rl_uno_str_utf8(s.State, state, sizeof state);
        rl_uno_destruct(&s, RL_UNO_T_ReportStatus);
    }
    rl_uno_release(link);
    return same && strcmp(state, "connected") == 0;
}

/* While a test runs the handler listens for the office's exit, which must
 * not unload what the test thread runs (libwebsockets, OpenSSL) under it. */
static void watch_exit(options *o)
{
    rl_uno_err err;
    if (o->desktop || !(o->desktop = rl_uno_create_instance(o->ctx, "com.sun.star.frame.Desktop", &err)))
        return;
    if (rl_uno_XDesktop_addTerminateListener(o->desktop, &err, &o->obj.iface) != RL_OK) {
        rl_log("options: cannot watch the office's exit: %s", err.message);
        rl_uno_release(o->desktop);
        o->desktop = NULL;
    }
}

void rlu__opt_unwatch_exit(options *o)
{
    rl_uno_err err;
    if (!o->desktop)
        return;
    rl_uno_XDesktop_removeTerminateListener(o->desktop, &err, &o->obj.iface);
    rl_uno_release(o->desktop);
    o->desktop = NULL;
}

void rlu__opt_start_test(options *o)
{
    test_job *job;
    pthread_t t;
    pthread_attr_t attr;
    char key_field[RL_MAX_KEY];

    if (o->testing)
        return;   /* the running test will answer */
    if (!(job = calloc(1, sizeof *job))) {
        char text[OPTIONS_MAX_TEXT];
        const char *args[1] = { "out of memory" };
        rl_words_format(&o->strings, "options.test.failed", text, sizeof text, args, 1);
        rlu__opt_show(o, "testResult", text);
        return;
    }
    /* A value that does not fit is refused, never tried cut short. */
    rl_url_problem p = RL_URL_TOO_LONG;
    if (rlu_control_get_string(o->window, "endpoint", "Text", job->url, sizeof job->url) == RL_OK)
        p = rlu__opt_check_endpoint(o, job->url);
    if (p != RL_URL_OK) {
        rlu__opt_show(o, "testResult", rlu__opt_str(o, rlu__opt_problem_key(p)));
        free(job);
        return;
    }
    if (rlu_control_get_string(o->window, "caFile", "Text", job->ca_file, sizeof job->ca_file) != RL_OK) {
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.ca.too_long"));
        free(job);
        return;
    }
    /* The key typed in the field (left there: OK saves it), else the stored one. */
    key_field[0] = '\0';
    if (rlu_control_get_string(o->window, "key", "Text", key_field, sizeof key_field) != RL_OK) {
        rl_os_wipe(key_field, sizeof key_field);
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.key.too_long"));
        free(job);
        return;
    }
    if (key_field[0])
        memcpy(job->key, key_field, sizeof job->key);
    else
        rlc_key_get(job->key, sizeof job->key);
    rl_os_wipe(key_field, sizeof key_field);
    if (!job->key[0]) {
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.nokey"));
        free(job);
        return;
    }
    if (is_current_connection(o, job->url, job->key, job->ca_file)) {
        rl_os_wipe(job->key, sizeof job->key);
        free(job);
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.current"));
        return;
    }

    pthread_mutex_init(&job->lock, NULL);
    rl_os_cond_init(&job->cond);
    job->o = o;
    watch_exit(o);
    rl_uno_acquire(&o->obj.iface);   /* the test thread's reference */
    pthread_mutex_lock(&o->lock);
    o->job = job;
    pthread_mutex_unlock(&o->lock);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, test_main, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        char a0[64];
        const char *args[1] = { a0 };
        char text[OPTIONS_MAX_TEXT];
        pthread_mutex_lock(&o->lock);
        o->job = NULL;
        pthread_mutex_unlock(&o->lock);
        snprintf(a0, sizeof a0, "no thread (%s)", strerror(rc));
        rl_words_format(&o->strings, "options.test.failed", text, sizeof text, args, 1);
        rlu__opt_show(o, "testResult", text);
        rl_os_wipe(job->key, sizeof job->key);
        pthread_cond_destroy(&job->cond);
        pthread_mutex_destroy(&job->lock);
        free(job);
        rl_uno_release(&o->obj.iface);
        return;
    }
    o->testing = 1;
    rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.running"));
}

/* The core's detail ("cannot connect to host: <why>; attempt 1 in 700 ms
 * [unencrypted...]") as plain words in the page's language: known causes
 * are translated, anything else is shown as the core wrote it. */
static void plain_reason(options *o, const char *detail, char *out, size_t cap)
{
    static const char *const known[][2] = {
        { "not issued by a trusted authority", "options.tls.untrusted" },
        { "self-signed", "options.tls.selfsigned" },
        { "for another host name", "options.tls.hostname" },
        { "has expired", "options.tls.expired" },
        { "not valid yet", "options.tls.notyet" },
        { "has been revoked", "options.tls.revoked" },
        { "TLS handshake failed", "options.tls.handshake" },
        { "Unable to connect", "options.net.refused" },
        { "could not start a connection", "options.net.start" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strstr(detail, known[i][0])) {
            snprintf(out, cap, "%s", rlu__opt_str(o, known[i][1]));
            return;
        }
    }
    const char *start = detail;
    if (strncmp(start, "cannot connect to ", 18) == 0 && strstr(start, ": "))
        start = strstr(start, ": ") + 2;
    size_t len = strcspn(start, ";[");
    while (len > 0 && start[len - 1] == ' ')
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

/* Main thread: shows the outcome the test thread posted. */
void rlu__opt_show_result(options *o)
{
    outcome result;
    char reason[RL_MAX_DETAIL], plain[OPTIONS_MAX_TEXT], text[OPTIONS_MAX_TEXT];
    const char *args[1] = { plain };

    pthread_mutex_lock(&o->lock);
    result = o->result;
    snprintf(reason, sizeof reason, "%s", o->reason);
    o->result = OUT_NONE;
    pthread_mutex_unlock(&o->lock);
    if (result == OUT_NONE)
        return;
    o->testing = 0;
    rlu__opt_unwatch_exit(o);
    switch (result) {
    case OUT_CONNECTED:
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.connected"));
        break;
    case OUT_CURRENT:
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.current"));
        break;
    case OUT_REFUSED:
        rlu__opt_show(o, "testResult", rlu__opt_str(o, "options.test.refused"));
        break;
    case OUT_UNREACHABLE:
    case OUT_TLS:
        plain_reason(o, reason, plain, sizeof plain);
        rl_words_format(&o->strings, result == OUT_TLS ? "options.test.tls" : "options.test.unreachable", text,
                   sizeof text, args, 1);
        rlu__opt_show(o, "testResult", text);
        break;
    case OUT_TIMEOUT:
        snprintf(plain, sizeof plain, "%s", reason);   /* the seconds waited */
        rl_words_format(&o->strings, "options.test.timeout", text, sizeof text, args, 1);
        rlu__opt_show(o, "testResult", text);
        break;
    default:
        snprintf(plain, sizeof plain, "%s", reason);
        rl_words_format(&o->strings, "options.test.failed", text, sizeof text, args, 1);
        rlu__opt_show(o, "testResult", text);
        break;
    }
}

