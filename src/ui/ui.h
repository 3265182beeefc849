/*
 * ui.h - what the doctor sees of ReportLink in Writer (rlu_ names).
 *
 *   factory.c  org.reportlink.PanelFactory (XUIElementFactory) and the
 *              UI element the sidebar holds (XUIElement + XComponent)
 *   panel.c    the status panel: its window, the listener on theReportLink,
 *              the Connect/Disconnect button, the once-a-second countdown
 *   strings.c  the panel's words, from i18n/strings_<lang>.properties
 *              for objects implemented in C, and their start-up check
 *   controls.c the controls of a window built from a .xdl, by name
 *   options.c  org.reportlink.OptionsHandler: the page of Tools > Options
 *
 * Everything here runs on the office's main thread, except the panel's
 * ticker thread and the options page's connection test, which only post a
 * callback to the main thread.
 * Design note: src/ui/README.md.
 */
#ifndef RL_UI_H
#define RL_UI_H

#include "uno_bridge.h"

#define RLU_IMPL_PANEL_FACTORY "org.reportlink.PanelFactory"
#define RLU_IMPL_OPTIONS_HANDLER "org.reportlink.OptionsHandler"
/* The last segment of the panel's ImplementationURL in Sidebar.xcu. */
#define RLU_PANEL_STATUS "StatusPanel"

/* ------------------------------------------------------------------ strings.c */

#define RLU_MAX_STRINGS   160    /* entries of one resource file */
#define RLU_MAX_KEY       48
#define RLU_MAX_VALUE     256    /* bytes of UTF-8 */
#define RLU_MAX_FILE      (64 * 1024)

typedef struct rlu_strings {
    char lang[8];                /* "fr" or "en": the file that was read */
    int n;
    char key[RLU_MAX_STRINGS][RLU_MAX_KEY];
    char value[RLU_MAX_STRINGS][RLU_MAX_VALUE];
} rlu_strings;

/* The two-letter language of the resource file to use for the office's UI
 * language (ooLocale "fr-FR" -> "fr"); English for anything without a file. */
const char *rlu_strings_language(const char *oo_locale);

/* Reads <extension>/i18n/strings_<lang>.properties (UTF-8; key=value lines,
 * '#' comments, \n in values). Returns 0, or -1 after logging why. */
int rlu_strings_load(rlu_strings *s, const char *lang);

/* The text of key (borrowed from s); the key itself when it is missing, so
 * that a missing string shows instead of failing. */
const char *rlu_str(const rlu_strings *s, const char *key);

/* Writes key's text into out with {0}, {1}... replaced by args[0], args[1]
 * (at most n args). The result is cut to cap. */
void rlu_format(const rlu_strings *s, const char *key, char *out, size_t cap,
                const char *const *args, int n);

/* ------------------------------------------------------------------ panel.c */

/* A new status panel, child of the sidebar's parent window: one reference,
 * the caller's. Its window is built and it listens to theReportLink until
 * rlu_panel_dispose(). NULL with err set on failure. */
rl_uno_object *rlu_panel_new(uno_Interface *ctx, uno_Interface *parent_window, rl_uno_err *err);

/* Stops listening and ticking and disposes the window. Idempotent. */
void rlu_panel_dispose(rl_uno_object *panel);

/* ------------------------------------------------------------------ controls.c */

/* The controls of a window built from a dialog file (an XControlContainer),
 * found by name on each call. Main thread. The setters log a failure and
 * return its RL_UNO_* code. */

/* The model (XPropertySet) of control `name`: a new reference, or NULL with
 * err set. */
uno_Interface *rlu_control_model(uno_Interface *window, const char *name, rl_uno_err *err);
int rlu_control_set(uno_Interface *window, const char *control, const char *prop, const uno_Any *value);
/* prop is "Label" for fixed texts, buttons and check boxes, "Text" for fields. */
int rlu_control_set_string(uno_Interface *window, const char *control, const char *prop, const char *utf8);
int rlu_control_set_colour(uno_Interface *window, const char *control, sal_Int32 rgb);
int rlu_control_set_short(uno_Interface *window, const char *control, const char *prop, sal_Int16 value);
/* Reads a string property into buf ("" for a void value); RL_UNO_OK, or an
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

extern const rl_uno_class rlu_panel_class, rlu_element_class, rlu_factory_class, rlu_options_class;

#endif
