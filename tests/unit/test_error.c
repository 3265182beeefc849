/* test_error.c - the one error table (src/base/rl_error.h). */
#include "rl_error.h"

#include <string.h>

#include "testlib.h"

/* Every code of the table, generated from it. */
static const int codes[] = {
#define CODE(c, value, name, message) RL_ERR_##c,
    RL_ERRNO_MAP(CODE)
#undef CODE
};
#define N_CODES ((int)(sizeof codes / sizeof codes[0]))

int main(void)
{
    test("every code is negative: a success is 0 and nothing else");
    int negative = 1;
    for (int i = 0; i < N_CODES; i++)
        negative &= codes[i] < 0;
    test_cond(negative);

    test("no two codes share a value");
    int distinct = 1;
    for (int i = 0; i < N_CODES; i++)
        for (int j = i + 1; j < N_CODES; j++)
            distinct &= codes[i] != codes[j];
    test_cond(distinct);

    test("no two codes share a name, and every name is known");
    int names = 1;
    for (int i = 0; i < N_CODES; i++) {
        names &= strcmp(rl_err_name(codes[i]), "unknown") != 0 && rl_err_name(codes[i])[0] != '\0';
        for (int j = i + 1; j < N_CODES; j++)
            names &= strcmp(rl_err_name(codes[i]), rl_err_name(codes[j])) != 0;
    }
    test_cond(names);

    test("every code has a message of its own");
    int messages = 1;
    for (int i = 0; i < N_CODES; i++)
        messages &= strcmp(rl_strerror(codes[i]), "unknown error") != 0 && strlen(rl_strerror(codes[i])) > 5;
    test_cond(messages);

    test("names and messages of a few codes, as the table gives them");
    test_cond(strcmp(rl_err_name(RL_ERR_NOMEM), "nomem") == 0 &&
              strcmp(rl_strerror(RL_ERR_NOMEM), "out of memory") == 0 &&
              strcmp(rl_err_name(RL_ERR_EDITED), "edited") == 0 &&
              strcmp(rl_err_name(RL_ERR_UNO_EXCEPTION), "uno_exception") == 0);

    test("0 is ok; a value not in the table is unknown, not a crash");
    test_cond(strcmp(rl_err_name(RL_OK), "ok") == 0 && strcmp(rl_strerror(0), "ok") == 0 &&
              strcmp(rl_err_name(-9999), "unknown") == 0 && strcmp(rl_strerror(12345), "unknown error") == 0);

    test("the UNO bridge's exception and the core's out-of-memory are two codes (they were both -1)");
    test_cond(RL_ERR_UNO_EXCEPTION != RL_ERR_NOMEM);

    return test_summary();
}
