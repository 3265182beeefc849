/* scan.c - one pass over an incoming message, before any JSON parser sees it.
 *
 * cJSON accepts invalid UTF-8, turns "\u0000" into a string that C will cut
 * short, and recurses as deep as the input asks (up to its compile-time
 * limit of 1000). Each of these is refused here, with the byte offset, so the
 * parser only ever sees text we can trust it with. */
#include "core_internal.h"

#include <stdio.h>
#include <string.h>

static int refuse(char *reason, size_t reasonlen, const char *what, size_t at)
{
    if (reason && reasonlen)
        snprintf(reason, reasonlen, "%s at byte %zu", what, at);
    return RL_ERR_INVALID;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;                      /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0;                      /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;                      /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;                      /* above U+10FFFF */
        return 4;
    }
    return 0;
}

int rl__scan_text(const char *buf, size_t len, char *reason, size_t reasonlen)
{
    const unsigned char *s = (const unsigned char *)buf;
    int in_string = 0;
    unsigned depth = 0;

    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == 0)
            return refuse(reason, reasonlen, "NUL byte", i);
        if (c >= 0x80) {
            size_t k = utf8_seq(s + i, len - i);
            if (!k)
                return refuse(reason, reasonlen, "invalid UTF-8", i);
            i += k;
            continue;
        }
        if (in_string) {
            if (c == '\\') {
                if (i + 1 >= len)
                    return refuse(reason, reasonlen, "truncated escape", i);
                if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' &&
                    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
                    return refuse(reason, reasonlen, "\\u0000 (NUL) in a string", i);
                i += 2;                    /* the escaped character is ASCII or invalid JSON */
                continue;
            }
            if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > RL_MAX_JSON_DEPTH) {
                char what[64];
                snprintf(what, sizeof what, "nesting deeper than %d levels",
                         RL_MAX_JSON_DEPTH);
                return refuse(reason, reasonlen, what, i);
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
        i++;
    }
    return RL_OK;
}

/* Bytes a sequence starting with c has in all; 0 for a byte that cannot start one. */
static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
         : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
}

/* Can the n bytes at s (fewer than the sequence needs) still become a valid
 * sequence? The second byte's range carries the overlong, surrogate and
 * U+10FFFF rules, as in utf8_seq. */
static int utf8_prefix_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (n >= 2) {
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
            (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
            return 0;
    }
    return 1;
}

int rl__utf8_feed(rl__utf8 *u, const unsigned char *s, size_t len)
{
    size_t i = 0;
    if (u->n) {
        /* Complete the sequence the last piece cut. */
        size_t need = utf8_len(u->held[0]);
        while (u->n < need && i < len)
            u->held[u->n++] = s[i++];
        if (u->n < need)
            return utf8_prefix_ok(u->held, u->n) ? RL_OK : RL_ERR_INVALID;
        if (!utf8_seq(u->held, u->n))
            return RL_ERR_INVALID;
        u->n = 0;
    }
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(s + i, len - i);
        if (k) {
            i += k;
            continue;
        }
        size_t need = utf8_len(s[i]);
        if (!need || len - i >= need || !utf8_prefix_ok(s + i, len - i))
            return RL_ERR_INVALID;
        memcpy(u->held, s + i, len - i);    /* a sequence cut at the end */
        u->n = (unsigned)(len - i);
        return RL_OK;
    }
    return RL_OK;
}

int rl__utf8_end(const rl__utf8 *u)
{
    return u->n ? RL_ERR_INVALID : RL_OK;
}
