/* uno_internal.h - what the bridge's files share (rl_uno__ names). */
#ifndef RL_UNO_INTERNAL_H
#define RL_UNO_INTERNAL_H

#include "uno_bridge.h"

/* Generated tables (build/gen/rl_uno_api.c). */
extern const rl_uno_type_info rl_uno__types[RL_UNO_T_COUNT_];
extern const char *const rl_uno__members[RL_UNO_M_COUNT_];

/* Descriptions resolved by rl_uno_init(), held for the process. */
typelib_TypeDescription *rl_uno__member(int m);
typelib_TypeDescriptionReference *rl_uno__member_interface(int m);
typelib_TypeDescription *rl_uno__query_member(void);   /* XInterface::queryInterface */
typelib_TypeDescriptionReference *rl_uno__builtin_type(int which);

enum { RL_UNO__SEQ_TYPE, RL_UNO__SEQ_BYTE, RL_UNO__VOID };

/* Copies "type: message" of the exception in *exc into err (does not
 * destruct it). */
void rl_uno__exception_to_err(const uno_Any *exc, rl_uno_err *err);


#endif
