"""Integration tests of build/reportlink-listen against both report-service
implementations: the C devserver (build/reportlink-devserver) and the
independent Node server (tests/servers/ws-server.mjs, on the `ws` package).

Each scenario runs once per server, with a fresh server and a fresh client;
the test name states the behaviour and, in brackets, the server. Scenarios
that need a fault only the Node server can script (fragments, oversize, its
connection history) run against it alone. A missing binary or a missing
node_modules fails the tests that need it, with the command that fixes it.

Usage: /usr/bin/python3 tests/integration/test_listen.py [WORD...] [-WORD...]
(WORDs select the tests whose name contains one of them, -WORDs leave out
those containing it). Standard library only; set up the Node server first
with tests/integration/setup.sh.

Under wine: REPORTLINK_LISTEN_BIN=build/windows/reportlink-listen.exe (any
.exe) runs the Windows client through tests/windows/wine_exec.py (SIGTERM
reaches it as Ctrl-C), gives it its files as Z:\... paths, and adds the
"Windows certificate store" case; WINE_NOT_RUN lists what cannot run there
and why. The servers stay the Linux ones.
"""

import atexit
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Failure, check  # noqa: E402

ROOT = harness.ROOT
# REPORTLINK_LISTEN_BIN selects another build, e.g. the sanitizer one.
LISTEN = os.environ.get("REPORTLINK_LISTEN_BIN") or os.path.join(ROOT, "build", "reportlink-listen")
# A Windows build runs under wine, through a wrapper that forwards SIGTERM as Ctrl-C.
WINE = LISTEN.endswith(".exe")
WINE_EXEC = os.path.join(ROOT, "tests", "windows", "wine_exec.py")
DEVSERVER = os.path.join(ROOT, "build", "reportlink-devserver")
NODE_SERVER = os.path.join(ROOT, "tests", "servers", "ws-server.mjs")
NODE_MODULES_WS = os.path.join(ROOT, "tests", "servers", "node_modules", "ws")

# Deadlines, in seconds. Backoff is random(0, 2^(attempt-1)) s, so a
# reconnection can take up to 1 + 2 + 4 s after a few refused attempts.
START_S = 10        # a server prints its listening line
CONNECT_S = 10      # a fresh client reaches "connected"
RECONNECT_S = 12    # from backoff to "connected" again
EVENT_S = 5         # a pushed message produces its event
EXIT_S = 5          # the client exits after its final event or a signal

# Fresh keys for each run: three the servers accept, one they refuse. They are
# registered as secrets, so no diagnostic line can print them.
KEYS = [harness.secret("dk-%s" % secrets.token_hex(16)) for _ in range(3)]
WRONG_KEY = harness.secret("dk-%s" % secrets.token_hex(16))

LISTEN_EVENTS = {"state", "report", "server_error", "rejected", "heartbeat", "docx"}
SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"WARNING: ThreadSanitizer",
                     b"runtime error:", b"ThreadSanitizer: reported")

_tmpdir = tempfile.mkdtemp(prefix="reportlink-it-")
atexit.register(shutil.rmtree, _tmpdir, True)


# ----------------------------------------------------------------- reports

def report(**overrides):
    """A report_ready message with the spec's French example values."""
    msg = {
        "type": "report_ready",
        "url": "https://storage.invalid/reports/2024/r-0001.docx?X-Sig=a%2Fb%3D&Expires=1700000000",
        "html_content": "<h1>Compte rendu</h1>\n<p>Céphalées chroniques non spécifiées</p>",
        "rtf_report": "{\\rtf1\\ansi\\deff0 C\\'e9phal\\'e9es chroniques\\par}",
        "plaintext_report": "Compte rendu\nCéphalées chroniques non spécifiées\n",
        "json_report": {
            "history": "La patiente est venu parce qu'elle a mal",
            "findings": "Pouls de 100/min, tension arterielle 140/80mmHg",
            "diagnosis": "Cephalées chroniques non spécifiées",
            "procedure": "Examen physique et neurologique",
            "recommendation": "Nous recommandons du repos à la patiente",
        },
    }
    msg.update(overrides)
    return msg


def utf8_text(n_bytes, line="Ligne n° %05d : « œdème », ça va ? 😀🩺 ✓\tfin\n"):
    """Multi-line text of exactly n_bytes UTF-8 bytes, with accents and emoji."""
    parts, size, i = [], 0, 0
    while size < n_bytes:
        piece = (line % i).encode("utf-8")
        parts.append(piece)
        size += len(piece)
        i += 1
    data = b"".join(parts)[:n_bytes]
    text = data.decode("utf-8", "ignore")       # drops a cut character at the end
    return text + "x" * (n_bytes - len(text.encode("utf-8")))


def rich_report(big_bytes=0):
    """Accents, emoji (with a ZWJ sequence), CRLF and tabs, RTF backslashes,
    and optionally an html_content of big_bytes bytes."""
    html = "<h1>Compte rendu — Dr Müller</h1>\r\n<p>Céphalées « chroniques » 👩‍⚕️ 🩺</p>\n<p>Fin.</p>"
    if big_bytes:
        html = utf8_text(big_bytes)
    return report(
        html_content=html,
        plaintext_report="Ligne 1 : La patiente est venu parce qu'elle a mal\r\n"
                         "Ligne 2 :\tPouls de 100/min\n\nLigne 4 : 😀 « fin »",
        json_report={
            "history": "La patiente est venu parce qu'elle a mal",
            "findings": "Pouls de 100/min,\ntension arterielle 140/80mmHg",
            "diagnosis": "Cephalées chroniques non spécifiées",
            "procedure": "Examen physique et neurologique",
            "recommendation": "Nous recommandons du repos à la patiente 🛌\nÀ revoir dans 15 jours.",
        })


def encode(msg, escaped=False):
    """The bytes pushed: raw UTF-8 JSON, or JSON with \\u escapes (ASCII only,
    emoji as surrogate pairs)."""
    return json.dumps(msg, ensure_ascii=escaped).encode("utf-8")


def report_diff(got, sent):
    """None when got equals sent member for member, string for string (equal
    str values are equal UTF-8 bytes); else where they first differ."""
    if got == sent:
        return None
    if not isinstance(got, dict):
        return "the message is %s, not an object" % harness.brief(got)

    def walk(g, s, path):
        if isinstance(s, dict) and isinstance(g, dict):
            for k in s:
                if k not in g:
                    return "%s.%s is missing" % (path, k)
            for k in g:
                if k not in s:
                    return "%s.%s was added" % (path, k)
            for k in s:
                d = walk(g[k], s[k], "%s.%s" % (path, k))
                if d:
                    return d
            return None
        if g == s:
            return None
        if isinstance(s, str) and isinstance(g, str):
            gb, sb = g.encode("utf-8", "surrogatepass"), s.encode("utf-8")
            i = next((i for i in range(min(len(gb), len(sb))) if gb[i] != sb[i]), min(len(gb), len(sb)))
            return "%s differs at byte %d (sent %d bytes, got %d): sent %r, got %r" % (
                path, i, len(sb), len(gb), sb[max(0, i - 10):i + 10], gb[max(0, i - 10):i + 10])
        return "%s: sent %s, got %s" % (path, harness.brief(s), harness.brief(g))
    return walk(got, sent, "message")


# ----------------------------------------------------------------- servers

class Server:
    """What the scenarios need from a report service under test."""
    name = "?"
    features = frozenset()

    def __init__(self):
        self.proc = None
        self.port = 0

    @property
    def url(self):
        return "ws://127.0.0.1:%d/reports/ws" % self.port

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def argv(self, port):
        raise NotImplementedError

    def env(self):
        raise NotImplementedError

    def start(self, port=0):
        """Starts the server; on a given port, retries while the port is not
        free again yet (a restart)."""
        for attempt in range(20):
            self.proc = harness.Proc(self.name, self.argv(port), env=self.env())
            try:
                ev = self.proc.wait_json(lambda e: e["event"] == "listening", START_S,
                                         "listening line on stdout")
            except Failure:
                if port == 0 or self.proc.running() or attempt == 19:
                    raise
                time.sleep(0.1)
                continue
            check(isinstance(ev.get("port"), int) and ev["port"] > 0,
                  "%s: bad listening line %s" % (self.name, harness.brief(ev)))
            self.port = ev["port"]
            return self

    def kill(self):
        """A crash: SIGKILL, no close frame for anyone."""
        self.proc.kill()

    def deliver(self, key, body, **kw):
        """Pushes body and fails unless the server says it was delivered."""
        status, data = self.push(key, body, **kw)
        check(status == 200, "%s: push answered %d %s" % (self.name, status, harness.shorten(
            data.decode("utf-8", "replace"), 200)))


class DevServer(Server):
    name = "devserver"

    def argv(self, port):
        if not os.access(DEVSERVER, os.X_OK):
            raise Failure("build/reportlink-devserver is missing: build it with "
                          "`make build/reportlink-devserver`")
        return [DEVSERVER, "--port", str(port)]

    def env(self):
        return {"REPORTLINK_DEVSERVER_KEYS": ",".join(KEYS)}

    def push(self, key, body, binary=False, raw=False):
        query = "?binary=1" if binary else "?raw=1" if raw else ""
        return harness.http("POST", self.base + "/reports/push" + query, body,
                            {"X-Doctor-Key": key, "Content-Type": "application/json"})

    def close(self, key, code):
        return harness.http("POST", self.base + "/admin/close?code=%d" % code, b"", {"X-Doctor-Key": key})

    def set_pong(self, enabled):
        status, data = harness.http("POST", self.base + "/admin/pong?enabled=%d" % enabled, b"")
        check(status == 200, "devserver: /admin/pong answered %d" % status)

    def silence(self, key):
        # Server-wide: if the client comes back before pongs are on again, it
        # only takes one more pong timeout.
        self.set_pong(False)


class NodeServer(Server):
    name = "ws-server"
    features = frozenset({"state", "fragments", "oversize", "auth-timeout", "faults"})

    def __init__(self, auth_timeout_ms=None):
        super().__init__()
        self.auth_timeout_ms = auth_timeout_ms

    def argv(self, port):
        if not shutil.which("node"):
            raise Failure("node is not installed: run `tools/ensure-deps.sh check` as root")
        if not os.path.isdir(NODE_MODULES_WS):
            raise Failure("tests/servers/node_modules is missing: run tests/integration/setup.sh")
        argv = ["node", NODE_SERVER, "--port", str(port)]
        if self.auth_timeout_ms:
            argv += ["--auth-timeout-ms", str(self.auth_timeout_ms)]
        return argv

    def env(self):
        return {"REPORTLINK_TEST_KEYS": ",".join(KEYS)}

    def control(self, route, key=None, body=b"", timeout=10.0, **params):
        query = dict(params)
        if key is not None:
            query["key"] = key
        qs = "&".join("%s=%s" % (k, v) for k, v in query.items())
        return harness.http("POST", self.base + route + ("?" + qs if qs else ""), body, timeout=timeout)

    def push(self, key, body, binary=False, raw=False):
        return self.control("/control/send", key, body, **({"binary": 1} if binary else {}))

    def send_fragments(self, key, body, fragments):
        status, data = self.control("/control/send", key, body, fragments=fragments)
        check(status == 200, "ws-server: fragmented send answered %d %r" % (status, data[:200]))

    def close(self, key, code):
        return self.control("/control/close", key, code=code)

    def set_pong(self, enabled, key=None):
        """Server-wide, or for the current connection of key only."""
        status, _ = self.control("/control/pong", key, enabled=int(enabled))
        check(status == 200, "ws-server: /control/pong answered %d" % status)

    def silence(self, key):
        # Only this connection: the client's reconnection gets pongs again
        # however short its backoff.
        self.set_pong(False, key)

    def oversize(self, key, size):
        return self.control("/control/oversize", key, bytes=size, timeout=30.0)

    def set_handshake(self, enabled):
        status, _ = self.control("/control/handshake", enabled=int(enabled))
        check(status == 200, "ws-server: /control/handshake answered %d" % status)

    def partial(self, key, announced, sent):
        status, data = self.control("/control/partial", key, bytes=announced, sent=sent)
        check(status == 200, "ws-server: /control/partial answered %d %r" % (status, data[:200]))

    def burst(self, key, count):
        status, data = self.control("/control/burst", key, count=count, timeout=60.0)
        check(status == 200, "ws-server: /control/burst answered %d %r" % (status, data[:200]))

    def state(self):
        status, st = harness.http_json("GET", self.base + "/control/state")
        check(status == 200, "ws-server: /control/state answered %d" % status)
        return st

    def connections(self):
        return self.state()["connections"]


SERVERS = [("devserver", DevServer), ("ws-server", NodeServer)]


# ----------------------------------------------------------------- the client

_listens = []   # the clients of the current test, checked when it ends


def host_path(path):
    """A file name as the client reads it: under wine, the Windows name of a
    Linux path (wine's drive Z: is /)."""
    return "Z:" + path.replace("/", "\\") if WINE else path


def write_key_file(key):
    fd, path = tempfile.mkstemp(dir=_tmpdir, prefix="key-")
    with os.fdopen(fd, "w") as f:   # mkstemp makes it 0600
        f.write(key + "\n")         # as `echo KEY > file` would
    return path


def state_in(*names):
    return lambda e: e["event"] == "state" and e["state"] in names


def any_state(e):
    return e["event"] == "state"


def not_quiet(e):
    """While connected and waiting for one message: anything but a heartbeat
    is a surprise worth failing on at once."""
    return e["event"] != "heartbeat"


class Listen:
    """build/reportlink-listen as a child process. The key goes through a
    file (default) or the environment, never argv."""

    def __init__(self, server, key=None, key_via="file", ping_interval=None, pong_timeout=None,
                 count=None, ca_file=None, url=None, connect_timeout=None, backoff=None,
                 wrapper=(), docx=False):
        if not os.access(LISTEN, os.X_OK):
            raise Failure("build/reportlink-listen is missing: build it with `make build/reportlink-listen`")
        self.key = key or KEYS[0]
        # wrapper: a command that runs listen (valgrind), placed before it.
        argv = list(wrapper) + ([WINE_EXEC] if WINE else []) + [LISTEN, "--url", url or server.url]
        if ca_file:
            argv += ["--ca-file", host_path(ca_file)]
        env = {}
        if key_via == "file":
            argv += ["--key-file", host_path(write_key_file(self.key))]
        else:
            env["REPORTLINK_DOCTOR_KEY"] = self.key
        if ping_interval is not None:
            argv += ["--ping-interval", str(ping_interval)]
        if pong_timeout is not None:
            argv += ["--pong-timeout", str(pong_timeout)]
        if count is not None:
            argv += ["--count", str(count)]
        if connect_timeout is not None:
            argv += ["--connect-timeout", str(connect_timeout)]
        if backoff is not None:     # (base, cap) in seconds
            argv += ["--backoff-base", str(backoff[0]), "--backoff-cap", str(backoff[1])]
        if docx:
            argv += ["--docx"]
        self.proc = harness.Proc("listen", argv, env=env)
        _listens.append(self)

    def state(self, name, timeout, fail_on=None):
        return self.proc.wait_json(lambda e: e["event"] == "state" and e["state"] == name, timeout,
                                   "state %r" % name, fail_on)

    def event(self, kind, timeout, fail_on=None):
        return self.proc.wait_json(lambda e: e["event"] == kind, timeout, "%s event" % kind, fail_on)

    def report(self, sent, what="report"):
        """Waits for the next report and compares it with sent."""
        ev = self.proc.wait_json(lambda e: e["event"] == "report", EVENT_S, what, fail_on=not_quiet)
        diff = report_diff(ev.get("message"), sent)
        check(diff is None, "%s: %s" % (what, diff))

    def exit(self, expected, timeout=EXIT_S):
        rc = self.proc.wait_exit(timeout)
        check(rc == expected, "listen exited with status %s, expected %d" % (rc, expected))

    def events(self, kind, state=None):
        return [e for e in self.proc.since(0) if e.get("event") == kind and
                (state is None or e.get("state") == state)]

    def check_clean(self):
        """Every stdout line is one JSON event; no key in stdout or stderr."""
        for line in self.proc.lines:
            try:
                ev = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise Failure("listen printed a stdout line that is not UTF-8 JSON: %s" %
                              harness.shorten(line.decode("utf-8", "replace"), 200)) from None
            check(isinstance(ev, dict) and ev.get("event") in LISTEN_EVENTS,
                  "listen printed an unknown stdout object: %s" % harness.brief(ev))
        out, err = self.proc.stdout_bytes, self.proc.stderr_bytes
        # A sanitizer build reports on stderr, sometimes only at exit (leaks,
        # a race during shutdown), after the test has seen what it wanted.
        for marker in SANITIZER_MARKERS:
            if marker in err:
                at = err.index(marker)
                raise Failure("listen's stderr has a sanitizer report: %s"
                              % harness.shorten(err[at:at + 600].decode("utf-8", "replace"), 600))
        for k in KEYS + [WRONG_KEY]:
            check(k.encode() not in out, "a doctor key appears in listen's stdout")
            check(k.encode() not in err, "a doctor key appears in listen's stderr")


def connected_listen(server, **kw):
    listen = Listen(server, **kw)
    listen.state("connected", CONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    return listen


def intrude(server, key):
    """Another client that authenticates with key, proven by its pong."""
    c = harness.WsClient("127.0.0.1", server.port, "/reports/ws")
    # Key and ping in one write: the server answers the ping before the client
    # it displaced can come back and displace this one.
    c.send_texts(json.dumps({"doctor_key": key}), "ping")
    got = c.recv(EVENT_S)
    check(got == ("text", b"pong"), "%s: the second client got %r, not pong" % (server.name, got[:2]))
    return c


def scenario(make_server, body):
    """Runs body(server) on a fresh server, then stops the clients and checks
    their output (JSON Lines only, no key anywhere)."""
    def run():
        del _listens[:]
        server = make_server().start()
        body(server)
        for listen in _listens:
            listen.proc.stop()
            listen.check_clean()
    return run


# ----------------------------------------------------------------- scenarios

def report_arrives_intact(srv):
    listen = connected_listen(srv)
    big = rich_report(big_bytes=1024 * 1024)
    srv.deliver(KEYS[0], encode(big))
    listen.report(big, "the report with a 1 MiB field, pushed as raw UTF-8")
    small = rich_report()
    srv.deliver(KEYS[0], encode(small, escaped=True))
    listen.report(small, "the report pushed with \\u escapes (emoji as surrogate pairs)")


def wrong_key_fails_once(srv):
    listen = Listen(srv, key=WRONG_KEY)
    listen.state("auth_failed", CONNECT_S, fail_on=state_in("connected", "backoff"))
    listen.exit(3)
    attempts = listen.events("state", "connecting")
    check(len(attempts) == 1, "listen connected %d times, expected once" % len(attempts))
    if "state" in srv.features:
        st = srv.state()
        conns = st["connections"]
        check(st["upgrade_requests"] == 1 and len(conns) == 1,
              "ws-server saw %d upgrade requests and %d connections, expected 1"
              % (st["upgrade_requests"], len(conns)))
        check(conns[0]["auth"] == "unknown_key" and conns[0]["server_close_code"] == 1008,
              "ws-server: connection ended with auth=%s, close %s" % (conns[0]["auth"], conns[0]["server_close_code"]))


def authenticates_then_pong_connects(srv):
    # Pongs off: nothing proves the key yet, so the client must stay
    # "authenticating" (not claim "connected", not give up). Then a late
    # "pong", sent by hand within the pong timeout, is the proof.
    srv.set_pong(False)
    opened = time.monotonic()
    listen = Listen(srv, ping_interval=0.5, pong_timeout=5)
    listen.state("authenticating", CONNECT_S, fail_on=state_in("connected", "auth_failed", "backoff"))
    time.sleep(1.2)
    moved = [e for e in listen.proc.since(listen.proc.cursor) if e["event"] == "state"]
    check(not moved, "without any pong the client went on to %s" % harness.brief(moved[0]) if moved else "")
    if "state" in srv.features:
        conn = srv.connections()[-1]
        check(conn["auth"] == "ok" and conn["messages"][0]["kind"] == "auth",
              "ws-server: the first message was not an accepted key (auth=%s)" % conn["auth"])
        check(conn["auth_ms"] < srv.auth_timeout_ms,
              "the key came %d ms after the handshake" % conn["auth_ms"])
        check(conn["pings"] >= 1, "ws-server received no ping after the key")
    srv.deliver(KEYS[0], b"pong", raw=True)
    listen.state("connected", 3, fail_on=state_in("auth_failed", "backoff", "connecting", "replaced"))
    listen.event("heartbeat", 2, fail_on=any_state)   # for that pong: the server answers no ping yet
    srv.set_pong(True)
    if "state" in srv.features:
        # Past the server's deadline: still the same, open, authenticated connection.
        time.sleep(max(0.0, srv.auth_timeout_ms / 1000.0 + 0.3 - (time.monotonic() - opened)))
        st = srv.state()
        check(len(st["connections"]) == 1 and st["connections"][0]["open"],
              "ws-server: connections after the auth deadline: %s" % harness.brief(st["connections"], 400))
        check(1008 not in st["close_codes_seen"] and st["connections"][0]["server_close_code"] is None,
              "ws-server closed the client with %s" % st["connections"][0]["server_close_code"])
    else:
        report_ = report()
        srv.deliver(KEYS[0], encode(report_))   # delivered: the server holds it as authenticated
        listen.report(report_)
    check(not listen.events("state", "backoff"), "the client backed off")


def pong_silence_reconnects(srv):
    listen = connected_listen(srv, ping_interval=0.5, pong_timeout=1)
    srv.silence(KEYS[0])
    silent_since = time.monotonic()
    listen.state("backoff", 4, fail_on=state_in("auth_failed", "replaced", "stopped"))
    waited = time.monotonic() - silent_since
    check(waited >= 0.5, "backoff %.2f s after the pongs stopped, before the 1 s pong timeout" % waited)
    srv.set_pong(True)
    listen.state("connecting", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    if "state" in srv.features:
        conns = srv.connections()
        check(len(conns) == 2 and not conns[0]["open"] and conns[1]["open"] and conns[1]["authenticated"],
              "ws-server connections: %s" % harness.brief(conns, 400))


def restart_reconnects(srv):
    listen = connected_listen(srv)
    port = srv.port
    srv.kill()
    listen.state("backoff", EVENT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    srv.start(port)
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    later = rich_report()
    srv.deliver(KEYS[0], encode(later))
    listen.report(later, "the report after the restart")


def kicked_backs_off(srv):
    listen = connected_listen(srv)
    other = intrude(srv, KEYS[0])
    ev = listen.event("server_error", EVENT_S, fail_on=any_state)
    check(ev.get("code") == 4000, "server_error code %s, expected 4000" % ev.get("code"))
    listen.state("backoff", EVENT_S, fail_on=state_in("auth_failed", "replaced", "stopped", "connected"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    # The client's return replaced the other one in turn: the server's side of it.
    kind, data = other.recv(EVENT_S)[:2]
    check(kind == "text" and json.loads(data).get("code") == 4000,
          "%s: the replaced second client got %r, not an error 4000" % (srv.name, data[:200]))
    got = other.recv(EVENT_S)
    check(got[:2] == ("close", 4000), "%s: the replaced second client got %r, not close 4000" % (srv.name, got))
    other.close()


def three_takeovers_replace(srv):
    listen = connected_listen(srv)
    others = []
    try:
        for n in (1, 2, 3):
            if n > 1:
                listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
            others.append(intrude(srv, KEYS[0]))
            ev = listen.event("server_error", EVENT_S, fail_on=any_state)
            check(ev.get("code") == 4000, "take-over %d: server_error code %s" % (n, ev.get("code")))
            if n < 3:
                try:
                    listen.state("backoff", EVENT_S, fail_on=any_state)
                except Failure as e:
                    raise Failure("after take-over %d of 3: %s" % (n, e)) from None
        listen.state("replaced", EVENT_S, fail_on=state_in("connecting", "connected", "authenticating"))
        listen.exit(4)
    finally:
        for c in others:
            c.close()


MALFORMED = [
    ("invalid JSON", b'{"type":"report_ready","url":', False),
    ("a binary frame", encode(report()), True),
    ("report_ready with a number for html_content",
     encode(report(html_content=42)), False),
    ("an unknown type", b'{"type":"report_deleted","url":"x"}', False),
]


def malformed_rejected(srv):
    listen = connected_listen(srv)
    mark = listen.proc.mark()
    for label, body, binary in MALFORMED:
        srv.deliver(KEYS[0], body, binary=binary, raw=True)
        listen.proc.wait_json(lambda e: e["event"] == "rejected", EVENT_S, "rejected event for %s" % label,
                              fail_on=not_quiet)
    good = rich_report()
    srv.deliver(KEYS[0], encode(good))
    listen.report(good, "the good report after the malformed ones")
    seen = listen.proc.since(mark)
    rejected = [e for e in seen if e["event"] == "rejected"]
    check(len(rejected) == len(MALFORMED), "%d rejected events for %d malformed messages"
          % (len(rejected), len(MALFORMED)))
    check(not [e for e in seen if e["event"] == "state"], "the connection changed state")
    if "state" in srv.features:
        conns = srv.connections()
        check(len(conns) == 1 and conns[0]["open"], "ws-server connections: %s" % harness.brief(conns, 400))


INVALID_UTF8 = b'{"type":"report_ready","url":"x","html_content":"C\xe9phal\xe9es"}'


def invalid_utf8_fails_1007(srv):
    """Latin-1 in a text frame is not a malformed report but a broken text
    frame: RFC 6455 8.1 fails the link with 1007. It is reported, never
    delivered, and the next report arrives after the reconnection."""
    listen = connected_listen(srv)
    srv.deliver(KEYS[0], INVALID_UTF8, raw=True)
    ev = listen.event("rejected", EVENT_S, fail_on=not_quiet)
    check("UTF-8" in ev["reason"] and "1007" in ev["reason"], "rejected: %s" % ev["reason"])
    listen.state("backoff", EVENT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    good = rich_report()
    srv.deliver(KEYS[0], encode(good))
    listen.report(good, "the report after the invalid UTF-8")
    check(len(listen.events("report")) == 1, "the invalid UTF-8 message was delivered")
    if "state" in srv.features:
        first = srv.connections()[0]
        check(first["close_code"] == 1007 and first["closed_by"] == "client",
              "the first connection ended with close %s by %s, expected 1007 by the client"
              % (first["close_code"], first["closed_by"]))


def fragments_arrive(srv):
    listen = connected_listen(srv)
    msg = rich_report(big_bytes=48 * 1024)
    # 1000 pieces of about 49 bytes: many cuts fall inside a UTF-8 sequence.
    srv.send_fragments(KEYS[0], encode(msg), 1000)
    listen.report(msg, "the report sent in 1000 fragments")


def oversize_reconnects(srv):
    listen = connected_listen(srv)
    first = srv.connections()[-1]["id"]
    status, data = srv.oversize(KEYS[0], 17 * 1024 * 1024)
    check(status in (200, 404), "ws-server: oversize answered %d %r" % (status, data[:200]))
    listen.state("backoff", 15, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    later = rich_report()
    srv.deliver(KEYS[0], encode(later))
    listen.report(later, "the report after the oversize message")
    conn = next(c for c in srv.connections() if c["id"] == first)
    check(conn["close_code"] == 1009 and conn["closed_by"] == "client",
          "the oversize connection ended with close %s by %s, expected 1009 by the client"
          % (conn["close_code"], conn["closed_by"]))
    check(len(listen.events("report")) == 1, "the oversize message was delivered as a report")


def count_two_exits(srv):
    listen = connected_listen(srv, key_via="env", count=2)
    first, second = rich_report(), report(url="https://storage.invalid/r-0002.docx")
    srv.deliver(KEYS[0], encode(first))
    listen.report(first, "the first report")
    srv.deliver(KEYS[0], encode(second))
    listen.report(second, "the second report")
    listen.exit(0)


def sigterm_exits(srv):
    listen = connected_listen(srv)
    listen.proc.signal(signal.SIGTERM)
    listen.exit(0)
    if "state" in srv.features:
        conn = harness.wait_until(lambda: [c for c in srv.connections() if not c["open"]], 3,
                                  "closed connection on ws-server")[0]
        check(conn["close_code"] == 1000 and conn["closed_by"] == "client",
              "ws-server saw close %s by %s, expected 1000 by the client" % (conn["close_code"], conn["closed_by"]))


def cmdline_of(listen):
    try:
        with open("/proc/%d/cmdline" % listen.proc.pid, "rb") as f:
            return f.read()
    except OSError as e:
        raise Failure("cannot read /proc/%d/cmdline: %s" % (listen.proc.pid, e)) from None


def key_never_shown(srv):
    # The key from a file, through a report, a server close and a reconnection.
    listen = connected_listen(srv)
    check(KEYS[0].encode() not in cmdline_of(listen), "the key is in /proc/<pid>/cmdline (key file)")
    msg = rich_report()
    srv.deliver(KEYS[0], encode(msg))
    listen.report(msg)
    status, _ = srv.close(KEYS[0], 1001)
    check(status == 200, "%s: the close request answered %d" % (srv.name, status))
    listen.state("backoff", EVENT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.proc.signal(signal.SIGTERM)
    listen.exit(0)
    # A refused key from the environment: the error paths must not print it either.
    refused = Listen(srv, key=WRONG_KEY, key_via="env")
    # After its first line the process is surely past exec: its own cmdline.
    refused.proc.wait_json(lambda e: True, CONNECT_S, "first event")
    refused.proc.cursor = 0
    if refused.proc.running():
        check(WRONG_KEY.encode() not in cmdline_of(refused), "the key is in /proc/<pid>/cmdline (env)")
    refused.state("auth_failed", CONNECT_S, fail_on=state_in("connected", "backoff"))
    refused.exit(3)
    for lst in (listen, refused):
        lst.check_clean()


# ------------------------------------------------------------ network faults

def no_handshake_then_fixed(srv):
    """TCP accepted, the upgrade never answered: each attempt ends at the
    connect timeout, the retries back off, and once the server answers again
    the client connects."""
    srv.set_handshake(False)
    listen = Listen(srv, connect_timeout=1)
    ev = listen.state("backoff", CONNECT_S, fail_on=state_in("authenticating", "connected", "auth_failed"))
    check("no answer from" in ev["detail"] and "within 1 s" in ev["detail"],
          "the backoff detail does not name the connect timeout: %r" % ev["detail"])
    window = 5.0
    time.sleep(window)
    attempts = srv.state()["upgrade_requests"]
    # Each attempt lasts the 1 s timeout, plus a delay: at most one attempt per
    # second (plus the first); a busy loop would make hundreds.
    check(2 <= attempts <= window + 2, "%d upgrade requests in %.0f s with a 1 s connect timeout"
          % (attempts, window + 1))
    events = [e for e in listen.proc.since(0) if e["event"] == "state"]
    for a, b in zip(events, events[1:]):
        if a["state"] == "connecting" and b["state"] == "backoff":
            took = b["t_ms"] - a["t_ms"]
            check(900 <= took <= 2500, "an attempt was given up after %d ms, not the 1 s timeout" % took)
    srv.set_handshake(True)
    listen.state("connected", RECONNECT_S + 2, fail_on=state_in("auth_failed", "replaced", "stopped"))
    msg = rich_report()
    srv.deliver(KEYS[0], encode(msg))
    listen.report(msg, "the report once the server answers handshakes again")


def partial_frame_reconnects(srv):
    """The link dies after the header and 64 KiB of a 4 MiB text frame."""
    listen = connected_listen(srv)
    mark = listen.proc.mark()
    srv.partial(KEYS[0], 4 * 1024 * 1024, 64 * 1024)
    listen.state("backoff", EVENT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    listen.state("connected", RECONNECT_S, fail_on=state_in("auth_failed", "replaced", "stopped"))
    msg = rich_report()
    srv.deliver(KEYS[0], encode(msg))
    listen.report(msg, "the report after the cut frame")
    check(len([e for e in listen.proc.since(mark) if e["event"] == "report"]) == 1,
          "the cut message was delivered as a report")


def retry_delays(listen):
    """[(attempt, announced retry_in_ms, measured ms)] from backoff to the
    next connecting event, by the client's own clock."""
    out, pending = [], None
    for e in listen.proc.since(0):
        if e.get("event") != "state":
            continue
        if e["state"] == "backoff":
            pending = e
        elif e["state"] == "connecting" and pending is not None:
            out.append((pending["attempt"], pending["retry_in_ms"], e["t_ms"] - pending["t_ms"]))
            pending = None
    return out


# Timer slack: the client's timer fires late by scheduling, never early.
JITTER_SLACK_MS = 150


def check_full_jitter(delays, base_ms, cap_ms):
    check(delays, "no retry was measured")
    for n, (attempt, announced, measured) in enumerate(delays, 1):
        check(attempt == n, "retry %d announced attempt %d (the counter must grow by one)" % (n, attempt))
        ceiling = min(cap_ms, base_ms * 2 ** (attempt - 1))
        check(0 <= announced <= ceiling, "retry %d: announced %d ms, outside [0, %d]"
              % (attempt, announced, ceiling))
        check(measured <= ceiling + JITTER_SLACK_MS and measured >= announced - 5,
              "retry %d: waited %d ms, announced %d ms, ceiling %d ms" % (attempt, measured, announced, ceiling))


def server_down_backoff(base_s, cap_s, window_s, max_attempts):
    """The server dies and stays down for window_s: the measured retry
    delays follow random(0, min(cap, base*2^(n-1))); then it comes back and
    a report arrives. max_attempts guards against a busy loop."""
    def body(srv):
        backoff = (base_s, cap_s) if (base_s, cap_s) != (1, 60) else None
        listen = connected_listen(srv, backoff=backoff)
        port = srv.port
        srv.kill()
        time.sleep(window_s)
        delays = retry_delays(listen)
        harness.note("retry delays (attempt, announced, measured ms): %s" % delays)
        check(len(delays) <= max_attempts, "%d connection attempts in %.0f s: a busy loop"
              % (len(delays), window_s))
        check_full_jitter(delays, base_s * 1000, cap_s * 1000)
        at_cap = [m for a, _, m in delays if base_s * 1000 * 2 ** (a - 1) >= cap_s * 1000]
        if len(at_cap) >= 10:
            # Full jitter, not a fixed delay: the waits at the cap spread over
            # [0, cap] with a mean near cap/2.
            mean = sum(at_cap) / len(at_cap)
            check(0.25 * cap_s * 1000 <= mean <= 0.75 * cap_s * 1000,
                  "mean wait at the cap %.0f ms for a %d ms cap: not full jitter" % (mean, cap_s * 1000))
            check(max(at_cap) - min(at_cap) >= 0.2 * cap_s * 1000, "the waits at the cap do not spread")
        srv.start(port)
        reach = min(cap_s, base_s * 2 ** len(delays)) + 3
        listen.state("connected", reach + RECONNECT_S,
                     fail_on=state_in("auth_failed", "replaced", "stopped"))
        msg = rich_report()
        srv.deliver(KEYS[0], encode(msg))
        listen.report(msg, "the report once the server is back")
    return body


def server_1008_auth_failed(srv):
    """The server closes a live session with 1008: the key is no longer
    accepted; the client stops after this one attempt."""
    listen = connected_listen(srv)
    status, _ = srv.close(KEYS[0], 1008)
    check(status == 200, "%s: the close request answered %d" % (srv.name, status))
    ev = listen.state("auth_failed", EVENT_S, fail_on=state_in("backoff", "connecting", "connected"))
    check("1008" in ev["detail"] or "refused" in ev["detail"], "auth_failed detail: %r" % ev["detail"])
    listen.exit(3)
    check(len(listen.events("state", "connecting")) == 1, "listen connected %d times, expected once"
          % len(listen.events("state", "connecting")))
    if "state" in srv.features:
        check(srv.state()["upgrade_requests"] == 1, "ws-server saw another upgrade request after 1008")


def deep(depth):
    return ('{"type":"report_ready","json_report":{"history":"x","deep":' + '{"a":' * depth
            + '"x"' + '}' * depth + '}}').encode()


WRONG_TYPES = [
    # (label, body, words the rejected reason must contain)
    ("json_report nested 1000 levels", deep(1000), ("nesting deeper than 16",)),
    ("json_report an array", encode(report(json_report=["Céphalées", "repos"])), ("json_report", "array")),
    ("patient_id a number", encode(report(json_report={"patient_id": 4711, "diagnosis": "x"})),
     ("patient_id", "number")),
    ("type a number", b'{"type":7,"plaintext_report":"x"}', ("type",)),
    ("a JSON array", b'[{"type":"report_ready","plaintext_report":"x"}]', ("object",)),
    ("error code a string", b'{"type":"error","message":"x","code":"4000"}', ("code",)),
]


def wrong_types_rejected(srv):
    listen = connected_listen(srv)
    mark = listen.proc.mark()
    for label, body, words in WRONG_TYPES:
        srv.deliver(KEYS[0], body, raw=True)
        ev = listen.proc.wait_json(lambda e: e["event"] == "rejected", EVENT_S,
                                   "rejected event for %s" % label, fail_on=not_quiet)
        reason = ev.get("reason", "")
        check(all(w in reason for w in words), "%s: the reason %r does not name %s" % (label, reason, words))
    good = rich_report()
    srv.deliver(KEYS[0], encode(good))
    listen.report(good, "the good report after the wrongly-typed ones")
    check(not [e for e in listen.proc.since(mark) if e["event"] == "state"], "the connection changed state")


def many_fragments_arrive(srv):
    listen = connected_listen(srv)
    msg = rich_report(big_bytes=200 * 1024)
    srv.send_fragments(KEYS[0], encode(msg), 5000)
    listen.report(msg, "the report sent in 5000 fragments")


BURST = 10000


def burst_in_order(srv):
    listen = connected_listen(srv)
    mark = listen.proc.mark()
    started = time.monotonic()
    srv.burst(KEYS[0], BURST)
    harness.wait_until(lambda: len([e for e in listen.proc.since(mark) if e["event"] != "heartbeat"]) >= BURST,
                       40, "%d events" % BURST, interval=0.2)
    took = time.monotonic() - started
    seen = [e for e in listen.proc.since(mark) if e["event"] != "heartbeat"]
    others = [e for e in seen if e["event"] != "report"]
    check(not others, "during the burst: %s" % harness.brief(others[:3]))
    seqs = [int(e["message"]["json_report"]["seq"]) for e in seen]
    check(len(seqs) == BURST and len(set(seqs)) == BURST, "%d reports, %d distinct" % (len(seqs), len(set(seqs))))
    first_wrong = next((i for i, q in enumerate(seqs) if q != i + 1), None)
    check(first_wrong is None, "report %d has seq %s" % (first_wrong or 0, seqs[first_wrong or 0]))
    harness.note("%d reports delivered in order in %.1f s" % (BURST, took))


# (title, function, features the server needs; "once": the first server only)
SCENARIOS = [
    ("a report arrives intact: accents, emoji, multi-line, 1 MiB field", report_arrives_intact, ()),
    ("a wrong key ends in auth_failed, exit 3, after one connection attempt", wrong_key_fails_once, ()),
    ("the client authenticates before the deadline and the first pong makes it connected",
     authenticates_then_pong_connects, ()),
    ("pong silence is detected: backoff, then reconnect", pong_silence_reconnects, ()),
    ("after a server restart the client backs off, reconnects and a later report arrives",
     restart_reconnects, ()),
    ("a kicked connection reports server_error 4000 and backs off", kicked_backs_off, ()),
    ("three take-overs within a minute stop the client as replaced, exit 4", three_takeovers_replace, ()),
    ("malformed messages are rejected one each and a later report still arrives", malformed_rejected, ()),
    ("a text message that is not UTF-8 fails the link with 1007; the next report arrives",
     invalid_utf8_fails_1007, ()),
    ("a message in 1000 fragments arrives intact", fragments_arrive, ("fragments",)),
    ("a 17 MiB message closes the connection with 1009, then reconnect and a later report arrives",
     oversize_reconnects, ("oversize",)),
    ("--count 2 exits 0 after two reports", count_two_exits, ()),
    ("SIGTERM exits 0", sigterm_exits, ()),
    ("the key never appears in stdout, stderr or /proc/<pid>/cmdline", key_never_shown, ()),
    ("TCP accepted but no handshake: connect timeout, backoff, no busy loop, then connected",
     no_handshake_then_fixed, ("faults",)),
    ("a link cut in the middle of a 4 MiB frame: backoff, reconnect, a later report arrives",
     partial_frame_reconnects, ("faults",)),
    ("server down 8 s: retry delays follow full jitter (base 0.1 s, cap 0.8 s), then connected",
     server_down_backoff(0.1, 0.8, 8, 60), ("faults",)),
    ("server down 12 s: retry delays follow full jitter (default 1 s, 60 s), then connected",
     server_down_backoff(1, 60, 12, 8), ("once",)),
    ("close 1008 from the server: auth_failed after exactly one attempt, exit 3", server_1008_auth_failed, ()),
    ("a 1000-deep json_report and wrongly-typed JSON are rejected, each by name; a later report arrives",
     wrong_types_rejected, ()),
    ("a message in 5000 fragments arrives intact", many_fragments_arrive, ("fragments",)),
    ("a burst of 10000 reports: every one delivered, in order, none duplicated", burst_in_order, ("faults",)),
]


# --------------------------------------------------------------------- TLS

def openssl(*args):
    import subprocess
    r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=30)
    check(r.returncode == 0, "openssl %s failed: %s" % (args[0], r.stderr.decode()[-300:]))


_pki = {}


def pki():
    """A throwaway CA and two server certificates it signs: one for
    localhost/127.0.0.1, one for another host name."""
    if _pki:
        return _pki
    d = tempfile.mkdtemp(prefix="pki-", dir=_tmpdir)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
            "-days", "2", "-subj", "/CN=ReportLink test CA")
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("otherhost", "DNS:other.example")):
        key, csr, crt = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".pem"))
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=%s" % san.split(",")[0].split(":")[1])
        openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                "-out", crt, "-days", "2", "-extfile", ext)
        _pki[name] = (crt, key)
    _pki["ca"] = ca_crt
    # Self-signed, for the right name: trusted by nobody.
    key, crt = os.path.join(d, "selfsigned.key"), os.path.join(d, "selfsigned.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    _pki["selfsigned"] = (crt, key)
    # Expired: signed by the test CA, valid for one day in 2020. `openssl x509
    # -days` cannot go back in time; `openssl ca` takes explicit dates.
    key, csr, crt = (os.path.join(d, "expired" + ext) for ext in (".key", ".csr", ".pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    cnf = os.path.join(d, "ca.cnf")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = %s/index.txt\n"
                "new_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = any\n"
                "copy_extensions = none\n[any]\ncommonName = supplied\n"
                "[server]\nsubjectAltName = DNS:localhost,IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
                % (d, d, d))
    openssl("ca", "-batch", "-config", cnf, "-cert", ca_crt, "-keyfile", ca_key, "-in", csr, "-out", crt,
            "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "server",
            "-notext")
    _pki["expired"] = (crt, key)
    return _pki


class TlsDevServer(DevServer):
    name = "devserver, wss"

    def __init__(self, cert="good"):
        super().__init__()
        self.cert = cert

    def argv(self, port):
        crt, key = pki()[self.cert]
        return super().argv(port) + ["--tls-cert", crt, "--tls-key", key]

    @property
    def url(self):
        return "wss://localhost:%d/reports/ws" % self.port

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port

    def push(self, key, body, binary=False, raw=False):
        import ssl
        import urllib.request
        ctx = ssl.create_default_context(cafile=pki()["ca"])
        ctx.check_hostname = False     # the test's own push; the client checks names
        req = urllib.request.Request(self.base + "/reports/push", data=body, method="POST",
                                     headers={"X-Doctor-Key": key})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def tls_with_ca_connects(srv):
    listen = Listen(srv, ca_file=pki()["ca"])
    listen.state("connected", CONNECT_S, fail_on=state_in("auth_failed", "backoff"))
    msg = rich_report()
    srv.deliver(KEYS[0], encode(msg))
    listen.report(msg, "a report over wss")


def tls_refused(expect_words):
    def body(srv):
        listen = Listen(srv, ca_file=pki()["ca"] if srv.cert != "good" else None)
        ev = listen.state("backoff", CONNECT_S, fail_on=state_in("connected", "authenticating"))
        detail = ev.get("detail", "").lower()
        check(any(w in detail for w in expect_words),
              "the backoff detail does not say why the certificate was refused: %r" % detail)
        check(not listen.events("state", "authenticating"), "the key was sent over an unverified link")
    return body


def plain_tcp_refused(srv):
    url = "wss://localhost:%d/reports/ws" % srv.port
    listen = Listen(srv, url=url, ca_file=pki()["ca"])
    ev = listen.state("backoff", CONNECT_S, fail_on=state_in("connected", "authenticating"))
    detail = ev.get("detail", "")
    check("does the server speak TLS on port %d" % srv.port in detail,
          "the backoff detail does not say the server does not speak TLS: %r" % detail)
    check(not listen.events("state", "authenticating"), "the key was sent over an unverified link")
    if "state" in srv.features:
        st = srv.state()
        check(st["upgrade_requests"] == 0 and not st["connections"],
              "ws-server saw %d upgrade requests over a TLS-less link" % st["upgrade_requests"])


# What would turn verification off, in libwebsockets or OpenSSL terms.
INSECURE_NAMES = ("LCCSCF_ALLOW_SELFSIGNED", "LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK",
                  "LCCSCF_ALLOW_EXPIRED", "LCCSCF_ALLOW_INSECURE", "SSL_VERIFY_NONE",
                  "SSL_CTX_set_verify", "SSL_set_verify", "X509_STORE_CTX_set_error",
                  "SSL_CTX_set_cert_verify_callback", "LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED")
# The OpenSSL functions the shipped binaries may import: making the client's
# SSL_CTX when the first TLS connection comes (new, free, options and mode -
# SSL_CTX_set_mode is SSL_CTX_ctrl; none of them touches verification, which
# lws sets per connection), trust-store loading and reading the verdict.
# Anything else is new TLS code to review.
OPENSSL_IMPORTS_ALLOWED = {"TLS_client_method", "SSL_CTX_new", "SSL_CTX_free", "SSL_CTX_set_options",
                           "SSL_CTX_ctrl",
                           "SSL_CTX_load_verify_locations", "SSL_CTX_set_default_verify_paths",
                           "X509_STORE_CTX_get_error", "X509_verify_cert_error_string"}


def shipped_sources():
    """Every file compiled into build/reportlink.so or build/reportlink-listen,
    and the build files that choose their flags."""
    out = [os.path.join(ROOT, "tools", "reportlink-listen.c"), os.path.join(ROOT, "Makefile")]
    out += [os.path.join(ROOT, "mk", f) for f in sorted(os.listdir(os.path.join(ROOT, "mk")))]
    for top, _, files in os.walk(os.path.join(ROOT, "src")):
        out += [os.path.join(top, f) for f in files if f.endswith((".c", ".h"))]
    return out


def no_insecure_switch():
    import subprocess
    files = shipped_sources()
    check(len(files) > 20, "only %d source files found: the scan is looking in the wrong place" % len(files))
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name in INSECURE_NAMES:
            check(name not in text, "%s names %s: a way to skip certificate verification"
                  % (os.path.relpath(path, ROOT), name))
    for binary in ("reportlink-listen", "reportlink.so"):
        path = os.path.join(ROOT, "build", binary)
        check(os.path.exists(path), "build/%s is missing: run make" % binary)
        r = subprocess.run(["nm", "-D", "--undefined-only", path], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "nm %s failed: %s" % (binary, r.stderr[-200:]))
        imports = {line.split()[-1].split("@")[0] for line in r.stdout.splitlines() if line.strip()}
        tls = {n for n in imports if n.startswith(("SSL_", "X509_", "TLS_", "OPENSSL_"))}
        check(tls, "build/%s imports no OpenSSL function: the check no longer sees the TLS code" % binary)
        extra = tls - OPENSSL_IMPORTS_ALLOWED
        check(not extra, "build/%s imports %s: new TLS code to review against verification"
              % (binary, sorted(extra)))
def docx_downloaded(srv):
    """--docx: the report's signed link is fetched by the core and checked."""
    listen = connected_listen(srv, docx=True)
    msg = {"diagnosis": "Migraine", "findings": "Examen normal"}
    srv.deliver(KEYS[0], json.dumps(msg).encode())
    listen.event("report", EVENT_S)
    ev = listen.event("docx", EVENT_S)
    check(ev["result"] == "ok" and ev["http_status"] == 200 and ev["bytes"] > 1000 and ev["fetch_id"] == 1,
          "docx event %r" % ev)


def docx_not_fetched_without_flag(srv):
    listen = connected_listen(srv)
    srv.deliver(KEYS[0], json.dumps({"diagnosis": "x"}).encode())
    listen.event("report", EVENT_S)
    time.sleep(0.5)
    check(not listen.events("docx"), "a DOCX was fetched without --docx")


def refused_in_a_row(times):
    """A certificate refused again and again (short backoff): each attempt
    ends in backoff with the reason, the client keeps running. (libwebsockets
    4.1.6's Windows loop aborted the process on about 1 such refusal in 3:
    tools/windows/patches/.)"""
    def body(srv):
        listen = Listen(srv, backoff=(0.05, 0.1))
        for n in range(1, times + 1):
            try:
                ev = listen.state("backoff", CONNECT_S, fail_on=state_in("connected", "authenticating"))
            except Failure as e:
                raise Failure("refusal %d of %d: %s" % (n, times, e)) from None
            check("self-signed" in ev.get("detail", ""), "refusal %d: detail %r" % (n, ev.get("detail")))
        check(listen.proc.running(), "the client ended after %d refusals" % times)
    return body


# --------------------------------------------------- the Windows certificate store

_rootstore = []


def rootstore(op, der):
    """tests/windows/rootstore.c, compiled once per run, run under wine:
    op is add, remove or has; returns its exit status."""
    import subprocess
    if not _rootstore:
        exe = os.path.join(_tmpdir, "rootstore.exe")
        r = subprocess.run(["x86_64-w64-mingw32-gcc-posix", "-std=c11", "-Wall", "-Wextra", "-Werror",
                            "-O1", os.path.join(ROOT, "tests", "windows", "rootstore.c"), "-o", exe,
                            "-lcrypt32"], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "cannot compile tests/windows/rootstore.c: %s" % r.stderr[-300:])
        _rootstore.append(exe)
    r = subprocess.run([WINE_EXEC, _rootstore[0], op, host_path(der)], capture_output=True, text=True,
                       timeout=60)
    if r.returncode not in (0, 1):
        raise Failure("rootstore %s failed: %s" % (op, r.stderr[-300:]))
    return r.returncode


def test_ca_der():
    der = os.path.join(os.path.dirname(pki()["ca"]), "ca.der")
    if not os.path.exists(der):
        openssl("x509", "-in", pki()["ca"], "-outform", "DER", "-out", der)
    return der


def tls_windows_store_connects(srv):
    """The clinic's CA in the user's Trusted Root Certification Authorities,
    no CA file: the client trusts it through the Windows certificate store."""
    der = test_ca_der()
    check(rootstore("add", der) == 0, "the test CA could not be added to the ROOT store")
    try:
        check(rootstore("has", der) == 0, "the ROOT store does not show the test CA after adding it")
        listen = Listen(srv)
        listen.state("connected", CONNECT_S, fail_on=state_in("auth_failed", "backoff"))
        msg = rich_report()
        srv.deliver(KEYS[0], encode(msg))
        listen.report(msg, "a report over wss, trusted through the Windows store")
    finally:
        rootstore("remove", der)
    check(rootstore("has", der) == 1, "the test CA is still in the ROOT store after the test")


def tls_windows_store_restricted_refused(srv):
    """The clinic's CA in the ROOT store, but its purposes restricted to code
    signing: Windows would not accept it for a server, nor may the client."""
    der = test_ca_der()
    rootstore("remove", der)
    check(rootstore("add-codesign", der) == 0, "the test CA could not be added to the ROOT store")
    try:
        check(rootstore("has", der) == 0, "the ROOT store does not show the test CA after adding it")
        tls_refused(("not issued by a trusted authority",))(srv)
    finally:
        rootstore("remove", der)
    check(rootstore("has", der) == 1, "the test CA is still in the ROOT store after the test")


def without_test_ca_in_store(body):
    """Under wine, a refusal case must not find the test CA in the ROOT store
    (left there by an interrupted run): it is taken out first."""
    def run(srv):
        if WINE:
            rootstore("remove", test_ca_der())
        body(srv)
    return run


# Cases that cannot run against the Windows client under wine, and why.
WINE_NOT_RUN = {
    "no shipped build can skip certificate verification (sources and binaries' imports)":
        "it reads the Linux binaries' dynamic imports (nm -D); the Windows ones link OpenSSL "
        "statically, and the sources it scans are the same for both",
}


def register_tls():
    harness.test("wss with the clinic's CA file connects and a report arrives [devserver, wss]",
                 scenario(lambda: TlsDevServer("good"), tls_with_ca_connects))
    harness.test("wss refuses a certificate no trusted CA signed, before sending the key "
                 "[devserver, wss]",
                 scenario(lambda: TlsDevServer("good"),
                          without_test_ca_in_store(tls_refused(("not issued by a trusted authority",)))))
    harness.test("wss refuses a certificate for another host name [devserver, wss]",
                 scenario(lambda: TlsDevServer("otherhost"),
                          tls_refused(("certificate is for another host name",))))
    harness.test("wss refuses a self-signed certificate, before sending the key [devserver, wss]",
                 scenario(lambda: TlsDevServer("selfsigned"),
                          tls_refused(("certificate is self-signed and not trusted",))))
    harness.test("wss refuses an expired certificate, before sending the key [devserver, wss]",
                 scenario(lambda: TlsDevServer("expired"), tls_refused(("certificate has expired",))))
    harness.test("wss refuses a self-signed certificate 30 times in a row, a backoff with the "
                 "reason each time, and keeps running [devserver, wss]",
                 scenario(lambda: TlsDevServer("selfsigned"), refused_in_a_row(30)))
    if WINE:
        harness.test("wss trusts the clinic's CA through the Windows certificate store (ROOT), "
                     "no CA file [devserver, wss]",
                     scenario(lambda: TlsDevServer("good"), tls_windows_store_connects))
        harness.test("wss refuses a CA the Windows store restricts to code signing, before sending "
                     "the key [devserver, wss]",
                     scenario(lambda: TlsDevServer("good"), tls_windows_store_restricted_refused))
    for name in WINE_NOT_RUN if WINE else ():
        harness.note("not run under wine: %s: %s" % (name, WINE_NOT_RUN[name]))
    if not WINE:
        harness.test("no shipped build can skip certificate verification (sources and binaries' imports)",
                     no_insecure_switch)
    for server_name, cls in SERVERS:
        harness.test("a wss:// URL on a server without TLS fails with a plain-words detail, key "
                     "never sent [%s]" % server_name, scenario(cls, plain_tcp_refused))


def register():
    for server_name, cls in SERVERS:
        for title, body, needs in SCENARIOS:
            # "once": a slow scenario that needs nothing special from a server
            # runs against the first one only.
            if "once" in needs and server_name != SERVERS[0][0]:
                continue
            if not set(needs) - {"once"} <= cls.features:
                continue
            if body is sigterm_exits and "state" in cls.features:
                title = "SIGTERM exits 0 and the server sees close code 1000"

            def make(cls=cls, body=body):
                # The deadline test wants a short server deadline to wait past it.
                return cls(auth_timeout_ms=2000) if body is authenticates_then_pong_connects \
                    and "auth-timeout" in cls.features else cls()
            harness.test("%s [%s]" % (title, server_name), scenario(make, body))


if __name__ == "__main__":
    register()
    register_tls()
    harness.test("--docx downloads the report's signed DOCX and says it is one [devserver]",
                 scenario(DevServer, docx_downloaded))
    harness.test("without --docx no DOCX is downloaded [devserver]",
                 scenario(DevServer, docx_not_fetched_without_flag))
    sys.exit(harness.run_all())
