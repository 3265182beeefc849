/*
 * component.h - what the files of the component share (rlc_ names).
 *
 *   link*.c      theReportLink: the client, listeners, received reports
 *                (link.c its life; link_internal.h says what the others do)
 *   handover.c   the one queue from any thread to the main thread
 *   settings.c   /org.reportlink.Settings and its change listener
 *   keystore.c   where the doctor's key is kept, and the thread that keeps it
 *   secret_*.c   the system's secret store (secret.h; no UNO)
 *   lifecycle.c  the OnStartApp job and the terminate listener
 *   log.c        libwebsockets' lines into the log (src/base/log.h), the debug switch
 *   spool.c      waiting reports on disk (spool.h; no UNO)
 */
#ifndef RL_COMPONENT_H
#define RL_COMPONENT_H

#include "log.h"
#include "placement.h"
#include "reportlink_core.h"
#include "uno_bridge.h"
#include "words.h"

#define RLC_IMPL_LINK   "org.reportlink.ReportLink"
#define RLC_IMPL_JOB    "org.reportlink.AutoConnectJob"

/* ------------------------------------------------------------------ log.c */

/* Routes libwebsockets' warnings and errors to rl_log. */
void rlc_log_route_lws(void);

/* Whether REPORTLINK_DEBUG=1 was in the office's environment at start. */
int rlc_debug(void);

/* With REPORTLINK_DEBUG=1: one line with what r is made of - its size in
 * bytes, its fields' count and which representations it carries - never
 * a value (report content is patient data). `what`: a fixed word. */
void rlc_debug_report(const char *what, const rl_report *r);

/* ------------------------------------------------------------------ settings.c */

#define RLC_MAX_PATH 1024

/* /org.reportlink.Settings/Connection. */
typedef struct rlc_connection {
    char endpoint[RL_MAX_URL];
    int auto_connect;
    int ping_interval_s;
    char ca_file[RLC_MAX_PATH];
} rlc_connection;

typedef struct rlc_settings_watch rlc_settings_watch;

/* Called, on the thread that committed, after a change of the Connection
 * group was committed; c is the group's new state, borrowed for the call. */
typedef void (*rlc_connection_changed_fn)(void *user, const rlc_connection *c);

/* Read the Connection group / the Fields set (read once, at start-up). On
 * failure return RL_UNO_* and err says why. */
int rlc_settings_read_connection(uno_Interface *ctx, rlc_connection *out, rl_uno_err *err);
int rlc_settings_read_fields(uno_Interface *ctx, rl_field_map *out, rl_uno_err *err);

/* Writes what a doctor edits on the options page into the Connection group
 * and commits it in one batch; endpoint NULL leaves the endpoint alone.
 * The link's watch then applies the change (reconnecting at once). */
int rlc_settings_write_connection(uno_Interface *ctx, const char *endpoint, int auto_connect,
                                  const char *ca_file, rl_uno_err *err);

/* ReportLink's page of Tools > Options (OptionsDialog.xcu), and the URL of
 * its dialog as the options dialog knows it (macros expanded), for opening
 * the dialog at that page. */
#define RLC_OPTIONS_LEAF \
    "/org.openoffice.Office.OptionsDialog/Nodes/org.reportlink.options/Leaves/org.reportlink.options.connection"
int rlc_settings_options_page_url(uno_Interface *ctx, char *url, size_t cap, rl_uno_err *err);

/* The office's user-interface language ("fr", "en-US"; "" if unknown). */
int rlc_settings_ui_language(uno_Interface *ctx, char *lang, size_t cap);

/* The extension's words (src/base/words.h) for the office's user-interface
 * language, English when there is no file for it. */
void rlc_words_for_office(rl_words *s, uno_Interface *ctx);

/* The office's user profile folder ($(user), e.g. ~/.config/libreoffice/4/user)
 * as a system path in UTF-8. RL_OK, or an error with err set. */
int rlc_settings_profile_dir(uno_Interface *ctx, char *out, size_t cap, rl_uno_err *err);

/* Starts listening for committed changes of /org.reportlink.Settings/
 * Connection. owner is acquired until the watch ends, so that `user` stays
 * valid while a change is being reported. Returns the watch (stop it with
 * rlc_settings_unwatch), or NULL with err set. */
rlc_settings_watch *rlc_settings_watch_start(uno_Interface *ctx, uno_Interface *owner,
                                             rlc_connection_changed_fn fn, void *user,
                                             rl_uno_err *err);
void rlc_settings_unwatch(rlc_settings_watch *w);

/* ------------------------------------------------------------------ keystore.c */

/* Where the doctor's key is kept (keystore.c; src/component/README.md). */
typedef enum rlc_key_place {
    RLC_KEY_LOADING = 0,  /* the first look into the stores has not ended yet */
    RLC_KEY_NONE,         /* no key */
    RLC_KEY_KEYRING,      /* the system's secret store (secret.h; kind says which) */
    RLC_KEY_CONTAINER,    /* LibreOffice's password container, under the doctor's own master password */
    RLC_KEY_SESSION       /* memory only: asked again at the next start */
} rlc_key_place;

typedef struct rlc_key_status {
    rlc_key_place place;
    int kind;             /* an rlc_secret_kind (secret.h): the keyring seen, RLC_SECRET_NONE if none */
    int why;              /* why not the keyring: RL_ERR_NO_KEYRING, _KEYRING_LOCKED,
                             _KEYRING_TIMEOUT, _KEYRING_FAILED; 0 when it was used */
    int migrated;         /* this start moved the key from the password container to the keyring */
    int pending;          /* a store, a forget or the first load is still running */
} rlc_key_status;

/* Called on the keyring thread after each job ended (the status changed). */
typedef void (*rlc_key_changed_fn)(void);

/* Starts the keyring thread, which looks for the stored key (and moves a
 * key an earlier version left in the password container). Once per
 * process; later calls do nothing. ctx is acquired. */
void rlc_key_start(uno_Interface *ctx, rlc_key_changed_fn changed);
/* The office is leaving: the thread ends after its current job, without
 * calling back; the key in memory is wiped. Never waits. */
void rlc_key_stop(void);

/* The key in force into key (cap bytes; "" if none). Never blocks. Returns
 * 1 while the first load has not ended (the key may still come), else 0. */
int rlc_key_get(char *key, size_t cap);

/* Puts key in force at once, for this session, and hands its storing to the
 * keyring thread ("" forgets it, from every store). Never blocks. */
void rlc_key_set(const char *key);

/* Where the key is, now. Never blocks. */
void rlc_key_status_get(rlc_key_status *out);

/* A stable word for a place ("keyring", "session"...), for logs. */
const char *rlc_key_place_name(rlc_key_place place);

/* ------------------------------------------------------------------ handover.c */

typedef struct rlc_handover rlc_handover;

/* What travels to the main thread. */
typedef enum rlc_item_kind {
    RLC_ITEM_STATE,       /* state, attempt, retry_in_ms, detail */
    RLC_ITEM_REPORT,      /* report (owned by the item) */
    RLC_ITEM_DOCX,        /* docx: a report's DOCX download ended (owned by the item) */
    RLC_ITEM_APPLY,       /* report (or entry_id) + apply: from applyReport or
                             placeInboxEntry on another thread; complete it with
                             rlc_handover_apply_done() */
    RLC_ITEM_INBOX_CHANGED /* entry_id changed (e.g. discarded on another thread) */
} rlc_item_kind;

typedef struct rlc_apply_request rlc_apply_request;

typedef struct rlc_item {
    rlc_item_kind kind;
    unsigned gen;                  /* the client generation that produced it */
    rl_state state;
    unsigned attempt;
    int64_t retry_in_ms;
    char detail[RL_MAX_DETAIL];
    rl_report *report;
    char spool[64];                /* REPORT: its file on disk (spool.h), "" if none */
    rl_docx *docx;
    sal_Int32 entry_id;            /* APPLY without a report: the inbox entry to place */
    unsigned place_flags;          /* APPLY of an entry: rl_writer_place_report's flags */
    rlc_apply_request *apply;
} rlc_item;

#define RLC_MAX_ITEMS 256   /* items waiting for the main thread */

/* Called on the main thread for each item, in order; it owns item->report
 * and item->docx. */
typedef void (*rlc_deliver_fn)(void *user, rlc_item *item);
/* Called on the main thread after items were lost because the queue was
 * full (lost_states: state items, lost_reports: reports). */
typedef void (*rlc_lost_fn)(void *user, unsigned lost_states, unsigned lost_reports);

/* Creates the hand-over: an AsyncCallback and an XCallback implemented here.
 * owner is acquired until rlc_handover_close() (it keeps the deliver target
 * alive while callbacks are pending). The caller owns one reference, given
 * back with rlc_handover_release(). Returns NULL with err set. */
rlc_handover *rlc_handover_create(uno_Interface *ctx, uno_Interface *owner, rlc_deliver_fn deliver,
                                  rlc_lost_fn lost, void *user, rl_uno_err *err);

/* Any thread, never blocks on the main thread: queues a copy of *item
 * (taking item->report) and wakes the main thread unless a wake-up is
 * already pending. Returns 0, or -1 when the queue is full or closed (the
 * report is then freed and the loss counted). */
int rlc_handover_post(rlc_handover *h, const rlc_item *item);

/* Whether the caller runs on the office's main thread: the thread the
 * callbacks run on, once one ran. */
int rlc_handover_on_main(rlc_handover *h);

/* From another thread: has the main thread deliver `report` (taken), or
 * when report is NULL the inbox entry entry_id (placed with place_flags),
 * as an RLC_ITEM_APPLY item;
 * waits at most timeout_ms and returns what the deliver function passed to
 * rlc_handover_apply_done(), or -1 on timeout (the item is still delivered
 * later). */
int rlc_handover_apply(rlc_handover *h, rl_report *report, sal_Int32 entry_id,
                       unsigned place_flags, int timeout_ms);

/* Main thread, inside deliver: completes an RLC_ITEM_APPLY item. */
void rlc_handover_apply_done(rlc_apply_request *req, int fields_filled);

/* Stops accepting items (post and apply then fail), frees queued ones,
 * releases the AsyncCallback and the owner. Main thread, after the
 * producers stopped. Callbacks still pending find it closed and do nothing. */
void rlc_handover_close(rlc_handover *h);
void rlc_handover_release(rlc_handover *h);

/* ------------------------------------------------------------------ link.c, link_place.c */

/* The one ReportLink object of the process, created on first call (ctx is
 * the component context). Returns a new reference, or NULL after logging
 * why (start-up check failed, office terminating). */
uno_Interface *rlc_link_get(uno_Interface *ctx);

/* A document is printed (how: "print") or a copy of it written ("copy":
 * PDF, e-mail, Save a Copy): if it is a letter with fields still showing
 * their placeholder, or reports wait in the inbox, the doctor is warned on
 * the letter (letterwatch.c). Main thread. */
void rlc_link_letter_leaving(uno_Interface *doc, const char *how);

/* Undo or redo in letter, where inbox entry `entry` (whose message is raw)
 * was placed last: the entry becomes "withdrawn" when the letter no longer
 * holds it, placed again when it does (undowatch.c). Main thread. */
void rlc_link_letter_undo(uno_Interface *letter, sal_Int32 entry, const char *raw, size_t raw_len);

/* OnStartApp: connects if AutoConnect is on and a key is stored. */
void rlc_link_autoconnect(uno_Interface *link);

/* Office exit (main thread): closes the connection with 1000 (bounded
 * wait), tells the listeners, releases everything. Idempotent. */
void rlc_link_shutdown(void);

/* Monotonic milliseconds (the clock given to the core) and microseconds
 * (CLOCK_MONOTONIC: the clock of the measurements in InboxEntry). */
int64_t rlc_now_ms(void);
int64_t rlc_now_us(void);

/* ------------------------------------------------------------------ lifecycle.c */


/* A new job object (one reference, the caller's). */
uno_Interface *rlc_job_new(uno_Interface *ctx);

/* Lets the link start (the gate of AutoConnectJob's thread): the first
 * letter is ready. Any thread; more calls do nothing. */
void rlc_start_gate_open(void);

/* Registers a terminate listener on the Desktop that calls
 * rlc_link_shutdown(). */
int rlc_watch_termination(uno_Interface *ctx, rl_uno_err *err);

/* ------------------------------------------------------------------ letterwatch.c */

/* Listens to the office's document events for rlc_link_letter_leaving.
 * Once per process. */
int rlc_watch_letters(uno_Interface *ctx, rl_uno_err *err);

/* ------------------------------------------------------------------ undowatch.c */

/* After inbox entry `entry` (its message raw, copied) was placed in letter:
 * follow Ctrl+Z and Ctrl+Y there (rlc_link_letter_undo). Main thread. */
void rlc_watch_undo(uno_Interface *letter, sal_Int32 entry, const char *raw, size_t raw_len);
/* The office's exit: lets every letter go. Main thread. */
void rlc_unwatch_undo_all(void);

/* A new interaction handler that never asks anything (one reference). */
uno_Interface *rlc_silent_handler_new(void);

/* ------------------------------------------------------------------ class tables */

/* Every object class of the component, checked against the type library
 * when the library is loaded (entry.c). */
extern const rl_uno_class rlc_link_class, rlc_handover_class, rlc_settings_watch_class,
    rlc_job_class, rlc_terminate_class, rlc_silent_handler_class, rlc_letter_watch_class,
    rlc_undo_watch_class;

#endif
