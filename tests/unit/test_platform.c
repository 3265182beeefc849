/* test_platform.c - the platform layer (src/base/platform.h), the same file
 * on Linux and on Windows (under wine): paths with accents and spaces,
 * private folders and files read back from the system, an atomic replace
 * while the file is open, timed waits on the monotonic clock, file URLs,
 * the main thread, the library's folder, randomness, a command's stop. */
#include "platform.h"
#include "testlib.h"
#include "testos.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[RL_OS_PATH_MAX], home[RL_OS_PATH_MAX];

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Writes text into path (a new private file). 0 or -1. */
static int write_new(const char *path, const char *text)
{
    int fd = rl_os_create_private(path);
    if (fd < 0)
        return -1;
    int rc = rl_os_write_all(fd, text, strlen(text));
    return close(fd) == 0 && rc == 0 ? 0 : -1;
}

/* What path holds now, read through a new handle ("" if it cannot). */
static const char *contents(const char *path, char *buf, size_t cap)
{
    FILE *f = rl_os_fopen(path, "r");
    size_t n = 0;
    buf[0] = '\0';
    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static const char *read_fd(int fd, char *buf, size_t cap)
{
    ssize_t n = read(fd, buf, (unsigned)(cap - 1));
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* '\' read as '/': Windows' temporary folder comes with backslashes. */
static void slashes(char *s)
{
    for (; *s; s++)
        if (*s == '\\')
            *s = '/';
}

/* ------------------------------------------------------------ waits */

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int flag;
    int delay_ms;
} waiter;

static void *signal_later(void *arg)
{
    waiter *w = arg;
    int64_t until = rl_os_monotonic_ms() + w->delay_ms;
    /* Its own timed wait on a private condition: no sleep() needed. */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c;
    rl_os_cond_init(&c);
    pthread_mutex_lock(&m);
    while (rl_os_cond_wait_until(&c, &m, until) == 0)
        ;
    pthread_mutex_unlock(&m);
    pthread_cond_destroy(&c);
    pthread_mutex_lock(&w->lock);
    w->flag = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void *is_main_elsewhere(void *arg)
{
    *(int *)arg = rl_os_is_main_thread();
    return NULL;
}

static void *wake_later(void *arg)
{
    rl_os_stop_wake(arg);
    return NULL;
}

int main(int argc, char **argv)
{
    char a[RL_OS_PATH_MAX], b[RL_OS_PATH_MAX], c[RL_OS_PATH_MAX], buf[256];

    os_umask_022();
    if (rl_os_make_temp_dir("rl-platform-", root, sizeof root) != 0) {
        perror("rl_os_make_temp_dir");
        return 1;
    }
    printf("# temporary folder %s\n", root);

    test("a new temporary folder is private (owner-only, read back from the system)");
    test_cond(os_owner_only(root, 1) == 1);

    /* ------------------------------------------------ names and folders */
    test("a folder named with accents and spaces is created private, and so is one inside it");
    path_in(a, sizeof a, root, "H\xc3\xa9l\xc3\xa8ne Dupont");
    path_in(home, sizeof home, a, "profil utilisateur");
    test_cond(rl_os_mkdir_private(a) == 0 && rl_os_mkdir_private(home) == 0 && os_owner_only(a, 1) == 1 &&
              os_owner_only(home, 1) == 1);

    test("a private file there is owner-only and reads back byte for byte");
    path_in(b, sizeof b, home, "r\xc3\xa9sum\xc3\xa9 du patient.txt");
    test_cond(write_new(b, "premi\xc3\xa8re ligne\nseconde\n") == 0 && os_owner_only(b, 0) == 1 &&
              strcmp(contents(b, buf, sizeof buf), "premi\xc3\xa8re ligne\nseconde\n") == 0);

    test("creating a file that exists fails with EEXIST and leaves it as it was");
    errno = 0;
    int fd = rl_os_create_private(b);
    test_cond(fd < 0 && errno == EEXIST && strcmp(contents(b, buf, sizeof buf), "premi\xc3\xa8re ligne\nseconde\n") == 0);

    test("a folder others could read is made private again; the file's state is told apart");
    int loosened = os_loosen(home, 1) == 0 && os_owner_only(home, 1) == 0 && os_loosen(b, 0) == 0;
    test_cond(loosened && rl_os_readable_by_others(b) == 1 &&
              rl_os_mkdir_private(home) == 0 && os_owner_only(home, 1) == 1);

    test("a private file is not readable by others");
    path_in(c, sizeof c, home, "cl\xc3\xa9.txt");
    test_cond(write_new(c, "k") == 0 && rl_os_readable_by_others(c) == 0);

    test("a file where a folder should be is refused with ENOTDIR");
    errno = 0;
    test_cond(rl_os_mkdir_private(c) == -1 && errno == ENOTDIR);

    test("a listing gives every name, accents and spaces included, without . and ..");
    {
        rl_os_dir *d = rl_os_dir_open(home);
        const char *nm;
        int seen_b = 0, seen_c = 0, others = 0;
        while (d && (nm = rl_os_dir_next(d)) != NULL) {
            if (!strcmp(nm, "r\xc3\xa9sum\xc3\xa9 du patient.txt"))
                seen_b++;
            else if (!strcmp(nm, "cl\xc3\xa9.txt"))
                seen_c++;
            else
                others++;
        }
        rl_os_dir_close(d);
        test_cond(d && seen_b == 1 && seen_c == 1 && others == 0);
    }

    test("the size of a regular file; a folder is not one");
    {
        uint64_t size = 0;
        int f1 = rl_os_open_read(c), ok = f1 >= 0 && rl_os_file_size(f1, &size) == 0 && size == 1;
        if (f1 >= 0)
            close(f1);
        int f2 = rl_os_open_read(home);
        uint64_t dummy;
        int refused = f2 < 0 || rl_os_file_size(f2, &dummy) != 0;
        if (f2 >= 0)
            close(f2);
        test_cond(ok && refused);
    }

    /* ------------------------------------------------ atomic replace */
    test("a replace while the target is open elsewhere: new readers see the new file, "
         "the open handle keeps the old one");
    {
        char target[RL_OS_PATH_MAX], tmp[RL_OS_PATH_MAX], old_seen[64];
        path_in(target, sizeof target, home, "inbox entry.json");
        path_in(tmp, sizeof tmp, home, ".tmp-inbox entry.json");
        write_new(target, "{\"old\":1}");
        int reader = rl_os_open_read(target);               /* another handle on the target */
        int writer = rl_os_create_private(tmp);             /* the source, still open, as the spool does */
        int wrote = writer >= 0 && rl_os_write_all(writer, "{\"new\":2}", 9) == 0;
        int rc = rl_os_replace(tmp, target);
        int synced = writer >= 0 && rl_os_fsync(writer) == 0;
        if (writer >= 0)
            close(writer);
        read_fd(reader, old_seen, sizeof old_seen);
        if (reader >= 0)
            close(reader);
        FILE *gone = rl_os_fopen(tmp, "r");
        if (gone)
            fclose(gone);
        test_cond(reader >= 0 && wrote && rc == 0 && synced && !gone &&
                  strcmp(contents(target, buf, sizeof buf), "{\"new\":2}") == 0 &&
                  strcmp(old_seen, "{\"old\":1}") == 0);
        if (rc != 0)
            printf("# rl_os_replace: %s\n", strerror(errno));
    }

    test("a replace while the target is open through rl_os_fopen");
    {
        char target[RL_OS_PATH_MAX], tmp[RL_OS_PATH_MAX];
        path_in(target, sizeof target, home, "lettre.txt");
        path_in(tmp, sizeof tmp, home, "lettre.tmp");
        write_new(target, "avant");
        write_new(tmp, "apr\xc3\xa8s");
        FILE *f = rl_os_fopen(target, "r");
        int rc = rl_os_replace(tmp, target);
        if (f)
            fclose(f);
        test_cond(f && rc == 0 && strcmp(contents(target, buf, sizeof buf), "apr\xc3\xa8s") == 0);
    }

    test("the folder's entries can be synced; a removed file is gone, removing it again is not an error");
    test_cond(rl_os_sync_dir(home) == 0 && rl_os_remove(c) == 0 && !rl_os_fopen(c, "r") && rl_os_remove(c) == 0);

    test("a file removed while open elsewhere is gone for new readers");
    {
        char p[RL_OS_PATH_MAX];
        path_in(p, sizeof p, home, "ouvert.txt");
        write_new(p, "x");
        int r = rl_os_open_read(p);
        int rc = rl_os_remove(p);
        if (r >= 0)
            close(r);
        FILE *f = rl_os_fopen(p, "r");
        if (f)
            fclose(f);
        test_cond(r >= 0 && rc == 0 && !f);
    }

    /* ------------------------------------------------ URLs */
    test("the file URL of a path with accents and spaces is percent-encoded UTF-8 and round-trips");
    {
        char url[3 * RL_OS_PATH_MAX], back[RL_OS_PATH_MAX], want[RL_OS_PATH_MAX];
        int rc = rl_os_file_url(b, url, sizeof url);
        int clean = rc == 0 && strspn(url + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%:") ==
                               strlen(url + 5);
        int back_rc = rl_os_path_from_url(url, back, sizeof back);
        snprintf(want, sizeof want, "%s", b);
        slashes(want);
        slashes(back);
        printf("# %s\n", url);
        test_cond(rc == 0 && clean && strncmp(url, "file:///", 8) == 0 &&
                  strstr(url, "/H%C3%A9l%C3%A8ne%20Dupont/profil%20utilisateur/r%C3%A9sum%C3%A9%20du%20patient.txt") &&
                  back_rc == 0 && strcmp(back, want) == 0);
    }

    test("a relative path has no file URL; a URL of another host or scheme has no path");
    {
        char url[64], p[64];
        test_cond(rl_os_file_url("relative/x", url, sizeof url) == -1 &&
                  rl_os_path_from_url("http://host/x", p, sizeof p) == -1 &&
                  rl_os_path_from_url("file:///a%00b", p, sizeof p) == -1);
    }

    test("a URL that does not fit is refused, never cut");
    {
        char url[24];
        test_cond(rl_os_file_url(b, url, sizeof url) == -1 && errno == ENAMETOOLONG);
    }

    /* ------------------------------------------------ temporary folders */
    test("two temporary folders have different names");
    {
        char t1[RL_OS_PATH_MAX], t2[RL_OS_PATH_MAX];
        int ok = rl_os_make_temp_dir("rl-platform-", t1, sizeof t1) == 0 &&
                 rl_os_make_temp_dir("rl-platform-", t2, sizeof t2) == 0;
        test_cond(ok && strcmp(t1, t2) != 0 && os_owner_only(t2, 1) == 1);
        rl_os_rmdir(t1);
        rl_os_rmdir(t2);
    }

    /* ------------------------------------------------ time */
    test("a timed wait that nobody signals returns ETIMEDOUT, and only after its deadline");
    {
        waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER };
        rl_os_cond_init(&w.cond);
        int64_t t0 = rl_os_monotonic_ms(), t0_us = rl_os_monotonic_us();
        int64_t deadline = t0 + 200;
        int rc = 0, early = 0;
        pthread_mutex_lock(&w.lock);
        while ((rc = rl_os_cond_wait_until(&w.cond, &w.lock, deadline)) == 0)
            early++;                         /* spurious or early: waits again */
        pthread_mutex_unlock(&w.lock);
        int64_t took = rl_os_monotonic_ms() - t0, took_us = rl_os_monotonic_us() - t0_us;
        printf("# waited %lld ms (%lld us), %d early return(s)\n", (long long)took, (long long)took_us, early);
        test_cond(rc == ETIMEDOUT && took >= 200 && took_us >= 199000);
        pthread_cond_destroy(&w.cond);
    }

    test("a signalled timed wait returns before its deadline");
    {
        waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER, .delay_ms = 50 };
        pthread_t t;
        rl_os_cond_init(&w.cond);
        int64_t t0 = rl_os_monotonic_ms(), deadline = t0 + 10000;
        int rc = 0;
        pthread_create(&t, NULL, signal_later, &w);
        pthread_mutex_lock(&w.lock);
        while (!w.flag && (rc = rl_os_cond_wait_until(&w.cond, &w.lock, deadline)) == 0)
            ;
        int flag = w.flag;
        pthread_mutex_unlock(&w.lock);
        pthread_join(t, NULL);
        int64_t took = rl_os_monotonic_ms() - t0;
        printf("# signalled after %lld ms\n", (long long)took);
        test_cond(flag && rc == 0 && took >= 50 && took < 10000);
        pthread_cond_destroy(&w.cond);
    }

    test("a wait whose deadline has passed returns at once");
    {
        waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER };
        rl_os_cond_init(&w.cond);
        pthread_mutex_lock(&w.lock);
        int rc = rl_os_cond_wait_until(&w.cond, &w.lock, rl_os_monotonic_ms() - 1);
        pthread_mutex_unlock(&w.lock);
        test_cond(rc == ETIMEDOUT);
        pthread_cond_destroy(&w.cond);
    }

    test("local time and its offset from UTC agree with UTC");
    {
        time_t now = time(NULL);
        struct tm tm;
        long off = 99999;
        int rc = rl_os_localtime(now, &tm, &off);
        test_cond(rc == 0 && off > -16 * 3600 && off < 16 * 3600 && rl_os_timegm(&tm) - off == now);
    }

    /* ------------------------------------------------ threads, process */
    test("the main thread is told apart from another");
    {
        int other = -1;
        pthread_t t;
        pthread_create(&t, NULL, is_main_elsewhere, &other);
        pthread_join(t, NULL);
        test_cond(rl_os_is_main_thread() == 1 && other == 0 && rl_os_pid() > 0);
    }

    test("the module's folder is where this program is");
    {
        char dir[RL_OS_PATH_MAX], self[RL_OS_PATH_MAX];
        const char *base = argv[0] + strlen(argv[0]);
        while (base > argv[0] && base[-1] != '/' && base[-1] != '\\')
            base--;
        int rc = rl_os_library_dir(dir, sizeof dir);
        size_t n = strlen(dir);
        snprintf(self, sizeof self, "%s%s", dir, base);
        FILE *f = rl_os_fopen(self, "r");
        if (!f && !strstr(base, ".exe")) {
            snprintf(self, sizeof self, "%s%s.exe", dir, base);
            f = rl_os_fopen(self, "r");
        }
        if (f)
            fclose(f);
        printf("# %s\n", dir);
        test_cond(rc == 0 && n > 0 && (dir[n - 1] == '/' || dir[n - 1] == '\\') && f);
    }

    test("random bytes differ from one draw to the next; a wiped secret is zeros");
    {
        unsigned char r1[16], r2[16], zeros[16] = { 0 };
        int ok = rl_os_random(r1, sizeof r1) == 0 && rl_os_random(r2, sizeof r2) == 0;
        int differ = memcmp(r1, r2, sizeof r1) != 0 && memcmp(r1, zeros, sizeof r1) != 0;
        rl_os_wipe(r1, sizeof r1);
        test_cond(ok && differ && memcmp(r1, zeros, sizeof r1) == 0);
    }

    test("IPv4 addresses only in their strict dotted form; IPv6 as usual");
    {
        unsigned char ip[16];
        test_cond(rl_os_inet_pton(0, "127.0.0.1", ip) == 1 && ip[0] == 127 && ip[3] == 1 &&
                  rl_os_inet_pton(0, "0127.0.0.1", ip) == 0 && rl_os_inet_pton(0, "127.1", ip) == 0 &&
                  rl_os_inet_pton(0, "256.0.0.1", ip) == 0 && rl_os_inet_pton(0, "1.2.3.4 ", ip) == 0 &&
                  rl_os_inet_pton(1, "::1", ip) == 1 && ip[15] == 1 && rl_os_inet_pton(1, "1.2.3.4", ip) == 0);
    }

    /* ------------------------------------------------ a command's stop */
    test("a command's stop: a wake-up from another thread ends the wait as a wake-up");
    rl_os_stop *s = rl_os_stop_open();
    {
        pthread_t t;
        const char *why = NULL;
        pthread_create(&t, NULL, wake_later, s);
        int rc = s ? rl_os_stop_wait(s, &why) : -1;
        pthread_join(t, NULL);
        test_cond(s && rc == 0 && why == NULL);
    }

    /* Windows sends Ctrl-C only within a console; wine run from a pipe
     * has none (tests/integration/ send SIGINT to wine instead, which wine
     * delivers as Ctrl-C). */
    if (s && os_interrupt() == 0) {
        test("a command's stop: an interrupt ends the wait as \"interrupted\"");
        const char *why = NULL;
        int rc = rl_os_stop_wait(s, &why);
        test_cond(rc == 1 && why && strcmp(why, "interrupted") == 0);
    } else {
        printf("# no console to send Ctrl-C to: the interrupt is not tested here\n");
    }
    rl_os_stop_close(s);

    os_rm_tree(root);
    FILE *left = rl_os_fopen(b, "r");
    if (left) {
        fclose(left);
        printf("# could not remove %s\n", root);
    }
    return test_summary();
}
