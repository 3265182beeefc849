/* rtf_clean.c - untrusted report RTF made safe for LibreOffice's RTF import.
 *
 * One pass over the RTF tokens (groups, control words and symbols, \binN
 * data, text), copying everything except what could make LibreOffice reach
 * outside the document (see format.h). A group is judged by its first
 * control word (after an optional \*): the group's opening is written to
 * the output at once and taken back if that word is one to drop, so the
 * cleaner never looks ahead and never holds more than its output. A
 * destination word later in a group (LibreOffice honours "{\b \fldinst
 * ...}" too) drops the rest of that group; its braces stay balanced. */
#include "format.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

/* No input can make the output longer than this: a "{" becomes at most "{}"
 * (an open group is closed at the end), a control word gains at most a space,
 * everything else is copied or dropped. It is the output buffer's maximum, so
 * it is never what stops a cleaning (tests/unit/test_rtf.c holds the worst
 * case to it). */
#define RTF_GROWTH 2
#define RTF_SLACK  16

static void put(rl_buf *o, const char *s, size_t n)
{
    if (n)
        rl_buf_add(o, s, n);
}

static int word_is(const char *w, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(w, name, n) == 0;
}

/* Destinations dropped with everything in them. */
static int drop_group(const char *w, size_t n)
{
    static const char *const names[] = {
        "fldinst",      /* a field's instruction: INCLUDEPICTURE, INCLUDETEXT, HYPERLINK, DDE... */
        "shpinst",      /* a shape's properties: linked pictures (pibName), hyperlinks */
        "picprop",      /* a picture's shape properties: the same */
        "hl", "hlsrc", "hlloc", "hlfr", "hlinkbase",   /* Word 97 hyperlinks and their base */
        "template",     /* an attached template, by path or URL */
        "filetbl",      /* subdocuments' files */
        "mailmerge",    /* a mail-merge data source */
        "datastore", "xmlopen", "xmlnstbl",            /* external XML data */
        "objdata", "objclass", "objname", "objalias", "objsect", "objtopic", "objitem",
        "objtime", "objupdate",
        NULL
    };
    for (const char *const *p = names; *p; p++)
        if (word_is(w, n, *p))
            return 1;
    return 0;
}

/* Control words left out, their group kept: a field or an object becomes
 * the plain text of its result; subdocuments and object kinds (\objlink,
 * \objautlink, \objemb...) disappear. */
static int drop_word(const char *w, size_t n)
{
    return word_is(w, n, "field") || word_is(w, n, "fldrslt") || word_is(w, n, "object") ||
           word_is(w, n, "result") || word_is(w, n, "subdocument") ||
           word_is(w, n, "fldlock") || word_is(w, n, "flddirty") || word_is(w, n, "fldedit") ||
           word_is(w, n, "fldpriv") || (n > 3 && memcmp(w, "obj", 3) == 0);
}

char *rl_format_clean_rtf(const char *rtf, size_t len, size_t *out_len)
{
    rl_buf o;
    size_t depth = 0;           /* groups open in the input */
    size_t dropping = 0;        /* 0, or the depth of the group being dropped */
    int close_dropped = 0;      /* its "{" was written: write its "}" too */
    size_t group_mark = 0;      /* output length before the last '{' */
    size_t star_end = 0;        /* output length just after the last "\*" written
                                   (0 after the output was cut back) */
    int group_first = 0;        /* the next control word is the group's first */
    size_t i = 0;

    rl_buf_init(&o, rl_buf_scaled_max(len, RTF_GROWTH, RTF_SLACK));
    while (i < len && !rl_buf_error(&o)) {
        char c = rtf[i];
        if (c == '{') {
            depth++;
            if (!dropping) {
                group_mark = rl_buf_len(&o);
                put(&o, "{", 1);
            }
            group_first = 1;
            i++;
            continue;
        }
        if (c == '}') {
            if (depth == 0) {   /* unbalanced: never closes more than was opened */
                i++;
                continue;
            }
            if (!dropping) {
                put(&o, "}", 1);
            } else if (depth == dropping) {
                dropping = 0;
                if (close_dropped)
                    put(&o, "}", 1);
            }
            depth--;
            group_first = 0;
            i++;
            continue;
        }
        if (c != '\\') {
            size_t j = i;
            while (j < len && rtf[j] != '{' && rtf[j] != '}' && rtf[j] != '\\')
                j++;
            if (!dropping)
                put(&o, rtf + i, j - i);
            /* Line breaks between tokens do not end "first in the group". */
            for (size_t k = i; k < j; k++)
                if (rtf[k] != '\r' && rtf[k] != '\n')
                    group_first = 0;
            i = j;
            continue;
        }
        /* A control word or symbol. */
        size_t start = i++;
        if (i >= len)
            break;      /* a lone final backslash would escape a closing brace */
        if (!((rtf[i] >= 'a' && rtf[i] <= 'z') || (rtf[i] >= 'A' && rtf[i] <= 'Z'))) {
            /* Control symbol: \* \' \\ \{ \} \~ ... ; \'hh carries two digits. */
            size_t end = i + 1;
            if (rtf[i] == '\'') {
                /* \'hh takes exactly two hex digits; anything else (a brace
                 * among them) is no escape: the "\'" goes, the rest is read
                 * as what it is. */
                if (i + 3 > len || !isxdigit((unsigned char)rtf[i + 1]) ||
                    !isxdigit((unsigned char)rtf[i + 2])) {
                    i++;
                    continue;
                }
                end = i + 3;
            }
            if (rtf[i] != '*')
                group_first = 0;
            if (!dropping) {
                put(&o, rtf + start, end - start);
                if (rtf[i] == '*')
                    star_end = rl_buf_len(&o);
            }
            i = end;
            continue;
        }
        size_t w = i;
        while (i < len && i - w < 32 && ((rtf[i] >= 'a' && rtf[i] <= 'z') ||
                                         (rtf[i] >= 'A' && rtf[i] <= 'Z')))
            i++;
        size_t wlen = i - w;
        long param = 0;
        int has_param = 0;
        if (i < len && (rtf[i] == '-' || (rtf[i] >= '0' && rtf[i] <= '9'))) {
            size_t p = i;
            if (rtf[i] == '-')
                i++;
            while (i < len && i - p < 11 && rtf[i] >= '0' && rtf[i] <= '9') {
                param = param * 10 + (rtf[i] - '0');
                has_param = 1;
                i++;
            }
            if (rtf[p] == '-')
                param = -param;
        }
        if (i < len && rtf[i] == ' ')
            i++;                /* the delimiter belongs to the word */
        size_t end = i;
        const char *word = rtf + w;

        if (word_is(word, wlen, "bin") && has_param) {
            /* \binN: N raw bytes follow; they are data, not tokens. */
            size_t n = param > 0 ? (size_t)param : 0;
            if (n > len - end) {
                /* Cut short: say how many bytes really follow, so that the
                 * closing braces added below are not taken for data. */
                char head[32];
                n = len - end;
                int h = snprintf(head, sizeof head, "\\bin%zu ", n);
                if (!dropping) {
                    put(&o, head, (size_t)h);
                    put(&o, rtf + end, n);
                }
            } else if (!dropping) {
                put(&o, rtf + start, end + n - start);
            }
            i = end + n;
            group_first = 0;
            continue;
        }
        int first = group_first;
        group_first = 0;
        if (dropping)
            continue;
        if (drop_group(word, wlen) && depth > 0) {
            if (first)
                rl_buf_truncate(&o, group_mark);    /* take the group's "{" (and "\*") back */
            else if (rl_buf_len(&o) >= 2 && rl_buf_len(&o) == star_end)
                rl_buf_truncate(&o, star_end - 2);  /* the "\*" that announced this destination */
            star_end = 0;           /* output only grows past it again */
            close_dropped = !first;
            dropping = depth;
            continue;
        }
        if (drop_word(word, wlen) || drop_group(word, wlen))   /* the latter: outside any group */
            continue;
        /* Always with its delimiter: whatever is removed after it, the
         * word can never run into the text that follows ("\f" + a dropped
         * "}" + "ldinst" must not read "\fldinst"). */
        put(&o, rtf + start, end - start);
        if (rtf[end - 1] != ' ')
            put(&o, " ", 1);
    }
    /* An unterminated document: close what is open, so nothing spills. */
    if (dropping)
        depth = dropping - 1 + (size_t)close_dropped;
    for (; depth > 0 && !rl_buf_error(&o); depth--)
        put(&o, "}", 1);
    return rl_buf_take(&o, out_len);     /* NULL if it failed; "" for no output */
}
