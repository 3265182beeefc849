/* trust_win.c - Windows: the certificates the user's and the machine's
 * "Trusted Root Certification Authorities" hold, for OpenSSL.
 *
 * OpenSSL on Windows has no trust store of its own (its OPENSSLDIR,
 * C:\Program Files\Common Files\SSL, does not normally exist), so without this
 * every wss:// server would be "not issued by a trusted authority". The ROOT
 * system store opened for the current user includes the machine's roots and
 * those a clinic's IT deploys by group policy. Verification itself stays
 * OpenSSL's, with the same words on both platforms (client_connect.c).
 *
 * Elsewhere rl__tls_add_system_roots adds nothing: OpenSSL's default paths
 * are the system store. Thread: the service thread (rl__tls_ensure_trust,
 * before the first TLS connection). */
#include "client_internal.h"   /* libwebsockets.h: winsock2.h, windows.h, OpenSSL */

#ifdef _WIN32

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>
/* Last: it defines X509_NAME & co. as macros, which OpenSSL's own headers
 * would have had to undo; nothing below names those. */
#include <wincrypt.h>

/* May this root vouch for a TLS server? A root whose enhanced key usage the
 * user or the administrator restricted (certmgr's "Enable only the following
 * purposes") without server authentication, or disabled for every purpose,
 * must not: Windows would refuse it for a server too. */
static int root_may_serve_tls(const CERT_CONTEXT *cc)
{
    DWORD size = 0;
    if (!CertGetEnhancedKeyUsage(cc, 0, NULL, &size) || size == 0)
        return 0;
    CERT_ENHKEY_USAGE *usage = (CERT_ENHKEY_USAGE *)LocalAlloc(LMEM_FIXED, size);
    if (!usage)
        return 0;
    int ok = 0;
    if (CertGetEnhancedKeyUsage(cc, 0, usage, &size)) {
        if (usage->cUsageIdentifier == 0)
            /* No restriction at all, or "not valid for any usage". */
            ok = GetLastError() == (DWORD)CRYPT_E_NOT_FOUND;
        for (DWORD i = 0; i < usage->cUsageIdentifier && !ok; i++)
            ok = strcmp(usage->rgpszUsageIdentifier[i], szOID_PKIX_KP_SERVER_AUTH) == 0;
    }
    LocalFree(usage);
    return ok;
}

int rl__tls_add_system_roots(void *ssl_ctx)
{
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
    HCERTSTORE roots = CertOpenSystemStoreW(0, L"ROOT");
    if (!store || !roots) {
        lwsl_err("reportlink: cannot open the Windows certificate store ROOT (error %lu)\n",
                 (unsigned long)GetLastError());
        if (roots)
            CertCloseStore(roots, 0);
        return -1;
    }
    int added = 0;
    const CERT_CONTEXT *cc = NULL;
    /* CertEnumCertificatesInStore frees the previous context itself. */
    while ((cc = CertEnumCertificatesInStore(roots, cc)) != NULL) {
        if (!(cc->dwCertEncodingType & X509_ASN_ENCODING) || !root_may_serve_tls(cc))
            continue;
        const unsigned char *der = cc->pbCertEncoded;
        X509 *x = d2i_X509(NULL, &der, (long)cc->cbCertEncoded);
        if (!x)
            continue;
        /* OpenSSL 3 takes its own reference, and ignores a duplicate. */
        if (X509_STORE_add_cert(store, x))
            added++;
        X509_free(x);
    }
    CertCloseStore(roots, 0);
    lwsl_info("reportlink: %d trusted roots from the Windows certificate store\n", added);
    return added;
}

#else

int rl__tls_add_system_roots(void *ssl_ctx)
{
    (void)ssl_ctx;
    return 0;
}

#endif /* _WIN32 */
