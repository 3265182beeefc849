/* keystore.c - where the doctor's key is kept, and the thread that keeps it.
 *
 * The key lives, in this order (src/component/README.md says why):
 *   1. the system's secret store (secret.h: the desktop's Secret Service on
 *      Linux, the Credential Manager on Windows);
 *   2. without one (none, locked and not unlocked, no answer), LibreOffice's
 *      password container - only if the doctor already turned on permanent
 *      password saving with a master password of their own;
 *   3. otherwise memory, for this session only.
 * ReportLink never changes the office's Passwords/UseStorage nor its master
 * password. A key an earlier version stored in the password container
 * (KEY_URL / KEY_USER, under the default master password) is moved to the
 * secret store at the first start that has one, and removed from the
 * container.
 *
 * The secret store may block (an unlock prompt waits for the doctor; a
 * D-Bus service may hang), so it is only ever called by this module's own
 * thread, the "keyring thread", with a deadline (KEYRING_TIMEOUT_MS). No
 * other thread waits for it: rlc_key_get answers the key in memory at once
 * ("" while the first load runs), rlc_key_set keeps the new key in memory at
 * once and hands the storing to the thread. When the thread has finished a
 * job it calls the `changed` callback (on its own thread), which gives the
 * key to the connection and refreshes the sidebar. There is no retry: a job
 * runs once; the next attempt is the doctor's next key or the next start.
 *
 * The key is never logged; buffers that held it are wiped. */
#include "component.h"
#include "platform.h"
#include "secret.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define KEY_URL  "reportlink://doctor-key"
#define KEY_USER "doctor"

/* How long one call to the secret store may take, an unlock prompt
 * included. Past it the prompt is dismissed and the key is kept for this
 * session. */
#define KEYRING_TIMEOUT_MS 60000

typedef enum job_kind { JOB_NONE, JOB_LOAD, JOB_STORE, JOB_FORGET } job_kind;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int started, stopping;         /* under lock */
    int busy;                      /* under lock: the thread is running a job */
    uno_Interface *ctx;            /* acquired while the thread runs */
    rlc_key_changed_fn changed;
    /* Under lock: */
    char key[RL_MAX_KEY];          /* the key in force this session */
    rlc_key_status st;
    unsigned seq;                  /* bumped by each rlc_key_set */
    job_kind job;                  /* the next job; a newer one replaces it */
    unsigned job_seq;
    char job_key[RL_MAX_KEY];
} K = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* ------------------------------------------------------------------ the password container */

static uno_Interface *open_container(uno_Interface *ctx)
{
    rl_uno_err err;
    uno_Interface *store = rl_uno_create_instance(ctx, "com.sun.star.task.PasswordContainer", &err);
    if (!store)
        rl_log("password container: %s", err.message);
    return store;
}

/* Whether the doctor turned on permanent saving with a master password of
 * their own: only then may the key go there. Reads, never changes. */
static int container_is_the_doctors(uno_Interface *store)
{
    rl_uno_err err;
    sal_Bool allowed = sal_False, master = sal_False, by_default = sal_True;

    if (rl_uno_XMasterPasswordHandling_isPersistentStoringAllowed(store, &err, &allowed) != RL_OK ||
        (allowed && rl_uno_XMasterPasswordHandling_hasMasterPassword(store, &err, &master) != RL_OK) ||
        (master && rl_uno_XMasterPasswordHandling2_isDefaultMasterPasswordUsed(store, &err, &by_default) != RL_OK)) {
        rl_log("password container: %s", err.message);
        return 0;
    }
    return allowed && master && !by_default;
}

/* The office's own interaction handler, which asks the doctor for their
 * master password (on the main thread; this thread waits). */
static uno_Interface *asking_handler(uno_Interface *ctx)
{
    rl_uno_err err;
    /* Handed to the container as an argument: queried to XInteractionHandler
     * (an unqueried one crashed the office at the first master password
     * request). */
    uno_Interface *h = rl_uno_create_instance_as(ctx, "com.sun.star.task.InteractionHandler",
                                                 RL_UNO_T_XInteractionHandler, &err);
    return h ? h : rlc_silent_handler_new();
}

/* Reads the container's entry into key ("" if none or unreadable). */
static void container_read(uno_Interface *store, uno_Interface *handler, char *key, size_t cap)
{
    rl_uno_err err;
    rl_uno_UrlRecord record;
    rtl_uString *url = rl_uno_str(KEY_URL);
    int rc = rl_uno_XPasswordContainer_find(store, &err, &record, url, handler);

    key[0] = '\0';
    rtl_uString_release(url);
    if (rc != RL_OK)
        return;
    const rl_uno_UserRecord *users = (const rl_uno_UserRecord *)(void *)record.UserList->elements;
    for (sal_Int32 i = 0; record.UserList && i < record.UserList->nElements; i++) {
        if (!rl_uno_str_equals(users[i].UserName, KEY_USER) || users[i].Passwords->nElements < 1)
            continue;
        rtl_uString *stored = *(rtl_uString **)(void *)users[i].Passwords->elements;
        if (rl_uno_str_utf8(stored, key, cap) < 0) {
            rl_os_wipe(key, cap);
            rl_log("the doctor key in the password container is too long; ignored");
        }
        /* Our copy of the key is wiped before it is released - only when
         * nobody else holds the list or the string (the container keeps
         * its own, which is not ours to touch). */
        if (record.UserList->nRefCount == 1 && users[i].Passwords->nRefCount == 1) {
            rtl_uString **slot = (rtl_uString **)(void *)users[i].Passwords->elements;
            rl_uno_str_wipe_release(*slot);
            *slot = NULL;
            rtl_uString_new(slot);
        }
        break;
    }
    rl_uno_destruct(&record, RL_UNO_T_UrlRecord);
}

/* Removes the container's entry, on disk and in memory (nothing else). */
static void container_remove(uno_Interface *store)
{
    rl_uno_err err;
    rtl_uString *url = rl_uno_str(KEY_URL), *user = rl_uno_str(KEY_USER);
    if (rl_uno_XPasswordContainer_removePersistent(store, &err, url, user) != RL_OK)
        rl_log("password container: cannot remove the doctor key: %s", err.message);
    rtl_uString_release(url);
    rtl_uString_release(user);
}

static int container_write(uno_Interface *store, uno_Interface *handler, const char *key)
{
    rl_uno_err err;
    rtl_uString *url = rl_uno_str(KEY_URL), *user = rl_uno_str(KEY_USER), *secret = rl_uno_str(key);
    uno_Sequence *passwords = rl_uno_seq(RL_UNO_T_seq_string, &secret, 1);
    int rc = RL_ERR_NOMEM;

    if (passwords) {
        rc = rl_uno_XPasswordContainer_addPersistent(store, &err, url, user, passwords, handler);
        if (rc != RL_OK)
            rl_log("password container: cannot store the doctor key: %s", err.message);
        rl_uno_destruct(&passwords, RL_UNO_T_seq_string);
    }
    rl_uno_str_wipe_release(secret);
    rtl_uString_release(url);
    rtl_uString_release(user);
    return rc;
}

/* ------------------------------------------------------------------ the jobs (keyring thread) */

/* Puts the outcome of a job in force, unless the doctor set another key
 * since it started (seq). key NULL: leave the key in memory as it is. */
static void settle(unsigned seq, const char *key, rlc_key_place place, int why, int migrated)
{
    int current;
    pthread_mutex_lock(&K.lock);
    if ((current = seq == K.seq)) {
        if (key) {
            rl_os_wipe(K.key, sizeof K.key);
            snprintf(K.key, sizeof K.key, "%s", key);
        }
        K.st.place = place = K.key[0] ? place : RLC_KEY_NONE;
        K.st.why = why;
        K.st.kind = rlc_secret_where();
        if (migrated)
            K.st.migrated = 1;
    }
    pthread_mutex_unlock(&K.lock);
    if (current)
        rl_log("doctor key: %s%s%s", rlc_key_place_name(place), why ? ", because: " : "",
               why ? rl_strerror(why) : "");
}

static void job_load(unsigned seq)
{
    char key[RL_MAX_KEY], old[RL_MAX_KEY];
    int rc = rlc_secret_load(key, sizeof key, KEYRING_TIMEOUT_MS);
    uno_Interface *store = NULL, *handler = NULL;

    old[0] = '\0';
    if (rc == RL_OK && key[0]) {
        settle(seq, key, RLC_KEY_KEYRING, 0, 0);
        goto out;
    }
    if (!(store = open_container(K.ctx)))
        goto session;
    if (rc == RL_OK) {
        /* A keyring, and nothing in it yet: a key an earlier version stored
         * in the password container moves there. The silent handler reads
         * it under the default master password that version chose; under
         * the doctor's own, it stays where it is. */
        handler = rlc_silent_handler_new();
        container_read(store, handler, old, sizeof old);
        if (!old[0]) {
            settle(seq, "", RLC_KEY_NONE, 0, 0);
            goto out;
        }
        if ((rc = rlc_secret_store(old, KEYRING_TIMEOUT_MS)) == RL_OK) {
            container_remove(store);
            rl_log("doctor key moved from the password container to the keyring");
            settle(seq, old, RLC_KEY_KEYRING, 0, 1);
            goto out;
        }
    }
    /* No keyring to use (rc says why). */
    if (container_is_the_doctors(store)) {
        rl_uno_release(handler);
        handler = asking_handler(K.ctx);
        container_read(store, handler, key, sizeof key);
        if (key[0]) {
            settle(seq, key, RLC_KEY_CONTAINER, rc, 0);
            goto out;
        }
    }
    if (!old[0]) {
        /* Silently: the doctor was asked for their master password above
         * at most once. */
        rl_uno_release(handler);
        handler = rlc_silent_handler_new();
        container_read(store, handler, old, sizeof old);
    }
session:
    /* A key left by an earlier version is used for this session, and stays
     * where it is until a start that has a keyring moves it. */
    settle(seq, old, RLC_KEY_SESSION, rc, 0);
out:
    rl_os_wipe(key, sizeof key);
    rl_os_wipe(old, sizeof old);
    rl_uno_release(handler);
    rl_uno_release(store);
}

static void job_store(unsigned seq, const char *key)
{
    int rc = rlc_secret_store(key, KEYRING_TIMEOUT_MS);
    uno_Interface *store = open_container(K.ctx);

    if (rc == RL_OK) {
        /* An older copy in the container would come back at the next
         * start without a keyring: it goes. */
        if (store)
            container_remove(store);
        settle(seq, NULL, RLC_KEY_KEYRING, 0, 0);
    } else if (store && container_is_the_doctors(store)) {
        uno_Interface *handler = asking_handler(K.ctx);
        if (container_write(store, handler, key) == RL_OK) {
            settle(seq, NULL, RLC_KEY_CONTAINER, rc, 0);
        } else {
            container_remove(store);
            settle(seq, NULL, RLC_KEY_SESSION, rc, 0);
        }
        rl_uno_release(handler);
    } else {
        if (store)
            container_remove(store);
        settle(seq, NULL, RLC_KEY_SESSION, rc, 0);
    }
    rl_uno_release(store);
}

static void job_forget(unsigned seq)
{
    int rc = rlc_secret_forget(KEYRING_TIMEOUT_MS);
    uno_Interface *store = open_container(K.ctx);

    if (rc != RL_OK && rc != RL_ERR_NO_KEYRING)
        rl_log("doctor key: the keyring did not forget it: %s", rl_strerror(rc));
    if (store) {
        container_remove(store);
        rl_uno_release(store);
    }
    settle(seq, NULL, RLC_KEY_NONE, rc == RL_ERR_NO_KEYRING ? 0 : rc, 0);
}

static void *keyring_thread(void *arg)
{
    char key[RL_MAX_KEY];

    for (;;) {
        pthread_mutex_lock(&K.lock);
        while (K.job == JOB_NONE && !K.stopping)
            pthread_cond_wait(&K.wake, &K.lock);
        if (K.stopping) {
            pthread_mutex_unlock(&K.lock);
            break;
        }
        job_kind job = K.job;
        unsigned seq = K.job_seq;
        memcpy(key, K.job_key, sizeof key);
        rl_os_wipe(K.job_key, sizeof K.job_key);
        K.job = JOB_NONE;
        K.busy = 1;
        pthread_mutex_unlock(&K.lock);

        if (job == JOB_LOAD)
            job_load(seq);
        else if (job == JOB_STORE)
            job_store(seq, key);
        else
            job_forget(seq);
        rl_os_wipe(key, sizeof key);

        pthread_mutex_lock(&K.lock);
        int stopping = K.stopping;
        K.busy = 0;
        pthread_mutex_unlock(&K.lock);
        if (!stopping && K.changed)
            K.changed();
    }
    return NULL;
}

/* ------------------------------------------------------------------ the API */

const char *rlc_key_place_name(rlc_key_place place)
{
    switch (place) {
    case RLC_KEY_LOADING:   return "loading";
    case RLC_KEY_KEYRING:   return "keyring";
    case RLC_KEY_CONTAINER: return "container";
    case RLC_KEY_SESSION:   return "session";
    default:                return "none";
    }
}

void rlc_key_start(uno_Interface *ctx, rlc_key_changed_fn changed)
{
    pthread_t t;
    pthread_attr_t attr;

    pthread_mutex_lock(&K.lock);
    if (K.started) {
        pthread_mutex_unlock(&K.lock);
        return;
    }
    K.started = 1;
    rl_uno_acquire(ctx);
    K.ctx = ctx;
    K.changed = changed;
    K.st.place = RLC_KEY_LOADING;
    K.job = JOB_LOAD;
    K.job_seq = K.seq;
    pthread_mutex_unlock(&K.lock);

    /* Detached: at the office's exit it may be inside a keyring call, which
     * nobody waits for; it ends by itself within KEYRING_TIMEOUT_MS. The
     * component context stays acquired for the process's life. */
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, keyring_thread, NULL) != 0) {
        rl_log("cannot start the keyring thread: the doctor key is kept for this session only");
        pthread_mutex_lock(&K.lock);
        K.job = JOB_NONE;
        K.st.place = RLC_KEY_NONE;
        K.st.why = RL_ERR_SYSTEM;
        pthread_mutex_unlock(&K.lock);
    }
    pthread_attr_destroy(&attr);
}

void rlc_key_stop(void)
{
    pthread_mutex_lock(&K.lock);
    K.stopping = 1;
    pthread_cond_signal(&K.wake);
    rl_os_wipe(K.key, sizeof K.key);
    pthread_mutex_unlock(&K.lock);
}

int rlc_key_get(char *key, size_t cap)
{
    int loading;
    pthread_mutex_lock(&K.lock);
    snprintf(key, cap, "%s", K.key);
    loading = K.st.place == RLC_KEY_LOADING;
    pthread_mutex_unlock(&K.lock);
    return loading;
}

void rlc_key_set(const char *key)
{
    pthread_mutex_lock(&K.lock);
    rl_os_wipe(K.key, sizeof K.key);
    snprintf(K.key, sizeof K.key, "%s", key);
    K.seq++;
    /* Until the thread has stored it, the key is this session's. */
    K.st.place = key[0] ? RLC_KEY_SESSION : RLC_KEY_NONE;
    K.st.why = 0;
    K.job = key[0] ? JOB_STORE : JOB_FORGET;
    K.job_seq = K.seq;
    rl_os_wipe(K.job_key, sizeof K.job_key);
    snprintf(K.job_key, sizeof K.job_key, "%s", key);
    pthread_cond_signal(&K.wake);
    pthread_mutex_unlock(&K.lock);
}

void rlc_key_status_get(rlc_key_status *out)
{
    pthread_mutex_lock(&K.lock);
    *out = K.st;
    out->pending = K.job != JOB_NONE || K.busy;
    pthread_mutex_unlock(&K.lock);
}
