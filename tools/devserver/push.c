/*
 * push.c - POST /reports/push: checks the body, turns a json_report into a
 * report_ready message (with its signed .docx link), and queues the message
 * on the connection that holds the key. The demo reports (ws.c) are built
 * the same way.
 */
#include "server_internal.h"
#include "docx.h"
#include "links.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *ds_build_report_ready(const cJSON *report, const char *json_text,
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

static int query_flag(struct lws *wsi, const char *name_eq)
{
    char buf[64];
    const char *v = ds_query(wsi, name_eq, buf, sizeof(buf));

    return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ds_handle_push(struct lws *wsi, http_req *r)
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
