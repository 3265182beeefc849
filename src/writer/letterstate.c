/* letterstate.c - what the letter holds and remembers, read and written
 * through UNO: its user-defined properties (provenance, the memory of what
 * was placed, memory.h), the text of a field and its fingerprint, the state
 * of each remembered field, and the facts the plan decides on (plan.h).
 *
 * Dates are read through the document properties' attributes
 * (ModificationDate, PrintDate): the generated bridge reads an attribute as a
 * getter without arguments. */
#include "writer_internal.h"
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------- the document's properties */

/* The property `name` of obj, through its XPropertySet, into a constructed
 * any (the caller destructs it). RL_OK, or an error code when obj has
 * no such property. */
static int get_property(uno_Interface *obj, const char *name, uno_Any *out)
{
    rl_uno_err err;
    return rl_uno_prop_get(obj, name, out, &err);
}

/* The document's user-defined properties (a new reference), or NULL. */
static uno_Interface *user_properties(uno_Interface *doc)
{
    rl_uno_err err;
    uno_Interface *props = NULL, *container = NULL;
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_OK)
        rl_uno_XDocumentProperties_getUserDefinedProperties(props, &err, &container);
    rl_uno_release(props);
    return container;
}

/* The string user-defined property `name` of doc as UTF-8 into buf;
 * RL_OK, or an error when doc has none (or it does not fit). */
static int get_user_string(uno_Interface *doc, const char *name, char *buf, size_t cap)
{
    uno_Interface *container = user_properties(doc);
    uno_Any v;
    int rc = RL_ERR_UNO_ARG;
    buf[0] = 0;
    if (container && get_property(container, name, &v) == RL_OK) {
        rc = rl_uno_any_get_string(&v, buf, cap);
        uno_any_destruct(&v, NULL);
    }
    rl_uno_release(container);
    return rc;
}

/* Sets the string property name of the document's user-defined properties
 * (replacing an earlier value). */
static void set_user_property(uno_Interface *container, const char *name, const char *value)
{
    rl_uno_err err;
    rtl_uString *n = rl_uno_str(name);
    uno_Any v;
    rl_uno_XPropertyContainer_removeProperty(container, &err, n);   /* absent: fine */
    rl_uno_any_string(&v, value);
    /* Best effort: a document that refuses a property still gets its report. */
    (void)rl_uno_XPropertyContainer_addProperty(container, &err, n, 128 /* REMOVABLE */, &v);
    uno_any_destruct(&v, NULL);
    rtl_uString_release(n);
}

/* The document property PatientId, as UTF-8 into buf; 0 if there is none. */
static int letter_patient_id(uno_Interface *doc, char *buf, size_t cap)
{
    return get_user_string(doc, "PatientId", buf, cap) == RL_OK && buf[0];
}

/* "2026-12-03T18:40:00+0100": local time and its offset from UTC (spelled
 * here: Windows' strftime writes the zone's name for %z). */
static void iso_local(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    long off = 0;
    rl_os_localtime(t, &tm, &off);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    long a = off < 0 ? -off : off;
    if (n > 0)
        snprintf(buf + n, cap - n, "%c%02ld%02ld", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

/* Records where the report placed in doc came from. Provenance is
 * metadata, not part of the letter's text: failures do not undo the report. */
void rl__writer_record_provenance(uno_Interface *doc, const rl_provenance *prov)
{
    uno_Interface *container = user_properties(doc);
    char when[40];
    if (container) {
        iso_local(prov->received_at, when, sizeof when);
        set_user_property(container, RL_WRITER_PROP_RECEIVED, when);
        iso_local(time(NULL), when, sizeof when);
        set_user_property(container, RL_WRITER_PROP_PLACED, when);
        set_user_property(container, RL_WRITER_PROP_SERVICE, prov->service_host);
    }
    rl_uno_release(container);
}

/* ------------------------------------------------------------ the fields */

/* The bookmark `name` of `marks` as an XTextContent (new reference) or NULL. */
uno_Interface *rl__writer_bookmark(uno_Interface *marks, rtl_uString *name, rl_uno_err *err)
{
    uno_Any v;
    uno_Interface *obj = NULL, *content = NULL;
    if (rl_uno_XNameAccess_getByName(marks, err, &v, name))
        return NULL;
    if (rl_uno_any_get_interface(&v, &obj) == RL_OK && obj)
        content = rl_uno_query(obj, RL_UNO_T_XTextContent);
    uno_any_destruct(&v, NULL);
    if (!content)
        rl_uno_fail(err, RL_ERR_UNO_TYPE, "bookmark is not a text content");
    return content;
}

/* The text of bookmark `name` now (a new string the caller releases), or
 * NULL when the letter has no such bookmark. */
rtl_uString *rl__writer_field_text(uno_Interface *marks, rtl_uString *name)
{
    rl_uno_err err;
    uno_Interface *mark = rl__writer_bookmark(marks, name, &err), *anchor = NULL;
    rtl_uString *text = NULL;
    if (mark && rl_uno_XTextContent_getAnchor(mark, &err, &anchor) == RL_OK &&
        rl_uno_XTextRange_getString(anchor, &err, &text) != RL_OK)
        text = NULL;
    rl_uno_release(anchor);
    rl_uno_release(mark);
    return text;
}

static void text_fingerprint(const rtl_uString *text, char out[RL_MEMORY_FP_HEX])
{
    rl_memory_fingerprint(text->buffer, (size_t)text->length * sizeof text->buffer[0], out);
}

/* ------------------------------------------------ what was placed here */

#define MEMORY_TEXT_CAP (RL_MEMORY_MAX_FIELDS * (3 * (RL_MEMORY_MAX_NAME + \
                         RL_MEMORY_MAX_PLACEHOLDER) + 2 * RL_MEMORY_FP_HEX + 4) + 1)

/* The letter's memory (memory.h) from its user-defined property; empty when
 * it has none. */
void rl__writer_read_memory(uno_Interface *doc, rl_letter_memory *mem)
{
    char *text = malloc(MEMORY_TEXT_CAP);
    mem->n = 0;
    if (text && get_user_string(doc, RL_MEMORY_PROPERTY, text, MEMORY_TEXT_CAP) == RL_OK)
        rl_memory_parse(text, mem);
    free(text);
}

void rl__writer_write_memory(uno_Interface *doc, const rl_letter_memory *mem)
{
    uno_Interface *container = user_properties(doc);
    char *text = rl_memory_format(mem);
    if (text && container)
        set_user_property(container, RL_MEMORY_PROPERTY, text);
    free(text);
    rl_uno_release(container);
}

rl_field_state rl__writer_field_state(uno_Interface *marks, const rl_memory_field *f)
{
    rtl_uString *name = rl_uno_str(f->bookmark);
    rtl_uString *text = rl__writer_field_text(marks, name);
    rtl_uString *placeholder = rl_uno_str(f->placeholder);
    char fp[RL_MEMORY_FP_HEX], empty[RL_MEMORY_FP_HEX];
    rl_field_state now = RL_FIELD_MISSING;
    if (text) {
        text_fingerprint(text, fp);
        text_fingerprint(placeholder, empty);
        now = !strcmp(fp, f->fp) ? RL_FIELD_PLACED
            : f->prev[0] && !strcmp(fp, f->prev) ? RL_FIELD_BEFORE
            : !strcmp(fp, empty) ? RL_FIELD_PLACEHOLDER : RL_FIELD_EDITED;
        rtl_uString_release(text);
    }
    rtl_uString_release(placeholder);
    rtl_uString_release(name);
    return now;
}

/* Before target t (bookmark `name`) is replaced: what it holds now becomes
 * its "before" (or, the first time, its placeholder). */
void rl__writer_remember_before(uno_Interface *marks, rl_letter_memory *mem,
                                const rl_plan_target *t, rtl_uString *name)
{
    if (t->clearing)
        return;
    rtl_uString *text = rl__writer_field_text(marks, name);
    if (!text)
        return;
    rl_memory_field *f = rl_memory_find(mem, t->bookmark);
    if (f) {
        text_fingerprint(text, f->prev);
    } else if ((f = rl_memory_add(mem, t->bookmark))) {
        if (rl_uno_str_utf8(text, f->placeholder, sizeof f->placeholder) < 0)
            f->placeholder[0] = 0;    /* too long to be a placeholder: empty */
    }
    rtl_uString_release(text);
}

/* After: the fingerprint of what the field holds now; a cleared field is
 * forgotten. */
void rl__writer_remember_after(uno_Interface *marks, rl_letter_memory *mem,
                               const rl_plan_target *t, rtl_uString *name)
{
    if (t->clearing) {
        rl_memory_remove(mem, t->bookmark);
        return;
    }
    rl_memory_field *f = rl_memory_find(mem, t->bookmark);
    rtl_uString *text = f ? rl__writer_field_text(marks, name) : NULL;
    if (text) {
        text_fingerprint(text, f->fp);
        rtl_uString_release(text);
    } else if (f) {
        rl_memory_remove(mem, t->bookmark);
    }
}

/* ------------------------------------- saved, printed, protected since */

/* When the report was placed in doc (its RL_WRITER_PROP_PLACED, written by
 * rl__writer_record_provenance as local time with its offset), or 0. */
static time_t placed_at(uno_Interface *doc)
{
    char iso[48];
    time_t t = 0;
    get_user_string(doc, RL_WRITER_PROP_PLACED, iso, sizeof iso);
    struct tm tm;
    int used = 0;
    memset(&tm, 0, sizeof tm);
    /* As iso_local wrote it (strptime is not everywhere). */
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6 || used == 0)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *rest = iso + used;
    int sign = *rest == '+' || *rest == '-' ? (*rest == '-' ? -1 : 1) : 0;
    if (sign && strlen(rest) >= 5) {
        int hh = (rest[1] - '0') * 10 + (rest[2] - '0'), mm = (rest[3] - '0') * 10 + (rest[4] - '0');
        t = rl_os_timegm(&tm) - sign * (hh * 3600 + mm * 60);
    }
    return t;
}

/* A document date as time_t (0 when not set). */
static time_t date_of(const rl_uno_DateTime *d)
{
    if (!d->Year)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = d->Year - 1900;
    tm.tm_mon = d->Month - 1;
    tm.tm_mday = d->Day;
    tm.tm_hour = d->Hours;
    tm.tm_min = d->Minutes;
    tm.tm_sec = d->Seconds;
    tm.tm_isdst = -1;
    return d->IsUTC ? rl_os_timegm(&tm) : mktime(&tm);
}

/* Whether the text at range lies in a protected section (or one inside a
 * protected section). */
static int range_protected(uno_Interface *range)
{
    rl_uno_err err;
    uno_Interface *section = NULL;
    int protected_ = 0;
    uno_Any v;

    if (get_property(range, "TextSection", &v) == RL_OK) {
        uno_Interface *s = NULL;
        if (rl_uno_any_get_interface(&v, &s) == RL_OK && s)
            section = rl_uno_query(s, RL_UNO_T_XTextSection);
        uno_any_destruct(&v, NULL);
    }
    for (int depth = 0; section && !protected_ && depth < 32; depth++) {
        int b = 0;
        if (get_property(section, "IsProtected", &v) == RL_OK) {
            protected_ = rl_uno_any_get_bool(&v, &b) == RL_OK && b;
            uno_any_destruct(&v, NULL);
        }
        uno_Interface *parent = NULL;
        rl_uno_XTextSection_getParentSection(section, &err, &parent);
        rl_uno_release(section);
        section = parent;
    }
    rl_uno_release(section);
    return protected_;
}

/* Whether the bookmark `name` lies in a protected section. */
static int bookmark_protected(uno_Interface *marks, rtl_uString *name)
{
    rl_uno_err err;
    uno_Interface *mark = rl__writer_bookmark(marks, name, &err), *anchor = NULL;
    int prot = 0;
    if (mark && rl_uno_XTextContent_getAnchor(mark, &err, &anchor) == RL_OK)
        prot = range_protected(anchor);
    rl_uno_release(anchor);
    rl_uno_release(mark);
    return prot;
}

/* ------------------------------------------------- the plan's input, read */

void rl__writer_job_begin(rl__writer_job *j, rl_writer *w, uno_Interface *letter,
                          const rl_report *r, const rl_field_map *fields)
{
    rl_uno_err err;
    memset(j, 0, sizeof *j);
    rl__writer_plan_map(fields, &j->map);
    j->in.report = r;
    j->in.fields = &j->map;
    if (letter) {
        rl_uno_acquire(letter);
        j->doc = letter;
    } else if (rl_uno_XDesktop_getCurrentComponent(w->desktop, &err, &j->doc)) {
        j->doc = NULL;
    }
    j->in.letter.exists = j->doc != NULL;
}

int rl__writer_job_bookmarks(rl__writer_job *j, rl_uno_err *err)
{
    uno_Interface *supplier = rl_uno_query(j->doc, RL_UNO_T_XBookmarksSupplier);
    int rc = supplier ? rl_uno_XBookmarksSupplier_getBookmarks(supplier, err, &j->marks)
                      : rl_uno_fail(err, RL_ERR_UNO_TYPE, "the document has no bookmarks");
    if (!rc)
        rc = rl_uno_XNameAccess_getElementNames(j->marks, err, &j->names);
    rl_uno_release(supplier);
    return rc;
}

int rl__writer_job_read_fields(rl__writer_job *j)
{
    size_t n = (size_t)j->names->nElements;
    rtl_uString **names = (rtl_uString **)(void *)j->names->elements;
    j->bookmarks = calloc(n + 1, sizeof *j->bookmarks);
    j->utf8 = malloc((n + 1) * RL_MAX_FIELD_NAME);
    j->memory = calloc(1, sizeof *j->memory);
    if (!j->bookmarks || !j->utf8 || !j->memory)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *name = j->utf8 + i * RL_MAX_FIELD_NAME;
        if (rl_uno_str_utf8(names[i], name, RL_MAX_FIELD_NAME) >= 0)
            j->bookmarks[i].name = name;
    }
    rl__writer_read_memory(j->doc, j->memory);
    if (!(j->states = calloc(j->memory->n + 1, sizeof *j->states)))
        return -1;
    for (size_t i = 0; i < j->memory->n; i++)
        j->states[i] = rl__writer_field_state(j->marks, &j->memory->fields[i]);
    rl_plan_letter *l = &j->in.letter;
    memset(l, 0, sizeof *l);
    l->exists = 1;
    l->is_writer = 1;
    l->bookmarks = j->bookmarks;
    l->n_bookmarks = n;
    l->memory = j->memory;
    l->states = j->states;
    return 0;
}

void rl__writer_job_read_checks(rl__writer_job *j)
{
    rl_uno_err err;
    rl_plan_letter *l = &j->in.letter;
    rtl_uString **names = (rtl_uString **)(void *)j->names->elements;
    for (size_t i = 0; i < l->n_bookmarks; i++) {
        char key[RL_MAX_FIELD_NAME];
        const char *name = j->bookmarks[i].name;
        /* Only the bookmarks the plan may fill or clear. */
        if (name && (rl_plan_field_of(name, &j->map, j->in.report, key, sizeof key) ||
                     rl_memory_find(j->memory, name)))
            j->bookmarks[i].is_protected = bookmark_protected(j->marks, names[i]);
    }
    uno_Interface *modifiable = rl_uno_query(j->doc, RL_UNO_T_XModifiable), *props = NULL;
    sal_Bool modified = 1;
    if (modifiable)
        rl_uno_XModifiable_isModified(modifiable, &err, &modified);
    rl_uno_release(modifiable);
    l->modified = modified;
    rl_uno_DateTime saved, printed;
    memset(&saved, 0, sizeof saved);
    memset(&printed, 0, sizeof printed);
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(j->doc, &err, &props) == RL_OK) {
        rl_uno_XDocumentProperties_getModificationDate(props, &err, &saved);
        rl_uno_XDocumentProperties_getPrintDate(props, &err, &printed);
    }
    rl_uno_release(props);
    l->placed = placed_at(j->doc);
    l->saved = date_of(&saved);
    l->printed = date_of(&printed);
    if (letter_patient_id(j->doc, j->patient_id, sizeof j->patient_id))
        l->patient_id = j->patient_id;
    uno_Interface *storable = rl_uno_query(j->doc, RL_UNO_T_XStorable);
    sal_Bool ro = 0;
    l->read_only = storable && rl_uno_XStorable_isReadonly(storable, &err, &ro) == RL_OK && ro;
    rl_uno_release(storable);
}

rtl_uString *rl__writer_job_name(const rl__writer_job *j, const rl_plan_target *t)
{
    if (t->index == RL_PLAN_NO_BOOKMARK)
        return rl_uno_str(t->bookmark);
    rtl_uString *name = ((rtl_uString **)(void *)j->names->elements)[t->index];
    rtl_uString_acquire(name);
    return name;
}

void rl__writer_job_end(rl__writer_job *j)
{
    rl_plan_free(&j->plan);
    free(j->bookmarks);
    free(j->utf8);
    free(j->memory);
    free(j->states);
    if (j->names)
        rl_uno_destruct(&j->names, RL_UNO_T_seq_string);
    rl_uno_release(j->marks);
    rl_uno_release(j->doc);
    memset(j, 0, sizeof *j);
}
