#!/usr/bin/env python3
"""record --unprobed: a service's CPU time per call measured without probes
right after the recording, the model's CPU demand where the probes took a
large share of it.

redis-server (the saturation harness's: pinned to the last CPU, on a Unix
socket) under redis_load at a steady 10k requests/s (Poisson arrivals, 32
connections: a rate it keeps with its probes, also beside a CPU hog), where
one probed function's probes add more than its own CPU time again. The
truth is redis's own: its CPU clock (every thread's scheduler sum) over its
own count of commands (INFO stats total_commands_processed), for 2 s before
flowprof attaches and 1.5 s after it has gone, in the same load run. flowprof's figure (the snapshot's
unprobed CPU time over its late calls' rate) must lie within 10 % of their
mean (the issue's goal for a ceiling, which it sets) plus their own
difference, how much the service itself moved meanwhile. The model takes
it: the CPU the probes took, as measured, is the bundle's CPU time less
that figure times its calls.
"""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
import saturation as harness  # noqa: E402

RATE, CLIENTS = 10000, 32
CLOSED_CLIENTS = 4  # each waits for its answer before it asks again


RATE_HELD = 0.10  # user/model/model_cpu.c, UNPROBED_RATE_HELD
PROBE_COST_AGREES = 0.25  # user/report/summary.c


def unprobed_per_call(snap, u, hid):
    """flowprof's CPU seconds a call of hid without probes, as the model
    takes it: the first half's CPU time (nothing probed) at the rate of the
    recording's late part where the calls counted in the second half came at
    that rate; else the second half's CPU time less the counting probe's
    charge, over the calls counted. (The one handler counted is all there is.)"""
    late = u["late_calls"] / u["late_s"]
    if u.get("counted_calls"):
        eq(u["counted_window_calls"], fptest.handler(snap, hid)["calls"],
           "the counted handler's calls in the window")
        if abs(u["counted_calls"] / u["counted_s"] / late - 1) > RATE_HELD:
            return (u["counted_cpu_s"] - u["counted_probe_s"]) / u["counted_calls"]
    return u["cpu_s"] / u["seconds"] / late


def record_with_truth(srv, d, load_args):
    """redis under redis_load(load_args) for 14 s: its own CPU a command
    before and after a recording with --unprobed 1, with the snapshot."""
    load = {}
    th = threading.Thread(target=lambda: load.setdefault("r", srv.run(*load_args)))
    th.start()
    time.sleep(2.0)  # its second of warm-up, and a second of load
    before, slept_before = truth(srv, 2.0)
    flows = fptest.write(os.path.join(d, "redis.yaml"), harness.REDIS_FLOWS)
    snap_path = os.path.join(d, "snap.json")
    r = fptest.flowprof("record", "-f", flows, "-p", str(srv.pid), "-d", "3",
                        "--unprobed", "1", "-v", "-o", snap_path, timeout=60)
    print("# " + "\n# ".join(l for l in r.stderr.splitlines() if "without the probes" in l),
          flush=True)
    after, slept_after = truth(srv, 1.5)
    th.join()
    eq("r" in load, True, "the load ran to its end")
    snap = fptest.load_json(snap_path)
    u = snap["bundles"][0].get("unprobed")
    if not u:
        raise AssertionError("no unprobed measurement in the snapshot's bundle: %r\n%s"
                             % (snap["bundles"][0], r.stderr))
    return snap_path, snap, u, (before, after), (slept_before, slept_after)


def commands(sock):
    """redis's own count of the commands it has processed."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(b"INFO stats\r\n")
        data = b""
        while b"total_commands_processed" not in data or not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode().splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":")[1])
    raise AssertionError("no total_commands_processed in INFO stats: %r" % data[:200])


def sleeps(pid):
    """The times redis's threads went to sleep so far (the kernel's count of
    voluntary switches, thread by thread)."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    n += int(line.split()[1])
    return n


def truth(srv, seconds):
    """redis's CPU seconds per command over the next `seconds`, and its
    threads' sleeps per second."""
    c0, n0, s0 = fptest.threads_cpu_ns(srv.pid) / 1e9, commands(srv.sock), sleeps(srv.pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    c1, n1, s1 = fptest.threads_cpu_ns(srv.pid) / 1e9, commands(srv.sock), sleeps(srv.pid)
    t1 = time.monotonic()
    if n1 <= n0:
        raise AssertionError("redis processed no commands in %.1f s" % seconds)
    return (c1 - c0) / (n1 - n0), (s1 - s0) / (t1 - t0)


@test
def unprobed_cpu_per_call_matches_redis_without_probes():
    srv = harness.Redis()
    try:
        snap_path, snap, u, (before, after), (slept_before, slept_after) = record_with_truth(
            srv, fptest.tmpdir(), (CLIENTS, 14, RATE))
    finally:
        srv.stop()
    b = snap["bundles"][0]
    eq(u["seconds"] + u.get("counted_s", 0) >= 0.99, True,
       "the unprobed window (its two halves) lasted its second: %r" % u)
    late_rate = u["late_calls"] / u["late_s"]
    fptest.near(late_rate, RATE, 0.10, "the late part's rate against the load's")
    if not u.get("counted_calls"):
        raise AssertionError("the calls were not counted without the probes: %r" % u)
    # at a steady rate, the calls counted then are that rate
    fptest.near(u["counted_calls"] / u["counted_s"], RATE, RATE_HELD,
                "calls counted a second without the probes against the load's rate")
    measured = unprobed_per_call(snap, u, "redis.command")
    want = (before + after) / 2
    tol = 0.10 * want + abs(before - after)
    print("# redis CPU a command without probes: %.2f us before, %.2f us after, flowprof "
          "%.2f us (%+.1f%%); with its probes %.2f us" % (
              before * 1e6, after * 1e6, measured * 1e6, 100 * (measured / want - 1),
              b["cpu_s"] / fptest.handler(snap, "redis.command")["calls"] * 1e6), flush=True)
    if abs(measured - want) > tol:
        raise AssertionError("flowprof's unprobed CPU a command %.3f us, redis's own %.3f us "
                             "(before %.3f, after %.3f): off by more than %.3f us"
                             % (measured * 1e6, want * 1e6, before * 1e6, after * 1e6,
                                tol * 1e6))
    # and how often its threads slept then (the model's wake-ups without
    # probes: user/model/model_wake.c), against the kernel's count read here
    if not u.get("sleeps"):
        raise AssertionError("no sleeps in the unprobed measurement: %r" % u)
    rate = (slept_before + slept_after) / 2
    print("# redis's threads slept %.0f/s before, %.0f/s after; flowprof's unprobed window "
          "%.0f/s" % (slept_before, slept_after, u["sleeps"] / u["seconds"]), flush=True)
    fptest.near(u["sleeps"] / u["seconds"], rate, 0.10 + abs(slept_before - slept_after) / rate,
                "sleeps a second without probes against redis's own threads' count")
    # the model's CPU demand is that measurement: what the probes took,
    # as measured, is the rest of the bundle's CPU time
    m = harness.model(snap_path)
    st = [s for s in m["stations"] if s["name"] == "redis"][0]
    calls = fptest.handler(snap, "redis.command")["calls"]
    fptest.near(st["probes_cpu_measured_s"], b["cpu_s"] - measured * calls, 1e-3,
                "the probes' CPU time, as measured", abs_tol=1e-5)
    # the probe-cost correction, proven on the service: what the calibration
    # charged the probes (the snapshot's probe_cpu_ns, which the handlers'
    # times were corrected by) against what they cost redis by its own
    # clock: its CPU time a command with them less without them (before and
    # after the recording, as above), plus the waking they spared it (fewer
    # sleeps while recorded: the model's wake-up cost times the sleeps the
    # kernel counted fewer). Within a quarter and how far redis's own
    # figure moved between before and after, or else the report says so.
    # (Calibrated beside redis and its load, the charge read -11 % to +44 %
    # of redis's own figure over runs here: the report's flag is what keeps
    # such a run from misleading.)
    charged = fptest.handler(snap, "redis.command")["probe_cpu_ns"] / 1e9 / calls
    spared = (st.get("probes_wake_saved_s") or 0) / calls
    true_cost = b["cpu_s"] / calls - want + spared
    agree = PROBE_COST_AGREES + abs(before - after) / true_cost
    # the report's own figures (probe-cost-disagrees), flagged exactly when
    # more than a quarter apart
    cost = st["probes_cpu_measured_s"] + (st.get("probes_wake_saved_s") or 0)
    apart = abs(st["probes_cpu_s"] / cost - 1)
    flags = json.loads(fptest.flowprof("report", "--json", snap_path).stdout)["accuracy_flags"]
    disagrees = [f["text"] for f in flags if f["kind"] == "probe-cost-disagrees"]
    print("# the probes cost redis %.2f us a command by its own clock (%.2f us of it waking "
          "spared), %.2f us as flowprof measured it; calibrated %.2f us (%+.0f%%, agreeing "
          "within %.0f%%); %s" % (true_cost * 1e6, spared * 1e6, cost / calls * 1e6,
                                  charged * 1e6, 100 * (charged / true_cost - 1), 100 * agree,
                                  "flagged" if disagrees else "not flagged"), flush=True)
    if bool(disagrees) != (apart > PROBE_COST_AGREES):
        raise AssertionError("the probes' calibrated cost %.3f s and as measured %.3f s are "
                             "%.0f%% apart, but the flags say %s"
                             % (st["probes_cpu_s"], cost, 100 * apart, disagrees or "nothing"))
    # off by more, unflagged: only as far as flowprof's measurement may be
    # off redis's own (checked above: tol a command)
    miss = abs(charged - true_cost) - agree * true_cost
    if not disagrees and miss > tol:
        raise AssertionError("the probes' calibrated cost %.2f us a command, what they cost "
                             "redis by its own clock %.2f us: more than %.0f%% apart, and the "
                             "report does not say so" % (charged * 1e6, true_cost * 1e6,
                                                         100 * agree))


@test
def unprobed_cpu_per_call_with_a_load_that_waits_for_each_answer():
    """Clients that wait for each answer (redis_load with no rate) ask more
    once the probes go: the recording's rate says nothing of the calls made
    then. flowprof counts them with one entry probe a call, and takes that
    probe's calibrated cost out. Here that probe costs about what a command
    does, and its calibrated cost is what is uncertain; so the figure must
    be within 10 % of redis's own (and what redis itself moved) or, failing
    that, at most half as far from it as the figure the recording's rate
    gives (which reads 2-3x high here). On a host whose probes cost a
    command little, the clients ask hardly more once they go (+-10 %): the
    rate held, and the first half's figure is held the same way; they must
    never ask markedly fewer."""
    srv = harness.Redis()
    try:
        snap_path, snap, u, (before, after), _ = record_with_truth(
            srv, fptest.tmpdir(), (CLOSED_CLIENTS, 14))
    finally:
        srv.stop()
    b = snap["bundles"][0]
    if not u.get("counted_calls"):
        raise AssertionError("the calls were not counted without the probes: %r" % u)
    measured = unprobed_per_call(snap, u, "redis.command")
    # the probes' cost is not taken out of the first half: nothing was probed
    assumed = u["cpu_s"] / u["seconds"] / (u["late_calls"] / u["late_s"])
    want = (before + after) / 2
    tol = 0.10 * want + abs(before - after)
    counted_rate, late_rate = u["counted_calls"] / u["counted_s"], u["late_calls"] / u["late_s"]
    print("# redis CPU a command without probes: %.2f us before, %.2f us after; flowprof %.2f "
          "us (%+.1f%%) from %.0f calls/s counted then; at the recording's %.0f calls/s it "
          "would read %.2f us (%+.1f%%)" % (
              before * 1e6, after * 1e6, measured * 1e6, 100 * (measured / want - 1),
              counted_rate, late_rate, assumed * 1e6, 100 * (assumed / want - 1)), flush=True)
    # Where the probes cost a command little (this host's cheapest: 0.8 us
    # a hit on 4 us), the clients ask hardly more once they go: then the
    # rate held, the first half's figure is the model's, and it is held the
    # same way. The clients must not have asked markedly fewer.
    if counted_rate < late_rate * (1 - RATE_HELD):
        raise AssertionError("calls counted without the probes %.0f/s, fewer than the "
                             "recording's %.0f/s: the clients did not wait for their answers?"
                             % (counted_rate, late_rate))
    if counted_rate <= late_rate * (1 + RATE_HELD):
        fptest.diag("the clients asked only %+.1f%% more once the probes went: the rate held, "
                    "and the first half's figure is the model's" % (
                        100 * (counted_rate / late_rate - 1)))
    if abs(measured - want) > max(tol, abs(assumed - want) / 2):
        raise AssertionError("flowprof's unprobed CPU a command %.3f us, redis's own %.3f us "
                             "(before %.3f, after %.3f): off by more than %.3f us, and more "
                             "than half of the %.3f us the recording's rate gives is"
                             % (measured * 1e6, want * 1e6, before * 1e6, after * 1e6,
                                tol * 1e6, abs(assumed - want) * 1e6))
    m = harness.model(snap_path)
    st = [s for s in m["stations"] if s["name"] == "redis"][0]
    calls = fptest.handler(snap, "redis.command")["calls"]
    fptest.near(st["probes_cpu_measured_s"], b["cpu_s"] - measured * calls, 1e-3,
                "the probes' CPU time, as measured", abs_tol=1e-5)


if __name__ == "__main__":
    fptest.main()
