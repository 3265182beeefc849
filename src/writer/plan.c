/* plan.c - which letter, which fields, or why not (plan.h).
 *
 * Every decision rl_writer_place_report makes before it touches the letter
 * is made here, from the facts writer.c read, in the order the README gives:
 * the letter first, then its fields, then the doctor's edits and a letter
 * that may have left the practice, then the limits of LibreOffice and of the
 * letter itself. The first refusal wins and the letter stays untouched. */
#include "plan.h"
#include "format.h"
#include "platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rl_writer_refusal_name(rl_writer_refusal why)
{
    return why == RL_OK ? "" : rl_err_name(why);
}

size_t rl_writer_longest_paragraph(const char *utf8)
{
    size_t longest = 0, cur = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            cur = 0;
            continue;
        }
        if ((*p & 0xC0) != 0x80 && ++cur > longest)   /* count code points */
            longest = cur;
    }
    return longest;
}

const char *rl_plan_field_of(const char *bookmark, const rl_plan_map *map, const rl_report *r,
                             char *key, size_t cap)
{
    char base[RL_PLAN_MAX_NAME];
    size_t n = strlen(bookmark);

    if (!n || n >= sizeof base)
        return NULL;
    memcpy(base, bookmark, n + 1);
    for (int pass = 0; pass < 2; pass++) {
        if (!strcmp(base, RL_WRITER_WHOLE_REPORT) || !strcmp(base, RL_WRITER_HTML_REPORT) ||
            !strcmp(base, RL_WRITER_RTF_REPORT) || !strcmp(base, RL_WRITER_DOCX_REPORT)) {
            snprintf(key, cap, "%s", base);
            return key;
        }
        for (size_t i = 0; map && i < map->n; i++)
            if (!strcmp(map->entries[i].bookmark, base)) {
                snprintf(key, cap, "%s", map->entries[i].key);
                return key;
            }
        if (r && rl_report_field(r, base)) {
            snprintf(key, cap, "%s", base);
            return key;
        }
        /* Second pass: "diagnosis_2" stands for "diagnosis". */
        char *us = strrchr(base, '_');
        if (pass || !us || !us[1] || us == base || strspn(us + 1, "0123456789") != strlen(us + 1))
            break;
        *us = 0;
    }
    return NULL;
}

/* ------------------------------------------------------------ helpers */

#if defined(__GNUC__)
RL_PRINTF(3, 4)
#endif
static rl_writer_refusal refuse(rl_plan *p, rl_writer_refusal why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return p->why = why;
}

static void hh_mm(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (t && localtime_r(&t, &tm))
        strftime(out, cap, "%H:%M", &tm);
    else
        snprintf(out, cap, "%s", "");
}

/* The plain-text report: the service's own, or one made of the fields. The
 * caller frees it. */
static char *whole_report(const rl_report *r)
{
    if (r->plaintext_report)
        return strdup(r->plaintext_report);
    size_t n = 1;
    for (size_t i = 0; i < r->n_fields; i++)
        n += strlen(r->fields[i].key) + strlen(r->fields[i].value) + 4;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    for (size_t i = 0; i < r->n_fields; i++)
        p += sprintf(p, "%s%s\n%s", i ? "\n\n" : "", r->fields[i].key, r->fields[i].value);
    return s;
}

/* The cleaned HTML of key's section of r's html_content when the
 * configuration asks for it and the HTML has one (the caller frees it), or
 * NULL: the field then takes json_report's text. */
static char *html_section(const rl_report *r, const rl_plan_map *map, const char *key)
{
    for (size_t i = 0; map && i < map->n; i++) {
        if (strcmp(map->entries[i].key, key) != 0 || !map->entries[i].from_html)
            continue;
        size_t n = 0;
        char *raw = rl_format_html_section(r->html_content, strlen(r->html_content), key,
                                           map->entries[i].html_heading, &n);
        if (!raw)
            return NULL;
        char *clean = rl_format_clean_html(raw, n, NULL);
        free(raw);
        return clean;
    }
    return NULL;
}

/* Room for every target the letter can give: the fillings (at most
 * RL_WRITER_MAX_TARGETS) and one clearing per remembered field. */
static int make_room(const rl_plan_input *in, rl_plan *p)
{
    const rl_plan_letter *l = &in->letter;
    size_t fill = l->n_bookmarks < RL_WRITER_MAX_TARGETS ? l->n_bookmarks : RL_WRITER_MAX_TARGETS;
    p->targets = calloc(fill + (l->memory ? l->memory->n : 0) + 1, sizeof *p->targets);
    return p->targets ? 0 : -1;
}

/* Which bookmarks of the letter receive what of the report (or, without a
 * report, only report_docx from the DOCX), in the letter's order. */
static void add_fillings(const rl_plan_input *in, rl_plan *p)
{
    const rl_report *r = in->report;
    const rl_plan_letter *l = &in->letter;
    for (size_t i = 0; i < l->n_bookmarks && p->n_targets < RL_WRITER_MAX_TARGETS; i++) {
        const char *name = l->bookmarks[i].name, *value = NULL;
        char key[RL_PLAN_MAX_NAME];
        if (!name || !rl_plan_field_of(name, in->fields, r, key, sizeof key))
            continue;
        /* Without a report only the DOCX is placed (it came later). */
        if (!r && strcmp(key, RL_WRITER_DOCX_REPORT) != 0)
            continue;
        rl_plan_format format = RL_PLAN_TEXT;
        char *owned = NULL;
        if (!strcmp(key, RL_WRITER_WHOLE_REPORT)) {
            if (!p->whole && (r->plaintext_report || r->n_fields))
                p->whole = whole_report(r);
            value = p->whole;
        } else if (!strcmp(key, RL_WRITER_HTML_REPORT)) {
            format = RL_PLAN_HTML;
            if (r->html_content && !(value = owned = rl_format_clean_html(
                                         r->html_content, strlen(r->html_content), NULL)))
                continue;
        } else if (!strcmp(key, RL_WRITER_RTF_REPORT)) {
            format = RL_PLAN_RTF;
            if (r->rtf_report && !(value = owned = rl_format_clean_rtf(
                                       r->rtf_report, strlen(r->rtf_report), NULL)))
                continue;
        } else if (!strcmp(key, RL_WRITER_DOCX_REPORT)) {
            format = RL_PLAN_DOCX;
            value = (const char *)in->docx;
        } else {
            value = rl_report_field(r, key);
            if (r->html_content && (owned = html_section(r, in->fields, key)) != NULL) {
                value = owned;
                format = RL_PLAN_HTML;
            }
        }
        if (!value)
            continue;
        rl_plan_target *t = &p->targets[p->n_targets++];
        snprintf(t->bookmark, sizeof t->bookmark, "%s", name);
        snprintf(t->key, sizeof t->key, "%s", key);
        t->index = i;
        t->format = format;
        t->value = value;
        t->len = format == RL_PLAN_DOCX ? in->docx_len : strlen(value);
        t->owned = owned;
    }
}

static const rl_plan_target *find_target(const rl_plan *p, const char *bookmark)
{
    for (size_t i = 0; i < p->n_targets; i++)
        if (!strcmp(p->targets[i].bookmark, bookmark))
            return &p->targets[i];
    return NULL;
}

static size_t find_bookmark(const rl_plan_letter *l, const char *name)
{
    for (size_t i = 0; i < l->n_bookmarks; i++)
        if (l->bookmarks[i].name && !strcmp(l->bookmarks[i].name, name))
            return i;
    return RL_PLAN_NO_BOOKMARK;
}

/* A new report may replace what the letter holds without asking when no
 * field an earlier report filled was changed by the doctor, and the letter
 * was neither printed nor saved since (it may have left the practice). */
static rl_writer_refusal check_untouched(const rl_plan_letter *l, rl_plan *p)
{
    int holds_report = 0;
    for (size_t i = 0; i < l->memory->n; i++) {
        rl_field_state now = l->states[i];
        if (now == RL_FIELD_EDITED || now == RL_FIELD_MISSING) {
            snprintf(p->field, sizeof p->field, "%s", l->memory->fields[i].bookmark);
            return refuse(p, RL_ERR_EDITED, "the field \"%s\" was changed in the letter "
                          "since the last report was placed", p->field);
        }
        holds_report |= now == RL_FIELD_PLACED || now == RL_FIELD_BEFORE;
    }
    if (!holds_report)
        return RL_OK;
    if (l->placed && l->printed > l->placed) {
        hh_mm(l->printed, p->when, sizeof p->when);
        return refuse(p, RL_ERR_PRINTED, "the letter was printed at %s, after the last "
                      "report was placed", p->when);
    }
    if (!l->modified || (l->placed && l->saved > l->placed)) {
        hh_mm(l->saved, p->when, sizeof p->when);
        return refuse(p, RL_ERR_SAVED, "the letter was saved at %s, after the last report "
                      "was placed", p->when[0] ? p->when : "an unknown time");
    }
    return RL_OK;
}

/* A report replaces a report as a whole: each field an earlier report filled
 * that this one lacks goes back to its placeholder, unless it shows it
 * already or its bookmark is gone. -1 when out of memory. */
static int add_clearings(const rl_plan_letter *l, rl_plan *p)
{
    for (size_t i = 0; l->memory && i < l->memory->n; i++) {
        const rl_memory_field *f = &l->memory->fields[i];
        if (l->states[i] == RL_FIELD_MISSING || l->states[i] == RL_FIELD_PLACEHOLDER ||
            find_target(p, f->bookmark))
            continue;
        rl_plan_target *t = &p->targets[p->n_targets];
        if (!(t->owned = strdup(f->placeholder)))
            return -1;
        p->n_targets++;
        snprintf(t->bookmark, sizeof t->bookmark, "%s", f->bookmark);
        t->index = find_bookmark(l, f->bookmark);
        t->format = RL_PLAN_TEXT;
        t->value = t->owned;
        t->len = strlen(t->owned);
        t->clearing = 1;
    }
    return 0;
}

/* Refusals that keep the letter untouched: what LibreOffice cannot lay
 * out, another patient's letter, a letter that cannot be changed. */
static rl_writer_refusal check_limits(const rl_plan_input *in, rl_plan *p)
{
    const rl_plan_letter *l = &in->letter;
    for (size_t i = 0; i < p->n_targets; i++) {
        const rl_plan_target *t = &p->targets[i];
        if (t->format != RL_PLAN_TEXT)
            continue;          /* the import filters make their own paragraphs */
        size_t longest = rl_writer_longest_paragraph(t->value);
        if (longest > RL_WRITER_MAX_PARAGRAPH) {
            snprintf(p->field, sizeof p->field, "%s", t->bookmark);
            return refuse(p, RL_ERR_TOO_LONG, "the field \"%s\" has a paragraph of %zu "
                          "characters; LibreOffice would stop responding while laying it out "
                          "(limit %d)", t->bookmark, longest, RL_WRITER_MAX_PARAGRAPH);
        }
    }
    const char *report_patient = in->report ? rl_report_field(in->report, "patient_id") : NULL;
    if (report_patient && l->patient_id && l->patient_id[0] &&
        strcmp(report_patient, l->patient_id) != 0)
        return refuse(p, RL_ERR_PATIENT_MISMATCH,
                      "the report is for another patient than this letter");
    if (l->read_only)
        return refuse(p, RL_ERR_READ_ONLY, "the letter is open read-only");
    for (size_t i = 0; i < p->n_targets; i++) {
        const rl_plan_target *t = &p->targets[i];
        if (t->index != RL_PLAN_NO_BOOKMARK && l->bookmarks[t->index].is_protected) {
            snprintf(p->field, sizeof p->field, "%s", t->bookmark);
            return refuse(p, RL_ERR_PROTECTED,
                          "the field \"%s\" lies in a protected section of the letter", t->bookmark);
        }
    }
    return RL_OK;
}

/* ---------------------------------------------------------------- API */

rl_writer_refusal rl_plan_letter_choice(const rl_plan_input *in, rl_plan *p)
{
    const rl_plan_letter *l = &in->letter;
    memset(p, 0, sizeof *p);
    if (!l->exists)
        return refuse(p, RL_ERR_NO_DOCUMENT, "no document is open in LibreOffice");
    if (!l->is_writer)
        return refuse(p, RL_ERR_NOT_WRITER, "the %s is not a Writer document",
                      l->made_new ? "new letter" : "active window");
    if (!in->report || !(in->flags & RL_WRITER_NEW_LETTER) || l->made_new)
        return RL_OK;
    if (l->has_template)
        p->letter = RL_PLAN_FROM_TEMPLATE;
    else if (l->has_file)
        p->letter = RL_PLAN_FROM_FILE;
    else
        return refuse(p, RL_ERR_NO_TEMPLATE, "the letter has no template and was never saved: "
                      "there is nothing to make a new letter from");
    return RL_OK;
}

rl_writer_refusal rl_plan_fields(const rl_plan_input *in, rl_plan *p)
{
    const rl_plan_letter *l = &in->letter;
    memset(p, 0, sizeof *p);
    if (make_room(in, p))
        return refuse(p, RL_ERR_EDIT_FAILED, "out of memory");
    add_fillings(in, p);
    if (!p->n_targets)
        return refuse(p, RL_ERR_NO_FIELDS, in->report
                      ? "the active document has none of this report's fields"
                      : "the letter has no report_docx bookmark");
    if (!in->report)
        return check_limits(in, p);
    if (l->memory && l->memory->n && !(in->flags & RL_WRITER_REPLACE) &&
        check_untouched(l, p) != RL_OK)
        return p->why;
    if (add_clearings(l, p))
        return refuse(p, RL_ERR_EDIT_FAILED, "out of memory");
    return check_limits(in, p);
}

rl_writer_refusal rl_plan_changes(const rl_plan_input *in, rl_plan *p)
{
    memset(p, 0, sizeof *p);
    if (make_room(in, p))
        return refuse(p, RL_ERR_EDIT_FAILED, "out of memory");
    add_fillings(in, p);
    if (add_clearings(&in->letter, p))
        return refuse(p, RL_ERR_EDIT_FAILED, "out of memory");
    if (!p->n_targets)
        return refuse(p, RL_ERR_NO_FIELDS, "the active document has none of this report's fields");
    return RL_OK;
}

void rl_plan_free(rl_plan *p)
{
    for (size_t i = 0; p->targets && i < p->n_targets; i++)
        free(p->targets[i].owned);
    free(p->targets);
    free(p->whole);
    p->targets = NULL;
    p->n_targets = 0;
    p->whole = NULL;
}
