/* props.c - properties by name, and []PropertyValue in a few lines.
 *
 * Setting a control's Label, reading a model's Text, passing
 * (Name="FilterName", Value="...") to a loader: each took a UNO string for
 * the name, an any built by hand, the call, and the clean-up of all three.
 * Here each is one call. The XPropertySet calls go through the generated
 * wrappers, which query the interface on the object they are given. */
#include "uno_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ setting */

int rl_uno_prop_set(uno_Interface *obj, const char *name, const uno_Any *value, rl_uno_err *err)
{
    rtl_uString *n = rl_uno_str(name);
    int rc = rl_uno_XPropertySet_setPropertyValue(obj, err, n, value);
    rtl_uString_release(n);
    return rc;
}

/* Sets *value of a basic type class (long, short, boolean, string). */
static int set_basic(uno_Interface *obj, const char *name, void *value, typelib_TypeClass tc, rl_uno_err *err)
{
    uno_Any a;
    uno_type_any_construct(&a, value, *typelib_static_type_getByTypeClass(tc), NULL);
    int rc = rl_uno_prop_set(obj, name, &a, err);
    uno_any_destruct(&a, NULL);
    return rc;
}

int rl_uno_prop_set_string(uno_Interface *obj, const char *name, const char *utf8, rl_uno_err *err)
{
    rtl_uString *s = rl_uno_str(utf8);
    int rc = set_basic(obj, name, &s, typelib_TypeClass_STRING, err);
    rtl_uString_release(s);
    return rc;
}

int rl_uno_prop_set_bool(uno_Interface *obj, const char *name, int value, rl_uno_err *err)
{
    sal_Bool b = value ? sal_True : sal_False;
    return set_basic(obj, name, &b, typelib_TypeClass_BOOLEAN, err);
}

int rl_uno_prop_set_long(uno_Interface *obj, const char *name, sal_Int32 value, rl_uno_err *err)
{
    return set_basic(obj, name, &value, typelib_TypeClass_LONG, err);
}

int rl_uno_prop_set_short(uno_Interface *obj, const char *name, sal_Int16 value, rl_uno_err *err)
{
    return set_basic(obj, name, &value, typelib_TypeClass_SHORT, err);
}

int rl_uno_prop_set_interface(uno_Interface *obj, const char *name, uno_Interface *value, int t,
                              rl_uno_err *err)
{
    return rl_uno_prop_set_value(obj, name, &value, t, err);
}

int rl_uno_prop_set_value(uno_Interface *obj, const char *name, void *value, int t, rl_uno_err *err)
{
    uno_Any a;
    rl_uno_any_value(&a, value, t);
    int rc = rl_uno_prop_set(obj, name, &a, err);
    uno_any_destruct(&a, NULL);
    return rc;
}

/* ------------------------------------------------------------------ reading */

int rl_uno_prop_get(uno_Interface *obj, const char *name, uno_Any *out, rl_uno_err *err)
{
    rtl_uString *n = rl_uno_str(name);
    int rc = rl_uno_XPropertySet_getPropertyValue(obj, err, out, n);
    rtl_uString_release(n);
    return rc;
}

enum read_as { AS_STRING, AS_BOOL, AS_INT };

/* One reading for every typed form, so that they fail alike. */
static int get_as(uno_Interface *obj, const char *name, enum read_as as, void *out, size_t cap,
                  rl_uno_err *err)
{
    static const char *const expected[] = { "a string that fits", "a boolean", "an integer" };
    uno_Any v;
    int rc = rl_uno_prop_get(obj, name, &v, err);

    if (rc != RL_OK)
        return rc;
    if (as == AS_STRING && v.pType->eTypeClass == typelib_TypeClass_VOID)
        *(char *)out = '\0';
    else if (as == AS_STRING)
        rc = rl_uno_any_get_string(&v, out, cap);
    else if (as == AS_BOOL)
        rc = rl_uno_any_get_bool(&v, out);
    else
        rc = rl_uno_any_get_int(&v, out);
    uno_any_destruct(&v, NULL);
    if (rc != RL_OK)
        rl_uno_fail(err, rc, "the property %s is not %s", name, expected[as]);
    return rc;
}

int rl_uno_prop_get_string(uno_Interface *obj, const char *name, char *buf, size_t cap, rl_uno_err *err)
{
    buf[0] = '\0';
    return get_as(obj, name, AS_STRING, buf, cap, err);
}

int rl_uno_prop_get_bool(uno_Interface *obj, const char *name, int *out, rl_uno_err *err)
{
    return get_as(obj, name, AS_BOOL, out, 0, err);
}

int rl_uno_prop_get_int(uno_Interface *obj, const char *name, long *out, rl_uno_err *err)
{
    return get_as(obj, name, AS_INT, out, 0, err);
}

/* ------------------------------------------------------------------ []PropertyValue */

void rl_uno_props_init(rl_uno_props *p)
{
    memset(p, 0, sizeof *p);
}

/* The value of a new element named name (Handle 0, State DIRECT_VALUE), to
 * be constructed by the caller; NULL when p is full. The sequence built so
 * far no longer says everything: it goes. */
static uno_Any *add(rl_uno_props *p, const char *name)
{
    if (p->seq)
        rl_uno_destruct(&p->seq, RL_UNO_T_seq_PropertyValue);
    p->seq = NULL;
    if (p->n == RL_UNO_MAX_PROPS) {
        p->overflow = 1;
        return NULL;
    }
    rl_uno_PropertyValue *v = &p->v[p->n++];
    memset(v, 0, sizeof *v);
    v->Name = rl_uno_str(name);
    return &v->Value;
}

void rl_uno_props_add(rl_uno_props *p, const char *name, const uno_Any *value)
{
    uno_Any *a = add(p, name);
    if (a)
        uno_type_any_construct(a, value->pData, value->pType, NULL);
}

/* Adds *value of a basic type class. */
static void add_basic(rl_uno_props *p, const char *name, void *value, typelib_TypeClass tc)
{
    uno_Any *a = add(p, name);
    if (a)
        uno_type_any_construct(a, value, *typelib_static_type_getByTypeClass(tc), NULL);
}

void rl_uno_props_add_string(rl_uno_props *p, const char *name, const char *utf8)
{
    rtl_uString *s = rl_uno_str(utf8);
    add_basic(p, name, &s, typelib_TypeClass_STRING);
    rtl_uString_release(s);
}

void rl_uno_props_add_bool(rl_uno_props *p, const char *name, int value)
{
    sal_Bool b = value ? sal_True : sal_False;
    add_basic(p, name, &b, typelib_TypeClass_BOOLEAN);
}

void rl_uno_props_add_long(rl_uno_props *p, const char *name, sal_Int32 value)
{
    add_basic(p, name, &value, typelib_TypeClass_LONG);
}

void rl_uno_props_add_interface(rl_uno_props *p, const char *name, uno_Interface *value, int t)
{
    rl_uno_props_add_value(p, name, &value, t);
}

void rl_uno_props_add_value(rl_uno_props *p, const char *name, void *value, int t)
{
    uno_Any *a = add(p, name);
    if (a)
        rl_uno_any_value(a, value, t);
}

uno_Sequence *rl_uno_props_seq(rl_uno_props *p, rl_uno_err *err)
{
    if (p->overflow) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "more than %d property values", RL_UNO_MAX_PROPS);
        return NULL;
    }
    if (!p->seq && !(p->seq = rl_uno_seq(RL_UNO_T_seq_PropertyValue, p->v, p->n)))
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
    return p->seq;
}

void rl_uno_props_free(rl_uno_props *p)
{
    for (int i = 0; i < p->n; i++)
        rl_uno_destruct(&p->v[i], RL_UNO_T_PropertyValue);
    if (p->seq)
        rl_uno_destruct(&p->seq, RL_UNO_T_seq_PropertyValue);
    rl_uno_props_init(p);
}

const uno_Any *rl_uno_props_find(const uno_Sequence *seq, const char *name)
{
    const rl_uno_PropertyValue *v = (const rl_uno_PropertyValue *)(const void *)seq->elements;
    for (sal_Int32 i = 0; i < seq->nElements; i++)
        if (rl_uno_str_equals(v[i].Name, name))
            return &v[i].Value;
    return NULL;
}

/* ------------------------------------------------------------ services */

uno_Interface *rl_uno_create_instance(uno_Interface *ctx, const char *service, rl_uno_err *err)
{
    uno_Interface *smgr = NULL, *result = NULL;
    if (rl_uno_XComponentContext_getServiceManager(ctx, err, &smgr) != RL_OK)
        return NULL;
    rtl_uString *name = rl_uno_str(service);
    int rc = rl_uno_XMultiComponentFactory_createInstanceWithContext(smgr, err, &result, name, ctx);
    rtl_uString_release(name);
    rl_uno_release(smgr);
    if (rc == RL_OK && !result)
        rl_uno_fail(err, RL_ERR_UNO_ARG, "the service %s is not available", service);
    return rc == RL_OK ? result : NULL;
}

uno_Interface *rl_uno_create_instance_as(uno_Interface *ctx, const char *service, int t, rl_uno_err *err)
{
    uno_Interface *obj = rl_uno_create_instance(ctx, service, err);
    uno_Interface *as = obj ? rl_uno_query(obj, t) : NULL;
    if (obj && !as)
        rl_uno_fail(err, RL_ERR_UNO_TYPE, "the service %s lacks the interface asked for", service);
    rl_uno_release(obj);
    return as;
}
