/*
 * writer_internal.h - what the files of src/writer share and nobody else
 * sees. Names start with rl__writer_; everything else in those files is
 * static. Main thread only, like writer.h.
 *
 *   writer.c      the rl_writer object; a report placed: the letter read,
 *                 planned, and the plan applied as one undo step
 *   plan.c        the pure plan: which letter, which fields, or why not (plan.h)
 *   letterstate.c what the letter holds and remembers: its user-defined
 *                 properties, its memory (memory.h), each field's state; a
 *                 job's letter read into the facts the plan decides on
 *   replace.c     one field's content replaced, its bookmark kept around it
 *   import.c      LibreOffice's import filters: HTML, RTF, DOCX into a field,
 *                 a DOCX opened as a document of its own
 *   newletter.c   a new letter from the template or a copy of the file
 *   compare.c     what a report would change, field by field
 *   status.c      fields still unfilled, the last report still there, the info bar
 *   template.c    template authoring: field bookmarks made and counted
 */
#ifndef RL_WRITER_INTERNAL_H
#define RL_WRITER_INTERNAL_H

#include "writer.h"
#include "memory.h"
#include "plan.h"

_Static_assert(RL_PLAN_MAX_NAME == RL_MAX_FIELD_NAME, "plan.h and placement.h agree on names");
_Static_assert(RL_PLAN_MAX_MAP == RL_MAX_FIELD_MAP, "plan.h and placement.h agree on the map");
_Static_assert(RL_MEMORY_MAX_NAME == RL_MAX_FIELD_NAME, "a remembered name is a field name");

struct rl_writer {
    uno_Interface *desktop;       /* owned reference */
    uno_Interface *smgr;          /* owned reference: creates the import streams */
    uno_Interface *ctx;           /* owned reference */
    char undo_title[128];
};

/* ------------------------------------------------------------- writer.c */

/* A refusal: why in out->why and the reason (fmt with arg) in out->error;
 * returns why. */
int rl__writer_refuse(rl_writer *w, rl_placement_result *out, rl_writer_refusal why,
                      const char *fmt, const char *arg);

/* fields (may be NULL) in the plan's words; map borrows from fields. */
void rl__writer_plan_map(const rl_field_map *fields, rl_plan_map *map);

/* ------------------------------------------------------- letterstate.c */

/* One placement or comparison: the letter it works on, what was read of
 * it for the plan (plan.h), and the plan. Begun with rl__writer_job_begin,
 * ended (everything released) with rl__writer_job_end, whatever happened. */
typedef struct rl__writer_job {
    rl_plan_input in;             /* in.fields is &map; in.letter what was read */
    rl_plan_map map;
    rl_plan plan;
    uno_Interface *doc;           /* owned: the letter; NULL: none */
    uno_Interface *marks;         /* owned: its bookmarks (XNameAccess), once read */
    uno_Sequence *names;          /* owned: their names, in the letter's order */
    rl_plan_bookmark *bookmarks;  /* owned: the same, for the plan */
    char *utf8;                   /* owned: their UTF-8, RL_MAX_FIELD_NAME bytes each */
    rl_letter_memory *memory;     /* owned: what the letter remembers */
    rl_field_state *states;       /* owned: what each remembered field holds now */
    char patient_id[RL_MAX_FIELD_NAME];
} rl__writer_job;

/* j for report r (may be NULL) under fields (may be NULL), in letter
 * (acquired), or the active window's document when letter is NULL:
 * in.letter.exists tells whether there is one. */
void rl__writer_job_begin(rl__writer_job *j, rl_writer *w, uno_Interface *letter,
                          const rl_report *r, const rl_field_map *fields);

/* The letter's bookmarks and their names: RL_OK, or an error in err
 * (not a Writer document, or LibreOffice would not say). */
int rl__writer_job_bookmarks(rl__writer_job *j, rl_uno_err *err);

/* After rl__writer_job_bookmarks: in.letter gets the bookmarks, what the
 * letter remembers and what each remembered field holds now. 0, or -1 when
 * out of memory. Reads only. */
int rl__writer_job_read_fields(rl__writer_job *j);

/* After rl__writer_job_read_fields: what the checks before an edit need,
 * into in.letter: whether each bookmark the report could fill or clear lies
 * in a protected section, whether the letter was modified, saved or printed
 * since the last placement, its PatientId, whether it is read-only. Reads
 * only. */
void rl__writer_job_read_checks(rl__writer_job *j);

/* The name of target t's bookmark: the letter's own string when the plan
 * found it there. A new reference the caller releases. */
rtl_uString *rl__writer_job_name(const rl__writer_job *j, const rl_plan_target *t);

void rl__writer_job_end(rl__writer_job *j);

/* The bookmark `name` of `marks` as an XTextContent (new reference) or NULL. */
uno_Interface *rl__writer_bookmark(uno_Interface *marks, rtl_uString *name, rl_uno_err *err);

/* The text of bookmark `name` now (a new string the caller releases), or
 * NULL when the letter has no such bookmark. */
rtl_uString *rl__writer_field_text(uno_Interface *marks, rtl_uString *name);

/* What the remembered field f holds now. */
rl_field_state rl__writer_field_state(uno_Interface *marks, const rl_memory_field *f);

/* The letter's memory (memory.h) from its user-defined property; empty when
 * it has none. */
void rl__writer_read_memory(uno_Interface *doc, rl_letter_memory *mem);
void rl__writer_write_memory(uno_Interface *doc, const rl_letter_memory *mem);

/* Before target t (bookmark `name`) is replaced: what it holds now becomes
 * its "before" (or, the first time, its placeholder). After: the
 * fingerprint of what it holds then; a cleared field is forgotten. */
void rl__writer_remember_before(uno_Interface *marks, rl_letter_memory *mem,
                                const rl_plan_target *t, rtl_uString *name);
void rl__writer_remember_after(uno_Interface *marks, rl_letter_memory *mem,
                               const rl_plan_target *t, rtl_uString *name);

/* Records where the report placed in doc came from (best effort). */
void rl__writer_record_provenance(uno_Interface *doc, const rl_provenance *prov);

/* ----------------------------------------------------------- replace.c */

/* Replaces the content of bookmark `name` with t's value (t->format says
 * how), the bookmark then spanning exactly the new content. */
int rl__writer_replace_field(rl_writer *w, uno_Interface *doc_factory, uno_Interface *marks,
                             rtl_uString *name, const rl_plan_target *t, rl_uno_err *err);

/* ------------------------------------------------------------ import.c */

/* Imports data (HTML, RTF or DOCX) at cursor through LibreOffice's own
 * filter. Afterwards the cursor spans the imported content. */
int rl__writer_import_at(rl_writer *w, uno_Interface *cursor, const char *data, size_t len,
                         rl_plan_format format, rl_uno_err *err);

/* --------------------------------------------------------- newletter.c */

/* Where a new letter can come from: the letter's TemplateURL and its own
 * URL (new strings, or NULL for none). */
typedef struct rl__writer_sources {
    rtl_uString *template_url;
    rtl_uString *url;
} rl__writer_sources;

void rl__writer_read_sources(uno_Interface *doc, rl__writer_sources *s);
void rl__writer_free_sources(rl__writer_sources *s);

/* The new letter the plan chose (RL_PLAN_FROM_TEMPLATE or _FROM_FILE) in
 * *fresh (a new reference), or RL_ERR_NO_TEMPLATE (also in out->why) when
 * LibreOffice cannot make it. */
int rl__writer_new_letter(rl_writer *w, rl_plan_choice from, const rl__writer_sources *s,
                          uno_Interface **fresh, rl_placement_result *out);

#endif
