/*
 * secret.h - the doctor's key in the operating system's secret store.
 *
 *   Linux    the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC...)
 *            through libsecret - in a process of its own: each call starts
 *            the keyring helper, build/reportlink-keyring, installed next to
 *            reportlink.so, hands it one request on a pipe and reads its
 *            answer (secret_spawn.c; the helper: src/entry/reportlink-keyring.c
 *            with secret_libsecret.c; the bytes: secret_proto.h). The office
 *            never maps libsecret nor runs GLib's D-Bus threads (GIO and
 *            libgcrypt, which LibreOffice maps anyway, are left untouched).
 *            A helper that is missing or cannot start: RL_ERR_NO_KEYRING.
 *   Windows  the Credential Manager, a generic credential of the user
 *            (secret_wincred.c), in-process: it is advapi32 only.
 *
 * One item, not tied to the service's address (which changes): on Linux the
 * label RLC_SECRET_LABEL and the attribute application = RLC_SECRET_APP; on
 * Windows the target RLC_SECRET_TARGET.
 *
 * No UNO, no sockets: unit-tested alone against the real store
 * (tests/unit/test_secret.c). Every call may BLOCK - a locked keyring shows
 * the desktop's unlock prompt, a hung D-Bus does not answer - for at most
 * timeout_ms (then RL_ERR_KEYRING_TIMEOUT; the pending request is
 * cancelled; on Linux the helper has a tenth more, 0.5 to 2 s, to say so, then it is
 * killed). Call them from a thread that may wait, never from the office's
 * main thread (src/component/keystore.c has a thread for them). Calls are
 * serialised inside; any thread may call.
 *
 * Errors (src/base/rl_error.h):
 *   RL_ERR_NO_KEYRING      no store: libsecret absent, no Secret Service on the bus,
 *                          the keyring helper missing or unable to start (Linux)
 *   RL_ERR_KEYRING_LOCKED  the store is locked and stayed locked (the unlock prompt
 *                          was declined or could not be shown)
 *   RL_ERR_KEYRING_TIMEOUT no answer within timeout_ms
 *   RL_ERR_KEYRING_FAILED  any other refusal of the store
 *   RL_ERR_TOO_BIG         the stored key does not fit the caller's buffer
 */
#ifndef RLC_SECRET_H
#define RLC_SECRET_H

#include <stddef.h>

#define RLC_SECRET_LABEL  "ReportLink \xe2\x80\x94 doctor key"   /* "ReportLink — doctor key" */
#define RLC_SECRET_APP    "org.reportlink.ReportLink"
#define RLC_SECRET_SCHEMA "org.reportlink.DoctorKey"
#define RLC_SECRET_TARGET "ReportLink/doctor-key"

/* The longest key the store takes, in bytes: the core takes 4,095
 * (RL_MAX_KEY - 1); a Windows credential's blob holds 2,560
 * (CRED_MAX_CREDENTIAL_BLOB_SIZE). A longer one: RL_ERR_TOO_BIG. */
#ifdef _WIN32
#define RLC_SECRET_MAX_KEY 2560
#else
#define RLC_SECRET_MAX_KEY 4095
#endif

/* Who keeps the key, for the words of the options page. */
typedef enum rlc_secret_kind {
    RLC_SECRET_NONE = 0,      /* no store on this system */
    RLC_SECRET_DESKTOP,       /* a Secret Service whose provider is not known */
    RLC_SECRET_GNOME,         /* GNOME Keyring */
    RLC_SECRET_KWALLET,       /* KDE Wallet */
    RLC_SECRET_KEEPASSXC,     /* KeePassXC */
    RLC_SECRET_WINCRED        /* Windows Credential Manager */
} rlc_secret_kind;

/* Stores key (UTF-8, not empty), replacing the one stored before. */
int rlc_secret_store(const char *key, int timeout_ms);

/* Writes the stored key into key (cap bytes, NUL-terminated); "" and RL_OK
 * when there is none. On failure key is "". The caller wipes key when done. */
int rlc_secret_load(char *key, size_t cap, int timeout_ms);

/* Removes the stored key; RL_OK also when there was none. */
int rlc_secret_forget(int timeout_ms);

#ifndef _WIN32
/* For tests: the keyring helper to run instead of the one next to the
 * library (NULL or "": that one again). Any thread. A setter and not an
 * environment variable, so that nothing in the office's environment can
 * point the key at another program. */
void rlc_secret_set_helper(const char *path);
#endif

/* Which store this system has, as far as the last call could tell
 * (RLC_SECRET_NONE before any call, or when there is none). Does not block. */
rlc_secret_kind rlc_secret_where(void);

/* A stable word for a kind ("gnome", "kwallet", "keepassxc", "desktop",
 * "wincred", "none"), for the log and the words' keys. A constant string. */
static inline const char *rlc_secret_kind_name(rlc_secret_kind kind)
{
    switch (kind) {
    case RLC_SECRET_DESKTOP:   return "desktop";
    case RLC_SECRET_GNOME:     return "gnome";
    case RLC_SECRET_KWALLET:   return "kwallet";
    case RLC_SECRET_KEEPASSXC: return "keepassxc";
    case RLC_SECRET_WINCRED:   return "wincred";
    default:                   return "none";
    }
}

#endif
