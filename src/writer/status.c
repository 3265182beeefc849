/* status.c - the letter as the doctor leaves it: the fields still showing
 * their placeholder and the info bar that names them
 * (src/component/letterwatch.c), and whether the last report is still in
 * the letter after Ctrl+Z or Ctrl+Y (src/component/undowatch.c). Reads only,
 * but for the info bar. */
#include "writer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rl_writer_unfilled(uno_Interface *doc, const rl_field_map *fields, char *out, size_t cap)
{
    rl_uno_err err;
    uno_Interface *supplier = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier), *marks = NULL;
    uno_Sequence *names = NULL;
    rl_letter_memory *mem = calloc(1, sizeof *mem);
    int count = 0, fields_seen = 0;
    size_t used = 0;

    out[0] = 0;
    if (!supplier || !mem || rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks) ||
        rl_uno_XNameAccess_getElementNames(marks, &err, &names))
        goto done;
    rl__writer_read_memory(doc, mem);
    rtl_uString **elems = (rtl_uString **)(void *)names->elements;
    for (sal_Int32 i = 0; i < names->nElements; i++) {
        char name[RL_MAX_FIELD_NAME], key[RL_MAX_FIELD_NAME];
        if (rl_uno_str_utf8(elems[i], name, sizeof name) < 0 ||
            !rl_writer_field_of(name, fields, NULL, key, sizeof key) ||
            !strcmp(key, RL_WRITER_DOCX_REPORT))
            continue;
        fields_seen++;
        const rl_memory_field *f = rl_memory_find(mem, name);
        if (f && rl__writer_field_state(marks, f) != RL_FIELD_PLACEHOLDER)
            continue;           /* a report's text, or the doctor's */
        count++;
        if (used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
    }
done:
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    return fields_seen ? count : -1;
}

int rl_writer_holds_last_report(uno_Interface *doc)
{
    rl_uno_err err;
    uno_Interface *supplier = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier), *marks = NULL;
    rl_letter_memory *mem = calloc(1, sizeof *mem);
    int holds = -1;
    if (supplier && mem && !rl_uno_XBookmarksSupplier_getBookmarks(supplier, &err, &marks)) {
        rl__writer_read_memory(doc, mem);
        for (size_t i = 0; i < mem->n && holds != 1; i++) {
            if (!strcmp(mem->fields[i].bookmark, RL_WRITER_DOCX_REPORT))
                continue;
            holds = rl__writer_field_state(marks, &mem->fields[i]) == RL_FIELD_PLACED;
        }
    }
    free(mem);
    rl_uno_release(marks);
    rl_uno_release(supplier);
    return holds;
}

int rl_writer_info_bar(uno_Interface *doc, const char *id, const char *primary,
                       const char *secondary, rl_uno_err *err)
{
    uno_Interface *model = rl_uno_query(doc, RL_UNO_T_XModel), *controller = NULL, *bars = NULL;
    rtl_uString *i = rl_uno_str(id), *p = rl_uno_str(primary), *s = rl_uno_str(secondary);
    uno_Sequence *buttons = rl_uno_seq(RL_UNO_T_seq_StringPair, NULL, 0);
    sal_Bool shown = 0;
    int rc = RL_ERR_UNO_TYPE;
    const sal_Int32 warning = 2;        /* css::frame::InfobarType::WARNING */

    if (!model || rl_uno_XModel_getCurrentController(model, err, &controller) || !controller ||
        !(bars = rl_uno_query(controller, RL_UNO_T_XInfobarProvider))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the letter's window has no info bar");
        goto done;
    }
    if ((rc = rl_uno_XInfobarProvider_hasInfobar(bars, err, &shown, i)) == RL_OK)
        rc = shown ? rl_uno_XInfobarProvider_updateInfobar(bars, err, i, p, s, warning)
                   : rl_uno_XInfobarProvider_appendInfobar(bars, err, i, p, s, warning, buttons, 1);
done:
    if (buttons)
        rl_uno_destruct(&buttons, RL_UNO_T_seq_StringPair);
    rtl_uString_release(i);
    rtl_uString_release(p);
    rtl_uString_release(s);
    rl_uno_release(bars);
    rl_uno_release(controller);
    rl_uno_release(model);
    return rc;
}
