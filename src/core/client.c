/* client.c - the public API of reportlink_core.h: creating and destroying
 * a client, the commands (connect, disconnect, a new URL, key or ping
 * interval, a DOCX download) and the command queue that carries them to the
 * service thread, the status snapshot.
 *
 * Threads: rl_client_create and rl_client_destroy run on the owner's thread
 * (destroy never from the callback); the commands and rl_client_get_status on
 * any thread: they only take `lock` (the queue) or `status_lock` (the
 * snapshot), briefly, and never wait for the network. The queue's other end,
 * rl__drain_commands and run_command, runs on the service thread.
 *
 * Ownership: the client is its creator's until rl_client_destroy. A
 * command's text is the queue's until run_command takes it (a URL is copied,
 * a key becomes c->key); every copy of a key is wiped before it is freed. */
#include "client_internal.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ time */

static int64_t default_clock(void *user)
{
    return rl_os_monotonic_ms();
}

static uint32_t default_random(void *user)
{
    uint32_t r = 0;
    if (rl_os_random(&r, sizeof r) != 0)
        r = (uint32_t)default_clock(NULL) * 2654435761u;   /* never expected */
    return r;
}

/* --------------------------------------------------------------- secrets */

static void wipe_free(char *s)
{
    if (s) {
        rl_os_wipe(s, strlen(s));
        free(s);
    }
}

/* -------------------------------------------------------------- commands */

static int set_target(rl_client *c, const char *url)
{
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    free(c->url);
    c->url = copy;
    c->target_ok = rl__url_parse(url, &c->target, c->target_err, sizeof c->target_err) == RL_OK;
    if (c->target_ok)
        rl__fsm_set_endpoint(&c->fsm, &c->target);
    return RL_OK;
}

static void run_command(rl_client *c, command *cmd)
{
    switch (cmd->kind) {
    case CMD_CONNECT:
        rl__feed(c, RL__IN_CONNECT, 0, 0, NULL);
        break;
    case CMD_DISCONNECT:
        rl__feed(c, RL__IN_DISCONNECT, 0, 0, NULL);
        break;
    case CMD_SET_URL:
        if (!c->url || strcmp(c->url, cmd->text) != 0) {
            set_target(c, cmd->text);
            /* A failure belongs to its address: the new one has none yet. */
            c->fsm.last_error[0] = '\0';
            c->fsm.last_error_kind = RL_ERROR_NONE;
            c->fsm.last_error_at = 0;
            c->fsm.last_close_code = 0;
            rl__publish_status(c);
            rl__feed(c, RL__IN_RECONFIGURE, 0, 0, NULL);
        }
        free(cmd->text);
        break;
    case CMD_SET_KEY:
        if (!c->key || strcmp(c->key, cmd->text) != 0) {
            wipe_free(c->key);
            c->key = cmd->text;
            rl__feed(c, RL__IN_RECONFIGURE, 0, 0, NULL);
        } else {
            wipe_free(cmd->text);
        }
        break;
    case CMD_SET_PING:
        c->fsm.cfg.ping_interval_ms = cmd->value;
        break;
    case CMD_FETCH_DOCX:
        rl__tls_ensure_trust(c, cmd->text);   /* an https:// link needs it (client_connect.c) */
        rl__fetch_start(&c->fetcher, cmd->id, cmd->text);
        free(cmd->text);
        break;
    case CMD_SHUTDOWN:
        rl__fetch_cancel_all(&c->fetcher);
        rl__feed(c, RL__IN_DISCONNECT, 0, 0, NULL);
        c->exit_loop = 1;
        c->exit_deadline = rl__now_ms(c) + RL__CLOSE_WAIT_MS;
        break;
    }
    cmd->text = NULL;
}

/* Runs every queued command. A link is opened once, after the last of them:
 * each URL or key change reconnects, and a burst of them would otherwise open
 * (and abort) one socket per command before libwebsockets gets a turn to free
 * any, until it refuses new sockets ("Too many fds"). */
void rl__drain_commands(rl_client *c)
{
    c->draining = 1;
    for (;;) {
        command cmd;
        pthread_mutex_lock(&c->lock);
        if (!c->q_len) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        cmd = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % RL_MAX_COMMANDS;
        c->q_len--;
        pthread_mutex_unlock(&c->lock);
        run_command(c, &cmd);
    }
    c->draining = 0;
    if (c->open_deferred) {
        c->open_deferred = 0;
        if (c->fsm.state == RL_STATE_CONNECTING && !c->wsi)
            rl__open_link(c);
    }
}

static int enqueue_id(rl_client *c, cmd_kind kind, char *text, int value, uint64_t id)
{
    int rc = RL_OK;
    pthread_mutex_lock(&c->lock);
    if (c->shutting_down && kind != CMD_SHUTDOWN) {
        rc = RL_ERR_STATE;
    } else if (c->q_len == RL_MAX_COMMANDS) {
        rc = RL_ERR_FULL;
    } else {
        command *cmd = &c->queue[(c->q_head + c->q_len) % RL_MAX_COMMANDS];
        cmd->kind = kind;
        cmd->text = text;
        cmd->value = value;
        cmd->id = id;
        c->q_len++;
        if (kind == CMD_SHUTDOWN)
            c->shutting_down = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == RL_OK)
        lws_cancel_service(c->ctx);
    return rc;
}

static int enqueue(rl_client *c, cmd_kind kind, char *text, int value)
{
    return enqueue_id(c, kind, text, value, 0);
}

/* ------------------------------------------------------------------ API */

rl_client *rl_client_create(const rl_client_config *cfg, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    rl_client *c = calloc(1, sizeof *c);
    rl__url probe;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!cfg->url || rl__url_parse(cfg->url, &probe, err, errlen) != RL_OK)
        goto fail_early;
    if (cfg->key && strlen(cfg->key) >= RL_MAX_KEY) {
        snprintf(err, errlen, "the doctor key is too long");
        goto fail_early;
    }
    c->on_event = cfg->on_event;
    c->user = cfg->user;
    c->clock = cfg->clock ? cfg->clock : default_clock;
    c->random_fn = cfg->random_fn ? cfg->random_fn : default_random;
    c->clock_user = cfg->clock_user;
    c->no_docx = cfg->no_docx;
    c->pong_rtt_us = -1;
    rl_buf_init(&c->rx, RL_MAX_MESSAGE_BYTES);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->status_lock, NULL);

    rl__fsm_config fc = {
        .ping_interval_ms = cfg->ping_interval_ms,
        .pong_timeout_ms = cfg->pong_timeout_ms,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .backoff_base_ms = cfg->backoff_base_ms,
        .backoff_cap_ms = cfg->backoff_cap_ms,
    };
    rl__fsm_init(&c->fsm, &fc, c->random_fn, c->clock_user);
    if ((cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file))) ||
        set_target(c, cfg->url) != RL_OK || !(c->key = strdup(cfg->key ? cfg->key : ""))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = rl__protocols;
    info.options = 0;   /* no TLS yet: rl__tls_ensure_trust sets it up when a TLS connection comes */
    info.user = c;
    info.fd_limit_per_thread = 8 + RL_MAX_FETCHES;   /* the link, a closing one, downloads */
    /* lws' own limit for DNS + TCP + TLS + upgrade; our state machine has its
     * own connect deadline as well. */
    info.timeout_secs = (unsigned)(c->fsm.cfg.connect_timeout_ms / 1000 + 1);
    /* ... and it would cut a slow DOCX answer short: fetch.c has its own
     * RL_DOCX_TIMEOUT_MS deadline, which must be the one that decides. */
    if (info.timeout_secs < RL_DOCX_TIMEOUT_MS / 1000 + 5)
        info.timeout_secs = RL_DOCX_TIMEOUT_MS / 1000 + 5;
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        goto fail;
    }
    if (rl__fetch_init(&c->fetcher, c->ctx, rl__emit_docx, c) != RL_OK) {
        snprintf(err, errlen, "out of memory");
        lws_context_destroy(c->ctx);
        goto fail;
    }
    if (cfg->autostart) {
        command *cmd = &c->queue[0];
        cmd->kind = CMD_CONNECT;
        c->q_len = 1;
    }
    if (pthread_create(&c->thread, NULL, rl__service_main, c) != 0) {
        snprintf(err, errlen, "cannot start the network thread");
        lws_context_destroy(c->ctx);
        rl__fetch_free(&c->fetcher);
        goto fail;
    }
    if (cfg->autostart)
        lws_cancel_service(c->ctx);
    return c;

fail:
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->status_lock);
    free(c->ca_file);
    free(c->url);
    wipe_free(c->key);
fail_early:
    free(c);
    return NULL;
}

void rl_client_destroy(rl_client *c)
{
    if (!c)
        return;
    while (enqueue(c, CMD_SHUTDOWN, NULL, 0) == RL_ERR_FULL) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    pthread_join(c->thread, NULL);
    lws_context_destroy(c->ctx);
    SSL_CTX_free(c->tls_ctx);   /* ours: lws never frees a provided SSL_CTX */
    rl__fetch_free(&c->fetcher);
    for (unsigned i = 0; i < c->q_len; i++) {
        command *cmd = &c->queue[(c->q_head + i) % RL_MAX_COMMANDS];
        if (cmd->kind == CMD_SET_KEY)
            wipe_free(cmd->text);
        else
            free(cmd->text);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->status_lock);
    rl_buf_free(&c->rx);
    free(c->ca_file);
    free(c->url);
    wipe_free(c->key);
    free(c);
}

int rl_client_connect(rl_client *c)
{
    return enqueue(c, CMD_CONNECT, NULL, 0);
}

int rl_client_disconnect(rl_client *c)
{
    return enqueue(c, CMD_DISCONNECT, NULL, 0);
}

int rl_client_set_url(rl_client *c, const char *url)
{
    rl__url probe;
    if (!url || rl__url_parse(url, &probe, NULL, 0) != RL_OK)
        return RL_ERR_INVALID;
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    int rc = enqueue(c, CMD_SET_URL, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

int rl_client_set_key(rl_client *c, const char *key)
{
    if (!key || strlen(key) >= RL_MAX_KEY)
        return RL_ERR_INVALID;
    char *copy = strdup(key);
    if (!copy)
        return RL_ERR_NOMEM;
    int rc = enqueue(c, CMD_SET_KEY, copy, 0);
    if (rc)
        wipe_free(copy);
    return rc;
}

int rl_client_set_ping_interval(rl_client *c, int ms)
{
    if (ms < 100)
        return RL_ERR_INVALID;
    return enqueue(c, CMD_SET_PING, NULL, ms);
}

int rl_client_fetch_docx(rl_client *c, const char *url, uint64_t *id_out)
{
    if (!url || !id_out)
        return RL_ERR_INVALID;
    char *copy = strdup(url);
    if (!copy)
        return RL_ERR_NOMEM;
    uint64_t id = atomic_fetch_add(&c->next_fetch_id, 1) + 1;
    int rc = enqueue_id(c, CMD_FETCH_DOCX, copy, 0, id);
    if (rc)
        free(copy);
    else
        *id_out = id;
    return rc;
}

void rl_client_get_status(rl_client *c, rl_status *out)
{
    pthread_mutex_lock(&c->status_lock);
    *out = c->status;
    pthread_mutex_unlock(&c->status_lock);
}
