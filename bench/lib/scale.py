"""Start-up, attach and detach of 1, 100 and 1,000 handlers per attach mode
(section scale): `flowprof record -d 1` of many_handlers, the parts of its
start-up traced with bpftrace on flowprof's own functions, and the BPF map
memory per handler."""
import os
import re
import signal
import subprocess
import time

from .common import FLOWPROF, MANY, BenchError, bpftrace_path, fmt_ms, log, median
from .proc import Proc, bpf_maps_of
from .record import record_once


class PhaseTracer:
    """bpftrace on flowprof's own functions, for the parts of its start-up:
    resolve_flowfile (symbols, exits), libbpf's bpf_object__load_skeleton (BPF
    load and verification), the first calib_measure (the calibration rounds
    before the handlers' probes go in) and each attach_site_group (one
    binary's probes: the calibration's before it, the handlers' after). The
    probes fire a few times per run."""

    PAIR = """uprobe:%(bin)s:%(fn)s %(pred)s { @%(m)s[tid] = nsecs; }
uretprobe:%(bin)s:%(fn)s /@%(m)s[tid]/ { printf("phase %%d %(name)s %%llu %%llu\\n", pid, @%(m)s[tid], nsecs - @%(m)s[tid]); delete(@%(m)s[tid]); }
"""

    def __init__(self, tmp):
        self.proc = None
        bt = bpftrace_path()
        libbpf = None
        r = subprocess.run(["ldd", FLOWPROF], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            m = re.match(r"\s*libbpf\.so\S* => (\S+)", line)
            if m:
                libbpf = os.path.realpath(m.group(1))
        if not bt or not libbpf:
            self.why = "bpftrace not installed" if not bt else "flowprof has no shared libbpf"
            return
        fp = os.path.realpath(FLOWPROF)
        script = 'BEGIN { printf("ready\\n"); }\n'
        for name, b, fn, pred in (("resolve", fp, "resolve_flowfile", ""),
                                  ("load", libbpf, "bpf_object__load_skeleton",
                                   '/comm == "flowprof"/'),
                                  ("calibration", fp, "calib_measure", "/arg1 > 1/"),
                                  ("group", fp, "attach_site_group", "")):
            script += self.PAIR % {"bin": b, "fn": fn, "pred": pred, "m": name[:2],
                                   "name": name}
        path = os.path.join(tmp, "phases.bt")
        with open(path, "w") as f:
            f.write(script)
        self.proc = Proc([bt, "-B", "line", path], name="bpftrace (start-up phases)")
        try:
            self.proc.wait_line(r"^ready$", timeout=120)
        except BenchError as e:
            self.proc.finish(signal.SIGINT)
            self.proc = None
            self.why = "bpftrace failed: %s" % e
        self.why = None if self.proc else self.why

    def phases(self, pid, timeout=5.0):
        """{resolve_ms, load_ms, calibration_ms, calib_probes_ms, probes_ms} of one
        finished flowprof."""
        if not self.proc:
            return None
        rx = re.compile(r"^phase %d (\w+) (\d+) (\d+)$" % pid)
        deadline = time.monotonic() + timeout
        while True:
            with self.proc.cv:
                got = [rx.match(x) for x in self.proc.lines["out"]]
            got = [(m.group(1), int(m.group(2)), int(m.group(3))) for m in got if m]
            if any(g[0] == "calibration" for g in got) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        out = {"resolve_ms": None, "load_ms": None, "calibration_ms": None,
               "calib_probes_ms": 0.0, "probes_ms": 0.0}
        cal = [g for g in got if g[0] == "calibration"]
        for name, start, dur in got:
            if name in ("resolve", "load", "calibration"):
                out[name + "_ms"] = dur / 1e6
            elif name == "group":
                before = cal and start < cal[0][1]
                out["calib_probes_ms" if before else "probes_ms"] += dur / 1e6
        if not got:
            return None
        return out

    def close(self):
        if self.proc:
            self.proc.finish(signal.SIGINT)


def map_memory(fp):
    maps = bpf_maps_of(fp.pid)
    return {"bytes": sum(m.get("bytes_memlock", 0) for m in maps),
            "maps": {m.get("name", "?"): m.get("bytes_memlock", 0) for m in maps}}


SCALE_KEYS = ("startup_ms", "resolve_ms", "load_ms", "calibration_ms", "calib_probes_ms",
              "probes_ms", "attach_ms", "detach_ms")


def extrapolate(xa, xb, a, b, n):
    """The figures at n handlers from those at a < b: what grows with the
    handlers (resolution, the probes, detach) linearly, never below b's (at 1
    and 100 handlers the noise can make a slope negative); the BPF load and
    the calibration, which do not, as at b; attach and start-up as at b plus
    what grew."""
    def lin(key):
        ya, yb = xa.get(key), xb.get(key)
        if ya is None or yb is None:
            return None
        return max(yb, yb + (yb - ya) / (b - a) * (n - b))
    est = {k: xb.get(k) for k in SCALE_KEYS}
    for key in ("resolve_ms", "probes_ms", "detach_ms"):
        est[key] = lin(key)
    if est["probes_ms"] is None:  # not traced: the totals grow as they did
        est["attach_ms"], est["startup_ms"] = lin("attach_ms"), lin("startup_ms")
    else:
        grew = est["probes_ms"] - xb["probes_ms"]
        est["attach_ms"] = xb["attach_ms"] + grew
        est["startup_ms"] = xb["startup_ms"] + grew + est["resolve_ms"] - xb["resolve_ms"]
    return est


def bench_scale(args, tmp, results):
    log("start-up, attach and detach: %s handlers, modes %s"
        % (args.sizes, ", ".join(args.flowprof_modes)))
    tracer = PhaseTracer(tmp)
    if tracer.why:
        log("  start-up phases not traced: %s" % tracer.why)
    tgt = Proc([MANY, "10000", "1000"], name="many_handlers")
    ad = {}
    mem = {}
    mem_mode = results.get("per_call", {}).get("judged_mode") or args.flowprof_modes[0]
    try:
        tgt.wait_line(r"^ready$")
        for mode in args.flowprof_modes:
            ad[mode] = {}
            sizes = [n for n in args.sizes if mode != "single" or n <= args.single_max]
            for n in sizes:
                reps = 1 if mode == "single" else args.scale_reps
                runs = []
                for _ in range(reps):
                    want_mem = mode == mem_mode and n not in mem
                    r, extra = record_once(tmp, n, mode, tgt.pid, 1, tracer=tracer,
                                           during=map_memory if want_mem else None)
                    if extra:
                        mem[n] = extra
                    runs.append(r)
                    log("  %-7s %4d handlers: start-up %.0f ms, attach %.1f ms (load %s, "
                        "calibration %s, probes %s), detach %.1f ms"
                        % (mode, n, r["startup_ms"], r["attach_ms"], fmt_ms(r.get("load_ms")),
                           fmt_ms(r.get("calibration_ms")), fmt_ms(r.get("probes_ms")),
                           r["detach_ms"]))
                ad[mode][str(n)] = dict({k: median([r.get(k) for r in runs]) for k in SCALE_KEYS},
                                        runs=runs, extrapolated=False)
            # single links at scale take minutes to detach: extrapolated from the two
            # largest sizes measured (see extrapolate)
            missing = [n for n in args.sizes if str(n) not in ad[mode]]
            have = sorted(int(k) for k in ad[mode])
            if missing and len(have) >= 2:
                a, b = have[-2], have[-1]
                for n in missing:
                    ad[mode][str(n)] = dict(extrapolate(ad[mode][str(a)], ad[mode][str(b)],
                                                        a, b, n),
                                            extrapolated=True, from_sizes=[a, b])
    finally:
        tgt.finish(signal.SIGTERM)
        tracer.close()
    results["attach_detach"] = ad
    results["attach_detach_phases"] = "traced" if not tracer.why else tracer.why
    if mem:
        keys = sorted(mem)
        lo, hi = keys[0], keys[-1]
        per = (mem[hi]["bytes"] - mem[lo]["bytes"]) / (hi - lo) if hi != lo else None
        results["map_memory"] = {
            "by_handlers": {str(k): mem[k] for k in keys},
            "marginal_bytes_per_handler": per,
            "bytes_per_handler_at": {str(k): mem[k]["bytes"] / k for k in keys},
            "mode": mem_mode,
            "nproc": os.cpu_count(),
        }
