"""screen.py - a visible office on its own X server, and what is on its
screen: the sample letter with the ReportLink deck, the words a screen reader
reads, and checks that no text of a panel is cut or covered.
Import after `office` (which sets up python-uno's types)."""

import atexit
from contextlib import contextmanager
import os
import shutil
import tempfile

import office
import uno
from com.sun.star.awt import Size
from harness import Failure, check, wait_until
from lofix import Xvfb

TEMPLATE = os.path.join(office.ROOT, "extension", "templates", "lettre-patient.odt")
SHOTS = os.path.join(office.BUILD, "screenshots")
SCREEN = (1280, 800)
LOCALES = {"fr": "fr-FR", "en": "en-US"}


def _raise(message):
    raise Failure(message)


def letter_copy():
    """A copy of the sample letter that the office (run as nobody) may lock."""
    d = tempfile.mkdtemp(prefix="reportlink-docs-")
    atexit.register(shutil.rmtree, d, True)
    path = os.path.join(d, "lettre-patient.odt")
    shutil.copy(TEMPLATE, path)
    os.chmod(d, 0o755)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(d, office.NOBODY, office.NOBODY)
        os.chown(path, office.NOBODY, office.NOBODY)
    return path


@contextmanager
def visible_office(name, french=False, lang=None, dpi=None, settings=()):
    """A visible office on its own X server (Xvfb), AutoConnect off; yields
    (xvfb, office). Closed after.
    french: the language is switched once the office runs, as Tools > Options >
    Language does (only what is built afterwards speaks it).
    lang ("fr"/"en"): the office starts in that language, as a doctor's office
    installed in it does (the whole user interface, with its language pack).
    dpi: the screen's resolution the office uses (SAL_FORCEDPI), e.g. 144 for
    a laptop's 150 % scaling. settings: (group, name, value) set before start."""
    xvfb = Xvfb(SCREEN)
    o = office.Office(name)
    old_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = ":%d" % xvfb.display
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        if lang:
            # The doctor's choice in Tools > Options > Language Settings >
            # User interface; the office resolves it at start into ooLocale,
            # which the extension reads. The system's language (LANG) is set
            # too, as on a computer installed in that language.
            o.set_before_start("/org.openoffice.Office.Linguistic/General", "UILocale", LOCALES[lang])
            o.extra_env["LANG"] = LOCALES[lang].replace("-", "_") + ".UTF-8"
        for group, key, value in settings:
            o.set_before_start(group, key, value)
        if dpi:
            o.extra_env["SAL_FORCEDPI"] = str(dpi)
        o.start(visible=True)
        if french:
            o.set_setting("ooLocale", "fr-FR", group="/org.openoffice.Setup/L10N")
        try:
            yield xvfb, o
        except uno.getClass("com.sun.star.uno.Exception") as e:
            # A UNO exception is a UNO struct: contextlib cannot attach a
            # traceback to it, and would report that instead of the error.
            raise Failure("%s: %s" % (e.typeName, e.Message)) from None
    finally:
        if old_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old_display
        o.close()


def letter_with_deck(o):
    """In a started visible office: the sample letter maximised with the
    ReportLink deck active and its inbox panel expanded. Returns the document."""
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(letter_copy()), "_blank", 0, ())
    check(doc is not None, "the sample letter did not open")
    window = doc.CurrentController.Frame.ContainerWindow
    window.setPosSize(0, 0, SCREEN[0], SCREEN[1], 15)
    window.IsMaximized = True
    sidebar = doc.CurrentController.getSidebar()
    sidebar.setVisible(True)
    decks = sidebar.getDecks()
    check(decks.hasByName("ReportLinkDeck"), "the sidebar has no ReportLink deck: %s" % (decks.ElementNames,))
    deck = decks.getByName("ReportLinkDeck")
    deck.activate(True)
    wait_until(lambda: deck.isActive() or (_raise("the deck is not active")), 10, "the deck active")
    panels = deck.getPanels()
    check(panels.hasByName("ReportLinkStatusPanel"), "the deck has no status panel: %s"
          % (panels.ElementNames,))
    check(panels.getByName("ReportLinkStatusPanel").isExpanded(), "the status panel is collapsed")
    check(panels.hasByName("ReportLinkInboxPanel"), "the deck has no inbox panel: %s" % (panels.ElementNames,))
    panels.getByName("ReportLinkInboxPanel").expand(False)
    return doc


def panel_window(doc, name):
    """The window of the deck's panel `name` (the dialog built from its .xdl)."""
    deck = doc.CurrentController.getSidebar().getDecks().getByName("ReportLinkDeck")
    return deck.getPanels().getByName(name).getDialog()


def words_on_screen(window, limit=4000):
    """Every accessible name and text under window (what a screen reader
    reads), as a list of strings."""
    out, stack = [], [window.AccessibleContext]
    while stack and len(out) < limit:
        ctx = stack.pop()
        if ctx is None:
            continue
        try:
            if ctx.AccessibleName:
                out.append(ctx.AccessibleName)
            n = ctx.AccessibleChildCount
        except Exception:   # a child that went away meanwhile
            continue
        for i in range(min(n, 200)):
            try:
                child = ctx.getAccessibleChild(i)
                stack.append(child.AccessibleContext if child else None)
            except Exception:
                pass
    return out


TEXT_MODELS = ("FixedText",)
LABELLED_MODELS = ("Button", "CheckBox")


def layout_problems(win, names):
    """What is wrong with the layout of the visible controls `names` of a
    dialog window, in pixels as drawn: a text that needs more height than it
    has (its last lines cut off), a button or check box whose words are wider
    than it, two controls that overlap, a text colour set by hand instead of
    the theme's. Returns a list of sentences (empty:
    nothing touches, nothing is cut)."""
    problems, boxes = [], []
    for name in names:
        c = win.getControl(name)
        if c is None:
            problems.append("no control %s" % name)
            continue
        m = c.Model
        if hasattr(m, "EnableVisible") and not m.EnableVisible:
            continue
        if getattr(m, "TextColor", None) is not None:
            # The theme's colours keep their contrast in light, dark and
            # high-contrast themes; a hand-set one cannot suit them all.
            problems.append("%s has a hand-set text colour %06X" % (name, m.TextColor & 0xFFFFFF))
        r = c.PosSize
        kind = m.ImplementationName.rsplit("UnoControl", 1)[-1].replace("Model", "")
        words = getattr(m, "Label", "") if hasattr(m, "Label") else ""
        if kind in TEXT_MODELS and words:
            # A multi-line text wraps at its width: the height it needs then;
            # a one-line text needs its whole width.
            need = c.calcAdjustedSize(Size(r.Width, 0)) if m.MultiLine else c.getMinimumSize()
            if not m.MultiLine and need.Width > r.Width:
                problems.append("%s needs %d px of width for %r, has %d" % (name, need.Width, words[:60], r.Width))
            if need.Height > r.Height:
                problems.append("%s needs %d px of height for %r, has %d" % (name, need.Height, words[:60],
                                                                              r.Height))
        elif kind in LABELLED_MODELS and words:
            # The toolkit's minimum: the words with the control's own frame
            # (its "preferred" size only adds a fixed comfort margin).
            need = c.getMinimumSize()
            if need.Width > r.Width or need.Height > r.Height:
                problems.append("%s needs %dx%d px for %r, has %dx%d" % (name, need.Width, need.Height, words,
                                                                          r.Width, r.Height))
        boxes.append((name, r.X, r.Y, r.X + r.Width, r.Y + r.Height))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                problems.append("%s (%d,%d-%d,%d) and %s (%d,%d-%d,%d) overlap" % (a + b))
    return problems
