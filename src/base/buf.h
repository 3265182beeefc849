/*
 * buf.h - a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * Every buffer is created with the most bytes it may ever hold. Growing past
 * that is an error of its own, RL_ERR_TOO_BIG, told apart from running out of
 * memory, RL_ERR_NOMEM. The contents are always followed by a NUL byte (not
 * counted in the length), so text can be read as a C string.
 *
 * A failed buffer. When an add, reserve or printf fails, the contents stay
 * exactly as they were before that call and the buffer is *failed*: every
 * later add, reserve or printf returns the same error and changes nothing, and
 * rl_buf_error() says which. So a builder can append freely and check once, at
 * the end. rl_buf_take() of a failed buffer frees the contents and returns
 * NULL; rl_buf_reset() and rl_buf_free() make it usable again.
 *
 * Ownership: the buffer owns its memory until rl_buf_take() hands it to the
 * caller or rl_buf_free() releases it. The rl_buf itself belongs to the caller
 * (on the stack or in another struct); it is not thread-safe.
 *
 * No dependencies but the C library: the core, the format layer and the
 * development server all use it.
 */
#ifndef RL_BUF_H
#define RL_BUF_H

#include <stddef.h>

#include "platform.h"
#include "rl_error.h"

/* The functions return RL_OK, RL_ERR_TOO_BIG (the contents would pass the
 * buffer's maximum) or RL_ERR_NOMEM (an allocation failed): codes of the one
 * error table, rl_error.h. */
typedef int rl_buf_status;

/* Read it through the functions below, never field by field. */
typedef struct rl_buf {
    char *mem;              /* NULL until something is added */
    size_t len;             /* bytes of contents, the NUL after them not counted */
    size_t cap;             /* bytes allocated */
    size_t max;             /* the most contents it may hold */
    rl_buf_status err;      /* RL_OK, or why the buffer failed */
} rl_buf;

/* An empty buffer that will never hold more than max bytes (SIZE_MAX - 1 at
 * most: one byte is always left for the NUL). Allocates nothing. */
void rl_buf_init(rl_buf *b, size_t max);

/* Releases the contents; the buffer is empty and usable again, same maximum. */
void rl_buf_free(rl_buf *b);

/* Empties the buffer and clears its error, keeping its memory for reuse. */
void rl_buf_reset(rl_buf *b);

/* Appends n bytes (copied; mem may be NULL when n is 0). RL_OK,
 * RL_ERR_TOO_BIG or RL_ERR_NOMEM; on error the buffer is failed (above). */
rl_buf_status rl_buf_add(rl_buf *b, const void *mem, size_t n);

/* Appends a NUL-terminated string, without its NUL. As rl_buf_add. */
rl_buf_status rl_buf_add_str(rl_buf *b, const char *s);

/* Appends printf-style text. As rl_buf_add; text that vsnprintf cannot
 * format (longer than INT_MAX) is RL_ERR_TOO_BIG. */
rl_buf_status rl_buf_printf(rl_buf *b, const char *fmt, ...)
    RL_PRINTF(2, 3);

/* Makes room for n more bytes, so that adding up to n bytes then cannot fail.
 * RL_ERR_TOO_BIG when the length plus n would pass the maximum (checked before
 * anything is allocated), RL_ERR_NOMEM; on error the buffer is failed. */
rl_buf_status rl_buf_reserve(rl_buf *b, size_t n);

/* Shortens the contents to their first len bytes; a len at or above the
 * length changes nothing. Never allocates, never fails. */
void rl_buf_truncate(rl_buf *b, size_t len);

/* Hands the contents over: the caller frees the result with free(). It is
 * NUL-terminated; *len (if len is not NULL) receives its length. An empty
 * buffer gives a newly allocated "". Returns NULL when the buffer had failed
 * (its contents are freed) or "" could not be allocated; *len is then left
 * alone. Either way the buffer is afterwards empty and usable, same maximum. */
char *rl_buf_take(rl_buf *b, size_t *len);

/* The contents, NUL-terminated, still owned by the buffer and valid until the
 * next call that changes it; NULL while the buffer holds no memory. */
char *rl_buf_ptr(const rl_buf *b);

/* The length of the contents. */
size_t rl_buf_len(const rl_buf *b);

/* The bytes allocated (for a caller deciding whether to keep them). */
size_t rl_buf_capacity(const rl_buf *b);

/* RL_OK, or the error that failed the buffer. */
rl_buf_status rl_buf_error(const rl_buf *b);

/* A maximum proportional to an input: factor * len + extra, or the largest
 * maximum there is (SIZE_MAX - 1) when that does not fit in a size_t. For a
 * transformation whose output provably never grows beyond it. */
size_t rl_buf_scaled_max(size_t len, size_t factor, size_t extra);

#endif
