#!/usr/bin/env python3
"""Short fuzzing pass for make check: every libFuzzer target under fuzz/
(flow-file parser, snapshot loader, ELF symbol reader, USDT note parser, the
fleet's exposition reader) runs
for FUZZ_SMOKE_SECONDS (default 10) from its committed seed corpus, through
fuzz/run-fuzz.sh. A crash, leak, sanitizer report or hang fails the test;
the input is kept in build/fuzz/artifacts/NAME/. `make fuzz` runs the same
targets for longer (FUZZ_SECONDS, default 600).
"""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
from fptest import test  # noqa: E402

SECONDS = int(os.environ.get("FUZZ_SMOKE_SECONDS", "10"))
RUNNER = os.path.join(fptest.ROOT, "fuzz", "run-fuzz.sh")


def make_fuzz_test(name):
    def t():
        binary = os.path.join(fptest.BUILD, "fuzz", "fuzz_" + name)
        if not os.access(binary, os.X_OK):
            raise AssertionError("%s is not built: run make fuzz-smoke" % binary)
        env = dict(os.environ, BUILD=fptest.BUILD, FUZZ_SECONDS=str(SECONDS))
        r = subprocess.run([RUNNER, name], capture_output=True, text=True, env=env,
                           timeout=SECONDS + 120)
        sys.stdout.write("".join("# " + line + "\n" for line in r.stdout.splitlines()))
        m = re.search(r"^ok 1 - %s: (\d+) executions" % re.escape(name), r.stdout, re.M)
        if r.returncode != 0 or not m:
            raise AssertionError("fuzz_%s failed (exit %d):\n%s%s"
                                 % (name, r.returncode, r.stdout, r.stderr))
        if int(m.group(1)) < 1000:
            raise AssertionError("fuzz_%s ran only %s inputs in %d s" % (name, m.group(1), SECONDS))
    t.__name__ = "fuzz_" + name
    return t


for _src in sorted(glob.glob(os.path.join(fptest.ROOT, "fuzz", "fuzz_*.c"))):
    test(make_fuzz_test(os.path.basename(_src)[len("fuzz_"):-len(".c")]))

if __name__ == "__main__":
    fptest.main()
