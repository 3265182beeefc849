#!/usr/bin/python3
"""test_hardening.py - nothing lost across a crash, the key never leaks, report
content never reaches a log; in a real headless LibreOffice with
build/reportlink.oxt installed, reports pushed through the devserver.

One office (AutoConnect off) and one devserver for the run; the tests kill,
stop and restart the office on the same profile, so they run in order.
Output: "ok - name" / "FAIL - name: why" per test, then "N passed, N failed".
Arguments select tests whose name contains one of them.
"""

import base64
import glob
import json
import os
import secrets
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
import lofix  # noqa: E402
from harness import Failure, check, secret, test, wait_until  # noqa: E402
from lofix import close_at_exit, Listener, devserver, wait_state  # noqa: E402

import uno  # noqa: E402

harness.TEST_TIMEOUT_S = 180
TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
FIELDS = ("history", "findings", "diagnosis", "procedure", "recommendation")
KEY = secret("planted-" + secrets.token_hex(16))
# A word that appears in every field of every report pushed by this run; it
# must never show in any output (report content is patient data).
MARKER = "Zxq" + secrets.token_hex(6)
PLACE_TIMEOUT_S = 15

_docs_dir = lofix.office_docs_dir("reportlink-docs-")

_state = {}


close_at_exit(_state)


def the_office():
    o = _state.get("office")
    if o is None:
        o = _state["office"] = office.Office("office H")
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
    return o


def setup():
    """The office running and connected, with a listener."""
    o = the_office()
    if o.proc is None:
        o.start()
        _state.pop("listener", None)
    rl = o.report_link()
    if "listener" not in _state:
        _state["listener"] = Listener()
        rl.addListener(_state["listener"])
    url = _state["server"][1]
    if rl.getStatus().State != "connected" or rl.getStatus().Endpoint != url:
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(KEY)
        rl.connect()
        wait_state(rl, "connected")
    return o, rl, o.service("com.sun.star.frame.Desktop"), _state["listener"]


def fields(tag):
    return {
        "history": "Patiente de 42 ans %s, céphalées depuis trois semaines" % MARKER,
        "findings": "Tension 140/80 %s\nFond d'œil normal" % MARKER,
        "diagnosis": "Céphalées de tension %s %s" % (MARKER, tag),
        "procedure": "Examen neurologique %s" % MARKER,
        "recommendation": "Repos « au calme » %s" % MARKER,
    }


def push(body):
    port = int(_state["server"][1].split(":")[2].split("/")[0])
    status, data = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port,
                                json.dumps(body, ensure_ascii=False).encode("utf-8"), {"X-Doctor-Key": KEY})
    check(status == 200, "push answered %d %s" % (status, data[:200]))


def next_report(listener, since):
    listener.wait(lambda l: len(l.reports) > since, PLACE_TIMEOUT_S, "report notification")
    with listener.cond:
        return listener.reports[since]


def spool_dir(o):
    return os.path.join(o.profile, "user", "reportlink", "inbox")


def spool_files(o):
    d = spool_dir(o)
    return set(n for n in os.listdir(d) if n.endswith(".json") and not n.startswith(".")) if os.path.isdir(d) \
        else set()


def entry(rl, inbox_id):
    for e in rl.getInbox():
        if e.Id == inbox_id:
            return e
    raise Failure("no inbox entry %d (inbox: %s)" % (inbox_id, [(e.Id, e.Status) for e in rl.getInbox()]))


def close_all(desktop):
    comps = desktop.Components.createEnumeration()
    while comps.hasMoreElements():
        try:
            comps.nextElement().close(True)
        except Exception:   # already going
            pass


def open_letter(desktop):
    path = os.path.join(_docs_dir, "letter-%s.odt" % secrets.token_hex(4))
    shutil.copy(TEMPLATE, path)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, ())
    check(doc is not None, "the template did not open")
    return doc


def push_waiting(o, rl, desktop, lis, tag):
    """With no document open, pushes a report: it waits. Returns (inbox id,
    the new spool file's name, the fields)."""
    close_all(desktop)
    before = spool_files(o)
    since = len(lis.reports)
    f = fields(tag)
    push(f)
    inbox_id, placed, where = next_report(lis, since)
    check(not placed, "the report was placed with no document open")
    new = spool_files(o) - before
    check(len(new) == 1, "expected one new file in %s, found %s" % (spool_dir(o), sorted(new)))
    return inbox_id, new.pop(), f


# ---------------------------------------------------------------- nothing lost

@test("a waiting report is on disk, 0600 in a 0700 folder owned by the profile's owner, with its time")
def _():
    o, rl, desktop, lis = setup()
    t0 = int(time.time())
    inbox_id, name, f = push_waiting(o, rl, desktop, lis, "disk")
    path = os.path.join(spool_dir(o), name)
    st, dst = os.stat(path), os.stat(spool_dir(o))
    owner = os.stat(o.profile).st_uid
    check(st.st_mode & 0o777 == 0o600, "file mode %o" % (st.st_mode & 0o777))
    check(dst.st_mode & 0o777 == 0o700, "folder mode %o" % (dst.st_mode & 0o777))
    check(st.st_uid == owner and dst.st_uid == owner, "owner %d/%d, profile's %d" % (st.st_uid, dst.st_uid, owner))
    with open(path, encoding="utf-8") as fh:
        msg = json.load(fh)
    check(msg.get("type") == "report_ready" and msg.get("json_report") == f, "the file is not the message")
    at = int(name.split("-")[0])
    check(t0 - 2 <= at <= time.time() + 2, "received time %d in the name, now %d" % (at, t0))
    check(entry(rl, inbox_id).Status == "waiting", "not waiting")
    _state["crash_case"] = (inbox_id, name, f, at)


@test("kill -9 with a report waiting: after restart it waits again with its reason and time, is placed on request, and its file goes")
def _():
    o, rl, desktop, lis = setup()
    if "crash_case" not in _state:
        _, name, f = push_waiting(o, rl, desktop, lis, "crash")
        at = int(name.split("-")[0])
    else:
        _, name, f, at = _state.pop("crash_case")
    o.kill()
    check(o.exit_status == -signal.SIGKILL, "the office ended with %s, not SIGKILL" % o.exit_status)
    wait_until(lambda: not o.pids(), 10, "no office process left")
    check(name in spool_files(o), "the file is gone after the crash")

    o, rl, desktop, lis = setup()
    waiting = [e for e in rl.getInbox() if e.Status == "waiting"]
    check(len(waiting) == 1, "inbox after restart: %s" % [(e.Id, e.Status, e.Reason) for e in rl.getInbox()])
    e = waiting[0]
    check("unexpectedly" in e.Reason or "inattendue" in e.Reason, "reason %r" % e.Reason)
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))
    check(e.ReceivedAt == when, "received at %s, expected %s" % (e.ReceivedAt, when))
    check(e.Summary.startswith("Céphalées de tension"), "summary %r" % e.Summary)
    check(name in spool_files(o), "the file went before placement")

    doc = open_letter(desktop)
    try:
        n = rl.placeInboxEntry(e.Id)
        check(n == len(FIELDS), "placeInboxEntry filled %d" % n)
        for k in FIELDS:
            got = doc.Bookmarks.getByName(k).Anchor.String
            check(got == f[k], "bookmark %s holds %r" % (k, got[:60]))
        check(entry(rl, e.Id).Status == "placed", "entry not placed")
        check(name not in spool_files(o), "the file is still there after placement")
    finally:
        doc.close(True)


@test("discarding a waiting report removes its file")
def _():
    o, rl, desktop, lis = setup()
    inbox_id, name, _ = push_waiting(o, rl, desktop, lis, "discard")
    rl.discardInboxEntry(inbox_id)
    check(name not in spool_files(o), "the file of a discarded report is still there")


@test("a report placed on arrival leaves nothing on disk")
def _():
    o, rl, desktop, lis = setup()
    before = spool_files(o)
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(fields("placed"))
        inbox_id, placed, _ = next_report(lis, since)
        check(placed, "not placed")
        check(spool_files(o) == before, "files left: %s" % sorted(spool_files(o) - before))
    finally:
        doc.close(True)


@test("after a clean exit a waiting report comes back as kept from the previous session")
def _():
    o, rl, desktop, lis = setup()
    inbox_id, name, _ = push_waiting(o, rl, desktop, lis, "clean")
    check(o.stop() == 0, "the office did not exit cleanly")
    check(name in spool_files(o), "the file went at a clean exit")
    o, rl, desktop, lis = setup()
    waiting = [e for e in rl.getInbox() if e.Status == "waiting"]
    check(len(waiting) == 1 and "previous" in waiting[0].Reason,
          "inbox: %s" % [(e.Status, e.Reason) for e in rl.getInbox()])
    rl.discardInboxEntry(waiting[0].Id)
    check(name not in spool_files(o), "the file of a discarded report is still there")


@test("damaged files and an interrupted write in the inbox folder are moved aside at start, not deleted, and logged")
def _():
    o = the_office()
    if o.proc is not None:
        o.stop()
    d = spool_dir(o)
    bad = {"%d-1-1.json" % int(time.time()): '{"type":"report_ready","json_report":{"diagnosis":"cut',
           "%d-1-2.json" % int(time.time()): '{"type":"error","code":4000,"message":"not a report"}',
           ".tmp-%d-1-3.json" % int(time.time()): '{"type":"rep'}
    for n, text in bad.items():
        p = os.path.join(d, n)
        with open(p, "w") as fh:
            fh.write(text)
        os.chmod(p, 0o600)
        if os.geteuid() == 0:
            os.chown(p, office.NOBODY, office.NOBODY)
    log_before = len(o.log_text())
    o, rl, desktop, lis = setup()
    check(not [e for e in rl.getInbox() if e.Status == "waiting"], "a damaged file became an entry")
    for n, text in bad.items():
        check(not os.path.exists(os.path.join(d, n)), "%s is still in the inbox folder" % n)
        moved = os.path.join(d, "rejected", n)
        check(os.path.exists(moved), "%s was not moved aside" % n)
        with open(moved) as fh:
            check(fh.read() == text, "%s changed when moved" % n)
    log = o.log_text()[log_before:]
    check(log.count("moved to") >= 3, "the log does not say where they went: %s" % o.log_tail())
    check("not a valid report" in log and "interrupted write" in log, "the log lacks the reasons")


# ---------------------------------------------------------------- privacy

def outputs(o):
    """Every output collected: the office's stdout+stderr and the devserver's."""
    server = _state["server"][0]
    return {"soffice log": o.log_text().encode("utf-8", "replace"),
            "devserver stdout": server.stdout_bytes, "devserver stderr": server.stderr_bytes}


@test("report content never reaches a log by default, and no debug line is written")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(fields("privacy-off"))
        check(next_report(lis, since)[1], "not placed")
    finally:
        doc.close(True)
    for what, data in outputs(o).items():
        check(MARKER.encode() not in data, "report content in the %s" % what)
    check("reportlink: debug:" not in o.log_text(), "a debug line without REPORTLINK_DEBUG")


@test("with REPORTLINK_DEBUG=1 the log gives each report's size and type, never its content")
def _():
    o = the_office()
    if o.proc is not None:
        o.stop()
    o.extra_env = {"REPORTLINK_DEBUG": "1"}
    try:
        o, rl, desktop, lis = setup()
        doc = open_letter(desktop)
        try:
            since = len(lis.reports)
            push(fields("privacy-on"))
            check(next_report(lis, since)[1], "not placed")
        finally:
            doc.close(True)
        lines = [ln for ln in o.log_text().splitlines() if "reportlink: debug: received report_ready" in ln]
        check(lines, "no debug line: %s" % o.log_tail())
        check("5 json_report field(s)" in lines[-1] and " bytes" in lines[-1], "debug line %r" % lines[-1])
        for what, data in outputs(o).items():
            check(MARKER.encode() not in data, "report content in the %s" % what)
    finally:
        o.stop()
        o.extra_env = {}


# ---------------------------------------------------------------- secrets

def key_forms(key):
    raw = key.encode("utf-8")
    forms = {"plain": raw, "UTF-16": key.encode("utf-16-le"), "base64": base64.b64encode(raw),
             "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="), "hex": raw.hex().encode(),
             "HEX": raw.hex().upper().encode()}
    # Base64 of the key at the three alignments, without the edges that
    # depend on what surrounds it in a larger encoded text.
    for pad in (b"", b"x", b"xx"):
        enc = base64.b64encode(pad + raw)
        forms["base64 inside (+%d)" % len(pad)] = enc[4:-4]
    return forms


def grep_tree(root, forms, skip=()):
    """[(path, form)] of files under root that hold any form."""
    hits = []
    for dirpath, dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(dirpath, n)
            if any(p.startswith(s) for s in skip) or os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            hits += [(p, name) for name, f in forms.items() if f in data]
    return hits


def core_dump_places():
    """Where a crash of the office could write a core dump, and what was
    found about it (for the report)."""
    with open("/proc/sys/kernel/core_pattern") as fh:
        pattern = fh.read().strip()
    places = []
    if pattern.startswith("|"):
        for d in ("/var/lib/systemd/coredump", "/var/crash", "/var/lib/apport/coredump"):
            if os.path.isdir(d):
                places.append(d)
    elif "/" in pattern:
        places.append(os.path.dirname(pattern))
    return pattern, places


@test("the planted key is nowhere: logs, profile, extension config, argv and environment of every office process, core dump places, spool")
def _():
    o, rl, desktop, lis = setup()
    rl.setDoctorKey(KEY)                      # planted through the API
    wait_state(rl, "connected")
    forms = key_forms(KEY)
    inbox_id, name, _ = push_waiting(o, rl, desktop, lis, "secrets")   # something in the spool too

    hits = []
    for pid in o.process_tree():
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%d/%s" % (pid, what), "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            hits += [("/proc/%d/%s" % (pid, what), n) for n, f in forms.items() if f in data]
    check(len(o.process_tree()) >= 1, "no office process to look at")

    # The key must be in the keyring (the office's private GNOME Keyring,
    # office.py), whose file is under the office's HOME: so that the search
    # below, which reads that file too, means something. Nothing of it may
    # be in the profile's password store.
    wait_until(lambda: o.keyring.items() == 1, 15, "the key in the keyring")
    check(o.keyring.files(), "no keyring file")
    check(o.stop() == 0, "the office did not exit cleanly")
    xcu = os.path.join(o.profile, "user", "registrymodifications.xcu")
    with open(xcu, "rb") as fh:
        check(b"/org.openoffice.Office.Common/Passwords/Store" not in fh.read(),
              "a password store entry in registrymodifications.xcu")
    o, rl, desktop, lis = setup()

    # The office's crash output: a SIGSEGV makes LibreOffice's handler write
    # what it writes; then the files and every output are searched.
    pid = o.soffice_bin_pid()
    check(pid is not None, "no soffice.bin")
    pattern, places = core_dump_places()
    check(MARKER not in pattern and KEY not in pattern, "core_pattern names a secret")
    started = time.time()
    os.kill(pid, signal.SIGSEGV)
    wait_until(lambda: o.proc.poll() is not None, 30, "the office ended after SIGSEGV")
    o.kill()

    # profile (spool, xcu, extension's copy), HOME with the keyring's own
    # file (encrypted: the key is not in it in clear either), TMPDIR
    hits += grep_tree(o.dir, forms)
    hits += grep_tree(_docs_dir, forms)
    # A core dump holds the process's memory, the connection's copy of the
    # key included: what must not carry it is its name (and the pattern).
    cores = [p for d in places + [o.home] for p in glob.glob(os.path.join(d, "*core*"))
             if os.path.getmtime(p) >= started]
    hits += [(p, n) for p in cores for n, f in forms.items() if f.decode("latin-1") in p]
    for what, data in outputs(o).items():
        hits += [(what, n) for n, f in forms.items() if f in data]
    check(not hits, "the key was found: %s" % hits[:10])
    check(name in spool_files(o), "the waiting report's file went in the crash")
    print("# core_pattern %r; looked in %s and the office's HOME; core files: %s"
          % (pattern, places or "(no directory)", cores or "none"))


if __name__ == "__main__":
    _state["server"] = devserver(KEY, whole_run=True)
    sys.exit(harness.run_all())
