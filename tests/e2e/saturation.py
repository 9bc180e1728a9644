"""Real servers taken to saturation, for the bench (bench/lib/saturation.py).

A server is pinned to one CPU and its load generator to another (taskset),
so that the server's CPU station is one CPU that nothing else uses. The
server's measured maximum comes from ramping the load generator's clients
until the throughput stops growing; the model is built from one recording at
a low load; and the response time at 50% and 80% of the maximum is measured
with a rate-limited load and compared with the model's prediction.

The load generator's response time includes what no probe sees (the network
round trip, the client, the server's work outside its handlers). That part
is taken as the same at every load: the prediction at a rate is the
response measured at the recording's load, plus what the model says the
handlers' response grows by from that load to the rate.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import time

import fptest

PG_BIN = "/usr/lib/postgresql/15/bin"
REDIS = "/usr/bin/redis-server"


def cpus():
    return os.cpu_count() or 1


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + argv


class Postgres:
    """A PostgreSQL 15 cluster of its own, run as the postgres user, pinned
    to the last CPU, listening on a Unix socket in a temporary directory."""

    def __init__(self, scale=4):
        for tool in ("initdb", "postgres", "pgbench"):
            if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
                raise AssertionError("%s/%s missing: scripts/install-deps.sh installs "
                                     "postgresql" % (PG_BIN, tool))
        if not shutil.which("taskset") or not shutil.which("runuser"):
            raise AssertionError("taskset or runuser missing (util-linux)")
        self.dir = fptest.tmpdir()
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = 5400 + os.getpid() % 500
        self.cpu = cpus() - 1
        self._as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust",
                           "-U", "postgres", "--no-sync", "-E", "UTF8"], timeout=120)
        self.p = fptest.start(["runuser", "-u", "postgres", "--"] + pinned(self.cpu, [
            os.path.join(PG_BIN, "postgres"), "-D", self.data, "-k", self.dir, "-p",
            str(self.port), "-c", "listen_addresses=", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "shared_buffers=64MB",
            "-c", "max_connections=64", "-c", "autovacuum=off"]))
        fptest.wait_for(self._ready, timeout=60, what="postgres to accept connections")
        self.pgbench(["-i", "-s", str(scale), "-q"], timeout=300)
        # the tables' maintenance done now, not during a measured run: pgbench
        # -i vacuums; the checkpointer would write the new tables' pages out
        # on the server's CPU, and autovacuum (off above) analyze them
        self.sql("VACUUM ANALYZE")
        self.sql("CHECKPOINT")
        # the server's own pid (self.p is runuser's)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.postmaster = int(f.readline())

    def sql(self, statement):
        self._as_postgres([os.path.join(PG_BIN, "psql"), "-h", self.dir, "-p", str(self.port),
                           "-U", "postgres", "-X", "-q", "-c", statement], timeout=300)

    def _ready(self):
        return subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", self.dir, "-p",
                               str(self.port)]).returncode == 0

    def _as_postgres(self, argv, timeout=60):
        r = subprocess.run(["runuser", "-u", "postgres", "--"] + argv, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode:
            raise AssertionError("%s failed:\n%s%s" % (" ".join(argv), r.stdout, r.stderr))
        return r

    def pgbench(self, args, timeout=120):
        argv = pinned(0, [os.path.join(PG_BIN, "pgbench"), "-h", self.dir, "-p", str(self.port),
                          "-U", "postgres"] + args + ["postgres"])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            raise AssertionError("pgbench %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def run(self, clients, seconds, rate=None):
        """Select-only transactions: (tps, mean latency in ns)."""
        args = ["-S", "-M", "simple", "-n", "-c", str(clients), "-j", str(min(clients, 4)),
                "-T", str(seconds)]
        if rate:
            args += ["-R", str(int(rate))]
        out = self.pgbench(args, timeout=seconds + 60)
        tps = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))
        lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1)) * 1e6
        return tps, lat

    def backends(self):
        """The postmaster's children (backends and auxiliary processes)."""
        out = subprocess.run(["pgrep", "-P", str(self.postmaster)], capture_output=True,
                             text=True).stdout.split()
        return [int(p) for p in out]

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=30)


class Redis:
    """Debian's redis-server of its own, run as the redis user, pinned to the
    last CPU, listening on a Unix socket in a temporary directory, with no
    persistence. Its load generator is tests/targets/redis_load (SET and GET
    in turn, one request outstanding per connection), pinned to CPU 0."""

    def __init__(self):
        self.load = os.path.join(fptest.TARGETS, "redis_load")
        if not os.access(REDIS, os.X_OK):
            raise AssertionError("%s missing: scripts/install-deps.sh installs redis-server"
                                 % REDIS)
        if not os.access(self.load, os.X_OK):
            raise AssertionError("%s missing: run make" % self.load)
        if not shutil.which("taskset"):
            raise AssertionError("taskset missing (util-linux)")
        self.dir = fptest.tmpdir()
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "redis", "redis")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.cpu = cpus() - 1
        # taskset execs redis-server: self.p.pid is the server's
        self.p = fptest.start(pinned(self.cpu, [
            REDIS, "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
            "--logfile", os.path.join(self.dir, "redis.log")]),
            user="redis", group="redis", extra_groups=[], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        fptest.wait_for(self._pong, timeout=30, what="redis-server to answer PING")
        self.pid = self.p.pid

    def _pong(self):
        if self.p.poll() is not None:
            raise AssertionError("redis-server exited %s (log: %s)"
                                 % (self.p.returncode, os.path.join(self.dir, "redis.log")))
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(self.sock)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def run(self, clients, seconds, rate=None):
        """SET and GET in turn after a second's warm-up: (requests/s, mean
        latency in ns); with a rate, Poisson arrivals (open loop)."""
        argv = pinned(0, [self.load, "-s", self.sock, "-c", str(clients), "-d", str(seconds),
                          "-w", "1"] + (["-r", "%.0f" % rate] if rate else []))
        r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        m = re.search(r"throughput (\S+) mean_ns (\S+)", r.stdout)
        if r.returncode or not m:
            raise AssertionError("redis_load %s failed:\n%s%s"
                                 % (" ".join(argv[3:]), r.stdout, r.stderr))
        return float(m.group(1)), float(m.group(2))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=30)


PG_FLOWS = """\
bundles:
  pg:
    exe: %s/postgres
    handlers:
      query: PortalRun
flows:
  select:
    entry: pg.query
""" % PG_BIN

# processCommand: every command once parsed: its lookup and checks, and call(),
# which runs it and queues the reply
REDIS_FLOWS = """\
bundles:
  redis:
    exe: %s
    handlers:
      command: processCommand
flows:
  command:
    entry: redis.command
""" % os.path.realpath(REDIS)


# A ramp step whose server CPU was at least this busy measured the server's
# own maximum; a higher throughput with the CPU less busy was bounded by the
# load generator or the round trip (PostgreSQL at 1 client: 19.5k/s, 70 %
# busy; at 2: 18.5k/s, 99 %), which the server's model does not describe.
SERVER_FULL = 0.95


def cpu_times(cpu):
    """(busy, total) clock ticks of one CPU so far, from /proc/stat: busy is
    all but idle and iowait, whatever ran there."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                t = [int(x) for x in line.split()[1:]]
                return sum(t) - t[3] - t[4], sum(t)
    raise AssertionError("no cpu%d in /proc/stat" % cpu)


def run_busy(srv, clients, seconds):
    """srv.run(clients, seconds) and how busy the server's CPU was meanwhile:
    (throughput, mean latency, busy share)."""
    b0 = cpu_times(srv.cpu)
    x, lat = srv.run(clients, seconds)
    b1 = cpu_times(srv.cpu)
    return x, lat, (b1[0] - b0[0]) / max(1, b1[1] - b0[1])


def server_maximum(steps):
    """The best of the ramp's steps [(clients, throughput, busy)] where the
    server's CPU was full, else the best of all: (clients, throughput, busy)."""
    full = [p for p in steps if p[2] >= SERVER_FULL]
    return max(full or steps, key=lambda p: p[1])


def ramp(run, start=1, most=32, settle=0.03):
    """Clients doubled until the throughput stops growing (< settle more,
    twice in a row): the measured maximum and every point [(clients, tps)]."""
    points, best, flat, c = [], 0.0, 0, start
    while c <= most:
        tps, _ = run(c)
        points.append((c, tps))
        if tps > best * (1 + settle):
            best, flat = max(best, tps), 0
        else:
            best = max(best, tps)
            flat += 1
            if flat == 2:
                break
        c *= 2
    return best, points


def during(load, what, warmup=1.0):
    """what() while load() runs (started first, in a thread, given warmup to
    settle): (what's result, load's result)."""
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", load()))
    t.start()
    time.sleep(warmup)
    got = what()
    t.join()
    if "r" not in result:
        raise AssertionError("the load failed")
    return got, result["r"]


def record_during(flows, load, seconds=3.0, warmup=1.0, args=()):
    """flowprof records for `seconds` while load() runs (during): (snapshot
    path, load's result). args: more options for `flowprof record` (-p PID)."""
    snap = os.path.join(fptest.tmpdir(), "snap.json")
    _, got = during(load, lambda: fptest.flowprof("record", "-f", flows, "-d", str(seconds),
                                                  "-o", snap, *args, timeout=120), warmup)
    return snap, got


def model(snap, *opts):
    return json.loads(fptest.flowprof("report", "--json", snap, *opts).stdout)["model"]


def flow(m, name):
    for f in m["flows"]:
        if f["name"] == name:
            return f
    raise AssertionError("no flow %s" % name)
