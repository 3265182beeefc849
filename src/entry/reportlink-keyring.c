/* reportlink-keyring.c - the keyring helper: one Secret Service request per
 * run, so that the office never loads libsecret nor runs GLib's D-Bus
 * threads (src/component/README.md, "The doctor's key").
 *
 * reportlink.so starts it for each call of secret.h (secret_spawn.c), from
 * the folder it is installed in, with stdin and stdout on two pipes and
 * every other descriptor closed. It reads one request (secret_proto.h) from
 * stdin, runs it through secret_libsecret.c - the watchdog there answers
 * RL_ERR_KEYRING_TIMEOUT at the request's timeout -, writes one answer to
 * stdout and exits 0; a request it cannot read gets an RL_ERR_INVALID answer
 * and exit status 2. The key only ever passes through the two pipes: never
 * argv, the environment or the log. Log lines (never the key) go to stderr,
 * which is the office's.
 *
 * Linux only, built by mk/build.mk: on Windows the Credential Manager is
 * called in-process (secret_wincred.c). */
#include "log.h"
#include "platform.h"
#include "rl_error.h"
#include "secret_libsecret.h"
#include "secret_proto.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* How long the parent may take to send its request. */
#define REQUEST_TIMEOUT_S 10
/* Past the request's own timeout, the helper's last word: if libsecret
 * ignored its cancellable, the process ends anyway (the parent has given up
 * and killed it by then; this is for a parent that is gone). */
#define EXTRA_S 5

static char in[RLC_PROTO_MAX];
static char out[RLC_PROTO_MAX];
static char key[RLC_SECRET_MAX_KEY + 1], loaded[RLC_SECRET_MAX_KEY + 1];

static void wipe_all(void)
{
    rl_os_wipe(in, sizeof in);
    rl_os_wipe(out, sizeof out);
    rl_os_wipe(key, sizeof key);
    rl_os_wipe(loaded, sizeof loaded);
}

static int answer(int rc, rlc_secret_kind kind, const char *k, size_t klen)
{
    int n = rlc_proto_answer(out, sizeof out, rc, kind, k, klen);
    if (n < 0)
        n = rlc_proto_answer(out, sizeof out, RL_ERR_INVALID, RLC_SECRET_NONE, NULL, 0);
    return rl_os_write_all(1, out, (size_t)n);
}

int main(void)
{
    rlc_secret_msg req = { 0 };
    size_t len = 0;
    int whole = 0, rc;

    /* Started through the program interpreter, the process would be named
     * after ld.so in ps and top; it is named after itself. A secret passes
     * here: no core dump, and no other process of the user may attach. */
    prctl(PR_SET_NAME, "reportlink-keyr", 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    alarm(REQUEST_TIMEOUT_S);

    while (!whole) {
        ssize_t n = read(0, in + len, sizeof in - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        whole = rlc_proto_parse_request(in, len, &req);
        if (whole < 0 || (whole == 0 && len == sizeof in))
            break;
    }
    /* Whole, nothing after it, and a key with a store only. */
    if (whole <= 0 || (size_t)whole != len || (req.op == RLC_SECRET_OP_STORE) != (req.keylen > 0)) {
        rl_log("keyring helper: a request it cannot read (%zu bytes)", len);
        answer(RL_ERR_INVALID, RLC_SECRET_NONE, NULL, 0);
        wipe_all();
        return 2;
    }
    alarm((unsigned)(req.timeout_ms / 1000) + EXTRA_S);
    memcpy(key, req.key, req.keylen);
    key[req.keylen] = '\0';
    rl_os_wipe(in, sizeof in);

    rc = rlc_libsecret_call((rlc_secret_op)req.op, key, loaded, sizeof loaded, req.timeout_ms);
    if (rc == RL_OK && req.op == RLC_SECRET_OP_LOAD)
        answer(rc, rlc_libsecret_kind(), loaded, strlen(loaded));
    else
        answer(rc, rlc_libsecret_kind(), NULL, 0);
    wipe_all();
    return 0;
}
