/* secret_wincred.c - the doctor's key in the Windows Credential Manager
 * (secret.h).
 *
 * One generic credential of the user, target RLC_SECRET_TARGET, persisted
 * for this user on this computer (CRED_PERSIST_LOCAL_MACHINE: it does not
 * roam to other computers of a domain). Windows encrypts it with the user's
 * logon credentials. The key is stored as its UTF-8 bytes in the
 * credential's blob. The calls are local and do not prompt: timeout_ms is
 * not needed and ignored. Compiles to nothing elsewhere than Windows. */
#ifdef _WIN32

#include "secret.h"

#include "rl_error.h"

#include <string.h>
#include <windows.h>
#include <wincred.h>

#define TARGET_W L"ReportLink/doctor-key"   /* RLC_SECRET_TARGET */
#define COMMENT_W L"ReportLink \x2014 doctor key"

static int map_error(DWORD e)
{
    switch (e) {
    case ERROR_NOT_FOUND:
        return RL_OK;
    case ERROR_NO_SUCH_LOGON_SESSION:   /* no profile loaded: a service account */
    case ERROR_INVALID_FUNCTION:
        return RL_ERR_NO_KEYRING;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return RL_ERR_NOMEM;
    default:
        return RL_ERR_KEYRING_FAILED;
    }
}

static void wipe(void *p, size_t n)
{
    SecureZeroMemory(p, n);
}

int rlc_secret_store(const char *key, int timeout_ms)
{
    CREDENTIALW c;
    size_t n = key ? strlen(key) : 0;

    (void)timeout_ms;
    if (!n)
        return RL_ERR_INVALID;
    if (n > RLC_SECRET_MAX_KEY)   /* 5 * 512 (mingw-w64 still says 512, Windows 2,560) */
        return RL_ERR_TOO_BIG;
    memset(&c, 0, sizeof c);
    c.Type = CRED_TYPE_GENERIC;
    c.TargetName = TARGET_W;
    c.Comment = COMMENT_W;
    c.CredentialBlobSize = (DWORD)n;
    c.CredentialBlob = (LPBYTE)(void *)key;   /* read only by CredWriteW */
    c.Persist = CRED_PERSIST_LOCAL_MACHINE;
    c.UserName = L"doctor";
    if (!CredWriteW(&c, 0)) {
        int rc = map_error(GetLastError());
        return rc == RL_OK ? RL_ERR_KEYRING_FAILED : rc;
    }
    return RL_OK;
}

int rlc_secret_load(char *key, size_t cap, int timeout_ms)
{
    PCREDENTIALW c = NULL;
    int rc = RL_OK;

    (void)timeout_ms;
    if (!cap)
        return RL_ERR_INVALID;
    key[0] = '\0';
    if (!CredReadW(TARGET_W, CRED_TYPE_GENERIC, 0, &c))
        return map_error(GetLastError());
    if (c->CredentialBlobSize >= cap)
        rc = RL_ERR_TOO_BIG;
    else if (c->CredentialBlobSize && memchr(c->CredentialBlob, 0, c->CredentialBlobSize))
        rc = RL_ERR_KEYRING_FAILED;   /* not a key ReportLink wrote */
    else {
        memcpy(key, c->CredentialBlob, c->CredentialBlobSize);
        key[c->CredentialBlobSize] = '\0';
    }
    if (c->CredentialBlob)
        wipe(c->CredentialBlob, c->CredentialBlobSize);
    CredFree(c);
    if (rc != RL_OK)
        wipe(key, cap);
    return rc;
}

int rlc_secret_forget(int timeout_ms)
{
    (void)timeout_ms;
    if (!CredDeleteW(TARGET_W, CRED_TYPE_GENERIC, 0))
        return map_error(GetLastError());
    return RL_OK;
}

rlc_secret_kind rlc_secret_where(void)
{
    return RLC_SECRET_WINCRED;
}

#endif /* _WIN32 */
