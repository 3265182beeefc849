/* mtqueue.c - the bounded multi-producer queue to one consumer thread; see
 * mtqueue.h for the protocol. The drain is the libuv async pattern: wake-ups
 * merge, so the woken side clears the flag first and then empties the ring. */
#include "mtqueue.h"

#include <stddef.h>
#include <string.h>

int rlc_mtq_init(rlc_mtq *q, void *slots, size_t item_size, unsigned cap)
{
    memset(q, 0, sizeof *q);
    if (item_size == 0 || item_size > RLC_MTQ_MAX_ITEM || cap == 0)
        return -1;
    pthread_mutex_init(&q->lock, NULL);
    q->slots = slots;
    q->item_size = item_size;
    q->cap = cap;
    return 0;
}

void rlc_mtq_destroy(rlc_mtq *q)
{
    pthread_mutex_destroy(&q->lock);
}

int rlc_mtq_push_locked(rlc_mtq *q, const void *item, unsigned lost_class, int *wake)
{
    int queued = 0;
    *wake = 0;
    if (q->closed)
        return 0;
    if (q->len == q->cap) {
        q->lost[lost_class < RLC_MTQ_CLASSES ? lost_class : RLC_MTQ_CLASSES - 1]++;
    } else {
        memcpy(q->slots + (size_t)((q->head + q->len) % q->cap) * q->item_size, item, q->item_size);
        q->len++;
        queued = 1;
    }
    /* Even after a loss: the consumer must come and report it. */
    if (!q->wake_pending) {
        q->wake_pending = 1;
        *wake = 1;
    }
    return queued;
}

void rlc_mtq_wake_failed_locked(rlc_mtq *q)
{
    q->wake_pending = 0;
}

void rlc_mtq_close_locked(rlc_mtq *q)
{
    q->closed = 1;
}

int rlc_mtq_pop_locked(rlc_mtq *q, void *out)
{
    if (!q->len)
        return 0;
    memcpy(out, q->slots + (size_t)q->head * q->item_size, q->item_size);
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return 1;
}

void rlc_mtq_drain(rlc_mtq *q, rlc_mtq_taken_fn taken, rlc_mtq_deliver_fn deliver,
                   rlc_mtq_lost_fn lost, void *user)
{
    _Alignas(max_align_t) unsigned char item[RLC_MTQ_MAX_ITEM];
    unsigned lost_now[RLC_MTQ_CLASSES];

    pthread_mutex_lock(&q->lock);
    q->wake_pending = 0;
    pthread_mutex_unlock(&q->lock);
    for (;;) {
        int any_lost = 0;
        pthread_mutex_lock(&q->lock);
        if (q->closed) {
            pthread_mutex_unlock(&q->lock);
            return;
        }
        for (unsigned i = 0; i < RLC_MTQ_CLASSES; i++) {
            lost_now[i] = q->lost[i];
            any_lost |= q->lost[i] != 0;
            q->lost[i] = 0;
        }
        int have = rlc_mtq_pop_locked(q, item);
        if (have && taken)
            taken(user, item);
        pthread_mutex_unlock(&q->lock);
        if (any_lost && lost)
            lost(user, lost_now);
        if (!have)
            return;
        deliver(user, item);
    }
}
