/* fuzz_validate.c - libFuzzer target: any bytes through rl_validate_message.
 * Invariants: it never crashes or leaks, and a valid report is what it says
 * (owned strings of the lengths they claim, raw copy identical). */
#include "reportlink_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_event_kind kind;
    rl_report *r = NULL;
    int code;
    char *message = NULL, reason[RL_MAX_DETAIL];

    if (rl_validate_message((const char *)data, size, &kind, &r, &code, &message, reason,
                            sizeof reason) == RL_OK) {
        if (kind == RL_EVENT_REPORT) {
            if (!r || r->raw_len != size || memcmp(r->raw, data, size) != 0)
                abort();
            for (size_t i = 0; i < r->n_fields; i++)
                if (!r->fields[i].key[0] || strlen(r->fields[i].value) > size)
                    abort();
        } else if (!message) {
            abort();
        }
    } else if (r || message || !reason[0]) {
        abort();          /* a refusal hands nothing over and always says why */
    }
    rl_report_free(r);
    free(message);
    return 0;
}
