/* test_utf8.c - a text message's UTF-8 is checked as it arrives, in pieces
 * cut anywhere (frames, and the read buffer inside a frame). RFC 6455 8.1: a
 * text message that is not UTF-8 fails the link with 1007, so the verdict
 * must not depend on where the cuts fall, and must come at the first byte
 * that makes the text impossible. Each row is fed whole, then cut at every
 * point in two, then byte by byte: the three verdicts must agree. */
#include "core_internal.h"
#include "testlib.h"

#include <string.h>

typedef struct row {
    const char *name;
    const char *text;
    int valid;
} row;

static const row table[] = {
    { "ASCII", "plain text", 1 },
    { "French accents (2 bytes)", "C\xc3\xa9phal\xc3\xa9" "es \xc3\xa0 revoir", 1 },
    { "the euro sign (3 bytes)", "\xe2\x82\xac 12", 1 },
    { "a musical G clef, U+1D11E (4 bytes)", "pile \xf0\x9d\x84\x9e fin", 1 },
    { "the last code point, U+10FFFF", "\xf4\x8f\xbf\xbf", 1 },
    { "U+FFFF (a noncharacter, still UTF-8)", "\xef\xbf\xbf", 1 },
    { "Latin-1 e-acute", "C\xe9phal\xe9" "es", 0 },
    { "a lone continuation byte", "a\x80" "b", 0 },
    { "an overlong 2-byte form of '/'", "\xc0\xaf", 0 },
    { "an overlong 3-byte form", "\xe0\x80\xaf", 0 },
    { "an overlong 4-byte form", "\xf0\x80\x80\xaf", 0 },
    { "a UTF-16 surrogate, U+D800", "\xed\xa0\x80", 0 },
    { "above U+10FFFF", "\xf4\x90\x80\x80", 0 },
    { "the byte 0xFF", "ok\xff", 0 },
    { "a 3-byte sequence cut by ASCII", "\xe2\x82(", 0 },
    { "a sequence left open at the end", "fin \xe2\x82", 0 },
    { "a 4-byte lead with a 3-byte tail", "\xf0\x9d\x84", 0 },
};

/* Feeds text in pieces of the given lengths (0-terminated list), then ends. */
static int verdict_pieces(const char *text, const size_t *cuts)
{
    rl__utf8 u = {0};
    size_t len = strlen(text), at = 0;
    for (const size_t *c = cuts; *c && at < len; c++) {
        size_t n = *c > len - at ? len - at : *c;
        if (rl__utf8_feed(&u, (const unsigned char *)text + at, n) != RL_OK)
            return 0;
        at += n;
    }
    if (at < len && rl__utf8_feed(&u, (const unsigned char *)text + at, len - at) != RL_OK)
        return 0;
    return rl__utf8_end(&u) == RL_OK;
}

static int all_cuts_agree(const row *r)
{
    size_t len = strlen(r->text);
    size_t whole[] = { len, 0 };
    if (verdict_pieces(r->text, whole) != r->valid)
        return 0;
    for (size_t k = 1; k < len; k++) {
        size_t two[] = { k, len - k, 0 };
        if (verdict_pieces(r->text, two) != r->valid) {
            printf("  cut at byte %zu disagrees\n", k);
            return 0;
        }
    }
    size_t ones[64];
    for (size_t i = 0; i < len && i < 63; i++)
        ones[i] = 1;
    ones[len < 63 ? len : 63] = 0;
    return verdict_pieces(r->text, ones) == r->valid;
}

int main(void)
{
    char name[160];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        snprintf(name, sizeof name, "%s: %s, whatever the cuts", table[i].name,
                 table[i].valid ? "valid" : "refused");
        test(name);
        test_cond(all_cuts_agree(&table[i]));
    }

    test("an impossible byte is refused when it arrives, before the message ends");
    rl__utf8 u = {0};
    int first = rl__utf8_feed(&u, (const unsigned char *)"\xed", 1);
    int second = rl__utf8_feed(&u, (const unsigned char *)"\xa0", 1);
    test_cond(first == RL_OK && second == RL_ERR_INVALID);

    test("a character cut by a piece is held, then completed by the next");
    memset(&u, 0, sizeof u);
    first = rl__utf8_feed(&u, (const unsigned char *)"a\xf0\x9d", 3);
    int open_mid = rl__utf8_end(&u);
    second = rl__utf8_feed(&u, (const unsigned char *)"\x84\x9e", 2);
    test_cond(first == RL_OK && open_mid == RL_ERR_INVALID && second == RL_OK &&
              rl__utf8_end(&u) == RL_OK);

    test("agrees with the whole-message scanner on every row");
    int agree = 1;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char reason[64];
        int whole = rl__scan_text(table[i].text, strlen(table[i].text), reason,
                                  sizeof reason) == RL_OK;
        agree &= whole == table[i].valid;
    }
    test_cond(agree);
    return test_summary();
}
