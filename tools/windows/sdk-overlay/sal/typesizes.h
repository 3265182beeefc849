/* sal/typesizes.h for Windows x64 (LLP64: long is 4 bytes) - ReportLink's
 * overlay of the SDK's (the Linux SDK's says long = 8). See types.h here. */
#ifndef CONFIG_TYPESIZES_H
#define CONFIG_TYPESIZES_H

#define SAL_TYPES_ALIGNMENT2 2
#define SAL_TYPES_ALIGNMENT4 4
#define SAL_TYPES_ALIGNMENT8 8
#define SAL_TYPES_SIZEOFSHORT 2
#define SAL_TYPES_SIZEOFINT 4
#define SAL_TYPES_SIZEOFLONG 4
#define SAL_TYPES_SIZEOFLONGLONG 8
#define SAL_TYPES_SIZEOFPOINTER 8

#endif
