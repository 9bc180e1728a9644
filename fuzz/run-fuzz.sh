#!/bin/sh
# Runs flowprof's libFuzzer targets (build/fuzz/fuzz_*, built by
# `make fuzz-smoke`), each for FUZZ_SECONDS, starting from the committed
# seed corpus fuzz/corpus/NAME plus whatever earlier runs found
# (BUILD/fuzz/corpus/NAME, where new inputs go: the committed seeds are
# never modified). Prints one TAP line per target with the number of
# executions it survived; a crash, leak, sanitizer report or timeout fails
# it, and the input that did it is kept in BUILD/fuzz/artifacts/NAME/.
#
#   fuzz/run-fuzz.sh [NAME...]       e.g. fuzz/run-fuzz.sh snapshot elf
#   FUZZ_SECONDS=600 (per target)  BUILD=build  FUZZ_NICE=10
#   FUZZ_RUNS=10000000: stop each target after that many executions instead
#   (FUZZ_SECONDS is then only a cap)
#
# Exits non-zero if any target failed (or none was found).
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
seconds=${FUZZ_SECONDS:-600}
nice_level=${FUZZ_NICE:-10}
runs=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}

if [ $# -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		set -- "$@" "${n#fuzz_}"
	done
fi

echo "1..$#"
i=0
failed=0
for name in "$@"; do
	i=$((i + 1))
	bin="$build/fuzz/fuzz_$name"
	work="$build/fuzz/corpus/$name"
	artifacts="$build/fuzz/artifacts/$name"
	log="$build/fuzz/logs/$name.log"
	if [ ! -x "$bin" ]; then
		echo "not ok $i - $name: $bin not built (make fuzz-smoke)"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work" "$artifacts" "$(dirname "$log")"
	# -timeout: one input taking 20 s is a hang worth reporting.
	# -rss_limit_mb: the parsers' memory is proportional to the input.
	started=$(date +%s)
	# shellcheck disable=SC2086 # $runs is empty or one option
	nice -n "$nice_level" "$bin" -max_total_time="$seconds" $runs -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$work" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - started))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
		echo "ok $i - $name: ${execs} executions in ${elapsed} s (${rate}/s), 0 crashes"
	else
		failed=$((failed + 1))
		echo "not ok $i - $name: exit status $rc after ${execs:-?} executions (log: $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$log" |
			head -n 10 | sed 's/^/# /'
	fi
done
[ "$failed" -eq 0 ]
