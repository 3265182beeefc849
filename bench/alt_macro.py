# alt_macro.py - the "obvious alternative" to ReportLink, for `make bench`:
# what a clinic's IT person would script with Debian's python3-websocket and
# Python-UNO. It runs as a Python macro inside the office (the bench copies it
# into the profile's user/Scripts/python/ and calls start() through the
# script provider), so every UNO call is in-process, as in ReportLink.
#
# start(url, key, log_path) starts one thread that connects, sends the key,
# sends the text "ping" every PING_S seconds, reconnects after an error, and
# on each report_ready fills the bookmarks of the active Writer document named
# like a json_report field (or name_2, name_3, ...), one undo step, controllers
# locked, the bookmark spanning the new text afterwards (so the next report
# replaces it) - the same job as ReportLink. It appends one JSON line per
# event to log_path (after taking its timestamps, so the write is not timed):
#   {"event":"thread","tid":N}   {"event":"connected"}
#   {"event":"placed","recv_us":T,"placed_us":T,"cost_us":T,"fields":N}
#   {"event":"waiting","reason":"..."}   {"event":"error","detail":"..."}
# Times are CLOCK_MONOTONIC microseconds, the clock of the devserver's
# GET /admin/sent.

import json
import re
import threading
import time

import websocket  # Debian's python3-websocket (websocket-client)

PING_S = 30.0
_SUFFIX = re.compile(r"^(.+)_[0-9]+$")
_running = {}


def _mono_us():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)


class _Alt:
    def __init__(self, ctx, url, key, log_path):
        self.ctx = ctx
        self.url = url
        self.key = key
        self.log = open(log_path, "a", buffering=1, encoding="utf-8")
        self.stop = threading.Event()

    def emit(self, **ev):
        self.log.write(json.dumps(ev) + "\n")

    def run(self):
        self.emit(event="thread", tid=threading.get_native_id())
        delay = 1.0
        while not self.stop.is_set():
            try:
                self.session()
                delay = 1.0
            except Exception as e:   # network or protocol: reconnect after a pause
                self.emit(event="error", detail="%s: %s" % (type(e).__name__, e))
            self.stop.wait(delay)
            delay = min(delay * 2, 60.0)

    def session(self):
        ws = websocket.create_connection(self.url, timeout=15)
        try:
            ws.send(json.dumps({"doctor_key": self.key}))
            ws.send("ping")
            next_ping = time.monotonic() + PING_S
            connected = False
            while not self.stop.is_set():
                ws.settimeout(max(0.001, next_ping - time.monotonic()))
                try:
                    opcode, data = ws.recv_data()
                except websocket.WebSocketTimeoutException:
                    ws.send("ping")
                    next_ping = time.monotonic() + PING_S
                    continue
                recv_us = _mono_us()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    raise ConnectionError("closed by the service")
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue
                if data == b"pong":
                    if not connected:
                        connected = True
                        self.emit(event="connected")
                    continue
                try:
                    msg = json.loads(data.decode("utf-8"))
                except ValueError:
                    self.emit(event="error", detail="not JSON")
                    continue
                if not isinstance(msg, dict):
                    continue
                if msg.get("type") == "error":
                    self.emit(event="error", detail="service error %s" % msg.get("code"))
                elif msg.get("type") == "report_ready" and isinstance(msg.get("json_report"), dict):
                    self.place(msg["json_report"], recv_us)
        finally:
            ws.close()

    def place(self, fields, recv_us):
        t0 = time.monotonic()
        smgr = self.ctx.ServiceManager
        desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        doc = desktop.getCurrentComponent()
        if doc is None or not doc.supportsService("com.sun.star.text.TextDocument"):
            self.emit(event="waiting", reason="no Writer document")
            return
        bookmarks = doc.getBookmarks()
        targets = []
        for name in bookmarks.getElementNames():
            m = _SUFFIX.match(name)
            field = name if name in fields else (m.group(1) if m else None)
            if field in fields and isinstance(fields[field], str):
                targets.append((name, fields[field]))
        if not targets:
            self.emit(event="waiting", reason="none of the report's fields")
            return
        undo = doc.getUndoManager()
        doc.lockControllers()
        undo.enterUndoContext("Insert report")
        try:
            for name, value in targets:
                bm = bookmarks.getByName(name)
                anchor = bm.getAnchor()
                text = anchor.getText()
                cursor = text.createTextCursorByRange(anchor)
                text.removeTextContent(bm)
                cursor.setString(value.replace("\r\n", "\n").replace("\n", "\r"))
                new = doc.createInstance("com.sun.star.text.Bookmark")
                new.setName(name)
                text.insertTextContent(cursor, new, True)
        finally:
            undo.leaveUndoContext()
            doc.unlockControllers()
        placed_us = _mono_us()
        self.emit(event="placed", recv_us=recv_us, placed_us=placed_us,
                  cost_us=int((time.monotonic() - t0) * 1e6), fields=len(targets))


def start(url, key, log_path):
    """Macro entry point: starts the connection thread and returns."""
    if "alt" in _running:
        return "already running"
    alt = _Alt(XSCRIPTCONTEXT.getComponentContext(), url, key, log_path)  # noqa: F821
    threading.Thread(target=alt.run, name="reportlink-alt", daemon=True).start()
    _running["alt"] = alt
    return "started"


g_exportedScripts = (start,)
