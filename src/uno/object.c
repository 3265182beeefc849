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

/* ------------------------------------------------------------------ what every object answers */

static void query_interface(rl_uno_object *o, uno_Any **exc, uno_Any *ret,
                            typelib_TypeDescriptionReference *want)
{
    uno_Interface *self = &o->iface;
    if (supports(o->cls, want))
        uno_type_any_construct(ret, &self, want, NULL);
    else
        rl_uno_any_void(ret);
}
RL_UNO_SKELETON_XInterface_queryInterface(b_query_interface, query_interface)

static void acquire_member(rl_uno_object *o, uno_Any **exc)
{
    obj_acquire(&o->iface);
}
RL_UNO_SKELETON_XInterface_acquire(b_acquire, acquire_member)

static void release_member(rl_uno_object *o, uno_Any **exc)
{
    obj_release(&o->iface);
}
RL_UNO_SKELETON_XInterface_release(b_release, release_member)

static void get_types(rl_uno_object *o, uno_Any **exc, uno_Sequence **ret)
{
    typelib_TypeDescriptionReference *list[MAX_CLASS_INTERFACES + 2];
    int n = 0;
    for (const int *t = o->cls->interfaces; *t >= 0 && n < MAX_CLASS_INTERFACES; t++)
        list[n++] = rl_uno_type(*t);
    list[n++] = rl_uno_type(RL_UNO_T_XTypeProvider);
    list[n++] = rl_uno_type(RL_UNO_T_XServiceInfo);
    *ret = NULL;
    uno_type_sequence_construct(ret, rl_uno__builtin_type(RL_UNO__SEQ_TYPE), list, n, NULL);
}
RL_UNO_SKELETON_XTypeProvider_getTypes(b_get_types, get_types)

static void get_implementation_id(rl_uno_object *o, uno_Any **exc, uno_Sequence **ret)
{
    /* An empty id: "no id", which tells callers not to cache by it. */
    *ret = NULL;
    uno_type_sequence_construct(ret, rl_uno__builtin_type(RL_UNO__SEQ_BYTE), NULL, 0, NULL);
}
RL_UNO_SKELETON_XTypeProvider_getImplementationId(b_get_implementation_id, get_implementation_id)

static void implementation_name(rl_uno_object *o, uno_Any **exc, rtl_uString **ret)
{
    *ret = rl_uno_str(o->cls->implementation_name);
}
RL_UNO_SKELETON_XServiceInfo_getImplementationName(b_implementation_name, implementation_name)

static void supports_service(rl_uno_object *o, uno_Any **exc, sal_Bool *ret, rtl_uString *want)
{
    sal_Bool found = sal_False;
    for (const char *const *s = o->cls->services; s && *s && !found; s++)
        found = rl_uno_str_equals(want, *s) ? sal_True : sal_False;
    *ret = found;
}
RL_UNO_SKELETON_XServiceInfo_supportsService(b_supports_service, supports_service)

static void service_names(rl_uno_object *o, uno_Any **exc, uno_Sequence **ret)
{
    sal_Int32 n = 0;
    while (o->cls->services && o->cls->services[n])
        n++;
    *ret = rl_uno_seq_strings(o->cls->services, n);
}
RL_UNO_SKELETON_XServiceInfo_getSupportedServiceNames(b_service_names, service_names)

/* The members the bridge implements for every object; none throws. */
static const rl_uno_method builtins[] = {
    { RL_UNO_MN_XInterface_queryInterface, b_query_interface },
    { RL_UNO_MN_XInterface_acquire, b_acquire },
    { RL_UNO_MN_XInterface_release, b_release },
    { RL_UNO_MN_XTypeProvider_getTypes, b_get_types },
    { RL_UNO_MN_XTypeProvider_getImplementationId, b_get_implementation_id },
    { RL_UNO_MN_XServiceInfo_getImplementationName, b_implementation_name },
    { RL_UNO_MN_XServiceInfo_supportsService, b_supports_service },
    { RL_UNO_MN_XServiceInfo_getSupportedServiceNames, b_service_names },
    { NULL, NULL }
};

/* The entry of `methods` named name (its first len characters: without the
 * ":@" suffix), or NULL. */
static const rl_uno_method *find_method(const rl_uno_method *methods, const rtl_uString *name, sal_Int32 len)
{
    for (const rl_uno_method *m = methods; m->name; m++) {
        if (name_is(name, len, m->name))
            return m;
    }
    return NULL;
}

static void SAL_CALL dispatch(uno_Interface *i, const typelib_TypeDescription *member,
                              void *ret, void *args[], uno_Any **exc)
{
    rl_uno_object *o = (rl_uno_object *)i;
    const rtl_uString *name = member->pTypeName;
    sal_Int32 len = base_name_length(name);
    uno_Any *storage = *exc;

    const rl_uno_method *m = find_method(builtins, name, len);
    if (m) {
        m->fn(o, ret, args, exc);
        *exc = NULL;
        return;
    }
    if ((m = find_method(o->cls->methods, name, len))) {
        /* The storage is unconstructed; a method that throws constructs
         * an any into it, which sets pType. */
        storage->pType = NULL;
        m->fn(o, ret, args, exc);
        if (!storage->pType)
            *exc = NULL;
        return;
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

int rl_uno_class_check(const rl_uno_class *cls, rl_uno_err *err)
{
    int n_methods = 0, n_found = 0;
    char text[RL_UNO_MAX_TYPE_NAME * 2];

    if (count_interfaces(cls) > MAX_CLASS_INTERFACES)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: too many interfaces", cls->implementation_name);
    while (cls->methods[n_methods].name)
        n_methods++;
    /* Members shared by two interfaces (a common base) count once. */
    unsigned char seen[64] = { 0 };
    if (n_methods > (int)sizeof seen)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: too many methods", cls->implementation_name);

    for (const int *t = cls->interfaces; *t >= 0; t++) {
        typelib_TypeDescription *td = NULL;
        typelib_typedescriptionreference_getDescription(&td, rl_uno_type(*t));
        if (!td || td->eTypeClass != typelib_TypeClass_INTERFACE) {
            if (td)
                typelib_typedescription_release(td);
            return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: interface %d is not known",
                               cls->implementation_name, *t);
        }
        const typelib_InterfaceTypeDescription *it = (const typelib_InterfaceTypeDescription *)td;
        for (sal_Int32 k = 0; k < it->nAllMembers; k++) {
            const rtl_uString *name = it->ppAllMembers[k]->pTypeName;
            sal_Int32 len = base_name_length(name);
            if (find_method(builtins, name, len))
                continue;
            const rl_uno_method *hit = find_method(cls->methods, name, len);
            int found = hit ? (int)(hit - cls->methods) : -1;
            /* Methods and attributes alike: the dispatcher finds both by name. */
            if (found < 0) {
                rl_uno_str_utf8((rtl_uString *)name, text, sizeof text);
                typelib_typedescription_release(td);
                return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: no C method for %s",
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
                return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: %s is in no interface of the class",
                                   cls->implementation_name, cls->methods[m].name);
        }
    }
    return RL_OK;
}
