"""lofix.py - fixtures shared by the LibreOffice test runners: the devserver,
waiting for a connection state, and a listener implemented in Python.
Import after `office` (which sets up python-uno's types)."""

import atexit
import http.server
import os
import shutil
import struct
import tempfile
import threading
import zlib

import office
import unohelper
from com.sun.star.task import XInteractionHandler
from harness import Failure, Proc, check, wait_until
from org.reportlink import XReportLinkListener

DEVSERVER = os.path.join(office.BUILD, "reportlink-devserver")
I18N = os.path.join(office.ROOT, "extension", "i18n")
STATE_TIMEOUT_S = 20     # a state change, including a reconnection


def devserver(*keys, whole_run=False, demo=False):
    """A devserver accepting keys; returns (proc, ws_url). whole_run: it
    serves every test of the run instead of ending with the current test.
    demo: it sends its demo report 1.5 s after each authentication."""
    argv = [DEVSERVER, "--port", "0"] + (["--demo", "--demo-delay", "1500"] if demo else [])
    p = Proc("devserver", argv, env={"REPORTLINK_DEVSERVER_KEYS": ",".join(keys)}, whole_run=whole_run)
    ev = p.wait_json(lambda e: e.get("event") == "listening", 10, "listening line")
    return p, "ws://127.0.0.1:%d/reports/ws" % ev["port"]


def close_at_exit(state):
    """Stops and closes state["office"] (if any) when the runner exits."""
    def cleanup():
        o = state.get("office")
        if o is not None:
            try:
                o.stop()
            except Exception:   # cleanup: close() kills it whatever happened
                pass
            o.close()
    atexit.register(cleanup)


def strings(lang):
    """The extension's words in lang, read as the extension reads them."""
    out = {}
    with open(os.path.join(I18N, "strings_%s.properties" % lang), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip().replace("\\n", "\n")
    return out


class TrapServer:
    """An HTTP server that records every request it gets: the address a
    hostile report points at, so a test can check LibreOffice fetched
    nothing. base: its URL; requests: the paths asked for."""

    def __init__(self):
        self.requests = []
        requests = self.requests

        class Trap(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def shutdown(self):
        self.httpd.shutdown()


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


LOG_TIMEOUT_S = 5        # a server's log line, after the event the test saw


def wait_stderr(proc, text, timeout=LOG_TIMEOUT_S):
    """How many times text is in proc's stderr, once it is there at least
    once; a Failure after timeout seconds. A server writes its log line
    around the moment the office sees the event, and the harness's reader
    thread gets it a moment later: reading the log at once races with both.
    The caller still checks the count it expects."""
    return wait_until(lambda: stderr_count(proc, text), timeout,
                      "%r in %s's log" % (text, proc.name))


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




class Xvfb:
    """A virtual X display for a visible office: its frame buffer is a file,
    so the screen can be saved without any X client.

    -noreset: an X server resets when its last client leaves, and refuses
    the connections that arrive meanwhile. The office's first client is a
    probe (its desktop detection opens the display and closes it at once),
    so without -noreset its real connection, made just after, sometimes
    lands in that reset: "X11 error: Can't open display"."""

    def __init__(self, size=(1280, 800)):
        self.fbdir = tempfile.mkdtemp(prefix="reportlink-xvfb-")
        atexit.register(shutil.rmtree, self.fbdir, True)
        self.proc = Proc("Xvfb", ["Xvfb", "-displayfd", "1", "-noreset", "-fbdir", self.fbdir, "-screen", "0",
                                  "%dx%dx24" % size, "-nolisten", "tcp"])
        self.display = self.proc.wait_json(lambda e: isinstance(e, int), 10, "Xvfb's display number")

    def screenshot(self, png_path):
        os.makedirs(os.path.dirname(png_path), exist_ok=True)
        save_xwd_as_png(os.path.join(self.fbdir, "Xvfb_screen0"), png_path)


def save_xwd_as_png(xwd_path, png_path):
    """Converts Xvfb's frame buffer (an XWD file, 24/32-bit TrueColor) to an
    RGB PNG, with the standard library only."""
    with open(xwd_path, "rb") as f:
        data = f.read()
    h = struct.unpack(">25I", data[:100])
    header_size, width, height, byte_order = h[0], h[4], h[5], h[7]
    bits_per_pixel, bytes_per_line, ncolors = h[11], h[12], h[19]
    check(bits_per_pixel == 32, "Xvfb frame buffer with %d bits per pixel" % bits_per_pixel)
    start = header_size + 12 * ncolors
    rows = []
    for y in range(height):
        line = data[start + y * bytes_per_line:start + y * bytes_per_line + 4 * width]
        if byte_order == 0:    # LSBFirst: B G R X
            b, g, r = line[0::4], line[1::4], line[2::4]
        else:                  # MSBFirst: X R G B
            r, g, b = line[1::4], line[2::4], line[3::4]
        rgb = bytearray(3 * width)
        rgb[0::3], rgb[1::3], rgb[2::3] = r, g, b
        rows.append(b"\x00" + bytes(rgb))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))
    with open(png_path, "wb") as f:
        f.write(png)


def office_docs_dir(prefix="reportlink-docs-"):
    """A folder for the letters a test opens, removed at exit. The office (run
    as nobody when the tests run as root) writes lock files beside the
    documents it opens: the folder must be its own."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    atexit.register(shutil.rmtree, path, True)
    return path
