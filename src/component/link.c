/* link.c - theReportLink: the office's one connection to the report service.
 * This file holds its life: creation, the singleton, the office's exit,
 * destruction. Its other jobs are in the link_*.c files listed in
 * link_internal.h, which also holds its struct.
 *
 * One object per office process (the_link). It owns the core's rl_client
 * (created on first use), the hand-over to the main thread, the settings
 * watch, the listeners, the inbox of received reports and the Writer layer
 * that places them.
 *
 * Threads: rlc_link_get runs on any thread and creates the link under
 * the_lock (its comment says what that allows). The office's exit
 * (rlc_link_shutdown) runs on the main thread: it destroys the client
 * (close 1000, bounded), waits at most RLC_REAPER_WAIT_MS for replaced
 * ones, closes the hand-over and tells the listeners. XReportLink methods
 * run on whatever thread calls them and never wait for the network
 * (link_api.c); core events arrive on the network thread and go through
 * the hand-over to the main thread, which drives listeners, placement and
 * the inbox's changes of state (link_events.c, link_place.c). `lock`
 * guards the fields marked in the struct and is never held while calling
 * UNO or waiting.
 *
 * Ownership: the_link holds one reference, given back at the office's
 * exit; rlc_link_get gives its caller one more, and rlc__link_acquire
 * (the letters' events) one for as long as they run. The link holds ctx,
 * the inbox and the words until it is destroyed. */
#include "link_internal.h"
#include "spool.h"

#include <stdlib.h>
#include <unistd.h>

#define RLC_REAPER_WAIT_MS     3000   /* office exit waits this long for replaced clients */

static pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;
static report_link *the_link;          /* holds one reference; NULL after shutdown */
static int terminated;

int64_t rlc_now_us(void)
{
    return rl_os_monotonic_us();
}

int64_t rlc_now_ms(void)
{
    return rl_os_monotonic_ms();
}

void rlc__link_destroy(rl_uno_object *self)
{
    report_link *l = rlc__link_of(self);
    if (l->inbox) {
        rl_inbox_clear(l->inbox);
        free(l->inbox);
    }
    rlc_handover_release(l->handover);
    free(l->strings);
    rl_uno_release(l->ctx);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* ------------------------------------------------------------------ life */

static report_link *link_create(uno_Interface *ctx)
{
    rl_uno_err err;
    report_link *l = calloc(1, sizeof *l);

    if (!l) {
        rl_log("cannot start: out of memory");
        return NULL;
    }
    rl_uno_object_init(&l->obj, &rlc_link_class);
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->reapers, 0);
    atomic_init(&l->exit_watched, 0);
    rl_uno_acquire(ctx);
    l->ctx = ctx;
    if (!(l->inbox = malloc(sizeof *l->inbox))) {
        rl_log("cannot start: out of memory");
        goto fail;
    }
    rl_inbox_init(l->inbox);
    rlc_log_route_lws();
    if (rlc_settings_read_connection(ctx, &l->conn, &err) != RL_OK ||
        rlc_settings_read_fields(ctx, &l->fields, &err) != RL_OK) {
        rl_log("cannot start: the settings cannot be read: %s", err.message);
        goto fail;
    }
    rlc__spool_start(l);
    if (!(l->handover = rlc_handover_create(ctx, &l->obj.iface, rlc__deliver, rlc__lost, l, &err))) {
        rl_log("cannot start: no way to the main thread: %s", err.message);
        goto fail;
    }
    if (!(l->watch = rlc_settings_watch_start(ctx, &l->obj.iface, rlc__connection_changed, l, &err)))
        rl_log("settings changes will apply after a restart only: %s", err.message);
    return l;
fail:
    if (l->handover)
        rlc_handover_close(l->handover);
    rl_uno_release(&l->obj.iface);
    return NULL;
}

/* Creation holds the_lock, so it makes only calls that never wait for the
 * main thread (configuration, AsyncCallback): the main thread may itself be
 * waiting for the_lock (the start-up job). What may take the office's
 * SolarMutex - the Desktop - and the keyring thread are used after
 * the_lock is released. */
uno_Interface *rlc_link_get(uno_Interface *ctx)
{
    report_link *l = NULL;
    rl_uno_err err;

    pthread_mutex_lock(&the_lock);
    if (!terminated && !the_link)
        the_link = link_create(ctx);
    if (!terminated && the_link) {
        l = the_link;
        rl_uno_acquire(&l->obj.iface);
    }
    pthread_mutex_unlock(&the_lock);
    if (!l)
        return NULL;
    if (!atomic_exchange(&l->exit_watched, 1)) {
        if (rlc_watch_termination(ctx, &err) != RL_OK)
            rl_log("cannot watch the office's exit: %s", err.message);
        if (rlc_watch_letters(ctx, &err) != RL_OK)
            rl_log("cannot watch letters being printed or exported: %s", err.message);
    }
    /* The key comes from the keyring thread, which may wait for the
     * doctor to unlock the keyring: the client starts without it and gets
     * it from rlc__key_changed. */
    rlc_key_start(ctx, rlc__key_changed);
    rlc__ensure_client(l);
    return &l->obj.iface;
}

report_link *rlc__link_acquire(void)
{
    pthread_mutex_lock(&the_lock);
    report_link *l = the_link;
    if (l)
        rl_uno_acquire(&l->obj.iface);
    pthread_mutex_unlock(&the_lock);
    return l;
}

int rlc__wait_for_key(report_link *l, const char *who)
{
    rlc_key_status ks;
    rlc_key_status_get(&ks);
    /* The keystore may have the key (or still be looking for it) while its
     * callback has not reached the link yet: then the callback connects.
     * has_key is read after the status, under the lock: a key that came
     * meanwhile is seen here. */
    int coming = ks.place != RLC_KEY_NONE;
    pthread_mutex_lock(&l->lock);
    int waits = !l->has_key && coming;
    if (waits)
        l->autoconnect_waits = 1;   /* rlc__key_changed connects when the key comes */
    pthread_mutex_unlock(&l->lock);
    if (waits)
        rl_log("%s: waiting for the keyring to give the doctor key", who);
    return waits;
}

void rlc_link_autoconnect(uno_Interface *iface)
{
    report_link *l = rlc__link_of((rl_uno_object *)iface);
    if (rlc__ensure_client(l) != 0)
        return;
    pthread_mutex_lock(&l->lock);
    int on = l->conn.auto_connect;
    pthread_mutex_unlock(&l->lock);
    if (!on || rlc__wait_for_key(l, "AutoConnect"))
        return;
    pthread_mutex_lock(&l->lock);
    int has_key = l->has_key;
    pthread_mutex_unlock(&l->lock);
    if (!has_key) {
        rl_log("AutoConnect: no doctor key available (none stored, or its store is locked); "
               "not connecting");
        return;
    }
    rlc__with_client(l, rl_client_connect);
}

void rlc_link_shutdown(void)
{
    rl_uno_err err;
    report_link *l;

    pthread_mutex_lock(&the_lock);
    terminated = 1;
    l = the_link;
    the_link = NULL;
    pthread_mutex_unlock(&the_lock);
    if (!l)
        return;

    pthread_mutex_lock(&l->lock);
    l->shut_down = 1;
    rl_client *client = l->client;
    client_tag *tag = l->tag;
    l->client = NULL;
    l->tag = NULL;
    pthread_mutex_unlock(&l->lock);

    rlc_key_stop();
    rlc_settings_unwatch(l->watch);
    l->watch = NULL;
    rlc_unwatch_undo_all();
    if (client) {
        rl_client_destroy(client);   /* close 1000, bounded wait */
        free(tag);
    }
    for (int waited = 0; atomic_load(&l->reapers) > 0 && waited < RLC_REAPER_WAIT_MS; waited += 10)
        usleep(10 * 1000);
    rlc_handover_close(l->handover);
    if (l->spool_dir[0])
        rl_spool_clean_exit(l->spool_dir, 1);   /* what waits on disk was not lost in a crash */
    rl_writer_destroy(l->writer);   /* the office's main thread: it holds the Desktop */
    l->writer = NULL;
    while (l->n_docx_letters > 0)
        rl_uno_release(l->docx_letters[--l->n_docx_letters].letter);

    /* Listeners learn that ReportLink is gone. */
    rl_uno_EventObject event = { &l->obj.iface };
    for (;;) {
        listener gone = { NULL, NULL };
        pthread_mutex_lock(&l->lock);
        if (l->n_listeners > 0)
            gone = l->listeners[--l->n_listeners];
        pthread_mutex_unlock(&l->lock);
        if (!gone.ref)
            break;
        if (rl_uno_XEventListener_disposing(gone.ref, &err, &event) != RL_OK)
            rl_log("a listener failed on disposing: %s", err.message);
        rl_uno_release(gone.ref);
        rl_uno_release(gone.identity);
    }
    rl_log("stopped");
    rl_uno_release(&l->obj.iface);   /* the_link's reference */
}
