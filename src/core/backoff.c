/* backoff.c - the reconnection delay: exponential with full jitter.
 *
 * libwebsockets' own retry policy adds a bounded jitter to a fixed table; the
 * service asks for exponential backoff, and full jitter is what keeps many
 * clients of one clinic from reconnecting in lock-step after an outage. */
#include "core_internal.h"

int64_t rl__backoff_delay(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                          uint32_t random32)
{
    if (attempt == 0)
        attempt = 1;
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;

    int64_t ceiling = base_ms;
    for (unsigned i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;                 /* stops before it can overflow */
    if (ceiling > cap_ms)
        ceiling = cap_ms;

    /* Uniform on [0, ceiling] without modulo bias worth speaking of. */
    return (int64_t)(((uint64_t)random32 * (uint64_t)(ceiling + 1)) >> 32);
}
