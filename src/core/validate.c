/* validate.c - every incoming text message is checked here before anything
 * else sees it. The rules (src/core/README.md) follow the service's document:
 * a JSON object with a string "type"; "report_ready" with string
 * representations and a json_report of strings; "error" with a string
 * message and an integer code. Reasons name the member and the problem but
 * never quote report content: they end up in logs and on screen. */
#include "core_internal.h"

#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL__MAX_MEMBERS 256   /* members of the top-level object */

static int reject(char *reason, size_t reasonlen, const char *fmt, ...)
{
    if (reason && reasonlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, reasonlen, fmt, ap);
        va_end(ap);
    }
    return RL_ERR_INVALID;
}

/* A member name or type value made safe to quote in a reason: printable
 * ASCII, at most 40 bytes. */
static const char *quote(const char *s, char *buf, size_t buflen)
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 4 < buflen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 40) {
            buf[j++] = '.'; buf[j++] = '.'; buf[j++] = '.';
            break;
        }
        buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[j] = 0;
    return buf;
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

/* Refuses objects with a repeated member name: which one would be meant is
 * a guess, and a guess is not acceptable in a medical letter. */
static int check_unique(const cJSON *obj, const char *where, char *reason, size_t reasonlen)
{
    size_t n = 0;
    for (const cJSON *a = obj->child; a; a = a->next, n++) {
        if (n >= RL__MAX_MEMBERS)
            return reject(reason, reasonlen, "%s has more than %d members", where,
                          RL__MAX_MEMBERS);
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0) {
                char q[64];
                return reject(reason, reasonlen, "%s has the member \"%s\" twice", where,
                              quote(a->string, q, sizeof q));
            }
    }
    return RL_OK;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void rl_report_free(rl_report *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->html_content);
    free(r->rtf_report);
    free(r->plaintext_report);
    for (size_t i = 0; i < r->n_fields; i++) {
        free(r->fields[i].key);
        free(r->fields[i].value);
    }
    free(r->fields);
    free(r->raw);
    free(r);
}

const char *rl_report_field(const rl_report *r, const char *key)
{
    for (size_t i = 0; r && i < r->n_fields; i++)
        if (strcmp(r->fields[i].key, key) == 0)
            return r->fields[i].value;
    return NULL;
}

/* A representation member: absent or null -> *out NULL; a string -> copied. */
static int take_string(const cJSON *msg, const char *name, char **out, int *present,
                       char *reason, size_t reasonlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return RL_OK;
    if (!cJSON_IsString(v))
        return reject(reason, reasonlen, "report_ready: \"%s\" is %s, expected a string",
                      name, json_type_name(v));
    *out = strdup(v->valuestring);
    if (!*out)
        return reject(reason, reasonlen, "out of memory");
    *present = 1;
    return RL_OK;
}

static int take_json_report(const cJSON *msg, rl_report *r, int *present,
                            char *reason, size_t reasonlen)
{
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(msg, "json_report");
    if (!jr || cJSON_IsNull(jr))
        return RL_OK;
    if (!cJSON_IsObject(jr))
        return reject(reason, reasonlen, "report_ready: \"json_report\" is %s, expected an object",
                      json_type_name(jr));
    int rc = check_unique(jr, "json_report", reason, reasonlen);
    if (rc)
        return rc;

    size_t n = 0;
    for (const cJSON *f = jr->child; f; f = f->next) {
        char q[64];
        if (!f->string[0])
            return reject(reason, reasonlen, "json_report has an empty member name");
        if (cJSON_IsNull(f))
            continue;             /* the service may send null for an empty section */
        if (!cJSON_IsString(f))
            return reject(reason, reasonlen, "json_report.\"%s\" is %s, expected a string",
                          quote(f->string, q, sizeof q), json_type_name(f));
        n++;
    }
    if (n > RL_MAX_REPORT_FIELDS)
        return reject(reason, reasonlen, "json_report has more than %d fields",
                      RL_MAX_REPORT_FIELDS);

    r->has_json_report = 1;
    *present = 1;
    if (n == 0)
        return RL_OK;
    r->fields = calloc(n, sizeof(*r->fields));
    if (!r->fields)
        return reject(reason, reasonlen, "out of memory");
    for (const cJSON *f = jr->child; f; f = f->next) {
        if (!cJSON_IsString(f))
            continue;
        rl_field *dst = &r->fields[r->n_fields];
        dst->key = strdup(f->string);
        dst->value = strdup(f->valuestring);
        if (!dst->key || !dst->value) {
            free(dst->key);
            free(dst->value);
            return reject(reason, reasonlen, "out of memory");
        }
        r->n_fields++;
    }
    return RL_OK;
}

static int validate_report(const cJSON *msg, const char *buf, size_t len,
                           rl_report **out, char *reason, size_t reasonlen)
{
    rl_report *r = calloc(1, sizeof(*r));
    int present = 0;
    int rc;
    if (!r)
        return reject(reason, reasonlen, "out of memory");

    if ((rc = take_string(msg, "url", &r->url, &present, reason, reasonlen)) ||
        (rc = take_string(msg, "html_content", &r->html_content, &present, reason, reasonlen)) ||
        (rc = take_string(msg, "rtf_report", &r->rtf_report, &present, reason, reasonlen)) ||
        (rc = take_string(msg, "plaintext_report", &r->plaintext_report, &present, reason,
                          reasonlen)) ||
        (rc = take_json_report(msg, r, &present, reason, reasonlen)))
        goto fail;
    if (!present) {
        rc = reject(reason, reasonlen,
                    "report_ready carries none of url, html_content, rtf_report, "
                    "plaintext_report, json_report");
        goto fail;
    }
    r->raw = malloc(len + 1);
    if (!r->raw) {
        rc = reject(reason, reasonlen, "out of memory");
        goto fail;
    }
    memcpy(r->raw, buf, len);
    r->raw[len] = 0;
    r->raw_len = len;
    *out = r;
    return RL_OK;

fail:
    rl_report_free(r);
    return rc;
}

static int validate_error(const cJSON *msg, int *code_out, char **message_out,
                          char *reason, size_t reasonlen)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "message");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "code");
    if (!m)
        return reject(reason, reasonlen, "error: \"message\" is missing");
    if (!cJSON_IsString(m))
        return reject(reason, reasonlen, "error: \"message\" is %s, expected a string",
                      json_type_name(m));
    if (!c)
        return reject(reason, reasonlen, "error: \"code\" is missing");
    if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble) ||
        c->valuedouble != floor(c->valuedouble) || c->valuedouble < -2147483648.0 ||
        c->valuedouble > 2147483647.0)
        return reject(reason, reasonlen, "error: \"code\" is %s, expected an integer",
                      cJSON_IsNumber(c) ? "not an integer" : json_type_name(c));
    *code_out = (int)c->valuedouble;
    *message_out = dup_or_null(m->valuestring);
    if (!*message_out)
        return reject(reason, reasonlen, "out of memory");
    return RL_OK;
}

int rl_validate_message(const char *buf, size_t len, rl_event_kind *kind_out,
                        rl_report **report_out, int *code_out, char **message_out,
                        char *reason, size_t reasonlen)
{
    cJSON *msg = NULL;
    const char *end = NULL;
    int rc;

    *report_out = NULL;
    *message_out = NULL;
    *code_out = 0;
    if (len > RL_MAX_MESSAGE_BYTES)
        return reject(reason, reasonlen, "message of %zu bytes exceeds the %u-byte limit", len,
                      RL_MAX_MESSAGE_BYTES);
    if (len == 0)
        return reject(reason, reasonlen, "empty message");
    if ((rc = rl__scan_text(buf, len, reason, reasonlen)))
        return rc;

    msg = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!msg) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = (at && at >= buf && at <= buf + len) ? (size_t)(at - buf) : 0;
        return reject(reason, reasonlen, "not valid JSON (error near byte %zu)", off);
    }
    while (end && end < buf + len && (*end == ' ' || *end == '\t' || *end == '\r' ||
                                      *end == '\n'))
        end++;
    if (end && end < buf + len) {
        rc = reject(reason, reasonlen, "text after the JSON value at byte %zu",
                    (size_t)(end - buf));
        goto done;
    }
    if (!cJSON_IsObject(msg)) {
        rc = reject(reason, reasonlen, "the message is %s, expected a JSON object",
                    json_type_name(msg));
        goto done;
    }
    if ((rc = check_unique(msg, "the message", reason, reasonlen)))
        goto done;

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    if (!type) {
        rc = reject(reason, reasonlen, "the message has no \"type\"");
        goto done;
    }
    if (!cJSON_IsString(type)) {
        rc = reject(reason, reasonlen, "\"type\" is %s, expected a string",
                    json_type_name(type));
        goto done;
    }
    if (strcmp(type->valuestring, "report_ready") == 0) {
        *kind_out = RL_EVENT_REPORT;
        rc = validate_report(msg, buf, len, report_out, reason, reasonlen);
    } else if (strcmp(type->valuestring, "error") == 0) {
        *kind_out = RL_EVENT_SERVER_ERROR;
        rc = validate_error(msg, code_out, message_out, reason, reasonlen);
    } else {
        char q[64];
        rc = reject(reason, reasonlen, "unknown message type \"%s\"",
                    quote(type->valuestring, q, sizeof q));
    }
done:
    cJSON_Delete(msg);
    return rc;
}
