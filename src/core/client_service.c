/* client_service.c - the service thread: its loop, the libwebsockets
 * callback of the WebSocket (connection, handshake, receive, WRITEABLE,
 * close) and of the downloads, the state machine fed with what happens and
 * its actions carried out (open, close politely, abort, send the key and
 * pings), its one timer, and what the owner hears (events, the status
 * snapshot).
 *
 * Thread: the service thread only, but for the snapshot, which it writes
 * under status_lock for readers on any thread (rl_client_get_status). The
 * commands other threads queue are run from here (rl__drain_commands,
 * client.c). Ownership: everything in struct rl_client below "belongs to
 * the service thread" is this thread's; a report or DOCX handed to
 * rl__emit passes to the owner; the key is copied into a send buffer that
 * is wiped after the write. */
#include "client_internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- events */

void rl__emit(rl_client *c, rl_event *ev)
{
    if (c->on_event)
        c->on_event(c->user, ev);
    else if (ev->kind == RL_EVENT_REPORT)
        rl_report_free(ev->report);
    else if (ev->kind == RL_EVENT_DOCX)
        rl_docx_free(ev->docx);
}

void rl__publish_status(rl_client *c)
{
    const rl__fsm *f = &c->fsm;
    pthread_mutex_lock(&c->status_lock);
    rl_status *s = &c->status;
    s->state = f->state;
    s->attempt = f->attempt;
    s->retry_at_ms = f->state == RL_STATE_BACKOFF ? f->retry_at : 0;
    s->last_pong_ms = f->last_pong_at;
    s->last_rtt_ms = f->last_rtt_ms;
    s->reports_received = c->reports;
    s->messages_rejected = c->rejected;
    s->last_close_code = f->last_close_code;
    s->last_error_kind = f->last_error_kind;
    s->last_error_ms = f->last_error[0] ? f->last_error_at : 0;
    snprintf(s->detail, sizeof s->detail, "%s", f->detail);
    snprintf(s->last_error, sizeof s->last_error, "%s", f->last_error);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", c->url ? c->url : "");
    pthread_mutex_unlock(&c->status_lock);
}

static void emit_state(rl_client *c)
{
    rl_event ev = {0};
    ev.kind = RL_EVENT_STATE;
    ev.state = c->fsm.state;
    ev.attempt = c->fsm.attempt;
    ev.retry_in_ms = c->fsm.state == RL_STATE_BACKOFF ? c->fsm.retry_at - rl__now_ms(c) : 0;
    if (ev.retry_in_ms < 0)
        ev.retry_in_ms = 0;
    ev.detail = c->fsm.detail;
    rl__emit(c, &ev);
}

void rl__emit_rejected(rl_client *c, const char *reason)
{
    rl_event ev = {0};
    c->rejected++;
    ev.kind = RL_EVENT_REJECTED;
    ev.reason = reason;
    lwsl_user("reportlink: message rejected: %s\n", reason);
    rl__emit(c, &ev);
}

/* ----------------------------------------------------------------- links */

static void schedule(rl_client *c);

static void detach_link(rl_client *c, int polite_code)
{
    if (!c->wsi)
        return;
    if (polite_code) {
        if (c->closing)     /* never two polite closes at once: kill the older */
            lws_set_timeout(c->closing, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->closing = c->wsi;
        c->closing_gen = c->gen;
        c->closing_code = polite_code;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 2);   /* if the peer is mute */
        lws_callback_on_writable(c->wsi);
    } else {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    c->wsi = NULL;
    c->gen = 0;
    c->want_auth = c->want_ping = 0;
    rl__drop_rx(c);
}

static void apply(rl_client *c, const rl__output *out)
{
    if (out->actions & RL__ACT_ABORT)
        detach_link(c, 0);
    if (out->actions & RL__ACT_CLOSE)
        detach_link(c, out->close_code ? out->close_code : 1000);
    if (out->actions & RL__ACT_OPEN) {
        if (c->draining)
            c->open_deferred = 1;
        else
            rl__open_link(c);
    }
    if ((out->actions & (RL__ACT_SEND_AUTH | RL__ACT_SEND_PING)) && c->wsi) {
        if (out->actions & RL__ACT_SEND_AUTH)
            c->want_auth = 1;
        if (out->actions & RL__ACT_SEND_PING)
            c->want_ping = 1;
        lws_callback_on_writable(c->wsi);
    }
}

/* Feeds one input to the state machine and carries out what it says. Inputs
 * raised while doing so (a connection attempt that fails at once) are queued
 * and handled in order, so the machine never runs re-entrantly. */
void rl__feed(rl_client *c, rl__input_kind kind, int code, int by_server, const char *text)
{
    if (c->n_pending == RL__PENDING_INPUTS) {
        lwsl_err("reportlink: internal input queue full, input %d dropped\n", (int)kind);
        return;
    }
    pending_input *p = &c->pending[c->n_pending++];
    memset(p, 0, sizeof *p);
    p->in.kind = kind;
    p->in.code = code;
    p->in.by_server = by_server;
    if (text) {
        snprintf(p->text, sizeof p->text, "%s", text);
        p->in.text = p->text;
    }
    if (c->stepping)
        return;

    c->stepping = 1;
    while (c->n_pending) {
        pending_input cur = c->pending[0];
        cur.in.text = cur.in.text ? cur.text : NULL;
        memmove(c->pending, c->pending + 1, (c->n_pending - 1) * sizeof c->pending[0]);
        c->n_pending--;

        rl__output out;
        rl_state before = c->fsm.state;
        rl__fsm_step(&c->fsm, &cur.in, rl__now_ms(c), &out);
        rl__publish_status(c);
        if (out.state_changed) {
            if (c->fsm.state != before)
                lwsl_user("reportlink: %s: %s\n", rl_state_name(c->fsm.state), c->fsm.detail);
            emit_state(c);
        }
        apply(c, &out);
        if (cur.in.kind == RL__IN_PONG && c->fsm.last_rtt_ms >= 0) {
            rl_event ev = {0};
            ev.kind = RL_EVENT_HEARTBEAT;
            ev.rtt_ms = c->fsm.last_rtt_ms;
            rl__emit(c, &ev);
        }
    }
    c->stepping = 0;
    schedule(c);
}

/* ---------------------------------------------------------------- timers */

static void on_timer(lws_sorted_usec_list_t *sul)
{
    rl_client *c = lws_container_of(sul, rl_client, sul);
    c->sul_at = 0;
    rl__feed(c, RL__IN_TIMER, 0, 0, NULL);
}

/* Arms the one timer for the state machine's next deadline: between pings
 * an idle client wakes only when there is something to do. */
static void schedule(rl_client *c)
{
    int64_t at = rl__fsm_next_deadline(&c->fsm);
    if (at == c->sul_at)
        return;
    c->sul_at = at;
    if (!at) {
        lws_sul_schedule(c->ctx, 0, &c->sul, on_timer, LWS_SET_TIMER_USEC_CANCEL);
        return;
    }
    int64_t delta = at - rl__now_ms(c);
    if (delta < 0)
        delta = 0;
    lws_sul_schedule(c->ctx, 0, &c->sul, on_timer, (lws_usec_t)delta * LWS_US_PER_MS + 1000);
}

/* --------------------------------------------------------------- sending */

/* Writes "{"doctor_key":"<escaped key>"}" into out (LWS_PRE bytes reserved
 * before it by the caller). Returns its length, or 0 if it does not fit. */
static size_t auth_message(const char *key, char *out, size_t cap)
{
    static const char head[] = "{\"doctor_key\":\"";
    size_t n = 0;
    if (cap < sizeof head + 3)
        return 0;
    memcpy(out, head, sizeof head - 1);
    n = sizeof head - 1;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (n + 8 >= cap)
            return 0;
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    out[n++] = '}';
    return n;
}

static int on_writeable(rl_client *c, struct lws *wsi)
{
    if (c->refuse_closing) {
        /* A refused message (rl__on_receive): the close frame goes now. */
        lws_close_reason(wsi, (enum lws_close_status)c->refuse_code,
                         (unsigned char *)c->refuse_text, strlen(c->refuse_text));
        return -1;
    }
    if (c->want_auth) {
        size_t cap = LWS_PRE + RL_MAX_KEY * 6 + 32;
        char *buf = malloc(cap);
        if (!buf)
            return -1;
        size_t n = auth_message(c->key ? c->key : "", buf + LWS_PRE, cap - LWS_PRE);
        int w = n ? lws_write(wsi, (unsigned char *)buf + LWS_PRE, n, LWS_WRITE_TEXT) : -1;
        rl_os_wipe(buf, cap);
        free(buf);
        c->want_auth = 0;
        if (w < (int)n || !n)
            return -1;
    } else if (c->want_ping) {
        unsigned char buf[LWS_PRE + 4];
        memcpy(buf + LWS_PRE, "ping", 4);
        c->want_ping = 0;
        if (lws_write(wsi, buf + LWS_PRE, 4, LWS_WRITE_TEXT) < 4)
            return -1;
        c->ping_sent_us = rl_os_monotonic_us();
    }
    if (c->want_auth || c->want_ping)
        lws_callback_on_writable(wsi);
    return 0;
}

/* -------------------------------------------------------------- callback */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    rl_client *c = lws_context_user(lws_get_context(wsi));
    uintptr_t gen = wsi ? (uintptr_t)lws_get_opaque_user_data(wsi) : 0;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        rl__drain_commands(c);
        return 0;

    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
        rl__tls_load_trust(c, user);
        return 0;

    default:
        break;
    }

    if (wsi && wsi == c->closing) {
        if (reason == LWS_CALLBACK_CLIENT_WRITEABLE) {
            lws_close_reason(wsi, (enum lws_close_status)c->closing_code,
                             (unsigned char *)"bye", 3);
            return -1;
        }
        if (reason == LWS_CALLBACK_CLIENT_CLOSED || reason == LWS_CALLBACK_WSI_DESTROY ||
            reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR)
            c->closing = NULL;
        return 0;
    }
    if (!gen || gen != c->gen)
        return 0;   /* an old link: its end was already accounted for */

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        rl__tls_verify_result(c, len != 0, user);
        return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        c->wsi = NULL;
        c->gen = 0;
        rl__connect_error(c, in);
        break;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->wsi = wsi;
        rl__feed(c, RL__IN_ESTABLISHED, 0, 0, NULL);
        break;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        return rl__on_receive(c, wsi, in, len);

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(c, wsi);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return rl__on_peer_close(c, wsi, in, len);

    case LWS_CALLBACK_CLIENT_CLOSED:
        c->wsi = NULL;
        c->gen = 0;
        if (c->refuse_code)
            rl__feed(c, RL__IN_CLOSED, c->refuse_code, 0, c->refuse_text);
        else if (c->peer_close_code)
            rl__feed(c, RL__IN_CLOSED, c->peer_close_code, 1, c->peer_close_reason);
        else
            rl__feed(c, RL__IN_CLOSED, 1006, 0, NULL);
        break;

    default:
        break;
    }
    return 0;
}

void rl__emit_docx(void *user, rl_docx *d)
{
    rl_event ev = {0};
    ev.kind = RL_EVENT_DOCX;
    ev.docx = d;
    rl__emit(user, &ev);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    rl_client *c = lws_context_user(lws_get_context(wsi));
    return rl__fetch_callback(&c->fetcher, wsi, (int)reason, user, in, len);
}

const struct lws_protocols rl__protocols[] = {
    { "reportlink", callback, 0, 65536, 0, NULL, 0 },
    { RL__FETCH_PROTOCOL, http_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---------------------------------------------------------------- thread */

/* An idle connection costs wake-ups (issue #17, make bench row 4): our ping
 * timer, the pong, and libwebsockets' own 30 s timers (its header-table and
 * platform checks, which 4.1 arms by itself and offers no option against).
 * piggy_back_ping puts the ping on a wake-up that happens anyway: when the
 * thread is awake (libwebsockets' timer, a report, a command) and the next
 * ping is due within half an interval, the ping goes now. libwebsockets'
 * timers run every 30 s like the default ping, so after the first early ping
 * the ping rides on them. The pong would wake the thread once more:
 * await_pong keeps the thread awake for it where the network allows - when
 * the last round trip was short (a clinic's network, loopback) - so that the
 * ping and its pong take one wake-up.
 *
 * Pinging up to half an interval early is harmless: it is a heartbeat, and
 * the state machine still never sends a ping while one is outstanding. */
static void piggy_back_ping(rl_client *c)
{
    rl__fsm *f = &c->fsm;
    if (c->wsi && f->state == RL_STATE_CONNECTED && f->next_ping_at && !f->pong_deadline) {
        int64_t now = rl__now_ms(c);
        if (now < f->next_ping_at && now >= f->next_ping_at - f->cfg.ping_interval_ms / 2) {
            f->next_ping_at = now;
            rl__feed(c, RL__IN_TIMER, 0, 0, NULL);
        }
    }
}

/* Round trips up to PONG_AWAIT_MAX_US are awaited awake, for at most three
 * times the last one (the first ping: PONG_AWAIT_FIRST_US, to learn it):
 * non-blocking services and yields, at most 2 ms of CPU every ping interval
 * (30 s). A longer round trip (a distant service) is not waited for: the pong
 * wakes the thread as any message does. */
#define PONG_AWAIT_MAX_US   2000
#define PONG_AWAIT_FIRST_US 1000

static void await_pong(rl_client *c)
{
    int64_t sent = c->ping_sent_us, budget;
    if (!sent || !c->wsi || c->fsm.state != RL_STATE_CONNECTED || c->pong_rtt_us > PONG_AWAIT_MAX_US)
        return;
    budget = c->pong_rtt_us < 0 ? PONG_AWAIT_FIRST_US : 3 * c->pong_rtt_us;
    if (budget > PONG_AWAIT_MAX_US)
        budget = PONG_AWAIT_MAX_US;
    while (c->ping_sent_us == sent && c->wsi && rl_os_monotonic_us() - sent < budget) {
        if (lws_service(c->ctx, -1) < 0)     /* polls without waiting */
            return;
        sched_yield();
    }
}

void *rl__service_main(void *arg)
{
    rl_client *c = arg;
    rl__publish_status(c);
    while (!c->exit_loop || ((c->wsi || c->closing) && rl__now_ms(c) < c->exit_deadline)) {
        if (lws_service(c->ctx, 0) < 0)
            break;
        if (!c->exit_loop) {
            piggy_back_ping(c);
            await_pong(c);
        }
        if (c->exit_loop && !c->sul_at) {
            /* Make sure the loop wakes to notice the exit deadline. */
            lws_sul_schedule(c->ctx, 0, &c->sul, on_timer, 50 * LWS_US_PER_MS);
            c->sul_at = -1;
        }
    }
    return NULL;
}

