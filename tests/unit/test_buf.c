/* test_buf.c - the bounded buffer (src/base/buf.h): a hard maximum, two
 * distinct errors, a defined state after either, and who owns what. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "testlib.h"

/* A request no allocator can meet must come back as NULL under the sanitizers
 * too (by default they stop the program instead), so that RL_ERR_NOMEM can be
 * tested in every flavour. */
const char *__asan_default_options(void);
const char *__tsan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

int main(void)
{
    rl_buf b;

    test("a new buffer is empty, holds no memory and has no error");
    rl_buf_init(&b, 16);
    test_cond(rl_buf_len(&b) == 0 && rl_buf_ptr(&b) == NULL && rl_buf_capacity(&b) == 0 &&
              rl_buf_error(&b) == RL_OK);

    test("added bytes are kept in order and followed by a NUL");
    test_cond(rl_buf_add(&b, "abc", 3) == RL_OK && rl_buf_add_str(&b, "def") == RL_OK &&
              rl_buf_len(&b) == 6 && strcmp(rl_buf_ptr(&b), "abcdef") == 0);

    test("bytes may be anything, NUL included; the length counts them all");
    rl_buf_reset(&b);
    test_cond(rl_buf_add(&b, "a\0b", 3) == RL_OK && rl_buf_len(&b) == 3 &&
              memcmp(rl_buf_ptr(&b), "a\0b", 4) == 0);
    rl_buf_free(&b);

    test("filled to exactly its maximum: accepted");
    rl_buf_init(&b, 8);
    test_cond(rl_buf_add(&b, "12345678", 8) == RL_OK && rl_buf_len(&b) == 8 &&
              strcmp(rl_buf_ptr(&b), "12345678") == 0);
    rl_buf_free(&b);

    test("filled to one byte below its maximum: accepted, and one more byte still fits");
    rl_buf_init(&b, 8);
    test_cond(rl_buf_add(&b, "1234567", 7) == RL_OK && rl_buf_len(&b) == 7 &&
              rl_buf_add(&b, "8", 1) == RL_OK && rl_buf_len(&b) == 8);
    rl_buf_free(&b);

    test("one byte above its maximum: RL_ERR_TOO_BIG, the contents as before the call");
    rl_buf_init(&b, 8);
    rl_buf_add(&b, "1234", 4);
    test_cond(rl_buf_add(&b, "56789", 5) == RL_ERR_TOO_BIG && rl_buf_len(&b) == 4 &&
              strcmp(rl_buf_ptr(&b), "1234") == 0 && rl_buf_error(&b) == RL_ERR_TOO_BIG);

    test("a failed buffer refuses every later add, even one that would fit");
    test_cond(rl_buf_add(&b, "5", 1) == RL_ERR_TOO_BIG && rl_buf_add_str(&b, "") == RL_ERR_TOO_BIG &&
              rl_buf_printf(&b, "%d", 5) == RL_ERR_TOO_BIG &&
              rl_buf_reserve(&b, 0) == RL_ERR_TOO_BIG && rl_buf_len(&b) == 4);

    test("taking a failed buffer gives NULL, frees it, and leaves it empty and usable");
    size_t n = 99;
    test_cond(rl_buf_take(&b, &n) == NULL && n == 99 && rl_buf_ptr(&b) == NULL &&
              rl_buf_error(&b) == RL_OK && rl_buf_add_str(&b, "ok") == RL_OK &&
              strcmp(rl_buf_ptr(&b), "ok") == 0);
    rl_buf_free(&b);

    test("reset clears the error and the contents, and keeps the memory");
    rl_buf_init(&b, 4);
    rl_buf_add(&b, "abc", 3);
    rl_buf_add(&b, "de", 2);
    size_t cap = rl_buf_capacity(&b);
    rl_buf_reset(&b);
    test_cond(rl_buf_error(&b) == RL_OK && rl_buf_len(&b) == 0 && cap > 0 &&
              rl_buf_capacity(&b) == cap && strcmp(rl_buf_ptr(&b), "") == 0 &&
              rl_buf_add(&b, "wxyz", 4) == RL_OK);
    rl_buf_free(&b);

    test("free releases the memory and keeps the maximum");
    rl_buf_init(&b, 4);
    rl_buf_add(&b, "abcd", 4);
    rl_buf_free(&b);
    test_cond(rl_buf_ptr(&b) == NULL && rl_buf_capacity(&b) == 0 && rl_buf_len(&b) == 0 &&
              rl_buf_add(&b, "abcd", 4) == RL_OK && rl_buf_add(&b, "e", 1) == RL_ERR_TOO_BIG);
    rl_buf_free(&b);

    test("a buffer of maximum 0 takes nothing but the empty string");
    rl_buf_init(&b, 0);
    test_cond(rl_buf_add(&b, "", 0) == RL_OK && rl_buf_add(&b, "x", 1) == RL_ERR_TOO_BIG);
    rl_buf_free(&b);

    test("growth across many appends: 100,000 single bytes, every one in place");
    rl_buf_init(&b, 100000);
    int ok = 1;
    for (int i = 0; i < 100000 && ok; i++) {
        char c = (char)('a' + i % 26);
        ok = rl_buf_add(&b, &c, 1) == RL_OK;
    }
    for (size_t i = 0; i < 100000 && ok; i++)
        ok = rl_buf_ptr(&b)[i] == (char)('a' + i % 26);
    test_cond(ok && rl_buf_len(&b) == 100000 && rl_buf_ptr(&b)[100000] == '\0' &&
              rl_buf_capacity(&b) <= 100001 && rl_buf_add(&b, "z", 1) == RL_ERR_TOO_BIG);
    rl_buf_free(&b);

    test("the memory never grows past the maximum plus its NUL");
    rl_buf_init(&b, 1000);
    rl_buf_add(&b, "x", 1);
    rl_buf_reserve(&b, 999);
    test_cond(rl_buf_capacity(&b) == 1001);
    rl_buf_free(&b);

    test("reserve makes room ahead, and adding within it then cannot fail");
    rl_buf_init(&b, 1 << 20);
    test_cond(rl_buf_reserve(&b, 70000) == RL_OK && rl_buf_capacity(&b) >= 70001 &&
              rl_buf_len(&b) == 0);
    rl_buf_free(&b);

    test("reserve past the maximum is RL_ERR_TOO_BIG and allocates nothing");
    rl_buf_init(&b, 100);
    rl_buf_add(&b, "abc", 3);
    cap = rl_buf_capacity(&b);
    test_cond(rl_buf_reserve(&b, 98) == RL_ERR_TOO_BIG && rl_buf_capacity(&b) == cap &&
              strcmp(rl_buf_ptr(&b), "abc") == 0);
    rl_buf_free(&b);

    test("reserve of a length that would overflow size_t is RL_ERR_TOO_BIG");
    rl_buf_init(&b, SIZE_MAX);
    rl_buf_add(&b, "abc", 3);
    test_cond(rl_buf_reserve(&b, SIZE_MAX) == RL_ERR_TOO_BIG && rl_buf_len(&b) == 3);
    rl_buf_free(&b);

    test("an allocation that fails is RL_ERR_NOMEM, not RL_ERR_TOO_BIG, contents kept");
    rl_buf_init(&b, SIZE_MAX - 1);
    rl_buf_add(&b, "abc", 3);
    /* Within the maximum, but more than any allocator gives. */
    test_cond(rl_buf_reserve(&b, SIZE_MAX / 2) == RL_ERR_NOMEM &&
              rl_buf_error(&b) == RL_ERR_NOMEM && rl_buf_len(&b) == 3 &&
              strcmp(rl_buf_ptr(&b), "abc") == 0 && rl_buf_add(&b, "d", 1) == RL_ERR_NOMEM);
    rl_buf_free(&b);

    test("printf appends formatted text within the maximum, and refuses past it");
    rl_buf_init(&b, 10);
    test_cond(rl_buf_printf(&b, "%s-%d", "ab", 42) == RL_OK &&
              strcmp(rl_buf_ptr(&b), "ab-42") == 0 &&
              rl_buf_printf(&b, "%06d", 7) == RL_ERR_TOO_BIG && strcmp(rl_buf_ptr(&b), "ab-42") == 0);
    rl_buf_free(&b);

    test("truncate shortens the contents and keeps the NUL after them; longer changes nothing");
    rl_buf_init(&b, 16);
    rl_buf_add_str(&b, "abcdef");
    rl_buf_truncate(&b, 10);
    int longer_same = rl_buf_len(&b) == 6;
    rl_buf_truncate(&b, 2);
    test_cond(longer_same && rl_buf_len(&b) == 2 && strcmp(rl_buf_ptr(&b), "ab") == 0 &&
              rl_buf_add_str(&b, "XY") == RL_OK && strcmp(rl_buf_ptr(&b), "abXY") == 0);
    rl_buf_free(&b);

    test("take hands over the contents, NUL-terminated; the caller frees them");
    rl_buf_init(&b, 16);
    rl_buf_add_str(&b, "report");
    n = 0;
    char *taken = rl_buf_take(&b, &n);
    test_cond(taken && n == 6 && strcmp(taken, "report") == 0);

    test("after take the buffer is empty, holds nothing, and can be used again");
    test_cond(rl_buf_ptr(&b) == NULL && rl_buf_len(&b) == 0 && rl_buf_capacity(&b) == 0 &&
              rl_buf_add_str(&b, "again") == RL_OK && strcmp(rl_buf_ptr(&b), "again") == 0 &&
              strcmp(taken, "report") == 0);
    free(taken);
    rl_buf_free(&b);

    test("taking an empty buffer gives an allocated empty string");
    rl_buf_init(&b, 16);
    n = 99;
    taken = rl_buf_take(&b, &n);
    test_cond(taken && taken[0] == '\0' && n == 0);
    free(taken);

    test("take accepts a NULL length");
    rl_buf_add_str(&b, "x");
    taken = rl_buf_take(&b, NULL);
    test_cond(taken && strcmp(taken, "x") == 0);
    free(taken);
    rl_buf_free(&b);

    test("a scaled maximum is factor x length + extra, and saturates instead of wrapping");
    test_cond(rl_buf_scaled_max(100, 6, 128) == 728 && rl_buf_scaled_max(0, 6, 128) == 128 &&
              rl_buf_scaled_max(SIZE_MAX / 6, 6, 128) == SIZE_MAX - 1 &&
              rl_buf_scaled_max(SIZE_MAX, 0, SIZE_MAX) == SIZE_MAX - 1);

    return test_summary();
}
