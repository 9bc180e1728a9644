#!/usr/bin/env python3
"""A flow's own arrivals against all its entry's calls, with real probes.

tests/targets/two_contexts.c calls handle() at the top of each request
(LONG us: the flow "top") and again, shorter, inside outer() (SHORT us,
inside the flow "outerflow"). The flow "top" counts only its own arrivals
(N a second); its mean must be theirs, LONG us, not the mean of all of
handle's calls, halfway between LONG and SHORT. The target times each call
with its own clock (target.h), the top-level and the nested calls apart.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

N, LONG_US, SHORT_US = 2000, 100, 20
MEAN_REL, MEAN_ABS = 0.03, 1000.0  # the accuracy goals (test_accuracy.py)


_rec = {}


def recording():
    """One recording for every test: (snapshot, the target's report)."""
    core.need("two_contexts")
    if "snap" not in _rec:
        _rec["snap"], _rec["rep"], _ = core.record_target(
            "two_contexts", "two_contexts",
            ["-n", str(N), "-L", str(LONG_US), "-S", str(SHORT_US)])
    return _rec["snap"], _rec["rep"]


def model_of(snap):
    d = fptest.tmpdir()
    path = os.path.join(d, "snap.json")
    with open(path, "w") as f:
        json.dump(snap, f)
    return json.loads(fptest.flowprof("report", "--json", path).stdout)["model"]


@test
def flow_mean_is_its_own_arrivals():
    snap, rep = recording()
    hs = core.handlers(snap)
    handle = hs["tc.handle"]
    fptest.eq(handle["calls"], 2 * N, "handle's calls")
    fptest.eq(handle.get("arrival_calls"), N, "handle's calls as the flow's own arrivals")
    fptest.eq(hs["tc.outer"].get("arrival_calls"), N, "outer's arrivals")
    model = model_of(snap)
    flows = {f["name"]: f for f in model["flows"]}
    top = flows["top"]
    fptest.near(top["measured_rate_per_s"] * snap["duration_s"], N, 0.001,
                "the flow's own arrivals")
    fptest.eq(top["mean_from_arrivals"], True, "top's mean from its arrivals")
    fptest.eq(top["entry_calls_elsewhere"], N, "handle's calls inside outerflow")
    tr = rep["handlers"]["top"]["truth"]
    want = tr["total_ns"] / tr["calls"]
    mh = {h["id"]: h for h in model["handlers"]}["tc.handle"]
    unc = mh["probe_uncertainty_ns"]
    core.within("flow top's mean", top["measured_mean_ns"], want,
                max(MEAN_REL * want, MEAN_ABS) + unc)
    # the handler's own mean is all its calls': the two contexts' mean
    nested = rep["handlers"]["nested"]["truth"]
    both = (tr["total_ns"] + nested["total_ns"]) / (tr["calls"] + nested["calls"])
    core.within("handle's mean over all its calls", mh["mean_ns"], both,
                max(MEAN_REL * both, MEAN_ABS) + unc)
    # the model's time for the flow at the measured load: its arrivals'
    # (no queueing here: one thread, one request at a time)
    core.within("flow top's predicted mean at the measured load",
                top["predicted_service_measured_ns"], want,
                max(MEAN_REL * want, MEAN_ABS) + unc)


@test
def report_flags_the_entry_and_shows_the_arrivals_mean():
    snap, rep = recording()
    d = fptest.tmpdir()
    path = os.path.join(d, "snap.json")
    with open(path, "w") as f:
        json.dump(snap, f)
    text = fptest.flowprof("report", path).stdout
    lines = text.splitlines()
    flag = [ln for ln in lines if "flows whose entry also runs inside other flows" in ln]
    fptest.eq(len(flag), 1, "the entry-elsewhere flag in:\n" + text)
    assert "top (tc.handle: %d of %d calls): a flow's rate and mean are its own arrivals'" \
        % (N, 2 * N) in flag[0], "the flag: %r" % flag[0]
    # the Flows section (-v) gives both counts on the flow's line
    text = fptest.flowprof("report", "-v", path).stdout
    line = [ln for ln in text.splitlines() if ln.startswith("top: entry tc.handle")]
    fptest.eq(len(line), 1, "the Flows section's line for top in:\n" + text)
    assert "%d invocations" % (2 * N) in line[0] and \
        "its own arrivals (called inside no flow): %d," % N in line[0], \
        "top's line: %r" % line[0]


@test
def merged_snapshots_sum_the_arrivals():
    """Raw sums merge exactly: two recordings' arrivals add up."""
    snap, _ = recording()
    d = fptest.tmpdir()
    a, b, out = (os.path.join(d, n) for n in ("a.json", "b.json", "m.json"))
    for p in (a, b):
        with open(p, "w") as f:
            json.dump(snap, f)
    fptest.flowprof("merge", "-o", out, a, b)
    merged = core.handlers(fptest.load_json(out))["tc.handle"]
    one = core.handlers(snap)["tc.handle"]
    for k in ("arrival_calls", "arrival_ns", "arrival_probe_ns", "arrival_self_ns",
              "arrival_self_probe_ns"):
        fptest.eq(merged.get(k), 2 * one[k], "merged " + k)


if __name__ == "__main__":
    fptest.main()
