/*
 * admin.c - the fault switches tests pull under /admin/ (close a connection
 * with a chosen code, drop it without a close frame, turn pong answers off,
 * hold /files answers back) and GET /admin/sent, when a push left.
 */
#include "server_internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Close codes a server may put on the wire (RFC 6455 section 7.4). */
static int sendable_close_code(long code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int ds_handle_admin(struct lws *wsi, http_req *r, const char *what)
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
int ds_handle_sent(struct lws *wsi, http_req *r)
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
