/* test_client.c - the client's threads: commands and status reads from
 * several threads while the service thread connects, fails and backs off.
 *
 * The endpoint is a loopback port nobody listens on, and the backoff is a few
 * milliseconds, so the service thread goes round connecting -> backoff
 * hundreds of times while four other threads queue commands and read the
 * status snapshot. Built like every unit test, and also under
 * ThreadSanitizer (mk/sanitize.mk), where a race on the queue, the snapshot
 * or the event path is reported. */
#include "reportlink_core.h"
#include "testlib.h"
#include "testos.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define CALLERS 4
#define ROUNDS 400

static atomic_int events, states, backoffs, wrong_thread, bad_detail;
static atomic_int first_thread_set;
static atomic_int callers_done, real_attempts_after, lws_errors;
static pthread_t service_thread;

static void on_event(void *user, const rl_event *ev)
{
    (void)user;
    /* Every callback comes from one thread, the service thread. */
    if (!atomic_exchange(&first_thread_set, 1))
        service_thread = pthread_self();
    else if (!pthread_equal(service_thread, pthread_self()))
        atomic_fetch_add(&wrong_thread, 1);
    atomic_fetch_add(&events, 1);
    if (ev->kind == RL_EVENT_STATE) {
        atomic_fetch_add(&states, 1);
        if (ev->state == RL_STATE_BACKOFF)
            atomic_fetch_add(&backoffs, 1);
        /* A refused attempt; under wine a refused loopback connect() fails at
         * once, inside lws_client_connect_via_info, which the core words as
         * "could not start a connection" (no socket is left over: lws_errors). */
        if (ev->state == RL_STATE_BACKOFF && atomic_load(&callers_done) && ev->detail &&
            (strstr(ev->detail, "cannot connect to 127.0.0.1") || strstr(ev->detail, "could not start a connection")))
            atomic_fetch_add(&real_attempts_after, 1);
        if (!ev->detail || strlen(ev->detail) >= RL_MAX_DETAIL)
            atomic_fetch_add(&bad_detail, 1);
    } else if (ev->kind == RL_EVENT_REPORT) {
        rl_report_free(ev->report);
    }
}

/* libwebsockets' errors are counted, not printed. A storm of reconnections
 * once made it refuse new sockets ("Too many fds": one socket opened per
 * queued URL/key change, before any aborted one was freed); now none. */
static void count_lws_log(int level, const char *line)
{
    (void)level;
    (void)line;
    atomic_fetch_add(&lws_errors, 1);
}


typedef struct caller {
    rl_client *c;
    int id;
    char url[64];
    int bad_status;
    int full;
} caller;

static void *call_loop(void *arg)
{
    caller *k = arg;
    char key[32];
    for (int i = 0; i < ROUNDS; i++) {
        rl_status st;
        int rc = RL_OK;
        switch ((i + k->id) % 5) {
        case 0: rc = rl_client_connect(k->c); break;
        case 1: rc = rl_client_set_url(k->c, k->url); break;
        case 2:
            snprintf(key, sizeof key, "key-%d-%d", k->id, i % 3);
            rc = rl_client_set_key(k->c, key);
            break;
        case 3: rc = rl_client_set_ping_interval(k->c, 1000 + i); break;
        case 4:
            if (i % 50 == 4)
                rc = rl_client_disconnect(k->c);
            break;
        }
        if (rc == RL_ERR_FULL)
            k->full++;
        else if (rc != RL_OK)
            k->bad_status++;
        rl_client_get_status(k->c, &st);
        if ((unsigned)st.state > RL_STATE_REPLACED || !memchr(st.detail, 0, sizeof st.detail) ||
            !memchr(st.endpoint, 0, sizeof st.endpoint))
            k->bad_status++;
        if (i % 16 == 0) {
            struct timespec ts = { 0, 200000 };
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int main(void)
{
    int port = os_refused_port();
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/reports/ws", port);

    rl_client_config cfg = {
        .url = url,
        .key = "key-0-0",
        .autostart = 1,
        .connect_timeout_ms = 2000,
        .backoff_base_ms = 2,
        .backoff_cap_ms = 10,
        .on_event = on_event,
    };
    char err[128] = "";
    lws_set_log_level(LLL_ERR, count_lws_log);
    rl_client *c = rl_client_create(&cfg, err, sizeof err);

    test("a client starts against a refused loopback port");
    test_cond(port > 0 && c != NULL);
    if (!c)
        return test_summary();

    caller callers[CALLERS];
    pthread_t th[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        memset(&callers[i], 0, sizeof callers[i]);
        callers[i].c = c;
        callers[i].id = i;
        /* Two URLs, so set_url really changes the target now and then. */
        snprintf(callers[i].url, sizeof callers[i].url, "ws://127.0.0.1:%d/reports/ws%s", port,
                 i % 2 ? "" : "?x=1");
        pthread_create(&th[i], NULL, call_loop, &callers[i]);
    }
    int bad = 0, full = 0;
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(th[i], NULL);
        bad += callers[i].bad_status;
        full += callers[i].full;
    }
    /* Then on its own: once the queued commands have run, real connection
     * attempts again (no socket or lws connection was leaked on the way). */
    atomic_store(&callers_done, 1);
    rl_client_connect(c);
    for (int i = 0; i < 600 && (atomic_load(&real_attempts_after) < 5 || atomic_load(&backoffs) < 20);
         i++) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }

    test("commands from four threads are all accepted or refused as full, and every status "
         "snapshot read meanwhile is whole");
    if (bad)
        printf("  %d refused commands or torn snapshots (%d queue-full answers)\n", bad, full);
    test_cond(bad == 0);

    test("the service thread went round connecting and backing off, again and again");
    test_cond(atomic_load(&backoffs) >= 20);

    test("the storm of URL and key changes never made libwebsockets refuse a socket");
    if (atomic_load(&lws_errors))
        printf("  %d libwebsockets errors\n", atomic_load(&lws_errors));
    test_cond(atomic_load(&lws_errors) == 0);

    test("after the storm of commands the client makes real connection attempts again");
    test_cond(atomic_load(&real_attempts_after) >= 5);

    test("every event came from the one service thread, with a bounded detail");
    test_cond(atomic_load(&wrong_thread) == 0 && atomic_load(&bad_detail) == 0 &&
              atomic_load(&states) > 0);

    int64_t t0 = rl_os_monotonic_ms();
    rl_client_destroy(c);
    long ms = (long)(rl_os_monotonic_ms() - t0);
    test("destroying the client in the middle of it returns within 2 s");
    if (ms >= 2000)
        printf("  destroy took %ld ms\n", ms);
    test_cond(ms < 2000);

    printf("# %d events, %d backoffs, %d queue-full answers, %d libwebsockets errors\n",
           atomic_load(&events), atomic_load(&backoffs), full, atomic_load(&lws_errors));
    return test_summary();
}
