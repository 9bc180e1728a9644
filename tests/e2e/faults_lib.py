"""What the faults suites (tests/e2e/test_faults_*.py, issue 7) share: the
puppet target and its flow file, `flowprof record` in the background, the
sizes of the BPF maps, reading a snapshot's counts, and building the C++
targets with g++ (the Makefile builds only C targets).

The suites: test_faults_processes.py (exits, exec, fork, threads),
test_faults_signals.py (SIGINT, SIGTERM, SIGKILL), test_faults_exceptions.py
(C++ exceptions and forced unwinds), test_faults_survival.py (1,000 runs
each), test_faults_interference.py (the target's output, two recordings at
once) and test_faults_limits.py (full maps, a full disk).
"""
import os
import select
import signal
import subprocess
import time

import fptest
from fptest import eq


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
