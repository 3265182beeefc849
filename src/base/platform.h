/*
 * platform.h - what differs between Linux and Windows, in one place
 * (CONVENTIONS.md, habit 12). platform_posix.c and platform_win.c implement
 * it; each compiles to nothing on the other platform. No other file of src/
 * has a platform #ifdef.
 *
 * Paths are UTF-8 strings in all of ReportLink. On Windows they become
 * UTF-16 at this layer's edge (CreateFileW, MoveFileExW, ...), so that a
 * profile under C:\Users\Hélène Dupont\ works, and either '/' or '\' may
 * separate their parts. Functions that fail return -1 with errno set
 * (Windows errors are mapped to the nearest errno), unless said otherwise.
 * Every function is thread-safe.
 *
 * "Private" means readable and writable by the current user only: mode
 * 0700 for a folder, 0600 for a file on POSIX; on Windows a protected DACL
 * (nothing inherited) with a single ACE giving the current user's SID full
 * control. src/base/README.md has the reasons behind each choice.
 */
#ifndef RL_PLATFORM_H
#define RL_PLATFORM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define RL_OS_PATH_MAX 1024      /* bytes of a UTF-8 path this layer accepts, with NUL */

/* printf-like checking of fmt (argument f) and its arguments (from a):
 * mingw's "printf" means Microsoft's formats, which know no %zu. */
#ifdef __MINGW32__
#define RL_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define RL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif      /* bytes of a UTF-8 path this layer accepts, with NUL */

/* ------------------------------------------------------------ files */

/* Creates the folder path (its parent must exist), private; an existing
 * folder is made private again. -1 if path exists and is not a folder
 * (ENOTDIR; a symbolic link or junction counts as not a folder). */
int rl_os_mkdir_private(const char *path);

/* Creates the new file path, private, for writing (fails with EEXIST if
 * anything is there, and never follows a link). Returns a descriptor that
 * the caller closes with close() (_close on Windows: the same C runtime's),
 * or -1. On Windows the file is opened sharing read, write and delete, so
 * that rl_os_replace can move it while it is open. */
int rl_os_create_private(const char *path);

/* Opens the existing regular file path for reading, never through a link,
 * sharing everything (it may be replaced or removed meanwhile). Returns a
 * descriptor (close() it), or -1. */
int rl_os_open_read(const char *path);

/* The size of the file behind fd; -1 if it is not a regular file. */
int rl_os_file_size(int fd, uint64_t *size);

/* write() until len bytes are written (EINTR retried). 0 or -1. */
int rl_os_write_all(int fd, const void *data, size_t len);

/* fopen with a UTF-8 path; "b" is added on Windows whatever mode says
 * (ReportLink's files are UTF-8 with '\n'). fclose() the result. */
FILE *rl_os_fopen(const char *path, const char *mode);

/* Renames from onto to, replacing to if it exists: atomically (a reader
 * sees the old file or the new one, never none), also while from is open
 * (opened by this layer). While to is open by another handle (opened by
 * this layer) it works too, atomically on POSIX and on Windows 10 1709+
 * with NTFS; elsewhere (wine, older Windows) by renaming the target aside
 * first, which leaves a moment without the name (platform_win.c). Both
 * must be on one volume. */
int rl_os_replace(const char *from, const char *to);

/* The data of fd reach the disk (fsync; FlushFileBuffers). */
int rl_os_fsync(int fd);

/* The folder's entries (a new name, a rename) reach the disk: fsync of the
 * folder on POSIX; nothing on Windows, where NTFS journals its metadata and
 * a folder cannot be flushed through the Win32 API. 0 or -1. */
int rl_os_sync_dir(const char *path);

/* Removes the file path: 0, also when there was none; -1 otherwise. On
 * Windows a file open elsewhere (with delete sharing) goes once closed. */
int rl_os_remove(const char *path);

/* Removes the empty folder path. 0 or -1. */
int rl_os_rmdir(const char *path);

/* 1 if users other than the owner (and, on Windows, SYSTEM and the
 * Administrators, who can read everything anyway) may read path; 0 if
 * not; -1 if that cannot be told. (A key file's warning.) */
int rl_os_readable_by_others(const char *path);

/* ----------------------------------------------------- folder listing */

typedef struct rl_os_dir rl_os_dir;

/* Opens path for listing; NULL with errno. The caller closes it. */
rl_os_dir *rl_os_dir_open(const char *path);
/* The next entry's UTF-8 name, without "." and ".."; NULL at the end.
 * The name is the listing's, valid until the next call. */
const char *rl_os_dir_next(rl_os_dir *d);
void rl_os_dir_close(rl_os_dir *d);

/* ------------------------------------------ temporary files and URLs */

/* Creates a new private folder "<prefix>XXXXXX" in the user's temporary
 * folder ($TMPDIR if it is an absolute path, else /tmp; Windows:
 * GetTempPathW) and writes its path into out. 0 or -1. */
int rl_os_make_temp_dir(const char *prefix, char *out, size_t cap);

/* The file URL of the absolute path: "file:///tmp/a%20b" on POSIX,
 * "file:///C:/Users/H%C3%A9l%C3%A8ne/x" on Windows (and "file://server/share/x"
 * for \\server\share\x): UTF-8, every byte but A-Z a-z 0-9 - . _ ~ / and, on
 * Windows, the drive's ':' percent-encoded. 0, or -1 (EINVAL: not absolute;
 * ENAMETOOLONG). */
int rl_os_file_url(const char *path, char *url, size_t cap);

/* The inverse: the system path of a file URL made by rl_os_file_url (or by
 * LibreOffice: "file:///C:/..." and "file://localhost/..."). 0 or -1. */
int rl_os_path_from_url(const char *url, char *path, size_t cap);

/* The folder that holds the module (.so or .dll) this code is linked
 * into, with a trailing separator. 0 or -1. */
int rl_os_library_dir(char *out, size_t cap);

/* ------------------------------------------------------------- time */

/* The monotonic clock, in milliseconds and microseconds since some fixed
 * point (CLOCK_MONOTONIC; QueryPerformanceCounter). */
int64_t rl_os_monotonic_ms(void);
int64_t rl_os_monotonic_us(void);

/* A condition variable whose timed waits run on the monotonic clock
 * (winpthreads refuses pthread_condattr_setclock: there the wait is made
 * relative to the monotonic deadline). Destroy it with pthread_cond_destroy. */
int rl_os_cond_init(pthread_cond_t *cond);

/* Waits on cond, mutex held, until it is signalled or the monotonic clock
 * reaches deadline_ms (rl_os_monotonic_ms). Returns 0 when woken (perhaps
 * spuriously: the caller checks its condition and calls again) or ETIMEDOUT
 * once the deadline has passed (never before). */
int rl_os_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms);

/* localtime_r, with the local time's offset from UTC at t in seconds (east
 * of Greenwich positive) into *utc_offset_s. 0 or -1. */
int rl_os_localtime(time_t t, struct tm *tm, long *utc_offset_s);

/* The time_t of tm read as UTC (timegm; _mkgmtime64). */
time_t rl_os_timegm(struct tm *tm);

/* ---------------------------------------------------------- threads */

/* 1 on the process's initial thread (where LibreOffice runs its main loop),
 * 0 elsewhere. */
int rl_os_is_main_thread(void);

/* The process's id (a number for file names and logs). */
long rl_os_pid(void);

/* ---------------------------------------------------------- network */

/* inet_pton: 1 if text is an IPv6 (v6 set; 16 bytes into out) or IPv4
 * address (4 bytes) in its strict form - IPv4 as four decimal parts without
 * leading zeros, everywhere - and 0 if not. */
int rl_os_inet_pton(int v6, const char *text, void *out);

/* --------------------------------------------------------- secrets */

/* len random bytes from the system's generator (getrandom; BCryptGenRandom).
 * 0 or -1. */
int rl_os_random(void *buf, size_t len);

/* Overwrites len bytes at p with zeros in a way the compiler keeps. */
void rl_os_wipe(void *p, size_t len);

/* ------------------------------------------------------------- log */

/* Writes one finished log line (with its '\n') in one piece: to stderr;
 * on Windows, where soffice.exe has no stderr, to the debugger
 * (OutputDebugStringW) and to the file rl_os_log_to_file named. */
void rl_os_log_write(const char *line, size_t len);

/* Windows: where rl_os_log_write appends when the process has no stderr
 * (the component names <profile>/user/reportlink/reportlink.log once it
 * knows the profile); a file already past 1 MiB starts over. POSIX: nothing
 * (stderr is always there). Copies path. */
void rl_os_log_to_file(const char *path);

/* ------------------------------------------------ a command's stop */

/* For a command-line tool's main thread: waits for an interrupt (SIGINT,
 * SIGTERM; Ctrl-C, Ctrl-Break, the console closing) or a wake-up from
 * another thread. rl_os_stop_open must run before any thread is created (it
 * blocks the signals in the threads to come) and ignores SIGPIPE. The
 * caller closes it. */
typedef struct rl_os_stop rl_os_stop;
rl_os_stop *rl_os_stop_open(void);
/* Any thread; repeated wake-ups merge. */
void rl_os_stop_wake(rl_os_stop *s);
/* Blocks until either happens: 0 for a wake-up; 1 for an interrupt, with
 * *why "interrupted" (SIGINT, Ctrl-C, Ctrl-Break) or "terminated" (SIGTERM,
 * the console closing); -1 on an error. */
int rl_os_stop_wait(rl_os_stop *s, const char **why);
void rl_os_stop_close(rl_os_stop *s);

/* Standard output in binary mode, so that '\n' stays one byte (Windows). */
void rl_os_stdout_binary(void);

/* Removes the environment variable name, wiping its value first (it may be
 * a key: it then no longer shows in /proc/PID/environ). */
void rl_os_unsetenv_wipe(const char *name);

#endif
