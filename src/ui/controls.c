/* controls.c - reading and setting the controls of a window built from a
 * dialog file (.xdl), by the control's name.
 *
 * A window made by ContainerWindowProvider is a dialog control: it is an
 * XControlContainer whose children are found with getControl(name), and a
 * child's properties (Label, Text, State...) live on its model.
 * Every helper looks the control up again, so nothing here holds a
 * reference between calls. Main thread only, like every use of the UI. */
#include "ui.h"

#include <string.h>

#include "component.h"   /* rl_log */

uno_Interface *rlu_control_model(uno_Interface *window, const char *name, rl_uno_err *err)
{
    uno_Interface *control = NULL, *model = NULL;
    rtl_uString *n = rl_uno_str(name);
    int rc = rl_uno_XControlContainer_getControl(window, err, &control, n);
    rtl_uString_release(n);
    if (rc == RL_OK && !control)
        rl_uno_fail(err, RL_ERR_UNO_ARG, "the window has no control %s", name);
    else if (rc == RL_OK && rl_uno_XControl_getModel(control, err, &model) == RL_OK && !model)
        rl_uno_fail(err, RL_ERR_UNO_ARG, "the control %s has no model", name);
    rl_uno_release(control);
    return model;
}

enum op { SET_STRING, SET_SHORT, GET_STRING, GET_INT };

/* One property call on the model of control, found by name: every helper
 * below is one, so that each finds, logs and releases alike. in: what a
 * setter sets; out, cap: where a getter writes. */
static int on_model(uno_Interface *window, const char *control, const char *prop, enum op op,
                    const void *in, void *out, size_t cap)
{
    rl_uno_err err;
    uno_Interface *model = rlu_control_model(window, control, &err);
    int rc;

    if (!model)
        rc = err.code;
    else if (op == SET_STRING)
        rc = rl_uno_prop_set_string(model, prop, in, &err);
    else if (op == SET_SHORT)
        rc = rl_uno_prop_set_short(model, prop, *(const sal_Int16 *)in, &err);
    else if (op == GET_STRING)
        rc = rl_uno_prop_get_string(model, prop, out, cap, &err);
    else
        rc = rl_uno_prop_get_int(model, prop, out, &err);
    if (rc != RL_OK)
        rl_log("cannot %s %s of %s: %s", op < GET_STRING ? "set" : "read", prop, control, err.message);
    rl_uno_release(model);
    return rc;
}

int rlu_control_set_string(uno_Interface *window, const char *control, const char *prop, const char *utf8)
{
    return on_model(window, control, prop, SET_STRING, utf8, NULL, 0);
}

int rlu_control_set_short(uno_Interface *window, const char *control, const char *prop, sal_Int16 value)
{
    return on_model(window, control, prop, SET_SHORT, &value, NULL, 0);
}

int rlu_control_get_string(uno_Interface *window, const char *control, const char *prop, char *buf, size_t cap)
{
    buf[0] = '\0';
    return on_model(window, control, prop, GET_STRING, NULL, buf, cap);
}

int rlu_control_get_int(uno_Interface *window, const char *control, const char *prop, long *out)
{
    return on_model(window, control, prop, GET_INT, NULL, out, 0);
}

int rlu_control_take_secret(uno_Interface *window, const char *control, char *buf, size_t cap)
{
    rl_uno_err err;
    uno_Any v;
    long len = -1;

    buf[0] = '\0';
    uno_Interface *model = rlu_control_model(window, control, &err);
    int rc = model ? rl_uno_prop_get(model, "Text", &v, &err) : err.code;
    rl_uno_release(model);
    if (rc != RL_OK) {
        rl_log("cannot read the text of %s: %s", control, err.message);
        return -1;
    }
    /* Empty the field first: the model then lets go of its string, and the
     * copy in our any is the last reference, which can be wiped. */
    rlu_control_set_string(window, control, "Text", "");
    if (v.pType->eTypeClass == typelib_TypeClass_STRING) {
        rtl_uString *s = *(rtl_uString **)v.pData;
        len = rl_uno_str_utf8(s, buf, cap);
        if (len < 0)
            rl_os_wipe(buf, cap);
        if (s->refCount == 1)
            rl_os_wipe(s->buffer, (size_t)s->length * sizeof s->buffer[0]);
    }
    uno_any_destruct(&v, NULL);
    return (int)len;
}
