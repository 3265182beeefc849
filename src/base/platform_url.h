/* platform_url.h - the file-URL spelling shared by platform_posix.c and
 * platform_win.c (platform.h: rl_os_file_url, rl_os_path_from_url). */
#ifndef RL_PLATFORM_URL_H
#define RL_PLATFORM_URL_H

#include <stddef.h>

/* url = prefix + path, every byte of path percent-encoded but A-Z a-z 0-9
 * - . _ ~ and '/'; with windows set, '\' is written '/' and a drive's ':'
 * (path "C:...") is kept. 0, or -1 with errno ENAMETOOLONG. */
int rl__url_encode_path(const char *prefix, const char *path, int windows, char *url, size_t cap);

/* Decodes the %XX of src into dst, writing '/' as sep. 0, or -1 with errno
 * EINVAL (a bad escape, an encoded NUL) or ENAMETOOLONG. */
int rl__url_decode(const char *src, char *dst, size_t cap, char sep);

#endif
