"""The Markdown rendering of a results document: the tables `make bench`
prints and writes next to the results JSON."""
from .common import fmt_ms, fmt_ns, fmt_pct, fmt_rate, fmt_ratio, fmt_us, rel
from .host import describe_host
from .per_call import FLOOR_LABEL, FLOOR_OF, SITES, site_label


def md_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in rows])


CONFIG_NAMES = {"floor_pair": "empty perf-event pair", "floor_multi": "empty uprobe_multi",
                "floor_session": "empty uprobe.session", "flowprof_session": "flowprof session",
                "flowprof_multi": "flowprof multi", "flowprof_single": "flowprof single",
                "bpftrace": "bpftrace hist()"}


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
                "process from the other CPUs; ratio: the median of each repetition's against "
                "that repetition's run with no recording; the floor: an empty program on the "
                "same BTF tracepoint:" % (sc["cpu"], sc["reps"], sc["seconds"]), ""]
        rows = []
        for n, v in sc["passes_per_s"].items():
            rows.append([{"none": "no recording",
                          "floor": "an empty sched_switch program (the floor)",
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
    if results.get("saturation"):
        out += render_saturation(results["saturation"])
    goals = results.get("goals")
    if goals:
        out += ["", "## Goals (%s)" % ("issues 14 and 17" if results.get("saturation")
                                       else "issue 14"), ""]
        out.append(md_table(["goal", "target", "measured", "verdict"],
                            [[g["goal"], g["target"], g["measured"], g["verdict"]]
                             for g in goals]))
    if results.get("error"):
        out += ["", "**The run stopped early:** " + results["error"].splitlines()[0]]
    return "\n".join(out) + "\n"


def render_saturation(sat):
    out = ["", "## Saturation", "",
           "Each server pinned to the last CPU, its load generator to CPU 0; %g s per run. "
           "The measured maximum: the load generator's clients doubled until the throughput "
           "grows by less than 3%% twice in a row, the best step where the server's CPU was "
           "full (95%% busy or more), measured again after the recording and at the end "
           "(their range in brackets, and the model's error against each). The model: `flowprof report --json` of one "
           "%g s recording at %.0f%% of the measured maximum; the predicted maximum is the "
           "flow's `max_rate_per_s`. At %s of the maximum as measured right after the recording (Poisson arrivals), the "
           "mean response in us: measured%s, and predicted = the mean measured without "
           "probes at the recording's load%s + the model's predicted mean at the rate - its "
           "prediction at the recording's rate." % (
               sat["seconds"], sat["seconds"], sat["low_share"] * 100,
               " and ".join("%.0f%%" % (x * 100) for x in sat["shares"]),
               " (the median of %d runs; their range in brackets)" % sat["share_runs"]
               if sat.get("share_runs", 1) > 1 else "",
               " (the median of as many runs)" if sat.get("share_runs", 1) > 1 else ""), ""]
    rows = []
    for name, s in sat["servers"].items():
        runs = s.get("max_runs_per_s") or []
        errs = [e for e in s.get("max_error_pct_runs") or [] if e is not None]
        row = [name, fmt_rate(s.get("measured_max_per_s")) + (
                   " (%s-%s)" % (fmt_rate(min(runs)), fmt_rate(max(runs))) if len(runs) > 1 else ""),
               fmt_rate(s.get("predicted_max_per_s")),
               fmt_pct(s.get("max_error_pct")) + (
                   " (%s to %s)" % (fmt_pct(min(errs)), fmt_pct(max(errs))) if len(errs) > 1 else "")]
        at = {a["share"]: a for a in s.get("at") or []}
        for share in sat["shares"]:
            a = at.get(share)
            row += ["-", "-", "-"] if not a else [
                fmt_us(a["measured_mean_ns"]) + measured_range(a),
                "exceeds capacity" if a.get("exceeds_capacity") else fmt_us(a["predicted_mean_ns"]),
                fmt_pct(a["error_pct"])]
        rows.append(row)
    head = ["server", "measured max", "predicted max", "error"]
    for share in sat["shares"]:
        p = "%.0f%%" % (share * 100)
        head += [p + ": measured", p + ": predicted", p + ": error"]
    out += [md_table(head, rows), ""]
    out += [saturation_line(name, s) for name, s in sat["servers"].items()]
    out += ["", "The CPU time a request costs: the model's CPU demand (from the recording, "
            "its probes' cost taken out), and the server's own CPU time per request measured "
            "without probes (its processes' CPU clocks over the run, divided by the requests "
            "done) at the recording's load and at the maximum. The predicted maximum is the "
            "station's CPUs over the demand, less the waking the model found in it (what "
            "waking the server's threads costs falls as its CPUs fill: docs/model.md, "
            "\"Wake-ups\"); any other fall of the cost per request with the load, it does not "
            "see from a low-load recording.", ""]
    rows = []
    for name, s in sat["servers"].items():
        r = s.get("recording") or {}
        lo, hi, dm = (r.get("server_cpu_per_request_ns"),
                      s.get("server_cpu_per_request_at_max_ns"), r.get("model_cpu_demand_ns"))
        wk = r.get("waking") or {}
        rows.append([name, fmt_us(dm), fmt_us(lo), fmt_pct(rel(dm, lo)), fmt_us(hi),
                     fmt_pct(rel(hi, lo)),
                     "%.0f%%" % (100 * wk["share"]) if wk.get("share") else
                     "none found" if "waking" in r else "-"])
    out += [md_table(["server", "model's demand (us)", "unprobed, recording's load (us)",
                      "model vs unprobed", "unprobed, at the maximum (us)",
                      "maximum vs recording's load", "of it waking (model)"], rows)]
    notes = ["- " + s["recording"]["waking"]["note"] for s in sat["servers"].values()
             if ((s.get("recording") or {}).get("waking") or {}).get("note")]
    if notes:
        out += ["", "The model's notes on waking:", ""] + notes
    return out


def measured_range(a):
    """ (lowest-highest) of a share's runs, where there were several."""
    lo_hi = a.get("measured_mean_range_ns")
    if not lo_hi or len(a.get("runs") or []) < 2:
        return ""
    return " (%s-%s)" % (fmt_us(lo_hi[0]), fmt_us(lo_hi[1]))


def saturation_line(name, s):
    """One server's ramp, recording, runs and load average, or its failure."""
    if s.get("error") and not s.get("ramp"):
        return "- %s: failed: %s" % (name, s["error"].splitlines()[0])
    top = next((p for p in s["ramp"] if p["clients"] == s.get("clients")),
               max(s["ramp"], key=lambda p: p["throughput_per_s"]))
    own = top.get("server_own_cpu")
    parts = ["- %s %s under %s, flow `%s` (entry `%s`)" % (
        name, s.get("version") or "(version unknown)", s["load_generator"], s["flow"],
        s["entry"])]
    parts.append("clients: throughput %s%s" % (
        ", ".join("%d: %s" % (p["clients"], fmt_rate(p["throughput_per_s"]))
                  for p in s["ramp"]),
        " (still growing: not a maximum)" if s.get("still_growing") else ""))
    parts.append("the maximum: %d clients, where CPU %d (the server's) was %.0f%% busy%s%s" % (
        top["clients"], s["cpu"], top["server_cpu_busy"] * 100,
        "" if own is None else ", the server's own processes used %.0f%% of a CPU" % (own * 100),
        "" if s.get("server_bound", True) else
        " (never full: the load generator or the round trip bounded it, not the server)"))
    if s.get("ramp_best_per_s", 0) > s.get("measured_max_per_s", 0):
        parts.append("a step where the server's CPU was not full gave %s, bounded by the "
                     "load generator or the round trip, not the server"
                     % fmt_rate(s["ramp_best_per_s"]))
    if len(s.get("max_runs_per_s") or []) > 1:
        parts.append("the maximum measured again after the recording and at the end: %s "
                     "(%.0f%% apart; the model's error against each: %s)" % (
                         ", ".join(fmt_rate(x) for x in s["max_runs_per_s"]),
                         s.get("max_spread_pct", 0),
                         ", ".join(fmt_pct(e) for e in s.get("max_error_pct_runs") or [])))
    r = s.get("recording")
    if r and "model_rate_per_s" in r:
        parts.append("recorded at %s (%s without probes, mean %s us; the model's rate %s, "
                     "bottleneck %s)" % (
                         fmt_rate(r["recorded_throughput_per_s"]),
                         fmt_rate(r["throughput_per_s"]), fmt_us(r["mean_ns"]),
                         fmt_rate(r["model_rate_per_s"]), r["bottleneck"] or "none"))
    if s.get("at"):
        parts.append("the runs at " + ", ".join(
            "%.0f%%: %s asked, %s done" % (a["share"] * 100, fmt_rate(a["rate_per_s"]),
                                           fmt_rate(a["throughput_per_s"]))
            for a in s["at"]))
    parts.append("load average %.2f -> %.2f" % (s["loadavg_at_start"][0],
                                                s["loadavg_at_end"][0]))
    if s.get("error"):
        parts.append("failed: %s" % s["error"].splitlines()[0])
    return "; ".join(parts)
