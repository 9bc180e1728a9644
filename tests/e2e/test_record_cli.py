#!/usr/bin/env python3
"""`flowprof record` as a user drives it, against real targets.

- `-p PID,PID`: exactly the listed processes, each counted on its own; an
  unlisted process of the same executable is not recorded, and a note names
  it; the recording
  ends when every listed process has exited;
- `-- CMD ARGS`: attached before the command runs (its first calls counted),
  its output passed through unchanged, the recording ends with it;
- `-d SECONDS` ends the recording on time, the target keeps running;
- `-i`: in-flight calls sampled;
- SIGINT / SIGTERM mid-recording: the snapshot so far, exit 130 / 143, and
  the target answers on as if nothing happened;
- the snapshot is written atomically, mode 0600, even under umask 0;
- on a terminal, with 50+ probe points (and USDT ones attached apart), the
  "attaching N/N probe points..." line reaches N/N and is erased before the
  next message;
- `-- CMD` that cannot be started (not found: 127, not executable: 126)
  fails without a snapshot; one that exits non-zero or dies of a signal still
  gets its snapshot, the closing line says how it ended and flowprof exits
  with its status (128+N for signal N);
- command-line errors: no flow file, a pid that does not exist.
"""
import json
import math
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402
import test_core as core  # noqa: E402

P = "nested."
SMALL = ["-k", "2", "-x", "1", "-v", "10", "-c", "50", "-s", "50", "-b", "50"]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@test
def pid_list_records_only_those():
    core.need("nested")
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    runs = {"a": 30, "b": 50, "c": 70}
    t = {k: core.Target("nested", "-r", str(r), *SMALL, *(["-l"] if k == "c" else []))
         for k, r in runs.items()}
    rec = core.Recorder(core.flowfile("nested"), "-p", "%d,%d" % (t["a"].pid, t["b"].pid),
                        out=out, umask=0)
    rec.wait_recording()
    for k in ("c", "a", "b"):
        t[k].release()
    rep = {k: t[k].finish() for k in ("a", "b")}
    rep["c"] = t["c"].report()
    rc, _, err = rec.finish(timeout=30)
    fptest.eq(rc, 0, "flowprof exit status once a and b exited (stderr:\n%s)" % err)
    fptest.eq(t["c"].p.poll(), None, "the unlisted process still runs")
    t["c"].finish()
    # said before the recording starts: a server's master named alone
    # leaves out the workers that handle its requests
    left = [ln for ln in err.splitlines() if "-p leaves out" in ln]
    fptest.eq(len(left), 1, "one note on the unlisted process (stderr:\n%s)" % err)
    if ("1 other process that runs it (pid %d)" % t["c"].pid) not in left[0]:
        raise AssertionError("the note does not name pid %d: %r" % (t["c"].pid, left[0]))

    fptest.eq(mode_of(out), 0o600, "snapshot file mode under umask 0")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    for name in rep["a"]["handlers"]:
        want = {t[k].pid: rep[k]["handlers"][name]["calls"] for k in ("a", "b")}
        got = {i["pid"]: i["calls"] for i in hs[P + name]["instances"]}
        fptest.eq(got, want, P + name + " calls per process (c is not listed)")
        fptest.eq(hs[P + name]["calls"], sum(want.values()), P + name + " calls")
        fptest.eq(hs[P + name]["incomplete"], 0, P + name + " incomplete")
    fptest.eq(fptest.flow(snap, "request")["invocations"], runs["a"] + runs["b"],
              "request invocations")
    fptest.eq([(b["name"], sorted(b["pids"]), b["threads"]) for b in snap["bundles"]],
              [("nested", sorted([t["a"].pid, t["b"].pid]), 2)], "bundles (name, pids, threads)")
    core.check_counters_zero(snap)


@test
def command_mode_starts_attached():
    """`-- CMD`: the command's very first calls are counted (it runs only once
    every probe is attached), its stdout comes through byte for byte."""
    core.need("nested")
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    rc, stdout, stderr = core.run_record(core.flowfile("nested"), "-o", out, "--",
                                         core.target_path("nested"), "-r", "50", *SMALL)
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % stderr)
    lines = stdout.splitlines(keepends=True)
    fptest.eq(len(lines), 1, "stdout lines (only the command's report): %r" % stdout)
    rep = core.parse_report(stdout, "nested")
    fptest.eq(stdout, lines[0], "stdout")
    if not any(ln.startswith("flowprof: recording") for ln in stderr.splitlines()):
        raise AssertionError("no 'flowprof: recording' line on stderr:\n" + stderr)
    snap = fptest.load_json(out)
    core.check_counts(snap, rep, P)
    fptest.eq([(b["name"], b["pids"], b["threads"]) for b in snap["bundles"]],
              [("nested", [rep["pid"]], 1)], "bundles (name, pids, threads)")
    fptest.eq(mode_of(out), 0o600, "snapshot file mode")
    core.check_counters_zero(snap)


class Echo:
    """tests/targets/echo: one answer line per line sent."""

    def __init__(self):
        self.t = core.Target("echo", "-c", "100", wait=False)
        self.sent = 0

    def ask(self, n, text="hello"):
        for _ in range(n):
            self.t.p.stdin.write((text + "\n").encode())
            self.t.p.stdin.flush()
            self.sent += 1
            fptest.eq(self.t.out.line(30), "ok %d %d" % (self.sent, len(text)), "echo's answer")

    def finish(self):
        rep = self.t.finish()
        fptest.eq(rep["handlers"]["serve"]["calls"], self.sent, "echo's own serve count")
        return rep


@test
def duration_stops_on_time():
    core.need("echo")
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    echo = Echo()
    echo.ask(3)  # before the recording: not counted
    rec = core.Recorder(core.flowfile("echo"), "-p", str(echo.t.pid), "-d", "1", out=out)
    rec.wait_recording()
    echo.ask(10)
    rc, _, err = rec.finish(timeout=30)
    elapsed = time.time() - rec.recording_at
    fptest.eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    if not 0.9 <= elapsed <= 5:
        raise AssertionError("-d 1: flowprof ran %.2f s after 'recording'" % elapsed)
    snap = fptest.load_json(out)
    fptest.near(snap["duration_s"], 1.0, 0.1, "duration_s")
    hs = core.handlers(snap)
    fptest.eq((hs["echo.serve"]["calls"], hs["echo.work_cpu"]["calls"]), (10, 10),
              "serve and work_cpu calls during the recording")
    fptest.eq(core.edges(snap), {("echo.serve", "echo.work_cpu"): 10}, "edges")
    echo.ask(5)  # after: the target is unharmed
    echo.finish()


def stop_with(sig, want_rc):
    core.need("echo")
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    echo = Echo()
    rec = core.Recorder(core.flowfile("echo"), "-p", str(echo.t.pid), out=out)
    rec.wait_recording()
    echo.ask(20)
    rec.signal(sig)
    rc, _, err = rec.finish(timeout=30)
    fptest.eq(rc, want_rc, "flowprof exit status after %s (stderr:\n%s)"
              % (signal.Signals(sig).name, err))
    fptest.eq(sorted(os.listdir(d)), ["snap.json"], "files in the output directory")
    fptest.eq(mode_of(out), 0o600, "snapshot file mode")
    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq((hs["echo.serve"]["calls"], hs["echo.serve"]["incomplete"]), (20, 0),
              "serve (calls, incomplete)")
    fptest.eq(hs["echo.work_cpu"]["calls"], 20, "work_cpu calls")
    fptest.eq(fptest.flow(snap, "line")["visits"], {"echo.work_cpu": 1.0}, "line visits")
    core.check_counters_zero(snap)
    echo.ask(7, "still here")
    echo.finish()


@test
def sigint_writes_snapshot_target_unharmed():
    stop_with(signal.SIGINT, 130)


@test
def sigterm_writes_snapshot_target_unharmed():
    stop_with(signal.SIGTERM, 143)


@test
def interval_samples_inflight():
    """-i 0.01: the mean number of calls in flight, sampled, agrees with
    Little's law over the window: the handler's total time / the duration
    (nested is inside req nearly all the time, in work_sleep about a third).
    Each handler is in flight 0 or 1 times at a sample, a fraction p of
    them: the mean of n samples spreads by sqrt(p (1 - p) / n). Samples
    10 ms apart are not independent of a scheduler's 3 ms slices (here they
    spread up to 2.5 of those, idle and beside a CPU hog): 5 of them."""
    core.need("nested")
    interval = 0.01
    snap, rep, _ = core.record_target("nested", "nested",
                                      ["-r", "2000", "-x", "0", "-v", "0", "-c", "200",
                                       "-s", "300", "-b", "0"], "-i", str(interval))
    hs = core.handlers(snap)
    core.check_counts(snap, rep, P)
    window_ns = snap["duration_s"] * 1e9
    n = snap["duration_s"] / interval
    for name in ("req", "work_cpu", "work_sleep"):
        h = hs[P + name]
        p = min(1.0, h["total_ns"] / window_ns)
        spread = math.sqrt(p * (1 - p) / n)
        fptest.diag("%s: %.3f in flight sampled, %.3f by Little's law; %.0f samples, "
                    "spread %.3f" % (name, h["inflight_mean"], p, n, spread))
        fptest.near(h["inflight_mean"], p, 0,
                    P + name + " inflight_mean against total_ns / duration",
                    abs_tol=5 * spread + 1 / n)


@test
def short_window_is_flagged_not_modelled_from_cpu_time():
    """-d 0.05: the processes' CPU time is read just before the window opens
    and after it closes, a few ms each: over 50 ms that is not the window's
    (a window cut short by Ctrl-C at 0.8 ms read 11 CPUs busy on one). The
    report says so (short-window) and the CPU station holds the handlers'
    own time on a CPU: at most the CPUs the target has, busy."""
    core.need("nested")
    t = core.Target("nested", "-r", "100000", "-x", "0", "-v", "0", "-c", "200", "-s", "300",
                    "-b", "0")
    try:
        t.release()
        d = fptest.tmpdir()
        snap = os.path.join(d, "snap.json")
        fptest.flowprof("record", "-f", core.flowfile("nested"), "-p", str(t.pid), "-d", "0.05",
                        "-o", snap)
        rep = json.loads(fptest.flowprof("report", "--json", snap).stdout)
    finally:
        t.p.kill()
        t.p.wait()
    kinds = [f["kind"] for f in rep["accuracy_flags"]]
    fptest.eq("short-window" in kinds, True, "short-window among the flags %r" % kinds)
    cpu = [st for st in rep["model"]["stations"] if st["kind"] == "cpu"][0]
    if not cpu["utilization_measured"] <= 1.0:
        raise AssertionError("the CPU station %.2f busy over a %.3f s window"
                             % (cpu["utilization_measured"], rep["duration_s"]))


MANY = 60  # functions of the generated target: more than the 50 that show progress


def many_functions_target(d):
    """A C program with MANY handler functions work_NN and one USDT pair
    (gen:req__start / gen:req__done) around each round, built here.
    Prints "ready PID", runs ROUNDS rounds at a line on stdin, prints
    "done ROUNDS" and exits at the next line."""
    src = ["#include <stdio.h>", "#include <stdlib.h>", "#include <unistd.h>",
           "#include <sys/sdt.h>", "static volatile unsigned long sink;"]
    for i in range(MANY):
        src.append("__attribute__((noinline)) void work_%02d(int i) "
                   "{ sink += (unsigned long)i * %d; }" % (i, i + 1))
    src.append("int main(int argc, char **argv) {")
    src.append("\tint rounds = argc > 1 ? atoi(argv[1]) : 1; char line[16];")
    src.append('\tprintf("ready %d\\n", (int)getpid()); fflush(stdout);')
    src.append("\tif (!fgets(line, sizeof(line), stdin)) return 1;")
    src.append("\tfor (int r = 0; r < rounds; r++) {")
    src.append("\t\tDTRACE_PROBE1(gen, req__start, r);")
    src.extend("\t\twork_%02d(r);" % i for i in range(MANY))
    src.append("\t\tDTRACE_PROBE1(gen, req__done, r);")
    src.append("\t}")
    src.append('\tprintf("done %d\\n", rounds); fflush(stdout);')
    src.append("\treturn fgets(line, sizeof(line), stdin) ? 0 : 1;")
    src.append("}")
    c = fptest.write(os.path.join(d, "many.c"), "\n".join(src) + "\n")
    exe = os.path.join(d, "many")
    r = subprocess.run(["cc", "-O1", "-g", "-Wall", "-Werror", "-fno-inline", c, "-o", exe],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("cc %s failed:\n%s" % (c, r.stderr))
    return exe


def terminal_lines(raw):
    """The lines a terminal shows for RAW: \\r returns to the line's start,
    ESC [ K erases to its end, text overwrites."""
    lines, cur, col = [], [], 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if raw.startswith("\033[K", i):
            del cur[col:]
            i += 3
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(cur))
            cur, col = [], 0
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
        i += 1
    if cur:
        lines.append("".join(cur))
    return lines


@test
def progress_line_on_a_terminal_is_erased():
    """record on a terminal with MANY function probe points plus a USDT pair
    (attached after the function probes, outside the counted loop): the
    progress line counts up to N/N and is erased ("\\r ESC[K") before the
    next message, so no message starts on the line the progress text was
    on; the counts stay exact."""
    core.need()
    d = fptest.tmpdir()
    exe = many_functions_target(d)
    rounds = 10
    t = fptest.start([exe, str(rounds)], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(t).split()[1])
    flows = fptest.write(os.path.join(d, "many.yaml"), """\
bundles:
  gen:
    pid: [%d]
    handlers:
      req: { usdt: "gen:req__start", return: "gen:req__done" }
      work: "work_*"
flows:
  request:
    entry: gen.req
    calls:
      - gen.req -> gen.work
""" % pid)
    out = os.path.join(d, "snap.json")
    master, slave = pty.openpty()
    rec = subprocess.Popen([fptest.FLOWPROF, "record", "-f", flows, "-p", str(pid), "-o", out],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    fptest._procs.append(rec)
    os.close(slave)
    raw = b""

    def read_pty(until, timeout):
        nonlocal raw
        end = time.time() + timeout
        while not until() and time.time() < end:
            r, _, _ = select.select([master], [], [], max(0.0, end - time.time()))
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: flowprof closed the terminal
                break
            if not chunk:
                break
            raw += chunk

    try:
        read_pty(lambda: b"flowprof: recording " in raw, 60)
        if b"flowprof: recording " not in raw:
            rec.kill()
            raise AssertionError("flowprof did not start recording; its terminal:\n%r" % raw)
        t.stdin.write(b"go\n")
        t.stdin.flush()
        fptest.eq(fptest.read_line(t, 30).strip(), "done %d" % rounds, "the target")
        t.stdin.write(b"quit\n")
        t.stdin.flush()
        fptest.eq(t.wait(timeout=30), 0, "target exit status")
        read_pty(lambda: rec.poll() is not None and b"flowprof: wrote " in raw, 60)
        rec.wait(timeout=30)
        read_pty(lambda: False, 0.2)
    finally:
        os.close(master)
    text = raw.decode(errors="replace")
    fptest.eq(rec.returncode, 0, "flowprof exit status once the target exited; terminal:\n%r"
              % text)

    shown = re.findall(r"\rflowprof: attaching (\d+)/(\d+) probe points\.\.\.", text)
    if not shown:
        raise AssertionError("no progress line on the terminal:\n%r" % text)
    total = int(shown[-1][1])
    if total < MANY:
        raise AssertionError("progress total %d: fewer than the %d work_* sites" % (total, MANY))
    fptest.eq({int(b) for _, b in shown}, {total}, "progress totals")
    fptest.eq(int(shown[-1][0]), total, "the last progress count (%r)" % text)
    last = "\rflowprof: attaching %d/%d probe points..." % (total, total)
    at = text.rfind(last) + len(last)
    fptest.eq(text[at:at + 4], "\r\033[K", "what follows the last progress text (%r)" % text)
    lines = terminal_lines(text)
    for ln in lines:
        if "attaching" in ln or not ln.startswith("flowprof: ") or ln.count("flowprof: ") != 1:
            raise AssertionError("terminal line %r: a message on the progress line or run "
                                 "together; all lines:\n%s" % (ln, "\n".join(lines)))
    if not any(ln.startswith("flowprof: recording ") for ln in lines):
        raise AssertionError("no 'flowprof: recording' line:\n" + "\n".join(lines))

    snap = fptest.load_json(out)
    hs = core.handlers(snap)
    fptest.eq(len(hs["gen.work"]["symbol"].split(",")), MANY, "work_* symbols")
    fptest.eq({h: hs[h]["calls"] for h in hs}, {"gen.req": rounds, "gen.work": MANY * rounds},
              "calls")
    core.check_counters_zero(snap)


PUPPET_FLOWS = """\
bundles:
  app:
    exe: %s
    handlers:
      request: request
      work: work
"""


def puppet_flows(d):
    exe = core.target_path("puppet")
    return exe, fptest.write(os.path.join(d, "flows.yaml"), PUPPET_FLOWS % exe)


@test
def command_that_cannot_start_fails():
    """record -- CMD where CMD is not found (127) or cannot be run (126), as
    shells exit: one error line, no snapshot. Found missing before attaching
    (nothing else on stderr), or, for a script whose #! interpreter is
    missing, when the exec fails once attached."""
    core.need("puppet")
    d = fptest.tmpdir()
    _, flows = puppet_flows(d)
    out = os.path.join(d, "snap.json")
    plain = fptest.write(os.path.join(d, "plain.txt"), "not a program\n")
    os.chmod(plain, 0o644)
    script = fptest.write(os.path.join(d, "script"), "#!%s/no-interpreter\n" % d)
    os.chmod(script, 0o755)
    cases = [("/nonexistent/cmd", 127, "No such file or directory", True),
             ("flowprof-no-such-command", 127, "command not found in PATH", True),
             (plain, 126, "Permission denied", True),
             (d, 126, "Permission denied", True),
             (script, 127, "its #! interpreter or ELF loader: No such file or directory",
              False)]
    for cmd, status, why, early in cases:
        r = fptest.flowprof("record", "-f", flows, "-o", out, "--", cmd, "arg", check=False,
                            timeout=30)
        lines = r.stderr.splitlines()
        fptest.eq(lines[-1:], ["flowprof: error: cannot run %s: %s" % (cmd, why)],
                  "last stderr line for %s" % cmd)
        if early:
            fptest.eq(len(lines), 1, "stderr lines (before attaching) for %s:\n%s"
                      % (cmd, r.stderr))
        fptest.eq(r.returncode, status, "exit status for %s" % cmd)
        fptest.eq(os.path.exists(out), False, "snapshot written for %s" % cmd)


@test
def command_exit_status_passed_through():
    """The command exits 3, or dies of SIGABRT, or exits 0: the snapshot is
    written each time (its calls counted), the closing line says how the
    command ended, and flowprof exits with the command's status (134 =
    128 + SIGABRT). Without -o the report is printed and a line says it."""
    core.need("puppet")
    d = fptest.tmpdir()
    exe, flows = puppet_flows(d)
    for script, status, how in (("run 5\nexit-in-call\n", 3, "exited with status 3"),
                                ("run 5\nabort\n", 134, "was killed by signal 6 (SIGABRT)"),
                                ("run 5\nquit\n", 0, None)):
        out = os.path.join(d, "snap-%d.json" % status)
        r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, "--", exe],
                           input=script, capture_output=True, text=True, timeout=60)
        fptest.eq(r.returncode, status, "exit status\n" + r.stderr)
        last = r.stderr.splitlines()[-1]
        if not last.startswith("flowprof: wrote %s: 2 handlers, 10 calls in " % out):
            raise AssertionError("closing line: %r" % last)
        fptest.eq(last.endswith("; %s %s" % (exe, how)) if how else last.endswith("ms)"), True,
                  "how the closing line ends: %r" % last)
        fptest.eq(fptest.handler(fptest.load_json(out), "app.request")["calls"], 5,
                  "request calls in the snapshot")
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "--", exe],
                       input="run 5\nexit-in-call\n", capture_output=True, text=True, timeout=60)
    fptest.eq(r.returncode, 3, "exit status without -o\n" + r.stderr)
    fptest.eq(r.stderr.splitlines()[-1], "flowprof: %s exited with status 3" % exe,
              "last stderr line without -o")
    if not re.search(r"^app\.request +5 ", r.stdout, re.M):
        raise AssertionError("no report with app.request's 5 calls:\n" + r.stdout)


@test
def missing_flow_file_is_usage_error():
    core.need()
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    r = fptest.flowprof("record", "-p", str(os.getpid()), "-o", out, check=False, timeout=30)
    fptest.eq(r.stderr.splitlines()[:1], ["flowprof record: no flow file: use -f FILE"],
              "first stderr line")
    fptest.eq(r.returncode, 2, "exit status (EXIT_USAGE, user/commands.h)")
    fptest.eq(os.listdir(d), [], "files written")


@test
def nonexistent_pid_is_error():
    core.need()
    d = fptest.tmpdir()
    out = os.path.join(d, "snap.json")
    pid = next(p for p in range(4194303, 0, -1) if not os.path.exists("/proc/%d" % p))
    r = fptest.flowprof("record", "-f", core.flowfile("nested"), "-p", str(pid), "-o", out,
                        check=False, timeout=30)
    fptest.eq(r.stderr.splitlines()[:1], ["flowprof: error: -p %d: no such process" % pid],
              "first stderr line")
    fptest.eq(r.returncode, 1, "exit status")
    fptest.eq(os.listdir(d), [], "files written")


if __name__ == "__main__":
    fptest.main()
