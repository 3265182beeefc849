/* error.c - names and messages of the error table (rl_error.h). */
#include "rl_error.h"

const char *rl_err_name(int code)
{
    switch (code) {
    case RL_OK: return "ok";
#define RL__ERR_NAME(c, value, name, message) case value: return name;
    RL_ERRNO_MAP(RL__ERR_NAME)
#undef RL__ERR_NAME
    default: return "unknown";
    }
}

const char *rl_strerror(int code)
{
    switch (code) {
    case RL_OK: return "ok";
#define RL__ERR_MESSAGE(c, value, name, message) case value: return message;
    RL_ERRNO_MAP(RL__ERR_MESSAGE)
#undef RL__ERR_MESSAGE
    default: return "unknown error";
    }
}
