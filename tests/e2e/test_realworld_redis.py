#!/usr/bin/env python3
"""flowprof on Debian's redis-server, driven by redis-benchmark.

redis-server runs on loopback with a temporary directory and no persistence.
Handlers: processCommand, call, setCommand, getCommand (redis exports them).
Counts are checked against the server's own INFO commandstats (taken before
and after the recording) and against the benchmark's command line:
- setCommand == getCommand == -n;
- processCommand == call == every command executed while recording: the
  benchmark's sets and gets plus its handshake (CONFIG GET save and CONFIG
  GET appendonly, which redis-benchmark sends once at start);
- the flow `command` (entry processCommand) shows setCommand and getCommand
  visit ratios equal to their share of the commands, 0.5 each minus the
  handshake's share.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

REDIS = "/usr/bin/redis-server"
N = 20000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need_redis():
    core.need()
    for tool in (REDIS, "/usr/bin/redis-benchmark", "/usr/bin/redis-cli"):
        if not os.access(tool, os.X_OK):
            raise AssertionError("%s missing: scripts/install-deps.sh installs redis-server "
                              "and redis-tools" % tool)


class Redis:
    def __init__(self, d):
        self.port = free_port()
        self.p = fptest.start([REDIS, "--bind", "127.0.0.1", "--port", str(self.port),
                               "--save", "", "--appendonly", "no", "--dir", d,
                               "--daemonize", "no", "--logfile", os.path.join(d, "redis.log")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        fptest.wait_for(lambda: self.cli("PING", check=False) == "PONG", 10, "redis PING")

    def cli(self, *args, check=True):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode:
            raise AssertionError("redis-cli %s: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    def commandstats(self):
        """{command: calls} from INFO commandstats."""
        out = self.cli("INFO", "commandstats")
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^cmdstat_([\w|]+):calls=(\d+)", out, re.M)}

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(10)


FLOWS = """\
bundles:
  redis:
    exe: {exe}
    handlers:
      processCommand: processCommand
      call: call
      set: setCommand
      get: getCommand
flows:
  command:
    entry: redis.processCommand
    calls:
      - redis.processCommand -> redis.call
      - redis.call -> redis.set
      - redis.call -> redis.get
"""


@test
def redis_benchmark_counts_exact():
    need_redis()
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "redis.yaml"),
                         FLOWS.format(exe=os.path.realpath(REDIS)))
    out = os.path.join(d, "snap.json")
    redis = Redis(d)
    before = redis.commandstats()
    rec = core.Recorder(flows, "-p", str(redis.p.pid), out=out)
    rec.wait_recording()
    bench = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(redis.port),
                            "-t", "set,get", "-n", str(N), "-c", "8", "-q"],
                           capture_output=True, text=True, timeout=300)
    fptest.eq(bench.returncode, 0, "redis-benchmark exit status (%s)" % bench.stderr)
    rec.signal(signal.SIGINT)
    rc, _, err = rec.finish()
    fptest.eq(rc, 130, "flowprof exit status after SIGINT (stderr:\n%s)" % err)
    after = redis.commandstats()
    redis.stop()

    # What redis executed during the benchmark (the first INFO is counted
    # once it has run: it belongs to `before`'s side of the recording).
    delta = {c: after.get(c, 0) - before.get(c, 0) for c in after}
    delta["info"] -= 1
    delta = {c: n for c, n in delta.items() if n}
    fptest.eq(delta.get("set"), N, "redis's own count of SET")
    fptest.eq(delta.get("get"), N, "redis's own count of GET")
    handshake = {c: n for c, n in delta.items() if c not in ("set", "get")}
    fptest.eq(handshake, {"config|get": 2}, "redis-benchmark's handshake commands")
    total = sum(delta.values())

    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq(hs["redis.set"]["calls"], N, "setCommand calls")
    fptest.eq(hs["redis.get"]["calls"], N, "getCommand calls")
    fptest.eq(hs["redis.processCommand"]["calls"], total, "processCommand calls")
    fptest.eq(hs["redis.call"]["calls"], total, "call calls")
    for h in hs.values():
        fptest.eq(h["incomplete"], 0, h["id"] + " incomplete")
        fptest.eq([(i["pid"], i["calls"]) for i in h["instances"]],
                  [(redis.p.pid, h["calls"])], h["id"] + " instances")
    cmd = fptest.flow(snap, "command")
    fptest.eq(cmd["invocations"], total, "command invocations")
    fptest.near(cmd["visits"]["redis.set"], N / total, 1e-5, "visits of setCommand")
    fptest.near(cmd["visits"]["redis.get"], N / total, 1e-5, "visits of getCommand")
    fptest.near(cmd["visits"]["redis.set"], 0.5, 0.001, "setCommand share of the mix")
    fptest.eq(cmd["visits"]["redis.call"], 1.0, "visits of call")
    fptest.eq(fptest.edge(snap, "redis.call", "redis.set"), N, "call -> setCommand")
    fptest.eq(fptest.edge(snap, "redis.processCommand", "redis.call"), total,
              "processCommand -> call")
    fptest.eq([(b["name"], b["pids"]) for b in snap["bundles"]], [("redis", [redis.p.pid])],
              "bundles")
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    fptest.main()
