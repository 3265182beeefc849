/* form.c - a window built from one of the extension's dialog files, its
 * named controls, and what every sidebar panel answers the sidebar.
 *
 * The layouts live in the .xdl files of extension/dialogs (no words in them); the code
 * finds the controls by name and sets their properties through their models.
 * Main thread only. */
#include "ui.h"

#include <stdio.h>
#include <string.h>

#include "component.h"   /* rl_uno_create_instance, rlc_settings_ui_language, rl_log */

#define DIALOG_BASE "vnd.sun.star.extension://org.reportlink.extension/dialogs/"
/* The deck puts a margin around its panels: asking for the content width
 * alone makes it scroll sideways. */
#define RLU_DECK_MARGIN_PX 24

int rlu_form_build(rlu_form *f, uno_Interface *ctx, uno_Interface *parent_window,
                   const char *dialog, const char *const *names, int n, uno_Interface *handler,
                   rl_uno_err *err)
{
    uno_Interface *provider = NULL, *peer = NULL;
    char url_text[256];
    int rc = RL_ERR_UNO_ARG;

    memset(f, 0, sizeof *f);
    if (n > RLU_FORM_MAX)
        return rl_uno_fail(err, RL_ERR_UNO_ARG, "%s: more than %d controls", dialog, RLU_FORM_MAX);
    f->names = names;
    f->n = n;
    snprintf(url_text, sizeof url_text, DIALOG_BASE "%s", dialog);
    if (!(peer = rl_uno_query(parent_window, RL_UNO_T_XWindowPeer))) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "the parent window is not a window peer");
        goto out;
    }
    if (!(provider = rl_uno_create_instance(ctx, "com.sun.star.awt.ContainerWindowProvider", err))) {
        rc = err->code;
        goto out;
    }
    rtl_uString *url = rl_uno_str(url_text), *type = rl_uno_str("");
    rc = rl_uno_XContainerWindowProvider_createContainerWindow(provider, err, &f->window, url, type, peer,
                                                               handler);
    rtl_uString_release(url);
    rtl_uString_release(type);
    if (rc != RL_OK)
        goto out;
    if (!f->window) {
        rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "no window from %s", url_text);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        rtl_uString *name = rl_uno_str(names[i]);
        rc = rl_uno_XControlContainer_getControl(f->window, err, &f->controls[i], name);
        rtl_uString_release(name);
        if (rc == RL_OK && !f->controls[i])
            rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "%s has no control %s", url_text, names[i]);
        if (rc == RL_OK)
            rc = rl_uno_XControl_getModel(f->controls[i], err, &f->models[i]);
        if (rc != RL_OK)
            goto out;
    }
    if ((rc = rl_uno_XWindow_getPosSize(f->window, err, &f->size)) != RL_OK)
        goto out;
    rc = rl_uno_XWindow_setVisible(f->window, err, sal_True);
out:
    rl_uno_release(provider);
    rl_uno_release(peer);
    return rc;
}

/* Control i's model (borrowed), or NULL when the form lacks it. */
static uno_Interface *model(const rlu_form *f, int i)
{
    return i >= 0 && i < f->n ? f->models[i] : NULL;
}

/* After setting prop of control i (rc, err: the outcome): a failure is
 * logged, and the panel goes on without it. A control the form lacks was
 * not there to set. */
static void set_done(const rlu_form *f, int i, const char *prop, int rc, const rl_uno_err *err)
{
    if (rc != RL_OK && model(f, i))
        rl_log("cannot set %s of %s: %s", prop, f->names[i], err->message);
}

void rlu_form_text(rlu_form *f, int i, const char *prop, const char *utf8)
{
    rl_uno_err err;
    set_done(f, i, prop, rl_uno_prop_set_string(model(f, i), prop, utf8, &err), &err);
}

void rlu_form_label(rlu_form *f, int i, const char *utf8)
{
    rlu_form_text(f, i, "Label", utf8);
}

static void set_bool(rlu_form *f, int i, const char *prop, int on)
{
    rl_uno_err err;
    set_done(f, i, prop, rl_uno_prop_set_bool(model(f, i), prop, on, &err), &err);
}

void rlu_form_enable(rlu_form *f, int i, int on)
{
    set_bool(f, i, "Enabled", on);
}

void rlu_form_show(rlu_form *f, int i, int on)
{
    set_bool(f, i, "Enabled", on);
    set_bool(f, i, "EnableVisible", on);
}

void rlu_form_move(rlu_form *f, int i, sal_Int32 top)
{
    rl_uno_err err;
    set_done(f, i, "PositionY", rl_uno_prop_set_long(model(f, i), "PositionY", top, &err), &err);
}

int rlu_form_items(rlu_form *f, int i, const char *const *items, int n)
{
    rl_uno_err err;
    uno_Sequence *seq = rl_uno_seq_strings(items, n);
    if (!seq)
        return -1;
    set_done(f, i, "StringItemList",
             rl_uno_prop_set_value(model(f, i), "StringItemList", &seq, RL_UNO_T_seq_string, &err), &err);
    rl_uno_destruct(&seq, RL_UNO_T_seq_string);
    return 0;
}

void rlu_form_command(rlu_form *f, int i, const char *command)
{
    rl_uno_err err;
    rtl_uString *c = rl_uno_str(command);
    if (rl_uno_XButton_setActionCommand(f->controls[i], &err, c) != RL_OK)
        rl_log("%s: cannot set its command: %s", f->names[i], err.message);
    rtl_uString_release(c);
}

void rlu_form_dispose(rlu_form *f)
{
    rl_uno_err err;
    if (f->window && rl_uno_XComponent_dispose(f->window, &err) != RL_OK)
        rl_log("cannot dispose a panel's window: %s", err.message);
}

void rlu_form_release(rlu_form *f)
{
    for (int i = 0; i < f->n; i++) {
        rl_uno_release(f->models[i]);
        rl_uno_release(f->controls[i]);
        f->models[i] = f->controls[i] = NULL;
    }
    rl_uno_release(f->window);
    f->window = NULL;
}

/* ------------------------------------------------------------------ what the sidebar asks */

void rlu_panel_window(rl_uno_object *self, uno_Any **exc, uno_Interface **ret)
{
    rlu_panel_base *b = (rlu_panel_base *)(void *)self;
    rl_uno_acquire(b->form.window);
    *ret = b->form.window;
}

void rlu_panel_accessible(rl_uno_object *self, uno_Any **exc, uno_Interface **ret, uno_Interface *parent)
{
    /* The container window has its own accessible object, which the sidebar
     * reaches through the window; none beyond it. */
    *ret = NULL;
}

void rlu_panel_height(rl_uno_object *self, uno_Any **exc, rl_uno_LayoutSize *ret, sal_Int32 width)
{
    rlu_panel_base *b = (rlu_panel_base *)(void *)self;
    ret->Minimum = ret->Maximum = ret->Preferred = b->form.size.Height;
}

void rlu_panel_min_width(rl_uno_object *self, uno_Any **exc, sal_Int32 *ret)
{
    rlu_panel_base *b = (rlu_panel_base *)(void *)self;
    *ret = b->form.size.Width + RLU_DECK_MARGIN_PX;
}

int rlu_let_go_of_link(uno_Interface **link, const rl_uno_EventObject *ev)
{
    uno_Interface *src = rl_uno_query(ev->Source, RL_UNO_T_XInterface);
    uno_Interface *ours = rl_uno_query(*link, RL_UNO_T_XInterface);
    int gone = src && src == ours;
    if (gone) {
        /* The office is closing: theReportLink has let go of us already. */
        rl_uno_release(*link);
        *link = NULL;
    }
    rl_uno_release(src);
    rl_uno_release(ours);
    return gone;
}

void rlu_panel_dispose(rl_uno_object *panel)
{
    rlu_panel_base *b = (rlu_panel_base *)(void *)panel;
    b->dispose(panel);
}
