/* value.c - strings, anys and sequences between C and UNO.
 *
 * UTF-8 <-> UTF-16 is done here, by hand, straight into the destination:
 * no intermediate copy is left behind in memory (it matters for the doctor's
 * key) and every output is bounded by its caller. */
#include "uno_internal.h"

#include <stdlib.h>
#include <string.h>

#define REPLACEMENT 0xFFFDu

/* Decodes one UTF-8 sequence at s (n bytes left). Returns the code point and
 * sets *used; an invalid or truncated sequence yields U+FFFD for one byte. */
static unsigned decode_utf8(const unsigned char *s, size_t n, size_t *used)
{
    unsigned c = s[0], min;
    size_t len;

    *used = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; c &= 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; c &= 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; c &= 0x07; min = 0x10000;
    } else {
        return REPLACEMENT;
    }
    if (n < len)
        return REPLACEMENT;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return REPLACEMENT;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return REPLACEMENT;
    *used = len;
    return c;
}

rtl_uString *rl_uno_str(const char *utf8)
{
    const unsigned char *p = (const unsigned char *)(utf8 ? utf8 : "");
    size_t n = strlen((const char *)p);
    rtl_uString *s = NULL;
    sal_Int32 len = 0;

    /* A UTF-8 string never has more UTF-16 units than bytes. */
    rtl_uString_new_WithLength(&s, (sal_Int32)n);
    for (size_t i = 0; i < n;) {
        size_t used;
        unsigned c = decode_utf8(p + i, n - i, &used);
        i += used;
        if (c >= 0x10000) {
            c -= 0x10000;
            s->buffer[len++] = (sal_Unicode)(0xD800 + (c >> 10));
            s->buffer[len++] = (sal_Unicode)(0xDC00 + (c & 0x3FF));
        } else {
            s->buffer[len++] = (sal_Unicode)c;
        }
    }
    s->buffer[len] = 0;
    s->length = len;
    return s;
}

/* Reads the code point at s[*i] (advancing *i), pairing surrogates. */
static unsigned next_code_point(const sal_Unicode *s, sal_Int32 n, sal_Int32 *i)
{
    unsigned c = s[(*i)++];
    if (c >= 0xD800 && c <= 0xDBFF) {
        if (*i < n && s[*i] >= 0xDC00 && s[*i] <= 0xDFFF)
            return 0x10000 + ((c - 0xD800) << 10) + (s[(*i)++] - 0xDC00u);
        return REPLACEMENT;
    }
    return (c >= 0xDC00 && c <= 0xDFFF) ? REPLACEMENT : c;
}

static size_t utf8_len(unsigned c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static size_t encode_utf8(unsigned c, char *out)
{
    unsigned char *o = (unsigned char *)out;
    switch (utf8_len(c)) {
    case 1:
        o[0] = (unsigned char)c;
        return 1;
    case 2:
        o[0] = (unsigned char)(0xC0 | (c >> 6));
        o[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    case 3:
        o[0] = (unsigned char)(0xE0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    default:
        o[0] = (unsigned char)(0xF0 | (c >> 18));
        o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (c & 0x3F));
        return 4;
    }
}

long rl_uno_str_utf8(rtl_uString *s, char *buf, size_t cap)
{
    size_t out = 0;
    sal_Int32 i = 0, n = s ? s->length : 0;

    if (cap == 0)
        return -1;
    while (i < n) {
        unsigned c = next_code_point(s->buffer, n, &i);
        if (out + utf8_len(c) >= cap) {
            buf[out] = '\0';
            return -1;
        }
        out += encode_utf8(c, buf + out);
    }
    buf[out] = '\0';
    return (long)out;
}

char *rl_uno_str_dup_utf8(rtl_uString *s, size_t max_bytes, size_t *len_out)
{
    size_t need = 0;
    sal_Int32 i = 0, n = s ? s->length : 0;
    char *buf;

    while (i < n)
        need += utf8_len(next_code_point(s->buffer, n, &i));
    if (need > max_bytes || !(buf = malloc(need + 1)))
        return NULL;
    rl_uno_str_utf8(s, buf, need + 1);
    if (len_out)
        *len_out = need;
    return buf;
}

int rl_uno_str_equals(const rtl_uString *s, const char *ascii)
{
    return s && rtl_ustr_ascii_compare_WithLength(s->buffer, s->length, ascii) == 0;
}

void rl_uno_str_wipe_release(rtl_uString *s)
{
    if (!s)
        return;
    if (s->refCount == 1)
        rl_os_wipe(s->buffer, (size_t)s->length * sizeof s->buffer[0]);
    rtl_uString_release(s);
}

void rl_uno_str_release(rtl_uString *s)
{
    if (s)
        rtl_uString_release(s);
}

/* ------------------------------------------------------------------ any */

void rl_uno_any_void(uno_Any *a)
{
    uno_any_construct(a, NULL, NULL, NULL);
}

void rl_uno_any_value(uno_Any *a, void *value, int t)
{
    typelib_TypeDescriptionReference *type = rl_uno_type(t);
    if (type->eTypeClass == typelib_TypeClass_INTERFACE && *(uno_Interface **)value) {
        /* Binary UNO takes an interface in an any to be exactly that
         * interface: an object's XInterface (what createInstance returns)
         * would be called through the wrong slots. Query it here, once. */
        uno_Interface *exact = rl_uno_query(*(uno_Interface **)value, t);
        if (exact)
            uno_type_any_construct(a, &exact, type, NULL);
        else            /* the object lacks it: a void any, refused by the callee */
            uno_type_any_construct(a, NULL,
                                   *typelib_static_type_getByTypeClass(typelib_TypeClass_VOID), NULL);
        rl_uno_release(exact);
        return;
    }
    uno_type_any_construct(a, value, type, NULL);
}

void rl_uno_any_string(uno_Any *a, const char *utf8)
{
    rtl_uString *s = rl_uno_str(utf8);
    uno_type_any_construct(a, &s, *typelib_static_type_getByTypeClass(typelib_TypeClass_STRING), NULL);
    rtl_uString_release(s);
}

void rl_uno_any_bool(uno_Any *a, int value)
{
    sal_Bool b = value ? sal_True : sal_False;
    uno_type_any_construct(a, &b, *typelib_static_type_getByTypeClass(typelib_TypeClass_BOOLEAN), NULL);
}

int rl_uno_any_get_bool(const uno_Any *a, int *out)
{
    if (a->pType->eTypeClass != typelib_TypeClass_BOOLEAN)
        return RL_ERR_UNO_TYPE;
    *out = *(const sal_Bool *)a->pData != 0;
    return RL_OK;
}

int rl_uno_any_get_int(const uno_Any *a, long *out)
{
    switch (a->pType->eTypeClass) {
    case typelib_TypeClass_BYTE:
        *out = *(const sal_Int8 *)a->pData;
        return RL_OK;
    case typelib_TypeClass_SHORT:
        *out = *(const sal_Int16 *)a->pData;
        return RL_OK;
    case typelib_TypeClass_UNSIGNED_SHORT:
        *out = *(const sal_uInt16 *)a->pData;
        return RL_OK;
    case typelib_TypeClass_LONG:
        *out = *(const sal_Int32 *)a->pData;
        return RL_OK;
    case typelib_TypeClass_UNSIGNED_LONG:
        *out = (long)*(const sal_uInt32 *)a->pData;
        return RL_OK;
    default:
        return RL_ERR_UNO_TYPE;
    }
}

int rl_uno_any_get_string(const uno_Any *a, char *buf, size_t cap)
{
    if (a->pType->eTypeClass != typelib_TypeClass_STRING)
        return RL_ERR_UNO_TYPE;
    return rl_uno_str_utf8(*(rtl_uString *const *)a->pData, buf, cap) < 0 ? RL_ERR_UNO_TYPE : RL_OK;
}

int rl_uno_any_get_interface(const uno_Any *a, uno_Interface **out)
{
    if (a->pType->eTypeClass == typelib_TypeClass_VOID) {
        *out = NULL;
        return RL_OK;
    }
    if (a->pType->eTypeClass != typelib_TypeClass_INTERFACE)
        return RL_ERR_UNO_TYPE;
    *out = *(uno_Interface *const *)a->pData;
    return RL_OK;
}

void rl_uno_destruct(void *value, int t)
{
    uno_type_destructData(value, rl_uno_type(t), NULL);
}

/* ------------------------------------------------------------------ sequences */

uno_Sequence *rl_uno_seq(int t, void *elements, sal_Int32 n)
{
    uno_Sequence *seq = NULL;
    if (!uno_type_sequence_construct(&seq, rl_uno_type(t), elements, n, NULL))
        return NULL;
    return seq;
}

uno_Sequence *rl_uno_seq_strings(const char *const *utf8, sal_Int32 n)
{
    rtl_uString **strings = n ? calloc((size_t)n, sizeof *strings) : NULL;
    uno_Sequence *seq;

    if (n && !strings)
        return NULL;
    for (sal_Int32 i = 0; i < n; i++)
        strings[i] = rl_uno_str(utf8[i]);
    seq = rl_uno_seq(RL_UNO_T_seq_string, strings, n);
    for (sal_Int32 i = 0; i < n; i++)
        rtl_uString_release(strings[i]);
    free(strings);
    return seq;
}
