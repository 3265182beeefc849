/* newletter.c - "Nouvelle lettre": a fresh letter for a report, made from
 * the letter's template (its TemplateURL), or, for a letter made from none,
 * an untitled copy of its saved file with the fields an earlier report
 * filled put back to their placeholders (src/writer/README.md, "A report in
 * a letter that holds one"). */
#include "writer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opens url as a new untitled document made from it (AsTemplate): a new
 * reference in *out, or an error. */
static int open_as_template(rl_writer *w, rtl_uString *url, uno_Interface **out, rl_uno_err *err)
{
    uno_Interface *loader = rl_uno_query(w->desktop, RL_UNO_T_XComponentLoader);
    rtl_uString *frame = rl_uno_str("_blank");
    rl_uno_props options;
    uno_Sequence *seq;
    int rc;

    *out = NULL;
    rl_uno_props_init(&options);
    rl_uno_props_add_bool(&options, "AsTemplate", 1);
    if (!loader)
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the Desktop lacks XComponentLoader");
    else
        rc = (seq = rl_uno_props_seq(&options, err)) ?
             rl_uno_XComponentLoader_loadComponentFromURL(loader, err, out, url, frame, 0, seq) : err->code;
    if (!rc && !*out)
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "LibreOffice could not open it");
    rl_uno_props_free(&options);
    rtl_uString_release(frame);
    rl_uno_release(loader);
    return rc;
}

/* The fields an earlier report filled back to their placeholders, and the
 * letter's memory emptied: a copy of a letter becomes a fresh one. */
static int reset_fields(rl_writer *w, uno_Interface *doc, rl_uno_err *err)
{
    uno_Interface *supplier = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier), *marks = NULL;
    uno_Interface *factory = rl_uno_query(doc, RL_UNO_T_XMultiServiceFactory);
    rl_letter_memory *mem = calloc(1, sizeof *mem);
    int rc = RL_OK;
    if (!supplier || !factory || !mem || (rc = rl_uno_XBookmarksSupplier_getBookmarks(supplier, err, &marks))) {
        rc = rc ? rc : rl_uno_fail(err, RL_ERR_UNO_TYPE, "not a Writer document");
        goto done;
    }
    rl__writer_read_memory(doc, mem);
    for (size_t i = 0; i < mem->n && !rc; i++) {
        rl_plan_target t;
        memset(&t, 0, sizeof t);
        snprintf(t.bookmark, sizeof t.bookmark, "%s", mem->fields[i].bookmark);
        t.index = RL_PLAN_NO_BOOKMARK;
        t.format = RL_PLAN_TEXT;
        t.value = mem->fields[i].placeholder;
        t.len = strlen(t.value);
        t.clearing = 1;
        rtl_uString *name = rl_uno_str(mem->fields[i].bookmark);
        rtl_uString *text = rl__writer_field_text(marks, name);
        if (text) {
            rc = rl__writer_replace_field(w, factory, marks, name, &t, err);
            rtl_uString_release(text);
        }
        rtl_uString_release(name);
    }
    mem->n = 0;
    if (!rc)
        rl__writer_write_memory(doc, mem);
done:
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(factory);
    rl_uno_release(supplier);
    return rc;
}

void rl__writer_read_sources(uno_Interface *doc, rl__writer_sources *s)
{
    rl_uno_err err;
    uno_Interface *props = NULL, *model = rl_uno_query(doc, RL_UNO_T_XModel);
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_OK)
        rl_uno_XDocumentProperties_getTemplateURL(props, &err, &s->template_url);
    if (model)
        rl_uno_XModel_getURL(model, &err, &s->url);
    rl_uno_release(props);
    rl_uno_release(model);
}

void rl__writer_free_sources(rl__writer_sources *s)
{
    if (s->template_url)
        rtl_uString_release(s->template_url);
    if (s->url)
        rtl_uString_release(s->url);
    s->template_url = s->url = NULL;
}

/* The new letter the plan chose (RL_PLAN_FROM_TEMPLATE or _FROM_FILE) in
 * *fresh (a new reference), or RL_ERR_NO_TEMPLATE (also in out->why) when
 * LibreOffice cannot make it. */
int rl__writer_new_letter(rl_writer *w, rl_plan_choice from, const rl__writer_sources *s,
                          uno_Interface **fresh, rl_placement_result *out)
{
    rl_uno_err err;
    int rc = RL_OK;

    *fresh = NULL;
    if (from == RL_PLAN_FROM_TEMPLATE) {
        if (open_as_template(w, s->template_url, fresh, &err))
            rc = rl__writer_refuse(w, out, RL_ERR_NO_TEMPLATE,
                                   "the letter's template cannot be opened: %s", err.message);
    } else if (open_as_template(w, s->url, fresh, &err) || reset_fields(w, *fresh, &err)) {
        rc = rl__writer_refuse(w, out, RL_ERR_NO_TEMPLATE,
                               "a new letter cannot be made from this one: %s", err.message);
    }
    if (rc != RL_OK && *fresh) {
        rl_uno_release(*fresh);    /* a half-made letter stays open for the doctor to close */
        *fresh = NULL;
    }
    return rc;
}
