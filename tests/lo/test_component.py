#!/usr/bin/python3
"""test_component.py - ReportLink's component inside a real headless LibreOffice.

Needs build/reportlink.oxt, build/reportlink.rdb and build/reportlink-devserver
(`make build/reportlink.oxt build/reportlink-devserver`). Two offices are used:
office A (AutoConnect turned off in its profile before its first start) for
the API tests, office B (the defaults) for the tests that restart the office.
Each test starts its own devserver. Output: "ok - name" / "FAIL - name: why"
per test, then "N passed, N failed"; exit status 1 on failure. Arguments
select tests whose name contains one of them.
"""

import atexit
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import Failure, Proc, check, secret, test, wait_until  # noqa: E402
from lofix import (DEVSERVER, STATE_TIMEOUT_S, Listener, SilentHandler, devserver,  # noqa: E402
                   state_of, stderr_count, wait_state, wait_stderr)

import uno  # noqa: E402
import unohelper  # noqa: E402
from com.sun.star.lang import IllegalArgumentException  # noqa: E402
from com.sun.star.task import XInteractionHandler  # noqa: E402
from org.reportlink import XReportLinkListener  # noqa: E402

SETTINGS = "/org.reportlink.Settings"
CONNECTION = SETTINGS + "/Connection"
DEFAULT_ENDPOINT = "wss://upload-with-html.onrender.com/reports/ws"
FIELDS = ("history", "findings", "diagnosis", "procedure", "recommendation")
KEY_URL = "reportlink://doctor-key"

# An office start, a restart and a devserver each take a few seconds.
harness.TEST_TIMEOUT_S = 150

KEY = secret("doctor-" + secrets.token_hex(12))
WRONG_KEY = secret("wrong-" + secrets.token_hex(12))

REPORT = ('{"type":"report_ready","url":"https://example.invalid/r.docx","html_content":"<p>x</p>",'
          '"rtf_report":"{\\\\rtf1 x}","plaintext_report":"x","json_report":{"history":"h",'
          '"findings":"f","diagnosis":"d","procedure":"p","recommendation":"r"}}')


# ---------------------------------------------------------------- fixtures

_offices = {}


def _close_offices():
    """Quits every office (killing it if it does not quit) and removes its profile."""
    for o in _offices.values():
        try:
            o.stop()
        except Exception:   # cleanup: whatever went wrong, close() kills it
            pass
        o.close()


atexit.register(_close_offices)


def office_a():
    """The office for API tests: AutoConnect off, started once."""
    o = _offices.get("A")
    if o is None:
        o = _offices["A"] = office.Office("office A")
        o.install()
        o.set_before_start(CONNECTION, "AutoConnect", "false")
    if o.proc is None:
        o.start()
    return o


def office_b():
    """The office whose profile keeps the defaults, for restart tests."""
    o = _offices.get("B")
    if o is None:
        o = _offices["B"] = office.Office("office B")
        o.install()
    if o.proc is None:
        o.start()
    return o


def connect_a(server_url, key=KEY):
    """Office A, pointed at server_url with key, connected."""
    o = office_a()
    rl = o.report_link()
    o.set_setting("Endpoint", server_url)
    rl.setDoctorKey(key)
    rl.connect()
    wait_state(rl, "connected")
    return o, rl


# ---------------------------------------------------------------- office A

@test("theReportLink exists and its state is stopped when AutoConnect is off")
def _():
    o = office_a()
    rl = o.report_link()
    check(rl is not None, "no /singletons/org.reportlink.theReportLink")
    check(rl.getImplementationName() == "org.reportlink.ReportLink", "implementation %s" % rl.getImplementationName())
    s = rl.getStatus()
    check(s.State == "stopped", "state %s (%s)" % (s.State, s.Detail))
    check(s.LastHeartbeatMs == -1 and s.LastRoundTripMs == -1, "heartbeat %d, rtt %d" % (s.LastHeartbeatMs, s.LastRoundTripMs))
    check("reportlink: AutoConnect" not in o.log_text(), "the start-up job tried to connect")


@test("the settings' defaults are readable through ConfigurationProvider")
def _():
    o = office_a()
    c = o.config(CONNECTION)
    check(c.getByName("Endpoint") == DEFAULT_ENDPOINT, "Endpoint %r" % c.getByName("Endpoint"))
    check(c.getByName("PingIntervalSeconds") == 30, "PingIntervalSeconds %r" % c.getByName("PingIntervalSeconds"))
    check(c.getByName("CaFile") == "", "CaFile %r" % c.getByName("CaFile"))
    check(c.getByName("AutoConnect") is False, "AutoConnect (set off in this profile) %r" % c.getByName("AutoConnect"))
    fields = o.config(SETTINGS + "/Fields")
    names = sorted(fields.getElementNames())
    check(names == sorted(FIELDS), "Fields %s" % names)
    for name in FIELDS:
        bookmark = fields.getByName(name).getByName("Bookmark")
        check(bookmark == name, "Fields/%s -> %r" % (name, bookmark))


@test("setDoctorKey then connect reaches connected against the devserver")
def _():
    server, url = devserver(KEY)
    o, rl = connect_a(url)
    s = rl.getStatus()
    check(s.Endpoint == url, "Endpoint %s" % s.Endpoint)
    check(wait_stderr(server, "authenticated with key #1") == 1, "the devserver saw no authentication")
    wait_until(lambda: rl.getStatus().LastRoundTripMs >= 0, 10, "a round trip measured")
    rl.disconnect()
    wait_state(rl, "stopped")


@test("a listener implemented in Python receives stateChanged with connected")
def _():
    server, url = devserver(KEY)
    o = office_a()
    rl = o.report_link()
    listener = Listener()
    rl.addListener(listener)
    try:
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(KEY)
        rl.connect()
        listener.wait(lambda l: any(s[0] == "connected" for s in l.states), STATE_TIMEOUT_S, "connected")
        seen = [s[0] for s in listener.states]
        check("connecting" in seen and seen.index("connecting") < seen.index("connected"),
              "states in order: %s" % seen)
        check(listener.states[-1][2] == url, "Endpoint in the event %s" % listener.states[-1][2])
    finally:
        rl.removeListener(listener)
        rl.disconnect()
    wait_state(rl, "stopped")
    n = len(listener.states)
    rl.connect()
    wait_state(rl, "connected")
    rl.disconnect()
    wait_state(rl, "stopped")
    check(len(listener.states) == n, "a removed listener still got %s" % listener.states[n:])


LISTENER_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import office, uno, unohelper
from org.reportlink import XReportLinkListener
class L(unohelper.Base, XReportLinkListener):
    def stateChanged(self, s): pass
    def reportReceived(self, i, p, w): pass
    def inboxChanged(self, i): pass
    def disposing(self, e): pass
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%s;urp;StarOffice.ComponentContext" % sys.argv[1])
ctx.getValueByName("/singletons/org.reportlink.theReportLink").addListener(L())
print("ready", flush=True)
time.sleep(600)
"""


@test("a listener whose process died is dropped and the other listeners still hear")
def _():
    server, url = devserver(KEY)
    o = office_a()
    rl = o.report_link()
    other = Proc("listener process", [sys.executable, "-c", LISTENER_SCRIPT, str(o.port), HERE])
    other.wait_json(lambda e: e.get("_unparsed") == "ready", 20, "ready")
    listener = Listener()
    rl.addListener(listener)
    try:
        other.kill()
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(KEY)
        rl.connect()
        listener.wait(lambda l: any(s[0] == "connected" for s in l.states), STATE_TIMEOUT_S, "connected")
        rl.disconnect()
        listener.wait(lambda l: l.states[-1][0] == "stopped", STATE_TIMEOUT_S, "stopped")
    finally:
        rl.removeListener(listener)
    check("a listener failed" not in o.log_text(), "the dead listener was not dropped quietly")


@test("a wrong key reaches auth_failed with a detail")
def _():
    server, url = devserver(KEY)
    o, rl = connect_a(url)
    rl.setDoctorKey(WRONG_KEY)   # reconnects with the new key
    s = wait_state(rl, "auth_failed")
    check(s.Detail != "", "auth_failed without a detail")
    check(WRONG_KEY not in s.Detail and WRONG_KEY not in s.LastError, "the key is in the status")
    check(wait_stderr(server, "unknown key") >= 1, "the devserver saw no unknown key")
    rl.setDoctorKey(KEY)
    rl.connect()
    wait_state(rl, "connected")
    rl.disconnect()
    wait_state(rl, "stopped")


@test("a committed change of Endpoint reconnects to the new address")
def _():
    first, url1 = devserver(KEY)
    second, url2 = devserver(KEY)
    o, rl = connect_a(url1)
    o.set_setting("Endpoint", url2)
    def on_second():
        s = rl.getStatus()
        return s.State == "connected" and s.Endpoint == url2
    wait_until(on_second, STATE_TIMEOUT_S, "connected to the new endpoint")
    check(wait_stderr(second, "authenticated with key #1") == 1, "the new server saw no authentication")
    wait_until(lambda: stderr_count(first, "client closed with 1000") == 1, 5, "the old server seeing close 1000")
    rl.disconnect()
    wait_state(rl, "stopped")


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=30)
    check(r.returncode == 0, "openssl %s failed: %s" % (args[0], r.stderr.decode()[-300:]))


def make_pki():
    """A throwaway CA and a certificate it signs for localhost, in a directory
    the office's user can read. Returns (dir, ca.pem, server.pem, server.key)."""
    d = tempfile.mkdtemp(prefix="reportlink-pki-")
    os.chmod(d, 0o755)
    ca_key, ca, key, csr, crt, ext = (os.path.join(d, n) for n in
                                      ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "srv.ext"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=ReportLink LO test CA")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
            "-days", "2", "-extfile", ext)
    os.chmod(ca, 0o644)
    return d, ca, crt, key


@test("a committed change of CaFile is applied at once: a server signed by that CA becomes reachable")
def _():
    d, ca, crt, key = make_pki()
    try:
        p = Proc("devserver, wss", [DEVSERVER, "--port", "0", "--tls-cert", crt, "--tls-key", key],
                 env={"REPORTLINK_DEVSERVER_KEYS": KEY})
        port = p.wait_json(lambda e: e.get("event") == "listening", 10, "listening line")["port"]
        o = office_a()
        rl = o.report_link()
        o.set_setting("Endpoint", "wss://localhost:%d/reports/ws" % port)
        rl.setDoctorKey(KEY)
        rl.connect()
        s = wait_state(rl, "backoff")
        check(s.LastError != "", "backoff without an error")
        o.set_setting("CaFile", ca)
        wait_state(rl, "connected")
        check(wait_stderr(p, "authenticated with key #1") == 1, "the devserver saw no authentication")
    finally:
        rl.disconnect()
        o.set_setting("CaFile", "")
        shutil.rmtree(d, ignore_errors=True)
    wait_state(rl, "stopped")


@test("a committed change of PingIntervalSeconds is used by the connection")
def _():
    server, url = devserver(KEY)
    o = office_a()
    rl = o.report_link()
    o.set_setting("PingIntervalSeconds", 5)
    try:
        o, rl = connect_a(url)
        time.sleep(7)   # the first ping goes right after the key, the next 5 s later
        s = rl.getStatus()
        check(0 <= s.LastHeartbeatMs < 6000, "last pong %d ms ago with a 5 s interval" % s.LastHeartbeatMs)
    finally:
        o.set_setting("PingIntervalSeconds", 30)
        rl.disconnect()
    wait_state(rl, "stopped")


@test("applyReport with a malformed message throws IllegalArgumentException with the reason")
def _():
    rl = office_a().report_link()
    cases = [
        ("{not json", "not valid JSON"),
        ('{"type":"report_ready"}', ""),
        ("[1,2]", "expected a JSON object"),
        ('{"type":"error","message":"m","code":4000}', "not a report_ready message"),
    ]
    for message, reason in cases:
        try:
            rl.applyReport(message)
        except IllegalArgumentException as e:
            check(e.Message != "" and reason in e.Message, "%r: reason %r" % (message, e.Message))
        else:
            raise Failure("%r was accepted" % message)


@test("applyReport accepts non-ASCII text (accents, characters outside the BMP)")
def _():
    rl = office_a().report_link()
    before = rl.getStatus().InboxCount
    message = REPORT.replace('"history":"h"', '"history":"C\u00e9phal\u00e9es \u00e0 \U0001F489 \u4e2d"')
    check(message != REPORT, "the test message was not changed")
    check(rl.applyReport(message) == 0, "applyReport did not return 0")
    wait_until(lambda: rl.getStatus().InboxCount == before + 1, 5, "the report in the list")


@test("applyReport keeps a valid report, returns 0 fields filled and tells the listeners")
def _():
    rl = office_a().report_link()
    listener = Listener()
    rl.addListener(listener)
    try:
        before = rl.getStatus().InboxCount
        filled = rl.applyReport(REPORT)
        check(filled == 0, "applyReport returned %d without a Writer module" % filled)
        listener.wait(lambda l: l.reports, 10, "reportReceived")
        inbox_id, placed, where = listener.reports[0]
        check(inbox_id > 0 and placed is False and where == "", "reportReceived%s" % (listener.reports[0],))
        check(rl.getStatus().InboxCount == before + 1, "InboxCount %d, before %d" % (rl.getStatus().InboxCount, before))
    finally:
        rl.removeListener(listener)


@test("a report from the service reaches the listeners and the list of received reports")
def _():
    server, url = devserver(KEY)
    o, rl = connect_a(url)
    listener = Listener()
    rl.addListener(listener)
    try:
        before = rl.getStatus()
        status, body = harness.http("POST", url.replace("ws://", "http://").replace("/reports/ws", "/reports/push"),
                                    body=b'{"history":"h","diagnosis":"d"}', headers={"X-Doctor-Key": KEY})
        check(status == 200, "push: %d %s" % (status, body[:200]))
        listener.wait(lambda l: l.reports, 10, "reportReceived")
        s = rl.getStatus()
        check(s.InboxCount == before.InboxCount + 1, "InboxCount %d" % s.InboxCount)
        check(s.ReportsReceived == before.ReportsReceived + 1, "ReportsReceived %d" % s.ReportsReceived)
    finally:
        rl.removeListener(listener)
        rl.disconnect()
    wait_state(rl, "stopped")


@test("the doctor key appears nowhere in the office's log")
def _():
    text = office_a().log_text()
    check("reportlink:" in text, "no reportlink log line at all")
    for k in (KEY, WRONG_KEY):
        check(k not in text, "a key is in the log")


# ---------------------------------------------------------------- office B (restarts)

def profile_files_containing(o, needles):
    hits = []
    for root, dirs, files in os.walk(o.profile):
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if any(n in data for n in needles):
                hits.append(os.path.relpath(path, o.profile))
    return hits


@test("the key is persisted in the keyring, not in the password container, and in no profile file in clear")
def _():
    server, url = devserver(KEY)
    o = office_b()
    o.set_setting("Endpoint", url)
    o.report_link().setDoctorKey(KEY)
    wait_until(lambda: o.keyring.items() == 1, STATE_TIMEOUT_S, "one ReportLink item in the keyring")
    check(o.keyring.lookup() == KEY, "the keyring holds another key")
    status = o.stop()
    check(status == 0, "office exit status %s" % status)
    needles = [KEY.encode("utf-8"), KEY.encode("utf-16-le"), KEY.encode("utf-16-be")]
    hits = profile_files_containing(o, needles)
    check(not hits, "the key is in clear in %s" % hits)
    o.start()
    pc = o.service("com.sun.star.task.PasswordContainer")
    record = pc.find(KEY_URL, SilentHandler())
    users = [u.UserName for u in record.UserList] if record.UserList else []
    check(not users, "the password container has an entry: users %s" % users)
    check(not pc.isPersistentStoringAllowed(), "persistent password storing was turned on")
    check(not pc.hasMasterPassword(), "a master password was set")


@test("AutoConnect with a stored key connects after an office restart without any call")
def _():
    server, url = devserver(KEY)
    o = office_b()
    check(o.config(CONNECTION).getByName("AutoConnect") is True, "AutoConnect is not on by default")
    o.set_setting("Endpoint", url)
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    before = stderr_count(server, "authenticated with key #1")
    o.start()
    wait_until(lambda: stderr_count(server, "authenticated with key #1") > before, STATE_TIMEOUT_S,
               "the devserver seeing the office authenticate on its own")
    wait_state(o.report_link(), "connected")


def restarted_b(server, url, alone_ms=None):
    """Office B pointed at url, restarted; alone_ms: how long its link waits for a
    letter before starting by itself (REPORTLINK_START_ALONE_MS; None: the default).
    Returns (office, its log's length before the start, the server's count of
    authentications before it)."""
    o = office_b()
    o.set_setting("Endpoint", url)
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    if alone_ms is None:
        o.extra_env.pop("REPORTLINK_START_ALONE_MS", None)
    else:
        o.extra_env["REPORTLINK_START_ALONE_MS"] = str(alone_ms)
    logged, before = len(o.log_text()), stderr_count(server, "authenticated with key #1")
    o.start()
    return o, logged, before


def authenticated_since(server, before, what):
    wait_until(lambda: stderr_count(server, "authenticated with key #1") > before, STATE_TIMEOUT_S, what)


@test("AutoConnect waits for the first letter: the link starts when one opens, not during the office's start")
def _():
    server, url = devserver(KEY)
    # The link would start by itself only after a minute: only the letter can start it here.
    o, logged, before = restarted_b(server, url, alone_ms=60000)
    try:
        time.sleep(1.0)   # the office is up and idle: nothing may have connected yet
        check(stderr_count(server, "authenticated with key #1") == before,
              "the link connected before any letter was opened")
        check("starting:" not in o.log_text()[logged:], "the link started before any letter was opened")
        letter = o.service("com.sun.star.frame.Desktop").loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
        authenticated_since(server, before, "the devserver seeing the office authenticate once a letter is open")
        check("reportlink: starting: a letter is ready" in o.log_text()[logged:],
              "the log does not say the letter started the link: %s" % o.log_tail())
        letter.close(True)
    finally:
        o.extra_env.pop("REPORTLINK_START_ALONE_MS", None)
        o.stop()


@test("connect() while the keyring is still looking for the key connects when the key comes")
def _():
    server, url = devserver(KEY)
    # AutoConnect would start only after a minute: only connect() can connect here.
    o, _logged, before = restarted_b(server, url, alone_ms=60000)
    try:
        rl = o.report_link()     # creates the link: the keyring lookup starts now
        rl.connect()             # ... and is still running (a helper process, ~30 ms)
        wait_state(rl, "connected")
        authenticated_since(server, before, "the devserver seeing the office authenticate")
    finally:
        o.extra_env.pop("REPORTLINK_START_ALONE_MS", None)
        o.stop()


@test("without a letter (Start Center, headless) AutoConnect starts the link 1.5 s after the office's start")
def _():
    server, url = devserver(KEY)
    o, logged, before = restarted_b(server, url)
    authenticated_since(server, before, "the devserver seeing the office authenticate on its own")
    check("reportlink: starting: no letter within 1500 ms of the office's start" in o.log_text()[logged:],
          "the log does not say why the link started: %s" % o.log_tail())


@test("quitting the office while connected closes with 1000 and leaves no soffice process")
def _():
    server, url = devserver(KEY)
    o = office_b()
    rl = o.report_link()
    o.set_setting("Endpoint", url)
    wait_until(lambda: rl.getStatus().State == "connected" and rl.getStatus().Endpoint == url,
               STATE_TIMEOUT_S, "connected to this test's devserver")
    listener = Listener()
    rl.addListener(listener)
    status = o.stop(timeout=10)
    check(status == 0, "office exit status %s" % status)
    wait_until(lambda: stderr_count(server, "client closed with 1000") == 1, 5, "the devserver seeing close 1000")
    check(listener.disposed == 1, "listener.disposing called %d times" % listener.disposed)
    check(not o.pids(), "processes left: %s" % o.pids())
    check("reportlink: stopped" in o.log_text(), "no clean stop in the log")


if __name__ == "__main__":
    try:
        rc = harness.run_all()
    finally:
        _close_offices()
    leftovers = [o for o in _offices.values() if o.pids()]
    if leftovers:
        print("# soffice processes left behind: %s" % [o.pids() for o in leftovers])
        rc = 1
    sys.exit(rc)
