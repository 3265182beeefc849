/* test_format.c - report HTML is untrusted: after cleaning, nothing in it can
 * make LibreOffice fetch, run, or disguise anything; the formatting a
 * doctor's report needs survives. */
#include "format.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static char *clean(const char *html)
{
    size_t n = 0;
    char *s = rl_format_clean_html(html, strlen(html), &n);
    if (s && strlen(s) != n)
        s[0] = 0;   /* a length mismatch fails every check below */
    return s;
}

static int has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* Case-insensitive search, for "JaVaScRiPt:" and friends. */
static int has_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

static const char hostile[] =
    "<!DOCTYPE html><html><head><title>x</title>"
    "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example/\">"
    "<base href=\"http://evil.example/\">"
    "<link rel=\"stylesheet\" href=\"http://evil.example/a.css\">"
    "<style>body{background:url(http://evil.example/bg.png)}</style>"
    "<script>alert(1)</script></head>"
    "<body onload=\"alert(2)\" background=\"http://evil.example/b.png\">"
    "<h2 style=\"background:url(http://evil.example/h.png)\">Diagnostic</h2>"
    "<p>Migraine <img src=\"http://evil.example/track.gif\" width=1 height=1>sans aura</p>"
    "<img src=x onerror=\"alert(3)\">"
    "<IMG SRC=\"JaVaScRiPt:alert(4)\">"
    "<img src=\"data:text/html;base64,PHNjcmlwdD4=\">"
    "<a href=\"http://evil.example/\">https://www.ameli.fr/</a>"
    "<iframe src=\"http://evil.example/\">inside</iframe>"
    "<object data=\"http://evil.example/x.swf\"><param name=a value=b></object>"
    "<embed src=\"http://evil.example/x\">"
    "<svg onload=\"alert(5)\"><image href=\"http://evil.example/s.png\"/></svg>"
    "<form action=\"http://evil.example/\"><form><input name=q></form>hidden</form>"
    "<!-- <script>alert(6)</script> -->"
    "<![CDATA[ <script>alert(7)</script> ]]>"
    "<div title='x>\"<script>alert(8)</script>'>texte</div>"
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"
    "<scr<script>ipt>alert(9)</script>"
    "<p onmouseover=alert(10)>fin</p>";

int main(void)
{
    char *s = clean(hostile);

    test("hostile HTML: no script survives, nor any event handler");
    test_cond(s && !has_ci(s, "<script") && !has_ci(s, "alert(") && !has_ci(s, "onload") &&
              !has_ci(s, "onerror") && !has_ci(s, "onmouseover") && !has_ci(s, "javascript"));
    test("hostile HTML: nothing names a remote resource");
    test_cond(s && !has_ci(s, "http://") && !has_ci(s, "//evil") && !has_ci(s, "url(") &&
              !has_ci(s, "href") && !has_ci(s, "<link") && !has_ci(s, "<base") &&
              !has_ci(s, "<meta http-equiv") && !has_ci(s, "background"));
    test("hostile HTML: no frame, object, embed, svg or form");
    test_cond(s && !has_ci(s, "<iframe") && !has_ci(s, "<object") && !has_ci(s, "<embed") &&
              !has_ci(s, "<svg") && !has_ci(s, "<form") && !has_ci(s, "<input") &&
              !has(s, "inside") && !has(s, "hidden"));
    test("hostile HTML: a link becomes its text, so it cannot pose as another address");
    test_cond(s && !has_ci(s, "<a") && has(s, "https://www.ameli.fr/"));
    test("hostile HTML: images that are not embedded data images are removed");
    test_cond(s && !has_ci(s, "<img"));
    test("hostile HTML: the report's own text is all still there");
    test_cond(s && has(s, "<h2>Diagnostic</h2>") && has(s, "Migraine ") && has(s, "sans aura") &&
              has(s, "texte") && has(s, "fin"));
    free(s);

    test("the formatting of a report survives: headings, emphasis, lists, tables");
    s = clean("<h1>Compte rendu</h1><p><b>Gras</b>, <i>italique</i>, <u>souligné</u></p>"
              "<ul><li>un</li><li>deux</li></ul><ol><li>1</li></ol>"
              "<table border=\"1\" width=\"100%\"><tr><th colspan=\"2\" align=\"LEFT\">T</th></tr>"
              "<tr><td>a</td><td valign=top>b</td></tr></table><br><hr>");
    test_cond(s && has(s, "<h1>Compte rendu</h1>") && has(s, "<b>Gras</b>") &&
              has(s, "<i>italique</i>") && has(s, "<u>soulign\xc3\xa9</u>") &&
              has(s, "<ul><li>un</li><li>deux</li></ul>") && has(s, "<ol><li>1</li></ol>") &&
              has(s, "<table border=\"1\" width=\"100%\">") &&
              has(s, "<th colspan=\"2\" align=\"LEFT\">T</th>") && has(s, "<td valign=\"top\">b</td>") &&
              has(s, "<br>") && has(s, "<hr>"));
    free(s);

    test("attributes with values that could name a resource are dropped");
    s = clean("<td width=\"javascript:x\" colspan=\"2;background:url(x)\" align=\"url(x)\">c</td>");
    test_cond(s && has(s, "<td>c</td>"));
    free(s);

    test("an embedded PNG image is kept, nothing else about it");
    s = clean("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"sch\xc3\xa9ma\" onclick=x>");
    test_cond(s && has(s, "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"sch\xc3\xa9ma\">"));
    free(s);

    test("the result is a complete UTF-8 document");
    s = clean("x");
    test_cond(s && has(s, "<meta charset=\"utf-8\">") && has(s, "<body>\nx\n</body></html>"));
    free(s);

    test("broken input ends cleanly: unterminated tags, comments and script");
    const char *broken[] = { "<p", "<p class=\"x", "<!-- never closed", "<script>alert(1)",
                             "a < b > c", "<", "</", "<<<>>>", "<img src='data:image/png;base64,",
                             "<style>", "</p></p></div>" };
    int ok = 1;
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        s = clean(broken[i]);
        ok &= s && !has(s, "alert") && !has_ci(s, "<script") && has(s, "</body></html>");
        free(s);
    }
    test_cond(ok);

    test("a lone < and > in text stay text");
    s = clean("tension < 140 et > 80");
    test_cond(s && has(s, "tension &lt; 140 et &gt; 80"));
    free(s);

    /* The cleaner's output is bounded by 6 x its input + 128 (html_clean.c):
     * the worst an input can do is an attribute value made of quotes. */
    test("the largest growth there is (an alt of 1 MiB of quotes) is cleaned, within 6 x + 128");
    const char head[] = "<img src=\"data:image/png;base64,AAAA\" alt=a";
    size_t quotes = 1 << 20, len = sizeof head - 1 + quotes;
    char *worst = malloc(len);
    size_t out = 0;
    s = NULL;
    if (worst) {
        memcpy(worst, head, sizeof head - 1);
        memset(worst + sizeof head - 1, '"', quotes);
        s = rl_format_clean_html(worst, len, &out);
    }
    test_cond(s && out <= 6 * len + 128 && out > 6 * quotes && has(s, "alt=\"a&quot;&quot;"));
    free(s);
    free(worst);

    test("so are 1 MiB of '>' and of lone '<' in text");
    len = 1 << 20;
    worst = malloc(len);
    char *s2 = NULL;
    s = NULL;
    if (worst) {
        memset(worst, '>', len);
        s = rl_format_clean_html(worst, len, &out);
        memset(worst, '<', len);
        size_t out2 = 0;
        s2 = rl_format_clean_html(worst, len, &out2);
        if (s2 && out2 < 4 * len)
            free(s2), s2 = NULL;
    }
    test_cond(s && out >= 4 * len && out <= 6 * len + 128 && s2);
    free(s);
    free(s2);
    free(worst);
    return test_summary();
}
