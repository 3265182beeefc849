/* test_docx.c - the socket-free half of the DOCX download (src/core/docx.c):
 * what counts as a Word document, what an HTTP answer means, which URLs. */
#include "core_internal.h"
#include "testlib.h"

#include <stdint.h>
#include <string.h>

static size_t put16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = v >> 8; return 2; }
static size_t put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
    return 4;
}

/* A ZIP file of stored, empty entries with these names, as any ZIP writer
 * lays it out: local headers, central directory, end record (+ comment). */
static size_t make_zip(unsigned char *out, const char *const *names, int n, const char *comment)
{
    size_t p = 0, offsets[16];
    for (int i = 0; i < n; i++) {
        offsets[i] = p;
        memcpy(out + p, "PK\x03\x04", 4); p += 4;
        memset(out + p, 0, 22); p += 22;
        p += put16(out + p, (unsigned)strlen(names[i]));
        p += put16(out + p, 0);
        memcpy(out + p, names[i], strlen(names[i])); p += strlen(names[i]);
    }
    size_t cd = p;
    for (int i = 0; i < n; i++) {
        memcpy(out + p, "PK\x01\x02", 4); p += 4;
        memset(out + p, 0, 24); p += 24;
        p += put16(out + p, (unsigned)strlen(names[i]));
        p += put16(out + p, 0);
        p += put16(out + p, 0);
        memset(out + p, 0, 8); p += 8;
        p += put32(out + p, (uint32_t)offsets[i]);
        memcpy(out + p, names[i], strlen(names[i])); p += strlen(names[i]);
    }
    size_t cd_size = p - cd;
    memcpy(out + p, "PK\x05\x06", 4); p += 4;
    memset(out + p, 0, 4); p += 4;
    p += put16(out + p, (unsigned)n);
    p += put16(out + p, (unsigned)n);
    p += put32(out + p, (uint32_t)cd_size);
    p += put32(out + p, (uint32_t)cd);
    p += put16(out + p, (unsigned)strlen(comment));
    memcpy(out + p, comment, strlen(comment)); p += strlen(comment);
    return p;
}

int main(void)
{
    static unsigned char z[8192];
    char why[RL_MAX_DETAIL];
    const char *docx[] = { "[Content_Types].xml", "_rels/.rels", "word/document.xml" };
    const char *xlsx[] = { "[Content_Types].xml", "xl/workbook.xml" };
    const char *plain[] = { "word/document.xml", "readme.txt" };
    size_t n;

    n = make_zip(z, docx, 3, "");
    test("a ZIP with [Content_Types].xml and word/document.xml is a DOCX");
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_OK);

    n = make_zip(z, docx, 3, "made by a tool that writes a comment");
    test("a ZIP comment after the end record is allowed");
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_OK);

    n = make_zip(z, xlsx, 2, "");
    test("a spreadsheet (no word/document.xml) is not a DOCX, and the reason says so");
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_ERR_INVALID &&
              strstr(why, "word/document.xml"));

    n = make_zip(z, plain, 2, "");
    test("a ZIP without [Content_Types].xml is not a DOCX");
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_ERR_INVALID &&
              strstr(why, "[Content_Types].xml"));

    test("an HTML error page is not a DOCX: no ZIP magic");
    const char *html = "<html><body>Session expired</body></html>";
    test_cond(rl__docx_check((const unsigned char *)html, strlen(html), why, sizeof why) ==
              RL_ERR_INVALID && strstr(why, "not a ZIP"));

    n = make_zip(z, docx, 3, "");
    test("a DOCX cut short (no end record) is refused");
    test_cond(rl__docx_check(z, n - 30, why, sizeof why) == RL_ERR_INVALID);

    test("every truncation of a DOCX is refused without reading outside it");
    int all = 1;
    for (size_t cut = 0; cut < n; cut++)
        all &= rl__docx_check(z, cut, why, sizeof why) == RL_ERR_INVALID;
    test_cond(all);

    test("a central directory pointing outside the file is refused");
    n = make_zip(z, docx, 3, "");
    put32(z + n - 22 + 16, 0x7fffffff);
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_ERR_INVALID && strstr(why, "outside"));

    test("an entry count larger than the directory is refused");
    n = make_zip(z, docx, 3, "");
    put16(z + n - 22 + 10, 40);
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_ERR_INVALID && strstr(why, "damaged"));

    test("a name only in a local header, not in the directory, does not count");
    const char *two[] = { "[Content_Types].xml", "word/styles.xml" };
    n = make_zip(z, two, 2, "");
    memcpy(z + 30 + strlen(two[0]) + 30, "word/document.xml", 17);   /* fake a local name */
    test_cond(rl__docx_check(z, n, why, sizeof why) == RL_ERR_INVALID);

    test("NULL and empty input are refused");
    test_cond(rl__docx_check(NULL, 0, why, sizeof why) == RL_ERR_INVALID &&
              rl__docx_check(z, 0, why, sizeof why) == RL_ERR_INVALID);

    test("403 \"link expired\" (the service's answer) is an expired link");
    test_cond(rl__docx_status_error(403, "link expired\n", 13) == RL_DOCX_EXPIRED);
    test("403 \"bad signature\" is forbidden, not expired");
    test_cond(rl__docx_status_error(403, "bad signature\n", 14) == RL_DOCX_FORBIDDEN);
    test("403 with no body is forbidden");
    test_cond(rl__docx_status_error(403, NULL, 0) == RL_DOCX_FORBIDDEN);
    test("404 and 410 are not found");
    test_cond(rl__docx_status_error(404, "document not found", 18) == RL_DOCX_NOT_FOUND &&
              rl__docx_status_error(410, NULL, 0) == RL_DOCX_NOT_FOUND);
    test("a redirect or a 500 is an HTTP error");
    test_cond(rl__docx_status_error(302, NULL, 0) == RL_DOCX_HTTP &&
              rl__docx_status_error(500, NULL, 0) == RL_DOCX_HTTP);
    test("200 is no error");
    test_cond(rl__docx_status_error(200, NULL, 0) == RL_DOCX_OK);

    rl__url u;
    test("https:// URLs use TLS on 443 and keep path and query");
    test_cond(rl__http_url_parse("https://files.example.org/f/1.docx?expires=9&sig=ab", &u, why,
                                 sizeof why) == RL_OK && u.tls && u.port == 443 &&
              !strcmp(u.host, "files.example.org") && !strcmp(u.path, "/f/1.docx?expires=9&sig=ab"));
    test("http:// URLs with a port, as the devserver makes them");
    test_cond(rl__http_url_parse("http://127.0.0.1:8080/files/x.docx", &u, why, sizeof why) ==
              RL_OK && !u.tls && u.port == 8080 && u.loopback);
    test("file://, ftp:// and ws:// are refused");
    test_cond(rl__http_url_parse("file:///etc/passwd", &u, why, sizeof why) == RL_ERR_INVALID &&
              rl__http_url_parse("ftp://h/x.docx", &u, why, sizeof why) == RL_ERR_INVALID &&
              rl__http_url_parse("ws://h/x.docx", &u, why, sizeof why) == RL_ERR_INVALID);
    test("a user name and password in the URL are refused");
    test_cond(rl__http_url_parse("https://u:p@h/x.docx", &u, why, sizeof why) == RL_ERR_INVALID);

    test("every error has a stable name for the translations");
    int named = 1;
    static const rl_docx_error outcomes[] = { RL_DOCX_OK, RL_DOCX_EXPIRED, RL_DOCX_FORBIDDEN, RL_DOCX_NOT_FOUND,
                                         RL_DOCX_HTTP, RL_DOCX_TIMEOUT, RL_DOCX_TOO_LARGE, RL_DOCX_NOT_DOCX,
                                         RL_DOCX_TLS, RL_DOCX_UNREACHABLE, RL_DOCX_BAD_URL, RL_DOCX_CANCELLED };
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)   /* codes of the one table: not contiguous */
        named &= strcmp(rl_docx_error_name(outcomes[i]), "unknown") != 0;
    test_cond(named && !strcmp(rl_docx_error_name(RL_DOCX_EXPIRED), "expired"));
    return test_summary();
}
