"""Small helpers shared by ReportLink's Python integration runners.

Standard library only. A runner registers tests with test(), then calls
run_all(), which runs them in order, prints "ok - name" or
"FAIL - name: reason" for each, diagnostics as lines starting with "#", and
ends with exactly one line "N passed, N failed" (exit status 1 if any failed).

Every wait takes a timeout: a test fails, it never hangs. Each test also runs
under an alarm (TEST_TIMEOUT_S) as a last resort. Processes started with Proc
during a test are stopped when the test ends, and die with the runner
(PR_SET_PDEATHSIG), so a killed runner leaves no server behind.

What it offers: Proc (a child process; wait_json, wait_exit, stop, kill),
wait_until, http / http_json (urllib, never through a proxy), WsClient (a
minimal WebSocket client), test / run_all, check / Failure, secret.

HARNESS_VERBOSE=1 in the environment shows the diagnostics of passing tests
too. Secrets registered with secret() are masked in every diagnostic line, so a
failing test cannot print a doctor key.
"""

import base64
import ctypes
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TEST_TIMEOUT_S = 60          # alarm for one test; every wait inside is shorter
STOP_TIMEOUT_S = 3.0         # SIGTERM, then SIGKILL after this
DIAG_LINES_OUT = 15          # stdout lines shown for each process of a failed test
DIAG_LINES_ERR = 10          # stderr lines shown for each process of a failed test
DIAG_LINE_CHARS = 400        # a longer diagnostic line is cut


class Failure(Exception):
    """A test's expectation did not hold; the message is the FAIL reason."""


def check(cond, message):
    """Fails the current test with message unless cond holds."""
    if not cond:
        raise Failure(message)


# ----------------------------------------------------------------- secrets

_secrets = set()


def secret(value):
    """Registers value (str) as a secret to mask in diagnostics; returns it."""
    if value:
        _secrets.add(value)
    return value


def redact(text):
    for s in _secrets:
        text = text.replace(s, "<secret>")
    return text


def shorten(text, limit=DIAG_LINE_CHARS):
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + "...[%d chars]" % len(text)


def brief(obj, limit=160):
    """One-line JSON of obj with long strings cut, for failure messages."""
    def cut(v):
        if isinstance(v, str) and len(v) > 40:
            return v[:40] + "...[%d chars]" % len(v)
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v[:20]]
        return v
    return shorten(json.dumps(cut(obj), ensure_ascii=False), limit)


# ----------------------------------------------------------------- processes

_live = []      # every Proc not yet reaped
_started = []   # Procs started during the current test, for diagnostics

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec: only an async-signal-safe call.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Proc:
    """A child process whose stdout is read as lines (JSON Lines when they
    parse) and whose stderr is kept, both by reader threads.

    env: added to a copy of os.environ from which every REPORTLINK_* variable
    is removed, so the caller states exactly what the child sees.
    whole_run: the process serves every test (a shared server): the end of a
    test does not stop it; the end of the run does.
    """

    def __init__(self, name, argv, env=None, cwd=None, whole_run=False):
        self.name = name
        self.whole_run = whole_run
        self.argv = list(argv)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTLINK_")}
        child_env.update(env or {})
        self.lines = []           # raw stdout lines (bytes, without newline)
        self.events = []          # parsed stdout lines; unparsable ones as {"_unparsed": text}
        self.cursor = 0           # wait_json() looks at events[cursor:]
        self._stderr = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=child_env, cwd=cwd, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        _live.append(self)
        _started.append(self)
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_stdout(self):
        for raw in iter(self.popen.stdout.readline, b""):
            line = raw.rstrip(b"\n")
            try:
                event = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                event = {"_unparsed": line.decode("utf-8", "replace")}
            with self._cond:
                self.lines.append(line)
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self):
        for chunk in iter(lambda: self.popen.stderr.read1(65536), b""):
            with self._cond:
                self._stderr.extend(chunk)

    @property
    def stdout_bytes(self):
        with self._cond:
            return b"\n".join(self.lines)

    @property
    def stderr_bytes(self):
        with self._cond:
            return bytes(self._stderr)

    def mark(self):
        """Index of the next event, to look at what comes after it."""
        with self._cond:
            return len(self.events)

    def since(self, mark):
        with self._cond:
            return list(self.events[mark:])

    def take(self, mark, stub):
        """The events from mark on, as since() gives them; those for which
        stub(event) returns a replacement are replaced by it in the kept
        output (a long run must not keep every report in memory). Returns
        (events, the next mark)."""
        with self._cond:
            end = len(self.events)
            taken = self.events[mark:end]
            for i in range(mark, end):
                small = _safe_stub(stub, self.events[i])
                if small is not None:
                    self.events[i] = small
                    self.lines[i] = json.dumps(small).encode()
            return taken, end

    def wait_json(self, pred, timeout, what, fail_on=None):
        """Waits for the next event after the cursor for which pred(event) is
        true, moves the cursor past it and returns it. Fails after timeout
        seconds, when the process ends first, or when fail_on(event) is true
        for an event seen before the match."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                while self.cursor < len(self.events):
                    event = self.events[self.cursor]
                    self.cursor += 1
                    if _safe(pred, event):
                        return event
                    if fail_on is not None and _safe(fail_on, event):
                        raise Failure("%s: waiting for %s, got %s first" % (self.name, what, brief(event)))
                if self._eof:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("%s: no %s within %.1f s" % (self.name, what, timeout))
                self._cond.wait(left)
        # The output ended: nothing more can come.
        try:
            rc = self.wait_exit(1.0)
        except Failure:
            rc = "unknown"
        raise Failure("%s ended its output (exit status %s) before %s" % (self.name, rc, what))

    def wait_exit(self, timeout, what="exit"):
        """Returns the exit status (negative: killed by that signal)."""
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s: no %s within %.1f s" % (self.name, what, timeout)) from None
        for t in self._threads:
            t.join(2.0)
        if self in _live:
            _live.remove(self)
        return rc

    def running(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.running():
            self.popen.send_signal(sig)

    def kill(self):
        """SIGKILL and reap: what a crash looks like from outside."""
        self.signal(signal.SIGKILL)
        return self.wait_exit(5.0, what="exit after SIGKILL")

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM, then SIGKILL if it is still there after timeout seconds."""
        if self.running():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        try:
            return self.wait_exit(5.0)
        except Failure:
            return None

    def diagnostics(self):
        with self._cond:
            out = [l.decode("utf-8", "replace") for l in self.lines[-DIAG_LINES_OUT:]]
            err = bytes(self._stderr).decode("utf-8", "replace").splitlines()[-DIAG_LINES_ERR:]
            skipped = max(0, len(self.lines) - DIAG_LINES_OUT)
        rc = self.popen.poll()
        lines = ["%s (pid %d, %s):" % (self.name, self.pid, "running" if rc is None else "exit %s" % rc)]
        if skipped:
            lines.append("  ... %d earlier stdout lines" % skipped)
        lines += ["  out| " + shorten(l) for l in out]
        lines += ["  err| " + shorten(l) for l in err]
        return lines


def _safe_stub(stub, event):
    try:
        return stub(event)
    except Exception:
        return None


def _safe(pred, event):
    try:
        return bool(pred(event))
    except (KeyError, TypeError, AttributeError):
        return False


def stop_all(including_whole_run=False):
    """Stops every live process started for a test (and, at the end of the
    run, the whole-run ones too), newest first: clients before their servers."""
    for p in reversed(list(_live)):
        if including_whole_run or not p.whole_run:
            p.stop()


def wait_until(fn, timeout, what, interval=0.05):
    """Polls fn() until it returns a true value, which it returns; fails
    after timeout seconds. fn may raise Failure, which counts as not yet."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Failure as e:
            last = e
        if time.monotonic() >= deadline:
            raise Failure("no %s within %.1f s%s" % (what, timeout, " (%s)" % last if last else ""))
        time.sleep(interval)


# ----------------------------------------------------------------- HTTP

# Loopback only: never through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, headers=None, timeout=10.0):
    """Returns (status, body bytes). An HTTP error status is returned, not
    raised; a connection failure is a Failure."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise Failure("%s %s: %s" % (method, redact(url), e)) from None


def http_json(method, url, body=None, headers=None, timeout=10.0):
    status, data = http(method, url, body, headers, timeout)
    try:
        return status, json.loads(data.decode("utf-8")) if data else None
    except ValueError:
        return status, {"_unparsed": data.decode("utf-8", "replace")}


# ----------------------------------------------------------------- WebSocket client

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsClient:
    """A minimal RFC 6455 client for tests: text/binary messages, fragments
    reassembled, server pings answered, close handshake. Blocking, with a
    timeout on every call."""

    def __init__(self, host, port, path, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        # Small frames leave at once (no Nagle delay waiting for an ACK): tests
        # reason about the order in which the server sees them.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        request = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + ("%s:%d" % (host, port)).encode() +
                   b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                   b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request)
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failure("WebSocket handshake: connection closed")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if b" 101 " not in lines[0] + b" ":
            raise Failure("WebSocket handshake refused: %r" % lines[0])
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        headers = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip() for l in lines[1:] if b":" in l}
        if headers.get(b"sec-websocket-accept") != accept:
            raise Failure("WebSocket handshake: bad Sec-WebSocket-Accept")
        self.closed = None   # (code, reason) once a close frame arrived

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(self._frame_bytes(opcode, payload, fin))

    def send_texts(self, *texts):
        """Several text messages in one write, so the server reads them together."""
        self.sock.sendall(b"".join(self._frame_bytes(0x1, t.encode("utf-8") if isinstance(t, str) else t)
                                   for t in texts))

    @staticmethod
    def _frame_bytes(opcode, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        full = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(full, "big")).to_bytes(n, "big") if n else b""
        return head + mask + masked

    def send_text(self, text):
        self.send_frame(0x1, text.encode("utf-8") if isinstance(text, str) else text)

    def send_binary(self, data):
        self.send_frame(0x2, data)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise Failure("WebSocket: connection closed without a close frame")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        if b1 & 0x80:
            raise Failure("WebSocket: the server masked a frame")
        return bool(b0 & 0x80), b0 & 0x0F, self._read(n)

    def recv(self, timeout=5.0):
        """Next message: ("text", bytes), ("binary", bytes) or ("close", code, reason)."""
        self.sock.settimeout(timeout)
        kind, parts = None, []
        try:
            while True:
                fin, opcode, payload = self._frame()
                if opcode == 0x9:
                    self.send_frame(0xA, payload)
                    continue
                if opcode == 0xA:
                    continue
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.closed = (code, payload[2:].decode("utf-8", "replace"))
                    try:  # the closing handshake: echo the code
                        self.send_frame(0x8, payload[:2])
                    except OSError:
                        pass
                    return ("close",) + self.closed
                if opcode in (0x1, 0x2):
                    kind, parts = ("text" if opcode == 0x1 else "binary"), []
                parts.append(payload)
                if fin:
                    return kind, b"".join(parts)
        except socket.timeout:
            raise Failure("WebSocket: no message within %.1f s" % timeout) from None

    def close(self, code=1000, wait=1.0):
        """Sends a close frame (unless one came already), waits briefly for
        the answer and closes the socket. Never fails."""
        try:
            if self.closed is None:
                self.send_frame(0x8, struct.pack("!H", code))
                deadline = time.monotonic() + wait
                while self.closed is None and time.monotonic() < deadline:
                    self.recv(max(0.01, deadline - time.monotonic()))
        except (Failure, OSError):
            pass
        finally:
            self.sock.close()


# ----------------------------------------------------------------- registry and runner

def note(text):
    """A diagnostic line (a measured figure) printed at once, masked."""
    print("# " + shorten(text, 2000), flush=True)


_tests = []


def test(name, fn=None):
    """Registers fn under name: test("name", fn), or as a decorator @test("name").
    Names state the behaviour; they must be unique."""
    def register(f):
        if any(n == name for n, _ in _tests):
            raise ValueError("duplicate test name: %s" % name)
        _tests.append((name, f))
        return f
    return register(fn) if fn is not None else register


class _Timeout(Failure):
    pass


def _on_alarm(signum, frame):
    raise _Timeout("test took longer than %d s" % TEST_TIMEOUT_S)


def _on_terminate(signum, frame):
    stop_all(including_whole_run=True)
    sys.stdout.flush()
    os._exit(128 + signum)


def run_all(argv=None):
    """Runs the registered tests whose name contains one of argv's words
    (all when there are none) and none of its "-WORD"s, prints the results and
    returns the exit status."""
    words = [w for w in (argv if argv is not None else sys.argv[1:])]
    # "-WORD" leaves out the tests whose name contains WORD.
    skip = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
    words = [w for w in words if not w.startswith("-")]
    selected = [(n, f) for n, f in _tests if (not words or any(w in n for w in words))
                and not any(w in n for w in skip)]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_terminate)
    signal.signal(signal.SIGINT, _on_terminate)
    passed = failed = 0
    run_started = time.monotonic()
    for name, fn in selected:
        del _started[:]
        reason = None
        signal.alarm(TEST_TIMEOUT_S)
        try:
            fn()
        except Failure as e:
            reason = str(e)
        except Exception as e:  # a bug in the test itself is a failure too
            tb = traceback.extract_tb(e.__traceback__)[-1]
            reason = "%s: %s (%s:%d)" % (type(e).__name__, e, os.path.basename(tb.filename), tb.lineno)
        finally:
            signal.alarm(0)
        try:
            stop_all()
        except Failure as e:
            reason = reason or str(e)
        if reason is None:
            passed += 1
            print("ok - %s" % name, flush=True)
            if os.environ.get("HARNESS_VERBOSE") == "1":
                for p in _started:
                    for line in p.diagnostics():
                        print("#   " + line, flush=True)
        else:
            failed += 1
            print("FAIL - %s: %s" % (name, shorten(" ".join(reason.split()), 1000)), flush=True)
            for p in _started:
                for line in p.diagnostics():
                    print("#   " + line, flush=True)
    stop_all(including_whole_run=True)
    print("# %d tests in %.1f s" % (len(selected), time.monotonic() - run_started), flush=True)
    if not selected:
        print("# no test selected: nothing ran", flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or not selected else 0
