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

#endif
