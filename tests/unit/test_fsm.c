/* test_fsm.c - the connection state machine, driven by hand with a fake
 * clock and a fixed random source. Test names are the behaviours the issue
 * and the service's document ask for. */
#include "core_internal.h"
#include "testlib.h"

#include <string.h>

static uint32_t fixed_random;
static uint32_t fake_random(void *u) { return fixed_random; }

static rl__fsm f;
static rl__output out;
static int64_t now;

static void setup(void)
{
    rl__fsm_config cfg = { .ping_interval_ms = 30000, .pong_timeout_ms = 10000,
                           .connect_timeout_ms = 15000 };
    rl__url u;
    rl__url_parse("wss://reports.example/reports/ws", &u, NULL, 0);
    rl__fsm_init(&f, &cfg, fake_random, NULL);
    rl__fsm_set_endpoint(&f, &u);
    fixed_random = 0xffffffffu;    /* draw the ceiling: delays are predictable */
    now = 1000000;
}

static void in(rl__input_kind kind)
{
    rl__input i = { .kind = kind };
    rl__fsm_step(&f, &i, now, &out);
}

static void closed(int code, int by_server)
{
    rl__input i = { .kind = RL__IN_CLOSED, .code = code, .by_server = by_server, .text = "r" };
    rl__fsm_step(&f, &i, now, &out);
}

/* Advances the clock to the next deadline and fires the timer. */
static void fire(void)
{
    int64_t d = rl__fsm_next_deadline(&f);
    if (d)
        now = d;
    in(RL__IN_TIMER);
}

static void to_connected(void)
{
    in(RL__IN_CONNECT);
    in(RL__IN_ESTABLISHED);
    now += 20;
    in(RL__IN_PONG);
}

int main(void)
{
    setup();
    test("a new client is stopped and has no deadline");
    test_cond(f.state == RL_STATE_STOPPED && rl__fsm_next_deadline(&f) == 0);

    test("connect opens a link and arms the connect deadline");
    in(RL__IN_CONNECT);
    test_cond(f.state == RL_STATE_CONNECTING && (out.actions & RL__ACT_OPEN) &&
              out.state_changed && rl__fsm_next_deadline(&f) == now + 15000);

    test("after the handshake it sends the key, then ping, and waits for the answer");
    in(RL__IN_ESTABLISHED);
    test_cond(f.state == RL_STATE_AUTHENTICATING &&
              out.actions == (RL__ACT_SEND_AUTH | RL__ACT_SEND_PING));

    test("the first pong proves the key: connected, with the round trip measured");
    now += 42;
    in(RL__IN_PONG);
    test_cond(f.state == RL_STATE_CONNECTED && f.last_rtt_ms == 42 && out.state_changed);

    test("it pings every 30 s and waits 10 s for the pong");
    int64_t t0 = now;
    test_cond(rl__fsm_next_deadline(&f) == t0 + 30000);
    fire();
    test_cond(out.actions == RL__ACT_SEND_PING && rl__fsm_next_deadline(&f) == t0 + 40000);

    test("a pong in time keeps the session and schedules the next ping");
    now += 5;
    in(RL__IN_PONG);
    test_cond(f.state == RL_STATE_CONNECTED && rl__fsm_next_deadline(&f) == now + 30000 &&
              f.last_rtt_ms == 5);

    test("a missing pong means a dead link: dropped (not closed politely) and retried");
    fire();                                  /* ping */
    fire();                                  /* pong deadline */
    test_cond(f.state == RL_STATE_BACKOFF && (out.actions & RL__ACT_ABORT) && f.attempt == 1 &&
              strstr(f.detail, "no pong"));

    test("the first retry waits at most the 1 s base");
    test_cond(rl__fsm_next_deadline(&f) - now == 1000);

    test("when the retry is due it opens a new link");
    fire();
    test_cond(f.state == RL_STATE_CONNECTING && (out.actions & RL__ACT_OPEN));

    test("failed attempts double the ceiling up to the 60 s cap");
    int64_t expect[] = { 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    int ok = 1;
    for (int i = 0; i < 7; i++) {
        rl__input e = { .kind = RL__IN_CONNECT_ERROR, .text = "refused" };
        rl__fsm_step(&f, &e, now, &out);
        int64_t wait = rl__fsm_next_deadline(&f) - now;
        if (f.state != RL_STATE_BACKOFF || wait != expect[i] || f.attempt != (unsigned)i + 2) {
            printf("  step %d: state %s wait %lld attempt %u\n", i, rl_state_name(f.state),
                   (long long)wait, f.attempt);
            ok = 0;
        }
        fire();
    }
    test_cond(ok);

    test("full jitter: a zero draw retries immediately");
    fixed_random = 0;
    rl__input e = { .kind = RL__IN_CONNECT_ERROR, .text = "refused" };
    rl__fsm_step(&f, &e, now, &out);
    test_cond(f.state == RL_STATE_BACKOFF && rl__fsm_next_deadline(&f) == now);
    fixed_random = 0xffffffffu;
    fire();

    test("the state detail names the attempt and the delay");
    rl__fsm_step(&f, &e, now, &out);
    test_cond(strstr(f.detail, "attempt 10") && strstr(f.detail, "60000 ms") &&
              strstr(f.detail, "refused"));
    fire();

    test("a connect timeout gives up on the link and backs off");
    fire();
    test_cond(f.state == RL_STATE_BACKOFF && (out.actions & RL__ACT_ABORT) &&
              strstr(f.detail, "within 15 s"));

    test("a session authenticated for 30 s resets the backoff");
    fire();
    in(RL__IN_ESTABLISHED);
    in(RL__IN_PONG);
    now += 30000;
    in(RL__IN_PONG);
    closed(1006, 0);
    test_cond(f.state == RL_STATE_BACKOFF && f.attempt == 1 &&
              rl__fsm_next_deadline(&f) - now == 1000);

    test("a session that dropped quickly does not reset it");
    fire();
    in(RL__IN_ESTABLISHED);
    in(RL__IN_PONG);
    now += 1000;
    closed(1006, 0);
    test_cond(f.attempt == 2);

    test("1008 means the key is refused: auth_failed and no retry deadline");
    fire();
    in(RL__IN_ESTABLISHED);
    closed(1008, 1);
    test_cond(f.state == RL_STATE_AUTH_FAILED && rl__fsm_next_deadline(&f) == 0 &&
              out.actions == 0 && strstr(f.detail, "refused the doctor key"));
    test("auth_failed ignores timers and does not reconnect by itself");
    now += 3600 * 1000;
    in(RL__IN_TIMER);
    test_cond(f.state == RL_STATE_AUTH_FAILED && out.actions == 0);
    test("a new key or address reconnects at once from auth_failed");
    in(RL__IN_RECONFIGURE);
    test_cond(f.state == RL_STATE_CONNECTING && (out.actions & RL__ACT_OPEN) && f.attempt == 0);

    test("1008 during a live session (key revoked) is auth_failed too");
    in(RL__IN_ESTABLISHED);
    in(RL__IN_PONG);
    closed(1008, 1);
    test_cond(f.state == RL_STATE_AUTH_FAILED);

    test("4000, 1001, 1011 and 1006 all back off");
    int codes[] = { 4000, 1001, 1011, 1006 };
    ok = 1;
    for (int i = 0; i < 4; i++) {
        setup();
        to_connected();
        closed(codes[i], codes[i] != 1006);
        ok &= f.state == RL_STATE_BACKOFF;
    }
    test_cond(ok);

    test("a report before the first pong also proves the key");
    setup();
    in(RL__IN_CONNECT);
    in(RL__IN_ESTABLISHED);
    in(RL__IN_REPORT);
    test_cond(f.state == RL_STATE_CONNECTED);
    test("the pong still due after that report is still watched");
    test_cond(rl__fsm_next_deadline(&f) == now + 10000);

    test("1000 from the server backs off starting from the base delay");
    setup();
    in(RL__IN_CONNECT);
    for (int i = 0; i < 4; i++) {                   /* build up some failures */
        rl__fsm_step(&f, &e, now, &out);
        fire();
    }
    in(RL__IN_ESTABLISHED);
    in(RL__IN_PONG);
    now += 2000;
    closed(1000, 1);
    test_cond(f.state == RL_STATE_BACKOFF && f.attempt == 1 &&
              rl__fsm_next_deadline(&f) - now == 1000);

    test("1000 before authentication counts as a failure (no fast loop)");
    setup();
    in(RL__IN_CONNECT);
    ok = 1;
    for (unsigned i = 1; i <= 5; i++) {
        in(RL__IN_ESTABLISHED);
        closed(1000, 1);
        ok &= f.attempt == i;
        fire();
    }
    test_cond(ok);

    test("repeated take-overs of a live session end in replaced, without retries");
    setup();
    ok = 1;
    in(RL__IN_CONNECT);
    for (int i = 0; i < RL__TAKEOVER_LIMIT; i++) {
        if (f.state == RL_STATE_BACKOFF)
            fire();                          /* the automatic retry */
        in(RL__IN_ESTABLISHED);
        in(RL__IN_PONG);
        now += 3000;
        closed(4000, 1);
        ok &= i + 1 < RL__TAKEOVER_LIMIT ? f.state == RL_STATE_BACKOFF
                                         : f.state == RL_STATE_REPLACED;
    }
    test_cond(ok && rl__fsm_next_deadline(&f) == 0 && strstr(f.detail, "same key"));
    test("an explicit connect resumes after replaced");
    in(RL__IN_CONNECT);
    test_cond(f.state == RL_STATE_CONNECTING && (out.actions & RL__ACT_OPEN));

    test("take-overs spread beyond the window do not end in replaced");
    setup();
    ok = 1;
    in(RL__IN_CONNECT);
    for (int i = 0; i < 6; i++) {
        in(RL__IN_ESTABLISHED);
        in(RL__IN_PONG);
        now += 31000;
        closed(1000, 1);
        ok &= f.state == RL_STATE_BACKOFF;
        fire();
    }
    test_cond(ok);

    test("network drops of live sessions are outages, not take-overs");
    setup();
    in(RL__IN_CONNECT);
    ok = 1;
    for (int i = 0; i < 6; i++) {
        in(RL__IN_ESTABLISHED);
        in(RL__IN_PONG);
        closed(i % 2 ? 1006 : 1001, i % 2 == 0);
        ok &= f.state == RL_STATE_BACKOFF;
        fire();
    }
    test_cond(ok);

    test("disconnect closes politely with 1000 and stops");
    setup();
    to_connected();
    in(RL__IN_DISCONNECT);
    test_cond(f.state == RL_STATE_STOPPED && (out.actions & RL__ACT_CLOSE) &&
              out.close_code == 1000 && rl__fsm_next_deadline(&f) == 0);
    test("disconnect while connecting abandons the attempt");
    in(RL__IN_CONNECT);
    in(RL__IN_DISCONNECT);
    test_cond(f.state == RL_STATE_STOPPED && (out.actions & RL__ACT_ABORT));
    test("disconnect during backoff cancels the retry");
    in(RL__IN_CONNECT);
    rl__fsm_step(&f, &e, now, &out);
    in(RL__IN_DISCONNECT);
    test_cond(f.state == RL_STATE_STOPPED && rl__fsm_next_deadline(&f) == 0);

    test("a changed URL or key while connected closes with 1000 and reconnects at once");
    to_connected();
    in(RL__IN_RECONFIGURE);
    test_cond(f.state == RL_STATE_CONNECTING &&
              out.actions == (RL__ACT_CLOSE | RL__ACT_OPEN) && out.close_code == 1000);
    test("a changed URL during backoff reconnects at once");
    rl__fsm_step(&f, &e, now, &out);
    in(RL__IN_RECONFIGURE);
    test_cond(f.state == RL_STATE_CONNECTING && (out.actions & RL__ACT_OPEN));
    test("reconfiguring a stopped client does not connect it");
    in(RL__IN_DISCONNECT);
    in(RL__IN_RECONFIGURE);
    test_cond(f.state == RL_STATE_STOPPED && out.actions == 0);

    test("events that do not belong to the state are ignored");
    in(RL__IN_PONG);
    in(RL__IN_REPORT);
    in(RL__IN_ESTABLISHED);
    closed(1008, 1);
    test_cond(f.state == RL_STATE_STOPPED && out.actions == 0);

    test("connect while already connected does nothing");
    to_connected();
    in(RL__IN_CONNECT);
    test_cond(f.state == RL_STATE_CONNECTED && out.actions == 0);

    test("a ws:// address to another host is flagged as unencrypted in the detail");
    {
        rl__url u;
        rl__url_parse("ws://192.0.2.10/reports/ws", &u, NULL, 0);
        rl__fsm_set_endpoint(&f, &u);
        in(RL__IN_DISCONNECT);
        in(RL__IN_CONNECT);
        int flagged = strstr(f.detail, "unencrypted") != NULL;
        rl__url_parse("ws://127.0.0.1:8080/reports/ws", &u, NULL, 0);
        rl__fsm_set_endpoint(&f, &u);
        in(RL__IN_DISCONNECT);
        in(RL__IN_CONNECT);
        test_cond(flagged && !strstr(f.detail, "unencrypted"));
    }

    test("the last error's kind says what went wrong, for words in the user's language");
    {
        int good = 1;
        setup();
        in(RL__IN_CONNECT);
        rl__input tls = { .kind = RL__IN_CONNECT_ERROR, .code = RL_ERROR_TLS, .text = "cert" };
        rl__fsm_step(&f, &tls, now, &out);
        good &= f.last_error_kind == RL_ERROR_TLS;
        fire();
        rl__input refused = { .kind = RL__IN_CONNECT_ERROR, .text = "refused" };
        rl__fsm_step(&f, &refused, now, &out);
        good &= f.last_error_kind == RL_ERROR_UNREACHABLE;
        fire();
        fire();                     /* connect timeout */
        good &= f.last_error_kind == RL_ERROR_NO_ANSWER;
        fire();
        in(RL__IN_ESTABLISHED);
        now += 20;
        in(RL__IN_PONG);
        closed(1011, 1);
        good &= f.last_error_kind == RL_ERROR_CLOSED && f.last_close_code == 1011;
        fire();
        in(RL__IN_ESTABLISHED);
        closed(1008, 1);
        good &= f.last_error_kind == RL_ERROR_KEY_REFUSED && f.state == RL_STATE_AUTH_FAILED;
        good &= !strcmp(rl_error_kind_name(RL_ERROR_KEY_REFUSED), "key_refused") &&
              !strcmp(rl_error_kind_name(RL_ERROR_NONE), "");
        test_cond(good);
    }

    test("the last error carries the time it happened (a failure is an event, shown with its time)");
    {
        setup();
        in(RL__IN_CONNECT);
        int none_yet = f.last_error_at == 0;
        now += 1234;
        rl__input refused = { .kind = RL__IN_CONNECT_ERROR, .text = "refused" };
        rl__fsm_step(&f, &refused, now, &out);
        int first_ok = f.last_error_at == now;
        fire();                     /* the backoff's timer: time moves on */
        in(RL__IN_ESTABLISHED);
        now += 50;
        closed(1008, 1);
        test_cond(none_yet && first_ok && f.last_error_at == now);
    }

    test("every state has its name");
    test_cond(!strcmp(rl_state_name(RL_STATE_AUTH_FAILED), "auth_failed") &&
              !strcmp(rl_state_name(RL_STATE_REPLACED), "replaced") &&
              !strcmp(rl_state_name(RL_STATE_BACKOFF), "backoff"));
    return test_summary();
}
