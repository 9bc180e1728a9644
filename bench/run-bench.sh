#!/bin/sh
# `make bench` runs this once the binaries are built: per-call overhead
# against the empty-probe floor and bpftrace, attach/detach at 1..1000
# handlers, agent CPU and RSS, BPF map memory. Prints one table and writes
# bench/results.json. Extra arguments go to bench/bench.py (--help).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF programs and uprobes); retry: sudo make bench" >&2
	exit 1
fi
exec /usr/bin/python3 bench/bench.py "$@"
