/* dispatch.c - org.reportlink.Dispatcher: the commands of ReportLink's menus.
 *
 * extension/registry/Addons.xcu puts "ReportLink field" into Writer's
 * Insert menu and a "ReportLink" submenu into Tools; their items are URLs
 * of the protocol "org.reportlink:", which ProtocolHandler.xcu hands to this
 * object, one per window (initialize() gives the frame):
 *
 *   org.reportlink:InsertField?<field>   a field at the cursor (fields.c)
 *   org.reportlink:Connect               theReportLink connect()
 *   org.reportlink:Disconnect            theReportLink disconnect()
 *   org.reportlink:Options               Tools > Options at the ReportLink page
 *
 * Every command is enabled: each says in words what went wrong when it
 * cannot act (a field in a read-only letter is refused by the writer and
 * logged; the sidebar shows the connection). Main thread. */
#include "ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"   /* rlc_link_get, rl_uno_create_instance, rl_log */

#define PROTOCOL "org.reportlink:"

typedef enum command { CMD_NONE, CMD_INSERT_FIELD, CMD_CONNECT, CMD_DISCONNECT, CMD_OPTIONS } command;

typedef struct dispatcher {
    rl_uno_object o;
    uno_Interface *ctx;
    uno_Interface *frame;   /* from initialize(); may be NULL */
} dispatcher;

static dispatcher *dispatcher_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, dispatcher, o);
}

/* The command of url and, for InsertField, its field index. */
static command parse(const rl_uno_URL *url, int *field)
{
    char text[128];
    if (rl_uno_str_utf8(url->Complete, text, sizeof text) < 0 || strncmp(text, PROTOCOL, strlen(PROTOCOL)))
        return CMD_NONE;
    const char *cmd = text + strlen(PROTOCOL);
    if (!strncmp(cmd, "InsertField?", 12)) {
        *field = rlu_field_index(cmd + 12);
        return *field >= 0 ? CMD_INSERT_FIELD : CMD_NONE;
    }
    if (!strcmp(cmd, "Connect"))
        return CMD_CONNECT;
    if (!strcmp(cmd, "Disconnect"))
        return CMD_DISCONNECT;
    if (!strcmp(cmd, "Options"))
        return CMD_OPTIONS;
    return CMD_NONE;
}

static void initialize(rl_uno_object *self, uno_Any **exc, uno_Sequence *seq)
{
    dispatcher *d = dispatcher_of(self);
    const uno_Any *a = (const uno_Any *)(void *)seq->elements;
    uno_Interface *frame = NULL;
    if (seq->nElements > 0 && rl_uno_any_get_interface(&a[0], &frame) == RL_OK && frame) {
        rl_uno_release(d->frame);
        d->frame = rl_uno_query(frame, RL_UNO_T_XFrame);
    }
}
RL_UNO_SKELETON_XInitialization_initialize(m_initialize, initialize)

static void query_dispatch(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, const rl_uno_URL *url,
                           rtl_uString *target, sal_Int32 flags)
{
    int field = -1;
    uno_Interface *out = NULL;
    if (parse(url, &field) != CMD_NONE) {
        out = &self->iface;
        rl_uno_acquire(out);
    }
    *ret = out;
}
RL_UNO_SKELETON_XDispatchProvider_queryDispatch(m_query_dispatch, query_dispatch)

static void query_dispatches(rl_uno_object *self, uno_Any **exc, uno_Sequence **ret, uno_Sequence *in)
{
    const rl_uno_DispatchDescriptor *d = (const rl_uno_DispatchDescriptor *)(void *)in->elements;
    uno_Interface **out = calloc(in->nElements ? (size_t)in->nElements : 1, sizeof *out);
    if (!out) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "out of memory");
        return;
    }
    for (sal_Int32 i = 0; i < in->nElements; i++) {
        int field = -1;
        out[i] = parse(&d[i].FeatureURL, &field) != CMD_NONE ? &self->iface : NULL;
    }
    uno_Sequence *seq = rl_uno_seq(RL_UNO_T_seq_XDispatch, out, in->nElements);
    free(out);
    if (!seq) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "out of memory");
        return;
    }
    *ret = seq;
}
RL_UNO_SKELETON_XDispatchProvider_queryDispatches(m_query_dispatches, query_dispatches)

/* Tools > Options, opened at the ReportLink page (modal: returns when the
 * doctor closes it). */
void rlu_open_options(uno_Interface *ctx, uno_Interface *frame)
{
    rl_uno_err err;
    uno_Interface *helper = NULL, *provider = NULL;
    rl_uno_props args;
    uno_Any result;

    if (!frame || !(provider = rl_uno_query(frame, RL_UNO_T_XDispatchProvider))) {
        rl_log("options: no window to open them from");
        return;
    }
    if (!(helper = rl_uno_create_instance(ctx, "com.sun.star.frame.DispatchHelper", &err))) {
        rl_log("options: %s", err.message);
        rl_uno_release(provider);
        return;
    }
    char page[RLC_MAX_PATH];
    if (rlc_settings_options_page_url(ctx, page, sizeof page, &err) != RL_OK) {
        rl_log("options: cannot find ReportLink's page, opening the dialog as it is: %s", err.message);
        page[0] = '\0';
    }
    rl_uno_props_init(&args);
    rl_uno_props_add_string(&args, "OptionsPageURL", page);
    uno_Sequence *props = rl_uno_props_seq(&args, &err);
    rtl_uString *url = rl_uno_str(".uno:OptionsTreeDialog"), *target = rl_uno_str("");
    if (props && rl_uno_XDispatchHelper_executeDispatch(helper, &err, &result, provider, url, target, 0, props) ==
                     RL_OK)
        uno_any_destruct(&result, NULL);
    else
        rl_log("options: %s", err.message);
    rtl_uString_release(url);
    rtl_uString_release(target);
    rl_uno_props_free(&args);
    rl_uno_release(helper);
    rl_uno_release(provider);
}

int rlu_link_has_key(uno_Interface *link)
{
    rl_uno_ReportStatus s;
    rl_uno_err err;
    if (rl_uno_XReportLink_getStatus(link, &err, &s) != RL_OK)
        return 1;      /* unknown: let connect() decide, it never dials without a key */
    int has = s.HasKey;
    rl_uno_destruct(&s, RL_UNO_T_ReportStatus);
    return has;
}

static void dispatch(rl_uno_object *self, uno_Any **exc, const rl_uno_URL *url, uno_Sequence *args)
{
    dispatcher *d = dispatcher_of(self);
    rl_uno_err err;
    int field = -1;
    command cmd = parse(url, &field);

    if (cmd == CMD_INSERT_FIELD) {
        rl_words *s = malloc(sizeof *s);    /* 40 KiB: not on the stack */
        char made[128];
        if (!s)
            return;
        rlc_words_for_office(s, d->ctx);
        if (rlu_insert_field(d->ctx, d->frame, s, field, made, sizeof made, &err) != RL_OK)
            rl_log("cannot insert the field %s: %s", rlu_field_keys[field], err.message);
        free(s);
    } else if (cmd == CMD_CONNECT || cmd == CMD_DISCONNECT) {
        uno_Interface *link = rlc_link_get(d->ctx);
        if (!link)
            return;
        if (cmd == CMD_CONNECT && !rlu_link_has_key(link)) {
            rl_uno_release(link);
            rlu_open_options(d->ctx, d->frame);   /* no key: ask for it, never dial out */
            return;
        }
        int rc = cmd == CMD_CONNECT ? rl_uno_XReportLink_connect(link, &err) : rl_uno_XReportLink_disconnect(link, &err);
        if (rc != RL_OK)
            rl_log("%s failed: %s", cmd == CMD_CONNECT ? "connect" : "disconnect", err.message);
        rl_uno_release(link);
    } else if (cmd == CMD_OPTIONS) {
        rlu_open_options(d->ctx, d->frame);
    }
}
RL_UNO_SKELETON_XDispatch_dispatch(m_dispatch, dispatch)

static void add_status_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *listener,
                                const rl_uno_URL *url)
{
    rl_uno_FeatureStateEvent ev;
    rl_uno_err err;

    if (!listener)
        return;
    memset(&ev, 0, sizeof ev);
    ev.base.Source = &self->iface;
    ev.FeatureURL = *url;          /* borrowed for the call */
    ev.FeatureDescriptor = rl_uno_str("");
    ev.IsEnabled = sal_True;
    rl_uno_any_void(&ev.State);
    if (rl_uno_XStatusListener_statusChanged(listener, &err, &ev) != RL_OK)
        rl_log("menu: a status listener failed: %s", err.message);
    rtl_uString_release(ev.FeatureDescriptor);
    uno_any_destruct(&ev.State, NULL);
}
RL_UNO_SKELETON_XDispatch_addStatusListener(m_add_status_listener, add_status_listener)

static void remove_status_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *listener,
                                   const rl_uno_URL *url)
{
    /* Nothing kept: the state never changes. */
}
RL_UNO_SKELETON_XDispatch_removeStatusListener(m_remove_status_listener, remove_status_listener)

static void dispatcher_destroy(rl_uno_object *self)
{
    dispatcher *d = dispatcher_of(self);
    rl_uno_release(d->frame);
    rl_uno_release(d->ctx);
    free(d);
}

static const char *const dispatcher_services[] = { "com.sun.star.frame.ProtocolHandler", NULL };
static const int dispatcher_interfaces[] = {
    RL_UNO_T_XDispatchProvider, RL_UNO_T_XDispatch, RL_UNO_T_XInitialization, -1
};
static const rl_uno_method dispatcher_methods[] = {
    { RL_UNO_MN_XInitialization_initialize, m_initialize },
    { RL_UNO_MN_XDispatchProvider_queryDispatch, m_query_dispatch },
    { RL_UNO_MN_XDispatchProvider_queryDispatches, m_query_dispatches },
    { RL_UNO_MN_XDispatch_dispatch, m_dispatch },
    { RL_UNO_MN_XDispatch_addStatusListener, m_add_status_listener },
    { RL_UNO_MN_XDispatch_removeStatusListener, m_remove_status_listener },
    { NULL, NULL }
};
const rl_uno_class rlu_dispatcher_class = {
    RLU_IMPL_DISPATCHER, dispatcher_services, dispatcher_interfaces, dispatcher_methods, dispatcher_destroy
};

uno_Interface *rlu_dispatcher_new(uno_Interface *ctx)
{
    dispatcher *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    rl_uno_object_init(&d->o, &rlu_dispatcher_class);
    rl_uno_acquire(ctx);
    d->ctx = ctx;
    return &d->o.iface;
}
