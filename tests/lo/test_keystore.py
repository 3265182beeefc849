#!/usr/bin/python3
"""test_keystore.py - where the doctor's key is kept (issue 14), in a real
headless LibreOffice with build/reportlink.oxt, each office in a D-Bus session
of its own with a real GNOME Keyring (keyring.py, office.py):

 - unlocked keyring: setDoctorKey makes exactly one item (secret-tool), a
   restarted office connects with it - and then maps no libsecret, has none
   of GLib's D-Bus threads, and runs no keyring helper any more (the helper,
   reportlink-keyring, made the call in a process of its own) -, the options
   page says "in the GNOME keyring", "Forget the key" removes it and disconnects; the office's
   Passwords/UseStorage and master password are never changed;
 - locked keyring (it stays locked: no prompt can show) and no Secret Service
   at all: the key is kept for this session only, the options page says so
   and why, it is tried once - no retry loop - and asked again after a
   restart; without libsecret at all (hidden from the office in a mount
   namespace) the extension still loads and says so;
 - migration: a key stored as the previous version stored it (password
   container, default master password) moves to the keyring at the next
   start, leaves the container, and the move is told once;
 - no Secret Service, and the doctor turned on persistent saving with a
   master password of their own (typed in the office's own dialogs, on Xvfb,
   through the office's UI test service): setDoctorKey puts the key in the
   password container, the page says so, UseStorage and the master password
   stay as the doctor set them, no profile file holds the key in clear; a
   restarted office asks for the master password in its dialog and, given
   it, connects with the key. A headless office cannot show that dialog (it
   cancels it), so that start has no key: hence a visible office. With
   LibreOffice's default master password instead, the key stays out of the
   container, for this session only.

Needs build/reportlink.oxt, build/reportlink.rdb, build/reportlink-devserver,
and the Debian packages dbus, gnome-keyring, libsecret-tools, xvfb. Output: "ok -
name" / "FAIL - name: why" per test, then "N passed, N failed".
"""

import atexit
import os
import re
import secrets
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import check, secret, test, wait_until  # noqa: E402
from lofix import STATE_TIMEOUT_S, SilentHandler, Xvfb, devserver, stderr_count, strings, wait_state  # noqa: E402

import uno  # noqa: E402

harness.TEST_TIMEOUT_S = 180
CONNECTION = "/org.reportlink.Settings/Connection"
LEAF = "/org.openoffice.Office.OptionsDialog/Nodes/org.reportlink.options/Leaves/org.reportlink.options.connection"
KEY_URL = "reportlink://doctor-key"
KEY = secret("doctor-" + secrets.token_hex(12))
KEY2 = secret("doctor-two-" + secrets.token_hex(12))
NO_RETRY_S = 5            # how long the log is watched for a second attempt
EN = strings("en")

_offices = {}


def _close():
    for o in _offices.values():
        try:
            o.stop()
        except Exception:   # cleanup: close() kills what does not stop
            pass
        o.close()


atexit.register(_close)


def the_office(name, mode="unlocked", autoconnect="false", endpoint=None):
    o = _offices.get(name)
    if o is None:
        o = _offices[name] = office.Office("office %s" % name)
        o.keyring_mode = mode
        o.install()
        o.set_before_start(CONNECTION, "AutoConnect", autoconnect)
        if endpoint:
            o.set_before_start(CONNECTION, "Endpoint", endpoint)
    if o.proc is None:
        o.start()
    return o


def use_storage(o):
    """Office.Common/Passwords/UseStorage as registrymodifications.xcu has it
    (None when the profile keeps the default)."""
    with open(os.path.join(o.profile, "user", "registrymodifications.xcu"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'<item oor:path="/org.openoffice.Office.Common/Passwords"><prop oor:name="UseStorage"'
                  r'[^>]*><value>([^<]*)</value>', text)
    return m.group(1) if m else None


def container_users(o):
    record = o.service("com.sun.star.task.PasswordContainer").find(KEY_URL, SilentHandler())
    return [u.UserName for u in record.UserList] if record and record.UserList else []


def fill(template, *args):
    for i, a in enumerate(args):
        template = template.replace("{%d}" % i, a)
    return template


class Page:
    """The options page as the options dialog makes it (see test_options.py)."""

    def __init__(self, o):
        leaf = o.config(LEAF)
        url = leaf.OptionsPage
        if url.startswith("vnd.sun.star.expand:"):
            expander = o.ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
            url = expander.expandMacros(url[len("vnd.sun.star.expand:"):])
        self.doc = o.service("com.sun.star.frame.Desktop").loadComponentFromURL("private:factory/swriter",
                                                                                 "_blank", 0, ())
        self.handler = o.service(leaf.EventHandlerService)
        provider = o.service("com.sun.star.awt.ContainerWindowProvider")
        self.win = provider.createContainerWindow(url, "", self.doc.CurrentController.Frame.ContainerWindow,
                                                  self.handler)
        self.handler.callHandlerMethod(self.win, "initialize", "external_event")

    def key_state(self):
        return self.win.getControl("keyState").Model.Label

    def label(self, name):
        return self.win.getControl(name).Model.Label

    def forget(self):
        """Presses "Forget the key" the way a click does (its accessible action)."""
        ctx = self.win.getControl("forgetKey").Peer.AccessibleContext
        ctx.doAccessibleAction(0)

    def close(self):
        self.win.dispose()
        self.doc.close(True)


def key_state_is(o, want):
    def shown():
        page = Page(o)
        try:
            text = page.key_state()
        finally:
            page.close()
        if text != want:
            raise harness.Failure("options page says %r, not %r" % (text, want))
        return text
    return wait_until(shown, STATE_TIMEOUT_S, "the options page saying %r" % want, interval=0.5)


PANEL_URL = "private:resource/toolpanel/ReportLinkPanelFactory/StatusPanel"


def key_note(o):
    """The sidebar's note about the key (the status panel as the sidebar makes it)."""
    from com.sun.star.beans import PropertyValue

    def pv(name, value):
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p
    doc = o.service("com.sun.star.frame.Desktop").loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
    frame = doc.CurrentController.Frame
    el = o.service("com.sun.star.ui.UIElementFactoryManager").createUIElement(
        PANEL_URL, (pv("Frame", frame), pv("ParentWindow", frame.ContainerWindow)))
    try:
        return el.RealInterface.Window.getControl("keyNote").Text
    finally:
        el.dispose()
        doc.close(True)


def log_count(o, text):
    return o.log_text().count(text)


# ---------------------------------------------------------------- an unlocked keyring

@test("setDoctorKey puts exactly one item in the keyring, the options page says the GNOME keyring, UseStorage is untouched")
def _():
    o = the_office("K")
    before = use_storage(o)
    rl = o.report_link()
    rl.setDoctorKey(KEY)
    wait_until(lambda: o.keyring.items() == 1, STATE_TIMEOUT_S, "one ReportLink item in the keyring")
    listing = o.keyring.search()
    check("ReportLink \u2014 doctor key" in listing, "label: %s" % listing)
    check(o.keyring.lookup() == KEY, "the keyring holds another secret")
    rl.setDoctorKey(KEY2)                      # replaces, does not add
    wait_until(lambda: o.keyring.lookup() == KEY2, STATE_TIMEOUT_S, "the second key in the keyring")
    check(o.keyring.items() == 1, "%d items after a second key" % o.keyring.items())
    key_state_is(o, fill(EN["options.key.stored"], EN["key.where.gnome"]))
    check(key_note(o) == "", "the sidebar has a note about the key: %r" % key_note(o))
    check(not container_users(o), "the password container got an entry")
    pc = o.service("com.sun.star.task.PasswordContainer")
    check(not pc.isPersistentStoringAllowed() and not pc.hasMasterPassword(),
          "persistent storing or a master password was turned on")
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    check(use_storage(o) == before, "UseStorage went from %r to %r" % (before, use_storage(o)))
    text = o.log_text()
    check(KEY not in text and KEY2 not in text, "a key is in the log")


def restarted_and_connected(url, server):
    """Office K restarted with AutoConnect on to url: connected with the key it
    stored (the devserver saw it). Returns the office."""
    o = the_office("K")
    o.stop()
    o.set_before_start(CONNECTION, "AutoConnect", "true")
    o.set_before_start(CONNECTION, "Endpoint", url)
    o.start()
    wait_until(lambda: stderr_count(server, "authenticated with key #1") >= 1, STATE_TIMEOUT_S,
               "the devserver seeing the office authenticate with the key from the keyring")
    wait_state(o.report_link(), "connected")
    return o


@test("a restarted office connects on its own with the key from the keyring")
def _():
    server, url = devserver(KEY2)
    restarted_and_connected(url, server)


def mapped_libraries(pid):
    """The files of the shared objects mapped into process pid."""
    with open("/proc/%d/maps" % pid) as f:
        return sorted({line.split(None, 5)[5] for line in f.read().splitlines()
                       if len(line.split(None, 5)) == 6 and ".so" in line.split(None, 5)[5]})


def comm(pid, task=None):
    try:
        with open("/proc/%d/%scomm" % (pid, "task/%d/" % task if task else "")) as f:
            return f.read().strip()
    except OSError:
        return "?"


def thread_names(pid):
    return sorted(comm(pid, int(t)) for t in os.listdir("/proc/%d/task" % pid))


# GLib's threads: its D-Bus worker ("gdbus") and main-context thread
# ("gmain"), which libsecret's connection starts and nothing stops.
GLIB_DBUS_THREADS = ("gdbus", "gmain")


@test("the office that connected with the key from the keyring maps no libsecret, has no GLib D-Bus "
      "thread, and its keyring helper is gone")
def _():
    server, url = devserver(KEY2)
    o = restarted_and_connected(url, server)
    pid = o.soffice_bin_pid()
    check(pid, "no soffice.bin")
    libs = mapped_libraries(pid)
    threads = thread_names(pid)
    # libgcrypt and GIO are mapped whatever ReportLink does: LibreOffice's
    # libmergedlo.so needs them (through libsystemd and for dconf). What
    # only a keyring call in the office brings is libsecret and GLib's
    # D-Bus threads.
    secret_libs = [lib for lib in libs if os.path.basename(lib).startswith("libsecret")]
    glib_threads = [t for t in threads if t in GLIB_DBUS_THREADS]
    print("# soffice.bin: %d shared objects, libsecret %s; %d threads, GLib D-Bus threads %s"
          % (len(libs), secret_libs or "none", len(threads), glib_threads or "none"))
    check(not secret_libs, "the office maps %s" % secret_libs)
    check(not glib_threads, "the office runs GLib's D-Bus threads %s" % glib_threads)
    others = [(p, comm(p)) for p in o.process_tree() if comm(p) not in ("soffice", "soffice.bin", "oosplash")]
    check(not others, "processes left beside the office: %s" % others)


@test("Forget the key removes it from the keyring and disconnects")
def _():
    server, url = devserver(KEY2)
    o = the_office("K")
    rl = o.report_link()
    o.set_setting("Endpoint", url)
    rl.connect()
    wait_state(rl, "connected")
    check(o.keyring.items() == 1, "no key in the keyring to forget")
    before = use_storage(o)
    page = Page(o)
    try:
        check(page.label("forgetKey") == EN["options.key.forget"], "button %r" % page.label("forgetKey"))
        page.forget()
        wait_until(lambda: page.key_state() == EN["options.key.forgotten"], 5, "the page saying it is forgotten")
    finally:
        page.close()
    wait_until(lambda: o.keyring.items() == 0, STATE_TIMEOUT_S, "no ReportLink item left in the keyring")
    wait_state(rl, "stopped")
    check(not rl.getStatus().HasKey, "the status still has a key")
    key_state_is(o, EN["options.key.none"])
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    check(use_storage(o) == before, "UseStorage changed")
    o.start()
    check(not o.report_link().getStatus().HasKey, "a key came back after a restart")


# ---------------------------------------------------------------- no keyring to use

def session_only(name, mode, why_key, load_why_key):
    o = the_office(name, mode=mode)
    before = use_storage(o)
    rl = o.report_link()
    # At start: what the page says before any key is typed.
    if load_why_key:
        key_state_is(o, fill(EN["options.key.none.session"], EN[load_why_key]))
    else:
        key_state_is(o, EN["options.key.none"])
    rl.setDoctorKey(KEY)
    key_state_is(o, fill(EN["options.key.session"], EN[why_key]))
    check(rl.getStatus().HasKey, "the key is not in force for this session")
    note = key_note(o)
    check(note == fill(EN["key.session"], EN[why_key]), "the sidebar says %r" % note)
    line = "doctor key: session, because: "
    attempts = log_count(o, line)
    check(attempts == 1, "%d attempts logged" % attempts)
    time.sleep(NO_RETRY_S)
    check(log_count(o, line) == 1, "tried again: %d attempts" % log_count(o, line))
    check(not container_users(o), "the key went into the password container")
    if mode != "none":
        check(o.keyring.items() == 0, "an item reached the keyring")
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    check(use_storage(o) == before, "UseStorage went from %r to %r" % (before, use_storage(o)))
    check(KEY not in o.log_text(), "the key is in the log")
    o.start()
    check(not o.report_link().getStatus().HasKey, "a session-only key came back after a restart")


@test("a locked keyring that stays locked: the key is for this session only, the page and the sidebar say why, no retry")
def _():
    # Nothing stored yet: the start-up look finds no item (a locked keyring
    # still lists them) - only storing meets the lock.
    session_only("L", "locked", "key.why.keyring_locked", None)


@test("no Secret Service at all: the key is for this session only, the page and the sidebar say why, no retry")
def _():
    session_only("N", "none", "key.why.no_keyring", "key.why.no_keyring")


@test("without libsecret on the system the extension loads, and the key is for this session only")
def _():
    lib = "/usr/lib/x86_64-linux-gnu/libsecret-1.so.0"
    if os.geteuid() != 0 or not os.path.exists(lib):
        print("# skipped: hiding libsecret needs root (a mount namespace) and %s" % lib)
        return
    o = office.Office("office S")
    _offices["S"] = o
    o.hidden_files = [os.path.realpath(lib)]
    o.install()
    o.set_before_start(CONNECTION, "AutoConnect", "false")
    o.start()
    rl = o.report_link()
    check(rl is not None and rl.getStatus().State == "stopped", "ReportLink did not load")
    rl.setDoctorKey(KEY)
    key_state_is(o, fill(EN["options.key.session"], EN["key.why.no_keyring"]))
    check("no libsecret on this system" in o.log_text(), "the log does not say libsecret is missing")
    check(o.keyring.items() == 0, "the key reached the keyring without libsecret")


# ---------------------------------------------------------------- migration

@test("a key the previous version kept in the password container moves to the keyring, leaves the container, and the sidebar tells it once")
def _():
    o = the_office("M")
    # What today's keystore.c did: persistent storing on, the default master
    # password, the key added persistently with a handler that never asks.
    pc = o.service("com.sun.star.task.PasswordContainer")
    handler = SilentHandler()
    pc.allowPersistentStoring(True)
    check(pc.useDefaultMasterPassword(handler), "the default master password was refused")
    pc.addPersistent(KEY_URL, "doctor", (KEY,), handler)
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    planted = use_storage(o)
    check(planted == "true", "the planted profile has UseStorage %r" % planted)
    with open(os.path.join(o.profile, "user", "registrymodifications.xcu"), encoding="utf-8") as f:
        check("Passwords/Store" in f.read(), "no stored password in the planted profile")
    check(o.keyring.items() == 0, "the keyring is not empty before the move")

    o.start()
    wait_until(lambda: o.keyring.items() == 1, STATE_TIMEOUT_S, "the key moved into the keyring")
    check(o.keyring.lookup() == KEY, "the keyring holds another secret")
    wait_until(lambda: not container_users(o), STATE_TIMEOUT_S, "the entry gone from the password container")
    wait_until(lambda: o.report_link().getStatus().HasKey, STATE_TIMEOUT_S, "the moved key in force")
    key_state_is(o, fill(EN["options.key.stored"], EN["key.where.gnome"]))
    note = key_note(o)
    check(note == fill(EN["key.moved"], EN["key.where.gnome"]), "the sidebar says %r" % note)
    check(log_count(o, "doctor key moved from the password container to the keyring") == 1,
          "the move is not logged once")
    pc = o.service("com.sun.star.task.PasswordContainer")
    check(pc.isPersistentStoringAllowed() and pc.isDefaultMasterPasswordUsed(),
          "the doctor's password settings were reset")
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    check(use_storage(o) == planted, "UseStorage went from %r to %r" % (planted, use_storage(o)))
    o.start()
    wait_until(lambda: o.report_link().getStatus().HasKey, STATE_TIMEOUT_S, "the key after a second restart")
    check(log_count(o, "doctor key moved") == 1, "moved again on the second restart")
    check(key_note(o) == "", "the sidebar tells the move again: %r" % key_note(o))
    check(KEY not in o.log_text(), "the key is in the log")


# ---------------------------------------------------------------- the doctor's own master password

MASTER = secret("master-" + secrets.token_hex(8))


def container_key(o, handler):
    """The key the password container holds for ReportLink (None if none),
    read as any caller with the master password reads it."""
    record = o.service("com.sun.star.task.PasswordContainer").findForName(KEY_URL, "doctor", handler)
    if not record or not record.UserList:
        return None
    return record.UserList[0].Passwords[0] if record.UserList[0].Passwords else ""


def profile_files_with(o, text):
    """The files of the office's profile and HOME that hold text in clear."""
    needle = text.encode("utf-8")
    found = []
    for top in (o.profile, o.home):
        for root, dirs, files in os.walk(top):
            for f in files:
                path = os.path.join(root, f)
                try:
                    with open(path, "rb") as fh:
                        if needle in fh.read():
                            found.append(os.path.relpath(path, o.dir))
                except OSError:
                    pass
    return found


def master_entries(o):
    """Office.Common/Passwords's HasMaster and Master as the profile has them."""
    with open(os.path.join(o.profile, "user", "registrymodifications.xcu"), encoding="utf-8") as f:
        text = f.read()
    out = {}
    for name in ("HasMaster", "Master", "UseStorage"):
        m = re.search(r'<item oor:path="/org.openoffice.Office.Common/Passwords"><prop oor:name="%s"'
                      r'[^>]*><value>([^<]*)</value>' % name, text)
        out[name] = m.group(1) if m else None
    return out


def in_dialog(o, fields, press="ok", timeout=30):
    """Types into the office's dialog that has the controls named in fields
    ({id: text}) and presses `press`, as the doctor does: real key presses
    through the office's UI test service. Returns the dialog's controls."""
    from com.sun.star.beans import PropertyValue
    uitest = o.service("org.libreoffice.uitest.UITest")

    def shown():
        try:
            d = uitest.getTopFocusWindow()
            kids = d.getChildren()
        except Exception:   # no window has the focus yet
            raise harness.Failure("no dialog yet")
        if all(f in kids for f in fields):
            return d, kids
        raise harness.Failure("the focused window has %s" % (kids[:12],))
    d, kids = wait_until(shown, timeout, "a dialog with %s" % list(fields))
    for name, text in fields.items():
        arg = PropertyValue()
        arg.Name, arg.Value = "TEXT", text
        d.getChild(name).executeAction("TYPE", (arg,))
    d.getChild(press).executeAction("CLICK", ())
    return kids


class OnXvfb:
    """The office's next start is visible, on an X server of its own."""

    def __enter__(self):
        self.xvfb = Xvfb((1024, 768))
        self.old = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = ":%d" % self.xvfb.display
        return self.xvfb

    def __exit__(self, *exc):
        if self.old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = self.old


@test("no keyring, the doctor's own master password: setDoctorKey puts the key in the password container, "
      "the page says so, the doctor's settings are untouched, the key is nowhere in clear")
def _():
    import threading
    o = _offices["P"] = office.Office("office P")
    o.keyring_mode = "none"
    o.install()
    o.set_before_start(CONNECTION, "AutoConnect", "false")
    with OnXvfb():
        o.start(visible=True)
        # What Tools > Options > Security does in the doctor's office:
        # "Persistently save passwords", then "Master Password...", which
        # asks for a new master password twice in the office's own dialog.
        pc = o.service("com.sun.star.task.PasswordContainer")
        pc.allowPersistentStoring(True)
        result = []
        t = threading.Thread(target=lambda: result.append(pc.changeMasterPassword(None)), daemon=True)
        t.start()
        kids = in_dialog(o, {"password1": MASTER, "password2": MASTER})
        t.join(20)
        check(result == [True], "the doctor's master password was refused: %s (dialog %s)" % (result, kids))
        check(pc.hasMasterPassword() and not pc.isDefaultMasterPasswordUsed(), "no master password of the doctor's own")
        rl = o.report_link()
        rl.setDoctorKey(KEY)
        key_state_is(o, fill(EN["options.key.stored"], EN["key.where.container"]))
        check(rl.getStatus().HasKey, "the key is not in force")
        check(log_count(o, "doctor key: container, because: ") == 1,
              "the keystore does not report the password container once")
        check(key_note(o) == "", "the sidebar has a note about the key: %r" % key_note(o))
        # Unlocked in this session by the doctor: read back without a prompt.
        check(container_key(o, SilentHandler()) == KEY, "the password container does not hold the key")
        check(pc.isPersistentStoringAllowed() and pc.hasMasterPassword() and not pc.isDefaultMasterPasswordUsed(),
              "the doctor's password settings changed")
        check(o.stop() == 0, "office exit status %s" % o.exit_status)
    entries = master_entries(o)
    check(entries["UseStorage"] == "true", "UseStorage is %r, the doctor set true" % entries["UseStorage"])
    check(entries["HasMaster"] == "true" and entries["Master"], "the master password is not the doctor's: %s"
          % {k: v for k, v in entries.items() if k != "Master"})
    o.saved_master = entries
    with open(os.path.join(o.profile, "user", "registrymodifications.xcu"), encoding="utf-8") as f:
        check("Passwords/Store" in f.read(), "no stored password in the profile")
    where = profile_files_with(o, KEY)
    check(not where, "the key is in clear in %s" % where)
    check(KEY not in o.log_text(), "the key is in the log")


@test("no keyring, the doctor's own master password: a restarted office asks for it, and with it connects "
      "with the key from the password container")
def _():
    server, url = devserver(KEY)
    o = _offices["P"]
    o.stop()
    o.set_before_start(CONNECTION, "AutoConnect", "true")
    o.set_before_start(CONNECTION, "Endpoint", url)
    # At start ReportLink reads the key with the office's own interaction
    # handler: the office asks for the master password in its dialog (a
    # headless office cancels it at once: the key is then not read, and not
    # asked for again). The doctor types it and presses OK.
    with OnXvfb():
        o.start(visible=True)
        in_dialog(o, {"password": MASTER})
        wait_until(lambda: stderr_count(server, "authenticated with key #1") >= 1, STATE_TIMEOUT_S,
                   "the devserver seeing the office authenticate with the key from the password container")
        wait_state(o.report_link(), "connected")
        key_state_is(o, fill(EN["options.key.stored"], EN["key.where.container"]))
        check(o.stop() == 0, "office exit status %s" % o.exit_status)
    entries = master_entries(o)
    check(entries == o.saved_master, "the doctor's password settings changed: UseStorage %r, HasMaster %r"
          % (entries["UseStorage"], entries["HasMaster"]))
    where = profile_files_with(o, KEY)
    check(not where, "the key is in clear in %s" % where)
    check(KEY not in o.log_text(), "the key is in the log")


@test("no keyring, persistent saving on with LibreOffice's default master password: the key stays out of "
      "the password container, for this session only")
def _():
    o = the_office("D", mode="none")
    pc = o.service("com.sun.star.task.PasswordContainer")
    pc.allowPersistentStoring(True)
    check(pc.useDefaultMasterPassword(SilentHandler()), "the default master password was refused")
    rl = o.report_link()
    rl.setDoctorKey(KEY)
    key_state_is(o, fill(EN["options.key.session"], EN["key.why.no_keyring"]))
    check(rl.getStatus().HasKey, "the key is not in force for this session")
    check(log_count(o, "doctor key: session, because: ") == 1, "the keystore does not report this session once")
    check(not container_users(o), "the key went into the password container under the default master password")
    check(pc.isPersistentStoringAllowed() and pc.isDefaultMasterPasswordUsed(), "the doctor's password settings changed")
    check(o.stop() == 0, "office exit status %s" % o.exit_status)
    check(use_storage(o) == "true", "UseStorage is %r, the doctor set true" % use_storage(o))
    check(not profile_files_with(o, KEY), "the key is in clear in %s" % profile_files_with(o, KEY))
    o.start()
    check(not o.report_link().getStatus().HasKey, "a session-only key came back after a restart")


if __name__ == "__main__":
    try:
        rc = harness.run_all()
    finally:
        _close()
    sys.exit(rc)
