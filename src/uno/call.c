/* call.c - calling UNO objects from C, and exceptions both ways. */
#include "uno_internal.h"

#include <stdio.h>
#include <string.h>

int rl_uno_fail(rl_uno_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->type[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void rl_uno_acquire(uno_Interface *i)
{
    if (i)
        i->acquire(i);
}

void rl_uno_release(uno_Interface *i)
{
    if (i)
        i->release(i);
}

/* queryInterface for `type`. Returns RL_OK with *out a new reference or
 * NULL (not supported), or RL_ERR_UNO_EXCEPTION with err filled (a remote
 * object that is gone answers with DisposedException). */
static int query_ref(uno_Interface *obj, typelib_TypeDescriptionReference *type, uno_Interface **out,
                     rl_uno_err *err)
{
    uno_Any result, exc_storage;
    uno_Any *exc = &exc_storage;
    void *args[1] = { &type };

    *out = NULL;
    if (!obj)
        return RL_OK;
    obj->pDispatcher(obj, rl_uno__query_member(), &result, args, &exc);
    if (exc) {
        if (err)
            rl_uno__exception_to_err(exc, err);
        uno_any_destruct(exc, NULL);
        return RL_ERR_UNO_EXCEPTION;
    }
    if (result.pType->eTypeClass == typelib_TypeClass_INTERFACE) {
        *out = *(uno_Interface **)result.pData;
        rl_uno_acquire(*out);
    }
    uno_any_destruct(&result, NULL);
    return RL_OK;
}

uno_Interface *rl_uno_query(uno_Interface *obj, int t)
{
    uno_Interface *found;
    query_ref(obj, rl_uno_type(t), &found, NULL);
    return found;
}

void rl_uno__exception_to_err(const uno_Any *exc, rl_uno_err *err)
{
    char text[RL_UNO_MAX_ERROR];
    rtl_uString *name = exc->pType->pTypeName;

    text[0] = '\0';
    if (exc->pType->eTypeClass == typelib_TypeClass_EXCEPTION)
        rl_uno_str_utf8(((const rl_uno_Exception *)exc->pData)->Message, text, sizeof text);
    err->code = RL_ERR_UNO_EXCEPTION;
    rl_uno_str_utf8(name, err->type, sizeof err->type);
    snprintf(err->message, sizeof err->message, "%s: %s", err->type, text);
}

int rl_uno__invoke(uno_Interface *obj, int member, void *ret, void *args[], rl_uno_err *err)
{
    typelib_TypeDescription *td = rl_uno__member(member);
    typelib_TypeDescriptionReference *iface_type = rl_uno__member_interface(member);
    uno_Any exc_storage;
    uno_Any *exc = &exc_storage;
    uno_Interface *target;

    if (!td)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "rl_uno_init() was not called");
    if (!obj)
        return rl_uno_fail(err, RL_ERR_UNO_ARG, "%s: the object is null", rl_uno__members[member]);
    if (query_ref(obj, iface_type, &target, err) != RL_OK)
        return RL_ERR_UNO_EXCEPTION;
    if (!target)
        return rl_uno_fail(err, RL_ERR_UNO_ARG, "%s: the object does not support the interface",
                           rl_uno__members[member]);
    target->pDispatcher(target, td, ret, args, &exc);
    rl_uno_release(target);
    if (exc) {
        if (err)
            rl_uno__exception_to_err(exc, err);
        uno_any_destruct(exc, NULL);
        return RL_ERR_UNO_EXCEPTION;
    }
    return RL_OK;
}

/* Builds exception t into the dispatcher's storage **exc. The storage must
 * hold at most `sizeof buf` bytes of exception data: every exception the
 * product throws is a few pointers long, and a larger one is a programming
 * error that becomes a RuntimeException. */
static void throw_v(uno_Any **exc, int t, uno_Interface *context, int arg_pos,
                    const char *fmt, va_list ap)
{
    union { max_align_t align; unsigned char bytes[256]; } buf;
    char text[RL_UNO_MAX_ERROR];
    typelib_TypeDescription *td = NULL;
    typelib_TypeDescriptionReference *type = rl_uno_type(t);

    vsnprintf(text, sizeof text, fmt, ap);
    typelib_typedescriptionreference_getDescription(&td, type);
    if (!td || (size_t)td->nSize > sizeof buf.bytes) {
        if (td)
            typelib_typedescription_release(td);
        type = rl_uno_type(RL_UNO_T_RuntimeException);
        t = RL_UNO_T_RuntimeException;
    } else {
        typelib_typedescription_release(td);
    }
    uno_type_constructData(buf.bytes, type);
    rl_uno_Exception *e = (rl_uno_Exception *)(void *)buf.bytes;
    rtl_uString *message = rl_uno_str(text);
    rtl_uString_assign(&e->Message, message);
    rtl_uString_release(message);
    rl_uno_acquire(context);
    e->Context = context;
    if (t == RL_UNO_T_IllegalArgumentException)
        ((rl_uno_IllegalArgumentException *)(void *)buf.bytes)->ArgumentPosition = (sal_Int16)arg_pos;
    uno_type_any_construct(*exc, buf.bytes, type, NULL);
    uno_type_destructData(buf.bytes, type, NULL);
}

void rl_uno_throw(uno_Any **exc, int t, uno_Interface *context, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    throw_v(exc, t, context, 0, fmt, ap);
    va_end(ap);
}

void rl_uno_throw_illegal_argument(uno_Any **exc, uno_Interface *context, int pos,
                                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    throw_v(exc, RL_UNO_T_IllegalArgumentException, context, pos, fmt, ap);
    va_end(ap);
}
