"""What every part of the bench shares: the paths of the binaries it runs,
the log, its error, medians, relative errors and number formats."""
import os
import shutil
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
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


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def bpftrace_path():
    return shutil.which("bpftrace")


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rel(got, want, base=None):
    """Signed error of got against want, in % of base (default want)."""
    base = want if base is None else base
    if got is None or want is None or not base:
        return None
    return (got - want) / base * 100


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


def fmt_rate(x):
    return "-" if x is None else "{:,.0f}/s".format(x)


def fmt_us(ns):
    """ns as us"""
    return "-" if ns is None else fmt_ns(ns / 1000)
