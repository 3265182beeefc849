/* docx.c - the socket-free half of the DOCX download: is it a Word document,
 * what does an HTTP status mean, which URLs are accepted. */
#include "core_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *why, size_t cap, const char *msg)
{
    if (why && cap)
        snprintf(why, cap, "%s", msg);
    return RL_ERR_INVALID;
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define EOCD_SIZE 22      /* end of central directory record, without comment */
#define CDH_SIZE  46      /* central directory file header, without name etc. */

int rl__docx_check(const unsigned char *buf, size_t len, char *why, size_t cap)
{
    static const char types[] = "[Content_Types].xml", doc[] = "word/document.xml";
    size_t eocd = 0;
    int found = 0, have_types = 0, have_doc = 0;

    if (!buf || len < 4 || memcmp(buf, "PK\x03\x04", 4) != 0)
        return fail(why, cap, "it is not a ZIP file, so not a Word document");
    if (len < EOCD_SIZE)
        return fail(why, cap, "the ZIP file is cut short");
    /* The end record is the last thing in the file, before a comment of at
     * most 65535 bytes: search backwards over that window only. */
    size_t lowest = len - EOCD_SIZE > 65535 ? len - EOCD_SIZE - 65535 : 0;
    for (size_t i = len - EOCD_SIZE + 1; i-- > lowest;) {
        if (memcmp(buf + i, "PK\x05\x06", 4) == 0 && i + EOCD_SIZE + get16(buf + i + 20) == len) {
            eocd = i;
            found = 1;
            break;
        }
    }
    if (!found)
        return fail(why, cap, "the ZIP file has no central directory (cut short?)");
    unsigned entries = get16(buf + eocd + 10);
    uint32_t cd_size = get32(buf + eocd + 12), cd_off = get32(buf + eocd + 16);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu)
        return fail(why, cap, "the ZIP file uses ZIP64, which a Word document never needs here");
    if ((size_t)cd_off > eocd || (size_t)cd_size > eocd - cd_off)
        return fail(why, cap, "the ZIP file's central directory points outside the file");

    size_t p = cd_off, end = (size_t)cd_off + cd_size;
    for (unsigned n = 0; n < entries; n++) {
        if (end - p < CDH_SIZE || memcmp(buf + p, "PK\x01\x02", 4) != 0)
            return fail(why, cap, "the ZIP file's central directory is damaged");
        size_t name_len = get16(buf + p + 28), extra = get16(buf + p + 30),
               comment = get16(buf + p + 32);
        if (end - p - CDH_SIZE < name_len + extra + comment)
            return fail(why, cap, "the ZIP file's central directory is damaged");
        const char *name = (const char *)buf + p + CDH_SIZE;
        if (name_len == sizeof types - 1 && memcmp(name, types, name_len) == 0)
            have_types = 1;
        if (name_len == sizeof doc - 1 && memcmp(name, doc, name_len) == 0)
            have_doc = 1;
        p += CDH_SIZE + name_len + extra + comment;
    }
    if (!have_types || !have_doc)
        return fail(why, cap, have_types ? "the ZIP file has no word/document.xml: it is not a "
                                           "Word document"
                                         : "the ZIP file has no [Content_Types].xml: it is not "
                                           "an Office document");
    return RL_OK;
}

rl_docx_error rl__docx_status_error(int status, const char *body, size_t len)
{
    static const char expired[] = "link expired";
    switch (status) {
    case 200:
        return RL_DOCX_OK;
    case 401:
        return RL_DOCX_FORBIDDEN;
    case 403:
        /* The service answers an expired link with 403 "link expired"; a
         * wrong signature is a 403 too, and must not be called expired. */
        for (size_t i = 0; body && len >= sizeof expired - 1 && i <= len - (sizeof expired - 1); i++)
            if (strncasecmp(body + i, expired, sizeof expired - 1) == 0)
                return RL_DOCX_EXPIRED;
        return RL_DOCX_FORBIDDEN;
    case 404:
    case 410:
        return RL_DOCX_NOT_FOUND;
    default:
        return RL_DOCX_HTTP;
    }
}

int rl__http_url_parse(const char *url, rl__url *out, char *err, size_t errlen)
{
    char ws[RL_MAX_URL + 8];
    if (!url)
        return fail(err, errlen, "no URL");
    /* The URL grammar is the WebSocket endpoint's with another scheme name,
     * so the same strict parser is used (no user:password@, ASCII only). */
    if (strncasecmp(url, "https://", 8) == 0)
        snprintf(ws, sizeof ws, "wss://%s", url + 8);
    else if (strncasecmp(url, "http://", 7) == 0)
        snprintf(ws, sizeof ws, "ws://%s", url + 7);
    else
        return fail(err, errlen, "the document's address must start with http:// or https://");
    if (strlen(url) >= RL_MAX_URL)
        return fail(err, errlen, "the document's address is too long");
    return rl__url_parse(ws, out, err, errlen);
}

const char *rl_docx_error_name(rl_docx_error e)
{
    return rl_err_name(e);
}

void rl_docx_free(rl_docx *d)
{
    if (!d)
        return;
    free(d->bytes);
    free(d);
}
