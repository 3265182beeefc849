/* test_spool.c - waiting reports on disk: written atomically and privately,
 * listed oldest first with the time they were received, removed on
 * request; anything else found there is moved aside, never lost. The same
 * file runs on Linux and on Windows (under wine), in a profile whose path
 * has accents and spaces. */
#include "spool.h"
#include "testlib.h"
#include "testos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[RL_OS_PATH_MAX], dir[RL_OS_PATH_MAX];

typedef struct seen {
    int n, bad;
    char names[8][RL_SPOOL_NAME];
    time_t at[8];
    char data[8][64];
    char bad_names[8][RL_SPOOL_NAME];
    char bad_why[8][64];
} seen;

static void visit(void *user, const rl_spool_file *f)
{
    seen *s = user;
    if (s->n < 8) {
        snprintf(s->names[s->n], RL_SPOOL_NAME, "%s", f->name);
        s->at[s->n] = f->received_at;
        snprintf(s->data[s->n], 64, "%s", f->data);
    }
    s->n++;
}

static void bad(void *user, const char *name, const char *why)
{
    seen *s = user;
    if (s->bad < 8) {
        snprintf(s->bad_names[s->bad], RL_SPOOL_NAME, "%s", name);
        snprintf(s->bad_why[s->bad], 64, "%s", why);
    }
    s->bad++;
}

/* 1 if folder (or file) path is private: 0700 (0600), or an owner-only DACL. */
static int private_dir(const char *path)
{
    return os_owner_only(path, 1) == 1;
}

static int private_file(const char *path)
{
    return os_owner_only(path, 0) == 1;
}

static int exists(const char *d, const char *name)
{
    char p[RL_OS_PATH_MAX + RL_SPOOL_NAME];
    snprintf(p, sizeof p, "%s/%s", d, name);
    FILE *f = rl_os_fopen(p, "r");
    if (f)
        fclose(f);
    return f != NULL;
}

static void put(const char *name, const char *text)
{
    char p[RL_OS_PATH_MAX + RL_SPOOL_NAME];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = rl_os_fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int count_entries(const char *d)
{
    rl_os_dir *dd = rl_os_dir_open(d);
    int n = 0;
    const char *nm;
    if (!dd)
        return -1;
    while ((nm = rl_os_dir_next(dd)))
        n += nm[0] != '.' || strncmp(nm, ".tmp-", 5) == 0;
    rl_os_dir_close(dd);
    return n;
}

int main(void)
{
    char err[256], a[RL_SPOOL_NAME], b[RL_SPOOL_NAME], c[RL_SPOOL_NAME], p[RL_OS_PATH_MAX + RL_SPOOL_NAME];
    char profile[RL_OS_PATH_MAX];
    seen s;

    if (rl_os_make_temp_dir("rl-spool-", root, sizeof root) != 0) {
        perror("rl_os_make_temp_dir");
        return 1;
    }
    /* A profile as Windows names it for a user with an accented name. */
    snprintf(profile, sizeof profile, "%s/H\xc3\xa9l\xc3\xa8ne Dupont", root);
    rl_os_mkdir_private(profile);
    snprintf(profile + strlen(profile), sizeof profile - strlen(profile), "/profil utilisateur");
    rl_os_mkdir_private(profile);
    snprintf(dir, sizeof dir, "%s/reportlink/inbox", profile);
    os_umask_022();

    test("opening creates the folder and its parent, both private (0700)");
    int rc = rl_spool_open(dir, err, sizeof err);
    snprintf(p, sizeof p, "%s/reportlink", profile);
    test_cond(rc == 0 && private_dir(dir) && private_dir(p));

    test("opening an existing folder that others could read makes it private again");
    int loosened = os_loosen(dir, 1) == 0 && !private_dir(dir);
    test_cond(loosened && rl_spool_open(dir, err, sizeof err) == 0 && private_dir(dir));

    test("a report is written whole into a private (0600) file named after its reception time");
    const char *msg1 = "{\"type\":\"report_ready\",\"plaintext_report\":\"un\"}";
    rc = rl_spool_write(dir, msg1, strlen(msg1), 1700000000, a, sizeof a, err, sizeof err);
    snprintf(p, sizeof p, "%s/%s", dir, a);
    test_cond(rc == 0 && strncmp(a, "1700000000-", 11) == 0 && private_file(p) &&
              count_entries(dir) == 1);

    test("two reports in the same second get different names; no temporary file remains");
    rl_spool_write(dir, "{\"b\":2}", 7, 1700000100, b, sizeof b, err, sizeof err);
    rl_spool_write(dir, "{\"c\":3}", 7, 1600000000, c, sizeof c, err, sizeof err);
    test_cond(strcmp(a, b) != 0 && strcmp(b, c) != 0 && count_entries(dir) == 3);

    test("written in two steps, the file is complete and in place before its fsync");
    {
        char d2[RL_SPOOL_NAME], p2[RL_OS_PATH_MAX + RL_SPOOL_NAME];
        int fd = rl_spool_write_unsynced(dir, "{\"d\":4}", 7, 1700000200, d2, sizeof d2, err, sizeof err);
        snprintf(p2, sizeof p2, "%s/%s", dir, d2);
        int in_place = fd >= 0 && private_file(p2) && exists(dir, d2);
        int synced = rl_spool_sync(dir, fd, err, sizeof err) == 0;
        test_cond(in_place && synced && rl_spool_remove(dir, d2) == 0 && count_entries(dir) == 3);
    }

    test("a scan lists every report oldest first, with its time and its exact bytes");
    memset(&s, 0, sizeof s);
    rc = rl_spool_scan(dir, 1 << 20, visit, bad, &s, err, sizeof err);
    test_cond(rc == 3 && s.n == 3 && s.bad == 0 && !strcmp(s.names[0], c) && s.at[0] == 1600000000 &&
              !strcmp(s.names[1], a) && s.at[1] == 1700000000 && !strcmp(s.data[1], msg1) &&
              !strcmp(s.data[0], "{\"c\":3}"));

    test("a removed report is gone; removing it again is not an error");
    test_cond(rl_spool_remove(dir, c) == 0 && !exists(dir, c) && rl_spool_remove(dir, c) == 0);

    test("an interrupted write's temporary file is not a report: moved aside, not deleted");
    put(".tmp-1700000200-1-1.json", "{\"type\":\"rep");
    memset(&s, 0, sizeof s);
    rc = rl_spool_scan(dir, 1 << 20, visit, bad, &s, err, sizeof err);
    snprintf(p, sizeof p, "%s/" RL_SPOOL_REJECTED, dir);
    test_cond(rc == 2 && s.n == 2 && s.bad == 1 && !strcmp(s.bad_names[0], ".tmp-1700000200-1-1.json") &&
              strstr(s.bad_why[0], "interrupted") && !exists(dir, ".tmp-1700000200-1-1.json") &&
              exists(p, ".tmp-1700000200-1-1.json") && private_dir(p));

    test("a foreign name and a file above the size limit are moved aside with the reason");
    put("notes.txt", "hello");
    put("1700000300-1-1.json", "0123456789012345678901234567890123456789012345678901234567890123456789");
    memset(&s, 0, sizeof s);
    rc = rl_spool_scan(dir, 64, visit, bad, &s, err, sizeof err);
    int big = s.bad == 2 && (strstr(s.bad_why[0], "larger") || strstr(s.bad_why[1], "larger"));
    test_cond(rc == 2 && big && exists(p, "notes.txt") && exists(p, "1700000300-1-1.json") &&
              !exists(dir, "notes.txt"));

    test("a report file can be moved aside by its reader (invalid content)");
    test_cond(rl_spool_reject(dir, a) == 0 && !exists(dir, a) && exists(p, a));

    test("the rejected folder is not scanned");
    memset(&s, 0, sizeof s);
    rc = rl_spool_scan(dir, 1 << 20, visit, bad, &s, err, sizeof err);
    test_cond(rc == 1 && s.n == 1 && s.bad == 0 && !strcmp(s.names[0], b));

    test("a clean exit is remembered once: the marker is not a report and goes at the next start");
    int set = rl_spool_clean_exit(dir, 1);
    memset(&s, 0, sizeof s);
    rc = rl_spool_scan(dir, 1 << 20, visit, bad, &s, err, sizeof err);
    test_cond(set == 0 && rc == 1 && s.bad == 0 && rl_spool_clean_exit(dir, 0) == 1 &&
              rl_spool_clean_exit(dir, 0) == 0);

    test("a write into a folder that cannot be written fails with the reason and leaves nothing");
    char ro[RL_OS_PATH_MAX + 32];
    snprintf(ro, sizeof ro, "%s/missing/inbox", root);
    rc = rl_spool_write(ro, "{}", 2, 1, a, sizeof a, err, sizeof err);
    test_cond(rc == -1 && strstr(err, "cannot write") != NULL && strstr(err, ro) != NULL);

    test("a scan of a folder that does not exist fails with the reason");
    rc = rl_spool_scan(ro, 100, visit, bad, &s, err, sizeof err);
    test_cond(rc == -1 && strstr(err, "cannot read") != NULL);

    os_rm_tree(root);
    return test_summary();
}
