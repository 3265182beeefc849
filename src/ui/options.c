/* options.c - the ReportLink page of Tools > Options.
 *
 * OptionsDialog.xcu declares the page: its window is built from
 * dialogs/Options.xdl by the options dialog (ContainerWindowProvider), with a
 * new org.reportlink.OptionsHandler as its XContainerWindowEventHandler. The
 * dialog calls callHandlerMethod(window, "initialize" | "ok" | "back",
 * "external_event"); the page's own events arrive the same way, under the
 * method names bound in the .xdl (testConnection, endpointChanged,
 * browseCaFile).
 *
 * What the page edits lives elsewhere: the endpoint, AutoConnect and the CA
 * file in /org.reportlink.Settings/Connection (settings.c; a commit makes
 * theReportLink reconnect at once), the doctor key in the password container
 * through theReportLink's setDoctorKey (which reconnects with it). The key is
 * never shown back: the field starts empty and a label only says whether a
 * key is stored.
 *
 * "Test connection" runs a one-shot core client on a thread of its own (the
 * test thread): it creates the client, waits for the first decisive state
 * (connected, key refused, or the first failure), destroys the client (a
 * join, bounded by the core), and posts the outcome to the main thread
 * through com.sun.star.awt.AsyncCallback. The main thread never waits for
 * the network. theReportLink's connection is left alone; when it is already
 * connected with the same address, key and CA file, the test reports that
 * connection instead of opening a second one, which the service would treat
 * as a take-over of the first. */
#include "ui.h"

#include <osl/file.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "component.h"   /* settings, keystore, rlc_link_get, rl_uno_create_instance, rl_log */

#define TEST_TIMEOUT_S          10     /* the page's own limit for an answer */
#define TEST_CONNECT_TIMEOUT_MS 8000   /* the core's, so it names the failure first */
#define TEST_MAX_REPORTS        4      /* reports that reach the test connection */
#define TEST_EXIT_WAIT_S        5      /* office exit waits this long for a running test */
#define OPTIONS_MAX_TEXT        768

typedef enum outcome {
    OUT_NONE = 0,
    OUT_CONNECTED,
    OUT_CURRENT,       /* theReportLink's own connection, already up */
    OUT_REFUSED,
    OUT_UNREACHABLE,
    OUT_TLS,
    OUT_TIMEOUT,
    OUT_FAILED         /* the client could not even start */
} outcome;

typedef struct test_job test_job;

typedef struct options {
    rl_uno_object obj;   /* XContainerWindowEventHandler, XCallback, XTerminateListener */
    uno_Interface *ctx;
    uno_Interface *async;     /* com.sun.star.awt.AsyncCallback */
    /* Main thread only. */
    uno_Interface *window;    /* the page since "initialize"; NULL once disposed */
    rl_words strings;
    int testing;              /* a test thread runs: the button waits for it */
    uno_Interface *desktop;   /* while a test runs: we listen for the office's exit */
    /* Shared with the test thread, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t idle;      /* signalled when the test thread is done */
    test_job *job;            /* the running test, NULL when none */
    outcome result;           /* posted, not yet shown */
    char reason[RL_MAX_DETAIL];
} options;

/* One connection test. Lives on the test thread; the core's callback sees
 * it through `user` until rl_client_destroy() returns. */
struct test_job {
    options *o;                          /* acquired for the job */
    char url[RL_MAX_URL];
    char key[RL_MAX_KEY];                /* wiped once the core has its copy */
    char ca_file[RLC_MAX_PATH];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int cancelled;                       /* the office is exiting: stop now */
    outcome result;
    char reason[RL_MAX_DETAIL];
    char *reports[TEST_MAX_REPORTS];     /* raw report_ready messages, owned */
    int n_reports;
    unsigned lost_reports;
};

static options *options_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, options, obj);
}

/* ------------------------------------------------------------------ words */

static void load_strings(options *o)
{
    rlc_words_for_office(&o->strings, o->ctx);
}

static const char *str(options *o, const char *key)
{
    return rl_word(&o->strings, key);
}

/* One of the page's status lines. In the theme's text colour: the words
 * say whether it is good news (see panel.c for why no colour is set). */
static void show(options *o, const char *control, const char *text)
{
    if (!o->window)
        return;
    rlu_control_set_string(o->window, control, "Label", text);
}

static const char *problem_key(rl_url_problem p)
{
    switch (p) {
    case RL_URL_OK:             return NULL;
    case RL_URL_EMPTY:          return "options.endpoint.bad.empty";
    case RL_URL_TOO_LONG:       return "options.endpoint.bad.too_long";
    case RL_URL_BAD_CHARACTERS: return "options.endpoint.bad.characters";
    case RL_URL_BAD_SCHEME:     return "options.endpoint.bad.scheme";
    case RL_URL_CREDENTIALS:    return "options.endpoint.bad.credentials";
    case RL_URL_BAD_HOST:       return "options.endpoint.bad.host";
    case RL_URL_BAD_PORT:       return "options.endpoint.bad.port";
    }
    return "options.endpoint.bad.host";
}

/* Checks the address as the core will parse it and says so under the
 * field. Returns the problem (RL_URL_OK when it can be saved). */
static rl_url_problem check_endpoint(options *o, const char *url)
{
    int tls = 0, loopback = 0;
    rl_url_problem p = rl_url_check(url, &tls, &loopback);
    if (p != RL_URL_OK)
        show(o, "endpointCheck", str(o, problem_key(p)));
    else if (tls)
        show(o, "endpointCheck", str(o, "options.endpoint.ok.tls"));
    else if (loopback)
        show(o, "endpointCheck", str(o, "options.endpoint.ok.local"));
    else
        show(o, "endpointCheck", str(o, "options.endpoint.warn.unencrypted"));
    return p;
}

/* "A key is stored" / "No key is stored", from the password container; the
 * key itself is read into a buffer that is wiped at once. */
static void show_key_state(options *o)
{
    char key[RL_MAX_KEY];
    rl_uno_err err;
    int rc = rlc_key_load(o->ctx, key, sizeof key, &err);
    int stored = key[0] != '\0';
    explicit_bzero(key, sizeof key);
    if (rc != RL_OK) {
        rl_log("options: cannot read the password container: %s", err.message);
        show(o, "keyState", str(o, "options.key.unknown"));
    } else {
        show(o, "keyState", str(o, stored ? "options.key.stored" : "options.key.none"));
    }
}

/* ------------------------------------------------------------------ the page's events */

static void set_window(options *o, uno_Interface *window)
{
    rl_uno_err err;
    if (window == o->window)
        return;
    if (o->window) {
        rl_uno_XComponent_removeEventListener(o->window, &err, &o->obj.iface);
        rl_uno_release(o->window);
        o->window = NULL;
    }
    if (!window)
        return;
    rl_uno_acquire(window);
    o->window = window;
    /* Let go of the window when the dialog disposes it. */
    if (rl_uno_XComponent_addEventListener(window, &err, &o->obj.iface) != RL_OK)
        rl_log("options: cannot watch the page's window: %s", err.message);
}

/* "initialize" and "back": the words, then the saved values. */
static void fill(options *o)
{
    rlc_connection c;
    rl_uno_err err;
    static const char *const labels[][2] = {
        { "endpointTitle", "options.endpoint.title" }, { "keyTitle", "options.key.title" },
        { "autoConnect", "options.autoconnect" },      { "caTitle", "options.ca.title" },
        { "caBrowse", "options.ca.browse" },           { "caHint", "options.ca.hint" },
        { "test", "options.test.button" },
    };

    load_strings(o);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        rlu_control_set_string(o->window, labels[i][0], "Label", str(o, labels[i][1]));
    if (rlc_settings_read_connection(o->ctx, &c, &err) != RL_OK) {
        rl_log("options: cannot read the settings: %s", err.message);
        memset(&c, 0, sizeof c);
    }
    rlu_control_set_string(o->window, "endpoint", "Text", c.endpoint);
    rlu_control_set_string(o->window, "key", "Text", "");   /* never shown back */
    rlu_control_set_short(o->window, "autoConnect", "State", c.auto_connect ? 1 : 0);
    rlu_control_set_string(o->window, "caFile", "Text", c.ca_file);
    check_endpoint(o, c.endpoint);
    show_key_state(o);
    if (!o->testing)
        show(o, "testResult", "");
}

/* "ok": saves what is valid; an invalid address is not saved, and the page
 * says so. */
static void save(options *o)
{
    char endpoint[RL_MAX_URL], ca_file[RLC_MAX_PATH], key[RL_MAX_KEY];
    long auto_connect = 0;
    rl_uno_err err;

    int endpoint_read = rlu_control_get_string(o->window, "endpoint", "Text", endpoint, sizeof endpoint) == RL_OK;
    if (rlu_control_get_string(o->window, "caFile", "Text", ca_file, sizeof ca_file) != RL_OK) {
        /* Too long for a path: keep the saved one, say so, save the rest. */
        rlc_connection saved;
        show(o, "caHint", str(o, "options.ca.too_long"));
        if (rlc_settings_read_connection(o->ctx, &saved, &err) != RL_OK)
            saved.ca_file[0] = '\0';
        snprintf(ca_file, sizeof ca_file, "%s", saved.ca_file);
    }
    rlu_control_get_int(o->window, "autoConnect", "State", &auto_connect);

    rl_url_problem p = endpoint_read ? check_endpoint(o, endpoint) : RL_URL_TOO_LONG;
    rlc_connection before;
    int new_address = p == RL_URL_OK &&
                      (rlc_settings_read_connection(o->ctx, &before, &err) != RL_OK ||
                       strcmp(before.endpoint, endpoint) != 0);
    if (p != RL_URL_OK) {
        char text[OPTIONS_MAX_TEXT];
        const char *args[1] = { str(o, problem_key(p)) };
        rl_words_format(&o->strings, "options.endpoint.not_saved", text, sizeof text, args, 1);
        show(o, "endpointCheck", text);
        rl_log("options: the endpoint was not saved: it is not a ws:// or wss:// address");
    }
    if (rlc_settings_write_connection(o->ctx, p == RL_URL_OK ? endpoint : NULL, auto_connect == 1, ca_file,
                                      &err) != RL_OK)
        rl_log("options: cannot save the settings: %s", err.message);

    int len = rlu_control_take_secret(o->window, "key", key, sizeof key);
    int new_key = len > 0;
    if (len < 0) {
        show(o, "keyState", str(o, "options.key.too_long"));
    } else if (len > 0) {
        uno_Interface *link = rlc_link_get(o->ctx);
        rtl_uString *s = rl_uno_str(key);
        if (!link)
            rl_log("options: theReportLink is not available; the key is not saved");
        else if (rl_uno_XReportLink_setDoctorKey(link, &err, s) != RL_OK)
            rl_log("options: the key is not saved: %s", err.message);
        rl_uno_str_wipe_release(s);
        rl_uno_release(link);
        show_key_state(o);
    }
    explicit_bzero(key, sizeof key);
    /* A new key or address and OK mean "use this": connect with it, even after
     * the doctor disconnected by hand (without a key, connect() dials nothing). */
    if (new_key || new_address) {
        uno_Interface *link = rlc_link_get(o->ctx);
        if (link && rl_uno_XReportLink_connect(link, &err) != RL_OK)
            rl_log("options: cannot connect with the new settings: %s", err.message);
        rl_uno_release(link);
    }
}

static void endpoint_changed(options *o)
{
    char endpoint[RL_MAX_URL];
    if (rlu_control_get_string(o->window, "endpoint", "Text", endpoint, sizeof endpoint) != RL_OK) {
        show(o, "endpointCheck", str(o, "options.endpoint.bad.too_long"));
        return;
    }
    check_endpoint(o, endpoint);
}

/* The file picker; the chosen file's path goes into the CA field. */
static void browse_ca_file(options *o)
{
    rl_uno_err err;
    sal_Int16 result = 0;
    uno_Sequence *files = NULL;
    uno_Interface *picker = rl_uno_create_instance(o->ctx, "com.sun.star.ui.dialogs.FilePicker", &err);

    if (!picker) {
        rl_log("options: no file picker: %s", err.message);
        return;
    }
    if (rl_uno_XExecutableDialog_execute(picker, &err, &result) == RL_OK && result == 1 &&
        rl_uno_XFilePicker_getFiles(picker, &err, &files) == RL_OK && files->nElements > 0) {
        rtl_uString *url = *(rtl_uString **)(void *)files->elements, *path = NULL;
        char utf8[RLC_MAX_PATH];
        if (osl_getSystemPathFromFileURL(url, &path) == osl_File_E_None &&
            rl_uno_str_utf8(path, utf8, sizeof utf8) >= 0)
            rlu_control_set_string(o->window, "caFile", "Text", utf8);
        else
            rl_log("options: the chosen CA file is not a local file with a usable path");
        rl_uno_str_release(path);
    }
    if (files)
        rl_uno_destruct(&files, RL_UNO_T_seq_string);
    rl_uno_release(picker);
}

/* ------------------------------------------------------------------ the connection test */

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
    explicit_bzero(job->key, sizeof job->key);   /* the core has its own copy */

    outcome result = OUT_FAILED;
    if (c) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += TEST_TIMEOUT_S;
        pthread_mutex_lock(&job->lock);
        while (job->result == OUT_NONE && !job->cancelled)
            if (pthread_cond_timedwait(&job->cond, &job->lock, &until) != 0)
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
    if (rlc_key_load(o->ctx, stored, sizeof stored, &err) == RL_OK)
        same = strcmp(stored, key) == 0;
    explicit_bzero(stored, sizeof stored);
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

static void unwatch_exit(options *o)
{
    rl_uno_err err;
    if (!o->desktop)
        return;
    rl_uno_XDesktop_removeTerminateListener(o->desktop, &err, &o->obj.iface);
    rl_uno_release(o->desktop);
    o->desktop = NULL;
}

static void start_test(options *o)
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
        show(o, "testResult", text);
        return;
    }
    /* A value that does not fit is refused, never tried cut short. */
    rl_url_problem p = RL_URL_TOO_LONG;
    if (rlu_control_get_string(o->window, "endpoint", "Text", job->url, sizeof job->url) == RL_OK)
        p = check_endpoint(o, job->url);
    if (p != RL_URL_OK) {
        show(o, "testResult", str(o, problem_key(p)));
        free(job);
        return;
    }
    if (rlu_control_get_string(o->window, "caFile", "Text", job->ca_file, sizeof job->ca_file) != RL_OK) {
        show(o, "testResult", str(o, "options.ca.too_long"));
        free(job);
        return;
    }
    /* The key typed in the field (left there: OK saves it), else the stored one. */
    rl_uno_err err;
    key_field[0] = '\0';
    if (rlu_control_get_string(o->window, "key", "Text", key_field, sizeof key_field) != RL_OK) {
        explicit_bzero(key_field, sizeof key_field);
        show(o, "testResult", str(o, "options.key.too_long"));
        free(job);
        return;
    }
    if (key_field[0])
        memcpy(job->key, key_field, sizeof job->key);
    else if (rlc_key_load(o->ctx, job->key, sizeof job->key, &err) != RL_OK)
        rl_log("options: cannot read the stored key: %s", err.message);
    explicit_bzero(key_field, sizeof key_field);
    if (!job->key[0]) {
        show(o, "testResult", str(o, "options.test.nokey"));
        free(job);
        return;
    }
    if (is_current_connection(o, job->url, job->key, job->ca_file)) {
        explicit_bzero(job->key, sizeof job->key);
        free(job);
        show(o, "testResult", str(o, "options.test.current"));
        return;
    }

    pthread_mutex_init(&job->lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&job->cond, &cattr);
    pthread_condattr_destroy(&cattr);
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
        show(o, "testResult", text);
        explicit_bzero(job->key, sizeof job->key);
        pthread_cond_destroy(&job->cond);
        pthread_mutex_destroy(&job->lock);
        free(job);
        rl_uno_release(&o->obj.iface);
        return;
    }
    o->testing = 1;
    show(o, "testResult", str(o, "options.test.running"));
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
            snprintf(out, cap, "%s", str(o, known[i][1]));
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
static void show_result(options *o)
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
    unwatch_exit(o);
    switch (result) {
    case OUT_CONNECTED:
        show(o, "testResult", str(o, "options.test.connected"));
        break;
    case OUT_CURRENT:
        show(o, "testResult", str(o, "options.test.current"));
        break;
    case OUT_REFUSED:
        show(o, "testResult", str(o, "options.test.refused"));
        break;
    case OUT_UNREACHABLE:
    case OUT_TLS:
        plain_reason(o, reason, plain, sizeof plain);
        rl_words_format(&o->strings, result == OUT_TLS ? "options.test.tls" : "options.test.unreachable", text,
                   sizeof text, args, 1);
        show(o, "testResult", text);
        break;
    case OUT_TIMEOUT:
        snprintf(plain, sizeof plain, "%s", reason);   /* the seconds waited */
        rl_words_format(&o->strings, "options.test.timeout", text, sizeof text, args, 1);
        show(o, "testResult", text);
        break;
    default:
        snprintf(plain, sizeof plain, "%s", reason);
        rl_words_format(&o->strings, "options.test.failed", text, sizeof text, args, 1);
        show(o, "testResult", text);
        break;
    }
}

/* ------------------------------------------------------------------ methods */

static const char *const method_names[] = { "external_event", "testConnection", "endpointChanged", "browseCaFile" };

static void call_handler_method(rl_uno_object *self, uno_Any **exc, sal_Bool *ret, uno_Interface *window,
                                const uno_Any *event, rtl_uString *method)
{
    options *o = options_of(self);
    sal_Bool handled = sal_True;

    if (rl_uno_str_equals(method, "external_event")) {
        char what[32];
        if (rl_uno_any_get_string(event, what, sizeof what) != RL_OK) {
            handled = sal_False;
        } else if (strcmp(what, "initialize") == 0 || strcmp(what, "back") == 0) {
            set_window(o, window);
            fill(o);
        } else if (strcmp(what, "ok") == 0) {
            set_window(o, window);
            save(o);
        } else {
            handled = sal_False;
        }
    } else if (!o->window) {
        handled = sal_False;   /* a page event before "initialize": nothing to act on */
    } else if (rl_uno_str_equals(method, "testConnection")) {
        start_test(o);
    } else if (rl_uno_str_equals(method, "endpointChanged")) {
        endpoint_changed(o);
    } else if (rl_uno_str_equals(method, "browseCaFile")) {
        browse_ca_file(o);
    } else {
        handled = sal_False;
    }
    *ret = handled;
}
RL_UNO_SKELETON_XContainerWindowEventHandler_callHandlerMethod(m_call_handler_method, call_handler_method)

static void get_supported_method_names(rl_uno_object *self, uno_Any **exc, uno_Sequence **ret)
{
    uno_Sequence *names = rl_uno_seq_strings(method_names, sizeof method_names / sizeof method_names[0]);
    if (!names) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "out of memory");
        return;
    }
    *ret = names;
}
RL_UNO_SKELETON_XContainerWindowEventHandler_getSupportedMethodNames(m_get_supported_method_names,
                                                                     get_supported_method_names)

/* The test thread's outcome, posted to the main thread. */
static void notify(rl_uno_object *self, uno_Any **exc, const uno_Any *data)
{
    show_result(options_of(self));
}
RL_UNO_SKELETON_XCallback_notify(m_notify, notify)

static void disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    options *o = options_of(self);
    uno_Interface *src = rl_uno_query(ev->Source, RL_UNO_T_XInterface);
    uno_Interface *win = rl_uno_query(o->window, RL_UNO_T_XInterface);
    if (src && src == win) {
        /* The dialog closed the page: its window is gone; a test still
         * running will find no window to show its result in. */
        rl_uno_release(o->window);
        o->window = NULL;
    }
    rl_uno_release(src);
    rl_uno_release(win);
}
RL_UNO_SKELETON_XEventListener_disposing(m_disposing, disposing)

static void query_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    /* A test never holds the office back: it is cut short at exit. */
}
RL_UNO_SKELETON_XTerminateListener_queryTermination(m_query_termination, query_termination)

/* Main thread, office exit: stops a running test and waits (bounded) until
 * its thread has destroyed its client. */
static void notify_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    options *o = options_of(self);
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += TEST_EXIT_WAIT_S;
    pthread_mutex_lock(&o->lock);
    if (o->job) {
        pthread_mutex_lock(&o->job->lock);
        o->job->cancelled = 1;
        pthread_cond_signal(&o->job->cond);
        pthread_mutex_unlock(&o->job->lock);
    }
    while (o->job)
        if (pthread_cond_timedwait(&o->idle, &o->lock, &until) != 0)
            break;
    if (o->job)
        rl_log("options: the connection test did not stop within %d s of the office's exit", TEST_EXIT_WAIT_S);
    pthread_mutex_unlock(&o->lock);
    o->testing = 0;
    unwatch_exit(o);
}
RL_UNO_SKELETON_XTerminateListener_notifyTermination(m_notify_termination, notify_termination)

static void options_destroy(rl_uno_object *self)
{
    options *o = options_of(self);
    rl_uno_release(o->desktop);
    pthread_cond_destroy(&o->idle);
    rl_uno_release(o->window);
    rl_uno_release(o->async);
    rl_uno_release(o->ctx);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

static const char *const options_services[] = { RLU_IMPL_OPTIONS_HANDLER, NULL };
static const int options_interfaces[] = {
    RL_UNO_T_XContainerWindowEventHandler, RL_UNO_T_XCallback, RL_UNO_T_XTerminateListener, -1
};
static const rl_uno_method options_methods[] = {
    { RL_UNO_MN_XContainerWindowEventHandler_callHandlerMethod, m_call_handler_method },
    { RL_UNO_MN_XContainerWindowEventHandler_getSupportedMethodNames, m_get_supported_method_names },
    { RL_UNO_MN_XCallback_notify, m_notify },
    { RL_UNO_MN_XTerminateListener_queryTermination, m_query_termination },
    { RL_UNO_MN_XTerminateListener_notifyTermination, m_notify_termination },
    { RL_UNO_MN_XEventListener_disposing, m_disposing },
    { NULL, NULL }
};
const rl_uno_class rlu_options_class = {
    RLU_IMPL_OPTIONS_HANDLER, options_services, options_interfaces, options_methods, options_destroy
};

uno_Interface *rlu_options_handler_new(uno_Interface *ctx)
{
    rl_uno_err err;
    options *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    rl_uno_object_init(&o->obj, &rlu_options_class);
    pthread_mutex_init(&o->lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&o->idle, &cattr);
    pthread_condattr_destroy(&cattr);
    rl_uno_acquire(ctx);
    o->ctx = ctx;
    if (!(o->async = rl_uno_create_instance(ctx, "com.sun.star.awt.AsyncCallback", &err))) {
        rl_log("options: %s", err.message);
        rl_uno_release(&o->obj.iface);
        return NULL;
    }
    load_strings(o);
    return &o->obj.iface;
}
