/* attr.c - readonly interface attributes for objects implemented in C.
 *
 * The sidebar's interfaces have attributes (XUIElement::Frame, ResourceURL,
 * Type; XToolPanel::Window), which the bridge's class tables do not cover:
 * they list methods only. Binary UNO calls an attribute's getter through the
 * same dispatcher as a method, with the attribute's description, a return
 * slot and no arguments; so a module object gets a dispatcher of its own
 * that answers its attributes and passes every other call to the bridge. */
#include "ui.h"

#include <stdatomic.h>
#include <string.h>

/* The bridge's dispatcher, as rl_uno_object_init() installs it. */
static _Atomic(uno_DispatchMethod) bridge_dispatch;

static sal_Int32 base_name_length(const rtl_uString *name)
{
    for (sal_Int32 i = 0; i + 1 < name->length; i++) {
        if (name->buffer[i] == ':' && name->buffer[i + 1] == '@')
            return i;
    }
    return name->length;
}

static int name_is(const rtl_uString *name, sal_Int32 len, const char *ascii)
{
    return rtl_ustr_ascii_compare_WithLength(name->buffer, len, ascii) == 0;
}

static const rlu_attr *find_attr(const rlu_attr *attrs, const rtl_uString *name)
{
    sal_Int32 len = base_name_length(name);
    for (const rlu_attr *a = attrs; a && a->name; a++) {
        if (name_is(name, len, a->name))
            return a;
    }
    return NULL;
}

static void SAL_CALL dispatch(uno_Interface *i, const typelib_TypeDescription *member,
                              void *ret, void *args[], uno_Any **exc)
{
    rlu_object *o = (rlu_object *)i;
    if (member->eTypeClass == typelib_TypeClass_INTERFACE_ATTRIBUTE) {
        const rlu_attr *a = find_attr(o->attrs, member->pTypeName);
        if (a && ret) {
            a->get(&o->obj, ret);
            *exc = NULL;
            return;
        }
        /* A setter (every attribute here is readonly) or an unknown one. */
        char text[RL_UNO_MAX_TYPE_NAME * 2];
        rl_uno_str_utf8(member->pTypeName, text, sizeof text);
        rl_uno_throw(exc, RL_UNO_T_RuntimeException, i, "%s: no attribute %s",
                     o->obj.cls->implementation_name, text);
        return;
    }
    atomic_load(&bridge_dispatch)(i, member, ret, args, exc);
}

void rlu_object_init(rlu_object *o, const rl_uno_class *cls, const rlu_attr *attrs)
{
    rl_uno_object_init(&o->obj, cls);
    atomic_store(&bridge_dispatch, o->obj.iface.pDispatcher);
    o->obj.iface.pDispatcher = dispatch;
    o->attrs = attrs;
}

/* Members the bridge answers for every object. */
static int is_builtin(const rtl_uString *name, sal_Int32 len)
{
    static const char *const names[] = {
        RL_UNO_MN_XInterface_queryInterface, RL_UNO_MN_XInterface_acquire,
        RL_UNO_MN_XInterface_release,
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (name_is(name, len, names[k]))
            return 1;
    }
    return 0;
}

int rlu_class_check(const rl_uno_class *cls, const rlu_attr *attrs, rl_uno_err *err)
{
    enum { MAX_SEEN = 64 };
    unsigned char seen_method[MAX_SEEN] = { 0 }, seen_attr[MAX_SEEN] = { 0 };
    int n_methods = 0, n_attrs = 0;
    char text[RL_UNO_MAX_TYPE_NAME * 2];

    while (cls->methods[n_methods].name)
        n_methods++;
    while (attrs && attrs[n_attrs].name)
        n_attrs++;
    if (n_methods > MAX_SEEN || n_attrs > MAX_SEEN)
        return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: too many members", cls->implementation_name);

    for (const int *t = cls->interfaces; *t >= 0; t++) {
        typelib_TypeDescription *td = NULL;
        typelib_typedescriptionreference_getDescription(&td, rl_uno_type(*t));
        if (!td || td->eTypeClass != typelib_TypeClass_INTERFACE) {
            if (td)
                typelib_typedescription_release(td);
            return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: interface %d is not known",
                               cls->implementation_name, *t);
        }
        const typelib_InterfaceTypeDescription *it = (const typelib_InterfaceTypeDescription *)td;
        for (sal_Int32 k = 0; k < it->nAllMembers; k++) {
            const typelib_TypeDescriptionReference *m = it->ppAllMembers[k];
            sal_Int32 len = base_name_length(m->pTypeName);
            int found = -1;
            if (is_builtin(m->pTypeName, len))
                continue;
            if (m->eTypeClass == typelib_TypeClass_INTERFACE_METHOD) {
                for (int j = 0; j < n_methods && found < 0; j++)
                    found = name_is(m->pTypeName, len, cls->methods[j].name) ? j : -1;
                if (found >= 0)
                    seen_method[found] = 1;
            } else {
                for (int j = 0; j < n_attrs && found < 0; j++)
                    found = name_is(m->pTypeName, len, attrs[j].name) ? j : -1;
                if (found >= 0)
                    seen_attr[found] = 1;
            }
            if (found < 0) {
                rl_uno_str_utf8(m->pTypeName, text, sizeof text);
                typelib_typedescription_release(td);
                return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: no C method for %s",
                                   cls->implementation_name, text);
            }
        }
        typelib_typedescription_release(td);
    }
    for (int j = 0; j < n_methods; j++) {
        if (!seen_method[j])
            return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: %s is in no interface of the class",
                               cls->implementation_name, cls->methods[j].name);
    }
    for (int j = 0; j < n_attrs; j++) {
        if (!seen_attr[j])
            return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: %s is in no interface of the class",
                               cls->implementation_name, attrs[j].name);
    }
    return RL_UNO_OK;
}
