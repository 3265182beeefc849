/* html_section.c - one field's section of the report's HTML version.
 *
 * A light scan over tags (no tree is built): comments are skipped, tag and
 * attribute names compared without case. The result is raw HTML, to be
 * cleaned by rl_format_clean_html like the whole document. */
#include "format.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct tag {
    size_t start, end;          /* '<' and just after '>' */
    int closing;
    char name[16];              /* lower case; "" when longer */
    size_t attrs, attrs_end;    /* the attribute text */
} tag;

/* The next tag at or after *pos (comments, doctype and <? ?> skipped).
 * Returns 1 and fills t, or 0 at the end. */
static int next_tag(const char *h, size_t len, size_t *pos, tag *t)
{
    size_t i = *pos;
    while (i < len) {
        const char *lt = memchr(h + i, '<', len - i);
        if (!lt)
            return 0;
        i = (size_t)(lt - h);
        if (len - i >= 4 && !memcmp(h + i, "<!--", 4)) {
            const char *e = NULL;
            for (size_t k = i + 4; k + 3 <= len; k++)
                if (!memcmp(h + k, "-->", 3)) {
                    e = h + k;
                    break;
                }
            if (!e)
                return 0;
            i = (size_t)(e - h) + 3;
            continue;
        }
        size_t k = i + 1;
        int closing = k < len && h[k] == '/';
        k += closing;
        if (k >= len || !isalpha((unsigned char)h[k])) {
            const char *gt = memchr(h + k, '>', len - k);   /* <!doctype>, <?...?>, stray '<' */
            if (!gt || (k < len && h[k] != '!' && h[k] != '?')) {
                i++;
                continue;
            }
            i = (size_t)(gt - h) + 1;
            continue;
        }
        size_t n0 = k;
        while (k < len && (isalnum((unsigned char)h[k]) || h[k] == '-'))
            k++;
        memset(t, 0, sizeof *t);
        if (k - n0 < sizeof t->name)
            for (size_t c = 0; c < k - n0; c++)
                t->name[c] = (char)tolower((unsigned char)h[n0 + c]);
        t->attrs = k;
        /* The end: the first '>' outside quotes. */
        char quote = 0;
        while (k < len && (quote || h[k] != '>')) {
            if (quote && h[k] == quote)
                quote = 0;
            else if (!quote && (h[k] == '"' || h[k] == '\''))
                quote = h[k];
            k++;
        }
        if (k >= len)
            return 0;
        t->start = i;
        t->attrs_end = k;
        t->end = k + 1;
        t->closing = closing;
        *pos = t->end;
        return 1;
    }
    return 0;
}

/* Whether the tag has attribute `name` with exactly `value`. */
static int has_attr(const char *h, const tag *t, const char *name, const char *value)
{
    size_t i = t->attrs, nl = strlen(name), vl = strlen(value);
    while (i < t->attrs_end) {
        while (i < t->attrs_end && (isspace((unsigned char)h[i]) || h[i] == '/'))
            i++;
        size_t a = i;
        while (i < t->attrs_end && !isspace((unsigned char)h[i]) && h[i] != '=' && h[i] != '/')
            i++;
        size_t an = i - a;
        while (i < t->attrs_end && isspace((unsigned char)h[i]))
            i++;
        size_t v = i, vn = 0;
        if (i < t->attrs_end && h[i] == '=') {
            i++;
            while (i < t->attrs_end && isspace((unsigned char)h[i]))
                i++;
            if (i < t->attrs_end && (h[i] == '"' || h[i] == '\'')) {
                char q = h[i++];
                v = i;
                while (i < t->attrs_end && h[i] != q)
                    i++;
                vn = i - v;
                i += i < t->attrs_end;
            } else {
                v = i;
                while (i < t->attrs_end && !isspace((unsigned char)h[i]))
                    i++;
                vn = i - v;
            }
        }
        if (an == nl && !strncasecmp(h + a, name, nl) && vn == vl && !memcmp(h + v, value, vl))
            return 1;
        if (an == 0)
            i++;
    }
    return 0;
}

static int heading_level(const tag *t)
{
    return t->name[0] == 'h' && t->name[1] >= '1' && t->name[1] <= '6' && !t->name[2]
               ? t->name[1] - '0' : 0;
}

/* The text of h[from, to) without tags, with the common entities decoded,
 * white space collapsed and trimmed, into out (cap bytes). */
static void plain_text(const char *h, size_t from, size_t to, char *out, size_t cap)
{
    static const struct { const char *ent; const char *txt; } ents[] = {
        { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
        { "&#39;", "'" }, { "&apos;", "'" }, { "&nbsp;", " " }, { "&#160;", " " },
    };
    size_t n = 0;
    int space = 1;
    for (size_t i = from; i < to && n + 1 < cap;) {
        if (h[i] == '<') {
            const char *gt = memchr(h + i, '>', to - i);
            i = gt ? (size_t)(gt - h) + 1 : to;
            continue;
        }
        const char *s = h + i;
        size_t adv = 1;
        const char *txt = NULL;
        if (*s == '&')
            for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++)
                if (to - i >= strlen(ents[e].ent) && !strncasecmp(s, ents[e].ent, strlen(ents[e].ent))) {
                    txt = ents[e].txt;
                    adv = strlen(ents[e].ent);
                    break;
                }
        char c = txt ? txt[0] : *s;
        if (isspace((unsigned char)c)) {
            if (!space)
                out[n++] = ' ';
            space = 1;
        } else {
            out[n++] = c;
            space = 0;
        }
        i += adv;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

/* A copy of h[from, to) (the caller frees it). */
static char *copy(const char *h, size_t from, size_t to, size_t *out_len)
{
    char *s = malloc(to - from + 1);
    if (!s)
        return NULL;
    memcpy(s, h + from, to - from);
    s[to - from] = 0;
    if (out_len)
        *out_len = to - from;
    return s;
}

char *rl_format_html_section(const char *html, size_t len, const char *field, const char *heading,
                             size_t *out_len)
{
    size_t pos = 0;
    tag t;

    if (!html || !field || !*field)
        return NULL;
    /* 1. An element marked with the field's name. */
    while (next_tag(html, len, &pos, &t)) {
        if (t.closing || !t.name[0] ||
            (!has_attr(html, &t, "id", field) && !has_attr(html, &t, "data-field", field)))
            continue;
        int depth = 1;
        tag u;
        size_t p = t.end;
        while (next_tag(html, len, &p, &u)) {
            if (strcmp(u.name, t.name) != 0)
                continue;
            depth += u.closing ? -1 : 1;
            if (!depth)
                return copy(html, t.end, u.start, out_len);
        }
        return copy(html, t.end, len, out_len);     /* never closed: to the end */
    }
    /* 2. The content after a heading whose text is `heading` (or the field's
     * name), up to the next heading of the same or a higher level. */
    const char *want = heading && *heading ? heading : field;
    pos = 0;
    while (next_tag(html, len, &pos, &t)) {
        int level = heading_level(&t);
        if (t.closing || !level)
            continue;
        tag u;
        size_t p = t.end, close_start = 0, close_end = 0;
        while (next_tag(html, len, &p, &u))
            if (u.closing && !strcmp(u.name, t.name)) {
                close_start = u.start;
                close_end = u.end;
                break;
            }
        if (!close_end)
            return NULL;
        char text[256];
        plain_text(html, t.end, close_start, text, sizeof text);
        if (strcasecmp(text, want) != 0 &&
            !(heading && *heading && strcasecmp(text, field) == 0)) {
            pos = close_end;
            continue;
        }
        size_t end = len;
        p = close_end;
        while (next_tag(html, len, &p, &u)) {
            int l2 = heading_level(&u);
            if ((!u.closing && l2 && l2 <= level) ||
                (u.closing && (!strcmp(u.name, "body") || !strcmp(u.name, "html")))) {
                end = u.start;
                break;
            }
        }
        return copy(html, close_end, end, out_len);
    }
    return NULL;
}
