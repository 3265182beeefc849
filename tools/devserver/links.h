/*
 * links.h - the signed download links of report documents, and the store of
 * the documents they point to.
 *
 * A link is /files/<id>.docx?expires=<unix seconds>&sig=<hex HMAC-SHA256 of
 * "<id>.<expires>">, keyed with a secret drawn at start-up, so links die with
 * the process as well as at their expiry. Only the last DS_MAX_DOCUMENTS
 * documents are kept; older ones answer "not found".
 */
#ifndef DS_LINKS_H
#define DS_LINKS_H

#include <stddef.h>

#define DS_MAX_DOCUMENTS 64
#define DS_DOC_ID_HEX    32     /* 128 random bits */
#define DS_MAX_LINK_PATH 192    /* bytes of a signed path, with NUL */

typedef enum ds_link_result {
    DS_LINK_OK = 0,
    DS_LINK_NOT_FOUND,      /* unknown or evicted id: 404 */
    DS_LINK_BAD_SIGNATURE,  /* missing or wrong expires/sig: 403 */
    DS_LINK_EXPIRED         /* good signature, past expires: 403 */
} ds_link_result;

/* Draws the signing secret. Returns 0, or -1 if no randomness is available. */
int ds_links_init(void);
/* Frees every stored document. */
void ds_links_shutdown(void);

/*
 * Stores a document and writes its signed path into path (cap bytes, at
 * least DS_MAX_LINK_PATH). The store takes ownership of doc (malloc'd) in
 * every case. Evicts the oldest document when full. Returns 0 or -1.
 */
int ds_links_store(unsigned char *doc, size_t len, long long now, int ttl_s,
                   char *path, size_t cap);

/*
 * Checks a request for document `id` (the file name without ".docx") with
 * the query values expires and sig (either may be NULL). On DS_LINK_OK,
 * the document (*data, *len) is borrowed until the next ds_links_store().
 * The id is looked up first: ids are random, so this tells nothing.
 */
ds_link_result ds_links_check(const char *id, const char *expires, const char *sig,
                              long long now, const unsigned char **data, size_t *len);

#endif
