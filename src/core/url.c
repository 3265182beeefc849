/* url.c - parsing of ws:// and wss:// endpoint URLs. */
#include "core_internal.h"

#include "platform.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(rl__url *u, rl_url_problem problem, char *err, size_t errlen, const char *msg)
{
    u->problem = problem;
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return RL_ERR_INVALID;
}

/* Loopback is decided on the address the resolver will use, never on how it
 * looks: getaddrinfo() reads "0127.0.0.1" as octal (87.0.0.1) and accepts
 * short and hex forms, so a dotted quad only counts when inet_pton() takes it
 * as strict dotted decimal (four parts, no leading zeros). Anything else is
 * "not loopback", the safe answer: the user is then told the connection is
 * unencrypted. An IPv6 literal (already validated by the parser) is loopback
 * when it is ::1 or an IPv4-mapped 127.0.0.0/8 address. */
static int is_loopback(const char *host, int ipv6_literal)
{
    static const unsigned char zeros[10];
    unsigned char a[16];
    if (ipv6_literal) {
        if (rl_os_inet_pton(1, host, a) != 1)
            return 0;
        /* ::1, or ::ffff:127.x.y.z */
        int mapped = memcmp(a, zeros, 10) == 0 && a[10] == 0xff && a[11] == 0xff;
        return (memcmp(a, zeros, 10) == 0 && a[10] == 0 && a[11] == 0 && a[12] == 0 && a[13] == 0 &&
                a[14] == 0 && a[15] == 1) || (mapped && a[12] == 127);
    }
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (rl_os_inet_pton(0, host, a) != 1)
        return 0;
    return a[0] == 127;   /* network byte order */
}

int rl_url_host(const char *url, char *out, size_t cap)
{
    rl__url u;
    if (rl__url_parse(url, &u, NULL, 0) != RL_OK || strlen(u.host) >= cap)
        return RL_ERR_INVALID;
    memcpy(out, u.host, strlen(u.host) + 1);
    return RL_OK;
}

rl_url_problem rl_url_check(const char *url, int *tls, int *loopback)
{
    rl__url u;
    rl__url_parse(url, &u, NULL, 0);
    if (u.problem == RL_URL_OK) {
        *tls = u.tls;
        *loopback = u.loopback;
    }
    return (rl_url_problem)u.problem;
}

int rl__url_parse(const char *url, rl__url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!url || !*url)
        return fail(out, RL_URL_EMPTY, err, errlen, "the address is empty");
    if (strlen(url) >= RL_MAX_URL)
        return fail(out, RL_URL_TOO_LONG, err, errlen, "the address is too long");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return fail(out, RL_URL_BAD_CHARACTERS, err, errlen, "the address contains spaces or non-ASCII characters");

    const char *p;
    if (strncasecmp(url, "wss://", 6) == 0) {
        out->tls = 1;
        out->port = 443;
        p = url + 6;
    } else if (strncasecmp(url, "ws://", 5) == 0) {
        out->port = 80;
        p = url + 5;
    } else {
        return fail(out, RL_URL_BAD_SCHEME, err, errlen, "the address must start with ws:// or wss://");
    }

    const char *auth_end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(auth_end - p));
    if (at)
        return fail(out, RL_URL_CREDENTIALS, err, errlen, "the address must not contain a user name or password");

    const char *host_end;
    const char *after;
    int ipv6_literal = 0;
    if (*p == '[') {                         /* IPv6 literal */
        host_end = memchr(p, ']', (size_t)(auth_end - p));
        if (!host_end)
            return fail(out, RL_URL_BAD_HOST, err, errlen, "unterminated [IPv6] address");
        if ((size_t)(host_end - p - 1) >= sizeof(out->host) || host_end == p + 1)
            return fail(out, RL_URL_BAD_HOST, err, errlen, "invalid host name");
        memcpy(out->host, p + 1, (size_t)(host_end - p - 1));
        /* Brackets hold an IPv6 address and nothing else (RFC 3986's
         * IP-literal; zone identifiers and IPvFuture are not supported):
         * "[evil.com]" would otherwise reach the resolver as a name. */
        unsigned char a6[16];
        if (rl_os_inet_pton(1, out->host, a6) != 1)
            return fail(out, RL_URL_BAD_HOST, err, errlen, "invalid [IPv6] address");
        ipv6_literal = 1;
        after = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?#");
        if (host_end > auth_end)
            host_end = auth_end;
        if (host_end == p)
            return fail(out, RL_URL_BAD_HOST, err, errlen, "the address has no host name");
        if ((size_t)(host_end - p) >= sizeof(out->host))
            return fail(out, RL_URL_BAD_HOST, err, errlen, "the host name is too long");
        memcpy(out->host, p, (size_t)(host_end - p));
        after = host_end;
    }

    if (*after == ':') {
        char *endp;
        long port = strtol(after + 1, &endp, 10);
        if (endp == after + 1 || endp != auth_end || port < 1 || port > 65535)
            return fail(out, RL_URL_BAD_PORT, err, errlen, "invalid port number");
        out->port = (int)port;
    } else if (after != auth_end) {
        return fail(out, RL_URL_BAD_HOST, err, errlen, "invalid host name");
    }

    const char *path = auth_end;
    size_t plen = strcspn(path, "#");         /* fragments never reach a server */
    if (plen == 0) {
        strcpy(out->path, "/");
    } else {
        if (*path == '?') {
            out->path[0] = '/';
            if (plen + 1 >= sizeof(out->path))
                return fail(out, RL_URL_TOO_LONG, err, errlen, "the path is too long");
            memcpy(out->path + 1, path, plen);
        } else {
            if (plen >= sizeof(out->path))
                return fail(out, RL_URL_TOO_LONG, err, errlen, "the path is too long");
            memcpy(out->path, path, plen);
        }
    }
    for (char *h = out->host; *h; h++)
        *h = (char)tolower((unsigned char)*h);
    out->loopback = is_loopback(out->host, ipv6_literal);
    return RL_OK;
}
