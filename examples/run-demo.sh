#!/bin/bash
# The demo (make demo): start the shop's three services, put them under load,
# record them with flowprof for a few seconds, print the report, then the load
# generator's own measurements to compare. Runs from any directory; recording
# needs root. Environment: BUILD (default build), RATE (requests/s, default
# 1000), CLIENTS (default 8), SECONDS_RECORDED (default 5).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RATE=${RATE:-1000}
CLIENTS=${CLIENTS:-8}
SECONDS_RECORDED=${SECONDS_RECORDED:-5}
BIN=$BUILD/examples
FLOWPROF=$BUILD/flowprof
SNAPSHOT=$BUILD/demo-snapshot.json

say() { printf '\n== %s\n' "$*"; }
fail() { echo "run-demo: $*" >&2; exit 1; }

for prog in demo-gateway demo-pricing demo-store demo-load; do
	[ -x "$BIN/$prog" ] || fail "$BIN/$prog is missing: build it with 'make' first"
done
[ -x "$FLOWPROF" ] || fail "$FLOWPROF is missing: build it with 'make' first"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/flowprof-demo.XXXXXX")
PIDS=()

# Stops what this script started, by pid, and removes the sockets and journal.
cleanup() {
	local status=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$RUN"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() {   # start NAME PROGRAM ARGS...: a service in the background, logged in $RUN
	local name=$1
	shift
	"$@" >"$RUN/$name.log" 2>&1 &
	PIDS+=($!)
}

wait_for_socket() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	cat "$RUN"/*.log >&2
	fail "$1 did not appear"
}

# The flow file names the binaries relative to itself (../build/examples);
# a different BUILD gets a copy with absolute paths.
FLOWS=examples/demo.yaml
if [ "$(realpath "$BIN")" != "$(realpath examples/../build/examples 2>/dev/null || true)" ]; then
	FLOWS=$RUN/demo.yaml
	sed "s#\.\./build/examples/#$(realpath "$BIN")/#" examples/demo.yaml >"$FLOWS"
fi

say "Starting the shop in $RUN"
start pricing "$BIN/demo-pricing" --listen "$RUN/pricing.sock" --workers 2
start store "$BIN/demo-store" --listen "$RUN/store.sock" --journal "$RUN/orders.journal" --workers 4
wait_for_socket "$RUN/pricing.sock"
wait_for_socket "$RUN/store.sock"
start gateway "$BIN/demo-gateway" --listen "$RUN/gateway.sock" \
	--pricing "$RUN/pricing.sock" --store "$RUN/store.sock" --workers 4
wait_for_socket "$RUN/gateway.sock"
cat "$RUN"/pricing.log "$RUN"/store.log "$RUN"/gateway.log

say "Load: $CLIENTS clients, $RATE requests/s, 3 browses per checkout"
"$BIN/demo-load" --gateway "$RUN/gateway.sock" --clients "$CLIENTS" --rate "$RATE" \
	--mix 3:1 --duration 12 >"$RUN/load.txt" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
sleep 1   # let the load settle before measuring

say "$FLOWPROF record -f $FLOWS -d $SECONDS_RECORDED -o $SNAPSHOT"
status=0
"$FLOWPROF" record -f "$FLOWS" -d "$SECONDS_RECORDED" -o "$SNAPSHOT" || status=$?
case $status in
0) ;;
130 | 143) fail "interrupted" ;;
*) fail "flowprof record failed with status $status" ;;
esac

say "$FLOWPROF report $SNAPSHOT"
"$FLOWPROF" report "$SNAPSHOT"

# Stop the load now, so its figures cover about the same seconds as the recording.
kill -TERM "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" || true
say "The load generator's own measurements, for comparison"
cat "$RUN/load.txt"
cat <<'NOTE'

flowprof's RATE column should match the clients' rates per type. Its MEAN for
gateway.browse and gateway.checkout is the time inside the gateway; the
clients' mean also includes connecting and waiting for a free worker.
NOTE
