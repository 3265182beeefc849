/* fsm.c - the connection state machine, without sockets or clocks.
 *
 * Inputs are events (the owner's commands, what the link did, timers) with
 * the time they happened; outputs are the actions the caller must carry out
 * on the link. Everything here is deterministic given the random source, so
 * the unit tests can walk every transition. */
#include "core_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rl_state_name(rl_state s)
{
    switch (s) {
    case RL_STATE_STOPPED: return "stopped";
    case RL_STATE_CONNECTING: return "connecting";
    case RL_STATE_AUTHENTICATING: return "authenticating";
    case RL_STATE_CONNECTED: return "connected";
    case RL_STATE_BACKOFF: return "backoff";
    case RL_STATE_AUTH_FAILED: return "auth_failed";
    case RL_STATE_REPLACED: return "replaced";
    }
    return "unknown";
}

const char *rl__close_code_text(int code)
{
    switch (code) {
    case 1000: return "normal closure";
    case 1001: return "the service is going away";
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1006: return "connection lost";
    case 1007: return "invalid data";
    case 1008: return "key refused (policy violation)";
    case 1009: return "message too big";
    case 1011: return "server error";
    case 1012: return "the service is restarting";
    case 1013: return "try again later";
    case 1015: return "TLS failure";
    case 4000: return "generic error from the service";
    }
    return code >= 4000 && code < 5000 ? "error from the service" : "closed";
}

const char *rl_error_kind_name(rl_error_kind k)
{
    return k == RL_ERROR_NONE ? "" : rl_err_name(k);
}

static void set_detail(rl__fsm *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    if (f->unencrypted_remote) {
        size_t n = strlen(f->detail);
        snprintf(f->detail + n, sizeof f->detail - n, "%s",
                 " [unencrypted: ws:// to a host that is not this computer]");
    }
}

void rl__fsm_init(rl__fsm *f, const rl__fsm_config *cfg, rl_random_fn random_fn,
                  void *random_user)
{
    memset(f, 0, sizeof(*f));
    f->cfg = *cfg;
    if (f->cfg.ping_interval_ms <= 0) f->cfg.ping_interval_ms = 30000;
    if (f->cfg.pong_timeout_ms <= 0) f->cfg.pong_timeout_ms = 10000;
    if (f->cfg.connect_timeout_ms <= 0) f->cfg.connect_timeout_ms = 15000;
    if (f->cfg.backoff_base_ms <= 0) f->cfg.backoff_base_ms = RL__BACKOFF_BASE_MS;
    if (f->cfg.backoff_cap_ms <= 0) f->cfg.backoff_cap_ms = RL__BACKOFF_CAP_MS;
    f->random_fn = random_fn;
    f->random_user = random_user;
    f->state = RL_STATE_STOPPED;
    f->last_rtt_ms = -1;
    snprintf(f->detail, sizeof f->detail, "not started");
}

void rl__fsm_set_endpoint(rl__fsm *f, const rl__url *u)
{
    snprintf(f->endpoint_host, sizeof f->endpoint_host, "%s", u->host);
    f->unencrypted_remote = !u->tls && !u->loopback;
}

static void clear_link_timers(rl__fsm *f)
{
    f->connect_deadline = 0;
    f->pong_deadline = 0;
    f->next_ping_at = 0;
    f->ping_sent_at = 0;
    f->authed_at = 0;
    f->retry_at = 0;
}

static void enter(rl__fsm *f, rl_state s, rl__output *out)
{
    f->state = s;
    out->state_changed = 1;
}

static void open_link(rl__fsm *f, int64_t now, rl__output *out)
{
    clear_link_timers(f);
    f->connect_deadline = now + f->cfg.connect_timeout_ms;
    out->actions |= RL__ACT_OPEN;
    enter(f, RL_STATE_CONNECTING, out);
    set_detail(f, "connecting to %s", f->endpoint_host);
}

static void start_backoff(rl__fsm *f, int64_t now, rl_error_kind kind, const char *why,
                          rl__output *out)
{
    f->last_error_kind = kind;
    f->last_error_at = now;
    f->attempt++;
    uint32_t r = f->random_fn ? f->random_fn(f->random_user) : 0x80000000u;
    int64_t delay = rl__backoff_delay(f->attempt, f->cfg.backoff_base_ms,
                                      f->cfg.backoff_cap_ms, r);
    clear_link_timers(f);
    f->retry_at = now + delay;
    snprintf(f->last_error, sizeof f->last_error, "%s", why);
    enter(f, RL_STATE_BACKOFF, out);
    set_detail(f, "%s; attempt %u in %lld ms", why, f->attempt, (long long)delay);
}

/* Leaves the current link (if any) politely or not, then applies the input
 * that asked for it: stop, or reconnect from scratch. */
static void leave_link(rl__fsm *f, int polite, rl__output *out)
{
    switch (f->state) {
    case RL_STATE_CONNECTING:
        out->actions |= RL__ACT_ABORT;
        break;
    case RL_STATE_AUTHENTICATING:
    case RL_STATE_CONNECTED:
        if (polite) {
            out->actions |= RL__ACT_CLOSE;
            out->close_code = 1000;
        } else {
            out->actions |= RL__ACT_ABORT;
        }
        break;
    default:
        break;
    }
}

/* A live session closed by the server in a way another client's arrival
 * would cause. Returns 1 when that happened often enough to give up. */
static int note_takeover(rl__fsm *f, int64_t now)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < f->n_takeovers; i++)
        if (now - f->takeovers[i] < RL__TAKEOVER_WINDOW_MS)
            f->takeovers[kept++] = f->takeovers[i];
    f->n_takeovers = kept;
    if (f->n_takeovers == RL__TAKEOVER_LIMIT) {   /* keep the most recent ones */
        memmove(f->takeovers, f->takeovers + 1,
                (RL__TAKEOVER_LIMIT - 1) * sizeof f->takeovers[0]);
        f->n_takeovers--;
    }
    f->takeovers[f->n_takeovers++] = now;
    return f->n_takeovers >= RL__TAKEOVER_LIMIT;
}

static void authenticated(rl__fsm *f, int64_t now, rl__output *out)
{
    f->authed_at = now;
    enter(f, RL_STATE_CONNECTED, out);
    set_detail(f, "connected to %s", f->endpoint_host);
}

static void on_closed(rl__fsm *f, const rl__input *in, int64_t now, rl__output *out)
{
    int code = in->code ? in->code : 1006;
    int was_authed = f->state == RL_STATE_CONNECTED;
    int stable = was_authed && now - f->authed_at >= RL__STABLE_AFTER_MS;
    char why[RL_MAX_DETAIL];
    const char *text = (in->text && *in->text) ? in->text : NULL;

    f->last_close_code = code;
    if (text)
        snprintf(why, sizeof why, "%s closed the connection: %d, %s (%s)",
                 in->by_server ? "the service" : "ReportLink", code,
                 rl__close_code_text(code), text);
    else
        snprintf(why, sizeof why, "%s: %d, %s", in->by_server ? "the service closed the connection"
                 : "connection closed", code, rl__close_code_text(code));

    if (code == 1008) {
        clear_link_timers(f);
        f->last_error_kind = RL_ERROR_KEY_REFUSED;
        f->last_error_at = now;
        snprintf(f->last_error, sizeof f->last_error, "%s", why);
        enter(f, RL_STATE_AUTH_FAILED, out);
        set_detail(f, "the service refused the doctor key (%s); "
                   "waiting for a new key or address", text ? text : "close 1008");
        return;
    }
    /* A clean close of a live session by the server is what the service's
     * "one active connection per user" rule looks like from the losing side
     * (1001, 1006, 1011 and friends are outages, not take-overs). */
    if (was_authed && in->by_server && (code == 1000 || (code >= 4000 && code < 5000))) {
        if (note_takeover(f, now)) {
            clear_link_timers(f);
            f->last_error_kind = RL_ERROR_CLOSED;
            f->last_error_at = now;
            snprintf(f->last_error, sizeof f->last_error, "%s", why);
            enter(f, RL_STATE_REPLACED, out);
            set_detail(f, "the service closed this session %d times within %d s: "
                       "another program is probably connected with the same key; "
                       "not retrying until you connect again",
                       RL__TAKEOVER_LIMIT, RL__TAKEOVER_WINDOW_MS / 1000);
            return;
        }
    }
    if (stable || (was_authed && code == 1000))
        f->attempt = 0;        /* a healthy session ended: start from the base delay */
    start_backoff(f, now, RL_ERROR_CLOSED, why, out);
}

static void on_timer(rl__fsm *f, int64_t now, rl__output *out)
{
    char why[RL_MAX_DETAIL];
    switch (f->state) {
    case RL_STATE_CONNECTING:
        if (f->connect_deadline && now >= f->connect_deadline) {
            out->actions |= RL__ACT_ABORT;
            snprintf(why, sizeof why, "no answer from %s within %lld s",
                     f->endpoint_host, (long long)(f->cfg.connect_timeout_ms / 1000));
            start_backoff(f, now, RL_ERROR_NO_ANSWER, why, out);
        }
        break;
    case RL_STATE_AUTHENTICATING:
    case RL_STATE_CONNECTED:
        if (f->pong_deadline && now >= f->pong_deadline) {
            /* A half-open link would swallow a close frame: drop it. */
            out->actions |= RL__ACT_ABORT;
            snprintf(why, sizeof why, "no pong within %lld ms: the connection is dead",
                     (long long)f->cfg.pong_timeout_ms);
            f->last_close_code = 0;
            start_backoff(f, now, RL_ERROR_LINK_DEAD, why, out);
        } else if (f->state == RL_STATE_CONNECTED && f->next_ping_at &&
                   now >= f->next_ping_at && !f->pong_deadline) {
            out->actions |= RL__ACT_SEND_PING;
            f->ping_sent_at = now;
            f->pong_deadline = now + f->cfg.pong_timeout_ms;
            f->next_ping_at = now + f->cfg.ping_interval_ms;
        }
        break;
    case RL_STATE_BACKOFF:
        if (f->retry_at && now >= f->retry_at)
            open_link(f, now, out);
        break;
    default:
        break;
    }
}

void rl__fsm_step(rl__fsm *f, const rl__input *in, int64_t now, rl__output *out)
{
    memset(out, 0, sizeof(*out));
    switch (in->kind) {
    case RL__IN_CONNECT:
        if (f->state == RL_STATE_STOPPED || f->state == RL_STATE_BACKOFF ||
            f->state == RL_STATE_AUTH_FAILED || f->state == RL_STATE_REPLACED) {
            f->attempt = 0;
            f->n_takeovers = 0;
            open_link(f, now, out);
        }
        break;
    case RL__IN_DISCONNECT:
        if (f->state != RL_STATE_STOPPED) {
            leave_link(f, 1, out);
            clear_link_timers(f);
            f->attempt = 0;
            enter(f, RL_STATE_STOPPED, out);
            set_detail(f, "disconnected");
        }
        break;
    case RL__IN_RECONFIGURE:
        if (f->state != RL_STATE_STOPPED) {
            leave_link(f, 1, out);
            f->attempt = 0;
            f->n_takeovers = 0;
            open_link(f, now, out);
        }
        break;
    case RL__IN_ESTABLISHED:
        if (f->state == RL_STATE_CONNECTING) {
            f->connect_deadline = 0;
            out->actions |= RL__ACT_SEND_AUTH | RL__ACT_SEND_PING;
            f->ping_sent_at = now;
            f->pong_deadline = now + f->cfg.pong_timeout_ms;
            enter(f, RL_STATE_AUTHENTICATING, out);
            set_detail(f, "key sent to %s, waiting for its answer", f->endpoint_host);
        }
        break;
    case RL__IN_CONNECT_ERROR:
        if (f->state == RL_STATE_CONNECTING)
            start_backoff(f, now, in->code == RL_ERROR_TLS ? RL_ERROR_TLS : RL_ERROR_UNREACHABLE,
                          in->text && *in->text ? in->text : "could not connect", out);
        break;
    case RL__IN_PONG:
        if (f->state == RL_STATE_AUTHENTICATING || f->state == RL_STATE_CONNECTED) {
            if (f->pong_deadline) {
                f->last_rtt_ms = now - f->ping_sent_at;
                f->pong_deadline = 0;
            }
            f->last_pong_at = now;
            f->next_ping_at = now + f->cfg.ping_interval_ms;
            if (f->state == RL_STATE_AUTHENTICATING)
                authenticated(f, now, out);
        }
        break;
    case RL__IN_REPORT:
        if (f->state == RL_STATE_AUTHENTICATING) {
            /* Proof enough that the key was accepted; the pong is still due. */
            authenticated(f, now, out);
            f->next_ping_at = now + f->cfg.ping_interval_ms;
        }
        break;
    case RL__IN_CLOSED:
        if (f->state == RL_STATE_AUTHENTICATING || f->state == RL_STATE_CONNECTED)
            on_closed(f, in, now, out);
        else if (f->state == RL_STATE_CONNECTING)   /* closed during the handshake */
            start_backoff(f, now, RL_ERROR_UNREACHABLE, in->text && *in->text ? in->text
                          : "connection closed during the handshake", out);
        break;
    case RL__IN_TIMER:
        on_timer(f, now, out);
        break;
    }
}

int64_t rl__fsm_next_deadline(const rl__fsm *f)
{
    int64_t d = 0;
#define CONSIDER(t) do { if ((t) && (!d || (t) < d)) d = (t); } while (0)
    switch (f->state) {
    case RL_STATE_CONNECTING:
        CONSIDER(f->connect_deadline);
        break;
    case RL_STATE_AUTHENTICATING:
        CONSIDER(f->pong_deadline);
        break;
    case RL_STATE_CONNECTED:
        CONSIDER(f->pong_deadline);
        if (!f->pong_deadline)
            CONSIDER(f->next_ping_at);
        break;
    case RL_STATE_BACKOFF:
        CONSIDER(f->retry_at);
        break;
    default:
        break;
    }
#undef CONSIDER
    return d;
}
