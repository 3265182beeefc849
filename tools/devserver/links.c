/*
 * links.c - HMAC-signed document links and the bounded document store
 * (see links.h).
 */
#include "links.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_BYTES 32
#define SIG_BYTES    32     /* SHA-256 */

typedef struct stored_doc {
    char id[DS_DOC_ID_HEX + 1];
    unsigned char *data;    /* owned */
    size_t len;
} stored_doc;

static unsigned char secret[SECRET_BYTES];
/* A ring: next_slot is the oldest entry once the store has filled up. */
static stored_doc docs[DS_MAX_DOCUMENTS];
static unsigned next_slot;

int ds_links_init(void)
{
    return RAND_bytes(secret, sizeof(secret)) == 1 ? 0 : -1;
}

void ds_links_shutdown(void)
{
    unsigned i;

    for (i = 0; i < DS_MAX_DOCUMENTS; i++) {
        free(docs[i].data);
        memset(&docs[i], 0, sizeof(docs[i]));
    }
    OPENSSL_cleanse(secret, sizeof(secret));
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* HMAC-SHA256 of "<id>.<expires>" into mac. Returns 0 or -1. */
static int sign(const char *id, const char *expires, unsigned char mac[SIG_BYTES])
{
    char msg[DS_DOC_ID_HEX + 1 + 32];
    unsigned int mac_len = 0;
    int n = snprintf(msg, sizeof(msg), "%s.%s", id, expires);

    if (n < 0 || (size_t)n >= sizeof(msg))
        return -1;
    if (!HMAC(EVP_sha256(), secret, sizeof(secret), (const unsigned char *)msg,
              (size_t)n, mac, &mac_len) || mac_len != SIG_BYTES)
        return -1;
    return 0;
}

int ds_links_store(unsigned char *doc, size_t len, long long now, int ttl_s,
                   char *path, size_t cap)
{
    unsigned char rnd[DS_DOC_ID_HEX / 2], mac[SIG_BYTES];
    char expires[24], sig_hex[2 * SIG_BYTES + 1];
    stored_doc *slot;
    int n;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto fail;
    slot = &docs[next_slot];
    free(slot->data);
    memset(slot, 0, sizeof(*slot));
    to_hex(rnd, sizeof(rnd), slot->id);
    snprintf(expires, sizeof(expires), "%lld", now + ttl_s);
    if (sign(slot->id, expires, mac))
        goto fail;
    to_hex(mac, sizeof(mac), sig_hex);
    n = snprintf(path, cap, "/files/%s.docx?expires=%s&sig=%s", slot->id, expires, sig_hex);
    if (n < 0 || (size_t)n >= cap)
        goto fail;
    slot->data = doc;
    slot->len = len;
    next_slot = (next_slot + 1) % DS_MAX_DOCUMENTS;
    return 0;
fail:
    free(doc);
    return -1;
}

ds_link_result ds_links_check(const char *id, const char *expires, const char *sig,
                              long long now, const unsigned char **data, size_t *len)
{
    unsigned char want[SIG_BYTES], got[SIG_BYTES];
    const stored_doc *found = NULL;
    long long exp;
    char *end;
    size_t i;

    for (i = 0; i < DS_MAX_DOCUMENTS; i++)
        if (docs[i].data && !strcmp(docs[i].id, id))
            found = &docs[i];
    if (!found)
        return DS_LINK_NOT_FOUND;
    if (!expires || !sig || strlen(sig) != 2 * SIG_BYTES || !*expires ||
        strlen(expires) > 20)
        return DS_LINK_BAD_SIGNATURE;
    for (i = 0; i < SIG_BYTES; i++) {
        int hi = hex_value(sig[2 * i]), lo = hex_value(sig[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return DS_LINK_BAD_SIGNATURE;
        got[i] = (unsigned char)(hi << 4 | lo);
    }
    if (sign(found->id, expires, want) || CRYPTO_memcmp(want, got, SIG_BYTES))
        return DS_LINK_BAD_SIGNATURE;
    /* Only a signed value is parsed, so it is one this process wrote. */
    exp = strtoll(expires, &end, 10);
    if (*end || now > exp)
        return DS_LINK_EXPIRED;
    *data = found->data;
    *len = found->len;
    return DS_LINK_OK;
}
