/*
 * main.c - reportlink-devserver: command line, doctor keys, signals.
 *
 * A faithful stand-in for the report service, for developers and tests.
 * Keys come from a file or the environment, never from argv, where any
 * user of the machine could read them with ps.
 */
#include "server.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE          2
#define MAX_KEYS_FILE_BYTES (1024 * 1024)
#define KEYS_ENV            "REPORTLINK_DEVSERVER_KEYS"

static const char usage_text[] =
    "usage: reportlink-devserver [--port N] [--bind ADDR] [--keys-file FILE]\n"
    "                            [--auth-timeout SECONDS] [--tls-cert PEM --tls-key PEM]\n"
    "                            [--demo] [--demo-delay MS] [--url-ttl SECONDS]\n"
    "                            [--no-pong] [--help]\n"
    "\n"
    "A development report service: WebSocket endpoint /reports/ws, HTTP control\n"
    "API on the same port (see tools/devserver/README.md).\n"
    "\n"
    "  --port N            port to listen on (default 8080; 0 picks a free one)\n"
    "  --bind ADDR         IP address to bind (default 127.0.0.1)\n"
    "  --keys-file FILE    accepted doctor keys, one per line (# comments)\n"
    "  --auth-timeout S    seconds to wait for the authentication message (10)\n"
    "  --tls-cert PEM      serve wss:// and https:// with this certificate...\n"
    "  --tls-key PEM       ...and this private key\n"
    "  --demo              send a demo report some time after each authentication\n"
    "  --demo-delay MS     that time, in milliseconds (default 3000)\n"
    "  --url-ttl S         lifetime of the signed .docx links (default 300)\n"
    "  --no-pong           do not answer \"ping\" (see also POST /admin/pong)\n"
    "\n"
    "Keys are also read from " KEYS_ENV " (comma-separated). They are\n"
    "never accepted on the command line. Once listening, one JSON line is\n"
    "printed on stdout: {\"event\":\"listening\",\"port\":N,\"tls\":false}.\n";

/* Accepted keys; owned here, wiped before exit. */
static char *keys[DS_MAX_KEYS];
static size_t key_lens[DS_MAX_KEYS];
static size_t n_keys;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("reportlink-devserver: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see --help)\n", stderr);
    return EXIT_USAGE;
}

/* Strict integer in [lo, hi]; returns 0 or -1. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Adds one key, trimmed of blanks. Duplicates keep their first index.
 * Returns 0, or -1 with the reason in *why. */
static int add_key(const char *s, size_t n, const char **why)
{
    size_t i;

    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n == 0)
        return 0;
    if (n > DS_MAX_KEY_BYTES) {
        *why = "a key is longer than 4096 bytes";
        return -1;
    }
    for (i = 0; i < n_keys; i++)
        if (key_lens[i] == n && !memcmp(keys[i], s, n))
            return 0;
    if (n_keys >= DS_MAX_KEYS) {
        *why = "more than 256 keys";
        return -1;
    }
    keys[n_keys] = strndup(s, n);
    if (!keys[n_keys]) {
        *why = "out of memory";
        return -1;
    }
    key_lens[n_keys++] = n;
    return 0;
}

static int load_keys_file(const char *path, const char **why)
{
    FILE *f = fopen(path, "rb");
    char *data;
    size_t len;
    const char *line, *end, *stop;
    int rc = 0;

    if (!f) {
        *why = strerror(errno);
        return -1;
    }
    data = malloc(MAX_KEYS_FILE_BYTES + 1);
    if (!data) {
        fclose(f);
        *why = "out of memory";
        return -1;
    }
    len = fread(data, 1, MAX_KEYS_FILE_BYTES + 1, f);
    if (ferror(f) || len > MAX_KEYS_FILE_BYTES) {
        *why = ferror(f) ? "read error" : "file larger than 1 MiB";
        rc = -1;
    }
    fclose(f);
    for (line = data, stop = data + len; rc == 0 && line < stop; line = end + 1) {
        const char *p = line;

        end = memchr(line, '\n', (size_t)(stop - line));
        if (!end)
            end = stop;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p == '#')
            continue;
        rc = add_key(line, (size_t)(end - line), why);
    }
    explicit_bzero(data, len < MAX_KEYS_FILE_BYTES ? len : MAX_KEYS_FILE_BYTES);
    free(data);
    return rc;
}

static int load_keys_env(const char **why)
{
    const char *v = getenv(KEYS_ENV), *comma;

    while (v && *v) {
        comma = strchr(v, ',');
        if (add_key(v, comma ? (size_t)(comma - v) : strlen(v), why))
            return -1;
        v = comma ? comma + 1 : NULL;
    }
    return 0;
}

static void wipe_keys(void)
{
    size_t i;

    for (i = 0; i < n_keys; i++) {
        explicit_bzero(keys[i], key_lens[i]);
        free(keys[i]);
    }
    n_keys = 0;
}

/* The only thread besides the service thread: it turns SIGINT/SIGTERM into
 * a stop request, which lws_cancel_service() delivers safely. One signal is
 * enough; the server then exits within about a second. */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;

    if (sigwait(set, &sig) == 0) {
        ds_log("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
        ds_server_request_stop();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static sigset_t stop_signals;
    ds_config cfg;
    const char *keys_file = NULL, *why = "";
    pthread_t sig_thread;
    int i, rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.port = 8080;
    cfg.auth_timeout_s = 10;
    cfg.demo_delay_ms = 3000;
    cfg.url_ttl_s = 300;
    cfg.pong_enabled = 1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        char name[32];
        size_t n;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strncmp(a, "--", 2))
            return usage_error("unexpected argument '%s'", a);
        /* Both "--opt value" and "--opt=value". */
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof(name))
            return usage_error("unknown option '%s'", a);
        memcpy(name, a, n);
        name[n] = '\0';
        if (!strcmp(name, "--key") || !strcmp(name, "--keys") || !strcmp(name, "--doctor-key"))
            return usage_error("%s: keys are never accepted on the command line (other "
                               "users could read them); use --keys-file or " KEYS_ENV, name);
        if (!strcmp(name, "--demo") || !strcmp(name, "--no-pong")) {
            if (eq)
                return usage_error("%s takes no value", name);
            if (!strcmp(name, "--demo"))
                cfg.demo = 1;
            else
                cfg.pong_enabled = 0;
            continue;
        }
        if (strcmp(name, "--port") && strcmp(name, "--bind") && strcmp(name, "--keys-file") &&
            strcmp(name, "--auth-timeout") && strcmp(name, "--tls-cert") &&
            strcmp(name, "--tls-key") && strcmp(name, "--demo-delay") && strcmp(name, "--url-ttl"))
            return usage_error("unknown option '%s'", name);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return usage_error("%s needs a value", name);

        if (!strcmp(name, "--port")) {
            if (parse_int(val, 0, 65535, &cfg.port))
                return usage_error("--port: '%s' is not a port number (0-65535)", val);
        } else if (!strcmp(name, "--bind")) {
            unsigned char addr[16];

            if (inet_pton(AF_INET, val, addr) != 1 && inet_pton(AF_INET6, val, addr) != 1)
                return usage_error("--bind: '%s' is not an IPv4 or IPv6 address", val);
            cfg.bind = val;
        } else if (!strcmp(name, "--keys-file")) {
            keys_file = val;
        } else if (!strcmp(name, "--auth-timeout")) {
            if (parse_int(val, 1, 3600, &cfg.auth_timeout_s))
                return usage_error("--auth-timeout: '%s' is not a number of seconds (1-3600)", val);
        } else if (!strcmp(name, "--tls-cert")) {
            cfg.tls_cert = val;
        } else if (!strcmp(name, "--tls-key")) {
            cfg.tls_key = val;
        } else if (!strcmp(name, "--demo-delay")) {
            if (parse_int(val, 0, 3600000, &cfg.demo_delay_ms))
                return usage_error("--demo-delay: '%s' is not a number of milliseconds", val);
        } else if (!strcmp(name, "--url-ttl")) {
            if (parse_int(val, 1, 366 * 86400, &cfg.url_ttl_s))
                return usage_error("--url-ttl: '%s' is not a number of seconds", val);
        } else {
            return usage_error("unknown option '%s'", name);
        }
    }
    if (!cfg.tls_cert != !cfg.tls_key)
        return usage_error("%s", "--tls-cert and --tls-key go together");
    if (cfg.tls_cert && (access(cfg.tls_cert, R_OK) || access(cfg.tls_key, R_OK)))
        return usage_error("cannot read the TLS certificate or key (%s)", strerror(errno));
    if (keys_file && load_keys_file(keys_file, &why)) {
        fprintf(stderr, "reportlink-devserver: --keys-file %s: %s\n", keys_file, why);
        wipe_keys();
        return EXIT_USAGE;
    }
    if (load_keys_env(&why)) {
        fprintf(stderr, "reportlink-devserver: " KEYS_ENV ": %s\n", why);
        wipe_keys();
        return EXIT_USAGE;
    }
    if (n_keys == 0) {
        fputs("reportlink-devserver: no doctor key configured: give --keys-file FILE "
              "(one key per line) or set " KEYS_ENV "=key1,key2\n", stderr);
        return EXIT_USAGE;
    }
    cfg.keys = (const char *const *)keys;
    cfg.key_lens = key_lens;
    cfg.n_keys = n_keys;

    /* Blocked before any thread exists, so every thread inherits the mask
     * and only sigwait() ever sees these signals. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* A peer that vanishes mid-write must not kill the server. */
    signal(SIGPIPE, SIG_IGN);

    if (ds_server_start(&cfg)) {
        wipe_keys();
        return 1;
    }
    if (pthread_create(&sig_thread, NULL, signal_thread, &stop_signals)) {
        ds_log("could not start the signal thread");
        wipe_keys();
        return 1;
    }
    rc = ds_server_run();
    wipe_keys();
    return rc ? 1 : 0;
}
