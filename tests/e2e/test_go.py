#!/usr/bin/env python3
"""Go handlers on a real Go HTTP server (tests/targets/gohttp.go, built with
Debian's golang): goroutine-keyed frames, exits probed at their `ret` sites
(a uretprobe would crash Go), goroutine stacks that grow and move inside
probed calls.

- counts exact against the server's own counts;
- a leaf handler's corrected mean against the server's own clock;
- the server keeps running while flowprof attaches, records and detaches,
  and while calls are open when flowprof is killed (test_faults_survival.py
  has the 1,000-run version).
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

GOHTTP = os.path.join(fptest.TARGETS, "gohttp")
MEAN_REL, MEAN_ABS = 0.03, 1000.0
NAMES = {"shop.order": "handleOrder", "shop.price": "priceOrder", "shop.grow": "growStack",
         "shop.hold": "holdCall"}

FLOWS = """\
bundles:
  shop:
    pid: [{pid}]
    handlers:
      order: main.handleOrder
      price: main.priceOrder
      grow: main.growStack
      hold: main.holdCall
flows:
  order:
    entry: shop.order
    calls:
      - shop.order -> shop.price
      - shop.order -> shop.grow
"""


class GoServer:
    def __init__(self, *args):
        if not os.access(GOHTTP, os.X_OK):
            raise AssertionError("build/targets/gohttp not built: scripts/install-deps.sh "
                                 "installs golang-go, then make")
        self.p = fptest.start([GOHTTP, *args])
        _, pid, port = fptest.read_line(self.p, 30).split()
        self.pid = int(pid)
        self.url = "http://127.0.0.1:%s" % port

    def get(self, path, timeout=30):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.read().decode()

    def stats(self):
        return json.loads(self.get("/stats"))["handlers"]

    def quit(self):
        self.get("/quit")
        fptest.eq(self.p.wait(timeout=10), 0, "the Go server's exit status")


def flows(srv):
    d = fptest.tmpdir()
    return d, fptest.write(os.path.join(d, "go.yaml"), FLOWS.format(pid=srv.pid))


@test
def go_handlers_counted_exactly():
    srv = GoServer("-spin", "300", "-depth", "64")
    d, f = flows(srv)
    out = os.path.join(d, "snap.json")
    rec = core.Recorder(f, "-p", str(srv.pid), out=out)
    rec.wait_recording()
    n = 200
    for _ in range(n):
        fptest.eq(srv.get("/order"), "ok\n", "the server's answer")
    own = srv.stats()
    rec.signal(signal.SIGINT)
    rc, _, err = rec.finish()
    fptest.eq(rc, 130, "flowprof exit status after Ctrl-C (stderr:\n%s)" % err)
    srv.quit()
    snap = fptest.load_json(out)
    for h in snap["handlers"]:
        want = own[NAMES[h["id"]]]["calls"]
        fptest.eq((h["calls"], h["incomplete"]), (want, 0), h["id"] + " (calls, incomplete)")
        if want:
            fptest.eq(h["exit_site"], "ret", h["id"] + " exits (never a uretprobe in Go)")
    fptest.eq(own["handleOrder"]["calls"], n, "the server's own count")
    fptest.eq(fptest.edge(snap, "shop.order", "shop.price"), n, "order -> price")
    fptest.eq(fptest.edge(snap, "shop.order", "shop.grow"), n, "order -> grow")
    fptest.eq(snap["counters"]["unmatched_returns"], 0, "unmatched returns")
    fptest.eq(snap["counters"]["abandoned_frames"], 0, "frames closed by unwinding")
    # priceOrder nests no probed call: its own clock is the truth
    model = json.loads(fptest.flowprof("report", "--json", out).stdout)["model"]
    got = {h["id"]: h for h in model["handlers"]}["shop.price"]
    truth = own["priceOrder"]["total_ns"] / own["priceOrder"]["calls"]
    tol = max(MEAN_REL * truth, MEAN_ABS)
    if abs(got["mean_ns"] - truth) > tol:
        raise AssertionError("shop.price mean %.0f ns, the server's own clock %.0f ns: want "
                             "within %.0f ns" % (got["mean_ns"], truth, tol))


@test
def go_calls_open_when_flowprof_dies():
    """Goroutines inside holdCall when flowprof is SIGKILLed: they go on,
    grow their stacks four times deeper, and answer."""
    srv = GoServer("-depth", "64")
    d, f = flows(srv)
    rec = core.Recorder(f, "-p", str(srv.pid), out=os.path.join(d, "snap.json"))
    rec.wait_recording()
    import threading
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(srv.get("/hold", 60)))
               for _ in range(20)]
    for t in threads:
        t.start()
    fptest.wait_for(lambda: srv.stats() is not None, 10, "the server")
    time.sleep(0.5)
    rec.p.send_signal(signal.SIGKILL)
    rec.p.wait(timeout=10)
    srv.get("/release")
    for t in threads:
        t.join(timeout=60)
    fptest.eq(answers, ["released\n"] * 20, "every held call's answer")
    fptest.eq(srv.get("/order"), "ok\n", "a later request")
    srv.quit()


if __name__ == "__main__":
    fptest.main()
