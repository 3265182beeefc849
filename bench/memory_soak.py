#!/usr/bin/python3
"""memory_soak.py - `make soak-memory` (issue #6): the extension's memory stays
flat over 1,000 placed reports and 200 reconnections.

A headless LibreOffice with build/reportlink.oxt, the sample letter open,
connected to a reportlink-devserver. Phases, with soffice.bin's memory sampled
from /proc/PID/smaps_rollup (RSS, PSS, Private_Dirty) and the [heap] mapping:

  A  --reports typical reports pushed one at a time, each waited for until it
     is placed (Writer keeps one undo step per placement, up to its limit);
  B  --reconnects reconnections: the devserver closes the connection (1001)
     or drops it without a close frame, alternately; as soon as the extension
     has left `connected`, connect() is called so that the backoff (which
     grows until a session lasted 30 s) does not make the phase last hours;
  C  --reports more reports with the document's undo stack cleared every
     UNDO_CLEAR_EVERY placements: what is left is ours plus what Writer keeps
     per edit besides undo;
  D  the same number of the same texts written into the same bookmarks by
     python-uno (setString on the bookmarks' anchors, undo cleared the same
     way), without the extension involved: Writer's own cost of such edits.

Prints a table and the slopes (least squares, KiB per report / reconnect,
over the second half of each phase: the first half includes first-use costs),
and writes every sample to build/memory_soak.json.
  /usr/bin/python3 bench/memory_soak.py [--reports N] [--reconnects N]
"""

import argparse
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lo"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import bench  # noqa: E402  (imports office first: python-uno's types)
import office  # noqa: E402
import harness  # noqa: E402
from lofix import Listener, wait_state  # noqa: E402

UNDO_CLEAR_EVERY = 10
SETTLE_S = 3
PLACE_TIMEOUT_S = 60
RECONNECT_TIMEOUT_S = 90


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def sample(pid, label, count):
    """One memory sample: smaps_rollup (KiB) and the [heap] mapping's RSS."""
    out = {"label": label, "count": count, "t": round(time.monotonic(), 1)}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("Rss", "Pss", "Private_Dirty", "Anonymous"):
                out[k.lower() + "_kib"] = int(rest.split()[0])
    heap, in_heap = 0, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                in_heap = line.rstrip().endswith("[heap]")
            elif in_heap and first == "Rss:":
                heap += int(line.split()[1])
    out["heap_kib"] = heap
    return out


def settle_sample(pid, label, count):
    time.sleep(SETTLE_S)
    s = sample(pid, label, count)
    log("%-28s RSS %7d KiB  Private_Dirty %7d KiB  heap %7d KiB"
        % (label, s["rss_kib"], s["private_dirty_kib"], s["heap_kib"]))
    return s


def slope(points):
    """Least-squares slope of [(x, y)]."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else None


def second_half_slope(samples, key="rss_kib"):
    if not samples:
        return None
    last = samples[-1]["count"]
    pts = [(s["count"], s[key]) for s in samples if s["count"] >= last / 2]
    return slope(pts)


def push_and_place(srv, key, lis, i):
    n = len(lis.reports)
    srv.push(key, bench.typical_fields(i))
    lis.wait(lambda l: len(l.reports) > n, PLACE_TIMEOUT_S, "report %d" % i)
    with lis.cond:
        _, placed, _ = lis.reports[n]
    if not placed:
        raise RuntimeError("report %d was not placed" % i)


def reports_phase(o, pid, srv, key, rl, lis, doc, n, label, clear_undo, step):
    samples = [settle_sample(pid, "%s 0" % label, 0)]
    undo = doc.UndoManager
    for i in range(1, n + 1):
        push_and_place(srv, key, lis, i)
        if clear_undo and i % UNDO_CLEAR_EVERY == 0:
            undo.clear()
        if i % step == 0:
            samples.append(settle_sample(pid, "%s %d" % (label, i), i))
    bench.check_letter(doc, bench.typical_fields(n), label)
    if rl.getStatus().WaitingCount:
        raise RuntimeError("%d reports are waiting" % rl.getStatus().WaitingCount)
    return samples


def uno_phase(pid, doc, n, step):
    """The same edits through python-uno: each field's bookmark replaced with
    the text (setString on a cursor over the anchor, then the bookmark
    re-inserted over it, as the extension does), one undo context each."""
    samples = [settle_sample(pid, "python-uno 0", 0)]
    undo = doc.UndoManager
    text = doc.Text
    for i in range(1, n + 1):
        f = bench.typical_fields(i)
        undo.enterUndoContext("python-uno")
        for name in bench_fields():
            bm = doc.Bookmarks.getByName(name)
            cur = text.createTextCursorByRange(bm.Anchor)
            text.removeTextContent(bm)
            cur.setString(f[name])
            nb = doc.createInstance("com.sun.star.text.Bookmark")
            nb.Name = name
            text.insertTextContent(cur, nb, True)
        undo.leaveUndoContext()
        if i % UNDO_CLEAR_EVERY == 0:
            undo.clear()
        if i % step == 0:
            samples.append(settle_sample(pid, "python-uno %d" % i, i))
    return samples


def bench_fields():
    return ("history", "findings", "diagnosis", "procedure", "recommendation")


def reconnect_phase(pid, srv, key, rl, n, step):
    samples = [settle_sample(pid, "reconnects 0", 0)]
    lis = Listener()
    rl.addListener(lis)
    for i in range(1, n + 1):
        before = len(lis.states)
        if i % 2:
            status, data = harness.http("POST", "http://127.0.0.1:%d/admin/close?code=1001" % srv.port,
                                        b"", {"X-Doctor-Key": key})
        else:
            status, data = harness.http("POST", "http://127.0.0.1:%d/admin/drop" % srv.port, b"",
                                        {"X-Doctor-Key": key})
        if status != 200:
            raise RuntimeError("admin answered %d %r" % (status, data[:200]))
        # Left; then connect() at once instead of waiting out the backoff,
        # which grows with each retry until a session lasted 30 s.
        lis.wait(lambda l: any(s[0] != "connected" for s in l.states[before:]), RECONNECT_TIMEOUT_S,
                 "the connection %d to end" % i)
        rl.connect()
        lis.wait(lambda l: l.states[-1][0] == "connected", RECONNECT_TIMEOUT_S, "reconnection %d" % i)
        if i % step == 0:
            samples.append(settle_sample(pid, "reconnects %d" % i, i))
    rl.removeListener(lis)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--reconnects", type=int, default=200)
    ap.add_argument("--skip-uno", action="store_true", help="skip phase D")
    args = ap.parse_args()
    # SIGTERM/SIGINT end the run through the finally below, which stops the office.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    key = "soak-" + os.urandom(8).hex()
    harness.secret(key)
    srv = bench.Server([key])
    o = office.Office("memory soak")
    res = {"reports": args.reports, "reconnects": args.reconnects, "undo_clear_every": UNDO_CLEAR_EVERY}
    started = time.monotonic()
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start()
        doc = bench.open_letter(o, "soak")
        rl = o.report_link()
        o.set_setting("Endpoint", srv.url)
        rl.setDoctorKey(key)
        rl.connect()
        wait_state(rl, "connected")
        lis = Listener()
        rl.addListener(lis)
        pid = o.soffice_bin_pid()
        res["start"] = settle_sample(pid, "connected, letter open", 0)
        step = max(1, args.reports // 4)
        res["A"] = reports_phase(o, pid, srv, key, rl, lis, doc, args.reports, "reports", False, step)
        res["B"] = reconnect_phase(pid, srv, key, rl, args.reconnects, max(1, args.reconnects // 4))
        wait_state(rl, "connected")
        res["C"] = reports_phase(o, pid, srv, key, rl, lis, doc, args.reports, "reports, undo cleared", True,
                                 step)
        if not args.skip_uno:
            res["D"] = uno_phase(pid, doc, args.reports, step)
        res["seconds"] = round(time.monotonic() - started, 1)
        res["undo_steps_limit"] = o.config("/org.openoffice.Office.Common/Undo").getByName("Steps")
        doc.close(True)
        o.stop()
    finally:
        o.close()
        srv.proc.stop()

    def kib(v):
        return "%+.2f" % v if v is not None else "-"

    print("| phase | RSS at 0 (KiB) | at 1/4 | 1/2 | 3/4 | end | RSS slope, 2nd half (KiB/op) "
          "| Private_Dirty slope | heap slope |")
    print("|---|---|---|---|---|---|---|---|---|")
    names = {"A": "A reports (undo kept)", "B": "B reconnects", "C": "C reports, undo cleared",
             "D": "D python-uno edits, undo cleared"}
    for ph in ("A", "B", "C", "D"):
        s = res.get(ph)
        if not s:
            continue
        cells = [str(x["rss_kib"]) for x in s] + [""] * (5 - len(s))
        print("| %s | %s | %s | %s | %s |" % (names[ph], " | ".join(cells[:5]), kib(second_half_slope(s)),
                                               kib(second_half_slope(s, "private_dirty_kib")),
                                               kib(second_half_slope(s, "heap_kib"))))
    total = res["C"][-1]["rss_kib"] - res["start"]["rss_kib"]
    print("RSS from connected (%d KiB) to the end of C: %+d KiB over %d reports and %d reconnects; "
          "Writer's undo limit %s steps; %.0f s"
          % (res["start"]["rss_kib"], total, 2 * args.reports, args.reconnects, res["undo_steps_limit"],
             res["seconds"]))
    out = os.path.join(office.BUILD, "memory_soak.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print("samples: %s" % out)


if __name__ == "__main__":
    main()
