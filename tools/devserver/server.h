/*
 * server.h - the report service's WebSocket endpoint and HTTP control API on
 * one libwebsockets context (design and HTTP reference: README.md).
 *
 * Only the thread that calls ds_server_run() touches libwebsockets.
 * ds_server_request_stop() is the one call allowed from another thread (the
 * signal thread): it sets a flag and wakes the service loop.
 */
#ifndef DS_SERVER_H
#define DS_SERVER_H

#include <stddef.h>

#define DS_MAX_KEYS          256
#define DS_MAX_KEY_BYTES     4096   /* same bound as the client's RL_MAX_KEY */

typedef struct ds_config {
    int port;                   /* 0: the kernel picks one */
    const char *bind;           /* IP literal; NULL means 127.0.0.1 */
    int auth_timeout_s;
    const char *tls_cert;       /* both or neither */
    const char *tls_key;
    int demo;
    int demo_delay_ms;
    int url_ttl_s;
    int pong_enabled;
    /* Accepted doctor keys, borrowed for the server's lifetime. Logs name a
     * key only by its index, as "key #<index + 1>". */
    const char *const *keys;
    const size_t *key_lens;
    size_t n_keys;
} ds_config;

/*
 * Creates the context and starts listening; then prints the one stdout line
 * {"event":"listening","port":N,"tls":B}. Returns 0, or -1 after logging why.
 * cfg must outlive the server.
 */
int ds_server_start(const ds_config *cfg);

/* Serves until a stop is requested and connections are closed (1001, at
 * most about a second), then destroys the context. Returns 0 or -1. */
int ds_server_run(void);

/* Thread-safe and async-signal-tolerant: asks the service loop to stop. */
void ds_server_request_stop(void);

#endif
