"""build/reportlink-listen under valgrind memcheck, through a fault scenario:
connect, a report, malformed messages, the server killed and restarted, the
reconnection, a report, SIGTERM. Passes only with no memcheck error and no
definitely lost block (--errors-for-leak-kinds=definite); "possibly lost" and
"still reachable" blocks (OpenSSL's and libwebsockets' process-wide tables)
are shown, not failed.

Registered for each server; `make check` runs the Node server's, which adds a
link cut in the middle of a large frame. Uses the servers and the client wrapper
of test_listen.py.

Usage: /usr/bin/python3 tests/integration/test_valgrind.py [WORD...]
"""

import os
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_listen as tl  # noqa: E402
from harness import Failure, check  # noqa: E402

VALGRIND_ERROR_EXIT = 99
# valgrind runs the client some 20-50 times slower: wider deadlines.
VG_CONNECT_S = 30
VG_EVENT_S = 15


def valgrind_argv(log_path):
    if not shutil.which("valgrind"):
        raise Failure("valgrind is not installed: run `tools/ensure-deps.sh check` as root "
                      "(or apt-get install valgrind)")
    return ["valgrind", "--tool=memcheck", "--error-exitcode=%d" % VALGRIND_ERROR_EXIT,
            "--leak-check=full", "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--num-callers=30", "--log-file=" + log_path]


def not_state_failure(e):
    return e["event"] == "state" and e["state"] in ("auth_failed", "replaced", "stopped")


def fault_scenario(srv):
    log_path = os.path.join(tempfile.mkdtemp(prefix="vg-", dir=tl._tmpdir), "memcheck.log")
    listen = tl.Listen(srv, wrapper=valgrind_argv(log_path))
    listen.state("connected", VG_CONNECT_S, fail_on=not_state_failure)

    first = tl.rich_report(big_bytes=256 * 1024)
    srv.deliver(tl.KEYS[0], tl.encode(first))
    ev = listen.proc.wait_json(lambda e: e["event"] == "report", VG_EVENT_S, "the first report")
    check(tl.report_diff(ev.get("message"), first) is None, "the first report differs")

    bad = list(tl.MALFORMED) + [(label, body, False) for label, body, _ in tl.WRONG_TYPES]
    for label, body, binary in bad:
        srv.deliver(tl.KEYS[0], body, binary=binary, raw=True)
        listen.proc.wait_json(lambda e: e["event"] == "rejected", VG_EVENT_S, "rejected event for %s" % label,
                              fail_on=lambda e: e["event"] in ("report", "state"))

    if "faults" in srv.features:
        srv.partial(tl.KEYS[0], 4 * 1024 * 1024, 64 * 1024)
        listen.state("backoff", VG_EVENT_S, fail_on=not_state_failure)
        listen.state("connected", VG_CONNECT_S, fail_on=not_state_failure)

    port = srv.port
    srv.kill()
    listen.state("backoff", VG_EVENT_S, fail_on=not_state_failure)
    srv.start(port)
    listen.state("connected", VG_CONNECT_S, fail_on=not_state_failure)

    later = tl.rich_report()
    srv.deliver(tl.KEYS[0], tl.encode(later))
    ev = listen.proc.wait_json(lambda e: e["event"] == "report", VG_EVENT_S, "the report after the restart")
    check(tl.report_diff(ev.get("message"), later) is None, "the report after the restart differs")

    listen.proc.signal(signal.SIGTERM)
    rc = listen.proc.wait_exit(VG_CONNECT_S)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", log)
    definite = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", log)
    in_use = re.search(r"in use at exit: ([\d,]+) bytes in ([\d,]+) blocks", log)
    harness.note("memcheck: %s; %s; %s" % (
        summary.group(0) if summary else "no error summary",
        definite.group(0) if definite else "definitely lost: 0 bytes",
        in_use.group(0) if in_use else "in use at exit: ?"))
    if rc == VALGRIND_ERROR_EXIT or (summary and summary.group(1) != "0"):
        first_error = re.search(r"==\d+== (?!Memcheck|Copyright|Using|Command|Parent|HEAP|LEAK|ERROR|For )"
                                r"(\S.*)\n(==\d+==    .*\n){1,8}", log)
        raise Failure("memcheck found errors (exit %s): %s" % (
            rc, harness.shorten(first_error.group(0) if first_error else log[-1500:], 1500)))
    check(rc == 0, "listen under valgrind exited with %s, expected 0 after SIGTERM" % rc)
    check(summary is not None, "valgrind wrote no error summary: %s" % harness.shorten(log[-500:]))
    if definite:
        check(definite.group(1) == "0", "memcheck: %s" % definite.group(0))
    listen.check_clean()


def register():
    # `make check` runs it against ws-server only (its scenario is the longer
    # one: it adds a binary frame and a cut frame); the devserver's is here
    # for `test_valgrind.py devserver`.
    for name, cls in tl.SERVERS:
        harness.test("reportlink-listen under valgrind: report, malformed and wrongly-typed messages, "
                     "%sserver restart, report, SIGTERM: no error, no definite leak [%s]"
                     % ("a cut frame, " if "faults" in cls.features else "", name),
                     tl.scenario(cls, fault_scenario))


if __name__ == "__main__":
    register()
    sys.exit(harness.run_all())
