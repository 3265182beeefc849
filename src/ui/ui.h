/*
 * ui.h - what the doctor sees of ReportLink in Writer (rlu_ names).
 *
 *   factory.c  org.reportlink.PanelFactory (XUIElementFactory), the UI
 *              element the sidebar holds (XUIElement + XComponent), and the
 *              start-up check of the ui's classes (rlu_check)
 *   form.c     a window built from a .xdl and its named controls; what
 *              every panel answers the sidebar (rlu_panel_base)
 *   panel.c    the status panel: the listener on theReportLink, the
 *              Connect/Disconnect button, the once-a-second countdown
 *   inbox.c    "Received reports": the list, the detail, its buttons
 *   diffmark.c the words that differ between letter and report (diffmark.h)
 *   fields.c   "Letter template": inserting and checking fields
 *   dispatch.c org.reportlink.Dispatcher: the menus' org.reportlink: URLs
 *   controls.c the controls of a window built from a .xdl, by name
 *   options.c  org.reportlink.OptionsHandler: the page of Tools > Options
 *   options_test.c  its "Test connection" (options_internal.h: what they share)
 *
 * The words come from src/base/words.h, the log from src/base/log.h.
 * Everything here runs on the office's main thread, except the panel's
 * ticker thread and the options page's connection test, which only post a
 * callback to the main thread.
 * Design note: src/ui/README.md.
 */
#ifndef RL_UI_H
#define RL_UI_H

#include "log.h"
#include "uno_bridge.h"
#include "words.h"

#define RLU_IMPL_PANEL_FACTORY "org.reportlink.PanelFactory"
#define RLU_IMPL_DISPATCHER    "org.reportlink.Dispatcher"
/* The last segments of the panels' ImplementationURLs in Sidebar.xcu. */
#define RLU_PANEL_STATUS   "StatusPanel"
#define RLU_PANEL_INBOX    "InboxPanel"
#define RLU_PANEL_TEMPLATE "TemplatePanel"
#define RLU_IMPL_OPTIONS_HANDLER "org.reportlink.OptionsHandler"


/* ------------------------------------------------------------------ form.c */

/* A window built from extension/dialogs/<dialog> as a child of a parent
 * window, and its named controls. Main thread. */
#define RLU_FORM_MAX 16

typedef struct rlu_form {
    uno_Interface *window;                  /* the container window (XWindow) */
    int n;
    const char *const *names;               /* borrowed: static tables */
    uno_Interface *controls[RLU_FORM_MAX];  /* XControl of names[i] */
    uno_Interface *models[RLU_FORM_MAX];    /* its model (XPropertySet) */
    rl_uno_Rectangle size;                  /* of the window, in pixels, as created */
} rlu_form;

/* Builds the window (handler: the XContainerWindowEventHandler of the
 * dialog's events, may be NULL) and finds the n controls. On failure
 * returns an RL_UNO_* code with err set; rlu_form_release() frees what was
 * made. */
int rlu_form_build(rlu_form *f, uno_Interface *ctx, uno_Interface *parent_window,
                   const char *dialog, const char *const *names, int n, uno_Interface *handler,
                   rl_uno_err *err);
/* Set a property of control i's model; a failure is logged, and a control
 * the form lacks (not built, or released) is skipped. */
void rlu_form_text(rlu_form *f, int i, const char *prop, const char *utf8);
void rlu_form_label(rlu_form *f, int i, const char *utf8);
void rlu_form_enable(rlu_form *f, int i, int on);
/* Shows (and enables) or hides (and disables) control i. An action that does
 * not apply is hidden rather than greyed out: a disabled control's words are
 * hard to read in several themes, and what cannot be pressed need not be read. */
void rlu_form_show(rlu_form *f, int i, int on);
/* Moves control i to top (the dialog's appfont units, as in the .xdl). */
void rlu_form_move(rlu_form *f, int i, sal_Int32 top);
/* The items of list box i. Returns 0, or -1 when out of memory. */
int rlu_form_items(rlu_form *f, int i, const char *const *items, int n);
/* The ActionCommand button i reports to its action listeners. */
void rlu_form_command(rlu_form *f, int i, const char *command);
/* Disposes the window (its controls go with it). */
void rlu_form_dispose(rlu_form *f);
/* Releases the references the form holds. */
void rlu_form_release(rlu_form *f);

/* ------------------------------------------------------------------ sidebar panels */

/* The start of every panel object: the sidebar reaches the panel's window
 * and size through the shared methods below, and the UI element disposes
 * it through `dispose` (main thread, idempotent). */
typedef struct rlu_panel_base {
    rl_uno_object o;
    rlu_form form;
    void (*dispose)(rl_uno_object *self);
} rlu_panel_base;

/* Tools > Options at ReportLink's page, from frame (dispatch.c). */
void rlu_open_options(uno_Interface *ctx, uno_Interface *frame);
/* Whether theReportLink has a doctor key (its status' HasKey). */
int rlu_link_has_key(uno_Interface *link);

/* Where the doctor's key is (src/component/keystore.c), in the doctor's
 * words: *where the store ("the GNOME keyring", key.where.*), *why the
 * reason it is not in the keyring ("the keyring stayed locked", key.why.*;
 * "" when there is none). Both borrowed from w. (panel.c) */
struct rlc_key_status;
void rlu_key_words(const rl_words *w, const struct rlc_key_status *ks, const char **where, const char **why);

/* XToolPanel and XSidebarPanel, answered alike by every panel (form.c):
 * the typed implementations, and their skeletons for a panel's class table.
 * A panel's file writes RLU_PANEL_SKELETONS once, at file scope, and
 * RLU_PANEL_METHODS in its table. */
void rlu_panel_window(rl_uno_object *self, uno_Any **exc, uno_Interface **ret);
void rlu_panel_accessible(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, uno_Interface *parent);
void rlu_panel_height(rl_uno_object *self, uno_Any **exc, rl_uno_LayoutSize *ret, sal_Int32 width);
void rlu_panel_min_width(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret);
#define RLU_PANEL_SKELETONS \
    RL_UNO_GETTER_XToolPanel_Window(panel_m_window, rlu_panel_window) \
    RL_UNO_SKELETON_XToolPanel_createAccessible(panel_m_accessible, rlu_panel_accessible) \
    RL_UNO_SKELETON_XSidebarPanel_getHeightForWidth(panel_m_height, rlu_panel_height) \
    RL_UNO_SKELETON_XSidebarPanel_getMinimalWidth(panel_m_min_width, rlu_panel_min_width)
#define RLU_PANEL_METHODS \
    { RL_UNO_MN_XToolPanel_createAccessible, panel_m_accessible }, \
    { RL_UNO_MN_XSidebarPanel_getHeightForWidth, panel_m_height }, \
    { RL_UNO_MN_XSidebarPanel_getMinimalWidth, panel_m_min_width }, \
    { RL_UNO_MN_XToolPanel_Window, panel_m_window }

/* XEventListener::disposing of a panel listening to theReportLink: when ev
 * comes from *link, releases it and sets it NULL. Returns whether it did. */
int rlu_let_go_of_link(uno_Interface **link, const rl_uno_EventObject *ev);

/* Disposes any panel below. Idempotent. */
void rlu_panel_dispose(rl_uno_object *panel);

/* Each constructor makes a panel as a child of the sidebar's parent window,
 * for frame (the Writer window; may be NULL): one reference, the caller's.
 * It listens to theReportLink until disposed. NULL with err set on failure. */
typedef rl_uno_object *(*rlu_panel_new_fn)(uno_Interface *ctx, uno_Interface *frame,
                                           uno_Interface *parent_window, rl_uno_err *err);

/* panel.c: the connection's state, Connect/Disconnect. */
rl_uno_object *rlu_status_panel_new(uno_Interface *ctx, uno_Interface *frame,
                                    uno_Interface *parent_window, rl_uno_err *err);
/* inbox.c: the received reports, Insert here / Discard. */
rl_uno_object *rlu_inbox_panel_new(uno_Interface *ctx, uno_Interface *frame,
                                   uno_Interface *parent_window, rl_uno_err *err);
/* template.c: the letter's fields: insert one, check which are there. */
rl_uno_object *rlu_template_panel_new(uno_Interface *ctx, uno_Interface *frame,
                                      uno_Interface *parent_window, rl_uno_err *err);

/* ------------------------------------------------------------------ fields.c */

/* The fields a doctor can put into a letter, in menu order: the report's
 * sections, then the whole report as text and with its formatting. */
#define RLU_FIELD_COUNT 7
extern const char *const rlu_field_keys[RLU_FIELD_COUNT];
/* The index of key in rlu_field_keys, or -1. */
int rlu_field_index(const char *key);

/* Inserts field (an index of rlu_field_keys) at frame's cursor, named as
 * the configuration maps it, with the placeholder and undo title in the
 * words of s. Writes the bookmark's name into made. RL_OK or an error
 * with err set (the letter then unchanged). */
int rlu_insert_field(uno_Interface *ctx, uno_Interface *frame, const rl_words *s, int field,
                     char *made, size_t cap, rl_uno_err *err);

/* ------------------------------------------------------------------ dispatch.c */

/* A new org.reportlink.Dispatcher (the menus' protocol handler) for ctx:
 * one reference, the caller's. NULL when out of memory. */
uno_Interface *rlu_dispatcher_new(uno_Interface *ctx);
/* ------------------------------------------------------------------ controls.c */

/* The controls of a window built from a dialog file (an XControlContainer),
 * found by name on each call. Main thread. The setters log a failure and
 * return its RL_UNO_* code. */

/* The model (XPropertySet) of control `name`: a new reference, or NULL with
 * err set. */
uno_Interface *rlu_control_model(uno_Interface *window, const char *name, rl_uno_err *err);
/* prop is "Label" for fixed texts, buttons and check boxes, "Text" for fields. */
int rlu_control_set_string(uno_Interface *window, const char *control, const char *prop, const char *utf8);
int rlu_control_set_short(uno_Interface *window, const char *control, const char *prop, sal_Int16 value);
/* Reads a string property into buf ("" for a void value); RL_OK, or an
 * error code (logged) when it fails or does not fit. */
int rlu_control_get_string(uno_Interface *window, const char *control, const char *prop, char *buf, size_t cap);
int rlu_control_get_int(uno_Interface *window, const char *control, const char *prop, long *out);
/* For a password field: its Text into buf, then empties the field and wipes
 * the UNO string we read (when no one else holds it). Returns the length,
 * or -1 (buf wiped) when it failed or did not fit in cap. */
int rlu_control_take_secret(uno_Interface *window, const char *control, char *buf, size_t cap);

/* ------------------------------------------------------------------ options.c */

/* A new options page handler for ctx (one reference, the caller's), or NULL. */
uno_Interface *rlu_options_handler_new(uno_Interface *ctx);

/* ------------------------------------------------------------------ factory.c */

/* A new panel factory for ctx (one reference, the caller's). */
uno_Interface *rlu_panel_factory_new(uno_Interface *ctx);

/* Checks every class of the module against the type library (start-up). */
int rlu_check(rl_uno_err *err);

extern const rl_uno_class rlu_panel_class, rlu_inbox_class, rlu_template_class, rlu_element_class,
    rlu_factory_class, rlu_dispatcher_class, rlu_options_class;

#endif
