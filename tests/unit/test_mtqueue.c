/* test_mtqueue.c - the queue to the main thread (src/component/mtqueue.c),
 * alone and with real threads: four producers, one consumer woken the way
 * AsyncCallback wakes the office's main thread. Also built with
 * ThreadSanitizer (mk/sanitize.mk). */
#include "mtqueue.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* About the size of the hand-over's items (a state detail is 256 bytes). */
typedef struct item {
    int producer;
    unsigned seq;
    char detail[300];
} item;

/* ------------------------------------------------------- one thread */

typedef struct seen {
    unsigned n;
    unsigned order[16];
    unsigned lost[RLC_MTQ_CLASSES];
    int lost_calls;
    int taken;
} seen;

static void taken_one(void *user, void *it)
{
    ((seen *)user)->taken++;
}

static void deliver_one(void *user, void *it)
{
    seen *s = user;
    if (s->n < 16)
        s->order[s->n] = ((item *)it)->seq;
    s->n++;
}

static void lost_one(void *user, const unsigned lost[RLC_MTQ_CLASSES])
{
    seen *s = user;
    s->lost_calls++;
    for (int i = 0; i < RLC_MTQ_CLASSES; i++)
        s->lost[i] += lost[i];
}

/* A lost callback that, like a producer on another thread, pushes an item
 * at the last moment of a drain (after its last look at the queue). */
static rlc_mtq *late_queue;
static int late_wake;
static int push(rlc_mtq *q, unsigned seq, unsigned cls, int *wake);
static void push_from_lost(void *user, const unsigned lost[RLC_MTQ_CLASSES])
{
    push(late_queue, 77, 0, &late_wake);
}

static int push(rlc_mtq *q, unsigned seq, unsigned cls, int *wake)
{
    item it = { .seq = seq };
    pthread_mutex_lock(&q->lock);
    int ok = rlc_mtq_push_locked(q, &it, cls, wake);
    pthread_mutex_unlock(&q->lock);
    return ok;
}

static void single_thread(void)
{
    item slots[4];
    rlc_mtq q;
    seen s;
    int wake, w2, w3;

    test("an item larger than the limit, or no slot, is refused at init");
    test_cond(rlc_mtq_init(&q, slots, RLC_MTQ_MAX_ITEM + 1, 4) == -1 &&
              rlc_mtq_init(&q, slots, sizeof slots[0], 0) == -1);

    rlc_mtq_init(&q, slots, sizeof slots[0], 4);
    test("the first push asks for a wake-up, the next ones while it is pending do not");
    int ok = push(&q, 1, 0, &wake) && push(&q, 2, 1, &w2) && push(&q, 3, 1, &w3);
    test_cond(ok && wake == 1 && w2 == 0 && w3 == 0);

    test("a full queue refuses the item, counts it in its class, and asks no second wake-up");
    push(&q, 4, 1, &wake);
    ok = push(&q, 5, 1, &wake);
    int ok2 = push(&q, 6, 0, &w2);
    test_cond(!ok && !ok2 && wake == 0 && w2 == 0 && q.lost[0] == 1 && q.lost[1] == 1);

    test("a drain delivers in order, reports the losses once, and calls taken on each item");
    memset(&s, 0, sizeof s);
    rlc_mtq_drain(&q, taken_one, deliver_one, lost_one, &s);
    test_cond(s.n == 4 && s.order[0] == 1 && s.order[1] == 2 && s.order[2] == 3 && s.order[3] == 4 &&
              s.lost_calls == 1 && s.lost[0] == 1 && s.lost[1] == 1 && s.taken == 4 && q.len == 0);

    test("after a drain the next push asks for a wake-up again");
    push(&q, 7, 0, &wake);
    test_cond(wake == 1);

    test("a loss on a full queue still asks for a wake-up when none is pending, so it gets reported");
    memset(&s, 0, sizeof s);
    rlc_mtq_drain(&q, NULL, deliver_one, lost_one, &s);
    for (unsigned i = 0; i < 4; i++)
        push(&q, 10 + i, 0, &wake);
    memset(&s, 0, sizeof s);
    pthread_mutex_lock(&q.lock);
    q.wake_pending = 0;    /* as if the consumer had just cleared it */
    pthread_mutex_unlock(&q.lock);
    ok = push(&q, 99, 1, &wake);
    test_cond(!ok && wake == 1 && q.lost[1] == 1);

    test("an item pushed while the consumer is outside the lock at the end of a drain gets its own "
         "wake-up: never stranded");
    {
        item more[4];
        rlc_mtq q2;
        rlc_mtq_init(&q2, more, sizeof more[0], 4);
        pthread_mutex_lock(&q2.lock);
        q2.wake_pending = 1;       /* woken for a loss alone: nothing to pop */
        q2.lost[0] = 1;
        pthread_mutex_unlock(&q2.lock);
        late_queue = &q2;
        late_wake = -1;
        memset(&s, 0, sizeof s);
        rlc_mtq_drain(&q2, NULL, deliver_one, push_from_lost, &s);
        test_cond(late_wake == 1 && q2.len == 1 && q2.wake_pending == 1);
        rlc_mtq_destroy(&q2);
    }

    test("a failed wake-up clears the pending flag, so the next push tries again");
    pthread_mutex_lock(&q.lock);
    rlc_mtq_wake_failed_locked(&q);
    pthread_mutex_unlock(&q.lock);
    push(&q, 100, 1, &wake);
    test_cond(wake == 1);

    test("a closed queue takes nothing, counts nothing, asks no wake-up, and a drain delivers nothing");
    pthread_mutex_lock(&q.lock);
    rlc_mtq_close_locked(&q);
    q.wake_pending = 0;
    unsigned lost_before = q.lost[0] + q.lost[1];
    pthread_mutex_unlock(&q.lock);
    ok = push(&q, 101, 0, &wake);
    memset(&s, 0, sizeof s);
    rlc_mtq_drain(&q, NULL, deliver_one, lost_one, &s);
    test_cond(!ok && wake == 0 && q.lost[0] + q.lost[1] == lost_before && s.n == 0);

    test("after close, what is left can still be popped to be freed");
    item left;
    unsigned n = 0;
    pthread_mutex_lock(&q.lock);
    while (rlc_mtq_pop_locked(&q, &left))
        n++;
    pthread_mutex_unlock(&q.lock);
    test_cond(n == 4 && q.len == 0);
    rlc_mtq_destroy(&q);
}

/* ------------------------------------------------------- threads */

#define PRODUCERS 4
#define PER_PRODUCER 20000
#define CAP 256   /* RLC_MAX_ITEMS */

typedef struct world {
    rlc_mtq q;
    item slots[CAP];
    sem_t wakeups;             /* AsyncCallback: one post per wake-up */
    atomic_int pending_posts;  /* wake-ups posted and not yet taken */
    atomic_int max_pending;
    atomic_int producers_left;
    unsigned next_seq[PRODUCERS];   /* consumer only */
    unsigned delivered, lost;       /* consumer only */
    int out_of_order;               /* consumer only */
    atomic_int stop;
} world;

static void deliver_many(void *user, void *it)
{
    world *w = user;
    item *x = it;
    if (x->producer < 0 || x->producer >= PRODUCERS || x->seq < w->next_seq[x->producer] ||
        x->detail[0] != (char)('a' + x->producer))
        w->out_of_order++;
    else
        w->next_seq[x->producer] = x->seq + 1;
    w->delivered++;
}

static void lost_many(void *user, const unsigned lost[RLC_MTQ_CLASSES])
{
    world *w = user;
    w->lost += lost[0] + lost[1];
}

typedef struct producer_arg {
    world *w;
    int id;
} producer_arg;

static void *producer(void *arg)
{
    producer_arg *p = arg;
    world *w = p->w;
    item it;
    memset(&it, 0, sizeof it);
    it.producer = p->id;
    memset(it.detail, 'a' + p->id, sizeof it.detail - 1);
    for (unsigned i = 0; i < PER_PRODUCER; i++) {
        int wake;
        it.seq = i;
        pthread_mutex_lock(&w->q.lock);
        rlc_mtq_push_locked(&w->q, &it, (unsigned)p->id % 2, &wake);
        pthread_mutex_unlock(&w->q.lock);
        if (wake) {   /* outside the lock, as handover.c calls addCallback */
            int now = atomic_fetch_add(&w->pending_posts, 1) + 1;
            int max = atomic_load(&w->max_pending);
            while (now > max && !atomic_compare_exchange_weak(&w->max_pending, &max, now))
                ;
            sem_post(&w->wakeups);
        }
        if (i % 32 == 0) {
            struct timespec ts = { 0, 50000 };
            nanosleep(&ts, NULL);
        }
    }
    atomic_fetch_sub(&w->producers_left, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    world *w = arg;
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20000000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (sem_timedwait(&w->wakeups, &until) == 0) {
            atomic_fetch_sub(&w->pending_posts, 1);
            rlc_mtq_drain(&w->q, NULL, deliver_many, lost_many, w);
        } else if (atomic_load(&w->stop)) {
            return NULL;
        }
    }
}

static void threads(void)
{
    static world w;
    pthread_t prod[PRODUCERS], cons;
    producer_arg args[PRODUCERS];

    rlc_mtq_init(&w.q, w.slots, sizeof w.slots[0], CAP);
    sem_init(&w.wakeups, 0, 0);
    atomic_init(&w.producers_left, PRODUCERS);
    pthread_create(&cons, NULL, consumer, &w);
    for (int i = 0; i < PRODUCERS; i++) {
        args[i].w = &w;
        args[i].id = i;
        pthread_create(&prod[i], NULL, producer, &args[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    /* Every item was pushed; the consumer must get to all of them on the
     * wake-ups already posted: a lost wake-up would leave items behind. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&w.q.lock);
        unsigned len = w.q.len;
        int pending = w.q.wake_pending;
        pthread_mutex_unlock(&w.q.lock);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((len == 0 && !pending) || t1.tv_sec - t0.tv_sec > 5)
            break;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&w.stop, 1);
    pthread_join(cons, NULL);

    unsigned total = PRODUCERS * PER_PRODUCER;
    test("four producers, one consumer: every item delivered or counted lost, none twice, none left");
    if (w.delivered + w.lost != total || w.q.len)
        printf("  delivered %u + lost %u of %u, %u left\n", w.delivered, w.lost, total, w.q.len);
    test_cond(w.delivered + w.lost == total && w.q.len == 0);

    test("each producer's items arrive in the order it pushed them");
    test_cond(w.out_of_order == 0);

    test("wake-ups merge: never more than one pending at a time");
    test_cond(atomic_load(&w.max_pending) == 1);

    printf("# %u delivered, %u lost on a %d-slot queue\n", w.delivered, w.lost, CAP);
    sem_destroy(&w.wakeups);
    rlc_mtq_destroy(&w.q);
}

int main(void)
{
    single_thread();
    threads();
    return test_summary();
}
