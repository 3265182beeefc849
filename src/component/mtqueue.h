/*
 * mtqueue.h - the bounded queue from any thread to one consumer thread, with
 * merged wake-ups. No UNO: handover.c puts it behind AsyncCallback (the
 * consumer is the office's main thread), and tests/unit/test_mtqueue.c runs
 * it with real threads, also under ThreadSanitizer.
 *
 * The protocol: a producer pushes under `lock` and, when the push says so,
 * wakes the consumer once (outside the lock); a wake-up stays pending until
 * the consumer starts rlc_mtq_drain(), which clears it first and then takes
 * the items one at a time, calling back outside the lock. So at most one
 * wake-up is pending, and an item pushed while a drain runs is either taken
 * by that drain or causes a new wake-up: never left behind.
 */
#ifndef RL_MTQUEUE_H
#define RL_MTQUEUE_H

#include <pthread.h>
#include <stddef.h>

#define RLC_MTQ_CLASSES 2     /* loss counters: e.g. 0 = states, 1 = reports */
#define RLC_MTQ_MAX_ITEM 1024 /* bytes of one item (the drain copies it on its stack) */

typedef struct rlc_mtq {
    pthread_mutex_t lock;   /* guards what follows; the owner may guard its own
                               state that changes together with the queue by it */
    unsigned char *slots;   /* cap * item_size bytes, the owner's memory */
    size_t item_size;
    unsigned cap, head, len;
    int wake_pending;
    int closed;
    unsigned lost[RLC_MTQ_CLASSES];
} rlc_mtq;

/* slots: cap items of item_size bytes, kept by the caller for the queue's
 * life. Returns 0, or -1 when item_size is above RLC_MTQ_MAX_ITEM or cap is 0. */
int rlc_mtq_init(rlc_mtq *q, void *slots, size_t item_size, unsigned cap);
void rlc_mtq_destroy(rlc_mtq *q);

/* Caller holds q->lock. Copies *item in and returns 1; returns 0 when the
 * queue is closed (nothing counted) or full (a loss of lost_class counted).
 * *wake is set to 1 when the caller must wake the consumer after unlocking:
 * the queue is open and no wake-up was pending. */
int rlc_mtq_push_locked(rlc_mtq *q, const void *item, unsigned lost_class, int *wake);

/* Caller holds q->lock: the wake-up it was told to send could not be sent. */
void rlc_mtq_wake_failed_locked(rlc_mtq *q);

/* Caller holds q->lock: no more pushes; pops still work (to free what is left). */
void rlc_mtq_close_locked(rlc_mtq *q);

/* Caller holds q->lock: takes the oldest item into out; 1, or 0 when empty. */
int rlc_mtq_pop_locked(rlc_mtq *q, void *out);

typedef void (*rlc_mtq_taken_fn)(void *user, void *item);    /* under q->lock */
typedef void (*rlc_mtq_deliver_fn)(void *user, void *item);  /* outside the lock */
typedef void (*rlc_mtq_lost_fn)(void *user, const unsigned lost[RLC_MTQ_CLASSES]);

/* The consumer, once per wake-up: clears the pending wake-up, then, until
 * the queue is empty or closed, reports losses (lost, outside the lock, when
 * any were counted) and hands each item to deliver in order. taken (may be
 * NULL) runs under the lock on each item as it leaves the queue. */
void rlc_mtq_drain(rlc_mtq *q, rlc_mtq_taken_fn taken, rlc_mtq_deliver_fn deliver,
                   rlc_mtq_lost_fn lost, void *user);

#endif
