/* types.c - resolving, once, every type and member the product names.
 *
 * A misspelt name in binary UNO gives a NULL description at run time, and a
 * hand-written struct that differs from the type library corrupts memory.
 * Both are found here, when the component starts, instead of later. */
#include "uno_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int initialised;
static typelib_TypeDescriptionReference *types[RL_UNO_T_COUNT_];
static typelib_TypeDescription *members[RL_UNO_M_COUNT_];
static typelib_TypeDescriptionReference *member_ifaces[RL_UNO_M_COUNT_];
static typelib_TypeDescription *query_member;
static typelib_TypeDescriptionReference *builtin[3];

/* The description named `name` (acquired), or NULL. */
static typelib_TypeDescription *by_name(const char *name)
{
    typelib_TypeDescription *td = NULL;
    rtl_uString *s = rl_uno_str(name);
    typelib_typedescription_getByName(&td, s);
    rtl_uString_release(s);
    if (td && !td->bComplete && !typelib_typedescription_complete(&td)) {
        typelib_typedescription_release(td);
        td = NULL;
    }
    return td;
}

/* Checks the generated C struct of `info` against the description. */
static int check_layout(const rl_uno_type_info *info, typelib_TypeDescription *td, rl_uno_err *err)
{
    const typelib_CompoundTypeDescription *c = (const typelib_CompoundTypeDescription *)td;
    if (td->eTypeClass != typelib_TypeClass_STRUCT && td->eTypeClass != typelib_TypeClass_EXCEPTION)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s is not a struct", info->name);
    if ((size_t)td->nSize != info->size)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: the C struct has %zu bytes, UNO says %d",
                           info->name, info->size, (int)td->nSize);
    if (c->nMembers != info->n_fields)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s: %d members in C, %d in UNO",
                           info->name, info->n_fields, (int)c->nMembers);
    for (int i = 0; i < info->n_fields; i++) {
        if (!rl_uno_str_equals(c->ppMemberNames[i], info->fields[i].name) ||
            (size_t)c->pMemberOffsets[i] != info->fields[i].offset)
            return rl_uno_fail(err, RL_ERR_UNO_TYPE, "%s.%s: offset %zu in C, %d in UNO",
                               info->name, info->fields[i].name, info->fields[i].offset,
                               (int)c->pMemberOffsets[i]);
    }
    return RL_OK;
}

/* The method or attribute "iface::member" (acquired), or NULL; *iface_out (if not NULL)
 * receives its interface's type (acquired). */
static typelib_TypeDescription *method_by_name(const char *full,
                                               typelib_TypeDescriptionReference **iface_out)
{
    char iface[RL_UNO_MAX_TYPE_NAME];
    const char *sep = strstr(full, "::");
    typelib_TypeDescription *result = NULL;

    if (!sep || (size_t)(sep - full) >= sizeof iface)
        return NULL;
    memcpy(iface, full, (size_t)(sep - full));
    iface[sep - full] = '\0';
    typelib_TypeDescription *td = by_name(iface);
    if (!td)
        return NULL;
    if (td->eTypeClass == typelib_TypeClass_INTERFACE) {
        const typelib_InterfaceTypeDescription *it = (const typelib_InterfaceTypeDescription *)td;
        for (sal_Int32 i = 0; i < it->nMembers && !result; i++) {
            if (rl_uno_str_equals(it->ppMembers[i]->pTypeName, full))
                typelib_typedescriptionreference_getDescription(&result, it->ppMembers[i]);
        }
    }
    /* An attribute is read only: invoked without arguments, the dispatcher
     * calls its getter (tools/uno-cgen.py names the wrapper get<Name>). */
    if (result && result->eTypeClass != typelib_TypeClass_INTERFACE_METHOD &&
        result->eTypeClass != typelib_TypeClass_INTERFACE_ATTRIBUTE) {
        typelib_typedescription_release(result);
        result = NULL;
    }
    if (result && iface_out) {
        typelib_typedescriptionreference_acquire(td->pWeakRef);
        *iface_out = td->pWeakRef;
    }
    typelib_typedescription_release(td);
    return result;
}

static void release_all(void)
{
    for (int i = 0; i < RL_UNO_T_COUNT_; i++) {
        if (types[i])
            typelib_typedescriptionreference_release(types[i]);
        types[i] = NULL;
    }
    for (int i = 0; i < RL_UNO_M_COUNT_; i++) {
        if (members[i])
            typelib_typedescription_release(members[i]);
        if (member_ifaces[i])
            typelib_typedescriptionreference_release(member_ifaces[i]);
        members[i] = NULL;
        member_ifaces[i] = NULL;
    }
    if (query_member)
        typelib_typedescription_release(query_member);
    query_member = NULL;
    for (int i = 0; i < 3; i++) {
        if (builtin[i])
            typelib_typedescriptionreference_release(builtin[i]);
        builtin[i] = NULL;
    }
}

static int resolve_all(rl_uno_err *err)
{
    static const char *const builtin_names[3] = { "[]type", "[]byte", "void" };

    for (int i = 0; i < RL_UNO_T_COUNT_; i++) {
        const rl_uno_type_info *info = &rl_uno__types[i];
        typelib_TypeDescription *td = by_name(info->name);
        if (!td)
            return rl_uno_fail(err, RL_ERR_UNO_TYPE, "unknown UNO type %s", info->name);
        int rc = info->size ? check_layout(info, td, err) : RL_OK;
        typelib_typedescriptionreference_acquire(td->pWeakRef);
        types[i] = td->pWeakRef;
        typelib_typedescription_release(td);
        if (rc != RL_OK)
            return rc;
    }
    for (int i = 0; i < RL_UNO_M_COUNT_; i++) {
        if (!(members[i] = method_by_name(rl_uno__members[i], &member_ifaces[i])))
            return rl_uno_fail(err, RL_ERR_UNO_TYPE, "unknown UNO method %s", rl_uno__members[i]);
    }
    if (!(query_member = method_by_name(RL_UNO_MN_XInterface_queryInterface, NULL)))
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "unknown UNO method %s",
                           RL_UNO_MN_XInterface_queryInterface);
    for (int i = 0; i < 3; i++) {
        typelib_TypeDescription *td = by_name(builtin_names[i]);
        if (!td)
            return rl_uno_fail(err, RL_ERR_UNO_TYPE, "unknown UNO type %s", builtin_names[i]);
        typelib_typedescriptionreference_acquire(td->pWeakRef);
        builtin[i] = td->pWeakRef;
        typelib_typedescription_release(td);
    }
    return RL_OK;
}

int rl_uno_init(rl_uno_err *err)
{
    int rc = RL_OK;
    pthread_mutex_lock(&init_lock);
    if (!initialised) {
        rc = resolve_all(err);
        if (rc == RL_OK)
            initialised = 1;
        else
            release_all();
    }
    pthread_mutex_unlock(&init_lock);
    return rc;
}

typelib_TypeDescriptionReference *rl_uno_type(int t)
{
    return types[t];
}

typelib_TypeDescription *rl_uno__member(int m)
{
    return members[m];
}

typelib_TypeDescriptionReference *rl_uno__member_interface(int m)
{
    return member_ifaces[m];
}

typelib_TypeDescription *rl_uno__query_member(void)
{
    return query_member;
}

typelib_TypeDescriptionReference *rl_uno__builtin_type(int which)
{
    return builtin[which];
}
