/* test_plan.c - which letter, which fields, or why not (src/writer/plan.h):
 * the rules of src/writer/README.md, "Before touching anything" and "A report
 * in a letter that holds one", decided from plain facts without LibreOffice.
 *
 * RL_ERR_EDIT_FAILED is the one refusal no fact leads to: it comes from
 * LibreOffice refusing an edit while the plan is applied (writer.c), or from
 * memory running out. */
#include "plan.h"
#include "testlib.h"
#include "testos.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD(k, v) { (char *)(k), (char *)(v) }

static rl_field full[] = {
    FIELD("history", "Douleur thoracique depuis deux jours"),
    FIELD("findings", "Auscultation normale"),
    FIELD("diagnosis", "Douleur pariétale"),
    FIELD("recommendation", "Repos\nParacétamol"),
};
static rl_field only_diagnosis[] = { FIELD("diagnosis", "Douleur musculo-pariétale") };
static rl_field unrelated[] = { FIELD("allergies", "Aucune") };
static rl_field for_patient[] = { FIELD("diagnosis", "Zona"), FIELD("patient_id", "P-1234") };

static rl_report report_of(rl_field *f, size_t n)
{
    rl_report r;
    memset(&r, 0, sizeof r);
    r.fields = f;
    r.n_fields = n;
    r.has_json_report = 1;
    return r;
}
#define REPORT(a) report_of(a, sizeof a / sizeof a[0])

/* The letter as writer.c would have read it. */
static rl_plan_bookmark marks[400];
static rl_letter_memory memory;
static rl_field_state states[RL_MEMORY_MAX_FIELDS];
static rl_plan_map map;
static const time_t PLACED_AT = 1709634900;   /* 2024-03-05 10:35:00 UTC */

/* A Writer letter, modified since it was opened, with these bookmarks
 * (NULL-terminated) and no memory of any report. */
static rl_plan_input letter(const rl_report *r, const char *const *bookmarks)
{
    rl_plan_input in;
    memset(&in, 0, sizeof in);
    memset(marks, 0, sizeof marks);
    memset(&memory, 0, sizeof memory);
    size_t n = 0;
    for (; bookmarks && bookmarks[n]; n++)
        marks[n].name = bookmarks[n];
    in.report = r;
    in.fields = &map;
    in.letter.exists = 1;
    in.letter.is_writer = 1;
    in.letter.modified = 1;
    in.letter.bookmarks = marks;
    in.letter.n_bookmarks = n;
    in.letter.memory = &memory;
    in.letter.states = states;
    return in;
}

/* The letter remembers that the last report (placed at PLACED_AT) filled
 * bookmark, which showed placeholder before; now it holds `now`. */
static void remember(rl_plan_input *in, const char *bookmark, const char *placeholder,
                     rl_field_state now)
{
    rl_memory_field *f = rl_memory_add(&memory, bookmark);
    snprintf(f->fp, sizeof f->fp, "0123456789abcdef");
    snprintf(f->placeholder, sizeof f->placeholder, "%s", placeholder);
    states[f - memory.fields] = now;
    in->letter.placed = PLACED_AT;
}

static void protect(const char *bookmark)
{
    for (size_t i = 0; i < sizeof marks / sizeof marks[0] && marks[i].name; i++)
        if (!strcmp(marks[i].name, bookmark))
            marks[i].is_protected = 1;
}

static rl_plan p;

/* Both steps, as rl_writer_place_report takes them. */
static rl_writer_refusal plan(const rl_plan_input *in)
{
    rl_plan_free(&p);
    rl_writer_refusal why = rl_plan_letter_choice(in, &p);
    if (why != RL_OK || p.letter != RL_PLAN_THIS_LETTER)
        return why;
    return rl_plan_fields(in, &p);
}

static const rl_plan_target *target(const char *bookmark)
{
    for (size_t i = 0; i < p.n_targets; i++)
        if (!strcmp(p.targets[i].bookmark, bookmark))
            return &p.targets[i];
    return NULL;
}

static int fills(const char *bookmark, const char *value)
{
    const rl_plan_target *t = target(bookmark);
    int ok = t && !t->clearing && t->format == RL_PLAN_TEXT && !strcmp(t->value, value) &&
             t->len == strlen(value);
    if (!ok)
        printf("# %s: %s\n", bookmark, !t ? "no target" : t->clearing ? "cleared" : t->value);
    return ok;
}

static int clears(const char *bookmark, const char *placeholder)
{
    const rl_plan_target *t = target(bookmark);
    return t && t->clearing && t->format == RL_PLAN_TEXT && !strcmp(t->value, placeholder) &&
           !t->key[0];
}

static int refused(rl_writer_refusal got, rl_writer_refusal want, const char *field)
{
    int ok = got == want && p.why == want && !strcmp(p.field, field) && p.error[0];
    if (!ok)
        printf("# %s (%s) field \"%s\"\n", rl_writer_refusal_name(got), p.error, p.field);
    return ok;
}

static const char *LETTER[] = { "history", "findings", "diagnosis", NULL };

int main(void)
{
    rl_report r_full = REPORT(full), r_dx = REPORT(only_diagnosis);
    rl_report r_none = REPORT(unrelated), r_patient = REPORT(for_patient);
    rl_plan_input in;

    os_tz_utc();
    map.n = 1;
    map.entries[0].key = "recommendation";
    map.entries[0].bookmark = "conduite";

    /* ------------------------------------------------------ which fields */

    test("a bookmark stands for a mapped key, a key of the report, a report_* name, "
         "or one of them followed by _<digits>");
    char key[RL_PLAN_MAX_NAME];
    int mapped = rl_plan_field_of("conduite", &map, NULL, key, sizeof key) && !strcmp(key, "recommendation");
    int second = rl_plan_field_of("conduite_2", &map, NULL, key, sizeof key) && !strcmp(key, "recommendation");
    int of_report = rl_plan_field_of("diagnosis_12", &map, &r_full, key, sizeof key) && !strcmp(key, "diagnosis");
    int special = rl_plan_field_of("report_docx", NULL, NULL, key, sizeof key) && !strcmp(key, "report_docx");
    test_cond(mapped && second && of_report && special);

    test("_Toc12, diagnosis_, diagnosis_2b, _2 and a name unknown to the map and the report "
         "stand for no field");
    test_cond(!rl_plan_field_of("_Toc12", &map, &r_full, key, sizeof key) &&
              !rl_plan_field_of("diagnosis_", &map, &r_full, key, sizeof key) &&
              !rl_plan_field_of("diagnosis_2b", &map, &r_full, key, sizeof key) &&
              !rl_plan_field_of("_2", &map, &r_full, key, sizeof key) &&
              !rl_plan_field_of("diagnosis", &map, NULL, key, sizeof key));

    test("a first report into an empty letter fills every field the letter has, in the "
         "letter's order, repeated fields included, and nothing else");
    const char *first[] = { "history", "_Toc1", "findings", "diagnosis", "conduite", "diagnosis_2",
                            "report_text", "allergies", NULL };
    in = letter(&r_full, first);
    marks[7].name = NULL;      /* a name too long to read: never a field */
    rl_writer_refusal why = plan(&in);
    test_cond(why == RL_OK && p.letter == RL_PLAN_THIS_LETTER && p.n_targets == 6 &&
              !strcmp(p.targets[0].bookmark, "history") && p.targets[0].index == 0 &&
              !strcmp(p.targets[1].bookmark, "findings") && p.targets[1].index == 2 &&
              fills("history", "Douleur thoracique depuis deux jours") &&
              fills("diagnosis", "Douleur pariétale") && fills("diagnosis_2", "Douleur pariétale") &&
              fills("conduite", "Repos\nParacétamol") && !strcmp(target("conduite")->key, "recommendation") &&
              !target("_Toc1"));

    test("report_text takes the whole report made of the fields, when the service sends no "
         "plain text");
    test_cond(fills("report_text", "history\nDouleur thoracique depuis deux jours\n\n"
                    "findings\nAuscultation normale\n\ndiagnosis\nDouleur pariétale\n\n"
                    "recommendation\nRepos\nParacétamol"));

    test("report_text takes the service's plain-text report when it sends one");
    r_full.plaintext_report = "Compte rendu complet";
    const char *whole[] = { "report_text", "report_text_2", NULL };
    in = letter(&r_full, whole);
    why = plan(&in);
    test_cond(why == RL_OK && fills("report_text", "Compte rendu complet") &&
              fills("report_text_2", "Compte rendu complet"));
    r_full.plaintext_report = NULL;

    test("a report with none of the letter's fields: no_fields, even when an earlier "
         "report's fields could be cleared");
    in = letter(&r_none, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    test_cond(refused(plan(&in), RL_ERR_NO_FIELDS, "") && strstr(p.error, "none of this report"));

    test("a field with Source = html takes its section of the HTML, formatted; a field whose "
         "section is missing keeps its plain text");
    rl_plan_map html_map;
    memset(&html_map, 0, sizeof html_map);
    html_map.n = 2;
    html_map.entries[0].key = "diagnosis";
    html_map.entries[0].bookmark = "diagnosis";
    html_map.entries[0].from_html = 1;
    html_map.entries[0].html_heading = "Diagnostic";
    html_map.entries[1].key = "history";
    html_map.entries[1].bookmark = "history";
    html_map.entries[1].from_html = 1;
    html_map.entries[1].html_heading = "Anamnèse";
    r_full.html_content = "<html><body><h2>Diagnostic</h2><p><b>Douleur</b> pariétale</p></body></html>";
    in = letter(&r_full, LETTER);
    in.fields = &html_map;
    why = plan(&in);
    const rl_plan_target *dx = target("diagnosis");
    test_cond(why == RL_OK && dx && dx->format == RL_PLAN_HTML && dx->owned &&
              strstr(dx->value, "<b>Douleur</b>") && dx->len == strlen(dx->value) &&
              fills("history", "Douleur thoracique depuis deux jours"));

    test("report_html and report_rtf take the cleaned HTML and RTF, through the import filters");
    r_full.rtf_report = "{\\rtf1\\ansi Douleur {\\b pari\\'e9tale}}";
    const char *formatted[] = { "report_html", "report_rtf", NULL };
    in = letter(&r_full, formatted);
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 2 &&
              target("report_html")->format == RL_PLAN_HTML && strstr(target("report_html")->value, "<b>") &&
              target("report_rtf")->format == RL_PLAN_RTF && strstr(target("report_rtf")->value, "\\rtf1"));
    r_full.html_content = r_full.rtf_report = NULL;

    test("report_docx waits while the report has no DOCX yet; the other fields go in");
    const char *with_docx[] = { "diagnosis", "report_docx", NULL };
    in = letter(&r_full, with_docx);
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 1 && fills("diagnosis", "Douleur pariétale"));

    test("a DOCX that came later, without its report: only report_docx is filled, as a DOCX");
    static const unsigned char docx[] = { 'P', 'K', 3, 4, 0 };
    in = letter(NULL, with_docx);
    in.docx = docx;
    in.docx_len = 4;
    remember(&in, "history", "[Anamnèse]", RL_FIELD_EDITED);      /* no matter: no report */
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 1 && target("report_docx") &&
              target("report_docx")->format == RL_PLAN_DOCX && target("report_docx")->len == 4 &&
              target("report_docx")->value == (const char *)docx);

    test("a DOCX for a letter without report_docx: no_fields, in its own words");
    in = letter(NULL, LETTER);
    in.docx = docx;
    in.docx_len = 4;
    test_cond(refused(plan(&in), RL_ERR_NO_FIELDS, "") && strstr(p.error, "report_docx"));

    test("at most RL_WRITER_MAX_TARGETS bookmarks are filled by one report");
    static char many[300][16];
    static const char *many_names[301];
    for (int i = 0; i < 300; i++) {
        snprintf(many[i], sizeof many[i], "diagnosis_%d", i + 2);
        many_names[i] = many[i];
    }
    in = letter(&r_dx, many_names);
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == RL_WRITER_MAX_TARGETS);

    /* -------------------------------------- a letter that holds a report */

    test("a corrected report after an untouched one replaces it at once");
    in = letter(&r_full, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_PLACED);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    in.letter.saved = PLACED_AT - 60;
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 3 && fills("diagnosis", "Douleur pariétale"));

    test("a partial report after a full one: a report replaces a report as a whole, the "
         "fields it lacks go back to their placeholders");
    in = letter(&r_dx, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_PLACED);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 3 &&
              fills("diagnosis", "Douleur musculo-pariétale") && p.targets[0].index == 2 &&
              clears("history", "[Anamnèse]") && clears("findings", "[Examen clinique]") &&
              target("history")->index == 0 && p.targets[1].clearing && p.targets[2].clearing);

    test("a field showing its placeholder already, or what it held before the report (one "
         "Ctrl+Z), is untouched: the report goes in, and a placeholder is not cleared twice");
    in = letter(&r_dx, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACEHOLDER);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_BEFORE);
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 2 && !target("history") &&
              clears("findings", "[Examen clinique]"));

    test("the doctor's words are never overwritten silently: an edited field refuses the "
         "report, edited, that field named");
    in = letter(&r_full, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_EDITED);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_EDITED);
    test_cond(refused(plan(&in), RL_ERR_EDITED, "findings") && strstr(p.error, "\"findings\"") &&
              !p.when[0]);

    test("a deleted bookmark counts as the doctor's edit: edited, that field named");
    in = letter(&r_full, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    remember(&in, "procedure", "[Procédure]", RL_FIELD_MISSING);
    test_cond(refused(plan(&in), RL_ERR_EDITED, "procedure"));

    test("a letter saved since the report was placed: saved, with the time");
    in = letter(&r_full, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    in.letter.saved = PLACED_AT + 600;
    test_cond(refused(plan(&in), RL_ERR_SAVED, "") && !strcmp(p.when, "10:45") &&
              strstr(p.error, "saved at 10:45"));

    test("a letter not modified since it was opened (reopened from disk) counts as saved, "
         "at an unknown time when it has no date");
    in = letter(&r_full, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    in.letter.modified = 0;
    test_cond(refused(plan(&in), RL_ERR_SAVED, "") && !p.when[0] &&
              strstr(p.error, "an unknown time"));

    test("a field showing what it held before the last report (an earlier report, back with "
         "Ctrl+Z) still counts as a report in the letter: saved since, refused");
    in = letter(&r_full, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_BEFORE);
    in.letter.saved = PLACED_AT + 600;
    test_cond(refused(plan(&in), RL_ERR_SAVED, ""));

    test("a letter printed since the report was placed: printed, with the time, even when "
         "saved too");
    in = letter(&r_full, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    in.letter.printed = PLACED_AT + 300;
    in.letter.saved = PLACED_AT + 600;
    test_cond(refused(plan(&in), RL_ERR_PRINTED, "") && !strcmp(p.when, "10:40"));

    test("saved or printed in the same second as the placement is not after it (one-second "
         "dates), and a letter without a placement date is only judged by being modified");
    in = letter(&r_full, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACED);
    in.letter.saved = in.letter.printed = PLACED_AT;
    int same_second = plan(&in) == RL_OK;
    in.letter.placed = 0;
    in.letter.saved = in.letter.printed = PLACED_AT + 600;
    test_cond(same_second && plan(&in) == RL_OK);

    test("a saved letter that no longer holds the report (every field back to its "
         "placeholder) takes the next one");
    in = letter(&r_full, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACEHOLDER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_PLACEHOLDER);
    in.letter.modified = 0;
    in.letter.saved = PLACED_AT + 600;
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 3);

    test("Replace: neither the doctor's edits nor a saved letter stop the report; an edited "
         "field it lacks is cleared, a deleted one is left alone");
    in = letter(&r_dx, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_EDITED);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_PLACED);
    remember(&in, "procedure", "[Procédure]", RL_FIELD_MISSING);
    in.letter.saved = PLACED_AT + 600;
    in.letter.printed = PLACED_AT + 600;
    in.flags = RL_WRITER_REPLACE;
    why = plan(&in);
    test_cond(why == RL_OK && p.n_targets == 3 && clears("history", "[Anamnèse]") &&
              clears("findings", "[Examen clinique]") && !target("procedure"));

    test("a cleared field whose bookmark the letter lacks under that name is planned without "
         "a bookmark index");
    in = letter(&r_dx, LETTER);
    remember(&in, "history_old", "[Anamnèse]", RL_FIELD_PLACED);
    why = plan(&in);
    test_cond(why == RL_OK && clears("history_old", "[Anamnèse]") &&
              target("history_old")->index == RL_PLAN_NO_BOOKMARK);

    /* ------------------------------------------------------ which letter */

    test("no document in front: no_document");
    in = letter(&r_full, LETTER);
    in.letter.exists = 0;
    test_cond(refused(plan(&in), RL_ERR_NO_DOCUMENT, ""));

    test("a document that is not a Writer letter: not_writer");
    in = letter(&r_full, NULL);
    in.letter.is_writer = 0;
    test_cond(refused(plan(&in), RL_ERR_NOT_WRITER, "") && strstr(p.error, "active window"));

    test("New letter: made from the letter's template when it has one, the letter in front "
         "untouched, even when the doctor edited it");
    in = letter(&r_full, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_EDITED);
    in.flags = RL_WRITER_NEW_LETTER;
    in.letter.has_template = in.letter.has_file = 1;
    why = plan(&in);
    test_cond(why == RL_OK && p.letter == RL_PLAN_FROM_TEMPLATE && p.n_targets == 0);

    test("New letter: a copy of the letter's file when it was made from no template");
    in.letter.has_template = 0;
    why = plan(&in);
    test_cond(why == RL_OK && p.letter == RL_PLAN_FROM_FILE);

    test("New letter: neither template nor file: no_template");
    in.letter.has_file = 0;
    test_cond(refused(plan(&in), RL_ERR_NO_TEMPLATE, ""));

    test("New letter: the letter just made is filled itself");
    in = letter(&r_full, LETTER);
    in.flags = RL_WRITER_NEW_LETTER;
    in.letter.made_new = 1;
    why = plan(&in);
    test_cond(why == RL_OK && p.letter == RL_PLAN_THIS_LETTER && p.n_targets == 3);

    test("New letter: a new letter that is not a Writer document: not_writer, in its own words");
    in.letter.is_writer = 0;
    test_cond(refused(plan(&in), RL_ERR_NOT_WRITER, "") && strstr(p.error, "new letter"));

    test("New letter does not apply to a DOCX that came later: it goes into its own letter");
    in = letter(NULL, with_docx);
    in.docx = docx;
    in.docx_len = 4;
    in.flags = RL_WRITER_NEW_LETTER;
    why = plan(&in);
    test_cond(why == RL_OK && p.letter == RL_PLAN_THIS_LETTER && p.n_targets == 1);

    /* ------------------------------------- before touching anything else */

    test("a paragraph over RL_WRITER_MAX_PARAGRAPH characters: too_long, the field named; "
         "exactly the limit, or longer text cut by line breaks, goes in");
    char *at_limit = malloc(RL_WRITER_MAX_PARAGRAPH + 2), *over = malloc(RL_WRITER_MAX_PARAGRAPH + 2);
    memset(at_limit, 'a', RL_WRITER_MAX_PARAGRAPH);
    at_limit[RL_WRITER_MAX_PARAGRAPH] = 0;
    memset(over, 'a', RL_WRITER_MAX_PARAGRAPH + 1);
    over[RL_WRITER_MAX_PARAGRAPH + 1] = 0;
    rl_field long_fields[] = { FIELD("history", at_limit), FIELD("findings", over) };
    rl_report r_long = REPORT(long_fields);
    in = letter(&r_long, LETTER);
    int too_long = refused(plan(&in), RL_ERR_TOO_LONG, "findings") &&
                   strstr(p.error, "16385 characters");
    over[RL_WRITER_MAX_PARAGRAPH / 2] = '\n';
    test_cond(too_long && plan(&in) == RL_OK);

    test("a paragraph is counted in characters, not bytes");
    test_cond(rl_writer_longest_paragraph("é€😀\r\nab") == 3 && rl_writer_longest_paragraph("") == 0);

    test("formatted text is not measured: the import filters make their own paragraphs");
    over[RL_WRITER_MAX_PARAGRAPH / 2] = 'a';
    r_long.html_content = over;
    const char *html_only[] = { "report_html", NULL };
    in = letter(&r_long, html_only);
    test_cond(plan(&in) == RL_OK);
    r_long.html_content = NULL;

    test("another patient's letter: patient_mismatch; a letter without PatientId takes any "
         "report, a report without patient_id any letter");
    in = letter(&r_patient, LETTER);
    in.letter.patient_id = "P-9999";
    int mismatch = refused(plan(&in), RL_ERR_PATIENT_MISMATCH, "");
    in.letter.patient_id = "P-1234";
    int same = plan(&in) == RL_OK;
    in.letter.patient_id = "";
    int no_id = plan(&in) == RL_OK;
    in = letter(&r_dx, LETTER);
    in.letter.patient_id = "P-9999";
    test_cond(mismatch && same && no_id && plan(&in) == RL_OK);

    test("a letter opened read-only: read_only");
    in = letter(&r_full, LETTER);
    in.letter.read_only = 1;
    test_cond(refused(plan(&in), RL_ERR_READ_ONLY, ""));

    test("a field in a protected section: protected, that field named; a protected bookmark "
         "that is no field does not matter");
    const char *toc[] = { "_Toc1", "history", "findings", NULL };
    in = letter(&r_full, toc);
    protect("_Toc1");
    int other = plan(&in) == RL_OK;
    protect("findings");
    test_cond(other && refused(plan(&in), RL_ERR_PROTECTED, "findings") &&
              strstr(p.error, "\"findings\""));

    test("a field to clear in a protected section: protected too");
    in = letter(&r_dx, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    protect("history");
    test_cond(refused(plan(&in), RL_ERR_PROTECTED, "history"));

    test("the first refusal wins: edited before too_long, too_long before patient_mismatch, "
         "before read_only, before protected");
    in = letter(&r_long, LETTER);
    remember(&in, "diagnosis", "[Diagnostic]", RL_FIELD_EDITED);
    in.letter.patient_id = "P-9999";
    long_fields[0].key = "patient_id";      /* the report is for P-1234... */
    long_fields[0].value = "P-1234";
    in.letter.read_only = 1;
    protect("findings");
    int order = refused(plan(&in), RL_ERR_EDITED, "diagnosis");
    memory.n = 0;
    order = order && refused(plan(&in), RL_ERR_TOO_LONG, "findings");
    over[10] = '\n';
    order = order && refused(plan(&in), RL_ERR_PATIENT_MISMATCH, "");
    in.letter.patient_id = NULL;
    order = order && refused(plan(&in), RL_ERR_READ_ONLY, "");
    in.letter.read_only = 0;
    test_cond(order && refused(plan(&in), RL_ERR_PROTECTED, "findings"));
    free(at_limit);
    free(over);

    test("every refusal has its own stable name, placed none");
    static const char *names[] = { "", "no_document", "not_writer", "no_fields", "read_only",
                                   "protected", "too_long", "patient_mismatch", "edit_failed",
                                   "edited", "saved", "no_template", "printed" };
    int all = 1;
    for (int i = RL_OK; i <= RL_ERR_PRINTED; i++)
        all = all && !strcmp(rl_writer_refusal_name((rl_writer_refusal)i), names[i]);
    test_cond(all);

    /* ---------------------------------------------------- a comparison */

    test("a comparison lists what the report would fill and clear, even in an edited or "
         "saved letter");
    in = letter(&r_dx, LETTER);
    remember(&in, "history", "[Anamnèse]", RL_FIELD_EDITED);
    remember(&in, "findings", "[Examen clinique]", RL_FIELD_PLACEHOLDER);
    in.letter.modified = 0;
    rl_plan_free(&p);
    why = rl_plan_changes(&in, &p);
    test_cond(why == RL_OK && p.n_targets == 2 &&
              fills("diagnosis", "Douleur musculo-pariétale") && clears("history", "[Anamnèse]"));

    test("a comparison with nothing to fill and nothing to clear: no_fields");
    in = letter(&r_none, LETTER);
    rl_plan_free(&p);
    test_cond(refused(rl_plan_changes(&in, &p), RL_ERR_NO_FIELDS, ""));

    test("a comparison with only fields to clear still shows them");
    remember(&in, "history", "[Anamnèse]", RL_FIELD_PLACED);
    rl_plan_free(&p);
    why = rl_plan_changes(&in, &p);
    test_cond(why == RL_OK && p.n_targets == 1 && clears("history", "[Anamnèse]"));

    rl_plan_free(&p);
    return test_summary();
}
