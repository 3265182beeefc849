#!/usr/bin/python3
"""test_options.py - the ReportLink page of Tools > Options, in a real headless
LibreOffice with build/reportlink.oxt installed.

The page is built as the options dialog builds it: the leaf of
OptionsDialog.xcu names the dialog file and the event handler service; the
test creates the handler by that name and the window with
com.sun.star.awt.ContainerWindowProvider (handler attached), then sends the
dialog's "initialize" / "ok" / "back" through callHandlerMethod(window,
event, "external_event"). The page's own events take the product's path: the
"Test connection" button is pressed through its accessible action and the
address is typed with XTextComponent.setText, so the .xdl's event bindings
are what reach the handler. What the page shows is read from its controls;
expected words come from the extension's i18n files.

One office (English UI, AutoConnect off) serves the tests. Output: "ok - name"
/ "FAIL - name: why" per test, then "N passed, N failed"; exit status 1 on
failure. Arguments select tests whose name contains one of them.
"""

import atexit
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from harness import Failure, Proc, check, secret, test, wait_until  # noqa: E402
from lofix import close_at_exit, strings, DEVSERVER, Xvfb, devserver, wait_state  # noqa: E402

import uno  # noqa: E402

harness.TEST_TIMEOUT_S = 120
NODE = "/org.openoffice.Office.OptionsDialog/Nodes/org.reportlink.options"
LEAF = "org.reportlink.options.connection"
HANDLER = "org.reportlink.OptionsHandler"
CONNECTION = "/org.reportlink.Settings/Connection"
KEY_OLD = secret("doctor-old-" + secrets.token_hex(12))
KEY_NEW = secret("doctor-new-" + secrets.token_hex(12))
KEY_TEST = secret("doctor-test-" + secrets.token_hex(12))
# "A key is stored in the GNOME keyring. ..." (every test office has one: office.py)
STORED_IN_KEYRING = strings("en")["options.key.stored"].replace("{0}", strings("en")["key.where.gnome"])
RESULT_TIMEOUT_S = 25    # the page's own limit is 10 s, plus closing the test client

_state = {}


close_at_exit(_state)


# ---------------------------------------------------------------- helpers



def fmt(text, *args):
    for i, a in enumerate(args):
        text = text.replace("{%d}" % i, a)
    return text


def setup():
    o = _state.get("office")
    if o is None or o.proc is None:
        if o is None:
            o = _state["office"] = office.Office("office O")
            o.install()
            o.set_before_start(CONNECTION, "AutoConnect", "false")
        o.start()
    return o


def scratch_dir():
    """A folder the office (run as nobody) can read."""
    d = tempfile.mkdtemp(prefix="reportlink-options-")
    atexit.register(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    return d


def expand(o, url):
    if url.startswith("vnd.sun.star.expand:"):
        expander = o.ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
        url = expander.expandMacros(url[len("vnd.sun.star.expand:"):])
    return url


class Page:
    """The options page as the options dialog makes it: the leaf's handler
    service and dialog file, a window built by ContainerWindowProvider in a
    Writer frame, then "initialize"."""

    def __init__(self, o):
        leaf = o.config(NODE + "/Leaves/" + LEAF)
        desktop = o.service("com.sun.star.frame.Desktop")
        self.doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
        parent = self.doc.CurrentController.Frame.ContainerWindow
        self.handler = o.service(leaf.EventHandlerService)
        check(self.handler is not None, "no %s" % leaf.EventHandlerService)
        provider = o.service("com.sun.star.awt.ContainerWindowProvider")
        self.win = provider.createContainerWindow(expand(o, leaf.OptionsPage), "", parent, self.handler)
        check(self.win is not None, "no page window")
        self.event("initialize")

    def event(self, what):
        return self.handler.callHandlerMethod(self.win, what, "external_event")

    def text(self, name):
        return self.win.getControl(name).Text

    def label(self, name):
        return self.win.getControl(name).Model.Label

    def type(self, name, text):
        """Types into a field: the control's setText, which tells its text
        listeners (the .xdl's on-textchange binding) as typing does."""
        self.win.getControl(name).setText(text)

    def set_check(self, name, on):
        self.win.getControl(name).Model.State = 1 if on else 0

    def press(self, name):
        ctx = self.win.getControl(name).Peer.AccessibleContext
        check(ctx.getAccessibleActionCount() >= 1, "%s has no accessible action" % name)
        ctx.doAccessibleAction(0)

    def wait_label(self, name, want, timeout=5, what=None):
        regex = want if hasattr(want, "match") else re.compile("^" + re.escape(want) + "$")

        def shown():
            if regex.match(self.label(name)):
                return self.label(name)
            raise Failure("%s is %r" % (name, self.label(name)))
        return wait_until(shown, timeout, what or "%s %r" % (name, getattr(want, "pattern", want)))

    def close(self):
        try:
            self.win.dispose()
        except Exception:   # already disposed
            pass
        try:
            self.doc.close(True)
        except Exception:   # already closed
            pass


def connection(o):
    node = o.config(CONNECTION)
    return node.Endpoint, node.AutoConnect, node.CaFile


def tls_devserver(key, cert):
    """A wss:// devserver with a certificate from a throwaway CA (pki())."""
    crt, k = pki()[cert]
    p = Proc("devserver wss", [DEVSERVER, "--port", "0", "--tls-cert", crt, "--tls-key", k],
             env={"REPORTLINK_DEVSERVER_KEYS": key})
    ev = p.wait_json(lambda e: e.get("event") == "listening", 10, "listening line")
    return p, "wss://localhost:%d/reports/ws" % ev["port"]


_pki = {}


def pki():
    """A CA and a server certificate for localhost that it signs, readable
    by the office (which runs as nobody)."""
    if _pki:
        return _pki
    d = scratch_dir()

    def openssl(*args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=30)
        check(r.returncode == 0, "openssl %s failed: %s" % (args[0], r.stderr.decode()[-300:]))
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
            "-days", "2", "-subj", "/CN=ReportLink options test CA")
    key, csr, crt, ext = (os.path.join(d, "good" + e) for e in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
            "-days", "2", "-extfile", ext)
    os.chmod(ca_crt, 0o644)
    _pki.update({"good": (crt, key), "ca": ca_crt})
    return _pki


def closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_result(page, want, what):
    """Presses "Test connection" and waits for the result line."""
    en = strings("en")
    page.press("test")
    page.wait_label("testResult", re.compile("^(?!%s$).+" % re.escape(en["options.test.running"]), re.S),
                    RESULT_TIMEOUT_S, "a test result")
    return page.wait_label("testResult", want, 1, what)


# ---------------------------------------------------------------- tests

@test("the options page's strings exist in French and English with the same placeholders")
def _():
    en, fr = strings("en"), strings("fr")
    mine = [k for k in en if k.startswith(("options.", "key."))]
    check(len(mine) >= 30, "only %d options.* strings" % len(mine))
    for k in mine:
        check(k in fr, "%s has no French text" % k)
        check(sorted(re.findall(r"\{\d\}", en[k])) == sorted(re.findall(r"\{\d\}", fr[k])),
              "placeholders of %s differ" % k)
    with open(os.path.join(office.ROOT, "src", "base", "words.h")) as f:
        limit = int(re.search(r"#define RL_WORDS_MAX\s+(\d+)", f.read()).group(1))
    check(len(en) <= limit and len(fr) <= limit, "more strings than the loader keeps (%d)" % limit)


@test("Tools > Options has a ReportLink node whose page is the extension's dialog and handler")
def _():
    o = setup()
    node = o.config(NODE)
    check(node.Label == "ReportLink", "Label %r" % node.Label)
    check(node.AllModules, "the node is not shown in every module")
    leaf = node.Leaves.getByName(LEAF)
    check(leaf.Id == "org.reportlink.extension", "leaf Id %r (the extension's identifier)" % leaf.Id)
    check(leaf.EventHandlerService == HANDLER, "EventHandlerService %r" % leaf.EventHandlerService)
    check(leaf.OptionsPage.endswith("/dialogs/Options.xdl"), "OptionsPage %r" % leaf.OptionsPage)
    url = expand(o, leaf.OptionsPage)
    sfa = o.service("com.sun.star.ucb.SimpleFileAccess")
    check(sfa.exists(url), "the page %s is not installed" % url)
    handler = o.service(HANDLER)
    check(handler is not None, "the handler service is not available")
    check(handler.supportsService(HANDLER), "the handler does not say it is %s" % HANDLER)
    names = set(handler.getSupportedMethodNames())
    for want in ("external_event", "testConnection", "endpointChanged", "browseCaFile"):
        check(want in names, "%s is not among the handler's methods %s" % (want, sorted(names)))


@test("initialize shows the saved address, an empty key field and that a key is stored")
def _():
    o = setup()
    en = strings("en")
    rl = o.report_link()
    o.set_setting("Endpoint", "wss://reports.example/reports/ws")
    rl.setDoctorKey(KEY_OLD)
    # The keyring thread stores it (office.py gives every office a GNOME Keyring).
    wait_until(lambda: o.keyring.items() == 1, 10, "the key in the keyring")
    page = Page(o)
    try:
        check(page.text("endpoint") == "wss://reports.example/reports/ws", "endpoint %r" % page.text("endpoint"))
        check(page.text("key") == "", "the key field is not empty")
        check(page.win.getControl("key").Model.EchoChar != 0, "the key field is not masked")
        check(page.label("keyState") == STORED_IN_KEYRING, "key state %r" % page.label("keyState"))
        check(KEY_OLD not in "".join(page.label(n) for n in ("keyState", "endpointCheck", "testResult")),
              "the key is shown")
        check(page.label("endpointCheck") == en["options.endpoint.ok.tls"], "check %r" % page.label("endpointCheck"))
        check(page.label("endpointTitle") == en["options.endpoint.title"], "title %r" % page.label("endpointTitle"))
        check(page.label("test") == en["options.test.button"], "button %r" % page.label("test"))
        check(page.label("autoConnect") == en["options.autoconnect"], "check box %r" % page.label("autoConnect"))
        check(page.win.getControl("autoConnect").Model.State == 0, "AutoConnect shown on (it is off)")
        rl.setDoctorKey("")
        page.event("back")
        check(page.label("keyState") == en["options.key.none"], "key state %r" % page.label("keyState"))
    finally:
        page.close()


@test("OK saves address, AutoConnect, CA file and the new key; ReportLink reconnects with them at once")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    old_server, old_url = devserver(KEY_OLD)
    new_server, new_url = devserver(KEY_NEW)
    o.set_setting("Endpoint", old_url)
    o.set_setting("CaFile", "")
    rl.setDoctorKey(KEY_OLD)
    rl.connect()
    wait_state(rl, "connected")
    ca = pki()["ca"]
    page = Page(o)
    try:
        page.type("endpoint", new_url)
        page.set_check("autoConnect", True)
        page.type("caFile", ca)
        page.type("key", KEY_NEW)
        check(page.event("ok"), "ok was not handled")
        check(page.text("key") == "", "the key field still holds the key after OK")
        endpoint, auto, cafile = connection(o)
        check(endpoint == new_url, "Endpoint %r" % endpoint)
        check(auto is True, "AutoConnect %r" % auto)
        check(cafile == ca, "CaFile %r" % cafile)

        def on_new_server():
            s = rl.getStatus()
            if s.State == "connected" and s.Endpoint == new_url:
                return s
            raise Failure("state %s on %s (%s)" % (s.State, s.Endpoint, s.Detail))
        wait_until(on_new_server, 20, "connected to the new server with the new key")
        # The new server knows only the new key: being connected there is
        # the key's round trip. A new page says it is stored, in the keyring.
        page.close()
        wait_until(lambda: o.keyring.lookup() == KEY_NEW, 10, "the new key in the keyring")
        page = Page(o)
        check(page.label("keyState") == STORED_IN_KEYRING, "key state %r" % page.label("keyState"))
        check(page.text("endpoint") == new_url, "endpoint %r" % page.text("endpoint"))
        check(page.win.getControl("autoConnect").Model.State == 1, "AutoConnect not shown on")

        # On disk: the settings, never the key.
        o.service("com.sun.star.configuration.ConfigurationProvider").flush()
        xcu = os.path.join(o.profile, "user", "registrymodifications.xcu")
        with open(xcu, encoding="utf-8") as f:
            text = f.read()
        check(new_url in text, "the new endpoint is not in registrymodifications.xcu (not flushed?)")
        check(KEY_NEW not in text and KEY_OLD not in text, "a doctor key is in registrymodifications.xcu")
    finally:
        page.close()
        rl.disconnect()
        o.set_setting("AutoConnect", False)
        o.set_setting("CaFile", "")


@test("after the doctor disconnected by hand, a new key and OK connect with it (OK means 'use this')")
def _():
    o = setup()
    rl = o.report_link()
    server, url = devserver(KEY_NEW)
    o.set_setting("Endpoint", url)
    o.set_setting("CaFile", "")
    rl.setDoctorKey(KEY_OLD)
    rl.disconnect()
    wait_state(rl, "stopped")
    page = Page(o)
    try:
        page.type("key", KEY_NEW)
        check(page.event("ok"), "ok was not handled")

        def connected():
            s = rl.getStatus()
            if s.State == "connected" and s.Endpoint == url:
                return s
            raise Failure("state %s on %s (%s)" % (s.State, s.Endpoint, s.Detail))
        wait_until(connected, 20, "connected with the new key after OK")
    finally:
        page.close()
        rl.disconnect()


@test("an address that is not ws:// or wss:// is refused in words and not saved")
def _():
    o = setup()
    en = strings("en")
    o.set_setting("Endpoint", "wss://kept.example/reports/ws")
    page = Page(o)
    try:
        page.type("endpoint", "http://reports.example/reports/ws")
        page.wait_label("endpointCheck", en["options.endpoint.bad.scheme"], what="the live check")
        page.event("ok")
        check(page.label("endpointCheck") == fmt(en["options.endpoint.not_saved"], en["options.endpoint.bad.scheme"]),
              "after OK %r" % page.label("endpointCheck"))
        check(connection(o)[0] == "wss://kept.example/reports/ws", "Endpoint %r" % connection(o)[0])
        page.type("endpoint", "ws://user:pw@reports.example/")
        page.wait_label("endpointCheck", en["options.endpoint.bad.credentials"])
        page.type("endpoint", "")
        page.wait_label("endpointCheck", en["options.endpoint.bad.empty"])
        # Longer than the page can hold: refused as too long, never cut short.
        page.type("endpoint", "wss://reports.example/" + "a" * 3000)
        page.wait_label("endpointCheck", en["options.endpoint.bad.too_long"])
        page.event("ok")
        check(page.label("endpointCheck") == fmt(en["options.endpoint.not_saved"], en["options.endpoint.bad.too_long"]),
              "after OK %r" % page.label("endpointCheck"))
        page.press("test")
        page.wait_label("testResult", en["options.endpoint.bad.too_long"])
        check(connection(o)[0] == "wss://kept.example/reports/ws", "Endpoint %r" % connection(o)[0])
    finally:
        page.close()


@test("ws:// to another computer gets the unencrypted warning; wss:// and this computer do not")
def _():
    o = setup()
    en = strings("en")
    page = Page(o)
    try:
        page.type("endpoint", "ws://192.0.2.10/reports/ws")
        page.wait_label("endpointCheck", en["options.endpoint.warn.unencrypted"])
        page.type("endpoint", "wss://192.0.2.10/reports/ws")
        page.wait_label("endpointCheck", en["options.endpoint.ok.tls"])
        for local in ("ws://127.0.0.1:8080/reports/ws", "ws://localhost/reports/ws", "ws://[::1]:9/x"):
            page.type("endpoint", local)
            page.wait_label("endpointCheck", en["options.endpoint.ok.local"], what="local %s" % local)
    finally:
        page.close()


@test("Test connection says connected, key refused or unreachable, and leaves ReportLink alone")
def _():
    o = setup()
    rl = o.report_link()
    en = strings("en")
    main_server, main_url = devserver(KEY_OLD)
    o.set_setting("Endpoint", main_url)
    rl.setDoctorKey(KEY_OLD)
    rl.connect()
    wait_state(rl, "connected")
    test_server, test_url = devserver(KEY_TEST)
    page = Page(o)
    try:
        page.type("endpoint", test_url)
        page.type("key", KEY_TEST)
        test_result(page, en["options.test.connected"], "connected")
        check(page.text("key") == KEY_TEST, "the test changed the key field")
        page.type("key", "not-" + KEY_TEST)
        test_result(page, en["options.test.refused"], "key refused")
        port = closed_port()
        page.type("endpoint", "ws://127.0.0.1:%d/reports/ws" % port)
        page.type("key", KEY_TEST)
        test_result(page, fmt(en["options.test.unreachable"], en["options.net.refused"]), "unreachable")
        # The same address and the stored key: the connection in use answers.
        page.type("endpoint", main_url)
        page.type("key", "")
        test_result(page, en["options.test.current"], "the current connection")
        # Nothing was saved, and ReportLink kept its connection throughout.
        check(connection(o)[0] == main_url, "the test saved the endpoint %r" % connection(o)[0])
        s = rl.getStatus()
        check(s.State == "connected" and s.Endpoint == main_url, "ReportLink is %s on %s" % (s.State, s.Endpoint))
        check(main_server.stderr_bytes.count(b"replaced") == 0, "the test took over ReportLink's connection")
    finally:
        page.close()
        rl.disconnect()


@test("Test connection against a server that never answers says so within the page's limit")
def _():
    import socket
    import time
    o = setup()
    en = strings("en")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    page = Page(o)
    try:
        page.type("endpoint", "ws://127.0.0.1:%d/reports/ws" % silent.getsockname()[1])
        page.type("key", KEY_TEST)
        started = time.monotonic()
        m = test_result(page, re.compile("^" + re.escape(en["options.test.timeout"]).replace(r"\{0\}", r"(\d+)") + "$"),
                        "no answer")
        took = time.monotonic() - started
        check(took < 15, "the answer took %.1f s" % took)
        check(re.search(r"\d+", m).group(0) in ("8", "10"), "seconds in %r" % m)
    finally:
        page.close()
        silent.close()


@test("Test connection names a TLS error in words, and succeeds with the clinic's CA file")
def _():
    o = setup()
    en = strings("en")
    server, url = tls_devserver(KEY_TEST, "good")
    page = Page(o)
    try:
        page.type("endpoint", url)
        page.type("key", KEY_TEST)
        page.type("caFile", "")
        test_result(page, fmt(en["options.test.tls"], en["options.tls.untrusted"]), "not a trusted authority")
        page.type("caFile", pki()["ca"])
        test_result(page, en["options.test.connected"], "connected with the CA file")
    finally:
        page.close()


@test("with a French user interface the page speaks French")
def _():
    o = setup()
    fr = strings("fr")
    o.set_setting("ooLocale", "fr-FR", group="/org.openoffice.Setup/L10N")
    o.set_setting("Endpoint", "ws://192.0.2.10/reports/ws")
    try:
        page = Page(o)
        try:
            check(page.label("endpointTitle") == fr["options.endpoint.title"], "title %r" % page.label("endpointTitle"))
            check(page.label("keyTitle") == fr["options.key.title"], "title %r" % page.label("keyTitle"))
            check(page.label("test") == fr["options.test.button"], "button %r" % page.label("test"))
            check(page.label("endpointCheck") == fr["options.endpoint.warn.unencrypted"],
                  "check %r" % page.label("endpointCheck"))
            page.type("endpoint", "http://x")
            page.wait_label("endpointCheck", fr["options.endpoint.bad.scheme"])
            page.type("endpoint", "ws://127.0.0.1:%d/reports/ws" % closed_port())
            page.type("key", KEY_TEST)
            page.press("test")
            page.wait_label("testResult", fmt(fr["options.test.unreachable"], fr["options.net.refused"]),
                            RESULT_TIMEOUT_S, "the result in French")
        finally:
            page.close()
    finally:
        o.set_setting("ooLocale", "en-US", group="/org.openoffice.Setup/L10N")


def _raise(message):
    raise Failure(message)


def accessible_names(acc, depth=0, limit=12):
    """Every accessible name under an accessible object (bounded depth)."""
    names = []
    try:
        ctx = acc.getAccessibleContext()
        names.append(ctx.getAccessibleName())
        if depth < limit:
            for i in range(min(ctx.getAccessibleChildCount(), 200)):
                names += accessible_names(ctx.getAccessibleChild(i), depth + 1, limit)
    except Exception:   # a child that went away while walking
        pass
    return names


@test("under Xvfb, Tools > ReportLink > Options opens the options at the ReportLink page; its test button and OK work")
def _():
    # The real options dialog, dispatched as the menu does, with the page's
    # URL; its words are read back through accessibility and the screen is
    # saved as build/screenshots/options.png.
    import threading
    import time
    en = strings("en")
    xvfb = Xvfb((1280, 800))
    o = office.Office("office S")
    old_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = ":%d" % xvfb.display
    try:
        # A wss:// service with the clinic's own CA, the key stored: the page
        # opens on a working set-up, and "Test connection" is pressed in it.
        server, url = tls_devserver(KEY_OLD, "good")
        o.install()
        o.set_before_start(CONNECTION, "AutoConnect", "true")
        o.set_before_start(CONNECTION, "Endpoint", url)
        o.set_before_start(CONNECTION, "CaFile", pki()["ca"])
        # The link starts when the letter opens, after the key is stored, never
        # by itself before (1.5 s after a start without a letter).
        o.extra_env["REPORTLINK_START_ALONE_MS"] = "60000"
        o.start(visible=True)
        o.report_link().setDoctorKey(KEY_OLD)
        wait_until(lambda: o.keyring.items() == 1, 10, "the key in the keyring")
        desktop = o.service("com.sun.star.frame.Desktop")
        doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, ())
        # The letter lets the link start: AutoConnect connects with the stored key,
        # so "Test connection" reports the connection in use (a test connection of
        # its own, with the CA file, is the page's case "connected with the CA file").
        wait_state(o.report_link(), "connected")
        frame = doc.CurrentController.Frame
        frame.ContainerWindow.setPosSize(0, 0, 1280, 800, 15)
        helper = o.service("com.sun.star.frame.DispatchHelper")

        # Opened as the doctor opens it: Tools > ReportLink > Options...
        # (the extension's own command), which must land on ReportLink's page.
        def dispatch():
            try:
                helper.executeDispatch(frame, "org.reportlink:Options", "", 0, ())
            except Exception:   # the office is killed while the dialog is open
                pass
        threading.Thread(target=dispatch, daemon=True).start()
        toolkit = o.service("com.sun.star.awt.Toolkit")

        def page_shown():
            for i in range(toolkit.getTopWindowCount()):
                names = accessible_names(toolkit.getTopWindow(i))
                if en["options.endpoint.title"] in names:
                    return names
            raise Failure("no window shows %r" % en["options.endpoint.title"])
        names = wait_until(page_shown, 30, "the options dialog at the ReportLink page")
        for want in (STORED_IN_KEYRING, en["options.autoconnect"], en["options.test.button"],
                     en["options.endpoint.ok.tls"]):
            check(want in names, "the page does not show %r" % want)
        check(KEY_OLD not in "".join(n for n in names if n), "the key is shown")

        def find(acc, name, depth=0):
            ctx = acc.getAccessibleContext()
            if ctx.getAccessibleName() == name and hasattr(ctx, "doAccessibleAction"):
                return ctx
            for i in range(min(ctx.getAccessibleChildCount(), 200) if depth < 12 else 0):
                found = find(ctx.getAccessibleChild(i), name, depth + 1)
                if found is not None:
                    return found
            return None
        button = None
        for i in range(toolkit.getTopWindowCount()):
            button = button or find(toolkit.getTopWindow(i), en["options.test.button"])
        check(button is not None, "no Test connection button in the dialog")
        button.doAccessibleAction(0)

        def connected():
            for i in range(toolkit.getTopWindowCount()):
                if en["options.test.current"] in accessible_names(toolkit.getTopWindow(i)):
                    return True
            raise Failure("no %r in the dialog" % en["options.test.current"])
        wait_until(connected, RESULT_TIMEOUT_S, "the test's result in the dialog")
        time.sleep(1.5)
        xvfb.screenshot(os.path.join(office.BUILD, "screenshots", "options.png"))

        # Edit the address as a doctor would and press the dialog's OK: the
        # dialog sends "ok" to the handler, which saves it.
        # The field is found by its accessible name, which the office takes
        # from the label above it.
        def editable(acc, name, depth=0):
            ctx = acc.getAccessibleContext()
            if ctx.getAccessibleRole() == 60 and ctx.getAccessibleName() == name:   # AccessibleRole.TEXT
                return ctx
            for i in range(min(ctx.getAccessibleChildCount(), 200) if depth < 12 else 0):
                found = editable(ctx.getAccessibleChild(i), name, depth + 1)
                if found is not None:
                    return found
            return None
        field = ok = None
        for i in range(toolkit.getTopWindowCount()):
            field = field or editable(toolkit.getTopWindow(i), en["options.endpoint.title"])
            ok = ok or find(toolkit.getTopWindow(i), "OK")
        check(field is not None, "no address field named %r in the dialog" % en["options.endpoint.title"])
        check(ok is not None, "no OK button in the dialog's accessibility tree")
        check(field.getText() == url, "the address field holds %r" % field.getText())
        field.setText(url + "?clinic=1")
        ok.doAccessibleAction(0)
        wait_until(lambda: connection(o)[0] == url + "?clinic=1" or _raise("Endpoint %r" % connection(o)[0]),
                   10, "the address saved by the dialog's OK")
    finally:
        if old_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old_display
        o.close()


@test("the office quits cleanly with the options page open and a test running")
def _():
    import socket
    import time
    o = setup()
    en = strings("en")
    page = Page(o)
    # A server that accepts TCP and never answers the WebSocket handshake:
    # the test is still waiting when the office is asked to quit.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        page.type("endpoint", "ws://127.0.0.1:%d/reports/ws" % silent.getsockname()[1])
        page.type("key", KEY_TEST)
        page.press("test")
        page.wait_label("testResult", en["options.test.running"])
        time.sleep(0.5)
        started = time.monotonic()
        o.stop()
        took = time.monotonic() - started
    finally:
        silent.close()
    check(took < 8, "the office took %.1f s to quit" % took)
    check(o.exit_status == 0, "soffice exited with %s; %s" % (o.exit_status, o.log_text()[-3000:]))
    wait_until(lambda: not o.pids() or (_ for _ in ()).throw(Failure("soffice still running")), 10,
               "no soffice process left")


if __name__ == "__main__":
    sys.exit(harness.run_all())
