// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for `make bench`: BPF programs that do nothing, so that a probe
 * hit costs only what the kernel's uprobe machinery costs. bench_floor.c
 * attaches them as perf-event uprobes (+ uretprobes), as uprobe_multi links,
 * or as one uprobe.session link (the mechanisms flowprof uses), with a
 * call's exit seen by a uretprobe or by a uprobe at an exit site.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

/* A uprobe at an exit site (`ret`, tail-call `jmp`). */
SEC("uprobe")
int empty_exit_site(void *ctx)
{
	return 0;
}

/* Returning 0 from a session program's entry keeps its return probe armed;
 * the cookie is 1 at an exit site and at an entry whose exit is one (as
 * flowprof's handler_session returns 1 there). */
SEC("uprobe")
int empty_session(void *ctx)
{
	return bpf_get_attach_cookie(ctx) & 1;
}

/* The floor of flowprof's sched_switch program: the same attachment (a BTF
 * tracepoint), nothing done. */
SEC("tp_btf/sched_switch")
int BPF_PROG(empty_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}
