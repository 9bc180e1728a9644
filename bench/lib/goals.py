"""The goals, met or not, with their figures (issues 14 and 17)."""
from .common import fmt_ms, fmt_pct, fmt_rate, fmt_ratio, fmt_us
from .per_call import FLOOR_LABEL, FLOOR_OF, SITES, site_label

# Issue 14's goals, and issue 17's for the model of a real server.
GOALS = {
    "floor_ratio": 1.05,          # flowprof / the empty probes of its link type, every site
    "bpftrace_ratio": 0.60,       # flowprof / bpftrace hist, where the floor allows
    "attach_detach_1000_ms": 200,  # attach (load, calibration, probes) + detach, 1,000 handlers
    "agent_rss_mib": 12.0,        # at 1,000 handlers
    "sched_cost_pct": 3.0,        # context switches per second lost
    "saturation_max_pct": 10.0,   # predicted maximum throughput against the measured, |error|
    "saturation_response_pct": 15.0,  # predicted mean response at 50% and 80% of it, |error|
}


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
                      "measured": "%.1f%% (%.0f/s -> %.0f/s; an empty program there: %s; "
                                  "--no-oncpu: %.1f%%)"
                                  % (f["cost_pct"], sc["passes_per_s"]["none"]["median"],
                                     f["median"],
                                     "%.1f%%" % sc["passes_per_s"]["floor"]["cost_pct"]
                                     if "floor" in sc["passes_per_s"] else "-",
                                     sc["passes_per_s"]["flowprof --no-oncpu"]["cost_pct"]),
                      "verdict": verdict(f["cost_pct"], GOALS["sched_cost_pct"])})
    sat = results.get("saturation")
    if sat:
        goals += saturation_goals(sat)
    return goals


def saturation_goals(sat):
    """Per server: the predicted maximum within 10% of the measured, the
    predicted mean response at 50% and 80% of it within 15%."""
    goals = []
    for name, s in sat["servers"].items():
        what = "%s under %s" % (name, s.get("load_generator", "?"))
        err = s.get("max_error_pct")
        errs = [e for e in s.get("max_error_pct_runs") or [err] if e is not None]
        worst = max((abs(e) for e in errs), default=None)
        moved = s.get("max_spread_pct")
        goals.append({
            "goal": "%s: the model's maximum throughput, from a recording at %.0f%% of it"
                    % (what, sat["low_share"] * 100),
            "target": "within %.0f%%" % GOALS["saturation_max_pct"],
            "measured": "predicted %s, measured %s: %s%s" % (
                fmt_rate(s.get("predicted_max_per_s")), fmt_rate(s.get("measured_max_per_s")),
                fmt_pct(err),
                "; measured again %s: %s" % (
                    ", ".join(fmt_rate(x) for x in s["max_runs_per_s"][1:]),
                    ", ".join(fmt_pct(e) for e in errs[1:]))
                if len(s.get("max_runs_per_s") or []) > 1 else "")
            if "measured_max_per_s" in s else "failed",
            # judged against every measurement of the maximum: the worst
            "verdict": verdict(worst, GOALS["saturation_max_pct"]) + (
                " (the server's own maximum moved %.0f%% between its runs)" % moved
                if moved is not None and moved > GOALS["saturation_max_pct"] else "")})
        at = s.get("at") or []
        errs = [a["error_pct"] for a in at]
        goals.append({
            "goal": "%s: the model's mean response at %s of the maximum" % (
                what, " and ".join("%.0f%%" % (x * 100) for x in sat["shares"])),
            "target": "within %.0f%%" % GOALS["saturation_response_pct"],
            "measured": "; ".join("%.0f%%: predicted %s us, measured %s us%s: %s" % (
                a["share"] * 100, fmt_us(a["predicted_mean_ns"]), fmt_us(a["measured_mean_ns"]),
                " (runs %s-%s)" % tuple(fmt_us(v) for v in a["measured_mean_range_ns"])
                if a.get("measured_mean_range_ns") else "", fmt_pct(a["error_pct"]))
                for a in at) or "failed",
            "verdict": "not measured" if len(at) < len(sat["shares"]) else
            "not met (the model predicts no response: %s)" % (
                "exceeds capacity" if any(a.get("exceeds_capacity") for a in at) else "none")
            if None in errs else verdict(max(abs(e) for e in errs),
                                         GOALS["saturation_response_pct"])})
    return goals


def verdict(value, target):
    if value is None:
        return "not measured"
    return "met" if value <= target else "not met"


def agent_peak_kib(v):
    return max(v["vmhwm_kib"] or 0, v["peak_rss_kib"] or 0)
