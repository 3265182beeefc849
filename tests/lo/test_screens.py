#!/usr/bin/python3
"""test_screens.py - what the doctor sees, as tests: every state of the
status panel, in French and in English, at 96 and at 144 DPI, in a visible
LibreOffice on its own X server (Xvfb), with the office's whole user
interface in that language (started in it, as a doctor's office is).

For each language and resolution one office goes through the states a doctor
meets, in the order a doctor meets them:

  first-start   a fresh profile, no key: "key missing" and a button to enter it
  after-ok      the doctor opened the options from that button, typed the
                address and the key, pressed OK: the new server, connected
  connected     a report placed, the link's heartbeat shown
  key-refused   the service refused the key: said, and a button for another one
  server-down   the service is gone: the countdown, and the failure with its
                address and time

In each state the words the state must show are read back through the
accessibility tree (what a screen reader reads), the panels' layout is
checked (no text cut, no control over another: layout_problems), and the
screen is saved as build/screenshots/<office>/<state>-<lang>[-144dpi].png,
<office> being the version under test ("libreoffice-7.4", "libreoffice-25.2":
REPORTLINK_LO_PROGRAM, `make check-lo-25.2`). The options
page's layout is checked the same way in each language and resolution.

Output: "ok - name" / "FAIL - name: why" per test, then "N passed, N failed".
Arguments select tests whose name contains one of them.
"""

import json
import os
import re
import secrets
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402,F401 (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import Failure, check, secret, test, wait_until  # noqa: E402
from lofix import devserver, strings, wait_state  # noqa: E402
from screen import (SHOTS, layout_problems, letter_with_deck, panel_window, visible_office,  # noqa: E402
                    words_on_screen)

import uno  # noqa: E402

harness.TEST_TIMEOUT_S = 240
KEY = secret("doctor-" + secrets.token_hex(12))
CONNECTION = "/org.reportlink.Settings/Connection"
WORDS_TIMEOUT_S = 20     # the panel follows a state change, and the office paints it
PAINT_S = 1.0            # after the words are there: the frame buffer catches up
ROLE_TEXT = uno.getConstantByName("com.sun.star.accessibility.AccessibleRole.TEXT")
ROLE_PASSWORD = uno.getConstantByName("com.sun.star.accessibility.AccessibleRole.PASSWORD_TEXT")
ROLE_BUTTON = uno.getConstantByName("com.sun.star.accessibility.AccessibleRole.PUSH_BUTTON")

STATUS_CONTROLS = ("statusTitle", "status", "endpointTitle", "endpoint", "errorTitle", "error", "keyNote", "connect")
INBOX_CONTROLS = ("entries", "detail", "insert", "discard", "openDocx", "newLetter", "compare")
OPTIONS_CONTROLS = ("endpointTitle", "endpoint", "endpointCheck", "keyTitle", "key", "forgetKey", "keyState",
                    "autoConnect", "caTitle", "caFile", "caBrowse", "caHint", "test", "testResult")
OPTIONS_LEAF = "/org.openoffice.Office.OptionsDialog/Nodes/org.reportlink.options/Leaves/org.reportlink.options.connection"

REPORT = {
    "history": "Céphalées pulsatiles depuis trois jours, photophobie.",
    "findings": "Examen neurologique normal. TA 12/8.",
    "diagnosis": "Migraine sans aura",
    "procedure": "Aucun examen complémentaire.",
    "recommendation": "Paracétamol 1 g si besoin, agenda des crises, revoir dans un mois."}


def _raise(message):
    raise Failure(message)


def _source(template, parts):
    out = []
    for piece in re.split(r"(\{\d\})", template):
        m = re.fullmatch(r"\{(\d)\}", piece)
        if not m:
            out.append(re.escape(piece))
        else:
            i = int(m.group(1))
            out.append(re.escape(parts[i]) if i < len(parts) and parts[i] is not None else ".+?")
    return "".join(out)


def line(template, *parts):
    """A regex for a whole line made from template ("{0} — {1}"): part i
    fills {i} literally, or any text where it is None or missing."""
    return re.compile("^" + _source(template, parts) + "$")


def either(*templates):
    """A regex for a line made from one of templates (any text in {0}...)."""
    return re.compile("^(?:" + "|".join(_source(t, ()) for t in templates) + ")$")


def fill(text, *args):
    for i, a in enumerate(args):
        text = text.replace("{%d}" % i, a)
    return text


def port_of(url):
    return int(url.split(":")[2].split("/")[0])


def push(url, fields):
    body = json.dumps({"type": "report_ready", "patient_id": "", "json_report": fields},
                      ensure_ascii=False).encode("utf-8")
    status, answer = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port_of(url), body,
                                  {"X-Doctor-Key": KEY, "Content-Type": "application/json"})
    check(status == 200, "push answered %d %s" % (status, answer[:200]))


class Screen:
    """One visible office's letter with the deck, in one language and resolution."""

    def __init__(self, xvfb, o, lang, dpi):
        self.xvfb, self.o, self.lang, self.dpi = xvfb, o, lang, dpi
        self.w = strings(lang)
        self.doc = letter_with_deck(o)
        self.frame = self.doc.CurrentController.Frame
        self.status = panel_window(self.doc, "ReportLinkStatusPanel")
        major_minor = ".".join(o.version().split()[-1].split(".")[:2])
        self.shots = os.path.join(SHOTS, "libreoffice-" + major_minor)
        self.inbox = panel_window(self.doc, "ReportLinkInboxPanel")

    def shows(self, state, must, must_not=()):
        """Waits until every item of must (a string, or a regex for a line
        with changing parts) is on the screen and none of must_not is; then
        checks the panels' layout and saves the screenshot."""
        window = self.frame.ContainerWindow

        def present():
            words = words_on_screen(window)
            missing = [m for m in must if not (any(m.match(w) for w in words) if hasattr(m, "match")
                                               else m in words)]
            extra = [m for m in must_not if m in words]
            if not missing and not extra:
                return words
            raise Failure("%s: missing %s, wrongly shown %s; the status panel reads %s" % (
                state, [getattr(m, "pattern", m) for m in missing], extra,
                [self.status.getControl(n).Model.Label for n in ("status", "endpoint", "error")]))
        wait_until(present, WORDS_TIMEOUT_S, "the words of %s" % state)
        for name, win, controls in (("status", self.status, STATUS_CONTROLS), ("inbox", self.inbox, INBOX_CONTROLS)):
            problems = layout_problems(win, controls)
            check(not problems, "%s, %s panel, %s at %d DPI: %s" % (state, name, self.lang, self.dpi,
                                                                     "; ".join(problems)))
        time.sleep(PAINT_S)
        suffix = "" if self.dpi == 96 else "-%ddpi" % self.dpi
        self.xvfb.screenshot(os.path.join(self.shots, "%s-%s%s.png" % (state, self.lang, suffix)))

    def top_windows_find(self, name, roles):
        """The accessible context named `name` with one of roles in any of the
        office's top windows (the options dialog is one), or None."""
        toolkit = self.o.service("com.sun.star.awt.Toolkit")

        def find(ctx, depth):
            try:
                if ctx.getAccessibleRole() in roles and ctx.getAccessibleName() == name:
                    return ctx
                n = min(ctx.getAccessibleChildCount(), 200) if depth < 14 else 0
                children = [ctx.getAccessibleChild(i) for i in range(n)]
                children = [c.getAccessibleContext() for c in children if c is not None]
            except Exception:   # a window that went away while walking
                return None
            for child in children:
                found = find(child, depth + 1)
                if found is not None:
                    return found
            return None
        for i in range(toolkit.getTopWindowCount()):
            found = find(toolkit.getTopWindow(i).getAccessibleContext(), 0)
            if found is not None:
                return found
        return None

    def enter_in_options(self, url, key):
        """The doctor presses the panel's "enter the key" button, which opens
        Tools > Options at ReportLink's page; types the address and the key
        there and presses OK."""
        button = self.status.getControl("connect")
        check(button.Model.Label == self.w["button.enter_key"], "the button reads %r" % button.Model.Label)

        def click():   # the dialog is modal: the click returns when it closes
            try:
                button.Peer.AccessibleContext.doAccessibleAction(0)
            except Exception:   # the office is killed while the dialog is open
                pass
        threading.Thread(target=click, daemon=True).start()
        address = wait_until(lambda: self.top_windows_find(self.w["options.endpoint.title"], (ROLE_TEXT,)) or
                             _raise("no address field on screen"), 30, "the options at ReportLink's page")
        field = wait_until(lambda: self.top_windows_find(self.w["options.key.title"], (ROLE_PASSWORD, ROLE_TEXT)) or
                           _raise("no key field"), 5, "the key field")
        ok = wait_until(lambda: self.top_windows_find("OK", (ROLE_BUTTON,)) or _raise("no OK button"), 5,
                        "the dialog's OK")
        address.setText(url)
        field.setText(key)
        ok.doAccessibleAction(0)


# Every message each line of the options page can show (key prefixes of the
# i18n files; src/ui/options.c's show() calls), and what fills their {0}.
OPTIONS_LINES = {
    "endpointCheck": ("options.endpoint.bad.", "options.endpoint.ok.", "options.endpoint.warn.",
                      "options.endpoint.not_saved"),
    "keyState": ("options.key.stored", "options.key.none", "options.key.unknown", "options.key.too_long",
                 "options.key.session", "options.key.loading", "options.key.saving", "options.key.forgotten"),
    "caHint": ("options.ca.hint", "options.ca.too_long"),
    "testResult": ("options.test.running", "options.test.connected", "options.test.current", "options.test.refused",
                   "options.test.unreachable", "options.test.tls", "options.test.timeout", "options.test.nokey",
                   "options.test.failed"),
}


# Every message each line of the status panel can show (src/ui/panel.c).
STATUS_LINES = {
    "status": ("state.",),
    "error": ("error.unreachable", "error.tls", "error.no_answer", "error.link_dead", "error.key_refused",
              "error.closed", "error.none"),
    "keyNote": ("key.session", "key.moved"),
}


def longest_key_word(w, key):
    """The longest words that fill {0} of a message about the doctor's key:
    where it is (key.where.*) or why it is not in the keyring (key.why.*)."""
    prefix = "key.why." if "session" in key else "key.where."
    return max((v for k, v in w.items() if k.startswith(prefix)), key=len)
LONG_HOST = "service-comptes-rendus.clinique-du-parc.example:8443"


def status_layout(win, lang):
    """The status panel's lines showing in turn every message they can show,
    with a long server name, the time and the longest close reason filled in;
    returns layout_problems for all of it."""
    w = strings(lang)
    longest_close = max((v for k, v in w.items() if k.startswith("close.")), key=len)
    problems = []
    for control, prefixes in STATUS_LINES.items():
        for key in [k for k in w if k.startswith(prefixes)]:
            text = fill(w[key], LONG_HOST, longest_close)
            if control == "error" and key != "error.none":
                text = fill(w["error.when"], "23:59", text)
            elif key == "state.connected.heartbeat":
                text = fill(w[key], "23:59:59", "1999")
            elif key == "state.backoff":
                text = fill(w[key], "300", "999")
            elif control == "keyNote":
                text = fill(w[key], longest_key_word(w, key))
            win.getControl(control).Model.Label = text
            problems += ["%s: %s" % (key, p) for p in layout_problems(win, (control,))]
    return problems


def options_layout(o, lang):
    """The options page, built as the options dialog builds it and
    initialised, showing in turn every message of each of its lines (with
    the longest reason in {0}); returns layout_problems for all of it."""
    w = strings(lang)
    longest_reason = max((v for k, v in w.items() if k.startswith(("options.net.", "options.tls.",
                                                                     "options.endpoint.bad."))), key=len)
    leaf = o.config(OPTIONS_LEAF)
    url = leaf.OptionsPage
    if url.startswith("vnd.sun.star.expand:"):
        expander = o.ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
        url = expander.expandMacros(url[len("vnd.sun.star.expand:"):])
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    try:
        handler = o.service(leaf.EventHandlerService)
        provider = o.service("com.sun.star.awt.ContainerWindowProvider")
        win = provider.createContainerWindow(url, "", doc.CurrentController.Frame.ContainerWindow, handler)
        handler.callHandlerMethod(win, "initialize", "external_event")
        problems = layout_problems(win, OPTIONS_CONTROLS)
        for control, prefixes in OPTIONS_LINES.items():
            keys = [k for k in w if k.startswith(prefixes)]
            check(keys, "no message for %s" % control)
            for key in keys:
                reason = longest_key_word(w, key) if key.startswith("options.key.") else longest_reason
                win.getControl(control).Model.Label = fill(w[key], reason)
                problems += ["%s: %s" % (key, p) for p in layout_problems(win, (control,))]
        win.dispose()
        return problems
    finally:
        doc.close(True)


def walk(lang, dpi):
    w = strings(lang)
    settings = [(CONNECTION, "PingIntervalSeconds", "5")]
    with visible_office("office %s %d" % (lang, dpi), lang=lang, dpi=dpi, settings=settings) as (xvfb, o):
        rl = o.report_link()
        check(not rl.getStatus().HasKey, "a fresh profile has a key")
        s = Screen(xvfb, o, lang, dpi)
        check(s.frame.ContainerWindow.AccessibleContext is not None, "no accessible window")

        s.shows("first-start", [w["state.no_key"], w["button.enter_key"], w["error.none"]],
                must_not=[w["state.stopped"]])

        server, url = devserver(KEY)
        host = "127.0.0.1:%d" % port_of(url)
        s.enter_in_options(url, KEY)
        wait_state(rl, "connected")
        s.shows("after-ok", [host, either(w["state.connected.noheartbeat"], w["state.connected.heartbeat"]),
                             w["error.none"], w["button.disconnect"]],
                must_not=[w["state.no_key"]])

        push(url, REPORT)
        wait_until(lambda: any(e.Status == "placed" for e in rl.getInbox()) or _raise("not placed"), 15,
                   "the report placed")
        wait_until(lambda: rl.getStatus().LastHeartbeatMs >= 0 or _raise("no heartbeat"), 15, "a heartbeat")
        s.shows("connected", [line(w["state.connected.heartbeat"]), host, w["error.none"]])

        status, answer = harness.http("POST", "http://127.0.0.1:%d/admin/close?code=1008" % port_of(url), b"",
                                      {"X-Doctor-Key": KEY})
        check(status == 200, "admin/close answered %d %s" % (status, answer[:200]))
        wait_state(rl, "auth_failed")
        s.shows("key-refused", [w["state.auth_failed"], w["button.other_key"],
                                line(w["error.when"], None, w["error.key_refused"])])

        server.stop()
        rl.connect()
        wait_state(rl, "backoff")
        unreachable = fill(w["error.unreachable"], host)
        s.shows("server-down", [line(w["state.backoff"]), host, line(w["error.when"], None, unreachable),
                                w["button.disconnect"]],
                must_not=[w["error.none"]])
        rl.disconnect()

        problems = status_layout(s.status, lang)
        check(not problems, "the status panel's messages, %s at %d DPI: %s" % (lang, dpi, "; ".join(problems)))
        problems = options_layout(o, lang)
        check(not problems, "the options page, %s at %d DPI: %s" % (lang, dpi, "; ".join(problems)))
        s.doc.setModified(False)   # no "save changes?" question at exit
        o.stop()
        check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)


for _lang, _dpi in (("fr", 96), ("en", 96), ("fr", 144), ("en", 144)):
    def _(lang=_lang, dpi=_dpi):
        walk(lang, dpi)
    test("in %s at %d DPI: first start, after OK in the options, connected, key refused, server down: "
         "each state's words on screen, nothing cut or covered (build/screenshots/<office>/*-%s%s.png)"
         % ({"fr": "French", "en": "English"}[_lang], _dpi, _lang, "" if _dpi == 96 else "-%ddpi" % _dpi))(_)


if __name__ == "__main__":
    sys.exit(harness.run_all())
