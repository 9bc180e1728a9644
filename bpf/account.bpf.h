/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry and exit accounting: one frame per open call, found again at the
 * exit by its key (bpf/state.bpf.h), folded into per-CPU aggregates.
 * Included by flowprof.bpf.c.
 *
 * Frames that will never see their exit (an exception or longjmp skipped
 * it, or the exit probe is a `ret` that did not run) are closed as
 * "unwound" by the next entry or exit of the same thread whose key lies
 * above theirs: a live caller's frame always lies above its callee's.
 */

/*
 * The CPU time the current thread has run since the scheduler last picked
 * it, by the scheduler's own account: exact at a switch (it has just been
 * updated), up to a tick behind between switches. bpf_get_current_task()
 * rather than its BTF twin: the raw tracepoint variant runs where BTF does
 * not.
 */
static __always_inline __u64 ran_since_picked(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 sum = BPF_CORE_READ(t, se.sum_exec_runtime);
	__u64 picked = BPF_CORE_READ(t, se.prev_sum_exec_runtime);

	return sum > picked ? sum - picked : 0;
}

/* A wait that began inside a probe: kept apart, taken out of the windows
 * it falls in (on_exit; "Probe waits" below). */
static __always_inline void take_probe_wait(struct thread_state *st)
{
	st->probe_off_ns += st->last_off_ns;
	st->last_off_probe = 1;
	count(CNT_PROBE_WAITS);
}

/*
 * The thread's off-CPU clock: time spent switched out since its state was
 * created. sched_switch stamps the switch-out; the switch-in time is the
 * last switch on the CPU the thread now runs on, so it is folded in lazily
 * at the thread's next event. In the common case (no switch since the last
 * event) this costs one load: no map lookup on the hot path.
 *
 * Every switch of a tracked process is stamped, yet a thread can run on a
 * CPU whose last stamp is its own switch-out (under a CPU hog on a 6.18
 * guest, once or twice in about half of the test runs; the program missed
 * no run). Its switch-in went unstamped, so the scheduler's account dates
 * it: now less the time the thread has run since it was picked (up to a
 * tick late between switches: its time off then counts a little high). Without
 * this, the whole time it was off counted as on the CPU.
 */
static __always_inline __u64 thread_off_ns(struct thread_state *st)
{
	if (st->out_at) {
		__u32 zero = 0;
		struct cpu_switch *cs = bpf_map_lookup_elem(&cpu_switch, &zero);
		__u64 in, ran, now;

		/* The thread runs here now, so this CPU's last switch brought it in. */
		if (cs && cs->at > st->out_at) {
			in = cs->at;
		} else {
			/* a clock read of its own: the caller's may predate the
			 * switch (a probe preempted after reading it) */
			ran = ran_since_picked();
			now = bpf_ktime_get_ns();
			in = now > ran ? now - ran : 0;
			if (st->inst <= max_instances + 1) /* not flowprof's own or ignored */
				count(CNT_SWITCH_IN_UNSEEN);
		}
		if (in > st->out_at) {
			st->off_ns += in - st->out_at;
			if (st->out_preempted)
				st->runq_ns += in - st->out_at;
			st->in_at = in;
			st->last_off_ns = in - st->out_at;
			st->last_off_probe = 0; /* take_probe_wait() marks it */
			st->last_off_preempted = st->out_preempted;
			st->last_out_ip = st->out_ip;
			if (st->out_in_probe)
				take_probe_wait(st);
		}
		st->out_at = 0;
	}
	return st->off_ns;
}

/*
 * Probe waits. A thread preempted while a probe handles its hit (the
 * kernel preempts on the way back to user space, before the BPF program
 * runs or after it) waits for the probe, not for the call: the target's
 * own clock, around its code, never sees that wait, yet a call's window
 * that holds the probe would count the whole of it (a time slice,
 * milliseconds, beside microseconds of probe). Such waits are kept apart
 * (probe_off_ns) and taken out of every window they fall in.
 *
 * A wait is the probe's when the thread was switched out still runnable
 * while a probe's BPF program ran for it (in_hit), or where only a probe
 * leaves it: in the uprobes' own page (the single-step slot, the return
 * trampoline), at the probed address or the trap's return address just
 * after it, or, soon after the hit's clock read, up to 16 bytes after an
 * entry's probed address (the instruction after an emulated or
 * single-stepped first instruction) or at the return address an exit's
 * single-stepped `ret` resumes at. After the clock read (the hit's tail)
 * it is tested at the switch (bpf/sched.bpf.h), before it (its head) at the
 * hit. By time alone, the few instructions between two probes looked like
 * a probe's: self times came out 10-30 % low under a CPU hog.
 */

/* ip at the probed address hit_ip or the trap's return address after it;
 * near (an entry's hit, the switch within its tail): up to 16 bytes after.
 * Not near an exit: it resumes elsewhere, and the code after a call site,
 * where a uretprobe hit's address lies, is the caller's own. */
static __always_inline bool ip_after_hit(__u64 ip, __u64 hit_ip, bool near)
{
	return hit_ip && ip >= hit_ip && ip - hit_ip <= (near ? 16 : 1);
}

/* The uprobes' own page (the single-step slot, the return trampoline):
 * a thread runs there only inside a probe. */
static __always_inline bool ip_in_uprobes_page(__u64 ip, __u64 page)
{
	return page && ip >= page && ip - page < 4096;
}

/* The uprobes' page of the current task's process (0 where it has none);
 * the uretprobe trampoline sits at its start. At sched_switch the current
 * task is the one switched out. */
static __always_inline __u64 uprobes_page(void)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	struct xol_area *area = mm ? mm->uprobes_state.xol_area : NULL;

	return area ? area->vaddr : 0; /* plain loads through BTF pointers */
}

/*
 * The thread's off-CPU time up to now, a clock read the caller made while
 * running: a preemption after that read, folded in here, lies outside a
 * window that starts or ends at now (counted into off_ns all the same).
 * Without this, one preemption between a call's clock read and its frame's
 * snapshot counted a whole time slice as the call's on-CPU time.
 */
static __always_inline __u64 thread_off_until(struct thread_state *st, __u64 now, __u64 *runq)
{
	__u64 out = st->out_at, before = st->off_ns, rq = st->runq_ns, off = thread_off_ns(st);

	if (out >= now) { /* switched out after now: none of it before now */
		*runq = rq;
		return before;
	}
	*runq = st->runq_ns;
	return off;
}

/* A hit's whole cost, the larger of the calibration's rows. */
static __always_inline __u64 hit_cost(__u32 slot)
{
	__s64 w = probe_costs.hit_ns[slot & (SLOT_COUNT - 1)];
	__s64 c = probe_costs.hit_cold_ns[slot & (SLOT_COUNT - 1)];
	__s64 v = w > c ? w : c;

	return v > 0 ? (__u64)v : 0;
}

/* At a hit (clock read now, cost slot): whether the wait that ended just
 * before was its head's, and where its tail ends: four times its
 * calibrated cost (under load a hit runs slower than in the calibration's
 * loop, and the kernel acts on a preemption a little after the interrupt
 * that asked for it: 2 us past twice the cost, seen on a guest). */
static __always_inline void probe_hit(struct thread_state *st, __u64 now, __u32 slot)
{
	__u64 cost = hit_cost(slot);

	/* only the first hit after a preemption can be the one preempted */
	if (st->last_off_preempted && now >= st->in_at) {
		st->last_off_preempted = 0;
		if (!st->last_off_probe &&
		    (ip_after_hit(st->last_out_ip, st->hit_ip, false) ||
		     ip_in_uprobes_page(st->last_out_ip, uprobes_page())))
			take_probe_wait(st);
	}
	st->probe_until = now + 4 * cost;
}

/* Whether a call of handler hid is counted now: the calibration's always,
 * the flow's handlers while armed (flowprof.bpf.c). */
static __always_inline bool counted(__u32 hid)
{
	return armed || hid >= n_flow_handlers;
}

static __always_inline void count_incomplete(__u32 hid, bool unwound)
{
	struct handler_stats *hs = bpf_map_lookup_elem(&handler_stats, &hid);

	if (hs) {
		hs->incomplete++;
		if (unwound)
			hs->unwound++;
	}
}

/* The thread left every handler (its stack emptied, however it happened). */
static __always_inline void stack_emptied(struct thread_state *st, __u64 now)
{
	conc_change(st, st->goroutine ? -1 : 0, -1, now);
}

/*
 * A frame at the same key as a new call is still live when the new call is
 * a tail call out of it and the frame's exit is the kernel's uretprobe
 * trampoline, which then sits in the return-address slot. (A frame whose
 * exits are probed sites was closed at the tail call's `jmp`.) Rare path,
 * so reading memory here is fine.
 */
static __always_inline bool is_tail_call(__u64 sp)
{
	__u64 ret = 0, tramp = uprobes_page();

	if (!tramp || bpf_probe_read_user(&ret, sizeof(ret), (void *)sp))
		return false;
	return ret == tramp;
}

struct unwind_walk {
	struct thread_state *st;
	__u64 key;
	__u32 hid;
	bool entry;	/* an entry (a frame at the same key may be a tail call's caller) */
};

/* Closes the top frame if the stack has unwound past it. */
static long unwind_frame(__u32 k, void *arg)
{
	struct unwind_walk *w = arg;
	struct thread_state *st = w->st;
	__u32 d = st->depth;
	struct frame *top;

	if (!d || d > MAX_DEPTH)
		return 1;
	top = &st->frames[(d - 1) & (MAX_DEPTH - 1)];
	/* key 0: a USDT-style frame, no stack pointer to reason with */
	if (!top->sp || top->sp > w->key)
		return 1;
	if (top->sp == w->key) {
		if (!w->entry)
			return 1; /* an exit at this key: it may be this frame's own */
		if (!st->goroutine && top->hid != w->hid && is_tail_call(w->key))
			return 1;
	}
	count_incomplete(top->hid, true);
	count(CNT_UNWOUND);
	st->flow_mask = top->flows_before;
	st->depth = d - 1;
	return 0;
}

/* Closes every open frame below key (entry: at or below it). */
static __always_inline void unwind_to(struct thread_state *st, __u64 key, __u32 hid, bool entry,
				      __u64 now)
{
	__u32 d = st->depth;
	struct unwind_walk w = { .st = st, .key = key, .hid = hid, .entry = entry };

	if (!key || !d || d > MAX_DEPTH || st->frames[(d - 1) & (MAX_DEPTH - 1)].sp > key)
		return;
	bpf_loop(MAX_DEPTH, unwind_frame, &w, 0);
	if (d && !st->depth)
		stack_emptied(st, now);
}

/*
 * on_entry() and on_exit() are global functions: the verifier checks each
 * once, not once per program and call site (a fifth of the load time).
 *
 * Entry of a handler call. key identifies the frame at its exit (see
 * hit_state); for probe pairs that are not a function's own entry and exit
 * (USDT entry/return probes, language runtimes) it is 0, and the exit
 * matches the innermost open frame of the same handler. Returns 1 when no
 * return probe is wanted for this call (session mode).
 */
__noinline int on_entry(struct thread_state *st, __u64 cookie, __u64 key, __u64 now)
{
	__u32 hid = COOKIE_HANDLER(cookie), d;
	struct handler_stats *hs;
	struct frame *fr;

	if (!st || hid >= n_handlers || !counted(hid))
		return 1;
	hs = bpf_map_lookup_elem(&handler_stats, &hid);
	if (!hs || st->ignored)
		return 1;
	d = st->depth;
	/* A goroutine whose stack had to grow runs its function's prologue
	 * again (morestack jumps back to the start) on the copied stack: the
	 * same call, at the same distance from the stack's top. */
	if (st->goroutine && d && d <= MAX_DEPTH && key &&
	    st->frames[(d - 1) & (MAX_DEPTH - 1)].sp == key &&
	    st->frames[(d - 1) & (MAX_DEPTH - 1)].hid == hid)
		return 1;
	hs->entries++;
	unwind_to(st, key, hid, true, now);
	d = st->depth;
	if (d >= MAX_DEPTH) {
		hs->incomplete++;
		count(CNT_DEPTH_OVERFLOW);
		return 1;
	}
	if (!d)
		conc_change(st, st->goroutine ? 1 : 0, 1, now);
	fr = &st->frames[d & (MAX_DEPTH - 1)];
	fr->hid = hid;
	fr->entry_flows = COOKIE_ENTRY_FLOWS(cookie);
	fr->entry_slot = COOKIE_SLOT(cookie);
	fr->sp = key;
	fr->child_ns = 0;
	fr->nested_cost_ns = 0;
	fr->kids_out_ns = 0;
	fr->nested_calls = 0;
	fr->off_start_ns = 0;
	fr->probe_off_start_ns = 0;
	fr->runq_start_ns = 0;
	if (track_oncpu && !st->goroutine) {
		fr->off_start_ns = thread_off_until(st, now, &fr->runq_start_ns);
		probe_hit(st, now, fr->entry_slot);
		fr->probe_off_start_ns = st->probe_off_ns;
	}
	st->depth = d + 1;
	/* Flows entered are a stack property: popping a frame restores the
	 * mask it saw, which also undoes frames abandoned above it. */
	fr->flows_before = st->flow_mask;
	st->flow_mask |= fr->entry_flows;
	fr->start_ns = now;
	fr->therm_ns = st->therm_ns;
	return (cookie & COOKIE_EXITS_AT_SITES) ? 1 : 0;
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
	__u64 key;
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
	if (fr->sp == w->key && fr->hid == w->hid) {
		w->found = w->depth - 1 - k;
		return 1;
	}
	/* a live caller lies above: the returning frame cannot be further down */
	if (w->key && fr->sp > w->key)
		return 1;
	return 0;
}

/* k-th frame above the returning one: its exit was skipped. */
static long abandon_frame(__u32 k, void *arg)
{
	struct frame_walk *w = arg;
	__u32 i = w->found + 1 + k;

	if (i >= w->depth || i >= MAX_DEPTH)
		return 1;
	count_incomplete(w->st->frames[i & (MAX_DEPTH - 1)].hid, true);
	count(CNT_UNWOUND);
	return 0;
}

/* A call's two probes (entry and exit slot) from one row of the table. */
static __always_inline __u64 pair_cost(const __s32 *table, __u32 entry, __u32 exit)
{
	__s64 v = (__s64)table[entry & (SLOT_COUNT - 1)] + table[exit & (SLOT_COUNT - 1)];

	return v > 0 ? (__u64)v : 0;
}

/* How cold a call's probes ran, 0 (the calibration's tight loop) to 1024
 * (its calls after the caches were cleared), from its two state lookups'
 * time against theirs (include/cost_slot.h). */
static __always_inline __u64 probe_temperature(__u64 therm)
{
	__s64 warm = probe_costs.therm_warm_ns, cold = probe_costs.therm_cold_ns;

	if (cold <= warm || (__s64)therm <= warm)
		return 0; /* without a cold end the rows are the same */
	if ((__s64)therm >= cold)
		return 1024;
	return (therm - (__u64)warm) * 1024 / (__u64)(cold - warm); /* BPF divides unsigned */
}

/* A figure at a temperature (0..1024), between its warm and cold ends. */
static __always_inline __u64 cost_at(__u64 w, __u64 c, __u64 temp)
{
	return c >= w ? w + (c - w) * temp / 1024 : w - (w - c) * temp / 1024;
}

/* A call's two probes at a temperature, between the warm and the cold row. */
static __always_inline __u64 pair_cost_at(const __s32 *warm, const __s32 *cold, __u32 entry,
					  __u32 exit, __u64 temp)
{
	return cost_at(pair_cost(warm, entry, exit), pair_cost(cold, entry, exit), temp);
}

/* One probe's hit at a temperature (512: the middle of the two rows). */
static __always_inline __u64 hit_cost_at(__u32 slot, __u64 temp)
{
	__s64 w = probe_costs.hit_ns[slot & (SLOT_COUNT - 1)];
	__s64 c = probe_costs.hit_cold_ns[slot & (SLOT_COUNT - 1)];

	return cost_at(w > 0 ? (__u64)w : 0, c > 0 ? (__u64)c : 0, temp);
}

/* The hit's clock read, after its state lookup (begun at t0): a preemption
 * during the lookup must not fall inside the call's on-CPU window. The
 * lookup's time is the thermometer above; 0 (not timed) where the hit
 * created the state (a thread's first, each outermost call of a goroutine),
 * which copies and fills it. */
static __always_inline __u64 lookup_done(struct thread_state *st, __u64 t0)
{
	__u64 now = bpf_ktime_get_ns();

	if (!st)
		return now;
	if (st->therm_ns == THERM_FRESH)
		st->therm_ns = 0;
	else
		st->therm_ns = now - t0 < THERM_FRESH ? (__u32)(now - t0) : THERM_FRESH - 1;
	return now;
}

/* A call's two lookups; an entry not timed counts as its exit did. */
static __always_inline __u64 call_therm(const struct frame *fr, const struct thread_state *st)
{
	return fr->therm_ns ? (__u64)fr->therm_ns + st->therm_ns : 2 * (__u64)st->therm_ns;
}

/* Exit of a handler call; key as given to on_entry(); exit_slot: the cost
 * slot of the exit probe (SLOT_EXIT_URETPROBE for the kernel's trampoline). */
__noinline int on_exit(struct thread_state *st, __u64 cookie, __u64 key, __u32 exit_slot,
		       __u64 now)
{
	__u32 hid = COOKIE_HANDLER(cookie), d, b, found = MAX_DEPTH;
	__u64 dur, cpu, self, own_in, own_full, corr, temp, waits = 0, runq = 0;
	struct handler_stats *hs;
	struct inst_stats *is;
	struct frame *fr;
	__u32 i;

	if (!st) {
		count(CNT_UNMATCHED_RETURN);
		return 0;
	}
	if (st->ignored)
		return 0;
	d = st->depth;
	if (d > MAX_DEPTH)
		d = MAX_DEPTH;
	/* Usually the top frame; deeper when exits were skipped (longjmp,
	 * exceptions, the kernel's uretprobe depth limit). The loops run in
	 * bpf_loop() callbacks, which the verifier checks once, not per pass. */
	if (d && st->frames[(d - 1) & (MAX_DEPTH - 1)].sp == key &&
	    st->frames[(d - 1) & (MAX_DEPTH - 1)].hid == hid) {
		found = d - 1;
	} else {
		struct frame_walk w = { .st = st, .key = key, .hid = hid, .depth = d,
					.found = MAX_DEPTH };

		bpf_loop(MAX_DEPTH, find_frame, &w, 0);
		found = w.found;
	}
	if (found >= MAX_DEPTH) {
		if (cookie & COOKIE_EXIT_FOREIGN) {
			/* another caller's return from the function a handler
			 * tail-calls: its hit lies in the enclosing call, if any,
			 * and is the thread's CPU time all the same (charged to
			 * the handler whose probe it is) */
			__u64 c = hit_cost_at(exit_slot, 512); /* the middle */

			if (!counted(hid))
				return 0;
			if (d) {
				struct frame *top = &st->frames[(d - 1) & (MAX_DEPTH - 1)];

				top->nested_cost_ns += c;
				top->kids_out_ns += c;
			}
			hs = bpf_map_lookup_elem(&handler_stats, &hid);
			if (hs)
				hs->probe_cpu_ns += c;
			st->wake_probe_ns += c;
			return 0;
		}
		if (!counted(hid))
			return 0; /* entered while not counted (recorder_disarm) */
		/* Not one of ours (entered before attach); whatever lies below
		 * its stack pointer has unwound. */
		unwind_to(st, key, hid, false, now);
		count(CNT_UNMATCHED_RETURN);
		return 0;
	}
	if (found + 1 < d) {
		struct frame_walk w = { .st = st, .depth = d, .found = found };

		bpf_loop(MAX_DEPTH, abandon_frame, &w, 0);
	}
	fr = &st->frames[found & (MAX_DEPTH - 1)];
	if (!counted(hid)) {
		/* not counted (recorder_disarm), but the frame goes all the same:
		 * left open, the thread's next call would close it as unwound */
		st->depth = found;
		st->flow_mask = fr->flows_before;
		if (!found)
			stack_emptied(st, now);
		return 0;
	}
	dur = now > fr->start_ns ? now - fr->start_ns : 0;
	cpu = 0;
	if (track_oncpu && !st->goroutine) {
		__u64 off = thread_off_until(st, now, &runq) - fr->off_start_ns;

		probe_hit(st, now, exit_slot);
		cpu = dur > off ? dur - off : 0;
		/* the probe waits in the window are neither the call's time nor
		 * its time off the CPU (above); each was a wait to run, so none
		 * of the call's waits for a CPU either */
		waits = st->probe_off_ns - fr->probe_off_start_ns;
		if (waits > off)
			waits = off;
		dur = dur > waits ? dur - waits : 0;
		runq -= fr->runq_start_ns;
		runq = runq > waits ? runq - waits : 0;
		if (runq > off - waits)
			runq = off - waits;
	}
	self = dur > fr->child_ns ? dur - fr->child_ns : 0;
	/* The probes' own time inside this call's window (include/flowprof.h),
	 * as warm or cold as its state lookups ran (include/cost_slot.h). */
	temp = probe_temperature(call_therm(fr, st));
	own_in = pair_cost_at(probe_costs.in_window_ns, probe_costs.in_window_cold_ns,
			      fr->entry_slot, exit_slot, temp);
	own_full = pair_cost_at(probe_costs.hit_ns, probe_costs.hit_cold_ns, fr->entry_slot,
				exit_slot, temp);
	corr = own_in + fr->nested_cost_ns;
	st->wake_probe_ns += own_full;
	st->depth = found;
	st->flow_mask = fr->flows_before;
	if (found > 0) {
		struct frame *parent = &st->frames[(found - 1) & (MAX_DEPTH - 1)];

		parent->child_ns += dur;
		parent->nested_cost_ns += fr->nested_cost_ns + own_full;
		parent->kids_out_ns += own_full > own_in ? own_full - own_in : 0;
		parent->nested_calls += fr->nested_calls + 1;
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
		hs->probe_ns += corr;
		hs->self_probe_ns += own_in + fr->kids_out_ns;
		hs->nested_calls += fr->nested_calls;
		hs->probe_cpu_ns += own_full;
		if (st->start_unpaid) { /* the thread's own start, once */
			hs->probe_cpu_ns += probe_costs.thread_start_ns;
			st->wake_probe_ns += probe_costs.thread_start_ns;
			st->start_unpaid = 0;
		}
		hs->therm_ns += call_therm(fr, st);
		hs->probe_wait_ns += waits;
		hs->runq_ns += runq;
		/* a flow's own arrival: a flow's entry, called inside no flow */
		if (fr->entry_flows && !fr->flows_before) {
			hs->arrival_calls++;
			hs->arrival_ns += dur;
			hs->arrival_probe_ns += corr;
			hs->arrival_self_ns += self;
			hs->arrival_self_probe_ns += own_in + fr->kids_out_ns;
		}
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
	if (!found) {
		st->wake_calls++;
		stack_emptied(st, now);
	}
	return 0;
}

/* A hit begins (entry or exit) and ends, for the probe waits: where it
 * trapped, and that its program runs (a preemption now is the probe's). */
static __always_inline void hit_begin(struct thread_state *st, struct pt_regs *ctx, bool entry)
{
	if (!st)
		return;
	st->hit_ip = PT_REGS_IP(ctx);
	st->hit_sp = PT_REGS_SP(ctx);
	st->hit_entry = entry;
	st->in_hit = 1;
}

static __always_inline void hit_end(struct thread_state *st)
{
	if (st)
		st->in_hit = 0;
}

/* The programs' common path: the hit's state, then entry or exit. */
static __always_inline int function_entry(struct pt_regs *ctx, __u64 cookie)
{
	__u64 t0 = bpf_ktime_get_ns();
	struct hit h;
	int ret;

	if (hit_state(ctx, cookie, PT_REGS_SP(ctx), true, &h))
		return 1;
	hit_begin(h.st, ctx, true);
	ret = on_entry(h.st, cookie, h.key, lookup_done(h.st, t0));
	hit_end(h.st);
	go_state_release(&h);
	return ret;
}

static __always_inline int function_exit(struct pt_regs *ctx, __u64 cookie, __u64 sp,
					 __u32 exit_slot)
{
	__u64 t0 = bpf_ktime_get_ns();
	struct hit h;

	if (hit_state(ctx, cookie, sp, false, &h)) {
		if (!(cookie & COOKIE_EXIT_FOREIGN)) /* else another caller's, in no handler */
			count(CNT_UNMATCHED_RETURN);
		return 0;
	}
	hit_begin(h.st, ctx, false);
	on_exit(h.st, cookie, h.key, exit_slot, lookup_done(h.st, t0));
	hit_end(h.st);
	go_state_release(&h);
	return 0;
}
