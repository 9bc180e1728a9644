#!/usr/bin/env python3
"""The metrics endpoint on a hostile network (`flowprof serve`, `record
--listen`): loopback unless --allow-remote, HTTPS (--tls-cert, --tls-key)
and a bearer token (--token-file), and a flood of requests that costs at
most one reading of the maps per --min-interval.

A real Prometheus (tests/e2e/promserver.py) scrapes flowprof over TLS with
`authorization: {credentials_file}` and `tls_config: {ca_file}`, with a
certificate made here by openssl; the target counts its own calls
(viewslib.py). The flood's CPU bound comes from this host's own
measurements of a reading and of a cached answer.
"""
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
import promserver  # noqa: E402
import viewslib  # noqa: E402
from fptest import eq, test  # noqa: E402

TOKEN = "e2e-7d1f0c9a4b2e8f63a5c1d0b9e8f7a6b5"
TICK = os.sysconf("SC_CLK_TCK")


def make_cert(d, name="127.0.0.1"):
    """A self-signed certificate for 127.0.0.1 and its key: (cert, key)."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    viewslib.need_tool("/usr/bin/openssl", "openssl")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def token_file(d, text=TOKEN + "\n"):
    path = fptest.write(os.path.join(d, "token"), text)
    os.chmod(path, 0o600)
    return path


def start_serve(target, *extra):
    """flowprof serve on a free loopback port; returns (proc, url)."""
    p = fptest.start([fptest.FLOWPROF, "serve", "-f", target.flows, "-p", str(target.pid),
                      "--listen", "127.0.0.1:0", *extra])
    lines = []
    while True:
        line = p.stderr.readline().decode()
        lines.append(line)
        m = re.search(r" on (https?://127\.0\.0\.1:\d+/metrics); ", line)
        if m:
            return p, m.group(1)
        assert line, "flowprof serve exited: %s" % "".join(lines)


def fetch(url, token=None, ctx=None):
    """(status, headers, body) of a GET, whatever the status."""
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token}
                                 if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def sample(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@test
def prometheus_scrapes_over_tls_with_a_bearer_token():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    cert, key = make_cert(t.dir)
    tok = token_file(t.dir)
    serve, url = start_serve(t, "--tls-cert", cert, "--tls-key", key, "--token-file", tok)
    assert url.startswith("https://"), url
    hostport = url.split("/")[2]
    prom = promserver.Prometheus(t.dir, [
        promserver.job("secure", [hostport], scheme="https", ca_file=cert, token_file=tok),
        promserver.job("no-token", [hostport], scheme="https", ca_file=cert),
    ])
    done = t.ask("run 400")
    eq(done[0], "done", "run")
    requests, slow = int(done[1]), int(done[2])
    for handler, want in (("vt.request", requests), ("vt.slow", slow)):
        got = prom.wait_value('flowprof_handler_calls_total{job="secure",handler="%s"}' % handler,
                              float(want))
        eq(got, float(want), "calls of %s scraped over TLS with the token" % handler)
    eq(prom.value('up{job="secure"}'), 1.0, "the job with the token is up")
    # The job without the token: down, and Prometheus says why.
    fptest.wait_for(lambda: prom.targets("no-token") and
                    prom.targets("no-token")[0]["lastError"], timeout=20,
                    what="a failed scrape of the job without the token")
    target = prom.targets("no-token")[0]
    eq(target["health"], "down", "health of the job without the token")
    assert "401" in target["lastError"], target["lastError"]
    eq(prom.value('up{job="no-token"}'), 0.0, "up of the job without the token")
    eq(prom.query('flowprof_handler_calls_total{job="no-token"}'), [],
       "series of the job without the token")
    serve.send_signal(signal.SIGTERM)
    eq(serve.wait(timeout=30), 0, "exit status of serve")


@test
def requests_without_the_token_get_401():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    cert, key = make_cert(t.dir)
    serve, url = start_serve(t, "--tls-cert", cert, "--tls-key", key, "--token-file",
                             token_file(t.dir))
    ctx = ssl.create_default_context(cafile=cert)
    status, headers, body = fetch(url, ctx=ctx)
    eq(status, 401, "status without a token")
    eq(headers.get("WWW-Authenticate"), 'Bearer realm="flowprof"', "WWW-Authenticate")
    assert "flowprof_" not in body, "a 401 leaks metrics: %r" % body[:200]
    for wrong in (TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "", "x" * len(TOKEN)):
        status, headers, _ = fetch(url, token=wrong or " ", ctx=ctx)
        eq(status, 401, "status with the wrong token %r" % wrong)
        eq(headers.get("WWW-Authenticate"), 'Bearer realm="flowprof", error="invalid_token"',
           "WWW-Authenticate with a wrong token")
    status, _, _ = fetch(url.replace("/metrics", "/"), ctx=ctx)
    eq(status, 401, "status of / without a token")
    eq(t.ask("run 40")[0], "done", "run")
    status, _, body = fetch(url, token=TOKEN, ctx=ctx)
    eq(status, 200, "status with the token")
    eq(sample(body, "flowprof_handler_calls_total", handler="vt.request"), 40.0,
       "calls of vt.request with the token")
    # The scheme is case-insensitive (RFC 7235).
    req = urllib.request.Request(url, headers={"Authorization": "bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        eq(r.status, 200, "status with 'bearer' in lower case")
    # Plain HTTP to the TLS port gets no metrics.
    plain = url.replace("https://", "http://")
    try:
        status, _, body = fetch(plain, token=TOKEN)
        assert status != 200 or "flowprof_" not in body, "metrics over plain HTTP"
    except (OSError, http.client.HTTPException):
        pass
    # The token is read from its file only: never in the process's command line.
    cmdline = open("/proc/%d/cmdline" % serve.pid, "rb").read().decode()
    assert TOKEN not in cmdline, "the token is on the command line"
    serve.send_signal(signal.SIGTERM)
    eq(serve.wait(timeout=30), 0, "exit status of serve")


def host_address():
    """An address of this host that is not loopback, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: picks the route, sends nothing
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


@test
def remote_addresses_need_allow_remote_and_bad_secrets_are_named():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    d = t.dir
    common = ["-f", t.flows, "-p", str(t.pid)]
    remote = [":0", "0.0.0.0:0", "[::]:0"]
    addr = host_address()
    if addr:
        remote.append(addr + ":0")
    for spec in remote:
        for cmd in (["serve"], ["record", "-d", "1"]):
            r = fptest.flowprof(*cmd, *common, "--listen", spec, check=False, timeout=60)
            eq(r.returncode, 1, "exit status of %s --listen %s" % (cmd[0], spec))
            last = r.stderr.splitlines()[-1]
            assert last.startswith("flowprof: error: --listen %s: " % spec) and \
                "reachable from other hosts" in last and "--allow-remote" in last, last
    # With --allow-remote it serves there, and warns that nothing protects it.
    serve = fptest.start([fptest.FLOWPROF, "serve", *common, "--listen", "0.0.0.0:0",
                          "--allow-remote"])
    lines = []
    while not lines or " on http://" not in lines[-1]:
        line = serve.stderr.readline().decode()
        assert line, "serve --allow-remote exited: %s" % "".join(lines)
        lines.append(line)
    assert any("serving other hosts in clear text without a token" in x for x in lines), lines
    port = int(re.search(r"http://0\.0\.0\.0:(\d+)/", lines[-1]).group(1))
    eq(fetch("http://127.0.0.1:%d/metrics" % port)[0], 200, "status over loopback")
    if addr:
        eq(fetch("http://%s:%d/metrics" % (addr, port))[0], 200, "status over " + addr)
    serve.send_signal(signal.SIGTERM)
    eq(serve.wait(timeout=30), 0, "exit status of serve --allow-remote")

    cert, key = make_cert(d)
    other = os.path.join(d, "other")
    os.mkdir(other)
    other_cert, other_key = make_cert(other)
    empty = token_file(d, "\n")
    spaced = token_file(os.path.join(other), "two words\n")
    usage = [  # the command line alone is wrong: exit status 2
        (["--tls-cert", cert], "--tls-cert: TLS needs both --tls-cert FILE and --tls-key FILE"),
        (["--tls-key", key], "--tls-key: TLS needs both --tls-cert FILE and --tls-key FILE"),
        (["--min-interval", "-1"], "--min-interval -1: expected seconds from 0 to 3600"),
    ]
    for args, text in usage:
        r = fptest.flowprof("serve", *common, *args, check=False)
        eq(r.returncode, 2, "exit status of serve %s" % " ".join(args))
        assert text in r.stderr, "serve %s: %r not in %r" % (" ".join(args), text, r.stderr)
    r = fptest.flowprof("record", *common, "--token-file", empty, check=False)
    eq(r.returncode, 2, "exit status of record --token-file without --listen")
    assert "--token-file applies to the metrics endpoint: add --listen ADDR:PORT" in r.stderr, \
        r.stderr
    bad = [  # the files are wrong: exit status 1, naming the file
        (["--token-file", empty], "--token-file %s: empty" % empty),
        (["--token-file", spaced], "--token-file %s: the token must be one line" % spaced),
        (["--token-file", os.path.join(d, "none")],
         "--token-file %s: No such file or directory" % os.path.join(d, "none")),
        (["--tls-cert", os.path.join(d, "none"), "--tls-key", key],
         "--tls-cert %s: No such file or directory" % os.path.join(d, "none")),
        (["--tls-cert", t.flows, "--tls-key", key], "--tls-cert %s: not a PEM file" % t.flows),
        (["--tls-cert", cert, "--tls-key", other_key],
         "--tls-cert %s --tls-key %s: TLS could not start" % (cert, other_key)),
    ]
    for args, text in bad:
        r = fptest.flowprof("serve", *common, "--listen", "127.0.0.1:0", *args, check=False,
                            timeout=60)
        eq(r.returncode, 1, "exit status of serve %s" % " ".join(args))
        assert text in r.stderr.splitlines()[-1], \
            "serve %s: %r not in %r" % (" ".join(args), text, r.stderr)
    del other_cert


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads (/proc/PID/stat)."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def flood(port, n, threads, token):
    """n GETs of /metrics from `threads` threads, a connection each; returns
    (elapsed s, statuses)."""
    statuses = []
    lock = threading.Lock()

    def worker(k):
        for _ in range(k):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                c.request("GET", "/metrics", headers={"Authorization": "Bearer " + token}
                          if token else {})
                r = c.getresponse()
                r.read()
                status = r.status
            except OSError:
                status = 0  # refused past the connection limit
            finally:
                c.close()
            with lock:
                statuses.append(status)

    ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
    t0 = time.monotonic()
    for x in ts:
        x.start()
    for x in ts:
        x.join()
    return time.monotonic() - t0, statuses


def collections(url, wait):
    """flowprof_metrics_collections_total after `wait` s: a fresh reading
    (which counts itself) when wait is past --min-interval."""
    time.sleep(wait)
    status, _, body = fetch(url, token=TOKEN)
    eq(status, 200, "status of a scrape")
    return int(sample(body, "flowprof_metrics_collections_total"))


def measured_flood(t, min_interval, n, threads, tok):
    """A serve with this --min-interval, flooded: (CPU s, elapsed s, statuses,
    collections during the flood, its idle CPU per s, the serve)."""
    serve, url = start_serve(t, "--token-file", tok, "--min-interval", str(min_interval))
    port = int(url.split(":")[2].split("/")[0])
    wait = 1.05  # past the interval (the reading after the flood counts itself) or not
    before = collections(url, 0)
    c0, t0 = cpu_seconds(serve.pid), time.monotonic()
    time.sleep(2.0)
    idle = (cpu_seconds(serve.pid) - c0) / (time.monotonic() - t0)
    c0 = cpu_seconds(serve.pid)
    elapsed, statuses = flood(port, n, threads, TOKEN)
    cpu = cpu_seconds(serve.pid) - c0
    after = collections(url, wait) - (1 if wait > min_interval else 0)
    return cpu, elapsed, statuses, after - before, idle, serve, url


@test
def a_flood_of_requests_costs_one_reading_per_interval():
    viewslib.need_flowprof()
    t = viewslib.Target().start()
    tok = token_file(t.dir)
    eq(t.ask("loop")[0], "looping", "loop")  # the maps change all the time
    n, threads, interval = 2000, 8, 0.5
    tick = 1.0 / TICK
    # What this host pays for one request that reads the maps (--min-interval
    # 0: every request does), and for one answered from the last reading
    # (an interval longer than the test: none but the first).
    full_cpu, full_el, _, full_n, full_idle, s, _ = measured_flood(t, 0, n, threads, tok)
    s.kill()
    cached_cpu, cached_el, _, cached_n, cached_idle, s, _ = measured_flood(t, 3600, n, threads,
                                                                            tok)
    s.kill()
    eq(cached_n, 0, "readings of the maps with --min-interval 3600")
    per_reading = (full_cpu - full_idle * full_el) / full_n
    per_cached = max(0.0, cached_cpu - cached_idle * cached_el) / n
    # The one under test: the default interval, flooded the same way.
    cpu, elapsed, statuses, readings, idle, serve, url = measured_flood(t, interval, n, threads,
                                                                        tok)
    print("# per request: %.3f ms reading the maps (%d readings), %.3f ms from the cache; "
          "flood: %d requests in %.2f s, %d readings, %.3f s CPU (idle %.4f CPU/s)"
          % (per_reading * 1e3, full_n, per_cached * 1e3, len(statuses), elapsed, readings, cpu,
             idle), flush=True)
    ok = statuses.count(200)
    assert ok >= n * 0.9, "answered %d of %d (statuses %s)" % (ok, n, sorted(set(statuses)))
    allowed = elapsed / interval + 1
    assert readings <= allowed, "%d readings of the maps in %.2f s of flood: at most %.1f" \
        % (readings, elapsed, allowed)
    # CPU: its idle work, the readings the interval allows, and serving each
    # request from the cache twice as dear as measured (a shared host's
    # noise), plus a clock tick of /proc's resolution on each of the readings.
    bound = idle * elapsed + allowed * per_reading + ok * 2 * per_cached + 4 * tick
    print("# CPU bound %.3f s; reading the maps per request would cost %.3f s"
          % (bound, ok * per_reading), flush=True)
    assert cpu <= bound, "flowprof used %.3f s of CPU for the flood, bound %.3f s" % (cpu, bound)
    # And the bound tells a flowprof that reads the maps per request apart.
    assert ok * per_reading > bound, \
        "this host cannot tell: %d readings cost %.3f s, the bound is %.3f s" \
        % (ok, ok * per_reading, bound)
    # Requests without the token are turned away before anything is read.
    before = collections(url, interval)
    _, statuses = flood(int(url.split(":")[2].split("/")[0]), 400, threads, None)
    eq(set(statuses) - {0}, {401}, "statuses without the token")
    eq(collections(url, interval) - before - 1, 0, "readings for requests without the token")
    t.ask("stop")
    serve.send_signal(signal.SIGTERM)
    eq(serve.wait(timeout=30), 0, "exit status of serve")


if __name__ == "__main__":
    fptest.main()
