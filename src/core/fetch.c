/* fetch.c - a report's signed DOCX, downloaded on the client's service
 * thread, in the client's own lws context (so with the very TLS settings of
 * the WebSocket: the system trust store plus the CA file, always verified).
 *
 * Each download is a job in a fixed table of RL_MAX_FETCHES slots. The job's
 * fetch id is the wsi's opaque user data; a callback whose id matches no job
 * belongs to a download already ended (timed out, cancelled) and is ignored.
 * A job ends exactly once, in finish(), which emits the outcome. No redirect
 * is followed (LCCSCF_HTTP_NO_FOLLOW_REDIRECT): a signed link that sends us
 * elsewhere is an error. */
#include "core_internal.h"

#include "buf.h"

#include <libwebsockets.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERROR_BODY_KEEP 256      /* bytes of a non-200 body kept to read its reason */

struct rl__fetch_job {
    rl__fetcher *f;
    uint64_t id;                 /* 0: free slot */
    struct lws *wsi;
    lws_sorted_usec_list_t sul;  /* the time limit */
    int status;
    rl_buf body;                 /* a 200's body, RL_MAX_DOCX_BYTES at most */
    char err_body[ERROR_BODY_KEEP];
    size_t err_len;
    char tls_error[160];
    char host[RL__MAX_HOST];
};

int rl__fetch_init(rl__fetcher *f, struct lws_context *ctx, void (*emit)(void *, rl_docx *),
                   void *user)
{
    memset(f, 0, sizeof *f);
    f->jobs = calloc(RL_MAX_FETCHES, sizeof *f->jobs);
    if (!f->jobs)
        return RL_ERR_NOMEM;
    f->ctx = ctx;
    f->emit = emit;
    f->user = user;
    return RL_OK;
}

void rl__fetch_free(rl__fetcher *f)
{
    if (!f->jobs)
        return;
    for (int i = 0; i < RL_MAX_FETCHES; i++)
        rl_buf_free(&f->jobs[i].body);
    free(f->jobs);
    f->jobs = NULL;
}

/* Emits an outcome that has no job (bad URL, no slot). */
static void emit_error(rl__fetcher *f, uint64_t id, rl_docx_error e, const char *detail)
{
    rl_docx *d = calloc(1, sizeof *d);
    if (!d)
        return;          /* out of memory: nothing can be said */
    d->fetch_id = id;
    d->error = e;
    snprintf(d->detail, sizeof d->detail, "%s", detail);
    f->emit(f->user, d);
}

/* Ends job j with error e (RL_DOCX_OK: check and hand over the body). */
static void finish(rl__fetch_job *j, rl_docx_error e, const char *detail)
{
    rl__fetcher *f = j->f;
    rl_docx *d = calloc(1, sizeof *d);
    char why[RL_MAX_DETAIL];

    lws_sul_cancel(&j->sul);
    if (j->wsi) {
        lws_set_opaque_user_data(j->wsi, NULL);
        lws_set_timeout(j->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    if (e == RL_DOCX_OK && rl__docx_check((const unsigned char *)rl_buf_ptr(&j->body),
                                          rl_buf_len(&j->body), why, sizeof why) != RL_OK) {
        e = RL_DOCX_NOT_DOCX;
        detail = why;
    }
    if (d) {
        d->fetch_id = j->id;
        d->error = e;
        d->http_status = j->status;
        snprintf(d->detail, sizeof d->detail, "%s", detail ? detail : "");
        if (e == RL_DOCX_OK)        /* handed over; a checked DOCX is never empty */
            d->bytes = (unsigned char *)rl_buf_take(&j->body, &d->len);
    }
    rl_buf_free(&j->body);
    memset(j, 0, sizeof *j);
    j->f = f;
    if (d) {
        lwsl_user("reportlink: DOCX download %llu: %s%s%s\n", (unsigned long long)d->fetch_id,
                  rl_docx_error_name(d->error), d->detail[0] ? ": " : "", d->detail);
        f->emit(f->user, d);
    }
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
    rl__fetch_job *j = lws_container_of(sul, rl__fetch_job, sul);
    char detail[128];
    snprintf(detail, sizeof detail, "no complete answer from %s within %d s", j->host,
             RL_DOCX_TIMEOUT_MS / 1000);
    finish(j, RL_DOCX_TIMEOUT, detail);
}

static rl__fetch_job *job_of(rl__fetcher *f, struct lws *wsi)
{
    uint64_t id = (uint64_t)(uintptr_t)lws_get_opaque_user_data(wsi);
    if (!id || !f->jobs)
        return NULL;
    for (int i = 0; i < RL_MAX_FETCHES; i++)
        if (f->jobs[i].id == id)
            return &f->jobs[i];
    return NULL;
}

void rl__fetch_start(rl__fetcher *f, uint64_t id, const char *url)
{
    struct lws_client_connect_info ci;
    rl__url u;
    char err[RL_MAX_DETAIL], host_hdr[RL__MAX_HOST + 16];
    rl__fetch_job *j = NULL;

    if (rl__http_url_parse(url, &u, err, sizeof err) != RL_OK) {
        emit_error(f, id, RL_DOCX_BAD_URL, err);
        return;
    }
    for (int i = 0; f->jobs && i < RL_MAX_FETCHES && !j; i++)
        if (!f->jobs[i].id)
            j = &f->jobs[i];
    if (!j) {
        snprintf(err, sizeof err, "more than %d documents are being downloaded at once",
                 RL_MAX_FETCHES);
        emit_error(f, id, RL_DOCX_CANCELLED, err);
        return;
    }
    memset(j, 0, sizeof *j);
    j->f = f;
    j->id = id;
    rl_buf_init(&j->body, RL_MAX_DOCX_BYTES);
    snprintf(j->host, sizeof j->host, "%s", u.host);
    int defport = u.tls ? 443 : 80;
    if (strchr(u.host, ':'))
        snprintf(host_hdr, sizeof host_hdr, u.port == defport ? "[%s]" : "[%s]:%d", u.host, u.port);
    else
        snprintf(host_hdr, sizeof host_hdr, u.port == defport ? "%s" : "%s:%d", u.host, u.port);

    memset(&ci, 0, sizeof ci);
    ci.context = f->ctx;
    ci.address = u.host;
    ci.port = u.port;
    ci.path = u.path;
    ci.host = host_hdr;
    ci.origin = host_hdr;
    ci.method = "GET";
    ci.alpn = "http/1.1";
    ci.local_protocol_name = RL__FETCH_PROTOCOL;
    /* Verification is never relaxed; redirects are never followed. */
    ci.ssl_connection = (u.tls ? LCCSCF_USE_SSL : 0) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    ci.opaque_user_data = (void *)(uintptr_t)id;
    lws_sul_schedule(f->ctx, 0, &j->sul, on_deadline, (lws_usec_t)RL_DOCX_TIMEOUT_MS * LWS_US_PER_MS);

    struct lws *w = lws_client_connect_via_info(&ci);
    /* The attempt may have failed inside the call, and the job ended there. */
    if (j->id != id)
        return;
    if (!w) {
        finish(j, RL_DOCX_UNREACHABLE, "could not start a connection");
        return;
    }
    j->wsi = w;
}

void rl__fetch_cancel_all(rl__fetcher *f)
{
    for (int i = 0; f->jobs && i < RL_MAX_FETCHES; i++)
        if (f->jobs[i].id)
            finish(&f->jobs[i], RL_DOCX_CANCELLED, "the connection to the report service was "
                   "stopped before the document arrived");
}

/* Keeps the body, within RL_MAX_DOCX_BYTES; a non-200 body only in part. */
static int take_body(rl__fetch_job *j, const void *in, size_t len)
{
    if (j->status != 200) {
        size_t room = sizeof j->err_body - 1 - j->err_len;
        size_t n = len < room ? len : room;
        memcpy(j->err_body + j->err_len, in, n);
        j->err_len += n;
        return 0;
    }
    rl_buf_status r = rl_buf_add(&j->body, in, len);
    if (r == RL_ERR_TOO_BIG) {
        char detail[96];
        snprintf(detail, sizeof detail, "the document is larger than %u MiB",
                 RL_MAX_DOCX_BYTES >> 20);
        finish(j, RL_DOCX_TOO_LARGE, detail);
        return -1;
    }
    if (r != RL_OK) {
        finish(j, RL_DOCX_CANCELLED, "out of memory while receiving the document");
        return -1;
    }
    return 0;
}

/* The answer is complete: judge it. */
static void complete(rl__fetch_job *j)
{
    char detail[RL_MAX_DETAIL];
    if (j->status == 200) {
        finish(j, RL_DOCX_OK, "");
        return;
    }
    rl_docx_error e = rl__docx_status_error(j->status, j->err_body, j->err_len);
    size_t n = strcspn(j->err_body, "\r\n");
    for (size_t i = 0; i < n; i++)      /* printable ASCII only, for the log */
        if ((unsigned char)j->err_body[i] < 0x20 || (unsigned char)j->err_body[i] > 0x7e)
            j->err_body[i] = ' ';
    snprintf(detail, sizeof detail, "%s answered HTTP %d%s%.*s%s", j->host, j->status,
             n ? " (" : "", (int)(n > 80 ? 80 : n), j->err_body, n ? ")" : "");
    if (j->status >= 300 && j->status < 400)
        snprintf(detail, sizeof detail, "%s answered HTTP %d, a redirect; redirects are not "
                 "followed for the report's document", j->host, j->status);
    finish(j, e, detail);
}

int rl__fetch_callback(rl__fetcher *f, struct lws *wsi, int reason, void *user, void *in,
                       size_t len)
{
    rl__fetch_job *j = wsi ? job_of(f, wsi) : NULL;
    char detail[RL_MAX_DETAIL];

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        if (j && !len && user) {
            int err = X509_STORE_CTX_get_error((X509_STORE_CTX *)user);
            snprintf(j->tls_error, sizeof j->tls_error, "%s", X509_verify_cert_error_string(err));
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!j)
            return 0;
        j->wsi = NULL;
        {
            const char *why = in ? (const char *)in : "unknown error";
            int tls = j->tls_error[0] || strstr(why, "SSL") || strstr(why, "ssl") ||
                      strstr(why, "TLS") || strstr(why, "tls") || strstr(why, "certificate");
            if (j->status > 0 && j->status != 200) {   /* e.g. a redirect refused */
                complete(j);
                return 0;
            }
            snprintf(detail, sizeof detail, "cannot reach %s: %s", j->host,
                     j->tls_error[0] ? j->tls_error : why);
            finish(j, tls ? RL_DOCX_TLS : RL_DOCX_UNREACHABLE, detail);
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (!j)
            return -1;
        j->status = (int)lws_http_client_http_response(wsi);
        if (j->status == 200) {
            char cl[32];
            if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
                strtoull(cl, NULL, 10) > RL_MAX_DOCX_BYTES) {
                snprintf(detail, sizeof detail, "the document is %s bytes, more than the %u MiB "
                         "limit", cl, RL_MAX_DOCX_BYTES >> 20);
                finish(j, RL_DOCX_TOO_LARGE, detail);
                return -1;
            }
        }
        return 0;

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        if (!j)
            return -1;
        char buffer[4096 + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = sizeof buffer - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (!j)
            return -1;
        return take_body(j, in, len);

    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (j) {
            j->wsi = NULL;      /* lws closes it; finish() must not touch it */
            lws_set_opaque_user_data(wsi, NULL);
            complete(j);
        }
        return -1;              /* one document per connection: close it */

    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (j) {
            j->wsi = NULL;
            if (j->status && j->status != 200) {
                complete(j);
            } else {
                snprintf(detail, sizeof detail, "the connection to %s ended before the whole "
                         "document arrived", j->host);
                finish(j, RL_DOCX_UNREACHABLE, detail);
            }
        }
        return 0;

    default:
        break;
    }
    return 0;
}
