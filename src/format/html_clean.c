/* html_clean.c - see format.h. A tolerant, single-pass tokenizer: it never
 * builds a tree, so no input can make it recurse or allocate more than six
 * times the input's size plus a constant. Everything not explicitly allowed
 * goes. */
#include "format.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

/* No input can make the output longer than this: every input byte becomes at
 * most 6 bytes ('"' in an attribute value becomes "&quot;"), plus the document
 * around it. It is the output buffer's maximum, so it is never what stops a
 * cleaning (tests/unit/test_format.c holds the worst case to it). */
#define HTML_GROWTH 6
#define HTML_FRAME  128

static void puts_(rl_buf *o, const char *s)
{
    rl_buf_add_str(o, s);
}

/* Attribute values and stray characters, escaped for a double-quoted value;
 * control characters (NUL above all) are dropped. */
static void put_escaped(rl_buf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            continue;
        switch (s[i]) {
        case '&': puts_(o, "&amp;"); break;
        case '"': puts_(o, "&quot;"); break;
        case '<': puts_(o, "&lt;"); break;
        case '>': puts_(o, "&gt;"); break;
        default: rl_buf_add(o, &s[i], 1);
        }
    }
}

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(name, *list))
            return 1;
    return 0;
}

static const char *const kept_elements[] = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "b", "strong", "i", "em", "u", "s",
    "strike", "sub", "sup", "span", "div", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "blockquote",
    "pre", "code", "tt", "small", "big", "center", "img", NULL
};
static const char *const void_elements[] = { "br", "hr", "img", "col", NULL };
/* Removed with everything inside them, up to their end tag. (Void elements
 * such as embed, frame or link have no content: like every element not
 * kept, they are removed alone.) */
static const char *const dropped_elements[] = {
    "script", "style", "iframe", "frameset", "object", "applet", "noscript",
    "template", "svg", "math", "form", "select", "textarea", "title", "head", "noembed",
    "noframes", "xmp", "audio", "video", "canvas", "xml", NULL
};
/* Their content is raw text: a "<" inside does not start a tag. */
static const char *const raw_elements[] = {
    "script", "style", "iframe", "noscript", "textarea", "title", "noembed", "noframes", "xmp",
    NULL
};
static const char *const alignments[] = {
    "left", "right", "center", "justify", "top", "middle", "bottom", "baseline", NULL
};

/* A number, optionally with "%" (sizes): nothing that can name a resource. */
static int is_size(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && isdigit((unsigned char)v[i]))
        i++;
    return i > 0 && i <= 6 && (i == n || (i + 1 == n && v[i] == '%'));
}

/* An embedded image: data:image/png|jpeg|gif;base64,<base64>. Never a fetch. */
static int is_data_image(const char *v, size_t n)
{
    static const char *const prefixes[] = {
        "data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,", NULL
    };
    for (const char *const *p = prefixes; *p; p++) {
        size_t k = strlen(*p);
        if (n > k && !strncasecmp(v, *p, k)) {
            for (size_t i = k; i < n; i++)
                if (!isalnum((unsigned char)v[i]) && v[i] != '+' && v[i] != '/' && v[i] != '=' &&
                    !isspace((unsigned char)v[i]))
                    return 0;
            return 1;
        }
    }
    return 0;
}

static int attribute_allowed(const char *element, const char *name, const char *v, size_t n)
{
    if (!strcmp(name, "colspan") || !strcmp(name, "rowspan") || !strcmp(name, "border") ||
        !strcmp(name, "cellpadding") || !strcmp(name, "cellspacing") ||
        !strcmp(name, "width") || !strcmp(name, "height"))
        return is_size(v, n);
    if (!strcmp(name, "align") || !strcmp(name, "valign")) {
        char word[16];
        if (n == 0 || n >= sizeof word)
            return 0;
        for (size_t i = 0; i < n; i++) {
            if (!isalpha((unsigned char)v[i]))
                return 0;          /* a NUL would end the word early for strcmp */
            word[i] = (char)tolower((unsigned char)v[i]);
        }
        word[n] = 0;
        return in_list(word, alignments);
    }
    if (!strcmp(element, "img") && !strcmp(name, "src"))
        return is_data_image(v, n);
    if (!strcmp(element, "img") && !strcmp(name, "alt"))
        return 1;
    return 0;
}

/* Reads a tag or attribute name at s (n bytes left), lowercased into buf.
 * Returns its length in the input (0: not a name). */
static size_t read_name(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i = 0, j = 0;
    while (i < n && !isspace((unsigned char)s[i]) && s[i] != '>' && s[i] != '/' && s[i] != '=' &&
           s[i] != '<') {
        if (j + 1 < cap)
            buf[j++] = (char)tolower((unsigned char)s[i]);
        i++;
    }
    buf[j] = 0;
    return i;
}

/* Finds the end of `</name` (case-insensitive) from s; returns the offset
 * just after its ">" or n if none. For raw-text elements and skipping. */
static size_t find_end_tag(const char *s, size_t n, const char *name, int nesting_allowed)
{
    size_t k = strlen(name);
    int depth = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '<')
            continue;
        int closing = s[i + 1] == '/';
        size_t at = i + 1 + (size_t)closing;
        if (at + k <= n && !strncasecmp(s + at, name, k) &&
            (at + k == n || isspace((unsigned char)s[at + k]) || s[at + k] == '>' ||
             s[at + k] == '/')) {
            if (!closing) {
                if (nesting_allowed)
                    depth++;
                continue;
            }
            if (depth-- > 0)
                continue;
            const char *gt = memchr(s + at + k, '>', n - at - k);
            return gt ? (size_t)(gt - s) + 1 : n;
        }
    }
    return n;
}

/* Handles the tag starting at s[0] == '<'. Returns the bytes consumed. */
static size_t tag(rl_buf *o, const char *s, size_t n)
{
    char name[16], attr[32];
    size_t i = 1;
    int closing = 0;

    if (n >= 4 && !strncmp(s, "<!--", 4)) {
        for (i = 4; i + 2 < n; i++)
            if (s[i] == '-' && s[i + 1] == '-' && s[i + 2] == '>')
                return i + 3;
        return n;
    }
    if (n >= 9 && !strncmp(s, "<![CDATA[", 9)) {
        for (i = 9; i + 2 < n; i++)
            if (s[i] == ']' && s[i + 1] == ']' && s[i + 2] == '>')
                return i + 3;
        return n;
    }
    if (n >= 2 && (s[1] == '!' || s[1] == '?')) {   /* doctype, PI */
        const char *gt = memchr(s, '>', n);
        return gt ? (size_t)(gt - s) + 1 : n;
    }
    if (i < n && s[i] == '/') {
        closing = 1;
        i++;
    }
    if (i >= n || !isalpha((unsigned char)s[i])) {
        puts_(o, "&lt;");                 /* a lone "<" is text */
        return 1;
    }
    i += read_name(s + i, n - i, name, sizeof name);

    int keep = in_list(name, kept_elements);
    if (!closing && in_list(name, dropped_elements)) {
        const char *gt = memchr(s + i, '>', n - i);
        if (!gt)
            return n;
        size_t body = (size_t)(gt - s) + 1;
        return body + find_end_tag(s + body, n - body, name, !in_list(name, raw_elements));
    }

    /* The tag is written as it is read, its kept attributes straight after its
     * name; an <img> left without a src is taken back at its end. */
    int write = keep && !(closing && in_list(name, void_elements));
    size_t mark = rl_buf_len(o);
    if (write) {
        puts_(o, closing ? "</" : "<");
        puts_(o, name);
    }
    size_t attrs_at = rl_buf_len(o);

    /* Attributes, up to the end of the tag. */
    while (i < n && s[i] != '>') {
        if (isspace((unsigned char)s[i]) || s[i] == '/') {
            i++;
            continue;
        }
        if (s[i] == '<')
            break;                        /* a broken tag: stop it here */
        size_t an = read_name(s + i, n - i, attr, sizeof attr);
        if (!an) {
            i++;
            continue;
        }
        i += an;
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        const char *v = "";
        size_t vn = 0;
        if (i < n && s[i] == '=') {
            i++;
            while (i < n && isspace((unsigned char)s[i]))
                i++;
            if (i < n && (s[i] == '"' || s[i] == '\'')) {
                char q = s[i++];
                const char *end = memchr(s + i, q, n - i);
                v = s + i;
                vn = end ? (size_t)(end - v) : n - i;
                i += vn + (end ? 1 : 0);
            } else {
                v = s + i;
                while (i < n && !isspace((unsigned char)s[i]) && s[i] != '>')
                    i++;
                vn = (size_t)(s + i - v);
            }
        }
        if (write && !closing && attribute_allowed(name, attr, v, vn)) {
            puts_(o, " ");
            puts_(o, attr);
            puts_(o, "=\"");
            put_escaped(o, v, vn);
            puts_(o, "\"");
        }
    }
    if (i < n && s[i] == '>')
        i++;

    if (write) {
        const char *attrs = rl_buf_ptr(o) ? rl_buf_ptr(o) + attrs_at : "";
        if (!strcmp(name, "img") && !strstr(attrs, " src="))
            rl_buf_truncate(o, mark);
        else
            puts_(o, ">");
    }
    return i;
}

char *rl_format_clean_html(const char *html, size_t len, size_t *out_len)
{
    rl_buf o;
    rl_buf_init(&o, rl_buf_scaled_max(len, HTML_GROWTH, HTML_FRAME));
    puts_(&o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
    for (size_t i = 0; i < len;) {
        if (html[i] == '<') {
            i += tag(&o, html + i, len - i);
        } else if (html[i] == '>') {
            puts_(&o, "&gt;");
            i++;
        } else {
            const char *next = memchr(html + i, '<', len - i);
            size_t run = next ? (size_t)(next - html - i) : len - i;
            const char *gt = memchr(html + i, '>', run);
            const char *nul = memchr(html + i, '\0', run);
            if (gt)
                run = (size_t)(gt - html - i);
            if (nul && (size_t)(nul - html - i) < run)
                run = (size_t)(nul - html - i);
            rl_buf_add(&o, html + i, run);
            i += run;
            if (i < len && html[i] == '\0')
                i++;                        /* NUL bytes never reach the output */
        }
    }
    puts_(&o, "\n</body></html>\n");
    return rl_buf_take(&o, out_len);     /* NULL if it failed */
}
