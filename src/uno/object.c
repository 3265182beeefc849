/* object.c - UNO objects implemented in C, driven by a class table.
 *
 * One uno_Interface serves every interface of an object: the member
 * description given to the dispatcher names the interface and the member, so
 * the dispatcher routes by that name. queryInterface answers for the
 * class's interfaces and their bases; XTypeProvider and XServiceInfo come
 * from the table. */
#include "uno_internal.h"

#include <stdatomic.h>
#include <string.h>

#define MAX_CLASS_INTERFACES 16

/* Length of a member name without the ":@i,j:Derived" suffix that the type
 * library gives to a member inherited through multiple inheritance. */
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

static int count_interfaces(const rl_uno_class *cls)
{
    int n = 0;
    while (cls->interfaces[n] >= 0)
        n++;
    return n;
}

static void obj_acquire(uno_Interface *i)
{
    rl_uno_object *o = (rl_uno_object *)i;
    atomic_fetch_add(&o->refs, 1);
}

static void obj_release(uno_Interface *i)
{
    rl_uno_object *o = (rl_uno_object *)i;
    if (atomic_fetch_sub(&o->refs, 1) == 1)
        o->cls->destroy(o);
}

static int supports(const rl_uno_class *cls, typelib_TypeDescriptionReference *want)
{
    static const int builtin[] = { RL_UNO_T_XInterface, RL_UNO_T_XTypeProvider, RL_UNO_T_XServiceInfo };
    for (size_t k = 0; k < sizeof builtin / sizeof builtin[0]; k++) {
        if (typelib_typedescriptionreference_equals(want, rl_uno_type(builtin[k])))
            return 1;
    }
    for (const int *t = cls->interfaces; *t >= 0; t++) {
        if (typelib_typedescriptionreference_isAssignableFrom(want, rl_uno_type(*t)))
            return 1;
    }
    return 0;
}

static void query_interface(rl_uno_object *o, void *ret, void *args[])
{
    typelib_TypeDescriptionReference *want = RL_UNO_ARG(args, 0, typelib_TypeDescriptionReference *);
    uno_Interface *self = &o->iface;
    if (supports(o->cls, want))
        uno_type_any_construct(ret, &self, want, NULL);
    else
        rl_uno_any_void(ret);
}

static void get_types(rl_uno_object *o, void *ret)
{
    typelib_TypeDescriptionReference *list[MAX_CLASS_INTERFACES + 2];
    int n = 0;
    for (const int *t = o->cls->interfaces; *t >= 0 && n < MAX_CLASS_INTERFACES; t++)
        list[n++] = rl_uno_type(*t);
    list[n++] = rl_uno_type(RL_UNO_T_XTypeProvider);
    list[n++] = rl_uno_type(RL_UNO_T_XServiceInfo);
    *(uno_Sequence **)ret = NULL;
    uno_type_sequence_construct((uno_Sequence **)ret, rl_uno__builtin_type(RL_UNO__SEQ_TYPE), list, n, NULL);
}

static void get_implementation_id(void *ret)
{
    /* An empty id: "no id", which tells callers not to cache by it. */
    *(uno_Sequence **)ret = NULL;
    uno_type_sequence_construct((uno_Sequence **)ret, rl_uno__builtin_type(RL_UNO__SEQ_BYTE), NULL, 0, NULL);
}

static void supports_service(rl_uno_object *o, void *ret, void *args[])
{
    rtl_uString *want = RL_UNO_ARG(args, 0, rtl_uString *);
    sal_Bool found = sal_False;
    for (const char *const *s = o->cls->services; s && *s && !found; s++)
        found = rl_uno_str_equals(want, *s) ? sal_True : sal_False;
    *(sal_Bool *)ret = found;
}

static void service_names(rl_uno_object *o, void *ret)
{
    sal_Int32 n = 0;
    while (o->cls->services && o->cls->services[n])
        n++;
    *(uno_Sequence **)ret = rl_uno_seq_strings(o->cls->services, n);
}

/* Answers the members the bridge implements for every object; returns 0 if
 * `name` is not one of them. */
static int builtin_call(rl_uno_object *o, const rtl_uString *name, sal_Int32 len, void *ret, void *args[])
{
    if (name_is(name, len, RL_UNO_MN_XInterface_queryInterface))
        query_interface(o, ret, args);
    else if (name_is(name, len, RL_UNO_MN_XInterface_acquire))
        obj_acquire(&o->iface);
    else if (name_is(name, len, RL_UNO_MN_XInterface_release))
        obj_release(&o->iface);
    else if (name_is(name, len, RL_UNO_MN_XTypeProvider_getTypes))
        get_types(o, ret);
    else if (name_is(name, len, RL_UNO_MN_XTypeProvider_getImplementationId))
        get_implementation_id(ret);
    else if (name_is(name, len, RL_UNO_MN_XServiceInfo_getImplementationName))
        *(rtl_uString **)ret = rl_uno_str(o->cls->implementation_name);
    else if (name_is(name, len, RL_UNO_MN_XServiceInfo_supportsService))
        supports_service(o, ret, args);
    else if (name_is(name, len, RL_UNO_MN_XServiceInfo_getSupportedServiceNames))
        service_names(o, ret);
    else
        return 0;
    return 1;
}

static void SAL_CALL dispatch(uno_Interface *i, const typelib_TypeDescription *member,
                              void *ret, void *args[], uno_Any **exc)
{
    rl_uno_object *o = (rl_uno_object *)i;
    const rtl_uString *name = member->pTypeName;
    sal_Int32 len = base_name_length(name);
    uno_Any *storage = *exc;

    if (builtin_call(o, name, len, ret, args)) {
        *exc = NULL;
        return;
    }
    for (const rl_uno_method *m = o->cls->methods; m->name; m++) {
        if (name_is(name, len, m->name)) {
            /* The storage is unconstructed; a method that throws constructs
             * an any into it, which sets pType. */
            storage->pType = NULL;
            m->fn(o, ret, args, exc);
            if (!storage->pType)
                *exc = NULL;
            return;
        }
    }
    char text[RL_UNO_MAX_TYPE_NAME * 2];
    rl_uno_str_utf8((rtl_uString *)name, text, sizeof text);
    rl_uno_throw(exc, RL_UNO_T_RuntimeException, i, "%s does not implement %s",
                 o->cls->implementation_name, text);
}

void rl_uno_object_init(rl_uno_object *o, const rl_uno_class *cls)
{
    o->iface.acquire = obj_acquire;
    o->iface.release = obj_release;
    o->iface.pDispatcher = dispatch;
    o->cls = cls;
    atomic_init(&o->refs, 1);
}

/* ------------------------------------------------------------------ checks */

static int is_builtin_name(const rtl_uString *name, sal_Int32 len)
{
    static const char *const names[] = {
        RL_UNO_MN_XInterface_queryInterface, RL_UNO_MN_XInterface_acquire,
        RL_UNO_MN_XInterface_release, RL_UNO_MN_XTypeProvider_getTypes,
        RL_UNO_MN_XTypeProvider_getImplementationId,
        RL_UNO_MN_XServiceInfo_getImplementationName, RL_UNO_MN_XServiceInfo_supportsService,
        RL_UNO_MN_XServiceInfo_getSupportedServiceNames,
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (name_is(name, len, names[k]))
            return 1;
    }
    return 0;
}

int rl_uno_class_check(const rl_uno_class *cls, rl_uno_err *err)
{
    int n_methods = 0, n_found = 0;
    char text[RL_UNO_MAX_TYPE_NAME * 2];

    if (count_interfaces(cls) > MAX_CLASS_INTERFACES)
        return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: too many interfaces", cls->implementation_name);
    while (cls->methods[n_methods].name)
        n_methods++;
    /* Members shared by two interfaces (a common base) count once. */
    unsigned char seen[64] = { 0 };
    if (n_methods > (int)sizeof seen)
        return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: too many methods", cls->implementation_name);

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
            const rtl_uString *name = it->ppAllMembers[k]->pTypeName;
            sal_Int32 len = base_name_length(name);
            int found = -1;
            if (is_builtin_name(name, len))
                continue;
            for (int m = 0; m < n_methods && found < 0; m++) {
                if (name_is(name, len, cls->methods[m].name))
                    found = m;
            }
            /* Methods and attributes alike: the dispatcher finds both by name. */
            if (found < 0) {
                rl_uno_str_utf8((rtl_uString *)name, text, sizeof text);
                typelib_typedescription_release(td);
                return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: no C method for %s",
                                   cls->implementation_name, text);
            }
            if (!seen[found]) {
                seen[found] = 1;
                n_found++;
            }
        }
        typelib_typedescription_release(td);
    }
    if (n_found != n_methods) {
        for (int m = 0; m < n_methods; m++) {
            if (!seen[m])
                return rl_uno_fail(err, RL_UNO_ERR_TYPE, "%s: %s is in no interface of the class",
                                   cls->implementation_name, cls->methods[m].name);
        }
    }
    return RL_UNO_OK;
}
