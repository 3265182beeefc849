/*
 * sal/types.h for mingw-w64 - ReportLink's overlay of the LibreOffice SDK's
 * header (mk/windows.mk puts this folder before the SDK's include folder).
 *
 * The SDK knows two compilers: MSVC and gcc/clang on Unix. Under mingw its
 * sal/types.h stops at #error ("unknown platform"), and forcing the Unix
 * branch would make sal_Int64 a `long`: 4 bytes on Windows, a silent ABI
 * break. mingw-w64 is ABI-compatible with MSVC for C, so this overlay lets
 * it take the MSVC branch: _MSC_VER is defined while the SDK's header is
 * read, and only then (<stddef.h> and the SDK's own sal/config.h and
 * sal/macros.h are included first, so nothing else sees it). The
 * sal/typesizes.h beside this file gives Windows' sizes (long = 4).
 *
 * Afterwards, what the MSVC branch spelled in MSVC's own dialect is spelled
 * for gcc: 64-bit constants (`i64` suffixes) and printf lengths (with
 * -D__USE_MINGW_ANSI_STDIO=1, mingw's printf knows C99's "ll" and "z").
 * SAL_CALL stays __cdecl, the only convention on x64; sal_Unicode is
 * wchar_t, 16 bits; the headers' #pragma pack(push, 8) is honoured by gcc.
 */
#ifndef RL_SDK_OVERLAY_SAL_TYPES_H
#define RL_SDK_OVERLAY_SAL_TYPES_H

#if !defined(__MINGW64__) || defined(_MSC_VER)
#error "tools/windows/sdk-overlay is for x86_64-w64-mingw32-gcc only"
#endif

#include <stddef.h>
#include <sal/config.h>
#include <sal/macros.h>

#define _MSC_VER 1929
#include_next <sal/types.h>
#undef _MSC_VER

#undef SAL_CONST_INT64
#undef SAL_CONST_UINT64
#define SAL_CONST_INT64(x) x##LL
#define SAL_CONST_UINT64(x) x##ULL
#undef SAL_PRIdINT64
#undef SAL_PRIuUINT64
#undef SAL_PRIxUINT64
#undef SAL_PRIXUINT64
#define SAL_PRIdINT64 "lld"
#define SAL_PRIuUINT64 "llu"
#define SAL_PRIxUINT64 "llx"
#define SAL_PRIXUINT64 "llX"
#undef SAL_PRI_SIZET
#undef SAL_PRI_PTRDIFFT
#define SAL_PRI_SIZET "z"
#define SAL_PRI_PTRDIFFT "t"
#undef SAL_DEPRECATED
#define SAL_DEPRECATED(message) __attribute__((deprecated))
#undef SAL_WNOUNREACHABLE_CODE_PUSH
#undef SAL_WNOUNREACHABLE_CODE_POP
#define SAL_WNOUNREACHABLE_CODE_PUSH
#define SAL_WNOUNREACHABLE_CODE_POP

_Static_assert(sizeof(sal_Int64) == 8 && sizeof(sal_uInt64) == 8, "sal_Int64 is 8 bytes");
_Static_assert(sizeof(sal_Int32) == 4 && sizeof(sal_Unicode) == 2, "sal_Int32 4, sal_Unicode 2 bytes");
_Static_assert(sizeof(sal_Size) == 8 && sizeof(sal_IntPtr) == 8, "sal_Size and sal_IntPtr are pointers' size");

#endif
