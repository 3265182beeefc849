/* validate_bench - throughput of the core's rl_validate_message alone.
 *
 * Builds two report_ready messages in memory - a typical one (~2 KB: the five
 * json_report fields, French text with accents) and a large one (the same
 * json_report plus a 5 MiB html_content) - and validates each in a loop for
 * at least MIN_SECONDS of CPU time (each round builds and frees the
 * rl_report, as the client does). Prints one JSON object per message on stdout:
 *   {"name":"2KB","bytes":N,"iterations":N,"seconds":S,"msgs_per_s":X,"mb_per_s":Y}
 * (MB = 10^6 bytes). Usage: validate_bench [min_seconds]
 */
#include "reportlink_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const FIELDS[5][2] = {
    {"history", "La patiente, 42 ans, consulte pour des céphalées évoluant depuis trois semaines, "
                "à prédominance matinale, sans fièvre ni traumatisme. "},
    {"findings", "Pouls 100/min, tension artérielle 140/80 mmHg, examen neurologique normal, "
                 "fond d'œil sans anomalie, pas de raideur méningée. "},
    {"diagnosis", "Céphalées de tension probables ; pas d'argument pour une cause secondaire. "},
    {"procedure", "Examen clinique et neurologique complet, mesure tensionnelle répétée. "},
    {"recommendation", "Repos, hydratation, antalgiques simples à la demande ; revoir si "
                       "aggravation ou signes neurologiques. "},
};

/* Appends s to the buffer (grown by the caller to fit). */
static char *put(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

/* A report_ready message: json_report of the five fields, each repeated to
 * about field_bytes; html_bytes of html_content if not 0. */
static char *build(size_t field_bytes, size_t html_bytes, size_t *len)
{
    size_t cap = html_bytes + 5 * (field_bytes + 512) + 1024;
    char *buf = malloc(cap), *p = buf;
    int i;

    if (!buf)
        return NULL;
    p = put(p, "{\"type\":\"report_ready\",\"url\":\"https://example.invalid/files/0.docx\"");
    if (html_bytes) {
        static const char para[] = "<p>Examen clinique : pouls régulier, auscultation normale.</p>";
        char *start;

        p = put(p, ",\"html_content\":\"<!DOCTYPE html><html><body>");
        start = p;
        while ((size_t)(p - start) + sizeof(para) < html_bytes)
            p = put(p, para);
        p = put(p, "</body></html>\"");
    }
    p = put(p, ",\"json_report\":{");
    for (i = 0; i < 5; i++) {
        char *start;

        p = put(p, i ? ",\"" : "\"");
        p = put(p, FIELDS[i][0]);
        p = put(p, "\":\"");
        start = p;
        do
            p = put(p, FIELDS[i][1]);
        while ((size_t)(p - start) + strlen(FIELDS[i][1]) <= field_bytes);
        p = put(p, "\"");
    }
    p = put(p, "}}");
    *len = (size_t)(p - buf);
    return buf;
}

static int run(const char *name, const char *msg, size_t len, double min_s)
{
    char reason[256];
    long iters = 0;
    double t0 = now_cpu(), t;

    do {
        int k;

        for (k = 0; k < 16; k++) {
            rl_event_kind kind;
            rl_report *rep = NULL;
            char *m = NULL;
            int code = 0;

            if (rl_validate_message(msg, len, &kind, &rep, &code, &m, reason, sizeof(reason)) != RL_OK) {
                fprintf(stderr, "validate_bench: %s refused: %s\n", name, reason);
                return 1;
            }
            rl_report_free(rep);
            free(m);
            iters++;
        }
        t = now_cpu() - t0;
    } while (t < min_s);
    printf("{\"name\":\"%s\",\"bytes\":%zu,\"iterations\":%ld,\"seconds\":%.4f,"
           "\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f}\n",
           name, len, iters, t, iters / t, (double)len * iters / t / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    double min_s = argc > 1 ? atof(argv[1]) : 2.0;
    size_t small_len, big_len;
    char *small = build(460, 0, &small_len);
    char *big = build(460, 5u * 1024u * 1024u, &big_len);
    int rc;

    if (!small || !big || min_s <= 0) {
        fprintf(stderr, "usage: validate_bench [min_seconds > 0]\n");
        return 2;
    }
    rc = run("2KB", small, small_len, min_s) || run("5MiB", big, big_len, min_s);
    free(small);
    free(big);
    return rc;
}
