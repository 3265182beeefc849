/* client.c - the report-service client: libwebsockets, one service thread,
 * one command queue. Its threads, its links' generations and the struct they
 * share: client_internal.h. */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ------------------------------------------------------------------ time */

static int64_t default_clock(void *user)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t default_random(void *user)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)default_clock(NULL) * 2654435761u;   /* never expected */
    return r;
}

/* --------------------------------------------------------------- secrets */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

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

/* -------------------------------------------------------------- commands */

static int set_target(rl_client *c, const char *url)
{
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    free(c->url);
    c->url = copy;
    c->target_ok = rl__url_parse(url, &c->target, c->target_err, sizeof c->target_err) == RL_OK;
    if (c->target_ok)
        rl__fsm_set_endpoint(&c->fsm, &c->target);
    return RL_OK;
}

static void run_command(rl_client *c, command *cmd)
{
    switch (cmd->kind) {
    case CMD_CONNECT:
        rl__feed(c, RL__IN_CONNECT, 0, 0, NULL);
        break;
    case CMD_DISCONNECT:
        rl__feed(c, RL__IN_DISCONNECT, 0, 0, NULL);
        break;
    case CMD_SET_URL:
        if (!c->url || strcmp(c->url, cmd->text) != 0) {
            set_target(c, cmd->text);
            /* A failure belongs to its address: the new one has none yet. */
            c->fsm.last_error[0] = '\0';
            c->fsm.last_error_kind = RL_ERROR_NONE;
            c->fsm.last_error_at = 0;
            c->fsm.last_close_code = 0;
            rl__publish_status(c);
            rl__feed(c, RL__IN_RECONFIGURE, 0, 0, NULL);
        }
        free(cmd->text);
        break;
    case CMD_SET_KEY:
        if (!c->key || strcmp(c->key, cmd->text) != 0) {
            wipe_free(c->key);
            c->key = cmd->text;
            rl__feed(c, RL__IN_RECONFIGURE, 0, 0, NULL);
        } else {
            wipe_free(cmd->text);
        }
        break;
    case CMD_SET_PING:
        c->fsm.cfg.ping_interval_ms = cmd->value;
        break;
    case CMD_FETCH_DOCX:
        rl__fetch_start(&c->fetcher, cmd->id, cmd->text);
        free(cmd->text);
        break;
    case CMD_SHUTDOWN:
        rl__fetch_cancel_all(&c->fetcher);
        rl__feed(c, RL__IN_DISCONNECT, 0, 0, NULL);
        c->exit_loop = 1;
        c->exit_deadline = rl__now_ms(c) + RL__CLOSE_WAIT_MS;
        break;
    }
    cmd->text = NULL;
}

/* Runs every queued command. A link is opened once, after the last of them:
 * each URL or key change reconnects, and a burst of them would otherwise open
 * (and abort) one socket per command before libwebsockets gets a turn to free
 * any, until it refuses new sockets ("Too many fds"). */
static void drain_commands(rl_client *c)
{
    c->draining = 1;
    for (;;) {
        command cmd;
        pthread_mutex_lock(&c->lock);
        if (!c->q_len) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        cmd = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % RL_MAX_COMMANDS;
        c->q_len--;
        pthread_mutex_unlock(&c->lock);
        run_command(c, &cmd);
    }
    c->draining = 0;
    if (c->open_deferred) {
        c->open_deferred = 0;
        if (c->fsm.state == RL_STATE_CONNECTING && !c->wsi)
            rl__open_link(c);
    }
}

static int enqueue_id(rl_client *c, cmd_kind kind, char *text, int value, uint64_t id)
{
    int rc = RL_OK;
    pthread_mutex_lock(&c->lock);
    if (c->shutting_down && kind != CMD_SHUTDOWN) {
        rc = RL_ERR_STATE;
    } else if (c->q_len == RL_MAX_COMMANDS) {
        rc = RL_ERR_FULL;
    } else {
        command *cmd = &c->queue[(c->q_head + c->q_len) % RL_MAX_COMMANDS];
        cmd->kind = kind;
        cmd->text = text;
        cmd->value = value;
        cmd->id = id;
        c->q_len++;
        if (kind == CMD_SHUTDOWN)
            c->shutting_down = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == RL_OK)
        lws_cancel_service(c->ctx);
    return rc;
}

static int enqueue(rl_client *c, cmd_kind kind, char *text, int value)
{
    return enqueue_id(c, kind, text, value, 0);
}

/* --------------------------------------------------------------- sending */

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
        explicit_bzero(buf, cap);
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
        drain_commands(c);
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

static void emit_docx(void *user, rl_docx *d)
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

static const struct lws_protocols protocols[] = {
    { "reportlink", callback, 0, 65536, 0, NULL, 0 },
    { RL__FETCH_PROTOCOL, http_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---------------------------------------------------------------- thread */

static void *service_main(void *arg)
{
    rl_client *c = arg;
    rl__publish_status(c);
    while (!c->exit_loop || ((c->wsi || c->closing) && rl__now_ms(c) < c->exit_deadline)) {
        if (lws_service(c->ctx, 0) < 0)
            break;
        if (c->exit_loop && !c->sul_at) {
            /* Make sure the loop wakes to notice the exit deadline. */
            lws_sul_schedule(c->ctx, 0, &c->sul, on_timer, 50 * LWS_US_PER_MS);
            c->sul_at = -1;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ API */

rl_client *rl_client_create(const rl_client_config *cfg, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    rl_client *c = calloc(1, sizeof *c);
    rl__url probe;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!cfg->url || rl__url_parse(cfg->url, &probe, err, errlen) != RL_OK)
        goto fail_early;
    if (cfg->key && strlen(cfg->key) >= RL_MAX_KEY) {
        snprintf(err, errlen, "the doctor key is too long");
        goto fail_early;
    }
    c->on_event = cfg->on_event;
    c->user = cfg->user;
    c->clock = cfg->clock ? cfg->clock : default_clock;
    c->random = cfg->random ? cfg->random : default_random;
    c->clock_user = cfg->clock_user;
    c->no_docx = cfg->no_docx;
    rl_buf_init(&c->rx, RL_MAX_MESSAGE_BYTES);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->status_lock, NULL);

    rl__fsm_config fc = {
        .ping_interval_ms = cfg->ping_interval_ms,
        .pong_timeout_ms = cfg->pong_timeout_ms,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .backoff_base_ms = cfg->backoff_base_ms,
        .backoff_cap_ms = cfg->backoff_cap_ms,
    };
    rl__fsm_init(&c->fsm, &fc, c->random, c->clock_user);
    if ((cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file))) ||
        set_target(c, cfg->url) != RL_OK || !(c->key = strdup(cfg->key ? cfg->key : ""))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = c;
    info.fd_limit_per_thread = 8 + RL_MAX_FETCHES;   /* the link, a closing one, downloads */
    /* lws' own limit for DNS + TCP + TLS + upgrade; our state machine has its
     * own connect deadline as well. */
    info.timeout_secs = (unsigned)(c->fsm.cfg.connect_timeout_ms / 1000 + 1);
    /* ... and it would cut a slow DOCX answer short: fetch.c has its own
     * RL_DOCX_TIMEOUT_MS deadline, which must be the one that decides. */
    if (info.timeout_secs < RL_DOCX_TIMEOUT_MS / 1000 + 5)
        info.timeout_secs = RL_DOCX_TIMEOUT_MS / 1000 + 5;
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        goto fail;
    }
    if (rl__fetch_init(&c->fetcher, c->ctx, emit_docx, c) != RL_OK) {
        snprintf(err, errlen, "out of memory");
        lws_context_destroy(c->ctx);
        goto fail;
    }
    if (cfg->autostart) {
        command *cmd = &c->queue[0];
        cmd->kind = CMD_CONNECT;
        c->q_len = 1;
    }
    if (pthread_create(&c->thread, NULL, service_main, c) != 0) {
        snprintf(err, errlen, "cannot start the network thread");
        lws_context_destroy(c->ctx);
        rl__fetch_free(&c->fetcher);
        goto fail;
    }
    if (cfg->autostart)
        lws_cancel_service(c->ctx);
    return c;

fail:
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->status_lock);
    free(c->ca_file);
    free(c->url);
    wipe_free(c->key);
fail_early:
    free(c);
    return NULL;
}

void rl_client_destroy(rl_client *c)
{
    if (!c)
        return;
    while (enqueue(c, CMD_SHUTDOWN, NULL, 0) == RL_ERR_FULL) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    pthread_join(c->thread, NULL);
    lws_context_destroy(c->ctx);
    rl__fetch_free(&c->fetcher);
    for (unsigned i = 0; i < c->q_len; i++) {
        command *cmd = &c->queue[(c->q_head + i) % RL_MAX_COMMANDS];
        if (cmd->kind == CMD_SET_KEY)
            wipe_free(cmd->text);
        else
            free(cmd->text);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->status_lock);
    rl_buf_free(&c->rx);
    free(c->ca_file);
    free(c->url);
    wipe_free(c->key);
    free(c);
}

int rl_client_connect(rl_client *c)
{
    return enqueue(c, CMD_CONNECT, NULL, 0);
}

int rl_client_disconnect(rl_client *c)
{
    return enqueue(c, CMD_DISCONNECT, NULL, 0);
}

int rl_client_set_url(rl_client *c, const char *url)
{
    rl__url probe;
    if (!url || rl__url_parse(url, &probe, NULL, 0) != RL_OK)
        return RL_ERR_INVALID;
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    int rc = enqueue(c, CMD_SET_URL, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

int rl_client_set_key(rl_client *c, const char *key)
{
    if (!key || strlen(key) >= RL_MAX_KEY)
        return RL_ERR_INVALID;
    char *copy = strdup(key);
    if (!copy)
        return RL_ERR_NOMEM;
    int rc = enqueue(c, CMD_SET_KEY, copy, 0);
    if (rc)
        wipe_free(copy);
    return rc;
}

int rl_client_set_ping_interval(rl_client *c, int ms)
{
    if (ms < 100)
        return RL_ERR_INVALID;
    return enqueue(c, CMD_SET_PING, NULL, ms);
}

int rl_client_fetch_docx(rl_client *c, const char *url, uint64_t *id_out)
{
    if (!url || !id_out)
        return RL_ERR_INVALID;
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    uint64_t id = atomic_fetch_add(&c->next_fetch_id, 1) + 1;
    int rc = enqueue_id(c, CMD_FETCH_DOCX, copy, 0, id);
    if (rc)
        free(copy);
    else
        *id_out = id;
    return rc;
}

void rl_client_get_status(rl_client *c, rl_status *out)
{
    pthread_mutex_lock(&c->status_lock);
    *out = c->status;
    pthread_mutex_unlock(&c->status_lock);
}
