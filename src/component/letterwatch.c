/* letterwatch.c - a letter leaving the practice half-filled.
 *
 * One listener on the office's global document events
 * (theGlobalEventBroadcaster), registered by the start-up job. The first
 * letter loaded or created ("OnLoad", "OnNew") lets the link start
 * (rlc_start_gate_open, lifecycle.c). When a document is printed ("OnPrint") or a
 * copy of it is written — PDF export, "Send by e-mail", Save a Copy: all go
 * through storeToURL, "OnCopyTo" (seen in 7.4) — the link checks the letter: fields still
 * showing their placeholder, reports waiting in the inbox. LibreOffice lets
 * neither event stop the action, so the doctor is warned by an info bar on
 * the letter itself (rlc_link_letter_leaving). Main thread: the office sends
 * document events there. */
#include "component.h"

#include <stdatomic.h>

static rl_uno_object letter_listener;   /* static: lives as long as the library */
static atomic_int watching;

static void document_event(rl_uno_object *self, uno_Any **exc, const rl_uno_DocumentEvent *ev)
{
    if (rl_uno_str_equals(ev->EventName, "OnLoad") || rl_uno_str_equals(ev->EventName, "OnNew"))
        rlc_start_gate_open();     /* a letter is ready: the link may start now */
    else if (rl_uno_str_equals(ev->EventName, "OnPrint"))
        rlc_link_letter_leaving(ev->base.Source, "print");
    else if (rl_uno_str_equals(ev->EventName, "OnCopyTo"))
        rlc_link_letter_leaving(ev->base.Source, "copy");
}
RL_UNO_SKELETON_XDocumentEventListener_documentEventOccured(m_document_event, document_event)

static void letter_disposing(rl_uno_object *self, uno_Any **exc, const rl_uno_EventObject *ev)
{
}
RL_UNO_SKELETON_XEventListener_disposing(m_letter_disposing, letter_disposing)

static void static_destroy(rl_uno_object *self)
{
    /* Static objects are never freed. */
}

static const int letter_interfaces[] = { RL_UNO_T_XDocumentEventListener, -1 };
static const rl_uno_method letter_methods[] = {
    { RL_UNO_MN_XDocumentEventListener_documentEventOccured, m_document_event },
    { RL_UNO_MN_XEventListener_disposing, m_letter_disposing },
    { NULL, NULL }
};
const rl_uno_class rlc_letter_watch_class = {
    "org.reportlink.LetterWatch", NULL, letter_interfaces, letter_methods, static_destroy
};

int rlc_watch_letters(uno_Interface *ctx, rl_uno_err *err)
{
    if (atomic_exchange(&watching, 1))
        return RL_OK;
    uno_Interface *events = rl_uno_create_instance_as(ctx, "com.sun.star.frame.GlobalEventBroadcaster",
                                                      RL_UNO_T_XDocumentEventBroadcaster, err);
    int rc;
    if (!events) {
        atomic_store(&watching, 0);
        return err->code;
    }
    rl_uno_object_init(&letter_listener, &rlc_letter_watch_class);
    rc = rl_uno_XDocumentEventBroadcaster_addDocumentEventListener(events, err, &letter_listener.iface);
    rl_uno_release(events);
    return rc;
}
