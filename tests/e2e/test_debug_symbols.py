#!/usr/bin/env python3
"""A stripped binary's separate debug symbols (user/probe/debug_file.c).

A target built here with gcc, stripped, its symbols kept in a debug file
with objcopy, as distributions ship them (Debian's -dbgsym packages):
- by .gnu_debuglink, in the binary's .debug/ directory: a static function
  (in no .dynsym) resolves, and a recording of it counts its calls exactly
  (the target prints how many it made);
- by build ID, under /usr/lib/debug/.build-id/ (removed afterwards);
- a debug file of another build (its CRC does not match the link) is not
  used: the symbol is missing, and the error says where debug symbols come
  from.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402

SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
static __attribute__((noinline)) int hidden_work(int i) { volatile int x = i; return x * %d; }
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, s = 0;
	for (int i = 0; i < n; i++)
		s += hidden_work(i);
	printf("calls %%d sum %%d\n", n, s);
	return 0;
}
"""


def build(d, factor=2):
    """A stripped target in d with its symbols in d/.debug/t.debug, linked."""
    src = fptest.write(os.path.join(d, "t.c"), SOURCE % factor)
    exe = os.path.join(d, "t")
    dbg = os.path.join(d, ".debug", "t.debug")
    os.makedirs(os.path.dirname(dbg), exist_ok=True)
    for argv in (["gcc", "-O2", "-g", "-Wl,--build-id", "-o", exe, src],
                 ["objcopy", "--only-keep-debug", exe, dbg],
                 ["strip", "--strip-debug", "--strip-unneeded", exe],
                 ["objcopy", "--add-gnu-debuglink=" + dbg, exe]):
        subprocess.run(argv, check=True, capture_output=True, cwd=d)
    nm = subprocess.run(["nm", exe], capture_output=True, text=True)
    if "hidden_work" in nm.stdout:
        raise AssertionError("the target is not stripped: %s" % nm.stdout)
    return exe, dbg


def flows(d, exe):
    return fptest.write(os.path.join(d, "f.yaml"), "bundles:\n  t:\n    exe: %s\n"
                        "    handlers:\n      work: hidden_work\n" % exe)


def need_tools():
    for tool in ("gcc", "objcopy", "strip", "nm", "readelf"):
        if not shutil.which(tool):
            raise AssertionError("%s is not installed (scripts/ install binutils and gcc)" % tool)


@test
def debuglink_beside_the_binary():
    need_tools()
    d = fptest.tmpdir()
    exe, _ = build(d)
    f = flows(d, exe)
    r = fptest.flowprof("check", "-f", f, check=False)
    eq(r.returncode, 0, "check resolves a static function of a stripped binary:\n" + r.stdout
       + r.stderr)
    snap = os.path.join(d, "s.json")
    r = fptest.flowprof("record", "-f", f, "-o", snap, "--", exe, "1234")
    eq(r.stdout.strip(), "calls 1234 sum %d" % (2 * sum(range(1234))), "the target's output")
    eq(fptest.handler(fptest.load_json(snap), "t.work")["calls"], 1234, "calls recorded")


@test
def build_id_under_usr_lib_debug():
    need_tools()
    d = fptest.tmpdir()
    exe, dbg = build(d)
    out = subprocess.run(["readelf", "-n", exe], capture_output=True, text=True).stdout
    bid = [ln.split()[-1] for ln in out.splitlines() if "Build ID:" in ln]
    eq(len(bid), 1, "one build ID in the target:\n" + out)
    where = "/usr/lib/debug/.build-id/%s/%s.debug" % (bid[0][:2], bid[0][2:])
    if os.path.exists(where):
        raise AssertionError("%s exists already" % where)
    made = not os.path.isdir(os.path.dirname(where))
    os.makedirs(os.path.dirname(where), exist_ok=True)
    try:
        shutil.move(dbg, where)  # nothing left beside the binary
        r = fptest.flowprof("check", "-f", flows(d, exe), check=False)
        eq(r.returncode, 0, "check finds the symbols by build ID:\n" + r.stdout + r.stderr)
    finally:
        if os.path.exists(where):
            os.unlink(where)
        if made:
            os.rmdir(os.path.dirname(where))


@test
def debug_file_of_another_build_is_not_used():
    need_tools()
    d = fptest.tmpdir()
    exe, dbg = build(d)
    other = fptest.tmpdir()
    _, other_dbg = build(other, factor=3)  # other code: another CRC
    shutil.copyfile(other_dbg, dbg)
    r = fptest.flowprof("check", "-f", flows(d, exe), check=False)
    eq(r.returncode, 1, "check exit status")
    want = ("t.work: symbol 'hidden_work' not found in %s, which is stripped: only .dynsym was "
            "searched (no separate debug symbols were found: its -dbgsym package puts them in "
            "/usr/lib/debug)" % exe)
    if want not in r.stdout + r.stderr:
        raise AssertionError("the error, wanted %r in:\n%s%s" % (want, r.stdout, r.stderr))


if __name__ == "__main__":
    fptest.main()
