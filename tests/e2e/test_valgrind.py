#!/usr/bin/env python3
"""flowprof under valgrind (issue 7): one end-to-end recording with real probes
(build/flowprof record -- tests/targets/puppet), then report and merge of its
snapshot. Each must end with 0 errors and 0 bytes left allocated: every leak
kind counts as an error.

The unit tests run under ASan + UBSan; this covers the code they cannot: the
loader with its BPF syscalls, and the non-sanitized build as shipped.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402

ERROR_EXIT = 99

# Only what valgrind cannot know about the bpf() syscall, and only inside libbpf.
SUPPRESSIONS = """\
# libbpf 1.1 zeroes a union bpf_attr only up to the last field its command uses
# (memset to offsetofend(...)); valgrind's bpf() wrapper also checks fields the
# command does not read.
{
   libbpf-attr-flags
   Memcheck:Param
   bpf(attr->flags)
   fun:syscall
   obj:*/libbpf.so*
}
{
   libbpf-attr-expected-attach-type
   Memcheck:Param
   bpf(attr->expected_attach_type)
   fun:syscall
   obj:*/libbpf.so*
}
{
   libbpf-attr-prog-ifindex
   Memcheck:Param
   bpf(attr->prog_ifindex)
   fun:syscall
   obj:*/libbpf.so*
}
# bpf_map_get_next_key(fd, NULL, &next) asks for the first key: the kernel
# takes a NULL key, valgrind checks it as a pointer to key_size bytes.
{
   libbpf-first-key
   Memcheck:Param
   bpf(attr->key)
   fun:syscall
   fun:bpf_map_get_next_key
}
# libbpf_probe_bpf_helper() searches the verifier log that bpf(BPF_PROG_LOAD)
# wrote into its buffer; valgrind does not know the kernel writes log_buf.
{
   libbpf-probe-verifier-log
   Memcheck:Cond
   fun:strstr
   fun:libbpf_probe_bpf_helper
}
"""


def valgrind(args, d, **kw):
    """Runs build/flowprof ARGS under memcheck; returns (CompletedProcess, log text)."""
    if not shutil.which("valgrind"):
        raise AssertionError("valgrind is not installed (scripts/install-deps.sh test)")
    supp = os.path.join(d, "bpf.supp")
    if not os.path.exists(supp):
        fptest.write(supp, SUPPRESSIONS)
    log = os.path.join(d, "valgrind-%s.log" % args[0])
    r = subprocess.run(["valgrind", "--tool=memcheck", "--leak-check=full",
                        "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
                        "--error-exitcode=%d" % ERROR_EXIT, "--suppressions=" + supp,
                        "--log-file=" + log, fptest.FLOWPROF, *args],
                       capture_output=True, text=True, timeout=300, **kw)
    with open(log) as f:
        text = f.read()
    return r, text


def clean(r, log, what, want_rc=0):
    """No error, nothing left allocated, and flowprof's own exit status."""
    summary = [line.split("== ", 1)[-1] for line in log.splitlines()
               if "ERROR SUMMARY" in line or "in use at exit" in line]
    if r.returncode == ERROR_EXIT or "ERROR SUMMARY: 0 errors" not in log:
        raise AssertionError("%s: valgrind found errors: %s\n%s" % (what, summary, log[-6000:]))
    if "in use at exit: 0 bytes in 0 blocks" not in log:
        raise AssertionError("%s: memory left allocated: %s\n%s" % (what, summary, log[-6000:]))
    eq(r.returncode, want_rc, "%s exit status\n%s" % (what, r.stderr))


def puppet_flows(d):
    exe = os.path.join(fptest.TARGETS, "puppet")
    if not os.access(exe, os.X_OK):
        raise AssertionError("%s is not built (make all)" % exe)
    return exe, fptest.write(os.path.join(d, "flows.yaml"), """\
bundles:
  app:
    exe: %s
    handlers:
      request: request
      work: work
flows:
  req:
    entry: app.request
    calls:
      - app.request -> app.work
""" % exe)


@test
def record_report_merge_under_valgrind():
    d = fptest.tmpdir()
    exe, flows = puppet_flows(d)
    out = os.path.join(d, "snap.json")
    r, log = valgrind(["record", "-f", flows, "-o", out, "--", exe, "2"], d,
                      input="run 100\nquit\n")
    clean(r, log, "record")
    s = fptest.load_json(out)
    eq(fptest.handler(s, "app.request")["calls"], 200, "request calls")
    eq(fptest.handler(s, "app.work")["calls"], 200, "work calls")
    eq(fptest.edge(s, "app.request", "app.work"), 200, "edge request -> work")

    r, log = valgrind(["report", out], d)
    clean(r, log, "report")
    if "app.request" not in r.stdout:
        raise AssertionError("report printed no table:\n" + r.stdout)
    r, log = valgrind(["report", "--json", out], d)
    clean(r, log, "report --json")

    merged = os.path.join(d, "merged.json")
    r, log = valgrind(["merge", out, out, "-o", merged], d)
    clean(r, log, "merge")
    eq(fptest.handler(fptest.load_json(merged), "app.request")["calls"], 400, "merged calls")


@test
def errors_under_valgrind():
    """Failure paths free what they allocated too: a flow-file error, a missing
    symbol, a damaged snapshot."""
    d = fptest.tmpdir()
    exe, flows = puppet_flows(d)
    bad_flow = fptest.write(os.path.join(d, "bad.yaml"), "bundles:\n  app:\n    exe: %s\n"
                            "    handlers:\n      r: requets\n" % exe)
    r, log = valgrind(["record", "-f", bad_flow, "-d", "1"], d)
    clean(r, log, "record with an absent symbol", want_rc=1)
    r, log = valgrind(["check", "-f", os.path.join(fptest.ROOT, "tests", "flowfiles",
                                                   "bad-cycle.yaml")], d)
    clean(r, log, "check of a bad flow file", want_rc=1)
    trunc = fptest.write(os.path.join(d, "trunc.json"), '{"flowprof_snapshot": 1, "handlers": [')
    r, log = valgrind(["report", trunc], d)
    clean(r, log, "report of a truncated snapshot", want_rc=1)


if __name__ == "__main__":
    fptest.main()
