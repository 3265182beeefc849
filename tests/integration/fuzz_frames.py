#!/usr/bin/env python3
"""A structure-aware fuzz of the client's receive path (issue 11, point 4).

tests/servers/frame-fuzz.mjs authenticates reportlink-listen like the report
service and then streams generated frames at it, connection after
connection: valid reports (whole and in fragments, cut anywhere, UTF-8 split),
pings and pongs, and the frames RFC 6455 forbids (reserved bits and opcodes,
masked frames, bad control frames, broken fragmentation, invalid UTF-8, bad
closes, lengths that lie or are not minimal, flipped header bits, frames up to
17 MiB), seeded, so a finding replays.

Every report-shaped message checks itself: its plaintext_report is
"<class><conn>.<n>:<body>:<hash>" (see frame-fuzz.mjs), so this runner holds
every delivered report to being intact and of a class that may be delivered,
without a log of what was sent. What it checks:
  - reportlink-listen is alive throughout and exits 0 on SIGTERM at the end;
  - no AddressSanitizer, LeakSanitizer or UBSan report in its stderr;
  - every delivered report is intact, delivered once, and was sent valid;
    nothing from a mutated frame (or after a frame that fails the link) is
    delivered;
  - every valid report sent on a connection before anything invalid is
    delivered;
  - the client fails the link after each frame RFC 6455 makes it fail, and
    never on a link that carried only valid frames; its pongs echo our pings.

Usage: /usr/bin/python3 tests/integration/fuzz_frames.py [--frames N] [--seed S]
       [WORD...]
REPORTLINK_LISTEN_BIN selects the client (default build/asan/reportlink-listen).
A finding prints the seed, the connection plan and the last frames; replay it
with node tests/servers/frame-fuzz.mjs --seed S --first-conn K --log-frames.
Ends with one line "N passed, N failed".
"""

import hashlib
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Failure, check  # noqa: E402
import test_listen as tl  # noqa: E402

FUZZER = os.path.join(harness.ROOT, "tests", "servers", "frame-fuzz.mjs")
LISTEN = os.environ.get("REPORTLINK_LISTEN_BIN") or os.path.join(harness.ROOT, "build", "asan",
                                                                  "reportlink-listen")
SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"runtime error:", b"ERROR: LeakSanitizer")
POLL_S = 0.25
SETTLE_S = 10.0          # after the fuzzer's end, the last reports arrive within this
MAX_PROBLEMS = 10        # problems quoted in a failure message


def option(name, default):
    if name in sys.argv:
        i = sys.argv.index(name)
        value = int(sys.argv[i + 1])
        del sys.argv[i:i + 2]
        return value
    return default


FRAMES = option("--frames", 20000)
SEED = option("--seed", 1)
# A long run gets its time: about 5 ms a frame on two cores under ASan is plenty.
harness.TEST_TIMEOUT_S = max(harness.TEST_TIMEOUT_S, int(FRAMES * 0.004))


class Run:
    """What one fuzz run saw, checked by the tests below."""

    def __init__(self):
        self.done = None            # the fuzzer's summary line
        self.delivered = {}         # class -> set of "conn.n"
        self.problems = []          # delivered reports that should not have been
        self.n_reports = 0
        self.n_rejected = 0
        self.rc = None
        self.stderr = b""
        self.duration = 0.0
        self.error = None


RUN = Run()


def verify_report(ev):
    """Checks one report event against the self-check in its plaintext_report."""
    RUN.n_reports += 1
    msg = ev.get("message")
    pr = msg.get("plaintext_report") if isinstance(msg, dict) else None
    if not isinstance(pr, str) or ":" not in pr:
        return problem("a report without the fuzzer's mark: %s" % harness.brief(msg))
    tag, rest = pr.split(":", 1)
    body, _, digest = rest.rpartition(":")
    try:
        ok = hashlib.sha256((tag + ":" + body).encode("utf-8")).hexdigest()[:16] == digest
    except UnicodeEncodeError:
        ok = False
    if not ok or not tag or tag[0] not in "VMLAB":
        return problem("report %s was delivered damaged (%d chars): %s"
                       % (tag[:20], len(pr), harness.shorten(pr, 160)))
    cls, ident = tag[0], tag[1:]
    if cls in "AB":
        what = "inside a frame RFC 6455 forbids" if cls == "B" else "after a frame that fails the link"
        return problem("report %s was delivered, but it was sent %s" % (tag, what))
    seen = RUN.delivered.setdefault(cls, set())
    if ident in seen:
        return problem("report %s was delivered twice" % tag)
    seen.add(ident)


def problem(text):
    if len(RUN.problems) < 1000:
        RUN.problems.append(text)


def drain(listen, pos):
    """Verifies the listen events from pos on and drops the reports' bodies
    (a long run must not keep every report in memory); returns the new pos."""
    new, end = listen.take(pos, lambda e: {"event": "report", "checked": True}
                           if e.get("event") == "report" else None)
    for ev in new:
        kind = ev.get("event")
        if kind == "report":
            verify_report(ev)
        elif kind == "rejected":
            RUN.n_rejected += 1
        elif kind == "state" and ev.get("state") in ("auth_failed", "replaced"):
            problem("the client went to state %r: %s" % (ev.get("state"), ev.get("detail")))
    return end


def sanitizer_report(err):
    for marker in SANITIZER_MARKERS:
        if marker in err:
            at = err.index(marker)
            return err[max(0, at - 200):at + 2500].decode("utf-8", "replace")
    return None


def where(done):
    """The seed and last frames of a run, to replay a finding."""
    if not done:
        return "seed %d (no summary from the fuzzer)" % SEED
    last = done.get("recent") or []
    frames = "; ".join("conn %s frame %s: %s" % (r["conn"], r["frame"], r["what"]) for r in last[-4:])
    conn = last[-1]["conn"] if last else 0
    return ("seed %d, last frames begun: %s (replay: node tests/servers/frame-fuzz.mjs --seed %d "
            "--first-conn %s --frames 200 --log-frames)" % (SEED, frames, SEED, conn))


def fuzz_run():
    if not os.access(LISTEN, os.X_OK):
        raise Failure("%s is missing: build it with `make %s`" % (LISTEN, os.path.relpath(LISTEN, harness.ROOT)))
    started = time.monotonic()
    fuzzer = harness.Proc("frame-fuzz", ["node", FUZZER, "--frames", str(FRAMES), "--seed", str(SEED)],
                          env={"REPORTLINK_TEST_KEYS": ",".join(tl.KEYS)})
    ev = fuzzer.wait_json(lambda e: e["event"] == "listening", tl.START_S, "listening line")
    url = "ws://127.0.0.1:%d/reports/ws" % ev["port"]
    listen = harness.Proc("listen", [LISTEN, "--url", url, "--key-file", tl.write_key_file(tl.KEYS[0]),
                                     "--backoff-base", "0.05", "--backoff-cap", "0.05"])
    deadline = started + harness.TEST_TIMEOUT_S - 15
    pos = 0
    try:
        while fuzzer.running():
            time.sleep(POLL_S)
            pos = drain(listen, pos)
            if not listen.running():
                fuzzer.signal(signal.SIGTERM)        # it prints its summary: where it was
                break
            check(time.monotonic() < deadline, "the run did not end within %d s" % (deadline - started))
        try:
            RUN.done = fuzzer.wait_json(lambda e: e["event"] == "done", 5.0, "the fuzzer's summary")
        except Failure:
            RUN.done = None
        if listen.running() and RUN.done and not RUN.done.get("stalled"):
            # The last connection ended with the client's close: its reports are in;
            # only the printing may lag behind.
            want = sum(RUN.done["v_per_conn"])
            t_end = time.monotonic() + SETTLE_S
            while len(RUN.delivered.get("V", ())) < want and time.monotonic() < t_end and listen.running():
                time.sleep(POLL_S)
                pos = drain(listen, pos)
        alive = listen.running()
        pos = drain(listen, pos)
        RUN.rc = listen.stop(timeout=10.0) if alive else listen.wait_exit(5.0)
        drain(listen, pos)
        RUN.stderr = listen.stderr_bytes
        RUN.duration = time.monotonic() - started
        d = RUN.done or {}
        harness.note("seed %d: %s frames written (%s planned, %s large), %s connections, %d reports "
                     "delivered (%s valid sent), %d refused, %.1f s, client close codes %s, ends %s"
                     % (SEED, d.get("frames"), d.get("frames_planned"), d.get("large_frames"),
                        d.get("connections"), RUN.n_reports, d.get("valid_sent"), RUN.n_rejected,
                        RUN.duration, d.get("client_close_codes"), d.get("ends")))
        for f in d.get("findings") or []:
            harness.note("finding: %s" % harness.brief(f, 300))
        san = sanitizer_report(RUN.stderr)
        check(alive, "reportlink-listen died (exit status %s) during the fuzz: %s%s"
              % (RUN.rc, where(RUN.done), "; sanitizer: " + san if san else ""))
        check(RUN.rc == 0, "reportlink-listen exited with status %s on SIGTERM, expected 0" % RUN.rc)
        check(RUN.done is not None, "the fuzzer printed no summary")
        check(not RUN.done.get("stalled"), "the fuzzer gave up: no progress for 30 s (%s)" % where(RUN.done))
        check(RUN.done["frames"] > 0 and RUN.done["frames_planned"] >= FRAMES,
              "the fuzzer wrote %s frames of %d" % (RUN.done["frames"], FRAMES))
    except Failure as e:
        RUN.error = str(e)
        raise


def need_run():
    check(RUN.done is not None and RUN.error is None, "the fuzz run did not complete: %s" % RUN.error)


def no_sanitizer_report():
    check(RUN.rc is not None or RUN.stderr, "the fuzz run did not complete: %s" % RUN.error)
    san = sanitizer_report(RUN.stderr)
    check(san is None, "listen's stderr has a sanitizer report (%s): %s" % (where(RUN.done), san))


def delivered_reports_were_sent_valid():
    need_run()
    check(not RUN.problems, "%d problems, first: %s (%s)" % (
        len(RUN.problems), " | ".join(RUN.problems[:MAX_PROBLEMS]), where(RUN.done)))


def clean_links_deliver_everything():
    need_run()
    first = RUN.done["first_conn"]
    want = {"%d.%d" % (first + k, n) for k, count in enumerate(RUN.done["v_per_conn"]) for n in range(count)}
    got = RUN.delivered.get("V", set())
    missing = sorted(want - got, key=lambda s: tuple(int(x) for x in s.split(".")))
    extra = sorted(got - want)
    check(not missing, "%d valid reports sent on clean links were not delivered, first: %s (seed %d)"
          % (len(missing), ", ".join("V" + m for m in missing[:10]), SEED))
    check(not extra, "reports V%s were delivered but not counted as sent" % ", V".join(extra[:10]))
    check(not RUN.done["v_unwritten"], "valid reports left unwritten: %s" % harness.brief(RUN.done["v_unwritten"]))


def link_failed_when_rfc_says():
    need_run()
    d = RUN.done
    kept = [f for f in d["findings"] if f["kind"].startswith("the client kept")]
    check(d["must_fail_kept"] == 0, "%d times the client kept a link RFC 6455 makes it fail, e.g. %s (seed %d)"
          % (d["must_fail_kept"], harness.brief(kept[:3], 400), SEED))


def valid_links_kept():
    need_run()
    d = RUN.done
    bad = [f for f in d["findings"] if "only valid frames" in f["kind"] or "pong" in f["kind"]]
    check(d["unexpected_closes"] == 0 and d["bad_pongs"] == 0,
          "%d links with only valid frames failed by the client, %d pongs with a wrong payload, e.g. %s (seed %d)"
          % (d["unexpected_closes"], d["bad_pongs"], harness.brief(bad[:3], 400), SEED))


harness.test("the client survives %d fuzzed frames (seed %d) and exits 0 on SIGTERM" % (FRAMES, SEED), fuzz_run)
harness.test("no sanitizer report from the client", no_sanitizer_report)
harness.test("every delivered report is intact, delivered once, and was sent valid",
             delivered_reports_were_sent_valid)
harness.test("every valid report sent before anything invalid is delivered", clean_links_deliver_everything)
harness.test("the client fails the link after every frame RFC 6455 forbids", link_failed_when_rfc_says)
harness.test("the client keeps links that carry only valid frames, and its pongs echo our pings",
             valid_links_kept)

if __name__ == "__main__":
    sys.exit(harness.run_all(sys.argv[1:]))
