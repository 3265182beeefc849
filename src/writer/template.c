/* template.c - turning any letter into a template: a field bookmark at the
 * cursor, and which fields a letter has.
 *
 * The doctor never sees the word "bookmark": the sidebar and the Insert menu
 * call these with a field, and the bookmark gets the name the placement
 * looks for (rl_writer_field_of). Main thread. */
#include "writer.h"

#include <stdio.h>
#include <string.h>

#define MAX_SUFFIX 999   /* diagnosis_2 ... diagnosis_999 */

const char *rl_writer_bookmark_for(const char *key, const rl_field_map *fields)
{
    for (size_t i = 0; fields && i < fields->n; i++)
        if (!strcmp(fields->entries[i].key, key))
            return fields->entries[i].bookmark;
    return key;
}

uno_Interface *rl_writer_frame_document(uno_Interface *frame, rl_uno_err *err)
{
    uno_Interface *controller = NULL, *model = NULL, *doc = NULL;
    if (!frame) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "no window");
        return NULL;
    }
    if (rl_uno_XFrame_getController(frame, err, &controller) != RL_OK)
        return NULL;
    if (!controller) {
        rl_uno_fail(err, RL_ERR_UNO_ARG, "the window shows no document");
        return NULL;
    }
    if (rl_uno_XController_getModel(controller, err, &model) == RL_OK &&
        !(doc = rl_uno_query(model, RL_UNO_T_XTextDocument)))
        rl_uno_fail(err, RL_ERR_UNO_TYPE, "the window does not show a Writer document");
    rl_uno_release(model);
    rl_uno_release(controller);
    return doc;
}

/* A bookmark name based on `base` that marks does not have yet. */
static int free_name(uno_Interface *marks, const char *base, char *out, size_t cap, rl_uno_err *err)
{
    for (int n = 1; n <= MAX_SUFFIX; n++) {
        sal_Bool taken = 0;
        if (n == 1)
            snprintf(out, cap, "%s", base);
        else
            snprintf(out, cap, "%s_%d", base, n);
        rtl_uString *name = rl_uno_str(out);
        int rc = rl_uno_XNameAccess_hasByName(marks, err, &taken, name);
        rtl_uString_release(name);
        if (rc != RL_OK)
            return rc;
        if (!taken)
            return RL_OK;
    }
    return rl_uno_fail(err, RL_ERR_UNO_ARG, "the letter has %d fields named %s already", MAX_SUFFIX, base);
}

/* Creates bookmark `name` spanning range in text. */
static int make_bookmark(uno_Interface *doc, uno_Interface *text, uno_Interface *range, const char *name,
                         rl_uno_err *err)
{
    uno_Interface *factory = NULL, *fresh = NULL, *named = NULL, *content = NULL;
    rtl_uString *service = rl_uno_str("com.sun.star.text.Bookmark"), *n = rl_uno_str(name);
    int rc;

    if (!(factory = rl_uno_query(doc, RL_UNO_T_XMultiServiceFactory))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the document makes no bookmarks");
        goto done;
    }
    if ((rc = rl_uno_XMultiServiceFactory_createInstance(factory, err, &fresh, service)))
        goto done;
    if (!(named = rl_uno_query(fresh, RL_UNO_T_XNamed)) ||
        !(content = rl_uno_query(fresh, RL_UNO_T_XTextContent))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "a new bookmark lacks XNamed/XTextContent");
        goto done;
    }
    if (!(rc = rl_uno_XNamed_setName(named, err, n)))
        rc = rl_uno_XText_insertTextContent(text, err, range, content, 1);   /* absorb: span it */
done:
    rl_uno_release(content);
    rl_uno_release(named);
    rl_uno_release(fresh);
    rl_uno_release(factory);
    rtl_uString_release(service);
    rtl_uString_release(n);
    return rc;
}

int rl_writer_insert_field(uno_Interface *frame, const char *bookmark, const char *placeholder,
                           const char *undo_title, char *made, size_t made_cap, rl_uno_err *err)
{
    uno_Interface *doc = NULL, *controller = NULL, *supplier = NULL, *view = NULL, *text = NULL;
    uno_Interface *cursor = NULL, *marks_sup = NULL, *marks = NULL, *storable = NULL;
    uno_Interface *undo_sup = NULL, *undo = NULL;
    int rc, in_undo = 0;
    sal_Bool ro = 0, collapsed = 0;

    made[0] = 0;
    if (!(doc = rl_writer_frame_document(frame, err)))
        return err->code ? err->code : RL_ERR_UNO_ARG;
    if ((storable = rl_uno_query(doc, RL_UNO_T_XStorable)) &&
        rl_uno_XStorable_isReadonly(storable, err, &ro) == RL_OK && ro) {
        rc = rl_uno_fail(err, RL_ERR_UNO_ARG, "the letter is open read-only");
        goto done;
    }
    if ((rc = rl_uno_XFrame_getController(frame, err, &controller)))
        goto done;
    if (!(supplier = rl_uno_query(controller, RL_UNO_T_XTextViewCursorSupplier)) ||
        !(marks_sup = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the window has no text cursor");
        goto done;
    }
    if ((rc = rl_uno_XTextViewCursorSupplier_getViewCursor(supplier, err, &view)) ||
        (rc = rl_uno_XTextRange_getText(view, err, &text)) ||
        (rc = rl_uno_XSimpleText_createTextCursorByRange(text, err, &cursor, view)) ||
        (rc = rl_uno_XBookmarksSupplier_getBookmarks(marks_sup, err, &marks)) ||
        (rc = free_name(marks, bookmark, made, made_cap, err)) ||
        (rc = rl_uno_XTextCursor_isCollapsed(cursor, err, &collapsed)))
        goto done;

    if ((undo_sup = rl_uno_query(doc, RL_UNO_T_XUndoManagerSupplier)) &&
        rl_uno_XUndoManagerSupplier_getUndoManager(undo_sup, err, &undo) == RL_OK && undo) {
        rtl_uString *title = rl_uno_str(undo_title);
        in_undo = rl_uno_XUndoManager_enterUndoContext(undo, err, title) == RL_OK;
        rtl_uString_release(title);
    }
    if (collapsed && placeholder && *placeholder) {
        /* An empty field is invisible: show where it is with its name. */
        rtl_uString *ph = rl_uno_str(placeholder);
        sal_Bool moved = 0;
        rc = rl_uno_XSimpleText_insertString(text, err, cursor, ph, 0);
        if (!rc)
            rc = rl_uno_XTextCursor_goLeft(cursor, err, &moved, (sal_Int16)ph->length, 1);
        rtl_uString_release(ph);
        if (rc)
            goto done;
    }
    rc = make_bookmark(doc, text, cursor, made, err);
done:
    if (in_undo) {
        rl_uno_err e2;
        rl_uno_XUndoManager_leaveUndoContext(undo, &e2);
    }
    if (rc)
        made[0] = 0;
    rl_uno_release(undo);
    rl_uno_release(undo_sup);
    rl_uno_release(marks);
    rl_uno_release(marks_sup);
    rl_uno_release(cursor);
    rl_uno_release(text);
    rl_uno_release(view);
    rl_uno_release(supplier);
    rl_uno_release(controller);
    rl_uno_release(storable);
    rl_uno_release(doc);
    return rc;
}

int rl_writer_check_fields(uno_Interface *frame, const rl_field_map *fields, const char *const *keys,
                           int n, int *count, rl_uno_err *err)
{
    uno_Interface *doc = NULL, *marks_sup = NULL, *marks = NULL;
    uno_Sequence *names = NULL;
    int rc;

    for (int i = 0; i < n; i++)
        count[i] = 0;
    if (!(doc = rl_writer_frame_document(frame, err)))
        return err->code ? err->code : RL_ERR_UNO_ARG;
    if (!(marks_sup = rl_uno_query(doc, RL_UNO_T_XBookmarksSupplier))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the document has no bookmarks");
        goto done;
    }
    if ((rc = rl_uno_XBookmarksSupplier_getBookmarks(marks_sup, err, &marks)) ||
        (rc = rl_uno_XNameAccess_getElementNames(marks, err, &names)))
        goto done;
    rtl_uString **elems = (rtl_uString **)(void *)names->elements;
    for (sal_Int32 j = 0; j < names->nElements; j++) {
        char name[RL_MAX_FIELD_NAME], key[RL_MAX_FIELD_NAME];
        if (rl_uno_str_utf8(elems[j], name, sizeof name) < 0 ||
            !rl_writer_field_of(name, fields, NULL, key, sizeof key))
            continue;
        for (int i = 0; i < n; i++)
            if (!strcmp(keys[i], key))
                count[i]++;
    }
done:
    if (names)
        rl_uno_destruct(&names, RL_UNO_T_seq_string);
    rl_uno_release(marks);
    rl_uno_release(marks_sup);
    rl_uno_release(doc);
    return rc;
}
