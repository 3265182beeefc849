#!/usr/bin/python3
"""bench.py - `make bench` (issue #7): how fast and how light ReportLink is,
against the obvious alternative, measured side by side in one run.

  ours:   build/reportlink.oxt in a headless LibreOffice (tests/lo/office.py)
  theirs: bench/alt_macro.py, a Python macro (python3-websocket + Python-UNO)
          running inside a LibreOffice without the extension

Both receive the same reports from one reportlink-devserver and fill the same
bookmarks of the sample letter (extension/templates/lettre-patient.odt).
Rows: 1 end to end (devserver's last frame written -> placed, one
CLOCK_MONOTONIC), 2 main-thread time per report, 3 rl_validate_message
throughput (build/validate-bench), 4 idle cost of the network thread, 5 memory
(PSS of soffice.bin with minus without), and (issue #17) 6 formatted
reports (Source = html) against the macro's HTML import, 7 a burst of 100
reports in a second, 8 the office's start-up with the letter on its command
line, with and without the extension, and the connection after it. Prints
one table; writes build/bench.json (README.md, "Benchmark"). Run through
`make bench` / `make bench-lo-25.2`, or:
  /usr/bin/python3 bench/bench.py [--reports N] [--idle-seconds S] [--skip-alt] [--skip-startup]
"""

import argparse
import json
import math
import os
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lo"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import office  # noqa: E402  (sets up python-uno's types before uno is imported)
import harness  # noqa: E402
from lofix import Listener, devserver, wait_state  # noqa: E402

import uno  # noqa: E402

TEMPLATE = os.path.join(ROOT, "extension", "templates", "lettre-patient.odt")
BUILD = os.path.join(ROOT, "build")
PLACE_TIMEOUT_S = 60
SETTLE_S = 5            # after start / connect, before a memory or idle measurement
WARMUP = 5              # reports placed before the timed ones (first-use costs)


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def mono_us():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)


def pct(values, q):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))]


def summary_ms(values_us):
    v = [x / 1000.0 for x in values_us]
    return {"n": len(v), "median_ms": round(pct(v, 0.5), 3), "p95_ms": round(pct(v, 0.95), 3),
            "p99_ms": round(pct(v, 0.99), 3), "max_ms": round(max(v), 3)}


# ------------------------------------------------------------------ reports

_TEXT = {
    "history": "La patiente, 42 ans, consulte pour des céphalées évoluant depuis trois semaines, "
               "à prédominance matinale, sans fièvre ni traumatisme. ",
    "findings": "Pouls 100/min, tension artérielle 140/80 mmHg, examen neurologique normal, "
                "fond d'œil sans anomalie, pas de raideur méningée. ",
    "diagnosis": "Céphalées de tension probables ; pas d'argument pour une cause secondaire. ",
    "procedure": "Examen clinique et neurologique complet, mesure tensionnelle répétée. ",
    "recommendation": "Repos, hydratation, antalgiques simples à la demande ; revoir si "
                      "aggravation ou signes neurologiques. ",
}


def typical_fields(i):
    """Five fields, about 2 KB of json_report (UTF-8), one line break."""
    f = {}
    for k, t in _TEXT.items():
        s = t * max(1, 450 // len(t.encode()))
        f[k] = s.strip() + " (#%d)" % i
    f["findings"] = f["findings"].replace(". ", ".\n", 1)
    return f


def big_message(i, mib):
    """A full report_ready with an html_content of `mib` MiB and the typical
    json_report (the letter gets the same five fields)."""
    para = "<p>Examen clinique : pouls régulier, auscultation cardio-pulmonaire normale.</p>\n"
    n = (mib * 1024 * 1024) // len(para.encode())
    html = "<!DOCTYPE html><html><body>" + para * n + "</body></html>"
    fields = typical_fields(i)
    return json.dumps({"type": "report_ready", "url": "https://example.invalid/files/big.docx",
                       "html_content": html,
                       "plaintext_report": "\n\n".join(fields.values()),
                       "json_report": fields}, ensure_ascii=False).encode("utf-8")


_HEADINGS = {"history": "Anamnèse", "findings": "Examen clinique", "diagnosis": "Diagnostic",
             "procedure": "Procédure", "recommendation": "Recommandations"}   # ReportLink.xcu's


def _esc(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def formatted_html(fields, rows=0):
    """html_content with one <h2> section per field, as the devserver writes
    it, but formatted: a bold lead, a list, and in findings a table of lab
    values (rows of them: 0 gives a typical report of about 4 KB; 1,500 about
    200 KB with the lists)."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"]
    for k, v in fields.items():
        first, _, rest = v.partition(". ")
        parts.append("<h2>%s</h2><p><b>%s.</b> %s</p>" % (_HEADINGS[k], _esc(first), _esc(rest)))
        parts.append("<ul><li>%s</li><li><i>%s</i></li></ul>" % (_esc(first[:60]), _esc(rest[:80])))
        if k == "findings":
            n = max(3, rows)
            parts.append("<table border='1'><tr><th>Analyse</th><th>Résultat</th><th>Normes</th></tr>")
            for i in range(n):
                parts.append("<tr><td>Analyte %d</td><td><b>%d,%d</b> mmol/L</td><td>3,5 – 5,1</td></tr>"
                             % (i, 3 + i % 3, i % 10))
            parts.append("</table>")
            if rows:
                parts.append("<ol>" + "".join("<li>Remarque %d : valeur contrôlée, sans particularité.</li>" % i
                                              for i in range(rows // 2)) + "</ol>")
    parts.append("</body></html>")
    return "".join(parts)


def formatted_message(i, rows=0):
    fields = typical_fields(i)
    return json.dumps({"type": "report_ready", "url": "https://example.invalid/files/f.docx",
                       "html_content": formatted_html(fields, rows),
                       "plaintext_report": "\n\n".join(fields.values()),
                       "json_report": fields}, ensure_ascii=False).encode("utf-8")


class Server:
    def __init__(self, keys):
        self.proc, self.url = devserver(*keys, whole_run=True)
        self.port = int(self.url.split(":")[2].split("/")[0])

    def push(self, key, body):
        """Pushes body (bytes, or a dict taken as json_report); returns the push number."""
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        status, data = harness.http("POST", "http://127.0.0.1:%d/reports/push" % self.port, body,
                                    {"X-Doctor-Key": key}, timeout=60)
        if status != 200:
            raise RuntimeError("push answered %d %r" % (status, data[:200]))
        return json.loads(data)["seq"]

    def sent_us(self, seq, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            status, data = harness.http("GET", "http://127.0.0.1:%d/admin/sent?seq=%d" % (self.port, seq))
            if status == 200:
                return json.loads(data)["sent_mono_us"]
            if time.monotonic() > deadline:
                raise RuntimeError("push %d never sent" % seq)
            time.sleep(0.01)


# ------------------------------------------------------------------ processes

def soffice_pid(o):
    for pid in o.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "soffice.bin":
                    return pid
        except OSError:
            pass
    raise RuntimeError("no soffice.bin for %s" % o.name)


def memory(pid, samples=3):
    """PSS and RSS (KiB) from smaps_rollup: the median of a few samples, 1 s apart."""
    got = []
    for i in range(samples):
        if i:
            time.sleep(1)
        out = {}
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, rest = line.partition(":")
                if k in ("Pss", "Rss"):
                    out[k.lower() + "_kib"] = int(rest.split()[0])
        got.append(out)
    return {k: sorted(g[k] for g in got)[len(got) // 2] for k in got[0]}


def mappings(pid):
    """RSS (KiB) per mapped file, anonymous memory as "[anon]", from smaps."""
    out = {}
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split(None, 5)
                name = parts[5].strip() if len(parts) > 5 and parts[5].strip() else "[anon]"
                if name.startswith("/memfd:") or name.startswith("[stack"):
                    name = "[anon]"
            elif first == "Rss:":
                out[name] = out.get(name, 0) + int(line.split()[1])
    return out


def mapping_diff(a, b, top=12):
    """The mappings that grew most from a to b: [(name, KiB)]."""
    d = {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)}
    return sorted(((k, v) for k, v in d.items() if v), key=lambda kv: -kv[1])[:top]


def thread_counters(pid, tid):
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        st = dict(line.split(":", 1) for line in f if ":" in line)
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        cpu_ns, wait_ns, slices = (int(x) for x in f.read().split())
    return {"vol": int(st["voluntary_ctxt_switches"]), "invol": int(st["nonvoluntary_ctxt_switches"]),
            "cpu_ns": cpu_ns, "slices": slices}


def process_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def _socket_fds(pid, peer_port):
    """fds of pid that are TCP connections to 127.0.0.1:peer_port."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[2].rsplit(":", 1)[1], 16) == peer_port:
                        inodes.add(cols[9])
        except OSError:
            pass
    fds = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            fds.add(int(fd))
    return fds


def network_thread(pid, peer_port, timeout=10):
    """The thread of pid that sleeps in poll()/ppoll() on its connection to
    the devserver (read from /proc/PID/task/TID/syscall and the pollfd array
    in /proc/PID/mem): ReportLink's libwebsockets service thread."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fds = _socket_fds(pid, peer_port)
        for tid in map(int, os.listdir("/proc/%d/task" % pid)):
            try:
                with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
                    sc = f.read().split()
                if not sc or sc[0] not in ("7", "271"):     # poll, ppoll (x86-64)
                    continue
                ptr, nfds = int(sc[1], 16), int(sc[2], 16)
                if not 0 < nfds < 4096:
                    continue
                with open("/proc/%d/mem" % pid, "rb") as mem:
                    mem.seek(ptr)
                    raw = mem.read(8 * nfds)
                polled = {struct.unpack_from("i", raw, 8 * i)[0] for i in range(nfds)}
                if polled & fds:
                    return tid
            except (OSError, ValueError):
                continue
        time.sleep(0.2)
    return None


class BlockSampler:
    """The longest stretches during which a thread never went to sleep, seen
    from outside: its voluntary context switches (/proc/PID/task/TID/status),
    read about every millisecond from a thread of the bench. A stretch ends
    when the count moves (the thread slept, e.g. back in the event loop's
    poll); its length is the time between the first and the last sample that
    saw the thread awake and on the CPU (schedstat's run time growing). The
    placement's own clock (PlaceCostUs) is the other measure."""

    def __init__(self, pid, tid):
        import threading
        self.pid, self.tid = pid, tid
        self.blocks_us = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _read(self):
        with open("/proc/%d/task/%d/status" % (self.pid, self.tid)) as f:
            vol = int(f.read().split("voluntary_ctxt_switches:")[1].split()[0])
        with open("/proc/%d/task/%d/schedstat" % (self.pid, self.tid)) as f:
            cpu = int(f.read().split()[0])
        return vol, cpu

    def run(self):
        vol, cpu = self._read()
        start = None
        while not self.stop.is_set():
            time.sleep(0.0005)
            t = mono_us()
            v, c = self._read()
            if v == vol and c > cpu:        # awake and running since the last sample
                if start is None:
                    start = t
                last = t
            else:
                if start is not None and last > start:
                    self.blocks_us.append(last - start)
                start = None
            vol, cpu = v, c

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def idle_window(pid, tid, seconds):
    """Wake-ups (voluntary context switches) and CPU of thread tid, and the
    whole process's CPU, over `seconds` with no report."""
    t0 = time.monotonic()
    a, pa = thread_counters(pid, tid), process_cpu_ticks(pid)
    time.sleep(seconds)
    b, pb = thread_counters(pid, tid), process_cpu_ticks(pid)
    dt = time.monotonic() - t0
    wake = b["vol"] - a["vol"]
    return {"window_s": round(dt, 1), "tid": tid, "wakeups": wake,
            "wakeups_per_min": round(wake * 60.0 / dt, 2),
            "involuntary": b["invol"] - a["invol"],
            "thread_cpu_ms": round((b["cpu_ns"] - a["cpu_ns"]) / 1e6, 3),
            "process_cpu_ms": round((pb - pa) * 1000.0 / os.sysconf("SC_CLK_TCK"), 1)}


# ------------------------------------------------------------------ documents

_docs_dir = tempfile.mkdtemp(prefix="reportlink-bench-docs-")
os.chmod(_docs_dir, 0o755)
if os.geteuid() == 0:
    os.chown(_docs_dir, office.NOBODY, office.NOBODY)


def open_letter(o, name):
    path = os.path.join(_docs_dir, "%s-%s.odt" % (name, secrets.token_hex(4)))
    shutil.copy(TEMPLATE, path)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, office.NOBODY, office.NOBODY)
    desktop = o.service("com.sun.star.frame.Desktop")
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, ())
    if doc is None:
        raise RuntimeError("the letter did not open")
    return doc


def check_letter(doc, fields, who):
    got = doc.Bookmarks.getByName("diagnosis").Anchor.String
    if got != fields["diagnosis"]:
        raise RuntimeError("%s: the letter's diagnosis is %r, not the last report's" % (who, got[:80]))


# ------------------------------------------------------------------ ours

def run_ours(srv, key, args):
    res = {}
    o = office.Office("bench ours")
    try:
        o.install()
        o.set_before_start("/org.reportlink.Settings/Connection", "AutoConnect", "false")
        o.start()
        doc = open_letter(o, "ours")
        rl = o.report_link()
        o.set_setting("Endpoint", srv.url)
        rl.setDoctorKey(key)
        rl.connect()
        wait_state(rl, "connected")
        time.sleep(SETTLE_S)
        pid = soffice_pid(o)
        res["memory_connected"] = memory(pid)
        res["mappings_connected"] = mappings(pid)
        log("ours: connected, RSS %d KiB" % res["memory_connected"]["rss_kib"])
        tid = network_thread(pid, srv.port)
        if tid is None:
            log("ours: network thread not found")
        else:
            log("ours: soffice.bin %d, network thread %d, idle window %d s" % (pid, tid, args.idle_seconds))
            res["idle"] = idle_window(pid, tid, args.idle_seconds)

        lis = Listener()
        rl.addListener(lis)
        pushes = []   # (seq, listener index, fields)

        main_cpu = {}   # inbox id -> main-thread CPU (us) from push to notification

        def one(body, fields):
            n = len(lis.reports)
            c0 = thread_counters(pid, pid)["cpu_ns"]
            seq = srv.push(key, body)
            lis.wait(lambda l: len(l.reports) > n, PLACE_TIMEOUT_S, "report")
            inbox_id, placed, where = lis.reports[n]
            main_cpu[inbox_id] = (thread_counters(pid, pid)["cpu_ns"] - c0) // 1000
            if not placed:
                raise RuntimeError("ours: report not placed (inbox %d)" % inbox_id)
            return seq, inbox_id

        for i in range(WARMUP):
            one(typical_fields(-i), None)
        typical = []
        for i in range(args.reports):
            f = typical_fields(i)
            typical.append(one(f, f))
        check_letter(doc, typical_fields(args.reports - 1), "ours")
        big = one(big_message(10 ** 6, args.big_mib), None)
        check_letter(doc, typical_fields(10 ** 6), "ours")
        time.sleep(1)
        res["memory_after_reports"] = memory(pid)
        inbox = {e.Id: e for e in rl.getInbox()}

        def rows(pairs):
            out = []
            for seq, inbox_id in pairs:
                e = inbox[inbox_id]
                out.append({"sent": srv.sent_us(seq), "recv": e.ReceivedMonoUs,
                            "placed": e.PlacedMonoUs, "cost": e.PlaceCostUs, "cpu": main_cpu[inbox_id]})
            return out

        t = rows(typical)
        b = rows([big])[0]
        res["typical"] = {"e2e": summary_ms([r["placed"] - r["sent"] for r in t]),
                          "sent_to_received": summary_ms([r["recv"] - r["sent"] for r in t]),
                          "received_to_placed": summary_ms([r["placed"] - r["recv"] for r in t]),
                          "main_thread": summary_ms([r["cost"] for r in t]),
                          "main_thread_cpu_push_to_notified": summary_ms([r["cpu"] for r in t]),
                          "samples_us": [[r["placed"] - r["sent"], r["cost"], r["cpu"]] for r in t]}
        res["big"] = {"e2e_ms": (b["placed"] - b["sent"]) / 1000.0,
                      "sent_to_received_ms": (b["recv"] - b["sent"]) / 1000.0,
                      "main_thread_ms": b["cost"] / 1000.0}
        rl.removeListener(lis)

        res["burst"] = ours_burst(srv, key, rl, pid, args)
        doc.close(True)

        # Formatted reports: every field from its HTML section. Fields are
        # read when ReportLink starts, so the office starts again.
        for k in _HEADINGS:
            o.set_setting("Source", "html", group="/org.reportlink.Settings/Fields/" + k)
        o.stop()
        o.start()
        doc = open_letter(o, "ours-formatted")
        rl = o.report_link()
        rl.connect()
        wait_state(rl, "connected")
        pid = soffice_pid(o)
        lis = Listener()
        rl.addListener(lis)
        main_cpu.clear()
        for i in range(WARMUP):
            one(formatted_message(-i), None)
        pairs = []
        with BlockSampler(pid, pid) as sampler:
            for i in range(args.formatted_reports):
                pairs.append(one(formatted_message(i), None))
        check_letter_contains(doc, "(#%d)" % (args.formatted_reports - 1), "ours, formatted")
        bigf = one(formatted_message(10 ** 6, rows=args.big_html_rows), None)
        check_letter_contains(doc, "Analyte %d" % (args.big_html_rows - 1), "ours, 200 KB HTML")
        inbox = {e.Id: e for e in rl.getInbox()}
        t = rows(pairs)
        bf = rows([bigf])[0]
        res["formatted"] = {"e2e": summary_ms([r["placed"] - r["sent"] for r in t]),
                            "main_thread": summary_ms([r["cost"] for r in t]),
                            "longest_block_sampled": summary_ms(sampler.blocks_us or [0]),
                            "samples_us": [[r["placed"] - r["sent"], r["cost"], r["cpu"]] for r in t],
                            "html_bytes": len(formatted_html(typical_fields(0)).encode())}
        res["formatted_big"] = {"e2e_ms": (bf["placed"] - bf["sent"]) / 1000.0,
                                "main_thread_ms": bf["cost"] / 1000.0,
                                "html_bytes": len(formatted_html(typical_fields(0), args.big_html_rows).encode())}
        rl.removeListener(lis)
        doc.close(True)
        o.stop()
    finally:
        o.close()
    return res


def check_letter_contains(doc, needle, who):
    text = doc.Text.String
    if needle not in text:
        raise RuntimeError("%s: the letter lacks %r" % (who, needle))


def placement_chains(spans, gap_us=1000):
    """Lengths (us) of runs of placements [(start, end)] that followed each
    other within gap_us: the main thread went from one to the next without
    returning to the office's event loop for long."""
    out = []
    first = last = None
    for start, end in sorted(spans):
        if last is not None and start - last < gap_us:
            last = max(last, end)
        else:
            if first is not None:
                out.append(last - first)
            first, last = start, end
    if first is not None:
        out.append(last - first)
    return out


def push_burst(srv, key, n, seconds, make):
    """Pushes n reports evenly over `seconds`; returns their push numbers."""
    seqs = []
    t0 = time.monotonic()
    for i in range(n):
        delay = t0 + i * seconds / n - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        seqs.append(srv.push(key, make(i)))
    return seqs, time.monotonic() - t0


def ours_burst(srv, key, rl, pid, args):
    """args.burst typical reports within one second into the open letter:
    every one must end up placed or waiting in the inbox."""
    before = {e.Id for e in rl.getInbox()}
    received0 = rl.getStatus().ReportsReceived
    c0 = thread_counters(pid, pid)["cpu_ns"]
    with BlockSampler(pid, pid) as sampler:
        seqs, push_s = push_burst(srv, key, args.burst, 1.0, lambda i: typical_fields(5000 + i))
        deadline = time.monotonic() + PLACE_TIMEOUT_S
        all_in = None
        while True:
            new = [e for e in rl.getInbox() if e.Id not in before]
            n_placed = sum(1 for e in new if e.Status == "placed")
            if len(new) >= args.burst and all_in is None:
                all_in = time.monotonic()
            # Done when all are placed, or all are in and the rest stays waiting for 2 s.
            if n_placed >= args.burst or (all_in and time.monotonic() - all_in > 2) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        time.sleep(0.2)
    cpu_ms = (thread_counters(pid, pid)["cpu_ns"] - c0) / 1e6
    st = rl.getStatus()
    placed = [e for e in new if e.Status == "placed"]
    costs = [e.PlaceCostUs for e in placed]
    chained = placement_chains([(e.PlacedMonoUs - e.PlaceCostUs, e.PlacedMonoUs) for e in placed])
    first_sent = srv.sent_us(seqs[0])
    last_placed = max(e.PlacedMonoUs for e in placed) if placed else 0
    out = {"pushed": args.burst, "push_seconds": round(push_s, 3),
           "received": st.ReportsReceived - received0, "in_inbox": len(new),
           "placed": len(placed), "waiting": sum(1 for e in new if e.Status == "waiting"),
           "lost": args.burst - len(new),
           "main_thread_total_ms": round(sum(costs) / 1000.0, 3),
           "main_thread_cpu_ms": round(cpu_ms, 3),
           "max_placement_ms": round(max(costs) / 1000.0, 3) if costs else None,
           # The longer of the two views of the main thread's longest block:
           # sampled from /proc, and placements that followed each other
           # within 1 ms (one drain of the hand-over, as far as one can tell).
           "max_block_ms": round(max(sampler.blocks_us + chained + [0]) / 1000.0, 3),
           "max_block_sampled_ms": round(max(sampler.blocks_us or [0]) / 1000.0, 3),
           "max_block_chained_ms": round(max(chained or [0]) / 1000.0, 3),
           "blocks_over_50ms": sum(1 for b in sampler.blocks_us + chained if b > 50000),
           "first_sent_to_last_placed_ms": round((last_placed - first_sent) / 1000.0, 1) if placed else None,
           "placement_samples_us": costs, "blocks_sampled_us": sorted(sampler.blocks_us)[-20:]}
    log("ours: burst of %d: %d in the inbox (%d placed), main thread %.0f ms, longest block %.1f ms"
        % (args.burst, len(new), len(placed), out["main_thread_total_ms"], out["max_block_ms"]))
    if out["lost"]:
        raise RuntimeError("ours: %d reports of the burst are missing from the inbox" % out["lost"])
    return out


# ------------------------------------------------------------------ theirs

class AltLog:
    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.events = []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        cut = data.rfind(b"\n") + 1
        self.pos += cut
        for line in data[:cut].splitlines():
            self.events.append(json.loads(line))

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            for i, e in enumerate(self.events):
                if pred(e):
                    return self.events.pop(i)
            errs = [e for e in self.events if e.get("event") in ("error", "waiting")]
            if errs:
                raise RuntimeError("alternative: %s" % errs[0])
            if time.monotonic() > deadline:
                raise RuntimeError("alternative: no %s within %d s" % (what, timeout))
            time.sleep(0.002)


def run_theirs(srv, key, args):
    res = {}
    o = office.Office("bench alternative")
    try:
        # A profile without the extension; the macro in the user's Scripts folder.
        env_arg = "-env:UserInstallation=" + o.profile_url
        o._run([office.SOFFICE, "--headless", "--norestore", "--terminate_after_init", env_arg],
               office.INIT_TIMEOUT_S, "profile initialisation")
        scripts = os.path.join(o.profile, "user", "Scripts", "python")
        os.makedirs(scripts, exist_ok=True)
        shutil.copy(os.path.join(HERE, "alt_macro.py"), os.path.join(scripts, "reportlink_alt.py"))
        if o.as_root:
            office._chown_tree(o.profile, office.NOBODY)
        o.start()
        doc = open_letter(o, "theirs")
        time.sleep(SETTLE_S)
        pid = soffice_pid(o)
        res["memory_without_extension"] = memory(pid)
        res["mappings_without_extension"] = mappings(pid)
        log("no extension: RSS %d KiB" % res["memory_without_extension"]["rss_kib"])

        alt_log = AltLog(os.path.join(o.home, "alt.jsonl"))
        msp = o.service("com.sun.star.script.provider.MasterScriptProviderFactory")
        provider = msp.createScriptProvider("")
        script = provider.getScript(
            "vnd.sun.star.script:reportlink_alt.py$start?language=Python&location=user")
        script.invoke((srv.url, key, alt_log.path), (), ())
        tid = alt_log.wait(lambda e: e.get("event") == "thread", 20, "thread line")["tid"]
        alt_log.wait(lambda e: e.get("event") == "connected", 20, "connection")
        time.sleep(SETTLE_S)
        res["memory_connected"] = memory(pid)
        res["mappings_connected"] = mappings(pid)
        log("alternative: connected, RSS %d KiB, network thread %d, idle window %d s"
            % (res["memory_connected"]["rss_kib"], tid, args.idle_seconds))
        res["idle"] = idle_window(pid, tid, args.idle_seconds)

        def one(body):
            seq = srv.push(key, body)
            e = alt_log.wait(lambda e: e.get("event") == "placed", PLACE_TIMEOUT_S, "placement")
            return {"sent": srv.sent_us(seq), "recv": e["recv_us"], "placed": e["placed_us"],
                    "cost": e["cost_us"]}

        for i in range(WARMUP):
            one(typical_fields(-i))
        t = [one(typical_fields(i)) for i in range(args.reports)]
        check_letter(doc, typical_fields(args.reports - 1), "alternative")
        b = one(big_message(10 ** 6, args.big_mib))
        check_letter(doc, typical_fields(10 ** 6), "alternative")
        time.sleep(1)
        res["memory_after_reports"] = memory(pid)
        res["typical"] = {"e2e": summary_ms([r["placed"] - r["sent"] for r in t]),
                          "sent_to_received": summary_ms([r["recv"] - r["sent"] for r in t]),
                          "received_to_placed": summary_ms([r["placed"] - r["recv"] for r in t]),
                          "placement_thread": summary_ms([r["cost"] for r in t]),
                          "samples_us": [[r["placed"] - r["sent"], r["cost"]] for r in t]}
        res["big"] = {"e2e_ms": (b["placed"] - b["sent"]) / 1000.0,
                      "sent_to_received_ms": (b["recv"] - b["sent"]) / 1000.0,
                      "placement_ms": b["cost"] / 1000.0}

        # The burst: the macro's thread places one report after the other.
        c0 = thread_counters(pid, pid)["cpu_ns"]
        with BlockSampler(pid, pid) as sampler:
            seqs, push_s = push_burst(srv, key, args.burst, 1.0, lambda i: typical_fields(5000 + i))
            placed = [alt_log.wait(lambda e: e.get("event") == "placed", PLACE_TIMEOUT_S, "burst placement")
                      for _ in seqs]
        costs = [e["cost_us"] for e in placed]
        res["burst"] = {"pushed": args.burst, "push_seconds": round(push_s, 3), "placed": len(placed),
                        "placement_total_ms": round(sum(costs) / 1000.0, 3),
                        "main_thread_cpu_ms": round((thread_counters(pid, pid)["cpu_ns"] - c0) / 1e6, 3),
                        "max_placement_ms": round(max(costs) / 1000.0, 3),
                        "max_block_ms": round(max(sampler.blocks_us or [0]) / 1000.0, 3),
                        "first_sent_to_last_placed_ms": round((max(e["placed_us"] for e in placed)
                                                               - srv.sent_us(seqs[0])) / 1000.0, 1),
                        "placement_samples_us": costs}

        # Formatted reports through LibreOffice's HTML import.
        provider.getScript("vnd.sun.star.script:reportlink_alt.py$set_html?language=Python&location=user") \
            .invoke((True,), (), ())
        for i in range(WARMUP):
            one(formatted_message(-i))
        t = [one(formatted_message(i)) for i in range(args.formatted_reports)]
        check_letter_contains(doc, "(#%d)" % (args.formatted_reports - 1), "alternative, formatted")
        bf = one(formatted_message(10 ** 6, rows=args.big_html_rows))
        check_letter_contains(doc, "Analyte %d" % (args.big_html_rows - 1), "alternative, 200 KB HTML")
        res["formatted"] = {"e2e": summary_ms([r["placed"] - r["sent"] for r in t]),
                            "placement": summary_ms([r["cost"] for r in t]),
                            "samples_us": [[r["placed"] - r["sent"], r["cost"]] for r in t]}
        res["formatted_big"] = {"e2e_ms": (bf["placed"] - bf["sent"]) / 1000.0,
                                "placement_ms": bf["cost"] / 1000.0}
        doc.close(True)
        o.stop()
    finally:
        o.close()
    return res


# ------------------------------------------------------------------ start-up

import unohelper  # noqa: E402
from com.sun.star.connection import NoConnectException  # noqa: E402
from com.sun.star.document import XDocumentEventListener  # noqa: E402

READY_EVENT = "OnLoad"     # the letter is on screen: see "Start-up" in README.md


class DocEvents(unohelper.Base, XDocumentEventListener):
    """The office's document events as they arrive, with CLOCK_MONOTONIC."""

    def __init__(self):
        import threading
        self.cond = threading.Condition()
        self.events = []

    def documentEventOccured(self, ev):
        t = mono_us()
        with self.cond:
            self.events.append((t, ev.EventName))
            self.cond.notify_all()

    def disposing(self, ev):
        pass

    def wait(self, name, timeout):
        with self.cond:
            if not self.cond.wait_for(lambda: any(n == name for _, n in self.events), timeout):
                raise RuntimeError("start-up: no %s within %d s (%s)" % (name, timeout, self.events))
            return next(t for t, n in self.events if n == name)


def start_with_letter(o, letter):
    """Starts the office as a doctor's desktop does, with the letter on the
    command line (visible, on the bench's Xvfb), and times it. The bridge is
    tried every 10 ms; LibreOffice accepts it before it loads a document given
    on the command line (checked: OnLoadFinished always came after), so a
    listener on theGlobalEventBroadcaster hears the letter's events. A start
    where the letter was already open when the listener came is not counted.
    Returns {"t0": us, event name: us, ...}."""
    o.port = office._free_port()
    accept = "--accept=socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % o.port
    log_f = open(o.log_path, "ab")
    t0 = mono_us()
    o.proc = subprocess.Popen(
        o._argv([office.SOFFICE, "--nologo", "--norestore", "--nolockcheck", accept,
                 "-env:UserInstallation=" + o.profile_url, letter]),
        stdin=subprocess.DEVNULL, stdout=log_f, stderr=log_f, env=o._env(True), cwd=o.home,
        start_new_session=True)
    log_f.close()
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + office.START_TIMEOUT_S
    while True:
        try:
            o.ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % o.port)
            break
        except NoConnectException:
            if o.proc.poll() is not None or time.monotonic() > deadline:
                o.kill()
                raise RuntimeError("start-up: the office did not accept; %s" % o.log_tail())
            time.sleep(0.01)
    ev = DocEvents()
    o.ctx.getValueByName("/singletons/com.sun.star.frame.theGlobalEventBroadcaster").addDocumentEventListener(ev)
    out = {"t0": t0, "bridge": mono_us()}
    ev.wait(READY_EVENT, office.START_TIMEOUT_S)
    with ev.cond:
        for t, n in ev.events:
            out.setdefault(n, t)
    out["late"] = "OnLoadFinished" not in out    # the letter was loading before we listened
    return out


def connected_at_us(o, timeout=20):
    """When the session became connected, from the office's own status: its
    first pong (LastHeartbeatMs is milliseconds since then, CLOCK_MONOTONIC).
    Asked only after the letter is ready and a pause, so that the question
    does not create ReportLink before its start-up job does."""
    rl = o.report_link()
    deadline = time.monotonic() + timeout
    while True:
        a = mono_us()
        st = rl.getStatus()
        b = mono_us()
        if st.State == "connected" and st.LastHeartbeatMs >= 0:
            return (a + b) // 2 - st.LastHeartbeatMs * 1000
        if time.monotonic() > deadline:
            raise RuntimeError("start-up: not connected (%s: %s)" % (st.State, st.Detail))
        time.sleep(0.05)


def run_startup(srv, key, args):
    """Start-up rows: the office started with the letter on its command line,
    with the extension (AutoConnect on, a key stored, the devserver on
    loopback) and without (the same profile otherwise), args.starts + 1
    starts each, alternating, the first of each not counted."""
    from lofix import Xvfb
    res = {"ready_event": READY_EVENT, "with": [], "without": [], "late_starts": 0}
    xvfb = Xvfb((1280, 800))
    old_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = ":%d" % xvfb.display
    with_o, without_o = office.Office("bench start-up with"), office.Office("bench start-up without")
    try:
        with_o.install()
        with_o.start()
        with_o.set_setting("Endpoint", srv.url)
        with_o.set_setting("AutoConnect", True)
        with_o.report_link().setDoctorKey(key)
        with_o.stop()
        # "Without" is the same profile history minus the extension: installed,
        # started and stopped the same way, then removed with unopkg. Against a
        # profile only initialised with --terminate_after_init, 7.4 showed
        # 1161 vs 873 ms (busy machine); with the same history the gap was
        # 40-90 ms (6 starts each, same conditions): most of it was the
        # profiles' history, not ReportLink.
        without_o.install()
        without_o.start()
        without_o.stop()
        env_arg = "-env:UserInstallation=" + without_o.profile_url
        without_o._run([office.UNOPKG, "remove", "org.reportlink.extension", env_arg],
                       office.INIT_TIMEOUT_S, "unopkg remove")
        letters = {}
        for who, o in (("with", with_o), ("without", without_o)):
            letters[who] = os.path.join(o.home, "lettre-patient.odt")
            shutil.copy(TEMPLATE, letters[who])
            os.chmod(letters[who], 0o666)
            if o.as_root:
                office._chown_tree(o.dir, office.NOBODY)
        for i in range(args.starts + 1):
            for who, o in (("with", with_o), ("without", without_o)):
                t = start_with_letter(o, letters[who])
                sample = {k: v - t["t0"] for k, v in t.items() if k not in ("t0", "late")}
                if who == "with":
                    time.sleep(1.0)
                    sample["connected"] = connected_at_us(o) - t["t0"]
                else:
                    time.sleep(1.0)
                o.stop()
                if t["late"]:
                    res["late_starts"] += 1
                    log("start-up %s: the letter was loading before the listener came; not counted" % who)
                    continue
                if i == 0:
                    continue      # the first start of a profile fills caches: not counted
                res[who].append(sample)
                log("start-up %s #%d: %s %.0f ms%s" % (
                    who, i, READY_EVENT, sample[READY_EVENT] / 1000.0,
                    ", connected %.0f ms after" % ((sample["connected"] - sample[READY_EVENT]) / 1000.0)
                    if "connected" in sample else ""))
    finally:
        with_o.close()
        without_o.close()
        if old_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old_display
    res["without_ms"] = summary_ms([s[READY_EVENT] for s in res["without"]])
    res["with_ms"] = summary_ms([s[READY_EVENT] for s in res["with"]])
    res["connected_after_ms"] = summary_ms([s["connected"] - s[READY_EVENT] for s in res["with"]])
    for k in ("without_ms", "with_ms", "connected_after_ms"):
        res[k] = {q: res[k][q] for q in ("n", "median_ms", "p95_ms")}
    return res


# ------------------------------------------------------------------ core

def run_core(args):
    out = subprocess.run([os.path.join(BUILD, "validate-bench"), str(args.core_seconds)],
                         check=True, capture_output=True, text=True).stdout
    return {r["name"]: r for r in map(json.loads, out.splitlines())}


# ------------------------------------------------------------------ table

def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "–"


def fmt(v, spec="%.1f"):
    return "–" if v is None else spec % v


def table(r):
    ours, theirs, core = r["ours"], r.get("theirs") or {}, r["core"]
    base = theirs.get("memory_without_extension", {}).get("rss_kib")
    lines = ["| # | measure | ReportLink | Python macro | ours/theirs | target |",
             "|---|---|---|---|---|---|"]

    def row(num, what, a, b, target, spec="%.1f", lower_better=True):
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            num, what, fmt(a, spec), fmt(b, spec), ratio(a, b) if lower_better else ratio(a, b), target))

    ot, tt = ours["typical"], theirs.get("typical", {})
    n = ot["e2e"]["n"]
    for q, label in (("median_ms", "median"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        row("1", "end to end, typical report, %s (ms, n=%d)" % (label, n), ot["e2e"][q],
            tt.get("e2e", {}).get(q), "p99 < 30" if q == "p99_ms" else "", "%.2f")
    row("1", "end to end, %d MiB html_content (ms)" % r["args"]["big_mib"], ours["big"]["e2e_ms"],
        theirs.get("big", {}).get("e2e_ms"), "", "%.1f")
    for q, label in (("median_ms", "median"), ("p95_ms", "p95"), ("max_ms", "max")):
        row("2", "placement time per typical report, %s (ms) *" % label, ot["main_thread"][q],
            tt.get("placement_thread", {}).get(q), "< 8" if q == "median_ms" else "", "%.2f")
    row("2", "placement time, %d MiB report (ms) *" % r["args"]["big_mib"],
        ours["big"]["main_thread_ms"], theirs.get("big", {}).get("placement_ms"), "", "%.2f")
    for name in ("2KB", "5MiB"):
        c = core[name]
        lines.append("| 3 | rl_validate_message, %s message (%d B) | %s msg/s, %s MB/s | – | – | |"
                     % (name, c["bytes"], "{:,.0f}".format(c["msgs_per_s"]), "%.0f" % c["mb_per_s"]))
    oi, ti = ours.get("idle", {}), theirs.get("idle", {})
    row("4", "idle: network-thread wake-ups per minute (%s s window)" % fmt(oi.get("window_s"), "%.0f"),
        oi.get("wakeups_per_min"), ti.get("wakeups_per_min"), "≤ the macro's", "%.1f")
    row("4", "idle: network-thread CPU over the window (ms)", oi.get("thread_cpu_ms"),
        ti.get("thread_cpu_ms"), "", "%.3f")
    row("4", "idle: whole soffice.bin CPU over the window (ms)", oi.get("process_cpu_ms"),
        ti.get("process_cpu_ms"), "", "%.0f")
    om = ours["memory_connected"]["rss_kib"] - base if base else None
    tm = theirs["memory_connected"]["rss_kib"] - base if base else None
    row("5", "memory: RSS of soffice.bin with, connected, minus without (MiB)",
        om / 1024.0 if om is not None else None, tm / 1024.0 if tm is not None else None, "< 4", "%.1f")
    oa = ours["memory_after_reports"]["rss_kib"] - base if base else None
    ta = theirs["memory_after_reports"]["rss_kib"] - base if base and theirs else None
    row("5", "memory: RSS, same, after all reports (MiB)", oa / 1024.0 if oa is not None else None,
        ta / 1024.0 if ta is not None else None, "", "%.1f")
    of, tf = ours.get("formatted"), theirs.get("formatted", {})
    if of:
        for q, label in (("median_ms", "median"), ("p95_ms", "p95")):
            row("6", "formatted report (every field Source=html, %d B HTML), end to end, %s (ms, n=%d)"
                % (of["html_bytes"], label, of["e2e"]["n"]), of["e2e"][q], tf.get("e2e", {}).get(q), "", "%.2f")
        for q, label in (("median_ms", "median"), ("p95_ms", "p95"), ("max_ms", "max")):
            row("6", "formatted report, placement time, %s (ms) *" % label, of["main_thread"][q],
                tf.get("placement", {}).get(q), "max < 50" if q == "max_ms" else "", "%.2f")
        row("6", "formatted report, longest main-thread block, sampled (ms) †",
            of["longest_block_sampled"]["max_ms"], None, "< 50", "%.1f")
        ob, tb = ours["formatted_big"], theirs.get("formatted_big", {})
        row("6", "%d KB HTML report (tables, lists), end to end (ms)" % (ob["html_bytes"] // 1024),
            ob["e2e_ms"], tb.get("e2e_ms"), "", "%.1f")
        row("6", "%d KB HTML report, placement time (ms) *" % (ob["html_bytes"] // 1024),
            ob["main_thread_ms"], tb.get("placement_ms"), "", "%.1f")
    ob, tb = ours.get("burst"), theirs.get("burst", {})
    if ob:
        row("7", "burst of %d reports in %.1f s: placement time, total (ms) *" % (ob["pushed"], ob["push_seconds"]),
            ob["main_thread_total_ms"], tb.get("placement_total_ms"), "", "%.0f")
        row("7", "burst: main-thread CPU over the burst (ms)", ob["main_thread_cpu_ms"],
            tb.get("main_thread_cpu_ms"), "", "%.0f")
        row("7", "burst: longest placement (ms) *", ob["max_placement_ms"], tb.get("max_placement_ms"), "", "%.2f")
        row("7", "burst: longest main-thread block (ms) †", ob["max_block_ms"], tb.get("max_block_ms"),
            "< 50", "%.1f")
        row("7", "burst: first sent to last placed (ms)", ob["first_sent_to_last_placed_ms"],
            tb.get("first_sent_to_last_placed_ms"), "", "%.0f")
        lines.append("| 7 | burst: accounted for (placed + waiting, of %d) | %d + %d | %s + 0 | – | all |"
                     % (ob["pushed"], ob["placed"], ob["waiting"], fmt(tb.get("placed"), "%d")))
    st = r.get("startup")
    if st:
        w, wo = st["with_ms"], st["without_ms"]
        lines.append("| 8 | start-up, letter on the command line to %s, median (ms, n=%d/%d) ‡ | %.0f (with) | "
                     "%.0f (without) | %s | ≤ %.0f |" % (st["ready_event"], w["n"], wo["n"], w["median_ms"],
                                                         wo["median_ms"], ratio(w["median_ms"], wo["median_ms"]),
                                                         wo["median_ms"] + max(30, 0.03 * wo["median_ms"])))
        lines.append("| 8 | start-up, p95 (ms) | %.0f (with) | %.0f (without) | %s | |"
                     % (w["p95_ms"], wo["p95_ms"], ratio(w["p95_ms"], wo["p95_ms"])))
        c = st["connected_after_ms"]
        lines.append("| 8 | letter ready to `connected`, AutoConnect on, loopback, median / p95 (ms) | %.0f / %.0f | – | – "
                     "| < 100 |" % (c["median_ms"], c["p95_ms"]))
    lines.append("")
    lines.append("\\* ReportLink: main-thread time (PlaceCostUs). Python macro: wall time of its placement "
                 "on its own thread, which takes LibreOffice's SolarMutex call by call (the UI waits meanwhile).")
    lines.append("† The longest stretch the office's main thread ran without going back to sleep, sampled from "
                 "/proc about every millisecond (BlockSampler); for ReportLink's burst, the longer of that and its "
                 "placements that followed each other within 1 ms. For the macro this misses the waits of the UI "
                 "for the SolarMutex its thread holds.")
    if st:
        lines.append("‡ A visible office (Xvfb), the letter given on the command line, AutoConnect on with a key "
                     "and the devserver on loopback, or the same profile without the extension; the first start of "
                     "each not counted.")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--big-mib", type=int, default=5)
    ap.add_argument("--core-seconds", type=float, default=2.0)
    ap.add_argument("--formatted-reports", type=int, default=50)
    ap.add_argument("--big-html-rows", type=int, default=1900, help="table rows of the ~200 KB HTML report")
    ap.add_argument("--burst", type=int, default=100)
    ap.add_argument("--starts", type=int, default=20,
                    help="counted starts of each office (one more is not); 20: the spread of one start is ~50 ms")
    ap.add_argument("--skip-alt", action="store_true")
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"))
    args = ap.parse_args()
    if args.reports < 1:
        ap.error("--reports must be at least 1")
    t0 = time.monotonic()
    key_ours = harness.secret("bench-ours-" + secrets.token_hex(8))
    key_alt = harness.secret("bench-alt-" + secrets.token_hex(8))
    result = {"args": vars(args), "host": {"cpus": os.cpu_count(), "kernel": os.uname().release}}
    log("core: rl_validate_message")
    result["core"] = run_core(args)
    srv = Server([key_ours, key_alt])
    try:
        if not args.skip_alt:
            log("the alternative: Python macro in an office without the extension")
            result["theirs"] = run_theirs(srv, key_alt, args)
        log("ReportLink: the extension in an office")
        result["ours"] = run_ours(srv, key_ours, args)
        if not args.skip_startup:
            log("start-up: %d starts of each office with the letter on the command line" % (args.starts + 1))
            result["startup"] = run_startup(srv, key_ours, args)
    finally:
        harness.stop_all(including_whole_run=True)
        shutil.rmtree(_docs_dir, ignore_errors=True)
    result["elapsed_s"] = round(time.monotonic() - t0, 1)
    if "theirs" in result:
        base = result["theirs"].pop("mappings_without_extension")
        for who in ("ours", "theirs"):
            result[who]["memory_growth_by_mapping_kib"] = mapping_diff(base, result[who].pop("mappings_connected"))
    else:
        result["ours"].pop("mappings_connected")
    text = table(result)
    result["table_markdown"] = text
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    print(text)
    print("(%d typical reports of %d B json_report each, after %d warm-up; %s; "
          "full results in %s; %.0f s)" % (args.reports, len(json.dumps(typical_fields(0), ensure_ascii=False).encode()),
                                          WARMUP, "memory: RSS (PSS in the JSON)", os.path.relpath(args.json, ROOT),
                                          result["elapsed_s"]))


if __name__ == "__main__":
    main()
