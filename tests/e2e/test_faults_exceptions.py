#!/usr/bin/env python3
"""Faults, end to end (issue 7): C++ exceptions and pthread_exit's forced
unwind through handlers, also from thousands of threads, under CPU load,
after flowprof detached, died or while it is stopped, and in a mount
namespace with its own libgcc_s.so.1 (recursion, longjmp, and processes of
different executables ending inside a handler are in test_incomplete.py).

The C++ targets (tests/targets/throw_through.cpp, throw_threads.cpp,
thread_exit_cleanup.cpp and late_throw.cpp, built here with g++) do exactly
what a test tells them, so every count is known and asserted exactly. What
the faults suites share is in faults_lib.py.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
from faults_lib import Recording, counters, calls, build_cxx  # noqa: E402


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


LIB_USER_N = 200  # handle() calls, half of them ended by an exception


def needed(exe):
    r = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True, timeout=30)
    if r.returncode:
        raise AssertionError("readelf -d %s: %s" % (exe, r.stderr))
    return [line.split("[", 1)[1].rstrip("]") for line in r.stdout.splitlines()
            if "(NEEDED)" in line]


def lib_user_run(d, *args, handlers=("handle", "pass_on")):
    """cxx_lib_user run N times under a recording of its executable (no
    process named): (the process, the recording, the line it printed after
    its throws or None if it died, the snapshot path)."""
    exe = os.path.join(fptest.TARGETS, "cxx_lib_user")
    flows = fptest.write(os.path.join(d, "lib_user.yaml"), """\
bundles:
  app:
    exe: %s
    handlers:
%s
""" % (exe, "\n".join("      %s: %s" % (h, h) for h in handlers)))
    out = os.path.join(d, "lib_user.json")
    p = fptest.start([exe, str(LIB_USER_N)], stdin=subprocess.PIPE)
    fptest.read_line(p)
    rec = Recording("-f", flows, "-o", out, *args)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    line = fptest.read_line(p, timeout=60).strip() or None
    return p, rec, line, out


@test
def cxx_exception_through_a_c_program_that_needs_it_through_a_library():
    """A C program whose binary does not need the C++ runtime, but a library
    it needs does (as redis needs it through libjemalloc), profiled by its
    executable with no process named: exceptions from that library unwind
    through the probed C function. Its exits are probed at its exit sites,
    never by a uretprobe, and the program lives, every call counted. pass_on
    is one tail call to handle(), its only exit where its entry is: its call
    ends at handle's exits, exactly; where handle is a handler too, that
    place is taken, and pass_on's exit goes unprobed (not a uretprobe
    instead): its calls all count incomplete. The control: with --exits
    uretprobe the same run ends the program."""
    d = fptest.tmpdir()
    exe = os.path.join(fptest.TARGETS, "cxx_lib_user")
    libs = needed(exe)
    if any(n.startswith(("libstdc++", "libgcc_s")) for n in libs):
        raise AssertionError("%s needs the C++ runtime itself (%s): not the case tested"
                             % (exe, libs))
    n, throws = LIB_USER_N, LIB_USER_N // 2
    p, rec, line, out = lib_user_run(d)
    end_cxx_recording(p, rec, line, "done %d caught %d" % (n, throws))
    s = fptest.load_json(out)
    h = fptest.handler(s, "app.handle")
    if h.get("exit_site") in (None, "uretprobe"):
        raise AssertionError("app.handle's exits: %r, want its exit sites" % h.get("exit_site"))
    # a call ended by the exception is closed by the thread's next call
    # (unwound), the last one by the end of the recording at the latest
    eq(h["calls"], n - throws, "handle calls that returned")
    if not throws - 1 <= h["incomplete"] <= throws:
        raise AssertionError("handle incomplete %d, want %d (or one less: the last call's "
                             "frame still open)" % (h["incomplete"], throws))
    t = fptest.handler(s, "app.pass_on")
    if t.get("exit_site") == "uretprobe":
        raise AssertionError("app.pass_on's exit: a uretprobe, in a process that unwinds")
    eq(t["calls"], 0, "pass_on calls timed (its exit, handle's, is handle's)")
    if not n - 1 <= t["incomplete"] <= n:
        raise AssertionError("pass_on incomplete %d, want %d (or one less)"
                             % (t["incomplete"], n))

    p, rec, line, out = lib_user_run(fptest.tmpdir(), handlers=("pass_on",))
    end_cxx_recording(p, rec, line, "done %d caught %d" % (n, throws))
    s = fptest.load_json(out)
    t = fptest.handler(s, "app.pass_on")
    if t.get("exit_site") in (None, "uretprobe"):
        raise AssertionError("app.pass_on's exits: %r, want handle's exit sites"
                             % t.get("exit_site"))
    eq(t["calls"], n - throws, "pass_on calls that returned (at handle's exits)")
    if not throws - 1 <= t["incomplete"] <= throws:
        raise AssertionError("pass_on incomplete %d, want %d (or one less)"
                             % (t["incomplete"], throws))
    eq(s["counters"]["unmatched_returns"], 0, "counters.unmatched_returns")

    p, rec, line, out = lib_user_run(fptest.tmpdir(), "--exits", "uretprobe")
    status = p.wait(timeout=10)
    rec.stop(signal.SIGINT)
    if line is not None or status == 0:
        raise AssertionError("with uretprobe exits the program printed %r and exited %d: "
                             "the test above could not fail" % (line, status))


if __name__ == "__main__":
    fptest.main()
