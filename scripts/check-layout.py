#!/usr/bin/env python3
"""Checks the layout of user/ (docs/architecture.md): one folder per stage,
and code outside a folder X includes only X's public header, "X/X.h".

Every #include in user/, tests/unit/, tests/fixtures/, fuzz/ and bench/ is
resolved as the
compiler resolves it (the including file's folder first, then -Iinclude
-Iuser -Ibuild); an include that lands in user/X/ from outside user/X/ must
be user/X/X.h. A source file directly under user/, or an include of a name
that only exists in some stage folder (the old flat path), fails too.

    scripts/check-layout.py          prints each problem; exit 1 if any

One exception, declared in NARROW_PUBLIC below: probe/site_class.h, the
site classes alone, which the model includes instead of probe/probe.h (that
one brings resolution, ELF and USDT, and kernel headers the WebAssembly
build of the model does not have).
"""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
INCLUDE_DIRS = ["include", "user", "build"]  # the Makefile's -I order
SCANNED = ["user/*/*.c", "user/*/*.h", "tests/unit/*.c", "tests/unit/*.h", "tests/fixtures/*.h",
           "fuzz/*.c", "bench/*.c", "bench/*.h"]
# Headers that code outside their folder may include besides "X/X.h", and
# the folders allowed to: keep this short, and say why in docs/architecture.md.
NARROW_PUBLIC = {"user/probe/site_class.h": {"model"}}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*(["<])([^">]+)[">]')


def stage_of(path):
    """The stage folder a path (relative to ROOT) is in, or None."""
    parts = path.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "user" else None


def resolve(includer, name, quoted):
    dirs = ([os.path.dirname(includer)] if quoted else []) + INCLUDE_DIRS
    for d in dirs:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(ROOT, p)):
            return p
    return None


def main():
    os.chdir(ROOT)
    problems = []
    for p in sorted(glob.glob("user/*.[ch]")):
        problems.append("%s: a source file outside the stage folders (user/<stage>/)" % p)
    stages = sorted(d for d in os.listdir("user") if os.path.isdir(os.path.join("user", d)))
    # Header names that exist in a stage folder: an include of one of them
    # that does not resolve is most likely the flat layout's old path.
    stage_headers = {}
    for s in stages:
        for h in glob.glob("user/%s/*.h" % s):
            stage_headers.setdefault(os.path.basename(h), []).append(h)
    files = sorted(set(f for pattern in SCANNED for f in glob.glob(pattern)))
    for f in files:
        own = stage_of(f)
        with open(f, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
        for n, line in enumerate(lines, 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            quoted, name = m.group(1) == '"', m.group(2)
            target = resolve(f, name, quoted)
            if target is None:
                moved = stage_headers.get(os.path.basename(name)) if quoted else None
                if moved:
                    problems.append('%s:%d: "%s" is not found; it is %s' %
                                    (f, n, name, " or ".join(moved)))
                continue  # a system or generated header
            stage = stage_of(target)
            if stage is None or stage == own:
                continue
            public = "user/%s/%s.h" % (stage, stage)
            if own in NARROW_PUBLIC.get(target, ()) and name == target[len("user/"):]:
                continue
            if target != public:
                problems.append('%s:%d: includes %s, private to user/%s/: outside the folder '
                                'include only its public header, "%s/%s.h"' %
                                (f, n, target, stage, stage, stage))
            elif name != "%s/%s.h" % (stage, stage):
                problems.append('%s:%d: includes %s as "%s": write "%s/%s.h"' %
                                (f, n, target, name, stage, stage))
    for p in problems:
        print("layout: " + p, file=sys.stderr)
    if problems:
        print("layout: %d problem(s); see docs/architecture.md" % len(problems), file=sys.stderr)
        return 1
    print("layout: %d files, every include across stages goes through a public header" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
