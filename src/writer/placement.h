/*
 * placement.h - the seam between the component and the Writer module.
 *
 * The component validates every report (from the network or applyReport),
 * keeps it in the inbox and then, on the office's main thread, asks the
 * Writer module (src/writer/writer.h) to put it into the document the
 * doctor is working in. These are the types the two share.
 */
#ifndef RL_PLACEMENT_H
#define RL_PLACEMENT_H

#include "reportlink_core.h"

#include <time.h>
#include "uno_bridge.h"

#define RL_MAX_FIELD_MAP       64    /* entries of /org.reportlink.Settings/Fields */
#define RL_MAX_FIELD_NAME      128   /* bytes of a json_report key or bookmark name, with NUL */
#define RL_MAX_WHERE           256   /* bytes of a placement's "where", with NUL */

/* json_report key -> bookmark name, from the configuration; and whether the
 * field takes its text from the HTML version's section (src/writer/README.md). */
typedef struct rl_field_map {
    struct {
        char key[RL_MAX_FIELD_NAME];
        char bookmark[RL_MAX_FIELD_NAME];
        int from_html;                          /* Source = "html" */
        char html_heading[RL_MAX_FIELD_NAME];   /* HtmlHeading: the section's heading */
    } entries[RL_MAX_FIELD_MAP];
    size_t n;
} rl_field_map;

/* Where a report came from, recorded in the letter it is placed in. */
typedef struct rl_provenance {
    time_t received_at;           /* wall clock */
    char service_host[256];       /* the report service's host; "" for applyReport */
} rl_provenance;

/* What a placement did, or why it did not: the result carries its reason. */
typedef struct rl_placement_result {
    int why;                      /* RL_OK: placed; else the refusal (rl_writer_refusal, rl_error.h) */
    int fields_filled;            /* fields of the document that received text */
    char where[RL_MAX_WHERE];     /* e.g. the document's title; "" if not placed */
    char error[RL_MAX_DETAIL];    /* why it was not placed, in English; never report content */
    /* For RL_ERR_EDITED: the bookmark the doctor changed; for RL_ERR_SAVED and
     * RL_ERR_PRINTED: when ("HH:MM", local time; "" if unknown); "" otherwise. */
    char field[RL_MAX_FIELD_NAME];
} rl_placement_result;

#endif
