"""Child processes, and what /proc and bpftool say of a process: its CPU
time, its memory, the BPF maps and programs it holds open, a CPU's busy
time."""
import json
import os
import re
import subprocess
import sys
import threading
import time

from .common import GNU_TIME, ROOT, BenchError

sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import fptest  # noqa: E402  the tests' helpers


class Proc:
    """A child process whose stdout/stderr lines are collected by threads,
    each with the time it arrived (time.monotonic()); .t0 is the time just
    before the exec.

    peak_file: run it under GNU time, which writes the process's lifetime
    peak RSS (KiB) there; .pid is then the process itself (time's child),
    .peak_kib its peak once finished. cpus: the CPUs it may run on."""

    def __init__(self, args, stdin=subprocess.DEVNULL, name=None, peak_file=None, cpus=None):
        self.name = name or os.path.basename(args[0])
        self.args = args
        self.peak_file = peak_file
        self.peak_kib = None
        self._pid = None
        if peak_file:
            args = [GNU_TIME, "-f", "%M", "-o", peak_file] + args
        pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.lines = {"out": [], "err": []}
        self.times = {"out": [], "err": []}
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1, preexec_fn=pre)
        self.cv = threading.Condition()
        self.eof = {"out": False, "err": False}
        self.status = None
        self.rusage = None
        self.threads = [threading.Thread(target=self._read, args=(k, f), daemon=True)
                        for k, f in (("out", self.p.stdout), ("err", self.p.stderr))]
        for t in self.threads:
            t.start()

    @property
    def pid(self):
        if not self.peak_file:
            return self.p.pid
        # time's only child: there once time has forked
        deadline = time.monotonic() + 10
        while self._pid is None:
            try:
                with open("/proc/%d/task/%d/children" % (self.p.pid, self.p.pid)) as f:
                    kids = f.read().split()
                if kids:
                    self._pid = int(kids[0])
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("%s: GNU time started no process" % self.name)
            time.sleep(0.001)
        return self._pid

    def _read(self, key, f):
        for line in f:
            now = time.monotonic()
            with self.cv:
                self.lines[key].append(line.rstrip("\n"))
                self.times[key].append(now)
                self.cv.notify_all()
        with self.cv:
            self.eof[key] = True
            self.cv.notify_all()

    def wait_line(self, pattern, stream="out", timeout=30.0, start=0):
        """First line (from index start) matching pattern: (match, index);
        raises on exit or timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines[stream])):
                    m = rx.search(self.lines[stream][i])
                    if m:
                        return m, i
                if self.eof[stream]:
                    raise BenchError("%s exited before printing /%s/:\n%s"
                                     % (self.name, pattern, self.text()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError("%s: no /%s/ within %.0f s:\n%s"
                                     % (self.name, pattern, timeout, self.text()))
                self.cv.wait(left)

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def text(self):
        with self.cv:
            return "\n".join(["stdout:"] + self.lines["out"][-20:]
                             + ["stderr:"] + self.lines["err"][-20:])

    def finish(self, sig=None, timeout=120.0):
        """Signals (optionally), reaps, returns the exit status; reads the peak under GNU time."""
        if self.status is not None:
            return self.status
        if sig is not None and self.p.poll() is None:
            if self.peak_file:
                os.kill(self.pid, sig)  # time itself ignores SIGINT and dies of SIGTERM
            else:
                self.p.send_signal(sig)
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.p.kill()
                pid, status, ru = os.wait4(self.p.pid, 0)
                break
            time.sleep(0.01)
        self.status = os.waitstatus_to_exitcode(status)
        self.p.returncode = self.status
        self.rusage = ru
        for t in self.threads:
            t.join(5)
        if self.peak_file:
            try:
                with open(self.peak_file) as f:
                    # the last line: GNU time puts "Command exited with
                    # non-zero status N" before the format's
                    self.peak_kib = int(f.read().split()[-1])
            except (OSError, ValueError, IndexError):
                self.peak_kib = None
        return self.status


def proc_cpu_ns(pid):
    """(utime+stime in ns from /proc/PID/stat, run time in ns summed over
    /proc/PID/task/*/schedstat): the first is what `ps` uses, the second is exact."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    stat_ns = (int(fields[11]) + int(fields[12])) * 1e9 / tick
    return stat_ns, fptest.threads_cpu_ns(pid)


def tree_cpu_s(pid):
    """CPU seconds of pid and of every descendant so far, the reaped ones
    included (in their parents' cutime and cstime)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            continue  # gone meanwhile
        total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def bpf_fdinfo(pid, kind):
    """The fdinfo ({field: text}) of each BPF object of a kind ("map",
    "prog") that pid holds open: exact, whatever else runs on the host."""
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != "anon_inode:bpf-" + kind:
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        yield info


def bpftool_names(kind, ids):
    """{id: name} of the BPF objects of a kind ("map", "prog") among ids that
    `bpftool -j KIND show` names."""
    r = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                       timeout=60)
    names = {}
    if r.returncode == 0:
        for x in json.loads(r.stdout or "[]"):
            if x.get("id") in ids and "name" in x:
                names[x["id"]] = x["name"]
    return names


def bpf_maps_of(pid):
    """The BPF maps pid holds open: memlock and id from fdinfo, names from bpftool."""
    maps = {}
    for info in bpf_fdinfo(pid, "map"):
        mid = int(info["map_id"])
        maps[mid] = {"id": mid, "bytes_memlock": int(info["memlock"]),
                     "max_entries": int(info["max_entries"]), "name": "map_%d" % mid}
    for mid, name in bpftool_names("map", set(maps)).items():
        maps[mid]["name"] = name
    return list(maps.values())


def prog_stats(pid):
    """{prog_id: (run_time_ns, run_cnt)} of the BPF programs pid holds open."""
    return {int(info["prog_id"]): (int(info.get("run_time_ns", 0)), int(info.get("run_cnt", 0)))
            for info in bpf_fdinfo(pid, "prog")}
