#!/usr/bin/python3
"""test_ui.py - ReportLink's sidebar deck and status panel in Writer, in a real
headless LibreOffice with build/reportlink.oxt installed.

The panel is created as the sidebar creates it: through
com.sun.star.ui.UIElementFactoryManager, with a Writer frame and its window as
parent. What it shows is read from its own window (XToolPanel.Window is the
dialog control built from dialogs/Panel.xdl; its "status" control is the
state line), so nothing is added to the product's API for the test. Expected
words come from the extension's i18n files, in the office's language.

One office (English UI, AutoConnect off, pings every 5 s) serves the tests. Output: "ok - name" / "FAIL - name: why"
per test, then "N passed, N failed"; exit status 1 on failure. Arguments
select tests whose name contains one of them.
"""

import json
import os
import re
import secrets
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import Failure, check, secret, test, wait_until  # noqa: E402
from lofix import close_at_exit, strings, devserver, wait_state  # noqa: E402
from screen import SHOTS, letter_copy, letter_with_deck, visible_office  # noqa: E402

import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402

harness.TEST_TIMEOUT_S = 150
PANEL_URL = "private:resource/toolpanel/ReportLinkPanelFactory/StatusPanel"
INBOX_URL = "private:resource/toolpanel/ReportLinkPanelFactory/InboxPanel"
TEMPLATE_URL = "private:resource/toolpanel/ReportLinkPanelFactory/TemplatePanel"
FIELDS = ("history", "findings", "diagnosis", "procedure", "recommendation", "report_text", "report_html")
KEY = secret("doctor-" + secrets.token_hex(12))
TEXT_TIMEOUT_S = 20      # the panel follows a state change

_state = {}


close_at_exit(_state)


# ---------------------------------------------------------------- helpers



def pattern(text):
    """A regex matching a string with {0}, {1}... filled in (captured)."""
    parts = re.split(r"(\{\d\})", text)
    return re.compile("^" + "".join("(.+?)" if re.fullmatch(r"\{\d\}", p) else re.escape(p)
                                    for p in parts) + "$")


def pv(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def setup():
    """The office of every test (pings every 5 s, AutoConnect off)."""
    o = _state.get("office")
    if o is None or o.proc is None:
        if o is None:
            o = _state["office"] = office.Office("office U")
            o.install()
            o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
            o.set_before_start("/org.reportlink.Settings/Connection", "PingIntervalSeconds", "5")
        o.start()
    return o


def new_panel(o, url=PANEL_URL, doc=None):
    """A Writer document (a new one unless doc is given) and a panel created
    in its frame, as the sidebar creates it. Returns (doc, element, panel
    window)."""
    if doc is None:
        desktop = o.service("com.sun.star.frame.Desktop")
        doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    check(doc is not None, "no Writer document")
    frame = doc.CurrentController.Frame
    mgr = o.service("com.sun.star.ui.UIElementFactoryManager")
    el = mgr.createUIElement(url, (pv("Frame", frame), pv("ParentWindow", frame.ContainerWindow)))
    check(el is not None, "the factory manager returned nothing")
    return doc, el, el.RealInterface.Window


def close(doc, el):
    try:
        el.dispose()
    except Exception:   # already disposed by the test
        pass
    try:
        doc.close(True)
    except Exception:   # already closed
        pass


def status_text(win):
    return win.getControl("status").Text


def wait_text(win, regex, what, timeout=TEXT_TIMEOUT_S):
    """Waits until the status line matches regex; returns the match."""
    def matched():
        m = regex.match(status_text(win))
        if m:
            return m
        raise Failure("status line %r" % status_text(win))
    return wait_until(matched, timeout, what, interval=0.05)


def _raise(message):
    raise Failure(message)


def wait_label(control, label, timeout=5):
    def shown():
        if control.Model.Label == label:
            return True
        raise Failure("label %r" % control.Model.Label)
    return wait_until(shown, timeout, "label %r" % label)


def press(control):
    """Clicks a button as a user would, through its accessible action."""
    action = control.Peer.AccessibleContext
    check(action.getAccessibleActionCount() >= 1, "the button has no accessible action")
    action.doAccessibleAction(0)


def report_message(diagnosis, history="Céphalées depuis trois jours."):
    return json.dumps({"type": "report_ready", "json_report": {
        "history": history, "diagnosis": diagnosis, "recommendation": "Repos."}}, ensure_ascii=False)


def entry(rl, inbox_id):
    found = [e for e in rl.getInbox() if e.Id == inbox_id]
    check(found, "no inbox entry %d" % inbox_id)
    return found[0]


def bookmarks(doc):
    return sorted(doc.Bookmarks.ElementNames)


def bookmark_text(doc, name):
    return doc.Bookmarks.getByName(name).Anchor.String


def dispatch(o, doc, command):
    helper = o.service("com.sun.star.frame.DispatchHelper")
    helper.executeDispatch(doc.CurrentController.Frame, command, "", 0, ())


def connect(o, rl, url):
    o.set_setting("Endpoint", url)
    rl.setDoctorKey(KEY)
    rl.connect()
    wait_state(rl, "connected")


# ---------------------------------------------------------------- tests

@test("the French and English files have the same strings and placeholders")
def _():
    en, fr = strings("en"), strings("fr")
    check(set(en) == set(fr), "keys differ: %s" % sorted(set(en) ^ set(fr)))
    for k in en:
        check(sorted(re.findall(r"\{\d\}", en[k])) == sorted(re.findall(r"\{\d\}", fr[k])),
              "placeholders of %s differ" % k)
        check(en[k] != "" and fr[k] != "", "%s is empty" % k)


@test("the ReportLink deck is registered for Writer with its own icon")
def _():
    o = setup()
    deck = o.config("/org.openoffice.Office.UI.Sidebar/Content/DeckList/ReportLinkDeck")
    check(deck.Id == "ReportLinkDeck", "Id %r" % deck.Id)
    check(deck.Title == "ReportLink", "Title %r" % deck.Title)
    contexts = [c.replace(" ", "") for c in deck.ContextList if c.strip()]
    check("WriterVariants,any,visible" in contexts, "ContextList %r" % (deck.ContextList,))
    icon = deck.IconURL
    check(icon.endswith("/icons/reportlink-deck.png"), "IconURL %r" % icon)
    expander = o.ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
    url = expander.expandMacros(icon[len("vnd.sun.star.expand:"):]) if icon.startswith(
        "vnd.sun.star.expand:") else icon
    sfa = o.service("com.sun.star.ucb.SimpleFileAccess")
    check(sfa.exists(url), "the icon %s is not installed" % url)


@test("the status panel is in the deck, built by the extension's panel factory")
def _():
    o = setup()
    panel = o.config("/org.openoffice.Office.UI.Sidebar/Content/PanelList/ReportLinkStatusPanel")
    check(panel.DeckId == "ReportLinkDeck", "DeckId %r" % panel.DeckId)
    check(panel.ImplementationURL == PANEL_URL, "ImplementationURL %r" % panel.ImplementationURL)
    contexts = [c.replace(" ", "") for c in panel.ContextList if c.strip()]
    check("WriterVariants,any,visible" in contexts, "ContextList %r" % (panel.ContextList,))
    factories = o.config("/org.openoffice.Office.UI.Factories/Registered/UIElementFactories")
    found = [factories.getByName(n) for n in factories.ElementNames
             if factories.getByName(n).Name == "ReportLinkPanelFactory"]
    check(len(found) == 1, "no factory registered for ReportLinkPanelFactory")
    check(found[0].Type == "toolpanel" and found[0].FactoryImplementation == "org.reportlink.PanelFactory",
          "factory %s %s" % (found[0].Type, found[0].FactoryImplementation))


@test("the panel is created in a Writer frame: a tool panel with a sized window")
def _():
    o = setup()
    doc, el, win = new_panel(o)
    try:
        check(el.Type == 7, "Type %r (TOOLPANEL is 7)" % el.Type)
        check(el.ResourceURL == PANEL_URL, "ResourceURL %r" % el.ResourceURL)
        check(el.Frame == doc.CurrentController.Frame, "Frame is not the document's frame")
        panel = el.RealInterface
        names = [t.typeName for t in panel.Types]
        for want in ("com.sun.star.ui.XToolPanel", "com.sun.star.ui.XSidebarPanel"):
            check(want in names, "the panel lacks %s (%s)" % (want, names))
        size = panel.getHeightForWidth(300)
        check(size.Preferred > 0 and size.Minimum == size.Preferred, "height %r" % (size,))
        check(panel.getMinimalWidth() > 0, "minimal width %d" % panel.getMinimalWidth())
        en = strings("en")
        # Issue 13: before any key, the missing key is the state, and the button asks for it.
        check(status_text(win) == en["state.no_key"], "status line %r" % status_text(win))
        check(win.getControl("statusTitle").Text == en["status.title"], "title %r" % win.getControl("statusTitle").Text)
        check(win.getControl("connect").Model.Label == en["button.enter_key"], "button %r"
              % win.getControl("connect").Model.Label)
    finally:
        close(doc, el)
    check(el.RealInterface is None, "the element still has its panel after dispose()")


@test("the status line follows the core: connected, key refused, reconnecting with a countdown")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    server, url = devserver(KEY)
    doc, el, win = new_panel(o)
    try:
        connect(o, rl, url)
        # Connected: first without a heartbeat, then with the last one's time
        # and round trip (pings every 5 s in this profile).
        m = wait_text(win, pattern(en["state.connected.heartbeat"]), "connected with a heartbeat", 15)
        check(re.fullmatch(r"\d\d:\d\d:\d\d", m.group(1)) and m.group(2).isdigit(),
              "heartbeat %r" % status_text(win))
        port = int(url.split(":")[2].split("/")[0])
        check(win.getControl("endpoint").Text == "127.0.0.1:%d" % port,
              "endpoint %r" % win.getControl("endpoint").Text)
        check(win.getControl("connect").Model.Label == en["button.disconnect"], "button %r"
              % win.getControl("connect").Model.Label)

        # Key refused: the service closes with 1008.
        status, body = harness.http("POST", "http://127.0.0.1:%d/admin/close?code=1008" % port, b"",
                                    {"X-Doctor-Key": KEY})
        check(status == 200, "admin/close answered %d %s" % (status, body[:200]))
        wait_text(win, re.compile("^" + re.escape(en["state.auth_failed"]) + "$"), "key refused")
        check(rl.getStatus().State == "auth_failed", "state %s" % rl.getStatus().State)
        # Issue 13: a failure is shown with its time ("HH:MM — words").
        m = pattern(en["error.when"]).match(win.getControl("error").Text)
        check(m and re.fullmatch(r"\d\d:\d\d", m.group(1)) and m.group(2) == en["error.key_refused"],
              "last error %r" % win.getControl("error").Text)
        check("1008" in win.getControl("error").Model.HelpText, "the tooltip lacks the service's own words: %r"
              % win.getControl("error").Model.HelpText)
        # Issue 13: a refused key offers to enter another one (it opens the options page).
        check(win.getControl("connect").Model.Label == en["button.other_key"], "button %r"
              % win.getControl("connect").Model.Label)

        # Reconnecting: connected again, then the service disappears.
        rl.connect()
        wait_text(win, pattern(en["state.connected.heartbeat"].split("{0}")[0] + "{0}"), "connected again")
        server.kill()
        backoff = pattern(en["state.backoff"])
        m = wait_text(win, backoff, "reconnecting")
        check(rl.getStatus().State in ("backoff", "connecting"), "state %s" % rl.getStatus().State)

        # The countdown ticks once a second while waiting: find a wait of at
        # least 2 s, then see the same attempt one second lower.
        def long_wait():
            mm = backoff.match(status_text(win))
            if mm and int(mm.group(1)) >= 2:
                return mm
            raise Failure("status line %r" % status_text(win))
        m = wait_until(long_wait, 40, "a reconnection wait of 2 s or more", interval=0.05)
        seconds, attempt = int(m.group(1)), m.group(2)
        lower = en["state.backoff"].replace("{0}", str(seconds - 1)).replace("{1}", attempt)
        wait_text(win, re.compile("^" + re.escape(lower) + "$"), "the countdown at %d s" % (seconds - 1), 1.6)
    finally:
        close(doc, el)
        try:
            rl.disconnect()
        except Exception:   # the test failed before theReportLink was reached
            pass


@test("first start without a key: the status says the key is missing, the button offers to "
      "enter it, and Connect dials nothing")
def _():
    o = office.Office("office K")
    en = strings("en")
    server, url = devserver(KEY)
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start()
        o.set_setting("Endpoint", url)     # a server that would answer, to see that nothing dials
        rl = o.report_link()
        check(not rl.getStatus().HasKey, "a fresh profile has a key")
        doc, el, win = new_panel(o)
        try:
            check(status_text(win) == en["state.no_key"], "status %r" % status_text(win))
            check(win.getControl("connect").Model.Label == en["button.enter_key"],
                  "button %r" % win.getControl("connect").Model.Label)
            rl.connect()
            time.sleep(2)
            check(rl.getStatus().State == "stopped", "state %s after connect without a key" % rl.getStatus().State)
            check(b"connection #" not in server.stderr_bytes and b"opened" not in server.stderr_bytes,
                  "the devserver saw a connection: %r" % server.stderr_bytes[-300:])
            check("no doctor key: not connecting" in o.log_text(), "the office log does not say why")
            # With a key the same panel offers Connect.
            rl.setDoctorKey(KEY)
            wait_until(lambda: win.getControl("connect").Model.Label in (en["button.connect"], en["button.disconnect"])
                       or _raise("button %r" % win.getControl("connect").Model.Label), 10, "Connect offered")
        finally:
            close(doc, el)
        o.stop()
    finally:
        o.close()


@test("every line describes the present: a committed address shows at once, and a failure "
      "at another address is not shown beside Connected")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    server, url = devserver(KEY)
    doc, el, win = new_panel(o)
    try:
        # A server that is not there: a failure, shown.
        import socket
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            dead_port = sk.getsockname()[1]
        connect_to_nothing = "ws://127.0.0.1:%d/reports/ws" % dead_port
        o.set_setting("Endpoint", connect_to_nothing)
        rl.setDoctorKey(KEY)
        rl.connect()
        # The panel may still show the previous test's failure (at its own,
        # then committed, address) until the new address reaches it: wait for
        # the failure at this one.
        wait_until(lambda: str(dead_port) in win.getControl("error").Text or
                   _raise("error %r" % win.getControl("error").Text), 15, "the failure shown")
        m = pattern(en["error.when"]).match(win.getControl("error").Text)
        check(m and re.fullmatch(r"\d\d:\d\d", m.group(1)) and str(dead_port) in m.group(2),
              "the failure is not shown with its time and address: %r" % win.getControl("error").Text)
        rl.disconnect()
        wait_state(rl, "stopped")
        # The address is changed while disconnected: the server line follows at once.
        o.set_setting("Endpoint", url)
        host = url.split("//")[1].split("/")[0]
        wait_until(lambda: win.getControl("endpoint").Text == host or
                   _raise("server line %r" % win.getControl("endpoint").Text), 5, "the new server shown")
        check(win.getControl("error").Text == en["error.none"],
              "the old address's failure is shown for the new one: %r" % win.getControl("error").Text)
        rl.connect()
        wait_state(rl, "connected")
        wait_until(lambda: win.getControl("error").Text == en["error.none"] or
                   _raise("error %r beside Connected" % win.getControl("error").Text), 5, "no error beside Connected")
    finally:
        close(doc, el)
        rl.disconnect()


@test("the Connect/Disconnect button drives theReportLink")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    server, url = devserver(KEY)
    doc, el, win = new_panel(o)
    try:
        connect(o, rl, url)
        button = win.getControl("connect")
        wait_label(button, en["button.disconnect"])
        action = button.Peer.AccessibleContext
        check(action.getAccessibleActionCount() >= 1, "the button has no accessible action")
        action.doAccessibleAction(0)
        wait_state(rl, "stopped")
        wait_text(win, re.compile("^" + re.escape(en["state.stopped"]) + "$"), "not connected")
        check(button.Model.Label == en["button.connect"], "button %r" % button.Model.Label)
        action.doAccessibleAction(0)
        wait_state(rl, "connected")
    finally:
        close(doc, el)
        rl.disconnect()


@test("disposing a panel twice is harmless, and later panels still work")
def _():
    o = setup()
    rl = o.report_link()
    doc, el, win = new_panel(o)
    el.dispose()
    el.dispose()   # twice is harmless
    server, url = devserver(KEY)
    connect(o, rl, url)
    rl.disconnect()
    wait_state(rl, "stopped")
    doc.close(True)
    # A new panel in a new document still works after that.
    doc, el, win = new_panel(o)
    try:
        check(status_text(win) == strings("en")["state.stopped"], "status line %r" % status_text(win))
    finally:
        close(doc, el)


@test("with a French user interface the panel speaks French")
def _():
    # The office resets ooLocale at start to a UI language it has installed
    # (this one has English only), so the setting is changed while it runs,
    # as Tools > Options > Language does; a panel created afterwards reads it.
    o = setup()
    fr = strings("fr")
    o.set_setting("ooLocale", "fr-FR", group="/org.openoffice.Setup/L10N")
    try:
        doc, el, win = new_panel(o)
        try:
            check(status_text(win) == fr["state.stopped"], "status line %r" % status_text(win))
            check(win.getControl("errorTitle").Text == fr["error.title"], "title %r"
                  % win.getControl("errorTitle").Text)
            check(win.getControl("connect").Model.Label == fr["button.connect"], "button %r"
                  % win.getControl("connect").Model.Label)
        finally:
            close(doc, el)
    finally:
        o.set_setting("ooLocale", "en-US", group="/org.openoffice.Setup/L10N")


def visible_letter(o):
    """In a started visible office: the devserver, a connection, and the
    letter with the deck (letter_with_deck). Returns (rl, server, url, doc)."""
    rl = o.report_link()
    server, url = devserver(KEY)
    connect(o, rl, url)
    return rl, server, url, letter_with_deck(o)


VISIBLE_REPORT = {
    "history": "Céphalées pulsatiles depuis trois jours, photophobie.",
    "findings": "Examen neurologique normal. TA 12/8.",
    "diagnosis": "Migraine sans aura",
    "procedure": "Aucun examen complémentaire.",
    "recommendation": "Paracétamol 1 g si besoin, agenda des crises, revoir dans un mois."}


def push_to(url, fields):
    port = int(url.split(":")[2].split("/")[0])
    body = json.dumps({"type": "report_ready", "patient_id": "", "json_report": fields},
                      ensure_ascii=False).encode("utf-8")
    status, answer = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port, body,
                                  {"X-Doctor-Key": KEY, "Content-Type": "application/json"})
    check(status == 200, "push answered %d %s" % (status, answer[:200]))


@test("in a visible Writer the sidebar shows the letter filled, connected, then the key refused")
def _():
    # A real sidebar on an X server (Xvfb), so that the deck and panel are
    # built by the sidebar itself; the screen is saved as
    # build/screenshots/sidebar-connected.png from Xvfb's frame buffer.
    with visible_office("office V") as (xvfb, o):
        rl, server, url, doc = visible_letter(o)
        # One report from the service, placed in the letter.
        push_to(url, VISIBLE_REPORT)
        wait_until(lambda: any(e.Status == "placed" for e in rl.getInbox()) or _raise("not placed"), 15,
                   "the report placed")
        # Wait for the first heartbeat, then for the office to paint it.
        wait_until(lambda: rl.getStatus().LastHeartbeatMs >= 0 or _raise("no heartbeat"), 15, "a heartbeat")
        time.sleep(1.5)
        os.makedirs(SHOTS, exist_ok=True)
        xvfb.screenshot(os.path.join(SHOTS, "sidebar-connected.png"))
        # The service refuses the key: the state and the last error say so.
        port = int(url.split(":")[2].split("/")[0])
        status, answer = harness.http("POST", "http://127.0.0.1:%d/admin/close?code=1008" % port, b"",
                                      {"X-Doctor-Key": KEY})
        check(status == 200, "admin/close answered %d %s" % (status, answer[:200]))
        wait_state(rl, "auth_failed")
        time.sleep(1.5)
        xvfb.screenshot(os.path.join(SHOTS, "sidebar-key-refused.png"))
        rl.disconnect()
        doc.setModified(False)   # no "save changes?" question at exit
        o.stop()
        check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)


@test("in a visible Writer, in French: a report stopped by the doctor's words shows the field "
      "by field comparison and Remplacer")
def _():
    # build/screenshots/sidebar-replace.png: what the doctor sees before choosing.
    fr = strings("fr")
    with visible_office("office R", french=True) as (xvfb, o):
        rl, server, url, doc = visible_letter(o)
        push_to(url, VISIBLE_REPORT)
        wait_until(lambda: any(e.Status == "placed" for e in rl.getInbox()) or _raise("not placed"), 15,
                   "the first report placed")
        # The doctor corrects the findings, in the middle of the field.
        anchor = doc.Bookmarks.getByName("findings").Anchor
        cur = anchor.getText().createTextCursorByRange(anchor.getStart())
        cur.goRight(len("Examen neurologique"), False)
        anchor.getText().insertString(cur, " sans particularité, réflexes vifs", False)
        corrected = dict(VISIBLE_REPORT, findings="Examen neurologique : légère raideur de nuque. TA 13/8.",
                         diagnosis="Migraine avec aura")
        del corrected["procedure"]
        push_to(url, corrected)
        wait_until(lambda: any(e.ReasonCode == "edited" for e in rl.getInbox()) or _raise("not waiting"), 15,
                   "the corrected report waiting")
        time.sleep(1.5)
        os.makedirs(SHOTS, exist_ok=True)
        xvfb.screenshot(os.path.join(SHOTS, "sidebar-replace.png"))
        e = [e for e in rl.getInbox() if e.ReasonCode == "edited"][0]
        shown = {c.Bookmark: c for c in rl.compareInboxEntry(e.Id) if c.Changed}
        check(set(shown) == {"findings", "diagnosis", "procedure"}, "changes shown for %s" % sorted(shown))
        check(bookmark_text(doc, "findings").startswith("Examen neurologique sans particularité"),
              "the doctor's words are gone: %r" % bookmark_text(doc, "findings"))
        check(fr["inbox.replace"] == "Remplacer", "the French button is %r" % fr["inbox.replace"])
        # The letter goes out as a PDF while the corrected report waits: warned on the letter.
        p = pv("FilterName", "writer_pdf_Export")
        out = os.path.join(os.path.dirname(doc.URL[len("file://"):]), "lettre.pdf")
        doc.storeToURL(uno.systemPathToFileUrl(out), (p,))
        wait_until(lambda: doc.CurrentController.hasInfobar("org.reportlink.unfilled") or
                   _raise("no info bar"), 10, "the warning on the letter")
        time.sleep(1.5)
        xvfb.screenshot(os.path.join(SHOTS, "letter-leaving-warning.png"))
        rl.disconnect()
        doc.setModified(False)
        o.stop()
        check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)


@test("the inbox and letter-template panels are in the deck, after the status panel")
def _():
    o = setup()
    panels = "/org.openoffice.Office.UI.Sidebar/Content/PanelList/"
    status = o.config(panels + "ReportLinkStatusPanel")
    inbox = o.config(panels + "ReportLinkInboxPanel")
    template = o.config(panels + "ReportLinkTemplatePanel")
    for p, url in ((inbox, INBOX_URL), (template, TEMPLATE_URL)):
        check(p.DeckId == "ReportLinkDeck", "DeckId %r" % p.DeckId)
        check(p.ImplementationURL == url, "ImplementationURL %r" % p.ImplementationURL)
    check(status.OrderIndex < inbox.OrderIndex < template.OrderIndex, "order %d %d %d"
          % (status.OrderIndex, inbox.OrderIndex, template.OrderIndex))


@test("the inbox panel lists a waiting report with its reason in words, inserts it here, then shows where")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    desktop = o.service("com.sun.star.frame.Desktop")
    # No letter open: the report waits, with the reason the doctor can act on.
    for c in list(desktop.Components):
        c.close(True)
    inbox_id = None
    try:
        check(rl.applyReport(report_message("Migraine sans aura")) == 0, "placed with no letter open")
        inbox_id = max(e.Id for e in rl.getInbox())
        check(entry(rl, inbox_id).ReasonCode == "no_document", "ReasonCode %r" % entry(rl, inbox_id).ReasonCode)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter_copy()), "_blank", 0, ())
        doc, el, win = new_panel(o, INBOX_URL, doc)
        try:
            items = win.getControl("entries").Model.StringItemList
            line = pattern(en["inbox.line.waiting"])
            check(items and line.match(items[0]) and line.match(items[0]).group(2) == "Migraine sans aura",
                  "first line %r" % (items[:1],))
            detail = win.getControl("detail").Text
            check(detail.split("\n")[1:2] == ["Migraine sans aura"], "no whole summary in %r" % detail)
            m = pattern(en["inbox.detail.waiting"]).match(detail.split("\n")[0])
            check(m and m.group(2) == en["reason.no_document"], "detail %r" % detail)
            check(win.getControl("insert").Model.Enabled, "Insert here is disabled for a waiting report")
            check(win.getControl("insert").Model.EnableVisible and win.getControl("discard").Model.EnableVisible,
                  "Insert here or Discard is hidden for a waiting report")
            check(not win.getControl("openDocx").Model.EnableVisible and
                  not win.getControl("newLetter").Model.EnableVisible,
                  "Open the DOCX or New letter is shown for a report that has neither")
            press(win.getControl("insert"))
            wait_until(lambda: entry(rl, inbox_id).Status == "placed" or _raise("still waiting"), 10, "placed")
            check(bookmark_text(doc, "diagnosis") == "Migraine sans aura",
                  "diagnosis %r" % bookmark_text(doc, "diagnosis"))

            def shows_placed():
                mm = pattern(en["inbox.detail.placed"]).match(win.getControl("detail").Text.split("\n")[0])
                if mm:
                    return mm
                raise Failure("detail %r" % win.getControl("detail").Text)
            m = wait_until(shows_placed, 10, "the entry shown placed")
            check(m.group(1) == doc.Title and m.group(3) == "3", "detail %r" % win.getControl("detail").Text)
            check(pattern(en["inbox.line.placed"]).match(win.getControl("entries").Model.StringItemList[0]),
                  "line %r" % win.getControl("entries").Model.StringItemList[0])
            check(not win.getControl("insert").Model.Enabled, "Insert here is enabled for a placed report")
            # An action that does not apply is hidden, not greyed out.
            check(not win.getControl("insert").Model.EnableVisible and
                  not win.getControl("discard").Model.EnableVisible,
                  "Insert here or Discard is shown for a placed report")
        finally:
            close(doc, el)
    finally:
        if inbox_id is not None:
            rl.discardInboxEntry(inbox_id)


@test("a report stopped by the doctor's own words: the inbox panel names the field in words, "
      "its button is Replace, and pressing it puts the report in")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    desktop = o.service("com.sun.star.frame.Desktop")
    ids = []
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter_copy()), "_blank", 0, ())
    doc, el, win = new_panel(o, INBOX_URL, doc)
    try:
        check(rl.applyReport(report_message("Migraine sans aura")) == 3, "the first report was not placed")
        ids.append(max(e.Id for e in rl.getInbox()))
        # The doctor adds a word inside the diagnosis.
        anchor = doc.Bookmarks.getByName("diagnosis").Anchor
        cur = anchor.getText().createTextCursorByRange(anchor.getStart())
        cur.goRight(len("Migraine"), False)
        anchor.getText().insertString(cur, " probable", False)
        check(rl.applyReport(report_message("Migraine avec aura")) == 0, "the second report was placed")
        ids.append(max(e.Id for e in rl.getInbox()))
        e = entry(rl, ids[-1])
        check(e.ReasonCode == "edited" and e.ReasonField == "diagnosis", "reason %r %r" % (e.ReasonCode, e.ReasonField))
        reason = en["reason.edited"].replace("{0}", en["field.diagnosis"])

        def shows_reason():
            d = win.getControl("detail").Text.split("\n")[0]
            m = pattern(en["inbox.detail.waiting"]).match(d)
            if m and m.group(2) == reason:
                return m
            raise Failure("detail %r" % d)
        wait_until(shows_reason, 10, "the reason in words")
        check(win.getControl("insert").Model.Label == en["inbox.replace"],
              "the button reads %r" % win.getControl("insert").Model.Label)
        check(win.getControl("newLetter").Model.Enabled and
              win.getControl("newLetter").Model.Label == en["inbox.new_letter"],
              "New letter: %r, enabled %s" % (win.getControl("newLetter").Model.Label,
                                               win.getControl("newLetter").Model.Enabled))
        # Field by field, the doctor's text beside the report's, the differing words marked.
        compare = win.getControl("compare").Text
        want = en["inbox.compare.line"].replace("{0}", en["field.diagnosis"]).replace(
            "{1}", "Migraine [probable sans] aura").replace("{2}", "Migraine [avec] aura")
        check(compare.startswith(en["inbox.compare.title"] + "\n") and want in compare,
              "the comparison reads %r, expected %r in it" % (compare, want))
        press(win.getControl("insert"))
        wait_until(lambda: entry(rl, ids[-1]).Status == "placed" or _raise("still waiting"), 10, "placed")
        check(bookmark_text(doc, "diagnosis") == "Migraine avec aura", "diagnosis %r" % bookmark_text(doc, "diagnosis"))
        wait_until(lambda: win.getControl("insert").Model.Label == en["inbox.insert"] or
                   _raise("the button reads %r" % win.getControl("insert").Model.Label), 10, "Insert here again")
        check(win.getControl("compare").Text == "", "a comparison is still shown: %r" % win.getControl("compare").Text)
        check(not win.getControl("newLetter").Model.Enabled, "New letter is enabled for a placed report")
    finally:
        close(doc, el)
        for i in ids:
            rl.discardInboxEntry(i)


@test("discarding from the inbox panel takes a second click, then the report is gone")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    desktop = o.service("com.sun.star.frame.Desktop")
    for c in list(desktop.Components):
        c.close(True)
    rl.applyReport(report_message("Lombalgie commune"))
    inbox_id = max(e.Id for e in rl.getInbox())
    doc, el, win = new_panel(o, INBOX_URL)
    try:
        discard = win.getControl("discard")
        check(discard.Model.Label == en["inbox.discard"], "label %r" % discard.Model.Label)
        press(discard)
        wait_label(discard, en["inbox.discard.confirm"])
        check(any(e.Id == inbox_id for e in rl.getInbox()), "one click discarded the report")
        press(discard)
        wait_until(lambda: all(e.Id != inbox_id for e in rl.getInbox()) or _raise("still there"), 10, "discarded")
        items = win.getControl("entries").Model.StringItemList
        check(not any("Lombalgie commune" in i for i in items), "still listed: %r" % (items,))
    finally:
        close(doc, el)


@test("the inbox panel follows reports arriving from the service, newest first")
def _():
    o = setup()
    rl = o.report_link()
    server, url = devserver(KEY)
    doc, el, win = new_panel(o, INBOX_URL)
    try:
        connect(o, rl, url)
        port = int(url.split(":")[2].split("/")[0])
        for diagnosis in ("Angine", "Otite moyenne aiguë"):
            body = json.dumps({"type": "report_ready", "json_report": {"diagnosis": diagnosis}},
                              ensure_ascii=False).encode("utf-8")
            status, answer = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port, body,
                                          {"X-Doctor-Key": KEY, "Content-Type": "application/json"})
            check(status == 200, "push answered %d %s" % (status, answer[:200]))

        def newest():
            items = win.getControl("entries").Model.StringItemList
            if len(items) >= 2 and "Otite moyenne aiguë" in items[0] and "Angine" in items[1]:
                return items
            raise Failure("items %r" % (items[:3],))
        wait_until(newest, 10, "both reports listed, newest first")
    finally:
        close(doc, el)
        rl.disconnect()


@test("a report's signed DOCX: the inbox says it is here and opens it as a document of its own")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    server, url = devserver(KEY)
    doc, el, win = new_panel(o, INBOX_URL)
    desktop = o.service("com.sun.star.frame.Desktop")
    opened = None
    try:
        connect(o, rl, url)
        port = int(url.split(":")[2].split("/")[0])
        before = {e.Id for e in rl.getInbox()}
        body = json.dumps({"diagnosis": "Entorse de la cheville"}, ensure_ascii=False).encode("utf-8")
        status, answer = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port, body,
                                      {"X-Doctor-Key": KEY, "Content-Type": "application/json"})
        check(status == 200, "push answered %d %s" % (status, answer[:200]))

        def ready():
            new = [e for e in rl.getInbox() if e.Id not in before]
            if new and new[0].DocxState == "ready":
                return new[0]
            raise Failure("entries %r" % [(e.Id, e.DocxState, e.DocxError) for e in new])
        entry_ = wait_until(ready, 30, "the DOCX fetched")
        wait_until(lambda: en["inbox.docx.ready"] in win.getControl("detail").Text.split("\n")
                   or _raise("detail %r" % win.getControl("detail").Text), 10, "the DOCX shown in the detail")
        button = win.getControl("openDocx")
        check(button.Model.Label == en["inbox.docx.open"], "label %r" % button.Model.Label)
        check(button.Model.Enabled and button.Model.EnableVisible, "Open the DOCX is disabled or hidden")
        count = len(list(desktop.Components))
        press(button)
        wait_until(lambda: len(list(desktop.Components)) == count + 1 or _raise("no new document"), 15,
                   "the DOCX opened")
        opened = [c for c in desktop.Components if c != doc and c.supportsService("com.sun.star.text.TextDocument")
                  and c.Text.String.strip()]
        check(opened, "no Writer document with text was opened")
        check(entry(rl, entry_.Id).DocxState == "ready", "the entry changed")
    finally:
        for c in opened or ():
            c.close(True)
        close(doc, el)
        rl.disconnect()


@test("the template panel inserts correctly named fields and checks which the letter has")
def _():
    o = setup()
    en = strings("en")
    doc, el, win = new_panel(o, TEMPLATE_URL)
    try:
        field = win.getControl("field")
        check(list(field.Model.StringItemList) == [en["field." + k] for k in FIELDS],
              "fields offered %r" % (field.Model.StringItemList,))
        text = doc.Text
        text.insertString(text.End, "Conclusion : ", False)
        field.selectItemPos(FIELDS.index("diagnosis"), True)
        press(win.getControl("insertField"))
        wait_until(lambda: "diagnosis" in bookmarks(doc) or _raise("bookmarks %s" % bookmarks(doc)), 10,
                   "the diagnosis field")
        check(bookmark_text(doc, "diagnosis") == "[%s]" % en["field.diagnosis"],
              "placeholder %r" % bookmark_text(doc, "diagnosis"))
        check(text.String.startswith("Conclusion : [" + en["field.diagnosis"] + "]"), "text %r" % text.String)
        press(win.getControl("insertField"))     # the same field again: a second place
        wait_until(lambda: "diagnosis_2" in bookmarks(doc) or _raise("bookmarks %s" % bookmarks(doc)), 10,
                   "diagnosis_2")
        # Around a selection: the selected words become the field.
        text.insertString(text.End, "\rÀ revoir dans un mois.", False)
        vc = doc.CurrentController.ViewCursor
        vc.gotoEnd(False)
        vc.goLeft(len("À revoir dans un mois."), True)
        field.selectItemPos(FIELDS.index("recommendation"), True)
        press(win.getControl("insertField"))
        wait_until(lambda: "recommendation" in bookmarks(doc) or _raise("bookmarks %s" % bookmarks(doc)), 10,
                   "the recommendation field")
        check(bookmark_text(doc, "recommendation") == "À revoir dans un mois.",
              "recommendation %r" % bookmark_text(doc, "recommendation"))
        # One undo removes one field.
        doc.UndoManager.undo()
        check("recommendation" not in bookmarks(doc), "undo left %s" % bookmarks(doc))
        check(text.String.endswith("À revoir dans un mois."), "undo changed the text: %r" % text.String)

        press(win.getControl("check"))
        result = win.getControl("checkResult").Text.split("\n")
        summary = en["template.check.summary"].replace("{0}", "1").replace("{1}", str(len(FIELDS)))
        check(result[0] == summary, "summary %r" % result[0])
        want = [en["template.check.present" if k == "diagnosis" else "template.check.missing"]
                .replace("{0}", en["field." + k]) for k in FIELDS]
        check(result[1:] == want, "check %r" % result[1:])
    finally:
        close(doc, el)


@test("a report fills the fields made with the template panel")
def _():
    o = setup()
    rl = o.report_link()
    doc, el, win = new_panel(o, TEMPLATE_URL)
    try:
        doc.Text.insertString(doc.Text.End, "Diagnostic : ", False)
        win.getControl("field").selectItemPos(FIELDS.index("diagnosis"), True)
        press(win.getControl("insertField"))
        wait_until(lambda: "diagnosis" in bookmarks(doc) or _raise("no field"), 10, "the field")
        doc.CurrentController.Frame.activate()
        check(rl.applyReport(report_message("Grippe saisonnière")) >= 1, "not placed")
        check(bookmark_text(doc, "diagnosis") == "Grippe saisonnière", "field %r" % bookmark_text(doc, "diagnosis"))
    finally:
        close(doc, el)


@test("Insert > ReportLink field and Tools > ReportLink are in Writer's menus, in English and French")
def _():
    o = setup()
    menus = o.config("/org.openoffice.Office.Addons/AddonUI/OfficeMenuBarMerging/org.reportlink.menus")
    insert = menus.getByName("insert_field")
    check(insert.MergePoint == ".uno:InsertMenu\\.uno:InsertBookmark", "MergePoint %r" % insert.MergePoint)
    check(insert.MergeContext == "com.sun.star.text.TextDocument", "MergeContext %r" % insert.MergeContext)
    sub = insert.MenuItems.getByName("m1").Submenu
    urls = [sub.getByName(n).URL for n in sorted(sub.ElementNames)]
    check(urls == ["org.reportlink:InsertField?" + k for k in FIELDS], "Insert items %r" % urls)
    tools = menus.getByName("tools").MenuItems.getByName("m1").Submenu
    urls = [tools.getByName(n).URL for n in sorted(tools.ElementNames)]
    check(urls == ["org.reportlink:Connect", "org.reportlink:Disconnect", "org.reportlink:Options"],
          "Tools items %r" % urls)
    # Both languages are there (the office shows the one of its UI).
    import xml.etree.ElementTree as ET
    tree = ET.parse(os.path.join(office.ROOT, "extension", "registry", "Addons.xcu"))
    titles = 0
    for prop in tree.iter("prop"):
        if prop.get("{http://openoffice.org/2001/registry}name") == "Title":
            langs = {v.get("{http://www.w3.org/XML/1998/namespace}lang") for v in prop.iter("value")}
            check(langs == {"en-US", "fr"}, "a title has languages %r" % langs)
            titles += 1
    check(titles == len(FIELDS) + 3 + 2, "%d titles" % titles)
    # The protocol handler is registered for the menus' URLs.
    handlers = o.config("/org.openoffice.Office.ProtocolHandler/HandlerSet")
    check(handlers.hasByName("org.reportlink.Dispatcher"), "no protocol handler")
    check(list(handlers.getByName("org.reportlink.Dispatcher").Protocols) == ["org.reportlink:*"],
          "protocols %r" % (handlers.getByName("org.reportlink.Dispatcher").Protocols,))


@test("the menu commands insert a field around the selection, and connect and disconnect")
def _():
    o = setup()
    rl = o.report_link()
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    server, url = devserver(KEY)
    try:
        doc.Text.insertString(doc.Text.End, "Motif : douleur thoracique", False)
        vc = doc.CurrentController.ViewCursor
        vc.gotoEnd(False)
        vc.goLeft(len("douleur thoracique"), True)
        dispatch(o, doc, "org.reportlink:InsertField?history")
        check(bookmarks(doc) == ["history"], "bookmarks %s" % bookmarks(doc))
        check(bookmark_text(doc, "history") == "douleur thoracique", "history %r" % bookmark_text(doc, "history"))
        vc.gotoEnd(False)
        dispatch(o, doc, "org.reportlink:InsertField?report_text")
        check(bookmark_text(doc, "report_text") == "[%s]" % strings("en")["field.report_text"],
              "report_text %r" % bookmark_text(doc, "report_text"))
        # Tools > ReportLink > Connect / Disconnect.
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(KEY)
        rl.disconnect()
        wait_state(rl, "stopped")
        dispatch(o, doc, "org.reportlink:Connect")
        wait_state(rl, "connected")
        dispatch(o, doc, "org.reportlink:Disconnect")
        wait_state(rl, "stopped")
        # An unknown command is not ours: nothing happens, nothing breaks.
        dispatch(o, doc, "org.reportlink:Nonsense")
        check(rl.getStatus().State == "stopped", "state %s" % rl.getStatus().State)
    finally:
        doc.close(True)


@test("a read-only letter refuses a new field and stays unchanged")
def _():
    o = setup()
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter_copy()), "_blank", 0,
                                       (pv("ReadOnly", True),))
    try:
        before = bookmarks(doc)
        dispatch(o, doc, "org.reportlink:InsertField?diagnosis")
        check(bookmarks(doc) == before, "bookmarks changed: %s" % bookmarks(doc))
    finally:
        doc.close(True)


@test("the office quits cleanly with a panel open")
def _():
    o = setup()
    doc, el, win = new_panel(o)
    o.stop()
    check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)
    wait_until(lambda: not o.pids(), 10, "no soffice process left")


if __name__ == "__main__":
    sys.exit(harness.run_all())
