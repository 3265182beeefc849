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

#define DS_MAX_PUSH_BYTES      (24u * 1024u * 1024u)  /* HTTP body; more: 413 */
#define DS_MAX_CLIENT_MESSAGE  (64u * 1024u)  /* bytes kept of a client message */
#define DS_MAX_CONNECTIONS     256            /* WebSocket connections at once */
#define DS_WS_CHUNK            (64u * 1024u)  /* payload per frame on the wire */
#define DS_HTTP_CHUNK          (16u * 1024u)  /* response bytes per WRITEABLE */
#define DS_MAX_HEADER_DATA     16384          /* room for a 4 KiB key header */
#define DS_SHUTDOWN_GRACE_US   (1000 * 1000)  /* to deliver 1001 closes */

ds_server_state ds_srv;

/* --- Reports ------------------------------------------------------------- */

/*
 * Renders the document, stores it behind a signed link and builds the
 * report_ready message. json_text is the object's original text. Returns a
 * malloc'd message (the caller frees it) or NULL.
 */
static char *ds_build_report_ready(const cJSON *report, const char *json_text,
                                   size_t json_len, size_t *msg_len)
{
    unsigned char *docx = NULL;
    size_t docx_len = 0;
    char path[DS_MAX_LINK_PATH], url[sizeof(ds_srv.base_url) + DS_MAX_LINK_PATH];

    if (ds_docx_build(report, &docx, &docx_len))
        return NULL;
    if (ds_links_store(docx, docx_len, (long long)time(NULL), ds_srv.cfg->url_ttl_s,
                       path, sizeof(path)))
        return NULL;
    snprintf(url, sizeof(url), "%s%s", ds_srv.base_url, path);
    return ds_report_ready_message(report, json_text, json_len, url, msg_len);
}

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

/* --- HTTP ---------------------------------------------------------------- */

static void ds_http_reset(http_req *r)
{
    lws_sul_cancel(&r->delay_sul);
    rl_buf_free(&r->body);
    free(r->resp);
    memset(r, 0, sizeof(*r));
}

/* Sends the status line and headers now and the body from WRITEABLE. Takes
 * ownership of body (malloc'd, len bytes). */
static int respond(struct lws *wsi, http_req *r, unsigned status, const char *ctype,
                   char *body, size_t len)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                  *end = hdr + sizeof(hdr) - 1;

    free(r->resp);
    r->resp = body;
    r->resp_len = len;
    r->resp_sent = 0;
    if (!body)
        return -1;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_text(struct lws *wsi, http_req *r, unsigned status, const char *ctype,
                        const char *text)
{
    return respond(wsi, r, status, ctype, strdup(text), strlen(text));
}

static int ds_respond_json(struct lws *wsi, http_req *r, unsigned status, const char *json)
{
    return respond_text(wsi, r, status, "application/json", json);
}

static int ds_http_writeable(struct lws *wsi, http_req *r)
{
    unsigned char buf[LWS_PRE + DS_HTTP_CHUNK];
    size_t n;
    int final;

    if (!r->resp)
        return 0;
    n = r->resp_len - r->resp_sent;
    if (n > DS_HTTP_CHUNK)
        n = DS_HTTP_CHUNK;
    final = r->resp_sent + n == r->resp_len;
    memcpy(buf + LWS_PRE, r->resp + r->resp_sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    r->resp_sent += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(r->resp);
    r->resp = NULL;
    if (r->close_after || lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

/* Key index from X-Doctor-Key: -2 when the header is missing, -1 unknown. */
static int ds_request_key(struct lws *wsi)
{
    char k[DS_MAX_KEY_BYTES + 1];
    int n = lws_hdr_custom_length(wsi, "x-doctor-key:", 13), idx;

    if (n < 0)
        return -2;
    if (n > DS_MAX_KEY_BYTES || lws_hdr_custom_copy(wsi, k, sizeof(k), "x-doctor-key:", 13) < 0)
        return -1;
    idx = ds_key_lookup(k, strlen(k));
    explicit_bzero(k, sizeof(k));
    return idx;
}

/* Value of query argument `name_eq` ("raw=") or NULL; borrowed from buf. */
static const char *ds_query(struct lws *wsi, const char *name_eq, char *buf, int len)
{
    return lws_get_urlarg_by_name(wsi, name_eq, buf, len);
}

static int query_flag(struct lws *wsi, const char *name_eq)
{
    char buf[64];
    const char *v = ds_query(wsi, name_eq, buf, sizeof(buf));

    return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

/* Answers the two key errors shared by push and admin. Returns 1 if it did
 * (and *rc is the callback's return), 0 if idx is a known key. */
static int ds_key_error(struct lws *wsi, http_req *r, int idx, int is_push, int *rc)
{
    if (idx >= 0)
        return 0;
    if (is_push)
        *rc = ds_respond_json(wsi, r, 401, idx == -2
            ? "{\"delivered\":false,\"reason\":\"missing X-Doctor-Key header\"}"
            : "{\"delivered\":false,\"reason\":\"unknown key\"}");
    else
        *rc = ds_respond_json(wsi, r, 401, idx == -2
            ? "{\"ok\":false,\"reason\":\"missing X-Doctor-Key header\"}"
            : "{\"ok\":false,\"reason\":\"unknown key\"}");
    return 1;
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int ds_handle_push(struct lws *wsi, http_req *r)
{
    static const char no_conn[] =
        "{\"delivered\":false,\"reason\":\"no authenticated connection for this key\"}";
    int idx = ds_request_key(wsi), rc = 0, raw, binary, verbatim;
    const char *body = rl_buf_ptr(&r->body) ? rl_buf_ptr(&r->body) : "";
    size_t len = rl_buf_len(&r->body), mlen = 0;
    cJSON *root = NULL;
    char *msg = NULL;
    enqueue_result er;
    ws_conn *c;

    if (ds_key_error(wsi, r, idx, 1, &rc))
        return rc;
    if (r->body_too_large)
        return ds_respond_json(wsi, r, 413, "{\"delivered\":false,\"reason\":\"body larger than 24 MiB\"}");
    raw = query_flag(wsi, "raw=");
    binary = query_flag(wsi, "binary=");
    verbatim = raw || binary;
    if (!verbatim) {
        const char *end = NULL;

        if (!ds_utf8_valid(body, len) || memchr(body, '\0', len))
            return ds_respond_json(wsi, r, 400, "{\"delivered\":false,\"reason\":\"body is not valid UTF-8 text\"}");
        root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
        while (root && end < body + len && is_json_space(*end))
            end++;
        if (!root || end != body + len) {
            cJSON_Delete(root);
            return ds_respond_json(wsi, r, 400, "{\"delivered\":false,\"reason\":\"invalid JSON\"}");
        }
        if (!cJSON_IsObject(root)) {
            cJSON_Delete(root);
            return ds_respond_json(wsi, r, 400, "{\"delivered\":false,\"reason\":\"body must be a JSON object\"}");
        }
        /* An object naming its own type is a whole message, sent as is. */
        verbatim = cJSON_GetObjectItemCaseSensitive(root, "type") != NULL;
    }
    c = ds_srv.holders[idx];
    if (!c) {
        cJSON_Delete(root);
        return ds_respond_json(wsi, r, 404, no_conn);
    }
    if (verbatim) {
        er = ds_enqueue(c, binary ? OUT_BINARY : OUT_TEXT, body, len, 0);
    } else {
        /* json_report is copied as sent, less surrounding whitespace. */
        const char *b = body, *e = body + len;

        while (b < e && is_json_space(*b))
            b++;
        while (e > b && is_json_space(e[-1]))
            e--;
        msg = ds_build_report_ready(root, b, (size_t)(e - b), &mlen);
        if (!msg) {
            cJSON_Delete(root);
            return ds_respond_json(wsi, r, 413, "{\"delivered\":false,\"reason\":\"could not build the report (too large?)\"}");
        }
        er = ds_enqueue(c, OUT_TEXT, msg, mlen, 0);
    }
    cJSON_Delete(root);
    free(msg);
    if (er == ENQ_OK)
        c->tail->seq = ++ds_srv.next_seq;
    if (er == ENQ_FULL)
        return ds_respond_json(wsi, r, 503, "{\"delivered\":false,\"reason\":\"queue full\"}");
    if (er != ENQ_OK)
        return ds_respond_json(wsi, r, er == ENQ_CLOSING ? 404 : 500,
                               er == ENQ_CLOSING ? no_conn
                                                 : "{\"delivered\":false,\"reason\":\"out of memory\"}");
    ds_log("connection #%u: queued a %zu-byte %s %s (push %llu)", c->id, verbatim ? len : mlen,
           binary ? "binary" : "text",
           verbatim ? (raw || binary ? "raw push" : "message") : "report_ready", c->tail->seq);
    {
        char ok[64];

        snprintf(ok, sizeof(ok), "{\"delivered\":true,\"seq\":%llu}", c->tail->seq);
        return ds_respond_json(wsi, r, 200, ok);
    }
}

/* Close codes a server may put on the wire (RFC 6455 section 7.4). */
static int sendable_close_code(long code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static int ds_handle_admin(struct lws *wsi, http_req *r, const char *what)
{
    static const char no_conn[] =
        "{\"ok\":false,\"reason\":\"no authenticated connection for this key\"}";
    char buf[32];
    const char *v;
    int idx, rc = 0;
    ws_conn *c;

    if (!strcmp(what, "files")) {
        char *end;
        unsigned long ms;
        v = ds_query(wsi, "delay_ms=", buf, sizeof(buf));
        ms = v && *v ? strtoul(v, &end, 10) : 0;
        if (!v || !*v || *end || ms > 600000)
            return ds_respond_json(wsi, r, 400, "{\"ok\":false,\"reason\":\"delay_ms must be "
                                   "0 to 600000\"}");
        ds_srv.files_delay_ms = (unsigned)ms;
        ds_log("/files answers held back %lu ms", ms);
        return ds_respond_json(wsi, r, 200, "{\"ok\":true}");
    }
    if (!strcmp(what, "pong")) {
        v = ds_query(wsi, "enabled=", buf, sizeof(buf));
        if (!v || (strcmp(v, "0") && strcmp(v, "1")))
            return ds_respond_json(wsi, r, 400, "{\"ok\":false,\"reason\":\"enabled must be 0 or 1\"}");
        ds_srv.pong_enabled = v[0] == '1';
        ds_log("pong answers %s", ds_srv.pong_enabled ? "enabled" : "disabled");
        return ds_respond_json(wsi, r, 200, "{\"ok\":true}");
    }
    idx = ds_request_key(wsi);
    if (ds_key_error(wsi, r, idx, 0, &rc))
        return rc;
    if (!strcmp(what, "close")) {
        char *end;
        long code;

        v = ds_query(wsi, "code=", buf, sizeof(buf));
        code = v ? strtol(v, &end, 10) : 0;
        if (!v || !*v || *end || !sendable_close_code(code))
            return ds_respond_json(wsi, r, 400, "{\"ok\":false,\"reason\":\"code must be a "
                                   "sendable close code (1000-1003, 1007-1014, 3000-4999)\"}");
        if (!(c = ds_srv.holders[idx]))
            return ds_respond_json(wsi, r, 404, no_conn);
        ds_log("admin: closing connection #%u with %ld", c->id, code);
        ds_conn_close(c, (int)code, "closed by admin");
        return ds_respond_json(wsi, r, 200, "{\"ok\":true}");
    }
    /* drop */
    if (!(c = ds_srv.holders[idx]))
        return ds_respond_json(wsi, r, 404, no_conn);
    ds_log("admin: dropping connection #%u without a close frame", c->id);
    ds_conn_drop(c);
    return ds_respond_json(wsi, r, 200, "{\"ok\":true}");
}

/* GET /admin/sent?seq=N: when push N's last frame was written. */
static int ds_handle_sent(struct lws *wsi, http_req *r)
{
    char buf[32], out[96];
    const char *v = ds_query(wsi, "seq=", buf, sizeof(buf));
    char *end;
    unsigned long long seq = v && *v ? strtoull(v, &end, 10) : 0;

    if (!seq || *end)
        return ds_respond_json(wsi, r, 400, "{\"sent\":false,\"reason\":\"seq must be a push number\"}");
    if (ds_srv.sent[seq % DS_SENT_RING].seq != seq) {
        snprintf(out, sizeof(out), "{\"seq\":%llu,\"sent\":false}", seq);
        return ds_respond_json(wsi, r, 404, out);
    }
    snprintf(out, sizeof(out), "{\"seq\":%llu,\"sent\":true,\"sent_mono_us\":%lld}", seq,
             ds_srv.sent[seq % DS_SENT_RING].mono_us);
    return ds_respond_json(wsi, r, 200, out);
}

static int handle_file(struct lws *wsi, http_req *r)
{
    static const char docx_type[] =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    char id[DS_DOC_ID_HEX + 1], ebuf[48], sbuf[96];
    const char *name = r->path + strlen("/files/"), *dot = strrchr(name, '.');
    const unsigned char *data = NULL;
    size_t n, len = 0;
    char *copy;

    n = dot ? (size_t)(dot - name) : 0;
    if (!dot || strcmp(dot, ".docx") || n != DS_DOC_ID_HEX)
        return respond_text(wsi, r, 404, "text/plain", "document not found\n");
    memcpy(id, name, n);
    id[n] = '\0';
    switch (ds_links_check(id, ds_query(wsi, "expires=", ebuf, sizeof(ebuf)),
                           ds_query(wsi, "sig=", sbuf, sizeof(sbuf)), (long long)time(NULL),
                           &data, &len)) {
    case DS_LINK_NOT_FOUND:
        return respond_text(wsi, r, 404, "text/plain", "document not found\n");
    case DS_LINK_BAD_SIGNATURE:
        return respond_text(wsi, r, 403, "text/plain", "bad signature\n");
    case DS_LINK_EXPIRED:
        return respond_text(wsi, r, 403, "text/plain", "link expired\n");
    case DS_LINK_OK:
        break;
    }
    /* A copy, because a push during the download may evict the original. */
    copy = malloc(len ? len : 1);
    if (copy && len)
        memcpy(copy, data, len);
    return respond(wsi, r, 200, docx_type, copy, len);
}

static void delayed_file(lws_sorted_usec_list_t *sul)
{
    http_req *r = lws_container_of(sul, http_req, delay_sul);
    struct lws *wsi = r->wsi;
    r->wsi = NULL;
    if (wsi && handle_file(wsi, r))
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int ds_http_route(struct lws *wsi, http_req *r)
{
    const char *p = r->path;

    if (r->routed)
        return 0;
    r->routed = 1;
    if (r->path_too_long)
        return ds_respond_json(wsi, r, 404, "{\"error\":\"not found\"}");
    if (!strcmp(p, "/healthz"))
        return r->method == M_GET ? respond_text(wsi, r, 200, "text/plain", "ok")
                                  : ds_respond_json(wsi, r, 405, "{\"error\":\"use GET\"}");
    if (!strncmp(p, "/files/", 7) && r->method == M_GET && ds_srv.files_delay_ms) {
        /* The whole answer waits, the link checks included: an expiring
         * link held back long enough is answered "link expired". */
        r->wsi = wsi;
        lws_sul_schedule(ds_srv.ctx, 0, &r->delay_sul, delayed_file,
                         (lws_usec_t)ds_srv.files_delay_ms * LWS_US_PER_MS);
        /* lws drops a request left unanswered for 5 s: not this one. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)(ds_srv.files_delay_ms / 1000) + 10);
        return 0;
    }
    if (!strncmp(p, "/files/", 7))
        return r->method == M_GET ? handle_file(wsi, r)
                                  : ds_respond_json(wsi, r, 405, "{\"error\":\"use GET\"}");
    if (!strcmp(p, "/reports/push"))
        return r->method == M_POST ? ds_handle_push(wsi, r)
                                   : ds_respond_json(wsi, r, 405, "{\"error\":\"use POST\"}");
    if (!strcmp(p, "/admin/sent"))
        return r->method == M_GET ? ds_handle_sent(wsi, r)
                                  : ds_respond_json(wsi, r, 405, "{\"error\":\"use GET\"}");
    if (!strcmp(p, "/admin/close") || !strcmp(p, "/admin/pong") || !strcmp(p, "/admin/drop") ||
        !strcmp(p, "/admin/files"))
        return r->method == M_POST ? ds_handle_admin(wsi, r, p + strlen("/admin/"))
                                   : ds_respond_json(wsi, r, 405, "{\"error\":\"use POST\"}");
    if (!strcmp(p, WS_PATH))
        return ds_respond_json(wsi, r, 400, "{\"error\":\"WebSocket upgrade expected\"}");
    return ds_respond_json(wsi, r, 404, "{\"error\":\"not found\"}");
}

static int ds_http_begin(struct lws *wsi, http_req *r, const char *uri)
{
    char cl[32];

    ds_http_reset(r);
    rl_buf_init(&r->body, DS_MAX_PUSH_BYTES);
    if (strlen(uri) >= sizeof(r->path))
        r->path_too_long = 1;
    else
        strcpy(r->path, uri);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        r->method = M_GET;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        r->method = M_POST;
    if (r->method != M_POST)
        return ds_http_route(wsi, r);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* Bodies must come with a Content-Length; a chunked body would be
         * left unread on the stream, so the connection ends here. */
        r->close_after = 1;
        return ds_respond_json(wsi, r, 411, "{\"error\":\"Content-Length required\"}");
    }
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(cl, NULL, 10) > 0) {
        /* An oversized body is still read (and discarded) so that the client
         * gets to read the 413 instead of a reset connection. */
        if (strtoull(cl, NULL, 10) > DS_MAX_PUSH_BYTES)
            r->body_too_large = 1;
        return 0;   /* wait for HTTP_BODY_COMPLETION */
    }
    return ds_http_route(wsi, r);
}

static int ds_http_body(http_req *r, const void *in, size_t len)
{
    if (r->body_too_large)
        return 0;
    if (rl_buf_add(&r->body, in, len)) {
        r->body_too_large = 1;
        rl_buf_free(&r->body);
    }
    return 0;
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
