#!/usr/bin/env python3
"""Bad input (issue 7): every case ends in one clear message and a non-zero exit
status, never a crash, and touches no process.

- record without the capabilities (as nobody);
- a pid that does not exist, a binary that is not ELF, an absent symbol or
  library, a binary for another architecture;
- a bad command line (exit status 2, user/commands.h);
- snapshots from another version, truncated, empty, not JSON, not a snapshot,
  out-of-range values: `report` and `merge` fail with the loader's message.

Flow-file syntax errors are in test_flowfile_errors.py.
"""
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402


def target(name):
    path = os.path.join(fptest.TARGETS, name)
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is not built (make all)" % path)
    return path


def public_dir():
    """A temporary directory that the user nobody can read."""
    d = fptest.tmpdir()
    os.chmod(d, 0o755)
    return d


def flows_for(d, exe, handlers=None, name="flows.yaml"):
    handlers = handlers or {"request": "request", "work": "work"}
    path = fptest.write(os.path.join(d, name), "bundles:\n  app:\n    exe: %s\n    handlers:\n%s"
                        % (exe, "".join("      %s: %s\n" % kv for kv in handlers.items())))
    os.chmod(path, 0o644)
    return path


def run(*args, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def only_error(r, want, status=1):
    """r failed with exactly one stderr line, want, and exit status `status`."""
    eq(r.stderr.splitlines(), [want], "stderr")
    eq(r.returncode, status, "exit status")
    eq(r.stdout, "", "stdout")


def puppet():
    p = fptest.start([target("puppet")], stdin=subprocess.PIPE)
    line = fptest.read_line(p).split()
    eq(line[0], "ready", "puppet")
    return p, int(line[1])


# --- capabilities -----------------------------------------------------------

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]


def need_setpriv():
    if not shutil.which("setpriv"):
        raise AssertionError("setpriv (util-linux) is missing")


@test
def record_without_capabilities():
    """As nobody, without capabilities: one message naming CAP_BPF and CAP_PERFMON
    (or root) and the command to retry with, exit status 1; nothing started or
    attached, no snapshot written."""
    need_setpriv()
    d = public_dir()
    flows = flows_for(d, target("puppet"))
    p, pid = puppet()
    out = os.path.join(d, "snap.json")
    args = ["record", "-f", flows, "-p", str(pid), "-d", "1", "-o", out]
    r = run(*AS_NOBODY, fptest.FLOWPROF, *args)
    retry = "sudo " + " ".join(shlex.quote(a) for a in [fptest.FLOWPROF] + args)
    only_error(r, "flowprof: error: 'flowprof record' loads BPF programs and attaches uprobes: "
               "it needs CAP_BPF and CAP_PERFMON (or root); missing CAP_BPF; missing "
               "CAP_PERFMON; retry as root: " + retry)
    eq(os.path.exists(out), False, "snapshot written")
    eq(p.poll(), None, "the target still runs")


@test
def record_command_without_capabilities():
    """record -- CMD as nobody: the command is never started."""
    need_setpriv()
    d = public_dir()
    os.chmod(d, 0o777)
    flows = flows_for(d, target("puppet"))
    marker = os.path.join(d, "started")
    r = run(*AS_NOBODY, fptest.FLOWPROF, "record", "-f", flows, "--", "touch", marker)
    eq(r.returncode, 1, "exit status\n" + r.stderr)
    eq(len(r.stderr.splitlines()), 1, "stderr lines:\n" + r.stderr)
    for cap in ("CAP_BPF", "CAP_PERFMON"):
        if cap not in r.stderr:
            raise AssertionError("the message does not name %s: %s" % (cap, r.stderr))
    eq(os.path.exists(marker), False, "the command ran")


@test
def check_needs_no_capabilities():
    """`check` only reads files: it works as nobody."""
    need_setpriv()
    d = public_dir()
    exe = target("puppet")
    r = run(*AS_NOBODY, fptest.FLOWPROF, "check", "-f", flows_for(d, exe))
    eq(r.returncode, 0, "exit status\n" + r.stderr)
    eq(r.stdout.splitlines()[0], "bundle app: %s, 0 processes" % exe, "first line")


# --- processes and binaries -------------------------------------------------

@test
def nonexistent_pid():
    d = fptest.tmpdir()
    flows = flows_for(d, target("puppet"))
    r = fptest.flowprof("record", "-f", flows, "-p", "4000000", "-d", "1", check=False)
    only_error(r, "flowprof: error: -p 4000000: no such process")


@test
def nonexistent_pid_in_flow_file():
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "pid.yaml"),
                         "bundles:\n  app:\n    pid: [4000000]\n    handlers:\n      r: request\n")
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:3:10: pid 4000000 (bundle app): no such process" % flows)


@test
def pid_of_another_program():
    """-p names a process that runs none of the flow file's executables."""
    d = fptest.tmpdir()
    flows = flows_for(d, target("puppet"))
    r = fptest.flowprof("record", "-f", flows, "-p", str(os.getpid()), "-d", "1", check=False)
    only_error(r, "flowprof: error: -p %d: none of these processes belongs to a bundle of %s "
               "(%d runs %s as %s)" % (os.getpid(), flows, os.getpid(),
                                       os.readlink("/proc/self/exe"),
                                       open("/proc/self/comm").read().strip()))


@test
def binary_not_elf():
    d = fptest.tmpdir()
    script = fptest.write(os.path.join(d, "service.sh"), "#!/bin/sh\necho hi\n")
    os.chmod(script, 0o755)
    flows = flows_for(d, script)
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:3:10: bundle app: exe %s: not an ELF file" % (flows, script))


@test
def binary_is_a_fifo():
    """exe: names a FIFO: a clear error at once (opening it must not wait for a
    writer), and a device likewise."""
    d = fptest.tmpdir()
    fifo = os.path.join(d, "service")
    os.mkfifo(fifo)
    for exe in (fifo, "/dev/zero"):
        flows = flows_for(d, exe)
        r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False, timeout=20)
        only_error(r, "flowprof: error: %s:3:10: bundle app: exe %s: not a regular file"
                   % (flows, exe))


@test
def binary_missing():
    d = fptest.tmpdir()
    exe = os.path.join(d, "not-there")
    flows = flows_for(d, exe)
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:3:10: bundle app: exe %s: No such file or directory"
               % (flows, exe))


@test
def binary_for_another_architecture():
    """A copy of an x86-64 target with e_machine patched to AArch64 (183)."""
    d = fptest.tmpdir()
    exe = os.path.join(d, "puppet-aarch64")
    with open(target("puppet"), "rb") as f:
        data = bytearray(f.read())
    data[18:20] = (183).to_bytes(2, "little")
    with open(exe, "wb") as f:
        f.write(data)
    os.chmod(exe, 0o755)
    flows = flows_for(d, exe)
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:3:10: bundle app: exe %s: ELF file for AArch64 (64-bit), "
               "but this host is x86-64 (64-bit)" % (flows, exe))


@test
def absent_symbol():
    d = fptest.tmpdir()
    exe = target("puppet")
    flows = flows_for(d, exe, {"request": "request", "work": "wrok"})
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:6:13: app.work: symbol 'wrok' not found in %s; "
               "closest: work" % (flows, exe))


@test
def absent_symbol_through_a_link():
    """An exe: that is a symbolic link (Debian's redis-server links to
    redis-check-rdb) is opened as the file it leads to, and the error names
    both: the file searched, and the name the flow file gave."""
    d = fptest.tmpdir()
    exe = target("puppet")
    link = os.path.join(d, "service")
    os.symlink(exe, link)
    flows = flows_for(d, link, {"request": "request", "work": "wrok"})
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:6:13: app.work: symbol 'wrok' not found in %s "
               "(exe: %s is a link to it); closest: work" % (flows, os.path.realpath(exe), link))


@test
def glob_matching_nothing():
    """A glob that matches no symbol offers the names closest to matching it,
    as an absent exact name does; record and check say the same."""
    d = fptest.tmpdir()
    exe = target("puppet")
    flows = flows_for(d, exe, {"request": "request", "work": '"wrk*"', "exec": '"reqest_e*"'})
    want = ("%s:6:13: app.work: no symbol matches 'wrk*' in %s; closest: work"
            % (flows, exe))
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: " + want)
    r = fptest.flowprof("check", "-f", flows, check=False)
    eq(r.returncode, 1, "check exit status\n" + r.stderr)
    problems = r.stdout.split("problems:\n", 1)[-1].splitlines()
    eq(problems, ["  " + want,
                  "  %s:7:13: app.exec: no symbol matches 'reqest_e*' in %s; closest: "
                  "request_exec, request_exit" % (flows, exe)], "check's problems")


@test
def check_counts_only_unresolved_as_problems():
    """`check`'s "N problems" are the handlers left unresolved (exit status 1);
    a note (a library handler with no process running: probed wherever it is
    used) is listed under "1 note:", not counted: alone, check exits 0."""
    d = fptest.tmpdir()
    exe = os.path.join(d, "svc")  # a copy: no process of it runs, whatever else does
    shutil.copy(target("puppet"), exe)
    alloc = "{ symbol: malloc, library: libc.so.6 }"
    note = re.compile(r"^  %s:7:7: note: app\.alloc: no process of bundle app is running: "
                      r"/\S+/libc\.so\.6 is probed in every process that uses it$"
                      % re.escape(os.path.join(d, "flows.yaml")))
    flows = flows_for(d, exe, {"request": "request", "work": "wrok", "alloc": alloc})
    r = fptest.flowprof("check", "-f", flows, check=False)
    eq(r.returncode, 1, "exit status with an unresolved handler\n" + r.stderr)
    tail = r.stdout.split("\n\n", 1)[1].splitlines()
    eq(tail[:3], ["1 problem:",
                  "  %s:6:13: app.work: symbol 'wrok' not found in %s; closest: work"
                  % (flows, exe), ""], "problems")
    eq(tail[3], "1 note:", "notes heading")
    if len(tail) != 5 or not note.match(tail[4]):
        raise AssertionError("the note: %r" % tail[4:])
    flows = flows_for(d, exe, {"request": "request", "work": "work", "alloc": alloc})
    r = fptest.flowprof("check", "-f", flows, check=False)
    eq(r.returncode, 0, "exit status with only a note\n" + r.stderr)
    tail = r.stdout.split("\n\n", 1)[1].splitlines()
    eq(tail[0], "1 note:", "heading (no problem)")
    if len(tail) != 2 or not note.match(tail[1]):
        raise AssertionError("the note: %r" % tail[1:])
    if "problem" in r.stdout:
        raise AssertionError("a problem counted:\n" + r.stdout)


@test
def absent_library():
    d = fptest.tmpdir()
    exe = target("puppet")
    flows = flows_for(d, exe, {"request": "request",
                               "work": "{ symbol: work, library: libnothere.so }"})
    p, pid = puppet()
    r = fptest.flowprof("record", "-f", flows, "-d", "1", check=False)
    only_error(r, "flowprof: error: %s:6:7: app.work: library libnothere.so is not mapped by "
               "pid %d (%s)" % (flows, pid, exe))
    eq(p.poll(), None, "the target still runs")


@test
def bad_command_line_exit_status():
    """A bad command line exits with EXIT_USAGE (2, user/commands.h)."""
    d = fptest.tmpdir()
    flows = flows_for(d, target("puppet"))
    for args in (["-p", "abc"], ["-p", "0"], ["-d", "-1"], ["--max-instances", "1"]):
        r = fptest.flowprof("record", "-f", flows, *args, check=False)
        eq(r.returncode, 2, "exit status of record %s\n%s" % (" ".join(args), r.stderr))
        if not r.stderr.startswith("flowprof record: %s %s: " % tuple(args)):
            raise AssertionError("message for %s: %s" % (" ".join(args), r.stderr))


# --- output files -----------------------------------------------------------

@test
def unwritable_output_fails_before_recording():
    """-o naming a file that cannot be written (its directory is missing; it is
    a directory; a device, which the atomic rename would replace) fails at once,
    before anything is attached, with the file and the reason: not after the
    whole -d with everything measured lost. record -- CMD never starts the
    command; top, serve and sweep check their -o the same way."""
    d = fptest.tmpdir()
    flows = flows_for(d, target("puppet"))
    p, pid = puppet()
    cases = [(os.path.join(d, "missing", "snap.json"),
              "directory %s: No such file or directory" % os.path.join(d, "missing")),
             (d, "Is a directory"),
             (d + "/", "Is a directory"),
             ("/dev/null", "not a regular file (it would be replaced)")]
    # a symbolic link: the rename would replace the link itself, whatever it
    # points to (here a file, which must stay as it is)
    kept = fptest.write(os.path.join(d, "kept.json"), "{}\n")
    link = os.path.join(d, "link.json")
    os.symlink(kept, link)
    cases.append((link, "not a regular file (it would be replaced)"))
    before = sorted(os.listdir(d))
    for out, why in cases:
        want = "flowprof: error: cannot write %s: %s; nothing was recorded" % (out, why)
        r = fptest.flowprof("record", "-f", flows, "-p", str(pid), "-d", "30", "-o", out,
                            check=False, timeout=10)
        only_error(r, want)
        marker = os.path.join(d, "started")
        r = fptest.flowprof("record", "-f", flows, "-o", out, "--", "touch", marker,
                            check=False, timeout=10)
        only_error(r, want)
        eq(os.path.exists(marker), False, "the command ran")
    eq(os.path.exists("/dev/null") and not os.path.isfile("/dev/null"), True,
       "/dev/null is still a device")
    out, why = cases[0]
    want = "flowprof: error: cannot write %s: %s; nothing was recorded" % (out, why)
    for args in (["top", "-b", "-n", "100"], ["serve", "--listen", "127.0.0.1:0", "-d", "30"],
                 ["sweep", "--load", "sleep {users}", "--users", "30"]):
        r = fptest.flowprof(*args, "-f", flows, "-p", str(pid), "-o", out, check=False,
                            timeout=10)
        only_error(r, want)
    eq(sorted(os.listdir(d)), before, "files in the directory (no temporary file left)")
    eq((os.path.islink(link), open(kept).read()), (True, "{}\n"), "the link and its file")
    eq(p.poll(), None, "the target still runs")


# --- snapshots --------------------------------------------------------------

def good_snapshot():
    with open(os.path.join(fptest.ROOT, "tests", "snapshots", "basic.json")) as f:
        return json.load(f)


def bad_snapshot_case(name, content, message):
    """report and merge both fail on the file with the loader's one-line message."""
    def t():
        d = fptest.tmpdir()
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(content() if callable(content) else content)
        want = "flowprof: error: %s: %s" % (path, message)
        only_error(fptest.flowprof("report", path, check=False), want)
        good = os.path.join(d, "good.json")
        with open(good, "w") as f:
            json.dump(good_snapshot(), f)
        r = fptest.flowprof("merge", good, path, "-o", os.path.join(d, "m.json"), check=False)
        only_error(r, want)
        eq(os.path.exists(os.path.join(d, "m.json")), False, "merge output written")
    t.__name__ = "snapshot_" + os.path.splitext(name)[0].replace("-", "_")
    return t


def mutated(change):
    def content():
        s = good_snapshot()
        change(s)
        return json.dumps(s).encode()
    return content


def truncated():
    text = json.dumps(good_snapshot()).encode()
    return text[:len(text) // 2]


def set_key(path, value):
    def change(s):
        obj = s
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return change


for _case in [
    ("other-version.json", mutated(set_key(["flowprof_snapshot"], 2)),
     "unsupported flowprof_snapshot version 2 (this flowprof reads version 1)"),
    ("truncated.json", truncated, None),
    ("empty.json", b"", "empty file (not a flowprof snapshot)"),
    ("blank.json", b" \n\t\n", "empty file (not a flowprof snapshot)"),
    ("array.json", b"[1, 2, 3]", "not a flowprof snapshot (expected a JSON object)"),
    ("no-version.json", mutated(lambda s: s.pop("flowprof_snapshot")),
     "flowprof_snapshot: missing (not a flowprof snapshot?)"),
    ("not-json.json", b"<html>\n",
     "invalid JSON at byte offset 0 (line 1, column 1): unexpected character (a snapshot is "
     "the JSON that flowprof record -o writes)"),
    ("deep.json", b"[" * 100000 + b"]" * 100000,
     "invalid JSON at byte offset 32 (line 1, column 33): nesting too deep"),
    ("trailing.json", lambda: json.dumps(good_snapshot()).encode() + b"\0garbage",
     None),
    ("negative.json", mutated(set_key(["handlers", 0, "calls"], -5)),
     "handlers[0].calls: expected a non-negative integer"),
    ("string-count.json", mutated(set_key(["handlers", 0, "calls"], "12")),
     "handlers[0].calls: expected an integer"),
    ("huge-count.json", mutated(set_key(["handlers", 0, "calls"], 2 ** 70)),
     "handlers[0].calls: out of range (at most 18446744073709551614)"),
    ("short-histogram.json", mutated(set_key(["handlers", 0, "histogram", "counts"], [1] * 5)),
     None),
]:
    _name, _content, _message = _case
    if _message is None:  # the message depends on the content's length: computed
        if _name == "truncated.json":
            _message = ("truncated JSON: the document ends at byte offset %d before it is "
                        "complete" % len(truncated()))
        elif _name == "trailing.json":
            _message = ("unexpected data after the JSON document at byte offset %d"
                        % len(json.dumps(good_snapshot()).encode()))
        else:
            _message = ("handlers[0].histogram.bounds_ns: %d edges for 5 counts (expected 6: "
                        "the lower bound of each bucket, then the upper end of the last)"
                        % len(good_snapshot()["handlers"][0]["histogram"]["bounds_ns"]))
    test(bad_snapshot_case(_name, _content, _message))


@test
def snapshot_is_a_directory():
    d = fptest.tmpdir()
    only_error(fptest.flowprof("report", d, check=False),
               "flowprof: error: %s: cannot read: Is a directory" % d)


@test
def snapshot_random_bytes():
    """Random bytes of many lengths: always a one-line error, exit status 1."""
    import random
    rng = random.Random(7)
    d = fptest.tmpdir()
    path = os.path.join(d, "random.json")
    for n in (1, 2, 7, 64, 4096):
        for _ in range(5):
            with open(path, "wb") as f:
                f.write(bytes(rng.randrange(256) for _ in range(n)))
            r = fptest.flowprof("report", path, check=False)
            eq(r.returncode, 1, "exit status on %d random bytes\n%s" % (n, r.stderr))
            eq(len(r.stderr.splitlines()), 1, "stderr lines:\n" + r.stderr)
            if not r.stderr.startswith("flowprof: error: %s: " % path):
                raise AssertionError("message: " + r.stderr)


# --- security ---------------------------------------------------------------

PLACEHOLDER = b"weird_name_placeholder_0123456789"
# ESC ] ... BEL sets a terminal's title; then a newline, DEL, two bytes that are
# not UTF-8, a right-to-left override (U+202E), a quote and a backslash.
HOSTILE = b'w\x1b]0;pwned\x07\n\x7f\xff\xfe\xe2\x80\xae"q\\'
HOSTILE = HOSTILE + b"_" * (len(PLACEHOLDER) - len(HOSTILE))
# What JSON must carry: each byte that is not UTF-8 as U+FFFD (json_out.h).
HOSTILE_TEXT = HOSTILE.decode("utf-8", errors="replace")


def hostile_target(d):
    """A copy of tests/targets/weird_names whose handler is named HOSTILE, in a
    directory whose name holds a newline and an escape sequence."""
    with open(target("weird_names"), "rb") as f:
        data = f.read()
    if data.count(PLACEHOLDER) < 1:
        raise AssertionError("weird_names has no symbol %r" % PLACEHOLDER)
    bindir = os.path.join(d, "bin\n\x1b[1mdir")
    os.mkdir(bindir)
    exe = os.path.join(bindir, "svc")
    with open(exe, "wb") as f:
        f.write(data.replace(PLACEHOLDER, HOSTILE))
    os.chmod(exe, 0o755)
    return exe


def hostile_flows(d, exe, symbol="w*pwned*", name="flows\x1b[2J.yaml"):
    # JSON strings are YAML double-quoted strings: the escapes carry the bytes.
    return fptest.write(os.path.join(d, name), "bundles:\n  odd:\n    exe: %s\n    handlers:\n"
                        "      weird: %s\nflows:\n  f:\n    entry: odd.weird\n"
                        % (json.dumps(exe), json.dumps(symbol)))


UNSAFE_CODE_POINTS = set(range(0x20)) - {0x0a} | {0x7f} | set(range(0x80, 0xa0)) | \
    set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a))


def terminal_safe(data, what):
    """data (bytes) can go to a terminal: valid UTF-8, no control character but
    newline, no bidirectional override."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not valid UTF-8 (%s):\n%r" % (what, e, data))
    bad = sorted({"U+%04X" % ord(c) for c in text if ord(c) in UNSAFE_CODE_POINTS})
    if bad:
        raise AssertionError("%s prints %s unescaped:\n%r" % (what, ", ".join(bad), data))


def run_bytes(*args, **kw):
    return subprocess.run([fptest.FLOWPROF, *args], capture_output=True, timeout=60, **kw)


@test
def hostile_names_escaped_in_snapshot_and_report():
    """A handler symbol and a binary path with control characters, an escape
    sequence, a newline, a bidi override and invalid UTF-8: the snapshot is valid
    JSON carrying them escaped (no raw control byte), and report prints them,
    like every other string, safe for a terminal."""
    d = fptest.tmpdir()
    exe = hostile_target(d)
    flows = hostile_flows(d, exe)
    out = os.path.join(d, "snap.json")
    r = run_bytes("record", "-f", flows, "-o", out, "--", exe, input=b"go\n")
    eq(r.returncode, 0, "record exit status\n%r" % r.stderr)
    terminal_safe(r.stderr, "record's stderr")
    with open(out, "rb") as f:
        raw = f.read()
    bad = sorted({"0x%02x" % b for b in raw if b < 0x20 and b != 0x0a})
    if bad:
        raise AssertionError("snapshot holds raw control bytes %s" % ", ".join(bad))
    s = json.loads(raw)  # strict: fails on a raw control character inside a string
    h = fptest.handler(s, "odd.weird")
    eq(h["calls"], 10, "calls of the hostile handler")
    eq(h["symbol"], HOSTILE_TEXT, "symbol in the snapshot")
    eq(h["binary"], exe, "binary in the snapshot")
    eq(s["flow_file"], flows, "flow_file in the snapshot")
    r = run_bytes("report", out)
    eq(r.returncode, 0, "report exit status\n%r" % r.stderr)
    terminal_safe(r.stdout, "report")
    r = run_bytes("record", "-f", flows, "--", exe, input=b"go\n")  # table to stdout
    eq(r.returncode, 0, "record (table) exit status\n%r" % r.stderr)
    terminal_safe(r.stdout.split(b"done 90\n", 1)[-1], "record's table")


@test
def hostile_names_escaped_by_check():
    """`check` lists every resolved symbol and binary: escaped."""
    d = fptest.tmpdir()
    exe = hostile_target(d)
    r = run_bytes("check", "-f", hostile_flows(d, exe))
    eq(r.returncode, 0, "check exit status\n%r" % r.stderr)
    terminal_safe(r.stdout, "check's output")
    terminal_safe(r.stderr, "check's stderr")


@test
def hostile_names_escaped_in_errors():
    """An absent symbol, printable, close to the hostile one (each control or
    non-UTF-8 byte replaced by '_'): the error names the binary (as the process
    runs it) and offers the hostile name among the closest: both escaped."""
    d = fptest.tmpdir()
    exe = hostile_target(d)
    near = "".join(chr(b) if 0x20 <= b < 0x7f else "_" for b in HOSTILE)
    flows = hostile_flows(d, exe, symbol=near, name="flows.yaml")
    r = run_bytes("record", "-f", flows, "-d", "1")
    eq(r.returncode, 1, "record exit status\n%r" % r.stderr)
    if b"closest: " not in r.stderr:
        raise AssertionError("no closest names offered: %r" % r.stderr)
    terminal_safe(r.stderr, "the error message")


@test
def snapshot_mode_0600():
    """Snapshots name internal symbols: mode 0600 whatever the umask, also when
    replacing a world-readable file; so do merge's and export --jmt's files."""
    d = fptest.tmpdir()
    exe = target("puppet")
    out = os.path.join(d, "snap.json")
    fptest.write(out, "old\n")
    os.chmod(out, 0o666)
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows_for(d, exe), "-o", out, "--",
                        exe], input="run 5\nquit\n", capture_output=True, text=True,
                       timeout=60, preexec_fn=lambda: os.umask(0))
    eq(r.returncode, 0, "record exit status\n" + r.stderr)
    eq(os.stat(out).st_mode & 0o777, 0o600, "snapshot mode")
    eq(fptest.handler(fptest.load_json(out), "app.request")["calls"], 5, "calls")
    merged = os.path.join(d, "merged.json")
    r = subprocess.run([fptest.FLOWPROF, "merge", out, out, "-o", merged], capture_output=True,
                       text=True, timeout=60, preexec_fn=lambda: os.umask(0))
    eq(r.returncode, 0, "merge exit status\n" + r.stderr)
    eq(os.stat(merged).st_mode & 0o777, 0o600, "merged snapshot mode")
    jmva = fptest.write(os.path.join(d, "model.jmva"), "old\n")
    os.chmod(jmva, 0o666)
    r = subprocess.run([fptest.FLOWPROF, "export", out, "--jmt", jmva], capture_output=True,
                       text=True, timeout=60, preexec_fn=lambda: os.umask(0))
    eq(r.returncode, 0, "export --jmt exit status\n" + r.stderr)
    eq(os.stat(jmva).st_mode & 0o777, 0o600, "JMVA document mode")
    with open(jmva) as f:
        if "<model" not in f.read():
            raise AssertionError("export --jmt wrote no JMVA document")


@test
def flow_file_never_executes_anything():
    """Whatever a flow file names, flowprof reads it and never runs it: exe, comm,
    library and symbol strings that are shell commands create no file, through
    check and record."""
    d = fptest.tmpdir()
    marks = [os.path.join(d, "ran-%d" % i) for i in range(5)]
    exe_cmd = "/bin/sh -c 'touch %s'" % marks[0]
    flows = fptest.write(os.path.join(d, "evil.yaml"), """\
bundles:
  shell:
    exe: %s
    handlers:
      h: main
  subst:
    exe: "$(touch %s)"
    handlers:
      h: "`touch %s`"
  lib:
    comm: "sh -c 'touch %s'"
    handlers:
      h: { symbol: main, library: "/bin/sh -c 'touch %s'" }
""" % (json.dumps(exe_cmd), marks[1], marks[2], marks[3], marks[4]))
    for args in (["check", "-f", flows], ["record", "-f", flows, "-d", "1"]):
        r = fptest.flowprof(*args, check=False, cwd=d)
        eq(r.returncode, 1, "%s exit status\n%s" % (args[0], r.stderr))
    eq([m for m in marks if os.path.exists(m)], [], "files created by the flow file")
    eq(sorted(os.listdir(d)), ["evil.yaml"], "files in the flow file's directory")


def listening_sockets(pid):
    """[(address, port)] of the TCP sockets process pid listens on (IPv4 and IPv6)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                    continue
                addr_hex, port_hex = cols[1].split(":")
                raw = bytes.fromhex(addr_hex)
                # /proc prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.append((str(ipaddress.ip_address(raw)), int(port_hex, 16)))
    return found


@test
def serve_binds_loopback_by_default():
    """`flowprof serve` without --listen: its only listening socket is on 127.0.0.1."""
    d = fptest.tmpdir()
    exe = target("puppet")
    p, pid = puppet()
    srv = fptest.start([fptest.FLOWPROF, "serve", "-f", flows_for(d, exe), "-p", str(pid)],
                       text=True)
    socks = []

    def listening():
        if srv.poll() is not None:
            return True
        socks[:] = listening_sockets(srv.pid)
        return bool(socks)
    fptest.wait_for(listening, timeout=30, what="flowprof serve to listen")
    if srv.poll() is not None:
        err = srv.stderr.read()
        if "Address already in use" in err:
            raise AssertionError("port 9464 is taken on this host: the test needs flowprof's default port free")
        raise AssertionError("flowprof serve exited %d:\n%s" % (srv.returncode, err))
    eq(socks, [("127.0.0.1", 9464)], "listening sockets of flowprof serve")
    srv.send_signal(2)
    eq(srv.wait(timeout=30), 0, "serve exit status after SIGINT")


if __name__ == "__main__":
    fptest.main()
