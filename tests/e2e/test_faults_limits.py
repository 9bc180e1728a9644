#!/usr/bin/env python3
"""Faults, end to end (issue 7): what flowprof holds fills up. Full maps:
more processes than --max-instances, more edges than the edge map; and the
disk fills up while the snapshot is written. Real probes on
tests/targets/puppet.c and on a target generated here, so every count is
known and asserted exactly.

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
    target, puppet_flows, Puppet, Recording, header_define, counters, calls, instance_calls,
)


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
