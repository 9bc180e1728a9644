#!/bin/sh
# `make bench` runs this once the binaries are built: per-call overhead at
# each probe-site class against the empty-probe floors and bpftrace,
# start-up/attach/detach at 1..1000 handlers, agent CPU and RSS, the
# sched_switch program's host-wide cost, accuracy against the targets' own
# clocks, PostgreSQL and redis at saturation against the model. Prints the
# tables and writes the results files (bench/README.md).
# Extra arguments go to bench/bench.py (--help).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF programs and uprobes); retry: sudo make bench" >&2
	exit 1
fi
exec /usr/bin/python3 bench/bench.py "$@"
