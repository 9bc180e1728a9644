// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for `make bench`: BPF programs that do nothing, so that a probe
 * hit costs only what the kernel's uprobe machinery costs. bench_floor.c
 * attaches them as a perf-event uprobe + uretprobe pair, as uprobe_multi
 * links, or as one uprobe.session link (the mechanisms flowprof uses).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	return 0;
}

/* Returning 0 from a session program's entry keeps its return probe armed. */
SEC("uprobe")
int empty_session(void *ctx)
{
	return 0;
}
