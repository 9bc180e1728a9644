#!/usr/bin/env python3
"""Flow-file errors through the CLI: `flowprof check -f` and `flowprof record -f`.

Each tests/flowfiles/bad-*.yaml names on its first line the message it must
fail with ("# expect: LINE:COL: MESSAGE"). flowprof must print exactly
"flowprof: error: PATH:LINE:COL: MESSAGE" as the first line of stderr and exit 1,
before touching any process. tests/unit/test_flowfile_errors.c checks the same
messages against the parser directly.
"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402

FLOWFILES = "tests/flowfiles"  # relative to the repository root: messages name it so


def need_flowprof():
    if not os.access(fptest.FLOWPROF, os.X_OK):
        raise AssertionError("build/flowprof not built (make)")


def expected(path):
    with open(os.path.join(fptest.ROOT, path)) as f:
        first = f.readline().rstrip("\n")
    prefix = "# expect: "
    assert first.startswith(prefix), "%s: first line must be '# expect: ...'" % path
    return "flowprof: error: %s:%s" % (path, first[len(prefix):])


def first_stderr_line(r):
    lines = r.stderr.splitlines()
    return lines[0] if lines else ""


def run(*args):
    return fptest.flowprof(*args, check=False, timeout=60, cwd=fptest.ROOT)


def bad_files():
    return sorted(os.path.relpath(p, fptest.ROOT)
                  for p in glob.glob(os.path.join(fptest.ROOT, FLOWFILES, "bad-*.yaml")))


def make_check_test(path):
    def t():
        need_flowprof()
        r = run("check", "-f", path)
        fptest.eq(first_stderr_line(r), expected(path), "first stderr line of check -f " + path)
        fptest.eq(r.returncode, 1, "exit code of check -f " + path)
    t.__name__ = "check_" + os.path.basename(path)[len("bad-"):-len(".yaml")].replace("-", "_")
    return t


for _path in bad_files():
    test(make_check_test(_path))


@test
def check_missing_file():
    need_flowprof()
    path = FLOWFILES + "/does-not-exist.yaml"
    r = run("check", "-f", path)
    fptest.eq(first_stderr_line(r),
              "flowprof: error: %s: cannot read: No such file or directory" % path,
              "first stderr line")
    fptest.eq(r.returncode, 1, "exit code")


@test
def record_stops_before_touching_processes():
    """record -f with a bad flow file fails the same way, writes no snapshot and
    leaves the target alone."""
    need_flowprof()
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    target = fptest.start(["sleep", "60"])
    for path in (FLOWFILES + "/bad-cycle.yaml", FLOWFILES + "/bad-unknown-handler.yaml"):
        r = run("record", "-f", path, "-p", str(target.pid), "-d", "1", "-o", out)
        fptest.eq(first_stderr_line(r), expected(path), "first stderr line of record -f " + path)
        fptest.eq(r.returncode, 1, "exit code of record -f " + path)
        fptest.eq(os.path.exists(out), False, "snapshot written despite the error")
        fptest.eq(target.poll(), None, "target still running")
    with open("/proc/%d/status" % target.pid) as f:
        state = [l for l in f if l.startswith("State:")][0]
    fptest.eq("stopped" in state or "tracing" in state, False, "target state: " + state.strip())


if __name__ == "__main__":
    fptest.main()
