/*
 * util.c - UTF-8 helpers and logging (see util.h).
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

size_t ds_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c, min;
    size_t k, i;

    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        goto bad;
    }
    if (n < k)
        goto bad;
    for (i = 1; i < k; i++) {
        if ((u[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        goto bad;
    *cp = c;
    return k;
bad:
    *cp = 0xFFFD;
    return 1;
}

int ds_utf8_valid(const char *s, size_t n)
{
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        k = ds_utf8_next(s + i, n - i, &cp);
        /* U+FFFD itself is 3 bytes long; a 1-byte answer means an error. */
        if (k == 1)
            return 0;
        i += k;
    }
    return 1;
}

void ds_log(const char *fmt, ...)
{
    va_list ap;

    fputs("devserver: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
