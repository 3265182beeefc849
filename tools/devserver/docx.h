/*
 * docx.h - writes a report as a minimal WordprocessingML (.docx) package.
 *
 * The package holds [Content_Types].xml, _rels/.rels, word/document.xml and
 * word/styles.xml in a ZIP whose entries are stored (not compressed): every
 * reader accepts stored entries, and zlib is only needed for the CRC-32.
 */
#ifndef DS_DOCX_H
#define DS_DOCX_H

#include <stddef.h>
#include <cJSON.h>

/* Largest package we write; ZIP without ZIP64 cannot go past 4 GiB anyway. */
#define DS_MAX_DOCX_BYTES (128u * 1024u * 1024u)

/*
 * Renders json_report `report` (an object) as a document: one bold heading
 * paragraph per field (French headings, see report.h), then its text, one
 * paragraph per line. On success returns 0 and a malloc'd package in *out
 * (*out_len bytes) that the caller frees; on failure returns -1.
 */
int ds_docx_build(const cJSON *report, unsigned char **out, size_t *out_len);

#endif
