/* secret_spawn.c - the doctor's key in the desktop's Secret Service
 * (secret.h), asked of the keyring helper in a process of its own.
 *
 * Each call starts build/reportlink-keyring (src/entry/reportlink-keyring.c),
 * hands it one request on a pipe (secret_proto.h), reads its one answer from
 * another, and reaps it. libsecret, GLib's D-Bus threads and the pages of
 * GIO and libgcrypt they touch live and die with the helper: the office
 * never maps libsecret (in-process they cost a connected office 2.4 MiB of
 * RSS: README.md, "Memory").
 *
 * How the helper is run: through the office's own program interpreter, as
 * "<PT_INTERP of soffice.bin> <folder of reportlink.so>/reportlink-keyring".
 * unopkg keeps no file mode from the .oxt: an extracted file is 0644 unless
 * the manifest declares it application/vnd.sun.star.executable, and then
 * only LibreOffice's executable backend adds the x bits, at registration
 * (checked per user with 7.4 and 25.2, --shared with 7.4). Anything else that
 * puts the files in place - a bundled extension, a profile copied or
 * restored by a tool that drops modes - leaves a helper nobody can execute,
 * and in a shared installation the doctor cannot chmod a file root owns.
 * The interpreter needs only read permission, which every installation
 * gives (the office itself reads reportlink.so from the same folder), and it
 * is the one that loaded the office, so it fits the helper built for the
 * same system. One path, always taken, always tested.
 *
 * posix_spawn, never fork: the office is multi-threaded and large. The
 * child gets the two pipes as stdin and stdout, the office's stderr (the
 * log) and nothing else (closefrom 3: the office's listening sockets and
 * files stay out of it), an empty signal mask and default dispositions,
 * and the office's environment (the session bus's address). The key goes
 * through the pipes only - never argv or the environment - and every buffer
 * that held it is wiped. The parent waits with poll() for the answer until
 * timeout_ms plus a grace of 0.5 to 2 s (the helper's watchdog answers
 * RL_ERR_KEYRING_TIMEOUT at timeout_ms itself), then kills the helper; it
 * always reaps it. Compiles to nothing on Windows (secret_wincred.c). */
#ifndef _WIN32

#include "secret.h"
#include "secret_proto.h"

#include "log.h"
#include "platform.h"
#include "rl_error.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_NAME "reportlink-keyring"
/* What the helper may take past timeout_ms - its watchdog fires at
 * timeout_ms, then libsecret returns, and the process writes and exits -:
 * a tenth of the timeout, within these bounds. */
#define GRACE_MIN_MS 500
#define GRACE_MAX_MS 2000

extern char **environ;

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;   /* one helper at a time */
static atomic_int kind;                 /* an rlc_secret_kind, from the last answer */
static char helper_set[RL_OS_PATH_MAX]; /* rlc_secret_set_helper's; under call_lock */

/* ------------------------------------------------------------------ the interpreter */

static char interp[RL_OS_PATH_MAX];
static pthread_once_t interp_once = PTHREAD_ONCE_INIT;

/* The first object dl_iterate_phdr reports is the main program. */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_INTERP) {
            const char *path = (const char *)(info->dlpi_addr + ph->p_vaddr);
            size_t n = strnlen(path, ph->p_memsz);
            if (n > 0 && n < sizeof interp && path[0] == '/') {
                memcpy(interp, path, n);
                interp[n] = '\0';
            }
            break;
        }
    }
    return 1;
}

static void find_interp(void)
{
    dl_iterate_phdr(first_object, NULL);
}

/* ------------------------------------------------------------------ the helper's process */

/* fd, moved above 2 if it is 0, 1 or 2 (an office started with a standard
 * stream closed), so that the child's dup2 onto 0 and 1 cannot clobber it.
 * Keeps O_CLOEXEC. -1 on failure (fd closed). */
static int above_stdio(int fd)
{
    int moved;
    if (fd > 2)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* Writes all of buf to the helper's stdin (fd, non-blocking) by the
 * deadline, with SIGPIPE blocked in this thread: a helper that died early
 * must not kill the office. A SIGPIPE this write raised is taken back
 * before the mask is restored. The request nearly always fits in the pipe
 * at once; a pipe shrunk to one page (the user's pipe-user-pages-soft
 * exhausted) takes it in two writes, and a helper that never reads cannot
 * hold this thread past the deadline. 0, or -1 with errno (ETIMEDOUT). */
static int write_request(int fd, const char *buf, size_t len, int64_t deadline)
{
    sigset_t pipe_only, old, pending;
    const struct timespec zero = { 0, 0 };
    size_t off = 0;
    int rc = 0, was_pending, err = 0;

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int64_t left = deadline - rl_os_monotonic_ms();
            if (left <= 0) {
                rc = -1;
                err = ETIMEDOUT;
                break;
            }
            poll(&p, 1, (int)left);
        } else if (n < 0 && errno != EINTR) {
            rc = -1;
            err = errno;
            break;
        }
    }
    if (err == EPIPE && !was_pending)
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return rc;
}

/* Starts the helper with its stdin on *to_child and its stdout on
 * *from_child (the parent's ends, O_CLOEXEC). Returns its pid, or -1 (logged). */
static pid_t start_helper(const char *helper, int *to_child, int *from_child)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    pid_t pid = -1;
    char *argv[] = { interp, (char *)helper, NULL };

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
        (in[0] = above_stdio(in[0])) < 0 || (in[1] = above_stdio(in[1])) < 0 ||
        (out[0] = above_stdio(out[0])) < 0 || (out[1] = above_stdio(out[1])) < 0) {
        rl_log("keyring helper: no pipe (%s)", strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (fcntl(2, F_GETFD) < 0)   /* no stderr here: the child's log goes nowhere */
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    err = posix_spawn(&pid, interp, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (err) {
        rl_log("keyring helper: cannot start %s %s (%s)", interp, helper, strerror(err));
        pid = -1;
        goto fail;
    }
    close(in[0]);
    close(out[1]);
    *to_child = in[1];
    *from_child = out[0];
    return pid;
fail:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    return -1;
}

/* Reaps pid; its status into *status (-1 if unknown: already reaped, e.g.
 * SIGCHLD ignored by the office). */
static void reap(pid_t pid, int *status)
{
    pid_t r;
    while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    if (r != pid)
        *status = -1;
}

/* One request, one answer. The answer's bytes go into ans (cap bytes);
 * *msg is parsed from it. Returns RL_OK when a whole answer came, or the
 * error of the exchange itself. */
static int exchange(const char *req, size_t req_len, int timeout_ms, char *ans, size_t cap, rlc_secret_msg *msg)
{
    char helper[RL_OS_PATH_MAX];
    int to_child = -1, from_child = -1, status = 0, rc = RL_OK, whole = 0, eof = 0, killed = 0, grace;
    size_t len = 0;
    int64_t deadline;
    pid_t pid;

    pthread_once(&interp_once, find_interp);
    if (!interp[0]) {
        rl_log("keyring helper: the office's program interpreter is unknown; no keyring");
        return RL_ERR_NO_KEYRING;
    }
    if (helper_set[0]) {
        snprintf(helper, sizeof helper, "%s", helper_set);
    } else if (rl_os_library_dir(helper, sizeof helper) < 0 ||
               strlen(helper) + sizeof HELPER_NAME > sizeof helper) {
        rl_log("keyring helper: the extension's folder is unknown; no keyring");
        return RL_ERR_NO_KEYRING;
    } else {
        strcat(helper, HELPER_NAME);
    }
    if (access(helper, R_OK) < 0) {
        rl_log("keyring helper: %s cannot be read (%s); no keyring", helper, strerror(errno));
        return RL_ERR_NO_KEYRING;
    }
    if ((pid = start_helper(helper, &to_child, &from_child)) < 0)
        return RL_ERR_NO_KEYRING;
    grace = timeout_ms / 10 < GRACE_MIN_MS ? GRACE_MIN_MS : timeout_ms / 10 > GRACE_MAX_MS ? GRACE_MAX_MS
                                                                                   : timeout_ms / 10;
    deadline = rl_os_monotonic_ms() + timeout_ms + grace;

    if (fcntl(to_child, F_SETFL, O_NONBLOCK) < 0 || write_request(to_child, req, req_len, deadline) < 0)
        rl_log("keyring helper: the request did not go through (%s)", strerror(errno));
    close(to_child);

    /* The answer, then the end of the helper's output (its exit). */
    while (!eof) {
        struct pollfd p = { .fd = from_child, .events = POLLIN };
        int64_t left = deadline - rl_os_monotonic_ms();
        ssize_t n;
        if (left <= 0)
            break;
        if (poll(&p, 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!p.revents)
            continue;
        if (len == cap) {           /* more than an answer can be */
            whole = -1;
            break;
        }
        n = read(from_child, ans + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            eof = 1;
            break;
        }
        len += (size_t)n;
        whole = rlc_proto_parse_answer(ans, len, msg);
        if (whole < 0 || (whole > 0 && (size_t)whole != len)) {
            whole = -1;
            break;
        }
    }
    close(from_child);
    if (!eof) {
        kill(pid, SIGKILL);
        killed = 1;
    }
    reap(pid, &status);

    if (whole > 0)
        return RL_OK;          /* the answer counts, even if the helper lingered after it */
    if (whole < 0) {
        rl_log("keyring helper: an answer it cannot read (%zu bytes)", len);
        rc = RL_ERR_KEYRING_FAILED;
    } else if (killed) {
        rl_log("keyring helper: no answer within %d ms; stopped", timeout_ms + grace);
        rc = RL_ERR_KEYRING_TIMEOUT;
    } else {
        if (status != -1 && WIFEXITED(status))
            rl_log("keyring helper: ended without an answer (exit status %d)", WEXITSTATUS(status));
        else if (status != -1 && WIFSIGNALED(status))
            rl_log("keyring helper: ended without an answer (signal %d)", WTERMSIG(status));
        else
            rl_log("keyring helper: ended without an answer");
        rc = RL_ERR_NO_KEYRING;
    }
    return rc;
}

/* ------------------------------------------------------------------ secret.h */

/* Runs op; a loaded key into out (cap bytes). */
static int call(rlc_secret_op op, const char *key, char *out, size_t cap, int timeout_ms)
{
    static char req[RLC_PROTO_MAX], ans[RLC_PROTO_MAX];   /* under call_lock */
    rlc_secret_msg msg;
    int n, rc;

    if (timeout_ms < 1)
        timeout_ms = 1;
    if (timeout_ms > RLC_PROTO_TIMEOUT_MAX)
        timeout_ms = RLC_PROTO_TIMEOUT_MAX;
    pthread_mutex_lock(&call_lock);
    n = rlc_proto_request(req, sizeof req, op, timeout_ms, key, key ? strlen(key) : 0);
    if (n < 0) {
        rc = RL_ERR_INVALID;
        goto out;
    }
    memset(&msg, 0, sizeof msg);
    rc = exchange(req, (size_t)n, timeout_ms, ans, sizeof ans, &msg);
    if (rc == RL_OK) {
        rc = msg.op;
        atomic_store(&kind, msg.kind);
        if (rc == RL_OK && op == RLC_SECRET_OP_LOAD) {
            if (msg.keylen >= cap)
                rc = RL_ERR_TOO_BIG;
            else {
                memcpy(out, msg.key, msg.keylen);
                out[msg.keylen] = '\0';
            }
        }
    } else if (rc == RL_ERR_NO_KEYRING) {
        atomic_store(&kind, RLC_SECRET_NONE);
    }
out:
    rl_os_wipe(req, sizeof req);
    rl_os_wipe(ans, sizeof ans);
    pthread_mutex_unlock(&call_lock);
    return rc;
}

int rlc_secret_store(const char *key, int timeout_ms)
{
    if (!key || !key[0])
        return RL_ERR_INVALID;
    if (strlen(key) > RLC_SECRET_MAX_KEY)
        return RL_ERR_TOO_BIG;
    return call(RLC_SECRET_OP_STORE, key, NULL, 0, timeout_ms);
}

int rlc_secret_load(char *key, size_t cap, int timeout_ms)
{
    int rc;
    if (!cap)
        return RL_ERR_INVALID;
    key[0] = '\0';
    rc = call(RLC_SECRET_OP_LOAD, NULL, key, cap, timeout_ms);
    if (rc != RL_OK)
        rl_os_wipe(key, cap);
    return rc;
}

int rlc_secret_forget(int timeout_ms)
{
    return call(RLC_SECRET_OP_FORGET, NULL, NULL, 0, timeout_ms);
}

rlc_secret_kind rlc_secret_where(void)
{
    return (rlc_secret_kind)atomic_load(&kind);
}

void rlc_secret_set_helper(const char *path)
{
    pthread_mutex_lock(&call_lock);
    snprintf(helper_set, sizeof helper_set, "%s", path ? path : "");
    pthread_mutex_unlock(&call_lock);
}

#endif /* !_WIN32 */
