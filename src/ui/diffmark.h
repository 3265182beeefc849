/*
 * diffmark.h - what changed between two texts, marked for a label: the words
 * that differ between the doctor's text and the report's are put in [ ], the
 * words around them kept, long texts shortened around the change with "…".
 * Pure and UNO-free (unit-tested); the inbox panel shows the result.
 */
#ifndef RLU_DIFFMARK_H
#define RLU_DIFFMARK_H

#include <stddef.h>

#define RLU_MARK_CONTEXT 24    /* bytes of unchanged text kept on each side of a change */

/* Writes before and after (UTF-8) with their differing words in [ ] into
 * out_before and out_after (cap bytes each, always NUL-terminated, never a
 * cut character). Line breaks become " / ". Equal texts are copied unmarked. */
void rlu_mark_change(const char *before, const char *after, char *out_before, char *out_after,
                     size_t cap);

#endif
