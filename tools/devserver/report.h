/*
 * report.h - renders a json_report object into the representations a
 * report_ready message carries (HTML, RTF, plain text) and builds the message.
 *
 * A json_report is a JSON object whose members are the report's fields, in
 * order. String members are used as they are; null gives an empty text; any
 * other value is rendered as its compact JSON text. The five keys the service
 * documents get French headings, any other key is its own heading.
 */
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <stddef.h>
#include <cJSON.h>

/* Upper bound for one rendered representation. A 24 MiB body can expand a few
 * times (RTF escapes); past this the push is refused rather than swapping. */
#define DS_MAX_RENDERED_BYTES (96u * 1024u * 1024u)
/* Upper bound for a whole generated report_ready message. */
#define DS_MAX_REPORT_MESSAGE_BYTES (256u * 1024u * 1024u)

/* Heading for a json_report key: "Anamnèse" for "history", etc., else the key
 * itself. Borrowed: static or pointing into key. */
const char *ds_report_heading(const char *key);

/* Each returns a malloc'd NUL-terminated document (the caller frees it), or
 * NULL when out of memory or past DS_MAX_RENDERED_BYTES. report must be an
 * object. */
char *ds_report_html(const cJSON *report, size_t *len);
char *ds_report_rtf(const cJSON *report, size_t *len);
char *ds_report_text(const cJSON *report, size_t *len);

/* The text of one field value as described above. The caller frees it. */
char *ds_report_field_text(const cJSON *value);

/*
 * Builds a complete report_ready message: type, url, html_content,
 * rtf_report, plaintext_report, then json_report copied byte for byte from
 * json_text (the original JSON text of `report`, json_len bytes). Returns a
 * malloc'd message the caller frees, or NULL on failure.
 */
char *ds_report_ready_message(const cJSON *report, const char *json_text,
                              size_t json_len, const char *url, size_t *len);

/* JSON text of demo report number n (they rotate). The caller frees it. */
char *ds_report_demo_json(unsigned n);

#endif
