#!/usr/bin/env python3
"""Runs a Windows console program under wine as a test's child process.

    tests/windows/wine_exec.py PROGRAM.exe [ARG...]

- WINEPREFIX: REPORTLINK_WINEPREFIX, else the Windows build's own prefix
  (${XDG_CACHE_HOME:-~/.cache}/reportlink/mingw64/work/wine, made by
  tools/windows/build-deps.sh); WINEDEBUG=-all, so stderr holds only the
  program's own words.
- SIGTERM and SIGINT are forwarded to the program as SIGINT, which wine turns
  into a console CTRL_C_EVENT (Windows has no SIGTERM; the program handles
  Ctrl-C with SetConsoleCtrlHandler). SIGKILL of this wrapper kills the
  program too (PR_SET_PDEATHSIG), as a test harness expects of its children.
- stdin, stdout and stderr are the program's; the exit status is its own.

Standard library only.
"""
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def prefix():
    explicit = os.environ.get("REPORTLINK_WINEPREFIX")
    if explicit:
        return explicit
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "reportlink", "mingw64", "work", "wine")


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: %s PROGRAM.exe [ARG...]" % argv[0])
    env = dict(os.environ, WINEPREFIX=prefix(), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=")
    if not os.path.isdir(env["WINEPREFIX"]):
        sys.exit("wine_exec: no wine prefix at %s: run tools/windows/build-deps.sh" % env["WINEPREFIX"])
    child = subprocess.Popen(["wine"] + argv[1:], env=env, preexec_fn=_die_with_parent)

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            rc = child.wait()
            break
        except InterruptedError:
            continue
    # A Windows exit code is unsigned: wine gives the low 8 bits, as Linux would.
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
