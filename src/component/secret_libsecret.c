/* secret_libsecret.c - the desktop's Secret Service through libsecret opened
 * at run time (secret_libsecret.h). Linked into the keyring helper
 * (build/reportlink-keyring) only, never into reportlink.so: the helper runs
 * one request and exits, so libsecret, GLib's D-Bus threads and the pages
 * of GIO and libgcrypt they touch never stay in the office (secret.h,
 * src/component/README.md).
 *
 * libsecret and glib are not linked: the first call opens
 * "libsecret-1.so.0" with dlopen and takes the few functions it needs with
 * dlsym, so the helper has no DT_NEEDED on them and runs on a system
 * without them (then every call answers RL_ERR_NO_KEYRING). The types used
 * are declared here with the layout of libsecret 0.20 / glib 2.x, which is
 * their stable ABI (SecretSchema is a public struct with reserved fields).
 *
 * One item in the default collection (SECRET_COLLECTION_DEFAULT), schema
 * RLC_SECRET_SCHEMA with the one attribute application = RLC_SECRET_APP, so
 * that storing again replaces it. The synchronous API blocks, and a locked
 * keyring shows an unlock prompt that may wait for the doctor: every call
 * carries a GCancellable that a watchdog thread cancels after timeout_ms
 * (libsecret then dismisses the prompt). Compiles to nothing on Windows. */
#ifndef _WIN32

#include "secret_libsecret.h"

#include "log.h"
#include "rl_error.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ glib/libsecret ABI */

typedef struct GError { unsigned int domain; int code; char *message; } GError;
typedef struct GList { void *data; struct GList *next, *prev; } GList;
typedef struct SecretSchemaAttribute { const char *name; int type; } SecretSchemaAttribute;
typedef struct SecretSchema {
    const char *name;
    int flags;
    SecretSchemaAttribute attributes[32];
    int reserved;
    void *reserved1, *reserved2, *reserved3, *reserved4, *reserved5, *reserved6, *reserved7;
} SecretSchema;

enum {
    SECRET_SCHEMA_ATTRIBUTE_STRING = 0,
    SECRET_SERVICE_OPEN_SESSION = 1 << 1,
    SECRET_SEARCH_ALL = 1 << 1,
    SECRET_SEARCH_UNLOCK = 1 << 2,
    SECRET_SEARCH_LOAD_SECRETS = 1 << 3,
    SECRET_ERROR_IS_LOCKED = 2,
    G_DBUS_CALL_FLAGS_NONE = 0,
};
/* GDBusError codes that say "nobody provides the service". */
enum { G_DBUS_ERROR_SERVICE_UNKNOWN = 2, G_DBUS_ERROR_NAME_HAS_NO_OWNER = 3,
       G_DBUS_ERROR_NO_REPLY = 4, G_DBUS_ERROR_NO_SERVER = 11, G_DBUS_ERROR_TIMEOUT = 12,
       G_DBUS_ERROR_TIMED_OUT = 20 };

#define SECRET_COLLECTION_DEFAULT "default"

static struct {
    void *lib;
    /* libsecret */
    int (*storev_sync)(const SecretSchema *, void *attrs, const char *collection, const char *label,
                       const char *password, void *cancellable, GError **);
    int (*clearv_sync)(const SecretSchema *, void *attrs, void *cancellable, GError **);
    GList *(*search_sync)(void *service, const SecretSchema *, void *attrs, int flags, void *cancellable,
                          GError **);
    void *(*service_get_sync)(int flags, void *cancellable, GError **);
    int (*item_get_locked)(void *item);
    void *(*item_get_secret)(void *item);
    const char *(*value_get_text)(void *value);
    void (*value_unref)(void *value);
    unsigned int (*secret_error_quark)(void);
    /* glib and gio, reached through libsecret's own dependencies */
    void *(*hash_new)(unsigned int (*hash)(const void *), int (*equal)(const void *, const void *));
    int (*hash_insert)(void *table, void *key, void *value);
    void (*hash_unref)(void *table);
    unsigned int (*str_hash)(const void *);
    int (*str_equal)(const void *, const void *);
    void (*error_free)(GError *);
    void (*list_free)(GList *);
    void (*object_unref)(void *);
    void *(*cancellable_new)(void);
    void (*cancellable_cancel)(void *);
    unsigned int (*dbus_error_quark)(void);
    const char *(*proxy_get_name_owner)(void *proxy);   /* returns a copy: g_free */
    void *(*proxy_get_connection)(void *proxy);          /* borrowed */
    void *(*connection_call_sync)(void *conn, const char *bus, const char *path, const char *iface,
                                  const char *method, void *params, void *reply_type, int flags,
                                  int timeout_ms, void *cancellable, GError **);
    void *(*variant_new)(const char *format, ...);
    void (*variant_get)(void *v, const char *format, ...);
    void (*variant_unref)(void *v);
    void (*g_free)(void *);
} S;

static pthread_once_t open_once = PTHREAD_ONCE_INIT;
static int opened;                           /* 1: every symbol found */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;   /* one call at a time */
static atomic_int kind;                       /* an rlc_secret_kind; written under call_lock */
static int kind_known;                        /* under call_lock */
static SecretSchema schema;

#define SYM(field, name) (*(void **)(&S.field) = dlsym(S.lib, name)) == NULL ? (missing = name) : NULL

static void open_lib(void)
{
    const char *missing = NULL;

    if (!(S.lib = dlopen("libsecret-1.so.0", RTLD_NOW | RTLD_LOCAL))) {
        rl_log("no libsecret on this system (%s): the doctor key cannot go into the desktop's keyring",
               dlerror());
        return;
    }
    SYM(storev_sync, "secret_password_storev_sync");
    SYM(clearv_sync, "secret_password_clearv_sync");
    SYM(search_sync, "secret_service_search_sync");
    SYM(service_get_sync, "secret_service_get_sync");
    SYM(item_get_locked, "secret_item_get_locked");
    SYM(item_get_secret, "secret_item_get_secret");
    SYM(value_get_text, "secret_value_get_text");
    SYM(value_unref, "secret_value_unref");
    SYM(secret_error_quark, "secret_error_get_quark");
    SYM(hash_new, "g_hash_table_new");
    SYM(hash_insert, "g_hash_table_insert");
    SYM(hash_unref, "g_hash_table_unref");
    SYM(str_hash, "g_str_hash");
    SYM(str_equal, "g_str_equal");
    SYM(error_free, "g_error_free");
    SYM(list_free, "g_list_free");
    SYM(object_unref, "g_object_unref");
    SYM(cancellable_new, "g_cancellable_new");
    SYM(cancellable_cancel, "g_cancellable_cancel");
    SYM(dbus_error_quark, "g_dbus_error_quark");
    SYM(proxy_get_name_owner, "g_dbus_proxy_get_name_owner");
    SYM(proxy_get_connection, "g_dbus_proxy_get_connection");
    SYM(connection_call_sync, "g_dbus_connection_call_sync");
    SYM(variant_new, "g_variant_new");
    SYM(variant_get, "g_variant_get");
    SYM(variant_unref, "g_variant_unref");
    SYM(g_free, "g_free");
    if (missing) {
        rl_log("libsecret lacks %s: the doctor key cannot go into the desktop's keyring", missing);
        return;
    }
    schema.name = RLC_SECRET_SCHEMA;
    schema.flags = 0;
    schema.attributes[0].name = "application";
    schema.attributes[0].type = SECRET_SCHEMA_ATTRIBUTE_STRING;
    opened = 1;
}

/* ------------------------------------------------------------------ the watchdog */

/* Cancels c->cancellable when timeout_ms pass before the call ends. */
typedef struct watchdog {
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t thread;
    void *cancellable;
    struct timespec deadline;
    int done, fired, running;
} watchdog;

static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    pthread_mutex_lock(&w->m);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cv, &w->m, &w->deadline) == ETIMEDOUT && !w->done) {
            w->fired = 1;
            S.cancellable_cancel(w->cancellable);
            break;
        }
    }
    pthread_mutex_unlock(&w->m);
    return NULL;
}

static int watchdog_start(watchdog *w, int timeout_ms)
{
    pthread_condattr_t ca;
    memset(w, 0, sizeof *w);
    if (!(w->cancellable = S.cancellable_new()))
        return RL_ERR_NOMEM;
    pthread_mutex_init(&w->m, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    clock_gettime(CLOCK_MONOTONIC, &w->deadline);
    w->deadline.tv_sec += timeout_ms / 1000;
    w->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (w->deadline.tv_nsec >= 1000000000L) {
        w->deadline.tv_sec++;
        w->deadline.tv_nsec -= 1000000000L;
    }
    w->running = pthread_create(&w->thread, NULL, watchdog_main, w) == 0;
    return w->running ? RL_OK : RL_ERR_SYSTEM;
}

/* Whether the watchdog cancelled the call (so far). */
static int watchdog_fired(watchdog *w)
{
    pthread_mutex_lock(&w->m);
    int fired = w->fired;
    pthread_mutex_unlock(&w->m);
    return fired;
}

/* Ends the watch; returns whether it cancelled the call. */
static int watchdog_stop(watchdog *w)
{
    if (w->running) {
        pthread_mutex_lock(&w->m);
        w->done = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->m);
        pthread_join(w->thread, NULL);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->m);
    if (w->cancellable)
        S.object_unref(w->cancellable);
    return w->fired;
}

/* ------------------------------------------------------------------ errors, provider */

/* Maps a GError (freed here) of an operation to the error table. */
static int map_error(GError *e, int fired, const char *what)
{
    int rc;
    if (fired)
        rc = RL_ERR_KEYRING_TIMEOUT;
    else if (e->domain == S.secret_error_quark() && e->code == SECRET_ERROR_IS_LOCKED)
        rc = RL_ERR_KEYRING_LOCKED;
    else if (e->domain == S.dbus_error_quark() &&
             (e->code == G_DBUS_ERROR_SERVICE_UNKNOWN || e->code == G_DBUS_ERROR_NAME_HAS_NO_OWNER ||
              e->code == G_DBUS_ERROR_NO_SERVER))
        rc = RL_ERR_NO_KEYRING;
    else if (e->domain == S.dbus_error_quark() &&
             (e->code == G_DBUS_ERROR_NO_REPLY || e->code == G_DBUS_ERROR_TIMEOUT ||
              e->code == G_DBUS_ERROR_TIMED_OUT))
        rc = RL_ERR_KEYRING_TIMEOUT;
    else
        rc = RL_ERR_KEYRING_FAILED;
    /* GError messages come from D-Bus and the keyring; they never hold the secret. */
    rl_log("keyring: %s: %s (%s)", what, e->message ? e->message : "?", rl_err_name(rc));
    S.error_free(e);
    return rc;
}

/* Which program owns org.freedesktop.secrets, from its /proc/<pid>/comm. */
static rlc_secret_kind provider_of(void *service, void *cancellable)
{
    rlc_secret_kind k = RLC_SECRET_DESKTOP;
    char *owner = (char *)S.proxy_get_name_owner(service);
    void *conn = S.proxy_get_connection(service);
    GError *e = NULL;
    void *reply;
    unsigned int pid = 0;
    char path[64], comm[64] = "";
    FILE *f;

    if (!owner || !conn)
        goto out;
    reply = S.connection_call_sync(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                   S.variant_new("(s)", owner), NULL, G_DBUS_CALL_FLAGS_NONE, 2000,
                                   cancellable, &e);
    if (!reply) {
        if (e)
            S.error_free(e);
        goto out;
    }
    S.variant_get(reply, "(u)", &pid);
    S.variant_unref(reply);
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    if ((f = fopen(path, "r"))) {
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
    }
    if (strncmp(comm, "gnome-keyring", 13) == 0)
        k = RLC_SECRET_GNOME;
    else if (strncmp(comm, "kwalletd", 8) == 0 || strncmp(comm, "ksecretd", 8) == 0)
        k = RLC_SECRET_KWALLET;
    else if (strncmp(comm, "keepassxc", 9) == 0)
        k = RLC_SECRET_KEEPASSXC;
out:
    if (owner)
        S.g_free(owner);
    return k;
}

/* ------------------------------------------------------------------ the calls */

static int run(rlc_secret_op what, const char *key, char *out, size_t cap, int timeout_ms)
{
    watchdog w;
    GError *e = NULL;
    void *attrs = NULL, *service;
    int rc, fired;

    pthread_once(&open_once, open_lib);
    if (!opened)
        return RL_ERR_NO_KEYRING;
    pthread_mutex_lock(&call_lock);
    if ((rc = watchdog_start(&w, timeout_ms)) != RL_OK) {
        watchdog_stop(&w);
        pthread_mutex_unlock(&call_lock);
        return rc;
    }
    /* Opens (once per process) the connection to the service: its failure
     * is "no Secret Service here". */
    service = S.service_get_sync(SECRET_SERVICE_OPEN_SESSION, w.cancellable, &e);
    if (!service) {
        fired = watchdog_fired(&w);
        rc = e ? map_error(e, fired, "no Secret Service") : RL_ERR_NO_KEYRING;
        if (rc != RL_ERR_KEYRING_TIMEOUT)
            rc = RL_ERR_NO_KEYRING;
        kind = RLC_SECRET_NONE;
        kind_known = 0;
        goto out;
    }
    if (!kind_known) {
        kind = provider_of(service, w.cancellable);
        kind_known = 1;
    }
    attrs = S.hash_new(S.str_hash, S.str_equal);
    S.hash_insert(attrs, (void *)"application", (void *)RLC_SECRET_APP);

    if (what == RLC_SECRET_OP_STORE) {
        if (!S.storev_sync(&schema, attrs, SECRET_COLLECTION_DEFAULT, RLC_SECRET_LABEL, key, w.cancellable, &e))
            rc = e ? map_error(e, watchdog_fired(&w), "store") : RL_ERR_KEYRING_FAILED;
    } else if (what == RLC_SECRET_OP_FORGET) {
        if (!S.clearv_sync(&schema, attrs, w.cancellable, &e) && e)
            rc = map_error(e, watchdog_fired(&w), "forget");
    } else if (what == RLC_SECRET_OP_LOAD) {
        GList *items = S.search_sync(service, &schema, attrs,
                                     SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
                                     w.cancellable, &e);
        if (e) {
            rc = map_error(e, watchdog_fired(&w), "look up");
        } else if (items) {
            /* The first item is ours (storing replaces); more would be a
             * store that ignores the replace flag - the first still wins. */
            void *value = NULL;
            const char *text;
            if (S.item_get_locked(items->data))
                rc = watchdog_fired(&w) ? RL_ERR_KEYRING_TIMEOUT : RL_ERR_KEYRING_LOCKED;
            else if (!(value = S.item_get_secret(items->data)) || !(text = S.value_get_text(value)))
                rc = RL_ERR_KEYRING_FAILED;
            else if (strlen(text) >= cap)
                rc = RL_ERR_TOO_BIG;
            else
                memcpy(out, text, strlen(text) + 1);
            if (value)
                S.value_unref(value);   /* libsecret wipes its secure memory */
            for (GList *i = items; i; i = i->next)
                S.object_unref(i->data);
            S.list_free(items);
        }
        if (rc == RL_ERR_KEYRING_LOCKED)
            rl_log("keyring: the item is locked and was not unlocked");
    }
    S.hash_unref(attrs);
    S.object_unref(service);
out:
    watchdog_stop(&w);
    pthread_mutex_unlock(&call_lock);
    return rc;
}

int rlc_libsecret_call(rlc_secret_op op, const char *key, char *out, size_t cap, int timeout_ms)
{
    int rc;
    if (op == RLC_SECRET_OP_STORE && (!key || !key[0]))
        return RL_ERR_INVALID;
    if (op == RLC_SECRET_OP_STORE && strlen(key) > RLC_SECRET_MAX_KEY)
        return RL_ERR_TOO_BIG;
    if (op == RLC_SECRET_OP_LOAD) {
        if (!cap)
            return RL_ERR_INVALID;
        out[0] = '\0';
    }
    rc = run(op, key, out, cap, timeout_ms);
    if (rc != RL_OK && op == RLC_SECRET_OP_LOAD)
        memset(out, 0, cap);
    return rc;
}

rlc_secret_kind rlc_libsecret_kind(void)
{
    return (rlc_secret_kind)atomic_load(&kind);
}

#endif /* !_WIN32 */
