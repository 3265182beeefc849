/* undowatch.c - the inbox follows Ctrl+Z and Ctrl+Y in the letters.
 *
 * After a report is placed, the letter's undo manager gets a listener of
 * ours that remembers which inbox entry went in last and its message (to
 * make the report again). When the doctor undoes or redoes anything in that
 * letter, the link looks again (rlc_link_letter_undo): if none of the fields
 * holds what the report put there any more, the entry is "withdrawn" (and
 * can be inserted again); if they do again, it is placed again. At most
 * RLC_MAX_WATCHED_LETTERS letters are followed (the oldest is let go); a
 * letter is let go when it closes (its undo manager is disposed) and at the
 * office's exit. Main thread only: undo and redo happen there. */
#include "component.h"

#include <stdlib.h>
#include <string.h>

#define RLC_MAX_WATCHED_LETTERS 16

typedef struct undo_watch {
    rl_uno_object obj;
    uno_Interface *undo;        /* acquired: the letter's undo manager; NULL once let go */
    uno_Interface *letter;      /* acquired: the letter (its XInterface) */
    sal_Int32 entry;            /* the inbox entry placed last in it */
    char *raw;                  /* its message (owned) */
    size_t raw_len;
} undo_watch;

static undo_watch *watches[RLC_MAX_WATCHED_LETTERS];   /* each holds one reference */
static int n_watches;

static undo_watch *watch_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, undo_watch, obj);
}

/* Stops listening and drops what the watch holds; it stays alive until its
 * last reference goes. */
static void let_go(undo_watch *w)
{
    rl_uno_err err;
    if (w->undo) {
        rl_uno_XUndoManager_removeUndoManagerListener(w->undo, &err, &w->obj.iface);
        rl_uno_release(w->undo);
        w->undo = NULL;
    }
    rl_uno_release(w->letter);
    w->letter = NULL;
    free(w->raw);
    w->raw = NULL;
}

static void forget(undo_watch *w)
{
    for (int i = 0; i < n_watches; i++)
        if (watches[i] == w) {
            memmove(&watches[i], &watches[i + 1], (size_t)(n_watches - i - 1) * sizeof watches[0]);
            n_watches--;
            let_go(w);
            rl_uno_release(&w->obj.iface);
            return;
        }
}

static void undone_or_redone(rl_uno_object *self, uno_Any **exc, const rl_uno_UndoManagerEvent *ev)
{
    undo_watch *w = watch_of(self);
    if (w->letter && w->raw)
        rlc_link_letter_undo(w->letter, w->entry, w->raw, w->raw_len);
}
RL_UNO_SKELETON_XUndoManagerListener_actionUndone(m_action_undone, undone_or_redone)
RL_UNO_SKELETON_XUndoManagerListener_actionRedone(m_action_redone, undone_or_redone)

/* The undo manager's other news changes nothing the inbox shows. */
static void ignored(rl_uno_object *self, uno_Any **exc, const rl_uno_UndoManagerEvent *ev)
{
}
RL_UNO_SKELETON_XUndoManagerListener_undoActionAdded(m_undo_action_added, ignored)
RL_UNO_SKELETON_XUndoManagerListener_enteredContext(m_entered_context, ignored)
RL_UNO_SKELETON_XUndoManagerListener_enteredHiddenContext(m_entered_hidden_context, ignored)
RL_UNO_SKELETON_XUndoManagerListener_leftContext(m_left_context, ignored)
RL_UNO_SKELETON_XUndoManagerListener_leftHiddenContext(m_left_hidden_context, ignored)
RL_UNO_SKELETON_XUndoManagerListener_cancelledContext(m_cancelled_context, ignored)

static void ignored_clearing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
}
RL_UNO_SKELETON_XUndoManagerListener_allActionsCleared(m_all_actions_cleared, ignored_clearing)
RL_UNO_SKELETON_XUndoManagerListener_redoActionsCleared(m_redo_actions_cleared, ignored_clearing)
RL_UNO_SKELETON_XUndoManagerListener_resetAll(m_reset_all, ignored_clearing)

static void letter_gone(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    forget(watch_of(self));
}
RL_UNO_SKELETON_XEventListener_disposing(m_letter_gone, letter_gone)

static void watch_destroy(rl_uno_object *self)
{
    undo_watch *w = watch_of(self);
    let_go(w);
    free(w);
}

static const int watch_interfaces[] = { RL_UNO_T_XUndoManagerListener, -1 };
static const rl_uno_method watch_methods[] = {
    { RL_UNO_MN_XUndoManagerListener_actionUndone, m_action_undone },
    { RL_UNO_MN_XUndoManagerListener_actionRedone, m_action_redone },
    { RL_UNO_MN_XUndoManagerListener_undoActionAdded, m_undo_action_added },
    { RL_UNO_MN_XUndoManagerListener_allActionsCleared, m_all_actions_cleared },
    { RL_UNO_MN_XUndoManagerListener_redoActionsCleared, m_redo_actions_cleared },
    { RL_UNO_MN_XUndoManagerListener_resetAll, m_reset_all },
    { RL_UNO_MN_XUndoManagerListener_enteredContext, m_entered_context },
    { RL_UNO_MN_XUndoManagerListener_enteredHiddenContext, m_entered_hidden_context },
    { RL_UNO_MN_XUndoManagerListener_leftContext, m_left_context },
    { RL_UNO_MN_XUndoManagerListener_leftHiddenContext, m_left_hidden_context },
    { RL_UNO_MN_XUndoManagerListener_cancelledContext, m_cancelled_context },
    { RL_UNO_MN_XEventListener_disposing, m_letter_gone },
    { NULL, NULL }
};
const rl_uno_class rlc_undo_watch_class = {
    "org.reportlink.UndoWatch", NULL, watch_interfaces, watch_methods, watch_destroy
};

void rlc_watch_undo(uno_Interface *letter, sal_Int32 entry, const char *raw, size_t raw_len)
{
    rl_uno_err err;
    uno_Interface *self = rl_uno_query(letter, RL_UNO_T_XInterface);
    char *copy = raw ? malloc(raw_len) : NULL;
    if (!self || !copy) {
        rl_uno_release(self);
        free(copy);
        return;
    }
    memcpy(copy, raw, raw_len);
    for (int i = 0; i < n_watches; i++)
        if (watches[i]->letter == self) {           /* followed already: a newer report */
            free(watches[i]->raw);
            watches[i]->raw = copy;
            watches[i]->raw_len = raw_len;
            watches[i]->entry = entry;
            rl_uno_release(self);
            return;
        }
    uno_Interface *supplier = rl_uno_query(letter, RL_UNO_T_XUndoManagerSupplier), *undo = NULL;
    undo_watch *w = calloc(1, sizeof *w);
    if (!w || !supplier || rl_uno_XUndoManagerSupplier_getUndoManager(supplier, &err, &undo) || !undo) {
        rl_log("the inbox will not follow Undo in this letter: %s", w ? err.message : "out of memory");
        free(w);
        free(copy);
        rl_uno_release(undo);
        rl_uno_release(supplier);
        rl_uno_release(self);
        return;
    }
    rl_uno_release(supplier);
    rl_uno_object_init(&w->obj, &rlc_undo_watch_class);
    w->undo = undo;
    w->letter = self;
    w->entry = entry;
    w->raw = copy;
    w->raw_len = raw_len;
    if (n_watches == RLC_MAX_WATCHED_LETTERS)
        forget(watches[0]);
    watches[n_watches++] = w;
    if (rl_uno_XUndoManager_addUndoManagerListener(undo, &err, &w->obj.iface) != RL_OK) {
        rl_log("the inbox will not follow Undo in this letter: %s", err.message);
        forget(w);
    }
}

void rlc_unwatch_undo_all(void)
{
    while (n_watches)
        forget(watches[0]);
}
