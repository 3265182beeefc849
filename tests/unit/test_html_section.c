/* test_html_section.c - a field's section of the report's HTML
 * (src/format/html_section.c): by id / data-field, or after its heading. */
#include "format.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static char *section(const char *html, const char *field, const char *heading)
{
    return rl_format_html_section(html, strlen(html), field, heading, NULL);
}

static int is(char *got, const char *want)
{
    int ok = got && !strcmp(got, want);
    if (!ok)
        printf("# got %s\n", got ? got : "(null)");
    free(got);
    return ok;
}

int main(void)
{
    /* What the devserver (and so the service's format as we know it) sends. */
    const char *dev = "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\">"
                      "<title>Compte rendu</title></head>\n<body>\n<h2>Anamn&egrave;se</h2>\n"
                      "<p>Venue pour c&eacute;phal&eacute;es</p>\n<h2>Diagnostic</h2>\n"
                      "<p><b>Migraine</b> sans aura</p>\n<p>Deuxi&egrave;me ligne</p>\n"
                      "<h2>Conduite &amp; suivi</h2>\n<p>Repos</p>\n</body>\n</html>\n";

    test("the section after the heading, up to the next heading of the same level");
    test_cond(is(section(dev, "diagnosis", "Diagnostic"),
                 "\n<p><b>Migraine</b> sans aura</p>\n<p>Deuxi&egrave;me ligne</p>\n"));

    test("the last section ends at </body>");
    test_cond(is(section(dev, "recommendation", "Conduite & suivi"), "\n<p>Repos</p>\n"));

    test("heading text is compared without case and with entities decoded");
    test_cond(is(section(dev, "diagnosis", "DIAGNOSTIC"),
                 "\n<p><b>Migraine</b> sans aura</p>\n<p>Deuxi&egrave;me ligne</p>\n"));

    test("a heading named like the field itself is found too");
    test_cond(is(section("<h3>diagnosis</h3><p>x</p><h3>other</h3>", "diagnosis", "Diagnostic"),
                 "<p>x</p>"));

    test("a lower-level heading stays inside the section; a higher one ends it");
    test_cond(is(section("<h2>Diagnostic</h2><p>a</p><h3>D&eacute;tail</h3><p>b</p><h1>Fin</h1>c",
                         "diagnosis", "Diagnostic"),
                 "<p>a</p><h3>D&eacute;tail</h3><p>b</p>"));

    test("an element with data-field wins, its content only, nested elements kept");
    test_cond(is(section("<h2>Diagnostic</h2><p>no</p><div data-field=\"diagnosis\"><div>in</div>"
                         "<p>x</p></div><p>after</p>", "diagnosis", "Diagnostic"),
                 "<div>in</div><p>x</p>"));

    test("an element with id=field, unquoted or single-quoted");
    test_cond(is(section("<section id=diagnosis>A</section>", "diagnosis", NULL), "A") &&
              is(section("<p id='diagnosis' class=x>B</p>", "diagnosis", NULL), "B"));

    test("id must match exactly: id=\"diagnosis2\" is not the diagnosis");
    test_cond(section("<p id=\"diagnosis2\">B</p>", "diagnosis", NULL) == NULL);

    test("headings in comments are not sections");
    test_cond(section("<!-- <h2>Diagnostic</h2> --><p>x</p>", "diagnosis", "Diagnostic") == NULL);

    test("no section: NULL, so the field takes json_report's text");
    test_cond(section(dev, "procedure", "Acte") == NULL && section("", "diagnosis", "D") == NULL);

    test("a '>' inside a quoted attribute does not end the tag");
    test_cond(is(section("<h2 title=\"a>b\">Diagnostic</h2><p>x</p>", "diagnosis", "Diagnostic"), "<p>x</p>"));

    test("truncated HTML: an unclosed heading gives no section, an unclosed element runs to the end");
    test_cond(section("<h2>Diagnostic", "diagnosis", "Diagnostic") == NULL &&
              is(section("<div id=\"diagnosis\">open", "diagnosis", NULL), "open"));

    test("every prefix of the devserver's HTML is handled without reading past it");
    int ok = 1;
    for (size_t n = 0; n <= strlen(dev); n++) {
        char *s = rl_format_html_section(dev, n, "diagnosis", "Diagnostic", NULL);
        ok &= s == NULL || strlen(s) <= n;
        free(s);
    }
    test_cond(ok);
    return test_summary();
}
