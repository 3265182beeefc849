/* test_memory.c - what ReportLink placed in a letter is remembered in the
 * letter (src/writer/memory.h): fingerprints and placeholders, never report
 * text, in a property that must read back exactly after save and reopen, and
 * survive being damaged by hand. */
#include "memory.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static rl_letter_memory a, b;

int main(void)
{
    char fp1[RL_MEMORY_FP_HEX], fp2[RL_MEMORY_FP_HEX], fp3[RL_MEMORY_FP_HEX];

    test("a fingerprint is 16 hex digits, the same for the same text, another for another");
    rl_memory_fingerprint("Douleur pariétale", strlen("Douleur pariétale"), fp1);
    rl_memory_fingerprint("Douleur pariétale", strlen("Douleur pariétale"), fp2);
    rl_memory_fingerprint("Douleur musculo-pariétale", strlen("Douleur musculo-pariétale"), fp3);
    test_cond(strlen(fp1) == 16 && !strcmp(fp1, fp2) && strcmp(fp1, fp3) != 0 &&
              strspn(fp1, "0123456789abcdef") == 16);

    test("the fingerprint of the text never contains the text");
    rl_memory_fingerprint("abc", 3, fp2);
    test_cond(!strstr(fp2, "abc"));

    test("fields written and read back are the same, names and placeholders with commas, "
         "semicolons, percent signs and line breaks included");
    rl_memory_field *f = rl_memory_add(&a, "history");
    memcpy(f->fp, fp1, sizeof fp1);
    snprintf(f->placeholder, sizeof f->placeholder, "…");
    f = rl_memory_add(&a, "find,ings;2%");
    memcpy(f->fp, fp3, sizeof fp3);
    memcpy(f->prev, fp1, sizeof fp1);
    snprintf(f->placeholder, sizeof f->placeholder, "[Examen\tclinique]\n, ; %% fin");
    char *text = rl_memory_format(&a);
    size_t n = rl_memory_parse(text, &b);
    test_cond(n == 2 && !strcmp(b.fields[0].bookmark, "history") &&
              !strcmp(b.fields[0].fp, fp1) && !b.fields[0].prev[0] &&
              !strcmp(b.fields[0].placeholder, "…") &&
              !strcmp(b.fields[1].bookmark, "find,ings;2%") && !strcmp(b.fields[1].prev, fp1) &&
              !strcmp(b.fields[1].placeholder, "[Examen\tclinique]\n, ; % fin"));

    test("the property's text is printable ASCII and UTF-8, one ';' per field");
    int records = 0, control = 0;
    for (char *p = text; *p; p++) {
        records += *p == ';';
        control += (unsigned char)*p < 0x20;
    }
    test_cond(records == 2 && !control && strstr(text, "[Examen%09clinique]%0A%2C %3B %25 fin"));
    free(text);

    test("a damaged line is skipped, the others are kept");
    n = rl_memory_parse("history,zz,,x;"                         /* not a fingerprint */
                        "findings,0123456789abcdef,,[Examen];"
                        "diagnosis only;"                         /* too few columns */
                        ",0123456789abcdef,,x;"                   /* no name */
                        "procedure,0123456789abcdef,,bad%4;",     /* broken escape */
                        &b);
    test_cond(n == 1 && !strcmp(b.fields[0].bookmark, "findings") &&
              !strcmp(b.fields[0].placeholder, "[Examen]"));

    test("nothing remembered: NULL and \"\" read as no field");
    test_cond(rl_memory_parse(NULL, &b) == 0 && rl_memory_parse("", &b) == 0);

    test("the same bookmark twice: the first line wins");
    n = rl_memory_parse("history,0123456789abcdef,,A;history,fedcba9876543210,,B;", &b);
    test_cond(n == 1 && !strcmp(b.fields[0].placeholder, "A"));

    test("a field is found, added once, and forgotten");
    f = rl_memory_add(&a, "history");
    int same = f == rl_memory_find(&a, "history") && a.n == 2;
    rl_memory_remove(&a, "history");
    test_cond(same && a.n == 1 && !rl_memory_find(&a, "history") &&
              !strcmp(a.fields[0].bookmark, "find,ings;2%"));

    test("an empty bookmark name is not remembered");
    test_cond(!rl_memory_add(&a, "") && a.n == 1);

    test("at most RL_MEMORY_MAX_FIELDS fields");
    char name[32];
    a.n = 0;
    for (int i = 0; i < RL_MEMORY_MAX_FIELDS; i++) {
        snprintf(name, sizeof name, "f%d", i);
        rl_memory_add(&a, name);
    }
    test_cond(a.n == RL_MEMORY_MAX_FIELDS && !rl_memory_add(&a, "one-more"));
    return test_summary();
}
