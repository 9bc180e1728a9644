#!/usr/bin/env python3
"""Probe-site classes on a real recording of tests/targets/site_classes.c.

The target has one function per class (nop5, emulated, single-step) and a
glob handler (sc.mixed, "mix_*") over three more, one of each class:
- the snapshot gives each handler its class, and a handler whose probe
  points differ the dearest one, with that class's calibrated probe cost
  (what the model subtracts).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

TARGET = "site_classes"
CALLS = 300
CLASSES = {"sc.nop5": "nop5", "sc.emulated": "emulated", "sc.sstep": "single-step",
           "sc.mixed": "single-step"}
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
    fptest.eq({h: hs[h]["site_class"] for h in hs}, CLASSES, "site_class per handler")
    fptest.eq(hs["sc.mixed"]["symbol"], "mix_emulated,mix_nop5,mix_sstep", "sc.mixed's symbols")
    for h, c in CLASSES.items():
        fptest.eq(hs[h]["calls"], CALLS * (3 if h == "sc.mixed" else 1), h + " calls")
        if snap["probe_cost"].get(c):
            fptest.eq(hs[h]["probe_cost_ns"], snap["probe_cost"][c]["in_window_ns"],
                      h + " probe_cost_ns (the in-window cost of its class)")


if __name__ == "__main__":
    fptest.main()
