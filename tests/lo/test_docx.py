#!/usr/bin/python3
"""test_docx.py - the report's signed DOCX, in a real headless LibreOffice
with build/reportlink.oxt installed: fetched by the core off the main thread,
placed at report_docx, reported on the inbox entry when it fails, opened as a
document of its own; and the other untrusted representations (RTF, the HTML's
sections per field).

One office and one devserver (links valid LINK_TTL_S seconds) serve every
test. Output: "ok - name" / "FAIL - name: why" per test, then
"N passed, N failed"; exit status 1 on failure. Arguments select tests whose
name contains one of them. REPORTLINK_DUMP_LOG=1 prints the office's log
(its "reportlink:" lines say what happened to each DOCX) at the end.
"""

import atexit
import http.server
import json
import os
import secrets
import shutil
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
import lofix  # noqa: E402
from harness import Failure, Proc, check, secret, test, wait_until  # noqa: E402
from lofix import TrapServer, DEVSERVER, Listener, wait_state  # noqa: E402

import uno  # noqa: E402
from com.sun.star.lang import IllegalArgumentException  # noqa: E402

harness.TEST_TIMEOUT_S = 150
TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
PLACE_TIMEOUT_S = 15
DOCX_TIMEOUT_S = 15       # a DOCX from the local devserver, delays included
LINK_TTL_S = 4            # the devserver's links expire after this
KEY = secret("doctor-" + secrets.token_hex(12))
UNDO_TITLES = ("Insert report", "Insérer le compte rendu")

_docs_dir = lofix.office_docs_dir("reportlink-docx-")

_state = {}


def _cleanup():
    o = _state.get("office")
    if o is not None and os.environ.get("REPORTLINK_DUMP_LOG"):
        sys.stderr.write(o.log_text())
    if o is not None:
        try:
            o.stop()
        except Exception:   # cleanup: close() kills it whatever happened
            pass
        o.close()


atexit.register(_cleanup)


def start_devserver():
    argv = [DEVSERVER, "--port", "0", "--url-ttl", str(LINK_TTL_S)]
    p = Proc("devserver", argv, env={"REPORTLINK_DEVSERVER_KEYS": KEY}, whole_run=True)
    ev = p.wait_json(lambda e: e.get("event") == "listening", 10, "listening line")
    return p, ev["port"]


def setup():
    o = _state.get("office")
    if o is None or o.proc is None:
        if o is None:
            o = _state["office"] = office.Office("office D")
            o.install()
            o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start()
        _state.pop("listener", None)
    check(_state["server"][0].running(), "the devserver is not running")
    rl = o.report_link()
    if "listener" not in _state:
        _state["listener"] = Listener()
        rl.addListener(_state["listener"])
    url = "ws://127.0.0.1:%d/reports/ws" % _state["server"][1]
    if rl.getStatus().State != "connected" or rl.getStatus().Endpoint != url:
        o.set_setting("Endpoint", url)
        rl.setDoctorKey(KEY)
        rl.connect()
        wait_state(rl, "connected")
    return o, rl, o.service("com.sun.star.frame.Desktop"), _state["listener"]


def base():
    return "http://127.0.0.1:%d" % _state["server"][1]


def files_delay(ms):
    status, data = harness.http("POST", "%s/admin/files?delay_ms=%d" % (base(), ms), b"")
    check(status == 200, "admin/files answered %d %s" % (status, data[:200]))


def push(fields, **extra):
    body = dict(extra, type="report_ready", json_report=fields) if extra else fields
    status, data = harness.http("POST", base() + "/reports/push",
                                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                {"X-Doctor-Key": KEY})
    check(status == 200, "push answered %d %s" % (status, data[:200]))


def report_message(fields, url):
    return json.dumps({"type": "report_ready", "url": url, "json_report": fields},
                      ensure_ascii=False)


def next_report(listener, since, timeout=PLACE_TIMEOUT_S):
    listener.wait(lambda l: len(l.reports) > since, timeout, "report notification")
    with listener.cond:
        return listener.reports[since]


def expect_placed(listener, since):
    inbox_id, placed, where = next_report(listener, since)
    check(placed, "the report was not placed (inbox %d)" % inbox_id)
    return inbox_id


def inbox_entry(rl, inbox_id):
    for e in rl.getInbox():
        if e.Id == inbox_id:
            return e
    raise Failure("no inbox entry %d" % inbox_id)


def wait_docx(rl, inbox_id, timeout=DOCX_TIMEOUT_S):
    """Waits until the entry's DOCX is no longer being fetched; the entry."""
    wait_until(lambda: inbox_entry(rl, inbox_id).DocxState != "fetching", timeout,
               "the DOCX of entry %d to arrive or fail" % inbox_id)
    return inbox_entry(rl, inbox_id)


def open_letter(desktop, name="letter"):
    path = os.path.join(_docs_dir, "%s-%s.odt" % (name, secrets.token_hex(4)))
    shutil.copy(TEMPLATE, path)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, ())
    check(doc is not None, "the template did not open")
    return doc


def add_bookmark(doc, name):
    """A new paragraph at the end of the letter holding the bookmark name."""
    text = doc.Text
    cur = text.createTextCursor()
    cur.gotoEnd(False)
    text.insertControlCharacter(cur, 0, False)
    text.insertString(cur, "…", False)
    cur.goLeft(1, True)
    bm = doc.createInstance("com.sun.star.text.Bookmark")
    bm.Name = name
    text.insertTextContent(cur, bm, True)


def bookmark_text(doc, name):
    return doc.Bookmarks.getByName(name).Anchor.String


def bold_portions(doc):
    out = []
    e = doc.Text.createEnumeration()
    while e.hasMoreElements():
        p = e.nextElement()
        if not p.supportsService("com.sun.star.text.Paragraph"):
            continue
        pe = p.createEnumeration()
        while pe.hasMoreElements():
            por = pe.nextElement()
            if por.String and por.CharWeight > 100:
                out.append(por.String)
    return out


def close(doc):
    try:
        doc.close(True)
    except Exception:   # already closed by the test
        pass


class Answers(http.server.BaseHTTPRequestHandler):
    """A web server that answers as a misbehaving report service would."""
    requests = []

    def do_GET(self):
        Answers.requests.append(self.path)
        route = {
            "/403": (403, "text/plain", b"bad signature\n"),
            "/expired": (403, "text/plain", b"link expired\n"),
            "/404": (404, "text/plain", b"document not found\n"),
            "/html": (200, "text/html", b"<html><body>Session expired, please log in</body></html>"),
            "/redirect": (302, "text/plain", b""),
        }.get(self.path.split("?")[0])
        if self.path.startswith("/slow"):
            time.sleep(25)
            route = (404, "text/plain", b"too late\n")
        if route is None:
            route = (404, "text/plain", b"no such route\n")
        status, ctype, body = route
        try:
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:      # the client gave up (the timeout test)
            pass

    def log_message(self, *a):
        pass


def answers_server():
    if "answers" not in _state:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        _state["answers"] = srv
    return "http://127.0.0.1:%d" % _state["answers"].server_address[1]


# ---------------------------------------------------------------- tests

@test("report_docx receives the signed DOCX after the fields were placed, as an undo step of its own")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_docx")
        files_delay(1500)     # the document takes 1.5 s; the letter must not wait for it
        since = len(lis.reports)
        push({"history": "Venue pour céphalées", "findings": "Examen normal",
              "diagnosis": "Migraine sans aura (docx)"})
        inbox_id = expect_placed(lis, since)
        # The fields are in the letter while the DOCX is still on its way.
        check(bookmark_text(doc, "history") == "Venue pour céphalées", "history %r" % bookmark_text(doc, "history"))
        e = inbox_entry(rl, inbox_id)
        check(e.DocxState == "fetching", "DocxState %r right after placement" % e.DocxState)
        check(bookmark_text(doc, "report_docx") == "…", "report_docx filled before the DOCX came")
        e = wait_docx(rl, inbox_id)
        check(e.DocxState == "ready" and e.DocxError == "", "DocxState %r, DocxError %r" % (e.DocxState, e.DocxError))
        wait_until(lambda: "Migraine sans aura (docx)" in bookmark_text(doc, "report_docx"), 5,
                   "the DOCX's text in report_docx")
        text = bookmark_text(doc, "report_docx")
        check("Diagnostic" in text and "Examen normal" in text, "report_docx %r" % text[:300])
        check("Diagnostic" in bold_portions(doc), "the DOCX's bold headings were lost: %s" % bold_portions(doc))
        um = doc.UndoManager
        titles = um.getAllUndoActionTitles()
        check(len(titles) >= 2 and titles[0] in UNDO_TITLES and titles[1] in UNDO_TITLES,
              "undo steps %s" % (titles,))
        um.undo()
        check(bookmark_text(doc, "report_docx") == "…", "one undo left %r" % bookmark_text(doc, "report_docx")[:80])
        check(bookmark_text(doc, "history") == "Venue pour céphalées", "undoing the DOCX undid the fields")
    finally:
        files_delay(0)
        close(doc)


@test("a second report clears the first DOCX at once and its own DOCX follows; undo walks "
      "back step by step to the first report with its DOCX")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_docx")
        since = len(lis.reports)
        push({"diagnosis": "Premier compte rendu"})
        first = expect_placed(lis, since)
        wait_docx(rl, first)
        wait_until(lambda: "Premier compte rendu" in bookmark_text(doc, "report_docx"), 5, "first DOCX")
        push({"diagnosis": "Second compte rendu"})
        second = expect_placed(lis, since + 1)
        check(wait_docx(rl, second).DocxState == "ready", "second DOCX %s" % inbox_entry(rl, second).DocxState)
        wait_until(lambda: "Second compte rendu" in bookmark_text(doc, "report_docx"), 5, "second DOCX")
        check("Premier" not in doc.Text.String, "the first DOCX is still in the letter")
        # Issue 12: a report replaces a report as a whole, so the second report's
        # placement already took the first DOCX out (had the second DOCX never
        # come, the first would otherwise stay beside the second report). One
        # undo removes the second DOCX, a second one the second report.
        doc.UndoManager.undo()
        check(bookmark_text(doc, "report_docx") == "…",
              "after one undo report_docx holds %r" % bookmark_text(doc, "report_docx")[:120])
        check(bookmark_text(doc, "diagnosis") == "Second compte rendu",
              "after one undo diagnosis holds %r" % bookmark_text(doc, "diagnosis"))
        doc.UndoManager.undo()
        check("Premier compte rendu" in bookmark_text(doc, "report_docx") and
              bookmark_text(doc, "diagnosis") == "Premier compte rendu",
              "after two undos report_docx holds %r, diagnosis %r"
              % (bookmark_text(doc, "report_docx")[:120], bookmark_text(doc, "diagnosis")))
    finally:
        close(doc)


@test("an expired link is reported on the inbox entry in plain words, and the fields are still filled")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_docx")
        files_delay((LINK_TTL_S + 2) * 1000)    # the link expires before it is answered
        since = len(lis.reports)
        push({"diagnosis": "Lien expiré", "findings": "Toujours placé"})
        inbox_id = expect_placed(lis, since)
        check(bookmark_text(doc, "findings") == "Toujours placé", "findings %r" % bookmark_text(doc, "findings"))
        e = wait_docx(rl, inbox_id, LINK_TTL_S + 10)
        check(e.DocxState == "failed", "DocxState %r" % e.DocxState)
        check("expired" in e.DocxError or "expiré" in e.DocxError, "DocxError %r" % e.DocxError)
        check("sig=" not in e.DocxError and "http" not in e.DocxError, "DocxError shows the link: %r" % e.DocxError)
        check(bookmark_text(doc, "report_docx") == "…" and e.Status == "placed",
              "report_docx %r, status %s" % (bookmark_text(doc, "report_docx"), e.Status))
    finally:
        files_delay(0)
        close(doc)


@test("403, 404, a redirect and a page that is not a DOCX are each reported; the fields are placed")
def _():
    o, rl, desktop, lis = setup()
    srv = answers_server()
    doc = open_letter(desktop)
    try:
        cases = [("/403", "refused"), ("/expired", "expired"), ("/404", "no longer exists"),
                 ("/redirect", "(302)"), ("/html", "not a Word document")]
        for path, words in cases:
            since = len(lis.reports)
            filled = rl.applyReport(report_message({"findings": "Cas %s" % path}, srv + path))
            check(filled >= 1, "%s: %d fields filled" % (path, filled))
            check(bookmark_text(doc, "findings") == "Cas %s" % path, "%s: findings %r" % (path, bookmark_text(doc, "findings")))
            inbox_id = next_report(lis, since)[0]
            e = wait_docx(rl, inbox_id)
            check(e.DocxState == "failed", "%s: DocxState %r" % (path, e.DocxState))
            # English words, or the French ones when the office speaks French.
            french = {"refused": "refusé", "expired": "expiré", "no longer exists": "n'existe plus",
                      "(302)": "(302)", "not a Word document": "pas un document Word"}[words]
            check(words in e.DocxError or french in e.DocxError, "%s: DocxError %r" % (path, e.DocxError))
        check(not any(p.startswith("/etc") for p in Answers.requests), "a redirect was followed")
    finally:
        close(doc)


@test("a DOCX that does not come within 20 s is reported as a timeout; the fields were placed at once")
def _():
    o, rl, desktop, lis = setup()
    srv = answers_server()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        t0 = time.monotonic()
        rl.applyReport(report_message({"findings": "Serveur lent"}, srv + "/slow"))
        check(time.monotonic() - t0 < 5, "applyReport waited for the download")
        check(bookmark_text(doc, "findings") == "Serveur lent", "findings %r" % bookmark_text(doc, "findings"))
        inbox_id = next_report(lis, since)[0]
        e = wait_docx(rl, inbox_id, 30)
        took = time.monotonic() - t0
        check(e.DocxState == "failed" and ("20" in e.DocxError), "DocxState %r, DocxError %r" % (e.DocxState, e.DocxError))
        check(18 <= took <= 26, "failed after %.1f s" % took)
    finally:
        close(doc)


@test("openInboxDocx opens the fetched DOCX as a separate new Writer document")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    opened = None
    try:
        since = len(lis.reports)
        push({"diagnosis": "À ouvrir à part"})
        inbox_id = expect_placed(lis, since)
        check(wait_docx(rl, inbox_id).DocxState == "ready", "DocxState %s" % inbox_entry(rl, inbox_id).DocxState)
        before = set()
        comps = desktop.Components.createEnumeration()
        while comps.hasMoreElements():
            before.add(comps.nextElement().RuntimeUID)
        rl.openInboxDocx(inbox_id)
        comps = desktop.Components.createEnumeration()
        while comps.hasMoreElements():
            c = comps.nextElement()
            if c.RuntimeUID not in before:
                opened = c
        check(opened is not None, "no new document")
        check(opened.supportsService("com.sun.star.text.TextDocument"), "not a Writer document")
        check("À ouvrir à part" in opened.Text.String, "its text %r" % opened.Text.String[:200])
        check(not opened.URL.startswith("file:"), "opened from a file: %r" % opened.URL)
        check("À ouvrir à part" not in doc.Text.String or bookmark_text(doc, "diagnosis") == "À ouvrir à part",
              "the letter changed")
        for bad in (999999,):
            try:
                rl.openInboxDocx(bad)
                raise Failure("no exception for entry %d" % bad)
            except IllegalArgumentException as e:
                check("no inbox entry" in e.Message, "message %r" % e.Message)
    finally:
        close(opened)
        close(doc)


@test("openInboxDocx refuses an entry whose DOCX failed, saying why")
def _():
    o, rl, desktop, lis = setup()
    srv = answers_server()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        rl.applyReport(report_message({"findings": "Sans DOCX"}, srv + "/404"))
        inbox_id = next_report(lis, since)[0]
        check(wait_docx(rl, inbox_id).DocxState == "failed", "DocxState")
        try:
            rl.openInboxDocx(inbox_id)
            raise Failure("no exception")
        except IllegalArgumentException as e:
            check("could not be downloaded" in e.Message, "message %r" % e.Message)
    finally:
        close(doc)


@test("a letter with only report_docx is filled when the DOCX arrives")
def _():
    o, rl, desktop, lis = setup()
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    try:
        doc.Text.setString("Lettre")
        add_bookmark(doc, "report_docx")
        files_delay(1000)
        since = len(lis.reports)
        push({"diagnosis": "Seulement le DOCX"})
        inbox_id, placed, _ = next_report(lis, since)
        check(not placed, "placed before its DOCX came")
        # The entry changed (listeners hear inboxChanged, not a second reportReceived).
        lis.wait(lambda l: inbox_id in l.changed, DOCX_TIMEOUT_S, "the placement once the DOCX came")
        check(len(lis.reports) == since + 1, "a second reportReceived: %s" % (lis.reports[since:],))
        check("Seulement le DOCX" in bookmark_text(doc, "report_docx"), "report_docx %r" % bookmark_text(doc, "report_docx"))
        check(inbox_entry(rl, inbox_id).Status == "placed", "status %s" % inbox_entry(rl, inbox_id).Status)
    finally:
        files_delay(0)
        close(doc)


@test("hostile report RTF fetches nothing and creates no link; its text and bold stay")
def _():
    trap = TrapServer()
    requests, b = trap.requests, trap.base
    hostile = (
        r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0\fs24 {\b R\u233?sultat} visible\par "
        r"{\field{\*\fldinst { INCLUDEPICTURE \"%(b)s/pic.png\" \\d }}{\fldrslt image}}\par "
        r"{\field{\*\fldinst { INCLUDETEXT \"%(b)s/inc.rtf\" }}{\fldrslt inclus}}\par "
        r"{\field{\*\fldinst { HYPERLINK \"%(b)s/phish\" }}{\fldrslt https://www.ameli.fr/}}\par "
        r"{\field{\*\fldinst { LINK Word.Document.12 \"%(b)s/link.docx\" \"\" \\a }}{\fldrslt lien}}\par "
        r"{\object\objautlink\rsltpict{\*\objclass Word.Document.12}{\*\objname %(b)s/obj.docx}"
        r"{\*\objdata 01050000020000000000}{\result objet}}\par "
        r"{\shp{\*\shpinst\shpleft0\shptop0\shpright100\shpbottom100{\sp{\sn pibName}{\sv %(b)s/shape.png}}"
        r"{\sp{\sn pibFlags}{\sv 10}}{\sp{\sn pHyperlink}{\sv %(b)s/shapelink}}}{\shprslt forme}}\par "
        r"{\*\template %(b)s/t.dotx}{\*\hlinkbase %(b)s/}"
        r"Fin\par}") % {"b": b}
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_rtf")
        since = len(lis.reports)
        push({"diagnosis": "Piège RTF"}, rtf_report=hostile)
        expect_placed(lis, since)
        time.sleep(1.5)    # anything fetched late would still reach the trap
        check(not requests, "LibreOffice fetched %s" % requests)
        links = 0
        e = doc.Text.createEnumeration()
        while e.hasMoreElements():
            p = e.nextElement()
            if p.supportsService("com.sun.star.text.Paragraph"):
                pe = p.createEnumeration()
                while pe.hasMoreElements():
                    por = pe.nextElement()
                    links += bool(por.String and por.HyperLinkURL)
        check(links == 0, "%d hyperlinks in the letter" % links)
        check(doc.GraphicObjects.Count == 0 and doc.EmbeddedObjects.Count == 0 and doc.TextFields.createEnumeration().hasMoreElements() is False,
              "graphics %d, objects %d, or a field in the letter" % (doc.GraphicObjects.Count, doc.EmbeddedObjects.Count))
        text = bookmark_text(doc, "report_rtf")
        for w in ("Résultat", "visible", "image", "inclus", "https://www.ameli.fr/", "lien", "objet", "Fin"):
            check(w in text, "%r lost from %r" % (w, text))
        check("Résultat" in bold_portions(doc), "bold lost: %s" % bold_portions(doc))
    finally:
        trap.shutdown()
        close(doc)


@test("a field set to Source=html takes its formatted section of the HTML; without one, json_report's text")
def _():
    o, rl, desktop, lis = setup()
    node = o.config("/org.reportlink.Settings/Fields/diagnosis", update=True)
    node.replaceByName("Source", "html")
    node.commitChanges()
    o.stop()                      # Fields are read when ReportLink starts
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        html = ("<html><body><h2>Anamn&egrave;se</h2><p>Ignor&eacute;e</p>"
                "<h2>Diagnostic</h2><p><b>Migraine</b> sans aura (HTML)</p><ul><li>Parac&eacute;tamol</li></ul>"
                "<img src='http://127.0.0.1:9/x.png'><h2>Conduite</h2><p>Repos</p></body></html>")
        since = len(lis.reports)
        push({"diagnosis": "Texte JSON du diagnostic", "findings": "Examen JSON"}, html_content=html)
        expect_placed(lis, since)
        text = bookmark_text(doc, "diagnosis")
        check("Migraine sans aura (HTML)" in text and "Paracétamol" in text, "diagnosis %r" % text)
        check("JSON" not in text and "Repos" not in text and "Ignorée" not in text and "Diagnostic" not in text,
              "diagnosis holds more than its section: %r" % text)
        check("Migraine" in bold_portions(doc), "the section's bold was lost: %s" % bold_portions(doc))
        check(doc.GraphicObjects.Count == 0, "the section's remote image came through")
        check(bookmark_text(doc, "findings") == "Examen JSON", "findings %r" % bookmark_text(doc, "findings"))
        push({"diagnosis": "Seulement en JSON"}, html_content="<html><body><h2>Autre</h2><p>x</p></body></html>")
        expect_placed(lis, since + 1)
        check(bookmark_text(doc, "diagnosis") == "Seulement en JSON", "diagnosis %r" % bookmark_text(doc, "diagnosis"))
    finally:
        close(doc)
        node = o.config("/org.reportlink.Settings/Fields/diagnosis", update=True)
        node.replaceByName("Source", "json")
        node.commitChanges()


if __name__ == "__main__":
    _state["server"] = start_devserver()
    sys.exit(harness.run_all())
