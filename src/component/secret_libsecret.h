/*
 * secret_libsecret.h - the desktop's Secret Service through libsecret, for
 * the keyring helper only (build/reportlink-keyring, src/entry/
 * reportlink-keyring.c): the office never loads this module nor libsecret
 * (secret.h says why). Linux; no UNO, no sockets of ours.
 */
#ifndef RLC_SECRET_LIBSECRET_H
#define RLC_SECRET_LIBSECRET_H

#include "secret.h"
#include "secret_proto.h"

#include <stddef.h>

/* Runs op against the Secret Service, blocking at most about timeout_ms (a
 * watchdog cancels the call, which dismisses an unlock prompt):
 *   store   key (NUL-terminated, 1..RLC_SECRET_MAX_KEY bytes) replaces the item
 *   load    the item's secret into out (cap bytes, NUL-terminated; "" if none)
 *   forget  removes the item (RL_OK also when there was none)
 *   where   only connects, to find the provider
 * Returns RL_OK or an error of secret.h's list. On failure out is "". The
 * caller wipes out. Calls are serialised. */
int rlc_libsecret_call(rlc_secret_op op, const char *key, char *out, size_t cap, int timeout_ms);

/* The provider the last call found (RLC_SECRET_NONE before, or without one). */
rlc_secret_kind rlc_libsecret_kind(void);

#endif
