"""flowprof's CPU and RSS while many_handlers makes ~200k handler calls per
second (section agent)."""
import re
import signal
import time

from .common import MANY, log
from .proc import Proc, proc_cpu_ns, proc_status_kib
from .record import record_once


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
