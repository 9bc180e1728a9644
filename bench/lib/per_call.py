"""ns per call at each probe-site class (section percall): bench_target's
functions unprobed, under the empty-probe floors of each link type, under
`flowprof record` in each attach mode and under bpftrace's hist() script."""
import json
import os
import re
import signal
import subprocess
import time

from .common import (FLOOR, FLOWPROF, TARGET, BenchError, bpftrace_path, fmt_ratio, log,
                     median)
from .proc import Proc
from .record import auto_mode, write_flowfile

# Probe sites of bench_target: entries (exit: a uretprobe), then exits
# (entry: a 5-byte nop). Each is one function: a call is one entry + one exit.
ENTRY_SITES = ["nop5", "emulated", "sstep"]
EXIT_SITES = ["ret", "jmp", "canary"]
SITES = ENTRY_SITES + EXIT_SITES
# the instructions probed: (entry, exit)
SITE_PROBES = {"nop5": ("nop5", "uretprobe"), "emulated": ("push", "uretprobe"),
               "sstep": ("lea", "uretprobe"), "ret": ("nop5", "ret"), "jmp": ("nop5", "jmp"),
               "canary": ("nop5", "canary jcc")}
# flowprof's calibration slots (snapshot "calibration": {"slots": ...}) per instruction
SLOT_KEY = {"nop5": "nop5", "push": "push", "lea": "step", "uretprobe": "uretprobe",
            "ret": "ret", "jmp": "jmp", "canary jcc": "canary_jcc"}
# the snapshot's entry_site / exit_site for each site, per --exits
SNAP_ENTRY = {"nop5": "nop5", "emulated": "push", "sstep": "other", "ret": "nop5", "jmp": "nop5",
              "canary": "nop5"}
SNAP_EXIT = {"ret": "ret", "jmp": "tail-call jmp", "canary": "canary jcc"}

FLOWPROF_MODES = ["session", "multi", "single"]
FLOOR_MODES = ["pair", "multi", "session"]
# the floor of each flowprof attach mode: empty programs on the same link type
FLOOR_OF = {"session": "session", "multi": "multi", "single": "pair"}
FLOOR_LABEL = {"pair": "perf-event uprobes", "multi": "uprobe_multi",
               "session": "uprobe.session"}


class Target:
    """bench_target: one function per probe site, timing its own calls."""

    def __init__(self):
        self.proc = Proc([TARGET], stdin=subprocess.PIPE)
        self.sites = {}
        for _ in SITES:
            m, _i = self.proc.wait_line(r"^site (\S+) (\S+) (0x[0-9a-f]+) (\S+)(?: (\S+))?$",
                                        start=len(self.sites))
            self.sites[m.group(1)] = {"symbol": m.group(2), "entry": m.group(3),
                                      "exit": None if m.group(4) == "uretprobe" else m.group(4),
                                      "exit_symbol": m.group(5)}
        self.proc.wait_line(r"^ready$")
        self.n_results = 0

    def run(self, site, ms):
        """(wall ns, thread CPU ns) per call."""
        self.proc.send("run %s %g\n" % (site, ms))
        m, i = self.proc.wait_line(r"^result %s (\S+) (\S+) (\d+)$" % site, start=self.n_results,
                                   timeout=ms / 1000 * 20 + 30)
        self.n_results = i + 1
        return float(m.group(1)), float(m.group(2))

    def floor_args(self, sites):
        """bench_floor's SITE arguments: ENTRY, or ENTRY:EXIT for an exit site."""
        return [s["entry"] + (":" + s["exit"] if s["exit"] else "")
                for s in (self.sites[c] for c in sites)]

    def close(self):
        self.proc.send("quit\n")
        self.proc.finish(timeout=10)


def measure(target, sites, ms):
    """{site: (wall ns, CPU ns) per call}, one run per site."""
    return {c: target.run(c, ms) for c in sites}


def with_floor(mode, target, sites, ms, work=None):
    fl = Proc([FLOOR, mode, str(target.proc.pid), TARGET] + target.floor_args(sites),
              stdin=subprocess.PIPE, name="bench_floor " + mode)
    try:
        m, _ = fl.wait_line(r"^attached (\d+) links in (\S+) ms$", timeout=60)
        runs = work(fl) if work else measure(target, sites, ms)
    finally:
        fl.finish()  # closing stdin detaches
    dm = None
    for line in fl.lines["out"]:
        mm = re.match(r"^detached in (\S+) ms$", line)
        if mm:
            dm = float(mm.group(1))
    if fl.status != 0:
        raise BenchError("bench_floor %s failed:\n%s" % (mode, fl.text()))
    return runs, {"links": int(m.group(1)), "attach_ms": float(m.group(2)), "detach_ms": dm}


def with_flowprof(mode, exits, target, sites, ms, tmp, work=None):
    """flowprof record --mode MODE --exits EXITS of the sites' functions (one
    handler each) while the target runs them. Checks that each handler got the
    probes the site stands for."""
    ff = write_flowfile(os.path.join(tmp, "percall.yaml"), os.path.realpath(TARGET),
                        [(c, target.sites[c]["symbol"]) for c in sites])
    snap_path = os.path.join(tmp, "percall-%s-%s.json" % (mode, exits))
    fp = Proc([FLOWPROF, "record", "-f", ff, "-p", str(target.proc.pid), "--mode", mode,
               "--exits", exits, "-o", snap_path, "-v"],
              name="flowprof record --mode %s --exits %s" % (mode, exits))
    try:
        fp.wait_line(r"^flowprof: recording ", stream="err", timeout=120)
        runs = work(fp) if work else measure(target, sites, ms)
    finally:
        st = fp.finish(signal.SIGINT)
    if st not in (0, 130) or not os.path.exists(snap_path):
        raise BenchError("flowprof record --mode %s exited %s:\n%s" % (mode, st, fp.text()))
    with open(snap_path) as f:
        snap = json.load(f)
    info = {"attach_ms": snap.get("attach_ms"), "detach_ms": snap.get("detach_ms"),
            "attach_mode": snap.get("attach_mode"), "auto_mode": auto_mode(fp.lines["err"]),
            "calibration": snap.get("calibration"), "handlers": {}}
    for h in snap.get("handlers", []):
        c = h["id"].split(".", 1)[1]
        info["handlers"][c] = {k: h.get(k) for k in ("calls", "site_class", "entry_site",
                                                     "exit_site", "exits_fallback", "mean_ns",
                                                     "incomplete")}
    for c in sites:
        hs = info["handlers"].get(c)
        if not hs or not hs["calls"]:
            raise BenchError("flowprof --mode %s counted no call of %s:\n%s"
                             % (mode, c, fp.text()))
        want = (SNAP_ENTRY[c], "uretprobe" if exits == "uretprobe" else SNAP_EXIT[c])
        if (hs["entry_site"], hs["exit_site"]) != want:
            raise BenchError("flowprof --mode %s --exits %s probed %s at %s/%s, not %s/%s"
                             % (mode, exits, c, hs["entry_site"], hs["exit_site"], *want))
    return runs, info


BPFTRACE_SCRIPT = """BEGIN { printf("ready\\n"); }
%(probes)s"""
BPFTRACE_URET = """uprobe:%(bin)s:%(sym)s /pid == %(pid)d/ { @start[tid] = nsecs; }
uretprobe:%(bin)s:%(sym)s /pid == %(pid)d/ { @ns[%(key)d] = hist(nsecs - @start[tid]); delete(@start[tid]); }
"""
# an exit site: a uprobe at its own symbol (bpftrace 0.17 without a
# disassembler refuses SYMBOL+OFFSET)
BPFTRACE_SITE = """uprobe:%(bin)s:%(sym)s /pid == %(pid)d/ { @start[tid] = nsecs; }
uprobe:%(bin)s:%(xsym)s /pid == %(pid)d/ { @ns[%(key)d] = hist(nsecs - @start[tid]); delete(@start[tid]); }
"""


def bpftrace_script(target, sites):
    probes = ""
    for i, c in enumerate(sites):
        s = target.sites[c]
        v = {"bin": os.path.realpath(TARGET), "sym": s["symbol"], "xsym": s["exit_symbol"],
             "pid": target.proc.pid, "key": i}
        probes += (BPFTRACE_SITE if s["exit"] else BPFTRACE_URET) % v
    return BPFTRACE_SCRIPT % {"probes": probes}


def with_bpftrace(target, sites, ms, tmp):
    script = bpftrace_script(target, sites)
    path = os.path.join(tmp, "hist.bt")
    with open(path, "w") as f:
        f.write(script)
    bt = Proc([bpftrace_path(), path], name="bpftrace")
    try:
        bt.wait_line(r"^ready$", timeout=120)
        time.sleep(0.2)
        runs = measure(target, sites, ms)
    finally:
        bt.finish(signal.SIGINT)
    counts = {}
    for c_i, c in enumerate(sites):
        # hist output: "@ns[0]:" then bucket lines "[1K, 2K)   1234 |@@@|"
        out = bt.lines["out"]
        total = 0
        for j, line in enumerate(out):
            if line.startswith("@ns[%d]:" % c_i):
                for b in out[j + 1:]:
                    mm = re.match(r"^\[.*?\)?\]?\s+(\d+) \|", b)
                    if not mm:
                        if b.strip() == "":
                            continue
                        break
                    total += int(mm.group(1))
        counts[c] = total
    if not all(counts.values()):
        raise BenchError("bpftrace counted no calls (%s):\n%s" % (counts, bt.text()))
    return runs, {"script": script, "calls": counts}


def slot_of(cal, instr):
    """flowprof's calibration of one probed instruction: (hit_ns, behaves_as)."""
    s = ((cal or {}).get("slots") or {}).get(SLOT_KEY[instr]) or {}
    return s.get("hit_ns"), s.get("behaves_as")


def ratio_summary(r, sites, labels):
    """"best X at A, worst Y at B" over the sites that have a ratio."""
    have = [(r[c], c) for c in sites if r.get(c) is not None]
    if not have:
        return None
    lo, hi = min(have), max(have)
    return {"best": lo[0], "best_at": lo[1], "worst": hi[0], "worst_at": hi[1],
            "text": "best %s at %s, worst %s at %s" % (fmt_ratio(lo[0]), labels[lo[1]],
                                                     fmt_ratio(hi[0]), labels[hi[1]])}


def bench_per_call(args, tmp, results):
    """Each repetition attaches every configuration in turn (rotating the order),
    so slow drift and other load on the host spread over all of them alike.
    flowprof runs twice per mode: --exits uretprobe over the entry sites and
    --exits sites over the exit sites."""
    log("per call: %d repetitions of %g ms per site and configuration (%s time)"
        % (args.reps, args.ms, args.clock))
    target = Target()
    runners = [("none", None, lambda: (measure(target, SITES, args.ms), None))]
    for mode in FLOOR_MODES:
        runners.append(("floor_" + mode, None,
                        lambda m=mode: with_floor(m, target, SITES, args.ms)))
    for mode in args.flowprof_modes:
        for exits, sites in (("uretprobe", ENTRY_SITES), ("sites", EXIT_SITES)):
            runners.append(("flowprof_" + mode, exits,
                            lambda m=mode, e=exits, s=sites: with_flowprof(m, e, target, s,
                                                                           args.ms, tmp)))
    info = {}
    bt = bpftrace_path()
    if bt:
        ver = subprocess.run([bt, "--version"], capture_output=True, text=True).stdout.strip()
        info["bpftrace"] = {"installed": True, "version": ver}
        runners.append(("bpftrace", None, lambda: with_bpftrace(target, SITES, args.ms, tmp)))
    else:
        info["bpftrace"] = {"installed": False}
    configs = {name: {c: {"wall": [], "cpu": []} for c in SITES} for name, _, _ in runners}
    failed = set()
    try:
        for rep in range(args.reps):
            order = runners[rep % len(runners):] + runners[:rep % len(runners)]
            log("  repetition %d/%d" % (rep + 1, args.reps))
            for name, exits, run in order:
                if name in failed:
                    continue
                try:
                    runs, extra = run()
                except BenchError as e:
                    if name != "bpftrace":
                        raise
                    log("bpftrace failed: %s" % e)
                    info["bpftrace"]["error"] = str(e)
                    failed.add(name)
                    continue
                for c, (wall, cpu) in runs.items():
                    configs[name][c]["wall"].append(wall)
                    configs[name][c]["cpu"].append(cpu)
                if extra is not None:
                    key = name if exits is None else "%s --exits %s" % (name, exits)
                    info.setdefault(key, {}).update(extra)
    finally:
        target.close()
    for name in failed:
        del configs[name]

    key = args.clock
    med = {k: {c: median(v[c][key]) for c in SITES} for k, v in configs.items()}
    added = {k: {c: None if med[k][c] is None else med[k][c] - med["none"][c] for c in SITES}
             for k in configs if k != "none"}

    def ratio(num, den):
        out = {}
        for c in SITES:
            a = added.get(num, {}).get(c)
            b = added.get(den, {}).get(c)
            out[c] = a / b if a is not None and b else None
        return out

    # the mode flowprof picks by itself, judged against the goals
    auto = next((v.get("auto_mode") for k, v in info.items()
                 if k.startswith("flowprof_") and v.get("auto_mode")), None)
    judged = auto if auto in args.flowprof_modes else args.flowprof_modes[0]
    ratios = {}
    for mode in args.flowprof_modes:
        ratios["flowprof_%s / floor_%s" % (mode, FLOOR_OF[mode])] = \
            ratio("flowprof_" + mode, "floor_" + FLOOR_OF[mode])
    if "bpftrace" in configs:
        ratios["flowprof_%s / bpftrace" % judged] = ratio("flowprof_" + judged, "bpftrace")
        ratios["floor_%s / bpftrace" % FLOOR_OF[judged]] = ratio("floor_" + FLOOR_OF[judged],
                                                                 "bpftrace")
        ratios["bpftrace / floor_pair"] = ratio("bpftrace", "floor_pair")

    # what the kernel does at each probe, as flowprof's calibration measured it
    cal = next((v.get("calibration") for k, v in info.items()
                if k.startswith("flowprof_%s " % judged) and v.get("calibration")), None)
    probes = {}
    for c in SITES:
        e, x = SITE_PROBES[c]
        eh, eb = slot_of(cal, e)
        xh, xb = slot_of(cal, x)
        probes[c] = {"entry": e, "exit": x, "entry_behaves_as": eb, "exit_behaves_as": xb,
                     "flowprof_calibrated_hit_ns": None if eh is None or xh is None
                     else eh + xh}
    labels = {c: site_label(probes[c], short=True) for c in SITES}
    uret_hit, _ = slot_of(cal, "uretprobe")
    exits_auto = {}
    for c in EXIT_SITES:
        h, _ = slot_of(cal, SITE_PROBES[c][1])
        if h is not None and uret_hit is not None:
            exits_auto[c] = "sites" if h < uret_hit else "uretprobe"
    fl = "flowprof_%s / floor_%s" % (judged, FLOOR_OF[judged])
    summary = {"flowprof / floor": ratio_summary(ratios.get(fl, {}), SITES, labels)}
    if "bpftrace" in configs:
        summary["flowprof / bpftrace"] = ratio_summary(ratios["flowprof_%s / bpftrace" % judged],
                                                       SITES, labels)
        summary["bpftrace / floor"] = ratio_summary(ratios["bpftrace / floor_pair"], SITES,
                                                    labels)
    results["per_call"] = {
        "reps": args.reps, "ms_per_rep": args.ms, "sites": SITES, "clock": args.clock,
        "probes": probes, "auto_mode": auto, "judged_mode": judged,
        "exits_auto_would_pick": exits_auto,
        "ns_per_call": {k: {c: dict(configs[k][c], median=med[k][c],
                                    median_wall=median(configs[k][c]["wall"]),
                                    median_cpu=median(configs[k][c]["cpu"]))
                            for c in SITES}
                        for k in configs},
        "added_ns": added, "ratios": ratios, "summary": summary, "info": info,
    }


def site_label(p, short=False):
    """"push entry (emulated)", or "nop5 entry (optimized), uretprobe exit"."""
    def one(instr, beh):
        name = {"jmp": "tail-call jmp", "lea": "RIP-relative lea" if not short else "lea",
                "push": "push %rbp" if not short else "push"}.get(
            instr, instr)
        return "%s (%s)" % (name, beh) if beh and beh != instr else name
    if short:
        if p["exit"] != "uretprobe":
            return "%s exit site" % one(p["exit"], p["exit_behaves_as"])
        if p["entry"] != "nop5":
            return "%s entry" % one(p["entry"], p["entry_behaves_as"])
        return "%s entry + uretprobe" % one(p["entry"], p["entry_behaves_as"])
    return "%s entry, %s exit" % (one(p["entry"], p["entry_behaves_as"]),
                                  one(p["exit"], p["exit_behaves_as"]))
