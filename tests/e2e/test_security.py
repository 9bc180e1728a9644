#!/usr/bin/env python3
"""flowprof runs as root next to services it does not trust (issue 16,
docs/security.md): what it opens and attaches to is the file a process
really runs, whatever a path says now.

- A binary replaced on disk while the old one runs: the probes go into the
  running (deleted) file, and every call is counted.
- In a container's mount namespace, the running binary's path replaced by
  an absolute symlink to a host file (a decoy): opened through
  /proc/PID/root, the symlink would resolve in flowprof's root and lead to
  the host's file; flowprof opens /proc/PID/exe instead, and the decoy is
  never touched.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
import test_core as core  # noqa: E402

ARGS = ["-r", "30", "-k", "2", "-x", "2", "-v", "0", "-c", "50", "-s", "50", "-b", "0"]
FLOWS = """\
bundles:
  nested:
    pid: [{pid}]
    handlers:
      req: req
      parse: parse
      work_cpu: work_cpu
flows:
  request:
    entry: nested.req
"""


def record_pid(p, pid, d):
    """Records pid (started with -w, its ready line read) until it exits;
    returns (snapshot, the target's report)."""
    out = os.path.join(d, "snap.json")
    flows = fptest.write(os.path.join(d, "f.yaml"), FLOWS.format(pid=pid))
    rec = core.Recorder(flows, "-p", str(pid), out=out)
    rec.wait_recording()
    p.stdin.write(b"g")
    p.stdin.flush()
    p.stdin.close()
    text = p.stdout.read().decode()
    eq(p.wait(30), 0, "the target's exit status")
    rc, _, err = rec.finish()
    eq(rc, 0, "flowprof exit status (stderr:\n%s)" % err)
    return fptest.load_json(out), core.parse_report(text, "nested")


def check_counts(snap, report):
    hs = core.handlers(snap)
    for name in ("req", "parse", "work_cpu"):
        eq((hs["nested." + name]["calls"], hs["nested." + name]["incomplete"]),
           (report["handlers"][name]["calls"], 0), name + " (calls, incomplete)")


@test
def binary_replaced_on_disk_is_probed_where_it_runs():
    core.need("nested", "echo")
    d = fptest.tmpdir()
    app = os.path.join(d, "app")
    shutil.copy2(core.target_path("nested"), app)
    p = fptest.start([app, *ARGS, "-w"], stdin=subprocess.PIPE)
    pid = int(fptest.read_line(p, 10).split()[1])
    # a deploy: another program renamed over the path; the process runs on
    # in the old, now deleted, file
    shutil.copy2(core.target_path("echo"), app + ".new")
    os.rename(app + ".new", app)
    if not os.readlink("/proc/%d/exe" % pid).endswith(" (deleted)"):
        raise AssertionError("the running file was not replaced")
    snap, report = record_pid(p, pid, d)
    check_counts(snap, report)


@test
def symlink_in_container_root_does_not_lead_to_a_host_file():
    core.need("nested", "echo")
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        raise fptest.Skip("unshare or nsenter (util-linux) missing")
    d = fptest.tmpdir()
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    decoy = os.path.join(d, "decoy")
    shutil.copy2(core.target_path("echo"), decoy)
    before = os.stat(decoy)
    script = ("mount -t tmpfs none %s && cp %s %s/app && exec %s/app %s -w"
              % (mnt, core.target_path("nested"), mnt, mnt, " ".join(ARGS)))
    p = fptest.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                     stdin=subprocess.PIPE)
    line = fptest.read_line(p, 10)
    if not line.startswith("ready"):
        raise fptest.Skip("this host cannot make a mount namespace: %r" % line)
    pid = int(line.split()[1])
    # inside the container: its binary's path becomes an absolute symlink,
    # which a walk from /proc/PID/root would resolve in flowprof's root: to
    # the host's decoy
    r = subprocess.run(["nsenter", "-t", str(pid), "-m", "sh", "-c",
                        "rm %s/app && ln -s %s %s/app" % (mnt, decoy, mnt)],
                       capture_output=True, text=True)
    eq(r.returncode, 0, "nsenter: " + r.stderr)
    snap, report = record_pid(p, pid, d)
    check_counts(snap, report)
    after = os.stat(decoy)
    eq((after.st_atime_ns, after.st_ino), (before.st_atime_ns, before.st_ino),
       "the decoy's access time and inode (never opened)")


if __name__ == "__main__":
    fptest.main()
