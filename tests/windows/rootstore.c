/* rootstore.c - test helper, run under wine: puts a CA certificate into, or
 * takes it out of, the current user's "Trusted Root Certification
 * Authorities" (the ROOT system store), through the same crypt32 API an
 * administrator's tools use. tests/integration/test_listen.py compiles it
 * with mingw-w64 for its "Windows certificate store" case.
 *
 *   rootstore.exe add CERT.der      exit 0 when the store holds it
 *   rootstore.exe add-codesign CERT.der
 *                                   the same, its purposes restricted to code
 *                                   signing (certmgr's "Enable only the
 *                                   following purposes"): not a TLS server root
 *   rootstore.exe remove CERT.der   exit 0 when the store no longer holds it
 *   rootstore.exe has CERT.der      exit 0 if the store holds it, 1 if not
 *
 * (On Windows itself, adding to the user's ROOT store asks the user to
 * confirm in a dialog; wine does not.) */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>

static BYTE der[64 * 1024];

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rootstore add|remove|has CERT.der\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        fprintf(stderr, "rootstore: cannot open %s\n", argv[2]);
        return 2;
    }
    size_t n = fread(der, 1, sizeof der, f);
    fclose(f);
    const CERT_CONTEXT *cert = CertCreateCertificateContext(X509_ASN_ENCODING, der, (DWORD)n);
    if (!cert) {
        fprintf(stderr, "rootstore: %s is not a DER certificate (error %lu)\n", argv[2], GetLastError());
        return 2;
    }
    /* "has" looks as ReportLink does (src/core/trust_win.c); add and remove
     * work on the user's own registry part of it: wine's system store is a
     * collection, from which a deletion does not reach the registry. */
    HCERTSTORE store = strcmp(argv[1], "has") == 0
        ? CertOpenSystemStoreW(0, L"ROOT")
        : CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0,
                        CERT_SYSTEM_STORE_CURRENT_USER, L"ROOT");
    if (!store) {
        fprintf(stderr, "rootstore: cannot open the ROOT store (error %lu)\n", GetLastError());
        return 2;
    }
    int rc = 0;
    const CERT_CONTEXT *found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0,
                                                           CERT_FIND_EXISTING, cert, NULL);
    if (!strcmp(argv[1], "add") || !strcmp(argv[1], "add-codesign")) {
        const CERT_CONTEXT *added = NULL;
        if (!found && !CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD_NEW, &added)) {
            fprintf(stderr, "rootstore: adding failed (error %lu)\n", GetLastError());
            rc = 1;
        }
        if (added && !strcmp(argv[1], "add-codesign")) {
            char *oids[] = { szOID_PKIX_KP_CODE_SIGNING };
            CERT_ENHKEY_USAGE usage = { 1, oids };
            if (!CertSetEnhancedKeyUsage(added, &usage)) {
                fprintf(stderr, "rootstore: restricting failed (error %lu)\n", GetLastError());
                rc = 1;
            }
        }
        if (added)
            CertFreeCertificateContext(added);
    } else if (!strcmp(argv[1], "remove")) {
        /* CertDeleteCertificateFromStore frees the context it is given. */
        if (found && !CertDeleteCertificateFromStore(found)) {
            fprintf(stderr, "rootstore: removing failed (error %lu)\n", GetLastError());
            rc = 1;
        }
        found = NULL;
    } else if (!strcmp(argv[1], "has")) {
        rc = found ? 0 : 1;
    } else {
        rc = 2;
    }
    if (found)
        CertFreeCertificateContext(found);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    return rc;
}
