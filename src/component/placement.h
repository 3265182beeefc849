/*
 * placement.h - the seam between the component and the Writer module.
 *
 * The component validates every report (from the network or applyReport)
 * and then, on the office's main thread, asks the installed placement to
 * put it into the document the doctor is working in. Until a placement is
 * installed, reports are only kept in the list of received reports (the
 * future inbox) and applyReport returns 0.
 *
 * The Writer module (src/writer/) provides the function and installs it
 * once, when the component starts (rl_link start-up, see reportlink.c).
 */
#ifndef RL_PLACEMENT_H
#define RL_PLACEMENT_H

#include "reportlink_core.h"
#include "uno_bridge.h"

#define RL_MAX_FIELD_MAP       64    /* entries of /org.reportlink.Settings/Fields */
#define RL_MAX_FIELD_NAME      128   /* bytes of a json_report key or bookmark name, with NUL */
#define RL_MAX_WHERE           256   /* bytes of a placement's "where", with NUL */

/* json_report key -> bookmark name, from the configuration. */
typedef struct rl_field_map {
    struct {
        char key[RL_MAX_FIELD_NAME];
        char bookmark[RL_MAX_FIELD_NAME];
    } entries[RL_MAX_FIELD_MAP];
    size_t n;
} rl_field_map;

typedef struct rl_placement_result {
    int fields_filled;            /* fields of the document that received text */
    char where[RL_MAX_WHERE];     /* e.g. the document's title; "" if not placed */
    char error[RL_MAX_DETAIL];    /* why it was not placed; never report content */
} rl_placement_result;

/*
 * Places r into the document the doctor is working in. Called on the
 * office's main thread only, never concurrently. r, fields and uno_ctx (the
 * component context) are borrowed for the call. Returns RL_OK when the
 * report was placed (out->fields_filled may still be 0), or an RL_ERR_* code
 * with out->error set; the report is kept in the list of received reports
 * either way.
 */
typedef int (*rl_place_report_fn)(void *ctx, const rl_report *r, const rl_field_map *fields,
                                  uno_Interface *uno_ctx, rl_placement_result *out);

/* Installs the placement (fn NULL: none). Main thread, at start-up. */
void rl_placement_install(rl_place_report_fn fn, void *ctx);

#endif
