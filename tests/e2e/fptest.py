"""Tiny TAP harness for flowprof's end-to-end tests (stdlib only).

Each tests/e2e/test_*.py registers functions with @test and calls main().
Tests start real target programs, run build/flowprof against them (real BPF
probes, as root) and check the numbers. Output is TAP: tests/run-tests.sh
counts "ok" / "not ok" lines.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
FLOWPROF = os.path.join(BUILD, "flowprof")
TARGETS = os.path.join(BUILD, "targets")

_tests = []
_procs = []

# flowprof runs the commands it starts (record -- CMD, sweep --load) as the
# user who ran sudo: under `sudo make check` that user could not write the
# tests' root-owned temporary directories. The tests' commands run as root,
# but where a test sets these itself (test_record_cli.py, test_sweep.py).
for _name in ("SUDO_UID", "SUDO_GID", "SUDO_USER"):
    os.environ.pop(_name, None)


class Skip(Exception):
    """Raise to skip a test (reported as "ok N - name # SKIP reason", counted
    apart, never as a pass) -- only when the host lacks a feature the test
    needs, named in the reason. A missing build artefact or package that
    scripts/install-deps.sh installs is a failure, not a skip."""


def test(fn):
    _tests.append(fn)
    return fn


def tmpdir():
    d = tempfile.mkdtemp(prefix="flowprof-e2e-")
    return d


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def start(args, **kw):
    """Start a target process; it is killed when the suite ends."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.Popen(args, **kw)
    _procs.append(p)
    return p


def flowprof(*args, check=True, timeout=120, **kw):
    """Run build/flowprof; returns CompletedProcess with text output."""
    r = subprocess.run([FLOWPROF, *args], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("flowprof %s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def threads_cpu_ns(pid):
    """A process's CPU time in ns: its threads' scheduler sums
    (/proc/PID/task/*/schedstat), exact where /proc/PID/stat counts ticks."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


def load_json(path):
    with open(path) as f:
        return json.load(f)


def handler(snap, hid):
    for h in snap["handlers"]:
        if h["id"] == hid:
            return h
    raise AssertionError("handler %s not in snapshot (have %s)"
                         % (hid, [h["id"] for h in snap["handlers"]]))


def edge(snap, frm, to):
    for e in snap["edges"]:
        if e["from"] == frm and e["to"] == to:
            return e["calls"]
    return 0


def flow(snap, name):
    for f in snap["flows"]:
        if f["name"] == name:
            return f
    raise AssertionError("flow %s not in snapshot" % name)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def diag(text):
    """A TAP comment: figures a reader of the log wants, pass or fail."""
    for line in text.rstrip("\n").split("\n"):
        print("# " + line, flush=True)


def near(got, want, rel, what="", abs_tol=0.0):
    if abs(got - want) > rel * abs(want) + abs_tol:
        raise AssertionError("%s: got %r, want %r within %.1f%% (+%r)"
                             % (what, got, want, rel * 100, abs_tol))


def wait_for(cond, timeout=10.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def read_line(p, timeout=10.0):
    """Reads one line of a started target's stdout (for 'ready' handshakes)."""
    import select
    r, _, _ = select.select([p.stdout], [], [], timeout)
    if not r:
        raise AssertionError("target printed nothing within %ss" % timeout)
    return p.stdout.readline().decode()


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=5)
            except Exception:
                pass


def main():
    only = sys.argv[1:]
    tests = [t for t in _tests if not only or t.__name__ in only]
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, t in enumerate(tests, 1):
        name = t.__name__
        start_t = time.time()
        try:
            t()
            print("ok %d - %s (%.1fs)" % (i, name, time.time() - start_t), flush=True)
        except Skip as s:
            print("ok %d - %s # SKIP %s" % (i, name, s), flush=True)
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
        finally:
            _cleanup()
            _procs.clear()
    sys.exit(1 if failed else 0)
