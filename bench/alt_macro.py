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
# set_html(True) switches it to formatted reports (issue #17): each field
# takes its <h2> section of html_content (the headings of ReportLink's
# defaults), inserted through LibreOffice's HTML import (the cursor's
# insertDocumentFromURL from a temporary file, filter "HTML (StarWriter)") -
# what ReportLink does with Fields/<key>/Source = html.
# Times are CLOCK_MONOTONIC microseconds, the clock of the devserver's
# GET /admin/sent.

import json
import re
import threading
import time

import websocket  # Debian's python3-websocket (websocket-client)

PING_S = 30.0
_SUFFIX = re.compile(r"^(.+)_[0-9]+$")
_HEADINGS = {"history": "Anamnèse", "findings": "Examen clinique", "diagnosis": "Diagnostic",
             "procedure": "Procédure", "recommendation": "Recommandations"}
_H2 = re.compile(r"<h2[^>]*>(.*?)</h2>", re.S | re.I)


def _sections(html):
    """{field: its HTML section}: what follows the field's <h2> up to the next."""
    out = {}
    found = list(_H2.finditer(html))
    by_heading = {v: k for k, v in _HEADINGS.items()}
    for i, m in enumerate(found):
        key = by_heading.get(re.sub(r"<[^>]+>", "", m.group(1)).strip())
        if key and key not in out:
            end = found[i + 1].start() if i + 1 < len(found) else len(html)
            body = html[m.end():end].replace("</body>", "").replace("</html>", "")
            out[key] = "<html><body>" + body + "</body></html>"
    return out
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
        self.html = False

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
                    html = msg.get("html_content") if self.html else None
                    self.place(msg["json_report"], recv_us,
                               _sections(html) if isinstance(html, str) else None)
        finally:
            ws.close()

    def insert_html(self, cursor, html):
        # insertDocumentFromURL reads a URL only (a private:stream with an
        # InputStream inserts nothing in 7.4): a temporary file it is.
        import os
        import tempfile
        import uno
        from com.sun.star.beans import PropertyValue
        fd, path = tempfile.mkstemp(suffix=".html")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(html.encode("utf-8"))
            os.chmod(path, 0o644)
            p = PropertyValue()
            p.Name, p.Value = "FilterName", "HTML (StarWriter)"
            cursor.insertDocumentFromURL(uno.systemPathToFileUrl(path), (p,))
        finally:
            os.unlink(path)

    def place(self, fields, recv_us, sections=None):
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
                html = sections.get(name if name in fields else _SUFFIX.match(name).group(1)) \
                    if sections else None
                if html is None:
                    cursor.setString(value.replace("\r\n", "\n").replace("\n", "\r"))
                else:
                    # The bookmark must span what the import brought: a
                    # zero-width mark after the insertion point and the
                    # character before it stay put while the import
                    # inserts between them.
                    cursor.setString("\u200b")
                    mark = text.createTextCursorByRange(cursor)
                    before = text.createTextCursorByRange(cursor.getStart())
                    before.goLeft(1, False)
                    cursor.collapseToStart()
                    self.insert_html(cursor, html)
                    before.goRight(1, False)
                    before.gotoRange(mark.getStart(), True)
                    mark.setString("")
                    cursor = before
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


def set_html(on):
    """Macro entry point: formatted reports (True) or json_report's text."""
    _running["alt"].html = bool(on)
    return "html" if on else "json"


g_exportedScripts = (start, set_html)
