/*
 * util.h - small shared helpers of the development server: a byte appended to
 * a bounded buffer, UTF-8 checks and the stderr log.
 *
 * Nothing here touches libwebsockets, so every helper can be used from any
 * module (and tested without a socket).
 */
#ifndef DS_UTIL_H
#define DS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Every buffer here is an rl_buf (src/base/buf.h): created with a hard
 * maximum; once an append fails (too large or out of memory) later appends are
 * ignored, so a builder can append freely and check once at the end. */

/* Appends one byte; as rl_buf_add. */
static inline rl_buf_status ds_addc(rl_buf *b, char c)
{
    return rl_buf_add(b, &c, 1);
}

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
