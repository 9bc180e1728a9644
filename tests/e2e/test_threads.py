#!/usr/bin/env python3
"""Many threads at once (tests/targets/threads.c), with real probes.

T worker threads run the same request loop (req -> work_cpu, work_sleep) at
the same time, more threads than CPUs, so they are preempted inside handlers
and migrate between CPUs. Each thread has its own stack of active handlers
in the kernel; the counts must stay exact and per thread nothing may mix:
- counts, edges and visits exact; means within 5% + probe cost of the
  target's own clock; bundles[].threads == T; one instance with every call;
- threads that exit inside a handler: those calls are incomplete, counted
  once each, and everything else stays exact.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

P = "threads."


def run_threads(n_threads, requests, *extra):
    core.need("threads")
    args = ["-t", str(n_threads), "-r", str(requests), "-c", "100", "-s", "100", *extra]
    snap, rep, _ = core.record_target("threads", "threads", args)
    fptest.eq(rep["n_threads"], n_threads, "target's thread count")
    fptest.eq(len(rep["threads"]), n_threads, "target's per-thread reports")
    for t in rep["threads"]:
        fptest.eq(t["handlers"]["req"]["calls"], requests, "req calls of thread %d" % t["tid"])
    return snap, rep


def check_threads_exact(snap, rep, n_threads, requests):
    calls = n_threads * requests
    core.check_counts(snap, rep, P, ["req", "work_cpu", "work_sleep"])
    fptest.eq(rep["handlers"]["req"]["calls"], calls, "target's req count")
    fptest.eq(core.edges(snap), {(P + "req", P + "work_cpu"): calls,
                                 (P + "req", P + "work_sleep"): calls}, "edges")
    f = fptest.flow(snap, "request")
    fptest.eq(f["invocations"], calls, "request invocations")
    fptest.eq(f["visits"], {P + "work_cpu": 1.0, P + "work_sleep": 1.0}, "request visits")
    fptest.eq([(b["name"], b["pids"], b["threads"]) for b in snap["bundles"]],
              [("threads", [rep["pid"]], n_threads)], "bundles (name, pids, threads)")
    hs = core.handlers(snap)
    for name in ("req", "work_cpu", "work_sleep"):
        fptest.eq([(i["pid"], i["calls"]) for i in hs[P + name]["instances"]],
                  [(rep["pid"], calls)], P + name + " instances")


@test
def threads_4_counts_exact():
    n, r = 4, 200
    snap, rep = run_threads(n, r)
    check_threads_exact(snap, rep, n, r)
    core.check_counters_zero(snap)
    hs = core.handlers(snap)
    for name in ("req", "work_cpu", "work_sleep"):
        core.check_mean(hs[P + name], rep, name)
        core.check_order(hs[P + name])


@test
def threads_16_counts_exact():
    n, r = 16, 50
    snap, rep = run_threads(n, r)
    check_threads_exact(snap, rep, n, r)
    core.check_counters_zero(snap)


@test
def threads_exit_inside_handler():
    """Each of 6 threads ends (pthread_exit) inside exit_in_call(): 6 incomplete
    calls, counted when the threads exit; the requests before stay exact."""
    n, r = 6, 50
    snap, rep = run_threads(n, r, "-e")
    fptest.eq(rep["entries"]["exit_in_call"], n, "target's exit_in_call entries")
    check_threads_exact(snap, rep, n, r)
    h = core.handlers(snap)[P + "exit_in_call"]
    fptest.eq((h["calls"], h["incomplete"], h["entries"]), (0, n, n),
              "exit_in_call (calls, incomplete, entries)")
    fptest.eq(snap["counters"]["exited_in_call"], n, "counters.exited_in_call")
    core.check_counters_zero(snap, but=("exited_in_call",))


if __name__ == "__main__":
    fptest.main()
