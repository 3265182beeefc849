/* test_rtf.c - the RTF cleaner (src/format/rtf_clean.c): nothing that could
 * make LibreOffice fetch a remote resource or create a link survives;
 * text, formatting and embedded pictures do. */
#include "format.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static char *clean(const char *rtf)
{
    return rl_format_clean_rtf(rtf, strlen(rtf), NULL);
}

static int has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* The braces of s balance and never go below zero (escaped ones aside). */
static int balanced(const char *s)
{
    long d = 0;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        d += *s == '{';
        d -= *s == '}';
        if (d < 0)
            return 0;
    }
    return d == 0;
}

int main(void)
{
    char *o;

    test("plain formatted RTF comes through unchanged (each control word with its delimiter)");
    const char *plain = "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\fs24 {\\b C\\u233?phal\\u233?es} "
                        "chroniques\\par Suite\\par}";
    o = clean(plain);
    test_cond(o && !strcmp(o, "{\\rtf1 \\ansi \\deff0 {\\fonttbl {\\f0 Arial;}}\\f0 \\fs24 {\\b "
                             "C\\u233 ?phal\\u233 ?es} chroniques\\par Suite\\par }"));
    free(o);

    test("removing a brace never joins a control word with the text after it");
    o = clean("{\\rtf1 x}\\f}ldinst HYPERLINK {\\b{\\*\\fldinst X}old}");
    test_cond(o && !has(o, "\\fldinst") && !has(o, "\\bold"));
    free(o);

    test("INCLUDEPICTURE to a remote image: the instruction goes, the result text stays");
    o = clean("{\\rtf1 A {\\field{\\*\\fldinst { INCLUDEPICTURE \"http://trap/p.png\" \\\\d }}"
              "{\\fldrslt {\\b image}}} B}");
    test_cond(o && !has(o, "INCLUDEPICTURE") && !has(o, "trap") && !has(o, "\\field") &&
              !has(o, "fldrslt") && has(o, "{\\b image}") && has(o, "A ") && has(o, " B") && balanced(o));
    free(o);

    test("INCLUDETEXT and HYPERLINK fields become their text, with no link");
    o = clean("{\\rtf1{\\field\\fldedit{\\*\\fldinst INCLUDETEXT \"\\\\\\\\\\\\\\\\host\\\\share\\\\x.rtf\"}"
              "{\\fldrslt inclus}}{\\field{\\*\\fldinst{HYPERLINK \"http://phish/\"}}{\\fldrslt "
              "https://www.ameli.fr/}}}");
    test_cond(o && !has(o, "INCLUDETEXT") && !has(o, "HYPERLINK") && !has(o, "phish") &&
              !has(o, "host") && has(o, "inclus") && has(o, "https://www.ameli.fr/") && balanced(o));
    free(o);

    test("a destination later in a group (\"{\\b \\fldinst ...}\") is dropped too, braces balanced");
    o = clean("{\\rtf1{\\field{\\b \\*\\fldinst INCLUDEPICTURE http://trap/x}{\\fldrslt ok}}}");
    test_cond(o && !has(o, "INCLUDEPICTURE") && !has(o, "trap") && has(o, "ok") && balanced(o) &&
              !has(o, "\\*}"));
    free(o);

    test("a linked OLE object (\\objautlink) becomes the text of its result");
    o = clean("{\\rtf1{\\object\\objautlink\\rsltrtf{\\*\\objclass Word.Document.8}"
              "{\\*\\objname http://trap/o.doc}{\\*\\objdata 0105000002}{\\result {\\i r\\u233?sultat}}}}");
    test_cond(o && !has(o, "object") && !has(o, "obj") && !has(o, "trap") && !has(o, "0105") &&
              has(o, "{\\i r\\u233 ?sultat}") && balanced(o));
    free(o);

    test("\\objlink is removed as well");
    o = clean("{\\rtf1{\\object\\objlink{\\*\\objdata 01}{\\result x}}}");
    test_cond(o && !has(o, "objlink") && has(o, "x") && balanced(o));
    free(o);

    test("a shape with a linked picture (pibName) loses its properties");
    o = clean("{\\rtf1{\\shp{\\*\\shpinst\\shpleft0{\\sp{\\sn pibName}{\\sv http://trap/s.png}}"
              "{\\sp{\\sn pibFlags}{\\sv 10}}}{\\shprslt alt}}}");
    test_cond(o && !has(o, "pibName") && !has(o, "trap") && has(o, "alt") && balanced(o));
    free(o);

    test("a picture's linked properties go, its embedded data stays");
    o = clean("{\\rtf1{\\pict{\\*\\picprop{\\sp{\\sn pibName}{\\sv http://trap/p}}}\\pngblip 89504e47}}");
    test_cond(o && !has(o, "trap") && has(o, "\\pngblip 89504e47") && balanced(o));
    free(o);

    test("Word 97 hyperlinks, hlinkbase, template, subdocuments and mail merge are removed");
    o = clean("{\\rtf1{\\*\\hlinkbase http://trap/}{\\*\\template http://trap/t.dot}"
              "{\\*\\filetbl{\\file\\fid1 http://trap/sub.rtf}}\\subdocument1 "
              "{\\*\\mailmerge{\\*\\mmconnectstr http://trap/db}}{\\*\\hl{\\*\\hlsrc http://trap/h}}text}");
    test_cond(o && !has(o, "trap") && !has(o, "subdocument") && has(o, "text") && balanced(o));
    free(o);

    test("\\binN data is copied as data: braces inside it are not groups");
    const char bin[] = "{\\rtf1{\\pict\\bin4 }}{{}after}";
    o = rl_format_clean_rtf(bin, sizeof bin - 1, NULL);
    test_cond(o && has(o, "\\bin4 }}{{") && has(o, "after"));
    free(o);

    test("\\bin with a length past the end is cut at the end");
    o = clean("{\\rtf1\\bin99999 abc");
    test_cond(o && has(o, "abc"));
    free(o);

    test("unbalanced braces: extra closings dropped, open groups closed");
    o = clean("}}{\\rtf1 {\\b open");
    test_cond(o && balanced(o) && has(o, "open"));
    free(o);

    test("an unterminated dropped destination does not swallow the closing braces");
    o = clean("{\\rtf1 keep{\\*\\fldinst INCLUDEPICTURE http://trap");
    test_cond(o && balanced(o) && has(o, "keep") && !has(o, "trap"));
    free(o);

    test("escaped braces and backslashes are text, not groups");
    o = clean("{\\rtf1 a\\{b\\}c\\\\d}");
    test_cond(o && !strcmp(o, "{\\rtf1 a\\{b\\}c\\\\d}"));
    free(o);

    test("a broken \\' escape cannot swallow a brace");
    o = clean("{\\rtf1 a\\'{b}\\'4");
    test_cond(o && balanced(o) && has(o, "{b}"));
    free(o);

    test("a lone trailing backslash and empty input are handled");
    o = clean("{\\rtf1 x}\\");
    char *e = clean("");
    test_cond(o && e && !strcmp(e, ""));
    free(o);
    free(e);

    test("NUL bytes in the input do not cut the scan short");
    const char nul[] = "{\\rtf1 a\0{\\*\\fldinst INCLUDEPICTURE http://trap}b}";
    size_t n = 0;
    o = rl_format_clean_rtf(nul, sizeof nul - 1, &n);
    int trapped = 0;
    for (size_t i = 0; o && i + 4 <= n; i++)     /* memmem, which Windows lacks */
        trapped |= memcmp(o + i, "trap", 4) == 0;
    test_cond(o && n > 0 && !trapped);
    free(o);

    /* The cleaner's output is bounded by 2 x its input + 16 (rtf_clean.c): the
     * worst an input can do is open groups it never closes. */
    test("the largest growth there is (1 MiB of unclosed '{') is cleaned, within 2 x + 16");
    size_t len = 1 << 20;
    char *worst = malloc(len);
    o = NULL;
    n = 0;
    if (worst) {
        memset(worst, '{', len);
        o = rl_format_clean_rtf(worst, len, &n);
    }
    test_cond(o && n == 2 * len && n <= 2 * len + 16 && balanced(o));
    free(o);

    test("so are 1 MiB of control words without their space");
    o = NULL;
    if (worst) {
        for (size_t i = 0; i + 1 < len; i += 2)
            memcpy(worst + i, "\\b", 2);
        o = rl_format_clean_rtf(worst, len, &n);
    }
    test_cond(o && n == len / 2 * 3 && n <= 2 * len + 16);
    free(o);
    free(worst);
    return test_summary();
}
