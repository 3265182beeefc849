"""keyring.py - a real GNOME Keyring for one test office, in a D-Bus session
of its own (issue 14: the doctor's key in the system's secret store).

Keyring(home, run_dir, mode) starts a private dbus-daemon and, for the modes
"unlocked" and "locked", gnome-keyring-daemon with its secrets component,
its login keyring created and unlocked with a test password given on stdin
(then locked again through the Secret Service for "locked"). Mode "none" is
a bus without any Secret Service. The bus has no service directory: nothing
is activated on demand, so no other keyring and no unlock prompt
(gcr-prompter) can appear - a locked keyring stays locked, as when the doctor
declines the prompt. The keyring's file is <home>/.local/share/keyrings/.
Run as root, everything runs as `uid` (nobody, like the office), because a
session bus only talks to its own user.

env() is what the office's environment needs; items() counts ReportLink's
items with secret-tool (libsecret-tools); stop() ends the daemons.
Debian packages: dbus, gnome-keyring, libsecret-tools (tools/ensure-deps.sh).
"""

import os
import signal
import subprocess
import time

APP = "org.reportlink.ReportLink"
PASSWORD = b"reportlink-test-password"
START_TIMEOUT_S = 10

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class KeyringError(Exception):
    pass


class Keyring:
    def __init__(self, home, run_dir, mode="unlocked", uid=None):
        if mode not in ("unlocked", "locked", "none"):
            raise ValueError(mode)
        self.home, self.run_dir, self.mode, self.uid = home, run_dir, mode, uid
        self.address = None
        self.bus = None
        self.daemon_pid = None

    def _argv(self, argv):
        if self.uid is not None:
            return ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.uid, "--clear-groups"] + argv
        return argv

    def _env(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
               "XDG_RUNTIME_DIR": self.run_dir, "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
               "LANG": "C.UTF-8"}
        if self.address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return env

    def run(self, argv, stdin=None, timeout=10):
        """Runs a tool on this bus, as the keyring's user; returns (rc, output)."""
        p = subprocess.run(self._argv(argv), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=self._env(), timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def start(self):
        os.makedirs(self.run_dir, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        if self.uid is not None:
            os.chown(self.run_dir, self.uid, self.uid)
        config = os.path.join(self.run_dir, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG % os.path.join(self.run_dir, "bus"))
        os.chmod(config, 0o644)
        self.bus = subprocess.Popen(self._argv(["dbus-daemon", "--config-file=" + config, "--nofork",
                                                "--print-address=1"]),
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._env(),
                                    start_new_session=True)
        self.address = self.bus.stdout.readline().decode().strip()
        if not self.address:
            raise KeyringError("dbus-daemon gave no address")
        if self.mode == "none":
            return self
        rc, out = self.run(["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
                           stdin=PASSWORD)
        if rc != 0:
            raise KeyringError("gnome-keyring-daemon: %s" % out)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._owner_pid():
            if time.monotonic() > deadline:
                raise KeyringError("no Secret Service on the test bus after %d s" % START_TIMEOUT_S)
            time.sleep(0.1)
        self.daemon_pid = self._owner_pid()
        if self.mode == "locked":
            self.lock()
        return self

    def _owner_pid(self):
        rc, out = self.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                            "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID",
                            "string:org.freedesktop.secrets"])
        if rc != 0:
            return None
        return int(out.split()[-1])

    def lock(self):
        """Locks the login keyring (what a screen lock or a timeout does)."""
        rc, out = self.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
                            "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock",
                            "array:objpath:/org/freedesktop/secrets/collection/login"])
        if rc != 0:
            raise KeyringError("cannot lock the keyring: %s" % out)

    def unlock(self):
        """Unlocks the login keyring with the test password, as the doctor would."""
        rc, out = self.run(["gnome-keyring-daemon", "--replace", "--unlock", "--components=secrets",
                            "--daemonize"], stdin=PASSWORD)
        if rc != 0:
            raise KeyringError("cannot unlock the keyring: %s" % out)

    def env(self):
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def search(self):
        """secret-tool's listing of ReportLink's items (attributes, labels, no secrets)."""
        rc, out = self.run(["secret-tool", "search", "--all", "application", APP])
        return out

    def items(self):
        return sum(1 for line in self.search().splitlines() if line.startswith("[/"))

    def lookup(self):
        rc, out = self.run(["secret-tool", "lookup", "application", APP])
        return out if rc == 0 else None

    def store(self, secret, label="ReportLink \u2014 doctor key"):
        """Stores secret as ReportLink would (the secret on stdin, never in argv)."""
        rc, out = self.run(["secret-tool", "store", "--label=" + label, "application", APP],
                           stdin=secret.encode("utf-8"))
        if rc != 0:
            raise KeyringError("secret-tool store: %s" % out)

    def files(self):
        """The keyring's own files (where the key may be, encrypted)."""
        d = os.path.join(self.home, ".local", "share", "keyrings")
        return [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []

    def stop(self):
        pid = self.daemon_pid or (self._owner_pid() if self.bus and self.mode != "none" else None)
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.bus:
            try:
                os.killpg(self.bus.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.bus.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.bus.pid, signal.SIGKILL)
                self.bus.wait()
            self.bus.stdout.close()
            self.bus = None
        self.daemon_pid = None
