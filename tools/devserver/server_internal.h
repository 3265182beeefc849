/*
 * server_internal.h - what the devserver's server files share, and nothing
 * else: the connection and HTTP request types, the one state of the server,
 * and the calls one file makes into another. main.c sees only server.h.
 *
 * Everything here runs on the service thread (server.h), so the state needs
 * no lock; only stop_requested and ctx_lock are shared with the signal thread.
 *
 *   server.c  the context's life cycle, the lws callback, shutdown
 *   conn.c    keys, a connection's outgoing queue, closing and dropping it
 *   ws.c      /reports/ws: authentication, messages, writing the queue, timers
 *   http.c    an HTTP transaction: reading, routing, answering; /files, /healthz
 *   push.c    POST /reports/push and the report_ready message
 *   admin.c   the fault switches under /admin/ and GET /admin/sent
 */
#ifndef DS_SERVER_INTERNAL_H
#define DS_SERVER_INTERNAL_H

#include "server.h"
#include "buf.h"

#include <cJSON.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define WS_PATH                "/reports/ws"
#define DS_MAX_PATH            256
#define DS_SENT_RING           4096           /* pushes whose send time is kept */

/* --- Types --------------------------------------------------------------- */

typedef enum out_kind { OUT_TEXT, OUT_BINARY, OUT_CLOSE } out_kind;

/* One queued outgoing message. The payload sits after LWS_PRE bytes of
 * headroom because lws writes the frame header in front of what it sends. */
typedef struct out_msg {
    struct out_msg *next;
    out_kind kind;
    int close_code;
    const char *close_reason;   /* static string, OUT_CLOSE only */
    size_t len;
    size_t sent;                /* payload bytes already handed to lws */
    unsigned long long seq;     /* push number (1, 2, ...), 0 if not a push */
    unsigned char data[];       /* LWS_PRE + len bytes */
} out_msg;

typedef enum timer_kind { TIMER_NONE, TIMER_AUTH, TIMER_DEMO } timer_kind;

typedef struct ws_conn {
    struct lws *wsi;            /* NULL until ESTABLISHED */
    struct ws_conn *prev, *next;
    unsigned id;                /* "connection #id" in logs */
    int key_index;              /* -1 until authenticated */
    int closing;                /* close queued or dropped: takes nothing more */
    int dropped;                /* TCP shut down without a close frame */
    int close_sent;             /* the close frame has been handed to lws */
    timer_kind timer;
    out_msg *head, *tail;       /* owned */
    size_t queued_msgs, queued_bytes;
    rl_buf rx;                  /* the message being received, bounded */
    size_t rx_total;            /* its real size, even past the bound */
    int rx_binary;
    int rx_in_message;
} ws_conn;

typedef enum http_method { M_OTHER, M_GET, M_POST } http_method;

/* One HTTP transaction; lws gives each its own (zeroed) session data. */
typedef struct http_req {
    http_method method;
    char path[DS_MAX_PATH];
    int path_too_long;
    rl_buf body;                /* owned */
    int body_too_large;
    char *resp;                 /* owned response body */
    size_t resp_len, resp_sent;
    int close_after;            /* the stream cannot be reused after this */
    int routed;                 /* answered: lws may still report the end of
                                 * an empty body, which must not answer twice */
    lws_sorted_usec_list_t delay_sul;  /* a /files answer held back (admin/files) */
    struct lws *wsi;            /* the stream, while an answer is held back */
} http_req;

typedef struct session {
    ws_conn ws;
    http_req http;
} session;

typedef enum enqueue_result { ENQ_OK, ENQ_FULL, ENQ_NOMEM, ENQ_CLOSING } enqueue_result;

typedef struct ds_server_state {
    const ds_config *cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    char base_url[96];          /* "http://127.0.0.1:8080", no slash */
    int pong_enabled;
    unsigned files_delay_ms;    /* POST /admin/files: hold /files answers back */
    ws_conn *conns;             /* live WebSocket connections */
    unsigned n_conns;
    unsigned next_conn_id;
    unsigned demo_counter;
    ws_conn *holders[DS_MAX_KEYS];  /* the authenticated connection per key */
    atomic_int stop_requested;
    /* Held by the signal thread while it wakes the loop and by the service
     * thread while it destroys the context, so a late signal never touches
     * a freed context. */
    pthread_mutex_t ctx_lock;
    int stopping;
    int grace_over;
    lws_sorted_usec_list_t grace_sul;
    /* Pushes: their numbers, and when the last frame of the last ones was
     * written (CLOCK_MONOTONIC us), for GET /admin/sent. */
    unsigned long long next_seq;
    struct { unsigned long long seq; long long mono_us; } sent[DS_SENT_RING];
} ds_server_state;

/* Defined in server.c. */
extern ds_server_state ds_srv;

/* --- conn.c -------------------------------------------------------------- */

/* Index of the key, or -1. Every key is compared in constant time so the
 * answer's timing does not tell how much of a guess was right. */
int ds_key_lookup(const char *k, size_t n);
/* Frees every queued message. */
void ds_queue_free(ws_conn *c);
/* Queues a copy of data. force skips the size limits; it is for the few
 * bytes of an error notice or a close, which must not be refused. */
enqueue_result ds_enqueue(ws_conn *c, out_kind kind, const void *data, size_t len,
                          int force);
/* Takes the connection off its key, if it holds one. */
void ds_unregister(ws_conn *c);
/* Queues a close frame behind what is already queued and takes the
 * connection off its key at once, so later pushes cannot reach it. */
void ds_conn_close(ws_conn *c, int code, const char *reason);
/* On shutdown, a message not yet started is not worth waiting for; one
 * already partly on the wire must finish to keep the framing valid. */
void ds_queue_drop_unstarted(ws_conn *c);
/* Ends the TCP stream with no close frame, as a lost network would. */
void ds_conn_drop(ws_conn *c);

/* --- ws.c: the WebSocket reasons of the callback ------------------------- */

/* FILTER_PROTOCOL_CONNECTION, ESTABLISHED, RECEIVE, SERVER_WRITEABLE, TIMER
 * and CLOSED, in that order; each returns what the callback returns. */
int ds_ws_filter(struct lws *wsi);
int ds_ws_established(struct lws *wsi, ws_conn *c);
int ds_ws_receive(ws_conn *c, const void *in, size_t len);
int ds_ws_writeable(ws_conn *c);
int ds_ws_timer(ws_conn *c);
void ds_ws_closed(ws_conn *c);

/* --- http.c: the HTTP reasons of the callback, and answering ------------- */

/* Frees what the request owns and zeroes it. */
void ds_http_reset(http_req *r);
int ds_http_begin(struct lws *wsi, http_req *r, const char *uri);
int ds_http_body(http_req *r, const void *in, size_t len);
/* Answers the request once it is whole (once only). */
int ds_http_route(struct lws *wsi, http_req *r);
int ds_http_writeable(struct lws *wsi, http_req *r);
/* Answers with status and a copy of json as an application/json body. */
int ds_respond_json(struct lws *wsi, http_req *r, unsigned status, const char *json);
/* Key index from X-Doctor-Key: -2 when the header is missing, -1 unknown. */
int ds_request_key(struct lws *wsi);
/* Value of query argument `name_eq` ("raw=") or NULL; borrowed from buf. */
const char *ds_query(struct lws *wsi, const char *name_eq, char *buf, int len);
/* Answers the two key errors shared by push and admin. Returns 1 if it did
 * (and *rc is the callback's return), 0 if idx is a known key. */
int ds_key_error(struct lws *wsi, http_req *r, int idx, int is_push, int *rc);

/* --- push.c -------------------------------------------------------------- */

/*
 * Renders the document, stores it behind a signed link and builds the
 * report_ready message. json_text is the object's original text. Returns a
 * malloc'd message (the caller frees it) or NULL.
 */
char *ds_build_report_ready(const cJSON *report, const char *json_text,
                            size_t json_len, size_t *msg_len);
/* POST /reports/push. */
int ds_handle_push(struct lws *wsi, http_req *r);

/* --- admin.c ------------------------------------------------------------- */

/* POST /admin/<what>: close, pong, drop or files. */
int ds_handle_admin(struct lws *wsi, http_req *r, const char *what);
/* GET /admin/sent. */
int ds_handle_sent(struct lws *wsi, http_req *r);

#endif
