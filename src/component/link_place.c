/* link_place.c - a report's way into the letter: into the inbox, placed in
 * the letter of the active window or kept waiting, the letter remembered
 * until the report's DOCX comes, the DOCX's arrival and its errors in the
 * office's language; and the letters' own events (printed or exported with
 * empty fields or reports waiting; Undo and Redo of a placed report).
 *
 * Threads: the main thread, the only one that touches Writer (l->writer),
 * the remembered letters (docx_letters) and the words (l->strings; only
 * link_spool.c may load them earlier, while the link is being created and
 * no other thread can see it). l->lock guards the inbox and is not held
 * while Writer works: what placement needs is copied out of the entry
 * first, so discardInboxEntry may run on another thread meanwhile
 * (rlc__place_entry says what follows).
 *
 * Ownership: rlc__receive_report takes its report and rlc__docx_arrived its
 * DOCX; once in the inbox, reports and DOCX bytes are the inbox's. A
 * remembered letter is held (acquired) until its DOCX arrives, until the
 * full list (RLC_MAX_DOCX_LETTERS) lets it go to make room, or until the
 * office's exit (link.c). The letters' events hold a reference to the link
 * while they run. */
#include "link_internal.h"
#include "spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ reports (main thread) */

/* The undo step's name, in the office's language. */
static const char *undo_title(report_link *l)
{
    const rl_words *s = rlc__words(l);
    return s ? rl_word(s, "undo.insert_report") : "Insert report";
}

/* Keeps letter (taken) as where entry id's DOCX goes when it arrives. */
static void remember_letter(report_link *l, sal_Int32 id, uno_Interface *letter)
{
    if (l->n_docx_letters == RLC_MAX_DOCX_LETTERS) {   /* the oldest waits no more */
        rl_uno_release(l->docx_letters[0].letter);
        memmove(l->docx_letters, l->docx_letters + 1,
                (RLC_MAX_DOCX_LETTERS - 1) * sizeof l->docx_letters[0]);
        l->n_docx_letters--;
    }
    l->docx_letters[l->n_docx_letters].id = id;
    l->docx_letters[l->n_docx_letters].letter = letter;
    l->n_docx_letters++;
}

/* The letter entry id's report went to (the caller releases it), or NULL. */
static uno_Interface *take_letter(report_link *l, sal_Int32 id)
{
    for (int i = 0; i < l->n_docx_letters; i++)
        if (l->docx_letters[i].id == id) {
            uno_Interface *letter = l->docx_letters[i].letter;
            l->docx_letters[i] = l->docx_letters[--l->n_docx_letters];
            return letter;
        }
    return NULL;
}

/* Places inbox entry id into the letter of the active window. Returns the
 * fields filled (0 when it stays waiting; its reason says why), or -1 when
 * there is no such entry, or it was discarded before it could be placed.
 * fresh: the report just arrived (listeners hear reportReceived), else
 * inboxChanged. Main thread.
 *
 * l->lock is not held while Writer works, so discardInboxEntry (any thread)
 * may remove the entry meanwhile: what placement needs is copied out first
 * (rl_inbox_begin_placement), and the outcome is recorded only if the entry
 * is still there (rl_inbox_end_placement). A report discarded meanwhile is
 * not brought back; if it reached the letter, the doctor undoes it there. */
int rlc__place_entry(report_link *l, sal_Int32 id, int fresh, unsigned flags)
{
    rl_placement_result result;
    rl_uno_err err;
    rl_inbox_placing p;
    int placed = 0;

    memset(&result, 0, sizeof result);
    rl_provenance prov;
    memset(&prov, 0, sizeof prov);
    pthread_mutex_lock(&l->lock);
    int begun = rl_inbox_begin_placement(l->inbox, id, &p);
    if (begun == 1 && p.received_us)     /* from the service, not applyReport */
        rl_url_host(l->conn.endpoint, prov.service_host, sizeof prov.service_host);
    pthread_mutex_unlock(&l->lock);
    if (begun != 1)
        return begun;       /* -1: no such entry; 0: placed already, or being placed */
    prov.received_at = p.received_at;

    int64_t started_us = rlc_now_us();
    uno_Interface *letter = NULL;
    if (!l->writer && !(l->writer = rl_writer_create(l->ctx, undo_title(l), &err)))
        snprintf(result.error, sizeof result.error, "Writer is not available: %s", err.message);
    /* A DOCX already here goes in with the report; one still on its way
     * will follow it into the same letter (rlc__docx_arrived). */
    if (l->writer)
        placed = rl_writer_place_report(l->writer, NULL, p.report, p.docx, p.docx_len, &l->fields,
                                        &prov, flags, &result, &letter) == RL_OK;
    free(p.docx);

    int64_t ended_us = rlc_now_us();
    rl_writer_refusal why = placed ? RL_OK : result.why;
    rl_inbox_outcome outcome = {
        .placed = placed,
        .fields_filled = result.fields_filled,
        .where = result.where,
        .reason = result.error,
        .reason_code = rl_writer_refusal_name(why),
        .reason_field = result.field,
        .refusal = (int)why,
        .placed_us = ended_us,
        .cost_us = ended_us - started_us,
    };
    /* Its message, so that Ctrl+Z in the letter can give the report back to the inbox. */
    char *raw = NULL;
    size_t raw_len = 0;
    if (placed && p.report->raw && (raw = malloc(p.report->raw_len ? p.report->raw_len : 1))) {
        memcpy(raw, p.report->raw, p.report->raw_len);
        raw_len = p.report->raw_len;
    }
    pthread_mutex_lock(&l->lock);
    int kept = rl_inbox_end_placement(l->inbox, id, p.report, &outcome);   /* takes the report */
    pthread_mutex_unlock(&l->lock);
    if (letter && kept && placed && raw)
        rlc_watch_undo(letter, id, raw, raw_len);
    free(raw);
    if (letter && kept && p.docx_coming)
        remember_letter(l, id, letter);
    else
        rl_uno_release(letter);          /* no DOCX will come (for a discarded entry either) */
    if (!kept && placed)
        rl_log("report %d was discarded while it was being placed: %d field(s) are in the "
                "letter (Undo removes them)", (int)id, result.fields_filled);
    else if (!kept)
        rl_log("report %d was discarded while it was being placed; nothing was placed", (int)id);
    else if (placed)
        rl_log("report %d placed: %d field(s)", (int)id, result.fields_filled);
    else
        rl_log("report %d waits in the inbox: %s", (int)id, result.error);
    if (fresh)
        rlc__notify_report(l, id, placed, placed ? result.where : "");
    else
        rlc__notify_inbox_changed(l, id);
    if (!kept && !placed)
        return -1;
    return placed ? result.fields_filled : 0;
}

static void docx_error_text(report_link *l, const rl_docx *d, char *out, size_t cap);

/* The one path of every report: on disk (spool: the file already written by
 * the network thread, or "" to write it here), into the inbox, then into
 * the letter if it can be placed. Takes r; returns the number of fields
 * filled. Main thread. */
int rlc__receive_report(report_link *l, rl_report *r, const char *spool)
{
    char name[RL_SPOOL_NAME];
    unsigned dropped = 0;
    time_t now = time(NULL);
    uint64_t fetch = r->docx_fetch;
    int fetch_failed = 0;
    if (r->url && !fetch) {
        /* Not from the service (applyReport): ask the core to fetch it now,
         * from the main thread, so its outcome comes after the entry exists. */
        pthread_mutex_lock(&l->lock);
        fetch_failed = !l->client || rl_client_fetch_docx(l->client, r->url, &fetch) != RL_OK;
        pthread_mutex_unlock(&l->lock);
    }

    if (spool && spool[0]) {
        snprintf(name, sizeof name, "%s", spool);
        now = (time_t)strtoll(spool, NULL, 10);   /* the time in its name: the same after a restart */
    } else
        rlc__spool_report(l, r, now, name, sizeof name);
    pthread_mutex_lock(&l->lock);
    sal_Int32 id = rl_inbox_add(l->inbox, r, now, &dropped);
    rl_inbox_entry *e = rl_inbox_find(l->inbox, id);   /* there: the lock is held since the add */
    if (e)
        snprintf(e->spool, sizeof e->spool, "%s", name);
    if (fetch && !fetch_failed)
        rl_inbox_docx_fetching(l->inbox, id, fetch);
    pthread_mutex_unlock(&l->lock);
    if (fetch_failed) {
        rl_docx cancelled = { .error = RL_DOCX_CANCELLED };
        char why[RL_INBOX_TEXT];
        docx_error_text(l, &cancelled, why, sizeof why);
        pthread_mutex_lock(&l->lock);
        rl_inbox_docx_fetching(l->inbox, id, UINT64_MAX);
        rl_inbox_docx_done(l->inbox, UINT64_MAX, NULL, 0, why, why);
        pthread_mutex_unlock(&l->lock);
        rl_log("report %d: its DOCX cannot be fetched: no connection object", (int)id);
    }
    if (dropped)
        rl_log("the inbox is full of waiting reports (%d): the %u oldest were dropped",
                RL_INBOX_MAX, dropped);
    int filled = rlc__place_entry(l, id, 1, 0);
    return filled < 0 ? 0 : filled;     /* discarded before it could be placed: nothing filled */
}

/* The words of the office's language (i18n/), loaded once; NULL when out
 * of memory. Main thread. */
const rl_words *rlc__words(report_link *l)
{
    if (!l->strings && (l->strings = calloc(1, sizeof *l->strings)))
        rlc_words_for_office(l->strings, l->ctx);
    return l->strings;
}

/* The words of "docx.error.<name>" in the office's language, {0} being
 * arg; fallback when the extension has none. Main thread. */
static void docx_words(report_link *l, const char *name, const char *arg, const char *fallback,
                       char *out, size_t cap)
{
    char key[RL_WORDS_MAX_KEY];
    const char *args[1] = { arg };

    snprintf(key, sizeof key, "docx.error.%s", name);
    out[0] = 0;
    if (rlc__words(l))
        rl_words_format(l->strings, key, out, cap, args, 1);
    if (!out[0] || !strcmp(out, key))
        snprintf(out, cap, "%s", fallback);
}

static void docx_error_text(report_link *l, const rl_docx *d, char *out, size_t cap)
{
    char arg[32] = "";
    if (d->error == RL_DOCX_HTTP)
        snprintf(arg, sizeof arg, "%d", d->http_status);
    else if (d->error == RL_DOCX_TIMEOUT)
        snprintf(arg, sizeof arg, "%d", RL_DOCX_TIMEOUT_MS / 1000);
    else if (d->error == RL_DOCX_TOO_LARGE)
        snprintf(arg, sizeof arg, "%u", RL_MAX_DOCX_BYTES >> 20);
    docx_words(l, rl_docx_error_name(d->error), arg, d->detail, out, cap);
}

/* A DOCX download ended (main thread): the entry learns it, and a DOCX
 * goes into the letter its report went to, as an undo step of its own; a
 * report that waited only because the letter has nothing but report_docx
 * is placed now. Takes d. */
void rlc__docx_arrived(report_link *l, rl_docx *d)
{
    char why[RL_INBOX_TEXT], full[RL_INBOX_TEXT];
    int placed = 0, refusal = 0;
    unsigned char *copy = NULL;
    size_t len = d->len;

    why[0] = 0;
    if (d->error != RL_DOCX_OK)
        docx_error_text(l, d, why, sizeof why);
    docx_words(l, "inbox_full", "", "the report's DOCX does not fit in the inbox", full,
               sizeof full);
    pthread_mutex_lock(&l->lock);
    sal_Int32 id = rl_inbox_docx_done(l->inbox, d->fetch_id, d->bytes, d->len, why, full);
    d->bytes = NULL;                     /* the inbox has them (or freed them) */
    rl_inbox_entry *e = id ? rl_inbox_find(l->inbox, id) : NULL;
    int ready = e && e->docx_state == RL_INBOX_DOCX_READY;
    if (e) {
        placed = e->placed;
        refusal = e->refusal;
        if (ready && placed && (copy = malloc(e->docx_len)))
            memcpy(copy, e->docx, e->docx_len);
    }
    pthread_mutex_unlock(&l->lock);
    uno_Interface *letter = id ? take_letter(l, id) : NULL;
    if (!id)
        rl_log("a DOCX arrived for a report no longer in the inbox; dropped");
    else if (!ready)
        rl_log("report %d: its DOCX could not be had: %s", (int)id, d->detail);
    else if (placed && letter && copy) {
        rl_placement_result result;
        if (rl_writer_place_docx(l->writer, letter, copy, len, &result) == RL_OK)
            rl_log("report %d: its DOCX was placed in the letter", (int)id);
        else
            rl_log("report %d: its DOCX is in the inbox, not in the letter: %s", (int)id,
                    result.error);
    } else if (!placed && refusal == RL_ERR_NO_FIELDS) {
        rl_log("report %d: its DOCX arrived; placing the report again", (int)id);
        rlc__place_entry(l, id, 0, 0);  /* tells the listeners */
        id = 0;
    } else {
        rl_log("report %d: its DOCX arrived (%zu bytes)", (int)id, len);
    }
    if (id)
        rlc__notify_inbox_changed(l, id);   /* its DOCX state changed: the sidebar shows it */
    free(copy);
    rl_uno_release(letter);
    rl_docx_free(d);
}

/* ------------------------------------------------------------------ the letters' events (main thread) */

/* The field bookmarks in "a, b" as the doctor calls them ("Examen clinique,
 * Procédure"). */
static void fields_in_words(report_link *l, const char *bookmarks, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (const char *p = bookmarks; *p && used < cap;) {
        size_t n = strcspn(p, ",");
        char name[256];
        rl_words_field(rlc__words(l), p, n, name, sizeof name);
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

void rlc_link_letter_leaving(uno_Interface *doc, const char *how)
{
    report_link *l = rlc__link_acquire();
    if (!l || !doc)
        goto out;
    char unfilled[RL_INBOX_TEXT], named[RL_INBOX_TEXT * 2], count[16], message[RL_INBOX_TEXT * 3];
    int n_unfilled = rl_writer_unfilled(doc, &l->fields, unfilled, sizeof unfilled);
    if (n_unfilled < 0)
        goto out;               /* not a letter: no field bookmark at all */
    pthread_mutex_lock(&l->lock);
    int waiting = 0;
    for (size_t i = 0; i < l->inbox->n; i++)
        waiting += !l->inbox->entries[i].placed;
    pthread_mutex_unlock(&l->lock);
    if (!n_unfilled && !waiting)
        goto out;
    fields_in_words(l, unfilled, named, sizeof named);
    snprintf(count, sizeof count, "%d", waiting);
    const char *args[2] = { named, count };
    char key[64], part[RL_INBOX_TEXT * 2];
    size_t used = 0;
    message[0] = 0;
    if (n_unfilled && rlc__words(l)) {
        snprintf(key, sizeof key, "letter.%s.unfilled", how);
        rl_words_format(l->strings, key, part, sizeof part, args, 1);
        used += (size_t)snprintf(message + used, sizeof message - used, "%s", part);
    }
    if (waiting && rlc__words(l)) {
        rl_words_format(l->strings, "letter.waiting", part, sizeof part, args + 1, 1);
        snprintf(message + used, sizeof message - used, "%s%s", used ? " " : "", part);
    }
    rl_uno_err err;
    if (rl_writer_info_bar(doc, "org.reportlink.unfilled", "ReportLink", message, &err) != RL_OK)
        rl_log("a letter left with %d empty field(s) and %d waiting report(s); cannot warn on it: %s",
                n_unfilled, waiting, err.message);
    else
        rl_log("warned: a letter left (%s) with %d empty field(s) and %d waiting report(s)", how,
                n_unfilled, waiting);
out:
    if (l)
        rl_uno_release(&l->obj.iface);
}

void rlc_link_letter_undo(uno_Interface *letter, sal_Int32 entry, const char *raw, size_t raw_len)
{
    report_link *l = rlc__link_acquire();
    if (!l)
        return;
    int holds = rl_writer_holds_last_report(letter), changed = 0;
    if (holds == 0) {
        /* Ctrl+Z took it out: the report waits again, made anew from its message. */
        rl_event_kind kind;
        rl_report *r = NULL;
        int code = 0;
        char *message = NULL, why[RL_MAX_DETAIL];
        rl_validate_message(raw, raw_len, &kind, &r, &code, &message, why, sizeof why);
        free(message);
        pthread_mutex_lock(&l->lock);
        changed = rl_inbox_withdraw(l->inbox, entry, r);   /* takes r */
        pthread_mutex_unlock(&l->lock);
        if (changed)
            rl_log("report %d was withdrawn from its letter by Undo; it can be inserted again", (int)entry);
    } else if (holds == 1) {
        pthread_mutex_lock(&l->lock);
        changed = rl_inbox_placed_again(l->inbox, entry);
        pthread_mutex_unlock(&l->lock);
        if (changed)
            rl_log("report %d is in its letter again (Redo)", (int)entry);
    }
    if (changed)
        rlc__notify_inbox_changed(l, entry);
    rl_uno_release(&l->obj.iface);
}
