/* test_backoff.c - full-jitter delays: random(0, min(cap, base * 2^(attempt-1))). */
#include "core_internal.h"
#include "testlib.h"

int main(void)
{
    test("the smallest draw is 0 and the largest is the ceiling, for every attempt");
    int ok = 1;
    for (unsigned a = 1; a <= 40; a++) {
        int64_t ceiling = 1000;
        for (unsigned i = 1; i < a && ceiling < 60000; i++)
            ceiling *= 2;
        if (ceiling > 60000)
            ceiling = 60000;
        int64_t lo = rl__backoff_delay(a, 1000, 60000, 0);
        int64_t hi = rl__backoff_delay(a, 1000, 60000, 0xffffffffu);
        if (lo != 0 || hi != ceiling) {
            printf("  attempt %u: lo %lld hi %lld ceiling %lld\n", a, (long long)lo,
                   (long long)hi, (long long)ceiling);
            ok = 0;
        }
    }
    test_cond(ok);

    test("ceilings double from 1 s and stop at the 60 s cap");
    test_cond(rl__backoff_delay(1, 1000, 60000, 0xffffffffu) == 1000 &&
              rl__backoff_delay(2, 1000, 60000, 0xffffffffu) == 2000 &&
              rl__backoff_delay(6, 1000, 60000, 0xffffffffu) == 32000 &&
              rl__backoff_delay(7, 1000, 60000, 0xffffffffu) == 60000 &&
              rl__backoff_delay(1000000, 1000, 60000, 0xffffffffu) == 60000);

    test("a middle draw gives about half the ceiling");
    int64_t mid = rl__backoff_delay(3, 1000, 60000, 0x80000000u);
    test_cond(mid >= 1999 && mid <= 2001);

    test("draws are uniform: the mean of many is near half the ceiling");
    uint32_t x = 12345;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        sum += (double)rl__backoff_delay(4, 1000, 60000, x);
    }
    double mean = sum / 100000;
    test_cond(mean > 3900 && mean < 4100);

    test("attempt 0 is treated as the first retry");
    test_cond(rl__backoff_delay(0, 1000, 60000, 0xffffffffu) == 1000);
    return test_summary();
}
