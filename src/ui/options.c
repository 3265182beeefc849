/* options.c - the ReportLink page of Tools > Options.
 *
 * OptionsDialog.xcu declares the page: its window is built from
 * dialogs/Options.xdl by the options dialog (ContainerWindowProvider), with a
 * new org.reportlink.OptionsHandler as its XContainerWindowEventHandler. The
 * dialog calls callHandlerMethod(window, "initialize" | "ok" | "back",
 * "external_event"); the page's own events arrive the same way, under the
 * method names bound in the .xdl (testConnection, endpointChanged,
 * browseCaFile, forgetKey).
 *
 * What the page edits lives elsewhere: the endpoint, AutoConnect and the CA
 * file in /org.reportlink.Settings/Connection (settings.c; a commit makes
 * theReportLink reconnect at once), the doctor key in the keyring (or where
 * src/component/keystore.c keeps it) through theReportLink's setDoctorKey
 * (which reconnects with it). The key is never shown back: the field starts
 * empty and a label only says whether a key is stored and where; "Forget the
 * key" (forgetKey) removes it and disconnects.
 *
 * "Test connection" (options_test.c) runs a one-shot core client on a thread of its own (the
 * test thread): it creates the client, waits for the first decisive state
 * (connected, key refused, or the first failure), destroys the client (a
 * join, bounded by the core), and posts the outcome to the main thread
 * through com.sun.star.awt.AsyncCallback. The main thread never waits for
 * the network. theReportLink's connection is left alone; when it is already
 * connected with the same address, key and CA file, the test reports that
 * connection instead of opening a second one, which the service would treat
 * as a take-over of the first. */
#include "options_internal.h"

#include <osl/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static options *options_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, options, obj);
}

/* ------------------------------------------------------------------ words */

static void load_strings(options *o)
{
    rlc_words_for_office(&o->strings, o->ctx);
}

const char *rlu__opt_str(options *o, const char *key)
{
    return rl_word(&o->strings, key);
}

/* One of the page's status lines. In the theme's text colour: the words
 * say whether it is good news (see panel.c for why no colour is set). */
void rlu__opt_show(options *o, const char *control, const char *text)
{
    if (!o->window)
        return;
    rlu_control_set_string(o->window, control, "Label", text);
}

const char *rlu__opt_problem_key(rl_url_problem p)
{
    switch (p) {
    case RL_URL_OK:             return NULL;
    case RL_URL_EMPTY:          return "options.endpoint.bad.empty";
    case RL_URL_TOO_LONG:       return "options.endpoint.bad.too_long";
    case RL_URL_BAD_CHARACTERS: return "options.endpoint.bad.characters";
    case RL_URL_BAD_SCHEME:     return "options.endpoint.bad.scheme";
    case RL_URL_CREDENTIALS:    return "options.endpoint.bad.credentials";
    case RL_URL_BAD_HOST:       return "options.endpoint.bad.host";
    case RL_URL_BAD_PORT:       return "options.endpoint.bad.port";
    }
    return "options.endpoint.bad.host";
}

/* Checks the address as the core will parse it and says so under the
 * field. Returns the problem (RL_URL_OK when it can be saved). */
rl_url_problem rlu__opt_check_endpoint(options *o, const char *url)
{
    int tls = 0, loopback = 0;
    rl_url_problem p = rl_url_check(url, &tls, &loopback);
    if (p != RL_URL_OK)
        rlu__opt_show(o, "endpointCheck", rlu__opt_str(o, rlu__opt_problem_key(p)));
    else if (tls)
        rlu__opt_show(o, "endpointCheck", rlu__opt_str(o, "options.endpoint.ok.tls"));
    else if (loopback)
        rlu__opt_show(o, "endpointCheck", rlu__opt_str(o, "options.endpoint.ok.local"));
    else
        rlu__opt_show(o, "endpointCheck", rlu__opt_str(o, "options.endpoint.warn.unencrypted"));
    return p;
}

/* Whether a key is stored, and where (src/component/keystore.c): read from
 * the keystore's state, which never waits for the keyring. */
static void show_key_state(options *o)
{
    rlc_key_status ks;
    const char *where, *why;
    char text[OPTIONS_MAX_TEXT];

    rlc_key_status_get(&ks);
    rlu_key_words(&o->strings, &ks, &where, &why);
    const char *args[1] = { where };
    if (ks.place == RLC_KEY_LOADING) {
        snprintf(text, sizeof text, "%s", rlu__opt_str(o, "options.key.loading"));
    } else if (ks.place == RLC_KEY_KEYRING || ks.place == RLC_KEY_CONTAINER) {
        rl_words_format(&o->strings, "options.key.stored", text, sizeof text, args, 1);
    } else if (ks.place == RLC_KEY_SESSION && (ks.pending || !why[0])) {
        snprintf(text, sizeof text, "%s", rlu__opt_str(o, "options.key.saving"));
    } else if (ks.place == RLC_KEY_SESSION) {
        args[0] = why;
        rl_words_format(&o->strings, "options.key.session", text, sizeof text, args, 1);
    } else if (why[0]) {
        args[0] = why;
        rl_words_format(&o->strings, "options.key.none.session", text, sizeof text, args, 1);
    } else {
        snprintf(text, sizeof text, "%s", rlu__opt_str(o, "options.key.none"));
    }
    rlu__opt_show(o, "keyState", text);
}

/* "Forget the key": removed from wherever it is kept (the keyring thread
 * does it), and the connection closed: without a key there is none. */
static void forget_key(options *o)
{
    rl_uno_err err;
    uno_Interface *link = rlc_link_get(o->ctx);
    rtl_uString *empty = rl_uno_str("");

    if (!link) {
        rl_log("options: theReportLink is not available; the key is not forgotten");
    } else {
        if (rl_uno_XReportLink_setDoctorKey(link, &err, empty) != RL_OK)
            rl_log("options: the key is not forgotten: %s", err.message);
        if (rl_uno_XReportLink_disconnect(link, &err) != RL_OK)
            rl_log("options: cannot disconnect: %s", err.message);
    }
    rtl_uString_release(empty);
    rl_uno_release(link);
    rlu__opt_show(o, "keyState", rlu__opt_str(o, "options.key.forgotten"));
}

/* ------------------------------------------------------------------ the page's events */

static void set_window(options *o, uno_Interface *window)
{
    rl_uno_err err;
    if (window == o->window)
        return;
    if (o->window) {
        rl_uno_XComponent_removeEventListener(o->window, &err, &o->obj.iface);
        rl_uno_release(o->window);
        o->window = NULL;
    }
    if (!window)
        return;
    rl_uno_acquire(window);
    o->window = window;
    /* Let go of the window when the dialog disposes it. */
    if (rl_uno_XComponent_addEventListener(window, &err, &o->obj.iface) != RL_OK)
        rl_log("options: cannot watch the page's window: %s", err.message);
}

/* "initialize" and "back": the words, then the saved values. */
static void fill(options *o)
{
    rlc_connection c;
    rl_uno_err err;
    static const char *const labels[][2] = {
        { "endpointTitle", "options.endpoint.title" }, { "keyTitle", "options.key.title" },
        { "autoConnect", "options.autoconnect" },      { "caTitle", "options.ca.title" },
        { "caBrowse", "options.ca.browse" },           { "caHint", "options.ca.hint" },
        { "test", "options.test.button" },             { "forgetKey", "options.key.forget" },
    };

    load_strings(o);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        rlu_control_set_string(o->window, labels[i][0], "Label", rlu__opt_str(o, labels[i][1]));
    if (rlc_settings_read_connection(o->ctx, &c, &err) != RL_OK) {
        rl_log("options: cannot read the settings: %s", err.message);
        memset(&c, 0, sizeof c);
    }
    rlu_control_set_string(o->window, "endpoint", "Text", c.endpoint);
    rlu_control_set_string(o->window, "key", "Text", "");   /* never shown back */
    rlu_control_set_short(o->window, "autoConnect", "State", c.auto_connect ? 1 : 0);
    rlu_control_set_string(o->window, "caFile", "Text", c.ca_file);
    rlu__opt_check_endpoint(o, c.endpoint);
    show_key_state(o);
    if (!o->testing)
        rlu__opt_show(o, "testResult", "");
}

/* "ok": saves what is valid; an invalid address is not saved, and the page
 * says so. */
static void save(options *o)
{
    char endpoint[RL_MAX_URL], ca_file[RLC_MAX_PATH], key[RL_MAX_KEY];
    long auto_connect = 0;
    rl_uno_err err;

    int endpoint_read = rlu_control_get_string(o->window, "endpoint", "Text", endpoint, sizeof endpoint) == RL_OK;
    if (rlu_control_get_string(o->window, "caFile", "Text", ca_file, sizeof ca_file) != RL_OK) {
        /* Too long for a path: keep the saved one, say so, save the rest. */
        rlc_connection saved;
        rlu__opt_show(o, "caHint", rlu__opt_str(o, "options.ca.too_long"));
        if (rlc_settings_read_connection(o->ctx, &saved, &err) != RL_OK)
            saved.ca_file[0] = '\0';
        snprintf(ca_file, sizeof ca_file, "%s", saved.ca_file);
    }
    rlu_control_get_int(o->window, "autoConnect", "State", &auto_connect);

    rl_url_problem p = endpoint_read ? rlu__opt_check_endpoint(o, endpoint) : RL_URL_TOO_LONG;
    rlc_connection before;
    int new_address = p == RL_URL_OK &&
                      (rlc_settings_read_connection(o->ctx, &before, &err) != RL_OK ||
                       strcmp(before.endpoint, endpoint) != 0);
    if (p != RL_URL_OK) {
        char text[OPTIONS_MAX_TEXT];
        const char *args[1] = { rlu__opt_str(o, rlu__opt_problem_key(p)) };
        rl_words_format(&o->strings, "options.endpoint.not_saved", text, sizeof text, args, 1);
        rlu__opt_show(o, "endpointCheck", text);
        rl_log("options: the endpoint was not saved: it is not a ws:// or wss:// address");
    }
    if (rlc_settings_write_connection(o->ctx, p == RL_URL_OK ? endpoint : NULL, auto_connect == 1, ca_file,
                                      &err) != RL_OK)
        rl_log("options: cannot save the settings: %s", err.message);

    int len = rlu_control_take_secret(o->window, "key", key, sizeof key);
    int new_key = len > 0;
    if (len < 0) {
        rlu__opt_show(o, "keyState", rlu__opt_str(o, "options.key.too_long"));
    } else if (len > 0) {
        uno_Interface *link = rlc_link_get(o->ctx);
        rtl_uString *s = rl_uno_str(key);
        if (!link)
            rl_log("options: theReportLink is not available; the key is not saved");
        else if (rl_uno_XReportLink_setDoctorKey(link, &err, s) != RL_OK)
            rl_log("options: the key is not saved: %s", err.message);
        rl_uno_str_wipe_release(s);
        rl_uno_release(link);
        show_key_state(o);
    }
    rl_os_wipe(key, sizeof key);
    /* A new key or address and OK mean "use this": connect with it, even after
     * the doctor disconnected by hand (without a key, connect() dials nothing). */
    if (new_key || new_address) {
        uno_Interface *link = rlc_link_get(o->ctx);
        if (link && rl_uno_XReportLink_connect(link, &err) != RL_OK)
            rl_log("options: cannot connect with the new settings: %s", err.message);
        rl_uno_release(link);
    }
}

static void endpoint_changed(options *o)
{
    char endpoint[RL_MAX_URL];
    if (rlu_control_get_string(o->window, "endpoint", "Text", endpoint, sizeof endpoint) != RL_OK) {
        rlu__opt_show(o, "endpointCheck", rlu__opt_str(o, "options.endpoint.bad.too_long"));
        return;
    }
    rlu__opt_check_endpoint(o, endpoint);
}

/* The file picker; the chosen file's path goes into the CA field. */
static void browse_ca_file(options *o)
{
    rl_uno_err err;
    sal_Int16 result = 0;
    uno_Sequence *files = NULL;
    uno_Interface *picker = rl_uno_create_instance(o->ctx, "com.sun.star.ui.dialogs.FilePicker", &err);

    if (!picker) {
        rl_log("options: no file picker: %s", err.message);
        return;
    }
    if (rl_uno_XExecutableDialog_execute(picker, &err, &result) == RL_OK && result == 1 &&
        rl_uno_XFilePicker_getFiles(picker, &err, &files) == RL_OK && files->nElements > 0) {
        rtl_uString *url = *(rtl_uString **)(void *)files->elements, *path = NULL;
        char utf8[RLC_MAX_PATH];
        if (osl_getSystemPathFromFileURL(url, &path) == osl_File_E_None &&
            rl_uno_str_utf8(path, utf8, sizeof utf8) >= 0)
            rlu_control_set_string(o->window, "caFile", "Text", utf8);
        else
            rl_log("options: the chosen CA file is not a local file with a usable path");
        rl_uno_str_release(path);
    }
    if (files)
        rl_uno_destruct(&files, RL_UNO_T_seq_string);
    rl_uno_release(picker);
}

/* ------------------------------------------------------------------ methods */

static const char *const method_names[] = { "external_event", "testConnection", "endpointChanged", "browseCaFile",
                                            "forgetKey" };

static void call_handler_method(rl_uno_object *self, uno_Any **exc, sal_Bool *ret, uno_Interface *window,
                                const uno_Any *event, rtl_uString *method)
{
    options *o = options_of(self);
    sal_Bool handled = sal_True;

    if (rl_uno_str_equals(method, "external_event")) {
        char what[32];
        if (rl_uno_any_get_string(event, what, sizeof what) != RL_OK) {
            handled = sal_False;
        } else if (strcmp(what, "initialize") == 0 || strcmp(what, "back") == 0) {
            set_window(o, window);
            fill(o);
        } else if (strcmp(what, "ok") == 0) {
            set_window(o, window);
            save(o);
        } else {
            handled = sal_False;
        }
    } else if (!o->window) {
        handled = sal_False;   /* a page event before "initialize": nothing to act on */
    } else if (rl_uno_str_equals(method, "testConnection")) {
        rlu__opt_start_test(o);
    } else if (rl_uno_str_equals(method, "endpointChanged")) {
        endpoint_changed(o);
    } else if (rl_uno_str_equals(method, "browseCaFile")) {
        browse_ca_file(o);
    } else if (rl_uno_str_equals(method, "forgetKey")) {
        forget_key(o);
    } else {
        handled = sal_False;
    }
    *ret = handled;
}
RL_UNO_SKELETON_XContainerWindowEventHandler_callHandlerMethod(m_call_handler_method, call_handler_method)

static void get_supported_method_names(rl_uno_object *self, uno_Any **exc, uno_Sequence **ret)
{
    uno_Sequence *names = rl_uno_seq_strings(method_names, sizeof method_names / sizeof method_names[0]);
    if (!names) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "out of memory");
        return;
    }
    *ret = names;
}
RL_UNO_SKELETON_XContainerWindowEventHandler_getSupportedMethodNames(m_get_supported_method_names,
                                                                     get_supported_method_names)

/* The test thread's outcome, posted to the main thread. */
static void notify(rl_uno_object *self, uno_Any **exc, const uno_Any *data)
{
    rlu__opt_show_result(options_of(self));
}
RL_UNO_SKELETON_XCallback_notify(m_notify, notify)

static void disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    options *o = options_of(self);
    uno_Interface *src = rl_uno_query(ev->Source, RL_UNO_T_XInterface);
    uno_Interface *win = rl_uno_query(o->window, RL_UNO_T_XInterface);
    if (src && src == win) {
        /* The dialog closed the page: its window is gone; a test still
         * running will find no window to show its result in. */
        rl_uno_release(o->window);
        o->window = NULL;
    }
    rl_uno_release(src);
    rl_uno_release(win);
}
RL_UNO_SKELETON_XEventListener_disposing(m_disposing, disposing)

static void query_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    /* A test never holds the office back: it is cut short at exit. */
}
RL_UNO_SKELETON_XTerminateListener_queryTermination(m_query_termination, query_termination)

/* Main thread, office exit: stops a running test and waits (bounded) until
 * its thread has destroyed its client. */
static void notify_termination(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    options *o = options_of(self);
    int64_t until = rl_os_monotonic_ms() + TEST_EXIT_WAIT_S * 1000;

    pthread_mutex_lock(&o->lock);
    if (o->job) {
        pthread_mutex_lock(&o->job->lock);
        o->job->cancelled = 1;
        pthread_cond_signal(&o->job->cond);
        pthread_mutex_unlock(&o->job->lock);
    }
    while (o->job)
        if (rl_os_cond_wait_until(&o->idle, &o->lock, until) != 0)
            break;
    if (o->job)
        rl_log("options: the connection test did not stop within %d s of the office's exit", TEST_EXIT_WAIT_S);
    pthread_mutex_unlock(&o->lock);
    o->testing = 0;
    rlu__opt_unwatch_exit(o);
}
RL_UNO_SKELETON_XTerminateListener_notifyTermination(m_notify_termination, notify_termination)

static void options_destroy(rl_uno_object *self)
{
    options *o = options_of(self);
    rl_uno_release(o->desktop);
    pthread_cond_destroy(&o->idle);
    rl_uno_release(o->window);
    rl_uno_release(o->async);
    rl_uno_release(o->ctx);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

static const char *const options_services[] = { RLU_IMPL_OPTIONS_HANDLER, NULL };
static const int options_interfaces[] = {
    RL_UNO_T_XContainerWindowEventHandler, RL_UNO_T_XCallback, RL_UNO_T_XTerminateListener, -1
};
static const rl_uno_method options_methods[] = {
    { RL_UNO_MN_XContainerWindowEventHandler_callHandlerMethod, m_call_handler_method },
    { RL_UNO_MN_XContainerWindowEventHandler_getSupportedMethodNames, m_get_supported_method_names },
    { RL_UNO_MN_XCallback_notify, m_notify },
    { RL_UNO_MN_XTerminateListener_queryTermination, m_query_termination },
    { RL_UNO_MN_XTerminateListener_notifyTermination, m_notify_termination },
    { RL_UNO_MN_XEventListener_disposing, m_disposing },
    { NULL, NULL }
};
const rl_uno_class rlu_options_class = {
    RLU_IMPL_OPTIONS_HANDLER, options_services, options_interfaces, options_methods, options_destroy
};

uno_Interface *rlu_options_handler_new(uno_Interface *ctx)
{
    rl_uno_err err;
    options *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    rl_uno_object_init(&o->obj, &rlu_options_class);
    pthread_mutex_init(&o->lock, NULL);
    rl_os_cond_init(&o->idle);
    rl_uno_acquire(ctx);
    o->ctx = ctx;
    if (!(o->async = rl_uno_create_instance(ctx, "com.sun.star.awt.AsyncCallback", &err))) {
        rl_log("options: %s", err.message);
        rl_uno_release(&o->obj.iface);
        return NULL;
    }
    load_strings(o);
    return &o->obj.iface;
}
