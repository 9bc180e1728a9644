#!/bin/sh
# Runs every test: the cmocka unit tests (built under ASan + UBSan) and the
# end-to-end tests (real BPF probes on real processes). Each speaks TAP
# ("ok N - name" / "not ok N - name" / "ok N - name # SKIP reason"); this
# script counts them and prints the closing line "N passed, N failed, N
# skipped" (a skip is never a pass). Exits non-zero on any failure.
#
#   tests/run-tests.sh [PATTERN]     only suites whose file name contains PATTERN
set -u
cd "$(dirname "$0")/.."
pattern="${1:-}"
log_dir=build/test-logs
mkdir -p "$log_dir"
passed=0
failed=0
skipped=0
failed_names=""
failed_logs=""
: >"$log_dir/skipped.txt"

run_suite() { # name, command...
	name=$1; shift
	case "$name" in *"$pattern"*) ;; *) return ;; esac
	log="$log_dir/$(echo "$name" | tr / -).log"
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	ok=$(grep '^ok ' "$log" | grep -vc '# SKIP')
	skip=$(grep '^ok ' "$log" | grep -c '# SKIP')
	notok=$(grep -c '^not ok ' "$log")
	grep -E '^(ok|not ok) ' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		# The suite died without reporting a failure: count that as one.
		echo "   not ok - $name exited with status $rc (see $log)"
		notok=1
	fi
	if [ "$notok" -gt 0 ]; then
		failed_names="$failed_names $name"
		failed_logs="$failed_logs $log"
		echo "   --- tail of $log:"
		tail -n 25 "$log" | sed 's/^/   | /'
	fi
	passed=$((passed + ok))
	skipped=$((skipped + skip))
	grep '^ok .*# SKIP' "$log" | sed "s|^|$name: |" >>"$log_dir/skipped.txt"
	failed=$((failed + notok))
}

export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	# built from a source since renamed or split: stale, not a suite
	[ -f "tests/unit/$(basename "$t").c" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/test_*.py; do
	[ -f "$t" ] || continue
	run_suite "e2e/$(basename "$t" .py)" /usr/bin/python3 "$t"
done

if [ -n "$failed_names" ]; then
	echo "failed suites:$failed_names"
	# Why, once more at the end, where a CI excerpt that shows only the
	# output's tail still has it: each failure's message, from its log.
	for log in $failed_logs; do
		echo "   --- why, from $log:"
		awk '/^not ok /                      { print; why = 0; next }
		     /^# [A-Za-z_.]*(Error|Exception)/ { why = 1 }
		     /^# [^ ]/ && !/(Error|Exception)/  { why = 0 }
		     /^[^#]/                           { why = 0 }
		     why || /FAILED|ERROR/             { print }' "$log" | head -n 40 | sed 's/^/   | /'
	done
fi
[ "$skipped" -gt 0 ] && echo "skipped (the host lacks a feature):" && sed 's/^/   /' "$log_dir/skipped.txt"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
