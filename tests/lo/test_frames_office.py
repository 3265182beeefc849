#!/usr/bin/python3
"""test_frames_office.py - a hostile server cannot take the office down: the
frames that once killed LibreOffice, and protocol errors, against the
extension in a real headless LibreOffice (build/reportlink.oxt installed by
unopkg into a throwaway profile).

The server is tests/servers/frame-server.mjs (raw frames after a real
handshake), driven as tests/integration/test_frames.py drives it. One office
(AutoConnect off, connected by the test through theReportLink) and one
frame-server serve the whole run; the cases run in order in that same office,
with one letter open throughout, holding a sentence the doctor typed outside
the fields. After each case:
  - the office process is alive and a UNO call answers;
  - the letter still holds the doctor's sentence;
  - the connection the case was played on has ended, with the client's close
    code where libwebsockets sends one (1009 too big, 1002 protocol error);
  - the extension is "connected" again on a new connection, by its own
    backoff (default 1 s base, doubling with each failed session until one
    stays up 30 s: the wait follows the retry time the extension announces);
  - nothing from the bad frame reached the letter or the inbox, and the next
    valid report, sent as one ordinary frame, fills the letter's fields.
Last, the office quits cleanly.

Needs build/reportlink.oxt, build/reportlink.rdb and tests/servers/node_modules
(tests/integration/setup.sh). Output: "ok - name" / "FAIL - name: why" per
test, then "N passed, N failed". Arguments select tests whose name contains
one of them (the office and the letter are set up by whichever runs first).
"""

import json
import os
import secrets
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
import lofix  # noqa: E402
from harness import Failure, check, test, wait_until  # noqa: E402
from lofix import Listener, close_at_exit, wait_state  # noqa: E402
import test_frames as tf  # noqa: E402
import test_listen as tl  # noqa: E402

import uno  # noqa: E402

harness.TEST_TIMEOUT_S = 180          # the first test installs and starts the office
TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
FIELDS = ("history", "findings", "diagnosis", "procedure", "recommendation")
KEY = tl.KEYS[0]
MIB = tf.MIB
PLAY_TIMEOUT_S = 90        # the server writes 20 MiB, or sees the socket go
CLOSE_TIMEOUT_S = 30       # the client ends the failed link (tf.CLOSE_S is 15 for reportlink-listen)
RECONNECT_TIMEOUT_S = 20   # default 1 s base backoff, then a handshake and authentication
PLACE_TIMEOUT_S = 15
DOCTOR_SENTENCE = "Vu ce jour en consultation, accompagnée de sa fille. %s" % secrets.token_hex(4)

_docs_dir = lofix.office_docs_dir("reportlink-docs-")

_state = {}
close_at_exit(_state)


# ---------------------------------------------------------------- fixtures

def the_server():
    server = _state.get("server")
    if server is None:
        server = _state["server"] = tf.FrameServer().start()
        server.proc.whole_run = True      # serves every test; stopped at the end of the run
    return server


def the_office():
    o = _state.get("office")
    if o is None:
        o = _state["office"] = office.Office("office F")
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
    return o


def open_letter(desktop):
    path = os.path.join(_docs_dir, "letter-%s.odt" % secrets.token_hex(4))
    shutil.copy(TEMPLATE, path)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, ())
    check(doc is not None, "the template did not open")
    # The doctor types a sentence of her own, after the fields.
    text = doc.Text
    cur = text.createTextCursor()
    cur.gotoEnd(False)
    text.insertControlCharacter(cur, 0, False)     # PARAGRAPH_BREAK
    text.insertString(cur, DOCTOR_SENTENCE, False)
    check(DOCTOR_SENTENCE in text.String, "the doctor's sentence is not in the letter")
    for name in FIELDS:
        check(DOCTOR_SENTENCE not in doc.Bookmarks.getByName(name).Anchor.String,
              "the doctor's sentence landed inside the bookmark %s" % name)
    return doc


def setup():
    """The office running, connected to the frame-server, with a listener and
    the letter open."""
    server = the_server()
    o = the_office()
    if o.proc is None:
        o.start()
        _state.pop("listener", None)
        _state.pop("doc", None)
    rl = o.report_link()
    if "listener" not in _state:
        _state["listener"] = Listener()
        rl.addListener(_state["listener"])
    s = rl.getStatus()
    if s.State != "connected" or s.Endpoint != server.url:
        o.set_setting("Endpoint", server.url)
        rl.setDoctorKey(KEY)
        rl.connect()
        wait_state(rl, "connected")
    desktop = o.service("com.sun.star.frame.Desktop")
    if "doc" not in _state:
        _state["doc"] = open_letter(desktop)
    return o, rl, server, _state["listener"], _state["doc"]


def current_connection(server):
    """The newest open, authenticated connection: the one play() uses."""
    conns = [c for c in server.connections() if c["open"] and c["authenticated"]]
    check(conns, "the frame-server has no open authenticated connection: %s"
          % [(c["id"], c["open"], c["authenticated"]) for c in server.connections()])
    return conns[-1]


def office_answers(o, rl, pid, what):
    """soffice.bin is the same process and answers a UNO call."""
    check(o.proc is not None and o.proc.poll() is None,
          "%s: soffice exited with %s; %s" % (what, o.proc and o.proc.returncode, o.log_tail()))
    check(os.path.exists("/proc/%d" % pid), "%s: soffice.bin (pid %d) is gone; %s" % (what, pid, o.log_tail()))
    check(o.soffice_bin_pid() == pid, "%s: soffice.bin is now pid %s, was %d" % (what, o.soffice_bin_pid(), pid))
    try:
        state = rl.getStatus().State
        o.service("com.sun.star.frame.Desktop").getComponents()
    except Exception as e:
        raise Failure("%s: a UNO call failed: %s: %s; %s" % (what, type(e).__name__, e, o.log_tail())) from None
    return state


def letter_text(doc, what):
    try:
        return doc.Text.String
    except Exception as e:
        raise Failure("%s: the letter does not answer: %s: %s" % (what, type(e).__name__, e)) from None


def next_fields(tag):
    msg = tl.report()
    del msg["url"]     # no DOCX to fetch: the run stays on loopback
    f = dict(msg["json_report"])
    f["diagnosis"] = "%s (%s)" % (f["diagnosis"], tag)
    msg["json_report"] = f
    return msg, f


def vm_hwm_kib(pid):
    try:
        return tf.rss_high_water_kib(pid)
    except OSError:
        return 0


def hostile_case(steps, close_code):
    """The body of one case: steps played on the extension's connection;
    close_code: the client's close code expected on it (None: the connection
    ends without a close frame from the client)."""
    def body():
        o, rl, server, lis, doc = setup()
        pid = o.soffice_bin_pid()
        check(pid is not None, "no soffice.bin")
        check(DOCTOR_SENTENCE in letter_text(doc, "before the case"), "the doctor's sentence is gone before the case")
        cid = current_connection(server)["id"]
        with lis.cond:
            states_before = len(lis.states)
            reports_before = len(lis.reports)
        inbox_before = len(rl.getInbox())
        hwm_before = vm_hwm_kib(pid)
        t0 = time.monotonic()

        played = server.play(steps, timeout=PLAY_TIMEOUT_S)
        conn = tf.wait_closed(server, cid, CLOSE_TIMEOUT_S)
        t_closed = time.monotonic() - t0

        office_answers(o, rl, pid, "after the case")
        check(DOCTOR_SENTENCE in letter_text(doc, "after the case"), "the doctor's sentence is gone from the letter")
        if close_code is not None:
            check(conn["close_code"] == close_code,
                  "the extension's close code was %s, expected %d (reason %r)"
                  % (conn["close_code"], close_code, conn["close_reason"]))

        # Back on a new connection, by the extension's own backoff. Its delay
        # is drawn from [0, 1 s * 2^(attempt-1)], and the attempt count is
        # reset only by a session that stayed up 30 s: back-to-back cases
        # see it grow. So the wait is RECONNECT_TIMEOUT_S beyond the retry
        # time the extension announces.
        deadline = time.monotonic() + RECONNECT_TIMEOUT_S
        backoffs = []       # (attempt, announced delay in ms)
        while True:
            s = rl.getStatus()
            if s.State == "connected":
                c = current_connection(server)
                if c["id"] != cid:
                    new = c
                    break
            elif s.State == "backoff":
                if not backoffs or backoffs[-1][0] != s.Attempt:
                    backoffs.append((s.Attempt, s.NextRetryMs))
                    deadline = max(deadline, time.monotonic() + s.NextRetryMs / 1000.0 + RECONNECT_TIMEOUT_S)
            elif s.State in ("auth_failed", "replaced", "stopped"):
                raise Failure("the extension is in state %s (%s) after the case" % (s.State, s.Detail))
            if time.monotonic() > deadline:
                raise Failure("not connected again on a new connection: state %s (%s); backoffs %s"
                              % (s.State, s.Detail, backoffs))
            time.sleep(0.1)
        last_close = rl.getStatus().LastCloseCode
        t_back = time.monotonic() - t0
        with lis.cond:
            states = [s[0] for s in lis.states[states_before:]]
            bad_reports = lis.reports[reports_before:]
        check(not bad_reports, "the hostile frame produced report notifications: %s" % bad_reports)
        check(len(rl.getInbox()) == inbox_before, "the inbox grew from %d to %d entries"
              % (inbox_before, len(rl.getInbox())))

        # The next valid report, one ordinary frame, fills the letter.
        msg, f = next_fields("après #%d" % cid)
        server.play(tf.F(text=json.dumps(msg, ensure_ascii=False)))
        lis.wait(lambda l: len(l.reports) > reports_before, PLACE_TIMEOUT_S, "report notification")
        with lis.cond:
            inbox_id, placed, where = lis.reports[reports_before]
        check(placed, "the next valid report was not placed (%r); inbox: %s"
              % (where, [(e.Id, e.Status, e.Reason) for e in rl.getInbox()]))
        for k in FIELDS:
            got = doc.Bookmarks.getByName(k).Anchor.String
            check(got == f[k], "after the next report, bookmark %s holds %r" % (k, got[:80]))
        check(DOCTOR_SENTENCE in letter_text(doc, "after placement"), "the doctor's sentence is gone after placement")
        office_answers(o, rl, pid, "at the end of the case")
        harness.note("connection #%d ended in %.1f s (client close code %s, LastCloseCode %d, play aborted: %s); "
                     "connected on #%d after %.1f s (backoff attempt, announced ms: %s); states %s; "
                     "soffice.bin peak RSS +%d KiB"
                     % (cid, t_closed, conn["close_code"], last_close, played.get("aborted", False), new["id"],
                        t_back, backoffs, "->".join(states), vm_hwm_kib(pid) - hwm_before))
    return body


# ---------------------------------------------------------------- cases

test("one single text frame of 20 MiB (killed LibreOffice 25.2): refused with 1009, the office carries on",
     hostile_case(tf.F(fill=tf.big_report(20 * MIB)), 1009))
test("one single text frame of 17 MiB: refused with 1009, the office carries on",
     hostile_case(tf.F(fill=tf.big_report(17 * MIB)), 1009))
test("a frame with RSV1 set: the connection ends, the office carries on",
     hostile_case(tf.F(rsv=4, text=tf.SMALL), None))
test("a frame with the reserved opcode 3: the connection ends, the office carries on",
     hostile_case(tf.F(op=3, text="x"), None))
test("a close frame with code 5000: answered with 1002, the office carries on",
     hostile_case(tf.F(op=8, hex=tf.close_payload(5000)), 1002))
test("a close frame with a 1-byte payload: answered with 1002, the office carries on",
     hostile_case(tf.F(op=8, hex="03"), 1002))


@test("after all the cases the letter still has the doctor's sentence and the office quits cleanly")
def _():
    o, rl, server, lis, doc = setup()
    check(DOCTOR_SENTENCE in letter_text(doc, "at the end"), "the doctor's sentence is gone")
    try:
        doc.close(True)
    finally:
        _state.pop("doc", None)
    status = o.stop()
    check(status == 0, "soffice exited with %s; %s" % (status, o.log_tail()))
    wait_until(lambda: not o.pids(), 10, "no office process left")


if __name__ == "__main__":
    sys.exit(harness.run_all())
