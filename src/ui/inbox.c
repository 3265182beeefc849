/* inbox.c - the "Received reports" panel of the ReportLink deck.
 *
 * Every report the office received, newest first: its time, its one-line
 * summary and whether it is in a letter. The selected one is described
 * below the list (placed in which letter, or waiting and why, in words the
 * doctor can act on), and a waiting one can be inserted into the letter
 * being edited or discarded, and a report's signed DOCX opened as a document
 * of its own. Discarding asks for a second click: a report
 * must never be lost by a slip of the mouse.
 *
 * The panel is one C object: XToolPanel + XSidebarPanel for the sidebar,
 * XReportLinkListener on theReportLink (a new report or a changed entry
 * refreshes the list, on the main thread), XActionListener on the two
 * buttons (told apart by their ActionCommand) and XItemListener on the list.
 * No polling: the inbox only changes with a notification. */
#include "ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"   /* rlc_link_get, rl_log */
#include "diffmark.h"

#define RLU_INBOX_SHOWN 100    /* newest entries listed */
#define RLU_LINE 320

/* Where the buttons go, in the dialog's appfont units (Inbox.xdl): only the
 * actions that apply to the selected report are shown, stacked from
 * BUTTONS_TOP, and the comparison follows the last one. */
#define BUTTONS_TOP 100
#define BUTTON_STEP 20

enum { C_LIST, C_DETAIL, C_INSERT, C_DISCARD, C_OPEN_DOCX, C_NEW_LETTER, C_COMPARE, C_COUNT };
static const char *const control_names[C_COUNT] = { "entries", "detail", "insert", "discard", "openDocx",
                                                    "newLetter", "compare" };

typedef struct inbox_panel {
    rlu_panel_base b;               /* first: the object, its window and controls */
    uno_Interface *link;            /* theReportLink; NULL once disposed or gone */
    rl_words strings;
    int disposed;
    /* What the list shows, position by position (main thread only). */
    int n;
    sal_Int32 ids[RLU_INBOX_SHOWN];
    int waiting[RLU_INBOX_SHOWN];
    sal_Int32 selected;             /* entry id, or -1 */
    int replace;                    /* the selected entry waits for the doctor's choice to
                                       replace what the letter holds: Insert is Replace */
    sal_Int32 armed;                /* entry id whose discard awaits a second click, or -1 */
} inbox_panel;

static inbox_panel *inbox_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, inbox_panel, b.o);
}

/* "2026-11-24T09:30:12" -> "09:30". */
static void short_time(rtl_uString *iso, char *out, size_t cap)
{
    char full[32];
    rl_uno_str_utf8(iso, full, sizeof full);
    const char *t = strchr(full, 'T');
    snprintf(out, cap, "%.5s", t ? t + 1 : full);
}

/* The waiting reason in the user's words: reason.<code> when the entry has
 * a code the strings know (with the field, for "edited"), else the English
 * detail. */
static void reason_words(inbox_panel *p, const rl_uno_InboxEntry *e, char *out, size_t cap)
{
    char code[32], key[48], bookmark[128], field[RLU_LINE];
    const char *args[1] = { field };
    rl_uno_str_utf8(e->ReasonCode, code, sizeof code);
    rl_uno_str_utf8(e->ReasonField, bookmark, sizeof bookmark);
    rl_words_field(&p->strings, bookmark, strlen(bookmark), field, sizeof field);
    snprintf(key, sizeof key, "reason.%s", code);
    if (code[0] && strcmp(rl_word(&p->strings, key), key) != 0)
        rl_words_format(&p->strings, key, out, cap, args, 1);
    else
        rl_uno_str_utf8(e->Reason, out, cap);
}

/* Whether entry e waits for the doctor to choose to replace the letter's
 * earlier report (the doctor changed it, or the letter was saved). */
static int waits_for_replace(const rl_uno_InboxEntry *e)
{
    return !rl_uno_str_equals(e->Status, "placed") &&
           (rl_uno_str_equals(e->ReasonCode, "edited") || rl_uno_str_equals(e->ReasonCode, "saved") ||
            rl_uno_str_equals(e->ReasonCode, "printed"));
}

/* The signed DOCX's line of the detail ("" when the report has none). */
static void docx_words(inbox_panel *p, const rl_uno_InboxEntry *e, char *out, size_t cap)
{
    char state[16], error[RLU_LINE];
    const char *args[1] = { error };
    rl_uno_str_utf8(e->DocxState, state, sizeof state);
    rl_uno_str_utf8(e->DocxError, error, sizeof error);
    out[0] = 0;
    if (!strcmp(state, "fetching"))
        rl_words_format(&p->strings, "inbox.docx.fetching", out, cap, NULL, 0);
    else if (!strcmp(state, "ready"))
        rl_words_format(&p->strings, "inbox.docx.ready", out, cap, NULL, 0);
    else if (!strcmp(state, "failed"))
        rl_words_format(&p->strings, "inbox.docx.failed", out, cap, args, 1);
}

static void describe(inbox_panel *p, const rl_uno_InboxEntry *e, char *out, size_t cap)
{
    char when[16], where[RLU_LINE], count[16], why[RLU_LINE], summary[RLU_LINE], docx[RLU_LINE];
    const char *args[3];
    size_t used;

    short_time(e->ReceivedAt, when, sizeof when);
    if (rl_uno_str_equals(e->Status, "placed")) {
        rl_uno_str_utf8(e->Where, where, sizeof where);
        snprintf(count, sizeof count, "%d", (int)e->FieldsFilled);
        args[0] = where;
        args[1] = when;
        args[2] = count;
        rl_words_format(&p->strings, "inbox.detail.placed", out, cap, args, 3);
    } else {
        reason_words(p, e, why, sizeof why);
        args[0] = when;
        args[1] = why;
        rl_words_format(&p->strings, "inbox.detail.waiting", out, cap, args, 2);
    }
    /* The whole summary (the list cuts it to the panel's width), then the DOCX. */
    rl_uno_str_utf8(e->Summary, summary, sizeof summary);
    docx_words(p, e, docx, sizeof docx);
    used = strlen(out);
    if (summary[0] && used < cap)
        used += (size_t)snprintf(out + used, cap - used, "\n%s", summary);
    if (docx[0] && used < cap)
        snprintf(out + used, cap - used, "\n%s", docx);
}

/* For an entry that waits for the doctor's choice: what Replace would change
 * in the active letter, field by field, the differing words in [ ]. */
static void describe_changes(inbox_panel *p, sal_Int32 id, char *out, size_t cap)
{
    uno_Sequence *seq = NULL;
    rl_uno_err err;
    size_t used = 0;
    out[0] = 0;
    if (rl_uno_XReportLink_compareInboxEntry(p->link, &err, &seq, id) != RL_OK) {
        rl_log("inbox panel: cannot compare report %d with the letter: %s", (int)id, err.message);
        return;
    }
    const rl_uno_FieldChange *c = (const rl_uno_FieldChange *)(void *)seq->elements;
    used = (size_t)snprintf(out, cap, "%s", rl_word(&p->strings, "inbox.compare.title"));
    for (sal_Int32 i = 0; i < seq->nElements && used < cap; i++) {
        if (!c[i].Changed)
            continue;
        char bookmark[128], field[RLU_LINE], before[RLU_LINE], after[RLU_LINE];
        char *letter_text = malloc((size_t)c[i].InLetter->length * 3 + 1);
        char *report_text = malloc((size_t)c[i].InReport->length * 3 + 1);
        if (letter_text && report_text) {
            rl_uno_str_utf8(c[i].InLetter, letter_text, (size_t)c[i].InLetter->length * 3 + 1);
            rl_uno_str_utf8(c[i].InReport, report_text, (size_t)c[i].InReport->length * 3 + 1);
            rl_uno_str_utf8(c[i].Bookmark, bookmark, sizeof bookmark);
            rl_words_field(&p->strings, bookmark, strlen(bookmark), field, sizeof field);
            rlu_mark_change(letter_text, report_text, before, after, 120);
            const char *args[3] = { field, before, after };
            char line[RLU_LINE * 2];
            rl_words_format(&p->strings, "inbox.compare.line", line, sizeof line, args, 3);
            used += (size_t)snprintf(out + used, cap - used, "\n%s", line);
        }
        free(letter_text);
        free(report_text);
    }
    rl_uno_destruct(&seq, RL_UNO_T_seq_FieldChange);
}

/* Shows the selected entry (from entries, n of them) below the list, and
 * the buttons that apply to it (the others are hidden). */
static void show_selected(inbox_panel *p, const rl_uno_InboxEntry *entries, sal_Int32 n)
{
    char text[RLU_LINE * 4];   /* status, summary, DOCX: one line each */
    const rl_uno_InboxEntry *sel = NULL;

    for (sal_Int32 i = 0; i < n; i++)
        if (entries[i].Id == p->selected)
            sel = &entries[i];
    if (sel)
        describe(p, sel, text, sizeof text);
    else
        snprintf(text, sizeof text, "%s", rl_word(&p->strings, n ? "inbox.select" : "inbox.empty"));
    rlu_form_label(&p->b.form, C_DETAIL, text);
    int waiting = sel && !rl_uno_str_equals(sel->Status, "placed");
    int docx = sel && rl_uno_str_equals(sel->DocxState, "ready");
    p->replace = sel && waits_for_replace(sel);
    if (!sel || sel->Id != p->armed)
        p->armed = -1;
    rlu_form_label(&p->b.form, C_INSERT, rl_word(&p->strings, p->replace ? "inbox.replace" : "inbox.insert"));
    rlu_form_label(&p->b.form, C_DISCARD,
                   rl_word(&p->strings, p->armed >= 0 ? "inbox.discard.confirm" : "inbox.discard"));

    sal_Int32 top = BUTTONS_TOP;
    rlu_form_show(&p->b.form, C_INSERT, waiting);
    rlu_form_show(&p->b.form, C_DISCARD, waiting);
    if (waiting) {
        rlu_form_move(&p->b.form, C_INSERT, top);
        rlu_form_move(&p->b.form, C_DISCARD, top);
        top += BUTTON_STEP;
    }
    rlu_form_show(&p->b.form, C_OPEN_DOCX, docx);
    if (docx) {
        rlu_form_move(&p->b.form, C_OPEN_DOCX, top);
        top += BUTTON_STEP;
    }
    rlu_form_show(&p->b.form, C_NEW_LETTER, p->replace);
    if (p->replace) {
        rlu_form_move(&p->b.form, C_NEW_LETTER, top);
        top += BUTTON_STEP;
    }
    char changes[RLU_LINE * 8];
    changes[0] = 0;
    if (p->replace)
        describe_changes(p, sel->Id, changes, sizeof changes);
    rlu_form_label(&p->b.form, C_COMPARE, changes);
    rlu_form_move(&p->b.form, C_COMPARE, top);
}

/* Main thread: reads the inbox and shows it; select_id >= 0 selects that
 * entry (a report that just arrived). */
static void refresh(inbox_panel *p, sal_Int32 select_id)
{
    uno_Sequence *seq = NULL;
    rl_uno_err err;
    const char *lines[RLU_INBOX_SHOWN];
    char buf[RLU_INBOX_SHOWN][RLU_LINE];

    if (p->disposed || !p->link)
        return;
    if (rl_uno_XReportLink_getInbox(p->link, &err, &seq) != RL_OK) {
        rl_log("inbox panel: cannot read the inbox: %s", err.message);
        return;
    }
    const rl_uno_InboxEntry *entries = (const rl_uno_InboxEntry *)(void *)seq->elements;
    sal_Int32 total = seq->nElements;
    if (select_id >= 0)
        p->selected = select_id;
    p->n = 0;
    int selected_pos = -1;
    for (sal_Int32 i = total - 1; i >= 0 && p->n < RLU_INBOX_SHOWN; i--) {   /* newest first */
        const rl_uno_InboxEntry *e = &entries[i];
        char when[16], summary[RLU_LINE];
        const char *args[2] = { when, summary };
        short_time(e->ReceivedAt, when, sizeof when);
        rl_uno_str_utf8(e->Summary, summary, sizeof summary);
        if (!summary[0])
            snprintf(summary, sizeof summary, "%s", rl_word(&p->strings, "inbox.nosummary"));
        int waiting = !rl_uno_str_equals(e->Status, "placed");
        rl_words_format(&p->strings, waiting ? "inbox.line.waiting" : "inbox.line.placed", buf[p->n], RLU_LINE,
                   args, 2);
        lines[p->n] = buf[p->n];
        p->ids[p->n] = e->Id;
        p->waiting[p->n] = waiting;
        if (e->Id == p->selected)
            selected_pos = p->n;
        p->n++;
    }
    if (selected_pos < 0 && p->n > 0) {
        /* Nothing (still) selected: the newest waiting report, else the newest. */
        selected_pos = 0;
        for (int i = p->n - 1; i >= 0; i--)
            if (p->waiting[i])
                selected_pos = i;
    }
    p->selected = selected_pos >= 0 ? p->ids[selected_pos] : -1;
    rlu_form_items(&p->b.form, C_LIST, lines, p->n);
    if (selected_pos >= 0 &&
        rl_uno_XListBox_selectItemPos(p->b.form.controls[C_LIST], &err, (sal_Int16)selected_pos, sal_True))
        rl_log("inbox panel: cannot select entry %d: %s", (int)p->selected, err.message);
    show_selected(p, entries, total);
    rl_uno_destruct(&seq, RL_UNO_T_seq_InboxEntry);
}

/* ------------------------------------------------------------------ methods */

RLU_PANEL_SKELETONS

static void state_changed(rl_uno_object *self, uno_Any **exc, const rl_uno_ReportStatus *s)
{
    /* The connection is the status panel's. */
}
RL_UNO_SKELETON_XReportLinkListener_stateChanged(m_state_changed, state_changed)

static void report_received(rl_uno_object *self, uno_Any **exc, sal_Int32 id, sal_Bool placed,
                            rtl_uString *where)
{
    refresh(inbox_of(self), id);
}
RL_UNO_SKELETON_XReportLinkListener_reportReceived(m_report_received, report_received)

static void inbox_changed(rl_uno_object *self, uno_Any **exc, sal_Int32 id)
{
    refresh(inbox_of(self), -1);
}
RL_UNO_SKELETON_XReportLinkListener_inboxChanged(m_inbox_changed, inbox_changed)

static void item_state_changed(rl_uno_object *self, uno_Any **exc, const rl_uno_ItemEvent *ev)
{
    inbox_panel *p = inbox_of(self);
    rl_uno_err err;
    sal_Int16 pos = -1;
    if (p->disposed || rl_uno_XListBox_getSelectedItemPos(p->b.form.controls[C_LIST], &err, &pos))
        return;
    if (pos >= 0 && pos < p->n && p->ids[pos] != p->selected) {
        p->selected = p->ids[pos];
        p->armed = -1;
        refresh(p, -1);
    }
}
RL_UNO_SKELETON_XItemListener_itemStateChanged(m_item_state_changed, item_state_changed)

static void action_performed(rl_uno_object *self, uno_Any **exc, const rl_uno_ActionEvent *ev)
{
    inbox_panel *p = inbox_of(self);
    rl_uno_err err;
    sal_Int32 id = p->selected;

    if (p->disposed || !p->link || id < 0)
        return;
    if (rl_uno_str_equals(ev->ActionCommand, "insert")) {
        sal_Int32 filled = 0;
        p->armed = -1;
        /* Into the letter being edited: the window whose sidebar was clicked
         * is the active one. If it cannot be placed, the entry's reason
         * changes and inboxChanged refreshes the panel. */
        int rc = p->replace ? rl_uno_XReportLink_replaceInboxEntry(p->link, &err, &filled, id)
                            : rl_uno_XReportLink_placeInboxEntry(p->link, &err, &filled, id);
        if (rc != RL_OK)
            rl_log("inbox panel: cannot insert report %d: %s", (int)id, err.message);
    } else if (rl_uno_str_equals(ev->ActionCommand, "new_letter")) {
        sal_Int32 filled = 0;
        p->armed = -1;
        /* A fresh letter from the same template: the letter in front stays as it is. */
        if (rl_uno_XReportLink_newLetterForInboxEntry(p->link, &err, &filled, id) != RL_OK)
            rl_log("inbox panel: cannot put report %d into a new letter: %s", (int)id, err.message);
    } else if (rl_uno_str_equals(ev->ActionCommand, "open_docx")) {
        p->armed = -1;
        /* As a document of its own: the letter stays as it is. */
        if (rl_uno_XReportLink_openInboxDocx(p->link, &err, id) != RL_OK)
            rl_log("inbox panel: cannot open the DOCX of report %d: %s", (int)id, err.message);
    } else if (rl_uno_str_equals(ev->ActionCommand, "discard")) {
        if (p->armed != id) {
            p->armed = id;     /* first click: ask again */
            rlu_form_label(&p->b.form, C_DISCARD, rl_word(&p->strings, "inbox.discard.confirm"));
            return;
        }
        p->armed = -1;
        p->selected = -1;
        if (rl_uno_XReportLink_discardInboxEntry(p->link, &err, id) != RL_OK)
            rl_log("inbox panel: cannot discard report %d: %s", (int)id, err.message);
    }
    refresh(p, -1);
}
RL_UNO_SKELETON_XActionListener_actionPerformed(m_action_performed, action_performed)

static void disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    rlu_let_go_of_link(&inbox_of(self)->link, ev);
}
RL_UNO_SKELETON_XEventListener_disposing(m_disposing, disposing)

static void inbox_dispose(rl_uno_object *o)
{
    inbox_panel *p = inbox_of(o);
    rl_uno_err err;

    if (p->disposed)
        return;
    p->disposed = 1;
    if (p->link) {
        rl_uno_XReportLink_removeListener(p->link, &err, &p->b.o.iface);
        rl_uno_release(p->link);
        p->link = NULL;
    }
    for (int i = C_INSERT; i <= C_NEW_LETTER; i++)
        if (p->b.form.controls[i])
            rl_uno_XButton_removeActionListener(p->b.form.controls[i], &err, &p->b.o.iface);
    if (p->b.form.controls[C_LIST])
        rl_uno_XListBox_removeItemListener(p->b.form.controls[C_LIST], &err, &p->b.o.iface);
    rlu_form_dispose(&p->b.form);
}

static void inbox_destroy(rl_uno_object *self)
{
    inbox_panel *p = inbox_of(self);
    rlu_form_release(&p->b.form);
    rl_uno_release(p->link);
    free(p);
}

static const int inbox_interfaces[] = {
    RL_UNO_T_XToolPanel, RL_UNO_T_XSidebarPanel, RL_UNO_T_XReportLinkListener,
    RL_UNO_T_XActionListener, RL_UNO_T_XItemListener, -1
};
static const rl_uno_method inbox_methods[] = {
    RLU_PANEL_METHODS,
    { RL_UNO_MN_XReportLinkListener_stateChanged, m_state_changed },
    { RL_UNO_MN_XReportLinkListener_reportReceived, m_report_received },
    { RL_UNO_MN_XReportLinkListener_inboxChanged, m_inbox_changed },
    { RL_UNO_MN_XEventListener_disposing, m_disposing },
    { RL_UNO_MN_XActionListener_actionPerformed, m_action_performed },
    { RL_UNO_MN_XItemListener_itemStateChanged, m_item_state_changed },
    { NULL, NULL }
};
const rl_uno_class rlu_inbox_class = {
    "org.reportlink.InboxPanel", NULL, inbox_interfaces, inbox_methods, inbox_destroy
};

rl_uno_object *rlu_inbox_panel_new(uno_Interface *ctx, uno_Interface *frame, uno_Interface *parent_window,
                                   rl_uno_err *err)
{
    inbox_panel *p = calloc(1, sizeof *p);
    if (!p) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rl_uno_object_init(&p->b.o, &rlu_inbox_class);
    p->b.dispose = inbox_dispose;
    p->selected = p->armed = -1;
    rlc_words_for_office(&p->strings, ctx);

    if (!(p->link = rlc_link_get(ctx))) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "theReportLink is not available");
        goto fail;
    }
    if (rlu_form_build(&p->b.form, ctx, parent_window, "Inbox.xdl", control_names, C_COUNT, NULL, err))
        goto fail;
    rlu_form_label(&p->b.form, C_INSERT, rl_word(&p->strings, "inbox.insert"));
    rlu_form_command(&p->b.form, C_INSERT, "insert");
    rlu_form_command(&p->b.form, C_DISCARD, "discard");
    rlu_form_command(&p->b.form, C_OPEN_DOCX, "open_docx");
    rlu_form_command(&p->b.form, C_NEW_LETTER, "new_letter");
    rlu_form_label(&p->b.form, C_NEW_LETTER, rl_word(&p->strings, "inbox.new_letter"));
    rlu_form_label(&p->b.form, C_OPEN_DOCX, rl_word(&p->strings, "inbox.docx.open"));
    for (int i = C_INSERT; i <= C_NEW_LETTER; i++)
        if (rl_uno_XButton_addActionListener(p->b.form.controls[i], err, &p->b.o.iface))
            goto fail;
    if (rl_uno_XListBox_addItemListener(p->b.form.controls[C_LIST], err, &p->b.o.iface))
        goto fail;
    refresh(p, -1);
    if (rl_uno_XReportLink_addListener(p->link, err, &p->b.o.iface) != RL_OK)
        goto fail;
    return &p->b.o;
fail:
    inbox_dispose(&p->b.o);
    rl_uno_release(&p->b.o.iface);
    return NULL;
}
