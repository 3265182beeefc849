#!/usr/bin/python3
"""make run: ReportLink doing its job, end to end, on this machine.

Installs build/reportlink.oxt into a dedicated LibreOffice profile
(build/run/), starts the development report service with its demo report,
opens the sample French patient letter with ReportLink's sidebar deck,
points ReportLink at the service with a demo key, and waits for the report
to land in the letter and in the sidebar's inbox. With a display (and not as
root) Writer stays open until you close it; without one, LibreOffice runs on
a virtual display (Xvfb) and the screen is saved to
build/screenshots/make-run.png. Either way the filled letter, the connection
state and the inbox are printed.
"""
import os
import secrets
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lo"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import office  # noqa: E402  (before uno: it gives python-uno ReportLink's types)
import harness  # noqa: E402
from lofix import Listener, Xvfb, devserver, wait_state  # noqa: E402
import uno  # noqa: E402

TEMPLATE = os.path.join(ROOT, "extension", "templates", "lettre-patient.odt")
SCREENSHOT = os.path.join(office.BUILD, "screenshots", "make-run.png")


def open_sidebar(doc):
    """Shows ReportLink's deck in the letter's sidebar, every panel expanded."""
    sidebar = doc.CurrentController.getSidebar()
    sidebar.setVisible(True)
    decks = sidebar.getDecks()
    if not decks.hasByName("ReportLinkDeck"):
        print("   (the sidebar has no ReportLink deck: %s)" % (decks.ElementNames,))
        return
    deck = decks.getByName("ReportLinkDeck")
    deck.activate(True)
    panels = deck.getPanels()
    for name in panels.ElementNames:
        panels.getByName(name).expand(False)


def main():
    visible = bool(os.environ.get("DISPLAY")) and os.geteuid() != 0
    xvfb = None
    if not visible and shutil.which("Xvfb"):
        xvfb = Xvfb((1280, 800))
        os.environ["DISPLAY"] = ":%d" % xvfb.display
    key = "demo-" + secrets.token_hex(8)
    print("1. Starting the development report service (it sends a demo report after login)...")
    server, url = devserver(key, whole_run=True, demo=True)
    print("   %s" % url)

    print("2. Installing ReportLink into a fresh LibreOffice profile and starting LibreOffice%s..."
          % ("" if visible else " on a virtual display (Xvfb)" if xvfb else " (headless: no display)"))
    o = office.Office("make run")
    if visible:
        o.visible_plugin = None   # on the user's own display, the office looks as it does for them
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start(visible=visible or xvfb is not None)
        rl = o.report_link()
        if rl is None:
            raise SystemExit("ReportLink did not start; see %s" % o.log_path)
        desktop = o.service("com.sun.star.frame.Desktop")

        print("3. Opening the sample letter (extension/templates/lettre-patient.odt)...")
        letter = os.path.join(o.home, "lettre-patient.odt")
        shutil.copy(TEMPLATE, letter)
        if os.geteuid() == 0:
            os.chown(letter, office.NOBODY, office.NOBODY)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter), "_blank", 0, ())
        if visible or xvfb:
            window = doc.CurrentController.Frame.ContainerWindow
            window.IsMaximized = True
            open_sidebar(doc)

        print("4. Pointing ReportLink at the service with the demo key, and connecting...")
        listener = Listener()
        rl.addListener(listener)
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(key)
        rl.connect()
        wait_state(rl, "connected")
        s = rl.getStatus()
        print("   state: %s (%s)" % (s.State, s.Detail))
        listener.wait(lambda l: l.reports, 30, "the demo report")
        inbox_id, placed, where = listener.reports[0]
        print("5. The demo report arrived: %s." % ("placed in " + where if placed else "NOT placed"))
        if not placed:
            for e in rl.getInbox():
                print("   waiting: %s" % e.Reason)
        s = rl.getStatus()
        print("6. The sidebar shows: state %s, server %s, last heartbeat %s ms ago; the inbox:"
              % (s.State, s.Endpoint, s.LastHeartbeatMs))
        for e in rl.getInbox():
            print("   %s  %s  %s" % (e.ReceivedAt[11:16], e.Summary,
                                   "placed in " + e.Where if e.Status == "placed" else "waiting: " + e.Reason))
        if xvfb:
            time.sleep(1.5)    # let the office paint
            xvfb.screenshot(SCREENSHOT)
            print("   Screen saved: %s" % os.path.relpath(SCREENSHOT))
        print()
        print("-" * 72)
        print(doc.Text.String)
        print("-" * 72)
        if visible:
            print("The letter is open in Writer. Close LibreOffice to end the demo.")
            o.proc.wait()
        else:
            doc.setModified(False)   # a demo letter: no "save changes?" question at exit
    finally:
        try:
            o.stop()
        except Exception:   # the user closed it, or it is already gone
            pass
        o.close()
        harness.stop_all(including_whole_run=True)


if __name__ == "__main__":
    main()
