/*
 * plan.h - what placing a report would do, decided from plain facts.
 *
 * The Writer layer (writer.c) reads the letter through UNO into an
 * rl_plan_input: its bookmarks, what it remembers of the last report
 * (memory.h) and what each remembered field holds now, whether it was saved
 * or printed since, its PatientId... Then the plan says which letter the
 * report goes into, which bookmarks receive what, which fields an earlier
 * report filled go back to their placeholders, or why nothing is done. The
 * rules are those of src/writer/README.md, "Before touching anything" and
 * "A report in a letter that holds one".
 *
 * Pure: no UNO, no I/O, so tests/unit/test_plan.c drives every rule without
 * LibreOffice. This header is also where the writer's refusals, flags and
 * special field names live, so that both sides share them (writer.h
 * includes it).
 */
#ifndef RL_WRITER_PLAN_H
#define RL_WRITER_PLAN_H

#include "memory.h"
#include "reportlink_core.h"

#include <stddef.h>
#include <time.h>

#define RL_WRITER_WHOLE_REPORT "report_text"   /* the plain-text report */
#define RL_WRITER_HTML_REPORT  "report_html"   /* html_content, with its formatting */
#define RL_WRITER_RTF_REPORT   "report_rtf"    /* rtf_report, with its formatting */
#define RL_WRITER_DOCX_REPORT  "report_docx"   /* the DOCX behind url, once fetched */
#define RL_WRITER_MAX_TARGETS  256   /* bookmarks filled by one report */
/* Writer lays a paragraph out in worse than quadratic time (measured on
 * 7.4: 16 K characters 0.1 s, 64 K 4 s, 128 K 2 min, the office frozen all
 * along). A field with a longer paragraph is not placed: it waits in the
 * inbox with the reason, and its text is never re-flowed behind the
 * doctor's back. */
#define RL_WRITER_MAX_PARAGRAPH 16384  /* characters */

/* Why a report was not placed: RL_OK (placed), or one of the codes of the
 * one error table (rl_error.h, "Why a report was not placed"): RL_ERR_NO_DOCUMENT,
 * RL_ERR_NOT_WRITER, RL_ERR_NO_FIELDS (none of the report's field bookmarks),
 * RL_ERR_READ_ONLY, RL_ERR_PROTECTED, RL_ERR_TOO_LONG (a paragraph above
 * RL_WRITER_MAX_PARAGRAPH), RL_ERR_PATIENT_MISMATCH, RL_ERR_EDIT_FAILED,
 * RL_ERR_EDITED, RL_ERR_SAVED, RL_ERR_NO_TEMPLATE, RL_ERR_PRINTED; out of
 * memory is RL_ERR_EDIT_FAILED (the letter is unchanged). The inbox shows the
 * reason and the tests check it. */
typedef int rl_writer_refusal;

/* The refusal's stable name, rl_err_name() ("no_document", "edited"...), or
 * "" for RL_OK: the UI words it in the user's language. */
const char *rl_writer_refusal_name(rl_writer_refusal why);

/* A report replaces a report as a whole, and never the doctor's words
 * silently (src/writer/README.md, "A report in a letter that holds one"):
 * the letter remembers what was placed in each field (memory.h). A field an
 * earlier report filled that the new one lacks goes back to its placeholder,
 * in the same undo step. If the doctor changed such a field, or the letter
 * was saved since, the report is refused (RL_ERR_EDITED, RL_ERR_SAVED)
 * unless flags has RL_WRITER_REPLACE (the doctor chose "Replace"). */
#define RL_WRITER_REPLACE 1u
/* "Nouvelle lettre": the report goes into a fresh letter made from the active
 * one's template (its TemplateURL), or, for a letter made from none, a copy of
 * its file with the fields an earlier report filled back to their
 * placeholders; the active letter is not touched. */
#define RL_WRITER_NEW_LETTER 2u

/* The number of characters of the longest paragraph of utf8. Pure. */
size_t rl_writer_longest_paragraph(const char *utf8);

/* ------------------------------------------------------------ the input */

#define RL_PLAN_MAX_NAME 128   /* bytes of a field or bookmark name, with NUL (= RL_MAX_FIELD_NAME) */
#define RL_PLAN_MAX_MAP  64    /* configured fields (= RL_MAX_FIELD_MAP) */

/* The configured fields (/org.reportlink.Settings/Fields): the field map of
 * placement.h, borrowed, in words the plan can read without UNO. */
typedef struct rl_plan_map {
    struct {
        const char *key;           /* json_report key */
        const char *bookmark;      /* its bookmark name */
        int from_html;             /* Source = "html": its section of html_content */
        const char *html_heading;  /* that section's heading */
    } entries[RL_PLAN_MAX_MAP];
    size_t n;
} rl_plan_map;

/* What a field an earlier report filled holds now. */
typedef enum rl_field_state {
    RL_FIELD_PLACED,        /* what the last report put there: untouched */
    RL_FIELD_BEFORE,        /* what it held before (the doctor pressed Ctrl+Z) */
    RL_FIELD_PLACEHOLDER,   /* its placeholder again */
    RL_FIELD_EDITED,        /* anything else: the doctor's words */
    RL_FIELD_MISSING        /* its bookmark was deleted */
} rl_field_state;

/* One bookmark of the letter. */
typedef struct rl_plan_bookmark {
    const char *name;       /* UTF-8; NULL when it has none that fits: never a field */
    int is_protected;       /* it lies in a protected section (or one inside it) */
} rl_plan_bookmark;

/* The letter, as the Writer layer read it. All borrowed. */
typedef struct rl_plan_letter {
    int exists;             /* there is a document (the one given, or the active window's) */
    int is_writer;          /* it is a text document with bookmarks */
    int made_new;           /* it was just made for RL_WRITER_NEW_LETTER: fill this one */
    int has_template;       /* it has a TemplateURL (read for RL_WRITER_NEW_LETTER only) */
    int has_file;           /* it was saved: it has a URL (likewise) */
    const rl_plan_bookmark *bookmarks;
    size_t n_bookmarks;
    const rl_letter_memory *memory;      /* what earlier reports placed; NULL: nothing */
    const rl_field_state *states;        /* one for each memory->fields[i] */
    int modified;           /* changed since it was last saved or opened */
    time_t placed;          /* when the last report was placed; 0: unknown */
    time_t saved;           /* its ModificationDate; 0: never */
    time_t printed;         /* its PrintDate; 0: never */
    const char *patient_id; /* its PatientId property; NULL or "": none */
    int read_only;          /* opened read-only */
} rl_plan_letter;

typedef struct rl_plan_input {
    const rl_report *report;          /* NULL: only report_docx, from docx */
    const unsigned char *docx;        /* the report's DOCX; NULL: report_docx stays */
    size_t docx_len;
    const rl_plan_map *fields;        /* NULL: no field configured */
    unsigned flags;                   /* RL_WRITER_REPLACE, RL_WRITER_NEW_LETTER */
    rl_plan_letter letter;
} rl_plan_input;

/* ----------------------------------------------------------- the plan */

/* Which letter the report goes into. */
typedef enum rl_plan_choice {
    RL_PLAN_THIS_LETTER,    /* the one read */
    RL_PLAN_FROM_TEMPLATE,  /* a new letter from its TemplateURL */
    RL_PLAN_FROM_FILE       /* a new untitled copy of its file, earlier fields reset */
} rl_plan_choice;

/* How a value goes into the letter. */
typedef enum rl_plan_format {
    RL_PLAN_TEXT,           /* paragraphs of plain text */
    RL_PLAN_HTML,           /* through LibreOffice's HTML import, cleaned first */
    RL_PLAN_RTF,            /* through LibreOffice's RTF import, cleaned first */
    RL_PLAN_DOCX            /* the signed DOCX, through the Word 2007 import */
} rl_plan_format;

#define RL_PLAN_NO_BOOKMARK ((size_t)-1)

/* One bookmark to fill, or to put back to its placeholder. */
typedef struct rl_plan_target {
    char bookmark[RL_PLAN_MAX_NAME];
    char key[RL_PLAN_MAX_NAME];   /* the field it stands for; "" for a clearing */
    size_t index;                 /* in letter.bookmarks; RL_PLAN_NO_BOOKMARK: not found */
    rl_plan_format format;
    const char *value;            /* borrowed from the report or docx, or `owned` */
    size_t len;                   /* bytes of value (DOCX: not NUL-terminated) */
    char *owned;                  /* a value made for the plan; rl_plan_free frees it */
    int clearing;                 /* an earlier report's field going back to its placeholder */
} rl_plan_target;

typedef struct rl_plan {
    rl_writer_refusal why;        /* RL_OK: go ahead */
    char error[RL_MAX_DETAIL];    /* why not, in English, never report content */
    char field[RL_PLAN_MAX_NAME]; /* EDITED, TOO_LONG, PROTECTED: the bookmark concerned */
    char when[8];                 /* SAVED, PRINTED: "HH:MM", local time; "" if unknown */
    rl_plan_choice letter;
    rl_plan_target *targets;      /* fillings first, in the letter's order, then clearings */
    size_t n_targets;
    char *whole;                  /* the plain-text report, shared by report_text targets */
} rl_plan;

/* The field key a bookmark name stands for under map (NULL: none), or NULL
 * when it stands for none: the special report_* names, exact mapped names,
 * a key of r itself, then the same for "<name>_<digits>". Writes into key
 * (cap bytes). */
const char *rl_plan_field_of(const char *bookmark, const rl_plan_map *map, const rl_report *r,
                             char *key, size_t cap);

/* Step 1, which letter: the one read, or (RL_WRITER_NEW_LETTER with a
 * report, and the letter not made_new) a new one from its template or its
 * file. Refuses NO_DOCUMENT, NOT_WRITER, NO_TEMPLATE. Reads in->report,
 * in->flags and letter.exists, is_writer, made_new, has_template, has_file.
 * Returns p->why. The caller frees p with rl_plan_free. */
rl_writer_refusal rl_plan_letter_choice(const rl_plan_input *in, rl_plan *p);

/* Step 2, for the letter chosen: the targets, or a refusal (NO_FIELDS,
 * EDITED, PRINTED, SAVED, TOO_LONG, PATIENT_MISMATCH, READ_ONLY, PROTECTED,
 * in that order; EDIT_FAILED when out of memory). The targets borrow from
 * in->report and in->docx. Returns p->why. The caller frees p with
 * rl_plan_free, refused or not. */
rl_writer_refusal rl_plan_fields(const rl_plan_input *in, rl_plan *p);

/* What placing in->report would change, for a comparison: the same targets
 * as rl_plan_fields, with no check (the letter is only read), and NO_FIELDS
 * when there is none at all. in->report must not be NULL. */
rl_writer_refusal rl_plan_changes(const rl_plan_input *in, rl_plan *p);

/* Frees what p owns and empties it. */
void rl_plan_free(rl_plan *p);

#endif
