/* link_internal.h - what the files of theReportLink share (rlc__ names).
 *
 * Private to src/component/link*.c; the rest of the component reaches the
 * link through component.h only.
 *
 *   link.c         the object: creation, the singleton, office exit
 *   link_client.c  the core's rl_client: creating, replacing, reaping it
 *   link_spool.c   waiting reports on disk, and their recovery at start-up
 *   link_events.c  core events, the hand-over's deliveries, the listeners
 *   link_place.c   placement, a report's DOCX, the letters' own events
 *   link_api.c     the XReportLink methods and the class table
 *
 * Threads and locking: `lock` guards the fields marked below and is never
 * held while calling UNO or waiting; fields marked "main thread only" are
 * touched by the office's main thread alone. */
#ifndef RL_LINK_INTERNAL_H
#define RL_LINK_INTERNAL_H

#include "component.h"
#include "inbox.h"

#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define RLC_MAX_LISTENERS      32
#define RLC_MAX_DOCX_LETTERS   32     /* placed reports whose DOCX is still on its way */

typedef struct report_link report_link;

/* The core's user data: which link, and which of its clients. */
typedef struct client_tag {
    report_link *l;
    unsigned gen;
} client_tag;

typedef struct listener {
    uno_Interface *ref;        /* XReportLinkListener, acquired */
    uno_Interface *identity;   /* its XInterface, acquired: to compare */
} listener;

struct report_link {
    rl_uno_object obj;             /* XReportLink */
    uno_Interface *ctx;            /* acquired */
    rlc_handover *handover;
    rlc_settings_watch *watch;
    rl_field_map fields;           /* read at start-up, never changed after */
    char spool_dir[RLC_MAX_PATH];  /* waiting reports on disk; "" if unusable; set at start-up */
    atomic_int reapers;            /* replaced clients being destroyed */
    atomic_int exit_watched;       /* the terminate listener is registered */

    pthread_mutex_t lock;          /* guards the fields below */
    int shut_down;
    rl_client *client;
    client_tag *tag;
    unsigned gen;
    int has_key;
    int autoconnect_waits;         /* AutoConnect or connect() asked while the key was still loading */
    char client_error[RL_MAX_DETAIL];
    rlc_connection conn;           /* the Connection settings in force */
    listener listeners[RLC_MAX_LISTENERS];
    int n_listeners;
    rl_inbox *inbox;

    rl_writer *writer;             /* main thread only; created on first placement */
    rl_words *strings;          /* main thread only: the DOCX errors' words, loaded once */
    /* Main thread only: the letter each placed report went to, while its
     * DOCX is on its way, so that the DOCX follows the report and never
     * lands in whatever letter is active when it arrives. */
    struct {
        sal_Int32 id;
        uno_Interface *letter;     /* acquired */
    } docx_letters[RLC_MAX_DOCX_LETTERS];
    int n_docx_letters;
};

static inline report_link *rlc__link_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, report_link, obj);
}

/* ------------------------------------------------------------------ link.c */

/* The one link, acquired (the caller releases it), or NULL before it was
 * created or after the office's exit. */
report_link *rlc__link_acquire(void);
/* rlc_link_class's destroy: the last reference went. */
void rlc__link_destroy(rl_uno_object *self);

/* ------------------------------------------------------------------ link_client.c */

/* Creates the client if there is none yet: 0, or -1 with l->client_error. */
int rlc__ensure_client(report_link *l);
/* When the link has no key yet but the keystore has one or is still looking
 * (AutoConnect at the start, connect() meanwhile): marks the link to connect
 * when the key comes (rlc__key_changed), logs "<who>: waiting ...", returns 1.
 * Else 0. No lock held. */
int rlc__wait_for_key(report_link *l, const char *who);
/* Runs cmd on the client under the lock; RL_ERR_STATE without a client. */
int rlc__with_client(report_link *l, int (*cmd)(rl_client *));
/* The settings watch's callback: applies a committed Connection group. */
void rlc__connection_changed(void *user, const rlc_connection *c);
/* Tells the listeners the current status, through the main thread. */
void rlc__announce_status(report_link *l);
/* The keystore's callback (keyring thread): the key in force or its place
 * changed; gives it to the client, connects if AutoConnect waited for it,
 * tells the listeners. */
void rlc__key_changed(void);

/* ------------------------------------------------------------------ link_spool.c */

/* Writes r's message into the spool (its file name into name, "" if not). */
void rlc__spool_report(report_link *l, const rl_report *r, time_t at, char *name, size_t cap);
/* The same without the fsync: give the result to rlc__spool_sync. */
int rlc__spool_report_unsynced(report_link *l, const rl_report *r, time_t at, char *name, size_t cap);
void rlc__spool_sync(report_link *l, int fd);
/* Start-up: finds the spool and brings the waiting reports back. */
void rlc__spool_start(report_link *l);

/* ------------------------------------------------------------------ link_events.c */

/* The core's on_event (network thread). */
void rlc__on_core_event(void *user, const rl_event *ev);
/* The hand-over's deliver and lost functions (main thread). */
void rlc__deliver(void *user, rlc_item *item);
void rlc__lost(void *user, unsigned lost_states, unsigned lost_reports);
/* The status now (the caller destructs *out); ev's state wins if not NULL. */
void rlc__fill_status(report_link *l, rl_uno_ReportStatus *out, const rlc_item *ev);
/* Dropping a listener (any thread), and what the listeners are told (main thread). */
void rlc__drop_listener(report_link *l, uno_Interface *ref);
void rlc__notify_inbox_changed(report_link *l, sal_Int32 id);
void rlc__notify_report(report_link *l, sal_Int32 id, int placed, const char *where);

/* ------------------------------------------------------------------ link_place.c */

/* The words of the office's language, loaded once; NULL when out of memory. */
const rl_words *rlc__words(report_link *l);
/* Places inbox entry id: fields filled, 0 if it waits, -1 if it is gone. */
int rlc__place_entry(report_link *l, sal_Int32 id, int fresh, unsigned flags);
/* Every report's one path: spool, inbox, letter. Takes r. */
int rlc__receive_report(report_link *l, rl_report *r, const char *spool);
/* A DOCX download ended. Takes d. */
void rlc__docx_arrived(report_link *l, rl_docx *d);

#endif
