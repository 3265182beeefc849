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
 * LibreOffice), so the network thread never waits for the main thread.
 *
 * The ring, its wake-up flag and the drain are mtqueue.c (no UNO, tested
 * with threads under ThreadSanitizer); this file adds AsyncCallback and the
 * applyReport requests, which live under the queue's lock too. */
#include "component.h"
#include "mtqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct rlc_apply_request {
    rlc_handover *h;
    rl_report *report;         /* taken by the deliver function; NULL: place entry_id */
    sal_Int32 entry_id;        /* an inbox entry to place, when report is NULL */
    unsigned place_flags;      /* ... with these rl_writer_place_report flags */
    int done, abandoned;       /* under h->q.lock */
    int fields_filled;
    pthread_cond_t cond;
};

struct rlc_handover {
    rl_uno_object obj;         /* XCallback */
    uno_Interface *owner;      /* acquired until closed */
    rlc_deliver_fn deliver;
    rlc_lost_fn lost;
    void *user;

    rlc_mtq q;                 /* its lock guards the queue and everything below */
    uno_Interface *async;      /* AsyncCallback; NULL once closed */
    rlc_item items[RLC_MAX_ITEMS];  /* the queue's slots */

    atomic_int main_known;
    pthread_t main_thread;     /* written once, before main_known is set */
};

_Static_assert(sizeof(rlc_item) <= RLC_MTQ_MAX_ITEM, "a hand-over item must fit the queue's limit");

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
    if (rl_uno_XRequestCallback_addCallback(async, &err, &h->obj.iface, &nothing) != RL_OK) {
        pthread_mutex_lock(&h->q.lock);
        rlc_mtq_wake_failed_locked(&h->q);
        pthread_mutex_unlock(&h->q.lock);
        rl_log("cannot reach the main thread: %s", err.message);
    }
    uno_any_destruct(&nothing, NULL);
}

/* Queues *item under the lock; returns the AsyncCallback to wake (a new
 * reference) or NULL if no wake-up is needed. Sets *queued. */
static uno_Interface *push_locked(rlc_handover *h, const rlc_item *item, int *queued)
{
    uno_Interface *async = NULL;
    int wake;
    *queued = rlc_mtq_push_locked(&h->q, item, item->kind == RLC_ITEM_STATE ? 0 : 1, &wake);
    if (wake) {
        async = h->async;
        rl_uno_acquire(async);
    }
    return async;
}

int rlc_handover_post(rlc_handover *h, const rlc_item *item)
{
    int queued;
    pthread_mutex_lock(&h->q.lock);
    uno_Interface *async = push_locked(h, item, &queued);
    pthread_mutex_unlock(&h->q.lock);
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
     * initial thread. */
    return rl_os_is_main_thread();
}

int rlc_handover_apply(rlc_handover *h, rl_report *report, sal_Int32 entry_id,
                       unsigned place_flags, int timeout_ms)
{
    rlc_apply_request *req = calloc(1, sizeof *req);
    int64_t deadline;
    rlc_item item;
    int queued, result;

    if (!req) {
        rl_report_free(report);
        return -1;
    }
    req->h = h;
    req->report = report;
    req->entry_id = entry_id;
    req->place_flags = place_flags;
    rl_os_cond_init(&req->cond);
    memset(&item, 0, sizeof item);
    item.kind = RLC_ITEM_APPLY;
    item.apply = req;

    deadline = rl_os_monotonic_ms() + timeout_ms;

    pthread_mutex_lock(&h->q.lock);
    uno_Interface *async = push_locked(h, &item, &queued);
    pthread_mutex_unlock(&h->q.lock);
    if (async) {
        wake(h, async);
        rl_uno_release(async);
    }
    if (!queued) {
        free_request(req);
        return -1;
    }
    pthread_mutex_lock(&h->q.lock);
    while (!req->done) {
        if (rl_os_cond_wait_until(&req->cond, &h->q.lock, deadline) == ETIMEDOUT && !req->done) {
            req->abandoned = 1;   /* the main thread frees it */
            pthread_mutex_unlock(&h->q.lock);
            return -1;
        }
    }
    result = req->fields_filled;
    pthread_mutex_unlock(&h->q.lock);
    free_request(req);
    return result;
}

void rlc_handover_apply_done(rlc_apply_request *req, int fields_filled)
{
    rlc_handover *h = req->h;
    int abandoned;
    pthread_mutex_lock(&h->q.lock);
    req->done = 1;
    req->fields_filled = fields_filled;
    abandoned = req->abandoned;
    pthread_cond_signal(&req->cond);
    pthread_mutex_unlock(&h->q.lock);
    if (abandoned)
        free_request(req);
}

/* Under the queue's lock, as an item leaves it: the deliver function takes
 * an apply request's report. */
static void item_taken(void *user, void *it)
{
    rlc_item *item = it;
    if (item->apply) {
        item->report = item->apply->report;
        item->entry_id = item->apply->entry_id;
        item->place_flags = item->apply->place_flags;
        item->apply->report = NULL;
    }
}

static void item_deliver(void *user, void *item)
{
    rlc_handover *h = user;
    h->deliver(h->user, item);
}

static void items_lost(void *user, const unsigned lost[RLC_MTQ_CLASSES])
{
    rlc_handover *h = user;
    h->lost(h->user, lost[0], lost[1]);
}

/* XCallback::notify, on the main thread. */
static void notify(rl_uno_object *self, uno_Any **exc, const uno_Any *data)
{
    rlc_handover *h = handover_of(self);

    if (!atomic_load(&h->main_known)) {
        h->main_thread = pthread_self();
        atomic_store(&h->main_known, 1);
    }
    rlc_mtq_drain(&h->q, item_taken, item_deliver, items_lost, h);
}
RL_UNO_SKELETON_XCallback_notify(m_notify, notify)

static void handover_destroy(rl_uno_object *self)
{
    rlc_handover *h = handover_of(self);
    rlc_mtq_destroy(&h->q);
    free(h);
}

static const int handover_interfaces[] = { RL_UNO_T_XCallback, -1 };
static const rl_uno_method handover_methods[] = {
    { RL_UNO_MN_XCallback_notify, m_notify },
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
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!(h->async = rl_uno_create_instance(ctx, "com.sun.star.awt.AsyncCallback", err))) {
        free(h);
        return NULL;
    }
    rl_uno_object_init(&h->obj, &rlc_handover_class);
    rlc_mtq_init(&h->q, h->items, sizeof h->items[0], RLC_MAX_ITEMS);
    atomic_init(&h->main_known, 0);
    rl_uno_acquire(owner);
    h->owner = owner;
    h->deliver = deliver;
    h->lost = lost;
    h->user = user;
    /* One empty round trip, so that the main thread is known early. */
    h->q.wake_pending = 1;
    wake(h, h->async);
    return h;
}

void rlc_handover_close(rlc_handover *h)
{
    uno_Interface *async, *owner;
    rlc_item left;
    pthread_mutex_lock(&h->q.lock);
    rlc_mtq_close_locked(&h->q);
    async = h->async;
    h->async = NULL;
    owner = h->owner;
    h->owner = NULL;
    while (rlc_mtq_pop_locked(&h->q, &left)) {
        rlc_item *item = &left;
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
    pthread_mutex_unlock(&h->q.lock);
    rl_uno_release(async);
    rl_uno_release(owner);
}

void rlc_handover_release(rlc_handover *h)
{
    if (h)
        rl_uno_release(&h->obj.iface);
}
