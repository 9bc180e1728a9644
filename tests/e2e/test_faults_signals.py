#!/usr/bin/env python3
"""Faults, end to end (issue 7): signals to flowprof and to the command it
started. Real probes on tests/targets/puppet.c, which does exactly what a
test tells it, so every count is known and asserted exactly:

- SIGINT / SIGTERM stop `record` with a complete snapshot (exit 130 / 143),
  also while calls are in flight;
- SIGKILL leaves no probe attached (in every attach mode) while the target
  runs on;
- a started command that dies of a signal is reported.

What the faults suites share is in faults_lib.py.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
from faults_lib import (  # noqa: E402
    target, puppet_flows, Puppet, Recording, counters, no_drops, calls,
)


def stop_with_signal(sig, want_rc):
    """The target makes exactly 1000 calls per thread while recorded, then idles;
    sig stops record. The snapshot, written over an older file at umask 0, holds
    exactly those calls, is mode 0600, and no temporary file is left behind."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet(threads=2)
    out = os.path.join(d, "snap.json")
    fptest.write(out, "previous snapshot\n")
    os.chmod(out, 0o644)
    rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
    eq(a.cmd("run 1000"), "done 1000", "target")
    old_umask = os.umask(0)  # the snapshot's mode must not depend on it
    try:
        eq(rec.stop(sig), want_rc, "flowprof exit status after %s\n%s"
           % (signal.Signals(sig).name, rec.stderr))
    finally:
        os.umask(old_umask)
    eq(sorted(os.listdir(d)), ["puppet.yaml", "snap.json"], "files in the output directory")
    eq(os.stat(out).st_mode & 0o777, 0o600, "snapshot mode")
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (2000, 0), "request (calls, incomplete)")
    eq(calls(s, "puppet.work"), (2000, 0), "work (calls, incomplete)")
    no_drops(s, "snapshot")
    eq(a.cmd("run 10"), "done 10", "the target runs on")
    a.quit()


@test
def sigint_writes_snapshot():
    stop_with_signal(signal.SIGINT, 130)


@test
def sigterm_writes_snapshot():
    stop_with_signal(signal.SIGTERM, 143)


@test
def sigint_while_calls_in_flight():
    """SIGINT while 4 threads call handlers non-stop: the snapshot is consistent
    (no call counted incomplete or unmatched by the detach itself)."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    a = Puppet(threads=4)
    eq(a.cmd("loop"), "looping", "target")
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
    time.sleep(1.0)
    eq(rec.stop(signal.SIGINT), 130, "flowprof exit status\n" + rec.stderr)
    stopped = a.cmd("stop")
    s = fptest.load_json(out)
    req, work = fptest.handler(s, "puppet.request"), fptest.handler(s, "puppet.work")
    if req["calls"] < 1000:
        raise AssertionError("only %d calls recorded in 1 s (%s)" % (req["calls"], stopped))
    eq(req["incomplete"], 0, "request incomplete")
    eq(work["incomplete"], 0, "work incomplete")
    # Each thread may be inside request at the attach and at the detach: all
    # handlers must be measured over one window (a single start and stop).
    if abs(req["calls"] - work["calls"]) > 8:
        raise AssertionError("request %d calls vs work %d" % (req["calls"], work["calls"]))
    if abs(fptest.edge(s, "puppet.request", "puppet.work") - req["calls"]) > 8:
        raise AssertionError("edge request -> work %d vs request %d calls"
                             % (fptest.edge(s, "puppet.request", "puppet.work"), req["calls"]))
    c = counters(s)
    if c["unmatched_returns"] > 8:  # returns of calls entered before the attach
        raise AssertionError("counters.unmatched_returns = %d" % c["unmatched_returns"])
    for k in ("abandoned_frames", "exited_in_call", "depth_overflows", "threads_dropped"):
        eq(c[k], 0, "counters." + k)
    a.quit()


def catches(pid, sig):
    """Whether process pid has a handler for sig (/proc/PID/status SigCgt)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


@test
def sigint_while_attaching():
    """SIGINT before the probes are all attached (as soon as flowprof catches
    it, while it resolves, loads and calibrates): the recording stops as it
    opens, with its snapshot and exit 130, not flowprof halfway; a second
    SIGINT while it still attaches ends flowprof at once, and the kernel
    takes its probes: the target runs on, every call counted by itself."""
    d = fptest.tmpdir()
    exe = target("puppet")
    flows = puppet_flows(d, exe)
    a = Puppet(threads=2)
    eq(a.cmd("loop"), "looping", "target")
    for twice in (False, True):
        out = os.path.join(d, "snap.json")
        p = subprocess.Popen([fptest.FLOWPROF, "record", "-f", flows, "-p", str(a.pid),
                              "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        # once it catches SIGINT (its first step), long before it attaches
        fptest.wait_for(lambda: catches(p.pid, signal.SIGINT), timeout=10,
                        what="flowprof to catch SIGINT")
        p.send_signal(signal.SIGINT)
        if twice:
            time.sleep(0.01)
            p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        if twice:
            eq(p.returncode, -signal.SIGINT, "flowprof after two SIGINTs while attaching\n" + err)
            eq(os.path.exists(out), False, "a snapshot after two SIGINTs")
            if "a second signal: stopped at once, nothing written" not in err:
                raise AssertionError("no word of the second SIGINT: %r" % err)
            fptest.wait_for(lambda: not uprobes_on(exe), timeout=20,
                            what="the kernel to take flowprof's probes")
        else:
            eq(p.returncode, 130, "flowprof exit status after SIGINT while attaching\n" + err)
            if "recording" not in err:
                raise AssertionError("flowprof did not open its window: %s" % err)
            no_drops(fptest.load_json(out), "snapshot")
            os.unlink(out)
    stopped = a.cmd("stop").split()
    eq(stopped[0], "stopped", "target answer")
    eq(a.cmd("run 1000"), "done 1000", "the target after flowprof")
    a.quit()


def bpftool_json(*args):
    r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("bpftool %s: %s" % (" ".join(args), r.stderr))
    return json.loads(r.stdout or "[]")


def held_bpf_objects(pid):
    """(link ids, prog ids) of the BPF fds process pid holds, from /proc/PID/fdinfo."""
    links, progs = set(), set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if "link_id" in info:
            links.add(int(info["link_id"]))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return links, progs


def same_file(a, b):
    """Paths to one file: flowprof attaches through /proc/PID/exe or
    /proc/PID/map_files/..., which bpftool shows as given."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def uprobes_on(binary):
    return [e for e in bpftool_json("perf", "show")
            if e.get("filename") and same_file(e["filename"], binary)]


def sigkill_leaves_nothing(mode):
    """SIGKILL of flowprof (no chance to detach): the kernel drops every link and
    program it held, no uprobe stays on the target's binary, and the target
    goes on working."""
    d = fptest.tmpdir()
    exe = target("puppet")
    flows = puppet_flows(d, exe)
    a = Puppet(threads=2)
    eq(a.cmd("loop"), "looping", "target")
    rec = Recording("-f", flows, "-p", str(a.pid), "-o", os.path.join(d, "snap.json"),
                    "--mode", mode)
    links, progs = held_bpf_objects(rec.p.pid)
    listed = {l["id"] for l in bpftool_json("link", "show")}
    if not links or not links <= listed:
        raise AssertionError("flowprof's links %s not all in bpftool link show %s"
                             % (sorted(links), sorted(listed)))
    if mode == "single" and not uprobes_on(exe):
        raise AssertionError("bpftool perf show lists no uprobe on %s while recording" % exe)
    rec.p.send_signal(signal.SIGKILL)
    eq(rec.p.wait(timeout=10), -signal.SIGKILL, "flowprof killed")

    def released():
        return (not links & {l["id"] for l in bpftool_json("link", "show")} and
                not progs & {p["id"] for p in bpftool_json("prog", "show")} and
                not uprobes_on(exe))
    fptest.wait_for(released, timeout=20, what="the kernel to release flowprof's links, "
                    "programs and uprobes")
    stopped = a.cmd("stop").split()
    eq(stopped[0], "stopped", "target answer")
    if int(stopped[1]) < 1000:
        raise AssertionError("the target made only %s calls" % stopped[1])
    eq(a.cmd("run 1000"), "done 1000", "the target after flowprof's death")
    a.quit()
    eq(sorted(os.listdir(d)), ["puppet.yaml"], "files left (no snapshot, no temporary)")


@test
def sigkill_session():
    sigkill_leaves_nothing("session")


@test
def sigkill_multi():
    sigkill_leaves_nothing("multi")


@test
def sigkill_single():
    sigkill_leaves_nothing("single")


@test
def started_command_killed_by_signal_is_said():
    """record -- CMD where CMD dies of a signal (here SIGABRT, as a C++ program
    does on an uncaught exception): flowprof says so, and still writes what it
    measured."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    out = os.path.join(d, "snap.json")
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--",
                        target("puppet")], input="run 20\nabort\n",
                       capture_output=True, text=True, timeout=60)
    if "signal 6" not in r.stderr:
        raise AssertionError("flowprof does not say the command died of signal 6 (SIGABRT):\n"
                             + r.stderr)
    eq(calls(fptest.load_json(out), "puppet.request"), (20, 0), "request before the crash")


if __name__ == "__main__":
    fptest.main()
