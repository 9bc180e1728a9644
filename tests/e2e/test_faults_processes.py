#!/usr/bin/env python3
"""Faults, end to end (issue 7): the target's processes and threads come and
go while it is recorded. Real probes on real targets (tests/targets/puppet.c,
thread_churn.c) that do exactly what a test tells them, so every count is
known and asserted exactly:

- a process exits (also from inside a handler) during the recording;
- a process execs (also from inside a handler), forks workers (also under
  `record -- CMD`), or starts and ends threads at a high rate.

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
    target, puppet_flows, Puppet, Recording, header_define, counters, no_drops, calls,
    instance_calls,
)


# --- the target exits -------------------------------------------------------

@test
def process_exits_during_recording():
    """Two processes of one executable, attached by binary path (no -p); one exits
    from inside a handler while the other goes on. The snapshot keeps both
    processes' calls, each under its own pid."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a, b = Puppet(), Puppet()
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-o", out)
    eq(a.cmd("run 1000"), "done 1000", "a")
    eq(b.cmd("run 700"), "done 700", "b")
    a.p.stdin.write(b"exit-in-call\n")
    a.p.stdin.flush()
    eq(a.p.wait(timeout=10), 3, "exit status of a (exit() inside request_exit)")
    eq(b.cmd("run 300"), "done 300", "b after a exited")
    eq(rec.stop(signal.SIGINT), 130, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (2000, 0), "request (calls, incomplete)")
    eq(calls(s, "puppet.work"), (2000, 0), "work (calls, incomplete)")
    eq(calls(s, "puppet.exit"), (0, 1), "request_exit: the call never returned")
    eq(counters(s)["exited_in_call"], 1, "counters.exited_in_call")
    eq(fptest.edge(s, "puppet.request", "puppet.work"), 2000, "edge request -> work")
    eq(instance_calls(s, "puppet.request"), {a.pid: 1000, b.pid: 1000}, "request per process")
    bundle = s["bundles"][0]
    eq(sorted(bundle["pids"]), sorted([a.pid, b.pid]), "bundle pids")
    no_drops(s, "snapshot")
    b.quit()


@test
def recorded_pid_exits_ends_recording():
    """-p PID: when the only recorded process exits, record stops by itself (exit 0)
    and the snapshot has everything it did."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet(threads=2)
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
    eq(a.cmd("run 500"), "done 500", "a")
    a.quit()
    eq(rec.finish(timeout=30), 0, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (1000, 0), "request (calls, incomplete)")
    eq(s["bundles"][0]["threads"], 2, "threads that ran handlers")
    no_drops(s, "snapshot")


# --- exec and fork ----------------------------------------------------------

@test
def exec_keeps_recording():
    """-p PID of a process that execs (its own binary again: same pid), once outside
    and once inside a handler: calls before and after both exec are counted, and
    the handler the exec left is incomplete."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet()
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
    eq(a.cmd("run 100"), "done 100", "before exec")
    a.p.stdin.write(b"exec\n")
    a.p.stdin.flush()
    eq(a.expect_ready(), a.pid, "pid after exec")
    eq(a.cmd("run 200"), "done 200", "after the first exec")
    a.p.stdin.write(b"exec-in-call\n")
    a.p.stdin.flush()
    eq(a.expect_ready(), a.pid, "pid after exec in a handler")
    eq(a.cmd("run 400"), "done 400", "after the second exec")
    eq(rec.stop(signal.SIGTERM), 143, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (700, 0), "request (calls, incomplete)")
    eq(calls(s, "puppet.work"), (700, 0), "work (calls, incomplete)")
    eq(calls(s, "puppet.exec"), (0, 1), "request_exec: exec'd inside the call")
    eq(counters(s)["exited_in_call"], 1, "counters.exited_in_call")
    no_drops(s, "snapshot")
    a.quit()


@test
def exec_under_started_command():
    """record -- CMD where CMD execs: the recording follows the same process."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    out = os.path.join(d, "snap.json")
    # sh starts, then execs the target (same pid), which makes 50 calls and
    # exits at the end of its input.
    rec_p = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--",
                            "/bin/sh", "-c", 'exec "$0" 1', target("puppet")],
                           input="run 50\n", capture_output=True, text=True, timeout=60)
    eq(rec_p.returncode, 0, "flowprof exit status\n" + rec_p.stderr)
    eq(rec_p.stdout.split()[0:1], ["ready"], "target output")
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (50, 0), "request after sh exec'd the target")
    no_drops(s, "snapshot")


@test
def forked_workers_are_recorded():
    """Without -p, a bundle is attached by binary path: workers forked during the
    recording are measured, each as its own process."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet()
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-o", out)
    eq(a.cmd("run 10"), "done 10", "parent")
    eq(a.cmd("fork 4 250"), "forked 4", "fork")
    a.quit()
    eq(rec.stop(), 130, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (1010, 0), "request (calls, incomplete)")
    per_pid = instance_calls(s, "puppet.request")
    eq(per_pid.pop(a.pid, None), 10, "the parent's calls")
    eq(sorted(per_pid.values()), [250] * 4, "each forked worker's calls")
    eq(len(s["bundles"][0]["pids"]), 5, "processes in the bundle")
    no_drops(s, "snapshot")


@test
def forked_workers_of_started_command():
    """record -- CMD where CMD forks workers: the workers are part of what was started."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    out = os.path.join(d, "snap.json")
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--",
                        target("puppet")], input="run 10\nfork 3 100\nquit\n",
                       capture_output=True, text=True, timeout=60)
    eq(r.returncode, 0, "flowprof exit status\n" + r.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (310, 0), "request: the command and its 3 workers")
    no_drops(s, "snapshot")


# --- threads ----------------------------------------------------------------

# More threads than the per-thread table (DEFAULT_MAX_THREADS) could hold at once.
CHURN_THREADS = header_define("DEFAULT_MAX_THREADS") + 232


@test
def thread_churn_is_exact():
    """33,000 short-lived threads (8 at a time), 10 calls each: every call is counted,
    every thread is seen, and no per-thread state runs out (it is reclaimed when a
    thread exits: more threads than the per-thread table could hold at once)."""
    d = fptest.tmpdir()
    exe = target("thread_churn")
    flows = fptest.write(os.path.join(d, "churn.yaml"), """\
bundles:
  churn:
    exe: %s
    handlers:
      request: churn_request
      work: churn_work
flows:
  req:
    entry: churn.request
    calls:
      - churn.request -> churn.work
""" % exe)
    p = fptest.start([exe, str(CHURN_THREADS), "8", "10"], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p).split()[1])
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(pid), "-o", out)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    eq(fptest.read_line(p, timeout=300).strip(), "done %d" % CHURN_THREADS, "target")
    eq(p.wait(timeout=10), 0, "target exit status")
    eq(rec.finish(timeout=60), 0, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "churn.request"), (CHURN_THREADS * 10, 0), "request (calls, incomplete)")
    eq(calls(s, "churn.work"), (CHURN_THREADS * 10, 0), "work (calls, incomplete)")
    eq(fptest.edge(s, "churn.request", "churn.work"), CHURN_THREADS * 10, "edge")
    eq(s["bundles"][0]["threads"], CHURN_THREADS, "threads that ran handlers")
    eq(counters(s)["exited_in_call"], 0, "counters.exited_in_call")
    no_drops(s, "snapshot")


if __name__ == "__main__":
    fptest.main()
