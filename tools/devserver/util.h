/*
 * util.h - small shared helpers of the development server: a growable byte
 * buffer with a hard maximum, UTF-8 checks and the stderr log.
 *
 * Nothing here touches libwebsockets, so every helper can be used from any
 * module (and tested without a socket).
 */
#ifndef DS_UTIL_H
#define DS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A byte buffer that refuses to grow past `max` bytes. Once an append fails
 * (too large or out of memory) the buffer is marked failed and later appends
 * are ignored, so a builder can append freely and check once at the end.
 * The buffer always keeps a NUL after its content so text can be used as a
 * C string; `len` never counts it.
 */
typedef struct ds_buf {
    char *data;     /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;     /* content limit in bytes */
    int failed;     /* an append did not fit or allocation failed */
} ds_buf;

void ds_buf_init(ds_buf *b, size_t max);
/* Returns 0, or -1 (and marks the buffer failed) if it would pass max. */
int ds_buf_add(ds_buf *b, const void *p, size_t n);
int ds_buf_adds(ds_buf *b, const char *s);
int ds_buf_addc(ds_buf *b, char c);
int ds_buf_printf(ds_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the content over: the caller frees the result with free(). Returns
 * NULL if the buffer failed (and frees it); *len may be NULL. An empty buffer
 * gives an allocated empty string. The buffer is left empty and reusable. */
char *ds_buf_take(ds_buf *b, size_t *len);
void ds_buf_free(ds_buf *b);

/* 1 if the n bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. */
int ds_utf8_valid(const char *s, size_t n);

/* Decodes one code point of valid UTF-8 at s (n bytes left) and returns the
 * number of bytes it used (at least 1). Invalid input yields U+FFFD and 1. */
size_t ds_utf8_next(const char *s, size_t n, uint32_t *cp);

/* One short line on stderr, prefixed with "devserver: ". Callers never pass
 * a doctor key or report content. */
void ds_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
