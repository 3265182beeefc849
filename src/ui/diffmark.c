/* diffmark.c - the words that differ between two texts, marked (diffmark.h).
 *
 * The change is the part between the longest common prefix and suffix, both
 * widened to whole words (a space or a line break ends a word), so that
 * "Douleur pariétale" / "Douleur musculo-pariétale" marks "[musculo-pariétale]"
 * rather than a cut inside a word. */
#include "diffmark.h"

#include <string.h>

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Appends s[0..n) to out (at *j, cap bytes), line breaks as " / ", never
 * cutting a character; returns 0 once out is full. */
static int put(char *out, size_t *j, size_t cap, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *piece = s + i;
        size_t len = 1;
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;                           /* the \n that follows says it */
        if (s[i] == '\n' || s[i] == '\r') {
            piece = " / ";
            len = 3;
        } else if ((unsigned char)s[i] >= 0xC0) {
            while (i + len < n && is_cont((unsigned char)s[i + len]))
                len++;
        }
        if (*j + len + 1 > cap)
            return 0;
        memcpy(out + *j, piece, len);
        *j += len;
        if (piece == s + i)
            i += len - 1;
    }
    return 1;
}

static void mark_one(const char *s, size_t len, size_t pre, size_t suf, int changed, char *out,
                     size_t cap)
{
    size_t j = 0;
    const char *ell = "…";
    size_t from = 0;
    if (pre > RLU_MARK_CONTEXT) {               /* shorten the unchanged start */
        from = pre - RLU_MARK_CONTEXT;
        while (from < pre && !is_space(s[from]))      /* from a word's start */
            from++;
        while (from < pre && is_space(s[from]))
            from++;
        put(out, &j, cap, ell, strlen(ell));
    }
    size_t to = len;
    size_t tail = suf > RLU_MARK_CONTEXT ? RLU_MARK_CONTEXT : suf;
    size_t end_keep = len - suf + tail;
    while (end_keep < len && is_cont((unsigned char)s[end_keep]))
        end_keep++;
    int ok = put(out, &j, cap, s + from, pre - from);
    if (ok && changed)
        ok = put(out, &j, cap, "[", 1);
    if (ok)
        ok = put(out, &j, cap, s + pre, len - suf - pre);
    if (ok && changed)
        ok = put(out, &j, cap, "]", 1);
    if (ok)
        ok = put(out, &j, cap, s + len - suf, end_keep - (len - suf));
    if (ok && end_keep < to)
        put(out, &j, cap, ell, strlen(ell));
    if (!ok && cap >= strlen(ell) + 1) {        /* cut: say so */
        while (j + strlen(ell) + 1 > cap && j > 0) {
            j--;
            while (j > 0 && is_cont((unsigned char)out[j]))
                j--;
        }
        memcpy(out + j, ell, strlen(ell));
        j += strlen(ell);
    }
    out[j < cap ? j : cap - 1] = 0;
}

void rlu_mark_change(const char *before, const char *after, char *out_before, char *out_after,
                     size_t cap)
{
    size_t lb = strlen(before), la = strlen(after), pre = 0, suf = 0;
    if (!cap)
        return;
    int changed = lb != la || memcmp(before, after, lb) != 0;
    if (changed) {
        while (pre < lb && pre < la && before[pre] == after[pre])
            pre++;
        while (suf < lb - pre && suf < la - pre && before[lb - 1 - suf] == after[la - 1 - suf])
            suf++;
        /* Whole words: back to the start of the word the prefix ends in... */
        while (pre > 0 && !is_space(before[pre - 1]))
            pre--;
        /* ...and on to the end of the word the suffix starts in. */
        while (suf > 0 && !is_space(before[lb - suf]))
            suf--;
    } else {
        pre = lb;
    }
    mark_one(before, lb, pre, changed ? suf : 0, changed, out_before, cap);
    mark_one(after, la, changed ? pre : la, changed ? suf : 0, changed, out_after, cap);
}
