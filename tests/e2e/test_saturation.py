"""PostgreSQL and redis taken to their maximum and recorded at a fifth of it
(issue 17 section 4; tests/e2e/saturation.py has the servers and their load
generators, pinned apart: the server on the last CPU, the load on CPU 0).

What the model built from that low-load recording is held to:
- its CPU demand per request is the server's own CPU time per request
  without probes at the recording's load (its processes' CPU clocks, read
  before and after the recording), within 10% and what the truth moved (that
  figure between its two reads, the maximum between its two runs);
- its predicted maximum throughput does not exceed the server's measured
  maximum (the best ramp step where its CPU was full) by more than 10% and
  what the truth moved (the maximum between its runs, the server's CPU a
  request between its reads): a ceiling that promises more than the server
  gives is what misleads.
The model's error against the measured maximum is printed. It is not held to
10% both ways: on the test VM a request costs these servers 33-43% less CPU
at their maximum than at a fifth of it (bench/results), by an effect that
their threads' scheduling does not show, so a model from the low-load
recording puts the ceiling lower by about as much (docs/model.md, "Assumptions and
limits"). The report must say so: a ceiling twice the recorded rate or more
is flagged `extrapolated`.
"""
import json
import os
import time

import fptest
from fptest import test
import saturation as harness

# seconds per step of the ramp and per run of a load
STEP_S = 2
# a fifth of the maximum, as the bench records (bench/lib/saturation.py)
LOW = 0.2
# the goal's share: the demand against the server's own figure, the ceiling
# above the measured maximum
GOAL = 0.10


def need_two_cpus():
    if harness.cpus() < 2:
        raise fptest.Skip("one CPU: the server and its load generator cannot be kept apart")


def cpu_per_request(cpu_ns, run, rate):
    """The server's CPU ns per request while run(rate) holds a steady rate:
    its processes' CPU clocks (cpu_ns()) over 2 s in the middle of the run,
    over the requests the load generator says it got done a second."""
    def clocks():
        c0, t0 = cpu_ns(), time.monotonic()
        time.sleep(2)
        return (cpu_ns() - c0) / (time.monotonic() - t0)

    per_s, (done, _) = harness.during(lambda: run(rate), clocks, warmup=1.5)
    return per_s / done


def ceiling_from_a_low_load(srv, flows, flow, cpu_ns, record_args=()):
    # any growth goes on (redis grew 2-3% a step from 4 to 64 clients): a
    # maximum measured short of the server's would fail a right ceiling
    steps = []

    def step(c):
        x, lat, busy = harness.run_busy(srv, c, STEP_S)
        steps.append((c, x, busy))
        return x, lat

    harness.ramp(step, most=64, settle=0)
    # the server's own maximum: where its CPU was full (PostgreSQL at 1
    # client is bounded by the round trip), as the bench takes it
    clients, best, busy = harness.server_maximum(steps)
    points = [(c, x) for c, x, _ in steps]
    low = LOW * best
    run = lambda rate, s=STEP_S + 2: srv.run(clients, s, rate=rate)  # noqa: E731
    before = cpu_per_request(cpu_ns, run, low)
    path = fptest.write(os.path.join(fptest.tmpdir(), "flows.yaml"), flows)
    snap, _ = harness.record_during(path, lambda: run(low, 9), seconds=3,
                                    args=record_args)
    after = cpu_per_request(cpu_ns, run, low)
    again, _ = srv.run(clients, STEP_S)
    rep = json.loads(fptest.flowprof("report", "--json", snap).stdout)
    m = rep["model"]
    f = harness.flow(m, flow)
    cpu = [s for s in m["stations"] if s["kind"] == "cpu"][0]
    demand = cpu["demand_ns"][flow]
    own = (before + after) / 2
    moved = abs(before - after) / own
    maxes = (best, again)
    spread = (max(maxes) - min(maxes)) / min(maxes)
    predicted = f["max_rate_per_s"]
    fptest.diag("clients %s; maximum %.0f/s at %d clients (the server's CPU %.0f%% busy), "
                "%.0f/s again (%.0f%% apart); "
                "predicted %.0f/s (%+.0f%%); CPU a request: model %.1f us, the server's own "
                "%.1f us before and %.1f us after the recording" % (
                    ", ".join("%d: %.0f/s" % p for p in points), best, clients, 100 * busy, again,
                    100 * spread, predicted, 100 * (predicted / best - 1), demand / 1e3,
                    before / 1e3, after / 1e3))
    # what the demand rests on: the server's CPU time while recorded, the
    # probes' share of it at their calibrated cost, and as measured without
    # them after the recording (record's default where the calibration
    # cannot vouch for it)
    pool = [s for s in m["stations"] if s.get("kind") != "cpu" and "cpu_used_s" in s]
    for s in pool:
        fptest.diag("%s: CPU %.3f s while recorded; its probes %.3f s at their calibrated cost, "
                    "%s measured without them" % (
                        s["name"], s["cpu_used_s"], s.get("probes_cpu_s", float("nan")),
                        "%.3f s" % s["probes_cpu_measured_s"]
                        if s.get("probes_cpu_measured_s") is not None else "not"))
    flags = [x["kind"] for x in rep["accuracy_flags"]]
    if predicted >= 2 * f["rate_per_s"] and "extrapolated" not in flags:
        raise AssertionError("a ceiling %.1fx the recorded rate, not flagged extrapolated: %s"
                             % (predicted / f["rate_per_s"], flags))
    # the host's speed moves between minutes here: the server's CPU a request
    # read 72 and 70 us before and after a recording whose own read 61 us,
    # while its maximum moved 62 % between the ramp and the run after; what
    # the truth moved within this test is what it can be held to
    fptest.near(demand, own, GOAL + moved + spread,
                "the model's CPU demand a request against the server's own without probes "
                "(before %.1f us, after %.1f us; the maximum moved %.0f%%)"
                % (before / 1e3, after / 1e3, 100 * spread))
    # the truth's own noise: how far the maximum moved between its two runs,
    # and the server's CPU a request between before and after the recording
    # (the ceiling is the CPU over it)
    if predicted > max(maxes) * (1 + GOAL + spread + moved):
        raise AssertionError("the model's maximum %.0f/s is above the measured %s by more "
                             "than %.0f%% and what they moved (%.0f%%, the server's CPU a "
                             "request %.0f%%)"
                             % (predicted, " and ".join("%.0f/s" % x for x in maxes),
                                100 * GOAL, 100 * spread, 100 * moved))


@test
def postgres_ceiling_from_a_low_load():
    need_two_cpus()
    pg = harness.Postgres()
    try:
        def cpu_ns():
            return sum(fptest.threads_cpu_ns(p) for p in pg.backends() + [pg.postmaster]
                       if os.path.exists("/proc/%d" % p))
        ceiling_from_a_low_load(pg, harness.PG_FLOWS, "select", cpu_ns)
    finally:
        pg.stop()


@test
def redis_ceiling_from_a_low_load():
    need_two_cpus()
    r = harness.Redis()
    try:
        ceiling_from_a_low_load(r, harness.REDIS_FLOWS, "command",
                                lambda: fptest.threads_cpu_ns(r.pid), ("-p", str(r.pid)))
    finally:
        r.stop()


if __name__ == "__main__":
    fptest.main()
