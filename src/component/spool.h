/*
 * spool.h - waiting reports kept on disk, so that a crash loses none.
 *
 * No UNO here (unit-tested in tests/unit/test_spool.c). One file per report
 * in a directory of the user's profile (<profile>/user/reportlink/inbox):
 * the report's original message, byte for byte, named
 * "<received, Unix seconds>-<pid>-<sequence>.json" so that the time it was
 * received survives and names never collide between sessions. The
 * directory is 0700 and the files 0600 (on Windows an owner-only ACL):
 * readable by the profile's owner only. A file is written atomically (a
 * temporary file in the same directory, fsync, rename, fsync of the
 * directory: platform.h's rl_os_* on each system) and removed once its
 * report is placed or discarded. Files that cannot be used are moved aside
 * into "<dir>/rejected/", never deleted. Only waiting reports are on disk:
 * patient data at rest is kept to what could otherwise be lost.
 */
#ifndef RL_SPOOL_H
#define RL_SPOOL_H

#include <stddef.h>
#include <time.h>

#define RL_SPOOL_NAME      64                  /* bytes of a file name, with NUL */
#define RL_SPOOL_PATH      1024                /* bytes of the directory, with NUL */
#define RL_SPOOL_MAX_FILES 1000                /* files looked at by one scan */
#define RL_SPOOL_REJECTED  "rejected"          /* the subdirectory of files moved aside */

/* Creates dir (and its parent) if needed with mode 0700, and makes an
 * existing dir 0700. Returns 0, or -1 with the reason in err. */
int rl_spool_open(const char *dir, char *err, size_t errlen);

/* Writes data atomically into a new file of dir for a report received at
 * received_at; its name goes to name (RL_SPOOL_NAME bytes). Returns 0, or
 * -1 with the reason in err (no file is left behind). */
int rl_spool_write(const char *dir, const char *data, size_t len, time_t received_at,
                   char *name, size_t namecap, char *err, size_t errlen);

/* The same in two steps, so that the disk's latency stays out of a
 * report's way to the letter: _unsynced writes and renames the file (from
 * then on it survives the office being killed: the data is in the kernel)
 * and returns its open descriptor, or -1 with the reason in err;
 * rl_spool_sync fsyncs the file and dir and closes fd (from then on it
 * survives a power cut). Returns 0, or -1 with err set (the file stays). */
int rl_spool_write_unsynced(const char *dir, const char *data, size_t len, time_t received_at,
                            char *name, size_t namecap, char *err, size_t errlen);
int rl_spool_sync(const char *dir, int fd, char *err, size_t errlen);

/* Removes file name of dir. Returns 0 (also when it did not exist), or -1. */
int rl_spool_remove(const char *dir, const char *name);

/* Moves file name of dir into dir/rejected/ (created 0700). Returns 0 or -1. */
int rl_spool_reject(const char *dir, const char *name);

/* The office ended cleanly: a marker file "clean-exit" in dir. set=1
 * writes it (at exit); set=0 removes it (at start) and returns 1 if it was
 * there, 0 if not: the waiting reports then come from a session that
 * crashed or was killed. */
int rl_spool_clean_exit(const char *dir, int set);

/* What a scan found. data is NUL-terminated; it is borrowed for the call. */
typedef struct rl_spool_file {
    const char *name;
    time_t received_at;
    const char *data;
    size_t len;
} rl_spool_file;

/* Called for each report file, oldest first. */
typedef void (*rl_spool_visit_fn)(void *user, const rl_spool_file *f);
/* Called for each file that is not a report file (an interrupted write's
 * temporary file, a foreign name, one larger than max_bytes, unreadable):
 * it has been moved aside already; why says why. */
typedef void (*rl_spool_bad_fn)(void *user, const char *name, const char *why);

/* Looks at every file of dir (not its subdirectories). Returns the number
 * of report files visited, or -1 with the reason in err if dir cannot be
 * read. */
int rl_spool_scan(const char *dir, size_t max_bytes, rl_spool_visit_fn visit, rl_spool_bad_fn bad,
                  void *user, char *err, size_t errlen);

#endif
