/* client_connect.c - opening a link: the connect info for the target
 * (address, Host header, path, TLS), the link's generation, and what a new
 * link starts from; the TLS trust (the system store plus the optional CA
 * file) and the words for a certificate OpenSSL refused; why an attempt
 * failed, for the state's detail.
 *
 * Certificate and host name are always verified: no option, flag or build
 * switch turns that off (src/core/README.md, "TLS").
 *
 * Thread: the service thread only (from the lws callback and the command
 * drain). Ownership: the wsi belongs to libwebsockets; c->wsi and c->gen name
 * the current link until it ends (client_internal.h, "Links"). */
#include "client_internal.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ----------------------------------------------------------------- links */

void rl__open_link(rl_client *c)
{
    struct lws_client_connect_info ci;
    char host_hdr[RL__MAX_HOST + 16];
    int defport = c->target.tls ? 443 : 80;

    if (!c->target_ok) {
        rl__feed(c, RL__IN_CONNECT_ERROR, 0, 0, c->target_err);
        return;
    }
    if (strchr(c->target.host, ':'))
        snprintf(host_hdr, sizeof host_hdr, c->target.port == defport ? "[%s]" : "[%s]:%d",
                 c->target.host, c->target.port);
    else
        snprintf(host_hdr, sizeof host_hdr, c->target.port == defport ? "%s" : "%s:%d",
                 c->target.host, c->target.port);

    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.address = c->target.host;
    ci.port = c->target.port;
    ci.path = c->target.path;
    ci.host = host_hdr;
    ci.origin = host_hdr;
    ci.protocol = NULL;                 /* the service names no subprotocol */
    ci.local_protocol_name = "reportlink";
    /* Certificate and host name are always verified: there is deliberately no
     * flag here that could turn that off. */
    ci.ssl_connection = c->target.tls ? LCCSCF_USE_SSL : 0;
    if (c->target.tls)
        rl__tls_ensure_trust(c, NULL);
    c->gen = ++c->next_gen;
    ci.opaque_user_data = (void *)c->gen;
    c->peer_close_code = 0;
    c->peer_close_reason[0] = 0;
    c->refuse_code = c->refuse_discarding = c->refuse_closing = 0;
    c->refuse_text = NULL;
    c->link_error[0] = 0;
    rl__drop_rx(c);

    uintptr_t gen = c->gen;
    struct lws *w = lws_client_connect_via_info(&ci);
    /* The attempt may already have failed inside the call (and been fed). */
    if (c->gen != gen)
        return;
    if (!w) {
        c->gen = 0;
        rl__feed(c, RL__IN_CONNECT_ERROR, 0, 0, "could not start a connection");
        return;
    }
    c->wsi = w;
}

/* ------------------------------------------------------------------- TLS */

/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS. The context is made
 * without TLS (client.c) and rl__tls_ensure_trust hands lws an SSL_CTX of
 * our own, for which lws does not call this; kept for an lws that would. */
void rl__tls_load_trust(rl_client *c, void *ssl_ctx)
{
    (void)c;
    (void)ssl_ctx;
}

/* TLS is set up at the first TLS connection, not with the context: OpenSSL's
 * initialisation, an SSL_CTX and the system store's ~140 certificates cost
 * time and about 4 MiB of the office's memory (make bench, row 5) - for
 * nothing when the endpoint is ws:// and the reports' links http://. Here,
 * on the service thread, before the first wss:// link (url NULL) or https://
 * download: a client SSL_CTX with what lws would set on its own (no
 * compression, moving write buffers, buffers released when idle), the
 * system trust store (on Windows its certificate store, trust_win.c) plus
 * the administrator's CA file, handed to the context's vhost. lws sets the
 * peer verification and the host name check on each connection (SSL_VERIFY_PEER,
 * X509_VERIFY_PARAM_set1_host), never relaxed here. The client owns the
 * SSL_CTX (rl_client_destroy frees it after the context). If it cannot be
 * made, the TLS connection fails with lws' words; verification never goes
 * without the trust: every TLS connection is opened after this call. */
void rl__tls_ensure_trust(rl_client *c, const char *url)
{
    struct lws_context_creation_info info;
    SSL_CTX *ctx;

    if (c->trust_loaded || (url && strncasecmp(url, "https:", 6) != 0))
        return;
    c->trust_loaded = 1;
    if (!(ctx = SSL_CTX_new(TLS_client_method()))) {
        lwsl_err("reportlink: cannot make a TLS context\n");
        return;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_verify_paths(ctx);
    rl__tls_add_system_roots(ctx);
    if (c->ca_file && !SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL))
        lwsl_err("reportlink: cannot load the CA file %s\n", c->ca_file);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;   /* else lws ignores the call */
    info.provided_client_ssl_ctx = ctx;
    struct lws_vhost *vh = lws_get_vhost_by_name(c->ctx, "default");
    if (!vh || lws_init_vhost_client_ssl(&info, vh) != 0) {
        lwsl_err("reportlink: cannot give the TLS context to libwebsockets\n");
        SSL_CTX_free(ctx);
        return;
    }
    c->tls_ctx = ctx;
}

/* Words for the certificate problems a clinic's IT person will meet. */
static const char *cert_error_text(int err)
{
    switch (err) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
        return "the server's certificate is for another host name";
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "the server's certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "the server's certificate is not valid yet (check the computer's clock)";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return "the server's certificate is self-signed and not trusted";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "the server's certificate was not issued by a trusted authority";
    case X509_V_ERR_CERT_REVOKED:
        return "the server's certificate has been revoked";
    }
    return X509_verify_cert_error_string(err);
}

/* LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: OpenSSL has
 * decided (preverify_ok); we only keep its reason in words and never
 * overrule it. */
void rl__tls_verify_result(rl_client *c, int preverify_ok, void *store_ctx)
{
    if (!preverify_ok && store_ctx) {
        int err = X509_STORE_CTX_get_error((X509_STORE_CTX *)store_ctx);
        snprintf(c->link_error, sizeof c->link_error, "%s (TLS: %s)", cert_error_text(err),
                 X509_verify_cert_error_string(err));
    }
}

/* -------------------------------------------------------------- failures */

/* LWS_CALLBACK_CLIENT_CONNECTION_ERROR of the current link: the words for
 * why it failed (the verification's own reason when it refused the
 * certificate), fed to the state machine. in: libwebsockets' text, or NULL. */
void rl__connect_error(rl_client *c, const char *in)
{
    char text[RL_MAX_DETAIL];
    char why[128];
    int tls = 0;
    rl__clean_text(in, in ? strlen(in) : 0, why, sizeof why);
    if (c->link_error[0] || (c->target.tls && strstr(why, "SSL")))
        tls = RL_ERROR_TLS;
    if (c->link_error[0])
        snprintf(text, sizeof text, "cannot connect to %s: %s", c->target.host,
                 c->link_error);
    else if (c->target.tls && strstr(why, "SSL"))
        snprintf(text, sizeof text, "cannot connect to %s: the TLS handshake failed; "
                 "does the server speak TLS on port %d? (%s)", c->target.host,
                 c->target.port, why);
    else
        snprintf(text, sizeof text, "cannot connect to %s: %s", c->target.host,
                 why[0] ? why : "unknown error");
    rl__feed(c, RL__IN_CONNECT_ERROR, tls, 0, text);
}
