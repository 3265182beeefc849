/* link_spool.c - waiting reports on disk: each written as it arrives,
 * removed when it goes for good, brought back into the inbox at start-up
 * (README.md, "Waiting reports on disk"; the files themselves: spool.c).
 *
 * Threads: rlc__spool_report_unsynced and rlc__spool_sync run on the
 * network thread (rlc__on_core_event), rlc__spool_report on the main thread
 * (a report from applyReport); they take no lock: spool_dir is set once, at
 * start-up, and never changes after. spool_release is the inbox's hook and
 * runs under l->lock. rlc__spool_start runs once, in link_create, under
 * the_lock.
 *
 * Ownership: the reports written are borrowed; a file's name belongs to its
 * inbox entry (rl_inbox_entry.spool), and a recovered report to the inbox. */
#include "link_internal.h"
#include "platform.h"
#include "spool.h"

#include <stdio.h>
#include <stdlib.h>

/* Writes r's message into the spool; its file name goes to name ("" when
 * the spool is not usable or the write failed, which is logged). Any
 * thread: spool_dir does not change after start-up. */
void rlc__spool_report(report_link *l, const rl_report *r, time_t at, char *name, size_t cap)
{
    int fd = rlc__spool_report_unsynced(l, r, at, name, cap);
    rlc__spool_sync(l, fd);
}

/* The same, leaving the fsync to rlc__spool_sync(fd) (-1: nothing to sync). */
int rlc__spool_report_unsynced(report_link *l, const rl_report *r, time_t at, char *name, size_t cap)
{
    char err[RL_MAX_DETAIL];
    int fd;
    name[0] = '\0';
    if (!l->spool_dir[0] || !r->raw)
        return -1;
    if ((fd = rl_spool_write_unsynced(l->spool_dir, r->raw, r->raw_len, at, name, cap, err, sizeof err)) < 0)
        rl_log("a report could not be kept on disk (it is lost if LibreOffice stops before it is placed): %s",
                err);
    return fd;
}

void rlc__spool_sync(report_link *l, int fd)
{
    char err[RL_MAX_DETAIL];
    if (fd >= 0 && rl_spool_sync(l->spool_dir, fd, err, sizeof err) != 0)
        rl_log("a report kept on disk may not survive a power cut: %s", err);
}

/* The inbox's hook: a report placed, discarded or dropped leaves the disk.
 * Called under l->lock. */
static void spool_release(void *user, const rl_inbox_entry *e)
{
    report_link *l = user;
    if (e->spool[0] && rl_spool_remove(l->spool_dir, e->spool) != 0)
        rl_log("cannot remove %s/%s", l->spool_dir, e->spool);
}

typedef struct recovery {
    report_link *l;
    const char *reason;
    int recovered, rejected, dropped;
} recovery;

static void recover_one(void *user, const rl_spool_file *f)
{
    recovery *rc = user;
    report_link *l = rc->l;
    char why[RL_MAX_DETAIL];
    rl_event_kind kind;
    rl_report *r = NULL;
    char *message = NULL;
    unsigned dropped = 0;
    int code;

    /* Checked again as if it had just arrived: the file may have been
     * damaged or written by another version. */
    int valid = rl_validate_message(f->data, f->len, &kind, &r, &code, &message, why, sizeof why) == RL_OK;
    if (!valid || !r) {
        free(message);
        rl_log("inbox file %s is not a valid report (%s); moved to %s/%s", f->name,
                valid ? "not a report_ready message" : why, l->spool_dir, RL_SPOOL_REJECTED);
        rc->rejected++;
        rl_spool_reject(l->spool_dir, f->name);
        return;
    }
    pthread_mutex_lock(&l->lock);
    sal_Int32 id = rl_inbox_add(l->inbox, r, f->received_at, &dropped);
    rl_inbox_entry *e = rl_inbox_find(l->inbox, id);   /* there: the lock is held since the add */
    if (e)
        snprintf(e->spool, sizeof e->spool, "%s", f->name);
    rl_inbox_mark_waiting(l->inbox, id, rc->reason);
    pthread_mutex_unlock(&l->lock);
    rc->recovered++;
    rc->dropped += (int)dropped;
}

static void recover_bad(void *user, const char *name, const char *why)
{
    recovery *rc = user;
    rc->rejected++;
    rl_log("inbox file %s %s; moved to %s/%s", name, why, rc->l->spool_dir, RL_SPOOL_REJECTED);
}

/* Start-up: finds the spool in the user profile and puts the reports left
 * there by the previous session back into the inbox, waiting (they are not
 * placed on their own: the letter open now may be another patient's).
 * Runs in link_create under the_lock: PathSubstitution takes its own mutex
 * and reads the configuration and bootstrap variables, never the office's
 * SolarMutex (framework/source/services/substitutepathvars.cxx). */
void rlc__spool_start(report_link *l)
{
    char profile[RLC_MAX_PATH], err[RL_MAX_DETAIL];
    rl_uno_err uerr;

    if (rlc_settings_profile_dir(l->ctx, profile, sizeof profile, &uerr) != RL_OK) {
        rl_log("waiting reports will not be kept on disk: cannot find the user profile: %s", uerr.message);
        return;
    }
    if ((size_t)snprintf(l->spool_dir, sizeof l->spool_dir, "%s/reportlink/inbox", profile) >=
            sizeof l->spool_dir - RL_SPOOL_NAME - 16 ||
        rl_spool_open(l->spool_dir, err, sizeof err) != 0) {
        rl_log("waiting reports will not be kept on disk: %s",
                l->spool_dir[0] ? err : "the profile's path is too long");
        l->spool_dir[0] = '\0';
        return;
    }
    /* Where the log goes on Windows, whose soffice.exe has no stderr (on
     * Linux nothing changes). Beside the inbox: created private with it. */
    char log_path[RLC_MAX_PATH + 32];
    snprintf(log_path, sizeof log_path, "%s/reportlink/reportlink.log", profile);
    rl_os_log_to_file(log_path);
    int clean = rl_spool_clean_exit(l->spool_dir, 0) == 1;
    const char *key = clean ? "inbox.kept" : "inbox.recovered";
    recovery rc = { l, clean ? "kept from the previous LibreOffice session; not placed yet"
                             : "recovered after LibreOffice closed unexpectedly; not placed yet", 0, 0, 0 };
    if (rlc__words(l))
        rc.reason = rl_word(l->strings, key);
    int n = rl_spool_scan(l->spool_dir, RL_MAX_MESSAGE_BYTES, recover_one, recover_bad, &rc, err, sizeof err);
    pthread_mutex_lock(&l->lock);
    l->inbox->on_release = spool_release;
    l->inbox->release_user = l;
    pthread_mutex_unlock(&l->lock);
    if (n < 0)
        rl_log("cannot look for waiting reports: %s", err);
    else if (rc.recovered || rc.rejected)
        rl_log("%d waiting report(s) recovered from %s (%s), %d file(s) moved aside%s", rc.recovered,
                l->spool_dir, clean ? "clean exit" : "the previous session did not end cleanly", rc.rejected,
                rc.dropped ? "; the inbox was full and dropped the oldest" : "");
}
