"""The long runs behind `make soak` (not part of `make check`).

1. The server is down for minutes (SOAK_DOWN_S, default 180 s) and comes back:
   with the real schedule (base 1 s, cap 60 s) every measured retry delay is
   within [0, min(60 s, 2^(n-1) s)], the attempts stay few (no busy loop), and
   after the server is back the client connects within one capped delay and a
   report arrives.
2. Many reconnect cycles (SOAK_CYCLES, default 200) against the Node server:
   the link dropped without a close frame, closed with 1001 or 1011, or the
   server killed and restarted; after each, the client reconnects and the next
   report (numbered) arrives intact. The client's resident memory after the
   first 20 cycles and at the end is printed and must not grow by more than
   SOAK_RSS_GROWTH_KB (default 4096).

Usage: /usr/bin/python3 tests/integration/soak.py [WORD...]
Environment: SOAK_DOWN_S, SOAK_CYCLES, SOAK_RSS_GROWTH_KB, REPORTLINK_LISTEN_BIN.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_listen as tl  # noqa: E402
from harness import check  # noqa: E402

DOWN_S = float(os.environ.get("SOAK_DOWN_S", "180"))
CYCLES = int(os.environ.get("SOAK_CYCLES", "200"))
RSS_GROWTH_KB = int(os.environ.get("SOAK_RSS_GROWTH_KB", "4096"))
# Short schedule for the cycles, so 200 of them take minutes, not hours.
CYCLE_BACKOFF = (0.05, 0.5)

harness.TEST_TIMEOUT_S = int(DOWN_S + 600 + CYCLES * 3)


def fatal(e):
    return e["event"] == "state" and e["state"] in ("auth_failed", "replaced", "stopped")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def down_for_minutes(srv):
    listen = tl.connected_listen(srv)
    port = srv.port
    srv.kill()
    harness.note("server down for %.0f s" % DOWN_S)
    time.sleep(DOWN_S)
    delays = tl.retry_delays(listen)
    harness.note("retry delays (attempt, announced, measured ms): %s" % delays)
    tl.check_full_jitter(delays, 1000, 60000)
    # Expected waits: 0.5, 1, 2, 4, 8, 16, then 30 s each; 6 + DOWN_S/15 is
    # far above what full jitter makes likely, and far below a busy loop.
    limit = 6 + DOWN_S / 15
    check(len(delays) <= limit, "%d attempts in %.0f s (at most %.0f expected)" % (len(delays), DOWN_S, limit))
    check(max(a for a, _, _ in delays) >= 7 or DOWN_S < 120, "the schedule never reached its cap")
    back = time.monotonic()
    srv.start(port)
    listen.state("connected", 60 + tl.RECONNECT_S, fail_on=fatal)
    harness.note("connected %.1f s after the server came back" % (time.monotonic() - back))
    msg = tl.rich_report()
    srv.deliver(tl.KEYS[0], tl.encode(msg))
    listen.report(msg, "the report once the server is back")


def reconnect_cycles(srv):
    listen = tl.connected_listen(srv, backoff=CYCLE_BACKOFF)
    rss_after_warmup = None
    started = time.monotonic()
    for n in range(1, CYCLES + 1):
        how = ("drop", "close 1001", "close 1011", "restart")[n % 4] if n % 25 else "restart"
        if how == "drop":
            status, _ = srv.control("/control/drop", tl.KEYS[0])
            check(status == 200, "cycle %d: drop answered %d" % (n, status))
        elif how == "restart":
            port = srv.port
            srv.kill()
            listen.state("backoff", tl.EVENT_S, fail_on=fatal)
            srv.start(port)
        else:
            status, _ = srv.close(tl.KEYS[0], int(how.split()[1]))
            check(status == 200, "cycle %d: %s answered %d" % (n, how, status))
        if how != "restart":
            listen.state("backoff", tl.EVENT_S, fail_on=fatal)
        listen.state("connected", tl.RECONNECT_S, fail_on=fatal)
        msg = tl.report(url="https://storage.invalid/soak/%d.docx" % n)
        srv.deliver(tl.KEYS[0], tl.encode(msg))
        listen.report(msg, "the report of cycle %d (after %s)" % (n, how))
        if n == 20:
            rss_after_warmup = rss_kb(listen.proc.pid)
    rss_end = rss_kb(listen.proc.pid)
    harness.note("%d reconnect cycles in %.0f s; listen RSS %d kB after 20 cycles, %d kB at the end"
                 % (CYCLES, time.monotonic() - started, rss_after_warmup or -1, rss_end))
    if rss_after_warmup:
        check(rss_end - rss_after_warmup <= RSS_GROWTH_KB, "listen's memory grew by %d kB over %d cycles"
              % (rss_end - rss_after_warmup, CYCLES - 20))


def register():
    harness.test("server down %.0f s then back: full-jitter delays within the 60 s cap, no busy loop, "
                 "then connected and a report arrives [ws-server]" % DOWN_S,
                 tl.scenario(tl.NodeServer, down_for_minutes))
    harness.test("%d reconnect cycles (drop, 1001, 1011, restart): each reconnects and its report "
                 "arrives; memory stays flat [ws-server]" % CYCLES,
                 tl.scenario(tl.NodeServer, reconnect_cycles))


if __name__ == "__main__":
    register()
    sys.exit(harness.run_all())
