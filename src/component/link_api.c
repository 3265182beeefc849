/* link_api.c - the XReportLink methods of org.reportlink.ReportLink and
 * the class table that gives them to UNO (rlc_link_class).
 *
 * Threads: each method runs on whatever thread calls it, and never waits
 * for the network: commands to the client only queue work (link_client.c),
 * getStatus reads its snapshot. What must happen on the main thread -
 * applyReport, placeInboxEntry, replaceInboxEntry, newLetterForInboxEntry -
 * runs there directly when called there; from another thread it is handed
 * over and waited for, at most RLC_APPLY_TIMEOUT_MS. compareInboxEntry and
 * openInboxDocx use a Writer layer of their own (l->writer is the main
 * thread's). The inbox, the client and the registry are read and changed
 * under l->lock, never held while calling UNO or waiting.
 *
 * Ownership: what a method returns is its caller's (UNO's rules); a
 * listener added is held by the registry (link_events.c). Buffers that
 * held the doctor's key are wiped. */
#include "link_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RLC_APPLY_TIMEOUT_MS   10000  /* applyReport from another thread waits this long */

static void throw_no_client(report_link *l, uno_Any **exc)
{
    char why[RL_MAX_DETAIL];
    pthread_mutex_lock(&l->lock);
    snprintf(why, sizeof why, "%s", l->client_error);
    pthread_mutex_unlock(&l->lock);
    rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface, "ReportLink cannot connect: %s", why);
}

static void connect(rl_uno_object *self, uno_Any **exc)
{
    report_link *l = rlc__link_of(self);
    int rc, client = rlc__ensure_client(l);     /* reads the key when it makes the client */
    /* The keyring may still be looking for the key (just after the start, or
     * while the doctor unlocks it): then connect as soon as it comes. */
    if (client == 0 && rlc__wait_for_key(l, "connect"))
        return;
    pthread_mutex_lock(&l->lock);
    int has_key = l->has_key;
    pthread_mutex_unlock(&l->lock);
    if (client == 0 && !has_key) {
        /* Never dial out without a key (the default address is on the internet):
         * the sidebar and the menu open Tools > Options > ReportLink instead. */
        rl_log("no doctor key: not connecting; enter it in Tools > Options > ReportLink");
        return;
    }
    if (client != 0)
        throw_no_client(l, exc);
    else if ((rc = rlc__with_client(l, rl_client_connect)) != RL_OK)
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface,
                     "the connection refused the command (error %d)", rc);
}

static void disconnect(rl_uno_object *self, uno_Any **exc)
{
    rlc__with_client(rlc__link_of(self), rl_client_disconnect);
}

static void get_status(rl_uno_object *self, uno_Any **exc, rl_uno_ReportStatus *ret)
{
    report_link *l = rlc__link_of(self);
    rlc__ensure_client(l);
    rlc__fill_status(l, ret, NULL);
}

static void set_doctor_key(rl_uno_object *self, uno_Any **exc, rtl_uString *arg)
{
    report_link *l = rlc__link_of(self);
    char key[RL_MAX_KEY];

    if (rl_uno_str_utf8(arg, key, sizeof key) < 0) {
        rl_os_wipe(key, sizeof key);
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "the key is longer than %d bytes",
                                      RL_MAX_KEY - 1);
        return;
    }
    /* In force at once; the keyring thread stores it (or forgets the old
     * one) and then tells the sidebar where it went (keystore.c). */
    rlc_key_set(key);
    rl_log("doctor key %s", key[0] ? "set" : "removed");
    rlc__ensure_client(l);
    pthread_mutex_lock(&l->lock);
    if (l->client)
        rl_client_set_key(l->client, key);
    l->has_key = key[0] != '\0';
    pthread_mutex_unlock(&l->lock);
    rl_os_wipe(key, sizeof key);
    /* The sidebar says whether a key is there: tell it now, whatever the
     * connection does next. */
    rlc__announce_status(l);
}

static void apply_report(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret, rtl_uString *message)
{
    report_link *l = rlc__link_of(self);
    char reason[RL_MAX_DETAIL];
    rl_event_kind kind;
    rl_report *report = NULL;
    char *server_message = NULL;
    int code, filled;
    size_t len;

    char *text = rl_uno_str_dup_utf8(message, RL_MAX_MESSAGE_BYTES, &len);
    if (!text) {
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0,
                                      "the message exceeds %u bytes of UTF-8", RL_MAX_MESSAGE_BYTES);
        return;
    }
    int rc = rl_validate_message(text, len, &kind, &report, &code, &server_message, reason, sizeof reason);
    free(text);
    free(server_message);
    if (rc != RL_OK) {
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "%s", reason);
        return;
    }
    if (!report) {
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "not a report_ready message");
        return;
    }
    if (rlc_handover_on_main(l->handover)) {
        filled = rlc__receive_report(l, report, NULL);
    } else if ((filled = rlc_handover_apply(l->handover, report, 0, 0, RLC_APPLY_TIMEOUT_MS)) < 0) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface,
                     "the office's main thread did not take the report within %d ms",
                     RLC_APPLY_TIMEOUT_MS);
        return;
    }
    *ret = filled;
}

/* ISO 8601 local time. */
static void iso_time(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void get_inbox(rl_uno_object *self, uno_Any **exc, uno_Sequence **ret)
{
    report_link *l = rlc__link_of(self);
    rl_uno_InboxEntry *items;
    size_t n;

    pthread_mutex_lock(&l->lock);
    n = l->inbox->n;
    items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++) {
        const rl_inbox_entry *e = &l->inbox->entries[i];
        char when[32];
        iso_time(e->received_at, when, sizeof when);
        items[i].Id = e->id;
        items[i].ReceivedAt = rl_uno_str(when);
        items[i].Summary = rl_uno_str(e->summary);
        items[i].Status = rl_uno_str(e->placed ? "placed" : "waiting");
        items[i].Where = rl_uno_str(e->where);
        items[i].Reason = rl_uno_str(e->reason);
        items[i].ReasonCode = rl_uno_str(e->placed ? "" : e->reason_code);
        items[i].FieldsFilled = e->fields_filled;
        items[i].ReceivedMonoUs = e->received_us;
        items[i].PlacedMonoUs = e->placed_us;
        items[i].PlaceCostUs = e->place_cost_us;
        static const char *const docx_states[] = { "none", "fetching", "ready", "failed" };
        items[i].DocxState = rl_uno_str(docx_states[e->docx_state]);
        items[i].DocxError = rl_uno_str(e->docx_error);
        items[i].ReasonField = rl_uno_str(e->placed ? "" : e->reason_field);
    }
    pthread_mutex_unlock(&l->lock);
    uno_Sequence *seq = items ? rl_uno_seq(RL_UNO_T_seq_InboxEntry, items, (sal_Int32)n) : NULL;
    for (size_t i = 0; items && i < n; i++)
        rl_uno_destruct(&items[i], RL_UNO_T_InboxEntry);
    free(items);
    if (!seq) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface, "out of memory");
        return;
    }
    *ret = seq;
}

/* placeInboxEntry and replaceInboxEntry: on the main thread, whichever
 * thread asked. */
static void place_on_request(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret, sal_Int32 id, unsigned flags)
{
    report_link *l = rlc__link_of(self);
    int filled;

    if (rlc_handover_on_main(l->handover))
        filled = rlc__place_entry(l, id, 0, flags);
    else if ((filled = rlc_handover_apply(l->handover, NULL, id, flags, RLC_APPLY_TIMEOUT_MS)) < -1) {
        filled = 0;
    }
    if (filled == -1) {
        /* -1 is both "no such entry" and a hand-over timeout: tell them apart. */
        pthread_mutex_lock(&l->lock);
        int exists = rl_inbox_find(l->inbox, id) != NULL;
        pthread_mutex_unlock(&l->lock);
        if (exists)
            rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface,
                         "the office's main thread did not take the request within %d ms",
                         RLC_APPLY_TIMEOUT_MS);
        else
            rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "no inbox entry %d", (int)id);
        return;
    }
    *ret = filled;
}

static void place_inbox_entry(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret, sal_Int32 id)
{
    place_on_request(self, exc, ret, id, 0);
}

static void replace_inbox_entry(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret, sal_Int32 id)
{
    place_on_request(self, exc, ret, id, RL_WRITER_REPLACE);
}

static void new_letter_for_inbox_entry(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret, sal_Int32 id)
{
    place_on_request(self, exc, ret, id, RL_WRITER_NEW_LETTER);
}

static void discard_inbox_entry(rl_uno_object *self, uno_Any **exc, sal_Int32 id)
{
    report_link *l = rlc__link_of(self);
    pthread_mutex_lock(&l->lock);
    int removed = rl_inbox_remove(l->inbox, id);
    pthread_mutex_unlock(&l->lock);
    if (!removed)
        return;
    rl_log("report %d discarded", (int)id);
    if (rlc_handover_on_main(l->handover)) {
        rlc__notify_inbox_changed(l, id);
    } else {
        rlc_item item = { .kind = RLC_ITEM_INBOX_CHANGED, .entry_id = id };
        rlc_handover_post(l->handover, &item);
    }
}

/* compareInboxEntry: from any thread, like openInboxDocx: it only reads the
 * letter, with a Writer layer of its own, and a copy of the waiting report
 * (made again from its raw message), so the entry may go meanwhile. */
static void compare_inbox_entry(rl_uno_object *self, uno_Any **exc, uno_Sequence **ret, sal_Int32 id)
{
    report_link *l = rlc__link_of(self);
    char *raw = NULL;
    size_t raw_len = 0;
    int exists = 0;

    pthread_mutex_lock(&l->lock);
    rl_inbox_entry *e = rl_inbox_find(l->inbox, id);
    if (e) {
        exists = 1;
        if (e->report && e->report->raw && (raw = malloc(e->report->raw_len)) != NULL) {
            memcpy(raw, e->report->raw, e->report->raw_len);
            raw_len = e->report->raw_len;
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (!exists || !raw) {
        free(raw);
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "inbox entry %d %s", (int)id,
                                      exists ? "is not waiting" : "does not exist");
        return;
    }
    rl_event_kind kind;
    rl_report *r = NULL;
    int code = 0;
    char *message = NULL, why[RL_MAX_DETAIL];
    int valid = rl_validate_message(raw, raw_len, &kind, &r, &code, &message, why, sizeof why) == RL_OK;
    free(raw);
    free(message);

    rl_uno_err err;
    rl_field_change *changes = NULL;
    size_t n = 0;
    rl_placement_result res;
    rl_writer *w = valid && r ? rl_writer_create(l->ctx, "", &err) : NULL;
    if (w)
        rl_writer_compare(w, NULL, r, &l->fields, &changes, &n, &res);   /* none: empty */
    rl_writer_destroy(w);
    rl_report_free(r);

    rl_uno_FieldChange *items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++) {
        items[i].Bookmark = rl_uno_str(changes[i].bookmark);
        items[i].InLetter = rl_uno_str(changes[i].in_letter ? changes[i].in_letter : "");
        items[i].InReport = rl_uno_str(changes[i].in_report ? changes[i].in_report : "");
        items[i].Changed = changes[i].changed ? 1 : 0;
    }
    rl_writer_free_changes(changes, n);
    uno_Sequence *seq = items ? rl_uno_seq(RL_UNO_T_seq_FieldChange, items, (sal_Int32)n) : NULL;
    for (size_t i = 0; items && i < n; i++)
        rl_uno_destruct(&items[i], RL_UNO_T_FieldChange);
    free(items);
    if (!seq) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface, "out of memory");
        return;
    }
    *ret = seq;
}

static void open_inbox_docx(rl_uno_object *self, uno_Any **exc, sal_Int32 id)
{
    report_link *l = rlc__link_of(self);
    unsigned char *copy = NULL;
    size_t len = 0;
    int exists = 0, state = RL_INBOX_DOCX_NONE;
    rl_uno_err err;

    /* A copy, so that the entry may be discarded while LibreOffice reads. */
    pthread_mutex_lock(&l->lock);
    rl_inbox_entry *e = rl_inbox_find(l->inbox, id);
    if (e) {
        exists = 1;
        state = e->docx_state;
        if (state == RL_INBOX_DOCX_READY && (copy = malloc(e->docx_len))) {
            memcpy(copy, e->docx, e->docx_len);
            len = e->docx_len;
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (!exists) {
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "no inbox entry %d", (int)id);
        return;
    }
    if (state != RL_INBOX_DOCX_READY || !copy) {
        static const char *const why[] = { "its report has no DOCX", "its DOCX is still being "
                                           "downloaded", "out of memory", "its DOCX could not be "
                                           "downloaded" };
        rl_uno_throw_illegal_argument(exc, &l->obj.iface, 0, "inbox entry %d has no DOCX to open: "
                                      "%s", (int)id, why[state]);
        return;
    }
    /* A Writer layer of its own: l->writer belongs to the main thread, and
     * this method may be called from any thread (opening a document is safe
     * from any thread in UNO; it takes the office's lock). */
    rl_writer *w = rl_writer_create(l->ctx, "", &err);
    int rc = w ? rl_writer_open_docx(w, copy, len, &err) : err.code;
    rl_writer_destroy(w);
    free(copy);
    if (rc != RL_OK)
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface,
                     "LibreOffice could not open the DOCX of entry %d: %s", (int)id, err.message);
    else
        rl_log("report %d: its DOCX was opened as a new document", (int)id);
}

static void add_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *who)
{
    report_link *l = rlc__link_of(self);
    uno_Interface *ref = rl_uno_query(who, RL_UNO_T_XReportLinkListener);
    uno_Interface *identity = rl_uno_query(ref, RL_UNO_T_XInterface);
    int added = 0, full = 0;

    if (ref && identity) {   /* a null listener is ignored, as UNO broadcasters do */
        pthread_mutex_lock(&l->lock);
        if (!l->shut_down && l->n_listeners < RLC_MAX_LISTENERS) {
            l->listeners[l->n_listeners].ref = ref;
            l->listeners[l->n_listeners].identity = identity;
            l->n_listeners++;
            added = 1;
        } else {
            full = !l->shut_down;   /* after shutdown: nothing will ever be told */
        }
        pthread_mutex_unlock(&l->lock);
    }
    if (added)
        return;
    rl_uno_release(ref);
    rl_uno_release(identity);
    if (full)
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &l->obj.iface, "more than %d listeners",
                     RLC_MAX_LISTENERS);
}

static void remove_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *who)
{
    report_link *l = rlc__link_of(self);
    uno_Interface *identity = rl_uno_query(who, RL_UNO_T_XInterface);
    uno_Interface *ref = NULL;

    if (!identity)
        return;
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < l->n_listeners; i++) {
        if (l->listeners[i].identity == identity) {
            ref = l->listeners[i].ref;
            break;
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (ref)
        rlc__drop_listener(l, ref);
    rl_uno_release(identity);
}

static const char *const link_services[] = { RLC_IMPL_LINK, NULL };
static const int link_interfaces[] = { RL_UNO_T_XReportLink, -1 };
/* The dispatcher's entries: each unpacks the arguments with the IDL's types
 * (build/gen/rl_uno_api.h) and calls the function above. */
RL_UNO_SKELETON_XReportLink_connect(m_connect, connect)
RL_UNO_SKELETON_XReportLink_disconnect(m_disconnect, disconnect)
RL_UNO_SKELETON_XReportLink_getStatus(m_get_status, get_status)
RL_UNO_SKELETON_XReportLink_setDoctorKey(m_set_doctor_key, set_doctor_key)
RL_UNO_SKELETON_XReportLink_applyReport(m_apply_report, apply_report)
RL_UNO_SKELETON_XReportLink_getInbox(m_get_inbox, get_inbox)
RL_UNO_SKELETON_XReportLink_placeInboxEntry(m_place_inbox_entry, place_inbox_entry)
RL_UNO_SKELETON_XReportLink_replaceInboxEntry(m_replace_inbox_entry, replace_inbox_entry)
RL_UNO_SKELETON_XReportLink_compareInboxEntry(m_compare_inbox_entry, compare_inbox_entry)
RL_UNO_SKELETON_XReportLink_newLetterForInboxEntry(m_new_letter_for_inbox_entry, new_letter_for_inbox_entry)
RL_UNO_SKELETON_XReportLink_discardInboxEntry(m_discard_inbox_entry, discard_inbox_entry)
RL_UNO_SKELETON_XReportLink_openInboxDocx(m_open_inbox_docx, open_inbox_docx)
RL_UNO_SKELETON_XReportLink_addListener(m_add_listener, add_listener)
RL_UNO_SKELETON_XReportLink_removeListener(m_remove_listener, remove_listener)

static const rl_uno_method link_methods[] = {
    { RL_UNO_MN_XReportLink_connect, m_connect },
    { RL_UNO_MN_XReportLink_disconnect, m_disconnect },
    { RL_UNO_MN_XReportLink_getStatus, m_get_status },
    { RL_UNO_MN_XReportLink_setDoctorKey, m_set_doctor_key },
    { RL_UNO_MN_XReportLink_applyReport, m_apply_report },
    { RL_UNO_MN_XReportLink_getInbox, m_get_inbox },
    { RL_UNO_MN_XReportLink_placeInboxEntry, m_place_inbox_entry },
    { RL_UNO_MN_XReportLink_replaceInboxEntry, m_replace_inbox_entry },
    { RL_UNO_MN_XReportLink_compareInboxEntry, m_compare_inbox_entry },
    { RL_UNO_MN_XReportLink_newLetterForInboxEntry, m_new_letter_for_inbox_entry },
    { RL_UNO_MN_XReportLink_discardInboxEntry, m_discard_inbox_entry },
    { RL_UNO_MN_XReportLink_openInboxDocx, m_open_inbox_docx },
    { RL_UNO_MN_XReportLink_addListener, m_add_listener },
    { RL_UNO_MN_XReportLink_removeListener, m_remove_listener },
    { NULL, NULL }
};
const rl_uno_class rlc_link_class = {
    RLC_IMPL_LINK, link_services, link_interfaces, link_methods, rlc__link_destroy
};
