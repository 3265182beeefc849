/* link_client.c - the core's rl_client: its ownership and generations, the
 * reaper threads, its replacement when the settings change.
 *
 * The link owns at most one client (l->client) and its client_tag (the
 * user data the core gives back with every event), freed together. The
 * client is created on first use (rlc__ensure_client) with the stored key
 * and the Connection settings in force. Each new client gets a new
 * generation (l->gen): state events of an older one are not told to the
 * listeners (rlc__deliver). A change of the CA file replaces the client;
 * the old one is destroyed on a reaper thread of its own, which holds a
 * reference to the link until it is done (l->reapers counts them; the
 * office's exit waits for them, bounded).
 *
 * Threads: any; rlc__connection_changed runs on the thread that committed
 * the settings. l->lock guards client, tag, gen, has_key, client_error and
 * conn. It is not held while a client is created or destroyed (a close
 * handshake takes time), so a
 * client made meanwhile by another thread is surplus and goes. rl_client_*
 * commands run under the lock: they only queue work for the network
 * thread. The key comes from the keystore's memory (keystore.c), never
 * from the keyring directly: it may arrive later, through rlc__key_changed,
 * and a client installed meanwhile takes the key in force then. */
#include "link_internal.h"
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t core_clock(void *user)
{
    return rlc_now_ms();
}

/* Creates a client for the current settings and the stored key. Returns it
 * (tag in *tag_out), or NULL with the reason in err. No lock held. */
static rl_client *new_client(report_link *l, const rlc_connection *s, unsigned gen, client_tag **tag_out,
                             int *has_key, char *err, size_t errlen)
{
    char key[RL_MAX_KEY];
    rl_client *c = NULL;
    client_tag *tag = calloc(1, sizeof *tag);

    if (!tag) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rlc_key_get(key, sizeof key);   /* never waits for the keyring (keystore.c) */
    *has_key = key[0] != '\0';
    tag->l = l;
    tag->gen = gen;
    rl_client_config cfg = {
        .url = s->endpoint,
        .key = key,
        .ca_file = s->ca_file[0] ? s->ca_file : NULL,
        .ping_interval_ms = s->ping_interval_s * 1000,
        .on_event = rlc__on_core_event,
        .user = tag,
        .clock = core_clock,
    };
    c = rl_client_create(&cfg, err, errlen);
    rl_os_wipe(key, sizeof key);
    if (!c)
        free(tag);
    else
        *tag_out = tag;
    return c;
}

/* With l->lock held: gives the client the key in force now (the keyring
 * thread may have put it in force while the client was being made, with
 * the key read before) and returns whether there is one. */
static int take_key_locked(report_link *l)
{
    char key[RL_MAX_KEY];
    rlc_key_get(key, sizeof key);
    if (l->client)
        rl_client_set_key(l->client, key);   /* the same key: nothing happens */
    int has = key[0] != '\0';
    rl_os_wipe(key, sizeof key);
    return has;
}

/* Creates the client if there is none yet. Returns 0, or -1 with the
 * reason in l->client_error. */
int rlc__ensure_client(report_link *l)
{
    rlc_connection s;
    char err[RL_MAX_DETAIL];
    client_tag *tag = NULL;
    unsigned gen;
    int has_key = 0;

    pthread_mutex_lock(&l->lock);
    if (l->client || l->shut_down) {
        int rc = l->client ? 0 : -1;
        if (!l->client)
            snprintf(l->client_error, sizeof l->client_error, "the office is shutting down");
        pthread_mutex_unlock(&l->lock);
        return rc;
    }
    s = l->conn;
    gen = ++l->gen;
    pthread_mutex_unlock(&l->lock);

    rl_client *c = new_client(l, &s, gen, &tag, &has_key, err, sizeof err);

    pthread_mutex_lock(&l->lock);
    if (!c) {
        int again = strcmp(l->client_error, err) == 0;   /* logged already */
        snprintf(l->client_error, sizeof l->client_error, "%s", err);
        pthread_mutex_unlock(&l->lock);
        if (!again)
            rl_log("cannot create the connection: %s", err);
        return -1;
    }
    if (l->client || l->shut_down || gen != l->gen) {
        /* Another thread won, or the office is leaving: ours is surplus. */
        pthread_mutex_unlock(&l->lock);
        rl_client_destroy(c);
        free(tag);
        return rlc__ensure_client(l);
    }
    l->client = c;
    l->tag = tag;
    l->has_key = take_key_locked(l);
    l->client_error[0] = '\0';
    /* AutoConnect waited for a key that came while the client was made. */
    int connect_now = l->autoconnect_waits && l->has_key;
    if (connect_now)
        l->autoconnect_waits = 0;
    pthread_mutex_unlock(&l->lock);
    if (connect_now)
        rlc__with_client(l, rl_client_connect);
    return 0;
}

typedef struct reaper_job {
    report_link *l;
    rl_client *client;
    client_tag *tag;
} reaper_job;

static void *reaper_main(void *arg)
{
    reaper_job *job = arg;
    rl_client_destroy(job->client);
    free(job->tag);
    atomic_fetch_sub(&job->l->reapers, 1);
    rl_uno_release(&job->l->obj.iface);
    free(job);
    return NULL;
}

/* Destroys a replaced client on a thread of its own: its close handshake
 * may take a second, and the caller may be the main thread. */
static void reap_client(report_link *l, rl_client *c, client_tag *tag)
{
    reaper_job *job = malloc(sizeof *job);
    pthread_t t;
    pthread_attr_t attr;

    if (job) {
        job->l = l;
        job->client = c;
        job->tag = tag;
        rl_uno_acquire(&l->obj.iface);
        atomic_fetch_add(&l->reapers, 1);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, reaper_main, job);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            return;
        atomic_fetch_sub(&l->reapers, 1);
        rl_uno_release(&l->obj.iface);
        free(job);
    }
    rl_client_destroy(c);   /* no thread: wait here, bounded by the core */
    free(tag);
}

/* The CA file is given to the core at creation only: a change replaces the
 * client, which reconnects if the old one was not stopped. */
static void replace_client(report_link *l)
{
    rlc_connection s;
    char err[RL_MAX_DETAIL];
    client_tag *tag = NULL, *old_tag;
    rl_client *old;
    rl_status st;
    unsigned gen;
    int has_key = 0;

    pthread_mutex_lock(&l->lock);
    s = l->conn;
    gen = ++l->gen;
    pthread_mutex_unlock(&l->lock);

    rl_client *c = new_client(l, &s, gen, &tag, &has_key, err, sizeof err);

    pthread_mutex_lock(&l->lock);
    if (l->shut_down || gen != l->gen) {
        pthread_mutex_unlock(&l->lock);
        if (c) {
            rl_client_destroy(c);
            free(tag);
        }
        return;
    }
    old = l->client;
    old_tag = l->tag;
    st.state = RL_STATE_STOPPED;
    if (old)
        rl_client_get_status(old, &st);
    l->client = c;
    l->tag = c ? tag : NULL;
    l->has_key = take_key_locked(l);
    snprintf(l->client_error, sizeof l->client_error, "%s", c ? "" : err);
    if (c && st.state != RL_STATE_STOPPED)
        rl_client_connect(c);
    pthread_mutex_unlock(&l->lock);
    if (!c)
        rl_log("cannot create the connection: %s", err);
    if (old)
        reap_client(l, old, old_tag);
}

/* Runs cmd on the client under the lock; its RL_ code, or RL_ERR_STATE if
 * there is no client. */
int rlc__with_client(report_link *l, int (*cmd)(rl_client *))
{
    int rc = RL_ERR_STATE;
    pthread_mutex_lock(&l->lock);
    if (l->client)
        rc = cmd(l->client);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

/* Tells the listeners the current status now (as a state item through the
 * main thread, like every state): for changes that are not the connection's
 * own events, a key stored or a committed address. Any thread. */
void rlc__announce_status(report_link *l)
{
    rl_status st;
    rlc_item item;
    memset(&st, 0, sizeof st);
    memset(&item, 0, sizeof item);
    pthread_mutex_lock(&l->lock);
    if (l->client)
        rl_client_get_status(l->client, &st);
    item.gen = l->gen;
    pthread_mutex_unlock(&l->lock);
    item.kind = RLC_ITEM_STATE;
    item.state = st.state;
    item.attempt = st.attempt;
    int64_t now = rlc_now_ms();
    item.retry_in_ms = st.retry_at_ms > now ? st.retry_at_ms - now : 0;
    snprintf(item.detail, sizeof item.detail, "%s", st.detail);
    rlc_handover_post(l->handover, &item);
}

/* ------------------------------------------------------------------ settings */

void rlc__connection_changed(void *user, const rlc_connection *c)
{
    report_link *l = user;
    int replace = 0, create = 0;

    pthread_mutex_lock(&l->lock);
    if (l->shut_down) {
        pthread_mutex_unlock(&l->lock);
        return;
    }
    if (l->client) {
        if (strcmp(l->conn.endpoint, c->endpoint) != 0) {
            rl_log("endpoint changed; reconnecting");
            if (rl_client_set_url(l->client, c->endpoint) != RL_OK)
                rl_log("the new endpoint was refused; keeping the old one");
        }
        if (l->conn.ping_interval_s != c->ping_interval_s)
            rl_client_set_ping_interval(l->client, c->ping_interval_s * 1000);
        replace = strcmp(l->conn.ca_file, c->ca_file) != 0;
    } else {
        create = strcmp(l->conn.endpoint, c->endpoint) != 0;
    }
    l->conn = *c;
    pthread_mutex_unlock(&l->lock);
    if (replace) {
        rl_log("CA file changed; replacing the connection");
        replace_client(l);
    } else if (create) {
        rlc__ensure_client(l);
    }
    rlc__announce_status(l);      /* the server line follows the committed address at once */
}

void rlc__key_changed(void)
{
    report_link *l = rlc__link_acquire();
    char key[RL_MAX_KEY];
    int connect_now;

    if (!l)
        return;
    rlc_key_get(key, sizeof key);
    pthread_mutex_lock(&l->lock);
    if (l->client)
        rl_client_set_key(l->client, key);
    l->has_key = key[0] != '\0';
    connect_now = l->autoconnect_waits && l->has_key && l->client && !l->shut_down;
    if (connect_now || !l->has_key)
        l->autoconnect_waits = 0;   /* a key without a client yet: rlc__ensure_client connects */
    pthread_mutex_unlock(&l->lock);
    rl_os_wipe(key, sizeof key);
    if (connect_now)
        rlc__with_client(l, rl_client_connect);
    rlc__announce_status(l);
    rl_uno_release(&l->obj.iface);
}
