/* test_inbox.c - the inbox keeps every report until it is placed or
 * discarded; when full it forgets placed ones first. */
#include "inbox.h"
#include "testlib.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rl_report *report(const char *diagnosis)
{
    char msg[512];
    rl_event_kind kind;
    rl_report *r = NULL;
    int code;
    char *m = NULL, reason[128];
    snprintf(msg, sizeof msg, "{\"type\":\"report_ready\",\"json_report\":{\"history\":\"h\","
             "\"diagnosis\":\"%s\"}}", diagnosis);
    rl_validate_message(msg, strlen(msg), &kind, &r, &code, &m, reason, sizeof reason);
    return r;
}

static rl_inbox ib;

/* Records which entries' reports went for good (the disk copy's hook). */
static char released_log[256];
static void on_release(void *user, const rl_inbox_entry *e)
{
    size_t n = strlen(released_log);
    snprintf(released_log + n, sizeof released_log - n, "%s;", e->spool);
}

static int32_t add_spooled(const char *dx, const char *file)
{
    unsigned dropped;
    int32_t id = rl_inbox_add(&ib, report(dx), 1, &dropped);
    snprintf(rl_inbox_find(&ib, id)->spool, sizeof rl_inbox_find(&ib, id)->spool, "%s", file);
    return id;
}

/* ---- placement racing a discard --------------------------------------
 * The office's main thread places a report with the inbox's lock released
 * (Writer takes its time); discardInboxEntry may remove the entry from any
 * thread meanwhile. These helpers play both sides under one lock, as
 * link_place.c and link_api.c do. */
static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t placing_started, discard_done;

static void *discard_when_placing(void *arg)
{
    int32_t id = *(int32_t *)arg;
    sem_wait(&placing_started);
    pthread_mutex_lock(&inbox_lock);
    rl_inbox_remove(&ib, id);
    pthread_mutex_unlock(&inbox_lock);
    sem_post(&discard_done);
    return NULL;
}

/* Places entry id while another thread discards it; o says how the
 * placement went. Returns rl_inbox_end_placement's answer. */
static int place_while_discarded(int32_t id, const rl_inbox_outcome *o)
{
    pthread_t t;
    rl_inbox_placing p;
    pthread_create(&t, NULL, discard_when_placing, &id);
    pthread_mutex_lock(&inbox_lock);
    int begun = rl_inbox_begin_placement(&ib, id, &p);
    pthread_mutex_unlock(&inbox_lock);
    sem_post(&placing_started);          /* Writer is busy: the lock is free */
    sem_wait(&discard_done);
    free(p.docx);
    pthread_mutex_lock(&inbox_lock);
    int kept = begun == 1 ? rl_inbox_end_placement(&ib, id, p.report, o) : -1;
    pthread_mutex_unlock(&inbox_lock);
    pthread_join(t, NULL);
    return kept;
}

/* Discards entries, each at a moment of its own, while the main thread
 * places them: no interleaving may crash, leak or lose a report. */
static volatile int32_t stress_target;
static volatile int stress_over, stress_running;
static unsigned stress_discarded;

static void *discard_at_random(void *arg)
{
    unsigned seed = 12345;
    int32_t last = 0;
    __atomic_store_n(&stress_running, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&stress_over, __ATOMIC_ACQUIRE)) {
        int32_t id = __atomic_load_n(&stress_target, __ATOMIC_ACQUIRE);
        if (!id || id == last) {
            sched_yield();
            continue;
        }
        last = id;
        if (rand_r(&seed) % 2)
            continue;                   /* this one the doctor keeps */
        /* Before, during or after its placement (which takes ~20 µs). */
        nanosleep(&(struct timespec){ .tv_nsec = rand_r(&seed) % 40000 }, NULL);
        pthread_mutex_lock(&inbox_lock);
        stress_discarded += (unsigned)rl_inbox_remove(&ib, id);
        pthread_mutex_unlock(&inbox_lock);
    }
    return NULL;
}

int main(void)
{
    unsigned dropped = 99;
    rl_inbox_init(&ib);

    test("a new report waits, with increasing ids and its time");
    int32_t a = rl_inbox_add(&ib, report("Migraine"), 1000, &dropped);
    int32_t b = rl_inbox_add(&ib, report("Angine"), 1001, &dropped);
    test_cond(a == 1 && b == 2 && ib.n == 2 && rl_inbox_waiting(&ib) == 2 && dropped == 0 &&
              rl_inbox_find(&ib, a)->received_at == 1000);

    test("the summary is the diagnosis");
    test_cond(!strcmp(rl_inbox_find(&ib, a)->summary, "Migraine"));

    test("a placed entry forgets its report but keeps where it went");
    rl_inbox_mark_placed(&ib, a, 5, "Lettre Dupont");
    rl_inbox_entry *e = rl_inbox_find(&ib, a);
    test_cond(e->placed && !e->report && e->fields_filled == 5 &&
              !strcmp(e->where, "Lettre Dupont") && rl_inbox_waiting(&ib) == 1);

    test("a waiting entry records why");
    rl_inbox_mark_waiting(&ib, b, "no document is open");
    test_cond(!strcmp(rl_inbox_find(&ib, b)->reason, "no document is open"));

    test("discarding removes the entry; unknown ids are ignored");
    test_cond(rl_inbox_remove(&ib, b) == 1 && rl_inbox_remove(&ib, 4242) == 0 && ib.n == 1 &&
              !rl_inbox_find(&ib, b));

    test("a report taken for placement stays listed, and goes back with the new reason");
    int32_t c = rl_inbox_add(&ib, report("Otite"), 1002, &dropped);
    int exists = 0;
    rl_report *taken = rl_inbox_take(&ib, c, &exists);
    int listed = exists && taken && rl_inbox_find(&ib, c) && !rl_inbox_find(&ib, c)->report;
    rl_inbox_put_back(&ib, c, taken, "the letter is open read-only");
    test_cond(listed && rl_inbox_find(&ib, c)->report == taken &&
              !strcmp(rl_inbox_find(&ib, c)->reason, "the letter is open read-only"));

    test("a report discarded while it was being placed is freed when it comes back");
    taken = rl_inbox_take(&ib, c, &exists);
    rl_inbox_remove(&ib, c);
    rl_inbox_put_back(&ib, c, taken, "x");      /* ASan sees a leak if it is not freed */
    test_cond(!rl_inbox_find(&ib, c) && ib.waiting_bytes == 0);

    test("when full, placed entries are forgotten before any waiting report");
    rl_inbox_clear(&ib);
    rl_inbox_init(&ib);
    for (int i = 0; i < RL_INBOX_MAX; i++) {
        int32_t id = rl_inbox_add(&ib, report("x"), i, &dropped);
        if (i % 2 == 0)
            rl_inbox_mark_placed(&ib, id, 1, "doc");
    }
    int32_t first_waiting = 2;
    int32_t n1 = rl_inbox_add(&ib, report("new"), 9999, &dropped);
    test_cond(dropped == 0 && ib.n == RL_INBOX_MAX && rl_inbox_find(&ib, n1) &&
              rl_inbox_find(&ib, first_waiting) && !rl_inbox_find(&ib, 1));

    test("only when every entry waits is the oldest waiting report dropped, and that is reported");
    rl_inbox_clear(&ib);
    rl_inbox_init(&ib);
    for (int i = 0; i < RL_INBOX_MAX; i++)
        rl_inbox_add(&ib, report("w"), i, &dropped);
    rl_inbox_add(&ib, report("one more"), 0, &dropped);
    test_cond(dropped == 1 && ib.n == RL_INBOX_MAX && !rl_inbox_find(&ib, 1) &&
              rl_inbox_find(&ib, 2));

    test("a long diagnosis is cut on a character boundary with an ellipsis");
    char longdx[400] = "";
    for (int i = 0; i < 60; i++)
        strcat(longdx, "\xc3\xa9t");
    rl_report *r = report(longdx);
    char sum[RL_INBOX_SUMMARY];
    rl_inbox_summary(r, sum, sizeof sum);
    size_t n = strlen(sum);
    test_cond(n < sizeof sum && !strcmp(sum + n - 3, "\xe2\x80\xa6") &&
              ((unsigned char)sum[n - 4] & 0xC0) != 0xC0);
    rl_report_free(r);

    test("only the first line of a multi-line diagnosis is the summary");
    r = report("Ligne un\\nLigne deux");
    rl_inbox_summary(r, sum, sizeof sum);
    test_cond(!strcmp(sum, "Ligne un"));
    rl_report_free(r);

    test("a report's disk copy is released when placed, discarded or dropped; not when taken or cleared");
    rl_inbox_clear(&ib);
    rl_inbox_init(&ib);
    ib.on_release = on_release;
    int32_t p1 = add_spooled("p", "placed.json"), d1 = add_spooled("d", "discarded.json");
    int32_t t1 = add_spooled("t", "taken.json");
    add_spooled("k", "kept.json");
    rl_inbox_mark_placed(&ib, p1, 1, "doc");
    rl_inbox_mark_placed(&ib, p1, 1, "doc");    /* twice: released once */
    rl_inbox_remove(&ib, d1);
    rl_inbox_remove(&ib, p1);                   /* placed already: nothing more */
    rl_report *tr = rl_inbox_take(&ib, t1, &exists);
    int quiet_take = strcmp(released_log, "placed.json;discarded.json;") == 0;
    rl_inbox_put_back(&ib, t1, tr, "still no letter");
    int kept_name = !strcmp(rl_inbox_find(&ib, t1)->spool, "taken.json");
    for (int i = 0; i < RL_INBOX_MAX - 1; i++)  /* full of waiting: the oldest ("taken") drops */
        add_spooled("w", "");
    test_cond(quiet_take && kept_name && strstr(released_log, "taken.json;") != NULL);
    released_log[0] = 0;
    rl_inbox_clear(&ib);
    test("clearing the inbox (office exit) keeps every disk copy");
    test_cond(released_log[0] == 0);

    /* The report's DOCX lives with its entry. */
    rl_inbox_init(&ib);
    int32_t x1 = rl_inbox_add(&ib, report("Docx"), 2000, &dropped);
    rl_inbox_docx_fetching(&ib, x1, 7);
    test("an entry whose DOCX is being fetched says so");
    test_cond(rl_inbox_find(&ib, x1)->docx_state == RL_INBOX_DOCX_FETCHING);

    test("the fetched DOCX is kept with the entry and counted in the byte budget");
    unsigned char *bytes = malloc(1000);
    memset(bytes, 'x', 1000);
    int32_t got = rl_inbox_docx_done(&ib, 7, bytes, 1000, NULL, "full");
    rl_inbox_entry *de = rl_inbox_find(&ib, x1);
    test_cond(got == x1 && de->docx_state == RL_INBOX_DOCX_READY && de->docx == bytes &&
              de->docx_len == 1000 && ib.docx_bytes == 1000);

    test("a second outcome for the same fetch is ignored (and its bytes freed)");
    test_cond(rl_inbox_docx_done(&ib, 7, malloc(10), 10, NULL, "full") == 0 &&
              ib.docx_bytes == 1000);

    test("a failed fetch leaves the entry failed with the reason, the report untouched");
    int32_t x2 = rl_inbox_add(&ib, report("Docx 2"), 2001, &dropped);
    rl_inbox_docx_fetching(&ib, x2, 8);
    rl_inbox_docx_done(&ib, 8, NULL, 0, "Le lien a expiré", "full");
    de = rl_inbox_find(&ib, x2);
    test_cond(de->docx_state == RL_INBOX_DOCX_FAILED && !strcmp(de->docx_error, "Le lien a expiré") &&
              de->report && !de->placed);

    test("discarding the entry frees its DOCX and gives the bytes back");
    test_cond(rl_inbox_remove(&ib, x1) && ib.docx_bytes == 0);

    test("a DOCX for a discarded entry is dropped without harm");
    int32_t x3 = rl_inbox_add(&ib, report("Docx 3"), 2002, &dropped);
    rl_inbox_docx_fetching(&ib, x3, 9);
    rl_inbox_remove(&ib, x3);
    test_cond(rl_inbox_docx_done(&ib, 9, malloc(10), 10, NULL, "full") == 0 && ib.docx_bytes == 0);

    test("a DOCX that cannot fit beside waiting reports fails with the 'full' reason");
    int32_t x4 = rl_inbox_add(&ib, report("Docx 4"), 2003, &dropped);
    rl_inbox_docx_fetching(&ib, x4, 10);
    ib.waiting_bytes += RL_INBOX_MAX_BYTES;     /* as if waiting reports filled it */
    rl_inbox_docx_done(&ib, 10, malloc(100), 100, NULL, "full");
    ib.waiting_bytes -= RL_INBOX_MAX_BYTES;
    de = rl_inbox_find(&ib, x4);
    test_cond(de->docx_state == RL_INBOX_DOCX_FAILED && !strcmp(de->docx_error, "full") &&
              ib.docx_bytes == 0);

    test("placed entries are forgotten to make room for a DOCX");
    int32_t x5 = rl_inbox_add(&ib, report("Docx 5"), 2004, &dropped);
    rl_inbox_mark_placed(&ib, x5, 1, "Lettre");
    rl_inbox_docx_fetching(&ib, x5, 11);
    rl_inbox_docx_done(&ib, 11, malloc(RL_INBOX_MAX_BYTES / 2 + 1), RL_INBOX_MAX_BYTES / 2 + 1, NULL, "full");
    int32_t x6 = rl_inbox_add(&ib, report("Docx 6"), 2005, &dropped);
    rl_inbox_docx_fetching(&ib, x6, 12);
    rl_inbox_docx_done(&ib, 12, malloc(RL_INBOX_MAX_BYTES / 2 + 1), RL_INBOX_MAX_BYTES / 2 + 1, NULL, "full");
    test_cond(!rl_inbox_find(&ib, x5) && rl_inbox_find(&ib, x6)->docx_state == RL_INBOX_DOCX_READY &&
              ib.docx_bytes == RL_INBOX_MAX_BYTES / 2 + 1);
    test("placing begins with the report taken and a copy of what placement needs");
    int32_t pa = rl_inbox_add(&ib, report("Placement A"), 3000, &dropped);
    rl_inbox_docx_fetching(&ib, pa, 21);
    unsigned char *pk = malloc(4);
    memcpy(pk, "PK\3\4", 4);
    rl_inbox_docx_done(&ib, 21, pk, 4, NULL, "full");
    rl_inbox_placing pl;
    test_cond(rl_inbox_begin_placement(&ib, pa, &pl) == 1 && pl.report &&
              !rl_inbox_find(&ib, pa)->report && pl.received_at == 3000 && pl.docx_len == 4 &&
              pl.docx != rl_inbox_find(&ib, pa)->docx && !memcmp(pl.docx, "PK\3\4", 4) &&
              !pl.docx_coming);
    free(pl.docx);

    test("an entry being placed cannot be placed twice; an unknown one says so");
    rl_inbox_placing twice;
    test_cond(rl_inbox_begin_placement(&ib, pa, &twice) == 0 && !twice.report &&
              rl_inbox_begin_placement(&ib, 9999, &twice) == -1 && !twice.report);

    test("a placement that succeeds marks the entry placed with its timings");
    rl_inbox_outcome ok = { .placed = 1, .fields_filled = 4, .where = "Lettre A",
                            .placed_us = 500, .cost_us = 40 };
    test_cond(rl_inbox_end_placement(&ib, pa, pl.report, &ok) == 1 &&
              rl_inbox_find(&ib, pa)->placed && rl_inbox_find(&ib, pa)->placed_us == 500 &&
              rl_inbox_find(&ib, pa)->place_cost_us == 40 &&
              !strcmp(rl_inbox_find(&ib, pa)->where, "Lettre A"));

    test("a placement that fails gives the report back, waiting with the refusal");
    int32_t pb = rl_inbox_add(&ib, report("Placement B"), 3001, &dropped);
    rl_inbox_outcome refused = { .reason = "no letter is open", .reason_code = "no_document",
                                 .refusal = 2 };
    rl_inbox_begin_placement(&ib, pb, &pl);
    test_cond(rl_inbox_end_placement(&ib, pb, pl.report, &refused) == 1 &&
              rl_inbox_find(&ib, pb)->report && !rl_inbox_find(&ib, pb)->placed &&
              !strcmp(rl_inbox_find(&ib, pb)->reason, "no letter is open") &&
              !strcmp(rl_inbox_find(&ib, pb)->reason_code, "no_document") &&
              rl_inbox_find(&ib, pb)->refusal == 2);
    rl_inbox_remove(&ib, pb);

    sem_init(&placing_started, 0, 0);
    sem_init(&discard_done, 0, 0);
    ib.on_release = on_release;
    test("a report discarded while it is placed: the placement ends as 'gone', nothing is "
         "touched, the disk copy goes once");
    released_log[0] = 0;
    int32_t pc = add_spooled("Placement C", "pc.json");
    size_t n_before = ib.n;
    test_cond(place_while_discarded(pc, &ok) == 0 && !rl_inbox_find(&ib, pc) &&
              ib.n == n_before - 1 && !strcmp(released_log, "pc.json;"));

    test("a report discarded while a failing placement runs is not brought back");
    released_log[0] = 0;
    int32_t pd = add_spooled("Placement D", "pd.json");
    size_t waiting_before = rl_inbox_waiting(&ib), bytes_before = ib.waiting_bytes;
    test_cond(place_while_discarded(pd, &refused) == 0 && !rl_inbox_find(&ib, pd) &&
              rl_inbox_waiting(&ib) == waiting_before - 1 &&
              ib.waiting_bytes < bytes_before && !strcmp(released_log, "pd.json;"));
    ib.on_release = NULL;

    test("placements racing discards at random moments: each report is placed or "
         "discarded, none is lost, nothing crashes");
    rl_inbox_clear(&ib);
    rl_inbox_init(&ib);
    pthread_t racer;
    unsigned rounds = RL_INBOX_MAX - 10, gone_n = 0, wrong = 0;  /* nothing dropped for room */
    pthread_create(&racer, NULL, discard_at_random, NULL);
    while (!__atomic_load_n(&stress_running, __ATOMIC_ACQUIRE))
        sched_yield();
    for (unsigned i = 0; i < rounds; i++) {
        rl_inbox_outcome o = { .placed = (int)(i % 2), .fields_filled = 1, .where = "L",
                               .reason = "refused" };
        pthread_mutex_lock(&inbox_lock);
        int32_t id = rl_inbox_add(&ib, report("Race"), 4000, &dropped);
        pthread_mutex_unlock(&inbox_lock);
        __atomic_store_n(&stress_target, id, __ATOMIC_RELEASE);
        pthread_mutex_lock(&inbox_lock);
        int begun = rl_inbox_begin_placement(&ib, id, &pl);
        pthread_mutex_unlock(&inbox_lock);
        if (begun != 1)
            continue;                                        /* discarded before */
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);  /* Writer at work */
        pthread_mutex_lock(&inbox_lock);
        int kept = rl_inbox_end_placement(&ib, id, pl.report, &o);
        rl_inbox_entry *re = rl_inbox_find(&ib, id);
        wrong += kept ? (o.placed ? !re->placed : !re->report) : re != NULL;
        gone_n += !kept;
        pthread_mutex_unlock(&inbox_lock);
    }
    __atomic_store_n(&stress_over, 1, __ATOMIC_RELEASE);
    pthread_join(racer, NULL);
    unsigned placed_n = 0, waiting_n = 0, lost = 0;
    for (size_t i = 0; i < ib.n; i++) {
        placed_n += ib.entries[i].placed;
        waiting_n += !ib.entries[i].placed;
        lost += !ib.entries[i].placed && !ib.entries[i].report;
    }
    printf("  %u placements: %u placed, %u waiting, %u discarded (%u while being placed)\n",
           rounds, placed_n, waiting_n, stress_discarded, gone_n);
    test_cond(!wrong && !lost && placed_n + waiting_n + stress_discarded == rounds);
    rl_inbox_clear(&ib);
    test("Ctrl+Z in the letter: a placed entry waits again as withdrawn, with its report "
         "counted; Ctrl+Y: placed again");
    rl_inbox ib2;
    rl_inbox_init(&ib2);
    int32_t w = rl_inbox_add(&ib2, report("Zona"), 2000, &dropped);
    rl_inbox_mark_placed(&ib2, w, 2, "Lettre Martin");
    size_t before = ib2.waiting_bytes;
    rl_report *again = report("Zona");
    size_t len = again->raw_len;
    int withdrawn = rl_inbox_withdraw(&ib2, w, again);
    rl_inbox_entry *we = rl_inbox_find(&ib2, w);
    int withdrawn_ok = withdrawn == 1 && !we->placed && we->report == again && ib2.waiting_bytes == before + len &&
             !strcmp(we->reason_code, "withdrawn") && strstr(we->reason, "Lettre Martin");
    int back = rl_inbox_placed_again(&ib2, w);
    we = rl_inbox_find(&ib2, w);
    test_cond(withdrawn_ok && back == 1 && we->placed && !we->report && !we->reason_code[0] &&
              ib2.waiting_bytes == before);

    test("only a placed entry can be withdrawn, only a withdrawn one placed again");
    int32_t v = rl_inbox_add(&ib2, report("Varicelle"), 2001, &dropped);   /* waiting */
    test_cond(rl_inbox_withdraw(&ib2, v, report("Varicelle")) == 0 &&
              rl_inbox_withdraw(&ib2, 4242, report("x")) == 0 &&
              rl_inbox_placed_again(&ib2, v) == 0 && rl_inbox_placed_again(&ib2, w) == 0 &&
              rl_inbox_find(&ib2, v)->report && !rl_inbox_find(&ib2, v)->placed);
    rl_inbox_clear(&ib2);

    return test_summary();
}
