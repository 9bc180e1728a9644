#!/usr/bin/env python3
"""flowprof on Debian's nginx: a master and two workers, driven by ab and wrk.

nginx runs on loopback with a configuration and prefix of its own (pid file,
logs, temporary directories in a temporary directory). Handlers:
ngx_http_process_request (once per request), ngx_http_handler, with the flow
`request` from the first to the second. The bundle is the master and its
workers, given with -p.
- ab -n N: ngx_http_process_request == N == ab's "Complete requests" ==
  lines in nginx's access log; the workers' per-instance counts add up;
- wrk for two seconds: the count equals the access log's lines, and wrk's
  own count is at most that (wrk stops counting at its deadline while
  requests are still in flight) and less than its connections short of it.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

NGINX = "/usr/sbin/nginx"

CONF = """\
daemon off;
master_process on;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""

FLOWS = """\
bundles:
  nginx:
    exe: {exe}
    handlers:
      process: ngx_http_process_request
      handler: ngx_http_handler
flows:
  request:
    entry: nginx.process
    calls:
      - nginx.process -> nginx.handler
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need_nginx(tool):
    core.need()
    for t in (NGINX, tool):
        if not os.access(t, os.X_OK):
            raise AssertionError("%s missing: scripts/install-deps.sh installs nginx, wrk and "
                              "apache2-utils" % t)


class Nginx:
    def __init__(self, d):
        self.d = d
        self.port = free_port()
        conf = fptest.write(os.path.join(d, "nginx.conf"), CONF.format(d=d, port=self.port))
        self.p = fptest.start([NGINX, "-c", conf, "-p", d, "-e", os.path.join(d, "error.log")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        fptest.wait_for(lambda: len(self.workers()) == 2, 10, "two nginx workers")
        self.probes = 0
        fptest.wait_for(self.answers, 10, "nginx answering")
        # nginx logs a request after answering it: wait for the log to catch up.
        fptest.wait_for(lambda: self.log_lines() == self.probes, 10, "the access log")
        self.log_lines_before = self.log_lines()

    def workers(self):
        r = subprocess.run(["pgrep", "-P", str(self.p.pid)], capture_output=True, text=True)
        return sorted(int(x) for x in r.stdout.split())

    def answers(self):
        try:
            ok = urllib.request.urlopen("http://127.0.0.1:%d/" % self.port,
                                        timeout=2).read() == b"ok\n"
        except OSError:
            return False
        self.probes += 1
        return ok

    def log_lines(self):
        try:
            with open(os.path.join(self.d, "access.log")) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def stop(self):
        self.p.send_signal(signal.SIGQUIT)
        self.p.wait(10)


def record(ng, d, load):
    """Records nginx's master and workers while load() runs; returns the
    snapshot and the number of requests the access log gained."""
    flows = fptest.write(os.path.join(d, "nginx.yaml"), FLOWS.format(exe=NGINX))
    out = os.path.join(d, "snap.json")
    pids = [ng.p.pid] + ng.workers()
    rec = core.Recorder(flows, "-p", ",".join(map(str, pids)), out=out)
    rec.wait_recording()
    result = load()
    # wrk stops at its deadline with requests still in flight: nginx serves
    # and logs them after wrk has gone, so the recording ends once the log
    # has stopped growing
    settled, last = 0, ng.log_lines()
    while settled < 3:
        time.sleep(0.1)
        now = ng.log_lines()
        settled, last = (settled + 1, now) if now == last else (0, now)
    rec.signal(signal.SIGINT)
    rc, _, err = rec.finish()
    fptest.eq(rc, 130, "flowprof exit status after SIGINT (stderr:\n%s)" % err)
    served = ng.log_lines() - ng.log_lines_before
    return fptest.load_json(out), served, result


def check_instances(snap, hid, workers, total):
    hs = core.handlers(snap)
    inst = {i["pid"]: i["calls"] for i in hs[hid]["instances"]}
    fptest.eq(sum(inst.values()), total, hid + " per-instance calls add up")
    if not set(inst) <= set(workers):
        raise AssertionError("%s ran in %s, not only in the workers %s" % (hid, inst, workers))


@test
def ab_requests_counted_exactly():
    need_nginx("/usr/bin/ab")
    d = fptest.tmpdir()
    ng = Nginx(d)
    n = 2000

    def load():
        r = subprocess.run(["ab", "-q", "-n", str(n), "-c", "8",
                            "http://127.0.0.1:%d/" % ng.port],
                           capture_output=True, text=True, timeout=300)
        fptest.eq(r.returncode, 0, "ab exit status (%s)" % r.stderr)
        complete = int(re.search(r"^Complete requests:\s+(\d+)", r.stdout, re.M).group(1))
        failed = int(re.search(r"^Failed requests:\s+(\d+)", r.stdout, re.M).group(1))
        return complete, failed

    snap, served, (complete, failed) = record(ng, d, load)
    workers = ng.workers()
    ng.stop()
    fptest.eq((complete, failed), (n, 0), "ab: complete and failed requests")
    fptest.eq(served, n, "requests in nginx's access log")
    hs = core.handlers(snap)
    fptest.eq(hs["nginx.process"]["calls"], n, "ngx_http_process_request calls")
    fptest.eq(hs["nginx.handler"]["calls"], n, "ngx_http_handler calls")
    fptest.eq(hs["nginx.process"]["incomplete"], 0, "incomplete")
    check_instances(snap, "nginx.process", workers, n)
    fptest.eq(fptest.flow(snap, "request")["visits"]["nginx.handler"], 1.0,
              "visits of ngx_http_handler per request")
    # ngx_http_handler opens with four loads and a test, which the kernel
    # single-steps, then a jne it emulates: the entry probe goes on the jne
    # wherever the host measured a branch cheaper than a single step
    slots = snap["calibration"]["slots"]
    if slots["branch"]["hit_ns"] < slots["step"]["hit_ns"]:
        fptest.eq(hs["nginx.handler"]["entry_site"], "branch",
                  "ngx_http_handler's entry, placed past its single-stepped loads")
    bundle = snap["bundles"][0]
    fptest.eq(sorted(bundle["pids"]), sorted([ng.p.pid] + workers), "bundle pids")
    shutil.rmtree(d, ignore_errors=True)


@test
def wrk_requests_match_access_log():
    need_nginx("/usr/bin/wrk")
    d = fptest.tmpdir()
    ng = Nginx(d)
    conns = 8

    def load():
        r = subprocess.run(["wrk", "-t", "2", "-c", str(conns), "-d", "2s",
                            "http://127.0.0.1:%d/" % ng.port],
                           capture_output=True, text=True, timeout=60)
        fptest.eq(r.returncode, 0, "wrk exit status (%s)" % r.stderr)
        return int(re.search(r"(\d+) requests in", r.stdout).group(1))

    snap, served, counted = record(ng, d, load)
    workers = ng.workers()
    ng.stop()
    hs = core.handlers(snap)
    fptest.eq(hs["nginx.process"]["calls"], served,
              "ngx_http_process_request calls == access log lines")
    if not served - conns <= counted <= served:
        raise AssertionError("wrk counted %d requests, nginx served %d (%d connections)"
                             % (counted, served, conns))
    check_instances(snap, "nginx.process", workers, served)
    shutil.rmtree(d, ignore_errors=True)


@test
def stripped_binary_missing_symbol():
    """Debian's nginx is stripped: the error says only .dynsym was searched."""
    need_nginx(NGINX)
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "nginx.yaml"),
                         "bundles:\n  nginx:\n    exe: %s\n    handlers:\n"
                         "      process: ngx_http_process_requets\n" % NGINX)
    chk = fptest.flowprof("check", "-f", flows, check=False)
    fptest.eq(chk.returncode, 1, "check exit status")
    want = ("  %s:5:16: nginx.process: symbol 'ngx_http_process_requets' not found in %s, "
            "which is stripped: only .dynsym was searched (no separate debug symbols were "
            "found: its -dbgsym package puts them in /usr/lib/debug); closest: "
            "ngx_http_process_request" % (flows, NGINX))
    if want not in chk.stdout:
        raise AssertionError("check does not say %r:\n%s" % (want, chk.stdout))
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    fptest.main()
