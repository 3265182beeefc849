/*
 * server.c - the libwebsockets context that serves the report service's
 * WebSocket endpoint and the HTTP control API on one port: its start, the
 * service loop, shutdown, and the one callback, which hands each reason to
 * ws.c or http.c. See server.h, server_internal.h and README.md.
 *
 * Everything here runs on the service thread, so the connection registry
 * needs no lock: an HTTP push finds the WebSocket connection holding a key,
 * appends to its queue and asks lws for a WRITEABLE callback, where the
 * queue is written out one piece at a time.
 */
#include "server_internal.h"
#include "links.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define DS_MAX_HEADER_DATA     16384          /* room for a 4 KiB key header */
#define DS_SHUTDOWN_GRACE_US   (1000 * 1000)  /* to deliver 1001 closes */

ds_server_state ds_srv;

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
