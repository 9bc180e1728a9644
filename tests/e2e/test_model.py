#!/usr/bin/env python3
"""The queueing model end to end (issue 3, docs/model.md).

A thread pool of known size (tests/targets/pool_server.c) runs closed-loop
at saturation under `flowprof record`, and times its own throughput. Then
`flowprof report SNAP --json` must:
- predict the maximum throughput of the measured mix within 10% of what the
  target measured;
- name the pool as the bottleneck when the workers mostly sleep, and the CPU
  when they spin;
- double the predicted ceiling with --workers doubling the pool (and not move
  it when the CPU is what saturates);
- report a --target beyond capacity as such, never as a number.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import fptest  # noqa: E402
from fptest import eq, near, test  # noqa: E402

POOL_SERVER = os.path.join(fptest.TARGETS, "pool_server")
SECONDS = 4

FLOWS = """bundles:
  pool:
    exe: {exe}
    handlers:
      handle: handle_request
      compute: compute
      wait_io: wait_io
flows:
  req:
    entry: pool.handle
    calls:
      - pool.handle -> pool.compute
      - pool.handle -> pool.wait_io
"""

# pool-bound: 4 workers, 100 us on the CPU and 4 ms asleep per request, 16
# clients: ceiling 4 / 4.1 ms, about 975/s, with the CPUs 5% busy.
POOL_ARGS = ["-t", "4", "-n", "16", "-c", "100", "-s", "4000", "-d", str(SECONDS)]
# CPU-bound: 8 workers spinning 2 ms per request on nproc CPUs, 16 clients.
CPU_ARGS = ["-t", "8", "-n", "16", "-c", "2000", "-s", "0", "-d", str(SECONDS)]

_recordings = {}


def need_binaries():
    for path in (fptest.FLOWPROF, POOL_SERVER):
        if not os.path.exists(path):
            raise AssertionError("%s is not built (make)" % os.path.relpath(path, fptest.ROOT))


def record(args):
    """pool_server ARGS under `flowprof record -- CMD`: (snapshot path, the
    target's own JSON report). Recorded once per argument list."""
    key = tuple(args)
    if key in _recordings:
        return _recordings[key]
    need_binaries()
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "flows.yaml"), FLOWS.format(exe=POOL_SERVER))
    snap = os.path.join(d, "snap.json")
    r = fptest.flowprof("record", "-f", flows, "-d", "120", "-o", snap, "--", POOL_SERVER,
                        *args, timeout=180)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError("pool_server printed no report; stdout:\n%s\nstderr:\n%s"
                             % (r.stdout, r.stderr))
    own = json.loads(lines[-1])
    eq(own["target"], "pool_server", "target report")
    _recordings[key] = (snap, own)
    return _recordings[key]


def report(snap, *opts, json_out=True, check=True):
    """`flowprof report SNAP [--json] OPTS`; skips while report is not wired
    to the model yet (no "model" object, or the model options unknown)."""
    args = ["report", snap] + (["--json"] if json_out else []) + list(opts)
    r = fptest.flowprof(*args, check=False)
    if r.returncode and "unrecognized option" in r.stderr:
        raise AssertionError("flowprof report does not take the model options yet: %s"
                          % r.stderr.splitlines()[0])
    if check and r.returncode:
        raise AssertionError("flowprof %s exited %d\nstderr:\n%s"
                             % (" ".join(args), r.returncode, r.stderr))
    return r


def model(snap, *opts):
    doc = json.loads(report(snap, *opts).stdout)
    if "model" not in doc:
        raise AssertionError('flowprof report --json has no "model" object yet '
                          "(user/cmd_report.c does not call model_build)")
    return doc["model"]


def station(m, name):
    for s in m["stations"]:
        if s["name"] == name:
            return s
    raise AssertionError("station %s not in the model (have %s)"
                         % (name, [s["name"] for s in m["stations"]]))


def flow(m, name):
    for f in m["flows"]:
        if f["name"] == name:
            return f
    raise AssertionError("flow %s not in the model" % name)


def cpu_share(own, snap):
    """Share of the host's CPUs the target process got during its run."""
    nproc = fptest.load_json(snap)["nproc"]
    return own["cpu_ns"] / (own["elapsed_ns"] * nproc)


def say_ceiling(what, req, own):
    """The figure the closing notes quote: the model's ceiling against the
    throughput the saturated target measured itself."""
    print("# %s: predicted max %.1f/s, measured %.1f/s (error %+.1f%%)"
          % (what, req["max_rate_per_s"], own["throughput_per_s"],
             100 * (req["max_rate_per_s"] / own["throughput_per_s"] - 1)))


@test
def pool_saturates_bottleneck_and_ceiling():
    snap, own = record(POOL_ARGS)
    m = model(snap)
    eq(m["bottleneck"]["station"], "pool", "bottleneck station")
    eq(m["bottleneck"]["handler"], "pool.wait_io", "largest contributor to the pool's demand")
    pool = station(m, "pool")
    eq(pool["servers"], 4, "pool servers (threads that ran handlers)")
    eq(pool["servers_source"], "observed", "servers source")
    eq(pool.get("servers_basis"), "concurrency", "observed from the most in its handlers at once")
    if pool["utilization"] < 0.9:
        raise AssertionError("the pool should be saturated: utilization %.3f" % pool["utilization"])
    if station(m, "cpu")["utilization"] > 0.5:
        raise AssertionError("the CPU should not be the limit here: %r" % station(m, "cpu"))
    req = flow(m, "req")
    eq(req["exceeds_capacity"], False, "exceeds_capacity at the measured rate")
    say_ceiling("pool-bound", req, own)
    near(req["max_rate_per_s"], own["throughput_per_s"], 0.10,
         "predicted max throughput of the measured mix vs the target's own")
    near(req["max_rate_alone_per_s"], req["max_rate_per_s"], 1e-6, "one flow: alone = mix")
    eq(req["alone_bottleneck"], "pool", "what limits the flow alone")
    eq(m["ceiling_station"], "pool", "the station full at the ceiling")
    # the prediction at the measured rate is a finite time, at least the service
    if not (req["predicted_mean_ns"] and req["predicted_mean_ns"] >= 4e6):
        raise AssertionError("predicted mean %r" % req["predicted_mean_ns"])
    if not (req["predicted_p99_ns"] >= req["predicted_mean_ns"]):
        raise AssertionError("p99 %r below the mean %r"
                             % (req["predicted_p99_ns"], req["predicted_mean_ns"]))


@test
def workers_doubling_doubles_the_pool_ceiling():
    snap, _ = record(POOL_ARGS)
    base = model(snap)
    doubled = model(snap, "--workers", "pool=8")
    pool = station(doubled, "pool")
    eq(pool["servers"], 8, "--workers pool=8")
    eq(pool["servers_source"], "command line", "servers source")
    near(flow(doubled, "req")["max_rate_per_s"], 2 * flow(base, "req")["max_rate_per_s"], 0.01,
         "ceiling with twice the workers")
    near(pool["utilization"], station(base, "pool")["utilization"] / 2, 0.01,
         "utilization with twice the workers")


@test
def target_beyond_capacity_is_reported_as_such():
    snap, own = record(POOL_ARGS)
    beyond = "req=%d/s" % int(2 * own["throughput_per_s"])
    m = model(snap, "--target", beyond)
    req = flow(m, "req")
    eq(req["targeted"], True, "targeted")
    eq(req["exceeds_capacity"], True, "exceeds_capacity")
    eq(req["saturated_station"], "pool", "saturated station")
    eq(req["predicted_mean_ns"], None, "predicted_mean_ns beyond capacity")
    eq(req["predicted_p99_ns"], None, "predicted_p99_ns beyond capacity")
    if not m["headroom"] < 0.6:
        raise AssertionError("headroom %r at twice the capacity" % m["headroom"])
    # sizing: enough workers for U <= 0.7 at the target
    pool = station(m, "pool")
    if not pool["required_workers"] >= 4 * 2 / 0.7 * 0.9:
        raise AssertionError("required workers %r" % pool["required_workers"])
    text = report(snap, "--target", beyond, json_out=False).stdout
    if "req exceeds capacity: pool would need" not in text:
        raise AssertionError("the table does not say 'exceeds capacity':\n" + text)
    for bad in ("inf", "nan", "-nan"):
        if bad in text.split():
            raise AssertionError("the table prints %r:\n%s" % (bad, text))


@test
def cpu_saturates_bottleneck_and_ceiling():
    # Other processes using the CPUs meanwhile are background load on the
    # CPU station (snapshot host_cpu_s): the ceiling is what is left to it.
    snap, own = record(CPU_ARGS)
    m = model(snap)
    eq(m["bottleneck"]["station"], "cpu", "bottleneck station")
    eq(m["bottleneck"]["handler"], "pool.compute", "largest on-CPU contributor")
    req = flow(m, "req")
    say_ceiling("cpu-bound", req, own)
    near(req["max_rate_per_s"], own["throughput_per_s"], 0.10,
         "predicted max throughput of the measured mix vs the target's own")
    eq(req["alone_bottleneck"], "cpu", "what limits the flow alone")
    eq(m["ceiling_station"], "cpu", "the station full at the ceiling")
    # more workers do not help when the CPUs are the limit
    more = model(snap, "--workers", "pool=16")
    near(flow(more, "req")["max_rate_per_s"], req["max_rate_per_s"], 0.01,
         "ceiling with twice the workers, CPU-bound")


@test
def users_show_the_closed_workload_without_v():
    """--users asks for the closed workload's table by name: the text report
    prints it without -v, one row per user count, the model's throughput at
    each (the same numbers --json gives)."""
    snap, _ = record(POOL_ARGS)
    text = report(snap, "--users", "1,3", "--think", "0.5", json_out=False).stdout
    lines = text.splitlines()
    head = [i for i, ln in enumerate(lines) if ln.startswith("Closed workload: N users")]
    eq(len(head), 1, "one closed-workload heading in the text report:\n" + text)
    pts = model(snap, "--users", "1,3", "--think", "0.5")["closed"]["points"]
    eq([p["users"] for p in pts], [1, 3], "the user counts asked for")
    rows = [ln.split() for ln in lines[head[0] + 3:head[0] + 5]]
    eq([r[0] for r in rows], ["1", "3"], "one row per user count:\n" + text)
    plain = report(snap, json_out=False).stdout
    if "Closed workload" in plain:
        raise AssertionError("without --users, the table is for -v only:\n" + plain)


@test
def model_option_errors():
    snap, _ = record(POOL_ARGS)
    model(snap)  # skips while report has no model
    r = report(snap, "--target", "rq=10/s", check=False)
    eq(r.returncode, 2, "exit status for an unknown flow")
    if "--target: unknown flow 'rq'; did you mean 'req'?" not in r.stderr:
        raise AssertionError("stderr: %r" % r.stderr)
    r = report(snap, "--workers", "pool=0", check=False)
    eq(r.returncode, 2, "exit status for a malformed --workers")
    if "--workers 'pool=0': expected BUNDLE=N with N a positive integer" not in r.stderr:
        raise AssertionError("stderr: %r" % r.stderr)
    r = report(snap, "--instances", "db=2", check=False)
    eq(r.returncode, 2, "exit status for an unknown bundle")
    if "--instances: unknown bundle 'db'; bundles are: pool" not in r.stderr:
        raise AssertionError("stderr: %r" % r.stderr)



@test
def idle_workers_named_alike_are_noted():
    """A pool whose load uses 2 of its 4 workers (pool_server -i 2: two more
    named "pool-worker" wait for work of their own, as memcached's workers
    wait on the connections bound to them). The pool is what was seen
    serving at once, 2 servers; the report notes the 4 threads named as the
    first to run a handler was, and how to say so. Recorded with -p for 2 s
    while the target runs on: the threads are counted at the end of the
    recording, from /proc."""
    need_binaries()
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "pool.yaml"), FLOWS.format(exe=POOL_SERVER))
    out = os.path.join(d, "snap.json")
    p = fptest.start([POOL_SERVER, "-t", "2", "-i", "2", "-n", "4", "-c", "100", "-s", "2000",
                      "-d", "6"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        fptest.flowprof("record", "-f", flows, "-p", str(p.pid), "-d", "2", "--unprobed", "0",
                        "-o", out, timeout=60)
    finally:
        p.kill()
        p.wait()
    b = fptest.load_json(out)["bundles"][0]
    eq((b.get("worker_name"), b.get("named_threads")), ("pool-worker", 4),
       "the workers' name and how many bore it")
    m = json.loads(fptest.flowprof("report", "--json", out).stdout)["model"]
    eq([s["servers"] for s in m["stations"] if s["name"] == "pool"], [2], "the pool's servers")
    want = ("pool: 2 servers, as many as were seen serving at once; its processes have 4 "
            "threads named pool-worker, as the first to run a handler was: if they all serve, "
            "the pool has 4 (--workers pool=4, or workers: in the flow file)")
    if want not in m["notes"]:
        raise AssertionError("no note %r in %r" % (want, m["notes"]))

if __name__ == "__main__":
    fptest.main()
