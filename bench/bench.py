#!/usr/bin/python3
"""flowprof's benchmark: one run, side by side, ratios (issues 5, 14 and 17).

Run by `make bench` (through bench/run-bench.sh) after the binaries are
built; needs root. Python 3 standard library only.

Measures, in one run on this host:
  per call    ns per call of a function at each probe-site class, entries (a
              5-byte nop, `push %rbp`, a single-stepped `lea`, each with a
              uretprobe exit) and exits (an exit site at a `ret`, at a
              tail-call `jmp`, each with a nop5 entry): unprobed, with empty
              BPF programs of each link type (the floors: perf-event uprobes,
              uprobe_multi, uprobe.session), with `flowprof record` in each
              attach mode, and with bpftrace's uprobe hist() script;
  scale       start-up (exec to the "recording" line), its parts (symbol
              resolution, BPF load, calibration, the handlers' probes: traced
              with bpftrace), attach_ms and detach_ms, for 1, 100 and 1,000
              handlers per attach mode; BPF map memory per handler;
  bpftime     time inside the BPF programs per call (BPF run-time statistics);
  agent       flowprof's CPU and RSS while the target makes ~200k handler calls
              per second;
  sched       context switches per second of a pipe ping-pong, with and
              without a recording (on-CPU tracking on) of an idle process;
  accuracy    flowprof's figures, raw and corrected, against the target's own
              unprobed clock (tests/targets/nested.c), per entry class x exits,
              idle and with a CPU hog on every CPU;
  saturation  PostgreSQL under pgbench and redis under tests/targets/redis_load
              (tests/e2e/saturation.py's harness): the measured maximum
              throughput, and the mean response at 50% and 80% of it, against
              the model of a recording at a low load.

The code, by concern, is in bench/lib/ (lib/__init__.py lists the modules).

Prints the tables. Every run writes build/bench/results.json and .md (the
latest run); a run with the default options also writes
bench/results/DATE-CPU.json and .md, the files the README quotes.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from lib.accuracy import bench_accuracy
from lib.agent import bench_agent
from lib.bpf_time import bench_bpf_time
from lib.common import (FLOOR, FLOWPROF, GNU_TIME, LATEST, MANY, PINGPONG, RESULTS_DIR, ROOT,
                        TARGET, BenchError, bpftrace_path, log)
from lib.goals import GOALS, build_goals
from lib.host import describe_host, git_commit, host_info, slug
from lib.per_call import FLOWPROF_MODES, bench_per_call
from lib.render import render
from lib.results import render_again, write_results
from lib.saturation import SERVERS, bench_saturation
from lib.scale import bench_scale
from lib.sched import bench_sched

SECTIONS = {"percall": bench_per_call, "scale": bench_scale, "bpftime": bench_bpf_time,
            "agent": bench_agent, "sched": bench_sched, "accuracy": bench_accuracy,
            "saturation": bench_saturation}
ALL_SECTIONS = list(SECTIONS)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions per figure (median)")
    ap.add_argument("--ms", type=float, default=300, help="ms per per-call repetition")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="per-call figures from the target thread's CPU time (default: "
                    "insensitive to other load on the host) or wall time")
    ap.add_argument("--sections", default=",".join(ALL_SECTIONS),
                    help="comma list of percall, scale (start-up, attach/detach, map memory), "
                    "bpftime (time inside the BPF programs), agent, sched (sched_switch's "
                    "host-wide cost), accuracy, saturation (real servers against the model)")
    ap.add_argument("--modes", default=",".join(FLOWPROF_MODES),
                    help="flowprof attach modes (the one auto picks is judged)")
    ap.add_argument("--sizes", default="1,100,1000", help="handler counts for attach/detach")
    ap.add_argument("--single-max", type=int, default=100,
                    help="largest handler count measured with single links (more: extrapolated)")
    ap.add_argument("--scale-reps", type=int, default=3)
    ap.add_argument("--rate", type=int, default=200000, help="target calls per second (agent)")
    ap.add_argument("--agent-handlers", default="100,1000")
    ap.add_argument("--agent-s", type=float, default=5.0, help="agent measurement window")
    ap.add_argument("--pp-s", type=float, default=2.0, help="seconds per ping-pong run (sched)")
    ap.add_argument("--acc-reps", type=int, default=3, help="runs per accuracy row (median)")
    ap.add_argument("--sat-servers", default=",".join(SERVERS),
                    help="servers taken to saturation (saturation)")
    ap.add_argument("--sat-s", type=int, default=5,
                    help="seconds per load run and of the recording (saturation)")
    ap.add_argument("--sat-low", type=float, default=0.2,
                    help="the recording's load, a share of the measured maximum (saturation)")
    ap.add_argument("--render", metavar="JSON", default=None,
                    help="measure nothing: write JSON's .md again from it, and print it")
    ap.add_argument("-o", "--output", default=None,
                    help="results file (default: bench/results/DATE-CPU.json for a run with "
                    "the default options, else only %s)" % os.path.relpath(LATEST, ROOT))
    return ap.parse_args(argv), ap.parse_args([])


def main():
    args, defaults = parse_args()
    if args.render:
        print(render_again(args.render))
        return
    full = all(getattr(args, k) == getattr(defaults, k) for k in vars(defaults) if k != "output")
    args.flowprof_modes = [m for m in args.modes.split(",") if m]
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.agent_handlers = [int(x) for x in args.agent_handlers.split(",")]
    unknown = [s for s in args.sections.split(",") if s and s not in SECTIONS]
    if unknown:
        sys.exit("bench: unknown section %s (sections: %s)"
                 % (", ".join(unknown), ", ".join(ALL_SECTIONS)))
    args.sections = [s for s in ALL_SECTIONS if s in args.sections.split(",")]
    if os.geteuid() != 0:
        sys.exit("bench: needs root (BPF programs and uprobes)")
    for p in (FLOWPROF, TARGET, FLOOR, MANY, PINGPONG):
        if not os.access(p, os.X_OK):
            sys.exit("bench: %s is missing; run `make bench`" % p)
    if ("scale" in args.sections or "agent" in args.sections) and not os.access(GNU_TIME, os.X_OK):
        sys.exit("bench: %s is missing (Debian package time); run `make bench`" % GNU_TIME)
    host = host_info()
    bt = bpftrace_path()
    results = {"flowprof_bench": 2, "host": host, "flowprof_commit": git_commit(),
               "bpftrace_version": subprocess.run([bt, "--version"], capture_output=True,
                                                  text=True).stdout.strip() if bt else None,
               "command": "make bench" + ("" if full else " BENCH_ARGS=\"%s\""
                                          % " ".join(sys.argv[1:])),
               "full_run": full, "sections": args.sections,
               "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "loadavg_at_start": os.getloadavg(), "goals_targets": GOALS}
    log("%s; load average %.2f" % (describe_host(host), os.getloadavg()[0]))
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="flowprof-bench-")
    failed = None
    try:
        for s in args.sections:
            SECTIONS[s](args, tmp, results)
    except BenchError as e:
        failed = str(e)
        results["error"] = failed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["elapsed_s"] = time.monotonic() - t0
    results["loadavg_at_end"] = os.getloadavg()
    results["goals"] = build_goals(results)
    paths = [write_results(LATEST, results)]
    if args.output:
        paths.append(write_results(os.path.abspath(args.output), results))
    elif full and not failed:
        name = "%s-%s.json" % (results["started_at"][:10], slug(host["cpu_model"]))
        paths.append(write_results(os.path.join(RESULTS_DIR, name), results))
    print(render(results))
    print("(%.0f s; results in %s, and .md)"
          % (results["elapsed_s"], ", ".join(os.path.relpath(p, ROOT) for p in paths)))
    if failed:
        print("bench: error: " + failed, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
