#!/usr/bin/env python3
"""The commands flowprof starts run as the user who asked for them, not as
root (docs/security.md): `record -- CMD` and each step of `sweep --load`.

- under sudo (SUDO_UID, SUDO_GID, SUDO_USER of nobody) the command runs as
  nobody, with nobody's groups, HOME, USER and LOGNAME, all four uids and
  gids nobody's and no capability left; `--user USER[:GROUP]` names another
  user (daemon with the nogroup group) whatever SUDO_UID says; the flow is
  recorded as ever, and the recording line names the user;
- as root without sudo and without --user: root, and one line says so;
- an unknown user or group, or a SUDO_UID that is no uid: one message naming
  it, exit status 2, before anything is attached, the command never run;
- a command root may run but the user may not: 126, no snapshot.

The users are Debian's own nobody and daemon (base-passwd), the targets
build/targets/puppet, sweep_server and pool_loadgen.
"""
import grp
import os
import pwd
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402
import test_core as core  # noqa: E402

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


# ---- record -- CMD -----------------------------------------------------------

def ids_command(d, exe):
    """A command that writes what it runs as to d/ids.txt (`id -u`, `id -g`,
    `id -G`, HOME, USER, LOGNAME, the Uid:, Gid: and CapEff: lines of
    /proc/self/status), then execs exe in the same process."""
    script = ("{ id -u; id -g; id -G; echo \"$HOME\"; echo \"$USER\"; echo \"$LOGNAME\"; "
              "grep -E '^(Uid|Gid|CapEff):' /proc/self/status; } > %s/ids.txt; exec %s"
              % (d, exe))
    return ["/bin/sh", "-c", script]


def read_ids(d):
    lines = open(os.path.join(d, "ids.txt")).read().splitlines()
    status = {ln.split(":")[0]: ln.split(":", 1)[1].split() for ln in lines[6:]}
    return {"uid": int(lines[0]), "gid": int(lines[1]),
            "groups": sorted(int(g) for g in lines[2].split()), "home": lines[3],
            "user": lines[4], "logname": lines[5], "status": status}


def public_dir():
    """A temporary directory any user may write to (the command's ids.txt)."""
    d = fptest.tmpdir()
    os.chmod(d, 0o777)
    return d


def record_ids(d, flows, *args, env=None):
    """record -- the ids command around the puppet target (5 requests):
    (CompletedProcess, ids, snapshot)."""
    exe = core.target_path("puppet")
    out = os.path.join(d, "snap.json")
    full_env = dict(os.environ, **(env or {}))
    r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, *args, "--",
                        *ids_command(d, exe)], input="run 5\nquit\n", capture_output=True,
                       text=True, timeout=60, env=full_env)
    eq(r.returncode, 0, "exit status\n" + r.stderr)
    snap = fptest.load_json(out)
    eq(fptest.handler(snap, "app.request")["calls"], 5, "request calls recorded")
    return r, read_ids(d), snap


def check_dropped(ids, uid, gid, groups, name, home):
    eq((ids["uid"], ids["gid"], ids["groups"]), (uid, gid, groups),
       "the command's id -u, id -g, id -G")
    eq((ids["home"], ids["user"], ids["logname"]), (home, name, name),
       "the command's HOME, USER, LOGNAME")
    eq(ids["status"]["Uid"], [str(uid)] * 4, "real, effective, saved, fs uid")
    eq(ids["status"]["Gid"], [str(gid)] * 4, "real, effective, saved, fs gid")
    eq(int(ids["status"]["CapEff"][0], 16), 0, "the command's effective capabilities")


@test
def command_runs_as_the_user_who_ran_sudo():
    """Under sudo (SUDO_UID, SUDO_GID, SUDO_USER of nobody) the command runs as
    nobody with nobody's groups and environment, no capability left and no
    way back (all four uids are nobody's); the flow is recorded as ever and
    the recording line says who runs the command."""
    core.need("puppet")
    nobody = pwd.getpwnam("nobody")
    d = public_dir()
    _, flows = puppet_flows(d)
    r, ids, _ = record_ids(d, flows, env={"SUDO_UID": str(nobody.pw_uid),
                                          "SUDO_GID": str(nobody.pw_gid),
                                          "SUDO_USER": "nobody"})
    check_dropped(ids, nobody.pw_uid, nobody.pw_gid, [nobody.pw_gid], "nobody", nobody.pw_dir)
    if "(starting the command as nobody)" not in r.stderr:
        raise AssertionError("the recording line does not name the user:\n" + r.stderr)
    if "runs as root" in r.stderr:
        raise AssertionError("a root note under sudo:\n" + r.stderr)


@test
def command_runs_as_user_option():
    """--user daemon:nogroup: daemon's uid with the nogroup group, whatever
    SUDO_UID says; --user nobody alone takes nobody's own group."""
    core.need("puppet")
    daemon, nogroup = pwd.getpwnam("daemon"), grp.getgrnam("nogroup")
    nobody = pwd.getpwnam("nobody")
    d = public_dir()
    _, flows = puppet_flows(d)
    r, ids, _ = record_ids(d, flows, "--user", "daemon:nogroup",
                           env={"SUDO_UID": str(nobody.pw_uid), "SUDO_USER": "nobody"})
    want_groups = sorted({nogroup.gr_gid} | set(os.getgrouplist("daemon", nogroup.gr_gid)))
    check_dropped(ids, daemon.pw_uid, nogroup.gr_gid, want_groups, "daemon", daemon.pw_dir)
    if "(starting the command as daemon:nogroup)" not in r.stderr:
        raise AssertionError("the recording line does not name the user:\n" + r.stderr)
    os.unlink(os.path.join(d, "ids.txt"))
    _, ids, _ = record_ids(d, flows, "--user", "nobody")
    check_dropped(ids, nobody.pw_uid, nobody.pw_gid, [nobody.pw_gid], "nobody", nobody.pw_dir)


@test
def command_runs_as_root_only_when_nobody_is_named():
    """Root without sudo and without --user: the command runs as root, and
    one line after the recording line says so."""
    core.need("puppet")
    d = public_dir()
    _, flows = puppet_flows(d)
    r, ids, _ = record_ids(d, flows)
    eq((ids["uid"], ids["gid"]), (0, 0), "the command's uid and gid")
    lines = r.stderr.splitlines()
    notes = [i for i, ln in enumerate(lines) if "runs as root" in ln]
    eq([lines[i] for i in notes],
       ["flowprof: note: /bin/sh runs as root (flowprof was not started by sudo from another "
        "user); --user USER runs it as USER"], "the root note")
    eq(lines[notes[0] - 1][:20], "flowprof: recording ", "the line before the note")


@test
def bad_user_fails_before_attaching():
    """An unknown user or group, or a SUDO_UID that is no uid: one clear
    error naming it, exit status 2, nothing attached (no other line), the
    command never run, no snapshot. --user without a command is refused."""
    core.need("puppet")
    d = public_dir()
    _, flows = puppet_flows(d)
    out = os.path.join(d, "snap.json")
    marker = os.path.join(d, "ran")
    cases = [(["--user", "flowprof-no-such-user"], {},
              "flowprof record: --user flowprof-no-such-user: no such user"),
             (["--user", "nobody:flowprof-no-such-group"], {},
              "flowprof record: --user nobody:flowprof-no-such-group: no such group "
              "'flowprof-no-such-group'"),
             ([], {"SUDO_UID": "x1"},
              "flowprof record: SUDO_UID=x1 is not a user id: name the user to run the "
              "command as with --user USER")]
    for args, env, want in cases:
        r = subprocess.run([fptest.FLOWPROF, "record", "-f", flows, "-o", out, *args, "--",
                            "touch", marker], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **env))
        eq(r.stderr.splitlines()[:1], [want], "first stderr line for %s" % (args or env))
        eq(r.returncode, 2, "exit status for %s" % (args or env))
        if "recording" in r.stderr or "attach" in r.stderr:
            raise AssertionError("attached before failing:\n" + r.stderr)
        eq((os.path.exists(marker), os.path.exists(out)), (False, False),
           "command run, snapshot written for %s" % (args or env))
    r = fptest.flowprof("record", "-f", flows, "-d", "1", "--user", "nobody", check=False,
                        timeout=30)
    eq(r.stderr.splitlines()[:1], ["flowprof record: --user nobody: it names who runs "
                                   "a command, and there is none (-- CMD)"],
       "--user without a command")
    eq(r.returncode, 2, "exit status of --user without a command")


@test
def command_the_user_may_not_run_fails():
    """A script root may run but nobody may not (mode 0700, root's): run as
    nobody, its exec fails once attached: 126, the reason, no snapshot."""
    core.need("puppet")
    d = public_dir()
    _, flows = puppet_flows(d)
    out = os.path.join(d, "snap.json")
    script = fptest.write(os.path.join(d, "private"), "#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o700)
    r = fptest.flowprof("record", "-f", flows, "-o", out, "--user", "nobody", "--", script,
                        check=False, timeout=30)
    eq(r.stderr.splitlines()[-1:], ["flowprof: error: cannot run %s: Permission denied"
                                    % script], "last stderr line")
    eq(r.returncode, 126, "exit status")
    eq(os.path.exists(out), False, "snapshot written")


# ---- sweep --load -------------------------------------------------------------

SERVER = os.path.join(fptest.TARGETS, "sweep_server")
LOADGEN = os.path.join(fptest.TARGETS, "pool_loadgen")
POOL_FLOWS = """\
bundles:
  pool:
    exe: %s
    handlers:
      request: handle_request
      work: do_work
"""


def start_server(*args):
    p = fptest.start([SERVER, *args])
    line = fptest.read_line(p)
    m = re.match(r"ready (\d+)", line)
    if not m:
        raise AssertionError("sweep_server said %r" % line)
    return p, int(m.group(1))


@test
def load_command_runs_as_the_invoking_user():
    """Each step's load command runs as the user who ran sudo (SUDO_UID,
    SUDO_GID, SUDO_USER of nobody), or as --user daemon:nogroup, with no
    capability left; the steps are measured as ever. As root without either,
    one line says so. An unknown --user fails before anything is attached,
    and names --users when it looks like a list of levels."""
    core.need("sweep_server", "pool_loadgen")
    d = fptest.tmpdir()
    os.chmod(d, 0o777)  # the load command writes its ids here
    p, port = start_server("-w", "2", "-s", "500")
    flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
    out = os.path.join(d, "sweep.json")
    ids = os.path.join(d, "ids-{users}")
    load = ("{ id -u; id -g; grep '^CapEff:' /proc/self/status; } > %s; "
            "exec %s -c {users} -d 1 %d" % (ids, LOADGEN, port))

    def run(*args, env=None):
        return subprocess.run([fptest.FLOWPROF, "sweep", "-f", flows, "-p", str(p.pid),
                               "--load", load, "--users", "1,2", "--settle", "0.3", "-o", out,
                               *args], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **(env or {})))

    def ran_as(r, uid, gid, who):
        eq(r.returncode, 0, "exit status\n" + r.stderr)
        eq([s["status"] for s in fptest.load_json(out)["steps"]], ["ok", "ok"], "steps")
        for users in (1, 2):
            with open(ids.replace("{users}", str(users))) as f:
                got = f.read().split()
            os.unlink(f.name)
            eq((int(got[0]), int(got[1]), int(got[3], 16) if uid else 0), (uid, gid, 0),
               "uid, gid and effective capabilities of the load at %d users" % users)
        if (who is None) != ("runs as root" in r.stderr):
            raise AssertionError("the root note, for %s:\n%s" % (who, r.stderr))
        if who and "2 steps, the load command as %s;" % who not in r.stderr:
            raise AssertionError("the recording line does not name %s:\n%s" % (who, r.stderr))

    nobody, daemon = pwd.getpwnam("nobody"), pwd.getpwnam("daemon")
    nogroup = grp.getgrnam("nogroup").gr_gid
    ran_as(run(env={"SUDO_UID": str(nobody.pw_uid), "SUDO_GID": str(nobody.pw_gid),
                    "SUDO_USER": "nobody"}), nobody.pw_uid, nobody.pw_gid, "nobody")
    ran_as(run("--user", "daemon:nogroup"), daemon.pw_uid, nogroup, "daemon:nogroup")
    r = run()
    ran_as(r, 0, 0, None)
    eq(r.stderr.count("runs as root"), 1, "root notes\n" + r.stderr)
    for user, msg in (("flowprof-no-such-user", "no such user"),
                      ("1,2,4", "no such user (the steps' numbers of users are --users)")):
        r = run("--user", user)
        eq(r.returncode, 2, "exit status of --user %s\n%s" % (user, r.stderr))
        eq(r.stderr.split("\n")[0], "flowprof sweep: --user %s: %s" % (user, msg),
           "message for --user %s" % user)
        if "recording" in r.stderr:
            raise AssertionError("attached before failing:\n" + r.stderr)
    eq(p.poll(), None, "the server still runs")


if __name__ == "__main__":
    fptest.main()
