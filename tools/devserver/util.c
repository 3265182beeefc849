/*
 * util.c - bounded buffer, UTF-8 helpers and logging (see util.h).
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ds_buf_init(ds_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

/* Makes room for `extra` more content bytes plus the trailing NUL. */
static int buf_reserve(ds_buf *b, size_t extra)
{
    size_t need, ncap;
    char *nd;

    if (b->failed)
        return -1;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    /* Doubling keeps appends amortised O(1); the cap stays near max + 1. */
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > (SIZE_MAX / 2) ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    if (ncap < need)
        ncap = need;
    nd = realloc(b->data, ncap);
    if (!nd) {
        b->failed = 1;
        return -1;
    }
    b->data = nd;
    b->cap = ncap;
    return 0;
}

int ds_buf_add(ds_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ds_buf_adds(ds_buf *b, const char *s)
{
    return ds_buf_add(b, s, strlen(s));
}

int ds_buf_addc(ds_buf *b, char c)
{
    return ds_buf_add(b, &c, 1);
}

int ds_buf_printf(ds_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n)) {
        b->failed = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *ds_buf_take(ds_buf *b, size_t *len)
{
    char *d;
    size_t max = b->max;

    if (b->failed) {
        ds_buf_free(b);
        return NULL;
    }
    if (!b->data && buf_reserve(b, 0)) {
        ds_buf_free(b);
        return NULL;
    }
    d = b->data;
    if (!d)
        return NULL;
    d[b->len] = '\0';
    if (len)
        *len = b->len;
    ds_buf_init(b, max);
    return d;
}

void ds_buf_free(ds_buf *b)
{
    size_t max = b->max;

    free(b->data);
    ds_buf_init(b, max);
}

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
