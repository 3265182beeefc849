/* replace.c - one field's content replaced, its bookmark kept around it.
 *
 * How a field is replaced (found by trying the alternatives in a real
 * Writer, see src/writer/README.md): setString on the bookmark's own anchor
 * keeps the bookmark on the first paragraph only, leaves a point bookmark
 * collapsed (the next report would append) and loses the bookmark on undo.
 * So each field is replaced explicitly: a cursor over the old content, the
 * bookmark removed, the cursor's text set, the cursor made to select exactly
 * the new text (see select_back), and a new bookmark of the same name
 * inserted over it. Inside one undo
 * context this is exactly reversible by one undo.
 */
#include "writer_internal.h"

#include <stdlib.h>
#include <string.h>

rtl_uString *rl_writer_paragraph_text(const char *utf8)
{
    size_t n = strlen(utf8);
    char *copy = malloc(n + 1);
    size_t j = 0;
    if (!copy)
        return rl_uno_str("");
    for (size_t i = 0; i < n; i++) {
        if (utf8[i] == '\r' && utf8[i + 1] == '\n')
            continue;                       /* the \n that follows makes the break */
        copy[j++] = utf8[i] == '\n' ? '\r' : utf8[i];
    }
    copy[j] = 0;
    rtl_uString *s = rl_uno_str(copy);
    free(copy);
    return s;
}

/* How many characters Writer's cursor steps over in utf8 once it is text:
 * code points, "\r\n" being one paragraph break. */
static size_t paragraph_chars(const char *utf8)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
        if ((*p & 0xC0) != 0x80 && !(p[0] == '\r' && p[1] == '\n'))
            n++;
    return n;
}

/* After setString the cursor should select the new text, but LibreOffice
 * 7.4 moves its start back by the text's UTF-16 length in cursor steps, so
 * every surrogate pair (an emoji) pulls one more character of the text
 * before it into the selection. Select the new text ourselves: collapse to
 * its end and step back over its characters (goLeft takes a short). */
static int select_back(uno_Interface *cursor, size_t chars, rl_uno_err *err)
{
    int rc = rl_uno_XTextCursor_collapseToEnd(cursor, err);
    while (!rc && chars) {
        sal_Int16 step = chars > 32767 ? 32767 : (sal_Int16)chars;
        sal_Bool moved = 0;
        rc = rl_uno_XTextCursor_goLeft(cursor, err, &moved, step, 1);
        if (!rc && !moved)
            rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the cursor could not select the new text");
        chars -= (size_t)step;
    }
    return rc;
}

/* Replaces the content of bookmark `name` with t's value; see the top. */
int rl__writer_replace_field(rl_writer *w, uno_Interface *doc_factory, uno_Interface *marks,
                             rtl_uString *name, const rl_plan_target *t, rl_uno_err *err)
{
    uno_Interface *mark = NULL, *anchor = NULL, *text = NULL, *cursor = NULL;
    uno_Interface *fresh = NULL, *fresh_content = NULL, *named = NULL;
    rtl_uString *service = rl_uno_str("com.sun.star.text.Bookmark");
    rtl_uString *value = t->format == RL_PLAN_TEXT ? rl_writer_paragraph_text(t->value) : rl_uno_str("");
    int rc;

    if (!(mark = rl__writer_bookmark(marks, name, err))) {
        rc = err->code ? err->code : RL_ERR_UNO_TYPE;
        goto done;
    }
    if ((rc = rl_uno_XTextContent_getAnchor(mark, err, &anchor)) ||
        (rc = rl_uno_XTextRange_getText(anchor, err, &text)) ||
        (rc = rl_uno_XSimpleText_createTextCursorByRange(text, err, &cursor, anchor)) ||
        (rc = rl_uno_XText_removeTextContent(text, err, mark)) ||
        (rc = rl_uno_XTextRange_setString(cursor, err, value)) ||
        (rc = t->format == RL_PLAN_TEXT
                  ? select_back(cursor, paragraph_chars(t->value), err)
                  : rl__writer_import_at(w, cursor, t->value, t->len, t->format, err)) ||
        (rc = rl_uno_XMultiServiceFactory_createInstance(doc_factory, err, &fresh, service)))
        goto done;
    if (!(named = rl_uno_query(fresh, RL_UNO_T_XNamed)) ||
        !(fresh_content = rl_uno_query(fresh, RL_UNO_T_XTextContent))) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "a new bookmark lacks XNamed/XTextContent");
        goto done;
    }
    if ((rc = rl_uno_XNamed_setName(named, err, name)))
        goto done;
    /* For a bookmark, "absorb" makes it span the range; the text stays. */
    rc = rl_uno_XText_insertTextContent(text, err, cursor, fresh_content, 1);
done:
    rl_uno_release(named);
    rl_uno_release(fresh_content);
    rl_uno_release(fresh);
    rl_uno_release(cursor);
    rl_uno_release(text);
    rl_uno_release(anchor);
    rl_uno_release(mark);
    rtl_uString_release(service);
    rtl_uString_release(value);
    return rc;
}
