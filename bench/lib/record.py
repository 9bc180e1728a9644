"""Flow files for the bench's targets, and `flowprof record` of
many_handlers (the scale, agent and sched sections)."""
import json
import os
import re

from .common import FLOWPROF, MANY, BenchError
from .proc import Proc


def write_flowfile(path, exe, handlers, flows=True):
    """handlers: list of (name, symbol). One flow per handler (up to 32) whose entry it is."""
    out = ["bundles:", "  bench:", "    exe: %s" % exe, "    handlers:"]
    out += ["      %s: %s" % (n, s) for n, s in handlers]
    if flows:
        out.append("flows:")
        for n, _ in handlers[:32]:
            out.append("  f_%s:" % n)
            out.append("    entry: bench.%s" % n)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def auto_mode(lines):
    """The attach mode `--mode auto` starts with, from -v's "kernel features" line."""
    for line in lines:
        m = re.search(r"kernel features: uprobe\.session (\w+), uprobe_multi (\w+)", line)
        if m:
            return "session" if m.group(1) == "yes" else "multi" if m.group(2) == "yes" \
                else "single"
    return None


def many_flowfile(tmp, n):
    return write_flowfile(os.path.join(tmp, "many-%d.yaml" % n), os.path.realpath(MANY),
                          [("h%04d" % i, "handler_%04d" % i) for i in range(n)])


def record_once(tmp, n, mode, pid, duration, during=None, tracer=None, extra_args=()):
    """One `flowprof record -d duration`; returns (figures, during's result)."""
    snap_path = os.path.join(tmp, "scale-%s-%d.json" % (mode, n))
    if os.path.exists(snap_path):
        os.unlink(snap_path)
    fp = Proc([FLOWPROF, "record", "-f", many_flowfile(tmp, n), "-p", str(pid), "--mode", mode,
               "-d", str(duration), "-o", snap_path, "-v", *extra_args],
              name="flowprof record --mode %s (%d handlers)" % (mode, n),
              peak_file=snap_path + ".peak")
    extra = None
    startup = None
    try:
        _, i = fp.wait_line(r"^flowprof: recording ", stream="err", timeout=600)
        startup = (fp.times["err"][i] - fp.t0) * 1000
        fp_pid = fp.pid  # while GNU time's child is there to be found
        if during:
            extra = during(fp)
    finally:
        st = fp.finish(timeout=1800)
    if st != 0 or not os.path.exists(snap_path):
        raise BenchError("flowprof record --mode %s with %d handlers exited %s:\n%s"
                         % (mode, n, st, fp.text()))
    with open(snap_path) as f:
        snap = json.load(f)
    calls = sum(h.get("calls", 0) for h in snap.get("handlers", []))
    r = {"startup_ms": startup, "attach_ms": snap.get("attach_ms"),
         "detach_ms": snap.get("detach_ms"), "calls": calls,
         "duration_s": snap.get("duration_s"), "peak_rss_kib": fp.peak_kib,
         "n_handlers_in_snapshot": len(snap.get("handlers", [])),
         "exit_sites": sorted({h.get("exit_site") for h in snap.get("handlers", [])} - {None})}
    ph = tracer.phases(fp_pid) if tracer else None
    if ph:
        r.update(ph)
    return r, extra
