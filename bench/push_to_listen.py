"""Time from an HTTP push to the devserver until reportlink-listen prints the
report line on stdout, over N pushes (default 100), on loopback.

Usage: /usr/bin/python3 bench/push_to_listen.py [N]
Prints median, p95, p99 and max in milliseconds, one JSON line at the end.
"""
import json
import os
import secrets
import select
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def read_line(proc, deadline):
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            raise SystemExit("timed out waiting for output")
        ch = os.read(proc.stdout.fileno(), 1 << 16)
        if not ch:
            raise SystemExit("process ended")
        buf += ch
    return buf


def main():
    key = "bench-" + secrets.token_hex(8)
    env = dict(os.environ, REPORTLINK_DEVSERVER_KEYS=key)
    srv = subprocess.Popen([os.path.join(ROOT, "build/reportlink-devserver"), "--port", "0"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    port = json.loads(read_line(srv, time.monotonic() + 10))["port"]
    lenv = dict(os.environ, REPORTLINK_DOCTOR_KEY=key)
    lst = subprocess.Popen([os.path.join(ROOT, "build/reportlink-listen"), "--quiet", "--url",
                            "ws://127.0.0.1:%d/reports/ws" % port],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=lenv)
    pending = b""
    try:
        deadline = time.monotonic() + 10
        while b'"state":"connected"' not in pending:
            pending += read_line(lst, deadline)
        body = json.dumps({
            "history": "La patiente est venue parce qu'elle a mal à la tête. " * 6,
            "findings": "Pouls de 100/min, tension artérielle 140/80 mmHg. " * 6,
            "diagnosis": "Céphalées chroniques non spécifiées.",
            "procedure": "Examen physique et neurologique. " * 4,
            "recommendation": "Nous recommandons du repos à la patiente. " * 6,
        }).encode()
        samples = []
        for _ in range(N):
            req = urllib.request.Request("http://127.0.0.1:%d/reports/push" % port, data=body,
                                         headers={"X-Doctor-Key": key}, method="POST")
            t0 = time.perf_counter()
            urllib.request.urlopen(req, timeout=10).read()
            deadline = time.monotonic() + 10
            while True:
                line = read_line(lst, deadline)
                if line.startswith(b'{"event":"report"'):
                    break
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
        res = {"pushes": N, "median_ms": round(pick(0.5), 3), "p95_ms": round(pick(0.95), 3),
               "p99_ms": round(pick(0.99), 3), "max_ms": round(samples[-1], 3),
               "report_bytes": len(body)}
        print("push -> report line on reportlink-listen's stdout, %d pushes of a %d-byte "
              "json_report (full report_ready built by the server):" % (N, len(body)))
        print("  median %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms" %
              (res["median_ms"], res["p95_ms"], res["p99_ms"], res["max_ms"]))
        print(json.dumps(res))
    finally:
        lst.terminate()
        srv.terminate()
        lst.wait(5)
        srv.wait(5)


if __name__ == "__main__":
    main()
