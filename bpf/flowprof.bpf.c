// SPDX-License-Identifier: GPL-2.0
/*
 * flowprof's in-kernel accounting: one set of programs for every handler.
 *
 * Each probe point carries a BPF cookie naming its handler, the flows it is
 * the entry of, and what kind of probe it is (include/flowprof.h). An entry
 * pushes a frame on the thread's (or goroutine's) stack; an exit finds the
 * frame by its key, pops it and folds its duration into per-CPU aggregates.
 * Nothing is sent to userspace per call.
 *
 * A call's exit is seen in one of two ways, chosen per binary by the loader:
 *  - at its exit sites: ordinary uprobes on every `ret` and tail-call `jmp`
 *    of the function. Nothing in the target's memory changes, so an
 *    exception, a longjmp or flowprof's own death cannot hurt it;
 *  - by the kernel's uretprobe, which swaps the return address on the stack
 *    for a trampoline: cheaper on some kernels, but an unwinder (C++ throw,
 *    Go's stack copying) that meets the trampoline ends the program, so it
 *    is used only where nothing unwinds.
 *
 * Three attach modes share this code (user/attach picks the cheapest the
 * kernel offers): uprobe.session (one program, both directions), and
 * uprobe_multi or single uprobes (an entry and a return program).
 *
 *   state.bpf.h    per-thread and per-goroutine state, instances, concurrency
 *   account.bpf.h  entries, exits, frames, unwinding, probe-cost correction
 *   sched.bpf.h    sched_switch (on-CPU time), thread exit and exec
 *   lang.bpf.h     USDT pairs, Python and Java
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "flowprof.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load; the verifier prunes what they disable. */
const volatile __u32 n_handlers = 1;
const volatile __u32 n_flows = 0;
const volatile __u32 max_instances = DEFAULT_MAX_INSTANCES;
const volatile bool use_task_storage = true;
/* flowprof's own process (calibration sites) */
const volatile __u32 self_tgid = 0;
/* `record -- CMD`: count only this process and its descendants (0 = all) */
const volatile __u32 root_tgid = 0;
const volatile bool track_oncpu = true;
/* Stack pointer after `ret` minus stack pointer at entry (8 on x86-64). */
const volatile __u64 ret_sp_adjust = 8;
/* Handler ids from here on are the calibration's (user/attach/calibrate.c). */
const volatile __u32 n_flow_handlers = ~0U;

/* Whether the flow's handlers are counted: set by userspace once every probe
 * is attached, cleared before the last reading of the maps, so that every
 * handler is counted over one window (probes attach and detach one by one,
 * and the maps are read one by one, while calls go on). */
bool armed = false;

__u64 counters[CNT_MAX] = {};
/* Processes with a thread that has state, a bit per tgid modulo
 * TRACKED_BITS (a collision only stamps a few more switches): lets
 * sched_switch pass over other processes' switches without a task-storage
 * lookup, which can fail (bpf/sched.bpf.h). */
#define TRACKED_WORDS 4096
#define TRACKED_BITS (TRACKED_WORDS * 64)
__u64 tracked_tgids[TRACKED_WORDS] = {};
__u32 next_instance = 0;
/* Written by userspace (calibration), read per call. */
struct probe_cost_table probe_costs = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* resized to n_handlers */
	__type(key, __u32);
	__type(value, struct handler_stats);
} handler_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, DEFAULT_MAX_EDGES);
	__type(key, __u64); /* parent << 32 | child */
	__type(value, __u64);
} edges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* resized to n_flows * n_handlers */
	__type(key, __u32);
	__type(value, __u64);
} flow_visits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DEFAULT_MAX_INSTANCES);
	__type(key, __u32); /* tgid */
	__type(value, __u32); /* slot */
} instances SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEFAULT_MAX_INSTANCES + 1); /* resized: slots + the pool */
	__type(key, __u32);
	__type(value, struct inst_info);
} instance_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* resized to max_instances * n_handlers */
	__type(key, __u32);
	__type(value, struct inst_stats);
} instance_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} task_state SEC(".maps");

/* Fallback for kernels without task storage in tracing programs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DEFAULT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_state);
} thread_state_hash SEC(".maps");

/* Goroutines inside Go handlers (COOKIE_GO), by their g pointer. LRU: a
 * goroutine that dies inside a handler (a panic) leaves its state behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DEFAULT_MAX_GOROUTINES);
	__type(key, __u64);
	__type(value, struct thread_state);
} go_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_state);
} zero_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_switch);
} cpu_switch SEC(".maps");

extern bool bpf_session_is_return(void) __ksym __weak;

#include "state.bpf.h"
#include "account.bpf.h"

/* A function's entry; with uretprobe exits also its return (single and
 * uprobe_multi modes attach handler_return for that). */
SEC("uprobe")
int BPF_KPROBE(handler_entry)
{
	return function_entry(ctx, bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(handler_return)
{
	return function_exit(ctx, bpf_get_attach_cookie(ctx), PT_REGS_SP(ctx) - ret_sp_adjust,
			     SLOT_EXIT_URETPROBE);
}

/* An exit site (`ret`, tail-call `jmp`): the stack pointer is the entry's,
 * or COOKIE_EXIT_SP bytes below it ahead of the epilogue's pops. */
SEC("uprobe")
int BPF_KPROBE(handler_exit_site)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	return function_exit(ctx, cookie, PT_REGS_SP(ctx) + COOKIE_EXIT_SP(cookie),
			     COOKIE_SLOT(cookie));
}

/* uprobe.session: libbpf 1.1 does not know the section; the loader sets
 * the expected attach type and creates the link itself. One link covers a
 * binary's entries and exit sites; an entry returns 1 when its exit is not
 * the return trampoline, and the kernel then leaves the stack alone. */
SEC("uprobe")
int BPF_KPROBE(handler_session)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (bpf_session_is_return())
		return function_exit(ctx, cookie, PT_REGS_SP(ctx) - ret_sp_adjust,
				     SLOT_EXIT_URETPROBE);
	if (cookie & COOKIE_EXIT_SITE) {
		function_exit(ctx, cookie, PT_REGS_SP(ctx) + COOKIE_EXIT_SP(cookie),
			      COOKIE_SLOT(cookie));
		return 1;
	}
	/* 0 or 1 for the verifier: on_entry is verified apart (a global function) */
	return function_entry(ctx, cookie) ? 1 : 0;
}

/*
 * After the recording, while the bundles' CPU time is measured without its
 * probes (record --unprobed): an entry probe that counts its handler's calls
 * (in handler_stats.entries, read no more by then), so that the CPU time a
 * call does not rest on the load keeping its rate once the probes go. What
 * each hit cost the thread is charged as a recorded call's probes are
 * (probe_cpu_ns): between the calibration's warm and cold figures, by how
 * long its state lookup took (bpf/account.bpf.h, probe_temperature; a
 * call's two lookups are the thermometer's scale).
 */
SEC("uprobe")
int BPF_KPROBE(count_entry)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), t0 = bpf_ktime_get_ns(), therm;
	struct thread_state *st = thread_state_get(false);
	__u32 hid = COOKIE_HANDLER(cookie);
	struct handler_stats *hs;

	therm = bpf_ktime_get_ns() - t0;
	hs = bpf_map_lookup_elem(&handler_stats, &hid);
	if (!hs)
		return 0;
	hs->entries++;
	/* a thread with no state yet: its lookup says nothing, the middle */
	hs->probe_cpu_ns += hit_cost_at(COOKIE_SLOT(cookie), st ? probe_temperature(2 * therm) : 512);
	return 0;
}

#include "sched.bpf.h"
#include "lang.bpf.h"
