/* test_validate.c - every incoming message is checked before anything else
 * sees it. A table of good and bad messages, then the details of what a
 * valid report hands over. */
#include "core_internal.h"
#include "testlib.h"

#include <string.h>

#define REPORT(members) "{\"type\":\"report_ready\"," members "}"

typedef struct row {
    const char *name;
    const char *msg;
    size_t len;           /* 0: strlen(msg) */
    int ok;
    rl_event_kind kind;   /* when ok */
    const char *reason;   /* when not ok: a substring of the reason */
} row;

static const row table[] = {
    /* Good messages. */
    { "the spec's full report is accepted", REPORT(
        "\"url\":\"https://x/y.docx?sig=1\",\"html_content\":\"<p>x</p>\","
        "\"rtf_report\":\"{\\\\rtf1 x}\",\"plaintext_report\":\"x\","
        "\"json_report\":{\"history\":\"La patiente est venu parce qu'elle a mal\","
        "\"findings\":\"Pouls de 100/min, tension arterielle 140/80mmHg\","
        "\"diagnosis\":\"Cephal\xc3\xa9" "es chroniques non sp\xc3\xa9" "cifi\xc3\xa9" "es\","
        "\"procedure\":\"Examen physique et neurologique\","
        "\"recommendation\":\"Nous recommandons du repos \xc3\xa0 la patiente\"}"),
      0, 1, RL_EVENT_REPORT, NULL },
    { "a report with only json_report is accepted", REPORT("\"json_report\":{\"history\":\"h\"}"),
      0, 1, RL_EVENT_REPORT, NULL },
    { "a report with only plain text is accepted", REPORT("\"plaintext_report\":\"t\""),
      0, 1, RL_EVENT_REPORT, NULL },
    { "unknown json_report keys are kept", REPORT("\"json_report\":{\"allergies\":\"none\"}"),
      0, 1, RL_EVENT_REPORT, NULL },
    { "unknown top-level members are ignored", REPORT("\"plaintext_report\":\"t\",\"extra\":[1,2]"),
      0, 1, RL_EVENT_REPORT, NULL },
    { "null representations count as absent", REPORT("\"url\":null,\"plaintext_report\":\"t\""),
      0, 1, RL_EVENT_REPORT, NULL },
    { "an emoji and escaped surrogate pairs are accepted",
      REPORT("\"json_report\":{\"history\":\"\xf0\x9f\x98\x80 \\ud83d\\ude00\"}"), 0, 1,
      RL_EVENT_REPORT, NULL },
    { "surrounding white space is accepted", "  \n" REPORT("\"plaintext_report\":\"t\"") "\r\n",
      0, 1, RL_EVENT_REPORT, NULL },
    { "an error message is accepted", "{\"type\":\"error\",\"message\":\"boom\",\"code\":4000}",
      0, 1, RL_EVENT_SERVER_ERROR, NULL },

    /* Not JSON, not an object, not text. */
    { "an empty message is refused", "", 0, 0, 0, "empty" },
    { "plain text is refused", "hello", 0, 0, 0, "not valid JSON" },
    { "a truncated message is refused", REPORT("\"plaintext_report\":\"t"), 0, 0, 0, "not valid JSON" },
    { "a truncated object is refused", "{\"type\":\"report_ready\",", 0, 0, 0, "not valid JSON" },
    { "text after the JSON value is refused", REPORT("\"plaintext_report\":\"t\"") "{}", 0, 0, 0,
      "text after" },
    { "a JSON array is refused", "[1,2]", 0, 0, 0, "an array, expected a JSON object" },
    { "a JSON string is refused", "\"report_ready\"", 0, 0, 0, "a string, expected" },
    { "invalid UTF-8 is refused", "{\"type\":\"report_ready\",\"plaintext_report\":\"\xc3(\"}", 0,
      0, 0, "invalid UTF-8 at byte 43" },
    { "an overlong UTF-8 encoding is refused", "{\"type\":\"error\xc0\xaf\"}", 0, 0, 0,
      "invalid UTF-8" },
    { "an encoded UTF-16 surrogate is refused", "{\"type\":\"\xed\xa0\x80\"}", 0, 0, 0,
      "invalid UTF-8" },
    { "a code point above U+10FFFF is refused", "{\"type\":\"\xf4\x90\x80\x80\"}", 0, 0, 0,
      "invalid UTF-8" },
    { "a NUL byte is refused", "{\"type\":\"report_ready\"}\0xx", 26, 0, 0, "NUL byte" },
    { "a \\u0000 escape is refused", REPORT("\"plaintext_report\":\"a\\u0000b\""), 0, 0, 0,
      "\\u0000" },
    { "an escaped backslash before u0000 is fine", REPORT("\"plaintext_report\":\"a\\\\u0000b\""),
      0, 1, RL_EVENT_REPORT, NULL },
    { "deep nesting is refused before parsing",
      "{\"type\":\"report_ready\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", 0, 0, 0,
      "nesting deeper than 16" },

    /* Members of the wrong type. */
    { "a missing type is refused", "{\"plaintext_report\":\"t\"}", 0, 0, 0, "no \"type\"" },
    { "a numeric type is refused", "{\"type\":1}", 0, 0, 0, "\"type\" is a number" },
    { "an unknown type is refused and named", "{\"type\":\"report_maybe\"}", 0, 0, 0,
      "unknown message type \"report_maybe\"" },
    { "a type is matched exactly (case)", "{\"type\":\"Report_Ready\",\"plaintext_report\":\"t\"}",
      0, 0, 0, "unknown message type" },
    { "a numeric html_content is refused", REPORT("\"html_content\":5"), 0, 0, 0,
      "\"html_content\" is a number, expected a string" },
    { "an object url is refused", REPORT("\"url\":{}"), 0, 0, 0, "\"url\" is an object" },
    { "a boolean rtf_report is refused", REPORT("\"rtf_report\":true"), 0, 0, 0,
      "\"rtf_report\" is a boolean" },
    { "an array plaintext_report is refused", REPORT("\"plaintext_report\":[]"), 0, 0, 0,
      "\"plaintext_report\" is an array" },
    { "a string json_report is refused", REPORT("\"json_report\":\"history\""), 0, 0, 0,
      "\"json_report\" is a string, expected an object" },
    { "a nested json_report value is refused", REPORT("\"json_report\":{\"history\":{\"a\":\"b\"}}"),
      0, 0, 0, "json_report.\"history\" is an object" },
    { "a numeric json_report value is refused", REPORT("\"json_report\":{\"findings\":100}"), 0, 0,
      0, "json_report.\"findings\" is a number" },
    { "an empty json_report key is refused", REPORT("\"json_report\":{\"\":\"x\"}"), 0, 0, 0,
      "empty member name" },
    { "a report with no representation is refused", REPORT("\"other\":1"), 0, 0, 0,
      "carries none of" },
    { "a report whose representations are all null is refused",
      REPORT("\"url\":null,\"json_report\":null"), 0, 0, 0, "carries none of" },
    { "a duplicate top-level member is refused",
      REPORT("\"plaintext_report\":\"a\",\"plaintext_report\":\"b\""), 0, 0, 0,
      "\"plaintext_report\" twice" },
    { "a duplicate type is refused", "{\"type\":\"error\",\"type\":\"report_ready\"}", 0, 0, 0,
      "\"type\" twice" },
    { "a duplicate json_report key is refused",
      REPORT("\"json_report\":{\"diagnosis\":\"a\",\"diagnosis\":\"b\"}"), 0, 0, 0,
      "json_report has the member \"diagnosis\" twice" },
    { "an error without a code is refused", "{\"type\":\"error\",\"message\":\"m\"}", 0, 0, 0,
      "\"code\" is missing" },
    { "an error with a string code is refused",
      "{\"type\":\"error\",\"message\":\"m\",\"code\":\"4000\"}", 0, 0, 0,
      "\"code\" is a string" },
    { "an error with a fractional code is refused",
      "{\"type\":\"error\",\"message\":\"m\",\"code\":4000.5}", 0, 0, 0, "not an integer" },
    { "an error with a huge code is refused",
      "{\"type\":\"error\",\"message\":\"m\",\"code\":1e300}", 0, 0, 0, "not an integer" },
    { "an error without a message is refused", "{\"type\":\"error\",\"code\":4000}", 0, 0, 0,
      "\"message\" is missing" },
    { "an error with a numeric message is refused",
      "{\"type\":\"error\",\"message\":1,\"code\":4000}", 0, 0, 0, "\"message\" is a number" },
};

static int run_row(const row *r)
{
    rl_event_kind kind = RL_EVENT_STATE;
    rl_report *rep = NULL;
    int code = 0;
    char *message = NULL;
    char reason[RL_MAX_DETAIL] = "";
    size_t len = r->len ? r->len : strlen(r->msg);
    int rc = rl_validate_message(r->msg, len, &kind, &rep, &code, &message, reason,
                                 sizeof reason);
    int good;
    if (r->ok)
        good = rc == RL_OK && kind == r->kind &&
               (kind != RL_EVENT_REPORT || (rep && rep->raw_len == len)) &&
               (kind != RL_EVENT_SERVER_ERROR || message);
    else
        good = rc == RL_ERR_INVALID && !rep && !message && strstr(reason, r->reason);
    if (!good)
        printf("  rc=%d kind=%d reason=\"%s\"\n", rc, (int)kind, reason);
    rl_report_free(rep);
    free(message);
    return good;
}

int main(void)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        test(table[i].name);
        test_cond(run_row(&table[i]));
    }

    rl_event_kind kind;
    rl_report *rep = NULL;
    int code;
    char *message = NULL;
    char reason[RL_MAX_DETAIL];
    const char *msg = REPORT("\"html_content\":null,\"plaintext_report\":\"P\\nQ\","
                             "\"json_report\":{\"history\":\"H \\\"q\\\"\",\"procedure\":null,"
                             "\"allergies\":\"none\"}");

    test("a report hands over its strings, in order, with JSON escapes decoded");
    int rc = rl_validate_message(msg, strlen(msg), &kind, &rep, &code, &message, reason,
                                 sizeof reason);
    test_cond(rc == RL_OK && rep && !rep->html_content && !rep->url &&
              !strcmp(rep->plaintext_report, "P\nQ") && rep->n_fields == 2 &&
              !strcmp(rep->fields[0].key, "history") &&
              !strcmp(rep->fields[0].value, "H \"q\"") &&
              !strcmp(rep->fields[1].key, "allergies") && rep->has_json_report);
    test("a null json_report value is skipped, not turned into text");
    test_cond(rep && rl_report_field(rep, "procedure") == NULL &&
              !strcmp(rl_report_field(rep, "allergies"), "none"));
    test("the raw message is kept byte for byte");
    test_cond(rep && rep->raw_len == strlen(msg) && !memcmp(rep->raw, msg, rep->raw_len));
    rl_report_free(rep);

    const char *err = "{\"type\":\"error\",\"message\":\"Cl\xc3\xa9 inconnue\",\"code\":4000}";
    test("an error message hands over its code and message");
    rc = rl_validate_message(err, strlen(err), &kind, &rep, &code, &message, reason,
                             sizeof reason);
    test_cond(rc == RL_OK && kind == RL_EVENT_SERVER_ERROR && code == 4000 &&
              !strcmp(message, "Cl\xc3\xa9 inconnue"));
    free(message);

    test("a 1 MiB field arrives intact");
    size_t big = 1u << 20;
    char *huge = malloc(big + 100);
    int n = sprintf(huge, "{\"type\":\"report_ready\",\"json_report\":{\"findings\":\"");
    memset(huge + n, 'x', big);
    strcpy(huge + n + big, "\"}}");
    rc = rl_validate_message(huge, strlen(huge), &kind, &rep, &code, &message, reason,
                             sizeof reason);
    test_cond(rc == RL_OK && rep && strlen(rl_report_field(rep, "findings")) == big);
    rl_report_free(rep);
    free(huge);

    test("a message above the size limit is refused without parsing");
    rc = rl_validate_message("{}", (size_t)RL_MAX_MESSAGE_BYTES + 1, &kind, &rep, &code,
                             &message, reason, sizeof reason);
    test_cond(rc == RL_ERR_INVALID && strstr(reason, "exceeds"));

    test("reasons never quote report content");
    const char *secretive = REPORT("\"json_report\":{\"history\":42,\"x\":\"Mme Dupont\"}");
    rc = rl_validate_message(secretive, strlen(secretive), &kind, &rep, &code, &message,
                             reason, sizeof reason);
    test_cond(rc == RL_ERR_INVALID && !strstr(reason, "Dupont"));

    test("a long unknown type is cut short in the reason");
    char longtype[300];
    snprintf(longtype, sizeof longtype, "{\"type\":\"%0200d\"}", 7);
    rc = rl_validate_message(longtype, strlen(longtype), &kind, &rep, &code, &message,
                             reason, sizeof reason);
    test_cond(rc == RL_ERR_INVALID && strlen(reason) < 100 && strstr(reason, "..."));

    test("more json_report fields than the limit are refused");
    size_t cap = 64 * (RL_MAX_REPORT_FIELDS + 2);
    char *many = malloc(cap);
    size_t m = (size_t)sprintf(many, "{\"type\":\"report_ready\",\"json_report\":{");
    for (int i = 0; i < RL_MAX_REPORT_FIELDS + 1; i++)
        m += (size_t)sprintf(many + m, "%s\"k%d\":\"v\"", i ? "," : "", i);
    strcpy(many + m, "}}");
    rc = rl_validate_message(many, strlen(many), &kind, &rep, &code, &message, reason,
                             sizeof reason);
    test_cond(rc == RL_ERR_INVALID && strstr(reason, "more than"));
    free(many);
    return test_summary();
}
