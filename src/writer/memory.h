/*
 * memory.h - what ReportLink placed in a letter, remembered in the letter.
 *
 * For each field bookmark a report filled: a fingerprint of the text it held
 * right after the placement (and of the one before, so that one Ctrl+Z is not
 * taken for the doctor's edit), and the placeholder it showed before the first
 * report (template text, never report content), so that a later report
 * lacking that field can put it back. Kept as one string, in the document's
 * user-defined property RL_MEMORY_PROPERTY, so it survives saving and
 * reopening in .odt and .docx. No report text is ever stored: a fingerprint is
 * a 64-bit FNV-1a hash.
 *
 * UNO-free and pure: the Writer layer (letterstate.c) reads and writes the property.
 */
#ifndef RL_WRITER_MEMORY_H
#define RL_WRITER_MEMORY_H

#include <stddef.h>

#define RL_MEMORY_PROPERTY   "ReportLinkFields"
#define RL_MEMORY_MAX_FIELDS 256        /* = RL_WRITER_MAX_TARGETS */
#define RL_MEMORY_MAX_NAME   128        /* bytes of a bookmark name, with NUL */
#define RL_MEMORY_MAX_PLACEHOLDER 256   /* bytes of a placeholder kept, with NUL */
#define RL_MEMORY_FP_HEX     17         /* 16 hex digits and NUL */

typedef struct rl_memory_field {
    char bookmark[RL_MEMORY_MAX_NAME];
    char fp[RL_MEMORY_FP_HEX];          /* the text placed */
    char prev[RL_MEMORY_FP_HEX];        /* the text before it ("" for none) */
    char placeholder[RL_MEMORY_MAX_PLACEHOLDER];
} rl_memory_field;

typedef struct rl_letter_memory {
    rl_memory_field fields[RL_MEMORY_MAX_FIELDS];
    size_t n;
} rl_letter_memory;

/* The fingerprint of len bytes at data (Writer's text as UTF-16 code units)
 * as 16 lower-case hex digits. */
void rl_memory_fingerprint(const void *data, size_t len, char out[RL_MEMORY_FP_HEX]);

/* Reads the property's text (NULL or "": nothing remembered). A record that
 * does not parse is skipped: a letter damaged by hand only forgets that
 * field. Returns the number of fields read. */
size_t rl_memory_parse(const char *text, rl_letter_memory *m);

/* The property's text; malloc'd, the caller frees it; NULL when out of memory. */
char *rl_memory_format(const rl_letter_memory *m);

/* The field for bookmark, or NULL. */
rl_memory_field *rl_memory_find(rl_letter_memory *m, const char *bookmark);

/* The field for bookmark, added (empty) when missing; NULL when full. */
rl_memory_field *rl_memory_add(rl_letter_memory *m, const char *bookmark);

/* Forgets bookmark. */
void rl_memory_remove(rl_letter_memory *m, const char *bookmark);

#endif
