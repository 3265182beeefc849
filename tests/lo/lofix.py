"""lofix.py - fixtures shared by the LibreOffice test runners: the devserver,
waiting for a connection state, and a listener implemented in Python.
Import after `office` (which sets up python-uno's types)."""

import os
import threading

import office
import unohelper
from com.sun.star.task import XInteractionHandler
from harness import Failure, Proc, wait_until
from org.reportlink import XReportLinkListener

DEVSERVER = os.path.join(office.BUILD, "reportlink-devserver")
STATE_TIMEOUT_S = 20     # a state change, including a reconnection


def devserver(*keys, whole_run=False, demo=False):
    """A devserver accepting keys; returns (proc, ws_url). whole_run: it
    serves every test of the run instead of ending with the current test.
    demo: it sends its demo report 1.5 s after each authentication."""
    argv = [DEVSERVER, "--port", "0"] + (["--demo", "--demo-delay", "1500"] if demo else [])
    p = Proc("devserver", argv, env={"REPORTLINK_DEVSERVER_KEYS": ",".join(keys)}, whole_run=whole_run)
    ev = p.wait_json(lambda e: e.get("event") == "listening", 10, "listening line")
    return p, "ws://127.0.0.1:%d/reports/ws" % ev["port"]


def state_of(rl):
    return rl.getStatus().State


def wait_state(rl, state, timeout=STATE_TIMEOUT_S):
    def reached():
        s = rl.getStatus()
        if s.State == state:
            return s
        raise Failure("state %s (%s)" % (s.State, s.Detail))
    return wait_until(reached, timeout, "state %s" % state, interval=0.1)


def stderr_count(proc, text):
    return proc.stderr_bytes.count(text.encode())


class Listener(unohelper.Base, XReportLinkListener):
    """Records what ReportLink tells it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.states = []
        self.reports = []
        self.changed = []
        self.disposed = 0

    def stateChanged(self, s):
        with self.cond:
            self.states.append((s.State, s.Detail, s.Endpoint))
            self.cond.notify_all()

    def reportReceived(self, inbox_id, placed, where):
        with self.cond:
            self.reports.append((inbox_id, placed, where))
            self.cond.notify_all()

    def inboxChanged(self, inbox_id):
        with self.cond:
            self.changed.append(inbox_id)
            self.cond.notify_all()

    def disposing(self, event):
        with self.cond:
            self.disposed += 1
            self.cond.notify_all()

    def wait(self, pred, timeout, what):
        with self.cond:
            if not self.cond.wait_for(lambda: pred(self), timeout):
                raise Failure("listener: no %s within %.0f s (states %s, reports %s)"
                              % (what, timeout, [s[0] for s in self.states], self.reports))


class SilentHandler(unohelper.Base, XInteractionHandler):
    def handle(self, request):
        pass


