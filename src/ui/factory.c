/* factory.c - org.reportlink.PanelFactory and the UI element it returns.
 *
 * Factories.xcu registers the factory for the "toolpanel" resources named
 * ReportLinkPanelFactory; Sidebar.xcu names the panel
 * private:resource/toolpanel/ReportLinkPanelFactory/StatusPanel. The sidebar
 * calls createUIElement with the panel's parent window and the frame, holds
 * the returned XUIElement, reaches the panel through getRealInterface, and
 * disposes the element (XComponent) when the panel goes away. */
#include "ui.h"

#include <stdlib.h>
#include <string.h>

#include "component.h"   /* rl_log */

#define RLU_MAX_ELEMENT_LISTENERS 8
#define UI_ELEMENT_TYPE_TOOLPANEL 7    /* com.sun.star.ui.UIElementType::TOOLPANEL */

/* ------------------------------------------------------------------ the UI element */

typedef struct element {
    rl_uno_object o;
    uno_Interface *frame;          /* XFrame, may be NULL */
    rtl_uString *resource_url;
    rl_uno_object *panel;             /* NULL once disposed */
    uno_Interface *listeners[RLU_MAX_ELEMENT_LISTENERS];
    int n_listeners;
} element;

static element *element_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, element, o);
}

/* The element's readonly attributes. */
static void element_frame(rl_uno_object *self, uno_Any **exc, uno_Interface **ret)
{
    element *e = element_of(self);
    rl_uno_acquire(e->frame);
    *ret = e->frame;
}
RL_UNO_GETTER_XUIElement_Frame(a_frame, element_frame)

static void element_resource_url(rl_uno_object *self, uno_Any **exc, rtl_uString **ret)
{
    element *e = element_of(self);
    rtl_uString_acquire(e->resource_url);
    *ret = e->resource_url;
}
RL_UNO_GETTER_XUIElement_ResourceURL(a_resource_url, element_resource_url)

static void element_type(rl_uno_object *self, uno_Any **exc, sal_Int16 *ret)
{
    *ret = UI_ELEMENT_TYPE_TOOLPANEL;
}
RL_UNO_GETTER_XUIElement_Type(a_type, element_type)

static void get_real_interface(rl_uno_object *self, uno_Any **exc, uno_Interface **ret)
{
    element *e = element_of(self);
    uno_Interface *real = e->panel ? &e->panel->iface : NULL;
    rl_uno_acquire(real);
    *ret = real;
}
RL_UNO_SKELETON_XUIElement_getRealInterface(m_get_real_interface, get_real_interface)

static void dispose(rl_uno_object *self, uno_Any **exc)
{
    element *e = element_of(self);
    rl_uno_EventObject ev = { &self->iface };
    rl_uno_err err;

    if (!e->panel)
        return;
    rl_uno_acquire(&self->iface);   /* a listener may drop the last other reference */
    rlu_panel_dispose(e->panel);
    rl_uno_release(&e->panel->iface);
    e->panel = NULL;
    while (e->n_listeners > 0) {
        uno_Interface *l = e->listeners[--e->n_listeners];
        if (rl_uno_XEventListener_disposing(l, &err, &ev) != RL_OK)
            rl_log("panel: a listener failed on disposing: %s", err.message);
        rl_uno_release(l);
    }
    rl_uno_release(&self->iface);
}
RL_UNO_SKELETON_XComponent_dispose(m_dispose, dispose)

static void add_event_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *l)
{
    element *e = element_of(self);
    if (!l)
        return;
    if (!e->panel) {
        /* Already disposed: tell it at once, as UNO components do. */
        rl_uno_EventObject ev = { &self->iface };
        rl_uno_err err;
        rl_uno_XEventListener_disposing(l, &err, &ev);
        return;
    }
    if (e->n_listeners == RLU_MAX_ELEMENT_LISTENERS) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "more than %d listeners",
                     RLU_MAX_ELEMENT_LISTENERS);
        return;
    }
    rl_uno_acquire(l);
    e->listeners[e->n_listeners++] = l;
}
RL_UNO_SKELETON_XComponent_addEventListener(m_add_event_listener, add_event_listener)

static void remove_event_listener(rl_uno_object *self, uno_Any **exc, uno_Interface *l)
{
    element *e = element_of(self);
    uno_Interface *want = rl_uno_query(l, RL_UNO_T_XInterface);
    for (int i = 0; i < e->n_listeners; i++) {
        uno_Interface *have = rl_uno_query(e->listeners[i], RL_UNO_T_XInterface);
        int same = have && have == want;
        rl_uno_release(have);
        if (same) {
            rl_uno_release(e->listeners[i]);
            e->listeners[i] = e->listeners[--e->n_listeners];
            break;
        }
    }
    rl_uno_release(want);
}
RL_UNO_SKELETON_XComponent_removeEventListener(m_remove_event_listener, remove_event_listener)

static void element_destroy(rl_uno_object *self)
{
    element *e = element_of(self);
    if (e->panel) {
        rlu_panel_dispose(e->panel);
        rl_uno_release(&e->panel->iface);
    }
    for (int i = 0; i < e->n_listeners; i++)
        rl_uno_release(e->listeners[i]);
    rl_uno_release(e->frame);
    rl_uno_str_release(e->resource_url);
    free(e);
}

static const int element_interfaces[] = { RL_UNO_T_XUIElement, RL_UNO_T_XComponent, -1 };
static const rl_uno_method element_methods[] = {
    { RL_UNO_MN_XUIElement_getRealInterface, m_get_real_interface },
    { RL_UNO_MN_XComponent_dispose, m_dispose },
    { RL_UNO_MN_XComponent_addEventListener, m_add_event_listener },
    { RL_UNO_MN_XComponent_removeEventListener, m_remove_event_listener },
    { RL_UNO_MN_XUIElement_Frame, a_frame },
    { RL_UNO_MN_XUIElement_ResourceURL, a_resource_url },
    { RL_UNO_MN_XUIElement_Type, a_type },
    { NULL, NULL }
};
const rl_uno_class rlu_element_class = {
    "org.reportlink.PanelElement", NULL, element_interfaces, element_methods, element_destroy
};

/* ------------------------------------------------------------------ the factory */

typedef struct factory {
    rl_uno_object o;
    uno_Interface *ctx;   /* acquired */
} factory;

/* The interface named `name` among the PropertyValues (borrowed), or NULL. */
static uno_Interface *arg_interface(uno_Sequence *args, const char *name)
{
    const uno_Any *value = rl_uno_props_find(args, name);
    uno_Interface *out = NULL;
    return value && rl_uno_any_get_interface(value, &out) == RL_OK ? out : NULL;
}

static int ends_with(const rtl_uString *s, const char *ascii)
{
    sal_Int32 n = (sal_Int32)strlen(ascii);
    return s && s->length >= n &&
           rtl_ustr_ascii_compare_WithLength(s->buffer + s->length - n, n, ascii) == 0;
}

static void create_ui_element(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, rtl_uString *url,
                              uno_Sequence *props)
{
    factory *f = RL_UNO_SELF(self, factory, o);
    rl_uno_err err;

    static const struct { const char *suffix; rlu_panel_new_fn make; } kinds[] = {
        { "/" RLU_PANEL_STATUS, rlu_status_panel_new },
        { "/" RLU_PANEL_INBOX, rlu_inbox_panel_new },
        { "/" RLU_PANEL_TEMPLATE, rlu_template_panel_new },
    };
    rlu_panel_new_fn make = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (ends_with(url, kinds[i].suffix))
            make = kinds[i].make;
    if (!make) {
        char text[256];
        rl_uno_str_utf8(url, text, sizeof text);
        rl_uno_throw_illegal_argument(exc, &self->iface, 0, "no ReportLink panel %s", text);
        return;
    }
    uno_Interface *parent = arg_interface(props, "ParentWindow");
    if (!parent) {
        rl_uno_throw_illegal_argument(exc, &self->iface, 1, "no ParentWindow for the ReportLink panel");
        return;
    }
    element *e = calloc(1, sizeof *e);
    if (!e) {
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface, "out of memory");
        return;
    }
    rl_uno_object_init(&e->o, &rlu_element_class);
    rtl_uString_acquire(url);
    e->resource_url = url;
    e->frame = arg_interface(props, "Frame");
    rl_uno_acquire(e->frame);
    if (!(e->panel = make(f->ctx, e->frame, parent, &err))) {
        rl_log("cannot create a ReportLink panel: %s", err.message);
        rl_uno_release(&e->o.iface);
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, &self->iface,
                     "cannot create the ReportLink panel: %s", err.message);
        return;
    }
    *ret = &e->o.iface;   /* the caller takes our reference */
}
RL_UNO_SKELETON_XUIElementFactory_createUIElement(m_create_ui_element, create_ui_element)

static void factory_destroy(rl_uno_object *self)
{
    factory *f = RL_UNO_SELF(self, factory, o);
    rl_uno_release(f->ctx);
    free(f);
}

static const char *const factory_services[] = { RLU_IMPL_PANEL_FACTORY, NULL };
static const int factory_interfaces[] = { RL_UNO_T_XUIElementFactory, -1 };
static const rl_uno_method factory_methods[] = {
    { RL_UNO_MN_XUIElementFactory_createUIElement, m_create_ui_element },
    { NULL, NULL }
};
const rl_uno_class rlu_factory_class = {
    RLU_IMPL_PANEL_FACTORY, factory_services, factory_interfaces, factory_methods, factory_destroy
};

uno_Interface *rlu_panel_factory_new(uno_Interface *ctx)
{
    factory *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    rl_uno_object_init(&f->o, &rlu_factory_class);
    rl_uno_acquire(ctx);
    f->ctx = ctx;
    return &f->o.iface;
}

int rlu_check(rl_uno_err *err)
{
    int rc;
    if ((rc = rl_uno_class_check(&rlu_factory_class, err)) != RL_OK)
        return rc;
    if ((rc = rl_uno_class_check(&rlu_element_class, err)) != RL_OK)
        return rc;
    const rl_uno_class *classes[] = { &rlu_panel_class, &rlu_inbox_class, &rlu_template_class,
                                      &rlu_dispatcher_class, &rlu_options_class };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (rl_uno_class_check(classes[i], err) != RL_OK)
            return err->code;
    return RL_OK;
}
