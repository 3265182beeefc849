/* panel.c - the ReportLink status panel of Writer's sidebar.
 *
 * The window comes from extension/dialogs/Panel.xdl through
 * com.sun.star.awt.ContainerWindowProvider: the layout is a file a designer
 * can change with the office's dialog editor, the code only fills in the
 * words (from the i18n files) and the state. The panel is one C object:
 *
 *  - XToolPanel + XSidebarPanel, what the sidebar asks of a panel;
 *  - XReportLinkListener on theReportLink: every state change arrives on the
 *    main thread with a snapshot, and is shown at once;
 *  - XActionListener on the Connect/Disconnect button;
 *  - XCallback: the ticker thread's wake-ups, delivered on the main thread by
 *    com.sun.star.awt.AsyncCallback.
 *
 * State changes need no polling. Two things change without a notification:
 * the "reconnecting in N s" countdown, refreshed once per second and only
 * while in backoff, and the time of the last heartbeat, refreshed every
 * RLU_HEARTBEAT_REFRESH_MS while connected. The ticker thread sleeps
 * otherwise; it never touches the UI, it only posts the callback. */
#include "ui.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "component.h"   /* rlc_link_get, rl_uno_create_instance, rlc_settings_ui_language, rl_log */
#include "secret.h"      /* rlc_secret_kind_name */

/* The smallest ping interval the settings allow (5 s): refreshing this often
 * keeps the shown heartbeat at most one heartbeat behind. */
#define RLU_HEARTBEAT_REFRESH_MS 5000
#define RLU_MIN_TICK_MS 50
#define RLU_MAX_TEXT 512

/* The state line has the theme's text colour, like every other line: the
 * words carry the state. Hand-set colours measured 3:1 or less against the
 * sidebar of some themes (red on the classic grey face), and none can suit
 * both light and dark themes. */

enum { C_STATUS_TITLE, C_STATUS, C_ENDPOINT_TITLE, C_ENDPOINT, C_ERROR_TITLE, C_ERROR, C_KEY_NOTE, C_BUTTON,
       C_COUNT };
static const char *const control_names[C_COUNT] = {
    "statusTitle", "status", "endpointTitle", "endpoint", "errorTitle", "error", "keyNote", "connect"
};

typedef struct panel {
    rlu_panel_base b;               /* first: the object, its window and controls */
    uno_Interface *link;            /* theReportLink; NULL once disposed or gone */
    uno_Interface *async;           /* com.sun.star.awt.AsyncCallback */
    rl_words strings;
    int active;                     /* the shown state is one Disconnect applies to */
    int wants_key;                  /* no key, or the key was refused: the button asks for one */
    uno_Interface *ctx, *frame;     /* acquired: to open Tools > Options from the button */
    int disposed;                   /* main thread only */

    pthread_t ticker;
    int ticker_started;
    pthread_mutex_t lock;           /* guards tick_at_ms and quit */
    pthread_cond_t cond;
    int64_t tick_at_ms;             /* CLOCK_MONOTONIC deadline; 0: none */
    int quit;
} panel;

static panel *panel_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, panel, b.o);
}

static int64_t mono_ms(void)
{
    return rl_os_monotonic_ms();
}

/* ------------------------------------------------------------------ ticker */

static void post_tick(panel *p)
{
    rl_uno_err err;
    uno_Any nothing;
    rl_uno_any_void(&nothing);
    if (rl_uno_XRequestCallback_addCallback(p->async, &err, &p->b.o.iface, &nothing) != RL_OK)
        rl_log("the panel cannot reach the main thread: %s", err.message);
    uno_any_destruct(&nothing, NULL);
}

static void *ticker_main(void *arg)
{
    panel *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->quit) {
        if (p->tick_at_ms == 0) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        int64_t now = mono_ms();
        if (now >= p->tick_at_ms) {
            p->tick_at_ms = 0;
            pthread_mutex_unlock(&p->lock);
            post_tick(p);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        rl_os_cond_wait_until(&p->cond, &p->lock, p->tick_at_ms);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Main thread: the next refresh in delay_ms, or none (0). */
static void schedule(panel *p, int64_t delay_ms)
{
    pthread_mutex_lock(&p->lock);
    p->tick_at_ms = delay_ms > 0 ? mono_ms() + (delay_ms < RLU_MIN_TICK_MS ? RLU_MIN_TICK_MS : delay_ms) : 0;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void stop_ticker(panel *p)
{
    if (!p->ticker_started)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->ticker, NULL);
    p->ticker_started = 0;
}

/* ------------------------------------------------------------------ showing the state */

/* "wss://host:8443/reports/ws" -> "host:8443". */
static void endpoint_host(const char *url, char *out, size_t cap)
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    const char *at = strchr(start, '@');
    const char *end = start + strcspn(start, "/?#");
    if (at && at < end)
        start = at + 1;   /* never show credentials */
    size_t len = (size_t)(end - start);
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

/* The state line; returns the delay of the next refresh (0: none needed). */
static int64_t describe(panel *p, const rl_uno_ReportStatus *s, const char *state, char *text, size_t cap)
{
    const rl_words *str = &p->strings;
    char a0[64], a1[64];
    const char *args[2] = { a0, a1 };

    if (strcmp(state, "connected") == 0) {
        if (s->LastHeartbeatMs < 0) {
            rl_words_format(str, "state.connected.noheartbeat", text, cap, NULL, 0);
        } else {
            time_t at = time(NULL) - (time_t)((s->LastHeartbeatMs + 500) / 1000);
            struct tm tm;
            localtime_r(&at, &tm);
            strftime(a0, sizeof a0, "%H:%M:%S", &tm);
            snprintf(a1, sizeof a1, "%d", (int)s->LastRoundTripMs);
            rl_words_format(str, "state.connected.heartbeat", text, cap, args, 2);
        }
        return RLU_HEARTBEAT_REFRESH_MS;
    }
    if (strcmp(state, "backoff") == 0) {
        int64_t ms = s->NextRetryMs > 0 ? s->NextRetryMs : 0;
        snprintf(a0, sizeof a0, "%lld", (long long)((ms + 999) / 1000));
        snprintf(a1, sizeof a1, "%d", (int)s->Attempt);
        rl_words_format(str, "state.backoff", text, cap, args, 2);
        /* Tick when the shown number of seconds changes. */
        int64_t rest = ms % 1000;
        return ms == 0 ? 1000 : rest == 0 ? 1000 : rest;
    }
    if (strcmp(state, "connecting") == 0 || strcmp(state, "authenticating") == 0 ||
        strcmp(state, "auth_failed") == 0 || strcmp(state, "replaced") == 0 || strcmp(state, "stopped") == 0) {
        snprintf(a0, sizeof a0, "state.%s", state);
        rl_words_format(str, a0, text, cap, NULL, 0);
        return 0;
    }
    snprintf(a0, sizeof a0, "%s", state);
    rl_words_format(str, "state.unknown", text, cap, args, 1);
    return 0;
}

/* The last error in the doctor's words ("" when it has no words: the
 * English detail is shown then). */
static void last_error_words(panel *p, const rl_uno_ReportStatus *s, const char *host, char *out, size_t cap)
{
    char kind[32], key[48], code[16], reason[RLU_MAX_TEXT];
    const char *args[2] = { host, reason };

    out[0] = 0;
    rl_uno_str_utf8(s->LastErrorKind, kind, sizeof kind);
    if (!kind[0])
        return;
    snprintf(code, sizeof code, "%d", (int)s->LastCloseCode);
    snprintf(key, sizeof key, "close.%d", (int)s->LastCloseCode);
    if (strcmp(rl_word(&p->strings, key), key) != 0) {
        snprintf(reason, sizeof reason, "%s", rl_word(&p->strings, key));
    } else {
        const char *c[1] = { code };
        rl_words_format(&p->strings, "close.other", reason, sizeof reason, c, 1);
    }
    snprintf(key, sizeof key, "error.%s", kind);
    if (strcmp(rl_word(&p->strings, key), key) != 0)
        rl_words_format(&p->strings, key, out, cap, args, 2);
}

void rlu_key_words(const rl_words *w, const rlc_key_status *ks, const char **where, const char **why)
{
    char key[48];
    snprintf(key, sizeof key, "key.where.%s",
             ks->place == RLC_KEY_CONTAINER ? "container" : rlc_secret_kind_name((rlc_secret_kind)ks->kind));
    if (ks->place != RLC_KEY_CONTAINER && ks->kind == RLC_SECRET_NONE)
        snprintf(key, sizeof key, "key.where.desktop");
    *where = rl_word(w, key);
    if (ks->why) {
        snprintf(key, sizeof key, "key.why.%s", rl_err_name(ks->why));
        *why = rl_word(w, key);
        if (strcmp(*why, key) == 0)
            *why = rl_word(w, "key.why.keyring_failed");
    } else {
        *why = "";
    }
}

/* Under the last error: the key is kept for this session only, and why;
 * or, at the start that moved it, that it went into the keyring. */
static void show_key_note(panel *p)
{
    rlc_key_status ks;
    const char *where, *why;
    char text[RLU_MAX_TEXT] = "";

    rlc_key_status_get(&ks);
    rlu_key_words(&p->strings, &ks, &where, &why);
    if (ks.place == RLC_KEY_SESSION && !ks.pending && why[0]) {
        const char *args[1] = { why };
        rl_words_format(&p->strings, "key.session", text, sizeof text, args, 1);
    } else if (ks.place == RLC_KEY_KEYRING && ks.migrated) {
        const char *args[1] = { where };
        rl_words_format(&p->strings, "key.moved", text, sizeof text, args, 1);
    }
    rlu_form_label(&p->b.form, C_KEY_NOTE, text);
}

static void show(panel *p, const rl_uno_ReportStatus *s)
{
    char state[32], text[RLU_MAX_TEXT], endpoint[RL_MAX_URL], host[RL_MAX_URL], error[RLU_MAX_TEXT];

    if (p->disposed)
        return;
    rl_uno_str_utf8(s->State, state, sizeof state);
    int64_t next = describe(p, s, state, text, sizeof text);
    rlu_form_label(&p->b.form, C_STATUS, text);

    rl_uno_str_utf8(s->Endpoint, endpoint, sizeof endpoint);
    endpoint_host(endpoint, host, sizeof host);
    rlu_form_label(&p->b.form, C_ENDPOINT, host[0] ? host : rl_word(&p->strings, "endpoint.none"));

    rl_uno_str_utf8(s->LastError, error, sizeof error);
    if (!strcmp(state, "connected"))
        error[0] = 0;          /* connected: an earlier failure is not the present */
    last_error_words(p, s, host, text, sizeof text);
    if (!error[0])
        text[0] = 0;
    if (error[0] && s->LastErrorMs >= 0) {
        /* With its time: a failure is an event, not a state. */
        char when[16], line[RLU_MAX_TEXT + 32];
        time_t at = time(NULL) - (time_t)(s->LastErrorMs / 1000);
        struct tm tm;
        localtime_r(&at, &tm);
        strftime(when, sizeof when, "%H:%M", &tm);
        const char *args[2] = { when, text[0] ? text : error };
        rl_words_format(&p->strings, "error.when", line, sizeof line, args, 2);
        rlu_form_label(&p->b.form, C_ERROR, line);
    } else {
        rlu_form_label(&p->b.form, C_ERROR, text[0] ? text : error[0] ? error : rl_word(&p->strings, "error.none"));
    }
    /* The service's own words, in English, for the IT contact: as the tooltip. */
    rlu_form_text(&p->b.form, C_ERROR, "HelpText", error);

    p->active = strcmp(state, "connected") == 0 || strcmp(state, "connecting") == 0 ||
                strcmp(state, "authenticating") == 0 || strcmp(state, "backoff") == 0;
    int refused = strcmp(state, "auth_failed") == 0;
    p->wants_key = !p->active && (!s->HasKey || refused);
    if (!s->HasKey && !p->active) {
        /* A missing key is a state of its own: say it, and where it goes. */
        rlu_form_label(&p->b.form, C_STATUS, rl_word(&p->strings, "state.no_key"));
    }
    rlu_form_label(&p->b.form, C_BUTTON, rl_word(&p->strings, p->active ? "button.disconnect"
                                                 : !s->HasKey ? "button.enter_key"
                                                 : refused ? "button.other_key" : "button.connect"));
    show_key_note(p);
    schedule(p, next);
}

/* Main thread: shows theReportLink's current status. */
static void refresh(panel *p)
{
    rl_uno_ReportStatus s;
    rl_uno_err err;
    if (p->disposed || !p->link)
        return;
    if (rl_uno_XReportLink_getStatus(p->link, &err, &s) != RL_OK) {
        rl_log("panel: cannot read the status: %s", err.message);
        return;
    }
    show(p, &s);
    rl_uno_destruct(&s, RL_UNO_T_ReportStatus);
}

/* ------------------------------------------------------------------ methods */

RLU_PANEL_SKELETONS

static void state_changed(rl_uno_object *self, uno_Any **exc, const rl_uno_ReportStatus *s)
{
    show(panel_of(self), s);
}
RL_UNO_SKELETON_XReportLinkListener_stateChanged(m_state_changed, state_changed)

/* reportReceived and inboxChanged: the status panel shows the connection
 * only; the inbox is another panel (inbox.c). */
static void report_received(rl_uno_object *self, uno_Any **exc, sal_Int32 id, sal_Bool placed,
                            rtl_uString *where)
{
}
RL_UNO_SKELETON_XReportLinkListener_reportReceived(m_report_received, report_received)

static void inbox_changed(rl_uno_object *self, uno_Any **exc, sal_Int32 id)
{
}
RL_UNO_SKELETON_XReportLinkListener_inboxChanged(m_inbox_changed, inbox_changed)

static void disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    panel *p = panel_of(self);
    if (rlu_let_go_of_link(&p->link, ev))
        schedule(p, 0);
}
RL_UNO_SKELETON_XEventListener_disposing(m_disposing, disposing)

static void action_performed(rl_uno_object *self, uno_Any **exc, const rl_uno_ActionEvent *ev)
{
    panel *p = panel_of(self);
    rl_uno_err err;
    if (p->disposed || !p->link)
        return;
    if (p->wants_key) {
        rlu_open_options(p->ctx, p->frame);     /* modal; OK there connects (options.c) */
        return;
    }
    int rc = p->active ? rl_uno_XReportLink_disconnect(p->link, &err) : rl_uno_XReportLink_connect(p->link, &err);
    if (rc != RL_OK)
        rl_log("panel: %s failed: %s", p->active ? "disconnect" : "connect", err.message);
}
RL_UNO_SKELETON_XActionListener_actionPerformed(m_action_performed, action_performed)

/* The ticker's wake-up. */
static void notify(rl_uno_object *self, uno_Any **exc, const uno_Any *data)
{
    refresh(panel_of(self));
}
RL_UNO_SKELETON_XCallback_notify(m_notify, notify)

static void panel_destroy(rl_uno_object *self)
{
    panel *p = panel_of(self);
    stop_ticker(p);
    rlu_form_release(&p->b.form);
    rl_uno_release(p->async);
    rl_uno_release(p->link);
    rl_uno_release(p->ctx);
    rl_uno_release(p->frame);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static const int panel_interfaces[] = {
    RL_UNO_T_XToolPanel, RL_UNO_T_XSidebarPanel, RL_UNO_T_XReportLinkListener,
    RL_UNO_T_XActionListener, RL_UNO_T_XCallback, -1
};
static const rl_uno_method panel_methods[] = {
    RLU_PANEL_METHODS,
    { RL_UNO_MN_XReportLinkListener_stateChanged, m_state_changed },
    { RL_UNO_MN_XReportLinkListener_reportReceived, m_report_received },
    { RL_UNO_MN_XReportLinkListener_inboxChanged, m_inbox_changed },
    { RL_UNO_MN_XEventListener_disposing, m_disposing },
    { RL_UNO_MN_XActionListener_actionPerformed, m_action_performed },
    { RL_UNO_MN_XCallback_notify, m_notify },
    { NULL, NULL }
};
const rl_uno_class rlu_panel_class = {
    "org.reportlink.StatusPanel", NULL, panel_interfaces, panel_methods, panel_destroy
};

/* ------------------------------------------------------------------ creation */

static void status_dispose(rl_uno_object *o);

rl_uno_object *rlu_status_panel_new(uno_Interface *ctx, uno_Interface *frame, uno_Interface *parent_window,
                                    rl_uno_err *err)
{
    panel *p = calloc(1, sizeof *p);

    if (!p) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    rl_os_cond_init(&p->cond);
    rl_uno_object_init(&p->b.o, &rlu_panel_class);
    p->b.dispose = status_dispose;
    rlc_words_for_office(&p->strings, ctx);
    rl_uno_acquire(ctx);
    p->ctx = ctx;
    if (frame)
        rl_uno_acquire(frame);
    p->frame = frame;

    if (!(p->link = rlc_link_get(ctx))) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "theReportLink is not available");
        goto fail;
    }
    if (!(p->async = rl_uno_create_instance(ctx, "com.sun.star.awt.AsyncCallback", err)))
        goto fail;
    if (rlu_form_build(&p->b.form, ctx, parent_window, "Panel.xdl", control_names, C_COUNT, NULL, err) !=
        RL_OK)
        goto fail;
    uno_Interface *button = p->b.form.controls[C_BUTTON];
    if (rl_uno_XButton_addActionListener(button, err, &p->b.o.iface) != RL_OK)
        goto fail;
    rlu_form_label(&p->b.form, C_STATUS_TITLE, rl_word(&p->strings, "status.title"));
    rlu_form_label(&p->b.form, C_ENDPOINT_TITLE, rl_word(&p->strings, "endpoint.title"));
    rlu_form_label(&p->b.form, C_ERROR_TITLE, rl_word(&p->strings, "error.title"));
    if (pthread_create(&p->ticker, NULL, ticker_main, p) != 0) {
        rl_uno_fail(err, RL_ERR_NOMEM, "cannot start the panel's ticker thread");
        goto fail;
    }
    p->ticker_started = 1;
    refresh(p);
    if (rl_uno_XReportLink_addListener(p->link, err, &p->b.o.iface) != RL_OK)
        goto fail;
    return &p->b.o;
fail:
    status_dispose(&p->b.o);
    rl_uno_release(&p->b.o.iface);
    return NULL;
}

static void status_dispose(rl_uno_object *o)
{
    panel *p = panel_of(o);
    rl_uno_err err;

    if (p->disposed)
        return;
    p->disposed = 1;
    stop_ticker(p);
    if (p->link) {
        /* theReportLink holds us as a listener: let go of each other. */
        rl_uno_XReportLink_removeListener(p->link, &err, &p->b.o.iface);
        rl_uno_release(p->link);
        p->link = NULL;
    }
    if (p->b.form.controls[C_BUTTON])
        rl_uno_XButton_removeActionListener(p->b.form.controls[C_BUTTON], &err, &p->b.o.iface);
    rlu_form_dispose(&p->b.form);
}
