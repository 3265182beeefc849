/* compare.c - what placing a report would change in the letter, field by
 * field, for the inbox's "Remplacer" view (src/ui/diffmark.c shows it).
 * Reads only: the targets are the plan's (plan.h), checks left out. */
#include "writer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The UTF-8 of s (may be NULL: ""), malloc'd. */
static char *utf8_dup(rtl_uString *s)
{
    size_t cap = s ? (size_t)s->length * 3 + 1 : 1;
    char *out = malloc(cap);
    if (out && rl_uno_str_utf8(s, out, cap) < 0)
        out[0] = 0;
    return out;
}

void rl_writer_free_changes(rl_field_change *changes, size_t n)
{
    for (size_t i = 0; changes && i < n; i++) {
        free(changes[i].in_letter);
        free(changes[i].in_report);
    }
    free(changes);
}

int rl_writer_compare(rl_writer *w, uno_Interface *letter, const rl_report *r,
                      const rl_field_map *fields, rl_field_change **changes, size_t *n,
                      rl_placement_result *out)
{
    rl_uno_err err;
    rl__writer_job j;
    rl_plan *plan = &j.plan;
    int rc = RL_OK;

    memset(out, 0, sizeof *out);
    *changes = NULL;
    *n = 0;
    rl__writer_job_begin(&j, w, letter, r, fields);
    j.in.letter.is_writer = j.doc && rl__writer_job_bookmarks(&j, &err) == RL_OK;
    if (rl_plan_letter_choice(&j.in, plan) != RL_OK) {
        rc = rl__writer_refuse(w, out, plan->why, "%s", plan->error);
        goto done;
    }
    if (rl__writer_job_read_fields(&j)) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    if (rl_plan_changes(&j.in, plan) != RL_OK) {
        rc = rl__writer_refuse(w, out, plan->why, "%s", plan->error);
        goto done;
    }
    if (!(*changes = calloc(plan->n_targets, sizeof **changes))) {
        rc = rl__writer_refuse(w, out, RL_ERR_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    for (size_t i = 0; i < plan->n_targets; i++) {
        const rl_plan_target *t = &plan->targets[i];
        rl_field_change *c = &(*changes)[i];
        snprintf(c->bookmark, sizeof c->bookmark, "%s", t->bookmark);
        rtl_uString *name = rl__writer_job_name(&j, t), *now = rl__writer_field_text(j.marks, name);
        rtl_uString_release(name);
        c->in_letter = utf8_dup(now);
        if (now)
            rtl_uString_release(now);
        const char *plain = t->format == RL_PLAN_TEXT ? t->value : NULL;
        if (!plain && t->key[0])
            plain = rl_report_field(r, t->key);
        if (!plain)
            plain = r->plaintext_report ? r->plaintext_report : "";
        /* Writer reads paragraphs back with "\n": compare like with like. */
        rtl_uString *as_text = rl_writer_paragraph_text(plain);
        for (sal_Int32 k = 0; as_text && k < as_text->length; k++)
            if (as_text->buffer[k] == '\r')
                as_text->buffer[k] = '\n';
        c->in_report = utf8_dup(as_text);
        rtl_uString_release(as_text);
        c->changed = !c->in_letter || !c->in_report || strcmp(c->in_letter, c->in_report) != 0;
        (*n)++;
    }
done:
    rl__writer_job_end(&j);
    return rc;
}
