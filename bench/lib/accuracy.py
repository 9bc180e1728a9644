"""flowprof's figures, raw and corrected, against the target's own unprobed
clock (section accuracy): tests/targets/nested.c per entry class x exits,
idle and with a CPU hog on every CPU."""
import json
import os
import subprocess

from .common import FLOWPROF, NESTED_FLOW, TARGETS, BenchError, fmt_pct, log, median, rel
from .proc import Proc


# tests/e2e/test_accuracy.py's workload: R requests of K work_cpu, one parse
# (one more work_cpu), one work_sleep and one work_block; X work_cpu outside;
# V work_var of spread durations; req and parse spin OWN_US of their own.
ACC_ARGS = ["-r", "100", "-k", "3", "-x", "5", "-v", "100", "-c", "200", "-s", "300",
            "-b", "300", "-o", "100"]
ACC_TARGETS = ["nested_nop5", "nested", "nested_endbr"]
ACC_ENTRY = {"nested_nop5": "nop5", "nested": "push", "nested_endbr": "endbr64"}
ACC_EXITS = ["uretprobe", "sites"]
ACC_HANDLERS = ("req", "parse", "work_cpu", "work_sleep", "work_block", "work_var")


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
    kinds = {"uretprobe": "uretprobe", "ret": "ret", "tail-call jmp": "jmp",
             "canary jcc": "canary_jcc"}
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
