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
#include "format.h"
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

/* How a field's value goes into the letter. */
typedef enum field_format {
    AS_TEXT,                      /* paragraphs of plain text */
    AS_HTML,                      /* through LibreOffice's HTML import, cleaned first */
    AS_RTF,                       /* through LibreOffice's RTF import */
    AS_DOCX                       /* the signed DOCX, through the Word 2007 import */
} field_format;

/* One bookmark to fill. */
typedef struct target {
    rtl_uString *name;            /* owned */
    const char *value;            /* borrowed from the report, `whole` or `owned` */
    size_t len;                   /* bytes of value (AS_DOCX: not NUL-terminated) */
    char *owned;                  /* the cleaned HTML, owned */
    field_format format;
    int clearing;                 /* an earlier report's field going back to its placeholder */
} target;

/* ---------------------------------------------------------------- pure */

const char *rl_writer_field_of(const char *bookmark, const rl_field_map *fields,
                               const rl_report *r, char *key, size_t cap)
{
    char base[RL_MAX_FIELD_NAME];
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
        for (size_t i = 0; fields && i < fields->n; i++)
            if (!strcmp(fields->entries[i].bookmark, base)) {
                snprintf(key, cap, "%s", fields->entries[i].key);
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

static const char *filter_name(field_format format)
{
    switch (format) {
    case AS_RTF: return "Rich Text Format";
    case AS_DOCX: return "MS Word 2007 XML";
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
                     field_format format, rl_uno_err *err)
{
    if (format == AS_DOCX) {
        rl_uno_PropertyValue filter;
        memset(&filter, 0, sizeof filter);
        filter.Name = rl_uno_str("FilterName");
        rl_uno_any_string(&filter.Value, filter_name(AS_DOCX));
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

/* Replaces the content of bookmark t->name with t->value; see the top. */
static int replace_field(rl_writer *w, uno_Interface *doc_factory, uno_Interface *marks,
                         const target *t, rl_uno_err *err)
{
    uno_Interface *mark = NULL, *anchor = NULL, *text = NULL, *cursor = NULL;
    uno_Interface *fresh = NULL, *fresh_content = NULL, *named = NULL;
    rtl_uString *service = rl_uno_str("com.sun.star.text.Bookmark");
    rtl_uString *value = t->format == AS_TEXT ? rl_writer_paragraph_text(t->value) : rl_uno_str("");
    int rc;

    if (!(mark = bookmark(marks, t->name, err))) {
        rc = err->code ? err->code : RL_UNO_ERR_TYPE;
        goto done;
    }
    if ((rc = rl_uno_XTextContent_getAnchor(mark, err, &anchor)) ||
        (rc = rl_uno_XTextRange_getText(anchor, err, &text)) ||
        (rc = rl_uno_XSimpleText_createTextCursorByRange(text, err, &cursor, anchor)) ||
        (rc = rl_uno_XText_removeTextContent(text, err, mark)) ||
        (rc = rl_uno_XTextRange_setString(cursor, err, value)) ||
        (rc = t->format == AS_TEXT ? select_back(cursor, paragraph_chars(t->value), err)
                                   : import_at(w, cursor, t->value, t->len, t->format, err)) ||
        (rc = rl_uno_XMultiServiceFactory_createInstance(doc_factory, err, &fresh, service)))
        goto done;
    if (!(named = rl_uno_query(fresh, RL_UNO_T_XNamed)) ||
        !(fresh_content = rl_uno_query(fresh, RL_UNO_T_XTextContent))) {
        rc = rl_uno_fail(err, RL_UNO_ERR_TYPE, "a new bookmark lacks XNamed/XTextContent");
        goto done;
    }
    if ((rc = rl_uno_XNamed_setName(named, err, t->name)))
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
static char *html_section(const rl_report *r, const rl_field_map *fields, const char *key)
{
    for (size_t i = 0; fields && i < fields->n; i++) {
        if (strcmp(fields->entries[i].key, key) != 0 || !fields->entries[i].from_html)
            continue;
        size_t n = 0;
        char *raw = rl_format_html_section(r->html_content, strlen(r->html_content), key,
                                           fields->entries[i].html_heading, &n);
        if (!raw)
            return NULL;
        char *clean = rl_format_clean_html(raw, n, NULL);
        free(raw);
        return clean;
    }
    return NULL;
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

const char *rl_writer_refusal_name(rl_writer_refusal why)
{
    switch (why) {
    case RL_WRITER_PLACED: return "";
    case RL_WRITER_NO_DOCUMENT: return "no_document";
    case RL_WRITER_NOT_WRITER: return "not_writer";
    case RL_WRITER_NO_FIELDS: return "no_fields";
    case RL_WRITER_READ_ONLY: return "read_only";
    case RL_WRITER_PROTECTED: return "protected";
    case RL_WRITER_TOO_LONG: return "too_long";
    case RL_WRITER_PATIENT_MISMATCH: return "patient_mismatch";
    case RL_WRITER_EDIT_FAILED: return "edit_failed";
    case RL_WRITER_EDITED: return "edited";
    case RL_WRITER_SAVED: return "saved";
    case RL_WRITER_NO_TEMPLATE: return "no_template";
    case RL_WRITER_PRINTED: return "printed";
    }
    return "edit_failed";
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

/* Which bookmarks of the letter (names) receive what of r (or, r NULL, only
 * report_docx from docx): appended to targets (*n of them; room for every
 * name). *whole receives the plain-text report when a bookmark wants it
 * (the caller frees it). */
static void collect_targets(uno_Sequence *names, const rl_report *r, const unsigned char *docx,
                            size_t docx_len, const rl_field_map *fields, target *targets,
                            size_t *n, char **whole)
{
    rtl_uString **elems = (rtl_uString **)(void *)names->elements;
    for (sal_Int32 i = 0; i < names->nElements && *n < RL_WRITER_MAX_TARGETS; i++) {
        char name[RL_MAX_FIELD_NAME], key[RL_MAX_FIELD_NAME];
        const char *value = NULL;
        if (rl_uno_str_utf8(elems[i], name, sizeof name) < 0 ||
            !rl_writer_field_of(name, fields, r, key, sizeof key))
            continue;
        /* Without a report only the DOCX is placed (it came later). */
        if (!r && strcmp(key, RL_WRITER_DOCX_REPORT) != 0)
            continue;
        field_format format = AS_TEXT;
        char *owned = NULL;
        if (!strcmp(key, RL_WRITER_WHOLE_REPORT)) {
            if (!*whole && (r->plaintext_report || r->n_fields))
                *whole = whole_report(r);
            value = *whole;
        } else if (!strcmp(key, RL_WRITER_HTML_REPORT)) {
            format = AS_HTML;
            if (r->html_content && !(value = owned = rl_format_clean_html(
                                         r->html_content, strlen(r->html_content), NULL)))
                continue;
        } else if (!strcmp(key, RL_WRITER_RTF_REPORT)) {
            format = AS_RTF;
            if (r->rtf_report && !(value = owned = rl_format_clean_rtf(
                                       r->rtf_report, strlen(r->rtf_report), NULL)))
                continue;
        } else if (!strcmp(key, RL_WRITER_DOCX_REPORT)) {
            format = AS_DOCX;
            value = (const char *)docx;
        } else {
            value = rl_report_field(r, key);
            if (r->html_content && (owned = html_section(r, fields, key)) != NULL) {
                value = owned;
                format = AS_HTML;
            }
        }
        if (!value)
            continue;
        rtl_uString_acquire(elems[i]);
        targets[*n].name = elems[i];
        targets[*n].value = value;
        targets[*n].len = format == AS_DOCX ? docx_len : strlen(value);
        targets[*n].owned = owned;
        targets[*n].format = format;
        (*n)++;
    }
}

static void free_targets(target *targets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rtl_uString_release(targets[i].name);
        free(targets[i].owned);
    }
    free(targets);
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

typedef enum field_now {
    FIELD_PLACED,         /* what the last report put there */
    FIELD_BEFORE,         /* what was there before it (the doctor pressed Ctrl+Z) */
    FIELD_PLACEHOLDER,    /* its empty placeholder */
    FIELD_CHANGED,        /* anything else: the doctor's words */
    FIELD_GONE            /* the bookmark was deleted */
} field_now;

static field_now field_state(uno_Interface *marks, const rl_memory_field *f)
{
    rtl_uString *name = rl_uno_str(f->bookmark);
    rtl_uString *text = field_text(marks, name);
    rtl_uString *placeholder = rl_uno_str(f->placeholder);
    char fp[RL_MEMORY_FP_HEX], empty[RL_MEMORY_FP_HEX];
    field_now now = FIELD_GONE;
    if (text) {
        text_fingerprint(text, fp);
        text_fingerprint(placeholder, empty);
        now = !strcmp(fp, f->fp) ? FIELD_PLACED
            : f->prev[0] && !strcmp(fp, f->prev) ? FIELD_BEFORE
            : !strcmp(fp, empty) ? FIELD_PLACEHOLDER : FIELD_CHANGED;
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

static void hh_mm(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (t && localtime_r(&t, &tm))
        strftime(out, cap, "%H:%M", &tm);
    else
        snprintf(out, cap, "%s", "");
}

/* RL_OK when a new report may replace what the letter holds without asking:
 * no field an earlier report filled was changed by the doctor, and the letter
 * was not saved since (a saved letter may have left the practice). */
static int check_untouched(rl_writer *w, uno_Interface *doc, uno_Interface *marks,
                           rl_letter_memory *mem, rl_placement_result *out)
{
    rl_uno_err err;
    int holds_report = 0;
    for (size_t i = 0; i < mem->n; i++) {
        field_now now = field_state(marks, &mem->fields[i]);
        if (now == FIELD_CHANGED || now == FIELD_GONE) {
            snprintf(w->last_field, sizeof w->last_field, "%s", mem->fields[i].bookmark);
            return refuse(w, out, RL_WRITER_EDITED, "the field \"%s\" was changed in the letter "
                          "since the last report was placed", mem->fields[i].bookmark);
        }
        holds_report |= now == FIELD_PLACED || now == FIELD_BEFORE;
    }
    if (!holds_report)
        return RL_OK;
    /* Saved or printed after the placement: the letter may have left the practice. */
    uno_Interface *modifiable = rl_uno_query(doc, RL_UNO_T_XModifiable), *props = NULL;
    sal_Bool modified = 1;
    if (modifiable)
        rl_uno_XModifiable_isModified(modifiable, &err, &modified);
    rl_uno_release(modifiable);
    rl_uno_DateTime saved_d, printed_d;
    memset(&saved_d, 0, sizeof saved_d);
    memset(&printed_d, 0, sizeof printed_d);
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_UNO_OK) {
        rl_uno_XDocumentProperties_getModificationDate(props, &err, &saved_d);
        rl_uno_XDocumentProperties_getPrintDate(props, &err, &printed_d);
    }
    rl_uno_release(props);
    time_t placed = placed_at(doc), saved = date_of(&saved_d), printed = date_of(&printed_d);
    if (placed && printed > placed) {
        hh_mm(printed, w->last_field, sizeof w->last_field);
        return refuse(w, out, RL_WRITER_PRINTED, "the letter was printed at %s, after the last "
                      "report was placed", w->last_field);
    }
    if (!modified || (placed && saved > placed)) {
        hh_mm(saved, w->last_field, sizeof w->last_field);
        return refuse(w, out, RL_WRITER_SAVED, "the letter was saved at %s, after the last report "
                      "was placed", w->last_field[0] ? w->last_field : "an unknown time");
    }
    return RL_OK;
}

static int has_target(const target *targets, size_t n, const char *bookmark)
{
    char name[RL_MAX_FIELD_NAME];
    for (size_t i = 0; i < n; i++)
        if (rl_uno_str_utf8(targets[i].name, name, sizeof name) >= 0 && !strcmp(name, bookmark))
            return 1;
    return 0;
}

/* A report replaces a report as a whole: each field an earlier report filled
 * that this one lacks goes back to its placeholder, in the same undo step. */
static int add_clearing(rl_writer *w, uno_Interface *marks, rl_letter_memory *mem,
                        target *targets, size_t *n, rl_placement_result *out)
{
    for (size_t i = 0; i < mem->n; i++) {
        const rl_memory_field *f = &mem->fields[i];
        field_now now = field_state(marks, f);
        if (now == FIELD_GONE || now == FIELD_PLACEHOLDER || has_target(targets, *n, f->bookmark))
            continue;
        targets[*n].name = rl_uno_str(f->bookmark);
        targets[*n].value = f->placeholder;
        targets[*n].len = strlen(f->placeholder);
        targets[*n].owned = NULL;
        targets[*n].format = AS_TEXT;
        targets[*n].clearing = 1;
        (*n)++;
    }
    return RL_OK;
}

/* Before a field is replaced: what it holds now becomes its "before" (or,
 * the first time, its placeholder). */
static void remember_before(uno_Interface *marks, rl_letter_memory *mem, const target *t)
{
    char name[RL_MAX_FIELD_NAME];
    if (t->clearing || rl_uno_str_utf8(t->name, name, sizeof name) < 0)
        return;
    rtl_uString *text = field_text(marks, t->name);
    if (!text)
        return;
    rl_memory_field *f = rl_memory_find(mem, name);
    if (f) {
        text_fingerprint(text, f->prev);
    } else if ((f = rl_memory_add(mem, name))) {
        if (rl_uno_str_utf8(text, f->placeholder, sizeof f->placeholder) < 0)
            f->placeholder[0] = 0;    /* too long to be a placeholder: empty */
    }
    rtl_uString_release(text);
}

/* After: the fingerprint of what the field holds now; a cleared field is
 * forgotten. */
static void remember_after(uno_Interface *marks, rl_letter_memory *mem, const target *t)
{
    char name[RL_MAX_FIELD_NAME];
    if (rl_uno_str_utf8(t->name, name, sizeof name) < 0)
        return;
    if (t->clearing) {
        rl_memory_remove(mem, name);
        return;
    }
    rl_memory_field *f = rl_memory_find(mem, name);
    rtl_uString *text = f ? field_text(marks, t->name) : NULL;
    if (text) {
        text_fingerprint(text, f->fp);
        rtl_uString_release(text);
    } else if (f) {
        rl_memory_remove(mem, name);
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
        target t = { rl_uno_str(mem->fields[i].bookmark), mem->fields[i].placeholder,
                     strlen(mem->fields[i].placeholder), NULL, AS_TEXT, 1 };
        rtl_uString *text = field_text(marks, t.name);
        if (text) {
            rc = replace_field(w, factory, marks, &t, err);
            rtl_uString_release(text);
        }
        rtl_uString_release(t.name);
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

/* A fresh letter (a new reference in *fresh) for RL_WRITER_NEW_LETTER. */
static int new_letter_from(rl_writer *w, uno_Interface *doc, uno_Interface **fresh,
                           rl_placement_result *out)
{
    rl_uno_err err;
    uno_Interface *props = NULL, *model = rl_uno_query(doc, RL_UNO_T_XModel);
    rtl_uString *template_url = NULL, *url = NULL;
    int rc = RL_OK;

    *fresh = NULL;
    if (rl_uno_XDocumentPropertiesSupplier_getDocumentProperties(doc, &err, &props) == RL_UNO_OK)
        rl_uno_XDocumentProperties_getTemplateURL(props, &err, &template_url);
    if (template_url && template_url->length) {
        if (open_as_template(w, template_url, fresh, &err))
            rc = refuse(w, out, RL_WRITER_NO_TEMPLATE, "the letter's template cannot be opened: %s",
                        err.message);
    } else if (model && rl_uno_XModel_getURL(model, &err, &url) == RL_UNO_OK && url && url->length) {
        if (open_as_template(w, url, fresh, &err) || reset_fields(w, *fresh, &err))
            rc = refuse(w, out, RL_WRITER_NO_TEMPLATE, "a new letter cannot be made from this one: %s",
                        err.message);
    } else {
        rc = refuse(w, out, RL_WRITER_NO_TEMPLATE, "the letter has no template and was never saved: "
                    "there is nothing to make a new letter from%s", NULL);
    }
    if (rc != RL_OK && *fresh) {
        rl_uno_release(*fresh);    /* a half-made letter stays open for the doctor to close */
        *fresh = NULL;
    }
    if (template_url)
        rtl_uString_release(template_url);
    if (url)
        rtl_uString_release(url);
    rl_uno_release(props);
    rl_uno_release(model);
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

int rl_writer_place_report(rl_writer *w, uno_Interface *letter, const rl_report *r,
                           const unsigned char *docx, size_t docx_len, const rl_field_map *fields,
                           const rl_provenance *prov, unsigned flags, rl_placement_result *out,
                           uno_Interface **letter_out)
{
    rl_uno_err err;
    uno_Interface *comp = NULL, *textdoc = NULL, *supplier = NULL, *marks = NULL;
    uno_Interface *storable = NULL, *factory = NULL, *undo_sup = NULL, *undo = NULL;
    uno_Interface *model = NULL, *title_if = NULL;
    uno_Sequence *names = NULL;
    target *targets = NULL;
    size_t n_targets = 0;
    char *whole = NULL;
    int rc = RL_OK, in_undo = 0, locked = 0;

    rl_letter_memory *mem = NULL;

    memset(out, 0, sizeof *out);
    w->last = RL_WRITER_PLACED;
    w->last_field[0] = 0;

    if (letter_out)
        *letter_out = NULL;
    if (letter) {
        rl_uno_acquire(letter);
        comp = letter;
    } else if (rl_uno_XDesktop_getCurrentComponent(w->desktop, &err, &comp) || !comp) {
        rc = refuse(w, out, RL_WRITER_NO_DOCUMENT, "no document is open in LibreOffice%s", NULL);
        goto done;
    }
    if (!(textdoc = rl_uno_query(comp, RL_UNO_T_XTextDocument)) ||
        !(supplier = rl_uno_query(comp, RL_UNO_T_XBookmarksSupplier))) {
        rc = refuse(w, out, RL_WRITER_NOT_WRITER,
                    "the active window is not a Writer document%s", NULL);
        goto done;
    }
    if (r && (flags & RL_WRITER_NEW_LETTER)) {
        uno_Interface *fresh = NULL;
        if ((rc = new_letter_from(w, comp, &fresh, out)) != RL_OK)
            goto done;
        rl_uno_release(supplier);
        rl_uno_release(textdoc);
        rl_uno_release(comp);
        comp = fresh;
        if (!(textdoc = rl_uno_query(comp, RL_UNO_T_XTextDocument)) ||
            !(supplier = rl_uno_query(comp, RL_UNO_T_XBookmarksSupplier))) {
            rc = refuse(w, out, RL_WRITER_NOT_WRITER, "the new letter is not a Writer document%s", NULL);
            goto done;
        }
    }
    if ((title_if = rl_uno_query(comp, RL_UNO_T_XTitle))) {
        rtl_uString *title = NULL;
        if (rl_uno_XTitle_getTitle(title_if, &err, &title) == RL_UNO_OK) {
            rl_uno_str_utf8(title, out->where, sizeof out->where);
            rtl_uString_release(title);
        }
    }

    /* Which bookmarks receive what. */
    if (rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) ||
        rl_uno_XNameAccess_getElementNames(marks, &err, &names)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "cannot read the letter's bookmarks: %s",
                    err.message);
        goto done;
    }
    targets = calloc((size_t)names->nElements + RL_MEMORY_MAX_FIELDS + 1, sizeof *targets);
    if (!targets) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    collect_targets(names, r, docx, docx_len, fields, targets, &n_targets, &whole);
    if (!n_targets) {
        rc = refuse(w, out, RL_WRITER_NO_FIELDS, r ? "the active document has none of this "
                    "report's fields%s" : "the letter has no report_docx bookmark%s", NULL);
        goto done;
    }

    /* What earlier reports placed here (memory.h): the doctor's edits and a
     * saved letter stop the report; their fields it lacks are cleared. */
    if (!(mem = calloc(1, sizeof *mem))) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    read_memory(comp, mem);
    if (r && mem->n && !(flags & RL_WRITER_REPLACE) &&
        (rc = check_untouched(w, comp, marks, mem, out)) != RL_OK)
        goto done;
    if (r && (rc = add_clearing(w, marks, mem, targets, &n_targets, out)) != RL_OK)
        goto done;

    /* Refusals that must leave the letter untouched. */
    for (size_t i = 0; i < n_targets; i++) {
        if (targets[i].format != AS_TEXT)
            continue;          /* the import filters make their own paragraphs */
        size_t longest = rl_writer_longest_paragraph(targets[i].value);
        if (longest > RL_WRITER_MAX_PARAGRAPH) {
            char name[RL_MAX_FIELD_NAME], why[RL_MAX_DETAIL];
            rl_uno_str_utf8(targets[i].name, name, sizeof name);
            snprintf(why, sizeof why, "the field \"%s\" has a paragraph of %zu characters; "
                     "LibreOffice would stop responding while laying it out (limit %d)%%s",
                     name, longest, RL_WRITER_MAX_PARAGRAPH);
            rc = refuse(w, out, RL_WRITER_TOO_LONG, why, NULL);
            goto done;
        }
    }
    const char *report_patient = r ? rl_report_field(r, "patient_id") : NULL;
    char letter_patient[RL_MAX_FIELD_NAME];
    if (report_patient && letter_patient_id(comp, letter_patient, sizeof letter_patient) &&
        strcmp(report_patient, letter_patient) != 0) {
        rc = refuse(w, out, RL_WRITER_PATIENT_MISMATCH,
                    "the report is for another patient than this letter%s", NULL);
        goto done;
    }
    storable = rl_uno_query(comp, RL_UNO_T_XStorable);
    sal_Bool ro = 0;
    if (storable && rl_uno_XStorable_isReadonly(storable, &err, &ro) == RL_UNO_OK && ro) {
        rc = refuse(w, out, RL_WRITER_READ_ONLY, "the letter is open read-only%s", NULL);
        goto done;
    }
    for (size_t i = 0; i < n_targets; i++) {
        uno_Interface *mark = bookmark(marks, targets[i].name, &err), *anchor = NULL;
        int prot = 0;
        if (mark && rl_uno_XTextContent_getAnchor(mark, &err, &anchor) == RL_UNO_OK)
            prot = range_protected(anchor);
        rl_uno_release(anchor);
        rl_uno_release(mark);
        if (prot) {
            char name[RL_MAX_FIELD_NAME];
            rl_uno_str_utf8(targets[i].name, name, sizeof name);
            rc = refuse(w, out, RL_WRITER_PROTECTED,
                        "the field \"%s\" lies in a protected section of the letter", name);
            goto done;
        }
    }

    /* The edit: one undo step, the view locked while it runs. */
    if (!(factory = rl_uno_query(comp, RL_UNO_T_XMultiServiceFactory)) ||
        !(undo_sup = rl_uno_query(comp, RL_UNO_T_XUndoManagerSupplier)) ||
        rl_uno_XUndoManagerSupplier_getUndoManager(undo_sup, &err, &undo)) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "the letter cannot be edited%s", NULL);
        goto done;
    }
    if ((model = rl_uno_query(comp, RL_UNO_T_XModel)) &&
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
    for (size_t i = 0; i < n_targets; i++) {
        remember_before(marks, mem, &targets[i]);
        if (replace_field(w, factory, marks, &targets[i], &err)) {
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
        if (!targets[i].clearing)
            out->fields_filled++;
    }
    for (size_t i = 0; i < n_targets; i++)
        remember_after(marks, mem, &targets[i]);
    write_memory(comp, mem);
    if (prov)
        record_provenance(comp, prov);
    if (letter_out) {
        rl_uno_acquire(comp);
        *letter_out = comp;
    }

done:
    if (in_undo)
        rl_uno_XUndoManager_leaveUndoContext(undo, &err);
    if (locked)
        rl_uno_XModel_unlockControllers(model, &err);
    free_targets(targets, n_targets);
    free(whole);
    free(mem);
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    rl_uno_release(title_if);
    rl_uno_release(model);
    rl_uno_release(undo);
    rl_uno_release(undo_sup);
    rl_uno_release(factory);
    rl_uno_release(storable);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    rl_uno_release(textdoc);
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
    uno_Interface *comp = NULL, *supplier = NULL, *marks = NULL;
    uno_Sequence *names = NULL;
    target *targets = NULL;
    size_t n_targets = 0;
    char *whole = NULL;
    rl_letter_memory *mem = NULL;
    int rc = RL_OK;

    memset(out, 0, sizeof *out);
    *changes = NULL;
    *n = 0;
    if (letter) {
        rl_uno_acquire(letter);
        comp = letter;
    } else if (rl_uno_XDesktop_getCurrentComponent(w->desktop, &err, &comp) || !comp) {
        rc = refuse(w, out, RL_WRITER_NO_DOCUMENT, "no document is open in LibreOffice%s", NULL);
        goto done;
    }
    if (!(supplier = rl_uno_query(comp, RL_UNO_T_XBookmarksSupplier)) ||
        rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) ||
        rl_uno_XNameAccess_getElementNames(marks, &err, &names)) {
        rc = refuse(w, out, RL_WRITER_NOT_WRITER, "the active window is not a Writer document%s", NULL);
        goto done;
    }
    targets = calloc((size_t)names->nElements + RL_MEMORY_MAX_FIELDS + 1, sizeof *targets);
    mem = calloc(1, sizeof *mem);
    if (!targets || !mem) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    collect_targets(names, r, NULL, 0, fields, targets, &n_targets, &whole);
    read_memory(comp, mem);
    add_clearing(w, marks, mem, targets, &n_targets, out);
    if (!n_targets) {
        rc = refuse(w, out, RL_WRITER_NO_FIELDS, "the active document has none of this report's "
                    "fields%s", NULL);
        goto done;
    }
    if (!(*changes = calloc(n_targets, sizeof **changes))) {
        rc = refuse(w, out, RL_WRITER_EDIT_FAILED, "out of memory%s", NULL);
        goto done;
    }
    for (size_t i = 0; i < n_targets; i++) {
        rl_field_change *c = &(*changes)[i];
        char key[RL_MAX_FIELD_NAME];
        rl_uno_str_utf8(targets[i].name, c->bookmark, sizeof c->bookmark);
        rtl_uString *now = field_text(marks, targets[i].name);
        c->in_letter = utf8_dup(now);
        if (now)
            rtl_uString_release(now);
        const char *plain = targets[i].format == AS_TEXT ? targets[i].value : NULL;
        if (!plain && rl_writer_field_of(c->bookmark, fields, r, key, sizeof key))
            plain = rl_report_field(r, key);
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
    free_targets(targets, n_targets);
    free(whole);
    free(mem);
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
        if (f && field_state(marks, f) != FIELD_PLACEHOLDER)
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
            holds = field_state(marks, &mem->fields[i]) == FIELD_PLACED;
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
    rl_uno_any_string(&props[1].Value, filter_name(AS_DOCX));
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
