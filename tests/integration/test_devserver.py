#!/usr/bin/python3
"""Integration tests of build/reportlink-devserver, the development report service.

Runs the real binary (``--port 0``, keys from the environment) and talks to it
with Debian's websocket-client and the standard library, one named test per
documented behaviour. Each test has a deadline; every server started here is
killed when the runner exits. Output: ``ok - name`` or ``FAIL - name: why``
per test, then ``N passed, N failed``; the exit status is 1 if any failed.

Usage: /usr/bin/python3 tests/integration/test_devserver.py [NAME-SUBSTRING...]
(REPORTLINK_DEVSERVER_BIN=path runs another build of the server.)
"""

import atexit
import hashlib
import http.client
import io
import json
import os
import secrets
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import websocket  # Debian's python3-websocket (websocket-client)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# REPORTLINK_DEVSERVER_BIN selects another build, e.g. one with sanitizers.
BIN = os.environ.get("REPORTLINK_DEVSERVER_BIN") or os.path.join(ROOT, "build",
                                                                   "reportlink-devserver")

# Distinctive per-run keys: tests never share one (one connection per key),
# and the log check below searches the servers' stderr for all of them.
RUN_TAG = secrets.token_hex(4)
KEYS = ["devkey-%02d-%s" % (i, RUN_TAG) for i in range(40)]
_next_key = [0]


def take_key():
    k = KEYS[_next_key[0]]
    _next_key[0] += 1
    return k


class TestTimeout(Exception):
    pass


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


# --- Servers ------------------------------------------------------------------

ALL_SERVERS = []


class Server:
    """One devserver process; its stderr is collected by a thread."""

    def __init__(self, *args, keys=None, env_extra=None, expect_listen=True):
        env = dict(os.environ)
        env["REPORTLINK_DEVSERVER_KEYS"] = ",".join(KEYS if keys is None else keys)
        if env_extra:
            env.update(env_extra)
        self.args = [BIN, "--port", "0"] + list(args)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        ALL_SERVERS.append(self)
        self.stderr = []
        self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._err_thread.start()
        self.port = None
        self.tls = False
        if expect_listen:
            line = self._read_line(10)
            try:
                ev = json.loads(line)
            except ValueError:
                raise Failure("first stdout line is not JSON: %r (stderr: %s)"
                              % (line, self.stderr_text()[-500:]))
            check(ev.get("event") == "listening" and isinstance(ev.get("port"), int),
                  "unexpected first line %r" % line)
            self.port = ev["port"]
            self.tls = ev["tls"]
            self.first_line = line

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def stderr_text(self):
        return "".join(self.stderr)

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("server printed no listening line in %ss" % timeout)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise Failure("server exited before listening (status %s): %s"
                                  % (self.proc.wait(), self.stderr_text()[-500:]))
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    @property
    def scheme(self):
        return ("wss", "https") if self.tls else ("ws", "http")

    def ws_url(self):
        return "%s://127.0.0.1:%d/reports/ws" % (self.scheme[0], self.port)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err_thread.join(2)
        return self.proc.returncode


def kill_all_servers():
    for s in ALL_SERVERS:
        if s.proc.poll() is None:
            s.proc.kill()
            try:
                s.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(kill_all_servers)

_shared = {}


def shared(name, *args):
    """A server reused by several tests, started on first use."""
    if name not in _shared:
        _shared[name] = Server(*args)
    return _shared[name]


# --- Clients ------------------------------------------------------------------

def connect(srv, key=None, sslopt=None, timeout=5):
    """Opens /reports/ws (no subprotocol) and authenticates if key is given."""
    ws = websocket.create_connection(srv.ws_url(), timeout=timeout, sslopt=sslopt,
                                     skip_utf8_validation=True)
    if key is not None:
        ws.send(json.dumps({"doctor_key": key}))
    return ws


def connect_authenticated(srv, key, sslopt=None):
    """Connects, authenticates and waits for the pong that proves it (the
    service has no acknowledgement message)."""
    ws = connect(srv, key, sslopt)
    ws.send("ping")
    check(recv_text(ws) == "pong", "no pong after authentication")
    return ws


def recv_frame(ws):
    """(opcode, bytes) of the next message or close frame."""
    op, data = ws.recv_data(control_frame=True)
    while op in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
        op, data = ws.recv_data(control_frame=True)
    return op, data


def recv_text(ws):
    op, data = recv_frame(ws)
    check(op == websocket.ABNF.OPCODE_TEXT, "expected a text message, got opcode %d %r"
          % (op, data[:80]))
    return data.decode("utf-8")


def expect_close(ws):
    """Reads until the close frame; returns (code, reason, messages before)."""
    before = []
    while True:
        op, data = recv_frame(ws)
        if op == websocket.ABNF.OPCODE_CLOSE:
            check(len(data) >= 2, "close frame without a status code")
            return int.from_bytes(data[:2], "big"), data[2:].decode("utf-8"), before
        before.append((op, data))


def request(srv, method, path, body=None, key=None, headers=None, ssl_context=None):
    """(status, body bytes, headers dict lowercased)."""
    if srv.tls:
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=10,
                                           context=ssl_context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    h = dict(headers or {})
    if key is not None:
        h["X-Doctor-Key"] = key
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn.request(method, path, body=body if body is not None else b"", headers=h)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def push(srv, key, body, query="", ssl_context=None):
    status, data, _ = request(srv, "POST", "/reports/push" + query, body, key,
                              ssl_context=ssl_context)
    return status, data


def get_url(url, ssl_context=None):
    """GET an absolute http(s) URL from a report: (status, body, headers)."""
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    kw = {"context": ssl_context} if u.scheme == "https" else {}
    conn = cls(u.hostname, u.port, timeout=10, **kw)
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""))
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


REPORT = {
    "history": "La patiente est venue parce qu'elle a mal <à la tête> & au cou.",
    "findings": "Pouls de 100/min, tension artérielle 140/80 mmHg.\nExamen neurologique normal.",
    "diagnosis": "Céphalées chroniques non spécifiées",
    "procedure": "Examen physique et neurologique",
    "recommendation": "Nous recommandons du repos à la patiente 😴",
    "allergies": "Pénicilline",
}

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_text(data):
    """Text of word/document.xml's runs, paragraphs joined by newlines."""
    import xml.etree.ElementTree as ET
    z = zipfile.ZipFile(io.BytesIO(data))
    check(z.testzip() is None, "corrupt zip entry")
    names = set(z.namelist())
    for part in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
        check(part in names, "docx lacks %s" % part)
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = ET.fromstring(z.read("word/document.xml"))
    paras = []
    for p in root.iter(ns + "p"):
        paras.append("".join(t.text or "" for t in p.iter(ns + "t")))
    return "\n".join(paras), root, ns


def rtf_decode(rtf):
    """Enough of RTF to read our own output back: \\uN? escapes and the
    escaped braces/backslashes; control words are dropped."""
    out, i, pending_high = [], 0, None
    while i < len(rtf):
        c = rtf[i]
        if c == "\\":
            nxt = rtf[i + 1]
            if nxt in "\\{}":
                out.append(nxt)
                i += 2
                continue
            j = i + 1
            while j < len(rtf) and rtf[j].isalpha():
                j += 1
            word = rtf[i + 1:j]
            k = j
            if k < len(rtf) and (rtf[k] == "-" or rtf[k].isdigit()):
                k += 1
                while k < len(rtf) and rtf[k].isdigit():
                    k += 1
            num = rtf[j:k]
            if k < len(rtf) and rtf[k] == " ":
                k += 1
            if word == "u":
                v = int(num) & 0xFFFF
                if k < len(rtf) and rtf[k] == "?":
                    k += 1
                if 0xD800 <= v < 0xDC00:
                    pending_high = v
                elif 0xDC00 <= v < 0xE000 and pending_high is not None:
                    out.append(chr(0x10000 + ((pending_high - 0xD800) << 10) + (v - 0xDC00)))
                    pending_high = None
                else:
                    out.append(chr(v))
            elif word in ("line", "par"):
                out.append("\n")
            elif word == "tab":
                out.append("\t")
            i = k
        elif c in "{}\n\r":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# --- Tests --------------------------------------------------------------------

TESTS = []


def test(name, timeout=15):
    def wrap(fn):
        TESTS.append((name, fn, timeout))
        return fn
    return wrap


@test("listening line is the only stdout line, JSON with port and tls")
def t_listening_line():
    srv = shared("default")
    check(srv.first_line == '{"event":"listening","port":%d,"tls":false}' % srv.port,
          "got %r" % srv.first_line)
    status, body, _ = request(srv, "GET", "/healthz")
    check((status, body) == (200, b"ok"), "healthz gave %s %r" % (status, body))


@test("authentication then ping gets pong")
def t_auth_ping():
    srv = shared("default")
    ws = connect(srv, take_key())
    for _ in range(3):
        ws.send("ping")
        check(recv_text(ws) == "pong", "no pong")
    ws.close()


@test("connecting with a subprotocol-less client on another path is refused")
def t_wrong_path():
    srv = shared("default")
    try:
        websocket.create_connection("ws://127.0.0.1:%d/elsewhere" % srv.port, timeout=5)
    except websocket.WebSocketException:
        return
    raise Failure("upgrade on /elsewhere was accepted")


@test("unknown key is closed with 1008")
def t_unknown_key():
    srv = shared("default")
    ws = connect(srv, "not-a-key-" + RUN_TAG)
    code, reason, _ = expect_close(ws)
    check((code, reason) == (1008, "unknown key"), "got %d %r" % (code, reason))


@test("malformed authentication message is closed with 1008")
def t_malformed_auth():
    srv = shared("default")
    for first in ("hello", "ping", '{"key":"x"}', '{"doctor_key":42}', "[1,2]"):
        ws = connect(srv)
        ws.send(first)
        code, reason, _ = expect_close(ws)
        check((code, reason) == (1008, "authentication message expected"),
              "after %r got %d %r" % (first, code, reason))
    ws = connect(srv)
    ws.send_binary(json.dumps({"doctor_key": KEYS[0]}).encode())
    code, reason, _ = expect_close(ws)
    check(code == 1008, "binary auth message gave %d" % code)


@test("no authentication within the deadline is closed with 1008")
def t_auth_timeout():
    srv = shared("short", "--auth-timeout", "1", "--url-ttl", "1")
    ws = connect(srv)
    t0 = time.monotonic()
    code, reason, _ = expect_close(ws)
    took = time.monotonic() - t0
    check((code, reason) == (1008, "authentication timeout"), "got %d %r" % (code, reason))
    check(0.7 <= took <= 3, "closed after %.2f s, expected about 1 s" % took)


@test("authenticated connection outlives the authentication deadline")
def t_auth_timer_cancelled():
    srv = shared("short", "--auth-timeout", "1", "--url-ttl", "1")
    ws = connect_authenticated(srv, take_key())
    time.sleep(1.6)
    ws.send("ping")
    check(recv_text(ws) == "pong", "connection did not survive the deadline")
    ws.close()


@test("second connection with the same key replaces the older one (error, then 4000)")
def t_replaced():
    srv = shared("default")
    key = take_key()
    old = connect_authenticated(srv, key)
    new = connect_authenticated(srv, key)
    code, reason, before = expect_close(old)
    check((code, reason) == (4000, "replaced"), "older got %d %r" % (code, reason))
    check(len(before) == 1 and before[0][0] == websocket.ABNF.OPCODE_TEXT,
          "expected one error message before the close, got %r" % before)
    err = json.loads(before[0][1])
    check(err == {"type": "error", "code": 4000,
                  "message": "Connexion remplacée par une nouvelle connexion pour la même clé"},
          "error message was %r" % err)
    new.send("ping")
    check(recv_text(new) == "pong", "newer connection does not answer")
    status, _ = push(srv, key, '{"type":"x"}')
    check(status == 200, "push after replacement gave %d" % status)
    check(json.loads(recv_text(new)) == {"type": "x"}, "push did not reach the newer connection")
    new.close()


@test("a push is numbered; GET /admin/sent tells when its last frame was written (monotonic us)")
def t_sent_time():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    t0 = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
    big = json.dumps({"type": "report_ready", "html_content": "x" * (300 * 1024)})
    seqs = []
    for body in ('{"type":"a"}', big):
        status, data = push(srv, key, body)
        check(status == 200, "push gave %d %r" % (status, data))
        seqs.append(json.loads(data)["seq"])
    check(seqs[1] == seqs[0] + 1, "push numbers %r are not consecutive" % seqs)
    recv_text(ws)
    check(len(recv_text(ws)) == len(big), "the large message did not arrive whole")
    t1 = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
    times = []
    for seq in seqs:
        status, data, _ = request(srv, "GET", "/admin/sent?seq=%d" % seq)
        ans = json.loads(data)
        check(status == 200 and ans["sent"] is True and ans["seq"] == seq, "sent?seq gave %d %r" % (status, data))
        times.append(ans["sent_mono_us"])
    check(t0 <= times[0] <= times[1] <= t1, "send times %r not within [%d, %d]" % (times, t0, t1))
    status, data, _ = request(srv, "GET", "/admin/sent?seq=%d" % (seqs[1] + 1000))
    check(status == 404 and json.loads(data)["sent"] is False, "unknown push gave %d %r" % (status, data))
    status, _, _ = request(srv, "GET", "/admin/sent?seq=abc")
    check(status == 400, "a bad seq gave %d" % status)
    status, _, _ = request(srv, "POST", "/admin/sent?seq=1")
    check(status == 405, "POST /admin/sent gave %d" % status)
    ws.close()


@test("pushed json_report arrives as report_ready with all five representations")
def t_report_ready():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    body = json.dumps(REPORT, ensure_ascii=False)
    status, data = push(srv, key, body)
    check(status == 200 and json.loads(data)["delivered"] is True
          and isinstance(json.loads(data)["seq"], int), "push gave %d %r" % (status, data))
    raw = recv_text(ws)
    msg = json.loads(raw)
    check(list(msg) == ["type", "url", "html_content", "rtf_report", "plaintext_report",
                        "json_report"], "members are %r" % list(msg))
    check(msg["type"] == "report_ready", "type %r" % msg["type"])
    check(msg["json_report"] == REPORT, "json_report differs")
    check(raw.endswith('"json_report":' + body + "}"), "json_report is not the bytes sent")
    check(msg["url"].startswith("http://127.0.0.1:%d/files/" % srv.port), "url %r" % msg["url"])
    html = msg["html_content"]
    for s in ("<h2>Anamnèse</h2>", "<h2>Examen clinique</h2>", "<h2>Diagnostic</h2>",
              "<h2>Procédure</h2>", "<h2>Recommandations</h2>", "<h2>allergies</h2>",
              "mal &lt;à la tête&gt; &amp; au cou", "<p>Examen neurologique normal.</p>"):
        check(s in html, "html lacks %r" % s)
    check("<à" not in html, "html is not escaped")
    rtf = msg["rtf_report"]
    check(rtf.startswith("{\\rtf1") and rtf.rstrip().endswith("}"), "not an RTF document")
    check(all(ord(ch) < 128 for ch in rtf), "RTF holds non-ASCII characters")
    check("{\\b Anamn\\u232?se}" in rtf, "RTF heading not bold/escaped")
    plain_rtf = rtf_decode(rtf)
    for v in REPORT.values():
        for line in v.split("\n"):
            check(line in plain_rtf, "RTF lacks %r" % line)
    text = msg["plaintext_report"]
    for heading, key_ in (("Anamnèse", "history"), ("Examen clinique", "findings"),
                          ("Diagnostic", "diagnosis"), ("Procédure", "procedure"),
                          ("Recommandations", "recommendation"), ("allergies", "allergies")):
        check(heading + "\n" + REPORT[key_] in text, "plain text lacks %s + its text" % heading)
    ws.close()


@test("report url serves a valid .docx with the report's text")
def t_docx():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    push(srv, key, json.dumps(REPORT))
    url = json.loads(recv_text(ws))["url"]
    status, data, headers = get_url(url)
    check(status == 200, "GET url gave %d" % status)
    check(headers.get("content-type") == DOCX_TYPE, "content-type %r" % headers.get("content-type"))
    check(data[:2] == b"PK", "not a zip")
    text, root, ns = docx_text(data)
    for v in REPORT.values():
        for line in v.split("\n"):
            check(line in text, "docx lacks %r" % line)
    bold_headings = ["".join(t.text or "" for t in p.iter(ns + "t"))
                     for p in root.iter(ns + "p")
                     if any(r.find(ns + "rPr/" + ns + "b") is not None for r in p.iter(ns + "r"))]
    check(bold_headings == ["Anamnèse", "Examen clinique", "Diagnostic", "Procédure",
                            "Recommandations", "allergies"], "bold paragraphs %r" % bold_headings)
    ws.close()


@test("docx opens in LibreOffice (soffice --convert-to txt)", timeout=180)
def t_docx_soffice():
    soffice = shutil.which("soffice")
    if not soffice:
        return "SKIP soffice not installed"
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    push(srv, key, json.dumps(REPORT))
    url = json.loads(recv_text(ws))["url"]
    ws.close()
    status, data, _ = get_url(url)
    check(status == 200, "GET url gave %d" % status)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.docx")
        with open(path, "wb") as f:
            f.write(data)
        profile = "file://" + os.path.join(d, "profile")
        subprocess.run([soffice, "-env:UserInstallation=" + profile, "--headless",
                        "--convert-to", "txt", "--outdir", d, path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=170)
        out = os.path.join(d, "report.txt")
        check(os.path.exists(out), "soffice produced no text")
        with open(out, encoding="utf-8-sig") as f:
            txt = f.read()
    for s in ("Anamnèse", "Céphalées chroniques non spécifiées", "Examen neurologique normal."):
        check(s in txt, "converted text lacks %r" % s)


@test("full message is pushed verbatim")
def t_verbatim():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    body = '{ "type" : "error",\n  "message":"Erreur côté serveur", "code":4000, "x":1.50 }'
    status, _ = push(srv, key, body)
    check(status == 200, "push gave %d" % status)
    check(recv_text(ws) == body, "message differs from the pushed bytes")
    ws.close()


@test("raw push delivers invalid JSON and invalid UTF-8 verbatim")
def t_raw():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    for body in (b'{"type":"report_ready", broken', b"\xff\xfe not utf-8 \xc3", b"",
                 b'{"type":"report_ready","url":null}'):
        status, _ = push(srv, key, body, "?raw=1")
        check(status == 200, "raw push gave %d" % status)
        op, data = recv_frame(ws)
        check(op == websocket.ABNF.OPCODE_TEXT and data == body,
              "got opcode %d %r instead of %r" % (op, data[:60], body[:60]))
    ws.close()


@test("binary push arrives as a binary frame")
def t_binary():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    body = bytes(range(256)) * 3
    status, _ = push(srv, key, body, "?binary=1")
    check(status == 200, "binary push gave %d" % status)
    op, data = recv_frame(ws)
    check(op == websocket.ABNF.OPCODE_BINARY, "opcode %d" % op)
    check(data == body, "binary payload differs")
    ws.close()


@test("push without a connection for the key gets 404")
def t_push_no_conn():
    srv = shared("default")
    status, data = push(srv, take_key(), json.dumps(REPORT))
    check(status == 404, "got %d" % status)
    check(json.loads(data) == {"delivered": False,
                               "reason": "no authenticated connection for this key"}, repr(data))


@test("push with an unknown or missing key gets 401")
def t_push_unknown_key():
    srv = shared("default")
    status, data = push(srv, "nope-" + RUN_TAG, "{}")
    check(status == 401 and json.loads(data)["delivered"] is False, "got %d %r" % (status, data))
    status, data, _ = request(srv, "POST", "/reports/push", "{}")
    check(status == 401, "missing header gave %d" % status)


@test("push of invalid JSON gets 400 and sends nothing")
def t_push_invalid():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    for body in (b"{not json", b"[1,2]", b'"text"', b"\xff{}", b'{"a":1} trailing'):
        status, _ = push(srv, key, body)
        check(status == 400, "%r gave %d" % (body, status))
    ws.send("ping")
    check(recv_text(ws) == "pong", "something was sent for an invalid push")
    ws.close()


@test("2 MiB push arrives intact")
def t_big():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    blob = (secrets.token_hex(1024 * 1024)).encode()  # 2 MiB of text
    status, _ = push(srv, key, blob, "?raw=1")
    check(status == 200, "push gave %d" % status)
    op, data = recv_frame(ws)
    check(op == websocket.ABNF.OPCODE_TEXT, "opcode %d" % op)
    check(len(data) == len(blob) and hashlib.sha256(data).digest() ==
          hashlib.sha256(blob).digest(), "got %d bytes, differing" % len(data))
    big_report = {"history": "é" * (1024 * 1024), "findings": "x"}
    status, _ = push(srv, key, json.dumps(big_report, ensure_ascii=False))
    check(status == 200, "big report push gave %d" % status)
    msg = json.loads(recv_text(ws))
    check(msg["json_report"] == big_report, "big report differs")
    ws.close()


@test("50 queued pushes arrive complete and in order", timeout=30)
def t_ordered():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    sent = []
    for i in range(50):
        # Mixed sizes so that large messages go out in several frames while
        # small ones queue behind them.
        size = 300000 if i % 7 == 3 else 50 + i
        body = ('{"type":"seq","n":%d,"pad":"%s"}' % (i, "x" * size)).encode()
        status, _ = push(srv, key, body)
        check(status == 200, "push %d gave %d" % (i, status))
        sent.append(body)
    for i, body in enumerate(sent):
        op, data = recv_frame(ws)
        check(data == body, "message %d differs (got n=%s)" % (i, data[:30]))
    ws.close()


@test("full queue gets 503", timeout=60)
def t_queue_full():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    body = b"q" * 65536
    # The client reads nothing: once the socket buffers are full, pushes pile
    # up in the server's queue until its bound.
    for i in range(1500):
        status, _ = push(srv, key, body, "?raw=1")
        if status == 503:
            break
        check(status == 200, "push %d gave %d" % (i, status))
    else:
        raise Failure("1500 pushes never filled the queue")
    check(i >= 1024, "queue full after only %d pushes" % i)
    ws.close()


@test("body over 24 MiB gets 413")
def t_too_large():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    status, data = push(srv, key, b" " * (24 * 1024 * 1024 + 1), "?raw=1")
    check(status == 413, "got %d" % status)
    status, _ = push(srv, key, b"y" * (24 * 1024 * 1024), "?raw=1")
    check(status == 200, "24 MiB exactly gave %d" % status)
    op, data = recv_frame(ws)
    check(len(data) == 24 * 1024 * 1024, "24 MiB message arrived with %d bytes" % len(data))
    ws.close()


def report_url(srv, key):
    ws = connect_authenticated(srv, key)
    push(srv, key, json.dumps(REPORT))
    url = json.loads(recv_text(ws))["url"]
    ws.close()
    return url


@test("expired link gets 403")
def t_expired():
    srv = shared("short", "--auth-timeout", "1", "--url-ttl", "1")
    url = report_url(srv, take_key())
    time.sleep(2.2)
    status, data, _ = get_url(url)
    check(status == 403 and b"link expired" in data, "got %d %r" % (status, data))


@test("tampered signature or expiry gets 403, unknown document 404")
def t_tampered():
    srv = shared("default")
    url = report_url(srv, take_key())
    base, sig = url.rsplit("sig=", 1)
    bad = base + "sig=" + ("0" if sig[0] != "0" else "1") + sig[1:]
    status, data, _ = get_url(bad)
    check(status == 403, "tampered sig gave %d" % status)
    status, _, _ = get_url(url.split("&sig=")[0])
    check(status == 403, "missing sig gave %d" % status)
    exp = int(url.split("expires=")[1].split("&")[0])
    status, _, _ = get_url(url.replace("expires=%d" % exp, "expires=%d" % (exp + 1000)))
    check(status == 403, "extended expiry gave %d" % status)
    status, _, _ = get_url(url.replace("/files/", "/files/0").replace(".docx", "x.docx"))
    check(status == 404, "malformed id gave %d" % status)
    other = url.split("/files/")[0] + "/files/" + "ab" * 16 + ".docx?" + url.split("?")[1]
    status, _, _ = get_url(other)
    check(status == 404, "unknown id gave %d" % status)
    status, _, _ = get_url(url)
    check(status == 200, "the genuine link gave %d" % status)


@test("admin close code reaches the client")
def t_admin_close():
    srv = shared("default")
    key = take_key()
    for code in (1000, 1001, 1011, 4000, 1008, 4321):
        ws = connect_authenticated(srv, key)
        status, data, _ = request(srv, "POST", "/admin/close?code=%d" % code, key=key)
        check((status, json.loads(data)) == (200, {"ok": True}), "admin gave %d %r" % (status, data))
        got, reason, _ = expect_close(ws)
        check((got, reason) == (code, "closed by admin"), "sent %d, got %d %r" % (code, got, reason))
    status, _, _ = request(srv, "POST", "/admin/close?code=1000", key=key)
    check(status == 404, "close without a connection gave %d" % status)
    for bad in ("1005", "1006", "999", "abc", ""):
        ws = connect_authenticated(srv, key)
        status, _, _ = request(srv, "POST", "/admin/close?code=" + bad, key=key)
        check(status == 400, "code %r gave %d" % (bad, status))
        ws.close()


@test("admin drop ends the connection without a close frame")
def t_admin_drop():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    status, _, _ = request(srv, "POST", "/admin/drop", key=key)
    check(status == 200, "drop gave %d" % status)
    try:
        op, data = recv_frame(ws)
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return
    raise Failure("received opcode %d %r instead of a dropped connection" % (op, data[:40]))


@test("pong disabled at run time gets no pong, re-enabled gets one")
def t_pong_admin():
    srv = shared("default")
    key = take_key()
    ws = connect_authenticated(srv, key)
    status, _, _ = request(srv, "POST", "/admin/pong?enabled=0")
    check(status == 200, "admin pong gave %d" % status)
    try:
        ws.send("ping")
        ws.settimeout(1.5)
        try:
            got = recv_frame(ws)
            raise Failure("got %r while pong was disabled" % (got,))
        except websocket.WebSocketTimeoutException:
            pass
    finally:
        request(srv, "POST", "/admin/pong?enabled=1")
    ws.settimeout(5)
    # The ping sent while disabled stays unanswered; this one is answered.
    ws.send("ping")
    check(recv_text(ws) == "pong", "no pong after re-enabling")
    ws.close()


@test("--no-pong server does not answer ping")
def t_no_pong_flag():
    srv = Server("--no-pong")
    key = KEYS[0]
    ws = connect(srv, key)
    ws.send("ping")
    ws.settimeout(1.5)
    try:
        got = recv_frame(ws)
        raise Failure("got %r" % (got,))
    except websocket.WebSocketTimeoutException:
        pass
    ws.settimeout(5)
    status, _ = push(srv, key, '{"type":"proof"}')
    check(status == 200, "push gave %d: the key was not accepted" % status)
    check(json.loads(recv_text(ws)) == {"type": "proof"}, "push not received")
    ws.close()
    check(srv.stop() == 0, "exit status not 0")


@test("--demo sends a French report after authentication")
def t_demo():
    srv = Server("--demo", "--demo-delay", "300")
    ws = connect(srv, KEYS[0])
    t0 = time.monotonic()
    msg = json.loads(recv_text(ws))
    took = time.monotonic() - t0
    check(msg["type"] == "report_ready", "type %r" % msg["type"])
    check(0.2 <= took <= 3, "report after %.2f s, expected about 0.3 s" % took)
    jr = msg["json_report"]
    check(set(jr) == {"history", "findings", "diagnosis", "procedure", "recommendation"},
          "keys %r" % list(jr))
    check(any("\n" in v for v in jr.values()), "no multi-line field")
    check(any(ch in "".join(jr.values()) for ch in "éèàç"), "no accents")
    check("Anamnèse" in msg["plaintext_report"], "plain text lacks headings")
    status, data, _ = get_url(msg["url"])
    check(status == 200 and data[:2] == b"PK", "demo url gave %d" % status)
    ws.close()
    check(srv.stop() == 0, "exit status not 0")


@test("SIGTERM closes clients with 1001 and exits 0")
def t_sigterm():
    srv = Server()
    ws = connect_authenticated(srv, KEYS[0])
    srv.proc.send_signal(signal.SIGTERM)
    code, reason, _ = expect_close(ws)
    check(code == 1001, "client got %d %r" % (code, reason))
    try:
        rc = srv.proc.wait(5)
    except subprocess.TimeoutExpired:
        raise Failure("still running 5 s after SIGTERM")
    check(rc == 0, "exit status %d" % rc)


@test("SIGINT exits 0")
def t_sigint():
    srv = Server()
    t0 = time.monotonic()
    rc = srv.stop(signal.SIGINT)
    check(rc == 0, "exit status %d" % rc)
    check(time.monotonic() - t0 < 2, "took %.1f s" % (time.monotonic() - t0))


@test("keys file: one per line, comments and blank lines ignored")
def t_keys_file():
    with tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False) as f:
        f.write("# doctors of the test\n\n  file-key-a-%s  \n#file-key-b-%s\nfile-key-c-%s\n"
                % (RUN_TAG, RUN_TAG, RUN_TAG))
        path = f.name
    try:
        srv = Server("--keys-file", path, keys=[])
        for k, ok in (("file-key-a-" + RUN_TAG, True), ("file-key-c-" + RUN_TAG, True),
                      ("file-key-b-" + RUN_TAG, False), ("#file-key-b-" + RUN_TAG, False)):
            ws = connect(srv, k)
            if ok:
                ws.send("ping")
                op, data = recv_frame(ws)
                check((op, data) == (websocket.ABNF.OPCODE_TEXT, b"pong"), "%s refused" % k)
            else:
                code, _, _ = expect_close(ws)
                check(code == 1008, "%s accepted" % k)
            ws.close()
        srv.stop()
    finally:
        os.unlink(path)


@test("usage errors exit 2: no key, key on argv, bad option")
def t_usage():
    cases = [([], {"REPORTLINK_DEVSERVER_KEYS": ""}, "no doctor key"),
             (["--key", "secret"], {}, "never accepted"),
             (["--port", "70000"], {}, "--port"),
             (["--frobnicate"], {}, "unknown option"),
             (["--tls-cert", "/nonexistent"], {}, "--tls-key")]
    for args, env, expect in cases:
        e = dict(os.environ)
        e["REPORTLINK_DEVSERVER_KEYS"] = KEYS[0]
        e.update(env)
        p = subprocess.run([BIN, "--port", "0"] + args, env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=5)
        check(p.returncode == 2, "%r exited %d" % (args, p.returncode))
        check(p.stdout == b"", "%r printed on stdout" % args)
        check(expect.encode() in p.stderr, "%r: stderr %r lacks %r" % (args, p.stderr, expect))
    p = subprocess.run([BIN, "--help"], stdout=subprocess.PIPE, timeout=5)
    check(p.returncode == 0 and b"--keys-file" in p.stdout, "--help failed")


@test("wss and https work with a self-signed certificate given as CA", timeout=30)
def t_tls():
    if not shutil.which("openssl"):
        raise Failure("openssl not installed")
    d = tempfile.mkdtemp(prefix="devserver-tls-")
    try:
        cert, keyf = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", keyf, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
        srv = Server("--tls-cert", cert, "--tls-key", keyf)
        check(srv.tls is True and '"tls":true' in srv.first_line, "listening line %r" % srv.first_line)
        key = KEYS[0]
        ws = connect_authenticated(srv, key, sslopt={"ca_certs": cert})
        ctx = ssl.create_default_context(cafile=cert)
        status, _ = push(srv, key, json.dumps(REPORT), ssl_context=ctx)
        check(status == 200, "https push gave %d" % status)
        msg = json.loads(recv_text(ws))
        check(msg["url"].startswith("https://127.0.0.1:%d/files/" % srv.port), "url %r" % msg["url"])
        status, data, _ = get_url(msg["url"], ssl_context=ctx)
        check(status == 200 and data[:2] == b"PK", "https docx gave %d" % status)
        blob = secrets.token_hex(600000).encode()
        status, _ = push(srv, key, blob, "?raw=1", ssl_context=ctx)
        op, data = recv_frame(ws)
        check(data == blob, "1.2 MB message over TLS differs")
        ws.close()
        # Without the CA the certificate must be refused.
        try:
            websocket.create_connection(srv.ws_url(), timeout=5).close()
            raise Failure("connected without trusting the certificate")
        except ssl.SSLError:
            pass
        check(srv.stop() == 0, "exit status not 0")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test("every server exits 0 on SIGTERM; logs hold no key, no report content")
def t_logs_clean():
    # Runs last: stops the shared servers and searches all the servers wrote.
    for s in ALL_SERVERS:
        if s.proc.poll() is None:
            check(s.stop() == 0, "%s exited %s" % (" ".join(s.args[1:]), s.proc.returncode))
        # A server that ended on its own: its reader thread may still hold
        # its last lines, and those are the ones to search too.
        s._err_thread.join(2)
    text = "".join(s.stderr_text() for s in ALL_SERVERS)
    check(text, "no server output to inspect")
    check("Sanitizer" not in text and "runtime error" not in text,
          "sanitizer report: " + text[text.find("Sanitizer") - 200:][:600])
    for k in KEYS + ["file-key-a-" + RUN_TAG, "file-key-c-" + RUN_TAG]:
        check(k not in text, "a key appears in the logs")
    for v in ("Céphalées", "Pouls de 100", "neurologique"):
        check(v not in text, "report content appears in the logs")


# --- Runner -------------------------------------------------------------------

def _on_alarm(signum, frame):
    raise TestTimeout()


def main():
    if not os.access(BIN, os.X_OK):
        print("FAIL - devserver binary: %s not built (make build/reportlink-devserver)" % BIN)
        print("0 passed, 1 failed")
        return 1
    signal.signal(signal.SIGALRM, _on_alarm)
    # The runner's own interruption still kills its servers (atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn, timeout in TESTS:
        if only and not any(o in name for o in only) and name != TESTS[-1][0]:
            continue
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            note = fn()
            signal.setitimer(signal.ITIMER_REAL, 0)
            print("ok - %s%s" % (name, " # " + note if note else ""), flush=True)
            passed += 1
        except TestTimeout:
            print("FAIL - %s: timed out after %ss" % (name, timeout), flush=True)
            failed += 1
        except Failure as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            print("FAIL - %s: %s" % (name, e), flush=True)
            failed += 1
        except Exception as e:  # a crash in a test is a failure, not the end
            signal.setitimer(signal.ITIMER_REAL, 0)
            print("FAIL - %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            failed += 1
    kill_all_servers()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
