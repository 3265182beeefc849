/* client_internal.h - what the files of the client share (rl__ names).
 *
 * Private to src/core/client*.c; the rest of the world reaches the client
 * through reportlink_core.h only.
 *
 * Threads: only the service thread touches libwebsockets and the state
 * machine. Other threads put commands into a bounded queue under `lock` and
 * wake the thread with lws_cancel_service(); it drains the whole queue on
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED (wake-ups merge, so one drain may serve
 * several commands). The status snapshot has its own lock so that readers
 * never wait behind the network. Which fields each may touch is marked in
 * struct rl_client below.
 *
 * Links: each connection attempt gets a new generation number, stored as the
 * wsi's opaque user data. Events of an older generation (a link we already
 * closed or dropped) are never fed to the state machine. */
#ifndef RL_CLIENT_INTERNAL_H
#define RL_CLIENT_INTERNAL_H

#include "core_internal.h"

#include "buf.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define RL__RX_KEEP_BYTES   (1u << 20)  /* keep a receive buffer this big between messages */
#define RL__CLOSE_WAIT_MS   1000        /* destroy waits this long for the close handshake */
#define RL__PENDING_INPUTS  8           /* inputs raised while another is processed */

typedef enum cmd_kind {
    CMD_CONNECT,
    CMD_DISCONNECT,
    CMD_SET_URL,
    CMD_SET_KEY,
    CMD_SET_PING,
    CMD_FETCH_DOCX,
    CMD_SHUTDOWN
} cmd_kind;

typedef struct command {
    cmd_kind kind;
    char *text;     /* SET_URL / SET_KEY / FETCH_DOCX: owned by the queue until taken */
    int value;      /* SET_PING */
    uint64_t id;    /* FETCH_DOCX */
} command;

typedef struct pending_input {
    rl__input in;
    char text[RL_MAX_DETAIL];
} pending_input;

struct rl_client {
    /* Fixed at creation. */
    rl_event_fn on_event;
    void *user;
    rl_clock_fn clock;
    rl_random_fn random_fn;
    void *clock_user;
    char *ca_file;

    /* Command queue: shared, under lock. */
    pthread_mutex_t lock;
    command queue[RL_MAX_COMMANDS];
    unsigned q_head, q_len;
    int shutting_down;

    /* Status snapshot: shared, under status_lock. */
    pthread_mutex_t status_lock;
    rl_status status;

    /* Everything below belongs to the service thread. */
    pthread_t thread;
    struct lws_context *ctx;
    rl__fsm fsm;
    char *url;
    char *key;
    rl__url target;
    int target_ok;
    char target_err[RL_MAX_DETAIL];

    struct lws *wsi;            /* current link, or NULL */
    uintptr_t gen;              /* generation of the current link */
    uintptr_t next_gen;
    struct lws *closing;        /* a link being closed politely */
    uintptr_t closing_gen;
    int closing_code;

    int want_auth, want_ping;
    int64_t ping_sent_us;       /* when the last ping was written (monotonic), 0 once its pong came */
    int64_t pong_rtt_us;        /* the last ping's round trip, -1 before the first (service thread) */
    int peer_close_code;
    char peer_close_reason[128];
    /* A refused message or frame (refuse_link, rl__on_peer_close in
     * client_receive.c): the close code we send, the words for the state's
     * detail, and where we are: reading the rest of the frame to drop it, or
     * asking for the WRITEABLE callback that writes the close. */
    int refuse_code;
    const char *refuse_text;
    int refuse_discarding, refuse_closing;
    char link_error[RL_MAX_DETAIL];

    rl_buf rx;                  /* the text message being received, RL_MAX_MESSAGE_BYTES at most */
    size_t rx_binary_len;       /* the binary message being skipped: its bytes so far */
    int rx_binary;
    rl__utf8 rx_utf8;           /* the text message's UTF-8, checked as it comes */

    int draining;               /* commands are being run: see rl__drain_commands */
    int open_deferred;
    pending_input pending[RL__PENDING_INPUTS];
    unsigned n_pending;
    int stepping;

    lws_sorted_usec_list_t sul;
    int64_t sul_at;
    void *tls_ctx;              /* the vhost's client SSL_CTX, owned (freed after the context), or NULL */
    int trust_loaded;           /* rl__tls_ensure_trust has run */
    int exit_loop;
    int64_t exit_deadline;
    uint64_t reports, rejected;

    int no_docx;                /* fixed at creation */
    rl__fetcher fetcher;        /* the reports' DOCX downloads (fetch.c) */
    atomic_uint_fast64_t next_fetch_id;
};

/* The client's clock (injected for tests): monotonic milliseconds. */
static inline int64_t rl__now_ms(rl_client *c)
{
    return c->clock(c->clock_user);
}

/* ---------------------------------------------------------------- client.c */

/* Runs every queued command; a link they ask for is opened once, after the
 * last. Service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED. */
void rl__drain_commands(rl_client *c);

/* -------------------------------------------------------- client_service.c */

/* Feeds one input to the state machine and carries out what it says; text
 * is copied. Never re-entrant: an input raised meanwhile waits its turn. */
void rl__feed(rl_client *c, rl__input_kind kind, int code, int by_server, const char *text);
/* Hands ev to the owner's callback; a report or DOCX in it passes to the
 * owner (freed here when there is no callback). */
void rl__emit(rl_client *c, rl_event *ev);
/* A rejected event with reason (borrowed), counted in the status. */
void rl__emit_rejected(rl_client *c, const char *reason);
/* Copies the state machine and the counters into the status snapshot. */
void rl__publish_status(rl_client *c);
/* The fetcher's emit (user: the client): a DOCX event, d to the owner. */
void rl__emit_docx(void *user, rl_docx *d);
/* The context's protocols: "reportlink" (the WebSocket) and the downloads'. */
extern const struct lws_protocols rl__protocols[];
/* The service thread's body (arg: the client). Returns after the shutdown
 * command, once no link is left or RL__CLOSE_WAIT_MS have passed. */
void *rl__service_main(void *arg);

/* -------------------------------------------------------- client_receive.c */

/* Forgets the message being received; a buffer grown beyond
 * RL__RX_KEEP_BYTES is given back. */
void rl__drop_rx(rl_client *c);
/* LWS_CALLBACK_CLIENT_RECEIVE. Always 0: see "Refusing a message". */
int rl__on_receive(rl_client *c, struct lws *wsi, const unsigned char *in, size_t len);
/* LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: 0, or -1 to fail the link with the
 * close reason it set. */
int rl__on_peer_close(rl_client *c, struct lws *wsi, const unsigned char *p, size_t len);
/* Copies len bytes of in (may be NULL) into out, each byte that is not
 * printable ASCII as a space, cut to cap - 1 bytes. Returns out. */
const char *rl__clean_text(const void *in, size_t len, char *out, size_t cap);

/* -------------------------------------------------------- client_connect.c */

/* Opens a new link to c->target with a new generation, or feeds the
 * connect error when it cannot even start. */
void rl__open_link(rl_client *c);
/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: nothing to do (the
 * SSL_CTX is ours, rl__tls_ensure_trust). */
void rl__tls_load_trust(rl_client *c, void *ssl_ctx);
/* Sets up TLS once, before the first TLS connection - a wss:// link (url
 * NULL) or a download of url, if it is https://: an SSL_CTX with the
 * system store plus the CA file, given to the context's vhost. */
void rl__tls_ensure_trust(rl_client *c, const char *url);
/* trust_win.c: adds the Windows ROOT store's certificates (user and machine)
 * to ssl_ctx's trust store; returns how many, or -1 if the store cannot be
 * opened. Elsewhere the system store comes through OpenSSL's default paths:
 * it adds nothing and returns 0. */
int rl__tls_add_system_roots(void *ssl_ctx);
/* LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION; store_ctx: its
 * X509_STORE_CTX. Keeps the reason of a refusal in c->link_error. */
void rl__tls_verify_result(rl_client *c, int preverify_ok, void *store_ctx);
/* LWS_CALLBACK_CLIENT_CONNECTION_ERROR of the current link; in: lws' text. */
void rl__connect_error(rl_client *c, const char *in);

#endif
