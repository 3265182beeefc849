/* fuzz_rtf_clean.c - libFuzzer target: any bytes through the RTF cleaner.
 * Invariants, whatever the input: the result's braces balance, and it holds
 * no control word that could make LibreOffice reach outside the document
 * (fields, objects, shape and picture properties, hyperlinks, templates,
 * subdocuments). */
#include "format.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const forbidden[] = {
    "field", "fldinst", "fldrslt", "object", "objlink", "objautlink", "objemb", "objdata",
    "objclass", "objname", "shpinst", "picprop", "hl", "hlsrc", "hlloc", "hlfr", "hlinkbase",
    "template", "filetbl", "subdocument", "mailmerge", "datastore", "xmlopen", "result", NULL
};

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void check_output(const char *o, size_t n)
{
    long depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (o[i] == '{') {
            depth++;
        } else if (o[i] == '}') {
            if (--depth < 0)
                abort();
        } else if (o[i] == '\\' && i + 1 < n) {
            size_t w = i + 1, k = w;
            if (!is_alpha(o[w])) {
                if (o[w] == '\'' && (w + 2 >= n || !isxdigit((unsigned char)o[w + 1]) ||
                                     !isxdigit((unsigned char)o[w + 2])))
                    abort();          /* only well-formed \'hh escapes */
                i = o[w] == '\'' ? w + 2 : w;
                continue;
            }
            while (k < n && k - w < 32 && is_alpha(o[k]))
                k++;
            for (const char *const *f = forbidden; *f; f++)
                if (strlen(*f) == k - w && !memcmp(o + w, *f, k - w))
                    abort();
            /* \binN: skip its data as the cleaner does. */
            if (k - w == 3 && !memcmp(o + w, "bin", 3)) {
                size_t p = k;
                long len = 0;
                int neg = p < n && o[p] == '-';
                p += neg;
                while (p < n && p - k < 12 && o[p] >= '0' && o[p] <= '9')
                    len = len * 10 + (o[p++] - '0');
                if (p < n && o[p] == ' ')
                    p++;
                if (p > k + (size_t)neg) {
                    i = p - 1 + (neg || (size_t)len > n - p ? 0 : (size_t)len);
                    if (!neg && (size_t)len > n - p)
                        i = n;
                    continue;
                }
            }
            i = k - 1;
        }
    }
    if (depth != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char *out = rl_format_clean_rtf((const char *)data, size, &n);
    if (out) {
        check_output(out, n);
        free(out);
    }
    return 0;
}
