/* settings.c - /org.reportlink.Settings, read through the configuration
 * provider, and a change listener on its Connection group.
 *
 * The schema is extension/registry/ReportLink.xcs. A doctor (or an
 * administrator, or a test) changes a value and commits; the listener then
 * reads the whole group again and hands the new state to the link, which
 * applies what differs. Every group node of the configuration is a property
 * set (configmgr gives it XPropertySet): its values are read and written by
 * name with the bridge's rl_uno_prop_* (src/uno/props.c). */
#include "component.h"

#include <osl/file.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECTION_PATH "/org.reportlink.Settings/Connection"
#define FIELDS_PATH     "/org.reportlink.Settings/Fields"
#define PING_MIN_S      5
#define PING_MAX_S      3600
#define PING_DEFAULT_S  30

struct rlc_settings_watch {
    rl_uno_object obj;            /* XChangesListener */
    uno_Interface *ctx;           /* acquired */
    uno_Interface *owner;         /* acquired until the watch is destroyed */
    uno_Interface *access;        /* the Connection node, acquired while watching */
    rlc_connection_changed_fn fn;
    void *user;
    atomic_int stopped;
};

/* A view of the configuration node `path` (the caller releases it), or
 * NULL with err set. kind: "ConfigurationAccess" (read-only) or
 * "ConfigurationUpdateAccess". */
static uno_Interface *open_view(uno_Interface *ctx, const char *path, const char *kind, rl_uno_err *err)
{
    uno_Interface *provider, *access = NULL;
    rl_uno_NamedValue nodepath;
    uno_Any arg;
    uno_Sequence *args;
    rtl_uString *service;

    if (!(provider = rl_uno_create_instance(ctx, "com.sun.star.configuration.ConfigurationProvider", err)))
        return NULL;
    nodepath.Name = rl_uno_str("nodepath");
    rl_uno_any_string(&nodepath.Value, path);
    rl_uno_any_value(&arg, &nodepath, RL_UNO_T_NamedValue);
    rl_uno_destruct(&nodepath, RL_UNO_T_NamedValue);
    args = rl_uno_seq(RL_UNO_T_seq_any, &arg, 1);
    uno_any_destruct(&arg, NULL);
    char name[64];
    snprintf(name, sizeof name, "com.sun.star.configuration.%s", kind);
    service = rl_uno_str(name);
    if (!args)
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
    else
        rl_uno_XMultiServiceFactory_createInstanceWithArguments(provider, err, &access, service, args);
    rtl_uString_release(service);
    if (args)
        rl_uno_destruct(&args, RL_UNO_T_seq_any);
    rl_uno_release(provider);
    return access;
}

static uno_Interface *open_node(uno_Interface *ctx, const char *path, rl_uno_err *err)
{
    return open_view(ctx, path, "ConfigurationAccess", err);
}

static int read_connection(uno_Interface *access, rlc_connection *out, rl_uno_err *err)
{
    long ping = PING_DEFAULT_S;
    int rc;

    if ((rc = rl_uno_prop_get_string(access, "Endpoint", out->endpoint, sizeof out->endpoint, err)) ||
        (rc = rl_uno_prop_get_bool(access, "AutoConnect", &out->auto_connect, err)) ||
        (rc = rl_uno_prop_get_int(access, "PingIntervalSeconds", &ping, err)) ||
        (rc = rl_uno_prop_get_string(access, "CaFile", out->ca_file, sizeof out->ca_file, err)))
        return rc;
    if (ping < PING_MIN_S || ping > PING_MAX_S) {
        rl_log("PingIntervalSeconds %ld is outside %d..%d; using %d", ping, PING_MIN_S,
                PING_MAX_S, PING_DEFAULT_S);
        ping = PING_DEFAULT_S;
    }
    out->ping_interval_s = (int)ping;
    return RL_OK;
}

/* One entry of the Fields set: its name is the json_report key, its
 * Bookmark property the bookmark's name. */
static int read_field(uno_Interface *fields, rtl_uString *name, rl_field_map *map, rl_uno_err *err)
{
    uno_Any v;
    uno_Interface *entry = NULL;
    int rc = rl_uno_XNameAccess_getByName(fields, err, &v, name);
    if (rc != RL_OK)
        return rc;
    size_t i = map->n;
    if (rl_uno_any_get_interface(&v, &entry) != RL_OK || !entry)
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "a Fields entry is not a group");
    else if (rl_uno_str_utf8(name, map->entries[i].key, sizeof map->entries[i].key) < 0)
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "a Fields key is too long");
    else
        rc = rl_uno_prop_get_string(entry, "Bookmark", map->entries[i].bookmark,
                                    sizeof map->entries[i].bookmark, err);
    if (rc == RL_OK) {
        /* Optional (an older layer may lack them): "json" unless said otherwise. */
        char source[16];
        rl_uno_err ignored;
        map->entries[i].from_html = rl_uno_prop_get_string(entry, "Source", source, sizeof source, &ignored) ==
                                        RL_OK && !strcmp(source, "html");
        if (rl_uno_prop_get_string(entry, "HtmlHeading", map->entries[i].html_heading,
                       sizeof map->entries[i].html_heading, &ignored) != RL_OK)
            map->entries[i].html_heading[0] = 0;
    }
    uno_any_destruct(&v, NULL);
    if (rc == RL_OK)
        map->n++;
    return rc;
}

static int read_fields(uno_Interface *fields, rl_field_map *map, rl_uno_err *err)
{
    uno_Sequence *names = NULL;
    int rc = rl_uno_XNameAccess_getElementNames(fields, err, &names);
    if (rc != RL_OK)
        return rc;
    rtl_uString **items = (rtl_uString **)(void *)names->elements;
    map->n = 0;
    for (sal_Int32 i = 0; i < names->nElements && rc == RL_OK; i++) {
        if (map->n == RL_MAX_FIELD_MAP) {
            rl_log("more than %d Fields entries; the rest are ignored", RL_MAX_FIELD_MAP);
            break;
        }
        rc = read_field(fields, items[i], map, err);
    }
    rl_uno_destruct(&names, RL_UNO_T_seq_string);
    return rc;
}

int rlc_settings_read_connection(uno_Interface *ctx, rlc_connection *out, rl_uno_err *err)
{
    uno_Interface *node = open_node(ctx, CONNECTION_PATH, err);
    if (!node)
        return err->code;
    memset(out, 0, sizeof *out);
    int rc = read_connection(node, out, err);
    rl_uno_release(node);
    return rc;
}

int rlc_settings_read_fields(uno_Interface *ctx, rl_field_map *out, rl_uno_err *err)
{
    uno_Interface *node = open_node(ctx, FIELDS_PATH, err);
    if (!node)
        return err->code;
    int rc = read_fields(node, out, err);
    rl_uno_release(node);
    return rc;
}

int rlc_settings_ui_language(uno_Interface *ctx, char *lang, size_t cap)
{
    rl_uno_err err;
    uno_Interface *node = open_node(ctx, "/org.openoffice.Setup/L10N", &err);
    lang[0] = '\0';
    if (!node)
        return err.code;
    int rc = rl_uno_prop_get_string(node, "ooLocale", lang, cap, &err);
    rl_uno_release(node);
    return rc;
}

int rlc_settings_options_page_url(uno_Interface *ctx, char *url, size_t cap, rl_uno_err *err)
{
    uno_Interface *node = open_node(ctx, RLC_OPTIONS_LEAF, err), *expander = NULL;
    char raw[RLC_MAX_PATH];
    uno_Any v;
    int rc;

    url[0] = '\0';
    if (!node)
        return err->code;
    rc = rl_uno_prop_get_string(node, "OptionsPage", raw, sizeof raw, err);
    rl_uno_release(node);
    if (rc != RL_OK)
        return rc;
    /* %origin% was stored as vnd.sun.star.expand:$UNO_USER_PACKAGES_CACHE/...:
     * the options dialog knows its pages by the expanded URL. */
    static const char prefix[] = "vnd.sun.star.expand:";
    if (strncmp(raw, prefix, sizeof prefix - 1) != 0) {
        snprintf(url, cap, "%s", raw);
        return RL_OK;
    }
    rtl_uString *name = rl_uno_str("/singletons/com.sun.star.util.theMacroExpander");
    rc = rl_uno_XComponentContext_getValueByName(ctx, err, &v, name);
    rtl_uString_release(name);
    if (rc != RL_OK)
        return rc;
    if (rl_uno_any_get_interface(&v, &expander) != RL_OK || !expander) {
        uno_any_destruct(&v, NULL);
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "no macro expander");
    }
    rtl_uString *in = rl_uno_str(raw + sizeof prefix - 1), *out = NULL;
    rc = rl_uno_XMacroExpander_expandMacros(expander, err, &out, in);
    rtl_uString_release(in);
    uno_any_destruct(&v, NULL);
    if (rc == RL_OK) {
        if (rl_uno_str_utf8(out, url, cap) < 0)
            rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "the options page URL is too long");
        rtl_uString_release(out);
    }
    return rc;
}

/* ------------------------------------------------------------------ writing */

int rlc_settings_write_connection(uno_Interface *ctx, const char *endpoint, int auto_connect,
                                  const char *ca_file, rl_uno_err *err)
{
    uno_Interface *node = open_view(ctx, CONNECTION_PATH, "ConfigurationUpdateAccess", err);
    int rc = RL_OK;

    if (!node)
        return err->code;
    if (endpoint)
        rc = rl_uno_prop_set_string(node, "Endpoint", endpoint, err);
    if (rc == RL_OK)
        rc = rl_uno_prop_set_bool(node, "AutoConnect", auto_connect, err);
    if (rc == RL_OK)
        rc = rl_uno_prop_set_string(node, "CaFile", ca_file, err);
    /* One commit: the link's watch sees one change and reconnects once. */
    if (rc == RL_OK)
        rc = rl_uno_XChangesBatch_commitChanges(node, err);
    rl_uno_release(node);
    return rc;
}

/* ------------------------------------------------------------------ watch */

static rlc_settings_watch *watch_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, rlc_settings_watch, obj);
}

static void changes_occurred(rl_uno_object *self, uno_Any **exc, const rl_uno_ChangesEvent *ev)
{
    rlc_settings_watch *w = watch_of(self);
    rlc_connection c;
    rl_uno_err err;

    if (atomic_load(&w->stopped))
        return;
    if (read_connection(w->access, &c, &err) != RL_OK) {
        rl_log("cannot read the changed settings: %s", err.message);
        return;
    }
    w->fn(w->user, &c);
}
RL_UNO_SKELETON_XChangesListener_changesOccurred(m_changes_occurred, changes_occurred)

static void watch_disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
    /* The configuration is going away (office exit); nothing to release
     * here: unwatch does it. */
}
RL_UNO_SKELETON_XEventListener_disposing(m_watch_disposing, watch_disposing)

static void watch_destroy(rl_uno_object *self)
{
    rlc_settings_watch *w = watch_of(self);
    rl_uno_release(w->owner);
    rl_uno_release(w->ctx);
    free(w);
}

static const int watch_interfaces[] = { RL_UNO_T_XChangesListener, -1 };
static const rl_uno_method watch_methods[] = {
    { RL_UNO_MN_XChangesListener_changesOccurred, m_changes_occurred },
    { RL_UNO_MN_XEventListener_disposing, m_watch_disposing },
    { NULL, NULL }
};
const rl_uno_class rlc_settings_watch_class = {
    "org.reportlink.SettingsListener", NULL, watch_interfaces, watch_methods, watch_destroy
};

rlc_settings_watch *rlc_settings_watch_start(uno_Interface *ctx, uno_Interface *owner,
                                             rlc_connection_changed_fn fn, void *user,
                                             rl_uno_err *err)
{
    rlc_settings_watch *w = calloc(1, sizeof *w);
    if (!w) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rl_uno_object_init(&w->obj, &rlc_settings_watch_class);
    rl_uno_acquire(ctx);
    rl_uno_acquire(owner);
    w->ctx = ctx;
    w->owner = owner;
    w->fn = fn;
    w->user = user;
    atomic_init(&w->stopped, 0);
    if (!(w->access = open_node(ctx, CONNECTION_PATH, err)) ||
        rl_uno_XChangesNotifier_addChangesListener(w->access, err, &w->obj.iface) != RL_OK) {
        rl_uno_release(w->access);
        w->access = NULL;
        rl_uno_release(&w->obj.iface);
        return NULL;
    }
    return w;
}

void rlc_settings_unwatch(rlc_settings_watch *w)
{
    rl_uno_err err;
    if (!w)
        return;
    atomic_store(&w->stopped, 1);
    if (rl_uno_XChangesNotifier_removeChangesListener(w->access, &err, &w->obj.iface) != RL_OK)
        rl_log("cannot remove the settings listener: %s", err.message);
    rl_uno_release(w->access);
    w->access = NULL;
    rl_uno_release(&w->obj.iface);
}

/* ------------------------------------------------------------------ the user profile */

int rlc_settings_profile_dir(uno_Interface *ctx, char *out, size_t cap, rl_uno_err *err)
{
    uno_Interface *subst;
    rtl_uString *var, *url = NULL, *sys = NULL;
    int rc;

    if (!(subst = rl_uno_create_instance(ctx, "com.sun.star.util.PathSubstitution", err)))
        return err->code;
    var = rl_uno_str("$(user)");
    rc = rl_uno_XStringSubstitution_substituteVariables(subst, err, &url, var, sal_True);
    rtl_uString_release(var);
    rl_uno_release(subst);
    if (rc != RL_OK)
        return rc;
    /* $(user) is a file URL; the spool works with a system path. */
    if (osl_getSystemPathFromFileURL(url, &sys) != osl_File_E_None || !sys)
        rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "the user profile is not a local folder");
    else if (rl_uno_str_utf8(sys, out, cap) < 0)
        rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "the user profile's path is too long");
    rtl_uString_release(url);
    if (sys)
        rtl_uString_release(sys);
    return rc;
}

void rlc_words_for_office(rl_words *s, uno_Interface *ctx)
{
    char locale[32];
    rlc_settings_ui_language(ctx, locale, sizeof locale);
    const char *lang = rl_words_language(locale);
    if (rl_words_load(s, lang) != 0 && strcmp(lang, "en") != 0)
        rl_words_load(s, "en");
}
