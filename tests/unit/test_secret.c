/* test_secret.c - the doctor's key in the system's real secret store
 * (src/component/secret.h): stored, read back, replaced - one item, not
 * two -, forgotten; a too-small buffer is refused and left empty.
 *
 * Linux: against a real gnome-keyring-daemon in a private D-Bus session.
 * Started without one, the runner starts it itself (dbus-run-session, a
 * keyring unlocked with a test password, HOME in a temporary folder) and
 * runs again inside it, so the doctor's own keyring is never touched. There
 * it also checks a locked keyring (RL_ERR_KEYRING_LOCKED, within the
 * timeout, no prompt can show) and a bus without a Secret Service
 * (RL_ERR_NO_KEYRING).
 *
 * On Linux every call goes through the keyring helper (secret_spawn.c): the
 * one next to this program (mk/build.mk puts each flavour's there), found as
 * reportlink.so finds its own. The helper's process is checked too: a
 * helper that is missing, that dies, that hangs (this program again, as a
 * stub: RL_TEST_SECRET_STUB) - killed at the deadline and reaped, holding no
 * descriptor but 0, 1 and 2 although this process has a listening socket
 * without O_CLOEXEC, and the key in neither its argv nor its environment -,
 * and the helper's own answer to a request it cannot read.
 * Windows: against the Credential Manager (under Wine: Wine's own). */
#include "secret.h"
#include "secret_proto.h"

#include "rl_error.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS 10000

#ifndef _WIN32
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char self[1024];   /* this program's absolute path */

/* The stubs: this program started as the keyring helper. "hang" reads the
 * request and then never answers; "exit" ends at once without a word. */
static int stub(const char *mode)
{
    char buf[256];
    alarm(30);   /* if nobody kills it, it still ends */
    if (strcmp(mode, "exit") == 0)
        _exit(3);
    while (read(0, buf, sizeof buf) > 0)
        ;
    for (;;)
        pause();
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Whether the file holds needle (binary files such as /proc/PID/environ). */
static int file_has(const char *path, const char *needle)
{
    static char buf[65536];
    size_t n, k = strlen(needle);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return 1;
    return 0;
}

/* A child of this process that has already exec'd (its exe is not ours), or 0. */
static pid_t started_child(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[64], line[512], exe[1024];
        long ppid = -1;
        ssize_t n;
        FILE *f;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        if (fgets(line, sizeof line, f)) {
            char *close_paren = strrchr(line, ')');
            if (close_paren)
                sscanf(close_paren + 2, "%*c %ld", &ppid);
        }
        fclose(f);
        if (ppid != (long)getpid())
            continue;
        snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
        n = readlink(path, exe, sizeof exe - 1);
        if (n > 0 && ((exe[n] = '\0'), strcmp(exe, self) != 0))
            found = (pid_t)atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

/* The names in /proc/PID/fd, joined with ',' (e.g. "0,1,2"). */
static void fds_of(pid_t pid, char *out, size_t cap)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int first = 1;
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    out[0] = '\0';
    if (!(d = opendir(path))) {
        snprintf(out, cap, "(cannot list: %s)", strerror(errno));
        return;
    }
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", first ? "" : ",", e->d_name);
            first = 0;
        }
    closedir(d);
}

typedef struct { const char *key; int rc; } store_call;

static void *store_thread(void *arg)
{
    store_call *c = arg;
    c->rc = rlc_secret_store(c->key, 1500);
    return NULL;
}

/* Runs the real helper by hand with request (len bytes) on its stdin; its
 * answer into ans. Returns the helper's exit status, or -1. */
static int helper_by_hand(const char *helper, const char *request, size_t len, char *ans, size_t cap,
                          size_t *ans_len)
{
    int in[2], out[2], status;
    pid_t pid;
    ssize_t n;
    *ans_len = 0;
    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    if ((pid = fork()) == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl(helper, helper, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (write(in[1], request, len) != (ssize_t)len)
        perror("write");
    close(in[1]);
    while (*ans_len < cap && (n = read(out[0], ans + *ans_len, cap - *ans_len)) > 0)
        *ans_len += (size_t)n;
    close(out[0]);
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Items of ours the keyring holds, counted by secret-tool (libsecret-tools). */
static int count_items(void)
{
    FILE *p = popen("secret-tool search --all application " RLC_SECRET_APP " 2>&1", "r");
    char line[512];
    int n = 0;
    if (!p)
        return -1;
    while (fgets(line, sizeof line, p))
        if (line[0] == '[' && line[1] == '/')
            n++;
    return pclose(p) == -1 ? -1 : n;
}

/* Runs this program again with DBUS_SESSION_BUS_ADDRESS set to bus, to load
 * the key there (a new process: libsecret keeps its connection to the
 * service for the life of a process); returns its exit status (the
 * rl_error code, negated). */
static int load_on_bus(const char *bus)
{
    pid_t pid = fork();
    int status;
    if (pid == 0) {
        setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1);
        /* argv[0] is the path: the helper is found next to it. */
        execl(self, self, "--load-only", (char *)NULL);
        _exit(1);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Starts again inside a private D-Bus session with an unlocked keyring. */
static void reexec_in_keyring(char **argv)
{
    static char home[] = "/tmp/rl-test-secret-XXXXXX";
    if (!mkdtemp(home)) {
        perror("test_secret");
        exit(1);
    }
    setenv("HOME", home, 1);
    setenv("XDG_DATA_HOME", home, 1);
    setenv("XDG_RUNTIME_DIR", home, 1);
    unsetenv("DISPLAY");                  /* no unlock prompt can show */
    unsetenv("WAYLAND_DISPLAY");
    setenv("RL_TEST_SECRET_INNER", "1", 1);
    (void)argv;
    execlp("dbus-run-session", "dbus-run-session", "--", "sh", "-c",
           "printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets "
           "--daemonize >/dev/null && \"$0\"; rc=$?; "
           "for i in 1 2 3 4 5; do rm -rf \"$HOME\" 2>/dev/null && break; sleep 0.2; done; exit $rc",
           self, (char *)NULL);
    perror("dbus-run-session");
    exit(1);
}
#endif

int main(int argc, char **argv)
{
    char key[4096], small[4];
    static char long_key[4096];
    int rc;

#ifndef _WIN32
    ssize_t self_len;
    if (getenv("RL_TEST_SECRET_STUB"))
        return stub(getenv("RL_TEST_SECRET_STUB"));
    if ((self_len = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
        perror("test_secret: /proc/self/exe");
        return 1;
    }
    self[self_len] = '\0';
    if (argc == 2 && strcmp(argv[1], "--load-only") == 0) {
        alarm(30);   /* a call that ignores its timeout dies here: the test fails, never hangs */
        return -rlc_secret_load(key, sizeof key, 2000);
    }
    if (!getenv("RL_TEST_SECRET_INNER"))
        reexec_in_keyring(argv);
#endif
    (void)argc;

    test("nothing stored: load answers an empty key, not an error");
    strcpy(key, "x");
    rc = rlc_secret_load(key, sizeof key, TIMEOUT_MS);
    test_cond(rc == RL_OK && key[0] == '\0');

#ifndef _WIN32
    test("the provider is recognised: GNOME Keyring");
    test_cond(rlc_secret_where() == RLC_SECRET_GNOME);
#else
    test("the store is the Windows Credential Manager");
    test_cond(rlc_secret_where() == RLC_SECRET_WINCRED);
#endif

    test("a stored key is read back");
    rc = rlc_secret_store("first-key", TIMEOUT_MS);
    test_cond(rc == RL_OK && rlc_secret_load(key, sizeof key, TIMEOUT_MS) == RL_OK &&
              strcmp(key, "first-key") == 0);

    test("storing again replaces the key");
    rc = rlc_secret_store("second-key \xc3\xa9\xe2\x82\xac", TIMEOUT_MS);
    test_cond(rc == RL_OK && rlc_secret_load(key, sizeof key, TIMEOUT_MS) == RL_OK &&
              strcmp(key, "second-key \xc3\xa9\xe2\x82\xac") == 0);

#ifndef _WIN32
    test("one item in the keyring, found by its application attribute");
    test_cond(count_items() == 1);
#endif

    test("the longest key the store takes goes through whole");
    memset(long_key, 'k', RLC_SECRET_MAX_KEY);
    long_key[0] = 'L';
    long_key[RLC_SECRET_MAX_KEY] = '\0';
    rc = rlc_secret_store(long_key, TIMEOUT_MS);
    test_cond(rc == RL_OK && rlc_secret_load(key, sizeof key, TIMEOUT_MS) == RL_OK &&
              strcmp(key, long_key) == 0);

#ifdef _WIN32
    test("a longer key is refused, the stored one stays");
    memset(long_key, 'm', sizeof long_key - 1);
    rc = rlc_secret_store(long_key, TIMEOUT_MS);
    test_cond(rc == RL_ERR_TOO_BIG && rlc_secret_load(key, sizeof key, TIMEOUT_MS) == RL_OK &&
              key[0] == 'L');
#endif

    test("a buffer too small is refused and left empty");
    memset(small, 'z', sizeof small);
    rc = rlc_secret_load(small, sizeof small, TIMEOUT_MS);
    test_cond(rc == RL_ERR_TOO_BIG && small[0] == '\0');

    test("an empty key is refused (forget removes)");
    test_cond(rlc_secret_store("", TIMEOUT_MS) == RL_ERR_INVALID);

    test("forget removes the key");
    rc = rlc_secret_forget(TIMEOUT_MS);
    test_cond(rc == RL_OK && rlc_secret_load(key, sizeof key, TIMEOUT_MS) == RL_OK && key[0] == '\0');

#ifndef _WIN32
    test("nothing of ours is left in the keyring");
    test_cond(count_items() == 0);
#endif

    test("forgetting when nothing is stored is not an error");
    test_cond(rlc_secret_forget(TIMEOUT_MS) == RL_OK);

#ifndef _WIN32
    test("no Secret Service on the bus: RL_ERR_NO_KEYRING");
    rc = load_on_bus("unix:path=/nonexistent/rl-no-bus");
    test_cond(rc == -RL_ERR_NO_KEYRING);

    test("a bus that never answers: RL_ERR_KEYRING_TIMEOUT after the timeout (2 s), not D-Bus's 25 s");
    {
        /* A socket that accepts and then says nothing, not even the
         * authentication: a hung session bus. */
        char path[] = "/tmp/rl-test-secret-hang-XXXXXX", sock[128], bus[160];
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        time_t t0;
        int hrc = -1;
        if (mkdtemp(path) && fd >= 0) {
            snprintf(sock, sizeof sock, "%s/bus", path);
            snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
            snprintf(bus, sizeof bus, "unix:path=%s", sock);
            if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0) {
                t0 = time(NULL);
                hrc = load_on_bus(bus);
                printf("# hung bus: exit %d after %lds\n", hrc, (long)(time(NULL) - t0));
                hrc = hrc == -RL_ERR_KEYRING_TIMEOUT && time(NULL) - t0 < 10 ? 0 : -1;
            }
            unlink(sock);
            rmdir(path);
        }
        if (fd >= 0)
            close(fd);
        test_cond(hrc == 0);
    }

    test("a locked keyring that stays locked: RL_ERR_KEYRING_LOCKED, without waiting for the timeout");
    rlc_secret_store("locked-key", TIMEOUT_MS);
    rc = system("dbus-send --session --print-reply --dest=org.freedesktop.secrets "
                "/org/freedesktop/secrets org.freedesktop.Secret.Service.Lock "
                "array:objpath:/org/freedesktop/secrets/collection/login >/dev/null");
    {
        time_t t0 = time(NULL);
        int lrc = rlc_secret_load(key, sizeof key, TIMEOUT_MS);
        printf("# locked: %s after %lds\n", rl_err_name(lrc), (long)(time(NULL) - t0));
        test_cond(rc == 0 && lrc == RL_ERR_KEYRING_LOCKED && key[0] == '\0' && time(NULL) - t0 < 9);
    }

    test("the helper answers where with the provider, and a request it cannot read with RL_ERR_INVALID");
    {
        char helper[1100], req[RLC_PROTO_MAX], ans[RLC_PROTO_MAX];
        size_t alen = 0;
        rlc_secret_msg m;
        int n = rlc_proto_request(req, sizeof req, RLC_SECRET_OP_WHERE, 5000, NULL, 0);
        int where_ok, bad_ok, st;
        snprintf(helper, sizeof helper, "%.*s/reportlink-keyring", (int)(strrchr(self, '/') - self), self);
        st = helper_by_hand(helper, req, (size_t)n, ans, sizeof ans, &alen);
        where_ok = st == 0 && rlc_proto_parse_answer(ans, alen, &m) == (int)alen && m.op == RL_OK &&
                   m.kind == RLC_SECRET_GNOME && m.keylen == 0;
        st = helper_by_hand(helper, "reportlink-keyring 1 load 5000 3\nabc", 37, ans, sizeof ans, &alen);
        bad_ok = st == 2 && rlc_proto_parse_answer(ans, alen, &m) == (int)alen && m.op == RL_ERR_INVALID;
        printf("# where: %d, a load with a key: %d\n", where_ok, bad_ok);
        test_cond(where_ok && bad_ok);
    }

    test("no helper where it should be: RL_ERR_NO_KEYRING at once");
    {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rlc_secret_set_helper("/nonexistent/reportlink-keyring");
        rc = rlc_secret_load(key, sizeof key, TIMEOUT_MS);
        printf("# missing helper: %s after %ld ms\n", rl_err_name(rc), ms_since(&t0));
        test_cond(rc == RL_ERR_NO_KEYRING && ms_since(&t0) < 1000 && rlc_secret_where() == RLC_SECRET_NONE &&
                  key[0] == '\0');
    }

    test("a helper that ends without a word: RL_ERR_NO_KEYRING, reaped");
    {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rlc_secret_set_helper(self);
        setenv("RL_TEST_SECRET_STUB", "exit", 1);
        rc = rlc_secret_forget(TIMEOUT_MS);
        unsetenv("RL_TEST_SECRET_STUB");
        test_cond(rc == RL_ERR_NO_KEYRING && ms_since(&t0) < 5000 && waitpid(-1, NULL, WNOHANG) == -1 &&
                  errno == ECHILD);
    }

    test("a helper that hangs: RL_ERR_KEYRING_TIMEOUT near the timeout (1.5 s), killed and reaped; "
         "it held only fds 0, 1, 2 and the key is not in its argv or environment");
    {
        /* Without O_CLOEXEC, as a careless library in the office would open
         * them: the helper must not inherit them. */
        int lsock = socket(AF_INET, SOCK_STREAM, 0), file = open("/dev/null", O_RDONLY);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        const char *marker = "planted-key-7Qz2Wx";
        store_call c = { marker, 0 };
        char fds[256] = "?", path[64];
        int listening = lsock >= 0 && bind(lsock, (struct sockaddr *)&a, sizeof a) == 0 && listen(lsock, 4) == 0;
        int in_argv = -1, in_env = -1, gone;
        struct timespec t0;
        pthread_t t;
        pid_t child = 0;
        long took;

        rlc_secret_set_helper(self);
        setenv("RL_TEST_SECRET_STUB", "hang", 1);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_create(&t, NULL, store_thread, &c);
        while (!child && ms_since(&t0) < 1000) {
            child = started_child();
            if (!child)
                usleep(10000);
        }
        usleep(200000);   /* the stub is reading its request by now */
        if (child) {
            fds_of(child, fds, sizeof fds);
            snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)child);
            in_argv = file_has(path, marker);
            snprintf(path, sizeof path, "/proc/%ld/environ", (long)child);
            in_env = file_has(path, marker);
        }
        pthread_join(t, NULL);
        took = ms_since(&t0);
        unsetenv("RL_TEST_SECRET_STUB");
        rlc_secret_set_helper(NULL);
        snprintf(path, sizeof path, "/proc/%ld", (long)child);
        gone = child && access(path, F_OK) != 0 && kill(child, 0) != 0 && errno == ESRCH;
        printf("# hanging helper %ld: %s after %ld ms; its fds %s; key in argv %d, in environ %d; "
               "gone (no zombie) %d; listening socket of ours %d\n",
               (long)child, rl_err_name(c.rc), took, fds, in_argv, in_env, gone, listening);
        test_cond(listening && child && c.rc == RL_ERR_KEYRING_TIMEOUT && took >= 1500 && took < 1500 + 500 + 1000 &&
                  strcmp(fds, "0,1,2") == 0 && in_argv == 0 && in_env == 0 && gone);
        if (lsock >= 0)
            close(lsock);
        if (file >= 0)
            close(file);
    }

    test("after those, the helper next to the library answers again (the keyring is still locked)");
    rc = rlc_secret_load(key, sizeof key, TIMEOUT_MS);
    test_cond(rc == RL_ERR_KEYRING_LOCKED && rlc_secret_where() == RLC_SECRET_GNOME);
#endif
    return test_summary();
}
