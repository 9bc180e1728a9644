#!/usr/bin/env python3
"""Faults, end to end (issue 7): 1,000 runs each, nothing that happens to
flowprof ends a target. flowprof is killed (SIGKILL) or frozen (SIGSTOP)
while calls are open, then the targets leave those calls by a C++ exception
(tests/targets/hold_throw.cpp, built here with g++), by growing a Go stack
(gogrow.go) or by longjmp (hold_jump.c); every one must end as it would
unprofiled. The control: with exits forced to a uretprobe, the exception
meets the kernel's trampoline and ends every process.

What the faults suites share is in faults_lib.py.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
from faults_lib import target, Recording, build_cxx  # noqa: E402


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


if __name__ == "__main__":
    fptest.main()
