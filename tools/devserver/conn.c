/*
 * conn.c - the doctor keys, and what a WebSocket connection holds: the key it
 * authenticated with (ds_srv.holders) and its queue of outgoing messages.
 * Closing and dropping a connection start here; ws.c writes the queue out.
 */
#include "server_internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DS_MAX_QUEUED_MESSAGES 1024                   /* per connection; more: 503 */
#define DS_MAX_QUEUED_BYTES    (512u * 1024u * 1024u) /* per connection; more: 503 */

/* --- Keys ---------------------------------------------------------------- */

int ds_key_lookup(const char *k, size_t n)
{
    int found = -1;
    size_t i;

    for (i = 0; i < ds_srv.cfg->n_keys; i++)
        if (ds_srv.cfg->key_lens[i] == n && n > 0 &&
            !CRYPTO_memcmp(ds_srv.cfg->keys[i], k, n) && found < 0)
            found = (int)i;
    return found;
}

/* --- Outgoing queue ------------------------------------------------------ */

void ds_queue_free(ws_conn *c)
{
    out_msg *m = c->head, *next;

    for (; m; m = next) {
        next = m->next;
        free(m);
    }
    c->head = c->tail = NULL;
    c->queued_msgs = c->queued_bytes = 0;
}

/* Links m in at the tail; a close (len 0) counts as a message, not bytes. */
static void queue_append(ws_conn *c, out_msg *m)
{
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->queued_msgs++;
    c->queued_bytes += m->len;
}

enqueue_result ds_enqueue(ws_conn *c, out_kind kind, const void *data, size_t len,
                          int force)
{
    out_msg *m;

    if (c->closing)
        return ENQ_CLOSING;
    if (!force && (c->queued_msgs >= DS_MAX_QUEUED_MESSAGES ||
                   len > DS_MAX_QUEUED_BYTES - c->queued_bytes))
        return ENQ_FULL;
    m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return ENQ_NOMEM;
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->len = len;
    if (len)
        memcpy(m->data + LWS_PRE, data, len);
    queue_append(c, m);
    lws_callback_on_writable(c->wsi);
    return ENQ_OK;
}

void ds_unregister(ws_conn *c)
{
    if (c->key_index >= 0 && ds_srv.holders[c->key_index] == c)
        ds_srv.holders[c->key_index] = NULL;
}

void ds_conn_close(ws_conn *c, int code, const char *reason)
{
    out_msg *m;

    if (c->closing)
        return;
    ds_unregister(c);
    m = calloc(1, sizeof(*m) + LWS_PRE);
    if (!m) {
        /* Without memory for a close frame, ending the TCP stream is the
         * only honest way left to close. */
        c->dropped = 1;
    } else {
        m->kind = OUT_CLOSE;
        m->close_code = code;
        m->close_reason = reason;
        queue_append(c, m);
    }
    c->closing = 1;
    lws_callback_on_writable(c->wsi);
}

void ds_queue_drop_unstarted(ws_conn *c)
{
    out_msg *keep = c->head, *m, *next;

    if (!keep)
        return;
    if (keep->sent == 0 || keep->kind == OUT_CLOSE) {
        ds_queue_free(c);
        return;
    }
    for (m = keep->next; m; m = next) {
        next = m->next;
        free(m);
    }
    keep->next = NULL;
    c->head = c->tail = keep;
    c->queued_msgs = 1;
    c->queued_bytes = keep->len;
}

void ds_conn_drop(ws_conn *c)
{
    int fd = lws_get_socket_fd(c->wsi);

    ds_unregister(c);
    c->closing = c->dropped = 1;
    /* shutdown() ends the TCP stream at once with no close frame, which is
     * what a lost network looks like to the client; lws then sees EOF and
     * frees the connection. */
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    lws_callback_on_writable(c->wsi);
}
