/*
 * options_internal.h - what the options page (options.c) and its connection
 * test (options_test.c) share. Private to those two files.
 */
#ifndef RL_OPTIONS_INTERNAL_H
#define RL_OPTIONS_INTERNAL_H

#include "ui.h"

#include <pthread.h>

#include "component.h"   /* settings, keystore, rlc_link_get, rl_log */

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

/* options.c: the words of key in the page's language; one of the page's
 * status lines; the i18n key of an address problem; the address checked
 * as the core will parse it, said under the field (RL_URL_OK when it can be
 * saved). */
const char *rlu__opt_str(options *o, const char *key);
void rlu__opt_show(options *o, const char *control, const char *text);
const char *rlu__opt_problem_key(rl_url_problem p);
rl_url_problem rlu__opt_check_endpoint(options *o, const char *url);

/* options_test.c, main thread: starts "Test connection" with the page's
 * fields; shows a result the test thread posted; stops listening for the
 * office's exit once no test runs. */
void rlu__opt_start_test(options *o);
void rlu__opt_show_result(options *o);
void rlu__opt_unwatch_exit(options *o);

#endif
