#!/usr/bin/env python3
"""The documentation a person reads, held against the binary:
- `--help` of flowprof and of every command, with examples;
- the man page documents every command and every option of its --help, and
  renders without a warning;
- the bash completion offers every command and every option;
- `make install PREFIX=... DESTDIR=...` puts the binary, the man page and the
  completion where they belong.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
import viewslib  # noqa: E402
from fptest import test  # noqa: E402

MAN = os.path.join(fptest.ROOT, "man", "flowprof.1")
COMPLETION = os.path.join(fptest.ROOT, "completions", "flowprof.bash")


def commands():
    """The commands `flowprof --help` lists."""
    r = fptest.flowprof("--help")
    block = r.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in block.splitlines() if line.strip()]
    assert len(names) >= 7, "commands in --help: %r" % names
    return names


def help_options(cmd):
    """Long and short options of `flowprof CMD --help` (argp's option column)."""
    out = fptest.flowprof(cmd, "--help").stdout
    longs, shorts = set(), set()
    for line in out.splitlines():
        m = re.match(r"^  (?:(-\w|-\?), )?(--[\w-]+)", line) or \
            re.match(r"^      (--[\w-]+)", line)
        if not m:
            continue
        if m.lastindex == 2:
            if m.group(1) and m.group(1) != "-?":
                shorts.add(m.group(1))
            longs.add(m.group(2))
        else:
            longs.add(m.group(1))
    longs -= {"--help", "--usage"}
    return longs, shorts


def man_section(cmd):
    """The troff source of the man page's section for cmd, unescaped ("\\-" -> "-")."""
    src = open(MAN).read()
    m = re.search(r'^\.SS "flowprof %s"\n(.*?)(?=^\.SS |^\.SH )' % cmd, src, re.M | re.S)
    assert m, "man page has no section for flowprof %s" % cmd
    return m.group(1).replace("\\-", "-")


@test
def every_command_has_help_with_examples():
    viewslib.need_flowprof()
    for cmd in commands():
        r = fptest.flowprof(cmd, "--help")
        fptest.eq(r.returncode, 0, "exit status of %s --help" % cmd)
        assert r.stdout.startswith("Usage: flowprof %s " % cmd), \
            "%s --help starts with its usage: %r" % (cmd, r.stdout[:60])
        assert re.search(r"\bExamples?:$", r.stdout, re.M), "%s --help has examples" % cmd
        assert re.search(r"^  (sudo )?flowprof %s " % cmd, r.stdout, re.M), \
            "%s --help shows a command line of %s" % (cmd, cmd)
        # argp leaves a line of spaces where an option's text wraps badly
        blank = [i + 1 for i, ln in enumerate(r.stdout.splitlines()) if ln and not ln.strip()]
        fptest.eq(blank, [], "%s --help: lines of only spaces" % cmd)
    r = fptest.flowprof("--help")
    assert "flowprof(1)" in r.stdout, "flowprof --help points at the man page"


@test
def man_page_documents_every_command_and_option():
    viewslib.need_flowprof()
    missing = []
    for cmd in commands():
        sec = man_section(cmd)
        longs, shorts = help_options(cmd)
        for opt in sorted(longs):
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), sec):
                missing.append("%s %s" % (cmd, opt))
        for opt in sorted(shorts):
            if not re.search(r"^\.(?:BI|BR|B) %s(?![\w-])" % re.escape(opt), sec, re.M):
                missing.append("%s %s" % (cmd, opt))
    fptest.eq(missing, [], "options missing from man/flowprof.1")
    src = open(MAN).read()
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "FLOW FILE", "SNAPSHOT",
                    "METRICS", "HTML REPORT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        assert re.search(r'^\.SH "?%s"?$' % section, src, re.M), "man section %s" % section
    # The exit statuses the code defines (user/commands.h) are all there.
    codes = re.findall(r"^\.TP\n\.B (\d+)$", src.split(".SH \"EXIT STATUS\"")[1], re.M)
    fptest.eq(codes[:7], ["0", "1", "2", "126", "127", "130", "143"],
              "exit statuses in the man page")
    # Same version as the binary.
    version = fptest.flowprof("--version").stdout.split()[1]
    th = re.search(r"^\.TH .*$", src, re.M).group(0)
    assert '"flowprof %s"' % version in th, "man page version %s: %s" % (version, th)


@test
def man_page_renders_without_warnings():
    r = subprocess.run(["groff", "-t", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True,
                       text=True)
    fptest.eq((r.returncode, r.stderr), (0, ""), "groff -ww")
    r = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
    fptest.eq(r.returncode, 0, "man -l")
    assert "flowprof top" in r.stdout and "EXIT STATUS" in r.stdout, "rendered page"


def complete(line, cwd=None):
    """What the bash completion offers for the command line (cursor at the end)."""
    script = (
        'source %s\n'
        'COMP_LINE=%s\n'
        'read -ra COMP_WORDS <<< "$COMP_LINE"\n'
        '[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")\n'
        'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
        '_flowprof\n'
        'printf "%%s\\n" "${COMPREPLY[@]}"\n' % (COMPLETION, _sh_quote(line)))
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.splitlines() if w]


def _sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


@test
def bash_completion_offers_every_command_and_option():
    viewslib.need_flowprof()
    cmds = commands()
    offered = complete("flowprof ")
    fptest.eq(sorted(c for c in offered if not c.startswith("-")), sorted(cmds),
              "commands completed")
    for cmd in cmds:
        longs, shorts = help_options(cmd)
        opts = set(complete("flowprof %s -" % cmd))
        fptest.eq(sorted((longs | shorts) - opts), [], "options of %s not completed" % cmd)
    fptest.eq(complete("flowprof top --mo"), ["--mode"], "prefix")
    fptest.eq(complete("flowprof record --mode "), ["auto", "session", "multi", "single"],
              "--mode values")
    fptest.eq(complete("flowprof serve --listen=127"), ["127.0.0.1:9464"], "--listen=value")
    d = tempfile.mkdtemp(prefix="flowprof-compl-")
    for name in ("a.json", "b.yaml", "c.txt"):
        open(os.path.join(d, name), "w").close()
    os.mkdir(os.path.join(d, "sub"))
    fptest.eq(sorted(complete("flowprof report ", cwd=d)), ["a.json", "sub"], "snapshots")
    fptest.eq(sorted(complete("flowprof top -f ", cwd=d)), ["b.yaml", "sub"], "flow files")
    fptest.eq(complete("flowprof top -p %d" % os.getpid()), [str(os.getpid())], "pids")


@test
def make_install_honours_prefix_and_destdir():
    viewslib.need_flowprof()
    dest = tempfile.mkdtemp(prefix="flowprof-install-")
    # -o: install what is built; never rebuild here (others may be editing).
    r = subprocess.run(["make", "--no-print-directory", "-o", "build/flowprof", "install",
                        "PREFIX=/opt/fp", "DESTDIR=" + dest], cwd=fptest.ROOT,
                       capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "make install\n" + r.stdout + r.stderr)
    want = {"opt/fp/bin/flowprof": 0o755, "opt/fp/share/man/man1/flowprof.1": 0o644,
            "opt/fp/share/bash-completion/completions/flowprof": 0o644}
    got = {}
    for root, _, files in os.walk(dest):
        for f in files:
            p = os.path.join(root, f)
            got[os.path.relpath(p, dest)] = os.stat(p).st_mode & 0o777
    fptest.eq(got, want, "installed files and modes")
    r = subprocess.run([os.path.join(dest, "opt/fp/bin/flowprof"), "--version"],
                       capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "installed binary runs")
    r = subprocess.run(["make", "--no-print-directory", "uninstall", "PREFIX=/opt/fp",
                        "DESTDIR=" + dest], cwd=fptest.ROOT, capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "make uninstall")
    left = [f for _, _, fs in os.walk(dest) for f in fs]
    fptest.eq(left, [], "files left after uninstall")
    shutil.rmtree(dest)


@test
def usage_errors_exit_2_and_name_the_command():
    viewslib.need_flowprof()
    for cmd in commands():
        r = fptest.flowprof(cmd, "--no-such-option", check=False)
        fptest.eq(r.returncode, 2, "exit status of %s --no-such-option" % cmd)
        fptest.eq(r.stderr.splitlines()[0],
                  "flowprof %s: unrecognized option '--no-such-option'" % cmd,
                  "first stderr line")
    # an option whose meaning needs another: said before anything else runs
    r = fptest.flowprof("record", "-f", "/nonexistent.yaml", "--unprobed", "1", check=False)
    fptest.eq((r.returncode, r.stderr.splitlines()[0]),
              (2, "flowprof record: --unprobed measures after a recording of known length: "
               "give -d SECONDS too"), "--unprobed without -d")
    r = fptest.flowprof("frobnicate", check=False)
    fptest.eq(r.returncode, 2, "exit status of an unknown command")
    fptest.eq(r.stderr.splitlines()[0], "flowprof: unknown command 'frobnicate'", "message")


if __name__ == "__main__":
    fptest.main()
