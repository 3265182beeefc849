/* link_events.c - from the core to the listeners: core events on the
 * network thread, the hand-over's deliveries on the main thread, the status
 * snapshot, the listener registry and what it is told.
 *
 * Threads: rlc__on_core_event runs on the network thread and never waits
 * for the main thread: it writes each report to the spool (link_spool.c),
 * then posts state changes, reports and DOCX outcomes to the hand-over.
 * rlc__deliver, rlc__lost and the notifications run on the main thread;
 * rlc__fill_status on any (getStatus). addListener and removeListener
 * (link_api.c) change the registry from any thread.
 *
 * Locking: l->lock guards the registry (listeners, n_listeners). A
 * notification takes a snapshot of the listeners, each acquired, and calls
 * them with the lock released; a listener whose process is gone
 * (DisposedException) is dropped.
 *
 * Ownership: the registry holds a reference to each listener and to its
 * XInterface (what removeListener compares), released when it is dropped,
 * or at the office's exit after `disposing` (link.c). A delivered item's
 * report and DOCX are handed on: rlc__receive_report and rlc__docx_arrived
 * take them. */
#include "link_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ core events */

/* The network thread: logs, and hands state changes and reports over. */
void rlc__on_core_event(void *user, const rl_event *ev)
{
    client_tag *tag = user;
    rlc_item item;

    memset(&item, 0, sizeof item);
    item.gen = tag->gen;
    switch (ev->kind) {
    case RL_EVENT_STATE:
        rl_log("%s%s%s", rl_state_name(ev->state), ev->detail && ev->detail[0] ? ": " : "",
                ev->detail ? ev->detail : "");
        item.kind = RLC_ITEM_STATE;
        item.state = ev->state;
        item.attempt = ev->attempt;
        item.retry_in_ms = ev->retry_in_ms;
        snprintf(item.detail, sizeof item.detail, "%s", ev->detail ? ev->detail : "");
        rlc_handover_post(tag->l->handover, &item);
        break;
    case RL_EVENT_REPORT: {
        rl_log("report received (%zu fields)", ev->report->n_fields);
        rlc_debug_report("received", ev->report);
        item.kind = RLC_ITEM_REPORT;
        item.report = ev->report;
        /* On disk before anything else happens to it: a crash of the office
         * from here on (in the queue, during placement) does not lose it. The
         * fsync, which only a power cut needs, waits until the report is on
         * its way: the disk's latency stays out of the doctor's way. */
        int fd = rlc__spool_report_unsynced(tag->l, ev->report, time(NULL), item.spool, sizeof item.spool);
        if (rlc_handover_post(tag->l->handover, &item) != 0)
            rl_log(item.spool[0] ? "a report could not reach the main thread (queue full or closed); "
                                    "it is kept on disk and comes back at the next start"
                                  : "a report was lost: the queue to the main thread is full or closed");
        rlc__spool_sync(tag->l, fd);
        break;
    }
    case RL_EVENT_SERVER_ERROR:
        rl_log("the service reported error %d: %s", ev->code, ev->message ? ev->message : "");
        break;
    case RL_EVENT_REJECTED:
        rl_log("message rejected: %s", ev->reason ? ev->reason : "");
        break;
    case RL_EVENT_HEARTBEAT:
        break;
    case RL_EVENT_DOCX:
        item.kind = RLC_ITEM_DOCX;
        item.docx = ev->docx;
        if (rlc_handover_post(tag->l->handover, &item) != 0)
            rl_log("a document download's outcome was lost: the queue to the main thread is "
                    "full or closed");
        break;
    }
}

/* ------------------------------------------------------------------ status */

/* Fills *out (constructing its strings; the caller destructs it). ev, if
 * not NULL, is the state change being reported: its state wins over the
 * current snapshot. */
void rlc__fill_status(report_link *l, rl_uno_ReportStatus *out, const rlc_item *ev)
{
    rl_status st;
    int64_t now = rlc_now_ms();

    memset(&st, 0, sizeof st);
    st.last_rtt_ms = -1;
    pthread_mutex_lock(&l->lock);
    if (l->client) {
        rl_client_get_status(l->client, &st);
    } else {
        snprintf(st.detail, sizeof st.detail, "%s", l->client_error);
        snprintf(st.endpoint, sizeof st.endpoint, "%s", l->conn.endpoint);
    }
    out->InboxCount = (sal_Int32)l->inbox->n;
    out->WaitingCount = (sal_Int32)rl_inbox_waiting(l->inbox);
    out->HasKey = l->has_key ? 1 : 0;
    /* The server is the committed one, at once (the client takes it up on its
     * own thread a moment later); an error of another address is not this
     * one's, so it is not shown beside it. */
    if (l->conn.endpoint[0] && strcmp(st.endpoint, l->conn.endpoint) != 0) {
        snprintf(st.endpoint, sizeof st.endpoint, "%s", l->conn.endpoint);
        st.last_error[0] = 0;
        st.last_error_kind = 0;
        st.last_close_code = 0;
        st.last_error_ms = 0;
    }
    pthread_mutex_unlock(&l->lock);

    if (ev) {
        st.state = ev->state;
        st.attempt = ev->attempt;
        st.retry_at_ms = ev->state == RL_STATE_BACKOFF ? now + ev->retry_in_ms : 0;
        snprintf(st.detail, sizeof st.detail, "%s", ev->detail);
    }
    out->State = rl_uno_str(rl_state_name(st.state));
    out->Detail = rl_uno_str(st.detail);
    out->Endpoint = rl_uno_str(st.endpoint);
    out->Attempt = (sal_Int32)st.attempt;
    out->NextRetryMs = st.retry_at_ms > now ? st.retry_at_ms - now : 0;
    out->LastError = rl_uno_str(st.last_error);
    out->LastErrorKind = rl_uno_str(rl_error_kind_name(st.last_error_kind));
    out->LastCloseCode = st.last_close_code;
    out->LastErrorMs = st.last_error_ms > 0 && st.last_error[0] ? now - st.last_error_ms : -1;
    out->ReportsReceived = (sal_Int64)st.reports_received;
    out->LastHeartbeatMs = st.last_pong_ms > 0 ? now - st.last_pong_ms : -1;
    out->LastRoundTripMs = st.last_rtt_ms >= 0 ? (sal_Int32)st.last_rtt_ms : -1;
}

/* ------------------------------------------------------------------ listeners (main thread) */

/* The listeners at this moment, each acquired; returns how many. */
static int snapshot_listeners(report_link *l, uno_Interface **out)
{
    pthread_mutex_lock(&l->lock);
    int n = l->n_listeners;
    for (int i = 0; i < n; i++) {
        out[i] = l->listeners[i].ref;
        rl_uno_acquire(out[i]);
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}

void rlc__drop_listener(report_link *l, uno_Interface *ref)
{
    listener gone = { NULL, NULL };
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < l->n_listeners; i++) {
        if (l->listeners[i].ref == ref) {
            gone = l->listeners[i];
            l->listeners[i] = l->listeners[--l->n_listeners];
            break;
        }
    }
    pthread_mutex_unlock(&l->lock);
    rl_uno_release(gone.ref);
    rl_uno_release(gone.identity);
}

/* After a failed call: a disposed listener is dropped, others are logged. */
static void listener_failed(report_link *l, uno_Interface *ref, const rl_uno_err *err)
{
    if (err->code == RL_ERR_UNO_EXCEPTION && strcmp(err->type, "com.sun.star.lang.DisposedException") == 0) {
        rlc__drop_listener(l, ref);
        return;
    }
    rl_log("a listener failed: %s", err->message);
}

static void notify_state(report_link *l, const rlc_item *ev)
{
    uno_Interface *targets[RLC_MAX_LISTENERS];
    rl_uno_ReportStatus status;
    rl_uno_err err;
    int n = snapshot_listeners(l, targets);

    if (n == 0)
        return;
    rlc__fill_status(l, &status, ev);
    for (int i = 0; i < n; i++) {
        if (rl_uno_XReportLinkListener_stateChanged(targets[i], &err, &status) != RL_OK)
            listener_failed(l, targets[i], &err);
        rl_uno_release(targets[i]);
    }
    rl_uno_destruct(&status, RL_UNO_T_ReportStatus);
}

void rlc__notify_inbox_changed(report_link *l, sal_Int32 id)
{
    uno_Interface *targets[RLC_MAX_LISTENERS];
    rl_uno_err err;
    int n = snapshot_listeners(l, targets);

    for (int i = 0; i < n; i++) {
        if (rl_uno_XReportLinkListener_inboxChanged(targets[i], &err, id) != RL_OK)
            listener_failed(l, targets[i], &err);
        rl_uno_release(targets[i]);
    }
}

void rlc__notify_report(report_link *l, sal_Int32 id, int placed, const char *where)
{
    uno_Interface *targets[RLC_MAX_LISTENERS];
    rl_uno_err err;
    int n = snapshot_listeners(l, targets);
    rtl_uString *w = rl_uno_str(where);

    for (int i = 0; i < n; i++) {
        if (rl_uno_XReportLinkListener_reportReceived(targets[i], &err, id, placed ? sal_True : sal_False,
                                                      w) != RL_OK)
            listener_failed(l, targets[i], &err);
        rl_uno_release(targets[i]);
    }
    rtl_uString_release(w);
}

/* ------------------------------------------------------------------ the hand-over (main thread) */

void rlc__deliver(void *user, rlc_item *item)
{
    report_link *l = user;
    switch (item->kind) {
    case RLC_ITEM_STATE: {
        pthread_mutex_lock(&l->lock);
        int current = item->gen == l->gen;
        pthread_mutex_unlock(&l->lock);
        if (current)
            notify_state(l, item);
        break;
    }
    case RLC_ITEM_REPORT:
        rlc__receive_report(l, item->report, item->spool);
        break;
    case RLC_ITEM_DOCX:
        rlc__docx_arrived(l, item->docx);
        break;
    case RLC_ITEM_APPLY:
        rlc_handover_apply_done(item->apply, item->report ? rlc__receive_report(l, item->report, NULL)
                                                          : rlc__place_entry(l, item->entry_id, 0,
                                                                             item->place_flags));
        break;
    case RLC_ITEM_INBOX_CHANGED:
        rlc__notify_inbox_changed(l, item->entry_id);
        break;
    }
}

void rlc__lost(void *user, unsigned lost_states, unsigned lost_reports)
{
    report_link *l = user;
    rl_log("the queue to the main thread overflowed: %u state changes and %u reports lost",
            lost_states, lost_reports);
    if (lost_states)
        notify_state(l, NULL);   /* listeners at least learn the current state */
}
