#!/usr/bin/env python3
"""python: handlers on a real Python service, through CPython's USDT probes.

tests/targets/py_service.py (http.server, a thread per request) runs under
Debian's /usr/bin/python3 (its CPython has the function__entry/return
probes; a pyenv or python.org build usually has not). ab drives it:
- view_orders, view_items, price and http.server's handle_one_request are
  counted exactly (ab's complete requests, the service's own counts: a
  connection without a request is a handle_one_request too);
- a function also named view_orders in another file is not counted (the
  file glob is matched in BPF);
- the flow `orders` shows price visited n times per view_orders.
The cost test measures what an unmatched Python call costs while a Python
handler is profiled, against no profiling, and prints it (TAP comments).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

PYTHON = "/usr/bin/python3"
SERVICE = os.path.join(fptest.ROOT, "tests", "targets", "py_service.py")

FLOWS = """\
bundles:
  shop:
    pid: [{pid}]
    handlers:
      request: {{ python: "*/http/server.py:handle_one_request" }}
      orders: {{ python: "*/py_service.py:view_orders" }}
      items: {{ python: "*/py_service.py:view_items" }}
      price: {{ python: "*/py_service.py:price" }}
flows:
  orders:
    entry: shop.orders
    calls:
      - shop.orders -> shop.price
  request:
    entry: shop.request
    calls:
      - shop.request -> shop.orders
      - shop.request -> shop.items
"""


def need_python():
    core.need()
    if not os.access(PYTHON, os.X_OK):
        raise AssertionError("%s missing: scripts/install-deps.sh installs python3.11" % PYTHON)
    r = subprocess.run(["readelf", "-n", os.path.realpath(PYTHON)], capture_output=True,
                       text=True)
    if "function__entry" not in r.stdout:
        raise AssertionError("%s has no USDT probes (not Debian's CPython)" % PYTHON)


def ab(url, n):
    r = subprocess.run(["ab", "-q", "-n", str(n), "-c", "4", url], capture_output=True,
                       text=True, timeout=300)
    fptest.eq(r.returncode, 0, "ab exit status (%s)" % r.stderr)
    complete = int(re.search(r"^Complete requests:\s+(\d+)", r.stdout, re.M).group(1))
    failed = int(re.search(r"^Failed requests:\s+(\d+)", r.stdout, re.M).group(1))
    fptest.eq(failed, 0, "ab failed requests")
    return complete


@test
def service_handlers_counted_exactly():
    need_python()
    if not os.access("/usr/bin/ab", os.X_OK):
        raise AssertionError("ab missing: scripts/install-deps.sh installs apache2-utils")
    d = fptest.tmpdir()
    svc = fptest.start([PYTHON, SERVICE, "0"], stdin=subprocess.DEVNULL)
    port = int(fptest.read_line(svc, 20).split()[1])
    base = "http://127.0.0.1:%d" % port
    flows = fptest.write(os.path.join(d, "py.yaml"), FLOWS.format(pid=svc.pid))
    out = os.path.join(d, "snap.json")
    rec = core.Recorder(flows, out=out)
    rec.wait_recording()
    k = 3
    n_orders = ab(base + "/orders?n=%d" % k, 300)
    n_items = ab(base + "/items", 200)
    rec.signal(signal.SIGINT)
    rc, _, err = rec.finish()
    fptest.eq(rc, 130, "flowprof exit status after SIGINT (stderr:\n%s)" % err)
    own = json.loads(urllib.request.urlopen(base + "/count", timeout=10).read())
    svc.kill()

    fptest.eq((n_orders, n_items), (300, 200), "ab complete requests")
    # every connection is a handle_one_request, one without a request too
    # (ab may leave one so): the service's own count, less the /count above
    n_req = own.pop("handle_one_request") - 1
    assert n_req >= 500, "the service counted %d requests for ab's 500" % n_req
    fptest.eq(own, {"view_orders": 300, "view_items": 200, "price": 300 * k, "decoy": 200},
              "the service's own counts")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    want = {"shop.request": n_req, "shop.orders": 300, "shop.items": 200, "shop.price": 300 * k}
    # ab's connection without a request may end after the recording did (it
    # closes it as it exits): then the service counted one handle_one_request
    # more than the recording could see
    if n_req > 500 and hs["shop.request"]["calls"] == n_req - 1:
        want["shop.request"] = n_req - 1
    fptest.eq({h: hs[h]["calls"] for h in want}, want, "calls")
    for h in want:
        fptest.eq(hs[h]["incomplete"], 0, h + " incomplete")
        fptest.eq([i["pid"] for i in hs[h]["instances"]], [svc.pid], h + " instances")
    fptest.eq(fptest.flow(snap, "orders")["visits"], {"shop.price": float(k)},
              "visits of price per view_orders")
    req = fptest.flow(snap, "request")
    fptest.eq(req["invocations"], n_req, "request invocations")
    # the document writes visits with 6 decimals (snapshot_write.c, VISIT_DECIMALS)
    fptest.near(req["visits"]["shop.orders"], 300 / n_req, 0, "view_orders per request",
                abs_tol=0.5e-6)
    fptest.eq(fptest.edge(snap, "shop.request", "shop.items"), 200, "request -> items")
    fptest.eq(snap["counters"]["unmatched_returns"], 0, "unmatched returns")
    # their times are not corrected for the interpreter's probes: the report says so
    rep = json.loads(fptest.flowprof("report", "--json", out).stdout)
    flags = [f for f in rep["accuracy_flags"] if f["kind"] == "not-corrected"]
    fptest.eq(len(flags), 1, "the not-corrected flag (%r)" % rep["accuracy_flags"])
    fptest.eq(sorted(flags[0]["subjects"]), sorted(want), "handlers flagged not corrected")
    fptest.eq({h: hs[h]["entry_site"] for h in want}, {h: "python" for h in want}, "entry_site")
    shutil.rmtree(d, ignore_errors=True)


BENCH = """\
import sys, time

def unmatched():
    pass

def profiled():
    pass

def per_call(n):
    best = None
    for _ in range(3):
        t = time.perf_counter_ns()
        for _ in range(n):
            unmatched()
        dt = (time.perf_counter_ns() - t) / n
        best = dt if best is None else min(best, dt)
    return best

print("ready", flush=True)
for line in sys.stdin:
    cmd, n = line.split()
    if cmd == "time":
        print(per_call(int(n)), flush=True)
    else:
        for _ in range(int(n)):
            profiled()
        print("done", flush=True)
"""

FLOWS_BENCH = """\
bundles:
  bench:
    pid: [{pid}]
    handlers:
      profiled: {{ python: "*/bench.py:profiled" }}
"""


@test
def unmatched_call_cost():
    """Per-call cost of an unmatched Python function while a handler of the
    same process is profiled, as a ratio against no profiling (median of 3
    alternations). Printed for the record; asserted only to be measured."""
    need_python()
    d = fptest.tmpdir()
    script = fptest.write(os.path.join(d, "bench.py"), BENCH)
    p = fptest.start([PYTHON, script], stdin=subprocess.PIPE)
    fptest.read_line(p, 20)

    def ask(cmd, n):
        p.stdin.write(("%s %d\n" % (cmd, n)).encode())
        p.stdin.flush()
        return fptest.read_line(p, 120).strip()

    flows = fptest.write(os.path.join(d, "bench.yaml"), FLOWS_BENCH.format(pid=p.pid))
    ratios, bases, profs = [], [], []
    for rep in range(3):
        bases.append(float(ask("time", 200000)))
        out = os.path.join(d, "snap%d.json" % rep)
        rec = core.Recorder(flows, out=out)
        rec.wait_recording()
        profs.append(float(ask("time", 50000)))
        fptest.eq(ask("call", 1000), "done", "profiled calls")
        rec.signal(signal.SIGINT)
        rc, _, err = rec.finish()
        fptest.eq(rc, 130, "flowprof exit status (stderr:\n%s)" % err)
        snap = fptest.load_json(out)
        fptest.eq(core.handlers(snap)["bench.profiled"]["calls"], 1000, "profiled handler calls")
        ratios.append(profs[-1] / bases[-1])
    p.kill()
    mid = sorted(range(3), key=lambda i: ratios[i])[1]
    print("# python unmatched call: %.0f ns profiled, %.0f ns not profiled: ratio %.1f "
          "(ratios %s)" % (profs[mid], bases[mid], ratios[mid],
                           ", ".join("%.1f" % r for r in ratios)), flush=True)
    if not ratios[mid] > 1.0:
        raise AssertionError("profiling made unmatched calls cheaper? ratios %s" % ratios)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    fptest.main()
