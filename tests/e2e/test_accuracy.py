#!/usr/bin/env python3
"""flowprof's corrected figures against the target's own unprobed clock.

tests/targets/nested.c times every handler call twice with its own clock,
outside (its caller) and inside (the body), and knows its instrumentation's
cost from unprobed calls: so it knows what each call would take without any
probe (target.h, "The ground truth"). flowprof subtracts the probes' time
per call, with costs it measured on this host (docs/model.md). This suite
holds `flowprof report --json`'s corrected figures against that truth:

- at every probe-site class a handler's first instruction can have here:
  a 5-byte nop (nested_nop5), `push %rbp` (nested), `endbr64`
  (nested_endbr, single-stepped by the kernel);
- with exits seen by a uretprobe and at the functions' `ret` sites;
- on an idle machine and with a CPU hog on every CPU.

Goals (issue 17), the tolerances: counts exact; means within 3% of the
truth or 1 us; percentiles within the histogram's bucket error (a bucket is
1/16 of its lower bound wide, so half a bucket: 1/32) of the truth at the
same rank, give or take one rank; self time within 5%; on-CPU time within
5% of the call's time; each widened by the uncertainty flowprof itself
reports for its correction (probe_uncertainty_ns: what its calibration
measured a probe's cost to range over on this host, from a tight loop to
cold caches). A report that claims less than it can vouch for fails.
flowprof costs each call's probes as warm or cold as its own state lookups
ran (include/cost_slot.h): a target that churns its caches between probes
(nested -m) checks that the cost follows. (Without the widening, the means
meet the goals in make bench's medians, but a single run at single-stepped
sites can miss by up to 5%: the thermometer and its two ends are noisy.)

A preemption that lands between a probe's timestamp and the target's own
clock read is the probe's time to the target and the call's to flowprof:
where such time exists, the wall-clock checks allow the time off the CPU
that flowprof saw there beyond what the target saw (0 on an idle machine).
So is time in the probes with no switch to see (an interrupt, the host
stopping the vCPU: a make check on a busy host met 2.5 ms of it in one call
of 100): flowprof subtracts a probe's typical cost, within the range it
says that cost spans (probe_uncertainty_ns), so the checks allow, above the
truth, what the target measured a call's probes to take beyond their median
and that range (probe_excess).
"""
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from test_core import Target, Recorder, parse_report, within  # noqa: E402

FLOW = os.path.join(fptest.ROOT, "tests", "e2e", "flows", "nested.yaml")
MEAN_REL, MEAN_ABS = 0.03, 1000.0
SELF_REL, ONCPU_REL = 0.05, 0.05
BUCKET_REL = 1.0 / 32
R, K, X, V, OWN_US = 100, 3, 5, 100, 100
ARGS = ["-r", str(R), "-k", str(K), "-x", str(X), "-v", str(V), "-c", "200", "-s", "300",
        "-b", "300", "-o", str(OWN_US)]
NAMES = ("req", "parse", "work_cpu", "work_sleep", "work_block", "work_var")

# target -> (its entry probe's kind in the snapshot)
SITES = {"nested_nop5": "nop5", "nested": "push", "nested_endbr": "other"}
# nested_endbr's probes stay on the endbr64 the kernel single-steps (by
# default flowprof moves them to the push after it: test_site_classes.py)
ENTRY = {"nested_endbr": ["--entry", "first"]}
# --exits -> the snapshot's exit_site
EXITS = {"uretprobe": "uretprobe", "sites": "ret"}


class Hogs:
    """A process spinning on every CPU while the block runs."""

    def __init__(self, on):
        self.on = on
        self.procs = []

    def __enter__(self):
        if self.on:
            for _ in range(os.cpu_count() or 1):
                self.procs.append(fptest.start(["/bin/sh", "-c", "while :; do :; done"]))
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def record(target, exits, entry=None, extra=()):
    """Records target with --exits; returns (model handlers, snapshot handlers, report,
    snapshot)."""
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    flow = fptest.write(os.path.join(d, "flow.yaml"), open(FLOW).read().replace(
        "../../../build/targets/nested", os.path.join(fptest.TARGETS, target)))
    t = Target(target, *ARGS, *extra)
    rec = Recorder(flow, "-p", str(t.pid), "--exits", exits,
                   *(entry if entry is not None else ENTRY.get(target, [])), out=out)
    rec.wait_recording()
    t.release()
    report = t.finish(timeout=120)
    rc, _, err = rec.finish(timeout=60)
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    model = json.loads(fptest.flowprof("report", "--json", out).stdout)["model"]
    snap = fptest.load_json(out)
    return ({h["id"].split(".", 1)[1]: h for h in model["handlers"]},
            {h["id"].split(".", 1)[1]: h for h in snap["handlers"]}, report, snap)


def probe_excess(truth, unc):
    """Per call, the time the target measured its calls' probes to take beyond
    their median and the range flowprof says a call's probe cost spans (unc)."""
    each = sorted(truth["probe_ns_each"])
    # the first TRUTH_EACH (512) calls are kept (tests/targets/target.h)
    fptest.eq(len(each), min(truth["calls"], 512), "calls whose probe times the target kept")
    med = each[len(each) // 2]
    return sum(max(0.0, p - med - unc) for p in each) / len(each)


def check(target, exits, loaded, entry=None, site=None, extra=(), exit_site=None):
    mh, sh, rep, snap = record(target, exits, entry, extra)
    errors = []
    if exit_site:
        exit_site = exit_site(snap)
    for n in NAMES:
        tr = rep["handlers"][n]["truth"]
        calls = tr["calls"]
        h = mh[n]
        fptest.eq(h["calls"], calls, "%s calls" % n)
        fptest.eq(sh[n]["incomplete"], 0, "%s incomplete" % n)
        fptest.eq(sh[n]["entry_site"], site or SITES[target], "%s entry probe" % n)
        fptest.eq(sh[n]["exit_site"], exit_site or EXITS[exits], "%s exits" % n)
        mean = tr["total_ns"] / calls
        # off the CPU in flowprof's window beyond the target's own
        slack = max(0.0, (h["mean_ns"] - h["oncpu_ns"]) - (mean - tr["oncpu_ns"] / calls))
        # what flowprof says its correction may be off by (the probes' cost
        # from a tight loop to cold caches, as calibrated on this host)
        unc = h["probe_uncertainty_ns"]
        excess = probe_excess(tr, unc)
        try:
            within("%s mean" % n, h["mean_ns"], mean,
                   max(MEAN_REL * mean, MEAN_ABS) + slack + unc, above=excess)
            # the truth may be low where the thread was preempted (target.h)
            within("%s on-CPU" % n, h["oncpu_ns"], tr["oncpu_ns"] / calls,
                   ONCPU_REL * mean + unc, above=tr["oncpu_slack_ns"] / calls + excess)
        except AssertionError as e:
            each = sorted(tr["probe_ns_each"])
            errors.append("%s (its calls' probes, by the target: median %d ns, max %d ns, "
                          "%.0f ns a call allowed above)" % (e, each[len(each) // 2], each[-1],
                                                            excess))
    for n in ("req", "parse"):
        tr = rep["handlers"][n]["truth"]
        want = tr["self_ns"] / tr["calls"]
        # off the CPU in its own code, as flowprof saw it
        slack = max(0.0, mh[n]["self_ns"] - mh[n]["oncpu_self_ns"])
        try:
            within("%s self" % n, mh[n]["self_ns"], want,
                   SELF_REL * want + slack + mh[n]["probe_uncertainty_ns"],
                   above=probe_excess(tr, mh[n]["probe_uncertainty_ns"]))
        except AssertionError as e:
            errors.append(str(e))
    # work_var's spread of durations: each percentile against the truth at
    # its nearest rank, one rank either side, and half a bucket
    samples = rep["sorted_ns"]["work_var"]
    fptest.eq(len(samples), V, "work_var samples")
    for p in (50, 90, 99):
        rank = -(-p * V // 100)
        lo = samples[max(rank - 2, 0)] * (1 - BUCKET_REL)
        hi = samples[min(rank, V - 1)] * (1 + BUCKET_REL)
        got = mh["work_var"]["p%d_ns" % p]
        unc = mh["work_var"]["probe_uncertainty_ns"]
        if not lo - MEAN_ABS - unc <= got <= hi + MEAN_ABS + unc:
            errors.append("work_var p%d: %.0f ns, the truth at rank %d: %d ns (want %.0f..%.0f)"
                          % (p, got, rank, samples[rank - 1], lo - MEAN_ABS, hi + MEAN_ABS))
    if errors:
        raise AssertionError("%s, exits %s, %s:\n  %s" % (target, exits,
                             "CPU hog on every CPU" if loaded else "idle", "\n  ".join(errors)))


def test_entry_moved(fn):
    """Registered only where the push is measured cheaper than the
    single-stepped endbr64 (it is on every x86 kernel seen so far); the
    snapshot says which it chose, and the check asserts it."""
    return fptest.test(fn)


def make_test(target, exits, loaded):
    def t():
        if not os.access(os.path.join(fptest.TARGETS, target), os.X_OK):
            raise AssertionError("build/targets/%s not built (make)" % target)
        with Hogs(loaded):
            check(target, exits, loaded)
    t.__name__ = "accuracy_%s_%s_%s" % (SITES[target], exits, "loaded" if loaded else "idle")
    return t


for _loaded in (False, True):
    for _target in SITES:
        for _exits in EXITS:
            fptest.test(make_test(_target, _exits, _loaded))


@test_entry_moved
def accuracy_endbr_moved_to_push_idle():
    """By default an entry whose first instruction the kernel single-steps
    (endbr64) is probed at the push after it, measured cheaper here: the
    figures hold there too."""
    check("nested_endbr", "uretprobe", False, entry=["--entry", "auto"], site="push")


def canary_exit(snap):
    """Where nested_canary's exits go: the stack-protector check's jcc ahead
    of each epilogue, where the calibration measured it cheaper than the
    `ret` (on the test VM 3 against 32 us a hit)."""
    slots = snap["calibration"]["slots"]
    cheaper = slots["canary_jcc"]["hit_ns"] < slots["ret"]["hit_ns"]
    fptest.diag("a hit at the canary's jcc %.0f ns, at the ret %.0f ns"
                % (slots["canary_jcc"]["hit_ns"], slots["ret"]["hit_ns"]))
    return "canary jcc" if cheaper else "ret"


def canary_test(loaded):
    def t():
        """nested built with -fstack-protector-all (as Debian builds its
        packages): every handler checks its canary before its `ret`; their
        exits, probed at that check's jcc ahead of the epilogue (its stack
        pointer below the entry's), give the same figures."""
        with Hogs(loaded):
            check("nested_canary", "sites", loaded, site="push", exit_site=canary_exit)
    t.__name__ = "accuracy_push_canary_exits_%s" % ("loaded" if loaded else "idle")
    return t


for _loaded in (False, True):
    fptest.test(canary_test(_loaded))


def churn_kib():
    """Twice the largest cache the CPU reports (sysfs), at least 32 MiB:
    what work_cpu reads to push the probes' path out of the caches."""
    most = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    for d in os.listdir(base) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, d, "size")) as f:
                v = f.read().strip()
        except OSError:
            continue
        if v[:-1].isdigit():
            most = max(most, int(v[:-1]) * {"K": 1, "M": 1024}.get(v[-1], 0))
    return max(32768, 2 * most)


def cold_share(snap, h):
    """Where a handler's probes were charged, per call, between the
    calibration's warm end (0) and its cold end (1) in that recording: the
    nop5 entry's and the uretprobe's hit, less or plus its jitter (which
    spans the two ends)."""
    slots = snap["calibration"]["slots"]
    mid = slots["nop5"]["hit_ns"] + slots["uretprobe"]["hit_ns"]
    half = slots["nop5"]["jitter_ns"] + slots["uretprobe"]["jitter_ns"]
    assert half > 0, "the calibration measured no warm-to-cold span: %r" % slots
    return (h["probe_cpu_ns"] / h["calls"] - (mid - half)) / (2 * half)


@fptest.test
def accuracy_cold_calls_cost_more():
    """work_cpu reads twice the CPU's largest cache before it spins
    (nested -m), so the probes around each call meet cold caches: its
    figures still hold, and the probes' cost flowprof charged per call (the
    snapshot's probe_cpu_ns) lies nearer the calibration's cold end than in
    a run without the churn, by at least a quarter of the way from warm to
    cold (each run against its own calibration; the median of three runs
    each way)."""
    churn = ["-m", str(churn_kib())]
    check("nested_nop5", "uretprobe", False, extra=churn)
    share = {}
    for cold in (False, True):
        # the median of three recordings: each is judged against its own
        # calibration, whose cold end is seven calls a stub (in one make
        # check a churned run read 0.24 where runs alone read 0.47-0.88)
        runs = []
        for _ in range(3):
            _, sh, _, snap = record("nested_nop5", "uretprobe", extra=churn if cold else [])
            runs.append(cold_share(snap, sh["work_cpu"]))
        share[cold] = sorted(runs)[1]
        fptest.diag("%s: %s" % ("churned" if cold else "not churned",
                                ", ".join("%.2f" % r for r in runs)))
    fptest.diag("work_cpu's probes charged at %.2f of the way from warm to cold, %.2f churned"
                % (share[False], share[True]))
    if share[True] - share[False] < 0.25:
        raise AssertionError("work_cpu's probes were charged at %.2f of the way from warm to cold "
                             "with cold caches against %.2f without: less than a quarter apart"
                             % (share[True], share[False]))


class Preemptor:
    """tests/targets/preemptor: a real-time thread taking CPU `cpu` for
    SPIN_US every PERIOD_US, so that a target there is preempted often and
    anywhere, inside the probes too."""
    PERIOD_US, SPIN_US = 3000, 500

    def __init__(self, cpu):
        path = os.path.join(fptest.TARGETS, "preemptor")
        if not os.access(path, os.X_OK):
            raise AssertionError("build/targets/preemptor not built (make)")
        self.p = fptest.start([path, str(cpu), str(self.PERIOD_US), str(self.SPIN_US)])
        line = self.p.stdout.readline().decode().strip()
        if line != "ready":
            err = self.p.stderr.read().decode().strip()
            self.p.wait()
            if "SCHED_FIFO" in err and ("Operation not permitted" in err or
                                        "Resource temporarily" in err):
                raise fptest.Skip("no real-time scheduling here (%s)" % err)
            raise AssertionError("preemptor did not start: %r %s" % (line, err))

    def stop(self):
        self.p.kill()
        self.p.wait()


def preempted_run(targs, rec_args):
    """nested (-r 100 -k 3 -x 5 -s 300 -b 300 -o 20, and targs) on the last
    CPU, recorded with rec_args while three Preemptors take that CPU: (its
    own report, the snapshot, the model's handlers by name)."""
    cpu = (os.cpu_count() or 1) - 1
    pres = []
    try:
        for _ in range(3):
            pres.append(Preemptor(cpu))
        d = fptest.tmpdir()
        out = os.path.join(d, "snap.json")
        flow = fptest.write(os.path.join(d, "flow.yaml"), open(FLOW).read().replace(
            "../../../build/targets/nested", os.path.join(fptest.TARGETS, "nested")))
        t = Target("nested", "-r", "100", "-k", "3", "-x", "5", "-s", "300", "-b", "300",
                   "-o", "20", *targs)
        os.sched_setaffinity(t.pid, {cpu})
        rec = Recorder(flow, "-p", str(t.pid), *rec_args, out=out)
        rec.wait_recording()
        t.release()
        rep = t.finish(timeout=120)
        rc, _, err = rec.finish(timeout=60)
    finally:
        for pre in pres:
            pre.stop()
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    model = json.loads(fptest.flowprof("report", "--json", out).stdout)["model"]
    return (rep, fptest.load_json(out),
            {h["id"].split(".", 1)[1]: h for h in model["handlers"]})


@fptest.test
def accuracy_preempted_in_probes():
    """Three real-time threads, each taking the target's CPU for 0.5 ms
    every 3 ms on its own beat, preempt it wherever it is: inside the
    probes too. Such a wait is the probe's
    (the target's clock, around its code, never sees it), and flowprof takes
    it out of the calls' times (counters.probe_waits; docs/internals.md,
    "Probe waits"): the short handlers' means hold against the target's own
    clock with no allowance for time off the CPU. Without it (87cd688),
    this test failed 1 run of 5 here, and in 3 more runs of the same set-up
    work_cpu's mean (its body spins 2 us) or work_var's came out 11-30 us
    high, against a tolerance of about 10-15 us (one wait of 0.5-1 ms in a
    probe is 5-10 us on a mean of 100 calls): it catches the old behaviour
    often, not always. With it, within 3.3 us in 10 runs, under 1 us in 8."""
    rep, snap, mh = preempted_run(["-v", "100", "-c", "2"],
                                  ["--exits", "uretprobe", "--entry", "first"])
    waits = snap["counters"]["probe_waits"]
    fptest.diag("%d waits taken for the probes'" % waits)
    if not waits:
        raise AssertionError("no wait was found to be a probe's, under a real-time preemptor")
    errors = []
    for n in ("work_cpu", "work_var"):
        tr = rep["handlers"][n]["truth"]
        mean = tr["total_ns"] / tr["calls"]
        try:
            within("%s mean" % n, mh[n]["mean_ns"], mean,
                   max(MEAN_REL * mean, MEAN_ABS) + mh[n]["probe_uncertainty_ns"])
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise AssertionError("under a real-time preemptor:\n  " + "\n  ".join(errors))



@fptest.test
def accuracy_waits_to_run():
    """The same real-time preemptors on the target's CPU: work_cpu spins
    300 us and never sleeps, so all its time off the CPU, by its own clocks
    (wall less thread CPU time), is waiting to run, which flowprof keeps
    apart (snapshot runq_ns: switched out still runnable); work_sleep's time
    off the CPU is a sleep, and none of it is. The model takes the waits
    to run out of a worker's own time (its CPU station holds them)."""
    rep, snap, mh = preempted_run(["-v", "10", "-c", "300"], [])
    sh = {h["id"].split(".", 1)[1]: h for h in snap["handlers"]}
    for n in ("work_cpu", "work_sleep"):
        if "runq_ns" not in sh[n]:
            raise AssertionError("%s: no runq_ns in the snapshot: %r" % (n, sorted(sh[n])))
    tr = rep["handlers"]["work_cpu"]["truth"]
    calls = tr["calls"]
    mean = tr["total_ns"] / calls
    off = mean - tr["oncpu_ns"] / calls
    got = sh["work_cpu"]["runq_ns"] / sh["work_cpu"]["calls"]
    fptest.diag("work_cpu: off the CPU %.1f us a call by its own clocks, waiting to run %.1f us "
                "by flowprof's" % (off / 1e3, got / 1e3))
    if not off > 0.02 * mean:
        raise AssertionError("work_cpu was hardly preempted (%.0f of %.0f ns a call off the "
                             "CPU): the preemptors did not reach it" % (off, mean))
    # as the on-CPU time, whose complement it is here (the target's CPU
    # clock may read high where it was preempted: its off time low)
    tol = ONCPU_REL * mean + mh["work_cpu"]["probe_uncertainty_ns"]
    if not off - tol - tr["oncpu_slack_ns"] / calls <= got <= off + tol:
        raise AssertionError("work_cpu: waiting to run %.0f ns a call, off the CPU by its own "
                             "clocks %.0f ns: want within -%.0f..+%.0f ns"
                             % (got, off, tol + tr["oncpu_slack_ns"] / calls, tol))
    tr = rep["handlers"]["work_sleep"]["truth"]
    slept = (tr["total_ns"] - tr["oncpu_ns"]) / tr["calls"]
    got = sh["work_sleep"]["runq_ns"] / sh["work_sleep"]["calls"]
    fptest.diag("work_sleep: off the CPU %.1f us a call, waiting to run %.1f us" %
                (slept / 1e3, got / 1e3))
    if got > 0.25 * slept:
        raise AssertionError("work_sleep: %.0f ns a call waiting to run of %.0f ns off the CPU, "
                             "where it sleeps: its sleeps counted as waits to run" % (got, slept))

if __name__ == "__main__":
    fptest.main()
