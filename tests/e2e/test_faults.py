#!/usr/bin/env python3
"""Faults, end to end (issue 7): real probes on real targets that misbehave.

The targets (tests/targets/puppet.c, thread_churn.c, mt_output.c, and the C++
ones throw_through.cpp, throw_threads.cpp, thread_exit_cleanup.cpp and
late_throw.cpp, built here with g++) do exactly what a test tells them, so
every count is known and asserted exactly:

- a process exits (also from inside a handler) during the recording;
- a process execs (also from inside a handler), forks workers (also under
  `record -- CMD`), or starts and ends threads at a high rate;
- SIGINT / SIGTERM stop `record` with a complete snapshot (exit 130 / 143),
  SIGKILL leaves no probe attached while the target runs on, and a started
  command that dies of a signal is reported;
- C++ exceptions and pthread_exit's forced unwind through handlers, also
  from thousands of threads, under CPU load, after flowprof detached, died
  or while it is stopped, and in a mount namespace with its own
  libgcc_s.so.1 (recursion, longjmp, and processes of different executables
  ending inside a handler are in test_incomplete.py);
- the target's output is byte-identical with and without profiling;
- two flowprof instances on one target at once;
- full maps: more processes than --max-instances, more edges than the edge map;
- the disk fills up while the snapshot is written.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402


def need(path):
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is not built (make all)" % path)
    return path


def target(name):
    return need(os.path.join(fptest.TARGETS, name))


def puppet_flows(d, exe):
    return fptest.write(os.path.join(d, "puppet.yaml"), """\
bundles:
  puppet:
    exe: %s
    handlers:
      request: request
      work: work
      exit: request_exit
      exec: request_exec
flows:
  req:
    entry: puppet.request
    calls:
      - puppet.request -> puppet.work
""" % exe)


class Puppet:
    """tests/targets/puppet: one command per line on stdin, one answer line each."""

    def __init__(self, threads=1, exe=None):
        self.exe = exe or target("puppet")
        self.p = fptest.start([self.exe, str(threads)], stdin=subprocess.PIPE)
        self.pid = self.expect_ready()

    def expect_ready(self):
        line = fptest.read_line(self.p).split()
        eq(line[:1], ["ready"], "puppet's first line")
        return int(line[1])

    def cmd(self, line, timeout=60.0):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()
        return fptest.read_line(self.p, timeout).strip()

    def quit(self):
        self.p.stdin.write(b"quit\n")
        self.p.stdin.flush()
        eq(self.p.wait(timeout=10), 0, "puppet's exit status")


class Recording:
    """`flowprof record` in the background; started() returns once the probes are attached."""

    def __init__(self, *args, cwd=None):
        self.args = args
        self.p = fptest.start([fptest.FLOWPROF, "record", *args], cwd=cwd,
                              stdin=subprocess.DEVNULL, text=True)
        self.stderr = ""
        self.wait_recording()

    def wait_recording(self, timeout=30.0):
        # os.read, not readline: lines readline buffered past the one it
        # returns (a warning comes before this one) would stall select()
        end = time.time() + timeout
        fd, buf = self.p.stderr.fileno(), b""
        while time.time() < end:
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.stderr += line.decode() + "\n"
                if line.startswith(b"flowprof: recording "):
                    self.stderr += buf.decode()  # the rest, as finish() will see it
                    return
            r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
        self.stderr += buf.decode()
        self.p.kill()
        out, err = self.p.communicate()
        raise AssertionError("flowprof record %s did not start recording:\n%s%s"
                             % (" ".join(self.args), self.stderr, err))

    def stop(self, sig=signal.SIGINT, timeout=60):
        self.p.send_signal(sig)
        return self.finish(timeout)

    def finish(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        self.stderr += err
        self.stdout = out
        return self.p.returncode


def header_define(name):
    """A #define of include/flowprof.h (the sizes the BPF maps get)."""
    import re
    with open(os.path.join(fptest.ROOT, "include", "flowprof.h")) as f:
        m = re.search(r"^#define %s (\d+)" % name, f.read(), re.M)
    if not m:
        raise AssertionError("include/flowprof.h defines no %s" % name)
    return int(m.group(1))


def counters(snap):
    return snap["counters"]


def no_drops(snap, what):
    c = counters(snap)
    for k in ("edges_dropped", "instances_dropped", "threads_dropped", "unmatched_returns",
              "depth_overflows"):
        eq(c[k], 0, "%s: counters.%s" % (what, k))


def calls(snap, hid):
    h = fptest.handler(snap, hid)
    return h["calls"], h["incomplete"]


def instance_calls(snap, hid):
    """{pid: calls} of one handler, from its per-process breakdown."""
    h = fptest.handler(snap, hid)
    return {i["pid"]: i["calls"] for i in h.get("instances", [])}


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


# --- signals ----------------------------------------------------------------

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


def uprobes_on(binary):
    return [e for e in bpftool_json("perf", "show") if e.get("filename") == binary]


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


# --- exceptions -------------------------------------------------------------

THROW_N = 200  # throws from the bottom of the stack: more than MAX_DEPTH (64)


def end_cxx_recording(p, rec, line, want):
    """A C++ target that printed line after its throws: want, or it died.
    Stops the recording (Ctrl-C: 130), then lets the target quit (0)."""
    if line != want:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        status = p.wait(timeout=10)
        rec.stop(signal.SIGINT)
        raise AssertionError("the profiled target died (status %d) instead of printing "
                             "'%s'; its stderr:\n%s\nflowprof's:\n%s"
                             % (status, want, p.stderr.read().decode(), rec.stderr))
    eq(rec.stop(signal.SIGINT), 130, "flowprof exit status\n" + rec.stderr)
    p.stdin.write(b"quit\n")
    p.stdin.flush()
    eq(p.wait(timeout=10), 0, "target exit status")


def build_cxx(src_name, d):
    """Builds tests/targets/SRC_NAME with g++ (the Makefile builds only C targets)."""
    src = os.path.join(fptest.ROOT, "tests", "targets", src_name)
    exe = os.path.join(d, os.path.splitext(src_name)[0])
    r = subprocess.run(["g++", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fno-inline",
                        "-fno-omit-frame-pointer", "-pthread", src, "-o", exe],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("g++ %s failed:\n%s" % (src, r.stderr))
    return exe


def throw_flows(d, selector):
    return fptest.write(os.path.join(d, "throw.yaml"), """\
bundles:
  cxx:
    %s
    handlers:
      serve: serve
      parse: parse
      validate: validate
      finish: finish
      top_throw: top_throw
flows:
  serve:
    entry: cxx.serve
    calls:
      - cxx.serve -> cxx.parse
      - cxx.parse -> cxx.validate
      - cxx.serve -> cxx.finish
""" % selector)


def record_throw_through(d, p, pid, flows, *args, recording=None):
    """Records throw_through (started as p, its 'ready' line read) with -p, lets
    it throw THROW_N times, and asserts that it survives and every count is
    exact. recording(rec) runs while the probes are attached, before the throws."""
    n = THROW_N
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(pid), "-o", out, *args)
    if recording:
        try:
            recording(rec)
        except BaseException:
            rec.stop(signal.SIGINT)
            raise
    p.stdin.write(b"go\n")
    p.stdin.flush()
    end_cxx_recording(p, rec, fptest.read_line(p, timeout=60).strip(), "done %d" % n)
    s = fptest.load_json(out)
    throws = n // 4  # validate throws for i % 4 == 0, i < n
    eq(calls(s, "cxx.serve"), (2 * n, 0), "serve (calls, incomplete)")
    eq(calls(s, "cxx.finish"), (2 * n, 0), "finish (calls, incomplete)")
    eq(calls(s, "cxx.parse"), (2 * n - throws, throws), "parse (calls, incomplete)")
    eq(calls(s, "cxx.validate"), (2 * n - throws, throws), "validate (calls, incomplete)")
    eq(calls(s, "cxx.top_throw"), (0, n), "top_throw (calls, incomplete)")
    got_edges = sorted((e["from"], e["to"], e["calls"]) for e in s["edges"])
    eq(got_edges, [("cxx.parse", "cxx.validate", 2 * n - throws),
                   ("cxx.serve", "cxx.finish", 2 * n),
                   ("cxx.serve", "cxx.parse", 2 * n - throws)], "edges")
    f = fptest.flow(s, "serve")
    eq(f["invocations"], 2 * n, "serve flow invocations")
    c = counters(s)
    eq(c["depth_overflows"], 0, "counters.depth_overflows")
    eq(c["unmatched_returns"], 0, "counters.unmatched_returns")
    eq(c["exited_in_call"], 0, "counters.exited_in_call (the thread was alive)")
    eq(c["abandoned_frames"], 2 * throws + n, "counters.abandoned_frames")
    return s


@test
def cxx_exception_through_handlers():
    """Exceptions thrown through handlers: validate and parse (skipped by the
    unwinder) count incomplete; serve and finish stay exact; and after 200 throws
    from a handler with nothing below it (top_throw), the per-thread stack still
    works: no depth overflow, every later call exact, no edge from a dead frame."""
    d = fptest.tmpdir()
    exe = build_cxx("throw_through.cpp", d)
    p = fptest.start([exe, str(THROW_N)], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p).split()[1])
    record_throw_through(d, p, pid, throw_flows(d, "exe: %s" % exe))


def mapped_library(exe, name):
    """The real path of the library NAME that exe loads, from ldd."""
    r = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == name and len(parts) >= 3 and parts[2].startswith("/"):
            return os.path.realpath(parts[2])
    raise AssertionError("ldd %s lists no %s:\n%s%s" % (exe, name, r.stdout, r.stderr))


def cxx_exception_in_own_libgcc(mode):
    """A process in another mount namespace with its own libgcc_s.so.1 (a copy
    on a tmpfs bind-mounted over the host's path, so another file at the same
    name): flowprof sees that the process maps an unwinder (through its own
    maps, not the host's file of that name) and probes its handlers' exits at
    their ret sites; exceptions through them leave the target unharmed and the
    counts exact."""
    if not shutil.which("unshare"):
        raise fptest.Skip("unshare (util-linux) missing")
    d = fptest.tmpdir()
    exe = build_cxx("throw_through.cpp", d)
    lib = mapped_library(exe, "libgcc_s.so.1")
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    copy = os.path.join(mnt, "libgcc_s.so.1")
    script = ("mount -t tmpfs none %s && cp %s %s && mount --bind %s %s && exec %s %d"
              % (mnt, lib, copy, copy, lib, exe, THROW_N))
    p = fptest.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                     stdin=subprocess.PIPE)
    line = fptest.read_line(p, 10)
    if not line.startswith("ready"):
        raise fptest.Skip("cannot make a mount namespace here: %r %r"
                          % (line, p.stderr.read().decode() if p.poll() is not None else ""))
    pid = int(line.split()[1])
    theirs = "/proc/%d/root%s" % (pid, lib)
    ours_st, theirs_st = os.stat(lib), os.stat(theirs)
    if (ours_st.st_dev, ours_st.st_ino) == (theirs_st.st_dev, theirs_st.st_ino):
        raise AssertionError("%s is the host's file in the target's namespace too" % lib)
    with open("/proc/%d/maps" % pid) as f:
        if not any(l.split()[-1] == lib for l in f if len(l.split()) >= 6):
            raise AssertionError("the target does not map %s" % lib)

    args = ("--mode", mode) if mode else ()
    s = record_throw_through(d, p, pid, throw_flows(d, "pid: [%d]" % pid), *args)
    for h in s["handlers"]:
        eq(h["exit_site"], "ret", h["id"] + " exits (the process maps an unwinder)")
    shutil.rmtree(d, ignore_errors=True)


@test
def cxx_exception_in_own_libgcc_namespace():
    cxx_exception_in_own_libgcc(None)


@test
def cxx_exception_in_own_libgcc_namespace_single():
    """The same with perf-event uprobes, whose paths bpftool shows."""
    cxx_exception_in_own_libgcc("single")


def throw_threads(d, n, loaded=False):
    """tests/targets/throw_threads.cpp, recorded with -p: N threads one after
    another, each throwing once through outer and inner (caught in the
    thread, which then calls finish). With loaded, two processes burn the
    CPUs meanwhile. The target must survive, and every count is exact."""
    exe = os.path.join(d, "throw_threads")
    if not os.path.exists(exe):
        exe = build_cxx("throw_threads.cpp", d)
    flows = fptest.write(os.path.join(d, "threads.yaml"), "bundles:\n  cxx:\n    exe: %s\n"
                         "    handlers:\n      outer: outer\n      inner: inner\n"
                         "      finish: finish\n" % exe)
    p = fptest.start([exe, str(n)], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p).split()[1])
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-p", str(pid), "-o", out)
    hogs = []
    try:
        if loaded:
            burn = "import time\nend = time.time() + 120\nwhile time.time() < end: pass\n"
            hogs = [fptest.start([sys.executable, "-c", burn]) for _ in range(2)]
        p.stdin.write(b"go\n")
        p.stdin.flush()
        line = fptest.read_line(p, timeout=60).strip()
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    end_cxx_recording(p, rec, line, "caught %d" % n)
    if "could not be made in time" in rec.stderr:
        raise AssertionError("flowprof missed unwinder fix-ups:\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "cxx.outer"), (0, n), "outer (calls, incomplete)")
    eq(calls(s, "cxx.inner"), (0, n), "inner (calls, incomplete)")
    eq(calls(s, "cxx.finish"), (n, 0), "finish (calls, incomplete)")
    c = counters(s)
    eq(c["threads_dropped"], 0, "counters.threads_dropped")
    eq(c["unmatched_returns"], 0, "counters.unmatched_returns")
    # the frames the exception crossed are popped at finish's entry
    eq(c["abandoned_frames"], 2 * n, "counters.abandoned_frames")
    eq(c["exited_in_call"], 0, "counters.exited_in_call")
    return s


@test
def cxx_exceptions_from_many_threads():
    """5000 threads, one after another, each throwing once through two
    handlers: more threads than the agent's acknowledgements could once be
    kept for (4096, never freed; thread 4097's fix-up then failed and its
    exception met the trampoline: std::terminate). The target survives and
    every count is exact."""
    throw_threads(fptest.tmpdir(), 5000)


@test
def cxx_exceptions_under_cpu_load():
    """40 threads one after another, each throwing once through two handlers,
    while two processes burn the CPUs; five recordings, and the target must
    survive each one. A thread waiting in the unwinder hook holds its CPU, so
    the agent's servicer must run on another one and promptly (it was woken
    onto the waiting thread's CPU and the wait timed out: the target was
    killed in 6 of 10 runs)."""
    d = fptest.tmpdir()
    for _ in range(5):
        throw_threads(d, 40, loaded=True)


@test
def pthread_exit_runs_cxx_destructors():
    """pthread_exit() from a handler under C++ frames holding a std::lock_guard:
    profiled as unprofiled, every destructor runs and the lock is released each
    time; the handler's calls are incomplete (they never return)."""
    d = fptest.tmpdir()
    exe = build_cxx("thread_exit_cleanup.cpp", d)
    flows = fptest.write(os.path.join(d, "exit.yaml"), "bundles:\n  cxx:\n    exe: %s\n"
                         "    handlers:\n      leave: leave_thread\n" % exe)
    n = 10
    want = "released %d\nguards %d\n" % (n, n)
    plain = subprocess.run([exe, str(n)], input="go\n", capture_output=True, text=True,
                           timeout=60)
    eq(plain.stdout.split("\n", 1)[1], want, "unprofiled output")
    out = os.path.join(d, "snap.json")
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--", exe, str(n)],
                       input="go\n", capture_output=True, text=True, timeout=60)
    eq(r.returncode, 0, "flowprof exit status\n" + r.stderr)
    eq(r.stdout.split("\n", 1)[1], want, "profiled output (destructors run, lock released)")
    eq(calls(fptest.load_json(out), "cxx.leave"), (0, n), "leave_thread (calls, incomplete)")


def late_throw(stop):
    """The target enters a handler while recorded; `stop` ends (or freezes)
    flowprof; then the target throws out of that handler. It must catch its
    exception as if it had never been profiled."""
    d = fptest.tmpdir()
    exe = build_cxx("late_throw.cpp", d)
    flows = fptest.write(os.path.join(d, "late.yaml"), "bundles:\n  cxx:\n    exe: %s\n"
                         "    handlers:\n      long: long_call\n" % exe)
    p = fptest.start([exe], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p).split()[1])
    rec = Recording("-f", flows, "-p", str(pid), "-o", os.path.join(d, "snap.json"))
    p.stdin.write(b"go\n")
    p.stdin.flush()
    eq(fptest.read_line(p).strip(), "inside", "target")
    stop(rec)
    p.stdin.write(b"throw\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=30)
    if rec.p.poll() is None:  # frozen: let it go
        rec.p.send_signal(signal.SIGCONT)
        rec.stop(signal.SIGINT)
    eq((p.returncode, out.decode(), err.decode()), (0, "caught late\n", ""),
       "target (exit status, stdout, stderr) after throwing")


@test
def exception_after_detach():
    """SIGINT: flowprof detaches and exits normally while the call is in progress."""
    def stop(rec):
        eq(rec.stop(signal.SIGINT), 130, "flowprof exit status\n" + rec.stderr)
    late_throw(stop)


@test
def exception_after_sigkill():
    """SIGKILL: flowprof dies while the call is in progress."""
    def stop(rec):
        rec.p.send_signal(signal.SIGKILL)
        eq(rec.p.wait(timeout=10), -signal.SIGKILL, "flowprof killed")
        time.sleep(0.2)
    late_throw(stop)


@test
def exception_while_flowprof_stopped():
    """SIGSTOP (what Ctrl-Z does to a foreground flowprof, or a debugger): the
    target throws while flowprof cannot run."""
    def stop(rec):
        rec.p.send_signal(signal.SIGSTOP)
        time.sleep(0.2)
    late_throw(stop)


# --- 1,000 runs: nothing that happens to flowprof ends a target --------------

RUNS, BATCH = 1000, 125

# kind -> (target, built with, handlers, the line it prints once it survived)
SURVIVORS = {
    "cxx": ("hold_throw.cpp", "  outer: outer_call\n  inner: inner_call\n", "caught"),
    "go": ("gogrow", "  hold: main.holdCall\n", "grown"),
    "c": ("hold_jump", "  outer: outer_call\n  inner: inner_call\n", "jumped"),
}


def survivor_exe(kind, d):
    src = SURVIVORS[kind][0]
    if src.endswith(".cpp"):
        return build_cxx(src, d)
    exe = target(src)
    if not os.access(exe, os.X_OK):
        raise AssertionError("build/targets/%s not built: make (Go targets need golang-go, "
                             "which scripts/install-deps.sh installs)" % src)
    return exe


def survive_batch(exe, flows, n, sig, args=()):
    """n target processes enter a probed call; flowprof gets sig (SIGKILL or
    SIGSTOP); then the targets leave the call (throw, grow, longjmp). Returns
    the processes that did not end as they should: [(pid, status, output)]."""
    rec = Recording("-f", flows, "-o", os.path.join(os.path.dirname(flows), "snap.json"), *args)
    procs = [fptest.start([exe], stdin=subprocess.PIPE) for _ in range(n)]
    try:
        for p in procs:
            line = fptest.read_line(p, 30).strip()
            if line != "inside":
                raise AssertionError("target %d: %r instead of 'inside'" % (p.pid, line))
        rec.p.send_signal(sig)
        if sig == signal.SIGKILL:
            rec.p.wait(timeout=10)
        time.sleep(0.1)
        for p in procs:
            p.stdin.write(b"go\n")
            p.stdin.flush()
        bad = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            if p.returncode != 0:
                bad.append((p.pid, p.returncode, (out + err).decode(errors="replace")[-300:]))
        return bad
    finally:
        if sig == signal.SIGSTOP and rec.p.poll() is None:
            rec.p.send_signal(signal.SIGCONT)
            rec.stop(signal.SIGINT)
        elif rec.p.poll() is None:
            rec.p.kill()
            rec.p.wait()


def survive(kind, sig):
    d = fptest.tmpdir()
    exe = survivor_exe(kind, d)
    handlers = "".join("    " + line + "\n" for line in SURVIVORS[kind][1].splitlines())
    flows = fptest.write(os.path.join(d, "f.yaml"), "bundles:\n  t:\n    exe: %s\n"
                         "    handlers:\n%s" % (exe, handlers))
    deaths, runs = [], 0
    while runs < RUNS:
        deaths += survive_batch(exe, flows, min(BATCH, RUNS - runs), sig)
        runs += BATCH
    print("# %s, flowprof %s with calls open: %d deaths in %d runs"
          % (kind, signal.Signals(sig).name, len(deaths), runs), flush=True)
    if deaths:
        raise AssertionError("%d of %d %s targets did not survive flowprof's %s; the first: %r"
                             % (len(deaths), runs, kind, signal.Signals(sig).name, deaths[:3]))


@test
def survives_sigkill_cxx_1000():
    survive("cxx", signal.SIGKILL)


@test
def survives_sigstop_cxx_1000():
    survive("cxx", signal.SIGSTOP)


@test
def survives_sigkill_go_1000():
    survive("go", signal.SIGKILL)


@test
def survives_sigstop_go_1000():
    survive("go", signal.SIGSTOP)


@test
def survives_sigkill_c_1000():
    survive("c", signal.SIGKILL)


@test
def survives_sigstop_c_1000():
    survive("c", signal.SIGSTOP)


@test
def uretprobe_exits_kill_cxx_targets():
    """The control, so that the tests above can fail: with exits forced to a
    uretprobe, a C++ exception through a call open when flowprof is killed
    meets the kernel's trampoline and ends the process. Every one of them."""
    d = fptest.tmpdir()
    exe = survivor_exe("cxx", d)
    flows = fptest.write(os.path.join(d, "f.yaml"), "bundles:\n  t:\n    exe: %s\n"
                         "    handlers:\n      outer: outer_call\n      inner: inner_call\n"
                         % exe)
    bad = survive_batch(exe, flows, 10, signal.SIGKILL, args=("--exits", "uretprobe"))
    eq(len(bad), 10, "targets ended by their exception (the trampoline in the way)")


# --- the target's behaviour -------------------------------------------------

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


# --- maps full --------------------------------------------------------------

@test
def more_processes_than_instances():
    """--max-instances 2 ("processes counted individually") with 4 processes: the
    first two are counted individually, the other two pooled (pid 0), counted in
    counters.instances_dropped and said in the report; no call is lost: the
    handler totals and the per-process sum stay exact."""
    d = fptest.tmpdir()
    flows = puppet_flows(d, target("puppet"))
    ps = [Puppet() for _ in range(4)]
    out = os.path.join(d, "snap.json")
    rec = Recording("-f", flows, "-o", out, "--max-instances", "2")
    for i, p in enumerate(ps):
        eq(p.cmd("run %d" % (100 * (i + 1))), "done %d" % (100 * (i + 1)), "puppet %d" % i)
    eq(rec.stop(signal.SIGINT), 130, "flowprof exit status\n" + rec.stderr)
    s = fptest.load_json(out)
    eq(calls(s, "puppet.request"), (1000, 0), "request: every process's calls")
    per_pid = instance_calls(s, "puppet.request")
    eq(sum(per_pid.values()), 1000, "sum over the per-process breakdown (%r)" % per_pid)
    eq(per_pid, {ps[0].pid: 100, ps[1].pid: 200, 0: 700},
       "the first two processes alone, the other two pooled as pid 0")
    eq(counters(s)["instances_dropped"], 2, "counters.instances_dropped")
    r = fptest.flowprof("report", out)
    if "2 processes past the instance limit were pooled into one instance" not in r.stdout:
        raise AssertionError("the report does not say so:\n" + r.stdout)
    for p in ps:
        p.quit()


MAX_EDGES = header_define("DEFAULT_MAX_EDGES")
EDGE_HANDLERS = int(MAX_EDGES ** 0.5) + 2  # 130 x 130 = 16,900 distinct edges > 16,384


@test
def edge_map_full():
    """Each of 130 handlers calls each of the 130 once (16,900 distinct nested
    pairs, the edge map holds 16,384): the edges past the limit are counted in
    counters.edges_dropped and said in the report; every call is still counted."""
    d = fptest.tmpdir()
    n = EDGE_HANDLERS
    src = ["#include <stdio.h>", "typedef int (*fn)(int);", "extern fn table[%d];" % n,
           "volatile int sink;"]
    for i in range(n):
        src.append("__attribute__((noinline)) int h%d(int c) { if (c >= 0) return "
                   "table[c](-1); sink += %d; return sink; }" % (i, i))
    src.append("fn table[%d] = { %s };" % (n, ", ".join("h%d" % i for i in range(n))))
    src.append("int main(void) { for (int p = 0; p < %d; p++) for (int c = 0; c < %d; c++) "
               "table[p](c); puts(\"done\"); return 0; }" % (n, n))
    c_file = fptest.write(os.path.join(d, "edges.c"), "\n".join(src) + "\n")
    exe = os.path.join(d, "edges")
    r = subprocess.run(["cc", "-O1", "-o", exe, c_file], capture_output=True, text=True)
    eq(r.returncode, 0, "cc\n" + r.stderr)
    flows = fptest.write(os.path.join(d, "edges.yaml"), "bundles:\n  e:\n    exe: %s\n"
                         "    handlers:\n%s" % (exe, "".join("      h%d: h%d\n" % (i, i)
                                                             for i in range(n))))
    out = os.path.join(d, "snap.json")
    r = fptest.flowprof("record", "-f", flows, "-o", out, "--", exe, check=False, timeout=300)
    eq(r.returncode, 0, "flowprof exit status\n" + r.stderr)
    eq(r.stdout, "done\n", "target output")
    s = fptest.load_json(out)
    for i in range(n):
        eq(calls(s, "e.h%d" % i), (2 * n, 0), "h%d (calls, incomplete)" % i)
    dropped = n * n - MAX_EDGES
    eq(counters(s)["edges_dropped"], dropped, "counters.edges_dropped")
    eq(len(s["edges"]), MAX_EDGES, "edges in the snapshot")
    eq(sum(e["calls"] for e in s["edges"]), MAX_EDGES, "calls over the edges kept")
    r = fptest.flowprof("report", out)
    want = "%d nested calls were not counted as edges: the edge map was full" % dropped
    if want not in r.stdout:
        raise AssertionError("the report does not say %r:\n%s" % (want, r.stdout[-3000:]))


# --- the disk fills up ------------------------------------------------------

def fill_up(directory, leave):
    """Fills the file system of directory, then frees `leave` bytes."""
    filler = os.path.join(directory, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    size = os.path.getsize(filler)
    os.truncate(filler, max(0, size - leave))
    return filler


@test
def disk_full_keeps_previous_snapshot():
    """The disk fills up while the snapshot is written (a 64 KiB tmpfs with one page
    free): a clear error naming the file and the cause, exit status 1, the
    previous snapshot intact byte for byte, and no temporary file left behind."""
    d = fptest.tmpdir()
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("mount tmpfs: " + r.stderr)
    try:
        out = os.path.join(mnt, "snap.json")
        previous = b'{"flowprof_snapshot": 1, "previous": true}\n'
        with open(out, "wb") as f:
            f.write(previous)
        filler = fill_up(mnt, 4096)
        flows = puppet_flows(d, target("puppet"))
        a = Puppet(threads=2)
        rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
        eq(a.cmd("run 1000"), "done 1000", "target")
        eq(rec.stop(signal.SIGINT), 1, "flowprof exit status\n" + rec.stderr)
        want = ("flowprof: error: cannot write snapshot %s: No space left on device "
                "(any previous file is intact)" % out)
        if want not in rec.stderr.splitlines():
            raise AssertionError("stderr lacks %r:\n%s" % (want, rec.stderr))
        with open(out, "rb") as f:
            eq(f.read(), previous, "previous snapshot")
        eq(sorted(os.listdir(mnt)), sorted([os.path.basename(filler), "snap.json"]),
           "files on the full disk")
        # The same recording fits once there is room: it was not too small to fail.
        os.unlink(filler)
        rec = Recording("-f", flows, "-p", str(a.pid), "-o", out)
        eq(a.cmd("run 1000"), "done 1000", "target")
        eq(rec.stop(signal.SIGINT), 130, "flowprof exit status with room\n" + rec.stderr)
        if os.path.getsize(out) <= 4096:
            raise AssertionError("the snapshot (%d bytes) would have fit in the free page"
                                 % os.path.getsize(out))
        eq(calls(fptest.load_json(out), "puppet.request"), (2000, 0), "request with room")
        a.quit()
    finally:
        subprocess.run(["umount", "-l", mnt])


if __name__ == "__main__":
    fptest.main()
