#!/usr/bin/python3
"""test_writer.py - reports land in the doctor's letter, in a real headless
LibreOffice with build/reportlink.oxt installed, pushed through the devserver.

One office (AutoConnect off in its profile, connected by the first test that
needs it) and one devserver serve every test; each test opens its own
documents and closes them. Output: "ok - name" / "FAIL - name: why" per test,
then "N passed, N failed"; exit status 1 on failure. Arguments select tests
whose name contains one of them.
"""

import json
import os
import re
import secrets
import shutil
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
import lofix  # noqa: E402
from harness import Failure, check, secret, test, wait_until  # noqa: E402
from lofix import TrapServer, close_at_exit, Listener, devserver, wait_state  # noqa: E402

import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.lang import IllegalArgumentException  # noqa: E402
from com.sun.star.util import XModifyListener  # noqa: E402
import unohelper  # noqa: E402

harness.TEST_TIMEOUT_S = 150
TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
FIELDS = ("history", "findings", "diagnosis", "procedure", "recommendation")
PLACE_TIMEOUT_S = 15
KEY = secret("doctor-" + secrets.token_hex(12))
UNDO_TITLES = ("Insert report", "Insérer le compte rendu")

# The office (run as nobody when the tests run as root) writes lock files
# beside the documents it opens: the folder and files must be its own.
_docs_dir = lofix.office_docs_dir("reportlink-docs-")

_state = {}


close_at_exit(_state)


def setup():
    """The office, connected to the devserver, with a listener; the same for
    every test (a test that ends the office makes the next one start anew)."""
    o = _state.get("office")
    if o is None or o.proc is None:
        if o is None:
            o = _state["office"] = office.Office("office W")
            o.install()
            o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start()
        _state.pop("listener", None)
    check(_state["server"][0].running(), "the devserver is not running")
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
    desktop = o.service("com.sun.star.frame.Desktop")
    return o, rl, desktop, _state["listener"]


def push(fields, **extra):
    """Pushes a json_report (the devserver builds the full report_ready,
    plain text included); extra top-level members make a full message."""
    server = _state["server"][0]
    port = int(_state["server"][1].split(":")[2].split("/")[0])
    if extra:
        body = dict(extra, type="report_ready", json_report=fields)
    else:
        body = fields
    status, data = harness.http("POST", "http://127.0.0.1:%d/reports/push" % port,
                                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                {"X-Doctor-Key": KEY})
    check(status == 200, "push answered %d %s" % (status, data[:200]))
    return server


def next_report(listener, since, timeout=PLACE_TIMEOUT_S):
    """The listener's report notifications after index since: waits for one."""
    listener.wait(lambda l: len(l.reports) > since, timeout, "report notification")
    with listener.cond:
        return listener.reports[since]


def open_letter(desktop, name="letter", props=()):
    """A copy of the sample template, opened in a window (it becomes the
    active document)."""
    path = os.path.join(_docs_dir, "%s-%s.odt" % (name, secrets.token_hex(4)))
    shutil.copy(TEMPLATE, path)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    args = []
    for k, v in props:
        p = PropertyValue()
        p.Name, p.Value = k, v
        args.append(p)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, tuple(args))
    check(doc is not None, "the template did not open")
    return doc


def bookmark_text(doc, name):
    return doc.Bookmarks.getByName(name).Anchor.String


def paragraphs(doc):
    out = []
    e = doc.Text.createEnumeration()
    while e.hasMoreElements():
        p = e.nextElement()
        if p.supportsService("com.sun.star.text.Paragraph"):
            out.append((p.String, p.ParaStyleName))
    return out


def close(doc):
    try:
        doc.close(True)
    except Exception:   # already closed by the test
        pass


def rich_fields(tag=""):
    return {
        "history": "La patiente, 42 ans, est venue parce qu'elle a mal à la tête %s" % tag,
        "findings": "Pouls de 100/min, tension artérielle 140/80 mmHg.\nFond d'œil normal.\n"
                    "Pas de raideur méningée 😀🩺",
        "diagnosis": "Céphalées chroniques non spécifiées %s" % tag,
        "procedure": "Examen physique et neurologique",
        "recommendation": "Nous recommandons du repos à la patiente « au calme ».",
    }


def expect_placed(listener, since, n_fields=None):
    inbox_id, placed, where = next_report(listener, since)
    check(placed, "the report was not placed (inbox %d)" % inbox_id)
    return inbox_id, where


def expect_waiting(rl, lis, since, doc, before, *words):
    """The report pushed after index since was not placed, the letter still
    reads `before`, and the inbox entry's reason contains every word.
    Returns the entry."""
    inbox_id, placed, where = next_report(lis, since)
    check(not placed and where == "", "placed=%s where=%r" % (placed, where))
    if doc is not None:
        check(doc.Text.String == before, "the document changed")
    e = inbox_entry(rl, inbox_id)
    check(e.Status == "waiting", "entry status %s" % e.Status)
    for w in words:
        check(w in e.Reason, "reason %r lacks %r" % (e.Reason, w))
    return e


def inbox_entry(rl, inbox_id):
    for e in rl.getInbox():
        if e.Id == inbox_id:
            return e
    raise Failure("no inbox entry %d" % inbox_id)


# ---------------------------------------------------------------- tests

@test("a pushed report fills each field with its exact text: accents, emoji, line breaks")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        fields = rich_fields()
        push(fields)
        _, where = expect_placed(lis, since)
        check(where.startswith("letter-"), "placed in %r" % where)
        for k, v in fields.items():
            got = bookmark_text(doc, k)
            check(got == v, "bookmark %s holds %r, expected %r" % (k, got[:80], v[:80]))
    finally:
        close(doc)


@test("line breaks become paragraphs in the bookmark's paragraph style")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        style = [s for t, s in paragraphs(doc) if t == "…"][0]
        since = len(lis.reports)
        push({"findings": "un\ndeux\r\ntrois"})
        expect_placed(lis, since)
        paras = paragraphs(doc)
        idx = [t for t, _ in paras].index("un")
        check([t for t, _ in paras[idx:idx + 3]] == ["un", "deux", "trois"],
              "paragraphs %s" % paras[idx:idx + 3])
        check(all(s == style for _, s in paras[idx:idx + 3]),
              "styles %s, expected %s" % ([s for _, s in paras[idx:idx + 3]], style))
    finally:
        close(doc)


@test("a 1 MiB field arrives whole in the letter")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        # A long report has paragraphs: 1 MiB of UTF-8 in lines of ~80 characters.
        line = "Résultat détaillé de l'examen — œdème ✓ valeurs dans les normes, contrôle à 3 mois"
        lines, size = [], 0
        while size < 1024 * 1024:
            lines.append("%05d %s" % (len(lines), line))
            size += len(lines[-1].encode("utf-8")) + 1
        big = "\n".join(lines)
        since = len(lis.reports)
        push({"findings": big, "diagnosis": "Bilan complet"})
        expect_placed(lis, since)
        check(bookmark_text(doc, "findings") == big, "the 1 MiB field differs")
    finally:
        close(doc)


@test("a field with a paragraph too long to lay out is not placed; the report waits with the reason")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        before = doc.Text.String
        since = len(lis.reports)
        push({"findings": "x" * 20000, "diagnosis": "Court"})
        expect_waiting(rl, lis, since, doc, before, "findings", "20000 characters")
    finally:
        close(doc)


@test("a second report replaces the first, and the bookmarks span exactly the new text")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("(1)"))
        expect_placed(lis, since)
        second = {"history": "Deuxième version", "findings": "Une ligne",
                  "diagnosis": "Migraine\nsans aura", "procedure": "Aucune",
                  "recommendation": "Repos"}
        push(second)
        expect_placed(lis, since + 1)
        for k, v in second.items():
            check(bookmark_text(doc, k) == v, "bookmark %s holds %r" % (k, bookmark_text(doc, k)))
        text = doc.Text.String
        check("(1)" not in text and "tension artérielle" not in text,
              "text of the first report is still in the letter")
    finally:
        close(doc)


@test("one undo restores the letter as it was, bookmarks included")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        before_text, before_marks = doc.Text.String, sorted(doc.Bookmarks.ElementNames)
        since = len(lis.reports)
        push(rich_fields())
        expect_placed(lis, since)
        um = doc.UndoManager
        check(um.getCurrentUndoActionTitle() in UNDO_TITLES,
              "undo step named %r" % um.getCurrentUndoActionTitle())
        um.undo()
        check(doc.Text.String == before_text, "the letter differs after one undo")
        check(sorted(doc.Bookmarks.ElementNames) == before_marks, "bookmarks differ after undo")
        check(all(bookmark_text(doc, k) == "…" for k in FIELDS), "a bookmark lost its content")
        um.redo()
        check(bookmark_text(doc, "diagnosis") == rich_fields()["diagnosis"], "redo lost the report")
    finally:
        close(doc)


@test("with two letters open, only the active one changes")
def _():
    o, rl, desktop, lis = setup()
    a = open_letter(desktop, "letterA")
    b = open_letter(desktop, "letterB")
    try:
        since = len(lis.reports)
        push({"diagnosis": "Pour B"})
        _, where = expect_placed(lis, since)
        check(where.startswith("letterB"), "placed in %r" % where)
        check(bookmark_text(b, "diagnosis") == "Pour B" and bookmark_text(a, "diagnosis") == "…",
              "A=%r B=%r" % (bookmark_text(a, "diagnosis"), bookmark_text(b, "diagnosis")))
        a.CurrentController.Frame.activate()
        push({"diagnosis": "Pour A"})
        _, where = expect_placed(lis, since + 1)
        check(where.startswith("letterA"), "placed in %r" % where)
        check(bookmark_text(a, "diagnosis") == "Pour A" and bookmark_text(b, "diagnosis") == "Pour B",
              "A=%r B=%r" % (bookmark_text(a, "diagnosis"), bookmark_text(b, "diagnosis")))
    finally:
        close(a)
        close(b)


@test("an active document without field bookmarks is untouched and the report waits in the inbox")
def _():
    o, rl, desktop, lis = setup()
    blank = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    try:
        blank.Text.String = "Une autre lettre."
        since = len(lis.reports)
        push({"diagnosis": "En attente"})
        e = expect_waiting(rl, lis, since, blank, "Une autre lettre.", "none of this report's fields")
        inbox_id = e.Id
        check(e.Summary == "En attente", "summary %r" % e.Summary)
        check(rl.getStatus().WaitingCount >= 1, "WaitingCount %d" % rl.getStatus().WaitingCount)
        _state["waiting_id"] = inbox_id
    finally:
        close(blank)


@test("a waiting report is placed into the active letter on request")
def _():
    o, rl, desktop, lis = setup()
    inbox_id = _state.get("waiting_id")
    check(inbox_id is not None, "needs the previous test")
    doc = open_letter(desktop)
    try:
        filled = rl.placeInboxEntry(inbox_id)
        check(filled == 1, "placeInboxEntry filled %d fields" % filled)
        check(bookmark_text(doc, "diagnosis") == "En attente", "diagnosis %r" % bookmark_text(doc, "diagnosis"))
        e = inbox_entry(rl, inbox_id)
        check(e.Status == "placed" and e.Where.startswith("letter-") and e.FieldsFilled == 1,
              "entry %s %r %d" % (e.Status, e.Where, e.FieldsFilled))
        check(rl.placeInboxEntry(inbox_id) == 0, "a placed entry was placed twice")
        try:
            rl.placeInboxEntry(987654)
            raise Failure("an unknown inbox id was accepted")
        except IllegalArgumentException as ex:
            check("987654" in ex.Message, "message %r" % ex.Message)
    finally:
        close(doc)


@test("no open document: the report waits, and discarding removes it")
def _():
    o, rl, desktop, lis = setup()
    since = len(lis.reports)
    push({"diagnosis": "Personne"})
    inbox_id = expect_waiting(rl, lis, since, None, None, "no document is open").Id
    rl.discardInboxEntry(inbox_id)
    check(all(x.Id != inbox_id for x in rl.getInbox()), "the entry is still there")
    rl.discardInboxEntry(inbox_id)   # again: ignored


@test("a report for another patient is not placed; the same patient's is")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        doc.DocumentProperties.UserDefinedProperties.addProperty("PatientId", 0, "P-1")
        before = doc.Text.String
        since = len(lis.reports)
        push({"patient_id": "P-2", "diagnosis": "Pas pour elle"})
        expect_waiting(rl, lis, since, doc, before, "another patient")
        push({"patient_id": "P-1", "diagnosis": "Pour elle"})
        expect_placed(lis, since + 1)
        check(bookmark_text(doc, "diagnosis") == "Pour elle", "diagnosis %r" % bookmark_text(doc, "diagnosis"))
    finally:
        close(doc)


@test("a read-only letter is not changed; the report waits with that reason")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop, props=(("ReadOnly", True),))
    try:
        before = doc.Text.String
        since = len(lis.reports)
        push({"diagnosis": "Lecture seule"})
        expect_waiting(rl, lis, since, doc, before, "read-only")
    finally:
        close(doc)


@test("a field in a protected section is not changed; the report waits with that reason")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        anchor = doc.Bookmarks.getByName("diagnosis").Anchor
        cursor = anchor.Text.createTextCursorByRange(anchor)
        cursor.gotoStartOfParagraph(False)
        cursor.gotoEndOfParagraph(True)
        section = doc.createInstance("com.sun.star.text.TextSection")
        anchor.Text.insertTextContent(cursor, section, True)
        section.IsProtected = True
        before = doc.Text.String
        since = len(lis.reports)
        push(rich_fields())
        expect_waiting(rl, lis, since, doc, before, "protected")
    finally:
        close(doc)


@test("a field used twice (diagnosis, diagnosis_2) is filled in both places; report_text gets the whole report")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        text = doc.Text
        cur = text.createTextCursor()
        cur.gotoEnd(False)
        for name in ("diagnosis_2", "report_text"):
            text.insertControlCharacter(cur, 0, False)
            text.insertString(cur, "…", False)
            cur.goLeft(1, True)
            bm = doc.createInstance("com.sun.star.text.Bookmark")
            bm.Name = name
            text.insertTextContent(cur, bm, True)
            cur.gotoEnd(False)
        since = len(lis.reports)
        fields = rich_fields()
        push(fields)
        expect_placed(lis, since)
        check(bookmark_text(doc, "diagnosis_2") == fields["diagnosis"],
              "diagnosis_2 %r" % bookmark_text(doc, "diagnosis_2"))
        whole = bookmark_text(doc, "report_text")
        check(all(v.split("\n")[0] in whole for v in fields.values()),
              "report_text lacks a field: %r" % whole[:200])
        check(inbox_entry(rl, next_report(lis, since)[0]).FieldsFilled == 7, "fields filled %d"
              % inbox_entry(rl, next_report(lis, since)[0]).FieldsFilled)
    finally:
        close(doc)


@test("a bookmark the doctor deleted is skipped and the other fields are filled")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        doc.Text.removeTextContent(doc.Bookmarks.getByName("procedure"))
        since = len(lis.reports)
        push(rich_fields())
        inbox_id, _ = expect_placed(lis, since)
        check(inbox_entry(rl, inbox_id).FieldsFilled == 4, "fields %d" % inbox_entry(rl, inbox_id).FieldsFilled)
        check(bookmark_text(doc, "history") == rich_fields()["history"], "history not filled")
    finally:
        close(doc)


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


def formatted_model(doc):
    """What the text model holds: (paragraph text, style, is-list, bold portions)
    per paragraph, and the number of tables, graphics, frames and links."""
    paras, links = [], 0
    e = doc.Text.createEnumeration()
    while e.hasMoreElements():
        p = e.nextElement()
        if not p.supportsService("com.sun.star.text.Paragraph"):
            continue
        bold = []
        pe = p.createEnumeration()
        while pe.hasMoreElements():
            por = pe.nextElement()
            if por.String and por.CharWeight > 100:
                bold.append(por.String)
            if por.String and por.HyperLinkURL:
                links += 1
        paras.append((p.String, p.ParaStyleName, bool(p.NumberingIsNumber), bold))
    return {"paras": paras, "tables": doc.TextTables.Count, "graphics": doc.GraphicObjects.Count,
            "frames": doc.TextFrames.Count, "objects": doc.EmbeddedObjects.Count, "links": links}


REPORT_HTML = ("<h2>Diagnostic</h2><p><b>Migraine</b> sans <i>aura</i></p>"
               "<ul><li>Paracétamol 1 g</li><li>Repos</li></ul>"
               "<table border=\"1\"><tr><th>Mesure</th><th>Valeur</th></tr>"
               "<tr><td>Tension</td><td>140/80</td></tr></table><p>Fin du compte rendu</p>")


@test("report_html receives the HTML with its formatting: heading, bold, list, table; a second report replaces it; one undo")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_html")
        since = len(lis.reports)
        push({"diagnosis": "Migraine"}, html_content=REPORT_HTML)
        expect_placed(lis, since)
        m = formatted_model(doc)
        by_text = {t: (style, is_list, bold) for t, style, is_list, bold in m["paras"]}
        check(by_text.get("Diagnostic", ("",))[0].startswith("Heading"), "no heading: %s" % m["paras"][-12:])
        check("Migraine" in by_text.get("Migraine sans aura", ("", False, []))[2], "no bold portion")
        check(by_text.get("Paracétamol 1 g", ("", False))[1] and by_text.get("Repos", ("", False))[1],
              "no list paragraphs")
        check(m["tables"] == 1, "%d tables" % m["tables"])
        check("Fin du compte rendu" in bookmark_text(doc, "report_html"), "the bookmark does not span the import")
        push({"diagnosis": "Migraine"}, html_content="<p>Deuxième <b>version</b></p>")
        expect_placed(lis, since + 1)
        m2 = formatted_model(doc)
        check(m2["tables"] == 0 and "Fin du compte rendu" not in doc.Text.String,
              "the first HTML is still there")
        check("Deuxième version" in bookmark_text(doc, "report_html"), "bookmark %r" % bookmark_text(doc, "report_html"))
        doc.UndoManager.undo()
        check(formatted_model(doc)["tables"] == 1 and "Fin du compte rendu" in bookmark_text(doc, "report_html"),
              "one undo did not restore the first report")
    finally:
        close(doc)


@test("a letter filled from HTML renders: its first page is written to build/screenshots/letter-from-html.png")
def _():
    import subprocess
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_html")
        since = len(lis.reports)
        push(rich_fields(), html_content=REPORT_HTML)
        expect_placed(lis, since)
        pdf = os.path.join(_docs_dir, "letter-from-html.pdf")
        p = PropertyValue()
        p.Name, p.Value = "FilterName", "writer_pdf_Export"
        doc.storeToURL(uno.systemPathToFileUrl(pdf), (p,))
        out_dir = os.path.join(office.BUILD, "screenshots")
        os.makedirs(out_dir, exist_ok=True)
        shutil.copy(pdf, os.path.join(out_dir, "letter-from-html.pdf"))
        r = subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", pdf,
                            os.path.join(out_dir, "letter-from-html")], capture_output=True, timeout=60)
        check(r.returncode == 0, "pdftoppm: %s" % r.stderr.decode()[-200:])
        png = os.path.join(out_dir, "letter-from-html.png")
        check(os.path.getsize(png) > 10000, "the rendered page is suspiciously small")
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "2", pdf, "-"], capture_output=True,
                              timeout=60).stdout.decode("utf-8", "replace")
        check("Céphalées chroniques" in text and "Tension" in text and "140/80" in text,
              "the rendered letter lacks the report: %r" % text[:300])
    finally:
        close(doc)


@test("hostile report HTML fetches nothing, runs nothing and creates no link")
def _():
    trap = TrapServer()
    requests, base = trap.requests, trap.base
    hostile = ("<html><head><link rel=stylesheet href='%(b)s/a.css'><base href='%(b)s/'>"
               "<meta http-equiv=refresh content='0;url=%(b)s/r'>"
               "<style>p{background:url(%(b)s/bg.png)}</style><script src='%(b)s/x.js'></script></head>"
               "<body background='%(b)s/body.png'><h2>Résultat</h2>"
               "<p>Texte <img src='%(b)s/track.gif'> visible</p>"
               "<iframe src='%(b)s/frame'></iframe><object data='%(b)s/obj'></object>"
               "<embed src='%(b)s/embed'><svg><image href='%(b)s/svg.png'/></svg>"
               "<p><a href='%(b)s/phish'>https://www.ameli.fr/</a></p>"
               "<img src=x onerror=\"location='%(b)s/onerror'\"></body></html>") % {"b": base}
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_html")
        since = len(lis.reports)
        push({"diagnosis": "Piège"}, html_content=hostile)
        expect_placed(lis, since)
        time.sleep(1.0)    # anything fetched late would still reach the trap
        m = formatted_model(doc)
        check(not requests, "LibreOffice fetched %s" % requests)
        check(m["graphics"] == 0 and m["frames"] == 0 and m["objects"] == 0,
              "graphics %d, frames %d, objects %d" % (m["graphics"], m["frames"], m["objects"]))
        check(m["links"] == 0, "%d hyperlinks in the letter" % m["links"])
        text = bookmark_text(doc, "report_html")
        check("Résultat" in text and "Texte" in text and "visible" in text and "https://www.ameli.fr/" in text,
              "report text lost: %r" % text)
    finally:
        trap.shutdown()
        close(doc)


@test("report_rtf receives the RTF version with its formatting")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        add_bookmark(doc, "report_rtf")
        since = len(lis.reports)
        rtf = r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0\fs24 {\b C\u233?phal\u233?es} chroniques\par Suite\par}"
        push({"diagnosis": "x"}, rtf_report=rtf)
        expect_placed(lis, since)
        text = bookmark_text(doc, "report_rtf")
        check("Céphalées chroniques" in text and "Suite" in text, "bookmark %r" % text)
        bold = [b for t, _, _, bs in formatted_model(doc)["paras"] for b in bs]
        check("Céphalées" in bold, "no bold portion from the RTF: %s" % bold)
    finally:
        close(doc)


PROVENANCE = ("ReportLinkReceived", "ReportLinkPlaced", "ReportLinkService")


def user_props(doc):
    c = doc.DocumentProperties.UserDefinedProperties
    names = [p.Name for p in c.PropertySetInfo.Properties]
    return {n: c.getPropertyValue(n) for n in names if n in PROVENANCE}


@test("provenance (received, placed, service host) is recorded and survives saving as .odt and .docx")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    reloaded = []
    try:
        since = len(lis.reports)
        push(rich_fields("provenance"))
        expect_placed(lis, since)
        props = user_props(doc)
        check(sorted(props) == sorted(PROVENANCE), "properties %s" % props)
        check(props["ReportLinkService"] == "127.0.0.1", "service %r" % props["ReportLinkService"])
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$", props["ReportLinkPlaced"]),
              "placed %r" % props["ReportLinkPlaced"])
        check(props["ReportLinkReceived"] <= props["ReportLinkPlaced"], "received after placed: %s" % props)
        joined = " ".join(props.values())
        check(KEY not in joined and "patiente" not in joined, "a key or report text in the properties")
        for ext, flt in (("odt", "writer8"), ("docx", "MS Word 2007 XML")):
            path = os.path.join(_docs_dir, "saved-%s.%s" % (secrets.token_hex(3), ext))
            url = uno.systemPathToFileUrl(path)
            p = PropertyValue()
            p.Name, p.Value = "FilterName", flt
            doc.storeToURL(url, (p,))
            again = desktop.loadComponentFromURL(url, "_blank", 0, ())
            reloaded.append(again)
            got = user_props(again)
            check(got == props, "after saving as .%s and reloading: %s, expected %s" % (ext, got, props))
    finally:
        for d in reloaded:
            close(d)
        close(doc)


@test("applyReport places a report exactly as if it had arrived")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        msg = json.dumps({"type": "report_ready", "json_report": rich_fields("(api)")}, ensure_ascii=False)
        check(rl.applyReport(msg) == 5, "applyReport did not fill 5 fields")
        check(bookmark_text(doc, "history") == rich_fields("(api)")["history"], "history differs")
    finally:
        close(doc)


@test("50 reports in a row are all placed, in order (push to placed: median printed)")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        times = []
        for i in range(50):
            t0 = time.perf_counter()
            push(rich_fields("#%02d" % i))
            expect_placed(lis, since + i)
            times.append((time.perf_counter() - t0) * 1000)
        check(bookmark_text(doc, "diagnosis") == rich_fields("#49")["diagnosis"], "the last report is not the one in the letter")
        ids = [r[0] for r in lis.reports[since:since + 50]]
        check(ids == sorted(ids), "reports placed out of order: %s" % ids)
        entries = [inbox_entry(rl, i) for i in ids]
        check(all(0 < e.ReceivedMonoUs < e.PlacedMonoUs and e.PlaceCostUs > 0 for e in entries),
              "an entry lacks its measurements")
        receive_to_placed = sorted((e.PlacedMonoUs - e.ReceivedMonoUs) / 1000 for e in entries)
        cost = sorted(e.PlaceCostUs / 1000 for e in entries)
        print("# network receipt -> placed: median %.1f ms; main-thread time per report: median %.1f ms, max %.1f ms"
              % (statistics.median(receive_to_placed), statistics.median(cost), cost[-1]), flush=True)
        times.sort()
        print("# push -> placed (listener told), 50 reports: median %.1f ms, p95 %.1f ms, max %.1f ms"
              % (statistics.median(times), times[int(0.95 * len(times)) - 1], times[-1]), flush=True)
    finally:
        close(doc)


@test("closing the letter while reports arrive: no crash, every report is kept")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    since = len(lis.reports)
    stop = threading.Event()

    def pusher():
        for i in range(20):
            push(rich_fields("close-%d" % i))
            time.sleep(0.01)
        stop.set()
    t = threading.Thread(target=pusher)
    t.start()
    time.sleep(0.05)
    close(doc)
    t.join(30)
    check(stop.is_set(), "the pushes did not finish")
    lis.wait(lambda l: len(l.reports) >= since + 20, PLACE_TIMEOUT_S, "20 report notifications")
    ids = [r[0] for r in lis.reports[since:since + 20]]
    inbox = {e.Id: e for e in rl.getInbox()}
    check(all(i in inbox for i in ids), "a report is missing from the inbox")
    check(rl.getStatus().State == "connected", "state %s" % rl.getStatus().State)


class DiscardWhilePlacing(unohelper.Base, XModifyListener):
    """Discards the report being placed the moment the letter first changes:
    the office calls modified() from inside the placement, and the discard
    it makes comes back on that same main thread, so the race is hit every
    time instead of now and then."""

    def __init__(self, rl, known_ids):
        self.rl = rl
        self.known = set(known_ids)
        self.discarded = []

    def modified(self, event):
        if self.discarded:
            return
        for e in self.rl.getInbox():
            if e.Id not in self.known and e.Status == "waiting":
                self.rl.discardInboxEntry(e.Id)
                self.discarded.append(e.Id)

    def disposing(self, event):
        pass


@test("a report discarded while it is being placed: the office carries on and the report stays discarded")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    spy = DiscardWhilePlacing(rl, [e.Id for e in rl.getInbox()])
    doc.addModifyListener(spy)
    try:
        msg = json.dumps({"type": "report_ready", "json_report": rich_fields("(discarded)")},
                         ensure_ascii=False)
        filled = rl.applyReport(msg)
        doc.removeModifyListener(spy)
        check(len(spy.discarded) == 1, "no discard happened during the placement")
        check(filled == 5, "applyReport answered %d: the placement did not go to its end" % filled)
        check(spy.discarded[0] not in [e.Id for e in rl.getInbox()],
              "the discarded report came back in the inbox")
        wait_until(lambda: "report %d was discarded while it was being placed" % spy.discarded[0]
                   in o.log_text(), 5, "the discard during placement in the office's log")
        check(rl.getStatus().State == "connected", "state %s" % rl.getStatus().State)
        msg = json.dumps({"type": "report_ready", "json_report": rich_fields("(after)")},
                         ensure_ascii=False)
        check(rl.applyReport(msg) == 5, "the next report was not placed")
        check(bookmark_text(doc, "history") == rich_fields("(after)")["history"], "history differs")
    finally:
        close(doc)


@test("the sample letter is French: its paragraphs and the fields' text are spell-checked as fr-FR")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push({"diagnosis": "Céphalées chroniques"})
        expect_placed(lis, since)
        locales = set()
        e = doc.Text.createEnumeration()
        while e.hasMoreElements():
            p = e.nextElement()
            if p.supportsService("com.sun.star.text.Paragraph") and p.String.strip():
                locales.add((p.CharLocale.Language, p.CharLocale.Country))
        anchor = doc.Bookmarks.getByName("diagnosis").Anchor
        locales.add((anchor.CharLocale.Language, anchor.CharLocale.Country))
        check(locales == {("fr", "FR")}, "languages in the letter: %s" % sorted(locales))
    finally:
        close(doc)


# ------------------------------------------- a report in a letter that holds one

PLACEHOLDER = "…"     # what the sample letter's fields show before any report


def type_in_field(doc, name, at, words):
    """The doctor types `words` in the middle of field `name`, `at`
    characters from its start, as a cursor in the text would."""
    anchor = doc.Bookmarks.getByName(name).Anchor
    text = anchor.getText()
    cur = text.createTextCursorByRange(anchor.getStart())
    cur.goRight(at, False)
    text.insertString(cur, words, False)


def memory_of(doc):
    props = doc.DocumentProperties.UserDefinedProperties
    return props.getPropertyValue("ReportLinkFields") if \
        props.getPropertySetInfo().hasPropertyByName("ReportLinkFields") else ""


@test("a partial report after a full one: the earlier report's other fields go back to their "
      "placeholder, in one undo step with the new fields")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        first = rich_fields("premier")
        push(first)
        expect_placed(lis, since)
        second = {"history": "Revue pour contrôle", "diagnosis": "Migraine sans aura"}
        push(second)
        expect_placed(lis, since + 1)
        for k in FIELDS:
            want = second.get(k, PLACEHOLDER)
            check(bookmark_text(doc, k) == want, "after the partial report, %s holds %r, expected %r"
                  % (k, bookmark_text(doc, k)[:60], want))
        doc.UndoManager.undo()
        for k in FIELDS:
            check(bookmark_text(doc, k) == first[k], "after one undo, %s holds %r" % (k, bookmark_text(doc, k)[:60]))
        memory = memory_of(doc)
        check(memory and "premier" not in memory and "Migraine" not in memory,
              "the letter's memory holds report text or is missing: %r" % memory[:200])
    finally:
        close(doc)


@test("a corrected report after an untouched one replaces it at once")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("v1"))
        expect_placed(lis, since)
        corrected = rich_fields("v2")
        push(corrected)
        expect_placed(lis, since + 1)
        for k, v in corrected.items():
            check(bookmark_text(doc, k) == v, "%s holds %r" % (k, bookmark_text(doc, k)[:60]))
    finally:
        close(doc)


@test("the doctor typed in the middle of a placed field: the next report waits, naming the "
      "field, and the letter keeps the doctor's words")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push({"findings": "Douleur pariétale", "diagnosis": "Céphalées"})
        expect_placed(lis, since)
        type_in_field(doc, "findings", len("Douleur "), "musculo-")
        check(bookmark_text(doc, "findings") == "Douleur musculo-pariétale",
              "the doctor's edit reads %r" % bookmark_text(doc, "findings"))
        before = doc.Text.String
        push({"findings": "Douleur thoracique", "diagnosis": "Autre"})
        e = expect_waiting(rl, lis, since + 1, doc, before, "findings")
        check(e.ReasonCode == "edited" and e.ReasonField == "findings",
              "reason code %r, field %r" % (e.ReasonCode, e.ReasonField))
        check(bookmark_text(doc, "findings") == "Douleur musculo-pariétale", "the doctor's words are gone")
        # The report waits; once the doctor's field is as placed again, it can go in.
        doc.UndoManager.undo()
        check(bookmark_text(doc, "findings") == "Douleur pariétale", "undo of the typing")
        check(rl.placeInboxEntry(e.Id) == 2, "Insert here after the doctor undid the typing")
        check(bookmark_text(doc, "findings") == "Douleur thoracique", "findings after Insert here")
    finally:
        close(doc)


@test("Replace puts the waiting report over the doctor's edit in one undo step, and its "
      "missing fields go back to their placeholder; Ctrl+Z brings the doctor's words back")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push({"findings": "Douleur pariétale", "diagnosis": "Céphalées", "procedure": "Examen"})
        expect_placed(lis, since)
        type_in_field(doc, "findings", len("Douleur "), "musculo-")
        edited = doc.Text.String
        push({"findings": "Douleur thoracique", "diagnosis": "Autre"})
        e = expect_waiting(rl, lis, since + 1, doc, edited, "findings")
        # What the doctor is shown before choosing: field by field, the letter beside the report.
        shown = {c.Bookmark: (c.InLetter, c.InReport, c.Changed) for c in rl.compareInboxEntry(e.Id)}
        check(shown == {"findings": ("Douleur musculo-pariétale", "Douleur thoracique", True),
                        "diagnosis": ("Céphalées", "Autre", True),
                        "procedure": ("Examen", PLACEHOLDER, True)}, "compareInboxEntry: %s" % shown)
        check(rl.replaceInboxEntry(e.Id) == 2, "replaceInboxEntry did not fill 2 fields")
        check(inbox_entry(rl, e.Id).Status == "placed", "the entry is not placed after Replace")
        got = {k: bookmark_text(doc, k) for k in ("findings", "diagnosis", "procedure")}
        check(got == {"findings": "Douleur thoracique", "diagnosis": "Autre", "procedure": PLACEHOLDER},
              "after Replace: %s" % got)
        doc.UndoManager.undo()
        check(doc.Text.String == edited, "one undo did not bring the doctor's letter back")
    finally:
        close(doc)


def stop_with_edit(rl, lis, doc, since):
    """The doctor's letter holds report A and an edit in findings; report B
    waits for the doctor's choice. Returns B's entry."""
    push({"findings": "Douleur pariétale", "diagnosis": "Céphalées", "procedure": "Examen"})
    expect_placed(lis, since)
    type_in_field(doc, "findings", len("Douleur "), "musculo-")
    push({"findings": "Douleur thoracique", "diagnosis": "Autre"})
    return expect_waiting(rl, lis, since + 1, doc, doc.Text.String, "findings")


def other_windows(desktop, *known):
    return [c for c in desktop.Components if not any(c == k for k in known)]


@test("Nouvelle lettre: the waiting report goes into a copy of the letter with the report "
      "fields emptied first; the doctor's letter is untouched")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    fresh = None
    try:
        since = len(lis.reports)
        e = stop_with_edit(rl, lis, doc, since)
        edited = doc.Text.String
        check(rl.newLetterForInboxEntry(e.Id) == 2, "newLetterForInboxEntry did not fill 2 fields")
        others = other_windows(desktop, doc)
        check(len(others) == 1, "%d new documents" % len(others))
        fresh = others[0]
        got = {k: bookmark_text(fresh, k) for k in ("findings", "diagnosis", "procedure", "history")}
        check(got == {"findings": "Douleur thoracique", "diagnosis": "Autre", "procedure": PLACEHOLDER,
                      "history": PLACEHOLDER}, "the new letter: %s" % got)
        check(doc.Text.String == edited, "the doctor's letter changed")
        check(not fresh.hasLocation(), "the new letter is not a new, unsaved document")
        entry = inbox_entry(rl, e.Id)
        check(entry.Status == "placed" and entry.Where == fresh.Title,
              "entry %s in %r, the new letter is %r" % (entry.Status, entry.Where, fresh.Title))
    finally:
        if fresh is not None:
            close(fresh)
        close(doc)


@test("Nouvelle lettre from a letter made from a template: a new letter from that template")
def _():
    o, rl, desktop, lis = setup()
    ott = os.path.join(_docs_dir, "modele-%s.ott" % secrets.token_hex(3))
    src = open_letter(desktop)
    p = PropertyValue()
    p.Name, p.Value = "FilterName", "writer8_template"
    src.storeToURL(uno.systemPathToFileUrl(ott), (p,))
    close(src)
    if os.geteuid() == 0:
        os.chown(ott, office.NOBODY, office.NOBODY)
    a = PropertyValue()
    a.Name, a.Value = "AsTemplate", True
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(ott), "_blank", 0, (a,))
    # File > New > Templates records the template in the new letter's
    # properties; loading AsTemplate through the API does not, so the test
    # records it as the template manager would.
    if not doc.DocumentProperties.TemplateURL:
        doc.DocumentProperties.TemplateURL = uno.systemPathToFileUrl(ott)
    fresh = None
    try:
        since = len(lis.reports)
        e = stop_with_edit(rl, lis, doc, since)
        # The letter made from a template has no file: only its template can give a new one.
        check(not doc.hasLocation(), "the letter made from the template has a file")
        check(rl.newLetterForInboxEntry(e.Id) == 2, "newLetterForInboxEntry did not fill 2 fields")
        others = other_windows(desktop, doc)
        check(len(others) == 1, "%d new documents" % len(others))
        fresh = others[0]
        check("Dr Claire Martin" in fresh.Text.String and "musculo" not in fresh.Text.String and
              not fresh.hasLocation(), "the new letter is not a fresh one from the template")
        check(bookmark_text(fresh, "findings") == "Douleur thoracique" and
              bookmark_text(fresh, "procedure") == PLACEHOLDER,
              "the new letter's findings %r" % bookmark_text(fresh, "findings"))
    finally:
        if fresh is not None:
            close(fresh)
        close(doc)


@test("Nouvelle lettre from a letter with neither template nor file: it waits, saying why")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        e = stop_with_edit(rl, lis, doc, since)
    finally:
        close(doc)
    blank = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    try:
        blank.Text.insertString(blank.Text.getEnd(), "x", False)
        mark = blank.createInstance("com.sun.star.text.Bookmark")
        mark.Name = "findings"
        blank.Text.insertTextContent(blank.Text.getEnd(), mark, True)
        check(rl.newLetterForInboxEntry(e.Id) == 0, "placed into a new letter from nothing")
        check(inbox_entry(rl, e.Id).ReasonCode == "no_template", "reason %r" % inbox_entry(rl, e.Id).ReasonCode)
        check(len(other_windows(desktop, blank)) == 0, "a document was opened")
    finally:
        close(blank)
        rl.discardInboxEntry(e.Id)


@test("Écarter a report that waits on the doctor's words: it is gone, the letter as the doctor left it")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        e = stop_with_edit(rl, lis, doc, since)
        edited = doc.Text.String
        rl.discardInboxEntry(e.Id)
        check(all(x.Id != e.Id for x in rl.getInbox()), "the entry is still in the inbox")
        check(doc.Text.String == edited, "the letter changed")
        # The next report still respects the doctor's edit.
        push({"findings": "Encore un autre"})
        expect_waiting(rl, lis, since + 2, doc, edited, "findings")
    finally:
        close(doc)


@test("a deleted field bookmark counts as the doctor's change: the next report waits")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push({"findings": "Douleur pariétale", "diagnosis": "Céphalées"})
        expect_placed(lis, since)
        doc.Text.removeTextContent(doc.Bookmarks.getByName("findings"))
        before = doc.Text.String
        push({"findings": "Douleur thoracique", "diagnosis": "Autre"})
        e = expect_waiting(rl, lis, since + 1, doc, before, "findings")
        check(e.ReasonCode == "edited", "reason code %r" % e.ReasonCode)
    finally:
        close(doc)


@test("a letter saved since the report was placed: the next report waits (a saved letter "
      "may have left the practice)")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("avant"))
        expect_placed(lis, since)
        doc.store()
        before = doc.Text.String
        push(rich_fields("après"))
        e = expect_waiting(rl, lis, since + 1, doc, before, "saved")
        check(e.ReasonCode == "saved", "reason code %r" % e.ReasonCode)
        shown = {c.Bookmark: (c.InLetter, c.InReport, c.Changed) for c in rl.compareInboxEntry(e.Id)}
        old, new = rich_fields("avant"), rich_fields("après")
        check(shown["findings"] == (old["findings"], new["findings"], False) and
              shown["history"] == (old["history"], new["history"], True),
              "compareInboxEntry: findings %s, history %s" % (shown["findings"], shown["history"]))
    finally:
        close(doc)


@test("a letter saved since the report, then changed again: the next report still waits, "
      "saying when it was saved")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("avant"))
        expect_placed(lis, since)
        time.sleep(1.1)            # the save must come after the placement's second
        doc.store()
        doc.Text.insertString(doc.Text.getEnd(), " Vu ce jour.", False)
        check(doc.isModified(), "the letter is not modified again")
        before = doc.Text.String
        push(rich_fields("après"))
        e = expect_waiting(rl, lis, since + 1, doc, before, "saved")
        check(e.ReasonCode == "saved" and re.fullmatch(r"\d\d:\d\d", e.ReasonField),
              "reason %r, field %r" % (e.ReasonCode, e.ReasonField))
    finally:
        close(doc)


@test("a letter printed since the report was placed: the next report waits, saying when")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("avant"))
        expect_placed(lis, since)
        time.sleep(1.1)
        p = PropertyValue()
        p.Name, p.Value = "FileName", os.path.join(_docs_dir, "printed-%s.ps" % secrets.token_hex(3))
        w = PropertyValue()
        w.Name, w.Value = "Wait", True
        doc.print((p, w))
        before = doc.Text.String
        push(rich_fields("après"))
        e = expect_waiting(rl, lis, since + 1, doc, before, "printed")
        check(e.ReasonCode == "printed" and re.fullmatch(r"\d\d:\d\d", e.ReasonField),
              "reason %r, field %r" % (e.ReasonCode, e.ReasonField))
    finally:
        close(doc)


def reopen_as(desktop, doc, ext, filter_name):
    """Stores doc as ext with filter_name, closes it and opens the copy."""
    path = os.path.join(_docs_dir, "kept-%s.%s" % (secrets.token_hex(3), ext))
    p = PropertyValue()
    p.Name, p.Value = "FilterName", filter_name
    doc.storeToURL(uno.systemPathToFileUrl(path), (p,))
    close(doc)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    again = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, ())
    check(again is not None, "the %s copy did not open" % ext)
    return again


def one_line_fields(tag):
    return {k: v.split("\n")[0] for k, v in rich_fields(tag).items()}


for _ext, _filter in (("odt", "writer8"), ("docx", "MS Word 2007 XML")):
    @test("what was placed is remembered across save and reopen as .%s: untouched fields are "
          "recognised (the report waits only because the letter was saved), an edited one is named"
          % _ext)
    def _(ext=_ext, filter_name=_filter):
        o, rl, desktop, lis = setup()
        doc = open_letter(desktop)
        try:
            since = len(lis.reports)
            push(one_line_fields("gardé"))
            expect_placed(lis, since)
            doc = reopen_as(desktop, doc, ext, filter_name)
            check(memory_of(doc), "the reopened .%s has no ReportLinkFields property" % ext)
            before = doc.Text.String
            push(one_line_fields("suivant"))
            e = expect_waiting(rl, lis, since + 1, doc, before)
            check(e.ReasonCode == "saved", "in the reopened .%s: %s (%s)" % (ext, e.Reason, e.ReasonCode))
            type_in_field(doc, "diagnosis", 3, "[corrigé] ")
            before = doc.Text.String
            push(one_line_fields("troisième"))
            e = expect_waiting(rl, lis, since + 2, doc, before, "diagnosis")
            check(e.ReasonCode == "edited", "reason code %r" % e.ReasonCode)
        finally:
            close(doc)


@test("a field of several paragraphs that the .docx round trip cut short: the next report "
      "waits rather than leave the earlier paragraphs beside the new text")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("docx"))      # findings has three paragraphs
        expect_placed(lis, since)
        doc = reopen_as(desktop, doc, "docx", "MS Word 2007 XML")
        # LibreOffice 7.4's Word export/import keeps only the last paragraph in
        # the bookmark; replacing it would leave the first two in the letter.
        cut = bookmark_text(doc, "findings")
        doc.Text.insertString(doc.Text.getEnd(), " Vu ce jour.", False)
        before = doc.Text.String
        push(rich_fields("suivant"))
        if cut == rich_fields("docx")["findings"]:
            harness.note("this LibreOffice keeps the whole multi-paragraph bookmark in .docx")
            expect_placed(lis, since + 1)
        else:
            e = expect_waiting(rl, lis, since + 1, doc, before, "findings")
            check(e.ReasonCode == "edited", "reason code %r" % e.ReasonCode)
    finally:
        close(doc)


@test("Ctrl+Z of a placement shows the report withdrawn in the inbox, Ctrl+Y placed again; "
      "a withdrawn report can be inserted again")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        fields = rich_fields("retiré")
        push(fields)
        inbox_id, _ = expect_placed(lis, since)
        um = doc.UndoManager
        um.undo()
        wait_until(lambda: inbox_entry(rl, inbox_id).Status == "waiting" or
                   _raise_failure("status %s" % inbox_entry(rl, inbox_id).Status), 10, "withdrawn")
        e = inbox_entry(rl, inbox_id)
        check(e.ReasonCode == "withdrawn", "reason code %r" % e.ReasonCode)
        check(bookmark_text(doc, "history") == PLACEHOLDER, "history %r after undo" % bookmark_text(doc, "history"))
        um.redo()
        wait_until(lambda: inbox_entry(rl, inbox_id).Status == "placed" or
                   _raise_failure("status %s" % inbox_entry(rl, inbox_id).Status), 10, "placed again")
        um.undo()
        wait_until(lambda: inbox_entry(rl, inbox_id).Status == "waiting" or
                   _raise_failure("status %s" % inbox_entry(rl, inbox_id).Status), 10, "withdrawn again")
        check(rl.placeInboxEntry(inbox_id) == 5, "Insert here did not put the withdrawn report back")
        for k, v in fields.items():
            check(bookmark_text(doc, k) == v, "%s holds %r" % (k, bookmark_text(doc, k)[:60]))
        check(inbox_entry(rl, inbox_id).Status == "placed", "not placed after Insert here")
    finally:
        close(doc)


# ------------------------------------------- a letter leaving half-filled

def office_log(o):
    with open(o.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def warned(o, how, empty, waiting):
    line = "warned: a letter left (%s) with %d empty field(s) and %d waiting report(s)" % (how, empty, waiting)
    return wait_until(lambda: line in office_log(o) or _raise_failure("no %r in the office log" % line),
                      10, "the warning")


def _raise_failure(text):
    raise Failure(text)


def export_pdf(doc):
    pdf = os.path.join(_docs_dir, "out-%s.pdf" % secrets.token_hex(3))
    p = PropertyValue()
    p.Name, p.Value = "FilterName", "writer_pdf_Export"
    doc.storeToURL(uno.systemPathToFileUrl(pdf), (p,))
    return pdf


@test("a letter exported to PDF with fields still empty gets a warning on the letter, naming how "
      "many; a filled one gets none")
def _():
    o, rl, desktop, lis = setup()
    waiting_before = sum(1 for e in rl.getInbox() if e.Status == "waiting")
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push({"history": "Revue", "diagnosis": "Migraine"})
        expect_placed(lis, since)
        export_pdf(doc)
        warned(o, "copy", 3, waiting_before)
        check(doc.CurrentController.hasInfobar("org.reportlink.unfilled"), "no info bar on the letter")
    finally:
        close(doc)
    doc = open_letter(desktop)
    try:
        since = len(lis.reports)
        push(rich_fields("complet"))
        expect_placed(lis, since)
        export_pdf(doc)
        if waiting_before == 0:
            check(not doc.CurrentController.hasInfobar("org.reportlink.unfilled"),
                  "a filled letter got the warning")
    finally:
        close(doc)


@test("a letter printed with fields still empty gets the warning too")
def _():
    o, rl, desktop, lis = setup()
    waiting = sum(1 for e in rl.getInbox() if e.Status == "waiting")
    doc = open_letter(desktop)
    try:
        p = PropertyValue()
        p.Name, p.Value = "FileName", os.path.join(_docs_dir, "printed-%s.ps" % secrets.token_hex(3))
        w = PropertyValue()
        w.Name, w.Value = "Wait", True
        doc.print((p, w))
        warned(o, "print", 5, waiting)
        check(doc.CurrentController.hasInfobar("org.reportlink.unfilled"), "no info bar on the letter")
    finally:
        close(doc)


@test("quitting LibreOffice while reports arrive is clean: it exits and no process remains")
def _():
    o, rl, desktop, lis = setup()
    doc = open_letter(desktop)
    server = _state["server"][0]
    stop = threading.Event()

    def pusher():
        for i in range(200):
            if stop.is_set():
                return
            try:
                push(rich_fields("quit-%d" % i))
            except Failure:
                pass     # 404 once the office is gone
            time.sleep(0.005)
    t = threading.Thread(target=pusher)
    t.start()
    time.sleep(0.2)
    o.stop()
    stop.set()
    t.join(10)
    check(o.exit_status == 0, "soffice exited with %s" % o.exit_status)
    wait_until(lambda: not o.pids(), 10, "no soffice process left")
    wait_until(lambda: b"closed with 1000" in server.stderr_bytes or b"1000" in server.stderr_bytes,
               5, "the devserver saw close 1000")


if __name__ == "__main__":
    # One devserver for the whole run: started outside any test, so that the
    # harness does not stop it when a test ends.
    _state["server"] = devserver(KEY, whole_run=True)
    sys.exit(harness.run_all())
