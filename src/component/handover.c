/* handover.c - the one queue from other threads to the office's main thread.
 *
 * Producers (the core's network thread, callers of applyReport on foreign
 * threads) put items into a bounded ring under `lock` and, unless a wake-up
 * is already pending, ask com.sun.star.awt.AsyncCallback to call our
 * XCallback on the main thread. The main thread clears the pending flag
 * first and then drains the whole ring, so wake-ups merge: at most one
 * callback is pending at any time.
 *
 * Nobody waits for the other side while holding the lock. AsyncCallback's
 * addCallback only posts a user event (it takes no SolarMutex in this
 * LibreOffice), so the network thread never waits for the main thread. */
#include "component.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct rlc_apply_request {
    rlc_handover *h;
    rl_report *report;         /* taken by the deliver function; NULL: place entry_id */
    sal_Int32 entry_id;        /* an inbox entry to place, when report is NULL */
    int done, abandoned;       /* under h->lock */
    int fields_filled;
    pthread_cond_t cond;
};

struct rlc_handover {
    rl_uno_object obj;         /* XCallback */
    uno_Interface *owner;      /* acquired until closed */
    rlc_deliver_fn deliver;
    rlc_lost_fn lost;
    void *user;

    pthread_mutex_t lock;      /* guards everything below */
    uno_Interface *async;      /* AsyncCallback; NULL once closed */
    rlc_item items[RLC_MAX_ITEMS];
    unsigned head, len;
    int wake_pending;
    int closed;
    unsigned lost_states, lost_reports;

    atomic_int main_known;
    pthread_t main_thread;     /* written once, before main_known is set */
};

static rlc_handover *handover_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, rlc_handover, obj);
}

static void free_request(rlc_apply_request *req)
{
    rl_report_free(req->report);
    pthread_cond_destroy(&req->cond);
    free(req);
}

/* Asks for one callback on the main thread. async is the caller's reference. */
static void wake(rlc_handover *h, uno_Interface *async)
{
    rl_uno_err err;
    uno_Any nothing;

    rl_uno_any_void(&nothing);
    if (rl_uno_XRequestCallback_addCallback(async, &err, &h->obj.iface, &nothing) != RL_UNO_OK) {
        pthread_mutex_lock(&h->lock);
        h->wake_pending = 0;
        pthread_mutex_unlock(&h->lock);
        rlc_log("cannot reach the main thread: %s", err.message);
    }
    uno_any_destruct(&nothing, NULL);
}

/* Queues *item under the lock; returns the AsyncCallback to wake (a new
 * reference) or NULL if no wake-up is needed. Sets *queued. */
static uno_Interface *push_locked(rlc_handover *h, const rlc_item *item, int *queued)
{
    uno_Interface *async = NULL;
    *queued = 0;
    if (h->closed)
        return NULL;
    if (h->len == RLC_MAX_ITEMS) {
        if (item->kind == RLC_ITEM_STATE)
            h->lost_states++;
        else
            h->lost_reports++;
    } else {
        h->items[(h->head + h->len) % RLC_MAX_ITEMS] = *item;
        h->len++;
        *queued = 1;
    }
    if (!h->wake_pending) {
        h->wake_pending = 1;
        async = h->async;
        rl_uno_acquire(async);
    }
    return async;
}

int rlc_handover_post(rlc_handover *h, const rlc_item *item)
{
    int queued;
    pthread_mutex_lock(&h->lock);
    uno_Interface *async = push_locked(h, item, &queued);
    pthread_mutex_unlock(&h->lock);
    if (async) {
        wake(h, async);
        rl_uno_release(async);
    }
    if (!queued) {
        rl_report_free(item->report);
        rl_docx_free(item->docx);
        return -1;
    }
    return 0;
}

int rlc_handover_on_main(rlc_handover *h)
{
    if (atomic_load(&h->main_known))
        return pthread_equal(pthread_self(), h->main_thread);
    /* Before the first callback: soffice runs its main loop on the process's
     * initial thread, whose thread id is the process id. */
    return gettid() == getpid();
}

int rlc_handover_apply(rlc_handover *h, rl_report *report, sal_Int32 entry_id, int timeout_ms)
{
    rlc_apply_request *req = calloc(1, sizeof *req);
    pthread_condattr_t attr;
    struct timespec deadline;
    rlc_item item;
    int queued, result;

    if (!req) {
        rl_report_free(report);
        return -1;
    }
    req->h = h;
    req->report = report;
    req->entry_id = entry_id;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&req->cond, &attr);
    pthread_condattr_destroy(&attr);
    memset(&item, 0, sizeof item);
    item.kind = RLC_ITEM_APPLY;
    item.apply = req;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&h->lock);
    uno_Interface *async = push_locked(h, &item, &queued);
    pthread_mutex_unlock(&h->lock);
    if (async) {
        wake(h, async);
        rl_uno_release(async);
    }
    if (!queued) {
        free_request(req);
        return -1;
    }
    pthread_mutex_lock(&h->lock);
    while (!req->done) {
        if (pthread_cond_timedwait(&req->cond, &h->lock, &deadline) == ETIMEDOUT && !req->done) {
            req->abandoned = 1;   /* the main thread frees it */
            pthread_mutex_unlock(&h->lock);
            return -1;
        }
    }
    result = req->fields_filled;
    pthread_mutex_unlock(&h->lock);
    free_request(req);
    return result;
}

void rlc_handover_apply_done(rlc_apply_request *req, int fields_filled)
{
    rlc_handover *h = req->h;
    int abandoned;
    pthread_mutex_lock(&h->lock);
    req->done = 1;
    req->fields_filled = fields_filled;
    abandoned = req->abandoned;
    pthread_cond_signal(&req->cond);
    pthread_mutex_unlock(&h->lock);
    if (abandoned)
        free_request(req);
}

/* XCallback::notify, on the main thread. */
static void notify(rl_uno_object *self, void *ret, void *args[], uno_Any **exc)
{
    rlc_handover *h = handover_of(self);
    unsigned lost_states, lost_reports;
    rlc_item item;

    if (!atomic_load(&h->main_known)) {
        h->main_thread = pthread_self();
        atomic_store(&h->main_known, 1);
    }
    pthread_mutex_lock(&h->lock);
    h->wake_pending = 0;
    pthread_mutex_unlock(&h->lock);
    for (;;) {
        pthread_mutex_lock(&h->lock);
        if (h->closed) {
            pthread_mutex_unlock(&h->lock);
            return;
        }
        lost_states = h->lost_states;
        lost_reports = h->lost_reports;
        h->lost_states = h->lost_reports = 0;
        int have = h->len > 0;
        if (have) {
            item = h->items[h->head];
            h->head = (h->head + 1) % RLC_MAX_ITEMS;
            h->len--;
            if (item.apply) {   /* the deliver function takes the report */
                item.report = item.apply->report;
                item.entry_id = item.apply->entry_id;
                item.apply->report = NULL;
            }
        }
        pthread_mutex_unlock(&h->lock);
        if (lost_states || lost_reports)
            h->lost(h->user, lost_states, lost_reports);
        if (!have)
            return;
        h->deliver(h->user, &item);
    }
}

static void handover_destroy(rl_uno_object *self)
{
    rlc_handover *h = handover_of(self);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static const int handover_interfaces[] = { RL_UNO_T_XCallback, -1 };
static const rl_uno_method handover_methods[] = {
    { RL_UNO_MN_XCallback_notify, notify },
    { NULL, NULL }
};
const rl_uno_class rlc_handover_class = {
    "org.reportlink.MainThreadCallback", NULL, handover_interfaces, handover_methods, handover_destroy
};

rlc_handover *rlc_handover_create(uno_Interface *ctx, uno_Interface *owner, rlc_deliver_fn deliver,
                                  rlc_lost_fn lost, void *user, rl_uno_err *err)
{
    rlc_handover *h = calloc(1, sizeof *h);
    if (!h) {
        rl_uno_fail(err, RL_UNO_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!(h->async = rlc_create_instance(ctx, "com.sun.star.awt.AsyncCallback", err))) {
        free(h);
        return NULL;
    }
    rl_uno_object_init(&h->obj, &rlc_handover_class);
    pthread_mutex_init(&h->lock, NULL);
    atomic_init(&h->main_known, 0);
    rl_uno_acquire(owner);
    h->owner = owner;
    h->deliver = deliver;
    h->lost = lost;
    h->user = user;
    /* One empty round trip, so that the main thread is known early. */
    h->wake_pending = 1;
    wake(h, h->async);
    return h;
}

void rlc_handover_close(rlc_handover *h)
{
    uno_Interface *async, *owner;
    pthread_mutex_lock(&h->lock);
    h->closed = 1;
    async = h->async;
    h->async = NULL;
    owner = h->owner;
    h->owner = NULL;
    while (h->len > 0) {
        rlc_item *item = &h->items[h->head];
        h->head = (h->head + 1) % RLC_MAX_ITEMS;
        h->len--;
        rl_report_free(item->report);
        rl_docx_free(item->docx);
        if (item->apply) {
            rlc_apply_request *req = item->apply;
            req->done = 1;
            req->fields_filled = -1;
            if (req->abandoned) {
                free_request(req);
            } else {
                pthread_cond_signal(&req->cond);
            }
        }
    }
    pthread_mutex_unlock(&h->lock);
    rl_uno_release(async);
    rl_uno_release(owner);
}

void rlc_handover_release(rlc_handover *h)
{
    if (h)
        rl_uno_release(&h->obj.iface);
}
