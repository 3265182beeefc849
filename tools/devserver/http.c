/*
 * http.c - one HTTP transaction on the WebSocket port: reading the request
 * and its bounded body, routing it, and writing the answer in pieces. The
 * /files/ signed links (held back when /admin/files asks) and /healthz are
 * answered here; push.c and admin.c answer the rest.
 */
#include "server_internal.h"
#include "links.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DS_MAX_PUSH_BYTES      (24u * 1024u * 1024u)  /* HTTP body; more: 413 */
#define DS_HTTP_CHUNK          (16u * 1024u)  /* response bytes per WRITEABLE */

void ds_http_reset(http_req *r)
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

int ds_respond_json(struct lws *wsi, http_req *r, unsigned status, const char *json)
{
    return respond_text(wsi, r, status, "application/json", json);
}

int ds_http_writeable(struct lws *wsi, http_req *r)
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

int ds_request_key(struct lws *wsi)
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

const char *ds_query(struct lws *wsi, const char *name_eq, char *buf, int len)
{
    return lws_get_urlarg_by_name(wsi, name_eq, buf, len);
}

int ds_key_error(struct lws *wsi, http_req *r, int idx, int is_push, int *rc)
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

int ds_http_route(struct lws *wsi, http_req *r)
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

int ds_http_begin(struct lws *wsi, http_req *r, const char *uri)
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

int ds_http_body(http_req *r, const void *in, size_t len)
{
    if (r->body_too_large)
        return 0;
    if (rl_buf_add(&r->body, in, len)) {
        r->body_too_large = 1;
        rl_buf_free(&r->body);
    }
    return 0;
}
