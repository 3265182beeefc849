"""office.py - a headless LibreOffice with ReportLink installed, for tests.

Office() makes a throwaway profile; install() initialises it and installs
build/reportlink.oxt with unopkg; start() runs soffice headless, in its own
session, listening on a loopback port, and connects python-uno to it; stop()
terminates it through the Desktop and waits; kill() ends the whole process
group with SIGKILL (a crash, as far as the office can tell); start() again
after stop() or kill() reuses the same profile. close() kills and removes the
profile (kept, with its soffice.log, when REPORTLINK_KEEP_OFFICE_DIR is set:
to read what a crashed office wrote). extra_env adds variables (e.g. REPORTLINK_DEBUG) to the office's
environment, which otherwise has none of the caller's REPORTLINK_*. Every wait has a deadline.

Run as root, the office runs as nobody (setpriv), because unopkg refuses a
per-user installation as root; the profile and HOME belong to nobody.

python-uno needs ReportLink's types on its side too (to build ReportStatus,
to implement XReportLinkListener): the bootstrap variable URE_MORE_TYPES,
read from the environment by python-uno's bootstrap, is set to LibreOffice's
own type libraries plus build/reportlink.rdb before `uno` is imported. Import
this module before `uno`.

The office is the system's (/usr/lib/libreoffice/program) unless
REPORTLINK_LO_PROGRAM names another program directory, e.g. LibreOffice 25.2
unpacked by tools/libreoffice-25.2.sh (`make check-lo-25.2`). python-uno stays
the system's: it talks URP over a socket, which does not depend on the office's
version; it reads the types of the office under test. An unpacked office gets
its own libraries through LD_LIBRARY_PATH (see _unpacked_lib_path). Its
profiles are throwaway ones like any other, never shared with the system's
office. The first start of a run prints the office's version ("# office under
test: LibreOffice 25.2.3.2 ..."); Office.version() returns it.

Every office runs in a D-Bus session of its own with a real GNOME Keyring
(keyring.py), so that the doctor's key goes where it goes on a desktop and
never into the keyring of whoever runs the tests: keyring_mode is
"unlocked" (the default), "locked", "none" (a bus without a Secret Service)
or None (the caller's own environment). The keyring starts with the first
start() and lasts until close(), across restarts, like a desktop session.

Use /usr/bin/python3: python3-uno works with Debian's Python only.
"""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import keyring as keyring_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
OXT = os.path.join(BUILD, "reportlink.oxt")
RDB = os.path.join(BUILD, "reportlink.rdb")
SYSTEM_LO_PROGRAM = "/usr/lib/libreoffice/program"
LO_PROGRAM = os.environ.get("REPORTLINK_LO_PROGRAM") or SYSTEM_LO_PROGRAM
SOFFICE = os.path.join(LO_PROGRAM, "soffice")
UNOPKG = os.path.join(LO_PROGRAM, "unopkg")
NOBODY = 65534

INIT_TIMEOUT_S = 90       # first start of a new profile, then unopkg
START_TIMEOUT_S = 60      # soffice up and accepting the bridge
STOP_TIMEOUT_S = 15       # terminate() to process exit

# The office's own API types, which may be newer than python-uno's: the bridge
# must know every type the office sends.
os.environ["URE_MORE_TYPES"] = "<file://%s/types>* file://%s" % (LO_PROGRAM, RDB)

import uno  # noqa: E402  (after URE_MORE_TYPES)
from com.sun.star.connection import NoConnectException  # noqa: E402
from com.sun.star.lang import DisposedException  # noqa: E402
from com.sun.star.uno import RuntimeException  # noqa: E402


class OfficeError(Exception):
    """The office could not be prepared, started or stopped."""


def _unpacked_lib_path():
    """LD_LIBRARY_PATH for an office unpacked outside / (tools/libreoffice-25.2.sh):
    its program directory first (as its RUNPATH $ORIGIN would find them: a
    library reached through <root>/usr/lib/<triplet>/libuno_sal.so.3, a symlink,
    would look for its siblings there), then the libraries of the packages the
    system lacks, in <root>/usr/lib/<triplet>. None for the system's office."""
    if os.path.realpath(LO_PROGRAM) == os.path.realpath(SYSTEM_LO_PROGRAM):
        return None
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(LO_PROGRAM.rstrip("/")))))
    dirs = [LO_PROGRAM]
    for lib in (os.path.join(root, "usr", "lib"), os.path.join(root, "lib")):
        if os.path.isdir(lib):
            dirs += sorted(os.path.join(lib, d) for d in os.listdir(lib)
                           if d.endswith("-linux-gnu") and os.path.isdir(os.path.join(lib, d)))
    return ":".join(dirs)


_version_told = False   # the office's version is printed once per run
_program_checked = False


def _check_program(as_root):
    """Fails at once, saying why, when the office's programs cannot be run by
    the user the office runs as (nobody, when the tests run as root: it cannot
    enter /root, for one)."""
    global _program_checked
    if _program_checked:
        return
    if as_root:
        ok = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                             "test", "-x", SOFFICE, "-a", "-x", UNOPKG]).returncode == 0
    else:
        ok = os.access(SOFFICE, os.X_OK) and os.access(UNOPKG, os.X_OK)
    if not ok:
        raise OfficeError("%s cannot run %s and %s (REPORTLINK_LO_PROGRAM=%s)"
                          % ("nobody" if as_root else "this user", SOFFICE, UNOPKG,
                             os.environ.get("REPORTLINK_LO_PROGRAM", "")))
    _program_checked = True


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chown_tree(path, uid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for f in files:
            os.chown(os.path.join(root, f), uid, uid, follow_symlinks=False)


class Office:
    """One office and its profile. Not thread-safe."""

    def __init__(self, name="office"):
        self.name = name
        self.extra_env = {}       # added to the office's environment by start()
        # The VCL plugin of a visible office. The tests read and press its
        # windows through the AWT toolkit's accessibility, which reaches every
        # control only when VCL draws the dialogs itself (gen): with a native
        # plugin (gtk3, kf5, qt), present on many machines and chosen first
        # when it is, Tools > Options is a native dialog whose OK button is
        # out of reach, and the sidebar is drawn differently. None: the
        # office chooses, as for a user (make run on a real display).
        self.visible_plugin = "gen"
        self.as_root = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="reportlink-lo-")
        self.profile = os.path.join(self.dir, "profile")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.profile)
        os.makedirs(self.home)
        os.chmod(self.dir, 0o755)
        if self.as_root:
            _chown_tree(self.dir, NOBODY)
        self.profile_url = "file://" + self.profile
        self.log_path = os.path.join(self.dir, "soffice.log")
        self.proc = None
        self.port = None
        self.ctx = None           # the office's component context (remote)
        self.exit_status = None   # of the last run
        self.keyring_mode = "unlocked"
        self.hidden_files = []    # files the office sees as empty (root only; see _argv)
        self.keyring = None       # keyring.Keyring, from the first start() to close()

    # ------------------------------------------------------------ processes

    def _argv(self, argv):
        if self.as_root:
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + argv
        if self.hidden_files:
            # A mount namespace of the office's own, where each of these files
            # reads as empty (root only): a system without them, for this office.
            script = ('for f in %s; do mount --bind /dev/null "$f" || exit 97; done; exec "$@"'
                      % " ".join(shlex.quote(f) for f in self.hidden_files))
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"] + argv
        return argv

    def _env(self, visible=False):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("REPORTLINK_", "URE_", "UNO_", "PYTHON"))}
        env.update({"HOME": self.home, "TMPDIR": self.home, "LANG": "C.UTF-8"})
        lib_path = _unpacked_lib_path()
        if lib_path:
            env["LD_LIBRARY_PATH"] = lib_path + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        if self.keyring:
            env.update(self.keyring.env())
        env.update(self.extra_env)
        if not visible:
            env["SAL_USE_VCLPLUGIN"] = "svp"   # no display needed
        elif self.visible_plugin:
            env["SAL_USE_VCLPLUGIN"] = self.visible_plugin
        return env

    def _run(self, argv, timeout, what):
        """Runs a short-lived office tool in its own session; returns its output."""
        with open(self.log_path, "ab") as log:
            p = subprocess.Popen(self._argv(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 env=self._env(), cwd=self.home, start_new_session=True)
            try:
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise OfficeError("%s took longer than %d s" % (what, timeout)) from None
            finally:
                _kill_group(p.pid)
        if rc != 0:
            raise OfficeError("%s exited with %d; %s" % (what, rc, self.log_tail()))

    def install(self, oxt=OXT):
        """Initialises the profile, then installs the extension into it."""
        _check_program(self.as_root)
        copy = os.path.join(self.dir, os.path.basename(oxt))
        shutil.copy(oxt, copy)
        if self.as_root:
            os.chown(copy, NOBODY, NOBODY)
        env_arg = "-env:UserInstallation=" + self.profile_url
        self._run([SOFFICE, "--headless", "--norestore", "--terminate_after_init", env_arg],
                  INIT_TIMEOUT_S, "profile initialisation")
        self._run([UNOPKG, "add", "--suppress-license", "-f", copy, env_arg], INIT_TIMEOUT_S, "unopkg add")

    def set_before_start(self, path, prop, xml_value):
        """Writes one configuration value into the profile while the office is
        not running, as an administrator's registrymodifications.xcu would."""
        if self.proc is not None:
            raise OfficeError("set_before_start needs a stopped office")
        xcu = os.path.join(self.profile, "user", "registrymodifications.xcu")
        with open(xcu, encoding="utf-8") as f:
            text = f.read()
        item = ('<item oor:path="%s"><prop oor:name="%s" oor:op="fuse"><value>%s</value></prop></item>\n'
                % (path, prop, xml_value))
        if "</oor:items>" not in text:
            raise OfficeError("unexpected registrymodifications.xcu")
        with open(xcu, "w", encoding="utf-8") as f:
            f.write(text.replace("</oor:items>", item + "</oor:items>", 1))

    def start(self, timeout=START_TIMEOUT_S, visible=False):
        """Starts the office and connects; self.ctx is its component context.
        visible: with windows on $DISPLAY instead of headless.
        The port is picked free, then given to soffice: another run on the
        same machine can take it in between, and our office then cannot
        accept while the other one answers. So the office that answers must
        be ours (its user installation is our profile); if not, we start
        again on another port."""
        global _version_told
        _check_program(self.as_root)
        if self.keyring is None and self.keyring_mode:
            self.keyring = keyring_mod.Keyring(self.home, os.path.join(self.dir, "run"), self.keyring_mode,
                                               NOBODY if self.as_root else None).start()
        for attempt in range(3):
            ctx = self._start_once(timeout, visible)
            if self._answering_is_ours():
                if not _version_told:
                    print("# office under test: %s (%s)" % (self.version(), LO_PROGRAM), flush=True)
                    _version_told = True
                return ctx
            self.ctx = None
            self.kill()
        raise OfficeError("another office kept answering on the ports picked for this one")

    def _answering_is_ours(self):
        subst = self.ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.util.PathSubstitution", self.ctx)
        user = subst.substituteVariables("$(user)", True)
        return user.rstrip("/").startswith(self.profile_url.rstrip("/"))

    def _start_once(self, timeout, visible):
        if self.proc is not None:
            raise OfficeError("already running")
        self.port = _free_port()
        accept = "--accept=socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % self.port
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self._argv([SOFFICE] + ([] if visible else ["--headless", "--invisible"]) +
                       ["--nologo", "--norestore", "--nodefault", "--nolockcheck", accept,
                        "-env:UserInstallation=" + self.profile_url]),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self._env(visible), cwd=self.home,
            start_new_session=True)
        log.close()
        self.exit_status = None
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = "uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % self.port
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                status = self.proc.returncode
                self.proc = None
                raise OfficeError("soffice exited with %d before accepting; %s" % (status, self.log_tail()))
            try:
                self.ctx = resolver.resolve(url)
                return self.ctx
            except NoConnectException:
                if time.monotonic() > deadline:
                    self.kill()
                    raise OfficeError("soffice did not accept within %d s; %s" % (timeout, self.log_tail()))
                time.sleep(0.2)

    def stop(self, timeout=STOP_TIMEOUT_S):
        """Asks the office to quit (Desktop.terminate) and waits for it.
        Returns its exit status; kills it (and fails) after timeout."""
        if self.proc is None:
            return self.exit_status
        try:
            desktop = self.service("com.sun.star.frame.Desktop")
            desktop.terminate()
        except (DisposedException, RuntimeException):
            pass   # the bridge goes away while terminate() returns
        self.ctx = None
        try:
            self.exit_status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise OfficeError("soffice did not exit within %d s of terminate()" % timeout) from None
        finally:
            _kill_group(self.proc.pid)
            self.proc = None
        return self.exit_status

    def kill(self):
        """Kills the office's whole process group (soffice and soffice.bin)."""
        if self.proc is not None:
            _kill_group(self.proc.pid)
            try:
                self.exit_status = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        self.ctx = None

    def pids(self):
        """Pids of processes still running with this profile (should be none
        once stopped)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if self.profile_url.encode() in cmd:
                found.append(int(entry))
        return found

    def process_tree(self):
        """Pids of the running office's process group (soffice, soffice.bin
        and any child), [] when stopped."""
        if self.proc is None:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) == self.proc.pid:
                    found.append(int(entry))
            except OSError:
                continue
        return found

    def soffice_bin_pid(self):
        """The pid of soffice.bin (the office itself), or None."""
        for pid in self.process_tree():
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "soffice.bin":
                        return pid
            except OSError:
                continue
        return None

    def close(self):
        self.kill()
        if self.keyring:
            self.keyring.stop()
            self.keyring = None
        if not os.environ.get("REPORTLINK_KEEP_OFFICE_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ UNO helpers

    def service(self, name, *args):
        smgr = self.ctx.ServiceManager
        if args:
            return smgr.createInstanceWithArgumentsAndContext(name, args, self.ctx)
        return smgr.createInstanceWithContext(name, self.ctx)

    def report_link(self):
        """theReportLink, the extension's singleton."""
        return self.ctx.getValueByName("/singletons/org.reportlink.theReportLink")

    def config(self, path, update=False):
        """A configuration view of path (an update view if update is true)."""
        provider = self.service("com.sun.star.configuration.ConfigurationProvider")
        arg = uno.createUnoStruct("com.sun.star.beans.NamedValue")
        arg.Name, arg.Value = "nodepath", path
        kind = "Update" if update else ""
        return provider.createInstanceWithArguments("com.sun.star.configuration.Configuration%sAccess" % kind,
                                                    (arg,))

    def version(self):
        """The running office's name and version, e.g. "LibreOffice 25.2.3.2"."""
        product = self.config("/org.openoffice.Setup/Product")
        return "%s %s" % (product.getByName("ooName"), product.getByName("ooSetupVersionAboutBox"))

    def set_setting(self, name, value, group="/org.reportlink.Settings/Connection"):
        """Changes one ReportLink setting and commits it."""
        node = self.config(group, update=True)
        node.replaceByName(name, value)
        node.commitChanges()

    # ------------------------------------------------------------ diagnostics

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=15):
        tail = self.log_text().splitlines()[-lines:]
        return "soffice log: " + (" | ".join(tail) if tail else "(empty)")


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
