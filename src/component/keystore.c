/* keystore.c - the doctor's key in the office's password container.
 *
 * The key never goes into the configuration: it is stored with
 * com.sun.star.task.PasswordContainer under KEY_URL / KEY_USER. That store
 * writes its entries into the profile's registrymodifications.xcu encrypted
 * with a master password. To work without any prompt (headless offices, and
 * doctors who never set a master password) the component:
 *
 *  - turns persistent storing on if it is off (the office's "save passwords
 *    permanently" option, off in a new profile; without it nothing is
 *    written to disk);
 *  - if no master password exists yet, selects the office's *default*
 *    master password (XMasterPasswordHandling2.useDefaultMasterPassword):
 *    entries are then encrypted with a key built into LibreOffice, which
 *    keeps the key out of the profile in clear text but does not protect it
 *    from someone who can read the profile and knows LibreOffice;
 *  - passes an interaction handler that never asks anything. With the
 *    default master password no question is asked; if the doctor set a real
 *    master password, the store cannot be opened without asking, and the
 *    key is then kept in memory for this session only (logged).
 *
 * Buffers that held the key are wiped before they are released. */
#include "component.h"

#include <string.h>

#define KEY_URL  "reportlink://doctor-key"
#define KEY_USER "doctor"

static uno_Interface *open_store(uno_Interface *ctx, rl_uno_err *err)
{
    return rl_uno_create_instance(ctx, "com.sun.star.task.PasswordContainer", err);
}

/* Makes persistent storing possible without a prompt. Returns 1 if
 * persistent storing is usable, 0 if not (logged). */
static int prepare_persistent(uno_Interface *store, uno_Interface *handler)
{
    rl_uno_err err;
    sal_Bool allowed = sal_False, has_master = sal_False, ok = sal_False;

    if (rl_uno_XMasterPasswordHandling_isPersistentStoringAllowed(store, &err, &allowed) != RL_OK)
        goto fail;
    if (!allowed) {
        sal_Bool previous;
        if (rl_uno_XMasterPasswordHandling_allowPersistentStoring(store, &err, &previous, sal_True) != RL_OK)
            goto fail;
        rl_log("turned on persistent password storing to keep the doctor key");
    }
    if (rl_uno_XMasterPasswordHandling_hasMasterPassword(store, &err, &has_master) != RL_OK)
        goto fail;
    if (!has_master) {
        if (rl_uno_XMasterPasswordHandling2_useDefaultMasterPassword(store, &err, &ok, handler) != RL_OK)
            goto fail;
        if (!ok) {
            rl_log("the password container refused its default master password");
            return 0;
        }
    }
    return 1;
fail:
    rl_log("password container: %s", err.message);
    return 0;
}

int rlc_key_store(uno_Interface *ctx, const char *key, int *persistent_out, rl_uno_err *err)
{
    uno_Interface *store, *handler;
    rtl_uString *url, *user;
    int rc;

    *persistent_out = 0;
    if (!(store = open_store(ctx, err)))
        return err->code;
    handler = rlc_silent_handler_new();
    url = rl_uno_str(KEY_URL);
    user = rl_uno_str(KEY_USER);
    if (!key[0]) {
        rc = rl_uno_XPasswordContainer_removePersistent(store, err, url, user);
        *persistent_out = 1;
    } else {
        rtl_uString *secret = rl_uno_str(key);
        uno_Sequence *passwords = rl_uno_seq(RL_UNO_T_seq_string, &secret, 1);
        if (!passwords) {
            rc = rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        } else if (prepare_persistent(store, handler) &&
                   rl_uno_XPasswordContainer_addPersistent(store, err, url, user, passwords,
                                                           handler) == RL_OK) {
            rc = RL_OK;
            *persistent_out = 1;
        } else {
            rl_log("the doctor key cannot be stored on disk; it is kept for this session only");
            rc = rl_uno_XPasswordContainer_add(store, err, url, user, passwords, handler);
        }
        if (passwords)
            rl_uno_destruct(&passwords, RL_UNO_T_seq_string);
        rl_uno_str_wipe_release(secret);
    }
    rtl_uString_release(url);
    rtl_uString_release(user);
    rl_uno_release(handler);
    rl_uno_release(store);
    return rc;
}

int rlc_key_load(uno_Interface *ctx, char *key, size_t cap, rl_uno_err *err)
{
    uno_Interface *store, *handler;
    rtl_uString *url;
    rl_uno_UrlRecord record;
    int rc;

    key[0] = '\0';
    if (!(store = open_store(ctx, err)))
        return err->code;
    handler = rlc_silent_handler_new();
    url = rl_uno_str(KEY_URL);
    rc = rl_uno_XPasswordContainer_find(store, err, &record, url, handler);
    rtl_uString_release(url);
    if (rc == RL_OK) {
        const rl_uno_UserRecord *users = (const rl_uno_UserRecord *)(void *)record.UserList->elements;
        for (sal_Int32 i = 0; i < record.UserList->nElements; i++) {
            if (!rl_uno_str_equals(users[i].UserName, KEY_USER) || users[i].Passwords->nElements < 1)
                continue;
            rtl_uString *stored = *(rtl_uString **)(void *)users[i].Passwords->elements;
            if (rl_uno_str_utf8(stored, key, cap) < 0) {
                rl_os_wipe(key, cap);
                rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the stored doctor key is too long");
            }
            /* Our copy of the key is wiped before it is released - only
             * when nobody else holds the list or the string (the password
             * container keeps its own, which is not ours to touch). */
            if (record.UserList->nRefCount == 1 && users[i].Passwords->nRefCount == 1) {
                rtl_uString **slot = (rtl_uString **)(void *)users[i].Passwords->elements;
                rl_uno_str_wipe_release(*slot);
                *slot = NULL;
                rtl_uString_new(slot);
            }
            break;
        }
        rl_uno_destruct(&record, RL_UNO_T_UrlRecord);
    }
    rl_uno_release(handler);
    rl_uno_release(store);
    return rc;
}
