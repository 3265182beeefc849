/*
 * secret_proto.h - the few bytes between reportlink.so and its keyring
 * helper, build/reportlink-keyring (secret_spawn.c asks, src/entry/
 * reportlink-keyring.c answers). Pure functions over buffers: nothing here
 * reads or writes a descriptor, so the parent and the helper can feed the
 * bytes in any chunking, and nothing here keeps memory.
 *
 * One request per run of the helper, on its stdin; one answer, on its
 * stdout. Each is a header line of ASCII words and then, when there is a
 * key, exactly keylen bytes of it (UTF-8, no NUL, no line end):
 *
 *   request   "reportlink-keyring 1 <op> <timeout_ms> <keylen>\n" <key>
 *   answer    "reportlink-keyring 1 <rc> <kind> <keylen>\n" <key>
 *
 *   op     store | load | forget | where
 *   rc     the rl_error code, as a decimal number (0 is RL_OK)
 *   kind   rlc_secret_kind_name(): gnome, kwallet, keepassxc, desktop, none
 *   keylen 0..RLC_SECRET_MAX_KEY; a key only in a store request and in the
 *          answer to a load that found one
 *
 * The "1" is the protocol's version: the helper and the library ship in
 * one package, so a mismatch only happens by mistake, and is then refused
 * instead of misread. Every part is bounded (RLC_PROTO_HEADER_MAX,
 * RLC_SECRET_MAX_KEY); bytes after a whole message are an error.
 */
#ifndef RLC_SECRET_PROTO_H
#define RLC_SECRET_PROTO_H

#include "secret.h"

#include <stddef.h>

#define RLC_PROTO_MAGIC      "reportlink-keyring 1"
#define RLC_PROTO_HEADER_MAX 64                                   /* with its '\n' */
#define RLC_PROTO_MAX        (RLC_PROTO_HEADER_MAX + RLC_SECRET_MAX_KEY)
/* The longest timeout a request may carry: an unlock prompt's minute, and more. */
#define RLC_PROTO_TIMEOUT_MAX 3600000

typedef enum rlc_secret_op {
    RLC_SECRET_OP_STORE,
    RLC_SECRET_OP_LOAD,
    RLC_SECRET_OP_FORGET,
    RLC_SECRET_OP_WHERE      /* only finds the store and its provider */
} rlc_secret_op;

/* A whole message, parsed. key points into the parsed buffer (not
 * NUL-terminated): the caller copies it out, then wipes the buffer. */
typedef struct rlc_secret_msg {
    int op;                  /* request: an rlc_secret_op; answer: the rl_error code */
    int timeout_ms;          /* request only */
    rlc_secret_kind kind;    /* answer only */
    const char *key;
    size_t keylen;
} rlc_secret_msg;

/* Writes a request (rlc_proto_request) or an answer (rlc_proto_answer) into
 * buf (cap bytes; RLC_PROTO_MAX is always enough). Returns its length, or
 * -1 when a value is out of bounds (keylen over RLC_SECRET_MAX_KEY, a
 * timeout out of 1..RLC_PROTO_TIMEOUT_MAX, an unknown op or kind) or cap is
 * too small. buf holds the key afterwards: the caller wipes it. */
int rlc_proto_request(char *buf, size_t cap, rlc_secret_op op, int timeout_ms, const char *key, size_t keylen);
int rlc_proto_answer(char *buf, size_t cap, int rc, rlc_secret_kind kind, const char *key, size_t keylen);

/* Parses the len bytes received so far. Returns the length of the whole
 * message (> 0; msg filled), 0 when more bytes are needed, or -1 when they
 * cannot be a message of that kind (a bad header, a value out of bounds,
 * RLC_PROTO_HEADER_MAX bytes without a line end). The caller treats bytes
 * beyond the returned length as an error. */
int rlc_proto_parse_request(const char *buf, size_t len, rlc_secret_msg *msg);
int rlc_proto_parse_answer(const char *buf, size_t len, rlc_secret_msg *msg);

#endif
