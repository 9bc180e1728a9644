#!/usr/bin/env python3
"""Handlers beyond plain C functions, and processes beyond one.

- usdt: pairs on build/targets/usdt_app (sys/sdt.h probes): the
  semaphore-gated pair fires only in the recorded process (the target counts
  the requests that saw its semaphore raised), the ungated pair nests under
  it, counts exact;
- a bundle of three processes of one executable (exe:, no -p), plus a fourth
  started during the recording: each counted on its own, the per-instance
  counts add up, the bundle lists all four;
- a process in another mount namespace whose executable exists only there:
  resolved through /proc/PID/root, counted exactly;
- C++ methods in namespaces (tests/targets/realworld_cart.cc, built here
  with g++) matched by a demangled glob and by exact demangled names, with
  the mangled symbols in the snapshot;
- `flowprof check` shows every kind of handler's probe points.
"""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

APP = "usdt_app"


def app_flows(d, exe=None, pids=None, extra=""):
    sel = "exe: %s" % exe if exe else "pid: [%s]" % ", ".join(map(str, pids))
    return fptest.write(os.path.join(d, "app.yaml"), """\
bundles:
  app:
    %s
    handlers:
      req: { usdt: "app:req__start", return: "app:req__done" }
      query: { usdt: "app:query__start", return: "app:query__done" }
      handle: handle_request
%s
flows:
  request:
    entry: app.req
    calls:
      - app.req -> app.query
""" % (sel, extra))


def usdt_pairs(*mode):
    core.need(APP)
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    rec_t = core.Target(APP, "-n", "500", "-q", "3")
    other = core.Target(APP, "-n", "50", "-q", "1")
    rec = core.Recorder(app_flows(d, exe=core.target_path(APP)), "-p", str(rec_t.pid), *mode,
                        out=out)
    rec.wait_recording()
    rec_t.release()
    other.release()
    mine, theirs = rec_t.finish(), other.finish()
    rc, _, err = rec.finish()
    fptest.eq(rc, 0, "flowprof exit status once the process exited (stderr:\n%s)" % err)
    fptest.eq(mine["gated"], 500, "requests that saw the semaphore raised (recorded process)")
    fptest.eq(theirs["gated"], 0, "requests that saw it raised (process not recorded)")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq({h: hs[h]["calls"] for h in hs},
              {"app.req": 500, "app.query": 1500, "app.handle": 500}, "calls")
    fptest.eq(hs["app.req"]["symbol"], "app:req__start,app:req__done", "req's probes")
    fptest.eq(fptest.flow(snap, "request")["visits"], {"app.query": 3.0}, "visits")
    fptest.eq(fptest.edge(snap, "app.handle", "app.req"), 500, "handle_request -> req")
    core.check_counters_zero(snap)
    # USDT handlers: their program's cost is measured (its calibration stub,
    # only loaded where a handler uses it)
    slots = snap["calibration"]["slots"]
    for kind in ("usdt", "usdt_return"):
        if kind not in slots or not slots[kind]["hit_ns"] > 0:
            raise AssertionError("no measured %s cost with USDT handlers: %r" % (kind, slots))
    # The USDT pair is inside handle_request: its time is part of handle's.
    if not hs["app.req"]["mean_ns"] < hs["app.handle"]["mean_ns"]:
        raise AssertionError("req (%s ns) not shorter than handle_request (%s ns)"
                             % (hs["app.req"]["mean_ns"], hs["app.handle"]["mean_ns"]))
    shutil.rmtree(d, ignore_errors=True)
    return snap


@test
def usdt_pairs_and_semaphores():
    usdt_pairs()


@test
def usdt_pairs_single_links():
    """Perf-event uprobes (libbpf, one per site): the semaphore goes through
    their ref_ctr_offset instead of the uprobe_multi link's."""
    snap = usdt_pairs("--mode", "single")
    fptest.eq(snap["attach_mode"], "uprobe", "attach mode")


@test
def bundle_of_processes_per_instance():
    core.need(APP)
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    runs = [100, 200, 300]
    ts = [core.Target(APP, "-n", str(n), "-q", "2") for n in runs]
    rec = core.Recorder(app_flows(d, exe=core.target_path(APP)), out=out)
    rec.wait_recording()
    late = core.Target(APP, "-n", "40", "-q", "2")  # started during the recording
    for t in ts + [late]:
        t.release()
    for t in ts + [late]:
        t.finish()
    rec.signal(signal.SIGINT)
    rc, _, err = rec.finish()
    fptest.eq(rc, 130, "flowprof exit status (stderr:\n%s)" % err)
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    want = {t.pid: n for t, n in zip(ts + [late], runs + [40])}
    for h, per in (("app.req", 1), ("app.handle", 1), ("app.query", 2)):
        got = {i["pid"]: i["calls"] for i in hs[h]["instances"]}
        fptest.eq(got, {pid: n * per for pid, n in want.items()}, h + " calls per process")
        fptest.eq(hs[h]["calls"], sum(got.values()), h + " calls add up")
    bundle = snap["bundles"][0]
    fptest.eq(sorted(bundle["pids"]), sorted(want), "bundle pids (the late one included)")
    fptest.eq(bundle["threads"], 4, "threads that ran handlers")
    core.check_counters_zero(snap)
    shutil.rmtree(d, ignore_errors=True)


@test
def other_mount_namespace():
    core.need(APP)
    if not shutil.which("unshare"):
        raise fptest.Skip("unshare (util-linux) missing")
    d = fptest.tmpdir()
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    # The executable exists only inside the new namespace's tmpfs.
    script = ("mount -t tmpfs none %s && cp %s %s/app && exec %s/app -w -n 120 -q 2"
              % (mnt, core.target_path(APP), mnt, mnt))
    p = fptest.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                     stdin=subprocess.PIPE)
    line = fptest.read_line(p, 10)
    if not line.startswith("ready"):
        raise fptest.Skip("cannot make a mount namespace here: %r" % line)
    pid = int(line.split()[1])
    if os.path.exists(os.path.join(mnt, "app")):
        raise AssertionError("the tmpfs is visible from flowprof's namespace")
    out = os.path.join(d, "snap.json")
    rec = core.Recorder(app_flows(d, pids=[pid]), "-p", str(pid), out=out)
    rec.wait_recording()
    p.stdin.write(b"g")
    p.stdin.flush()
    p.stdin.close()
    p.wait(30)
    rc, _, err = rec.finish()
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq({h: hs[h]["calls"] for h in hs},
              {"app.req": 120, "app.query": 240, "app.handle": 120}, "calls")
    fptest.eq(hs["app.handle"]["binary"], "/proc/%d/root%s/app" % (pid, mnt), "binary path")
    shutil.rmtree(d, ignore_errors=True)


CART_FLOWS = """\
bundles:
  shop:
    exe: {exe}
    handlers:
      cart: "Shop::Cart::*"
      place: "Shop::Order::place"
      discount: "Shop::Pricing::discount(long)"
flows:
  order:
    entry: shop.place
    calls:
      - shop.place -> shop.cart
      - shop.place -> shop.discount
"""


@test
def cxx_demangled_glob():
    core.need()
    if not shutil.which("g++"):
        raise AssertionError("g++ missing: scripts/install-deps.sh installs it")
    d = fptest.tmpdir()
    exe = os.path.join(d, "realworld_cart")
    src = os.path.join(fptest.ROOT, "tests", "targets", "realworld_cart.cc")
    subprocess.run(["g++", "-O1", "-g", "-fno-inline", "-o", exe, src], check=True)
    flows = fptest.write(os.path.join(d, "cart.yaml"), CART_FLOWS.format(exe=exe))

    chk = fptest.flowprof("check", "-f", flows)
    for want in ("_ZN4Shop4Cart3addEi (Shop::Cart::add(int))",
                 "_ZNK4Shop4Cart5totalEv (Shop::Cart::total() const)",
                 "_ZN4Shop5Order5placeEi (Shop::Order::place(int))",
                 "_ZN4Shop7Pricing8discountEl (Shop::Pricing::discount(long))"):
        if want not in chk.stdout:
            raise AssertionError("check does not show %r:\n%s" % (want, chk.stdout))

    out = os.path.join(d, "snap.json")
    rc, stdout, err = core.run_record(flows, "-o", out, "--", exe, "250")
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    own = core.parse_report(stdout, "realworld_cart")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq(own["place"], 250, "orders placed")
    fptest.eq(hs["shop.cart"]["calls"], own["add_int"] + own["add_name"] + own["total"],
              "Shop::Cart::* calls")
    fptest.eq(hs["shop.place"]["calls"], own["place"], "place calls")
    fptest.eq(hs["shop.discount"]["calls"], own["discount"], "discount calls")
    fptest.eq(sorted(hs["shop.cart"]["symbol"].split(",")),
              ["_ZN4Shop4Cart3addERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
               "_ZN4Shop4Cart3addEi", "_ZNK4Shop4Cart5totalEv"], "mangled symbols of the glob")
    fptest.eq(fptest.flow(snap, "order")["visits"], {"shop.cart": 5.0, "shop.discount": 1.0},
              "visits per order")
    shutil.rmtree(d, ignore_errors=True)


@test
def check_shows_every_kind():
    core.need(APP)
    d = fptest.tmpdir()
    app = core.Target(APP, "-n", "1")
    py = fptest.start(["/usr/bin/python3", "-c",
                       "import sys; print('ready', flush=True); sys.stdin.read()"],
                      stdin=subprocess.PIPE)
    fptest.read_line(py, 10)
    java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
    flows = app_flows(d, pids=[app.pid], extra="""\
  py:
    pid: [%d]
    handlers:
      view: { python: "*/views.py:checkout" }
  jvm:
    exe: %s
    comm: flowprof-none
    handlers:
      place: { java: "com.example.Orders::place" }
""" % (py.pid, java))
    chk = fptest.flowprof("check", "-f", flows, check=False)
    app.release()
    app.finish()
    py.kill()
    exe = os.path.realpath(core.target_path(APP))
    for want in ("app.req                  app:req__start  %s+0x" % exe,
                 "app:req__done  %s+0x" % exe,
                 "app.handle               handle_request  %s+0x" % exe,
                 "py.view                  python:function__entry  /usr/bin/python3.11+0x",
                 "python:function__return  /usr/bin/python3.11+0x",
                 "python:line  /usr/bin/python3.11+0x"):
        if want not in chk.stdout:
            raise AssertionError("check does not show %r:\n%s" % (want, chk.stdout))
    if os.access(java, os.X_OK):
        for want in ("jvm.place                hotspot:method__entry  "
                     "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so+0x",
                     "no JVM of bundle jvm is running: it must start with "
                     "-XX:+ExtendedDTraceProbes"):
            if want not in chk.stdout:
                raise AssertionError("check does not show %r:\n%s" % (want, chk.stdout))
    fptest.eq(chk.returncode, 0, "check exit status (stdout:\n%s)" % chk.stdout)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    fptest.main()
