/* test_url.c - endpoint URLs: what is accepted, and what is flagged. */
#include "core_internal.h"
#include "testlib.h"

#include <string.h>

int main(void)
{
    rl__url u;
    char err[128];
    int tls0 = -1, loopback0 = -1;

    test("the service's wss address parses with port 443 and its path");
    test_cond(rl__url_parse("wss://upload-with-html.onrender.com/reports/ws", &u, err,
                            sizeof err) == RL_OK && u.tls && u.port == 443 &&
              !strcmp(u.host, "upload-with-html.onrender.com") &&
              !strcmp(u.path, "/reports/ws") && !u.loopback);

    test("ws:// defaults to port 80 and an explicit port wins");
    test_cond(rl__url_parse("ws://example.org", &u, err, sizeof err) == RL_OK &&
              u.port == 80 && !u.tls && !strcmp(u.path, "/"));
    test_cond(rl__url_parse("ws://127.0.0.1:8080/reports/ws", &u, err, sizeof err) == RL_OK &&
              u.port == 8080 && u.loopback);

    test("loopback hosts are recognised: localhost, 127.x.y.z, [::1]");
    test_cond(rl__url_parse("ws://LocalHost:1/x", &u, err, sizeof err) == RL_OK && u.loopback &&
              !strcmp(u.host, "localhost"));
    test_cond(rl__url_parse("ws://127.8.9.10/x", &u, err, sizeof err) == RL_OK && u.loopback);
    test_cond(rl__url_parse("ws://[::1]:9000/reports/ws", &u, err, sizeof err) == RL_OK &&
              u.loopback && u.port == 9000 && !strcmp(u.host, "::1"));
    test("an IPv4-mapped loopback address [::ffff:127.0.0.1] is loopback");
    test_cond(rl__url_parse("ws://[::ffff:127.0.0.1]:9000/", &u, err, sizeof err) == RL_OK &&
              u.loopback && !strcmp(u.host, "::ffff:127.0.0.1"));
    test("other IPv6 literals are not loopback");
    test_cond(rl__url_parse("ws://[2001:db8::1]/", &u, err, sizeof err) == RL_OK && !u.loopback);
    test_cond(rl__url_parse("ws://[::ffff:192.0.2.1]/", &u, err, sizeof err) == RL_OK &&
              !u.loopback);

    /* The resolver reads 0127.0.0.1 as octal (87.0.0.1), 127.1 and 2130706433
     * as 127.0.0.1: only the strict dotted-decimal form counts as loopback, so
     * nothing is called local that a resolver could send elsewhere. */
    test("leading zeros, octal, hex and short forms are never loopback");
    static const char *const not_loopback[] = {
        "ws://0127.0.0.1/", "ws://127.0.0.01/", "ws://0x7f.0.0.1/", "ws://127.1/",
        "ws://2130706433/", "ws://127.0.0.1./", "ws://127.0.0.256/", "ws://127.0.0.1.2/",
        "ws://127.0.0/", "ws://+127.0.0.1/",
    };
    int none_loopback = 1;
    for (size_t i = 0; i < sizeof not_loopback / sizeof not_loopback[0]; i++) {
        if (rl__url_parse(not_loopback[i], &u, err, sizeof err) == RL_OK && u.loopback) {
            printf("  called loopback: \"%s\"\n", not_loopback[i]);
            none_loopback = 0;
        }
    }
    test_cond(none_loopback);

    test("a bracketed host that is not an IPv6 address is refused, saying so");
    static const char *const bad_brackets[] = {
        "ws://[evil.com]/", "ws://[127.0.0.1]/", "ws://[::1%25lo]/", "ws://[:::1]/",
        "ws://[::1::2]/", "ws://[localhost]:80/",
    };
    int brackets_refused = 1;
    for (size_t i = 0; i < sizeof bad_brackets / sizeof bad_brackets[0]; i++) {
        err[0] = 0;
        if (rl__url_parse(bad_brackets[i], &u, err, sizeof err) != RL_ERR_INVALID ||
            u.problem != RL_URL_BAD_HOST || !strstr(err, "IPv6")) {
            printf("  accepted or unclear: \"%s\" (%s)\n", bad_brackets[i], err);
            brackets_refused = 0;
        }
    }
    test_cond(brackets_refused);
    test_cond(rl_url_check("ws://[evil.com]/", &tls0, &loopback0) == RL_URL_BAD_HOST);

    test("a private-network host is not loopback");
    test_cond(rl__url_parse("ws://192.168.1.5/reports/ws", &u, err, sizeof err) == RL_OK &&
              !u.loopback);
    test_cond(rl__url_parse("ws://127.0.0.1.example.com/", &u, err, sizeof err) == RL_OK &&
              !u.loopback);

    test("a query string is kept, a fragment is not sent");
    test_cond(rl__url_parse("wss://h/reports/ws?v=2#frag", &u, err, sizeof err) == RL_OK &&
              !strcmp(u.path, "/reports/ws?v=2"));
    test_cond(rl__url_parse("wss://h?v=2", &u, err, sizeof err) == RL_OK &&
              !strcmp(u.path, "/?v=2"));

    static const char *const bad[] = {
        "", "http://h/reports/ws", "https://h/", "ws://", "ws:///path", "ws://h:0/",
        "ws://h:65536/", "ws://h:abc/", "ws://user:secret@h/", "ws://h /x", "ws://[::1/x",
        "wss://h:443x/", "ws://ho\xc3\xa9st/", "ftp://h",
    };
    test("malformed, non-WebSocket and credential-bearing URLs are refused with a message");
    int all_refused = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (rl__url_parse(bad[i], &u, err, sizeof err) != RL_ERR_INVALID || !err[0]) {
            printf("  accepted or silent: \"%s\"\n", bad[i]);
            all_refused = 0;
        }
    }
    test_cond(all_refused);

    test("an over-long URL is refused");
    char longurl[RL_MAX_URL + 16];
    memset(longurl, 'a', sizeof longurl);
    memcpy(longurl, "ws://h/", 7);
    longurl[sizeof longurl - 1] = 0;
    test_cond(rl__url_parse(longurl, &u, err, sizeof err) == RL_ERR_INVALID);

    test("rl_url_check names each problem with a code a user interface can translate");
    int tls = -1, loopback = -1;
    test_cond(rl_url_check("", &tls, &loopback) == RL_URL_EMPTY);
    test_cond(rl_url_check(NULL, &tls, &loopback) == RL_URL_EMPTY);
    test_cond(rl_url_check("http://h/reports/ws", &tls, &loopback) == RL_URL_BAD_SCHEME);
    test_cond(rl_url_check("ws://user:secret@h/", &tls, &loopback) == RL_URL_CREDENTIALS);
    test_cond(rl_url_check("ws://h /x", &tls, &loopback) == RL_URL_BAD_CHARACTERS);
    test_cond(rl_url_check("ws://", &tls, &loopback) == RL_URL_BAD_HOST);
    test_cond(rl_url_check("ws://h:65536/", &tls, &loopback) == RL_URL_BAD_PORT);
    test_cond(rl_url_check(longurl, &tls, &loopback) == RL_URL_TOO_LONG);
    test_cond(tls == -1 && loopback == -1);   /* untouched on failure */

    test("rl_url_check tells encrypted and local addresses apart");
    test_cond(rl_url_check("wss://reports.example/reports/ws", &tls, &loopback) == RL_URL_OK &&
              tls == 1 && loopback == 0);
    test_cond(rl_url_check("ws://192.0.2.10/reports/ws", &tls, &loopback) == RL_URL_OK &&
              tls == 0 && loopback == 0);
    test_cond(rl_url_check("ws://127.0.0.1:8080/reports/ws", &tls, &loopback) == RL_URL_OK &&
              tls == 0 && loopback == 1);
    return test_summary();
}
