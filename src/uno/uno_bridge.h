/*
 * uno_bridge.h - UNO from plain C: calling LibreOffice, and objects it calls.
 *
 * Binary UNO, as a component declaring the "uno" environment sees it: an
 * object is a uno_Interface (acquire, release, pDispatcher) and every call
 * goes through a dispatcher with a member type description. This module
 * hides the descriptions, the marshalling and the reference counting:
 *
 *  - rl_uno_init() resolves, once, every type and member named in
 *    src/uno/uno_api.list and checks the layout of the C structs generated
 *    from it; the product refuses to start when it fails.
 *  - The generated wrappers rl_uno_<Interface>_<member>() (build/gen/
 *    rl_uno_api.h) call LibreOffice with C-typed arguments; a UNO exception
 *    becomes RL_ERR_UNO_EXCEPTION plus "type: message" in an rl_uno_err.
 *  - rl_uno_object + rl_uno_class implement UNO objects in C from a table:
 *    queryInterface, XTypeProvider and XServiceInfo are answered from it.
 *
 * Knows nothing of WebSockets or of ReportLink. Thread-safe after
 * rl_uno_init(): the tables are read-only, reference counts are atomic.
 * Design note: src/uno/README.md.
 */
#ifndef RL_UNO_BRIDGE_H
#define RL_UNO_BRIDGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <sal/types.h>
#include <rtl/ustring.h>
#include <typelib/typeclass.h>
/* typedescription.h of LibreOffice 7.4 names the enum without `enum` in its
 * C++-only inline helpers; this typedef makes the header valid C. */
typedef enum _typelib_TypeClass _typelib_TypeClass;
#include <typelib/typedescription.h>
#include <uno/any2.h>
#include <uno/data.h>
#include <uno/dispatcher.h>
#include <uno/sequence2.h>

/* Results: RL_OK, or a code of the one error table (src/base/rl_error.h):
 * RL_ERR_UNO_EXCEPTION (the callee threw: see err->type, err->message),
 * RL_ERR_NOMEM, RL_ERR_UNO_TYPE (a type or member is missing, or a value has
 * another type), RL_ERR_UNO_ARG (a NULL object, or an object without the
 * interface). */
#include "platform.h"
#include "rl_error.h"

#define RL_UNO_MAX_TYPE_NAME 128
#define RL_UNO_MAX_ERROR     512

/* What went wrong in a call. message is "type: text" for an exception
 * ("com.sun.star.container.NoSuchElementException: Bookmark1"). */
typedef struct rl_uno_err {
    int code;
    char type[RL_UNO_MAX_TYPE_NAME];
    char message[RL_UNO_MAX_ERROR];
} rl_uno_err;

/* Tables of the generated code (read by rl_uno_init). */
typedef struct rl_uno_field_info {
    const char *name;
    size_t offset;
} rl_uno_field_info;

typedef struct rl_uno_type_info {
    const char *name;                 /* UNO name: "com.sun.star.beans.NamedValue", "[]string" */
    size_t size;                      /* sizeof the generated struct, 0 if none */
    int n_fields;                     /* direct members (not the base's) */
    const rl_uno_field_info *fields;
} rl_uno_type_info;

#include "rl_uno_api.h"   /* generated: RL_UNO_T_*, RL_UNO_M_*, structs, wrappers */

/* ------------------------------------------------------------ start-up */

/* Resolves every type and member of the generated tables and checks the
 * size and member offsets of every generated struct against the type
 * library. Call once before anything else (it is idempotent). On failure
 * err->message names the first thing missing or wrong. */
int rl_uno_init(rl_uno_err *err);

/* The type of an RL_UNO_T_* index. Borrowed: valid for the process. */
typelib_TypeDescriptionReference *rl_uno_type(int t);

/* ------------------------------------------------------------ calls */

/* Generated wrappers call this; obj may be any interface of the target. */
int rl_uno__invoke(uno_Interface *obj, int member, void *ret, void *args[], rl_uno_err *err);

/* queryInterface: returns a new reference to interface type t of obj (the
 * caller releases it), or NULL if obj is NULL or lacks it. */
uno_Interface *rl_uno_query(uno_Interface *obj, int t);

/* NULL-safe acquire and release. */
void rl_uno_acquire(uno_Interface *i);
void rl_uno_release(uno_Interface *i);

/* Records a failure that is not a UNO exception; returns code. */
int rl_uno_fail(rl_uno_err *err, int code, const char *fmt, ...)
    RL_PRINTF(3, 4);

/* ------------------------------------------------------------ strings */

/* A new UNO string from NUL-terminated UTF-8 (invalid bytes become U+FFFD).
 * The caller releases it with rtl_uString_release(). Never NULL: on memory
 * exhaustion the rtl allocator aborts the process, like the rest of UNO. */
rtl_uString *rl_uno_str(const char *utf8);

/* Writes s (may be NULL: empty) as NUL-terminated UTF-8 into buf (cap bytes).
 * Returns the length, or -1 if it did not fit (buf then holds a cut, still
 * valid UTF-8 prefix). Unpaired surrogates become U+FFFD. */
long rl_uno_str_utf8(rtl_uString *s, char *buf, size_t cap);

/* s as a new NUL-terminated UTF-8 string; the caller frees it. NULL on memory
 * exhaustion or if the result would exceed max_bytes. *len_out (may be NULL)
 * receives the length. */
char *rl_uno_str_dup_utf8(rtl_uString *s, size_t max_bytes, size_t *len_out);

/* Whether s (may be NULL) equals the ASCII text. */
int rl_uno_str_equals(const rtl_uString *s, const char *ascii);

/* Overwrites the characters of s with zeros if the caller holds its only
 * reference (a string shared with LibreOffice is left alone), then
 * releases it. For strings that held a secret. NULL-safe. */
void rl_uno_str_wipe_release(rtl_uString *s);

/* rtl_uString_release that accepts NULL. */
void rl_uno_str_release(rtl_uString *s);

/* ------------------------------------------------------------ values */

/* Constructs a (void) any / an any holding a copy of *value of type t, or a
 * string / boolean / interface (acquired). For an interface type t, *value
 * may be any interface of the object: the any gets exactly interface t
 * (queried), or is void if the object lacks it. The caller destructs it
 * with uno_any_destruct(a, NULL). */
void rl_uno_any_void(uno_Any *a);
void rl_uno_any_value(uno_Any *a, void *value, int t);
void rl_uno_any_string(uno_Any *a, const char *utf8);
void rl_uno_any_bool(uno_Any *a, int value);

/* Reading an any. Each returns RL_OK, or RL_ERR_UNO_TYPE if a holds
 * another type (out is then untouched). get_int accepts byte, short, long
 * and their unsigned forms; get_string writes as rl_uno_str_utf8() does and
 * fails if it did not fit. get_interface returns a borrowed reference (NULL
 * for a void any or a null reference). */
int rl_uno_any_get_bool(const uno_Any *a, int *out);
int rl_uno_any_get_int(const uno_Any *a, long *out);
int rl_uno_any_get_string(const uno_Any *a, char *buf, size_t cap);
int rl_uno_any_get_interface(const uno_Any *a, uno_Interface **out);

/* Destructs a value of type t (struct, sequence, string...) in place; what it
 * referenced is released. For anys use uno_any_destruct(a, NULL). */
void rl_uno_destruct(void *value, int t);

/* A new sequence of sequence type t holding copies of n elements (for []string:
 * an array of rtl_uString *; for []any: of uno_Any). The caller destructs it
 * with rl_uno_destruct(&seq, t). NULL on memory exhaustion. */
uno_Sequence *rl_uno_seq(int t, void *elements, sal_Int32 n);

/* A new []string from n UTF-8 strings; destruct it like rl_uno_seq(). */
uno_Sequence *rl_uno_seq_strings(const char *const *utf8, sal_Int32 n);

/* ------------------------------------------------------------ properties (props.c) */

/* A property by name, through the XPropertySet of obj: any interface of the
 * object will do (the wrapper queries XPropertySet). Each returns RL_OK,
 * or an error code with err set: RL_ERR_UNO_ARG when obj is NULL or has no
 * XPropertySet, RL_ERR_UNO_EXCEPTION for an unknown property or a refused
 * value, RL_ERR_UNO_TYPE when a typed read finds another type. Everything
 * passed in is borrowed; nothing is kept. */

/* Sets the property to a copy of *value. */
int rl_uno_prop_set(uno_Interface *obj, const char *name, const uno_Any *value, rl_uno_err *err);
/* The typed forms build the any themselves and destruct it. */
int rl_uno_prop_set_string(uno_Interface *obj, const char *name, const char *utf8, rl_uno_err *err);
int rl_uno_prop_set_bool(uno_Interface *obj, const char *name, int value, rl_uno_err *err);
int rl_uno_prop_set_long(uno_Interface *obj, const char *name, sal_Int32 value, rl_uno_err *err);
int rl_uno_prop_set_short(uno_Interface *obj, const char *name, sal_Int16 value, rl_uno_err *err);
/* value: any interface of an object, or NULL; the property receives its
 * interface t (RL_UNO_T_*), as rl_uno_any_value() gives it. */
int rl_uno_prop_set_interface(uno_Interface *obj, const char *name, uno_Interface *value, int t,
                              rl_uno_err *err);
/* *value of type t (RL_UNO_T_*: a sequence, a struct...), copied. */
int rl_uno_prop_set_value(uno_Interface *obj, const char *name, void *value, int t, rl_uno_err *err);

/* The property's value into *out, constructed: the caller destructs it with
 * uno_any_destruct(out, NULL). On failure *out is untouched. */
int rl_uno_prop_get(uno_Interface *obj, const char *name, uno_Any *out, rl_uno_err *err);
/* Typed reads into the caller's storage (nothing to free). get_string
 * writes as rl_uno_str_utf8() does; a void value reads as ""; a string
 * that does not fit in cap fails (buf then holds a cut prefix). get_int
 * accepts what rl_uno_any_get_int() accepts. */
int rl_uno_prop_get_string(uno_Interface *obj, const char *name, char *buf, size_t cap, rl_uno_err *err);
int rl_uno_prop_get_bool(uno_Interface *obj, const char *name, int *out, rl_uno_err *err);
int rl_uno_prop_get_int(uno_Interface *obj, const char *name, long *out, rl_uno_err *err);

/* ------------------------------------------------------------ []PropertyValue (props.c) */

/* A []com.sun.star.beans.PropertyValue (media descriptors, dispatch
 * arguments, load options) built in a few lines:
 *
 *     rl_uno_props p;
 *     rl_uno_props_init(&p);
 *     rl_uno_props_add_string(&p, "FilterName", "HTML (StarWriter)");
 *     uno_Sequence *seq = rl_uno_props_seq(&p, err);
 *     if (seq)
 *         ... pass seq to the call ...
 *     rl_uno_props_free(&p);
 *
 * The builder is the caller's storage (a local variable will do) and owns
 * what it holds: a copy of every name and value added, and the sequence.
 * Each value has Handle 0 and State DIRECT_VALUE. At most RL_UNO_MAX_PROPS
 * values: one more makes rl_uno_props_seq() fail. */
#define RL_UNO_MAX_PROPS 16

typedef struct rl_uno_props {
    int n;
    int overflow;                             /* an add found no room */
    rl_uno_PropertyValue v[RL_UNO_MAX_PROPS];
    uno_Sequence *seq;                        /* made by rl_uno_props_seq() */
} rl_uno_props;

/* An empty builder. */
void rl_uno_props_init(rl_uno_props *p);
/* Adds (name, value): both are copied, the arguments stay the caller's.
 * The typed forms build the value as rl_uno_prop_set_*() do. */
void rl_uno_props_add(rl_uno_props *p, const char *name, const uno_Any *value);
void rl_uno_props_add_string(rl_uno_props *p, const char *name, const char *utf8);
void rl_uno_props_add_bool(rl_uno_props *p, const char *name, int value);
void rl_uno_props_add_long(rl_uno_props *p, const char *name, sal_Int32 value);
void rl_uno_props_add_interface(rl_uno_props *p, const char *name, uno_Interface *value, int t);
void rl_uno_props_add_value(rl_uno_props *p, const char *name, void *value, int t);
/* The sequence of everything added, in order. Borrowed: p owns it until
 * rl_uno_props_free() or the next add. NULL with err set when more than
 * RL_UNO_MAX_PROPS were added or memory ran out. */
uno_Sequence *rl_uno_props_seq(rl_uno_props *p, rl_uno_err *err);
/* Destructs what p holds and leaves it empty, ready for reuse. */
void rl_uno_props_free(rl_uno_props *p);

/* The value named name in seq, a []PropertyValue (createUIElement's
 * arguments, a media descriptor...): borrowed from seq, or NULL if none. */
const uno_Any *rl_uno_props_find(const uno_Sequence *seq, const char *name);

/* ------------------------------------------------------------ services (props.c) */

/* A new instance of `service` created with ctx (the caller releases it), or
 * NULL with err set (RL_ERR_UNO_ARG when the office has no such service). */
uno_Interface *rl_uno_create_instance(uno_Interface *ctx, const char *service, rl_uno_err *err);

/* The same, as its interface t (RL_UNO_T_X...): what must be handed to a
 * call whose parameter has that type. The XInterface createInstance returns
 * may be called on directly, but an argument is taken to be exactly the
 * declared interface (an unqueried one crashed the office: the callee went
 * through the wrong slots). NULL with err set (RL_ERR_UNO_TYPE when the
 * instance lacks t); the caller releases the result. */
uno_Interface *rl_uno_create_instance_as(uno_Interface *ctx, const char *service, int t, rl_uno_err *err);

/* ------------------------------------------------------------ exceptions */

/* Constructs into *exc (the storage the dispatcher received) an exception of
 * type t (com.sun.star.uno.Exception or a type derived from it) whose Message
 * is the formatted text and Context is context (may be NULL). Other members
 * keep their default values. */
void rl_uno_throw(uno_Any **exc, int t, uno_Interface *context, const char *fmt, ...)
    RL_PRINTF(4, 5);

/* An IllegalArgumentException with ArgumentPosition pos. */
void rl_uno_throw_illegal_argument(uno_Any **exc, uno_Interface *context, int pos,
                                   const char *fmt, ...)
    RL_PRINTF(4, 5);

/* ------------------------------------------------------------ objects */

typedef struct rl_uno_object rl_uno_object;

/* One member of an implemented interface, called by the object's dispatcher
 * as binary UNO calls a dispatcher. Write it as a typed function behind the
 * generated RL_UNO_SKELETON_<I>_<m> (or RL_UNO_GETTER_/RL_UNO_ATTRIBUTE_ for
 * an attribute), which defines this function for the class table: see
 * "Typed skeletons" in README.md. What it receives: args[i] points to the
 * i-th argument (borrowed), ret to unconstructed storage that the
 * method fills with the return value (which the caller then owns). To fail,
 * the method leaves ret alone and throws with rl_uno_throw*(exc, ...), which
 * constructs the exception into the storage *exc points to; a method that
 * does not throw leaves exc alone. An interface attribute is listed like a
 * method, under its name (RL_UNO_MN_XToolPanel_Window): its entry
 * is called for the getter (ret: storage for the value, no arguments) and,
 * unless the attribute is readonly, for the setter (ret NULL, args[0]: the
 * new value). */
typedef void (*rl_uno_method_fn)(rl_uno_object *self, void *ret, void *args[], uno_Any **exc);

typedef struct rl_uno_method {
    const char *name;         /* RL_UNO_MN_<Interface>_<member or attribute> */
    rl_uno_method_fn fn;
} rl_uno_method;

/* What an object is. XInterface, XTypeProvider and XServiceInfo are answered
 * by the bridge and must not be listed. */
typedef struct rl_uno_class {
    const char *implementation_name;
    const char *const *services;      /* NULL-terminated, or NULL */
    const int *interfaces;            /* RL_UNO_T_* of the interfaces, -1 terminated */
    const rl_uno_method *methods;     /* every member of those interfaces and their
                                         bases; ends with { NULL, NULL } */
    void (*destroy)(rl_uno_object *self); /* the last reference went: free it */
} rl_uno_class;

/* Embed as the first member of the struct that implements the object. */
struct rl_uno_object {
    uno_Interface iface;          /* what LibreOffice holds */
    const rl_uno_class *cls;
    _Atomic sal_Int32 refs;
};

/* Checks at start-up that cls's methods are exactly the members of its
 * interfaces (and their bases). */
int rl_uno_class_check(const rl_uno_class *cls, rl_uno_err *err);

/* Sets up o with one reference, owned by the caller. */
void rl_uno_object_init(rl_uno_object *o, const rl_uno_class *cls);

/* The struct that embeds an rl_uno_object as `member` (container_of). */
#define RL_UNO_SELF(obj, type, member) \
    ((type *)(void *)((char *)(obj) - offsetof(type, member)))

/* Reading the arguments of an rl_uno_method_fn by hand: the skeletons make
 * it unnecessary; kept for src/component/link.c until it is converted. */
#define RL_UNO_ARG(args, i, ctype) (*(ctype *)(args)[i])

#endif
