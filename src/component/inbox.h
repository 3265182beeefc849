/*
 * inbox.h - every report the office received, and what became of it.
 *
 * No UNO here: a bounded list with its policy, unit-tested on its own. A
 * report that could not be placed waits in the inbox with its reason until
 * it is placed on request or discarded. Placed entries keep only their
 * summary (the text is in the letter). When the inbox is full, the oldest
 * placed entry goes first; a waiting report is dropped only when every entry
 * is waiting, and the caller is told so it can say it loudly.
 */
#ifndef RL_INBOX_H
#define RL_INBOX_H

#include "reportlink_core.h"

#include <stdint.h>
#include <time.h>

#define RL_INBOX_MAX          500                 /* entries */
#define RL_INBOX_MAX_BYTES    (256u * 1024 * 1024) /* raw bytes of waiting reports
                                                     + every DOCX held */
#define RL_INBOX_SUMMARY      128                 /* bytes of a summary, with NUL */
#define RL_INBOX_TEXT         256                 /* bytes of where / reason, with NUL */

/* The report's signed DOCX, as far as the entry knows. */
typedef enum rl_inbox_docx_state {
    RL_INBOX_DOCX_NONE = 0,     /* the report has no url */
    RL_INBOX_DOCX_FETCHING,
    RL_INBOX_DOCX_READY,        /* docx holds it */
    RL_INBOX_DOCX_FAILED        /* docx_error says why */
} rl_inbox_docx_state;

typedef struct rl_inbox_entry {
    int32_t id;
    rl_report *report;          /* owned while waiting; NULL once placed */
    int placed;
    int fields_filled;
    time_t received_at;         /* wall clock */
    int64_t received_us;        /* CLOCK_MONOTONIC µs: arrived from the network (0: API) */
    int64_t placed_us;          /* CLOCK_MONOTONIC µs: the placement ended (0: not placed) */
    int64_t place_cost_us;      /* main-thread time of the placement that succeeded */
    char summary[RL_INBOX_SUMMARY];
    char where[RL_INBOX_TEXT];  /* placed: the document */
    char reason[RL_INBOX_TEXT]; /* waiting: why (English, for logs and IT) */
    char reason_code[24];       /* waiting: rl_writer_refusal_name(), or "withdrawn" (Ctrl+Z
                                   took it out of its letter), for the UI's words */
    char reason_field[128];     /* waiting, "edited": the field's bookmark */
    char spool[64];             /* the report's file on disk (spool.h), "" if none */
    int refusal;                /* waiting: the Writer module's refusal code (0: none) */
    rl_inbox_docx_state docx_state;
    uint64_t docx_fetch;        /* the core's fetch id while fetching */
    unsigned char *docx;        /* READY: the document (owned, freed with the entry) */
    size_t docx_len;
    char docx_error[RL_INBOX_TEXT]; /* FAILED: why, in the UI language */
} rl_inbox_entry;

/* Called when an entry's report goes for good: placed, discarded, or
 * dropped to make room (not by rl_inbox_take, nor rl_inbox_clear). Its
 * owner removes the report's copy on disk there. */
typedef void (*rl_inbox_release_fn)(void *user, const rl_inbox_entry *e);

typedef struct rl_inbox {
    rl_inbox_entry entries[RL_INBOX_MAX];   /* oldest first */
    size_t n;
    size_t waiting_bytes;
    size_t docx_bytes;          /* of every READY entry's docx */
    int32_t next_id;
    rl_inbox_release_fn on_release;         /* optional; set after init */
    void *release_user;
} rl_inbox;

void rl_inbox_init(rl_inbox *ib);
/* Frees every report it still holds (on_release is not called: what is on
 * disk stays for the next session). */
void rl_inbox_clear(rl_inbox *ib);

/* Adds r (taking it) as a waiting entry and returns its id. If room had to
 * be made, *dropped_waiting is set to the number of waiting reports that
 * were dropped (0 when only placed entries went). */
int32_t rl_inbox_add(rl_inbox *ib, rl_report *r, time_t now, unsigned *dropped_waiting);

/* The entry id, or NULL. Borrowed until the next change of the inbox. */
rl_inbox_entry *rl_inbox_find(rl_inbox *ib, int32_t id);

/* Marks entry id placed (freeing its report) or waiting with a reason. */
void rl_inbox_mark_placed(rl_inbox *ib, int32_t id, int fields, const char *where);
void rl_inbox_mark_waiting(rl_inbox *ib, int32_t id, const char *reason);

/* Takes the report of waiting entry id out of the inbox for placement, so
 * that no other thread can free it meanwhile; the entry stays listed.
 * Returns the report (the caller owns it until rl_inbox_put_back), or NULL
 * with *exists telling whether the entry exists (it may be placed already,
 * or being placed). */
rl_report *rl_inbox_take(rl_inbox *ib, int32_t id, int *exists);
/* Gives a taken report back to its entry, waiting with reason; if the entry
 * was discarded meanwhile the report is freed. */
void rl_inbox_put_back(rl_inbox *ib, int32_t id, rl_report *r, const char *reason);

/* What placing entry id needs, copied out of the inbox in one step, so that
 * nothing of the entry is used while the caller's lock is released (the
 * entry may be discarded from another thread meanwhile). */
typedef struct rl_inbox_placing {
    rl_report *report;          /* taken: the caller owns it until rl_inbox_end_placement */
    time_t received_at;
    int64_t received_us;        /* 0: not from the network (applyReport) */
    unsigned char *docx;        /* a copy of a READY DOCX (the caller frees it), or NULL */
    size_t docx_len;
    int docx_coming;            /* the DOCX is still being fetched */
} rl_inbox_placing;

/* Begins the placement of entry id: takes its report (rl_inbox_take) and
 * copies what placement needs into *out. Returns 1 (the caller now owns
 * out->report and out->docx), 0 when the entry has no report to place
 * (placed already, or being placed), or -1 when there is no entry id. */
int rl_inbox_begin_placement(rl_inbox *ib, int32_t id, rl_inbox_placing *out);

/* How a placement ended, for rl_inbox_end_placement. */
typedef struct rl_inbox_outcome {
    int placed;
    int fields_filled;          /* placed */
    const char *where;          /* placed: the document */
    const char *reason;         /* not placed: why (English, for logs and IT) */
    const char *reason_code;    /* not placed: rl_writer_refusal_name() */
    const char *reason_field;   /* not placed, "edited": the field's bookmark (may be NULL) */
    int refusal;                /* not placed: the Writer module's refusal code */
    int64_t placed_us;          /* placed: CLOCK_MONOTONIC µs when it ended */
    int64_t cost_us;            /* placed: main-thread time it took */
} rl_inbox_outcome;

/* Ends the placement begun by rl_inbox_begin_placement, taking r: placed,
 * the entry is marked placed with the outcome and r is freed; otherwise r
 * goes back to the entry, waiting with the outcome's reason. Returns 1, or
 * 0 when entry id is gone (discarded or dropped while it was being placed):
 * r is then freed and nothing is recorded. Never touches an entry it has not
 * found. */
int rl_inbox_end_placement(rl_inbox *ib, int32_t id, rl_report *r, const rl_inbox_outcome *o);

/* Ctrl+Z took placed entry id's report out of its letter: the entry waits
 * again, with r (taken: the report made again from its message) and the
 * reason code "withdrawn", so that it can be inserted again. Returns 1, or
 * 0 (r freed) when the entry is gone or not placed. */
int rl_inbox_withdraw(rl_inbox *ib, int32_t id, rl_report *r);

/* Ctrl+Y put it back: a "withdrawn" entry id is placed again (its report
 * freed). Returns 1, or 0 when the entry is gone or not withdrawn. */
int rl_inbox_placed_again(rl_inbox *ib, int32_t id);

/* Removes entry id (freeing its report); returns 1 if it existed. */
int rl_inbox_remove(rl_inbox *ib, int32_t id);

size_t rl_inbox_waiting(const rl_inbox *ib);

/* The DOCX of entry id is being fetched under the core's fetch id. */
void rl_inbox_docx_fetching(rl_inbox *ib, int32_t id, uint64_t fetch);

/* The fetch `fetch` ended: bytes (taken, may be NULL) make the entry READY,
 * otherwise it is FAILED with error. Room is made by forgetting the oldest
 * placed entries (never the one concerned); if the DOCX still does not fit
 * in RL_INBOX_MAX_BYTES it is freed and the entry FAILED with full_error.
 * Returns the entry's id, or 0 when no entry waits for this fetch (the
 * entry was discarded: bytes are freed). */
int32_t rl_inbox_docx_done(rl_inbox *ib, uint64_t fetch, unsigned char *bytes, size_t len,
                           const char *error, const char *full_error);

/* A one-line summary of r: the first line of the diagnosis (or of the first
 * field, or of the plain text), cut on a character boundary with "…". */
void rl_inbox_summary(const rl_report *r, char *buf, size_t cap);

#endif
