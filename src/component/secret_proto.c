/* secret_proto.c - the keyring helper's request and answer (secret_proto.h). */
#include "secret_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = { "store", "load", "forget", "where" };
#define N_OPS ((int)(sizeof op_names / sizeof op_names[0]))

/* The kinds a helper can tell (the Windows store never travels). */
static int kind_valid(rlc_secret_kind k)
{
    return k >= RLC_SECRET_NONE && k <= RLC_SECRET_KEEPASSXC;
}

/* "<magic> <a> <b> <keylen>\n" and the key. */
static int write_msg(char *buf, size_t cap, const char *a, const char *b, const char *key, size_t keylen)
{
    int n;
    if (keylen > RLC_SECRET_MAX_KEY || (keylen && !key))
        return -1;
    n = snprintf(buf, cap, RLC_PROTO_MAGIC " %s %s %zu\n", a, b, keylen);
    if (n < 0 || n >= RLC_PROTO_HEADER_MAX || (size_t)n + keylen > cap)
        return -1;
    if (keylen)
        memcpy(buf + n, key, keylen);
    return n + (int)keylen;
}

int rlc_proto_request(char *buf, size_t cap, rlc_secret_op op, int timeout_ms, const char *key, size_t keylen)
{
    char t[16];
    if ((int)op < 0 || (int)op >= N_OPS || timeout_ms < 1 || timeout_ms > RLC_PROTO_TIMEOUT_MAX)
        return -1;
    snprintf(t, sizeof t, "%d", timeout_ms);
    return write_msg(buf, cap, op_names[op], t, key, keylen);
}

int rlc_proto_answer(char *buf, size_t cap, int rc, rlc_secret_kind kind, const char *key, size_t keylen)
{
    char r[16];
    if (!kind_valid(kind))
        return -1;
    snprintf(r, sizeof r, "%d", rc);
    return write_msg(buf, cap, r, rlc_secret_kind_name(kind), key, keylen);
}

/* A decimal number in [lo, hi], the whole word. */
static int number(const char *word, long lo, long hi, long *out)
{
    char *end;
    if (!word || !*word || (word[0] == '0' && word[1]) || (word[0] == '-' && word[1] == '0'))
        return -1;
    errno = 0;
    *out = strtol(word, &end, 10);
    return errno || *end || *out < lo || *out > hi ? -1 : 0;
}

/* Splits the header: the magic's two words, then three of ours. Returns the
 * header's length (with '\n'), 0 if incomplete, -1 if malformed; w[] point
 * into line (a NUL-terminated copy). */
static int split(const char *buf, size_t len, char line[RLC_PROTO_HEADER_MAX], char *w[3])
{
    const char *nl = memchr(buf, '\n', len < RLC_PROTO_HEADER_MAX ? len : RLC_PROTO_HEADER_MAX);
    size_t n, magic = strlen(RLC_PROTO_MAGIC);
    char *save = NULL;
    if (!nl)
        return len < RLC_PROTO_HEADER_MAX ? 0 : -1;
    n = (size_t)(nl - buf);
    memcpy(line, buf, n);
    line[n] = '\0';
    if (strlen(line) != n || n <= magic || memcmp(line, RLC_PROTO_MAGIC " ", magic + 1) != 0)
        return -1;
    /* Exactly one space between words, none at the ends. */
    if (strstr(line, "  ") || line[n - 1] == ' ')
        return -1;
    w[0] = strtok_r(line + magic + 1, " ", &save);
    w[1] = strtok_r(NULL, " ", &save);
    w[2] = strtok_r(NULL, " ", &save);
    if (!w[2] || strtok_r(NULL, " ", &save))
        return -1;
    return (int)n + 1;
}

/* The key after a header of length h; returns the whole message's length. */
static int with_key(const char *buf, size_t len, int h, const char *word, rlc_secret_msg *msg)
{
    long keylen;
    if (number(word, 0, RLC_SECRET_MAX_KEY, &keylen) < 0)
        return -1;
    if (len < (size_t)h + (size_t)keylen)
        return 0;
    if (memchr(buf + h, '\0', (size_t)keylen))
        return -1;
    msg->key = buf + h;
    msg->keylen = (size_t)keylen;
    return h + (int)keylen;
}

int rlc_proto_parse_request(const char *buf, size_t len, rlc_secret_msg *msg)
{
    char line[RLC_PROTO_HEADER_MAX], *w[3];
    long timeout;
    int h = split(buf, len, line, w), op;
    if (h <= 0)
        return h;
    for (op = 0; op < N_OPS && strcmp(w[0], op_names[op]) != 0; op++)
        ;
    if (op == N_OPS || number(w[1], 1, RLC_PROTO_TIMEOUT_MAX, &timeout) < 0)
        return -1;
    memset(msg, 0, sizeof *msg);
    msg->op = op;
    msg->timeout_ms = (int)timeout;
    return with_key(buf, len, h, w[2], msg);
}

int rlc_proto_parse_answer(const char *buf, size_t len, rlc_secret_msg *msg)
{
    char line[RLC_PROTO_HEADER_MAX], *w[3];
    long rc;
    rlc_secret_kind k;
    int h = split(buf, len, line, w);
    if (h <= 0)
        return h;
    if (number(w[0], -1000, 0, &rc) < 0)
        return -1;
    for (k = RLC_SECRET_NONE; kind_valid(k) && strcmp(w[1], rlc_secret_kind_name(k)) != 0; k++)
        ;
    if (!kind_valid(k))
        return -1;
    memset(msg, 0, sizeof *msg);
    msg->op = (int)rc;
    msg->kind = k;
    return with_key(buf, len, h, w[2], msg);
}
