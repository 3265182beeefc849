/* fuzz_html_clean.c - libFuzzer target: any bytes through the HTML cleaner.
 * Invariant: every tag in the result is one the whitelist allows, with only
 * allowed attributes, whatever the input. */
#include "format.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "b", "strong", "i", "em", "u", "s",
    "strike", "sub", "sup", "span", "div", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "blockquote",
    "pre", "code", "tt", "small", "big", "center", "img", "html", "head", "meta", "body", NULL
};
static const char *const allowed_attrs[] = {
    "colspan", "rowspan", "align", "valign", "border", "cellpadding", "cellspacing", "width",
    "height", "src", "alt", "charset", NULL
};

static int listed(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !strncasecmp(s, *list, n))
            return 1;
    return 0;
}

static void check_output(const char *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i] != '<')
            continue;
        size_t j = i + 1;
        if (j < n && o[j] == '!') {               /* only the doctype we wrote */
            if (strncmp(o + j, "!DOCTYPE html>", 14))
                abort();
            continue;
        }
        if (j < n && o[j] == '/')
            j++;
        size_t k = j;
        while (k < n && isalnum((unsigned char)o[k]))
            k++;
        if (!listed(o + j, k - j, allowed))
            abort();
        const char *gt = memchr(o + k, '>', n - k);
        if (!gt)
            abort();
        /* Attributes: name="value" pairs with escaped values. */
        for (const char *p = o + k; p < gt;) {
            if (*p == ' ') {
                p++;
                continue;
            }
            const char *eq = memchr(p, '=', (size_t)(gt - p));
            if (!eq || eq[1] != '"' || !listed(p, (size_t)(eq - p), allowed_attrs))
                abort();
            const char *end = memchr(eq + 2, '"', (size_t)(gt - eq - 2));
            if (!end)
                abort();
            if (!strncasecmp(p, "src", 3) && strncasecmp(eq + 2, "data:image/", 11))
                abort();
            p = end + 1;
        }
        i = (size_t)(gt - o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char *out = rl_format_clean_html((const char *)data, size, &n);
    if (out) {
        check_output(out, n);
        free(out);
    }
    return 0;
}
