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
(PSS of soffice.bin with minus without). Prints one table; writes
build/bench.json. Run through `make bench`, or:
  /usr/bin/python3 bench/bench.py [--reports N] [--idle-seconds S] [--skip-alt]
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
        doc.close(True)
        o.stop()
    finally:
        o.close()
    return res


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
        doc.close(True)
        o.stop()
    finally:
        o.close()
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
        oi.get("wakeups_per_min"), ti.get("wakeups_per_min"), "≤ 3", "%.1f")
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
    lines.append("")
    lines.append("\\* ReportLink: main-thread time (PlaceCostUs). Python macro: wall time of its placement "
                 "on its own thread, which takes LibreOffice's SolarMutex call by call (the UI waits meanwhile).")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--big-mib", type=int, default=5)
    ap.add_argument("--core-seconds", type=float, default=2.0)
    ap.add_argument("--skip-alt", action="store_true")
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
