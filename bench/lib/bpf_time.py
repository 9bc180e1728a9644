"""Time inside the BPF programs per call at the nop5 site (section bpftime),
from the kernel's BPF run-time statistics, held on only for this pass."""
import os
import platform

from .common import BenchError, log
from .per_call import Target, with_floor, with_flowprof
from .proc import bpftool_names, prog_stats

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
            names = bpftool_names("prog", set(b))
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
