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

#include "component.h"   /* rlc_log */

uno_Interface *rlu_control_model(uno_Interface *window, const char *name, rl_uno_err *err)
{
    uno_Interface *control = NULL, *model = NULL;
    rtl_uString *n = rl_uno_str(name);
    int rc = rl_uno_XControlContainer_getControl(window, err, &control, n);
    rtl_uString_release(n);
    if (rc == RL_UNO_OK && !control)
        rl_uno_fail(err, RL_UNO_ERR_ARG, "the window has no control %s", name);
    else if (rc == RL_UNO_OK)
        rl_uno_XControl_getModel(control, err, &model);
    rl_uno_release(control);
    return model;
}

int rlu_model_set(uno_Interface *model, const char *control, const char *prop, const uno_Any *value)
{
    rl_uno_err err;
    rtl_uString *n = rl_uno_str(prop);
    int rc = rl_uno_XPropertySet_setPropertyValue(model, &err, n, value);
    rtl_uString_release(n);
    if (rc != RL_UNO_OK)
        rlc_log("cannot set %s of %s: %s", prop, control, err.message);
    return rc;
}

int rlu_control_set(uno_Interface *window, const char *control, const char *prop, const uno_Any *value)
{
    rl_uno_err err;
    uno_Interface *model = rlu_control_model(window, control, &err);
    if (!model) {
        rlc_log("cannot set %s of %s: %s", prop, control, err.message);
        return err.code;
    }
    int rc = rlu_model_set(model, control, prop, value);
    rl_uno_release(model);
    return rc;
}

int rlu_control_set_string(uno_Interface *window, const char *control, const char *prop, const char *utf8)
{
    uno_Any a;
    rl_uno_any_string(&a, utf8);
    int rc = rlu_control_set(window, control, prop, &a);
    uno_any_destruct(&a, NULL);
    return rc;
}

int rlu_control_set_short(uno_Interface *window, const char *control, const char *prop, sal_Int16 value)
{
    uno_Any a;
    uno_type_any_construct(&a, &value, *typelib_static_type_getByTypeClass(typelib_TypeClass_SHORT), NULL);
    int rc = rlu_control_set(window, control, prop, &a);
    uno_any_destruct(&a, NULL);
    return rc;
}

/* The property's value into a constructed any, or an error. */
static int get(uno_Interface *window, const char *control, const char *prop, uno_Any *out, rl_uno_err *err)
{
    uno_Interface *model = rlu_control_model(window, control, err);
    if (!model)
        return err->code;
    rtl_uString *n = rl_uno_str(prop);
    int rc = rl_uno_XPropertySet_getPropertyValue(model, err, out, n);
    rtl_uString_release(n);
    rl_uno_release(model);
    return rc;
}

int rlu_control_get_string(uno_Interface *window, const char *control, const char *prop, char *buf, size_t cap)
{
    rl_uno_err err;
    uno_Any v;
    buf[0] = '\0';
    int rc = get(window, control, prop, &v, &err);
    if (rc != RL_UNO_OK) {
        rlc_log("cannot read %s of %s: %s", prop, control, err.message);
        return rc;
    }
    if (v.pType->eTypeClass != typelib_TypeClass_VOID && rl_uno_any_get_string(&v, buf, cap) != RL_UNO_OK) {
        rlc_log("%s of %s is not a string, or longer than %zu bytes", prop, control, cap - 1);
        rc = RL_UNO_ERR_TYPE;
    }
    uno_any_destruct(&v, NULL);
    return rc;
}

int rlu_control_get_int(uno_Interface *window, const char *control, const char *prop, long *out)
{
    rl_uno_err err;
    uno_Any v;
    int rc = get(window, control, prop, &v, &err);
    if (rc != RL_UNO_OK) {
        rlc_log("cannot read %s of %s: %s", prop, control, err.message);
        return rc;
    }
    if (rl_uno_any_get_int(&v, out) != RL_UNO_OK)
        rc = RL_UNO_ERR_TYPE;
    uno_any_destruct(&v, NULL);
    return rc;
}

int rlu_control_take_secret(uno_Interface *window, const char *control, char *buf, size_t cap)
{
    rl_uno_err err;
    uno_Any v;
    long len = -1;

    buf[0] = '\0';
    if (get(window, control, "Text", &v, &err) != RL_UNO_OK) {
        rlc_log("cannot read the text of %s: %s", control, err.message);
        return -1;
    }
    /* Empty the field first: the model then lets go of its string, and the
     * copy in our any is the last reference, which can be wiped. */
    rlu_control_set_string(window, control, "Text", "");
    if (v.pType->eTypeClass == typelib_TypeClass_STRING) {
        rtl_uString *s = *(rtl_uString **)v.pData;
        len = rl_uno_str_utf8(s, buf, cap);
        if (len < 0)
            explicit_bzero(buf, cap);
        if (s->refCount == 1)
            explicit_bzero(s->buffer, (size_t)s->length * sizeof s->buffer[0]);
    }
    uno_any_destruct(&v, NULL);
    return (int)len;
}
