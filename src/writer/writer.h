/*
 * writer.h - filling the doctor's letter: the Writer editing layer.
 *
 * Knows bookmarks, paragraphs and undo; knows nothing of WebSockets. Every
 * function here runs on LibreOffice's main thread only.
 *
 * Fields: a bookmark named like a json_report key's mapped name receives that
 * key's text ("diagnosis"); the same field may appear several times, as
 * "diagnosis_2", "diagnosis_3", ... (the name, an underscore, digits); a
 * bookmark named "report_text" receives the whole plain-text report, and
 * "report_html" / "report_rtf" the HTML or RTF (both cleaned by src/format)
 * version with its formatting, through LibreOffice's import filters. The
 * text replaces the bookmark's content, line breaks become paragraphs in the
 * bookmark's paragraph style, and the bookmark then spans exactly the new
 * text, so the next report replaces it again. All fields of one report are
 * one undo step.
 */
#ifndef RL_WRITER_H
#define RL_WRITER_H

#include "placement.h"

/* The refusals (rl_writer_refusal), the flags RL_WRITER_REPLACE and
 * RL_WRITER_NEW_LETTER, the special field names (report_text...) and the
 * limits are in plan.h: the pure plan decides with them. */
#include "plan.h"

typedef struct rl_writer rl_writer;

/* Creates the Writer layer for the office whose component context is
 * uno_ctx (borrowed; the writer acquires what it keeps). undo_title is the
 * name of the undo step (copied). Returns NULL with err set on failure. The
 * caller destroys it with rl_writer_destroy(). Main thread. */
rl_writer *rl_writer_create(uno_Interface *uno_ctx, const char *undo_title, rl_uno_err *err);
void rl_writer_destroy(rl_writer *w);

/* Places r into the document of the active window and records prov there.
 * On refusal returns the reason (an rl_writer_refusal, also in out->why) with
 * out->error and out->field set and the document unchanged.
 * Borrowed: r, fields, prov. */
int rl_writer_place(rl_writer *w, const rl_report *r, const rl_field_map *fields,
                    const rl_provenance *prov, rl_placement_result *out);

/* The general form of rl_writer_place. letter: the document to fill (NULL:
 * the active window's). r may be NULL: then only "report_docx" bookmarks
 * are filled, from docx. docx (docx_len bytes, borrowed) may be NULL: then
 * "report_docx" is left as it is. On success, if letter_out is not NULL, it
 * receives the document filled (a new reference the caller releases). The
 * whole placement is one undo step titled like any report's. flags:
 * RL_WRITER_REPLACE, RL_WRITER_NEW_LETTER (plan.h). What is decided, and
 * why not, is the pure plan's (plan.h); this reads the letter for it and
 * applies it. */
int rl_writer_place_report(rl_writer *w, uno_Interface *letter, const rl_report *r,
                           const unsigned char *docx, size_t docx_len, const rl_field_map *fields,
                           const rl_provenance *prov, unsigned flags, rl_placement_result *out,
                           uno_Interface **letter_out);

/* One field of a comparison (rl_writer_compare). */
typedef struct rl_field_change {
    char bookmark[RL_MAX_FIELD_NAME];
    char *in_letter;      /* UTF-8 (owned): what the field holds now */
    char *in_report;      /* UTF-8 (owned): what placing the report would put there (the
                             placeholder for an earlier report's field it lacks; the plain
                             text of a formatted field) */
    int changed;          /* the two differ */
} rl_field_change;

/* What placing r into letter (NULL: the active window's document) would do,
 * field by field: each bookmark r fills and each earlier report's field it
 * would clear. Reads only. *changes (*n of them) is freed with
 * rl_writer_free_changes. RL_OK, or the refusal (in out->why, with out->error) when there
 * is no letter to compare with (no document, not Writer, none of r's fields). */
int rl_writer_compare(rl_writer *w, uno_Interface *letter, const rl_report *r,
                      const rl_field_map *fields, rl_field_change **changes, size_t *n,
                      rl_placement_result *out);
void rl_writer_free_changes(rl_field_change *changes, size_t n);

/* The field bookmarks of doc (a Writer document) that still show their
 * placeholder: never filled by a report, or put back to it (report_docx is
 * not counted: a report need not have one). Their names, joined by ", ", go
 * into out (cap bytes); returns how many there are, or -1 for a document
 * without any field bookmark (not a letter). Reads only. */
int rl_writer_unfilled(uno_Interface *doc, const rl_field_map *fields, char *out, size_t cap);

/* Whether doc still holds the last report placed in it: 1 when one of the
 * fields it filled (report_docx aside) holds what it put there, 0 when none
 * does (Ctrl+Z took it out), -1 when doc remembers no report. Reads only. */
int rl_writer_holds_last_report(uno_Interface *doc);

/* Shows an info bar (id; replaced when it is shown already) in doc's window:
 * a warning the doctor sees on the letter itself. RL_OK or an error. */
int rl_writer_info_bar(uno_Interface *doc, const char *id, const char *primary,
                       const char *secondary, rl_uno_err *err);

/* A DOCX that arrived after its report was placed: into the report_docx
 * bookmark(s) of letter (NULL: the active window's document), as an undo
 * step of its own. The refusal (out->why, out->error) when it has none. */
int rl_writer_place_docx(rl_writer *w, uno_Interface *letter, const unsigned char *docx,
                         size_t docx_len, rl_placement_result *out);

/* Opens docx (borrowed) as a new Writer document of its own, from memory.
 * RL_OK or an error in err. */
int rl_writer_open_docx(rl_writer *w, const unsigned char *docx, size_t len, rl_uno_err *err);

/* The user-defined document properties a placement records (strings, so
 * that they survive .odt and .docx): when the report was received and
 * placed (ISO 8601, local time with offset) and from which service host.
 * No key and no report content. */
#define RL_WRITER_PROP_RECEIVED "ReportLinkReceived"
#define RL_WRITER_PROP_PLACED   "ReportLinkPlaced"
#define RL_WRITER_PROP_SERVICE  "ReportLinkService"

/* The field key a bookmark name stands for under fields, or NULL when it
 * stands for none: exact mapped names first, then "<name>_<digits>", then a
 * key of the report itself (so a new key the service sends needs no set-up).
 * Writes into key (cap bytes). Pure: rl_plan_field_of (plan.h), which the
 * unit tests drive, with fields in the plan's words. */
const char *rl_writer_field_of(const char *bookmark, const rl_field_map *fields,
                               const rl_report *r, char *key, size_t cap);

/* The text for a field, in UNO's paragraph convention: "\r\n" and "\n"
 * become "\r" (a paragraph break in Writer). A new string the caller
 * releases. */
rtl_uString *rl_writer_paragraph_text(const char *utf8);

/* ------------------------------------------------------------ template.c */

/* Template authoring, for the sidebar and the Insert menu. Main thread. */

/* The bookmark name of field key under fields (the key itself when it is
 * not mapped: report_text, report_html...). Borrowed. */
const char *rl_writer_bookmark_for(const char *key, const rl_field_map *fields);

/* The Writer document frame shows (a new reference), or NULL with err set. */
uno_Interface *rl_writer_frame_document(uno_Interface *frame, rl_uno_err *err);

/* Makes the field bookmark `bookmark` at frame's cursor: around the
 * selection, or around `placeholder` inserted at the cursor when nothing is
 * selected (an empty field would be invisible). A name the letter has
 * already gets _2, _3... (the placement fills every one). One undo step
 * titled undo_title. Writes the name made into made. RL_OK, or an error
 * with err set (read-only letter, not Writer...) and the letter unchanged. */
int rl_writer_insert_field(uno_Interface *frame, const char *bookmark, const char *placeholder,
                           const char *undo_title, char *made, size_t made_cap, rl_uno_err *err);

/* For each of the n field keys, how many bookmarks of frame's document
 * stand for it (count[i], 0: missing). RL_OK or an error with err set. */
int rl_writer_check_fields(uno_Interface *frame, const rl_field_map *fields, const char *const *keys,
                           int n, int *count, rl_uno_err *err);

#endif
