/* client_receive.c - what arrives on the WebSocket: a message accumulated
 * frame by frame in c->rx (an rl_buf, RL_MAX_MESSAGE_BYTES at most), its
 * UTF-8 checked as it comes, then handed to rl_validate_message and to the
 * owner; the refusal of a message (1009, 1007) under the contract with
 * libwebsockets written above refuse_link; the server's close frame.
 *
 * Thread: the service thread only, called from the lws callback
 * (client_service.c). Ownership: c->rx and the refusal's state belong to the
 * current link and are reset with it (rl__drop_rx, rl__open_link); a report
 * or a server error's message is handed to the owner through rl__emit, which
 * passes on its ownership. */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------- the rx buffer */

void rl__drop_rx(rl_client *c)
{
    c->rx_binary = 0;
    c->rx_binary_len = 0;
    if (rl_buf_capacity(&c->rx) > RL__RX_KEEP_BYTES)
        rl_buf_free(&c->rx);
    else
        rl_buf_reset(&c->rx);
}

/* ------------------------------------------------------------- receiving */

/* Real monotonic microseconds, for measurements (timers use c->clock). */
static int64_t monotonic_us(void)
{
    return rl_os_monotonic_us();
}

static void handle_message(rl_client *c, const char *buf, size_t len)
{
    int64_t arrived_us = monotonic_us();
    if (len == 4 && memcmp(buf, "pong", 4) == 0) {
        if (c->ping_sent_us) {
            c->pong_rtt_us = arrived_us - c->ping_sent_us;
            c->ping_sent_us = 0;
        }
        rl__feed(c, RL__IN_PONG, 0, 0, NULL);
        return;
    }
    rl_event_kind kind = RL_EVENT_REJECTED;
    rl_report *report = NULL;
    int code = 0;
    char *message = NULL;
    char reason[RL_MAX_DETAIL];

    if (rl_validate_message(buf, len, &kind, &report, &code, &message, reason,
                            sizeof reason) != RL_OK) {
        rl__emit_rejected(c, reason);
        return;
    }
    rl_event ev = {0};
    if (kind == RL_EVENT_REPORT) {
        /* The signed DOCX expires: its download starts now, after the report
         * is handed over (so the owner always hears of the report first). */
        char *docx_url = report->url && !c->no_docx ? strdup(report->url) : NULL;
        report->received_us = arrived_us;
        report->docx_fetch = docx_url ? atomic_fetch_add(&c->next_fetch_id, 1) + 1 : 0;
        uint64_t fetch = report->docx_fetch;
        c->reports++;
        rl__feed(c, RL__IN_REPORT, 0, 0, NULL);
        rl__publish_status(c);
        ev.kind = RL_EVENT_REPORT;
        ev.report = report;
        rl__emit(c, &ev);
        if (docx_url) {
            rl__tls_ensure_trust(c, docx_url);
            rl__fetch_start(&c->fetcher, fetch, docx_url);
        }
        free(docx_url);
    } else {
        ev.kind = RL_EVENT_SERVER_ERROR;
        ev.code = code;
        ev.message = message;
        c->fsm.last_error_at = rl__now_ms(c);
        snprintf(c->fsm.last_error, sizeof c->fsm.last_error, "the service reported "
                 "error %d", code);
        rl__publish_status(c);
        rl__emit(c, &ev);
        free(message);
    }
}

/* The contract with libwebsockets for refusing a message (src/core/README.md,
 * "Refusing a message"): CLIENT_RECEIVE never returns non-zero. libwebsockets
 * 4.1.6 does not reset its receive buffer's index when the callback asks to
 * close in the middle of a frame, and goes on parsing the rest of that frame
 * past the end of the buffer (a heap overflow: one ordinary 17 MiB frame took
 * the office down). So a refusal records the close code, reads the rest of the
 * frame and drops it (up to RL__DISCARD_MAX_BYTES; a frame that announces more
 * is cut at once), and only then asks for a WRITEABLE callback, which writes
 * the close frame (on_writeable, client_service.c). Closing while the peer's
 * bytes are still unread would reset the TCP connection, and the peer would
 * never read our close code. */
#define RL__DISCARD_MAX_BYTES (64u << 20)

static void close_refused(rl_client *c, struct lws *wsi)
{
    c->refuse_discarding = 0;
    c->refuse_closing = 1;
    lws_callback_on_writable(wsi);
}

static void refuse_link(rl_client *c, struct lws *wsi, int code, const char *text,
                        const char *reason)
{
    if (c->refuse_code)
        return;
    rl__emit_rejected(c, reason);
    rl__drop_rx(c);
    c->refuse_code = code;
    c->refuse_text = text;
    size_t left = lws_remaining_packet_payload(wsi);
    if (left && left <= RL__DISCARD_MAX_BYTES)
        c->refuse_discarding = 1;
    else
        close_refused(c, wsi);
}

int rl__on_receive(rl_client *c, struct lws *wsi, const unsigned char *in, size_t len)
{
    if (c->refuse_code) {
        /* Refused: the rest of the frame is dropped, then the close goes. */
        if (c->refuse_discarding && !lws_remaining_packet_payload(wsi))
            close_refused(c, wsi);
        return 0;
    }
    if (lws_is_first_fragment(wsi)) {
        rl_buf_reset(&c->rx);
        c->rx_binary_len = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
        memset(&c->rx_utf8, 0, sizeof c->rx_utf8);
    }
    int last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (!c->rx_binary) {
        /* RFC 6455 8.1: a text message that is not UTF-8 fails the link
         * with 1007, found at its first impossible byte, whatever the cuts. */
        if (rl__utf8_feed(&c->rx_utf8, in, len) != RL_OK ||
            (last && rl__utf8_end(&c->rx_utf8) != RL_OK)) {
            refuse_link(c, wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "invalid UTF-8",
                        "a text message that is not valid UTF-8: connection closed with 1007");
            return 0;
        }
        /* What this frame still announces counts too, so a 64 MiB frame is
         * refused at its first bytes, and never more than the limit is held:
         * room for all of it is reserved before any of it is kept. */
        size_t announced = lws_remaining_packet_payload(wsi);
        rl_buf_status r = rl_buf_reserve(&c->rx, announced > SIZE_MAX - len ? SIZE_MAX
                                                                            : len + announced);
        if (r == RL_ERR_TOO_BIG) {
            char reason[128];
            snprintf(reason, sizeof reason, "message larger than the %u-byte limit: "
                     "connection closed with 1009", RL_MAX_MESSAGE_BYTES);
            refuse_link(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big", reason);
            return 0;
        }
        if (r != RL_OK) {
            rl__emit_rejected(c, "out of memory while receiving a message");
            rl_buf_reset(&c->rx);
            c->rx_binary = 1;   /* skip the rest of it */
            return 0;
        }
        rl_buf_add(&c->rx, in, len);    /* cannot fail: reserved */
    } else {
        c->rx_binary_len += len;
    }

    if (last) {
        if (c->rx_binary) {
            char reason[128];
            snprintf(reason, sizeof reason, "binary message of %zu bytes: only text "
                     "messages are accepted", c->rx_binary_len);
            rl__emit_rejected(c, reason);
        } else {
            handle_message(c, rl_buf_ptr(&c->rx), rl_buf_len(&c->rx));
        }
        rl__drop_rx(c);
    }
    return 0;
}

/* ------------------------------------------------------ the server's close */

const char *rl__clean_text(const void *in, size_t len, char *out, size_t cap)
{
    size_t j = 0;
    const unsigned char *s = in;
    for (size_t i = 0; s && i < len && j + 1 < cap; i++)
        out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : ' ';
    out[j] = 0;
    return out;
}

/* The server's close frame. libwebsockets 4.1.6 already turns codes below 1000
 * and the reserved ones into 1002 before we see them, and echoes the payload;
 * it echoes a 1-byte payload, a code from 5000 up and a reason that is not
 * UTF-8 as they are. Those fail the link here with the RFC's code: returning
 * non-zero from this callback makes libwebsockets send the close reason set
 * here instead of the echo (a control frame: at most 125 bytes in its buffer,
 * so the index left behind stays in bounds). */
int rl__on_peer_close(rl_client *c, struct lws *wsi, const unsigned char *p, size_t len)
{
    rl__utf8 u = {0};
    int bad = 0;
    const char *text = NULL;

    c->peer_close_code = len >= 2 ? (p[0] << 8) | p[1] : 1005;
    if (len >= 2)
        rl__clean_text(p + 2, len - 2, c->peer_close_reason, sizeof c->peer_close_reason);
    if (len == 1 || c->peer_close_code >= 5000) {
        bad = LWS_CLOSE_STATUS_PROTOCOL_ERR;
        text = "invalid close frame";
    } else if (len > 2 && (rl__utf8_feed(&u, p + 2, len - 2) != RL_OK ||
                           rl__utf8_end(&u) != RL_OK)) {
        bad = LWS_CLOSE_STATUS_INVALID_PAYLOAD;
        text = "close reason not UTF-8";
    }
    if (!bad)
        return 0;
    c->refuse_code = bad;
    c->refuse_text = text;
    lws_close_reason(wsi, (enum lws_close_status)bad, (unsigned char *)text, strlen(text));
    return -1;
}

