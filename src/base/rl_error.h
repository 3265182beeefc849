/*
 * rl_error.h - ReportLink's one table of error codes.
 *
 * Every layer (core, uno, writer, component, ui) returns these codes: 0 for
 * success, a negative RL_ERR_* for a failure, never a code of its own. The
 * table below gives each code its value, its stable name (for logs and
 * tests) and its message (English, for the log and the IT contact; the
 * doctor's words come from the i18n files, keyed by the name). The idea is
 * libuv's UV_ERRNO_MAP: one place, from which the enum and the two lookup
 * functions are generated, so a code cannot exist without a name and a
 * message, and two codes cannot share a value.
 *
 * The bottom layer: includes nothing of the project, knows nothing of UNO
 * or of the network. Thread-safe (constant tables).
 */
#ifndef RL_ERROR_H
#define RL_ERROR_H

/* XX(NAME, value, "name", "message") */
#define RL_ERRNO_MAP(XX) \
    /* Anywhere */ \
    XX(NOMEM,            -1,  "nomem",            "out of memory") \
    XX(INVALID,          -2,  "invalid",          "invalid argument") \
    XX(FULL,             -3,  "full",             "the command queue is full") \
    XX(STATE,            -4,  "state",            "not allowed in the current state") \
    XX(SYSTEM,           -5,  "system",           "a thread or the network library could not start") \
    XX(TOO_BIG,          -6,  "too_big",          "larger than its limit") \
    /* Calls into LibreOffice (src/uno) */ \
    XX(UNO_EXCEPTION,    -20, "uno_exception",    "LibreOffice raised an exception") \
    XX(UNO_TYPE,         -21, "uno_type",         "a UNO type or member is missing, or a value has another type") \
    XX(UNO_ARG,          -22, "uno_arg",          "a null object, or an object without the interface") \
    /* Why a report was not placed in a letter (src/writer) */ \
    XX(NO_DOCUMENT,      -40, "no_document",      "no document window is active") \
    XX(NOT_WRITER,       -41, "not_writer",       "the active document is not a text document") \
    XX(NO_FIELDS,        -42, "no_fields",        "the letter has none of the report's fields") \
    XX(READ_ONLY,        -43, "read_only",        "the letter is opened read-only") \
    XX(PROTECTED,        -44, "protected",        "a field lies in a protected section") \
    XX(TOO_LONG,         -45, "too_long",         "a paragraph of the report is too long") \
    XX(PATIENT_MISMATCH, -46, "patient_mismatch", "the letter is for another patient") \
    XX(EDIT_FAILED,      -47, "edit_failed",      "LibreOffice refused an edit; the letter is unchanged") \
    XX(EDITED,           -48, "edited",           "the doctor changed a field an earlier report filled") \
    XX(SAVED,            -49, "saved",            "the letter was saved since the earlier report") \
    XX(NO_TEMPLATE,      -50, "no_template",      "the letter has no template and no file to start again from") \
    XX(PRINTED,          -51, "printed",          "the letter was printed since the earlier report") \
    /* Why the link to the report service failed (src/core: rl_error_kind) */ \
    XX(UNREACHABLE,      -60, "unreachable",      "no connection: the server is down, or the address is wrong") \
    XX(TLS,              -61, "tls",              "the server's certificate or the TLS handshake was refused") \
    XX(NO_ANSWER,        -62, "no_answer",        "no answer within the connect timeout") \
    XX(LINK_DEAD,        -63, "link_dead",        "no pong within the pong timeout") \
    XX(CLOSED,           -64, "closed",           "the service closed the connection") \
    XX(KEY_REFUSED,      -65, "key_refused",      "the service refused the doctor's key (close 1008)") \
    /* Why a report's Word document was not downloaded (src/core: rl_docx_error); \
     * also RL_ERR_TLS, RL_ERR_UNREACHABLE */ \
    XX(EXPIRED,          -80, "expired",          "the document's signed link has expired") \
    XX(FORBIDDEN,        -81, "forbidden",        "the server refused the document (401, 403)") \
    XX(NOT_FOUND,        -82, "not_found",        "the document no longer exists (404, 410)") \
    XX(HTTP,             -83, "http",             "the server answered with another HTTP status") \
    XX(TIMEOUT,          -84, "timeout",          "the download did not finish in time") \
    XX(TOO_LARGE,        -85, "too_large",        "the document is larger than the limit") \
    XX(NOT_DOCX,         -86, "not_docx",         "what was sent is not a Word document") \
    XX(BAD_URL,          -87, "bad_url",          "not an http:// or https:// address ReportLink accepts") \
    XX(CANCELLED,        -88, "cancelled",        "the client stopped, or too many downloads at once") \
    /* Why the doctor's key is not in the system's secret store (src/component/secret.h) */ \
    XX(NO_KEYRING,       -100, "no_keyring",      "no secret store: no Secret Service on the desktop, or no libsecret") \
    XX(KEYRING_LOCKED,   -101, "keyring_locked",  "the keyring is locked and was not unlocked") \
    XX(KEYRING_TIMEOUT,  -102, "keyring_timeout", "the keyring did not answer in time") \
    XX(KEYRING_FAILED,   -103, "keyring_failed",  "the keyring refused the request")

enum {
    RL_OK = 0,
#define RL__ERR_ENUM(code, value, name, message) RL_ERR_##code = value,
    RL_ERRNO_MAP(RL__ERR_ENUM)
#undef RL__ERR_ENUM
};

/* The stable name of code ("nomem", "edited"...; "ok" for 0; "unknown" for a
 * value not in the table). A constant string. */
const char *rl_err_name(int code);

/* The English message of code ("ok" for 0; "unknown error" otherwise). A
 * constant string. */
const char *rl_strerror(int code);

#endif
