/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scheduler's side: off-CPU time (sched_switch) and threads that exit
 * or exec with calls still open. Included by flowprof.bpf.c.
 */

/* Kernels before 5.14 call the task's state `state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* Switched out still runnable: preempted, not waiting for anything. */
static __always_inline bool still_runnable(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) == 0;
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state) == 0;
}

/* A `ret` the kernel single-stepped resumes at the return address, which
 * the stack still holds where the hit found it. Current is the task
 * switched out, so its memory is readable here. */
static __always_inline bool single_stepped_ret(struct thread_state *out)
{
	__u64 ret = 0;

	return out->hit_sp && !bpf_probe_read_user(&ret, sizeof(ret), (void *)out->hit_sp) &&
	       ret == out->out_ip;
}

/*
 * A thread that sleeps outside any handler ends a wake-up: its time on a
 * CPU since it last woke so, by the top-level calls it completed in it
 * (struct inst_info). A server that finds work waiting when it finishes a
 * call does not sleep: what waking costs is shared by more calls as the
 * load grows (docs/model.md, "Wake-ups"). Sleeps inside a handler (a read,
 * a lock) are part of a call and do not end one.
 */
static __always_inline void wake_ended(struct thread_state *out)
{
	__u32 slot = out->inst - 1, k = out->wake_calls;
	struct inst_info *info;

	if (out->goroutine || !out->inst || out->inst > max_instances + 1)
		return;
	info = bpf_map_lookup_elem(&instance_info, &slot);
	if (info) {
		k = k < WAKE_BUCKETS - 1 ? k : WAKE_BUCKETS - 1;
		__sync_fetch_and_add(&info->wake_periods[k], 1);
		__sync_fetch_and_add(&info->wake_calls[k], out->wake_calls);
		__sync_fetch_and_add(&info->wake_cpu_ns[k], out->wake_cpu_ns);
		__sync_fetch_and_add(&info->wake_probe_ns[k], out->wake_probe_ns);
	}
	out->wake_calls = 0;
	out->wake_cpu_ns = 0;
	out->wake_probe_ns = 0;
}

/* A switch at now: out, the state of the thread switched out (NULL when it
 * has none), gets the end of its slice; the CPU keeps the time for whoever
 * comes in, which reads it at its next event (thread_off_ns). prev: the
 * task switched out where its BTF pointer is known (the wait can then be
 * found to be a probe's, bpf/account.bpf.h), else NULL. */
static __always_inline int stamp_switch(struct thread_state *out, struct task_struct *prev,
					__u64 now)
{
	__u32 zero = 0;
	struct cpu_switch *cs = bpf_map_lookup_elem(&cpu_switch, &zero);

	if (!cs)
		return 0;
	if (out) {
		bool runnable = prev && still_runnable(prev);

		thread_off_ns(out); /* fold in the slice's start before stamping its end */
		/* a switch-in that could not be dated after the last switch-out
		 * leaves in_at where it was: that slice is not counted twice */
		if (out->in_at > out->wake_out_at && now > out->in_at)
			out->wake_cpu_ns += now - out->in_at;
		out->wake_out_at = now;
		/* only where the task says whether it sleeps (BTF) */
		if (prev && !runnable && !out->depth)
			wake_ended(out);
		out->out_at = now;
		out->out_preempted = 0;
		out->out_in_probe = 0;
		out->out_ip = 0;
		/* bpf_task_pt_regs() came in 5.15: before it, no wait is a probe's */
		if (runnable &&
		    bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)) {
			struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);

			out->out_preempted = 1;
			out->out_ip = regs ? regs->ip : 0;
			/* the cheapest tests first */
			out->out_in_probe =
				out->in_hit ||
				ip_after_hit(out->out_ip, out->hit_ip,
					     out->hit_entry && now <= out->probe_until) ||
				ip_in_uprobes_page(out->out_ip, uprobes_page()) ||
				(!out->hit_entry && now <= out->probe_until &&
				 single_stepped_ret(out));
		}
	}
	cs->at = now;
	return 0;
}

/* Current is the task being switched out. */
SEC("raw_tp/sched_switch")
int on_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	return stamp_switch(thread_state_get(false), NULL, now);
}

/*
 * The same where threads keep their state in task storage (the common
 * case). A switch from or to a process with a tracked thread is stamped:
 * the thread coming in reads the stamp at its next event. Most switches on
 * a host are other processes': they return after two loads, without a
 * clock read (110-121 ns a run on the test VM, against 236-261 ns stamping
 * every switch). The test is by tgid, not by a task-storage
 * lookup of the thread coming in: that lookup failed 1-3 times a run under
 * a CPU hog, and each such switch-in went unstamped, counting a whole wait
 * as time on the CPU.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct thread_state *out;

	if (!is_tracked(prev->tgid) && !is_tracked(next->tgid))
		return 0;
	out = bpf_task_storage_get(&task_state, prev, NULL, 0);
	return stamp_switch(out && out->inst ? out : NULL, prev, bpf_ktime_get_ns());
}

/* Frames still open when a thread exits or execs never return. */
static long drop_frame(__u32 k, void *arg)
{
	struct frame_walk *w = arg;

	if (k >= w->depth || k >= MAX_DEPTH)
		return 1;
	count_incomplete(w->st->frames[k & (MAX_DEPTH - 1)].hid, false);
	count(CNT_EXITED_IN_CALL);
	return 0;
}

static __always_inline void drop_stack(struct thread_state *st, __u64 now)
{
	struct frame_walk w = { .st = st, .depth = st->depth };

	if (!st->depth)
		return;
	bpf_loop(MAX_DEPTH, drop_frame, &w, 0);
	st->depth = 0;
	st->flow_mask = 0;
	stack_emptied(st, now);
}

SEC("raw_tp/sched_process_exit")
int on_thread_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	struct thread_state *st = thread_state_get(false);

	if (!st)
		return 0;
	drop_stack(st, now);
	conc_change(st, -1, 0, now); /* no longer live */
	if (!use_task_storage) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		bpf_map_delete_elem(&thread_state_hash, &tid);
	}
	return 0;
}

/*
 * A process's CPU time as it ends: once it is reaped, no file holds it, and
 * a sample taken while it ran misses its last moments. Its group leader is
 * freed last, after every thread's time was summed into the signal struct.
 */
SEC("raw_tp/sched_process_free")
int on_process_free(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(p, tgid), *slot;
	struct inst_info *info;

	if ((__u32)BPF_CORE_READ(p, pid) != tgid)
		return 0;
	slot = bpf_map_lookup_elem(&instances, &tgid);
	info = slot ? bpf_map_lookup_elem(&instance_info, slot) : NULL;
	if (info)
		info->exit_cpu_ns = BPF_CORE_READ(p, signal, sum_sched_runtime);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	struct thread_state *st = thread_state_get(false);

	if (st)
		drop_stack(st, now);
	return 0;
}
