#!/bin/sh
# Installs the Debian 12 packages flowprof needs to build, test and run its
# demo. Idempotent: asks apt only for what dpkg says is missing.
# Usage: scripts/install-deps.sh [build|test|all|bench]   (default: all)
set -eu

# the loader, its BPF object and the HTML report's WebAssembly model; curl.h
# for report --prometheus (libcurl3-gnutls, loaded when used); sys/sdt.h
# (systemtap-sdt-dev) for the USDT test target that `make` builds
build_pkgs="make gcc clang llvm pkg-config libbpf-dev libelf-dev libcapstone-dev zlib1g-dev bpftool libyaml-dev libjson-c-dev libncurses-dev libmicrohttpd-dev libcurl4-gnutls-dev libgraphviz-dev lld-14 wasi-libc libclang-rt-14-dev-wasm32 xxd systemtap-sdt-dev"
test_pkgs="libcmocka-dev python3 libclang-rt-14-dev g++ valgrind tmux prometheus chromium graphviz"
# the metrics endpoint's TLS tests make a self-signed certificate
test_pkgs="$test_pkgs openssl"
# sweep (redis-benchmark) and JMVA export (xmllint) tests
test_pkgs="$test_pkgs redis-server redis-tools libxml2-utils"
# real services (tests/e2e/test_realworld*.py): redis, nginx with wrk and ab,
# Debian's CPython (USDT probes), a JDK for HotSpot's probes
test_pkgs="$test_pkgs nginx wrk apache2-utils python3.11 openjdk-17-jdk-headless"
# Go handlers (tests/targets/gohttp.go, gogrow.go) and a real database
# (PostgreSQL under pgbench) for the capacity tests
test_pkgs="$test_pkgs golang-go postgresql postgresql-contrib"
# make bench compares against bpftrace's equivalent script; GNU time measures
# the agent's lifetime peak RSS
bench_pkgs="bpftrace time"

case "${1:-all}" in
build) want="$build_pkgs" ;;
test|all) want="$build_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|test|all|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi
