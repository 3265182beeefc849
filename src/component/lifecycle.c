/* lifecycle.c - the office's start and end as the component sees them.
 *
 *  - AutoConnectJob: registered on OnStartApp (extension/registry/Jobs.xcu);
 *    creates theReportLink and connects if AutoConnect is on - on a thread
 *    of its own, once the first letter is ready (or 1.5 s after the start
 *    without one), so that the office's start never waits for it.
 *  - The terminate listener: on office exit closes the connection cleanly.
 *  - The silent interaction handler given to the password container, so
 *    that it never shows a dialog. */
#include "component.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ job */

typedef struct job {
    rl_uno_object obj;
    uno_Interface *ctx;   /* acquired */
} job;

static void start_link(uno_Interface *ctx)
{
    uno_Interface *link = rlc_link_get(ctx);
    if (link) {
        rlc_link_autoconnect(link);
        rl_uno_release(link);
    }
}

/* ------------------------------------------------------------------ the start gate
 *
 * Nothing of the link may slow the office's own start: the libwebsockets
 * context, the keyring lookup, the settings and the listeners all compete
 * for the two cores and for the office's locks while it builds its first
 * window. So the starter thread waits at this gate until the first letter
 * is ready (its "OnLoad" or "OnNew", letterwatch.c), or RLC_START_ALONE_MS
 * when the office started without one (the Start Center, a headless office
 * driven over its socket). Connecting then takes a few milliseconds on a
 * local network, so the link is up right after the letter appears. */
#define RLC_START_ALONE_MS 1500
/* Tests set another wait (milliseconds) in the office's environment, so
 * that a letter opened over the bridge surely comes first. */
#define RLC_START_ALONE_ENV "REPORTLINK_START_ALONE_MS"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static int gate_open;

static void gate_init(void)
{
    rl_os_cond_init(&gate_cond);
}

void rlc_start_gate_open(void)
{
    pthread_once(&gate_once, gate_init);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* 1 when a letter opened the gate, 0 when deadline_ms came first. */
static int gate_wait(int64_t deadline_ms)
{
    int opened;
    pthread_once(&gate_once, gate_init);
    pthread_mutex_lock(&gate_lock);
    while (!gate_open && rl_os_cond_wait_until(&gate_cond, &gate_lock, deadline_ms) != ETIMEDOUT)
        ;
    opened = gate_open;
    pthread_mutex_unlock(&gate_lock);
    return opened;
}

static int alone_ms(void)
{
    const char *e = getenv(RLC_START_ALONE_ENV);
    char *end;
    long v = e ? strtol(e, &end, 10) : -1;
    return e && *e && !*end && v >= 0 && v <= 600000 ? (int)v : RLC_START_ALONE_MS;
}

/* ------------------------------------------------------------------ job */

typedef struct starter {
    uno_Interface *ctx;   /* acquired */
    int alone_ms;         /* the gate opens by itself this long after the job */
    int64_t deadline_ms;
} starter;

static void *starter_main(void *arg)
{
    starter *s = arg;
    if (gate_wait(s->deadline_ms))
        rl_log("starting: a letter is ready");
    else
        rl_log("starting: no letter within %d ms of the office's start", s->alone_ms);
    start_link(s->ctx);
    rl_uno_release(s->ctx);
    free(s);
    return NULL;
}

/* The office runs OnStartApp jobs on its main thread, before the documents
 * on its command line appear. Creating theReportLink there held the start
 * up by 60-100 ms (the libwebsockets context and its TLS trust alone took
 * 54 ms; make bench, "start-up"), so the job only registers the letters'
 * listener (which opens the gate) and starts a thread that waits at the
 * gate and then does it. Creation is safe on any thread (link.c); if the
 * office leaves meanwhile, rlc_link_get or the client's creation notices it. */
static void job_execute(rl_uno_object *self, uno_Any **exc, uno_Any *ret, uno_Sequence *arguments)
{
    job *j = RL_UNO_SELF(self, job, obj);
    pthread_attr_t attr;
    pthread_t t;
    rl_uno_err err;
    starter *s = malloc(sizeof *s);
    int rc = -1;

    if (rlc_watch_letters(j->ctx, &err) != RL_OK) {
        rl_log("cannot watch letters being opened, printed or exported: %s", err.message);
        rlc_start_gate_open();
    }
    if (s) {
        rl_uno_acquire(j->ctx);
        s->ctx = j->ctx;
        s->alone_ms = alone_ms();
        s->deadline_ms = rl_os_monotonic_ms() + s->alone_ms;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, starter_main, s);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            rl_uno_release(j->ctx);
            free(s);
        }
    }
    if (rc != 0)
        start_link(j->ctx);      /* no thread: do it here, as before */
    rl_uno_any_void(ret);
}
RL_UNO_SKELETON_XJob_execute(m_job_execute, job_execute)

static void job_destroy(rl_uno_object *self)
{
    job *j = RL_UNO_SELF(self, job, obj);
    rl_uno_release(j->ctx);
    free(j);
}

static const char *const job_services[] = { RLC_IMPL_JOB, NULL };
static const int job_interfaces[] = { RL_UNO_T_XJob, -1 };
static const rl_uno_method job_methods[] = {
    { RL_UNO_MN_XJob_execute, m_job_execute },
    { NULL, NULL }
};
const rl_uno_class rlc_job_class = {
    RLC_IMPL_JOB, job_services, job_interfaces, job_methods, job_destroy
};

uno_Interface *rlc_job_new(uno_Interface *ctx)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    rl_uno_object_init(&j->obj, &rlc_job_class);
    rl_uno_acquire(ctx);
    j->ctx = ctx;
    return &j->obj.iface;
}

/* ------------------------------------------------------------------ terminate listener */

static rl_uno_object terminate_listener;   /* static: lives as long as the library */

static void query_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    /* ReportLink never vetoes: a doctor closing the office wins. */
}
RL_UNO_SKELETON_XTerminateListener_queryTermination(m_query_termination, query_termination)

static void notify_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    rlc_link_shutdown();
}
RL_UNO_SKELETON_XTerminateListener_notifyTermination(m_notify_termination, notify_termination)

static void terminate_disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
}
RL_UNO_SKELETON_XEventListener_disposing(m_terminate_disposing, terminate_disposing)

static void static_destroy(rl_uno_object *self)
{
    /* Static objects are never freed. */
}

static const int terminate_interfaces[] = { RL_UNO_T_XTerminateListener, -1 };
static const rl_uno_method terminate_methods[] = {
    { RL_UNO_MN_XTerminateListener_queryTermination, m_query_termination },
    { RL_UNO_MN_XTerminateListener_notifyTermination, m_notify_termination },
    { RL_UNO_MN_XEventListener_disposing, m_terminate_disposing },
    { NULL, NULL }
};
const rl_uno_class rlc_terminate_class = {
    "org.reportlink.TerminateListener", NULL, terminate_interfaces, terminate_methods, static_destroy
};

int rlc_watch_termination(uno_Interface *ctx, rl_uno_err *err)
{
    uno_Interface *desktop = rl_uno_create_instance(ctx, "com.sun.star.frame.Desktop", err);
    int rc;
    if (!desktop)
        return err->code;
    rl_uno_object_init(&terminate_listener, &rlc_terminate_class);
    rc = rl_uno_XDesktop_addTerminateListener(desktop, err, &terminate_listener.iface);
    rl_uno_release(desktop);
    return rc;
}

/* ------------------------------------------------------------------ silent handler */

static rl_uno_object silent_handler;
static pthread_once_t silent_handler_once = PTHREAD_ONCE_INIT;
static atomic_int silent_handler_logged;

static void handle(rl_uno_object *self, uno_Any **exc, uno_Interface *request)
{
    /* Choosing no continuation answers "no password": the password
     * container then gives up instead of showing a dialog. */
    if (!atomic_exchange(&silent_handler_logged, 1))
        rl_log("the password container wants a master password; ReportLink does not ask for it");
}
RL_UNO_SKELETON_XInteractionHandler_handle(m_handle, handle)

static const int silent_interfaces[] = { RL_UNO_T_XInteractionHandler, -1 };
static const rl_uno_method silent_methods[] = {
    { RL_UNO_MN_XInteractionHandler_handle, m_handle },
    { NULL, NULL }
};
const rl_uno_class rlc_silent_handler_class = {
    "org.reportlink.SilentInteractionHandler", NULL, silent_interfaces, silent_methods, static_destroy
};

static void silent_handler_init(void)
{
    rl_uno_object_init(&silent_handler, &rlc_silent_handler_class);
}

uno_Interface *rlc_silent_handler_new(void)
{
    pthread_once(&silent_handler_once, silent_handler_init);
    rl_uno_acquire(&silent_handler.iface);
    return &silent_handler.iface;
}
