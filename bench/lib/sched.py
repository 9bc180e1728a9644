"""The sched_switch program's host-wide cost (section sched): context
switches per second of a pipe ping-pong, with and without a recording."""
import os
import re
import signal
import subprocess
import time

from .common import FLOOR, FLOWPROF, MANY, PINGPONG, BenchError, log, median
from .proc import Proc
from .record import many_flowfile


def bench_sched(args, tmp, results):
    """Context switches per second of a pipe ping-pong pinned to one CPU, with
    no recording, with a recording of an idle process (on-CPU tracking on:
    flowprof's sched_switch program runs at every switch on the host), and
    with one under --no-oncpu (no sched_switch program). flowprof and its
    target run on the other CPUs, so that the figure is the switch's cost,
    not flowprof's own work competing for the CPU. The floor: an empty
    program on the same BTF tracepoint (bench_floor switch). Ratios are the
    median of each repetition's against that repetition's run without, so
    that a host that drifts between repetitions moves both sides."""
    ncpu = os.cpu_count() or 1
    pp_cpu = ncpu - 1
    others = set(range(ncpu)) - {pp_cpu} or None
    log("sched_switch: ping-pong on CPU %d, %d x %g s per configuration"
        % (pp_cpu, args.reps, args.pp_s))
    configs = [("none", None), ("floor", None), ("flowprof", ()),
               ("flowprof --no-oncpu", ("--no-oncpu",))]
    rates = {name: [] for name, _ in configs}
    switches = {name: [] for name, _ in configs}
    ff = many_flowfile(tmp, 1)
    mode = results.get("per_call", {}).get("judged_mode")
    tgt = Proc([MANY, "0", "1"], name="many_handlers (idle)", cpus=others)
    try:
        tgt.wait_line(r"^ready$")
        for rep in range(args.reps):
            order = configs[rep % len(configs):] + configs[:rep % len(configs)]
            for name, extra in order:
                fp = None
                if name == "floor":
                    fp = Proc([FLOOR, "switch"], stdin=subprocess.PIPE,
                              name="bench_floor switch", cpus=others)
                    fp.wait_line(r"^attached ", timeout=60)
                    time.sleep(0.2)
                if extra is not None:
                    fp = Proc([FLOWPROF, "record", "-f", ff, "-p", str(tgt.pid), "-v",
                               "-o", os.path.join(tmp, "sched.json"), *extra]
                              + (["--mode", mode] if mode else []),
                              name="flowprof record (idle target)", cpus=others)
                    fp.wait_line(r"^flowprof: recording ", stream="err", timeout=120)
                    if "--no-oncpu" not in extra and any(
                            "on-CPU time will not be measured" in x for x in fp.lines["err"]):
                        raise BenchError("flowprof could not attach sched_switch:\n%s"
                                         % fp.text())
                    time.sleep(0.2)
                try:
                    r = subprocess.run([PINGPONG, str(args.pp_s), str(pp_cpu)],
                                       capture_output=True, text=True, timeout=args.pp_s + 60)
                finally:
                    if fp:
                        st = fp.finish() if name == "floor" else fp.finish(signal.SIGINT)
                        if st not in (0, 130):
                            raise BenchError("%s exited %s:\n%s" % (name, st, fp.text()))
                m = re.match(r"^passes (\d+) seconds (\S+) switches (\d+)$", r.stdout.strip())
                if r.returncode or not m:
                    raise BenchError("pingpong failed: %s%s" % (r.stdout, r.stderr))
                rates[name].append(int(m.group(1)) / float(m.group(2)))
                switches[name].append(int(m.group(3)) / float(m.group(2)))
            log("  repetition %d/%d: %s" % (rep + 1, args.reps, ", ".join(
                "%s %.0f/s" % (n, rates[n][-1]) for n, _ in configs)))
    finally:
        tgt.finish(signal.SIGTERM)
    med = {n: median(v) for n, v in rates.items()}
    out = {"cpu": pp_cpu, "seconds": args.pp_s, "reps": args.reps,
           "passes_per_s": {n: {"runs": rates[n], "median": med[n],
                                "switches_per_s_median": median(switches[n])} for n in rates}}
    for n in ("floor", "flowprof", "flowprof --no-oncpu"):
        paired = [a / b for a, b in zip(rates[n], rates["none"]) if b]
        if paired:
            out["passes_per_s"][n]["ratio"] = median(paired)
            out["passes_per_s"][n]["cost_pct"] = (1 - median(paired)) * 100
    results["sched"] = out
