/*
 * core_internal.h - the socket-free parts of the core, shared by its files and
 * its unit tests (rl__ names; not part of the public surface).
 */
#ifndef REPORTLINK_CORE_INTERNAL_H
#define REPORTLINK_CORE_INTERNAL_H

#include "reportlink_core.h"

/* ---- url.c -------------------------------------------------------------- */

#define RL__MAX_HOST 256
#define RL__MAX_PATH 1024

typedef struct rl__url {
    int tls;                    /* wss:// */
    char host[RL__MAX_HOST];    /* without brackets for IPv6 literals */
    int port;
    char path[RL__MAX_PATH];    /* begins with '/', includes the query */
    int loopback;               /* localhost, 127.0.0.0/8 in strict dotted decimal,
                                   [::1] or [::ffff:127.x.y.z] */
    int problem;                /* rl_url_problem: RL_URL_OK, or why parsing failed */
} rl__url;

/* Parses a ws:// or wss:// URL. Returns RL_OK or RL_ERR_INVALID with a
 * message in err. User info ("user:pass@") is refused: it would be a secret
 * in a place that gets displayed. */
int rl__url_parse(const char *url, rl__url *out, char *err, size_t errlen);

/* ---- scan.c ------------------------------------------------------------- */

/* Checks what cJSON does not: strict UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), no NUL byte, no \u0000 escape (it would silently
 * cut a C string), and nesting no deeper than RL_MAX_JSON_DEPTH. Returns
 * RL_OK or RL_ERR_INVALID with the reason and the byte offset. */
int rl__scan_text(const char *buf, size_t len, char *reason, size_t reasonlen);

/* The same UTF-8 rules for text that arrives in pieces (a WebSocket message,
 * frame by frame, read buffer by buffer): a sequence may be cut anywhere, and
 * an invalid one is found at its first impossible byte. Start from {0}. */
typedef struct rl__utf8 {
    unsigned char held[4];      /* the start of a sequence cut by the last piece */
    unsigned n;
} rl__utf8;
/* RL_OK while everything fed can still be valid UTF-8, else RL_ERR_INVALID. */
int rl__utf8_feed(rl__utf8 *u, const unsigned char *s, size_t len);
/* RL_OK when what was fed ends on a whole character. */
int rl__utf8_end(const rl__utf8 *u);

/* ---- backoff.c ---------------------------------------------------------- */

#define RL__BACKOFF_BASE_MS   1000
#define RL__BACKOFF_CAP_MS    60000

/* Full jitter: a delay drawn uniformly from [0, min(cap, base * 2^(attempt-1))]
 * using random32 as the random draw. attempt counts from 1. */
int64_t rl__backoff_delay(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                          uint32_t random32);

/* ---- fsm.c -------------------------------------------------------------- */

#define RL__STABLE_AFTER_MS      30000  /* authenticated this long: reset backoff */
#define RL__TAKEOVER_LIMIT       3      /* server closes of a live session ... */
#define RL__TAKEOVER_WINDOW_MS   60000  /* ... within this window: "replaced" */

typedef struct rl__fsm_config {
    int64_t ping_interval_ms;
    int64_t pong_timeout_ms;
    int64_t connect_timeout_ms;
    int64_t backoff_base_ms;
    int64_t backoff_cap_ms;
} rl__fsm_config;

typedef enum rl__input_kind {
    RL__IN_CONNECT,       /* the owner asks to connect (also resumes) */
    RL__IN_DISCONNECT,    /* the owner asks to disconnect */
    RL__IN_RECONFIGURE,   /* URL or key changed: reconnect at once */
    RL__IN_ESTABLISHED,   /* WebSocket handshake completed */
    RL__IN_CONNECT_ERROR, /* failed before the handshake completed: text */
    RL__IN_PONG,
    RL__IN_REPORT,        /* any valid report_ready */
    RL__IN_CLOSED,        /* established link ended: code, by_server, text */
    RL__IN_TIMER          /* a deadline may have passed */
} rl__input_kind;

typedef struct rl__input {
    rl__input_kind kind;
    int code;             /* CLOSED: close code, 1006 when none was received;
                             CONNECT_ERROR: an rl_error_kind (0: unreachable) */
    int by_server;        /* CLOSED: the server sent a close frame */
    const char *text;     /* CONNECT_ERROR / CLOSED: reason, may be NULL */
} rl__input;

enum {
    RL__ACT_ABORT = 1 << 0,     /* drop the current link without a close frame */
    RL__ACT_CLOSE = 1 << 1,     /* close the current link with close_code */
    RL__ACT_OPEN = 1 << 2,      /* open a new link */
    RL__ACT_SEND_AUTH = 1 << 3, /* send {"doctor_key": ...} */
    RL__ACT_SEND_PING = 1 << 4  /* send "ping" */
};

typedef struct rl__output {
    unsigned actions;   /* executed in the order of the bits above */
    int close_code;
    int state_changed;  /* state, attempt or detail changed: tell the owner */
} rl__output;

typedef struct rl__fsm {
    rl__fsm_config cfg;
    rl_state state;
    unsigned attempt;          /* consecutive failures; the next retry's number */
    int64_t retry_at;          /* backoff: when to open again */
    int64_t connect_deadline;  /* connecting: give up at */
    int64_t pong_deadline;     /* a ping is outstanding until */
    int64_t ping_sent_at;
    int64_t next_ping_at;
    int64_t authed_at;         /* when this link was first proven authenticated */
    int64_t last_rtt_ms;       /* -1: none yet */
    int64_t last_pong_at;
    int64_t takeovers[RL__TAKEOVER_LIMIT]; /* times of recent suspicious closes */
    unsigned n_takeovers;
    int last_close_code;
    rl_error_kind last_error_kind;
    int64_t last_error_at;     /* clock time of last_error, 0 if none */
    int unencrypted_remote;    /* ws:// to a non-loopback host: say so */
    char endpoint_host[RL__MAX_HOST];
    rl_random_fn random_fn;
    void *random_user;
    char detail[RL_MAX_DETAIL];
    char last_error[RL_MAX_DETAIL];
} rl__fsm;

void rl__fsm_init(rl__fsm *f, const rl__fsm_config *cfg, rl_random_fn random_fn,
                  void *random_user);
/* Records where the next links go, for the state details. */
void rl__fsm_set_endpoint(rl__fsm *f, const rl__url *u);
/* Feeds one input at time now; out says what the caller must do. */
void rl__fsm_step(rl__fsm *f, const rl__input *in, int64_t now, rl__output *out);
/* The earliest pending deadline, or 0 when none: call step(TIMER) then. */
int64_t rl__fsm_next_deadline(const rl__fsm *f);
/* Plain words for a close code ("connection lost", ...). Never NULL. */
const char *rl__close_code_text(int code);

/* ---- docx.c ------------------------------------------------------------- */

/* Whether buf looks like a Word document: a ZIP file (local header magic
 * "PK\3\4" at offset 0) whose central directory, found through the end
 * record, names both "[Content_Types].xml" and "word/document.xml". Does
 * not decompress anything. RL_OK, or RL_ERR_INVALID with why. */
int rl__docx_check(const unsigned char *buf, size_t len, char *why, size_t cap);

/* What an HTTP answer other than 200 means for a DOCX download; body is
 * the start of the answer's body (may be NULL). */
rl_docx_error rl__docx_status_error(int status, const char *body, size_t len);

/* Turns an http:// or https:// URL into the parts to connect to (RL_OK),
 * or RL_ERR_INVALID with the reason. */
int rl__http_url_parse(const char *url, rl__url *out, char *err, size_t errlen);

/* ---- fetch.c ------------------------------------------------------------ */

struct lws;
struct lws_context;

typedef struct rl__fetch_job rl__fetch_job;

/* The DOCX downloads of one client; lives on its service thread. */
typedef struct rl__fetcher {
    struct lws_context *ctx;
    void (*emit)(void *user, rl_docx *d);   /* takes d */
    void *user;
    rl__fetch_job *jobs;                    /* RL_MAX_FETCHES slots */
} rl__fetcher;

int rl__fetch_init(rl__fetcher *f, struct lws_context *ctx,
                   void (*emit)(void *user, rl_docx *d), void *user);
/* Starts fetch id for url; every outcome, failure to start included, is
 * emitted once. Service thread. */
void rl__fetch_start(rl__fetcher *f, uint64_t id, const char *url);
/* Ends every download in flight with RL_DOCX_CANCELLED. Service thread. */
void rl__fetch_cancel_all(rl__fetcher *f);
void rl__fetch_free(rl__fetcher *f);
/* The lws protocol callback of the downloads ("reportlink-http"). */
int rl__fetch_callback(rl__fetcher *f, struct lws *wsi, int reason, void *user, void *in,
                       size_t len);
#define RL__FETCH_PROTOCOL "reportlink-http"

#endif
