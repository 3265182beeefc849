/* writer.c - puts a report into a letter: the Writer layer's object, and
 * the placement itself. What the letter holds is read (letterstate.c), the
 * plan decides which letter and which fields or why not (plan.c), and the
 * plan is applied here as one undo step, each field replaced by replace.c.
 * writer_internal.h says which file does what. */
#include "writer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fields (may be NULL) in the plan's words; map borrows from fields. */
void rl__writer_plan_map(const rl_field_map *fields, rl_plan_map *map)
{
    map->n = 0;
    for (size_t i = 0; fields && i < fields->n && i < RL_PLAN_MAX_MAP; i++, map->n++) {
        map->entries[i].key = fields->entries[i].key;
        map->entries[i].bookmark = fields->entries[i].bookmark;
        map->entries[i].from_html = fields->entries[i].from_html;
        map->entries[i].html_heading = fields->entries[i].html_heading;
    }
}

const char *rl_writer_field_of(const char *bookmark, const rl_field_map *fields,
                               const rl_report *r, char *key, size_t cap)
{
    rl_plan_map map;
    rl__writer_plan_map(fields, &map);
    return rl_plan_field_of(bookmark, &map, r, key, cap);
}

int rl__writer_refuse(rl_writer *w, rl_placement_result *out, rl_writer_refusal why,
                      const char *fmt, const char *arg)
{
    out->why = why;
    snprintf(out->error, sizeof out->error, fmt, arg ? arg : "");
    return why;
}

rl_writer *rl_writer_create(uno_Interface *uno_ctx, const char *undo_title, rl_uno_err *err)
{
    rl_writer *w = calloc(1, sizeof *w);
    uno_Interface *smgr = NULL, *desk = NULL;
    rtl_uString *svc = rl_uno_str("com.sun.star.frame.Desktop");

    if (!w) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(w->undo_title, sizeof w->undo_title, "%s", undo_title);
    if (rl_uno_XComponentContext_getServiceManager(uno_ctx, err, &smgr) ||
        rl_uno_XMultiComponentFactory_createInstanceWithContext(smgr, err, &desk, svc, uno_ctx))
        goto fail;
    if (!(w->desktop = rl_uno_query(desk, RL_UNO_T_XDesktop))) {
        rl_uno_fail(err, RL_ERR_UNO_TYPE, "the Desktop lacks XDesktop");
        goto fail;
    }
    w->smgr = smgr;                /* the reference is kept */
    rl_uno_acquire(uno_ctx);
    w->ctx = uno_ctx;
    rl_uno_release(desk);
    rtl_uString_release(svc);
    return w;
fail:
    rl_uno_release(desk);
    rl_uno_release(smgr);
    rtl_uString_release(svc);
    free(w);
    return NULL;
}

void rl_writer_destroy(rl_writer *w)
{
    if (!w)
        return;
    rl_uno_release(w->desktop);
    rl_uno_release(w->smgr);
    rl_uno_release(w->ctx);
    free(w);
}

/* How many steps the undo stack holds (-1 if unknown). */
static sal_Int32 undo_depth(uno_Interface *undo)
{
    rl_uno_err err;
    uno_Sequence *titles = NULL;
    sal_Int32 n = -1;
    if (rl_uno_XUndoManager_getAllUndoActionTitles(undo, &err, &titles) == RL_OK) {
        n = titles->nElements;
        rl_uno_destruct(&titles, RL_UNO_T_seq_string);
    }
    return n;
}

/* Whether doc is a Writer document with bookmarks. */
static int is_writer(uno_Interface *doc)
{
    uno_Interface *textdoc = rl_uno_query(doc, RL_UNO_T_XTextDocument);
    uno_Interface *supplier = textdoc ? rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier) : NULL;
    int yes = supplier != NULL;
    rl_uno_release(supplier);
    rl_uno_release(textdoc);
    return yes;
}

/* doc's title, for the inbox. */
static void letter_title(uno_Interface *doc, char *where, size_t cap)
{
    rl_uno_err err;
    uno_Interface *title_if = rl_uno_query(doc, RL_UNO_T_XTitle);
    rtl_uString *title = NULL;
    if (title_if && rl_uno_XTitle_getTitle(title_if, &err, &title) == RL_OK) {
        rl_uno_str_utf8(title, where, cap);
        rtl_uString_release(title);
    }
    rl_uno_release(title_if);
}

/* j's plan applied to its letter: every target replaced inside one undo
 * context, the view locked while it runs, then the letter's memory and the
 * provenance written. If LibreOffice refuses an edit half-way, the context
 * is closed and undone (only if it added a step: never the doctor's own
 * previous edit) and the letter is as it was. */
static int apply(rl_writer *w, rl__writer_job *j, const rl_provenance *prov,
                 rl_placement_result *out)
{
    rl_uno_err err;
    uno_Interface *factory = NULL, *undo_sup = NULL, *undo = NULL, *model = NULL;
    int rc = RL_OK, in_undo = 0, locked = 0;

    if (!(factory = rl_uno_query(j->doc, RL_UNO_T_XMultiServiceFactory)) ||
        !(undo_sup = rl_uno_query(j->doc, RL_UNO_T_XUndoManagerSupplier)) ||
        rl_uno_XUndoManagerSupplier_getUndoManager(undo_sup, &err, &undo)) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED, "the letter cannot be edited%s", NULL);
        goto done;
    }
    if ((model = rl_uno_query(j->doc, RL_UNO_T_XModel)) &&
        rl_uno_XModel_lockControllers(model, &err) == RL_OK)
        locked = 1;
    sal_Int32 depth_before = undo_depth(undo);
    rtl_uString *title = rl_uno_str(w->undo_title);
    int urc = rl_uno_XUndoManager_enterUndoContext(undo, &err, title);
    rtl_uString_release(title);
    if (urc) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED, "the letter cannot be edited: %s",
                               err.message);
        goto done;
    }
    in_undo = 1;
    for (size_t i = 0; i < j->plan.n_targets; i++) {
        const rl_plan_target *t = &j->plan.targets[i];
        rtl_uString *name = rl__writer_job_name(j, t);
        rl__writer_remember_before(j->marks, j->memory, t, name);
        int failed = rl__writer_replace_field(w, factory, j->marks, name, t, &err);
        rtl_uString_release(name);
        if (failed) {
            /* Put the letter back as it was: close the step and undo it. */
            rl_uno_err e2;
            rl_uno_XUndoManager_leaveUndoContext(undo, &e2);
            in_undo = 0;
            /* An empty context adds no step: undo only if ours is there, never
             * the doctor's own previous edit. */
            if (undo_depth(undo) > depth_before)
                rl_uno_XUndoManager_undo(undo, &e2);
            out->fields_filled = 0;
            rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED,
                                   "LibreOffice refused to edit the letter: %s", err.message);
            goto done;
        }
        if (!t->clearing)
            out->fields_filled++;
    }
    for (size_t i = 0; i < j->plan.n_targets; i++) {
        rtl_uString *name = rl__writer_job_name(j, &j->plan.targets[i]);
        rl__writer_remember_after(j->marks, j->memory, &j->plan.targets[i], name);
        rtl_uString_release(name);
    }
    rl__writer_write_memory(j->doc, j->memory);
    if (prov)
        rl__writer_record_provenance(j->doc, prov);
done:
    if (in_undo)
        rl_uno_XUndoManager_leaveUndoContext(undo, &err);
    if (locked)
        rl_uno_XModel_unlockControllers(model, &err);
    rl_uno_release(model);
    rl_uno_release(undo);
    rl_uno_release(undo_sup);
    rl_uno_release(factory);
    return rc;
}

/* A refusal the plan decided: its reason, and the field or time it names. */
static int refuse_planned(rl_writer *w, const rl_plan *p, rl_placement_result *out)
{
    snprintf(out->field, sizeof out->field, "%s", p->why == RL_ERR_EDITED ? p->field : p->when);
    return rl__writer_refuse(w, out, p->why, "%s", p->error);
}

int rl_writer_place(rl_writer *w, const rl_report *r, const rl_field_map *fields,
                    const rl_provenance *prov, rl_placement_result *out)
{
    return rl_writer_place_report(w, NULL, r, NULL, 0, fields, prov, 0, out, NULL);
}

int rl_writer_place_docx(rl_writer *w, uno_Interface *letter, const unsigned char *docx,
                         size_t docx_len, rl_placement_result *out)
{
    return rl_writer_place_report(w, letter, NULL, docx, docx_len, NULL, NULL, 0, out, NULL);
}

int rl_writer_place_report(rl_writer *w, uno_Interface *letter, const rl_report *r,
                           const unsigned char *docx, size_t docx_len, const rl_field_map *fields,
                           const rl_provenance *prov, unsigned flags, rl_placement_result *out,
                           uno_Interface **letter_out)
{
    rl_uno_err err;
    rl__writer_job j;
    rl__writer_sources sources;
    int rc = RL_OK;

    memset(out, 0, sizeof *out);
    memset(&sources, 0, sizeof sources);
    if (letter_out)
        *letter_out = NULL;
    rl__writer_job_begin(&j, w, letter, r, fields);
    j.in.docx = docx;
    j.in.docx_len = docx_len;
    j.in.flags = flags;

    /* Which letter. */
    j.in.letter.is_writer = is_writer(j.doc);
    if (j.doc && (flags & RL_WRITER_NEW_LETTER)) {     /* only a new letter needs them */
        rl__writer_read_sources(j.doc, &sources);
        j.in.letter.has_template = sources.template_url && sources.template_url->length;
        j.in.letter.has_file = sources.url && sources.url->length;
    }
    if (rl_plan_letter_choice(&j.in, &j.plan) != RL_OK)
        goto refused;
    if (j.plan.letter != RL_PLAN_THIS_LETTER) {
        uno_Interface *fresh = NULL;
        if ((rc = rl__writer_new_letter(w, j.plan.letter, &sources, &fresh, out)) != RL_OK)
            goto done;
        rl_uno_release(j.doc);
        j.doc = fresh;
        memset(&j.in.letter, 0, sizeof j.in.letter);
        j.in.letter.exists = 1;
        j.in.letter.made_new = 1;
        j.in.letter.is_writer = is_writer(j.doc);
        if (rl_plan_letter_choice(&j.in, &j.plan) != RL_OK)
            goto refused;
    }
    letter_title(j.doc, out->where, sizeof out->where);

    /* Which fields: what the letter holds and remembers, then the plan. */
    if (rl__writer_job_bookmarks(&j, &err)) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED,
                               "cannot read the letter's bookmarks: %s", err.message);
        goto done;
    }
    if (rl__writer_job_read_fields(&j)) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    rl__writer_job_read_checks(&j);
    if (rl_plan_fields(&j.in, &j.plan) != RL_OK)
        goto refused;

    /* The edit. */
    if ((rc = apply(w, &j, prov, out)) == RL_OK && letter_out) {
        rl_uno_acquire(j.doc);
        *letter_out = j.doc;
    }
    goto done;
refused:
    rc = refuse_planned(w, &j.plan, out);
done:
    rl__writer_free_sources(&sources);
    rl__writer_job_end(&j);
    return rc;
}
