#!/usr/bin/env python3
"""Probe-site classes on a real recording of tests/targets/site_classes.c.

The target has one function per class (nop5, emulated, single-step) and a
glob handler (sc.mixed, "mix_*") over three more, one of each class:
- the snapshot gives each handler its entry's site as read off the
  instruction, and its class as calibration measured the kernel to treat
  that site (a handler whose probe points differ: the dearest), with the
  read-off class's calibrated probe cost (what the model subtracts), and
  lists the read-off classes in "site_classes";
- `report`'s handler table has a SITE column: the class, or "mixed" with
  the classes listed under the table;
- `record` warns at start-up, without -v, naming each handler probed at a
  single-step site with its symbol and binary, and what a call there costs
  the service (the class's calibrated per_call_ns), at most 10 of them; the
  report says the same;
- attach-mode fallback: on a site the kernel refuses (int3), each mode that
  fails says why and which mode comes next, without -v; the line naming the
  mode that worked stays a -v one;
- `check --measure` gives each handler what its probes cost a call here,
  from warm caches to cold, attaching nothing to the target; a recording
  with the probes it names finds the target's own measure of its calls'
  probes in that span.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

TARGET = "site_classes"
CALLS = 300
# each handler's class as read off its entry's first instruction (sc.mixed:
# the dearest of its three), and its entry's site as the snapshot names it
READ_OFF = {"sc.nop5": "nop5", "sc.emulated": "emulated", "sc.sstep": "single-step",
            "sc.mixed": "single-step"}
ENTRY_SITE = {"sc.nop5": "nop5", "sc.emulated": "push", "sc.sstep": "other",
              "sc.mixed": "other"}


def measured_classes(snap):
    """Each handler's class as the kernel was measured to treat its entry
    (the calibration slot's behaves_as; "optimized" is the nop5 class). It
    is not always what the instruction reads: one of our hosts (kernel
    6.18, AMD EPYC guest) does not optimize nop5 sites, and calibration
    found them as dear as an emulated nop."""
    slots = snap["calibration"]["slots"]
    got = {}
    for h, site in ENTRY_SITE.items():
        b = slots[core.SLOT_OF_SITE[site]]["behaves_as"]
        got[h] = "nop5" if b == "optimized" else b
    return got


_rec = {}


def recording():
    """One `record -o -- site_classes` run: (snapshot path, snapshot, stderr)."""
    core.need(TARGET)
    if "snap" not in _rec:
        out = os.path.join(fptest.tmpdir(), "snap.json")
        rc, _, err = core.run_record(core.flowfile("site_classes"), "-o", out, "--",
                                     core.target_path(TARGET), "-n", str(CALLS))
        fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
        _rec.update(path=out, snap=fptest.load_json(out), err=err)
    return _rec["path"], _rec["snap"], _rec["err"]


@test
def snapshot_has_dearest_class():
    _, snap, _ = recording()
    hs = core.handlers(snap)
    fptest.eq({h: hs[h]["entry_site"] for h in hs}, ENTRY_SITE, "entry_site per handler")
    fptest.eq({h: hs[h]["site_class"] for h in hs}, measured_classes(snap),
              "site_class per handler (as calibration measured its entry's slot)")
    fptest.eq(hs["sc.mixed"]["symbol"], "mix_emulated,mix_nop5,mix_sstep", "sc.mixed's symbols")
    for h, c in READ_OFF.items():
        fptest.eq(hs[h]["calls"], CALLS * (3 if h == "sc.mixed" else 1), h + " calls")
        fptest.eq(hs[h].get("site_classes"),
                  ["nop5", "emulated", "single-step"] if h == "sc.mixed" else None,
                  h + " site_classes")
        if snap["probe_cost"].get(c):
            fptest.eq(hs[h]["probe_cost_ns"], snap["probe_cost"][c]["in_window_ns"],
                      h + " probe_cost_ns (the in-window cost of its class)")


@test
def site_column_names_an_exit_of_another_class():
    """--exits sites: each handler's exits at its `ret`s, which this kernel
    single-steps (measured: the calibration's ret slot). SITE gives the
    entry's class and, where the exits' differs, theirs: an emulated entry
    read "emulated" beside record's warning that the handler was probed at a
    single-stepped site (the MariaDB helper)."""
    core.need(TARGET)
    out = os.path.join(fptest.tmpdir(), "snap.json")
    rc, _, err = core.run_record(core.flowfile("site_classes"), "-o", out, "--exits", "sites",
                                 "--", core.target_path(TARGET), "-n", str(CALLS))
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    snap = fptest.load_json(out)
    ret = snap["calibration"]["slots"]["ret"]["behaves_as"]
    hs = core.handlers(snap)
    text = fptest.flowprof("report", "--no-model", out).stdout
    lines = text.splitlines()
    head = [i for i, ln in enumerate(lines) if ln.startswith("HANDLER ")][0]
    cells = {ln.split()[0]: ln.rsplit("  ", 1)[-1].strip()
             for ln in lines[head + 1:head + 5]}
    at_ret = [h for h in cells if hs[h]["exit_site"] == "ret"]
    if not at_ret:
        raise AssertionError("--exits sites put no handler's exits at its ret: %r"
                             % {h: hs[h]["exit_site"] for h in hs})
    for h in at_ret:
        cell = cells[h]
        entry = "mixed" if h == "sc.mixed" else hs[h]["site_class"]
        # the same class as the entry's (a mixed handler's dearest): no more said
        want = entry if ret == hs[h]["site_class"] else "%s, %s exit" % (entry, ret)
        fptest.eq(cell, want, "SITE of %s (exits at ret, which behaves as %s)" % (h, ret))


@test
def report_has_site_column():
    path, snap, _ = recording()
    text = fptest.flowprof("report", "--no-model", path).stdout
    lines = text.splitlines()
    head = [i for i, ln in enumerate(lines) if ln.startswith("HANDLER ")]
    fptest.eq(len(head), 1, "the handler table's header in:\n" + text)
    fptest.eq(lines[head[0]].split(),
              ["HANDLER", "CALLS", "RATE", "MEAN", "P50", "P99", "MAX", "SELF", "MEAN",
               "ON-CPU", "TOTAL", "INCOMPLETE", "SITE"], "the header")
    rows = {ln.split()[0]: ln.split()[-1] for ln in lines[head[0] + 1:head[0] + 5]}
    want = dict(measured_classes(snap), **{"sc.mixed": "mixed"})
    fptest.eq(rows, want, "SITE per handler")
    fptest.eq(lines[head[0] + 5:head[0] + 7],
              ["mixed: probe points of several site classes (each call is corrected by the "
               "cost of the probes it met)", "  sc.mixed: nop5, emulated, single-step"],
              "under the table")


@test
def no_model_report_is_corrected():
    """--no-model leaves the model's sections out, not the correction: its
    handler table is the full report's, corrected for the probes' cost."""
    path, _, _ = recording()
    full = fptest.flowprof("report", path).stdout.splitlines()
    bare = fptest.flowprof("report", "--no-model", path).stdout.splitlines()

    def table(lines):
        at = [i for i, ln in enumerate(lines) if ln.startswith("HANDLER ")]
        fptest.eq(len(at), 1, "the handler table's header in:\n" + "\n".join(lines))
        return lines[at[0] - 1:at[0] + 5]
    got = table(bare)
    fptest.eq(got, table(full), "the handler table with --no-model and without")
    assert got[0].startswith("Handlers, by total time (corrected for the probe's own cost"), \
        "the table's title: %r" % got[0]
    model = [ln for ln in full if ln.startswith("Model at ") or
             ln.lstrip().startswith("bottleneck:") or ln.startswith("More with -v")]
    fptest.eq(len(model), 3, "the model's lines in the full report")
    fptest.eq([ln for ln in bare if ln in model], [], "the model's lines with --no-model")


def ns_of(text):
    """ "10.8 µs" -> 10800.0"""
    v, unit = text.split()
    return float(v) * {"ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


@test
def record_warns_of_single_step_sites():
    _, snap, err = recording()
    exe = core.target_path(TARGET)
    lines = err.splitlines()
    heads = [i for i, ln in enumerate(lines) if "single-step" in ln and "warning" in ln]
    fptest.eq(len(heads), 1, "single-step warnings in record's stderr:\n" + err)
    m = re.match(r"flowprof: warning: 2 handlers are probed at a site the kernel "
                 r"single-steps \(measured here\): each call there costs the service about "
                 r"(\S+ \S+) \((\S+ \S+) at a nop5 site\)$", lines[heads[0]])
    assert m, "the warning line: %r" % lines[heads[0]]
    # printed to 3 significant digits, as the first calibration rounds
    # measured them (before attach); the handlers' exits are uretprobes here
    # (a C target)
    slots = snap["calibration"]["slots"]
    first = lambda *keys: sum(slots[k]["first_hit_ns"] for k in keys)  # noqa: E731
    fptest.near(ns_of(m.group(1)), first("step", "uretprobe"), 0.006, "quoted cost")
    fptest.near(ns_of(m.group(2)), first("nop5", "uretprobe"), 0.006, "quoted nop5 cost")
    fptest.eq(lines[heads[0] + 1:heads[0] + 3],
              ["flowprof:   sc.sstep: sc_sstep in " + exe,
               "flowprof:   sc.mixed: mix_sstep in " + exe], "the handlers it names")
    rec_at = [i for i, ln in enumerate(lines) if ln.startswith("flowprof: recording")]
    assert rec_at and rec_at[0] > heads[0] + 2, "the warning comes before the recording line"


@test
def record_warning_lists_ten_at_most():
    """12 handlers at single-step sites: 10 named, then a pointer to check."""
    core.need()
    d = fptest.tmpdir()
    n = 12
    src = ["__asm__(\".text\\n\"", *[
        "\".globl s%d\\n.type s%d,@function\\ns%d:\\n lea 0(%%rip), %%rax\\n ret\\n\"" % (i, i, i)
        for i in range(n)], ");"]
    src += ["void s%d(void);" % i for i in range(n)]
    src.append("int main(void) { %s return 0; }" % " ".join("s%d();" % i for i in range(n)))
    c_file = fptest.write(os.path.join(d, "steps.c"), "\n".join(src) + "\n")
    exe = os.path.join(d, "steps")
    r = subprocess.run(["cc", "-O1", "-o", exe, c_file], capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "cc\n" + r.stderr)
    flows = fptest.write(os.path.join(d, "steps.yaml"), "bundles:\n  t:\n    exe: %s\n"
                         "    handlers:\n%s" % (exe, "".join("      s%d: s%d\n" % (i, i)
                                                             for i in range(n))))
    rc, _, err = core.run_record(flows, "-o", os.path.join(d, "snap.json"), "--", exe)
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    lines = err.splitlines()
    at = [i for i, ln in enumerate(lines) if "single-step" in ln]
    assert at and lines[at[0]].startswith("flowprof: warning: 12 handlers are probed"), err
    fptest.eq(lines[at[0] + 1:at[0] + 12],
              ["flowprof:   t.s%d: s%d in %s" % (i, i, exe) for i in range(10)] +
              ["flowprof:   ... and more: `flowprof check` gives the class of every probe "
               "point"], "the handlers named")
    fptest.eq(lines[at[0] + 12][:20], "flowprof: recording ", "the line after the list")


@test
def report_quotes_per_call_cost():
    path, snap, _ = recording()
    text = fptest.flowprof("report", path).stdout
    m = re.search(r"^  ! single-stepped probe sites: sc.sstep, sc.mixed: each call there "
                  r"costs the service about (\S+ \S+) \(\S+ \S+ at a nop5 site\), "
                  r"(\S+ \S+) of it inside the raw times$", text, re.M)
    assert m, "the report's single-step flag:\n" + text
    pc = snap["probe_cost"]["single-step"]
    fptest.near(ns_of(m.group(1)), pc["per_call_ns"], 0.006, "per-call cost")
    fptest.near(ns_of(m.group(2)), pc["in_window_ns"], 0.006, "in-window cost")


@test
def attach_fallback_said_without_verbose():
    core.need(TARGET)
    t = core.Target(TARGET, "-n", "1")
    rec = core.Recorder(core.flowfile("site_refused"), "-p", str(t.pid), "-d", "1",
                        out=os.path.join(fptest.tmpdir(), "snap.json"))
    rc, _, err = rec.finish(timeout=60)
    t.release()
    t.finish()
    fptest.eq(rc, 1, "flowprof exit status (stderr:\n%s)" % err)
    falls = [re.match(r"flowprof: warning: (\S+) link on (\S+) \(pid %d, 1 probes\): (.+); "
                      r"falling back to (\S+)$" % t.pid, ln)
             for ln in err.splitlines() if "falling back" in ln]
    assert falls and all(falls), "fallback lines in:\n" + err
    tried = [m.group(1) for m in falls] + [falls[-1].group(4)]
    fptest.eq([m.group(4) for m in falls], tried[1:], "each line names the mode tried next")
    fptest.eq(tried[-1], "uprobe", "the last mode tried")
    assert tried[0] in ("uprobe.session", "uprobe_multi"), tried
    fptest.eq({m.group(2) for m in falls}, {core.target_path(TARGET)}, "the binary")
    assert err.rstrip().splitlines()[-1].startswith("flowprof: error: attach uprobe to "), err
    # the kernel's ENOTSUPP (524) said in words, not "Unknown error 524"
    fptest.eq({m.group(3) for m in falls},
              {"the kernel cannot probe the instruction there (ENOTSUPP)"}, "the reason")
    assert err.rstrip().endswith("the kernel cannot probe the instruction there (ENOTSUPP)"), err
    assert "Unknown error" not in err, err
    assert "attach mode:" not in err, err


@test
def attach_mode_line_only_with_verbose():
    _, _, err = recording()
    assert "attach mode:" not in err and "falling back" not in err, err
    rc, _, err = core.run_record(core.flowfile("site_classes"), "-v", "-o",
                                 os.path.join(fptest.tmpdir(), "snap.json"), "--",
                                 core.target_path(TARGET), "-n", "1")
    fptest.eq(rc, 0, "flowprof -v exit status (stderr:\n%s)" % err)
    assert re.search(r"^flowprof: attach mode: \S+ \(\d+ probe points in [\d.]+ ms: BPF load "
                     r"and verification [\d.]+ ms, probe-cost calibration [\d.]+ ms\)$", err,
                     re.M), err
    # and what one more thread costs the probes, charged once per thread
    assert re.search(r"^flowprof: probe cost of a thread: \d+ ns beyond its hits", err, re.M), err


@test
def check_measures_what_a_call_costs():
    import statistics
    import test_accuracy as acc
    core.need("nested")
    flow = os.path.join(fptest.tmpdir(), "nested.yaml")
    fptest.write(flow, open(acc.FLOW).read().replace(
        "../../../build/targets/nested", core.target_path("nested")))
    t = core.Target("nested", *acc.ARGS)
    try:
        r = fptest.flowprof("check", "--measure", "-f", flow, "-p", str(t.pid))
        with open("/proc/%d/maps" % t.pid) as f:
            fptest.eq(f.read().count("[uprobes]"), 0, "uprobe pages mapped in the target by check")
    finally:
        t.release()
        t.finish(timeout=120)
    fptest.eq(r.returncode, 0, "check's exit status (stderr:\n%s)" % r.stderr)
    costs = {}
    handler = None
    for ln in r.stdout.splitlines():
        m = re.match(r"  (nested\.\w+) ", ln)
        if m:
            handler = m.group(1)
        m = re.search(r"cost: (\S+ \S+) a call with warm caches to (\S+ \S+) with cold ones "
                      r"\(entry (\w+)[^;]*; exit ([\w ]+?)(,[^)]*)?\)$", ln)
        if m:
            costs[handler] = (ns_of(m.group(1)), ns_of(m.group(2)), m.group(3), m.group(4))
    fptest.eq(sorted(costs), sorted("nested." + n for n in acc.NAMES),
              "handlers with a cost line in:\n" + r.stdout)
    warm, cold, entry, exit_ = costs["nested.work_var"]
    if not 0 < warm <= cold:
        raise AssertionError("work_var's cost from %.0f to %.0f ns" % (warm, cold))
    # a recording with those probes: what the target measured its calls'
    # probes to take, the median call, lies in that span
    exits = "uretprobe" if exit_ == "uretprobe" else "sites"
    _, sh, rep, _ = acc.record("nested", exits, entry=[])
    fptest.eq(sh["work_var"]["entry_site"], entry, "the entry recorded against check's")
    got = statistics.median(rep["handlers"]["work_var"]["truth"]["probe_ns_each"])
    print("# check: work_var's probes %.0f-%.0f ns a call (entry %s, exit %s); the target's own "
          "median with them: %.0f ns" % (warm, cold, entry, exit_, got), flush=True)
    if not warm <= got <= cold:
        raise AssertionError("the target's calls' probes took %.0f ns (median), outside what "
                             "check --measure said: %.0f to %.0f ns" % (got, warm, cold))


if __name__ == "__main__":
    fptest.main()
