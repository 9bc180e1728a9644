#!/usr/bin/env python3
"""java: handlers on a real JVM (Debian's OpenJDK 17), through HotSpot's
method__entry / method__return USDT probes in libjvm.so.

tests/targets/RealworldOrders.java is compiled here with javac and run with
-XX:+ExtendedDTraceProbes:
- RealworldOrders::place and ::validate are counted exactly (the target's
  own counts), validate nested twice in each place;
- Other::place, a method of the same name in another class, is not counted
  as RealworldOrders::place, and a class glob (com.example.Oth*) finds it;
- a JVM started without the option is refused with an error that names it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

JDK = "/usr/lib/jvm/java-17-openjdk-amd64"
JAVA = os.path.join(JDK, "bin", "java")
JAVAC = os.path.join(JDK, "bin", "javac")
SRC = os.path.join(fptest.ROOT, "tests", "targets", "RealworldOrders.java")

FLOWS = """\
bundles:
  orders:
    pid: [{pid}]
    handlers:
      place: {{ java: "com.example.RealworldOrders::place" }}
      validate: {{ java: "com.example.RealworldOrders::validate" }}
      other: {{ java: "com.example.Oth*::place" }}
flows:
  place:
    entry: orders.place
    calls:
      - orders.place -> orders.validate
"""


def build():
    core.need()
    for tool in (JAVA, JAVAC):
        if not os.access(tool, os.X_OK):
            raise AssertionError("%s missing: scripts/install-deps.sh installs "
                              "openjdk-17-jdk-headless" % tool)
    d = fptest.tmpdir()
    subprocess.run([JAVAC, "-d", d, SRC], check=True, timeout=300)
    return d


def start_jvm(d, *opts, orders=3000):
    p = fptest.start([JAVA, *opts, "-cp", d, "com.example.RealworldOrders", str(orders)],
                     stdin=subprocess.PIPE)
    line = fptest.read_line(p, 60)
    fptest.eq(line.split()[0], "ready", "the JVM's first line")
    return p


@test
def jvm_methods_counted_exactly():
    d = build()
    p = start_jvm(d, "-XX:+ExtendedDTraceProbes")
    flows = fptest.write(os.path.join(d, "java.yaml"), FLOWS.format(pid=p.pid))
    out = os.path.join(d, "snap.json")
    rec = core.Recorder(flows, "-p", str(p.pid), out=out)
    rec.wait_recording()
    p.stdin.write(b"go\n")
    p.stdin.flush()
    own = core.parse_report(fptest.read_line(p, 120), "RealworldOrders")
    p.stdin.close()
    p.wait(60)
    rc, _, err = rec.finish()
    fptest.eq(rc, 0, "flowprof exit status once the JVM exited (stderr:\n%s)" % err)
    fptest.eq(own, {"target": "RealworldOrders", "place": 3000, "validate": 6000,
                    "other_place": 3000}, "the target's own counts")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq({h: hs[h]["calls"] for h in hs},
              {"orders.place": 3000, "orders.validate": 6000, "orders.other": 3000}, "calls")
    fptest.eq(hs["orders.place"]["symbol"], "hotspot:method__entry,hotspot:method__return",
              "probes")
    fptest.eq(fptest.flow(snap, "place")["visits"], {"orders.validate": 2.0}, "visits")
    for h in hs.values():
        fptest.eq(h["incomplete"], 0, h["id"] + " incomplete")
    fptest.eq(snap["counters"]["unmatched_returns"], 0, "unmatched returns")
    # their times are not corrected for HotSpot's probes: the report says so
    rep = json.loads(fptest.flowprof("report", "--json", out).stdout)
    flags = [f for f in rep["accuracy_flags"] if f["kind"] == "not-corrected"]
    fptest.eq([sorted(f["subjects"]) for f in flags], [sorted(hs)], "handlers flagged not corrected")
    shutil.rmtree(d, ignore_errors=True)


@test
def jvm_without_the_option_is_refused():
    d = build()
    p = start_jvm(d, "-Xshare:auto")
    flows = fptest.write(os.path.join(d, "java.yaml"), FLOWS.format(pid=p.pid))
    rc, _, err = core.run_record(flows, "-d", "1")
    p.stdin.write(b"go\n")
    p.stdin.close()
    fptest.eq(p.wait(60), 0, "the JVM's exit status")
    fptest.eq(rc, 1, "flowprof exit status")
    fptest.eq(err.splitlines()[0],
              "flowprof: error: %s:5:7: orders.place: pid %d (%s) runs without "
              "-XX:+ExtendedDTraceProbes: HotSpot fires its method__entry/method__return probes "
              "only when the JVM starts with that option (or -XX:+DTraceMethodProbes); restart "
              "it with the option, e.g. in JAVA_TOOL_OPTIONS" % (flows, p.pid, JAVA),
              "the error")
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    fptest.main()
