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
              idle and with a CPU hog on every CPU.

Prints the tables. Every run writes build/bench/results.json and .md (the
latest run); a run with the default options also writes
bench/results/DATE-CPU.json and .md, the files the README quotes.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
FLOWPROF = os.path.join(BUILD, "flowprof")
BENCH_DIR = os.path.join(BUILD, "bench")
TARGET = os.path.join(BENCH_DIR, "bench_target")
FLOOR = os.path.join(BENCH_DIR, "bench_floor")
MANY = os.path.join(BENCH_DIR, "many_handlers")
PINGPONG = os.path.join(BENCH_DIR, "pingpong")
TARGETS = os.path.join(BUILD, "targets")
NESTED_FLOW = os.path.join(ROOT, "tests", "e2e", "flows", "nested.yaml")
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
LATEST = os.path.join(BENCH_DIR, "results.json")
# GNU time (Debian package time): flowprof's own lifetime peak RSS. wait4 on
# a child of this script cannot give it: subprocess spawns with vfork, and
# the exec folds the parent's (Python's) high-water mark into the child's
# ru_maxrss. GNU time forks from its own small process.
GNU_TIME = "/usr/bin/time"

# Probe sites of bench_target: entries (exit: a uretprobe), then exits
# (entry: a 5-byte nop). Each is one function: a call is one entry + one exit.
ENTRY_SITES = ["nop5", "emulated", "sstep"]
EXIT_SITES = ["ret", "jmp"]
SITES = ENTRY_SITES + EXIT_SITES
# the instructions probed: (entry, exit)
SITE_PROBES = {"nop5": ("nop5", "uretprobe"), "emulated": ("push", "uretprobe"),
               "sstep": ("lea", "uretprobe"), "ret": ("nop5", "ret"), "jmp": ("nop5", "jmp")}
# the site's class, for summaries: the probe that differs from nop5 + uretprobe
SITE_SHORT = {"nop5": "nop5 entry + uretprobe", "emulated": "push entry", "sstep": "lea entry",
              "ret": "ret exit site", "jmp": "tail-call jmp exit site"}
# flowprof's calibration slots (snapshot "calibration": {"slots": ...}) per instruction
SLOT_KEY = {"nop5": "nop5", "push": "push", "lea": "step", "uretprobe": "uretprobe",
            "ret": "ret", "jmp": "jmp"}
# the snapshot's entry_site / exit_site for each site, per --exits
SNAP_ENTRY = {"nop5": "nop5", "emulated": "push", "sstep": "other", "ret": "nop5", "jmp": "nop5"}
SNAP_EXIT = {"ret": "ret", "jmp": "tail-call jmp"}

FLOWPROF_MODES = ["session", "multi", "single"]
FLOOR_MODES = ["pair", "multi", "session"]
# the floor of each flowprof attach mode: empty programs on the same link type
FLOOR_OF = {"session": "session", "multi": "multi", "single": "pair"}
FLOOR_LABEL = {"pair": "perf-event uprobes", "multi": "uprobe_multi",
               "session": "uprobe.session"}
ALL_SECTIONS = ["percall", "scale", "bpftime", "agent", "sched", "accuracy"]

# Issue 14's goals.
GOALS = {
    "floor_ratio": 1.05,          # flowprof / the empty probes of its link type, every site
    "bpftrace_ratio": 0.60,       # flowprof / bpftrace hist, where the floor allows
    "attach_detach_1000_ms": 200,  # attach (load, calibration, probes) + detach, 1,000 handlers
    "agent_rss_mib": 12.0,        # at 1,000 handlers
    "sched_cost_pct": 3.0,        # context switches per second lost
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


class Proc:
    """A child process whose stdout/stderr lines are collected by threads,
    each with the time it arrived (time.monotonic()); .t0 is the time just
    before the exec.

    peak_file: run it under GNU time, which writes the process's lifetime
    peak RSS (KiB) there; .pid is then the process itself (time's child),
    .peak_kib its peak once finished. cpus: the CPUs it may run on."""

    def __init__(self, args, stdin=subprocess.DEVNULL, name=None, peak_file=None, cpus=None):
        self.name = name or os.path.basename(args[0])
        self.args = args
        self.peak_file = peak_file
        self.peak_kib = None
        self._pid = None
        if peak_file:
            args = [GNU_TIME, "-f", "%M", "-o", peak_file] + args
        pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.lines = {"out": [], "err": []}
        self.times = {"out": [], "err": []}
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1, preexec_fn=pre)
        self.cv = threading.Condition()
        self.eof = {"out": False, "err": False}
        self.status = None
        self.rusage = None
        self.threads = [threading.Thread(target=self._read, args=(k, f), daemon=True)
                        for k, f in (("out", self.p.stdout), ("err", self.p.stderr))]
        for t in self.threads:
            t.start()

    @property
    def pid(self):
        if not self.peak_file:
            return self.p.pid
        # time's only child: there once time has forked
        deadline = time.monotonic() + 10
        while self._pid is None:
            try:
                with open("/proc/%d/task/%d/children" % (self.p.pid, self.p.pid)) as f:
                    kids = f.read().split()
                if kids:
                    self._pid = int(kids[0])
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("%s: GNU time started no process" % self.name)
            time.sleep(0.001)
        return self._pid

    def _read(self, key, f):
        for line in f:
            now = time.monotonic()
            with self.cv:
                self.lines[key].append(line.rstrip("\n"))
                self.times[key].append(now)
                self.cv.notify_all()
        with self.cv:
            self.eof[key] = True
            self.cv.notify_all()

    def wait_line(self, pattern, stream="out", timeout=30.0, start=0):
        """First line (from index start) matching pattern: (match, index);
        raises on exit or timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines[stream])):
                    m = rx.search(self.lines[stream][i])
                    if m:
                        return m, i
                if self.eof[stream]:
                    raise BenchError("%s exited before printing /%s/:\n%s"
                                     % (self.name, pattern, self.text()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError("%s: no /%s/ within %.0f s:\n%s"
                                     % (self.name, pattern, timeout, self.text()))
                self.cv.wait(left)

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def text(self):
        with self.cv:
            return "\n".join(["stdout:"] + self.lines["out"][-20:]
                             + ["stderr:"] + self.lines["err"][-20:])

    def finish(self, sig=None, timeout=120.0):
        """Signals (optionally), reaps, returns the exit status; reads the peak under GNU time."""
        if self.status is not None:
            return self.status
        if sig is not None and self.p.poll() is None:
            if self.peak_file:
                os.kill(self.pid, sig)  # time itself ignores SIGINT and dies of SIGTERM
            else:
                self.p.send_signal(sig)
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.p.kill()
                pid, status, ru = os.wait4(self.p.pid, 0)
                break
            time.sleep(0.01)
        self.status = os.waitstatus_to_exitcode(status)
        self.p.returncode = self.status
        self.rusage = ru
        for t in self.threads:
            t.join(5)
        if self.peak_file:
            try:
                with open(self.peak_file) as f:
                    # the last line: GNU time puts "Command exited with
                    # non-zero status N" before the format's
                    self.peak_kib = int(f.read().split()[-1])
            except (OSError, ValueError, IndexError):
                self.peak_kib = None
        return self.status


# ---------------------------------------------------------------- helpers

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_ns(x):
    if x is None:
        return "-"
    if abs(x) >= 10000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "{:.0f}".format(x)
    return "{:.1f}".format(x)


def fmt_ratio(x):
    return "-" if x is None else "{:.2f}x".format(x)


def fmt_ms(x):
    if x is None:
        return "-"
    if x >= 10000:
        return "{:,.0f}".format(x)
    if x >= 100:
        return "{:.0f}".format(x)
    return "{:.1f}".format(x)


def fmt_pct(x):
    return "-" if x is None else "{:+.1f}%".format(x)


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


def proc_cpu_ns(pid):
    """(utime+stime in ns from /proc/PID/stat, run time in ns summed over
    /proc/PID/task/*/schedstat): the first is what `ps` uses, the second is exact."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    stat_ns = (int(fields[11]) + int(fields[12])) * 1e9 / tick
    sched_ns = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                sched_ns += int(f.read().split()[0])
        except OSError:
            pass
    return stat_ns, sched_ns


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def bpf_maps_of(pid):
    """The BPF maps pid holds open: memlock and id from /proc/PID/fdinfo (exact,
    whatever else runs on the host), names from `bpftool -j map show`."""
    maps = {}
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        mid = int(info["map_id"])
        maps[mid] = {"id": mid, "bytes_memlock": int(info["memlock"]),
                     "max_entries": int(info["max_entries"]), "name": "map_%d" % mid}
    r = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode == 0:
        for m in json.loads(r.stdout or "[]"):
            if m.get("id") in maps:
                maps[m["id"]]["name"] = m.get("name", maps[m["id"]]["name"])
    return list(maps.values())


def auto_mode(lines):
    """The attach mode `--mode auto` starts with, from -v's "kernel features" line."""
    for line in lines:
        m = re.search(r"kernel features: uprobe\.session (\w+), uprobe_multi (\w+)", line)
        if m:
            return "session" if m.group(1) == "yes" else "multi" if m.group(2) == "yes" \
                else "single"
    return None


def bpftrace_path():
    return shutil.which("bpftrace")


# ---------------------------------------------------------------- per call

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


# ---------------------------------------------------------------- time inside BPF

SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_ENABLE_STATS = 32


def enable_bpf_stats():
    """BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): run_time_ns is counted while the fd is open."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 32)()  # enable_stats.type = 0
    fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        raise BenchError("BPF_ENABLE_STATS: %s" % os.strerror(ctypes.get_errno()))
    return fd


def prog_stats(pid):
    """{prog_id: (run_time_ns, run_cnt)} of the BPF programs pid holds open (fdinfo)."""
    out = {}
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        out[int(info["prog_id"])] = (int(info.get("run_time_ns", 0)), int(info.get("run_cnt", 0)))
    return out


def prog_names(ids):
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                       timeout=60)
    names = {}
    if r.returncode == 0:
        for p in json.loads(r.stdout or "[]"):
            if p.get("id") in ids:
                names[p["id"]] = p.get("name", str(p["id"]))
    return names


def bench_bpf_time(args, tmp, results):
    """Time spent inside the BPF programs per call at the nop5 site, with the kernel's
    BPF run-time statistics on (they cost a little themselves, so this is a separate
    pass, not part of the per-call figures)."""
    if SYS_BPF is None:
        return
    log("time inside BPF programs (nop5 site, %g ms each)" % args.ms)
    target = Target()
    out = {}

    def work_for(name):
        def work(proc):
            fd = enable_bpf_stats()
            try:
                a = prog_stats(proc.pid)
                target.run("nop5", args.ms)
                b = prog_stats(proc.pid)
            finally:
                os.close(fd)
            names = prog_names(set(b))
            progs = {}
            for pid_, (t1, c1) in b.items():
                t0, c0 = a.get(pid_, (0, 0))
                if c1 > c0:
                    progs[names.get(pid_, str(pid_))] = {"runs": c1 - c0,
                                                         "ns_per_run": (t1 - t0) / (c1 - c0)}
            # one call = one run of the entry program, or two of a session program
            calls = max((p["runs"] for n, p in progs.items()
                         if n in ("empty_entry", "handler_entry")), default=None)
            if calls is None:
                calls = max((p["runs"] for n, p in progs.items()
                             if n in ("empty_session", "handler_session")), default=0) / 2
            uprobe_ns = sum(p["ns_per_run"] * p["runs"] for n, p in progs.items()
                            if n.startswith(("empty_", "handler_")))
            out[name] = {"programs": progs,
                         "ns_per_call": uprobe_ns / calls if calls else None}
            return {"nop5": (0.0, 0.0)}
        return work

    try:
        for mode in ("pair", "session"):
            with_floor(mode, target, ["nop5"], args.ms, work=work_for("floor_" + mode))
        for mode in args.flowprof_modes:
            if mode != "single":
                with_flowprof(mode, "uretprobe", target, ["nop5"], args.ms, tmp,
                              work=work_for("flowprof_" + mode))
    except BenchError as e:
        log("BPF run-time statistics unavailable: %s" % e)
    finally:
        target.close()
    results["bpf_time"] = out


# ---------------------------------------------------------------- start-up, attach/detach, memory

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


# ---------------------------------------------------------------- agent CPU / RSS

def bench_agent(args, tmp, results):
    out = {}
    mode = results.get("per_call", {}).get("judged_mode") or args.flowprof_modes[0]
    for n in args.agent_handlers:
        log("agent: %d handlers, %d calls/s for %g s" % (n, args.rate, args.agent_s))
        tgt = Proc([MANY, str(args.rate), str(n)], name="many_handlers")
        try:
            tgt.wait_line(r"^ready$")

            def window(fp):
                time.sleep(0.5)  # past start-up (calibration, first interval)
                t0 = time.monotonic()
                c0 = proc_cpu_ns(fp.pid)
                time.sleep(args.agent_s)
                c1 = proc_cpu_ns(fp.pid)
                t1 = time.monotonic()
                wall_ns = (t1 - t0) * 1e9
                return {"window_s": t1 - t0,
                        "cpu_pct_stat": (c1[0] - c0[0]) / wall_ns * 100,
                        "cpu_pct_schedstat": (c1[1] - c0[1]) / wall_ns * 100,
                        "vmhwm_kib": proc_status_kib(fp.pid, "VmHWM"),
                        "vmrss_kib": proc_status_kib(fp.pid, "VmRSS")}

            r, w = record_once(tmp, n, mode, tgt.pid, args.agent_s + 1.5, during=window)
        finally:
            tgt.finish(signal.SIGTERM)
        tc = None
        for line in tgt.lines["out"]:
            m = re.match(r"^calls (\d+) seconds (\S+)$", line)
            if m and float(m.group(2)) > 0:
                tc = int(m.group(1)) / float(m.group(2))
        w.update({"handlers": n, "calls_per_s_flowprof": r["calls"] / r["duration_s"],
                  "calls_per_s_target": tc, "peak_rss_kib": r["peak_rss_kib"],
                  "mode": mode})
        log("  cpu %.2f%% (stat %.2f%%), VmRSS %d KiB, VmHWM %d KiB, lifetime peak %s KiB, "
            "%.0f calls/s" % (w["cpu_pct_schedstat"], w["cpu_pct_stat"], w["vmrss_kib"],
                              w["vmhwm_kib"], w["peak_rss_kib"], w["calls_per_s_flowprof"]))
        out[str(n)] = w
    results["agent"] = out


# ---------------------------------------------------------------- sched_switch, host-wide

def bench_sched(args, tmp, results):
    """Context switches per second of a pipe ping-pong pinned to one CPU, with
    no recording, with a recording of an idle process (on-CPU tracking on:
    flowprof's sched_switch program runs at every switch on the host), and
    with one under --no-oncpu (no sched_switch program). flowprof and its
    target run on the other CPUs, so that the figure is the switch's cost,
    not flowprof's own work competing for the CPU."""
    ncpu = os.cpu_count() or 1
    pp_cpu = ncpu - 1
    others = set(range(ncpu)) - {pp_cpu} or None
    log("sched_switch: ping-pong on CPU %d, %d x %g s per configuration"
        % (pp_cpu, args.reps, args.pp_s))
    configs = [("none", None), ("flowprof", ()), ("flowprof --no-oncpu", ("--no-oncpu",))]
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
                        st = fp.finish(signal.SIGINT)
                        if st not in (0, 130):
                            raise BenchError("flowprof record exited %s:\n%s" % (st, fp.text()))
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
    for n in ("flowprof", "flowprof --no-oncpu"):
        if med["none"]:
            out["passes_per_s"][n]["ratio"] = med[n] / med["none"]
            out["passes_per_s"][n]["cost_pct"] = (1 - med[n] / med["none"]) * 100
    results["sched"] = out


# ---------------------------------------------------------------- accuracy

# tests/e2e/test_accuracy.py's workload: R requests of K work_cpu, one parse
# (one more work_cpu), one work_sleep and one work_block; X work_cpu outside;
# V work_var of spread durations; req and parse spin OWN_US of their own.
ACC_ARGS = ["-r", "100", "-k", "3", "-x", "5", "-v", "100", "-c", "200", "-s", "300",
            "-b", "300", "-o", "100"]
ACC_TARGETS = ["nested_nop5", "nested", "nested_endbr"]
ACC_ENTRY = {"nested_nop5": "nop5", "nested": "push", "nested_endbr": "endbr64"}
ACC_EXITS = ["uretprobe", "sites"]
ACC_HANDLERS = ("req", "parse", "work_cpu", "work_sleep", "work_block", "work_var")


def rel(got, want, base=None):
    """Signed error of got against want, in % of base (default want)."""
    base = want if base is None else base
    if got is None or want is None or not base:
        return None
    return (got - want) / base * 100


def worst(errs):
    """The error of largest magnitude (signed), and where."""
    have = [(abs(v), v, k) for k, v in errs.items() if v is not None]
    if not have:
        return None, None
    _, v, k = max(have)
    return v, k


def accuracy_once(tmp, target, exits, loaded):
    d = os.path.join(tmp, "acc-%s-%s-%d" % (target, exits, loaded))
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(TARGETS, target)
    with open(NESTED_FLOW) as f:
        flow = f.read().replace("../../../build/targets/nested", exe)
    ff = os.path.join(d, "flow.yaml")
    with open(ff, "w") as f:
        f.write(flow)
    snap_path = os.path.join(d, "snap.json")
    hogs = []
    if loaded:
        for _ in range(os.cpu_count() or 1):
            hogs.append(subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"]))
    try:
        t = Proc([exe] + ACC_ARGS + ["-w"], stdin=subprocess.PIPE, name=target)
        fp = None
        try:
            t.wait_line(r"^ready (\d+)$", timeout=30)
            fp = Proc([FLOWPROF, "record", "-f", ff, "-p", str(t.p.pid), "--exits", exits,
                       "-o", snap_path], name="flowprof record (%s)" % target)
            fp.wait_line(r"^flowprof: recording ", stream="err", timeout=120)
            t.send("g")
            m, _ = t.wait_line(r"^(\{.*\})$", timeout=300)
            report = json.loads(m.group(1))
        finally:
            t.finish(timeout=60)
            if fp:
                st = fp.finish(timeout=60)
                if st != 0:
                    raise BenchError("flowprof record of %s exited %s:\n%s"
                                     % (target, st, fp.text()))
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    with open(snap_path) as f:
        snap = json.load(f)
    r = subprocess.run([FLOWPROF, "report", "--json", snap_path], capture_output=True,
                       text=True, timeout=120)
    if r.returncode:
        raise BenchError("flowprof report --json %s: %s" % (snap_path, r.stderr))
    model = json.loads(r.stdout)["model"]
    sh = {h["id"].split(".", 1)[1]: h for h in snap["handlers"]}
    mh = {h["id"].split(".", 1)[1]: h for h in model["handlers"]}
    errs = {m: {"raw": {}, "corrected": {}} for m in ("mean", "p50", "p99", "self", "oncpu")}
    probes = {}
    for n in ACC_HANDLERS:
        tr = report["handlers"][n]["truth"]
        calls = tr["calls"]
        mean = tr["total_ns"] / calls
        probes[n] = {"entry_site": sh[n].get("entry_site"), "exit_site": sh[n].get("exit_site"),
                     "site_class": sh[n].get("site_class"), "calls": sh[n]["calls"],
                     "truth_calls": calls, "incomplete": sh[n].get("incomplete")}
        errs["mean"]["raw"][n] = rel(sh[n].get("mean_ns"), mean)
        errs["mean"]["corrected"][n] = rel(mh[n].get("mean_ns"), mean)
        # on-CPU time: in % of the call's time (work_sleep's is near 0)
        errs["oncpu"]["raw"][n] = rel(sh[n].get("oncpu_mean_ns"), tr["oncpu_ns"] / calls, mean)
        errs["oncpu"]["corrected"][n] = rel(mh[n].get("oncpu_ns"), tr["oncpu_ns"] / calls, mean)
    for n in ("req", "parse"):
        tr = report["handlers"][n]["truth"]
        want = tr["self_ns"] / tr["calls"]
        errs["self"]["raw"][n] = rel(sh[n].get("self_mean_ns"), want)
        errs["self"]["corrected"][n] = rel(mh[n].get("self_ns"), want)
    samples = report["sorted_ns"]["work_var"]
    for p in (50, 99):
        rank = -(-p * len(samples) // 100)
        want = samples[rank - 1]
        errs["p%d" % p]["raw"]["work_var"] = rel(sh["work_var"].get("p%d_ns" % p), want)
        errs["p%d" % p]["corrected"]["work_var"] = rel(mh["work_var"].get("p%d_ns" % p), want)
    summary = {}
    for metric, v in errs.items():
        for kind in ("raw", "corrected"):
            e, where = worst(v[kind])
            summary["%s_%s" % (metric, kind)] = e
            summary["%s_%s_at" % (metric, kind)] = where
    # as attached: the entries' class, the exits' kinds and what the kernel does there
    slots = (snap.get("calibration") or {}).get("slots") or {}
    kinds = {"uretprobe": "uretprobe", "ret": "ret", "tail-call jmp": "jmp"}
    exit_desc = []
    for x in sorted({p["exit_site"] for p in probes.values()} - {None}):
        beh = (slots.get(kinds.get(x, "")) or {}).get("behaves_as")
        exit_desc.append("%s (%s)" % (x, beh) if beh and beh != x else x)
    classes = sorted({p["site_class"] for p in probes.values()} - {None})
    entry_desc = "%s (%s)" % (ACC_ENTRY[target], ", ".join(classes)) \
        if classes and classes != [ACC_ENTRY[target]] else ACC_ENTRY[target]
    return {"target": target, "entry": ACC_ENTRY[target], "exits": exits, "loaded": loaded,
            "entry_as_attached": entry_desc, "exits_as_attached": ", ".join(exit_desc),
            "errors_pct": errs, "worst_pct": summary, "probes": probes,
            "attach_mode": snap.get("attach_mode")}


def bench_accuracy(args, tmp, results):
    log("accuracy: %s x exits %s, idle and loaded, %d runs each"
        % (", ".join(ACC_TARGETS), ", ".join(ACC_EXITS), args.acc_reps))
    rows = []
    for loaded in (False, True):
        for target in ACC_TARGETS:
            if not os.access(os.path.join(TARGETS, target), os.X_OK):
                raise BenchError("build/targets/%s is missing; run `make bench`" % target)
            for exits in ACC_EXITS:
                runs = [accuracy_once(tmp, target, exits, loaded) for _ in range(args.acc_reps)]
                # per cell, the median over the runs of each run's largest error
                r = dict(runs[0], runs=runs, worst_pct={
                    k: median([x["worst_pct"][k] for x in runs])
                    for k in runs[0]["worst_pct"] if not k.endswith("_at")})
                del r["errors_pct"], r["probes"]
                w = r["worst_pct"]
                log("  %-12s exits %-9s %s: mean %s -> %s, p99 %s -> %s"
                    % (target, exits, "loaded" if loaded else "idle",
                       fmt_pct(w["mean_raw"]), fmt_pct(w["mean_corrected"]),
                       fmt_pct(w["p99_raw"]), fmt_pct(w["p99_corrected"])))
                rows.append(r)
    results["accuracy"] = {"args": ACC_ARGS, "reps": args.acc_reps, "rows": rows}


# ---------------------------------------------------------------- goals

def build_goals(results):
    goals = []
    pc = results.get("per_call")
    if pc:
        mode = pc["judged_mode"]
        fl = FLOOR_OF[mode]
        labels = {c: site_label(pc["probes"][c], short=True) for c in SITES}
        r = pc["ratios"].get("flowprof_%s / floor_%s" % (mode, fl), {})
        s = pc["summary"].get("flowprof / floor")
        missed = [c for c in SITES if r.get(c) is not None and r[c] > GOALS["floor_ratio"]]
        goals.append({
            "goal": "flowprof (%s) per call / the empty %s probes, every site class"
                    % (mode, FLOOR_LABEL[fl]),
            "target": "<= %.2fx" % GOALS["floor_ratio"],
            "measured": s["text"] if s else "not measured",
            "verdict": "not measured" if not s else "met" if not missed else
            "not met at " + ", ".join("%s (%s)" % (labels[c], fmt_ratio(r[c])) for c in missed)})
        rb = pc["ratios"].get("flowprof_%s / bpftrace" % mode)
        if rb:
            att = pc["ratios"]["floor_%s / bpftrace" % fl]
            judged = [c for c in SITES if rb.get(c) is not None and att.get(c) is not None
                      and att[c] <= GOALS["bpftrace_ratio"]]
            bound = [c for c in SITES if att.get(c) is not None
                     and att[c] > GOALS["bpftrace_ratio"]]
            missed = [c for c in judged if rb[c] > GOALS["bpftrace_ratio"]]
            s = pc["summary"]["flowprof / bpftrace"]
            text = s["text"]
            if bound:
                text += "; the floor alone is above %.2fx at %s" % (
                    GOALS["bpftrace_ratio"], ", ".join("%s (%s)" % (labels[c], fmt_ratio(att[c]))
                                                       for c in bound))
            said = ("not met at " + ", ".join("%s (%s)" % (labels[c], fmt_ratio(rb[c]))
                                              for c in missed)) if missed else \
                "met" if judged else "not judged: the floor allows it at no site"
            if bound and judged:
                said += " (judged at %d of %d sites)" % (len(judged), len(SITES))
            goals.append({"goal": "flowprof (%s) per call / bpftrace's uprobe hist() script"
                                  % mode,
                          "target": "<= %.2fx where the floor allows" % GOALS["bpftrace_ratio"],
                          "measured": text, "verdict": said})
        else:
            bt = pc["info"]["bpftrace"]
            goals.append({"goal": "flowprof per call / bpftrace's uprobe hist() script",
                          "target": "<= %.2fx where the floor allows" % GOALS["bpftrace_ratio"],
                          "measured": "bpftrace not installed" if not bt.get("installed")
                          else "bpftrace failed", "verdict": "not measured"})
    ad = results.get("attach_detach")
    if ad:
        mode = (pc or {}).get("judged_mode") or next(iter(ad))
        parts, value = [], None
        for m in ad:
            x = ad[m].get("1000")
            if not x or x["attach_ms"] is None:
                continue
            tot = x["attach_ms"] + x["detach_ms"]
            part = "%s %s ms%s" % (m, fmt_ms(tot), " (extrapolated)" if x["extrapolated"] else "")
            if m == mode:
                value = tot
                if x.get("calibration_ms") is not None:
                    part += " (calibration %s, BPF load %s, probes %s, detach %s)" % (
                        fmt_ms(x["calibration_ms"]), fmt_ms(x["load_ms"]),
                        fmt_ms(x["probes_ms"]), fmt_ms(x["detach_ms"]))
                part += "; whole start-up + detach %s ms" % fmt_ms(x["startup_ms"]
                                                                     + x["detach_ms"])
            parts.append(part)
        goals.append({"goal": "attach (BPF load, calibration, probes: attach_ms) + detach of "
                              "1,000 handlers, %s" % mode,
                      "target": "<= %.1f s" % (GOALS["attach_detach_1000_ms"] / 1000),
                      "measured": "; ".join(parts),
                      "verdict": verdict(value, GOALS["attach_detach_1000_ms"])})
    ag = results.get("agent")
    if ag and "1000" in ag:
        v = ag["1000"]
        peak = agent_peak_kib(v) / 1024
        goals.append({"goal": "agent RSS at 1,000 handlers (%s, %.0fk calls/s)"
                              % (v["mode"], (v["calls_per_s_target"]
                                             or v["calls_per_s_flowprof"]) / 1000),
                      "target": "<= %.0f MiB" % GOALS["agent_rss_mib"],
                      "measured": "%.1f MiB peak (VmRSS %.1f while recording, VmHWM %.1f, "
                                  "lifetime %s)" % (peak, v["vmrss_kib"] / 1024,
                                                    v["vmhwm_kib"] / 1024,
                                                    "-" if v["peak_rss_kib"] is None
                                                    else "%.1f" % (v["peak_rss_kib"] / 1024)),
                      "verdict": verdict(peak, GOALS["agent_rss_mib"])})
    sc = results.get("sched")
    if sc:
        f = sc["passes_per_s"]["flowprof"]
        goals.append({"goal": "host-wide cost of the sched_switch program (ping-pong "
                              "context switches/s, recording vs none)",
                      "target": "<= %.0f%%" % GOALS["sched_cost_pct"],
                      "measured": "%.1f%% (%.0f/s -> %.0f/s; --no-oncpu: %.1f%%)"
                                  % (f["cost_pct"], sc["passes_per_s"]["none"]["median"],
                                     f["median"],
                                     sc["passes_per_s"]["flowprof --no-oncpu"]["cost_pct"]),
                      "verdict": verdict(f["cost_pct"], GOALS["sched_cost_pct"])})
    return goals


def verdict(value, target):
    if value is None:
        return "not measured"
    return "met" if value <= target else "not met"


def agent_peak_kib(v):
    return max(v["vmhwm_kib"] or 0, v["peak_rss_kib"] or 0)


# ---------------------------------------------------------------- report

def md_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in rows])


CONFIG_NAMES = {"floor_pair": "empty perf-event pair", "floor_multi": "empty uprobe_multi",
                "floor_session": "empty uprobe.session", "flowprof_session": "flowprof session",
                "flowprof_multi": "flowprof multi", "flowprof_single": "flowprof single",
                "bpftrace": "bpftrace hist()"}


def describe_host(h):
    return "%s, %d vCPUs, kernel %s, PTI %s%s" % (
        h["cpu_model"], h["vcpus"], h["kernel"],
        {True: "on", False: "off", None: "unknown"}[h["pti"]],
        ", virtual machine" if h["hypervisor"] else "")


def render(results):
    h = results["host"]
    out = ["# flowprof bench, %s" % results["started_at"][:10], "",
           "Host: %s. flowprof %s; %s. Run: `%s`, %.0f s, load average %.2f at the start%s." % (
               describe_host(h), results["flowprof_commit"], results.get("bpftrace_version")
               or "bpftrace not installed", results["command"], results.get("elapsed_s", 0),
               results["loadavg_at_start"][0],
               "" if results["full_run"] else " (not the default options: not for quoting)")]
    pc = results.get("per_call")
    if pc:
        cfgs = [k for k in CONFIG_NAMES if k in pc["added_ns"]]
        out += ["", "## Per call",
                "", "Added ns per call (probed - unprobed; %s time, median of %d x %g ms). "
                "Each site is one function: an entry and an exit probe. In parentheses: what the "
                "kernel does there, as flowprof's calibration measured it." % (
                    "the target thread's CPU" if pc["clock"] == "cpu" else "wall",
                    pc["reps"], pc["ms_per_rep"]), ""]
        rows = []
        for c in SITES:
            rows.append([site_label(pc["probes"][c]), fmt_ns(pc["ns_per_call"]["none"][c]["median"])]
                        + [fmt_ns(pc["added_ns"][k][c]) for k in cfgs]
                        + [fmt_ns(pc["probes"][c]["flowprof_calibrated_hit_ns"])])
        out.append(md_table(["site", "unprobed"] + [CONFIG_NAMES[k] for k in cfgs]
                            + ["flowprof's calibration"], rows))
        out.append("\nflowprof's calibration: what its start-up measured a hit of the entry and "
                   "of the exit to cost (%s mode), for comparison." % pc["judged_mode"])
        bt = pc["info"].get("bpftrace", {})
        if "bpftrace" not in pc["added_ns"]:
            out.append("bpftrace: %s" % ("not installed" if not bt.get("installed")
                                         else "failed"))
        out += ["", "Ratios of added cost, same run:", ""]
        keys = list(pc["ratios"])
        out.append(md_table(["site"] + [k.replace("_", " ") for k in keys],
                            [[site_label(pc["probes"][c], short=True)]
                             + [fmt_ratio(pc["ratios"][k].get(c)) for k in keys]
                             for c in SITES]))
        out.append("")
        mode = pc["judged_mode"]
        names = {"flowprof / floor": "flowprof (%s) / empty %s" % (
                     mode, FLOOR_LABEL[FLOOR_OF[mode]]),
                 "flowprof / bpftrace": "flowprof (%s) / bpftrace hist()" % mode,
                 "bpftrace / floor": "bpftrace hist() / empty perf-event pair"}
        for k, s in pc["summary"].items():
            if s:
                out.append("- %s: %s" % (names[k], s["text"]))
        picks = ["the uretprobe over %s exit sites" % site_label(pc["probes"][c], True)
                 .replace(" exit site", "") if v == "uretprobe" else
                 "%s over the uretprobe" % site_label(pc["probes"][c], True) + "s"
                 for c, v in pc["exits_auto_would_pick"].items()]
        out.append("- flowprof's default attach mode here: %s; `--exits auto` here picks, "
                   "as calibrated: %s" % (pc["auto_mode"], "; ".join(picks) or "-"))
    bt = results.get("bpf_time")
    if bt:
        out += ["", "## Time inside the BPF programs", "",
                "At the nop5 site, kernel BPF run-time statistics (a separate pass):", ""]
        for k, v in bt.items():
            progs = ", ".join("%s %.0f" % (n, p["ns_per_run"]) for n, p in v["programs"].items())
            out.append("- %s: %s ns per call (ns per run: %s)"
                       % (k, fmt_ns(v["ns_per_call"]), progs))
    ad = results.get("attach_detach")
    if ad:
        out += ["", "## Start-up, attach and detach",
                "", "ms, median; `flowprof record -d 1` of N nop5 functions. start-up: exec "
                "to the \"recording\" line; attach_ms (the snapshot's) = BPF load + "
                "calibration + probes + the rest (open, tracepoints, the calibration's own "
                "probes); parts traced with bpftrace (%s)." % results["attach_detach_phases"],
                ""]
        sizes = sorted({int(n) for m in ad.values() for n in m})
        rows = []
        for mode, v in ad.items():
            for n in sizes:
                x = v.get(str(n))
                if not x:
                    continue
                rows.append([mode, n, fmt_ms(x["startup_ms"]), fmt_ms(x["resolve_ms"]),
                             fmt_ms(x["load_ms"]), fmt_ms(x["calibration_ms"]),
                             fmt_ms(x["probes_ms"]), fmt_ms(x["attach_ms"]),
                             fmt_ms(x["detach_ms"]),
                             fmt_ms(None if x["attach_ms"] is None
                                    else x["attach_ms"] + x["detach_ms"]),
                             "extrapolated from %s" % x["from_sizes"] if x["extrapolated"]
                             else "measured"])
        out.append(md_table(["mode", "handlers", "start-up", "resolve", "BPF load",
                             "calibration", "probes", "attach_ms", "detach_ms",
                             "attach + detach", ""], rows))
    mm = results.get("map_memory")
    if mm:
        parts = ["%s handlers: %s KiB" % (k, "{:,.0f}".format(v["bytes"] / 1024))
                 for k, v in mm["by_handlers"].items()]
        per = mm.get("marginal_bytes_per_handler")
        out += ["", "BPF map memory (bytes_memlock, %s mode, %d CPUs): %s; %s per added handler"
                % (mm["mode"], mm["nproc"], "; ".join(parts),
                   "-" if per is None else "{:,.0f} B".format(per))]
    ag = results.get("agent")
    if ag:
        out += ["", "## Agent", "",
                "flowprof record (%s mode) while the target calls handlers round robin; CPU "
                "from schedstat, RSS in MiB:" % next(iter(ag.values()))["mode"], ""]
        rows = [[k, "{:.0f}k".format((v["calls_per_s_target"] or 0) / 1000),
                 "%.2f%%" % v["cpu_pct_schedstat"], "%.2f%%" % v["cpu_pct_stat"],
                 "%.1f" % (v["vmrss_kib"] / 1024), "%.1f" % (v["vmhwm_kib"] / 1024),
                 "-" if v["peak_rss_kib"] is None else "%.1f" % (v["peak_rss_kib"] / 1024)]
                for k, v in ag.items()]
        out.append(md_table(["handlers", "calls/s", "CPU", "CPU (stat ticks)", "VmRSS",
                             "VmHWM", "lifetime peak"], rows))
        out.append("\nVmRSS: resident at the end of the window; VmHWM: the highest so far "
                   "(start-up + recording); lifetime peak: GNU time's maximum RSS, including "
                   "collection and the snapshot write after detach.")
    sc = results.get("sched")
    if sc:
        out += ["", "## sched_switch, host-wide", "",
                "A pipe ping-pong between two processes pinned to CPU %d (one context switch "
                "per pass), %d x %g s per configuration, median; flowprof records an idle "
                "process from the other CPUs:" % (sc["cpu"], sc["reps"], sc["seconds"]), ""]
        rows = []
        for n, v in sc["passes_per_s"].items():
            rows.append([{"none": "no recording",
                          "flowprof": "flowprof record (on-CPU tracking: sched_switch)",
                          "flowprof --no-oncpu": "flowprof record --no-oncpu"}[n],
                         "{:,.0f}".format(v["median"]), fmt_ratio(v.get("ratio")),
                         "-" if v.get("cost_pct") is None else "%.1f%%" % v["cost_pct"]])
        out.append(md_table(["configuration", "switches/s", "ratio", "cost"], rows))
    acc = results.get("accuracy")
    if acc:
        out += ["", "## Accuracy", "",
                "tests/targets/nested.c (`%s`) against its own unprobed clock (the truth, "
                "tests/targets/target.h); per row, the largest error over the handlers, "
                "signed, raw (the snapshot) -> corrected (`report --json`'s model), the median "
                "of %d runs. mean and "
                "on-CPU: every handler (on-CPU in %% of the call's time); p50, p99: work_var "
                "against the truth at the nearest rank; self: req and parse. Under load, a "
                "preemption between a probe and the target's clock read counts as the call's "
                "time to flowprof and as probe time to the target." % (" ".join(acc["args"]),
                                                                        acc.get("reps", 1)),
                ""]
        rows = []
        for r in acc["rows"]:
            w = r["worst_pct"]
            rows.append([r["entry_as_attached"], r["exits_as_attached"],
                         "CPU hog" if r["loaded"] else "idle"]
                        + ["%s -> %s" % (fmt_pct(w[m + "_raw"]), fmt_pct(w[m + "_corrected"]))
                           for m in ("mean", "p50", "p99", "self", "oncpu")])
        out.append(md_table(["entry (kernel)", "exits (kernel)", "load", "mean", "p50", "p99",
                             "self", "on-CPU"], rows))
    goals = results.get("goals")
    if goals:
        out += ["", "## Goals (issue 14)", ""]
        out.append(md_table(["goal", "target", "measured", "verdict"],
                            [[g["goal"], g["target"], g["measured"], g["verdict"]]
                             for g in goals]))
    if results.get("error"):
        out += ["", "**The run stopped early:** " + results["error"].splitlines()[0]]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- host, files

def host_info():
    cpu, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k in ("model name", "Model", "Hardware") and not cpu:
                    cpu = v
                elif k in ("flags", "Features") and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    pti = None
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/meltdown") as f:
            m = f.read().strip()
        pti = "PTI" in m if m.startswith(("Mitigation", "Vulnerable")) else \
            False if m == "Not affected" else None
    except OSError:
        pti = "pti" in flags if flags else None
    u = os.uname()
    return {"cpu_model": cpu or platform.processor() or platform.machine(),
            "kernel": u.release, "machine": u.machine, "vcpus": os.cpu_count(),
            "pti": pti, "hypervisor": "hypervisor" in flags}


def slug(text):
    text = re.sub(r"\((r|tm)\)", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "cpu"


def git_commit():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def write_results(path, results):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    md = re.sub(r"\.json$", "", path) + ".md"
    with open(md + ".tmp", "w") as f:
        f.write(render(results))
    os.replace(md + ".tmp", md)
    return path


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
                    "host-wide cost), accuracy")
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
    ap.add_argument("--render", metavar="JSON", default=None,
                    help="measure nothing: write JSON's .md again from it, and print it")
    ap.add_argument("-o", "--output", default=None,
                    help="results file (default: bench/results/DATE-CPU.json for a run with "
                    "the default options, else only %s)" % os.path.relpath(LATEST, ROOT))
    return ap.parse_args(argv), ap.parse_args([])


def main():
    args, defaults = parse_args()
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
        md = re.sub(r"\.json$", "", args.render) + ".md"
        with open(md, "w") as f:
            f.write(render(results))
        print(render(results))
        return
    full = all(getattr(args, k) == getattr(defaults, k) for k in vars(defaults) if k != "output")
    args.flowprof_modes = [m for m in args.modes.split(",") if m]
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.agent_handlers = [int(x) for x in args.agent_handlers.split(",")]
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
            {"percall": bench_per_call, "scale": bench_scale, "bpftime": bench_bpf_time,
             "agent": bench_agent, "sched": bench_sched,
             "accuracy": bench_accuracy}[s](args, tmp, results)
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
