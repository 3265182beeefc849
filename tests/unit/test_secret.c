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
 * Windows: against the Credential Manager (under Wine: Wine's own). */
#include "secret.h"

#include "rl_error.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS 10000

#ifndef _WIN32
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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
        execl("/proc/self/exe", "test_secret", "--load-only", (char *)NULL);
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
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !mkdtemp(home)) {
        perror("test_secret");
        exit(1);
    }
    self[n] = '\0';
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
#endif
    return test_summary();
}
