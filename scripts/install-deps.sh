#!/bin/sh
# Installs the Debian 12 packages flowprof needs, by what they are for:
#
#   build   `make`: the loader, its BPF object, the HTML report's WebAssembly
#           model, and the example and test programs that `make` builds
#   demo    `make demo`: what building and running the demo needs; the same
#           as build (the demo's services are built from examples/)
#   check   `make check`: build, plus every tool the tests start (chromium,
#           prometheus, redis, nginx, postgresql, a JDK, golang, ...);
#           `test` and `all` are other names for it
#   bench   `make bench`: check, plus bpftrace and GNU time
#
# Idempotent and quiet: asks apt only for what dpkg says is missing, and
# prints nothing when nothing is. While apt works, one line shows how far it
# is, updated in place on a terminal, and a line per quarter elsewhere (CI
# logs); apt's own messages go to a log, shown when it fails.
# Usage: scripts/install-deps.sh [build|demo|check|bench]   (default: check)
set -eu

# the loader, its BPF object and the HTML report's WebAssembly model; curl.h
# for report --prometheus (libcurl3-gnutls, loaded when used); sys/sdt.h
# (systemtap-sdt-dev) for the USDT test target that `make` builds
build_pkgs="make gcc clang llvm pkg-config libbpf-dev libelf-dev libcapstone-dev zlib1g-dev bpftool libyaml-dev libjson-c-dev libncurses-dev libmicrohttpd-dev libcurl4-gnutls-dev libgraphviz-dev lld-14 wasi-libc libclang-rt-14-dev-wasm32 xxd systemtap-sdt-dev"
# the unit tests (cmocka), the layout check and the e2e tests (python3), the
# fuzz targets (clang's runtimes), C++ targets built by the tests, valgrind,
# top in tmux, serve against Prometheus, the HTML page in Chromium, and
# Graphviz's dot
check_pkgs="libcmocka-dev python3 libclang-rt-14-dev g++ valgrind tmux prometheus chromium graphviz"
# the metrics endpoint's TLS tests make a self-signed certificate
check_pkgs="$check_pkgs openssl"
# sweep (redis-benchmark) and JMVA export (xmllint) tests
check_pkgs="$check_pkgs redis-server redis-tools libxml2-utils"
# real services (tests/e2e/test_realworld*.py): redis, nginx with wrk and ab,
# Debian's CPython (USDT probes), a JDK for HotSpot's probes
check_pkgs="$check_pkgs nginx wrk apache2-utils python3.11 openjdk-17-jdk-headless"
# Go handlers (tests/targets/gohttp.go, gogrow.go) and a real database
# (PostgreSQL under pgbench) for the capacity tests and the bench's saturation
# section (tests/e2e/saturation.py: PostgreSQL and redis-server, pinned with
# util-linux's taskset, which Debian always has)
check_pkgs="$check_pkgs golang-go postgresql postgresql-contrib"
# make bench compares against bpftrace's equivalent script; GNU time measures
# the agent's lifetime peak RSS
bench_pkgs="bpftrace time"

set_name=${1:-check}
case "$set_name" in
build | demo) want="$build_pkgs" ;;
check | test | all) set_name=check want="$build_pkgs $check_pkgs" ;;
bench) want="$build_pkgs $check_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|demo|check|bench]" >&2; exit 2 ;;
esac

missing=""
n_missing=0
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" n_missing=$((n_missing + 1)) ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages ($set_name):$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/install-deps.XXXXXX")
trap 'rm -f "$log" "$log.rc"' EXIT

# apt's progress (APT::Status-Fd lines "dlstatus:N:PCT:what" and
# "pmstatus:PKG:PCT:what") as one line of stderr.
show_progress() {
	last=""
	while IFS=: read -r kind _ pct what; do
		case $kind in
		dlstatus) phase=downloading ;;
		pmstatus) phase=installing ;;
		*) continue ;;
		esac
		pct=${pct%%.*}
		case $pct in '' | *[!0-9]*) pct=0 ;; esac
		if [ -t 2 ]; then
			printf '\r\033[Kinstall-deps: %s %3d%% %.50s' "$phase" "$pct" "$what" >&2
		elif [ "$phase $((pct / 25))" != "$last" ]; then
			last="$phase $((pct / 25))"
			echo "install-deps: $phase $((pct / 25 * 25))% ($what)" >&2
		fi
	done
	if [ -t 2 ]; then printf '\r\033[K' >&2; fi
}

# apt-get ARGS, its messages in $log, its progress on stderr; its exit status.
apt_get() {
	{
		apt-get -q -y -o APT::Status-Fd=3 -o Dpkg::Use-Pty=0 "$@" 3>&1 >>"$log" 2>&1
		echo $? >"$log.rc"
	} | show_progress
	return "$(cat "$log.rc")"
}

packages=packages
[ "$n_missing" -eq 1 ] && packages=package
echo "install-deps: installing $n_missing $packages ($set_name):$missing" >&2
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# the package lists may be missing or old (a fresh machine): update, retry
# shellcheck disable=SC2086 # $missing: one word per package
if ! apt_get install --no-install-recommends $missing; then
	echo "install-deps: apt-get update (the package lists were missing or old)" >&2
	if ! apt_get update || ! apt_get install --no-install-recommends $missing; then
		echo "install-deps: apt-get failed; the end of its output:" >&2
		tail -n 25 "$log" | sed 's/^/  /' >&2
		exit 1
	fi
fi
echo "install-deps: installed $n_missing $packages ($set_name) and what they need in" \
	"$(($(date +%s) - started)) s" >&2
