// SPDX-License-Identifier: GPL-2.0
/*
 * flowprof's in-kernel accounting: one program pair for every handler.
 *
 * Each probe point carries a BPF cookie naming its handler (and the flows it
 * is the entry of). Entry pushes a frame on the thread's stack; return finds
 * the frame by stack pointer, pops it and folds its duration into per-CPU
 * aggregates. Nothing is sent to userspace per call.
 *
 * Three attach modes share this code (user/attach.c picks the cheapest the
 * kernel offers): uprobe.session (one program, both directions), and
 * uprobe_multi or single uprobes (an entry and a return program).
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

__u64 counters[CNT_MAX] = {};
__u32 next_instance = 0;

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
	__uint(max_entries, DEFAULT_MAX_INSTANCES);
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

/* Frames whose real return address was saved (COOKIE_SAVES_RETURN) and is
 * still replaced by the trampoline on the stack: the agent puts those back
 * before it detaches (user/unwind_servicer.c), so that an exception thrown
 * through such a call after flowprof is gone still finds its way. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct open_return_key);
	__type(value, struct open_return);
} open_returns SEC(".maps");

/*
 * The agent's acknowledgements of unwind_hook's requests (below): tid -> the
 * id of the request it has just carried out. Ids are unique
 * (unwind_next_id), so an entry left by a thread that is gone, or by a wait
 * that timed out, can never pass for a new request's. The waiting thread
 * deletes its entry once it has seen it, and on_thread_exit() an entry that
 * came too late; LRU, so that even such leftovers never make the agent's
 * update fail.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} unwind_done SEC(".maps");

__u64 unwind_next_id = 0;

extern bool bpf_session_is_return(void) __ksym __weak;
extern __u64 *bpf_session_cookie(void) __ksym __weak;

static __always_inline void count(enum fp_counter c)
{
	if (c < CNT_MAX)
		__sync_fetch_and_add(&counters[c], 1);
}

/* Each process gets a slot of its own on its first call, up to
 * max_instances; the slot max_instances pools the rest (pid 0). */
static __always_inline __u32 instance_slot(__u32 tgid)
{
	__u32 *slot, fresh, pool = max_instances;
	struct inst_info *info;

	slot = bpf_map_lookup_elem(&instances, &tgid);
	if (slot)
		return *slot;
	fresh = __sync_fetch_and_add(&next_instance, 1);
	if (fresh >= pool) {
		count(CNT_INSTANCES_FULL);
		return pool;
	}
	if (bpf_map_update_elem(&instances, &tgid, &fresh, BPF_NOEXIST)) {
		/* Another thread of the process won the race. */
		slot = bpf_map_lookup_elem(&instances, &tgid);
		return slot ? *slot : pool;
	}
	info = bpf_map_lookup_elem(&instance_info, &fresh);
	if (info)
		info->tgid = tgid;
	return fresh;
}

/* `-- CMD`: is the current process the command or one of its descendants? */
static __always_inline bool descends_from_root(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	for (int i = 0; i < 32; i++) {
		__u32 tgid = BPF_CORE_READ(t, tgid);

		if (tgid == root_tgid)
			return true;
		if (tgid <= 1)
			return false;
		t = BPF_CORE_READ(t, real_parent);
		if (!t)
			return false;
	}
	return false;
}

static __always_inline void init_state(struct thread_state *st, __u64 now)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, slot;
	struct inst_info *info;

	st->tgid = tgid;
	st->tid = (__u32)bpf_get_current_pid_tgid();
	if (tgid == self_tgid) {
		/* flowprof's own calibration calls: no process slot of their own */
		st->inst = max_instances + 1;
		return;
	}
	if (root_tgid && !descends_from_root()) {
		/* decided once per thread: later events cost one branch */
		st->ignored = 1;
		st->inst = max_instances + 1;
		return;
	}
	slot = instance_slot(tgid);
	st->inst = slot + 1;
	info = bpf_map_lookup_elem(&instance_info, &slot);
	if (info)
		__sync_fetch_and_add(&info->threads, 1);
}

static __always_inline struct thread_state *lookup_state(bool create, __u64 now)
{
	struct thread_state *st;

	if (use_task_storage) {
		struct task_struct *task = bpf_get_current_task_btf();

		st = bpf_task_storage_get(&task_state, task, NULL,
					  create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	} else {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		st = bpf_map_lookup_elem(&thread_state_hash, &tid);
		if (!st && create) {
			__u32 zero = 0;
			struct thread_state *z = bpf_map_lookup_elem(&zero_state, &zero);

			if (z)
				bpf_map_update_elem(&thread_state_hash, &tid, z, BPF_NOEXIST);
			st = bpf_map_lookup_elem(&thread_state_hash, &tid);
		}
	}
	if (!st) {
		if (create)
			count(CNT_STATE_FULL);
		return NULL;
	}
	if (!st->inst)
		init_state(st, now);
	return st;
}

/*
 * The thread's off-CPU clock: time spent switched out since its state was
 * created. sched_switch stamps the switch-out; the switch-in time is the
 * last switch on the CPU the thread now runs on, so it is folded in lazily
 * at the thread's next event. In the common case (no switch since the last
 * event) this costs one load: no map lookup on the hot path.
 */
static __always_inline __u64 thread_off_ns(struct thread_state *st)
{
	if (st->out_at) {
		__u32 zero = 0;
		struct cpu_switch *cs = bpf_map_lookup_elem(&cpu_switch, &zero);

		/* The thread runs here now, so this CPU's last switch brought it in. */
		if (cs && cs->at > st->out_at)
			st->off_ns += cs->at - st->out_at;
		st->out_at = 0;
	}
	return st->off_ns;
}

/* The frame is gone (returned, abandoned, its thread exited): its return
 * address slot no longer belongs to it. */
static __always_inline void forget_return(struct thread_state *st, struct frame *fr)
{
	struct open_return_key key = { .tid = st->tid, .sp = fr->sp };

	if (fr->ret_addr)
		bpf_map_delete_elem(&open_returns, &key);
}

static __always_inline void count_incomplete(__u32 hid)
{
	struct handler_stats *hs = bpf_map_lookup_elem(&handler_stats, &hid);

	if (hs)
		hs->incomplete++;
}

/*
 * A frame at the same stack pointer as a new call is still live when the new
 * call is a tail call out of it: the kernel has already hijacked the return
 * address there to its uretprobe trampoline. Otherwise the stack unwound
 * past the frame (longjmp) and a sibling call reuses the slot. Rare path,
 * so reading memory here is fine.
 */
static __always_inline __u64 uretprobe_trampoline(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct xol_area *area = BPF_CORE_READ(task, mm, uprobes_state.xol_area);

	return area ? BPF_CORE_READ(area, vaddr) : 0;
}

static __always_inline bool is_tail_call(__u64 sp)
{
	__u64 ret = 0, tramp = uretprobe_trampoline();

	if (!tramp || bpf_probe_read_user(&ret, sizeof(ret), (void *)sp))
		return false;
	return ret == tramp;
}

struct unwind_walk {
	struct thread_state *st;
	__u64 sp;
	__u32 hid;
};

/* Pops the top frame if the stack has unwound past it (a longjmp or an
 * exception skipped its return): a live caller's frame is always higher
 * than its callee's entry stack pointer. */
static long unwind_frame(__u32 k, void *arg)
{
	struct unwind_walk *w = arg;
	struct thread_state *st = w->st;
	__u32 d = st->depth;
	struct frame *top;

	if (!d || d > MAX_DEPTH)
		return 1;
	top = &st->frames[(d - 1) & (MAX_DEPTH - 1)];
	/* frame key 0: a USDT-style frame, no stack pointer to reason with */
	if (!top->sp || top->sp > w->sp)
		return 1;
	if (top->sp == w->sp && top->hid != w->hid && is_tail_call(w->sp))
		return 1;
	count_incomplete(top->hid);
	count(CNT_ABANDONED);
	forget_return(st, top);
	st->flow_mask = top->flows_before;
	st->depth = d - 1;
	return 0;
}

/*
 * Entry of a handler call. frame_key identifies the frame at its return:
 * for uprobes the stack pointer at entry (exact even through recursion and
 * longjmp); for probe pairs that are not a function's own entry and return
 * (USDT entry/return probes, language runtimes) 0, and the return matches
 * the innermost open frame of the same handler.
 */
static __always_inline int on_entry(__u64 cookie, __u64 frame_key)
{
	__u32 hid = COOKIE_HANDLER(cookie), d;
	__u64 now = bpf_ktime_get_ns();
	struct handler_stats *hs;
	struct thread_state *st;
	struct frame *fr;

	if (hid >= n_handlers)
		return 1;
	hs = bpf_map_lookup_elem(&handler_stats, &hid);
	if (!hs)
		return 1;
	st = lookup_state(true, now);
	if (!st) {
		hs->entries++;
		hs->incomplete++;
		return 1;
	}
	if (st->ignored)
		return 1;
	hs->entries++;
	d = st->depth;
	if (frame_key && d && d <= MAX_DEPTH &&
	    st->frames[(d - 1) & (MAX_DEPTH - 1)].sp <= frame_key) {
		struct unwind_walk w = { .st = st, .sp = frame_key, .hid = hid };

		bpf_loop(MAX_DEPTH, unwind_frame, &w, 0);
		d = st->depth;
	}
	if (d >= MAX_DEPTH) {
		hs->incomplete++;
		count(CNT_DEPTH_OVERFLOW);
		return 1; /* session: no return probe for this call */
	}
	fr = &st->frames[d & (MAX_DEPTH - 1)];
	fr->hid = hid;
	fr->entry_flows = COOKIE_ENTRY_FLOWS(cookie);
	fr->sp = frame_key;
	fr->child_ns = 0;
	fr->off_start_ns = track_oncpu ? thread_off_ns(st) : 0;
	st->depth = d + 1;
	/* Flows entered are a stack property: popping a frame restores the
	 * mask it saw, which also undoes frames abandoned above it. */
	fr->flows_before = st->flow_mask;
	st->flow_mask |= fr->entry_flows;
	fr->restored = 0;
	fr->ret_addr = 0;
	/* Before the kernel swaps in its trampoline: the real return address,
	 * which unwind_hook puts back when an unwinder walks this stack. */
	if ((cookie & COOKIE_SAVES_RETURN) && frame_key &&
	    !bpf_probe_read_user(&fr->ret_addr, sizeof(fr->ret_addr), (void *)frame_key)) {
		struct open_return_key key = { .tid = st->tid, .sp = frame_key };
		struct open_return val = { .ret_addr = fr->ret_addr, .tgid = st->tgid };

		if (bpf_map_update_elem(&open_returns, &key, &val, BPF_ANY))
			count(CNT_UNWIND_LOST);
	}
	fr->start_ns = now;
	return 0;
}

/* Adds a*a to the 128-bit sum (lo, hi) using 32-bit halves: BPF has no 128-bit multiply. */
static __always_inline void add_square(struct handler_stats *hs, __u64 a)
{
	__u64 ah = a >> 32, al = a & 0xffffffffULL;
	__u64 ll = al * al, lh = al * ah, hh = ah * ah;
	__u64 lo, hi, mid_lo, mid_hi;

	/* a^2 = hh<<64 + 2*lh<<32 + ll */
	mid_lo = lh << 33;
	mid_hi = lh >> 31;
	lo = ll + mid_lo;
	hi = hh + mid_hi + (lo < ll);
	hs->sumsq_lo += lo;
	hs->sumsq_hi += hi + (hs->sumsq_lo < lo);
}

static __always_inline void count_edge(__u32 parent, __u32 child)
{
	__u64 key = ((__u64)parent << 32) | child, one = 1, *v;

	v = bpf_map_lookup_elem(&edges, &key);
	if (v) {
		(*v)++;
		return;
	}
	if (bpf_map_update_elem(&edges, &key, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&edges, &key);
		if (v)
			(*v)++;
		else
			count(CNT_EDGES_FULL);
	}
}

/* One more visit of hid for every flow whose entry is below it on the stack.
 * The mask is not modified in the loop so that the verifier can prune. */
static __always_inline void count_visits(__u32 mask, __u32 hid)
{
	for (__u32 f = 0; f < MAX_FLOWS; f++) {
		__u32 key;
		__u64 *v;

		if (f >= n_flows)
			break;
		if (!(mask & (1U << f)))
			continue;
		key = f * n_handlers + hid;
		v = bpf_map_lookup_elem(&flow_visits, &key);
		if (v)
			(*v)++;
	}
}

struct frame_walk {
	struct thread_state *st;
	__u64 sp;
	__u32 hid;
	__u32 depth;
	__u32 found;
};

/* k-th frame from the top: is it the one returning? */
static long find_frame(__u32 k, void *arg)
{
	struct frame_walk *w = arg;
	struct frame *fr;

	if (k >= w->depth)
		return 1;
	fr = &w->st->frames[(w->depth - 1 - k) & (MAX_DEPTH - 1)];
	if (fr->sp == w->sp && fr->hid == w->hid) {
		w->found = w->depth - 1 - k;
		return 1;
	}
	return 0;
}

/* k-th frame above the returning one: its return was skipped. */
static long abandon_frame(__u32 k, void *arg)
{
	struct frame_walk *w = arg;
	__u32 i = w->found + 1 + k;

	if (i >= w->depth || i >= MAX_DEPTH)
		return 1;
	count_incomplete(w->st->frames[i & (MAX_DEPTH - 1)].hid);
	forget_return(w->st, &w->st->frames[i & (MAX_DEPTH - 1)]);
	count(CNT_ABANDONED);
	return 0;
}

/* Frames still open when a thread exits or execs never return. */
static long drop_frame(__u32 k, void *arg)
{
	struct frame_walk *w = arg;

	if (k >= w->depth || k >= MAX_DEPTH)
		return 1;
	count_incomplete(w->st->frames[k & (MAX_DEPTH - 1)].hid);
	forget_return(w->st, &w->st->frames[k & (MAX_DEPTH - 1)]);
	count(CNT_EXITED_IN_CALL);
	return 0;
}

/* Return of a handler call; frame_key as given to on_entry(). */
static __always_inline int on_return(__u64 cookie, __u64 frame_key)
{
	__u32 hid = COOKIE_HANDLER(cookie), d, i, b, found = MAX_DEPTH;
	__u64 now = bpf_ktime_get_ns(), sp, dur, cpu, self;
	struct handler_stats *hs;
	struct inst_stats *is;
	struct thread_state *st;
	struct frame *fr;

	st = lookup_state(false, now);
	if (!st) {
		count(CNT_UNMATCHED_RETURN);
		return 0;
	}
	if (st->ignored)
		return 0;
	d = st->depth;
	if (d > MAX_DEPTH)
		d = MAX_DEPTH;
	sp = frame_key;
	/* Usually the top frame; deeper when returns were skipped (longjmp,
	 * exceptions, the kernel's uretprobe depth limit). The loops run in
	 * bpf_loop() callbacks, which the verifier checks once, not per pass. */
	if (d && st->frames[(d - 1) & (MAX_DEPTH - 1)].sp == sp &&
	    st->frames[(d - 1) & (MAX_DEPTH - 1)].hid == hid) {
		found = d - 1;
	} else {
		struct frame_walk w = { .st = st, .sp = sp, .hid = hid, .depth = d, .found = MAX_DEPTH };

		bpf_loop(MAX_DEPTH, find_frame, &w, 0);
		found = w.found;
	}
	if (found >= MAX_DEPTH) {
		count(CNT_UNMATCHED_RETURN);
		return 0;
	}
	if (found + 1 < d) {
		/* Frames above the match will never see their return. */
		struct frame_walk w = { .st = st, .depth = d, .found = found };

		bpf_loop(MAX_DEPTH, abandon_frame, &w, 0);
	}
	fr = &st->frames[found & (MAX_DEPTH - 1)];
	forget_return(st, fr);
	dur = now > fr->start_ns ? now - fr->start_ns : 0;
	self = dur > fr->child_ns ? dur - fr->child_ns : 0;
	cpu = 0;
	if (track_oncpu) {
		__u64 off = thread_off_ns(st) - fr->off_start_ns;

		cpu = dur > off ? dur - off : 0;
	}
	st->depth = found;
	st->flow_mask = fr->flows_before;
	if (found > 0) {
		struct frame *parent = &st->frames[(found - 1) & (MAX_DEPTH - 1)];

		parent->child_ns += dur;
		count_edge(parent->hid, hid);
	}
	if (st->flow_mask)
		count_visits(st->flow_mask, hid);

	hs = bpf_map_lookup_elem(&handler_stats, &hid);
	if (hs) {
		hs->calls++;
		hs->total_ns += dur;
		hs->self_ns += self;
		hs->oncpu_ns += cpu;
		if (!hs->min_ns || dur < hs->min_ns)
			hs->min_ns = dur ? dur : 1;
		if (dur > hs->max_ns)
			hs->max_ns = dur;
		add_square(hs, dur);
		b = hist_bucket(dur);
		if (b < HIST_BUCKETS)
			hs->hist[b]++;
	}
	i = (st->inst - 1) * n_handlers + hid;
	is = bpf_map_lookup_elem(&instance_stats, &i);
	if (is) {
		is->calls++;
		is->total_ns += dur;
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(handler_entry)
{
	return on_entry(bpf_get_attach_cookie(ctx), PT_REGS_SP(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(handler_return)
{
	return on_return(bpf_get_attach_cookie(ctx), PT_REGS_SP(ctx) - ret_sp_adjust);
}

/* uprobe.session: libbpf 1.1 does not know the section; the loader sets
 * the expected attach type and creates the link itself. */
SEC("uprobe")
int BPF_KPROBE(handler_session)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (bpf_session_is_return())
		return on_return(cookie, PT_REGS_SP(ctx) - ret_sp_adjust);
	return on_entry(cookie, PT_REGS_SP(ctx));
}

/* Current is the task being switched out. Only the time of the switch is
 * kept for whoever comes in: it reads it at its next event (thread_off_ns). */
SEC("raw_tp/sched_switch")
int on_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	struct thread_state *st;
	struct cpu_switch *cs;
	__u32 zero = 0;

	cs = bpf_map_lookup_elem(&cpu_switch, &zero);
	if (!cs)
		return 0;
	st = lookup_state(false, now);
	if (st) {
		thread_off_ns(st); /* fold in the slice's start before stamping its end */
		st->out_at = now;
	}
	cs->at = now;
	return 0;
}

static __always_inline void drop_stack(struct thread_state *st)
{
	struct frame_walk w = { .st = st, .depth = st->depth };

	bpf_loop(MAX_DEPTH, drop_frame, &w, 0);
	st->depth = 0;
	st->flow_mask = 0;
}

SEC("raw_tp/sched_process_exit")
int on_thread_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct thread_state *st = lookup_state(false, 0);

	if (!st)
		return 0;
	drop_stack(st);
	/* an acknowledgement that came after its wait had given up */
	if (st->unwind_id)
		bpf_map_delete_elem(&unwind_done, &st->tid);
	if (!use_task_storage) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		bpf_map_delete_elem(&thread_state_hash, &tid);
	}
	return 0;
}

SEC("raw_tp/sched_process_exec")
int on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct thread_state *st = lookup_state(false, 0);

	if (st)
		drop_stack(st);
	return 0;
}

/*
 * Unwinders read return addresses from the stack, where uretprobes have put
 * the kernel's trampoline, and a C++ throw or pthread_exit would then end the
 * program. When an unwinder starts (_Unwind_RaiseException and friends), the
 * frames' real return addresses must go back on the stack; when a catch
 * block begins (__cxa_begin_catch), the trampoline goes back into the frames
 * that live on above it, so that their returns are still seen. Frames the
 * exception crossed lose their return and are counted incomplete.
 *
 * bpf_probe_write_user() is refused under kernel lockdown, so the writes are
 * the agent's (user/unwind_servicer.c, through /proc/PID/mem): this
 * sleepable program sends them and waits, spinning, until the agent says
 * they are done. See resolve.c, "exceptions and unwinding".
 *
 * The requests of a thread spinning on CPU c go to ring c % UNWIND_RINGS,
 * and the agent serves each ring from a thread of its own, pinned to a CPU
 * that feeds another ring. The spinning thread keeps its CPU (it cannot
 * migrate, and a kernel without full preemption does not take the CPU from
 * it), so the thread that serves it must never be woken onto that CPU: it
 * would wait there until the spin gives up. Eight maps rather than an array
 * of maps: sleepable programs may use map-in-map only on recent kernels.
 */
#define UNWIND_RING(n)                                     \
	struct {                                           \
		__uint(type, BPF_MAP_TYPE_RINGBUF);        \
		__uint(max_entries, UNWIND_RING_SIZE);     \
	} unwind_ring##n SEC(".maps")

UNWIND_RING(0);
UNWIND_RING(1);
UNWIND_RING(2);
UNWIND_RING(3);
UNWIND_RING(4);
UNWIND_RING(5);
UNWIND_RING(6);
UNWIND_RING(7);

static __always_inline long unwind_send(struct unwind_request *req)
{
	switch (bpf_get_smp_processor_id() % UNWIND_RINGS) {
	case 0: return bpf_ringbuf_output(&unwind_ring0, req, sizeof(*req), 0);
	case 1: return bpf_ringbuf_output(&unwind_ring1, req, sizeof(*req), 0);
	case 2: return bpf_ringbuf_output(&unwind_ring2, req, sizeof(*req), 0);
	case 3: return bpf_ringbuf_output(&unwind_ring3, req, sizeof(*req), 0);
	case 4: return bpf_ringbuf_output(&unwind_ring4, req, sizeof(*req), 0);
	case 5: return bpf_ringbuf_output(&unwind_ring5, req, sizeof(*req), 0);
	case 6: return bpf_ringbuf_output(&unwind_ring6, req, sizeof(*req), 0);
	default: return bpf_ringbuf_output(&unwind_ring7, req, sizeof(*req), 0);
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_request);
} unwind_scratch SEC(".maps");

struct unwind_walk_ctx {
	struct thread_state *st;
	struct unwind_request *req;
	__u64 tramp;
	__u64 sp;	/* catch: the stack pointer in the catching function */
	bool raise;
};

static long unwind_plan_frame(__u32 k, void *arg)
{
	struct unwind_walk_ctx *w = arg;
	struct unwind_request *req = w->req;
	struct frame *fr;
	__u64 cur = 0;
	__u32 n = req->n;

	if (k >= w->st->depth || k >= MAX_DEPTH || n >= MAX_DEPTH)
		return 1;
	fr = &w->st->frames[k & (MAX_DEPTH - 1)];
	if (!fr->ret_addr || !fr->sp || fr->ret_addr == w->tramp)
		return 0;
	if (bpf_probe_read_user(&cur, sizeof(cur), (void *)fr->sp))
		return 0;
	if (w->raise && !fr->restored && cur == w->tramp) {
		req->writes[n & (MAX_DEPTH - 1)].addr = fr->sp;
		req->writes[n & (MAX_DEPTH - 1)].value = fr->ret_addr;
		req->n = n + 1;
		fr->restored = 1;
	} else if (!w->raise && fr->restored && fr->sp > w->sp && cur == fr->ret_addr) {
		req->writes[n & (MAX_DEPTH - 1)].addr = fr->sp;
		req->writes[n & (MAX_DEPTH - 1)].value = w->tramp;
		req->n = n + 1;
		fr->restored = 0;
	}
	return 0;
}

struct unwind_wait_ctx {
	__u64 id;
	__u32 tid;
	bool done;
};

static long unwind_wait(__u32 k, void *arg)
{
	struct unwind_wait_ctx *w = arg;
	__u64 *done = bpf_map_lookup_elem(&unwind_done, &w->tid);

	if (done && *done == w->id) {
		w->done = true;
		return 1;
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(unwind_hook)
{
	struct unwind_walk_ctx w = { .raise = bpf_get_attach_cookie(ctx) == UNWIND_HOOK_RAISE };
	struct unwind_wait_ctx wait = { 0 };
	__u32 zero = 0;

	w.st = lookup_state(false, 0);
	if (!w.st || w.st->ignored || !w.st->depth)
		return 0;
	w.tramp = uretprobe_trampoline();
	w.req = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!w.tramp || !w.req)
		return 0;
	w.sp = PT_REGS_SP(ctx);
	w.req->n = 0;
	bpf_loop(MAX_DEPTH, unwind_plan_frame, &w, 0);
	if (!w.req->n)
		return 0;
	w.req->tgid = w.st->tgid;
	w.req->tid = w.st->tid;
	w.req->id = w.st->unwind_id = __sync_fetch_and_add(&unwind_next_id, 1) + 1;
	if (unwind_send(w.req)) {
		count(CNT_UNWIND_LOST);
		return 0;
	}
	/* The thread must not run on into the unwinder before the writes: it
	 * waits as long as one bpf_loop may (1 << 23 turns, about 0.2 s). The
	 * agent answers far sooner unless it is stopped or gets no CPU. */
	wait.tid = w.st->tid;
	wait.id = w.st->unwind_id;
	bpf_loop(1 << 23, unwind_wait, &wait, 0);
	if (wait.done)
		bpf_map_delete_elem(&unwind_done, &wait.tid);
	else
		count(CNT_UNWIND_LOST);
	return 0;
}

/* ---- USDT, Python and Java handlers ---- */
/*
 * Probe points that are USDT probes rather than a function's entry and
 * return (include/flowprof_rt.h, docs/real-services.md). Each is a plain
 * entry-style uprobe, attached by user/attach_usdt.c; the return side of a
 * call is a probe point of its own, so these programs call on_entry() or
 * on_return() themselves, with frame key 0.
 */
#include "flowprof_rt.h"

/* Argument locations of each Python/Java probe point (cookie: its index). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized to the number of such probe points */
	__type(key, __u32);
	__type(value, struct rt_site_spec);
} rt_specs SEC(".maps");

/* (bundle, language, function name) -> the handlers of that name. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized to the number of distinct names */
	__type(key, struct rt_name_key);
	__type(value, struct rt_name_val);
} rt_names SEC(".maps");

/* File (Python) or class (Java) globs of the candidates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_glob);
} rt_globs SEC(".maps");

struct rt_scratch {
	struct rt_name_key key;
	char scope[RT_SCOPE_LEN];
};

/* Too large for the BPF stack; per CPU, as uprobe programs do not nest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_scratch);
} rt_scratch SEC(".maps");

/*
 * Function-name prefilter: one bit per hash of a name's first 8 bytes
 * (zero-padded), set by the loader for every python:/java: handler. Most
 * calls of a language runtime are not handlers: they stop here after one
 * 8-byte read, before the full name is read and looked up.
 */
__u64 rt_prefix_bits[RT_PREFIX_WORDS] = {};

/*
 * A register of the probed thread, by its offset in struct pt_regs. The
 * verifier refuses loads at variable offsets into ctx, so each register is
 * its own load at a constant offset; the empty asm keeps clang from merging
 * them back into one load at ctx + off.
 */
#define RT_REG_CASE(n, field)                  \
	case n: {                              \
		__u64 x = ctx->field;          \
		asm volatile("" : "+r"(x));    \
		*v = x;                        \
		return 0;                      \
	}

static __always_inline int rt_reg(struct pt_regs *ctx, __u32 off, __u64 *v)
{
#if defined(__TARGET_ARCH_x86)
	switch (off / 8) {
	RT_REG_CASE(0, r15)
	RT_REG_CASE(1, r14)
	RT_REG_CASE(2, r13)
	RT_REG_CASE(3, r12)
	RT_REG_CASE(4, bp)
	RT_REG_CASE(5, bx)
	RT_REG_CASE(6, r11)
	RT_REG_CASE(7, r10)
	RT_REG_CASE(8, r9)
	RT_REG_CASE(9, r8)
	RT_REG_CASE(10, ax)
	RT_REG_CASE(11, cx)
	RT_REG_CASE(12, dx)
	RT_REG_CASE(13, si)
	RT_REG_CASE(14, di)
	RT_REG_CASE(19, sp)
	default:
		return -1;
	}
#else
	return bpf_probe_read_kernel(v, sizeof(*v), (void *)ctx + off) ? -1 : 0;
#endif
}

/* One USDT argument, as the note's argument string located it. */
static __always_inline int rt_arg_read(struct pt_regs *ctx, const struct rt_arg *a, __u64 *out)
{
	__u64 v = 0, base = 0;
	__u32 sz = a->size;

	if (sz > 8)
		sz = 8;
	switch (a->kind) {
	case RT_ARG_CONST:
		v = (__u64)a->val;
		break;
	case RT_ARG_REG:
		if (rt_reg(ctx, a->reg_off, &v))
			return -1;
		break;
	case RT_ARG_DEREF:
		if (rt_reg(ctx, a->reg_off, &base))
			return -1;
		if (bpf_probe_read_user(&v, sz, (void *)(base + a->val)))
			return -1;
		break;
	default:
		return -1;
	}
	/* Keep the argument's own bytes (little-endian), sign-extended if signed. */
	if (sz < 8) {
		__u32 shift = 64 - sz * 8;

		v <<= shift;
		v = a->is_signed ? (__u64)((__s64)v >> shift) : v >> shift;
	}
	*out = v;
	return 0;
}

struct glob_walk {
	const char *pat;
	const char *str;
	__u32 plen, slen;
	__u32 i, j, mark;
	__s32 star;
	__u32 result; /* 0: running, 1: match, 2: no match */
};

/* One step of a * and ? wildcard match with backtracking to the last star
 * (linear in practice, slen * plen at worst). */
static long glob_step(__u32 k, void *arg)
{
	struct glob_walk *w = arg;
	char pc = 0, sc;

	if (w->j < w->plen)
		pc = w->pat[w->j & (RT_SCOPE_LEN - 1)];
	if (w->i < w->slen) {
		sc = w->str[w->i & (RT_SCOPE_LEN - 1)];
		if (w->j < w->plen && pc == '*') {
			w->star = (__s32)w->j;
			w->mark = w->i;
			w->j++;
			return 0;
		}
		if (w->j < w->plen && (pc == '?' || pc == sc)) {
			w->i++;
			w->j++;
			return 0;
		}
		if (w->star >= 0) {
			w->j = (__u32)w->star + 1;
			w->mark++;
			w->i = w->mark;
			return 0;
		}
		w->result = 2;
		return 1;
	}
	if (w->j < w->plen && pc == '*') {
		w->j++;
		return 0;
	}
	w->result = w->j == w->plen ? 1 : 2;
	return 1;
}

static __always_inline bool glob_match(const struct rt_glob *g, const char *str, __u32 slen)
{
	struct glob_walk w = {
		.pat = g->pat, .str = str, .plen = g->len, .slen = slen, .star = -1,
	};

	bpf_loop(1 << 16, glob_step, &w, 0);
	return w.result == 1;
}

/*
 * CPython's function__entry/function__return and HotSpot's
 * method__entry/method__return. Every call of the language runtime comes
 * here; an unmatched one costs reading its name and one hash lookup.
 */
static __always_inline int rt_lang_probe(struct pt_regs *ctx, __u32 lang)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), name_ptr = 0, len = 0, scope_ptr = 0, prefix = 0;
	__u32 spec_idx = RT_COOKIE_SPEC(cookie), zero = 0, slen = 0, hid = 0, flows = 0;
	struct rt_site_spec *spec;
	struct rt_scratch *sc;
	struct rt_name_val *val;
	bool have_scope = false, found = false;
	long n;

	spec = bpf_map_lookup_elem(&rt_specs, &spec_idx);
	sc = bpf_map_lookup_elem(&rt_scratch, &zero);
	if (!spec || !sc)
		return 0;
	if (rt_arg_read(ctx, &spec->args[RT_SLOT_NAME], &name_ptr) || !name_ptr)
		return 0;
	if (lang == RT_LANG_JAVA &&
	    (rt_arg_read(ctx, &spec->args[RT_SLOT_NAME_LEN], &len) || !len || len > RT_NAME_LEN - 2))
		return 0;
	/* The prefilter. A read that fails (a short name at the end of a
	 * mapping) skips it: the full read below decides. */
	if (!bpf_probe_read_user(&prefix, sizeof(prefix), (void *)name_ptr)) {
		__u32 bit;

		if (lang == RT_LANG_JAVA) {
			if (len < 8)
				prefix &= (1ULL << (len * 8)) - 1;
		} else {
			for (int i = 0; i < 8; i++) {
				if (!((prefix >> (i * 8)) & 0xff)) {
					prefix &= i ? (1ULL << (i * 8)) - 1 : 0;
					break;
				}
			}
		}
		bit = RT_PREFIX_HASH(prefix);
		if (!(rt_prefix_bits[(bit / 64) & (RT_PREFIX_WORDS - 1)] & (1ULL << (bit % 64))))
			return 0;
	}
	__builtin_memset(&sc->key, 0, sizeof(sc->key));
	sc->key.bundle = (__u16)RT_COOKIE_BUNDLE(cookie);
	sc->key.lang = (__u16)lang;
	if (lang == RT_LANG_JAVA) {
		/* HotSpot's strings are not NUL-terminated: pointer and length. */
		if (bpf_probe_read_user(sc->key.name, len & (RT_NAME_LEN - 1), (void *)name_ptr))
			return 0;
	} else {
		/* n counts the NUL: a name filling the buffer is longer than any pattern. */
		n = bpf_probe_read_user_str(sc->key.name, RT_NAME_LEN, (void *)name_ptr);
		if (n <= 0 || n >= RT_NAME_LEN)
			return 0;
	}
	val = bpf_map_lookup_elem(&rt_names, &sc->key);
	if (!val)
		return 0;

	for (__u32 k = 0; k < RT_MAX_CANDIDATES; k++) {
		struct rt_candidate *c;
		struct rt_glob *g;
		__u32 gi;

		if (k >= val->n)
			break;
		c = &val->c[k];
		gi = c->glob;
		if (gi != RT_GLOB_ANY) {
			if (!have_scope) {
				have_scope = true;
				if (rt_arg_read(ctx, &spec->args[RT_SLOT_SCOPE], &scope_ptr) || !scope_ptr)
					break;
				if (lang == RT_LANG_JAVA) {
					if (rt_arg_read(ctx, &spec->args[RT_SLOT_SCOPE_LEN], &len))
						break;
					if (len > RT_SCOPE_LEN - 1)
						len = RT_SCOPE_LEN - 1;
					if (bpf_probe_read_user(sc->scope, len & (RT_SCOPE_LEN - 1),
								(void *)scope_ptr))
						break;
					slen = (__u32)len;
				} else {
					n = bpf_probe_read_user_str(sc->scope, RT_SCOPE_LEN,
								    (void *)scope_ptr);
					if (n <= 0)
						break;
					slen = (__u32)n - 1;
				}
			}
			g = bpf_map_lookup_elem(&rt_globs, &gi);
			if (!g || !glob_match(g, sc->scope, slen))
				continue;
		}
		hid = c->hid;
		flows = c->entry_flows;
		found = true;
		break;
	}
	if (!found)
		return 0;
	if (RT_COOKIE_IS_RETURN(cookie))
		return on_return(MAKE_COOKIE(hid, flows), 0);
	on_entry(MAKE_COOKIE(hid, flows), 0);
	return 0;
}

/* usdt: / return: pairs; the cookie names the handler (see flowprof_rt.h). */
SEC("uprobe")
int BPF_KPROBE(usdt_pair)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (cookie & RT_USDT_RETURN_BIT)
		return on_return(cookie & ~RT_USDT_RETURN_BIT, 0);
	on_entry(cookie, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(python_probe)
{
	return rt_lang_probe(ctx, RT_LANG_PYTHON);
}

SEC("uprobe")
int BPF_KPROBE(java_probe)
{
	return rt_lang_probe(ctx, RT_LANG_JAVA);
}
