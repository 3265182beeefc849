/* platform_posix.c - platform.h on Linux (and any POSIX system with
 * getrandom, signalfd and eventfd). Compiles to nothing on Windows. */
#ifndef _WIN32

#include "platform.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform_url.h"

/* ------------------------------------------------------------ files */

int rl_os_mkdir_private(const char *path)
{
    struct stat st;
    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    if ((st.st_mode & 07777) != 0700 && chmod(path, 0700) != 0)
        return -1;
    return 0;
}

int rl_os_create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    /* The umask may have taken bits away; it cannot have added any, but
     * say exactly what the file is. */
    if (fchmod(fd, 0600) != 0) {
        int saved = errno;
        close(fd);
        unlink(path);
        errno = saved;
        return -1;
    }
    return fd;
}

int rl_os_open_read(const char *path)
{
    /* O_NONBLOCK: a FIFO put in our folder does not block the open. */
    return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

int rl_os_file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int rl_os_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

FILE *rl_os_fopen(const char *path, const char *mode)
{
    return fopen(path, mode);
}

int rl_os_replace(const char *from, const char *to)
{
    return rename(from, to);
}

int rl_os_fsync(int fd)
{
    return fsync(fd);
}

int rl_os_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int rl_os_remove(const char *path)
{
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int rl_os_rmdir(const char *path)
{
    return rmdir(path);
}

int rl_os_readable_by_others(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (st.st_mode & 077) != 0;
}

/* ----------------------------------------------------- folder listing */

struct rl_os_dir {
    DIR *d;
};

rl_os_dir *rl_os_dir_open(const char *path)
{
    rl_os_dir *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    if (!(d->d = opendir(path))) {
        int saved = errno;
        free(d);
        errno = saved;
        return NULL;
    }
    return d;
}

const char *rl_os_dir_next(rl_os_dir *d)
{
    struct dirent *de;
    while ((de = readdir(d->d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            return de->d_name;
    }
    return NULL;
}

void rl_os_dir_close(rl_os_dir *d)
{
    if (d) {
        closedir(d->d);
        free(d);
    }
}

/* ------------------------------------------ temporary files and URLs */

int rl_os_make_temp_dir(const char *prefix, char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > 200)
        tmp = "/tmp";
    int n = snprintf(out, cap, "%s/%sXXXXXX", tmp, prefix);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(out) ? 0 : -1;   /* mkdtemp makes it 0700 */
}

int rl_os_file_url(const char *path, char *url, size_t cap)
{
    if (path[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    return rl__url_encode_path("file://", path, 0, url, cap);
}

int rl_os_path_from_url(const char *url, char *path, size_t cap)
{
    const char *p;
    if (strncmp(url, "file://", 7) != 0) {
        errno = EINVAL;
        return -1;
    }
    p = url + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/') {            /* another host's file */
        errno = EINVAL;
        return -1;
    }
    return rl__url_decode(p, path, cap, '/');
}

int rl_os_library_dir(char *out, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)rl_os_library_dir, &info) || !info.dli_fname) {
        errno = ENOENT;
        return -1;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    size_t len = slash ? (size_t)(slash - info.dli_fname) + 1 : 0;
    if (len + 1 > cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(out, info.dli_fname, len);
    out[len] = '\0';
    return 0;
}

/* ------------------------------------------------------------- time */

int64_t rl_os_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rl_os_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int rl_os_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc == 0)
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

int rl_os_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
    struct timespec until = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L };
    int rc = pthread_cond_timedwait(cond, mutex, &until);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

int rl_os_localtime(time_t t, struct tm *tm, long *utc_offset_s)
{
    if (!localtime_r(&t, tm))
        return -1;
    *utc_offset_s = tm->tm_gmtoff;
    return 0;
}

time_t rl_os_timegm(struct tm *tm)
{
    return timegm(tm);
}

/* ---------------------------------------------------------- threads */

int rl_os_is_main_thread(void)
{
    /* The process's initial thread is the one whose thread id is the
     * process id. */
    return gettid() == getpid();
}

long rl_os_pid(void)
{
    return (long)getpid();
}

/* ---------------------------------------------------------- network */

int rl_os_inet_pton(int v6, const char *text, void *out)
{
    /* glibc's inet_pton takes IPv4 only as four decimal parts without
     * leading zeros. */
    return inet_pton(v6 ? AF_INET6 : AF_INET, text, out) == 1;
}

/* --------------------------------------------------------- secrets */

int rl_os_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void rl_os_wipe(void *p, size_t len)
{
    explicit_bzero(p, len);
}

/* ------------------------------------------------------------- log */

void rl_os_log_write(const char *line, size_t len)
{
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;   /* nowhere to report a failing stderr */
}

void rl_os_log_to_file(const char *path)
{
    (void)path;      /* stderr is always there */
}

/* ------------------------------------------------ a command's stop */

struct rl_os_stop {
    int signal_fd;   /* SIGINT, SIGTERM, blocked and read synchronously */
    int wake_fd;     /* eventfd: another thread asks the waiter to go on */
};

rl_os_stop *rl_os_stop_open(void)
{
    rl_os_stop *s = malloc(sizeof *s);
    sigset_t sigs;
    if (!s)
        return NULL;
    /* Signals are taken synchronously by the waiting thread only: blocked
     * here, before any other thread exists, they stay blocked in all. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->signal_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
    s->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (s->signal_fd < 0 || s->wake_fd < 0) {
        int saved = errno;
        rl_os_stop_close(s);
        errno = saved;
        return NULL;
    }
    return s;
}

void rl_os_stop_wake(rl_os_stop *s)
{
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof one) < 0)
        perror("eventfd");
}

int rl_os_stop_wait(rl_os_stop *s, const char **why)
{
    struct pollfd pfd[2] = { { s->signal_fd, POLLIN, 0 }, { s->wake_fd, POLLIN, 0 } };
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            *why = "terminated";
            if (read(s->signal_fd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo == SIGINT)
                *why = "interrupted";
            return 1;
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t n;
            if (read(s->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
                return -1;
            return 0;
        }
    }
}

void rl_os_stop_close(rl_os_stop *s)
{
    if (s) {
        if (s->signal_fd >= 0)
            close(s->signal_fd);
        if (s->wake_fd >= 0)
            close(s->wake_fd);
        free(s);
    }
}

void rl_os_stdout_binary(void)
{
    /* POSIX has no text mode. */
}

void rl_os_unsetenv_wipe(const char *name)
{
    char *v = getenv(name);
    if (v)
        explicit_bzero(v, strlen(v));
    unsetenv(name);
}

#endif
