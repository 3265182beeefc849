/* memory.c - the letter's memory of what ReportLink placed (memory.h).
 *
 * The property's text is one record per field, each ended by ';', of four
 * comma-separated columns:
 *     bookmark , fingerprint , previous fingerprint , placeholder ;
 * with '%', ',', ';' and control characters written as %XX in the bookmark
 * and the placeholder. Only printable characters, no tab or line break, so
 * that the value survives every format's document properties (.docx
 * included) unchanged. */
#include "memory.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rl_memory_fingerprint(const void *data, size_t len, char out[RL_MEMORY_FP_HEX])
{
    uint64_t h = 14695981039346656037ull;          /* FNV-1a, 64 bits */
    const unsigned char *p = data;
    for (size_t i = 0; p && i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    snprintf(out, RL_MEMORY_FP_HEX, "%016llx", (unsigned long long)h);
}

static int is_fp(const char *s, size_t n)
{
    if (n == 0)
        return 1;               /* "" is allowed for the previous one */
    if (n != RL_MEMORY_FP_HEX - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies the n bytes at s into out (cap bytes), undoing the %XX escapes;
 * 0 when it does not fit or an escape is broken. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return 0;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return 0;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (j + 1 >= cap)
            return 0;
        out[j++] = c;
    }
    out[j] = 0;
    return 1;
}

static char *escape(char *p, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%' || c == ',' || c == ';' || c < 0x20 || c == 0x7f)
            p += sprintf(p, "%%%02X", c);
        else
            *p++ = (char)c;
    }
    return p;
}

size_t rl_memory_parse(const char *text, rl_letter_memory *m)
{
    m->n = 0;
    for (const char *rec = text; rec && *rec && m->n < RL_MEMORY_MAX_FIELDS;) {
        const char *end = strchr(rec, ';');
        size_t len = end ? (size_t)(end - rec) : strlen(rec);
        const char *col[4];
        size_t col_len[4], k = 0;
        const char *p = rec;
        while (k < 4) {
            const char *comma = k < 3 ? memchr(p, ',', (size_t)(rec + len - p)) : NULL;
            col[k] = p;
            col_len[k] = comma ? (size_t)(comma - p) : (size_t)(rec + len - p);
            k++;
            if (!comma)
                break;
            p = comma + 1;
        }
        rl_memory_field *f = &m->fields[m->n];
        if (k == 4 && col_len[0] && is_fp(col[1], col_len[1]) && col_len[1] &&
            is_fp(col[2], col_len[2]) &&
            unescape(col[0], col_len[0], f->bookmark, sizeof f->bookmark) &&
            unescape(col[3], col_len[3], f->placeholder, sizeof f->placeholder)) {
            memcpy(f->fp, col[1], col_len[1]);
            f->fp[col_len[1]] = 0;
            memcpy(f->prev, col[2], col_len[2]);
            f->prev[col_len[2]] = 0;
            if (!rl_memory_find(m, f->bookmark))      /* the first record of a name wins */
                m->n++;
        }
        rec = end ? end + 1 : rec + len;
    }
    return m->n;
}

char *rl_memory_format(const rl_letter_memory *m)
{
    size_t cap = 1;
    for (size_t i = 0; i < m->n; i++)
        cap += 3 * strlen(m->fields[i].bookmark) + 2 * RL_MEMORY_FP_HEX + 4 +
               3 * strlen(m->fields[i].placeholder);
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const rl_memory_field *f = &m->fields[i];
        p = escape(p, f->bookmark);
        p += sprintf(p, ",%s,%s,", f->fp, f->prev);
        p = escape(p, f->placeholder);
        *p++ = ';';
    }
    *p = 0;
    return s;
}

rl_memory_field *rl_memory_find(rl_letter_memory *m, const char *bookmark)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->fields[i].bookmark, bookmark))
            return &m->fields[i];
    return NULL;
}

rl_memory_field *rl_memory_add(rl_letter_memory *m, const char *bookmark)
{
    rl_memory_field *f = rl_memory_find(m, bookmark);
    if (f)
        return f;
    if (m->n >= RL_MEMORY_MAX_FIELDS || !bookmark[0] || strlen(bookmark) >= sizeof f->bookmark)
        return NULL;
    f = &m->fields[m->n++];
    memset(f, 0, sizeof *f);
    snprintf(f->bookmark, sizeof f->bookmark, "%s", bookmark);
    return f;
}

void rl_memory_remove(rl_letter_memory *m, const char *bookmark)
{
    rl_memory_field *f = rl_memory_find(m, bookmark);
    if (!f)
        return;
    size_t i = (size_t)(f - m->fields);
    memmove(&m->fields[i], &m->fields[i + 1], (m->n - i - 1) * sizeof *f);
    m->n--;
}
