/* buf.c - a growable byte buffer with a hard maximum (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation; then the capacity doubles, so that n appends cost
 * O(n) copies, and stops at the maximum (plus the NUL). */
#define RL_BUF_FIRST_ALLOC 256

void rl_buf_init(rl_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
}

void rl_buf_free(rl_buf *b)
{
    size_t max = b->max;
    free(b->mem);
    rl_buf_init(b, max);
}

void rl_buf_reset(rl_buf *b)
{
    b->len = 0;
    b->err = RL_OK;
    if (b->mem)
        b->mem[0] = '\0';
}

static rl_buf_status fail(rl_buf *b, rl_buf_status err)
{
    b->err = err;
    return err;
}

rl_buf_status rl_buf_reserve(rl_buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return fail(b, RL_ERR_TOO_BIG);
    size_t need = b->len + n + 1;       /* at most max + 1: no overflow */
    if (need <= b->cap)
        return RL_OK;
    size_t cap = b->cap ? b->cap : RL_BUF_FIRST_ALLOC;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *mem = realloc(b->mem, cap);
    if (!mem)
        return fail(b, RL_ERR_NOMEM);
    if (!b->mem)
        mem[0] = '\0';
    b->mem = mem;
    b->cap = cap;
    return RL_OK;
}

rl_buf_status rl_buf_add(rl_buf *b, const void *mem, size_t n)
{
    rl_buf_status r = rl_buf_reserve(b, n);
    if (r != RL_OK || n == 0)
        return r;
    memcpy(b->mem + b->len, mem, n);
    b->len += n;
    b->mem[b->len] = '\0';
    return RL_OK;
}

rl_buf_status rl_buf_add_str(rl_buf *b, const char *s)
{
    return rl_buf_add(b, s, strlen(s));
}

rl_buf_status rl_buf_printf(rl_buf *b, const char *fmt, ...)
{
    va_list ap;

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, RL_ERR_TOO_BIG);
    rl_buf_status r = rl_buf_reserve(b, (size_t)n);
    if (r != RL_OK || n == 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->mem + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RL_OK;
}

void rl_buf_truncate(rl_buf *b, size_t len)
{
    if (len >= b->len)
        return;
    b->len = len;
    b->mem[len] = '\0';
}

char *rl_buf_take(rl_buf *b, size_t *len)
{
    if (b->err) {
        rl_buf_free(b);
        return NULL;
    }
    char *mem = b->mem ? b->mem : calloc(1, 1);
    if (mem && len)
        *len = b->len;
    rl_buf_init(b, b->max);
    return mem;
}

char *rl_buf_ptr(const rl_buf *b)
{
    return b->mem;
}

size_t rl_buf_len(const rl_buf *b)
{
    return b->len;
}

size_t rl_buf_capacity(const rl_buf *b)
{
    return b->cap;
}

rl_buf_status rl_buf_error(const rl_buf *b)
{
    return b->err;
}

size_t rl_buf_scaled_max(size_t len, size_t factor, size_t extra)
{
    if (extra > SIZE_MAX - 1 || (factor && len > (SIZE_MAX - 1 - extra) / factor))
        return SIZE_MAX - 1;
    return len * factor + extra;
}
