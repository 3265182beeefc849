/* spool.c - see spool.h. */
#include "spool.h"
#include "platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP_PREFIX  ".tmp-"
#define CLEAN_EXIT  "clean-exit"

static atomic_uint sequence;

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

/* A private folder (platform.h: 0700, or an owner-only DACL), made
 * private again if it exists. */
static int make_private_dir(const char *path, char *err, size_t errlen)
{
    if (rl_os_mkdir_private(path) == 0)
        return 0;
    return fail(err, errlen, errno == ENOTDIR ? "cannot use" : "cannot create", path);
}

int rl_spool_open(const char *dir, char *err, size_t errlen)
{
    char parent[RL_SPOOL_PATH];
    size_t n = strlen(dir);

    if (n == 0 || n >= RL_SPOOL_PATH - RL_SPOOL_NAME - 16) {
        snprintf(err, errlen, "the inbox folder's path is empty or too long");
        return -1;
    }
    memcpy(parent, dir, n + 1);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (make_private_dir(parent, err, errlen) != 0)
            return -1;
    }
    return make_private_dir(dir, err, errlen);
}

static int path_of(char *out, size_t cap, const char *dir, const char *sub, const char *name)
{
    int n = snprintf(out, cap, "%s/%s%s%s", dir, sub ? sub : "", sub ? "/" : "", name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Writes len bytes to a new private file path (0600). Returns its
 * descriptor, still open so that the caller can fsync it, or -1. */
static int write_file(const char *path, const char *data, size_t len)
{
    int fd = rl_os_create_private(path);
    if (fd < 0)
        return -1;
    if (rl_os_write_all(fd, data, len) != 0) {
        int saved = errno;
        close(fd);
        rl_os_remove(path);
        errno = saved;
        return -1;
    }
    return fd;
}

int rl_spool_sync(const char *dir, int fd, char *err, size_t errlen)
{
    int rc = 0;
    if (fd < 0)
        return 0;
    if (rl_os_fsync(fd) != 0)
        rc = fail(err, errlen, "cannot sync a file of", dir);
    close(fd);
    /* The file is complete either way; only its survival of a power cut is
     * in doubt. Keep it rather than lose the report. */
    if (rl_os_sync_dir(dir) != 0)
        rc = fail(err, errlen, "cannot sync", dir);
    return rc;
}

int rl_spool_write(const char *dir, const char *data, size_t len, time_t received_at,
                   char *name, size_t namecap, char *err, size_t errlen)
{
    int fd = rl_spool_write_unsynced(dir, data, len, received_at, name, namecap, err, errlen);
    if (fd < 0)
        return -1;
    rl_spool_sync(dir, fd, err, errlen);
    return 0;
}

int rl_spool_write_unsynced(const char *dir, const char *data, size_t len, time_t received_at,
                            char *name, size_t namecap, char *err, size_t errlen)
{
    char final[RL_SPOOL_PATH], tmp[RL_SPOOL_PATH], nm[RL_SPOOL_NAME], tmpname[RL_SPOOL_NAME + 8];

    snprintf(nm, sizeof nm, "%" PRId64 "-%ld-%u.json", (int64_t)received_at, rl_os_pid(),
             atomic_fetch_add(&sequence, 1) + 1);
    snprintf(tmpname, sizeof tmpname, TMP_PREFIX "%s", nm);
    if (path_of(final, sizeof final, dir, NULL, nm) != 0 || path_of(tmp, sizeof tmp, dir, NULL, tmpname) != 0 ||
        strlen(nm) >= namecap) {
        snprintf(err, errlen, "the inbox folder's path is too long");
        return -1;
    }
    int fd = write_file(tmp, data, len);
    if (fd < 0)
        return fail(err, errlen, "cannot write", tmp);
    if (rl_os_replace(tmp, final) != 0) {
        fail(err, errlen, "cannot rename into", final);
        close(fd);
        rl_os_remove(tmp);
        return -1;
    }
    snprintf(name, namecap, "%s", nm);
    return fd;
}

/* A name this module could have written: digits '-' digits '-' digits ".json". */
static int parse_name(const char *name, time_t *received_at)
{
    const char *p = name;
    int64_t t = 0;
    int parts = 0;

    for (;;) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 18)
                return -1;
            v = v * 10 + (*p++ - '0');
        }
        if (parts++ == 0)
            t = v;
        if (parts == 3)
            break;
        if (*p++ != '-')
            return -1;
    }
    if (strcmp(p, ".json") != 0)
        return -1;
    *received_at = (time_t)t;
    return 0;
}

int rl_spool_remove(const char *dir, const char *name)
{
    char path[RL_SPOOL_PATH];
    if (!name[0] || path_of(path, sizeof path, dir, NULL, name) != 0)
        return -1;
    return rl_os_remove(path);
}

int rl_spool_reject(const char *dir, const char *name)
{
    char from[RL_SPOOL_PATH], sub[RL_SPOOL_PATH], to[RL_SPOOL_PATH];
    if (path_of(from, sizeof from, dir, NULL, name) != 0 ||
        path_of(sub, sizeof sub, dir, NULL, RL_SPOOL_REJECTED) != 0 ||
        path_of(to, sizeof to, dir, RL_SPOOL_REJECTED, name) != 0)
        return -1;
    if (make_private_dir(sub, NULL, 0) != 0)
        return -1;
    return rl_os_replace(from, to);
}

int rl_spool_clean_exit(const char *dir, int set)
{
    char path[RL_SPOOL_PATH];
    if (path_of(path, sizeof path, dir, NULL, CLEAN_EXIT) != 0)
        return -1;
    if (set) {
        rl_os_remove(path);
        int fd = write_file(path, "", 0);
        if (fd < 0)
            return -1;
        rl_os_fsync(fd);
        return close(fd);
    }
    /* 1 if it was there (and is gone now). */
    int fd = rl_os_open_read(path);
    if (fd < 0)
        return 0;
    close(fd);
    return rl_os_remove(path) == 0;
}

/* Reads a regular file of at most max bytes, NUL-terminated; the caller
 * frees it. NULL with why set. */
static char *read_file(const char *dir, const char *name, size_t max, size_t *len, const char **why)
{
    char path[RL_SPOOL_PATH];
    uint64_t size;
    char *buf = NULL;
    int fd = path_of(path, sizeof path, dir, NULL, name) == 0 ? rl_os_open_read(path) : -1;

    if (fd < 0) {
        *why = "cannot be opened";
        return NULL;
    }
    if (rl_os_file_size(fd, &size) != 0) {
        *why = "is not a regular file";
        goto out;
    }
    if (size > max) {
        *why = "is larger than the largest message";
        goto out;
    }
    if (!(buf = malloc((size_t)size + 1))) {
        *why = "does not fit in memory";
        goto out;
    }
    size_t done = 0;
    while (done < (size_t)size) {
        ssize_t r = read(fd, buf + done, (size_t)size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (done != (size_t)size) {
        *why = "cannot be read";
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[done] = '\0';
    *len = done;
out:
    close(fd);
    return buf;
}

typedef struct found {
    char name[RL_SPOOL_NAME];
    time_t at;
} found;

static int by_time(const void *a, const void *b)
{
    const found *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return strcmp(x->name, y->name);
}

int rl_spool_scan(const char *dir, size_t max_bytes, rl_spool_visit_fn visit, rl_spool_bad_fn bad,
                  void *user, char *err, size_t errlen)
{
    found *list = calloc(RL_SPOOL_MAX_FILES, sizeof *list);
    size_t n = 0;
    const char *nm;
    rl_os_dir *d;
    int visited = 0;

    if (!list) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(d = rl_os_dir_open(dir))) {
        free(list);
        return fail(err, errlen, "cannot read", dir);
    }
    while (n < RL_SPOOL_MAX_FILES && (nm = rl_os_dir_next(d)) != NULL) {
        time_t at;
        if (!strcmp(nm, RL_SPOOL_REJECTED) || !strcmp(nm, CLEAN_EXIT))
            continue;
        if (strlen(nm) >= RL_SPOOL_NAME || parse_name(nm, &at) != 0) {
            /* An interrupted write (".tmp-…") or a name we never write. */
            if (strlen(nm) < RL_SPOOL_NAME) {
                snprintf(list[n].name, sizeof list[n].name, "%s", nm);
                list[n++].at = (time_t)-1;   /* marks "not a report file" */
            }
            continue;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", nm);
        list[n++].at = at;
    }
    /* Closed before files are moved aside: Windows lets a listed folder
     * change, but nothing is gained by holding it. */
    rl_os_dir_close(d);
    qsort(list, n, sizeof *list, by_time);
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        size_t len = 0;
        char *data = NULL;
        if (list[i].at == (time_t)-1)
            why = strncmp(list[i].name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0
                      ? "is an interrupted write" : "is not a report file";
        else
            data = read_file(dir, list[i].name, max_bytes, &len, &why);
        if (!data) {
            rl_spool_reject(dir, list[i].name);
            if (bad)
                bad(user, list[i].name, why);
            continue;
        }
        rl_spool_file f = { list[i].name, list[i].at, data, len };
        visit(user, &f);
        free(data);
        visited++;
    }
    free(list);
    return visited;
}
