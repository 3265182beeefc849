/* testlib.h - the smallest test harness that does the job (after hiredis'
 * test.c): test("name") opens a case, test_cond(c) closes it. Each runner
 * ends with the line "N passed, N failed" and exits 1 if anything failed. */
#ifndef RL_TESTLIB_H
#define RL_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>

static int tests_passed, tests_failed;
static const char *test_name;

#define test(name) (test_name = (name))
#define test_cond(cond) do {                                                  \
        if (cond) {                                                           \
            tests_passed++;                                                   \
            printf("ok - %s\n", test_name);                                   \
        } else {                                                              \
            tests_failed++;                                                   \
            printf("FAIL - %s (%s:%d: %s)\n", test_name, __FILE__, __LINE__, #cond); \
        }                                                                     \
    } while (0)

static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}

#endif
