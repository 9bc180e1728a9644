"""A real Prometheus for the tests: Debian's prometheus binary, started on a
free loopback port with a config and a data directory of its own, scraping
the jobs a test gives it, and queried through its HTTP API.

    prom = promserver.Prometheus(d, [promserver.job("flowprof", ["127.0.0.1:9464"])])
    prom.wait_up("flowprof", 1)
    prom.value('flowprof_handler_calls_total{handler="shop.checkout"}')

A job may scrape over TLS (ca_file: the server's self-signed certificate)
with a bearer token (credentials_file), as a production scrape job would.
The process is killed when the suite's test ends (fptest.start).
"""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import fptest

PROMETHEUS = "/usr/bin/prometheus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def job(name, targets, scheme="http", ca_file=None, token_file=None, interval="1s"):
    """One scrape job, as a dict promserver.Prometheus writes into its config."""
    return {"name": name, "targets": targets, "scheme": scheme, "ca_file": ca_file,
            "token_file": token_file, "interval": interval}


def _quote(s):
    return "'" + s.replace("'", "''") + "'"  # a YAML single-quoted scalar


def config_text(jobs):
    lines = ["global:", "  scrape_interval: 1s", "  evaluation_interval: 1s",
             "scrape_configs:"]
    for j in jobs:
        lines += ["  - job_name: %s" % _quote(j["name"]),
                  "    scrape_interval: %s" % j["interval"],
                  "    scrape_timeout: %s" % j["interval"],
                  "    scheme: %s" % j["scheme"]]
        if j["ca_file"]:
            lines += ["    tls_config:", "      ca_file: %s" % _quote(j["ca_file"])]
        if j["token_file"]:
            lines += ["    authorization:", "      type: Bearer",
                      "      credentials_file: %s" % _quote(j["token_file"])]
        lines += ["    static_configs:",
                  "      - targets: [%s]" % ", ".join(_quote(t) for t in j["targets"])]
    return "\n".join(lines) + "\n"


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class Prometheus:
    def __init__(self, d, jobs):
        if not os.access(PROMETHEUS, os.X_OK):
            raise AssertionError("%s is missing: install Debian's prometheus "
                                 "(scripts/install-deps.sh test)" % PROMETHEUS)
        self.dir = d
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        cfg = fptest.write(os.path.join(d, "prometheus.yml"), config_text(jobs))
        self.log = open(os.path.join(d, "prometheus.log"), "w")
        self.proc = fptest.start([PROMETHEUS, "--config.file=" + cfg,
                                  "--storage.tsdb.path=" + os.path.join(d, "tsdb"),
                                  "--web.listen-address=127.0.0.1:%d" % self.port],
                                 stdout=subprocess.DEVNULL, stderr=self.log)
        fptest.wait_for(self.ready, timeout=30, what="prometheus to start")

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("prometheus exited with %s; its log:\n%s"
                                 % (self.proc.returncode, open(self.log.name).read()[-3000:]))
        try:
            return get(self.base + "/-/ready")[0] == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = self.base + path + "?" + urllib.parse.urlencode(params)
        try:
            doc = json.loads(get(url)[1])
        except urllib.error.HTTPError as e:
            doc = json.loads(e.read().decode())
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, q, at=None):
        """Instant query: [(labels, value)] of the result vector."""
        params = {"query": q}
        if at is not None:
            params["time"] = "%.3f" % at
        return [(r["metric"], float(r["value"][1])) for r in self.api("/api/v1/query", **params)
                ["result"]]

    def value(self, q, at=None):
        r = self.query(q, at)
        return r[0][1] if len(r) == 1 else None

    def wait_value(self, q, want, timeout=20.0):
        """Waits until q gives want; returns the last value seen."""
        end = time.time() + timeout
        got = None
        while time.time() < end:
            got = self.value(q)
            if got == want:
                return got
            time.sleep(0.25)
        return got

    def targets(self, job_name):
        """The job's active targets: [{"health", "lastError", "scrapeUrl", ...}]."""
        return [t for t in self.api("/api/v1/targets")["activeTargets"]
                if t["labels"].get("job") == job_name]

    def wait_up(self, job_name, n, timeout=30.0):
        """Waits until n targets of the job were scraped successfully."""
        fptest.wait_for(lambda: len([t for t in self.targets(job_name)
                                     if t["health"] == "up"]) >= n,
                        timeout=timeout, what="%d target(s) of job %s up" % (n, job_name))

    def wait_scrapes(self, job_name, after, timeout=30.0):
        """Waits until every target of the job was scraped after Unix time `after`."""
        def done():
            ts = self.targets(job_name)
            return ts and all(_rfc3339(t["lastScrape"]) > after for t in ts)
        fptest.wait_for(done, timeout=timeout, what="a scrape of job %s" % job_name)


def _rfc3339(s):
    """Prometheus's lastScrape ("2026-11-22T23:41:59.123456789Z", or with an
    offset) as Unix time."""
    import calendar
    import re
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|([+-])(\d\d):(\d\d))$", s)
    assert m, "a time of Prometheus's API: %r" % s
    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    t += float("0" + m.group(2)) if m.group(2) else 0.0
    if m.group(4):
        t -= (1 if m.group(4) == "+" else -1) * (int(m.group(5)) * 3600 + int(m.group(6)) * 60)
    return t
