/* platform_url.c - see platform_url.h. The same on every platform. */
#include "platform_url.h"

#include <errno.h>
#include <string.h>

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int rl__url_encode_path(const char *prefix, const char *path, int windows, char *url, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(prefix);
    int drive = windows && ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
                path[1] == ':';

    if (n + 1 > cap)
        goto too_long;
    memcpy(url, prefix, n);
    for (size_t i = 0; path[i]; i++) {
        unsigned char c = (unsigned char)path[i];
        if (n + 4 > cap)
            goto too_long;
        if (windows && c == '\\')
            url[n++] = '/';
        else if (unreserved(c) || c == '/' || (drive && i == 1))
            url[n++] = (char)c;
        else {
            url[n++] = '%';
            url[n++] = hex[c >> 4];
            url[n++] = hex[c & 15];
        }
    }
    url[n] = '\0';
    return 0;
too_long:
    errno = ENAMETOOLONG;
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int rl__url_decode(const char *src, char *dst, size_t cap, char sep)
{
    size_t n = 0;
    for (; *src; src++) {
        char c = *src;
        if (c == '%') {
            int hi = hexval(src[1]), lo = hi < 0 ? -1 : hexval(src[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                errno = EINVAL;
                return -1;
            }
            c = (char)(hi * 16 + lo);
            src += 2;
        } else if (c == '/') {
            c = sep;
        }
        if (n + 1 >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        dst[n++] = c;
    }
    if (cap == 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    dst[n] = '\0';
    return 0;
}
