/* fields.c - the "Letter template" panel of the ReportLink deck, and the
 * field insertion the Insert menu shares with it.
 *
 * A doctor turns any letter into a template without knowing what a bookmark
 * is: pick "Diagnosis", press "Insert field", and the place is marked (the
 * selection, or "[Diagnosis]" at the cursor). "Check this template" lists
 * which fields the letter has and which are missing. The words are the
 * field's name in the doctor's language; the bookmark gets the name the
 * placement looks for (src/writer/template.c). Main thread. */
#include "ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"   /* rlc_settings_read_fields, rl_log */
#include "writer.h"

const char *const rlu_field_keys[RLU_FIELD_COUNT] = {
    "history", "findings", "diagnosis", "procedure", "recommendation", "report_text", "report_html"
};

int rlu_field_index(const char *key)
{
    for (int i = 0; i < RLU_FIELD_COUNT; i++)
        if (!strcmp(rlu_field_keys[i], key))
            return i;
    return -1;
}

static const char *field_words(const rl_words *s, int i)
{
    char key[48];
    snprintf(key, sizeof key, "field.%s", rlu_field_keys[i]);
    return rl_word(s, key);
}

int rlu_insert_field(uno_Interface *ctx, uno_Interface *frame, const rl_words *s, int field,
                     char *made, size_t cap, rl_uno_err *err)
{
    rl_field_map map;
    char placeholder[RL_WORDS_MAX_VALUE + 2];

    if (field < 0 || field >= RLU_FIELD_COUNT)
        return rl_uno_fail(err, RL_ERR_UNO_ARG, "no field %d", field);
    if (rlc_settings_read_fields(ctx, &map, err) != RL_OK)
        map.n = 0;      /* the default names */
    snprintf(placeholder, sizeof placeholder, "[%s]", field_words(s, field));
    return rl_writer_insert_field(frame, rl_writer_bookmark_for(rlu_field_keys[field], &map), placeholder,
                                  rl_word(s, "undo.insert_field"), made, cap, err);
}

/* ------------------------------------------------------------------ the panel */

enum { C_TITLE, C_FIELD, C_INSERT, C_CHECK, C_RESULT, C_COUNT };
static const char *const control_names[C_COUNT] = {
    "templateTitle", "field", "insertField", "check", "checkResult"
};

typedef struct fields_panel {
    rlu_panel_base b;               /* first: the object, its window and controls */
    uno_Interface *ctx;
    uno_Interface *frame;           /* the Writer window of the sidebar; may be NULL */
    rl_words strings;
    int disposed;
} fields_panel;

static fields_panel *fields_of(rl_uno_object *o)
{
    return RL_UNO_SELF(o, fields_panel, b.o);
}

/* The window to act on: the sidebar's own. */
static uno_Interface *target_frame(fields_panel *p)
{
    return p->frame;
}

static void check(fields_panel *p)
{
    rl_field_map map;
    rl_uno_err err;
    int count[RLU_FIELD_COUNT], present = 0;
    char text[RL_WORDS_MAX_VALUE * (RLU_FIELD_COUNT + 1)];
    size_t used = 0;

    if (rlc_settings_read_fields(p->ctx, &map, &err) != RL_OK)
        map.n = 0;
    if (rl_writer_check_fields(target_frame(p), &map, rlu_field_keys, RLU_FIELD_COUNT, count, &err)) {
        const char *args[1] = { err.message };
        rl_words_format(&p->strings, "template.check.error", text, sizeof text, args, 1);
        rlu_form_label(&p->b.form, C_RESULT, text);
        return;
    }
    for (int i = 0; i < RLU_FIELD_COUNT; i++)
        present += count[i] > 0;
    char n_present[8], n_all[8];
    const char *head[2] = { n_present, n_all };
    snprintf(n_present, sizeof n_present, "%d", present);
    snprintf(n_all, sizeof n_all, "%d", RLU_FIELD_COUNT);
    rl_words_format(&p->strings, "template.check.summary", text, sizeof text, head, 2);
    used = strlen(text);
    for (int i = 0; i < RLU_FIELD_COUNT && used + 1 < sizeof text; i++) {
        char line[RL_WORDS_MAX_VALUE * 2];
        const char *args[1] = { field_words(&p->strings, i) };
        rl_words_format(&p->strings, count[i] ? "template.check.present" : "template.check.missing", line,
                   sizeof line, args, 1);
        used += (size_t)snprintf(text + used, sizeof text - used, "\n%s", line);
    }
    rlu_form_label(&p->b.form, C_RESULT, text);
}

RLU_PANEL_SKELETONS

static void action_performed(rl_uno_object *self, uno_Any **exc, const rl_uno_ActionEvent *ev)
{
    fields_panel *p = fields_of(self);
    rl_uno_err err;

    if (p->disposed)
        return;
    if (rl_uno_str_equals(ev->ActionCommand, "insert")) {
        sal_Int16 pos = -1;
        char made[RL_MAX_FIELD_NAME];
        if (rl_uno_XListBox_getSelectedItemPos(p->b.form.controls[C_FIELD], &err, &pos) || pos < 0)
            pos = 0;
        if (rlu_insert_field(p->ctx, target_frame(p), &p->strings, pos, made, sizeof made, &err)) {
            const char *a[1] = { err.message };
            char text[RL_WORDS_MAX_VALUE * 2];
            rl_words_format(&p->strings, "template.insert.error", text, sizeof text, a, 1);
            rlu_form_label(&p->b.form, C_RESULT, text);
            rl_log("template panel: cannot insert a field: %s", err.message);
            return;
        }
    }
    check(p);   /* after an insertion too: the doctor sees it counted */
}
RL_UNO_SKELETON_XActionListener_actionPerformed(m_action_performed, action_performed)

static void disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
}
RL_UNO_SKELETON_XEventListener_disposing(m_disposing, disposing)

static void fields_dispose(rl_uno_object *o)
{
    fields_panel *p = fields_of(o);
    rl_uno_err err;

    if (p->disposed)
        return;
    p->disposed = 1;
    for (int i = C_INSERT; i <= C_CHECK; i++)
        if (p->b.form.controls[i])
            rl_uno_XButton_removeActionListener(p->b.form.controls[i], &err, &p->b.o.iface);
    rlu_form_dispose(&p->b.form);
}

static void fields_destroy(rl_uno_object *self)
{
    fields_panel *p = fields_of(self);
    rlu_form_release(&p->b.form);
    rl_uno_release(p->frame);
    rl_uno_release(p->ctx);
    free(p);
}

static const int fields_interfaces[] = {
    RL_UNO_T_XToolPanel, RL_UNO_T_XSidebarPanel, RL_UNO_T_XActionListener, -1
};
static const rl_uno_method fields_methods[] = {
    RLU_PANEL_METHODS,
    { RL_UNO_MN_XEventListener_disposing, m_disposing },
    { RL_UNO_MN_XActionListener_actionPerformed, m_action_performed },
    { NULL, NULL }
};
const rl_uno_class rlu_template_class = {
    "org.reportlink.TemplatePanel", NULL, fields_interfaces, fields_methods, fields_destroy
};

rl_uno_object *rlu_template_panel_new(uno_Interface *ctx, uno_Interface *frame, uno_Interface *parent_window,
                                      rl_uno_err *err)
{
    fields_panel *p = calloc(1, sizeof *p);
    const char *names[RLU_FIELD_COUNT];

    if (!p) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rl_uno_object_init(&p->b.o, &rlu_template_class);
    p->b.dispose = fields_dispose;
    rl_uno_acquire(ctx);
    p->ctx = ctx;
    rl_uno_acquire(frame);
    p->frame = frame;
    rlc_words_for_office(&p->strings, ctx);

    if (rlu_form_build(&p->b.form, ctx, parent_window, "Template.xdl", control_names, C_COUNT, NULL, err))
        goto fail;
    rlu_form_label(&p->b.form, C_TITLE, rl_word(&p->strings, "template.title"));
    rlu_form_label(&p->b.form, C_INSERT, rl_word(&p->strings, "template.insert"));
    rlu_form_label(&p->b.form, C_CHECK, rl_word(&p->strings, "template.check"));
    rlu_form_label(&p->b.form, C_RESULT, rl_word(&p->strings, "template.check.hint"));
    rlu_form_command(&p->b.form, C_INSERT, "insert");
    rlu_form_command(&p->b.form, C_CHECK, "check");
    for (int i = 0; i < RLU_FIELD_COUNT; i++)
        names[i] = field_words(&p->strings, i);
    rlu_form_items(&p->b.form, C_FIELD, names, RLU_FIELD_COUNT);
    rl_uno_XListBox_selectItemPos(p->b.form.controls[C_FIELD], err, 0, sal_True);
    for (int i = C_INSERT; i <= C_CHECK; i++)
        if (rl_uno_XButton_addActionListener(p->b.form.controls[i], err, &p->b.o.iface))
            goto fail;
    return &p->b.o;
fail:
    fields_dispose(&p->b.o);
    rl_uno_release(&p->b.o.iface);
    return NULL;
}
