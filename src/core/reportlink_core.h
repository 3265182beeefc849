/*
 * reportlink_core.h - the report-service client, without LibreOffice.
 *
 * A client owns one libwebsockets context and one service thread. Every
 * rl_client_* function except create/destroy only enqueues a command under a
 * lock and wakes the service thread, so it never blocks on the network and may
 * be called from any thread. The client reports back through one callback,
 * always called on its service thread.
 *
 * Protocol: shared/spec/report-service-websocket.{fr,en}.md. Design notes:
 * src/core/README.md.
 */
#ifndef REPORTLINK_CORE_H
#define REPORTLINK_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "rl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits. Exceeding one is a handled, reported event, never a crash. */
#define RL_MAX_MESSAGE_BYTES   (16u * 1024u * 1024u) /* larger: close 1009 */
#define RL_MAX_JSON_DEPTH      16    /* nesting of objects/arrays in a message */
#define RL_MAX_REPORT_FIELDS   256   /* keys in json_report */
#define RL_MAX_DETAIL          256   /* bytes of a state detail, with NUL */
#define RL_MAX_URL             2048  /* bytes of an endpoint URL */
#define RL_MAX_KEY             4096  /* bytes of a doctor key */
#define RL_MAX_COMMANDS        64    /* pending commands to the service thread */
#define RL_MAX_DOCX_BYTES      (32u * 1024u * 1024u) /* a report's signed DOCX */
#define RL_DOCX_TIMEOUT_MS     20000 /* a DOCX download, from start to last byte */
#define RL_MAX_FETCHES         8     /* DOCX downloads in flight at once */

/* rl_ functions return RL_OK or an RL_ERR_* code of the one error table
 * (src/base/rl_error.h): RL_ERR_NOMEM, RL_ERR_INVALID (a bad argument: see the
 * error string), RL_ERR_FULL (the command queue is full), RL_ERR_STATE (not
 * allowed now, e.g. the client is shutting down), RL_ERR_SYSTEM (a thread or
 * the lws context could not be created). */

typedef enum rl_state {
    RL_STATE_STOPPED = 0,
    RL_STATE_CONNECTING,
    RL_STATE_AUTHENTICATING,
    RL_STATE_CONNECTED,
    RL_STATE_BACKOFF,
    RL_STATE_AUTH_FAILED,
    RL_STATE_REPLACED
} rl_state;

/* What rl_url_check() found wrong with an endpoint URL: a code, so that a
 * user interface can say it in its own language. */
typedef enum rl_url_problem {
    RL_URL_OK = 0,
    RL_URL_EMPTY,
    RL_URL_TOO_LONG,          /* the URL, or its path */
    RL_URL_BAD_CHARACTERS,    /* spaces, control or non-ASCII characters */
    RL_URL_BAD_SCHEME,        /* not ws:// or wss:// */
    RL_URL_CREDENTIALS,       /* user:password@ is refused */
    RL_URL_BAD_HOST,          /* missing, too long or malformed host */
    RL_URL_BAD_PORT
} rl_url_problem;

/* Checks url exactly as the client will parse it. On RL_URL_OK, *tls is 1
 * for wss:// and *loopback 1 for localhost, 127.0.0.0/8 in strict dotted
 * decimal, [::1] or [::ffff:127.x.y.z] (both are left alone otherwise). */
rl_url_problem rl_url_check(const char *url, int *tls, int *loopback);

/* The host of a ws:// or wss:// URL (no port, path or credentials) into
 * out; RL_OK or RL_ERR_INVALID. */
int rl_url_host(const char *url, char *out, size_t cap);

/* "stopped", "connecting", ... : the names used in JSON output and UNO. */
const char *rl_state_name(rl_state s);

/* What the last connection error was, for words in the user's language
 * (rl_status.last_error holds the English detail). */
/* The subset of the one error table (rl_error.h) a link failure can be. */
typedef enum rl_error_kind {
    RL_ERROR_NONE = RL_OK,
    RL_ERROR_UNREACHABLE = RL_ERR_UNREACHABLE,   /* no TCP connection / the handshake failed */
    RL_ERROR_TLS = RL_ERR_TLS,                   /* the server's certificate or TLS was refused */
    RL_ERROR_NO_ANSWER = RL_ERR_NO_ANSWER,       /* connect timeout */
    RL_ERROR_LINK_DEAD = RL_ERR_LINK_DEAD,       /* no pong within the pong timeout */
    RL_ERROR_CLOSED = RL_ERR_CLOSED,             /* closed: see last_close_code */
    RL_ERROR_KEY_REFUSED = RL_ERR_KEY_REFUSED    /* closed with 1008 */
} rl_error_kind;

/* rl_err_name() ("unreachable", "tls", "no_answer", "link_dead", "closed",
 * "key_refused"), and "" for none. */
const char *rl_error_kind_name(rl_error_kind k);

/* One json_report entry. Both strings are NUL-terminated UTF-8 and owned by
 * the report. */
typedef struct rl_field {
    char *key;
    char *value;
} rl_field;

/* A validated report_ready message. Owns every string it points to; free
 * with rl_report_free(). Absent (or JSON null) representations are NULL. */
typedef struct rl_report {
    char *url;
    char *html_content;
    char *rtf_report;
    char *plaintext_report;
    rl_field *fields;   /* json_report entries, in message order */
    size_t n_fields;
    int has_json_report;
    char *raw;          /* the whole message as received (valid UTF-8 JSON) */
    size_t raw_len;
    int64_t received_us; /* CLOCK_MONOTONIC, microseconds: its last byte arrived
                            (set by the client; 0 for reports made otherwise) */
    uint64_t docx_fetch;  /* the client started fetching url: exactly one
                            RL_EVENT_DOCX with this fetch id follows; 0: none */
} rl_report;

void rl_report_free(rl_report *r);
/* Value of json_report[key], or NULL. Borrowed from the report. */
const char *rl_report_field(const rl_report *r, const char *key);

/* Why a report's DOCX could not be had. The names (rl_docx_error_name) are
 * stable: the extension turns them into words in the doctor's language. */
/* The subset of the one error table (rl_error.h) a download's outcome can be. */
typedef enum rl_docx_error {
    RL_DOCX_OK = RL_OK,
    RL_DOCX_EXPIRED = RL_ERR_EXPIRED,          /* 403 whose body says "link expired" */
    RL_DOCX_FORBIDDEN = RL_ERR_FORBIDDEN,      /* any other 403 (a bad signature), 401 */
    RL_DOCX_NOT_FOUND = RL_ERR_NOT_FOUND,      /* 404, 410 */
    RL_DOCX_HTTP = RL_ERR_HTTP,                /* any other status but 200, redirects included */
    RL_DOCX_TIMEOUT = RL_ERR_TIMEOUT,          /* not complete within RL_DOCX_TIMEOUT_MS */
    RL_DOCX_TOO_LARGE = RL_ERR_TOO_LARGE,      /* above RL_MAX_DOCX_BYTES */
    RL_DOCX_NOT_DOCX = RL_ERR_NOT_DOCX,        /* 200, but not a Word document (see src/core/README.md) */
    RL_DOCX_TLS = RL_ERR_TLS,                  /* the certificate or the TLS handshake failed */
    RL_DOCX_UNREACHABLE = RL_ERR_UNREACHABLE,  /* DNS, TCP, connection cut before the end */
    RL_DOCX_BAD_URL = RL_ERR_BAD_URL,          /* not an http:// or https:// URL we accept */
    RL_DOCX_CANCELLED = RL_ERR_CANCELLED       /* the client stopped, or too many downloads at once */
} rl_docx_error;

/* rl_err_name(): "ok", "expired", "forbidden", "not_found", "http", "timeout",
 * "too_large", "not_docx", "tls", "unreachable", "bad_url", "cancelled". Never NULL. */
const char *rl_docx_error_name(rl_docx_error e);

/* The outcome of one DOCX download. */
typedef struct rl_docx {
    uint64_t fetch_id;          /* rl_report.docx_fetch, or rl_client_fetch_docx's id */
    rl_docx_error error;
    int http_status;            /* 0 when no answer came */
    char detail[RL_MAX_DETAIL]; /* for logs, English, never the URL's signature */
    unsigned char *bytes;       /* RL_DOCX_OK: the document (owned), else NULL */
    size_t len;
} rl_docx;

/* Frees d and its bytes. NULL is fine. */
void rl_docx_free(rl_docx *d);

typedef enum rl_event_kind {
    RL_EVENT_STATE,        /* state, attempt, retry_in_ms, detail */
    RL_EVENT_REPORT,       /* report: ownership passes to the callback */
    RL_EVENT_SERVER_ERROR, /* code, message */
    RL_EVENT_REJECTED,     /* reason */
    RL_EVENT_HEARTBEAT,    /* rtt_ms: a pong arrived */
    RL_EVENT_DOCX          /* docx: ownership passes to the callback */
} rl_event_kind;

typedef struct rl_event {
    rl_event_kind kind;
    rl_state state;
    unsigned attempt;        /* backoff: number of this retry, from 1 */
    int64_t retry_in_ms;     /* backoff: delay until the next try */
    const char *detail;      /* state: human detail, never contains the key */
    rl_report *report;       /* report: the callback owns it and frees it */
    int code;                /* server_error: the "code" member */
    const char *message;     /* server_error: the "message" member */
    const char *reason;      /* rejected: why, precise, no report content */
    int64_t rtt_ms;          /* heartbeat */
    rl_docx *docx;           /* docx: the callback owns it (rl_docx_free) */
} rl_event;

/* Called on the service thread. Borrowed strings are valid only during the
 * call. It must not block for long and must not call rl_client_destroy. */
typedef void (*rl_event_fn)(void *user, const rl_event *ev);

/* Injected time and randomness (for tests); NULL selects the real ones. */
typedef int64_t (*rl_clock_fn)(void *user);           /* monotonic ms */
typedef uint32_t (*rl_random_fn)(void *user);         /* uniform 32 bits */

typedef struct rl_client_config {
    const char *url;            /* ws:// or wss:// */
    const char *key;            /* doctor key; copied, wiped on destroy */
    const char *ca_file;        /* extra PEM CA file, or NULL */
    int ping_interval_ms;       /* 0: 30000 */
    int pong_timeout_ms;        /* 0: 10000 */
    int connect_timeout_ms;     /* 0: 15000 (TCP + TLS + WebSocket handshake) */
    int backoff_base_ms;        /* 0: 1000. Retry n waits random(0, min(cap, base*2^(n-1))) */
    int backoff_cap_ms;         /* 0: 60000. Both only for tests and diagnostics */
    int autostart;              /* connect as soon as the thread runs */
    int no_docx;                /* do not fetch reports' DOCX (docx_fetch stays 0);
                                   rl_client_fetch_docx still works */
    rl_event_fn on_event;
    void *user;
    rl_clock_fn clock;          /* NULL: CLOCK_MONOTONIC */
    rl_random_fn random_fn;     /* NULL: the system's generator (rl_os_random). (Not "random":
                                   libwebsockets.h defines random as rand on Windows.) */
    void *clock_user;
} rl_client_config;

typedef struct rl_client rl_client;

/* Creates the client and starts its service thread. On failure returns NULL
 * and, if err is not NULL, writes a message into err (errlen bytes). The
 * caller owns the client and destroys it with rl_client_destroy(). */
rl_client *rl_client_create(const rl_client_config *cfg, char *err, size_t errlen);

/* Closes the connection with 1000 (waiting at most ~1 s for the close
 * handshake), stops the thread and frees everything. Not from the callback. */
void rl_client_destroy(rl_client *c);

/* Thread-safe commands; each returns RL_OK or RL_ERR_FULL/RL_ERR_INVALID. */
int rl_client_connect(rl_client *c);       /* also resumes auth_failed/replaced */
int rl_client_disconnect(rl_client *c);    /* close 1000, state stopped */
int rl_client_set_url(rl_client *c, const char *url);  /* reconnects now */
int rl_client_set_key(rl_client *c, const char *key);  /* reconnects now */
int rl_client_set_ping_interval(rl_client *c, int ms);

/* Starts downloading url (http:// or https://) on the service thread, with
 * the WebSocket's TLS settings, RL_MAX_DOCX_BYTES and RL_DOCX_TIMEOUT_MS, no
 * redirect followed. Reports from the service get this automatically (see
 * rl_report.docx_fetch); this is for reports that came another way. *id_out
 * receives the fetch id: one RL_EVENT_DOCX with it follows, always, also
 * when the client is destroyed first (error RL_DOCX_CANCELLED). Returns RL_OK,
 * or RL_ERR_FULL/RL_ERR_STATE/RL_ERR_NOMEM and then no event follows. */
int rl_client_fetch_docx(rl_client *c, const char *url, uint64_t *id_out);

/* A consistent snapshot of the connection, safe from any thread. */
typedef struct rl_status {
    rl_state state;
    unsigned attempt;
    int64_t retry_at_ms;        /* clock time of the next try, 0 if none */
    int64_t last_pong_ms;       /* clock time of the last pong, 0 if none */
    int64_t last_rtt_ms;        /* -1 if none */
    uint64_t reports_received;
    uint64_t messages_rejected;
    int last_close_code;        /* 0 if none */
    rl_error_kind last_error_kind;
    int64_t last_error_ms;      /* clock time of last_error, 0 if none */
    char detail[RL_MAX_DETAIL];
    char last_error[RL_MAX_DETAIL];
    char endpoint[RL_MAX_URL];  /* the URL, never with credentials */
} rl_status;

void rl_client_get_status(rl_client *c, rl_status *out);

/* Validates one incoming text message (see src/core/README.md for the rules).
 * On success returns RL_OK and, for a report, *report_out receives a new
 * report the caller frees; for an error message, *kind_out is
 * RL_EVENT_SERVER_ERROR and code/message are filled (message: caller frees).
 * On failure returns RL_ERR_INVALID and writes the reason into reason. */
int rl_validate_message(const char *buf, size_t len, rl_event_kind *kind_out,
                        rl_report **report_out, int *code_out, char **message_out,
                        char *reason, size_t reasonlen);

#ifdef __cplusplus
}
#endif
#endif
