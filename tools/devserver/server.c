/*
 * server.c - one libwebsockets context serving the report service's
 * WebSocket endpoint (/reports/ws) and the HTTP control API (push, admin,
 * signed document links) on the same port. See server.h and README.md.
 *
 * Everything here runs on the service thread, so the connection registry
 * needs no lock: an HTTP push finds the WebSocket connection holding a key,
 * appends to its queue and asks lws for a WRITEABLE callback, where the
 * queue is written out one piece at a time.
 */
#include "server_internal.h"
#include "docx.h"
#include "links.h"
#include "report.h"
#include "util.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define DS_MAX_CLIENT_MESSAGE  (64u * 1024u)  /* bytes kept of a client message */
#define DS_MAX_CONNECTIONS     256            /* WebSocket connections at once */
#define DS_WS_CHUNK            (64u * 1024u)  /* payload per frame on the wire */
#define DS_MAX_HEADER_DATA     16384          /* room for a 4 KiB key header */
#define DS_SHUTDOWN_GRACE_US   (1000 * 1000)  /* to deliver 1001 closes */

ds_server_state ds_srv;

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

/* --- WebSocket ----------------------------------------------------------- */

static int ds_ws_filter(struct lws *wsi)
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

static int ds_ws_established(struct lws *wsi, ws_conn *c)
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

static int ds_ws_receive(ws_conn *c, const void *in, size_t len)
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

static int ds_ws_writeable(ws_conn *c)
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

static int ds_ws_timer(ws_conn *c)
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

static void ds_ws_closed(ws_conn *c)
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

/* --- The callback -------------------------------------------------------- */

static void grace_over(lws_sorted_usec_list_t *sul)
{
    ds_srv.grace_over = 1;
}

static void begin_shutdown(void)
{
    ws_conn *c;

    ds_srv.stopping = 1;
    ds_log("stopping: closing %u connection(s)", ds_srv.n_conns);
    for (c = ds_srv.conns; c; c = c->next) {
        if (c->closing)
            continue;
        ds_queue_drop_unstarted(c);
        ds_conn_close(c, 1001, "server shutting down");
    }
    lws_sul_schedule(ds_srv.ctx, 0, &ds_srv.grace_sul, grace_over, DS_SHUTDOWN_GRACE_US);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
    session *s = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (atomic_load(&ds_srv.stop_requested) && !ds_srv.stopping)
            begin_shutdown();
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ds_ws_filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ds_ws_established(wsi, &s->ws);
    case LWS_CALLBACK_RECEIVE:
        return ds_ws_receive(&s->ws, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ds_ws_writeable(&s->ws);
    case LWS_CALLBACK_TIMER:
        return s ? ds_ws_timer(&s->ws) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            ds_log("connection #%u: client closed with %d", s->ws.id,
                   ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1]);
        return 0;
    case LWS_CALLBACK_CLOSED:
        ds_ws_closed(&s->ws);
        return 0;
    case LWS_CALLBACK_HTTP:
        return ds_http_begin(wsi, &s->http, in);
    case LWS_CALLBACK_HTTP_BODY:
        return ds_http_body(&s->http, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return ds_http_route(wsi, &s->http);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return ds_http_writeable(wsi, &s->http);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (s)
            ds_http_reset(&s->http);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* First, so it gets plain HTTP and WebSocket upgrades that name no
     * subprotocol, which is what the report service's clients send. */
    { .name = "reportlink", .callback = callback,
      .per_session_data_size = sizeof(session), .rx_buffer_size = 65536 },
    { .name = NULL }
};

/* --- Life cycle ---------------------------------------------------------- */

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);

    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    fprintf(stderr, "devserver: lws: %.*s\n", (int)n, line);
}

int ds_server_start(const ds_config *cfg)
{
    struct lws_context_creation_info info;
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    const char *iface = bind, *host = bind;
    unsigned char a6[16];
    int v6 = inet_pton(AF_INET6, bind, a6) == 1, port;
    uint64_t ipv6_opt = v6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6;

    ds_srv.cfg = cfg;
    ds_srv.pong_enabled = cfg->pong_enabled;
    pthread_mutex_init(&ds_srv.ctx_lock, NULL);
    if (ds_links_init()) {
        ds_log("no randomness for the link secret");
        return -1;
    }
    /* The wildcard addresses bind every interface; links then name the
     * loopback address, which is reachable from this machine. */
    if (!strcmp(bind, "0.0.0.0") || !strcmp(bind, "::")) {
        iface = NULL;
        host = v6 ? "[::1]" : "127.0.0.1";
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | ipv6_opt |
                   (cfg->tls_cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
    info.max_http_header_data = DS_MAX_HEADER_DATA;
    info.pt_serv_buf_size = 65536;
    info.count_threads = 1;
    ds_srv.ctx = lws_create_context(&info);
    if (!ds_srv.ctx) {
        ds_log("could not create the libwebsockets context");
        return -1;
    }
    info.port = cfg->port;
    info.iface = iface;
    info.protocols = protocols;
    info.vhost_name = "reportlink";
    if (cfg->tls_cert) {
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        /* HTTP/1.1 only: test clients and curl scripts stay simple. */
        info.alpn = "http/1.1";
    }
    ds_srv.vhost = lws_create_vhost(ds_srv.ctx, &info);
    if (!ds_srv.vhost) {
        ds_log("could not listen on %s port %d%s", bind, cfg->port,
               cfg->tls_cert ? " (or load the TLS certificate/key)" : "");
        lws_context_destroy(ds_srv.ctx);
        ds_srv.ctx = NULL;
        return -1;
    }
    port = lws_get_vhost_listen_port(ds_srv.vhost);
    snprintf(ds_srv.base_url, sizeof(ds_srv.base_url), "%s://%s%s%s:%d",
             cfg->tls_cert ? "https" : "http", v6 && host == bind ? "[" : "", host,
             v6 && host == bind ? "]" : "", port);
    ds_log("listening on %s:%d%s, %zu key(s)%s", bind, port, cfg->tls_cert ? " with TLS" : "",
           cfg->n_keys, cfg->demo ? ", demo mode" : "");
    printf("{\"event\":\"listening\",\"port\":%d,\"tls\":%s}\n", port,
           cfg->tls_cert ? "true" : "false");
    fflush(stdout);
    return 0;
}

void ds_server_request_stop(void)
{
    atomic_store(&ds_srv.stop_requested, 1);
    pthread_mutex_lock(&ds_srv.ctx_lock);
    if (ds_srv.ctx)
        lws_cancel_service(ds_srv.ctx);
    pthread_mutex_unlock(&ds_srv.ctx_lock);
}

int ds_server_run(void)
{
    int rc = 0;

    while (!(ds_srv.stopping && (ds_srv.n_conns == 0 || ds_srv.grace_over))) {
        if (lws_service(ds_srv.ctx, 0) < 0) {
            ds_log("service loop failed");
            rc = -1;
            break;
        }
    }
    lws_sul_cancel(&ds_srv.grace_sul);
    pthread_mutex_lock(&ds_srv.ctx_lock);
    lws_context_destroy(ds_srv.ctx);
    ds_srv.ctx = NULL;
    pthread_mutex_unlock(&ds_srv.ctx_lock);
    ds_links_shutdown();
    ds_log("stopped");
    return rc;
}
