#!/usr/bin/env python3
"""Faults, end to end (issue 7): profiling changes nothing it should not.
The target's output (tests/targets/mt_output.c) is byte-identical with and
without profiling, and two flowprof instances on one target at once each get
exactly their own numbers, also when one detaches while a C++ call
(tests/targets/late_throw.cpp, built here with g++) is open.

What the faults suites share is in faults_lib.py.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
from faults_lib import (  # noqa: E402
    target, puppet_flows, Puppet, Recording, no_drops, calls, build_cxx,
)


@test
def output_identical_under_profiling():
    """tests/targets/mt_output (4 threads busy on 2 vCPUs, handlers using FP
    registers, a struct returned by value, varargs, stack arguments, a red zone,
    recursion and errno) prints the same bytes and exits the same way profiled
    (record -- CMD, every handler probed) as not; and every call is counted."""
    d = fptest.tmpdir()
    exe = target("mt_output")
    threads, rounds = 4, 20000
    names = ["round_body", "big_make", "fp_mix", "var_sum", "many_args", "recurse",
             "leaf_red_zone", "set_errno"]
    flows = fptest.write(os.path.join(d, "mt.yaml"), "bundles:\n  mt:\n    exe: %s\n"
                         "    handlers:\n%s" % (exe, "".join("      %s: %s\n" % (n, n)
                                                             for n in names)))
    plain = subprocess.run([exe, str(threads), str(rounds)], capture_output=True, timeout=120)
    eq(plain.returncode, 0, "unprofiled exit status")
    out = os.path.join(d, "snap.json")
    profiled = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--",
                               exe, str(threads), str(rounds)], capture_output=True, timeout=300)
    eq(profiled.returncode, 0, "flowprof exit status\n" + profiled.stderr.decode())
    if profiled.stdout != plain.stdout:
        raise AssertionError("output differs under profiling (%d vs %d bytes)"
                             % (len(profiled.stdout), len(plain.stdout)))
    s = fptest.load_json(out)
    n = threads * rounds
    lines = threads * (rounds // 1000)
    want = {"round_body": n, "big_make": n, "var_sum": n, "many_args": n, "set_errno": n,
            "leaf_red_zone": n, "fp_mix": n + lines,
            "recurse": threads * sum(i % 8 + 1 for i in range(rounds))}
    for name, count in want.items():
        eq(calls(s, "mt." + name), (count, 0), name + " (calls, incomplete)")
    no_drops(s, "snapshot")


@test
def two_recordings_at_once():
    """Two flowprof instances on the same process, overlapping: A records
    100 + 200 + 400 calls (per thread), B only the 200 made while it ran. Each
    gets exactly its own numbers."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet(threads=2)
    out_a, out_b = os.path.join(d, "a.json"), os.path.join(d, "b.json")
    rec_a = Recording("-f", flows, "-p", str(a.pid), "-o", out_a)
    eq(a.cmd("run 100"), "done 100", "target")
    rec_b = Recording("-f", flows, "-p", str(a.pid), "-o", out_b, "--mode", "multi")
    eq(a.cmd("run 200"), "done 200", "target")
    eq(rec_b.stop(signal.SIGINT), 130, "B's exit status\n" + rec_b.stderr)
    eq(a.cmd("run 400"), "done 400", "target")
    eq(rec_a.stop(signal.SIGINT), 130, "A's exit status\n" + rec_a.stderr)
    sa, sb = fptest.load_json(out_a), fptest.load_json(out_b)
    eq(calls(sa, "puppet.request"), (1400, 0), "A: request")
    eq(calls(sa, "puppet.work"), (1400, 0), "A: work")
    eq(fptest.edge(sa, "puppet.request", "puppet.work"), 1400, "A: edge")
    eq(calls(sb, "puppet.request"), (400, 0), "B: request")
    eq(calls(sb, "puppet.work"), (400, 0), "B: work")
    eq(fptest.edge(sb, "puppet.request", "puppet.work"), 400, "B: edge")
    no_drops(sa, "A")
    no_drops(sb, "B")
    a.quit()


@test
def two_cxx_recordings_one_detaches():
    """Two recordings of one C++ target at once: A and B attach, the target
    enters long_call, B stops while the call is open, then the call returns.
    Nothing of B's was in the target's memory (its exits are the function's
    ret sites), so A sees the return: (1, 0)."""

    d = fptest.tmpdir()
    exe = build_cxx("late_throw.cpp", d)
    flows = fptest.write(os.path.join(d, "late.yaml"), "bundles:\n  cxx:\n    exe: %s\n"
                         "    handlers:\n      long: long_call\n" % exe)
    p = fptest.start([exe], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p).split()[1])
    out_a, out_b = os.path.join(d, "a.json"), os.path.join(d, "b.json")
    rec_a = Recording("-f", flows, "-p", str(pid), "-o", out_a)
    rec_b = Recording("-f", flows, "-p", str(pid), "-o", out_b)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    eq(fptest.read_line(p).strip(), "inside", "target")
    eq(rec_b.stop(signal.SIGINT), 130, "B's exit status\n" + rec_b.stderr)
    p.stdin.write(b"return\n")
    p.stdin.flush()
    eq(fptest.read_line(p).strip(), "returned", "target")
    eq(p.wait(timeout=10), 0, "target exit status")
    rec_a.finish()
    eq(calls(fptest.load_json(out_a), "cxx.long"), (1, 0), "A: long_call (calls, incomplete)")


if __name__ == "__main__":
    fptest.main()
