#!/usr/bin/env python3
"""`flowprof report --prometheus URL --job NAME --window W`: the fleet model
from a real Prometheus that scrapes two `flowprof serve` endpoints, each on
its own target process, held against the model of `flowprof merge` of the
two endpoints' own snapshots (serve -o) over the same steady load.

Targets: two tests/targets/sweep_server processes (a pool of 4 workers, each
request 2 ms asleep), each driven by its own tests/targets/pool_loadgen at a
fixed rate. The load runs before the endpoints attach and after they stop,
so every window sees the same rates. The targets are pinned to one CPU
(when the host has more): the model then holds their CPU station to the
CPU they may use, and leaves out what other processes of the host did in
each window, which a test cannot keep the same between two windows.

Ground truth: the load generators' own rates, and the counters as
Prometheus stored them at the window's two ends.
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
import promserver  # noqa: E402
import viewslib  # noqa: E402
from fptest import eq, near, test  # noqa: E402

SERVER = os.path.join(fptest.TARGETS, "sweep_server")
LOADGEN = os.path.join(fptest.TARGETS, "pool_loadgen")
RATES = (400, 250)		# requests/s of each target's load generator
WORKERS, SERVICE_US = 4, 2000
SCRAPE_S = 1			# Prometheus's scrape interval (promserver.job)
WINDOW_S = 30			# a whole number of scrape intervals
TOL = 0.02			# what the issue asks: within 2 %

FLOWS = """\
bundles:
  pool:
    exe: %s
    handlers:
      request: handle_request
      work: do_work
flows:
  request:
    entry: pool.request
    calls:
      - pool.request -> pool.work
"""


def diag(text):
    for line in text.rstrip("\n").split("\n"):
        print("# " + line, flush=True)


def start_target(rate):
    """A sweep_server on CPU 0 and its load generator; returns (server, port)."""
    pin = ["taskset", "-c", "0"] if os.cpu_count() > 1 else []
    p = fptest.start(pin + [SERVER, "-w", str(WORKERS), "-s", str(SERVICE_US)])
    line = fptest.read_line(p)
    m = re.match(r"ready (\d+)", line)
    assert m, "sweep_server said %r" % line
    fptest.start([LOADGEN, "-c", "4", "-d", "600", "-r", str(rate), m.group(1)])
    return p


def start_serves(flows, pids, d):
    """One `flowprof serve` per pid, started together (their windows then
    begin within an attach of each other); returns [(proc, host:port, -o file)]."""
    procs = []
    for i, pid in enumerate(pids):
        out = os.path.join(d, "host%d.json" % i)
        procs.append((fptest.start([fptest.FLOWPROF, "serve", "-f", flows, "-p", str(pid),
                                    "--listen", "127.0.0.1:0", "-o", out]), out))
    serves = []
    for p, out in procs:
        while True:
            line = p.stderr.readline().decode()
            m = re.search(r" on http://(127\.0\.0\.1:\d+)/metrics; ", line)
            if m:
                break
            assert line, "flowprof serve exited: %s" % p.stderr.read().decode()
        serves.append((p, m.group(1), out))
    return serves


def by_name(items, key="name"):
    return {x[key]: x for x in items}


def compare(fleet, merged):
    """The key figures of the two models: a list of what differs by more than TOL."""
    bad, lines = [], []

    def check(what, got, want):
        lines.append("%-34s fleet %12.6g   merged %12.6g" % (what, got, want))
        if abs(got - want) > TOL * abs(want):
            bad.append("%s: fleet %r, merged %r" % (what, got, want))

    fm, mm = fleet["model"], merged["model"]
    for name, f in by_name(mm["flows"]).items():
        check("flow %s max rate /s" % name, by_name(fm["flows"])[name]["max_rate_per_s"],
              f["max_rate_per_s"])
        check("flow %s measured rate /s" % name,
              by_name(fm["flows"])[name]["measured_rate_per_s"], f["measured_rate_per_s"])
    for name, st in by_name(mm["stations"]).items():
        check("station %s utilization" % name, by_name(fm["stations"])[name]["utilization"],
              st["utilization"])
    fh, mh = by_name(fleet["handlers"], "id"), by_name(merged["handlers"], "id")
    for hid, h in mh.items():
        check("handler %s calls /s" % hid, fh[hid]["calls"] / fleet["duration_s"],
              h["calls"] / merged["duration_s"])
        check("handler %s mean ns" % hid, fh[hid]["mean_ns"], h["mean_ns"])
    for hid, h in by_name(mm["handlers"], "id").items():
        check("model handler %s mean ns" % hid, by_name(fm["handlers"], "id")[hid]["mean_ns"],
              h["mean_ns"])
    # the bundles' wake-ups and sleeps (what the model reads waking from)
    fb = by_name(fleet["bundles"])
    for name, b in by_name(merged["bundles"]).items():
        w = b.get("wakeups")
        if not w:
            diag("bundle %s: no wake-ups in the merged snapshots (this kernel's sched_switch "
                 "program did not load)" % name)
            continue
        fw = fb[name].get("wakeups")
        if not fw:
            bad.append("bundle %s: wake-ups in the merged snapshots, none in the fleet's" % name)
            continue
        for key in ("periods", "calls", "cpu_ns"):
            check("bundle %s wake-up %s /s" % (name, key), sum(fw[key]) / fleet["duration_s"],
                  sum(w[key]) / merged["duration_s"])
        check("bundle %s sleeps /s" % name, fb[name].get("sleeps", 0) / fleet["duration_s"],
              b.get("sleeps", 0) / merged["duration_s"])
    diag("\n".join(lines))
    return bad


def fleet_report(prom, window_s, at):
    r = fptest.flowprof("report", "--prometheus", prom.base, "--job", "fleet", "--window",
                        "%.3f" % window_s, "--at", "%.3f" % at, "--json")
    return json.loads(r.stdout)


@test
def fleet_model_equals_the_merged_snapshots():
    viewslib.need_flowprof()
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "flows.yaml"), FLOWS % SERVER)
    targets = [start_target(r) for r in RATES]
    time.sleep(1)  # the load is steady before anything attaches
    t_attach = time.time()
    serves = start_serves(flows, [t.pid for t in targets], d)
    prom = promserver.Prometheus(d, [promserver.job("fleet", [s[1] for s in serves])])
    prom.wait_up("fleet", len(serves))

    # A window inside the recordings: each target's counters at its scrapes
    # at the window's two ends, subtracted.
    t_start = time.time() + 1.0  # every target has a scrape before it
    t_end = t_start + WINDOW_S
    time.sleep(max(0.0, t_end - time.time()))
    prom.wait_scrapes("fleet", t_end + 0.1)  # the window's last scrapes are stored
    inside = fleet_report(prom, WINDOW_S, t_end)
    # the time between the scrapes at the two ends, by the endpoints' own
    # clock: the window, give or take a scrape that came late or failed
    near(inside["duration_s"], WINDOW_S, 0, "the window inside the recordings (s)",
         abs_tol=SCRAPE_S)
    sel = 'sum(flowprof_handler_calls_total{job="fleet",handler="pool.request"})'
    stored = prom.value(sel, at=t_end) - prom.value(sel, at=t_start)
    eq(fptest.handler(inside, "pool.request")["calls"], stored,
       "fleet calls = Prometheus's counters at the window's end less at its start")
    diag("window inside the recordings: %.3f s, %d calls (Prometheus: %d), %.1f requests/s "
         "(load generators: %d/s)" % (inside["duration_s"],
                                     fptest.handler(inside, "pool.request")["calls"], stored,
                                     by_name(inside["model"]["flows"])["request"]
                                     ["measured_rate_per_s"], sum(RATES)))
    near(by_name(inside["model"]["flows"])["request"]["measured_rate_per_s"], sum(RATES), TOL,
         "the fleet's request rate against the load generators' %s/s"
         % "+".join(map(str, RATES)))

    # The whole recordings, as the endpoints' own snapshots hold them: a
    # window from before they attached to their last scrape, right before
    # they stop (the snapshots go on to the stop, less than a scrape later).
    prom.wait_scrapes("fleet", time.time())
    t_stop = time.time()
    for p, _, _ in serves:
        p.send_signal(signal.SIGTERM)
    for p, _, _ in serves:
        eq(p.wait(timeout=60), 0, "exit status of serve after SIGTERM")
    fleet = fleet_report(prom, t_stop - t_attach + 5, t_stop)
    merged_file = os.path.join(d, "merged.json")
    fptest.flowprof("merge", *[s[2] for s in serves], "-o", merged_file)
    merged = json.loads(fptest.flowprof("report", merged_file, "--json").stdout)
    eq((fleet["host"], fleet["nproc"]), (merged["host"], merged["nproc"]),
       "host and CPUs, as merge counts them")
    eq(sorted(i["pid"] for i in fptest.handler(fleet, "pool.request")["instances"]),
       sorted(t.pid for t in targets), "a process per target")
    bad = compare(fleet, merged)
    assert not bad, "fleet model against the merged snapshots' (within %d%%):\n  %s" \
        % (TOL * 100, "\n  ".join(bad))

    # A job Prometheus does not have: said so, with the jobs it has.
    r = fptest.flowprof("report", "--prometheus", prom.base, "--job", "shop", "--window", "1m",
                        "--at", "%.3f" % t_stop, check=False)
    eq(r.returncode, 1, "exit status for an unknown job")
    assert "no flowprof series of job 'shop'" in r.stderr and \
        "jobs with flowprof series then: fleet" in r.stderr, r.stderr


@test
def fleet_command_line_errors_are_clear():
    viewslib.need_flowprof()
    port = promserver.free_port()  # nothing listens there
    cases = [
        (["--prometheus", "http://127.0.0.1:%d" % port], 2, "--prometheus needs --job NAME"),
        (["--job", "fleet", "snap.json"], 2, "--job applies to --prometheus URL"),
        (["--prometheus", "http://x", "--job", "j", "snap.json"], 2,
         "a snapshot (snap.json) or --prometheus, not both"),
        (["--prometheus", "http://x", "--job", "j", "--window", "0"], 2,
         "--window 0: expected a duration of at least 1 s"),
        (["--prometheus", "http://x", "--job", "j", "--at", "yesterday"], 2,
         "--at yesterday: expected Unix seconds"),
        (["--prometheus", "http://127.0.0.1:%d" % port, "--job", "j"], 1,
         "http://127.0.0.1:%d/api/v1/query" % port),
    ]
    for args, status, text in cases:
        r = fptest.flowprof("report", *args, check=False)
        eq(r.returncode, status, "exit status of report %s" % " ".join(args))
        assert text in r.stderr, "report %s: %r not in %r" % (" ".join(args), text, r.stderr)


if __name__ == "__main__":
    fptest.main()
