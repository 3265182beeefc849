/* inbox.c - see inbox.h. */
#include "inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rl_inbox_init(rl_inbox *ib)
{
    memset(ib, 0, sizeof *ib);
}

void rl_inbox_clear(rl_inbox *ib)
{
    for (size_t i = 0; i < ib->n; i++) {
        rl_report_free(ib->entries[i].report);
        free(ib->entries[i].docx);
    }
    ib->n = 0;
    ib->waiting_bytes = 0;
    ib->docx_bytes = 0;
}

static void released(rl_inbox *ib, rl_inbox_entry *e)
{
    if (ib->on_release)
        ib->on_release(ib->release_user, e);
    e->spool[0] = 0;
}

static void drop_at(rl_inbox *ib, size_t i)
{
    if (!ib->entries[i].placed)
        released(ib, &ib->entries[i]);
    if (ib->entries[i].report) {
        ib->waiting_bytes -= ib->entries[i].report->raw_len;
        rl_report_free(ib->entries[i].report);
    }
    if (ib->entries[i].docx) {
        ib->docx_bytes -= ib->entries[i].docx_len;
        free(ib->entries[i].docx);
    }
    memmove(&ib->entries[i], &ib->entries[i + 1], (ib->n - i - 1) * sizeof ib->entries[0]);
    ib->n--;
}

/* Makes room for one more entry of `bytes`: placed entries first, oldest
 * first; then waiting ones. Returns how many waiting reports went. */
static unsigned make_room(rl_inbox *ib, size_t bytes)
{
    unsigned dropped = 0;
    for (size_t i = 0; i < ib->n && ib->n >= RL_INBOX_MAX;) {
        if (ib->entries[i].placed)
            drop_at(ib, i);
        else
            i++;
    }
    for (size_t i = 0; i < ib->n && ib->waiting_bytes + ib->docx_bytes + bytes > RL_INBOX_MAX_BYTES;) {
        if (ib->entries[i].placed)
            drop_at(ib, i);
        else
            i++;
    }
    while (ib->n && (ib->n >= RL_INBOX_MAX ||
                     ib->waiting_bytes + ib->docx_bytes + bytes > RL_INBOX_MAX_BYTES)) {
        size_t i = 0;
        while (i < ib->n && ib->entries[i].placed)
            i++;
        if (i == ib->n)
            i = 0;
        dropped += !ib->entries[i].placed;
        drop_at(ib, i);
    }
    return dropped;
}

/* Copies the first line of s into buf; a line longer than buf is cut on a
 * UTF-8 character boundary and ends with "…". */
static void first_line(const char *s, char *buf, size_t cap)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, "\r\n");
    if (n < cap) {
        memcpy(buf, s, n);
        buf[n] = 0;
        return;
    }
    n = cap - 4;                                   /* room for "…" and the NUL */
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, s, n);
    memcpy(buf + n, "\xe2\x80\xa6", 4);
}

void rl_inbox_summary(const rl_report *r, char *buf, size_t cap)
{
    const char *src = rl_report_field(r, "diagnosis");
    if (!src || !*src)
        src = r->n_fields ? r->fields[0].value : NULL;
    if (!src || !*src)
        src = r->plaintext_report;
    first_line(src ? src : "", buf, cap);
}

int32_t rl_inbox_add(rl_inbox *ib, rl_report *r, time_t now, unsigned *dropped_waiting)
{
    unsigned dropped = make_room(ib, r->raw_len);
    rl_inbox_entry *e = &ib->entries[ib->n++];
    memset(e, 0, sizeof *e);
    e->id = ++ib->next_id;
    e->report = r;
    e->received_at = now;
    e->received_us = r->received_us;
    rl_inbox_summary(r, e->summary, sizeof e->summary);
    ib->waiting_bytes += r->raw_len;
    if (dropped_waiting)
        *dropped_waiting = dropped;
    return e->id;
}

rl_inbox_entry *rl_inbox_find(rl_inbox *ib, int32_t id)
{
    for (size_t i = 0; i < ib->n; i++)
        if (ib->entries[i].id == id)
            return &ib->entries[i];
    return NULL;
}

void rl_inbox_mark_placed(rl_inbox *ib, int32_t id, int fields, const char *where)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e)
        return;
    if (e->report) {
        ib->waiting_bytes -= e->report->raw_len;
        rl_report_free(e->report);
        e->report = NULL;
    }
    if (!e->placed)
        released(ib, e);
    e->placed = 1;
    e->fields_filled = fields;
    snprintf(e->where, sizeof e->where, "%s", where ? where : "");
    e->reason[0] = 0;
}

void rl_inbox_mark_waiting(rl_inbox *ib, int32_t id, const char *reason)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (e && !e->placed)
        snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
}

rl_report *rl_inbox_take(rl_inbox *ib, int32_t id, int *exists)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    rl_report *r = NULL;
    *exists = e != NULL;
    if (e && e->report) {
        r = e->report;
        e->report = NULL;
        ib->waiting_bytes -= r->raw_len;
    }
    return r;
}

void rl_inbox_put_back(rl_inbox *ib, int32_t id, rl_report *r, const char *reason)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e || e->placed || e->report) {
        rl_report_free(r);
        return;
    }
    e->report = r;
    ib->waiting_bytes += r->raw_len;
    snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
}

int rl_inbox_begin_placement(rl_inbox *ib, int32_t id, rl_inbox_placing *out)
{
    int exists = 0;
    memset(out, 0, sizeof *out);
    out->report = rl_inbox_take(ib, id, &exists);
    if (!exists)
        return -1;
    if (!out->report)
        return 0;
    const rl_inbox_entry *e = rl_inbox_find(ib, id);
    out->received_at = e->received_at;
    out->received_us = e->received_us;
    out->docx_coming = e->docx_state == RL_INBOX_DOCX_FETCHING;
    /* Without memory the report still goes in; its DOCX stays in the inbox. */
    if (e->docx_state == RL_INBOX_DOCX_READY && (out->docx = malloc(e->docx_len))) {
        memcpy(out->docx, e->docx, e->docx_len);
        out->docx_len = e->docx_len;
    }
    return 1;
}

int rl_inbox_end_placement(rl_inbox *ib, int32_t id, rl_report *r, const rl_inbox_outcome *o)
{
    if (!rl_inbox_find(ib, id)) {
        rl_report_free(r);
        return 0;
    }
    if (o->placed) {
        rl_report_free(r);
        rl_inbox_mark_placed(ib, id, o->fields_filled, o->where);
        rl_inbox_entry *e = rl_inbox_find(ib, id);
        e->placed_us = o->placed_us;
        e->place_cost_us = o->cost_us;
        return 1;
    }
    rl_inbox_put_back(ib, id, r, o->reason);
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e->placed) {
        snprintf(e->reason_code, sizeof e->reason_code, "%s", o->reason_code ? o->reason_code : "");
        snprintf(e->reason_field, sizeof e->reason_field, "%s", o->reason_field ? o->reason_field : "");
        e->refusal = o->refusal;
    }
    return 1;
}

int rl_inbox_withdraw(rl_inbox *ib, int32_t id, rl_report *r)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e || !e->placed || e->report || !r) {
        rl_report_free(r);
        return 0;
    }
    e->placed = 0;
    e->report = r;
    ib->waiting_bytes += r->raw_len;
    e->placed_us = 0;
    char where[sizeof e->where];
    memcpy(where, e->where, sizeof where);
    snprintf(e->reason, sizeof e->reason, "withdrawn from \"%s\" by Undo", where);
    snprintf(e->reason_code, sizeof e->reason_code, "withdrawn");
    e->reason_field[0] = 0;
    e->refusal = 0;
    return 1;
}

int rl_inbox_placed_again(rl_inbox *ib, int32_t id)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e || e->placed || !e->report || strcmp(e->reason_code, "withdrawn") != 0)
        return 0;
    ib->waiting_bytes -= e->report->raw_len;
    rl_report_free(e->report);
    e->report = NULL;
    e->placed = 1;
    e->reason[0] = e->reason_code[0] = 0;
    return 1;
}

int rl_inbox_remove(rl_inbox *ib, int32_t id)
{
    for (size_t i = 0; i < ib->n; i++)
        if (ib->entries[i].id == id) {
            drop_at(ib, i);
            return 1;
        }
    return 0;
}

size_t rl_inbox_waiting(const rl_inbox *ib)
{
    size_t n = 0;
    for (size_t i = 0; i < ib->n; i++)
        n += !ib->entries[i].placed;
    return n;
}

void rl_inbox_docx_fetching(rl_inbox *ib, int32_t id, uint64_t fetch)
{
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    if (!e || !fetch)
        return;
    e->docx_state = RL_INBOX_DOCX_FETCHING;
    e->docx_fetch = fetch;
    e->docx_error[0] = 0;
}

int32_t rl_inbox_docx_done(rl_inbox *ib, uint64_t fetch, unsigned char *bytes, size_t len,
                           const char *error, const char *full_error)
{
    size_t at = ib->n;
    for (size_t i = 0; i < ib->n && fetch; i++)
        if (ib->entries[i].docx_fetch == fetch && ib->entries[i].docx_state == RL_INBOX_DOCX_FETCHING)
            at = i;
    if (at == ib->n) {
        free(bytes);
        return 0;
    }
    int32_t id = ib->entries[at].id;
    if (bytes) {
        /* Room for the document: the oldest placed entries go first; a
         * waiting report is never dropped for a document. */
        for (size_t i = 0; i < ib->n && ib->waiting_bytes + ib->docx_bytes + len > RL_INBOX_MAX_BYTES;) {
            if (ib->entries[i].placed && ib->entries[i].id != id)
                drop_at(ib, i);
            else
                i++;
        }
        if (ib->waiting_bytes + ib->docx_bytes + len > RL_INBOX_MAX_BYTES) {
            free(bytes);
            bytes = NULL;
            error = full_error;
        }
    }
    rl_inbox_entry *e = rl_inbox_find(ib, id);
    e->docx_fetch = 0;
    if (bytes) {
        e->docx = bytes;
        e->docx_len = len;
        ib->docx_bytes += len;
        e->docx_state = RL_INBOX_DOCX_READY;
        e->docx_error[0] = 0;
    } else {
        e->docx_state = RL_INBOX_DOCX_FAILED;
        snprintf(e->docx_error, sizeof e->docx_error, "%s", error ? error : "");
    }
    return id;
}
