/* test_diffmark.c - before the doctor chooses "Replace", the sidebar shows
 * each field's text in the letter beside the report's, the words that differ
 * in [ ]. */
#include "diffmark.h"
#include "testlib.h"

#include <string.h>

static char b[256], a[256];

static int marks(const char *before, const char *after, const char *want_b, const char *want_a)
{
    rlu_mark_change(before, after, b, a, sizeof b);
    if (strcmp(b, want_b) || strcmp(a, want_a)) {
        printf("  got \"%s\" / \"%s\"\n", b, a);
        return 0;
    }
    return 1;
}

int main(void)
{
    test("the doctor's added word is marked as a whole word, the rest kept");
    test_cond(marks("Douleur musculo-pariétale", "Douleur pariétale",
                    "Douleur [musculo-pariétale]", "Douleur [pariétale]"));

    test("a word changed in the middle of a sentence");
    test_cond(marks("Céphalées chroniques non spécifiées", "Céphalées aiguës non spécifiées",
                    "Céphalées [chroniques] non spécifiées", "Céphalées [aiguës] non spécifiées"));

    test("equal texts are shown unmarked");
    test_cond(marks("Examen normal", "Examen normal", "Examen normal", "Examen normal"));

    test("a field going back to its placeholder");
    test_cond(marks("Examen physique", "…", "[Examen physique]", "[…]"));

    test("line breaks are shown as ' / '");
    test_cond(marks("un\ndeux", "un\ntrois", "un / [deux]", "un / [trois]"));

    test("a long unchanged start is shortened around the change, never inside a character");
    test_cond(marks("Résultat détaillé de l'examen, œdème absent, valeurs normales",
                    "Résultat détaillé de l'examen, œdème présent, valeurs normales",
                    "…de l'examen, œdème [absent,] valeurs normales",
                    "…de l'examen, œdème [présent,] valeurs normales"));

    test("a text longer than the label is cut at a character boundary, with …");
    char longer[600];
    memset(longer, 0, sizeof longer);
    for (int i = 0; i < 150; i++)
        strcat(longer, "é ");
    rlu_mark_change(longer, "x", b, a, 32);
    size_t n = strlen(b);
    test_cond(n < 32 && n >= 3 && !strcmp(b + n - strlen("…"), "…") && !strcmp(a, "[x]"));

    test("an empty field and a filled one");
    test_cond(marks("", "Migraine", "[]", "[Migraine]"));
    return test_summary();
}
