#!/usr/bin/env python3
"""`flowprof serve` and `record --listen` against a real Prometheus server.

A target counts and times its own calls (viewslib.py). flowprof serves its
metrics on loopback; Debian's prometheus scrapes them every second; the
tests then ask Prometheus's HTTP query API and compare with the target's
own figures: exact call counts, the call rate, and histogram_quantile in the
bucket that holds the target's own median. promtool checks the exposition.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
import promserver  # noqa: E402
import viewslib  # noqa: E402
from fptest import test  # noqa: E402

PROMTOOL = "/usr/bin/promtool"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_serve(target, *extra):
    """Starts flowprof serve on a free loopback port; returns (proc, url)."""
    p = fptest.start([fptest.FLOWPROF, "serve", "-f", target.flows, "-p", str(target.pid),
                      "--listen", "127.0.0.1:0", *extra])
    line = p.stderr.readline().decode()
    while line.startswith(("flowprof: warning: ", "flowprof:   ")):
        line = p.stderr.readline().decode()  # vt.fast is a single-step site
    m = re.search(r" on (http://127\.0\.0\.1:\d+/metrics); ", line)
    if not m:
        rest = p.stderr.read().decode() if p.poll() is not None else ""
        raise AssertionError("no serving line from flowprof serve: %r %s" % (line, rest))
    return p, m.group(1)


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def sample(text, name, **labels):
    """The value of one sample of a text exposition (None if absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        lab = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line[len(name):line.rindex("}")]))
        if all(lab.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def prometheus_for(target_url, d):
    """A real Prometheus (promserver.py) scraping the endpoint every second."""
    hostport = urllib.parse.urlparse(target_url).netloc
    return promserver.Prometheus(d, [promserver.job("flowprof", [hostport])])


@test
def prometheus_scrapes_exact_counts_rate_and_quantile():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    serve, url = start_serve(t)
    prom = prometheus_for(url, t.dir)
    up = prom.wait_value('up{job="flowprof"}', 1.0)
    fptest.eq(up, 1.0, 'up{job="flowprof"}')

    # A steady load: the rate Prometheus computes must match the target's own.
    fptest.eq(t.ask("loop"), ["looping"], "loop")
    time.sleep(3)
    c0 = int(t.ask("count")[1])
    t0 = time.time()
    time.sleep(10)
    c1 = int(t.ask("count")[1])
    t1 = time.time()
    own_rate = (c1 - c0) / (t1 - t0)
    time.sleep(1.5)  # one more scrape past t1
    prom_rate = prom.value('rate(flowprof_handler_calls_total{handler="vt.request"}[10s])')
    assert prom_rate is not None, "no rate from prometheus"
    fptest.near(prom_rate, own_rate, 0.05, "prometheus rate vs the target's own rate")
    # The model's gauges over the last scrape interval: the loop keeps vt's
    # one worker busy all the time, so vt is the bottleneck, nearly 100% used.
    fptest.eq(prom.value('flowprof_station_bottleneck{station="vt",bundle="vt"}'), 1.0,
              "bottleneck gauge, with its bundle label")
    fptest.eq(prom.value('flowprof_station_servers{station="vt"}'), 1.0, "servers of vt")
    # the host's CPUs are no bundle's
    fptest.eq(prom.value('count(flowprof_station_servers{station="cpu",bundle=""})'), 1.0,
              "the cpu station without a bundle label")
    util = prom.value('flowprof_station_utilization_ratio{station="vt"}')
    assert util is not None and 0.8 < util <= 1.0, "utilization of vt while looping: %r" % util

    # Exact counts once the load stops.
    stopped = t.ask("stop")
    fptest.eq(stopped[0], "stopped", "stop")
    requests, slow, median_ns = int(stopped[1]), int(stopped[2]), int(stopped[3])
    for handler, want in (("vt.request", requests), ("vt.fast", requests), ("vt.slow", slow)):
        got = prom.wait_value('flowprof_handler_calls_total{handler="%s"}' % handler, want)
        fptest.eq(got, float(want), "flowprof_handler_calls_total of " + handler)
    fptest.eq(prom.value('flowprof_flow_invocations_total{flow="serve",bundle="vt",'
                         'handler="vt.request"}'), float(requests),
              "flowprof_flow_invocations_total")
    fptest.eq(prom.value('flowprof_flow_handler_calls_total{flow="serve",handler="vt.slow"}'),
              float(slow), "flowprof_flow_handler_calls_total of vt.slow")
    fptest.eq(prom.value('flowprof_edge_calls_total{caller="vt.request",callee="vt.fast"}'),
              float(requests), "flowprof_edge_calls_total request -> fast")
    # Prometheus keeps its own instance label (the scrape target): ours, the
    # pid, arrives as exported_instance.
    fptest.eq(prom.value('flowprof_instance_handler_calls_total{handler="vt.request",'
                         'exported_instance="%d"}' % t.pid), float(requests),
              "per-process calls (exported_instance)")
    fptest.eq(prom.value('flowprof_handler_duration_seconds_count{handler="vt.slow"}'),
              float(slow), "histogram _count of vt.slow")

    # histogram_quantile lands in the classic bucket of the target's own median.
    lo, hi = viewslib.slow_bucket(median_ns)
    q = prom.value('histogram_quantile(0.5, sum by (le) '
                   '(flowprof_handler_duration_seconds_bucket{handler="vt.slow"}))')
    assert q is not None and lo < q <= hi, \
        "histogram_quantile(0.5) of vt.slow = %r s, want in (%g, %g] (target's median %d ns)" \
        % (q, lo, hi, median_ns)
    # The mean from _sum/_count is within 5% (+ probe cost) of the target's clock.
    mean = prom.value('flowprof_handler_duration_seconds_sum{handler="vt.slow"} / '
                      'flowprof_handler_duration_seconds_count{handler="vt.slow"}')
    fptest.near(mean, median_ns / 1e9, 0.05, "mean of vt.slow (s)", abs_tol=20e-6)

    serve.send_signal(signal.SIGTERM)
    fptest.eq(serve.wait(timeout=30), 0, "exit status of serve after SIGTERM")


@test
def promtool_accepts_the_exposition():
    viewslib.need_flowprof()
    viewslib.need_tool(PROMTOOL, "prometheus")
    t = viewslib.Target().start()
    serve, url = start_serve(t)
    fptest.eq(t.ask("run 400")[0], "done", "run")
    status, ctype, text = get(url)
    fptest.eq(status, 200, "status")
    fptest.eq(ctype, "text/plain; version=0.0.4; charset=utf-8", "content type")
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True)
    fptest.eq((r.returncode, r.stdout + r.stderr), (0, ""), "promtool check metrics")
    # The counters are exact and the histogram is consistent.
    fptest.eq(sample(text, "flowprof_handler_calls_total", handler="vt.request"), 400.0,
              "calls of vt.request")
    fptest.eq(sample(text, "flowprof_handler_calls_total", handler="vt.slow"), 100.0,
              "calls of vt.slow")
    fptest.eq(sample(text, "flowprof_handler_duration_seconds_bucket", handler="vt.slow",
                     le="+Inf"), 100.0, "+Inf bucket of vt.slow")
    fptest.eq(sample(text, "flowprof_handler_duration_seconds_bucket", handler="vt.slow",
                     le="0.000524288"), 0.0, "vt.slow calls under 524 us")
    fptest.eq(sample(text, "flowprof_handler_calls_total", handler="vt.request",
                     host=socket.gethostname()), 400.0, "host label")
    fptest.eq(sample(text, "flowprof_station_bottleneck", station="vt"), 1.0,
              "bottleneck gauge after the 400 calls")

    # OpenMetrics when asked for it, as Prometheus does.
    status, ctype, om = get(url, "application/openmetrics-text;version=1.0.0,"
                                 "text/plain;version=0.0.4;q=0.5")
    fptest.eq(ctype, "application/openmetrics-text; version=1.0.0; charset=utf-8",
              "OpenMetrics content type")
    fptest.eq(om.splitlines()[-1], "# EOF", "last line of the OpenMetrics exposition")
    assert "# TYPE flowprof_handler_calls counter\n" in om, "OpenMetrics counter family"
    assert "# UNIT flowprof_handler_duration_seconds seconds\n" in om, "OpenMetrics unit"
    fptest.eq(sample(om, "flowprof_handler_calls_total", handler="vt.request"), 400.0,
              "OpenMetrics calls of vt.request")

    # Anything but GET /metrics (and /) is refused.
    try:
        get(url.replace("/metrics", "/nothing"))
        raise AssertionError("GET /nothing answered")
    except urllib.error.HTTPError as e:
        fptest.eq(e.code, 404, "status of GET /nothing")
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"), timeout=5)
        raise AssertionError("POST answered")
    except urllib.error.HTTPError as e:
        fptest.eq(e.code, 405, "status of POST /metrics")
    serve.send_signal(signal.SIGINT)
    fptest.eq(serve.wait(timeout=30), 0, "exit status of serve after SIGINT")


@test
def serve_listens_on_loopback_by_default_and_names_a_busy_port():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    r = fptest.flowprof("serve", "--help")
    assert "(default 127.0.0.1:9464, loopback only;" in " ".join(r.stdout.split()), \
        "default address in --help"
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    r = fptest.flowprof("serve", "-f", t.flows, "-p", str(t.pid), "--listen",
                        "127.0.0.1:%d" % port, check=False, timeout=60)
    busy.close()
    fptest.eq(r.returncode, 1, "exit status with a busy port")
    fptest.eq(r.stderr.splitlines()[-1],
              "flowprof: error: --listen 127.0.0.1:%d: Address already in use" % port,
              "last stderr line")
    r = fptest.flowprof("serve", "-f", t.flows, "--listen", "9464", check=False)
    fptest.eq(r.returncode, 1, "exit status with a bad --listen")
    fptest.eq(r.stderr.splitlines()[-1],
              "flowprof: error: --listen 9464: expected ADDR:PORT, e.g. 127.0.0.1:9464, "
              "[::1]:9464 or :9464", "last stderr line")


@test
def record_listen_serves_while_recording():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    out = os.path.join(t.dir, "snap.json")
    rec = fptest.start([fptest.FLOWPROF, "record", "-f", t.flows, "-p", str(t.pid), "-d", "4",
                        "-o", out, "--listen", "127.0.0.1:0"])
    url = None
    for _ in range(5):
        line = rec.stderr.readline().decode()
        m = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", line)
        if m:
            url = m.group(1)
            break
    assert url, "record --listen printed no metrics URL"
    fptest.eq(t.ask("run 200")[0], "done", "run")
    text = get(url)[2]
    fptest.eq(sample(text, "flowprof_handler_calls_total", handler="vt.request"), 200.0,
              "calls of vt.request while recording")
    fptest.eq(rec.wait(timeout=60), 0, "exit status of record")
    snap = fptest.load_json(out)
    fptest.eq(fptest.handler(snap, "vt.request")["calls"], 200, "calls in the snapshot")


if __name__ == "__main__":
    fptest.main()
