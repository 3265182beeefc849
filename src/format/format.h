/*
 * format.h - the report's representations made safe to hand to LibreOffice.
 *
 * No UNO, no sockets: text in, text out, unit-tested and fuzzed on its own.
 */
#ifndef RL_FORMAT_H
#define RL_FORMAT_H

#include <stddef.h>


/*
 * Cleans untrusted report HTML before LibreOffice's HTML import sees it.
 *
 * Kept: text, and a whitelist of formatting elements (headings, paragraphs,
 * line breaks, bold/italic/underline, lists, tables, pre/code, blockquote,
 * sub/sup, span/div) with a whitelist of harmless attributes (colspan,
 * rowspan, align, valign, border, cellpadding, cellspacing, width, height
 * as plain numbers/percentages). Images only as embedded data:image/png,
 * jpeg or gif.
 *
 * Removed with their content: script, style, iframe, frame(set), object,
 * embed, applet, noscript, template, svg, math, form, select, textarea,
 * title, head. Removed alone: every other element (its text stays),
 * comments, doctype, processing instructions, CDATA, every other attribute
 * (event handlers, style, href, src, ...). Links become their text: a link
 * whose text says one thing and whose target is another is not possible.
 *
 * The result is a complete UTF-8 HTML document. Returns a new string the
 * caller frees (NULL on memory exhaustion); *out_len receives its length.
 */
char *rl_format_clean_html(const char *html, size_t len, size_t *out_len);

/*
 * Cleans untrusted report RTF before LibreOffice's RTF import sees it.
 *
 * Nothing in the result can make LibreOffice fetch a remote resource or
 * create a link: every field becomes the plain (formatted) text of its
 * result - its instruction (INCLUDEPICTURE, INCLUDETEXT, HYPERLINK, IMPORT,
 * LINK, DDE, ...) is removed; every \object becomes the text of its \result
 * (linked objects, \objlink / \objautlink, and embedded ones alike); shape
 * and picture properties (\shpinst, \picprop: linked pictures by pibName,
 * shape hyperlinks), Word 97 hyperlinks (\hl, \hlinkbase...), attached
 * templates, subdocuments (\filetbl, \subdocument), mail-merge sources and
 * external XML data are removed with their content. Embedded pictures
 * (\pict data), text and formatting stay. \binN data is skipped as data.
 *
 * The result is balanced RTF (unbalanced closing braces are dropped, open
 * groups closed). Returns a new NUL-terminated string the caller frees
 * (NULL on memory exhaustion); *out_len (if not NULL) receives its length.
 */
char *rl_format_clean_rtf(const char *rtf, size_t len, size_t *out_len);

/*
 * The section of the report's HTML that belongs to json_report key `field`,
 * as raw HTML (clean it with rl_format_clean_html before use), found by the
 * first rule that matches:
 *
 *  1. an element whose id or data-field attribute is exactly `field`
 *     (<div data-field="diagnosis">...</div>): its content;
 *  2. a heading <h1>...<h6> whose text - tags removed, &amp; &lt; &gt;
 *     &quot; &#39; &nbsp; decoded, white space collapsed - equals `heading`
 *     (or `field` itself), ignoring ASCII case: everything after it up to
 *     the next heading of the same or a higher level, or the end of the body.
 *
 * heading may be NULL or "" (then only `field` is compared). Comments are
 * skipped. Returns a new string the caller frees, or NULL when the HTML has
 * no such section (or on memory exhaustion); *out_len gets its length.
 */
char *rl_format_html_section(const char *html, size_t len, const char *field, const char *heading,
                             size_t *out_len);

#endif
