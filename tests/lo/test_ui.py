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

import atexit
import os
import re
import secrets
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import Failure, check, secret, test, wait_until  # noqa: E402
from lofix import devserver, save_xwd_as_png, wait_state  # noqa: E402

import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402

harness.TEST_TIMEOUT_S = 150
PANEL_URL = "private:resource/toolpanel/ReportLinkPanelFactory/StatusPanel"
I18N = os.path.join(office.ROOT, "extension", "i18n")
KEY = secret("doctor-" + secrets.token_hex(12))
TEXT_TIMEOUT_S = 20      # the panel follows a state change
TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
SHOTS = os.path.join(office.BUILD, "screenshots")
SCREEN = (1280, 800)

_state = {}


def _cleanup():
    o = _state.get("office")
    if o is not None:
        try:
            o.stop()
        except Exception:   # cleanup: close() kills it whatever happened
            pass
        o.close()


atexit.register(_cleanup)


# ---------------------------------------------------------------- helpers

def strings(lang):
    """The panel's words in lang, read as the extension reads them."""
    out = {}
    with open(os.path.join(I18N, "strings_%s.properties" % lang), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip().replace("\\n", "\n")
    return out


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


def new_panel(o):
    """A Writer document and the status panel created in its frame, as the
    sidebar creates it. Returns (doc, element, panel window)."""
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    check(doc is not None, "no Writer document")
    frame = doc.CurrentController.Frame
    mgr = o.service("com.sun.star.ui.UIElementFactoryManager")
    el = mgr.createUIElement(PANEL_URL, (pv("Frame", frame), pv("ParentWindow", frame.ContainerWindow)))
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


def letter_copy():
    """A copy of the sample letter that the office (run as nobody) may lock."""
    d = tempfile.mkdtemp(prefix="reportlink-docs-")
    atexit.register(shutil.rmtree, d, True)
    path = os.path.join(d, "lettre-patient.odt")
    shutil.copy(TEMPLATE, path)
    os.chmod(d, 0o755)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(d, office.NOBODY, office.NOBODY)
        os.chown(path, office.NOBODY, office.NOBODY)
    return path


def wait_label(control, label, timeout=5):
    def shown():
        if control.Model.Label == label:
            return True
        raise Failure("label %r" % control.Model.Label)
    return wait_until(shown, timeout, "label %r" % label)


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
        check(status_text(win) == en["state.stopped"], "status line %r" % status_text(win))
        check(win.getControl("statusTitle").Text == en["status.title"], "title %r" % win.getControl("statusTitle").Text)
        check(win.getControl("connect").Model.Label == en["button.connect"], "button %r"
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
        check(win.getControl("error").Text not in ("", en["error.none"]), "no last error shown")
        check(win.getControl("connect").Model.Label == en["button.connect"], "button %r"
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


@test("in a visible Writer the sidebar opens the ReportLink deck on the sample letter, connected")
def _():
    # A real sidebar on an X server (Xvfb), so that the deck and panel are
    # built by the sidebar itself; the screen is saved as
    # build/screenshots/sidebar-connected.png from Xvfb's frame buffer.
    fbdir = tempfile.mkdtemp(prefix="reportlink-xvfb-")
    atexit.register(shutil.rmtree, fbdir, True)
    xvfb = harness.Proc("Xvfb", ["Xvfb", "-displayfd", "1", "-fbdir", fbdir, "-screen", "0",
                                 "%dx%dx24" % SCREEN, "-nolisten", "tcp"])
    display = xvfb.wait_json(lambda e: isinstance(e, int), 10, "Xvfb's display number")
    o = office.Office("office V")
    old_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = ":%d" % display
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start(visible=True)
        rl = o.report_link()
        server, url = devserver(KEY)
        connect(o, rl, url)
        desktop = o.service("com.sun.star.frame.Desktop")
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter_copy()), "_blank", 0, ())
        check(doc is not None, "the sample letter did not open")
        window = doc.CurrentController.Frame.ContainerWindow
        window.setPosSize(0, 0, SCREEN[0], SCREEN[1], 15)
        window.IsMaximized = True
        sidebar = doc.CurrentController.getSidebar()
        sidebar.setVisible(True)
        decks = sidebar.getDecks()
        check(decks.hasByName("ReportLinkDeck"), "the sidebar has no ReportLink deck: %s" % (decks.ElementNames,))
        deck = decks.getByName("ReportLinkDeck")
        deck.activate(True)
        wait_until(lambda: deck.isActive() or (_raise("the deck is not active")), 10, "the deck active")
        panels = deck.getPanels()
        check(panels.hasByName("ReportLinkStatusPanel"), "the deck has no status panel: %s"
              % (panels.ElementNames,))
        check(panels.getByName("ReportLinkStatusPanel").isExpanded(), "the status panel is collapsed")
        # Wait for the first heartbeat, then for the office to paint it.
        wait_until(lambda: rl.getStatus().LastHeartbeatMs >= 0 or _raise("no heartbeat"), 15, "a heartbeat")
        time.sleep(1.5)
        os.makedirs(SHOTS, exist_ok=True)
        save_xwd_as_png(os.path.join(fbdir, "Xvfb_screen0"), os.path.join(SHOTS, "sidebar-connected.png"))
        rl.disconnect()
        o.stop()
        check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)
    finally:
        if old_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old_display
        o.close()


@test("the office quits cleanly with a panel open")
def _():
    o = setup()
    doc, el, win = new_panel(o)
    o.stop()
    check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)
    wait_until(lambda: not o.pids(), 10, "no soffice process left")


if __name__ == "__main__":
    sys.exit(harness.run_all())
