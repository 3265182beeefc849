/*
 * ws.c - the report service's WebSocket endpoint, /reports/ws: the upgrade
 * check, authentication by the first message, ping/pong, writing a
 * connection's queue in frames, the authentication and demo timers, and the
 * connection list.
 */
#include "server_internal.h"
#include "report.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DS_MAX_CLIENT_MESSAGE  (64u * 1024u)  /* bytes kept of a client message */
#define DS_MAX_CONNECTIONS     256            /* WebSocket connections at once */
#define DS_WS_CHUNK            (64u * 1024u)  /* payload per frame on the wire */

static void send_demo(ws_conn *c)
{
    char *json = ds_report_demo_json(ds_srv.demo_counter++), *msg = NULL;
    cJSON *report = json ? cJSON_Parse(json) : NULL;
    size_t msg_len = 0;

    if (report)
        msg = ds_build_report_ready(report, json, strlen(json), &msg_len);
    if (!msg || ds_enqueue(c, OUT_TEXT, msg, msg_len, 0) != ENQ_OK)
        ds_log("connection #%u: could not queue the demo report", c->id);
    else
        ds_log("connection #%u: demo report queued (%zu bytes)", c->id, msg_len);
    free(msg);
    cJSON_Delete(report);
    free(json);
}

int ds_ws_filter(struct lws *wsi)
{
    char uri[DS_MAX_PATH];

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, WS_PATH)) {
        ds_log("refused a WebSocket upgrade outside %s", WS_PATH);
        return 1;
    }
    if (ds_srv.stopping || ds_srv.n_conns >= DS_MAX_CONNECTIONS) {
        ds_log("refused a WebSocket connection (%s)",
               ds_srv.stopping ? "shutting down" : "too many connections");
        return 1;
    }
    return 0;
}

int ds_ws_established(struct lws *wsi, ws_conn *c)
{
    char peer[64] = "?";

    memset(c, 0, sizeof(*c));
    c->wsi = wsi;
    c->id = ++ds_srv.next_conn_id;
    c->key_index = -1;
    rl_buf_init(&c->rx, DS_MAX_CLIENT_MESSAGE);
    c->next = ds_srv.conns;
    if (ds_srv.conns)
        ds_srv.conns->prev = c;
    ds_srv.conns = c;
    ds_srv.n_conns++;
    c->timer = TIMER_AUTH;
    lws_set_timer_usecs(wsi, (lws_usec_t)ds_srv.cfg->auth_timeout_s * LWS_US_PER_SEC);
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    ds_log("connection #%u opened from %s", c->id, peer);
    return 0;
}

static void authenticated(ws_conn *c, int idx)
{
    static const char replaced_notice[] =
        "{\"type\":\"error\",\"message\":\"Connexion remplacée par une nouvelle "
        "connexion pour la même clé\",\"code\":4000}";
    ws_conn *old = ds_srv.holders[idx];

    lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
    c->timer = TIMER_NONE;
    c->key_index = idx;
    if (old && old != c) {
        /* The service keeps one connection per key: the newcomer wins and
         * the older one is told why before it is closed. */
        ds_enqueue(old, OUT_TEXT, replaced_notice, sizeof(replaced_notice) - 1, 1);
        ds_conn_close(old, 4000, "replaced");
        ds_log("connection #%u replaced by #%u (key #%d)", old->id, c->id, idx + 1);
    }
    ds_srv.holders[idx] = c;
    ds_log("connection #%u authenticated with key #%d", c->id, idx + 1);
    if (ds_srv.cfg->demo) {
        c->timer = TIMER_DEMO;
        lws_set_timer_usecs(c->wsi, (lws_usec_t)ds_srv.cfg->demo_delay_ms * 1000);
    }
}

static void authenticate(ws_conn *c)
{
    cJSON *root = NULL;
    const cJSON *key;
    int idx;

    if (!c->rx_binary && !rl_buf_error(&c->rx) && rl_buf_ptr(&c->rx))
        root = cJSON_ParseWithLength(rl_buf_ptr(&c->rx), rl_buf_len(&c->rx));
    key = cJSON_GetObjectItemCaseSensitive(root, "doctor_key");
    if (!cJSON_IsObject(root) || !cJSON_IsString(key)) {
        ds_log("connection #%u: first message is not an authentication message", c->id);
        ds_conn_close(c, 1008, "authentication message expected");
    } else if ((idx = ds_key_lookup(key->valuestring, strlen(key->valuestring))) < 0) {
        ds_log("connection #%u: unknown key", c->id);
        ds_conn_close(c, 1008, "unknown key");
    } else {
        authenticated(c, idx);
    }
    /* The message held a key: leave no copy of it in freed memory. */
    if (cJSON_IsString(key))
        explicit_bzero(key->valuestring, strlen(key->valuestring));
    if (rl_buf_ptr(&c->rx))
        explicit_bzero(rl_buf_ptr(&c->rx), rl_buf_len(&c->rx));
    cJSON_Delete(root);
}

static void ws_message(ws_conn *c)
{
    if (c->key_index < 0) {
        authenticate(c);
        return;
    }
    if (!c->rx_binary && c->rx_total == 4 && rl_buf_ptr(&c->rx) &&
        !memcmp(rl_buf_ptr(&c->rx), "ping", 4)) {
        /* No log line per ping: a client pings every 30 s. */
        if (ds_srv.pong_enabled && ds_enqueue(c, OUT_TEXT, "pong", 4, 0) != ENQ_OK)
            ds_log("connection #%u: could not queue a pong", c->id);
        return;
    }
    ds_log("connection #%u: ignored a %zu-byte %s message", c->id, c->rx_total,
           c->rx_binary ? "binary" : "text");
}

int ds_ws_receive(ws_conn *c, const void *in, size_t len)
{
    if (c->closing)
        return 0;
    if (!c->rx_in_message) {
        rl_buf_free(&c->rx);
        c->rx_total = 0;
        c->rx_binary = lws_frame_is_binary(c->wsi);
        c->rx_in_message = 1;
    }
    c->rx_total += len;
    /* Past the bound the message is only counted: nothing a client sends
     * needs more than a key, and a flood must not grow memory. */
    rl_buf_add(&c->rx, in, len);
    if (!lws_is_final_fragment(c->wsi))
        return 0;
    ws_message(c);
    c->rx_in_message = 0;
    rl_buf_free(&c->rx);
    return 0;
}

int ds_ws_writeable(ws_conn *c)
{
    out_msg *m = c->head;
    struct timespec ts;
    size_t chunk;
    int flags, n;

    if (c->dropped || c->close_sent)
        return -1;
    if (!m)
        return 0;
    if (m->kind == OUT_CLOSE) {
        lws_close_reason(c->wsi, (enum lws_close_status)m->close_code,
                         (unsigned char *)m->close_reason, strlen(m->close_reason));
        ds_log("connection #%u: closing with %d (%s)", c->id, m->close_code, m->close_reason);
        /* lws may call WRITEABLE again while the close handshake runs. */
        c->close_sent = 1;
        return -1;
    }
    chunk = m->len - m->sent;
    if (chunk > DS_WS_CHUNK)
        chunk = DS_WS_CHUNK;
    flags = lws_write_ws_flags(m->kind == OUT_BINARY ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
                               m->sent == 0, m->sent + chunk == m->len);
    /* A push's send time is taken just before its last frame is written,
     * so no client can have received the message earlier. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Writing in place is safe: lws puts the frame header in the LWS_PRE
     * bytes before the chunk, which are headroom or payload already sent. */
    n = lws_write(c->wsi, m->data + LWS_PRE + m->sent, chunk, (enum lws_write_protocol)flags);
    if (n < 0 || (size_t)n < chunk) {
        ds_log("connection #%u: write failed", c->id);
        return -1;
    }
    m->sent += chunk;
    if (m->sent == m->len && m->seq) {
        ds_srv.sent[m->seq % DS_SENT_RING].seq = m->seq;
        ds_srv.sent[m->seq % DS_SENT_RING].mono_us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    if (m->sent == m->len) {
        c->head = m->next;
        if (!c->head)
            c->tail = NULL;
        c->queued_msgs--;
        c->queued_bytes -= m->len;
        free(m);
    }
    if (c->head)
        lws_callback_on_writable(c->wsi);
    return 0;
}

int ds_ws_timer(ws_conn *c)
{
    timer_kind t = c->timer;

    c->timer = TIMER_NONE;
    if (c->closing)
        return 0;
    if (t == TIMER_AUTH && c->key_index < 0) {
        ds_log("connection #%u: no authentication within %d s", c->id,
               ds_srv.cfg->auth_timeout_s);
        ds_conn_close(c, 1008, "authentication timeout");
    } else if (t == TIMER_DEMO && c->key_index >= 0) {
        send_demo(c);
    }
    return 0;
}

void ds_ws_closed(ws_conn *c)
{
    if (!c->wsi)
        return;
    ds_unregister(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        ds_srv.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ds_srv.n_conns--;
    ds_queue_free(c);
    rl_buf_free(&c->rx);
    ds_log("connection #%u closed", c->id);
    c->wsi = NULL;
}
