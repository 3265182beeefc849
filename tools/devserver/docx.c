/*
 * docx.c - report to .docx: the WordprocessingML parts and a stored-entry
 * ZIP writer (see docx.h).
 */
#include "docx.h"
#include "report.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define ZIP_MAX_ENTRIES 8

static const char content_types_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
    "</Types>\n";

static const char root_rels_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>\n";

static const char document_rels_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
    "</Relationships>\n";

static const char styles_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    "<w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:cs=\"Arial\"/>"
    "<w:sz w:val=\"22\"/><w:lang w:val=\"fr-FR\"/>"
    "</w:rPr></w:rPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
    "<w:name w:val=\"Normal\"/><w:pPr><w:spacing w:after=\"120\"/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading2\">"
    "<w:name w:val=\"heading 2\"/><w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/>"
    "<w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"60\"/><w:outlineLvl w:val=\"1\"/></w:pPr>"
    "<w:rPr><w:b/><w:sz w:val=\"26\"/></w:rPr></w:style>"
    "</w:styles>\n";

/* XML 1.0 forbids most C0 controls even as character references, so they
 * are dropped; tabs become <w:tab/> because Word ignores raw tabs in w:t. */
static void xml_run(rl_buf *b, const char *s, size_t n, int bold)
{
    size_t i;

    rl_buf_add_str(b, bold ? "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">"
                        : "<w:r><w:t xml:space=\"preserve\">");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '&': rl_buf_add_str(b, "&amp;"); break;
        case '<': rl_buf_add_str(b, "&lt;"); break;
        case '>': rl_buf_add_str(b, "&gt;"); break;
        case '\t': rl_buf_add_str(b, "</w:t><w:tab/><w:t xml:space=\"preserve\">"); break;
        default:
            if (c >= 0x20)
                ds_addc(b, (char)c);
            break;
        }
    }
    rl_buf_add_str(b, "</w:t></w:r>");
}

/* word/document.xml; the caller frees the result. */
static char *document_xml(const cJSON *report, size_t *len)
{
    rl_buf b;
    const cJSON *it;

    rl_buf_init(&b, DS_MAX_DOCX_BYTES);
    rl_buf_add_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
                    "<w:body>");
    cJSON_ArrayForEach(it, report) {
        const char *heading = ds_report_heading(it->string ? it->string : "");
        char *text = ds_report_field_text(it);
        const char *line, *end;

        if (!text) {
            rl_buf_free(&b);
            return NULL;
        }
        /* Bold is set on the run as well as by the style, so the heading
         * stays bold in readers that ignore styles.xml. */
        rl_buf_add_str(&b, "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/></w:pPr>");
        xml_run(&b, heading, strlen(heading), 1);
        rl_buf_add_str(&b, "</w:p>");
        for (line = text;; line = end + 1) {
            size_t n;

            end = strchr(line, '\n');
            n = end ? (size_t)(end - line) : strlen(line);
            if (n && line[n - 1] == '\r')
                n--;
            rl_buf_add_str(&b, "<w:p>");
            if (n)
                xml_run(&b, line, n, 0);
            rl_buf_add_str(&b, "</w:p>");
            if (!end)
                break;
        }
        free(text);
    }
    rl_buf_add_str(&b, "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>"
                    "<w:pgMar w:top=\"1417\" w:right=\"1417\" w:bottom=\"1417\" w:left=\"1417\""
                    " w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr>"
                    "</w:body></w:document>\n");
    return rl_buf_take(&b, len);
}

/* --- ZIP (stored entries, no ZIP64) -------------------------------------- */

typedef struct zip_entry {
    const char *name;   /* static string */
    uint32_t crc;
    uint32_t size;
    uint32_t offset;    /* of the local header */
} zip_entry;

typedef struct zip_writer {
    rl_buf out;
    zip_entry entries[ZIP_MAX_ENTRIES];
    int n;
    uint16_t dos_time, dos_date;
} zip_writer;

static void put16(rl_buf *b, uint16_t v)
{
    unsigned char p[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

    rl_buf_add(b, p, 2);
}

static void put32(rl_buf *b, uint32_t v)
{
    unsigned char p[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

    rl_buf_add(b, p, 4);
}

static void zip_init(zip_writer *z)
{
    time_t now = time(NULL);
    struct tm tm;

    memset(z, 0, sizeof(*z));
    rl_buf_init(&z->out, DS_MAX_DOCX_BYTES);
    /* DOS timestamps start in 1980; a broken clock gets that epoch. */
    if (gmtime_r(&now, &tm) && tm.tm_year >= 80) {
        z->dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
        z->dos_date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    } else {
        z->dos_time = 0;
        z->dos_date = (1 << 5) | 1;
    }
}

static int zip_add(zip_writer *z, const char *name, const void *data, size_t len)
{
    zip_entry *e;
    size_t name_len = strlen(name);

    if (z->n >= ZIP_MAX_ENTRIES || len > DS_MAX_DOCX_BYTES || rl_buf_error(&z->out))
        return -1;
    e = &z->entries[z->n++];
    e->name = name;
    e->size = (uint32_t)len;
    e->offset = (uint32_t)rl_buf_len(&z->out);
    e->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)data, (uInt)len);
    put32(&z->out, 0x04034b50);     /* local file header */
    put16(&z->out, 20);             /* version needed: 2.0 */
    put16(&z->out, 0);              /* flags */
    put16(&z->out, 0);              /* method: stored */
    put16(&z->out, z->dos_time);
    put16(&z->out, z->dos_date);
    put32(&z->out, e->crc);
    put32(&z->out, e->size);        /* compressed size */
    put32(&z->out, e->size);        /* uncompressed size */
    put16(&z->out, (uint16_t)name_len);
    put16(&z->out, 0);              /* extra field length */
    rl_buf_add(&z->out, name, name_len);
    rl_buf_add(&z->out, data, len);
    return rl_buf_error(&z->out) ? -1 : 0;
}

static int zip_finish(zip_writer *z)
{
    uint32_t cd_offset = (uint32_t)rl_buf_len(&z->out), cd_size;
    int i;

    for (i = 0; i < z->n; i++) {
        const zip_entry *e = &z->entries[i];
        size_t name_len = strlen(e->name);

        put32(&z->out, 0x02014b50); /* central directory header */
        put16(&z->out, 20);         /* version made by */
        put16(&z->out, 20);         /* version needed */
        put16(&z->out, 0);
        put16(&z->out, 0);
        put16(&z->out, z->dos_time);
        put16(&z->out, z->dos_date);
        put32(&z->out, e->crc);
        put32(&z->out, e->size);
        put32(&z->out, e->size);
        put16(&z->out, (uint16_t)name_len);
        put16(&z->out, 0);          /* extra */
        put16(&z->out, 0);          /* comment */
        put16(&z->out, 0);          /* disk number */
        put16(&z->out, 0);          /* internal attributes */
        put32(&z->out, 0);          /* external attributes */
        put32(&z->out, e->offset);
        rl_buf_add(&z->out, e->name, name_len);
    }
    cd_size = (uint32_t)rl_buf_len(&z->out) - cd_offset;
    put32(&z->out, 0x06054b50);     /* end of central directory */
    put16(&z->out, 0);
    put16(&z->out, 0);
    put16(&z->out, (uint16_t)z->n);
    put16(&z->out, (uint16_t)z->n);
    put32(&z->out, cd_size);
    put32(&z->out, cd_offset);
    put16(&z->out, 0);              /* comment length */
    return rl_buf_error(&z->out) ? -1 : 0;
}

int ds_docx_build(const cJSON *report, unsigned char **out, size_t *out_len)
{
    zip_writer z;
    char *doc;
    size_t doc_len = 0;
    int rc = -1;

    *out = NULL;
    *out_len = 0;
    doc = document_xml(report, &doc_len);
    if (!doc)
        return -1;
    zip_init(&z);
    /* [Content_Types].xml first, as Word itself writes it. */
    if (zip_add(&z, "[Content_Types].xml", content_types_xml, sizeof(content_types_xml) - 1) ||
        zip_add(&z, "_rels/.rels", root_rels_xml, sizeof(root_rels_xml) - 1) ||
        zip_add(&z, "word/document.xml", doc, doc_len) ||
        zip_add(&z, "word/_rels/document.xml.rels", document_rels_xml,
                sizeof(document_rels_xml) - 1) ||
        zip_add(&z, "word/styles.xml", styles_xml, sizeof(styles_xml) - 1) ||
        zip_finish(&z))
        goto done;
    *out = (unsigned char *)rl_buf_take(&z.out, out_len);
    rc = *out ? 0 : -1;
done:
    rl_buf_free(&z.out);
    free(doc);
    return rc;
}
