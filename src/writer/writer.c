/* writer.c - puts a report into the letter of the active Writer window.
 *
 * How a field is replaced (found by trying the alternatives in a real
 * Writer, see src/writer/README.md): setString on the bookmark's own anchor
 * keeps the bookmark on the first paragraph only, leaves a point bookmark
 * collapsed (the next report would append) and loses the bookmark on undo.
 * So each field is replaced explicitly: a cursor over the old content, the
 * bookmark removed, the cursor's text set, the cursor made to select exactly
 * the new text (see select_back), and a new bookmark of the same name
 * inserted over it. Inside one undo
 * context this is exactly reversible by one undo.
 */
#include "writer.h"
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rl_writer {
    uno_Interface *desktop;       /* owned reference */
    uno_Interface *smgr;          /* owned reference: creates the import streams */
    uno_Interface *ctx;           /* owned reference */
    char undo_title[128];
    rl_writer_refusal last;
    char last_field[RL_MAX_FIELD_NAME];   /* the field of an RL_WRITER_EDITED */
};

/* ---------------------------------------------------------------- pure */

/* fields (may be NULL) in the plan's words; map borrows from fields. */
static void plan_map(const rl_field_map *fields, rl_plan_map *map)
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
    plan_map(fields, &map);
    return rl_plan_field_of(bookmark, &map, r, key, cap);
}

rtl_uString *rl_writer_paragraph_text(const char *utf8)
{
    size_t n = strlen(utf8);
    char *copy = malloc(n + 1);
    size_t j = 0;
    if (!copy)
        return rl_uno_str("");
    for (size_t i = 0; i < n; i++) {
        if (utf8[i] == '\r' && utf8[i + 1] == '\n')
            continue;                       /* the \n that follows makes the break */
        copy[j++] = utf8[i] == '\n' ? '\r' : utf8[i];
    }
    copy[j] = 0;
    rtl_uString *s = rl_uno_str(copy);
    free(copy);
    return s;
}

/* ------------------------------------------------------------ helpers */

static int refuse(rl_writer *w, rl_placement_result *out, rl_writer_refusal why,
                  const char *fmt, const char *arg)
{
    w->last = why;
    snprintf(out->error, sizeof out->error, fmt, arg ? arg : "");
    return RL_ERR_STATE;
}

/* The property `name` of obj, through its XPropertySet, into a constructed
 * any (the caller destructs it). RL_UNO_OK, or an error code when obj has
 * no such property. */
static int get_property(uno_Interface *obj, const char *name, uno_Any *out)
{
    rl_uno_err err;
    uno_Interface *props = rl_uno_query(obj, RL_UNO_T_XPropertySet);
    rtl_uString *s = rl_uno_str(name);
    int rc = props ? rl_uno_XPropertySet_getPropertyValue(props, &err, out, s) : RL_UNO_ERR_ARG;
    rtl_uString_release(s);
    rl_uno_release(props);
    return rc;
}

/* The document's user-defined properties (a new reference), or NULL. */
static uno_Interface *user_properties(uno_Interface *doc)
{
    rl_uno_err err;
    uno_Interface *props = NULL, *container = NULL;
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_UNO_OK)
        rl_uno_XDocumentProperties_getUserDefinedProperties(props, &err, &container);
    rl_uno_release(props);
    return container;
}

/* The string user-defined property `name` of doc as UTF-8 into buf;
 * RL_UNO_OK, or an error when doc has none (or it does not fit). */
static int get_user_string(uno_Interface *doc, const char *name, char *buf, size_t cap)
{
    uno_Interface *container = user_properties(doc);
    uno_Any v;
    int rc = RL_UNO_ERR_ARG;
    buf[0] = 0;
    if (container && get_property(container, name, &v) == RL_UNO_OK) {
        rc = rl_uno_any_get_string(&v, buf, cap);
        uno_any_destruct(&v, NULL);
    }
    rl_uno_release(container);
    return rc;
}

/* The document property PatientId, as UTF-8 into buf; 0 if there is none. */
static int letter_patient_id(uno_Interface *doc, char *buf, size_t cap)
{
    return get_user_string(doc, "PatientId", buf, cap) == RL_UNO_OK && buf[0];
}

/* Whether the text at range lies in a protected section (or one inside a
 * protected section). */
static int range_protected(uno_Interface *range)
{
    rl_uno_err err;
    uno_Interface *section = NULL;
    int protected_ = 0;
    uno_Any v;

    if (get_property(range, "TextSection", &v) == RL_UNO_OK) {
        uno_Interface *s = NULL;
        if (rl_uno_any_get_interface(&v, &s) == RL_UNO_OK && s)
            section = rl_uno_query(s, RL_UNO_T_XTextSection);
        uno_any_destruct(&v, NULL);
    }
    for (int depth = 0; section && !protected_ && depth < 32; depth++) {
        int b = 0;
        if (get_property(section, "IsProtected", &v) == RL_UNO_OK) {
            protected_ = rl_uno_any_get_bool(&v, &b) == RL_UNO_OK && b;
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

/* How many steps the undo stack holds (-1 if unknown). */
static sal_Int32 undo_depth(uno_Interface *undo)
{
    rl_uno_err err;
    uno_Sequence *titles = NULL;
    sal_Int32 n = -1;
    if (rl_uno_XUndoManager_getAllUndoActionTitles(undo, &err, &titles) == RL_UNO_OK) {
        n = titles->nElements;
        rl_uno_destruct(&titles, RL_UNO_T_seq_string);
    }
    return n;
}

/* The bookmark `name` of `marks` as an XTextContent (new reference) or NULL. */
static uno_Interface *bookmark(uno_Interface *marks, rtl_uString *name, rl_uno_err *err)
{
    uno_Any v;
    uno_Interface *obj = NULL, *content = NULL;
    if (rl_uno_XNameAccess_getByName(marks, err, &v, name))
        return NULL;
    if (rl_uno_any_get_interface(&v, &obj) == RL_UNO_OK && obj)
        content = rl_uno_query(obj, RL_UNO_T_XTextContent);
    uno_any_destruct(&v, NULL);
    if (!content)
        rl_uno_fail(err, RL_UNO_ERR_TYPE, "bookmark is not a text content");
    return content;
}

/* How many characters Writer's cursor steps over in utf8 once it is text:
 * code points, "\r\n" being one paragraph break. */
static size_t paragraph_chars(const char *utf8)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
        if ((*p & 0xC0) != 0x80 && !(p[0] == '\r' && p[1] == '\n'))
            n++;
    return n;
}

/* After setString the cursor should select the new text, but LibreOffice
 * 7.4 moves its start back by the text's UTF-16 length in cursor steps, so
 * every surrogate pair (an emoji) pulls one more character of the text
 * before it into the selection. Select the new text ourselves: collapse to
 * its end and step back over its characters (goLeft takes a short). */
static int select_back(uno_Interface *cursor, size_t chars, rl_uno_err *err)
{
    int rc = rl_uno_XTextCursor_collapseToEnd(cursor, err);
    while (!rc && chars) {
        sal_Int16 step = chars > 32767 ? 32767 : (sal_Int16)chars;
        sal_Bool moved = 0;
        rc = rl_uno_XTextCursor_goLeft(cursor, err, &moved, step, 1);
        if (!rc && !moved)
            rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "the cursor could not select the new text");
        chars -= (size_t)step;
    }
    return rc;
}

static const char *filter_name(rl_plan_format format)
{
    switch (format) {
    case RL_PLAN_RTF: return "Rich Text Format";
    case RL_PLAN_DOCX: return "MS Word 2007 XML";
    default: return "HTML (StarWriter)";
    }
}

/* A com.sun.star.io.SequenceInputStream over a copy of data (new
 * reference), or NULL with err set. */
static uno_Interface *memory_stream(uno_Interface *smgr, uno_Interface *ctx, const void *data,
                                    size_t len, rl_uno_err *err)
{
    uno_Interface *stream = NULL;
    uno_Sequence *args = NULL;
    uno_Any arg;
    if (len > 0x7fffffff) {
        rl_uno_fail(err, RL_UNO_ERR_NOMEM, "the document is too large");
        return NULL;
    }
    uno_Sequence *bytes = rl_uno_seq(RL_UNO_T_seq_byte, (void *)data, (sal_Int32)len);
    rtl_uString *svc = rl_uno_str("com.sun.star.io.SequenceInputStream");
    if (!bytes) {
        rl_uno_fail(err, RL_UNO_ERR_NOMEM, "out of memory");
    } else {
        rl_uno_any_value(&arg, &bytes, RL_UNO_T_seq_byte);
        args = rl_uno_seq(RL_UNO_T_seq_any, &arg, 1);
        uno_any_destruct(&arg, NULL);
        if (rl_uno_XMultiComponentFactory_createInstanceWithArgumentsAndContext(
                smgr, err, &stream, svc, args, ctx))
            stream = NULL;
    }
    if (args)
        rl_uno_destruct(&args, RL_UNO_T_seq_any);
    if (bytes)
        rl_uno_destruct(&bytes, RL_UNO_T_seq_byte);
    rtl_uString_release(svc);
    return stream;
}

/* Inserts a DOCX at cursor from a private temporary file: LibreOffice 7.4's
 * insertDocumentFromURL cannot read a DOCX (a ZIP storage) from an
 * InputStream ("Can't read contents!" in package/xstor), although it can
 * open one that way. The file is 0600 in a 0700 directory of its own and
 * both are removed as soon as the import returns. */
static int import_docx_file(uno_Interface *cursor, const char *data, size_t len,
                            uno_Sequence *options, rl_uno_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300], url[320];
    int rc;

    if (!tmp || tmp[0] != '/' || strlen(tmp) > 200 || strpbrk(tmp, " %#?"))
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/reportlink-docx-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return rl_uno_fail(err, RL_UNO_ERR_TYPE, "cannot create a private temporary folder: %s",
                           strerror(errno));
    snprintf(path, sizeof path, "%s/report.docx", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (fd < 0 || done < len || close(fd) != 0) {
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "cannot write the temporary DOCX: %s",
                         strerror(errno));
    } else {
        snprintf(url, sizeof url, "file://%s", path);
        rtl_uString *u = rl_uno_str(url);
        rc = rl_uno_XDocumentInsertable_insertDocumentFromURL(cursor, err, u, options);
        rtl_uString_release(u);
    }
    unlink(path);
    rmdir(dir);
    return rc;
}

/* Imports data (HTML, RTF or DOCX) at cursor through LibreOffice's own
 * filter, from memory (the DOCX: see import_docx_file). Afterwards the
 * cursor spans the imported content. */
static int import_at(rl_writer *w, uno_Interface *cursor, const char *data, size_t len,
                     rl_plan_format format, rl_uno_err *err)
{
    if (format == RL_PLAN_DOCX) {
        rl_uno_PropertyValue filter;
        memset(&filter, 0, sizeof filter);
        filter.Name = rl_uno_str("FilterName");
        rl_uno_any_string(&filter.Value, filter_name(RL_PLAN_DOCX));
        uno_Sequence *options = rl_uno_seq(RL_UNO_T_seq_PropertyValue, &filter, 1);
        rl_uno_destruct(&filter, RL_UNO_T_PropertyValue);
        if (!options)
            return rl_uno_fail(err, RL_UNO_ERR_NOMEM, "out of memory");
        int rc = import_docx_file(cursor, data, len, options, err);
        rl_uno_destruct(&options, RL_UNO_T_seq_PropertyValue);
        return rc;
    }
    uno_Sequence *options = NULL;
    rtl_uString *url = rl_uno_str("private:stream");
    rl_uno_PropertyValue props[2];
    int rc;

    memset(props, 0, sizeof props);
    uno_Interface *stream = memory_stream(w->smgr, w->ctx, data, len, err);
    if (!stream) {
        rc = err->code ? err->code : RL_UNO_ERR_NOMEM;
        goto done;
    }
    props[0].Name = rl_uno_str("InputStream");
    rl_uno_any_value(&props[0].Value, &stream, RL_UNO_T_XInputStream);
    props[1].Name = rl_uno_str("FilterName");
    rl_uno_any_string(&props[1].Value, filter_name(format));
    options = rl_uno_seq(RL_UNO_T_seq_PropertyValue, props, 2);
    rc = rl_uno_XDocumentInsertable_insertDocumentFromURL(cursor, err, url, options);
done:
    for (int i = 0; i < 2; i++)
        if (props[i].Name)
            rl_uno_destruct(&props[i], RL_UNO_T_PropertyValue);
    if (options)
        rl_uno_destruct(&options, RL_UNO_T_seq_PropertyValue);
    rl_uno_release(stream);
    rtl_uString_release(url);
    return rc;
}

/* Replaces the content of bookmark `name` with t's value; see the top. */
static int replace_field(rl_writer *w, uno_Interface *doc_factory, uno_Interface *marks,
                         rtl_uString *name, const rl_plan_target *t, rl_uno_err *err)
{
    uno_Interface *mark = NULL, *anchor = NULL, *text = NULL, *cursor = NULL;
    uno_Interface *fresh = NULL, *fresh_content = NULL, *named = NULL;
    rtl_uString *service = rl_uno_str("com.sun.star.text.Bookmark");
    rtl_uString *value = t->format == RL_PLAN_TEXT ? rl_writer_paragraph_text(t->value) : rl_uno_str("");
    int rc;

    if (!(mark = bookmark(marks, name, err))) {
        rc = err->code ? err->code : RL_UNO_ERR_TYPE;
        goto done;
    }
    if ((rc = rl_uno_XTextContent_getAnchor(mark, err, &anchor)) ||
        (rc = rl_uno_XTextRange_getText(anchor, err, &text)) ||
        (rc = rl_uno_XSimpleText_createTextCursorByRange(text, err, &cursor, anchor)) ||
        (rc = rl_uno_XText_removeTextContent(text, err, mark)) ||
        (rc = rl_uno_XTextRange_setString(cursor, err, value)) ||
        (rc = t->format == RL_PLAN_TEXT ? select_back(cursor, paragraph_chars(t->value), err)
                                        : import_at(w, cursor, t->value, t->len, t->format, err)) ||
        (rc = rl_uno_XMultiServiceFactory_createInstance(doc_factory, err, &fresh, service)))
        goto done;
    if (!(named = rl_uno_query(fresh, RL_UNO_T_XNamed)) ||
        !(fresh_content = rl_uno_query(fresh, RL_UNO_T_XTextContent))) {
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "a new bookmark lacks XNamed/XTextContent");
        goto done;
    }
    if ((rc = rl_uno_XNamed_setName(named, err, name)))
        goto done;
    /* For a bookmark, "absorb" makes it span the range; the text stays. */
    rc = rl_uno_XText_insertTextContent(text, err, cursor, fresh_content, 1);
done:
    rl_uno_release(named);
    rl_uno_release(fresh_content);
    rl_uno_release(fresh);
    rl_uno_release(cursor);
    rl_uno_release(text);
    rl_uno_release(anchor);
    rl_uno_release(mark);
    rtl_uString_release(service);
    rtl_uString_release(value);
    return rc;
}

/* ---------------------------------------------------------------- API */

rl_writer *rl_writer_create(uno_Interface *uno_ctx, const char *undo_title, rl_uno_err *err)
{
    rl_writer *w = calloc(1, sizeof *w);
    uno_Interface *smgr = NULL, *desk = NULL;
    rtl_uString *svc = rl_uno_str("com.sun.star.frame.Desktop");

    if (!w) {
        rl_uno_fail(err, RL_UNO_ERR_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(w->undo_title, sizeof w->undo_title, "%s", undo_title);
    if (rl_uno_XComponentContext_getServiceManager(uno_ctx, err, &smgr) ||
        rl_uno_XMultiComponentFactory_createInstanceWithContext(smgr, err, &desk, svc, uno_ctx))
        goto fail;
    if (!(w->desktop = rl_uno_query(desk, RL_UNO_T_XDesktop))) {
        rl_uno_fail(err, RL_UNO_ERR_TYPE, "the Desktop lacks XDesktop");
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

const char *rl_writer_last_field(const rl_writer *w)
{
    return w->last_field;
}

rl_writer_refusal rl_writer_last_refusal(const rl_writer *w)
{
    return w->last;
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

static void iso_local(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* Records where the report placed in doc came from. Provenance is
 * metadata, not part of the letter's text: failures do not undo the report. */
static void record_provenance(uno_Interface *doc, const rl_provenance *prov)
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

/* ------------------------------------------------- what was placed here */

#define MEMORY_TEXT_CAP (RL_MEMORY_MAX_FIELDS * (3 * (RL_MEMORY_MAX_NAME + \
                         RL_MEMORY_MAX_PLACEHOLDER) + 2 * RL_MEMORY_FP_HEX + 4) + 1)

/* The letter's memory (memory.h) from its user-defined property; empty when
 * it has none. */
static void read_memory(uno_Interface *doc, rl_letter_memory *mem)
{
    char *text = malloc(MEMORY_TEXT_CAP);
    mem->n = 0;
    if (text && get_user_string(doc, RL_MEMORY_PROPERTY, text, MEMORY_TEXT_CAP) == RL_UNO_OK)
        rl_memory_parse(text, mem);
    free(text);
}

static void write_memory(uno_Interface *doc, const rl_letter_memory *mem)
{
    uno_Interface *container = user_properties(doc);
    char *text = rl_memory_format(mem);
    if (text && container)
        set_user_property(container, RL_MEMORY_PROPERTY, text);
    free(text);
    rl_uno_release(container);
}

/* The text of bookmark `name` now (a new string the caller releases), or
 * NULL when the letter has no such bookmark. */
static rtl_uString *field_text(uno_Interface *marks, rtl_uString *name)
{
    rl_uno_err err;
    uno_Interface *mark = bookmark(marks, name, &err), *anchor = NULL;
    rtl_uString *text = NULL;
    if (mark && rl_uno_XTextContent_getAnchor(mark, &err, &anchor) == RL_UNO_OK &&
        rl_uno_XTextRange_getString(anchor, &err, &text) != RL_UNO_OK)
        text = NULL;
    rl_uno_release(anchor);
    rl_uno_release(mark);
    return text;
}

static void text_fingerprint(const rtl_uString *text, char out[RL_MEMORY_FP_HEX])
{
    rl_memory_fingerprint(text->buffer, (size_t)text->length * sizeof text->buffer[0], out);
}

static rl_field_state field_state(uno_Interface *marks, const rl_memory_field *f)
{
    rtl_uString *name = rl_uno_str(f->bookmark);
    rtl_uString *text = field_text(marks, name);
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

/* When the report was placed in doc (its RL_WRITER_PROP_PLACED, written by
 * record_provenance as local time with its offset), or 0. */
static time_t placed_at(uno_Interface *doc)
{
    char iso[48];
    time_t t = 0;
    get_user_string(doc, RL_WRITER_PROP_PLACED, iso, sizeof iso);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    int sign = rest && (*rest == '+' || *rest == '-') ? (*rest == '-' ? -1 : 1) : 0;
    if (sign && strlen(rest) >= 5) {
        int hh = (rest[1] - '0') * 10 + (rest[2] - '0'), mm = (rest[3] - '0') * 10 + (rest[4] - '0');
        t = timegm(&tm) - sign * (hh * 3600 + mm * 60);
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
    return d->IsUTC ? timegm(&tm) : mktime(&tm);
}

/* ------------------------------------------------ the plan's input, read */

/* Whether the bookmark `name` lies in a protected section. */
static int bookmark_protected(uno_Interface *marks, rtl_uString *name)
{
    rl_uno_err err;
    uno_Interface *mark = bookmark(marks, name, &err), *anchor = NULL;
    int prot = 0;
    if (mark && rl_uno_XTextContent_getAnchor(mark, &err, &anchor) == RL_UNO_OK)
        prot = range_protected(anchor);
    rl_uno_release(anchor);
    rl_uno_release(mark);
    return prot;
}

/* The letter read for the plan, and the storage behind it. */
typedef struct letter_facts {
    rl_plan_letter letter;        /* what the plan reads; points into the members below */
    rtl_uString **names;          /* the bookmarks' own names, borrowed from the caller's
                                     sequence, letter.n_bookmarks of them */
    rl_plan_bookmark *bookmarks;  /* owned */
    char *utf8;                   /* owned: the names in UTF-8, RL_MAX_FIELD_NAME bytes each */
    rl_letter_memory *memory;     /* owned */
    rl_field_state *states;       /* owned, one for each remembered field */
    char patient_id[RL_MAX_FIELD_NAME];
} letter_facts;

/* The bookmarks (names: the sequence of marks' element names, borrowed while
 * f lives), what doc remembers and what each remembered field holds now.
 * 0, or -1 when out of memory. */
static int read_fields(uno_Interface *doc, uno_Interface *marks, uno_Sequence *names,
                       letter_facts *f)
{
    size_t n = (size_t)names->nElements;
    f->names = (rtl_uString **)(void *)names->elements;
    f->bookmarks = calloc(n + 1, sizeof *f->bookmarks);
    f->utf8 = malloc((n + 1) * RL_MAX_FIELD_NAME);
    f->memory = calloc(1, sizeof *f->memory);
    if (!f->bookmarks || !f->utf8 || !f->memory)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *name = f->utf8 + i * RL_MAX_FIELD_NAME;
        if (rl_uno_str_utf8(f->names[i], name, RL_MAX_FIELD_NAME) >= 0)
            f->bookmarks[i].name = name;
    }
    read_memory(doc, f->memory);
    if (!(f->states = calloc(f->memory->n + 1, sizeof *f->states)))
        return -1;
    for (size_t i = 0; i < f->memory->n; i++)
        f->states[i] = field_state(marks, &f->memory->fields[i]);
    f->letter.exists = 1;
    f->letter.is_writer = 1;
    f->letter.bookmarks = f->bookmarks;
    f->letter.n_bookmarks = n;
    f->letter.memory = f->memory;
    f->letter.states = f->states;
    return 0;
}

/* What the checks before an edit need: whether each bookmark the report
 * could fill or clear lies in a protected section, whether doc was
 * modified, saved or printed since the last placement, its PatientId,
 * whether it is read-only. Reads only. */
static void read_checks(uno_Interface *doc, uno_Interface *marks, const rl_plan_map *map,
                        const rl_report *r, letter_facts *f)
{
    rl_uno_err err;
    rl_plan_letter *l = &f->letter;
    for (size_t i = 0; i < l->n_bookmarks; i++) {
        char key[RL_MAX_FIELD_NAME];
        const char *name = f->bookmarks[i].name;
        if (name && (rl_plan_field_of(name, map, r, key, sizeof key) || rl_memory_find(f->memory, name)))
            f->bookmarks[i].is_protected = bookmark_protected(marks, f->names[i]);
    }
    uno_Interface *modifiable = rl_uno_query(doc, RL_UNO_T_XModifiable), *props = NULL;
    sal_Bool modified = 1;
    if (modifiable)
        rl_uno_XModifiable_isModified(modifiable, &err, &modified);
    rl_uno_release(modifiable);
    l->modified = modified;
    rl_uno_DateTime saved, printed;
    memset(&saved, 0, sizeof saved);
    memset(&printed, 0, sizeof printed);
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_UNO_OK) {
        rl_uno_XDocumentProperties_getModificationDate(props, &err, &saved);
        rl_uno_XDocumentProperties_getPrintDate(props, &err, &printed);
    }
    rl_uno_release(props);
    l->placed = placed_at(doc);
    l->saved = date_of(&saved);
    l->printed = date_of(&printed);
    l->patient_id = letter_patient_id(doc, f->patient_id, sizeof f->patient_id) ? f->patient_id : NULL;
    uno_Interface *storable = rl_uno_query(doc, RL_UNO_T_XStorable);
    sal_Bool ro = 0;
    l->read_only = storable && rl_uno_XStorable_isReadonly(storable, &err, &ro) == RL_UNO_OK && ro;
    rl_uno_release(storable);
}

static void free_facts(letter_facts *f)
{
    free(f->bookmarks);
    free(f->utf8);
    free(f->memory);
    free(f->states);
    memset(f, 0, sizeof *f);
}

/* The name of target t's bookmark: the letter's own string when the plan
 * found it there (a new reference the caller releases). */
static rtl_uString *target_name(const letter_facts *f, const rl_plan_target *t)
{
    if (t->index == RL_PLAN_NO_BOOKMARK)
        return rl_uno_str(t->bookmark);
    rtl_uString_acquire(f->names[t->index]);
    return f->names[t->index];
}

/* Before target t (bookmark `name`) is replaced: what it holds now becomes
 * its "before" (or, the first time, its placeholder). */
static void remember_before(uno_Interface *marks, rl_letter_memory *mem, const rl_plan_target *t,
                            rtl_uString *name)
{
    if (t->clearing)
        return;
    rtl_uString *text = field_text(marks, name);
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
static void remember_after(uno_Interface *marks, rl_letter_memory *mem, const rl_plan_target *t,
                           rtl_uString *name)
{
    if (t->clearing) {
        rl_memory_remove(mem, t->bookmark);
        return;
    }
    rl_memory_field *f = rl_memory_find(mem, t->bookmark);
    rtl_uString *text = f ? field_text(marks, name) : NULL;
    if (text) {
        text_fingerprint(text, f->fp);
        rtl_uString_release(text);
    } else if (f) {
        rl_memory_remove(mem, t->bookmark);
    }
}

/* Opens url as a new untitled document made from it (AsTemplate): a new
 * reference in *out, or an error. */
static int open_as_template(rl_writer *w, rtl_uString *url, uno_Interface **out, rl_uno_err *err)
{
    uno_Interface *loader = rl_uno_query(w->desktop, RL_UNO_T_XComponentLoader);
    rtl_uString *frame = rl_uno_str("_blank");
    rl_uno_PropertyValue props[1];
    uno_Sequence *options = NULL;
    int rc;

    memset(props, 0, sizeof props);
    *out = NULL;
    props[0].Name = rl_uno_str("AsTemplate");
    rl_uno_any_bool(&props[0].Value, 1);
    options = rl_uno_seq(RL_UNO_T_seq_PropertyValue, props, 1);
    rc = loader ? rl_uno_XComponentLoader_loadComponentFromURL(loader, err, out, url, frame, 0, options)
                : rl_uno_fail(err, RL_UNO_ERR_TYPE, "the Desktop lacks XComponentLoader");
    if (!rc && !*out)
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "LibreOffice could not open it");
    rl_uno_destruct(&props[0], RL_UNO_T_PropertyValue);
    if (options)
        rl_uno_destruct(&options, RL_UNO_T_seq_PropertyValue);
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
    int rc = RL_UNO_OK;
    if (!supplier || !factory || !mem || (rc = rl_uno_XBookmarksSupplier_getBookmarks(supplier, err, &marks))) {
        rc = rc ? rc : rl_uno_fail(err, RL_UNO_ERR_TYPE, "not a Writer document");
        goto done;
    }
    read_memory(doc, mem);
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
        rtl_uString *text = field_text(marks, name);
        if (text) {
            rc = replace_field(w, factory, marks, name, &t, err);
            rtl_uString_release(text);
        }
        rtl_uString_release(name);
    }
    mem->n = 0;
    if (!rc)
        write_memory(doc, mem);
done:
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(factory);
    rl_uno_release(supplier);
    return rc;
}

/* Where a new letter can come from: the letter's TemplateURL and its own
 * URL (new strings, or NULL for none). */
typedef struct letter_sources {
    rtl_uString *template_url;
    rtl_uString *url;
} letter_sources;

static void read_sources(uno_Interface *doc, letter_sources *s)
{
    rl_uno_err err;
    uno_Interface *props = NULL, *model = rl_uno_query(doc, RL_UNO_T_XModel);
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_UNO_OK)
        rl_uno_XDocumentProperties_getTemplateURL(props, &err, &s->template_url);
    if (model)
        rl_uno_XModel_getURL(model, &err, &s->url);
    rl_uno_release(props);
    rl_uno_release(model);
}

static void free_sources(letter_sources *s)
{
    if (s->template_url)
        rtl_uString_release(s->template_url);
    if (s->url)
        rtl_uString_release(s->url);
    s->template_url = s->url = NULL;
}

/* The new letter the plan chose (RL_PLAN_FROM_TEMPLATE or _FROM_FILE) in
 * *fresh (a new reference), or RL_ERR_STATE with RL_WRITER_NO_TEMPLATE when
 * LibreOffice cannot make it. */
static int new_letter(rl_writer *w, rl_plan_choice from, const letter_sources *s,
                      uno_Interface **fresh, rl_placement_result *out)
{
    rl_uno_err err;
    int rc = RL_OK;

    *fresh = NULL;
    if (from == RL_PLAN_FROM_TEMPLATE) {
        if (open_as_template(w, s->template_url, fresh, &err))
            rc = refuse(w, out, RL_WRITER_NO_TEMPLATE, "the letter's template cannot be opened: %s",
                        err.message);
    } else if (open_as_template(w, s->url, fresh, &err) || reset_fields(w, *fresh, &err)) {
        rc = refuse(w, out, RL_WRITER_NO_TEMPLATE, "a new letter cannot be made from this one: %s",
                    err.message);
    }
    if (rc != RL_OK && *fresh) {
        rl_uno_release(*fresh);    /* a half-made letter stays open for the doctor to close */
        *fresh = NULL;
    }
    return rc;
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

/* letter (acquired), or the active window's document, or NULL: a new
 * reference the caller releases. */
static uno_Interface *letter_or_active(rl_writer *w, uno_Interface *letter)
{
    rl_uno_err err;
    uno_Interface *comp = NULL;
    if (letter) {
        rl_uno_acquire(letter);
        return letter;
    }
    if (rl_uno_XDesktop_getCurrentComponent(w->desktop, &err, &comp))
        return NULL;
    return comp;
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
    if (title_if && rl_uno_XTitle_getTitle(title_if, &err, &title) == RL_UNO_OK) {
        rl_uno_str_utf8(title, where, cap);
        rtl_uString_release(title);
    }
    rl_uno_release(title_if);
}

/* The plan applied to doc: every target replaced inside one undo context,
 * the view locked while it runs, then the letter's memory and the
 * provenance written. If LibreOffice refuses an edit half-way, the context
 * is closed and undone (only if it added a step: never the doctor's own
 * previous edit) and the letter is as it was. */
static int apply(rl_writer *w, uno_Interface *doc, uno_Interface *marks, letter_facts *facts,
                 const rl_plan *plan, const rl_provenance *prov, rl_placement_result *out)
{
    rl_uno_err err;
    uno_Interface *factory = NULL, *undo_sup = NULL, *undo = NULL, *model = NULL;
    int rc = RL_OK, in_undo = 0, locked = 0;

    if (!(factory = rl_uno_query(doc, RL_UNO_T_XMultiServiceFactory)) ||
        !(undo_sup = rl_uno_query(doc, RL_UNO_T_XUndoManagerSupplier)) ||
        rl_uno_XUndoManagerSupplier_getUndoManager(undo_sup, &err, &undo)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "the letter cannot be edited%s", NULL);
        goto done;
    }
    if ((model = rl_uno_query(doc, RL_UNO_T_XModel)) &&
        rl_uno_XModel_lockControllers(model, &err) == RL_UNO_OK)
        locked = 1;
    sal_Int32 depth_before = undo_depth(undo);
    rtl_uString *title = rl_uno_str(w->undo_title);
    int urc = rl_uno_XUndoManager_enterUndoContext(undo, &err, title);
    rtl_uString_release(title);
    if (urc) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "the letter cannot be edited: %s",
                    err.message);
        goto done;
    }
    in_undo = 1;
    for (size_t i = 0; i < plan->n_targets; i++) {
        const rl_plan_target *t = &plan->targets[i];
        rtl_uString *name = target_name(facts, t);
        remember_before(marks, facts->memory, t, name);
        int failed = replace_field(w, factory, marks, name, t, &err);
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
            rc = refuse(w, out, RL_WRITER_EDIT_FAILED,
                        "LibreOffice refused to edit the letter: %s", err.message);
            goto done;
        }
        if (!t->clearing)
            out->fields_filled++;
    }
    for (size_t i = 0; i < plan->n_targets; i++) {
        rtl_uString *name = target_name(facts, &plan->targets[i]);
        remember_after(marks, facts->memory, &plan->targets[i], name);
        rtl_uString_release(name);
    }
    write_memory(doc, facts->memory);
    if (prov)
        record_provenance(doc, prov);
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

/* A refusal the plan decided: its reason, and the field or time
 * rl_writer_last_field gives. */
static int refuse_planned(rl_writer *w, const rl_plan *p, rl_placement_result *out)
{
    snprintf(w->last_field, sizeof w->last_field, "%s",
             p->why == RL_WRITER_EDITED ? p->field : p->when);
    return refuse(w, out, p->why, "%s", p->error);
}

int rl_writer_place_report(rl_writer *w, uno_Interface *letter, const rl_report *r,
                           const unsigned char *docx, size_t docx_len, const rl_field_map *fields,
                           const rl_provenance *prov, unsigned flags, rl_placement_result *out,
                           uno_Interface **letter_out)
{
    rl_uno_err err;
    rl_plan_map map;
    rl_plan_input in;
    rl_plan plan;
    letter_facts facts;
    letter_sources sources;
    uno_Interface *comp, *supplier = NULL, *marks = NULL;
    uno_Sequence *names = NULL;
    int rc = RL_OK;

    memset(out, 0, sizeof *out);
    memset(&in, 0, sizeof in);
    memset(&plan, 0, sizeof plan);
    memset(&facts, 0, sizeof facts);
    memset(&sources, 0, sizeof sources);
    w->last = RL_WRITER_PLACED;
    w->last_field[0] = 0;
    if (letter_out)
        *letter_out = NULL;
    plan_map(fields, &map);
    in.report = r;
    in.docx = docx;
    in.docx_len = docx_len;
    in.fields = &map;
    in.flags = flags;

    /* Which letter. */
    comp = letter_or_active(w, letter);
    in.letter.exists = comp != NULL;
    in.letter.is_writer = is_writer(comp);
    if (comp && (flags & RL_WRITER_NEW_LETTER)) {     /* only a new letter needs them */
        read_sources(comp, &sources);
        in.letter.has_template = sources.template_url && sources.template_url->length;
        in.letter.has_file = sources.url && sources.url->length;
    }
    if (rl_plan_letter_choice(&in, &plan) != RL_WRITER_PLACED)
        goto refused;
    if (plan.letter != RL_PLAN_THIS_LETTER) {
        uno_Interface *fresh = NULL;
        if ((rc = new_letter(w, plan.letter, &sources, &fresh, out)) != RL_OK)
            goto done;
        rl_uno_release(comp);
        comp = fresh;
        memset(&in.letter, 0, sizeof in.letter);
        in.letter.exists = 1;
        in.letter.made_new = 1;
        in.letter.is_writer = is_writer(comp);
        if (rl_plan_letter_choice(&in, &plan) != RL_WRITER_PLACED)
            goto refused;
    }
    letter_title(comp, out->where, sizeof out->where);

    /* Which fields: what the letter holds and remembers, then the plan. */
    supplier = rl_uno_query(comp, RL_UNO_T_XBookmarksSupplier);
    if (rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) ||
        rl_uno_XNameAccess_getElementNames(marks, &err, &names)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "cannot read the letter's bookmarks: %s",
                    err.message);
        goto done;
    }
    if (read_fields(comp, marks, names, &facts)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    read_checks(comp, marks, &map, r, &facts);
    in.letter = facts.letter;
    if (rl_plan_fields(&in, &plan) != RL_WRITER_PLACED)
        goto refused;

    /* The edit. */
    if ((rc = apply(w, comp, marks, &facts, &plan, prov, out)) == RL_OK && letter_out) {
        rl_uno_acquire(comp);
        *letter_out = comp;
    }
    goto done;
refused:
    rc = refuse_planned(w, &plan, out);
done:
    rl_plan_free(&plan);
    free_facts(&facts);
    free_sources(&sources);
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    rl_uno_release(comp);
    return rc;
}

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
    rl_plan_map map;
    rl_plan_input in;
    rl_plan plan;
    letter_facts facts;
    uno_Interface *comp, *supplier = NULL, *marks = NULL;
    uno_Sequence *names = NULL;
    int rc = RL_OK;

    memset(out, 0, sizeof *out);
    memset(&in, 0, sizeof in);
    memset(&plan, 0, sizeof plan);
    memset(&facts, 0, sizeof facts);
    *changes = NULL;
    *n = 0;
    plan_map(fields, &map);
    in.report = r;
    in.fields = &map;
    comp = letter_or_active(w, letter);
    in.letter.exists = comp != NULL;
    in.letter.is_writer = comp && (supplier = rl_uno_query(comp, RL_UNO_T_XBookmarksSupplier)) &&
                          !rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) &&
                          !rl_uno_XNameAccess_getElementNames(marks, &err, &names);
    if (rl_plan_letter_choice(&in, &plan) != RL_WRITER_PLACED) {
        rc = refuse(w, out, plan.why, "%s", plan.error);
        goto done;
    }
    if (read_fields(comp, marks, names, &facts)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    in.letter = facts.letter;
    if (rl_plan_changes(&in, &plan) != RL_WRITER_PLACED) {
        rc = refuse(w, out, plan.why, "%s", plan.error);
        goto done;
    }
    if (!(*changes = calloc(plan.n_targets, sizeof **changes))) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    for (size_t i = 0; i < plan.n_targets; i++) {
        const rl_plan_target *t = &plan.targets[i];
        rl_field_change *c = &(*changes)[i];
        snprintf(c->bookmark, sizeof c->bookmark, "%s", t->bookmark);
        rtl_uString *name = target_name(&facts, t), *now = field_text(marks, name);
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
    rl_plan_free(&plan);
    free_facts(&facts);
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    rl_uno_release(comp);
    return rc;
}

int rl_writer_unfilled(uno_Interface *doc, const rl_field_map *fields, char *out, size_t cap)
{
    rl_uno_err err;
    uno_Interface *supplier = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier), *marks = NULL;
    uno_Sequence *names = NULL;
    rl_letter_memory *mem = calloc(1, sizeof *mem);
    int count = 0, fields_seen = 0;
    size_t used = 0;

    out[0] = 0;
    if (!supplier || !mem || rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) ||
        rl_uno_XNameAccess_getElementNames(marks, &err, &names))
        goto done;
    read_memory(doc, mem);
    rtl_uString **elems = (rtl_uString **)(void *)names->elements;
    for (sal_Int32 i = 0; i < names->nElements; i++) {
        char name[RL_MAX_FIELD_NAME], key[RL_MAX_FIELD_NAME];
        if (rl_uno_str_utf8(elems[i], name, sizeof name) < 0 ||
            !rl_writer_field_of(name, fields, NULL, key, sizeof key) ||
            !strcmp(key, RL_WRITER_DOCX_REPORT))
            continue;
        fields_seen++;
        const rl_memory_field *f = rl_memory_find(mem, name);
        if (f && field_state(marks, f) != RL_FIELD_PLACEHOLDER)
            continue;           /* a report's text, or the doctor's */
        count++;
        if (used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
    }
done:
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    return fields_seen ? count : -1;
}

int rl_writer_holds_last_report(uno_Interface *doc)
{
    rl_uno_err err;
    uno_Interface *supplier = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier), *marks = NULL;
    rl_letter_memory *mem = calloc(1, sizeof *mem);
    int holds = -1;
    if (supplier && mem && !rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks)) {
        read_memory(doc, mem);
        for (size_t i = 0; i < mem->n && holds != 1; i++) {
            if (!strcmp(mem->fields[i].bookmark, RL_WRITER_DOCX_REPORT))
                continue;
            holds = field_state(marks, &mem->fields[i]) == RL_FIELD_PLACED;
        }
    }
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    return holds;
}

int rl_writer_info_bar(uno_Interface *doc, const char *id, const char *primary,
                       const char *secondary, rl_uno_err *err)
{
    uno_Interface *model = rl_uno_query(doc, RL_UNO_T_XModel), *controller = NULL, *bars = NULL;
    rtl_uString *i = rl_uno_str(id), *p = rl_uno_str(primary), *s = rl_uno_str(secondary);
    uno_Sequence *buttons = rl_uno_seq(RL_UNO_T_seq_StringPair, NULL, 0);
    sal_Bool shown = 0;
    int rc = RL_UNO_ERR_TYPE;
    const sal_Int32 warning = 2;        /* css::frame::InfobarType::WARNING */

    if (!model || rl_uno_XModel_getCurrentController(model, err, &controller) || !controller ||
        !(bars = rl_uno_query(controller, RL_UNO_T_XInfobarProvider))) {
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "the letter's window has no info bar");
        goto done;
    }
    if ((rc = rl_uno_XInfobarProvider_hasInfobar(bars, err, &shown, i)) == RL_UNO_OK)
        rc = shown ? rl_uno_XInfobarProvider_updateInfobar(bars, err, i, p, s, warning)
                   : rl_uno_XInfobarProvider_appendInfobar(bars, err, i, p, s, warning, buttons, 1);
done:
    if (buttons)
        rl_uno_destruct(&buttons, RL_UNO_T_seq_StringPair);
    rtl_uString_release(i);
    rtl_uString_release(p);
    rtl_uString_release(s);
    rl_uno_release(bars);
    rl_uno_release(controller);
    rl_uno_release(model);
    return rc;
}

int rl_writer_open_docx(rl_writer *w, const unsigned char *docx, size_t len, rl_uno_err *err)
{
    uno_Interface *loader = NULL, *stream = NULL, *doc = NULL;
    uno_Sequence *options = NULL;
    rtl_uString *url = rl_uno_str("private:stream"), *frame = rl_uno_str("_blank");
    rl_uno_PropertyValue props[2];
    int rc;

    memset(props, 0, sizeof props);
    if (!(loader = rl_uno_query(w->desktop, RL_UNO_T_XComponentLoader))) {
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "the Desktop lacks XComponentLoader");
        goto done;
    }
    if (!(stream = memory_stream(w->smgr, w->ctx, docx, len, err))) {
        rc = err->code ? err->code : RL_UNO_ERR_NOMEM;
        goto done;
    }
    props[0].Name = rl_uno_str("InputStream");
    rl_uno_any_value(&props[0].Value, &stream, RL_UNO_T_XInputStream);
    props[1].Name = rl_uno_str("FilterName");
    rl_uno_any_string(&props[1].Value, filter_name(RL_PLAN_DOCX));
    options = rl_uno_seq(RL_UNO_T_seq_PropertyValue, props, 2);
    rc = rl_uno_XComponentLoader_loadComponentFromURL(loader, err, &doc, url, frame, 0, options);
    if (!rc && !doc)
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "LibreOffice could not open the document");
done:
    for (int i = 0; i < 2; i++)
        if (props[i].Name)
            rl_uno_destruct(&props[i], RL_UNO_T_PropertyValue);
    if (options)
        rl_uno_destruct(&options, RL_UNO_T_seq_PropertyValue);
    rl_uno_release(doc);
    rl_uno_release(stream);
    rl_uno_release(loader);
    rtl_uString_release(url);
    rtl_uString_release(frame);
    return rc;
}
