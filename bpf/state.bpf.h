/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-thread (or per-goroutine) state, instance slots and concurrency.
 * Included by flowprof.bpf.c, after the maps and rodata knobs.
 *
 * A thread's frames live in task local storage (a hash map keyed by thread
 * id where the kernel lacks it). A goroutine can move between threads in
 * the middle of a call, so a Go handler's frames are keyed by the goroutine
 * instead (go_state, created at its first entry and deleted when its last
 * frame closes).
 */

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
		/* another thread of the process may have just taken its slot:
		 * each racing thread draws a number, and the last ones drawn can
		 * be past the slots (userspace assigns them ahead where it knows
		 * the processes) */
		slot = bpf_map_lookup_elem(&instances, &tgid);
		if (slot)
			return *slot;
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

/*
 * Concurrency of an instance: how many of its threads are live (have run a
 * handler and not exited) and how many are inside a handler, as
 * time-weighted histograms. The model's default server count comes from
 * them (docs/model.md): a thread-per-request server has few threads live at
 * once however many it starts, a pool has all of its workers live.
 */
static __always_inline void level_change(__u32 *level, __u64 *at, __u64 *hist, __u32 *max,
					 int delta, __u64 now)
{
	__u32 old, fresh;
	__u64 prev;

	if (delta < 0 && !*level)
		return;
	old = __sync_fetch_and_add(level, delta);
	prev = __sync_lock_test_and_set(at, now);
	if (prev && now > prev)
		__sync_fetch_and_add(&hist[old < CONC_LEVELS ? old : CONC_LEVELS - 1], now - prev);
	fresh = old + delta;
	for (int i = 0; i < 3; i++) {
		__u32 m = *max;

		if (fresh <= m || __sync_val_compare_and_swap(max, m, fresh) == m)
			break;
	}
}

static __always_inline void conc_change(struct thread_state *st, int d_live, int d_inflight,
					__u64 now)
{
	__u32 slot = st->inst - 1;
	struct inst_info *info;

	if (!st->inst || st->inst > max_instances + 1)
		return;
	info = bpf_map_lookup_elem(&instance_info, &slot);
	if (!info)
		return;
	if (d_live)
		level_change(&info->live, &info->live_at, info->live_ns, &info->live_max, d_live,
			     now);
	if (d_inflight)
		level_change(&info->inflight, &info->inflight_at, info->inflight_ns,
			     &info->inflight_max, d_inflight, now);
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

/* The process's bit in tracked_tgids (bpf/flowprof.bpf.c). */
static __always_inline void mark_tracked(__u32 tgid)
{
	__u32 bit = tgid % TRACKED_BITS;

	__sync_fetch_and_or(&tracked_tgids[(bit / 64) & (TRACKED_WORDS - 1)], 1ULL << (bit % 64));
}

static __always_inline bool is_tracked(__u32 tgid)
{
	__u32 bit = tgid % TRACKED_BITS;

	return tracked_tgids[(bit / 64) & (TRACKED_WORDS - 1)] & (1ULL << (bit % 64));
}

/* therm_ns of a hit that created its state: creating it took longer than a
 * lookup, cold or not, so the hit is not timed (bpf/account.bpf.h). */
#define THERM_FRESH 0xffffffffU

/* A thread's (or goroutine's) state at its first hit; it reads the clock
 * itself: the hit's own read comes after the state lookup. */
static __always_inline void init_state(struct thread_state *st, bool goroutine)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, slot;
	struct inst_info *info;

	st->therm_ns = THERM_FRESH;
	mark_tracked(tgid);

	st->tgid = tgid;
	st->tid = (__u32)bpf_get_current_pid_tgid();
	st->goroutine = goroutine;
	st->start_unpaid = !goroutine;
	if (tgid == self_tgid) {
		/* flowprof's own calibration calls: no process slot of their own */
		st->inst = max_instances + 2;
		return;
	}
	if (root_tgid && !descends_from_root()) {
		/* decided once per thread: later events cost one branch */
		st->ignored = 1;
		st->inst = max_instances + 2;
		return;
	}
	slot = instance_slot(tgid);
	st->inst = slot + 1;
	if (goroutine)
		return; /* a goroutine is live while it is inside a handler */
	info = bpf_map_lookup_elem(&instance_info, &slot);
	if (info && !__sync_fetch_and_add(&info->threads, 1))
		bpf_get_current_comm(info->first_comm, sizeof(info->first_comm));
	conc_change(st, 1, 0, bpf_ktime_get_ns());
}

static __always_inline struct thread_state *thread_state_get(bool create)
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
		init_state(st, false);
	return st;
}

static __always_inline struct thread_state *go_state_get(__u64 g, bool create)
{
	struct thread_state *st = bpf_map_lookup_elem(&go_state, &g);

	if (!st && create) {
		__u32 zero = 0;
		struct thread_state *z = bpf_map_lookup_elem(&zero_state, &zero);

		if (z)
			bpf_map_update_elem(&go_state, &g, z, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&go_state, &g);
		if (!st) {
			count(CNT_GO_STATE_FULL);
			return NULL;
		}
	}
	if (st && !st->inst)
		init_state(st, true);
	return st;
}

/*
 * The state a probe hit belongs to, and the key of its frame.
 *
 * A thread's frame key is the stack pointer at entry: at the function's
 * exits (a `ret`, a tail-call `jmp`) the stack pointer is back to it, and
 * the kernel's return trampoline runs 8 bytes above it (ret_sp_adjust).
 *
 * A goroutine's stack moves when it grows (the runtime copies it), but its
 * distance from the stack's top (g.stack.hi, the second word of the g that
 * Go's register ABI keeps in R14) does not: the key is that distance,
 * turned around so that a frame nearer the top still has the larger key.
 */
#define GO_KEY_BASE (1ULL << 62)

struct hit {
	struct thread_state *st;
	__u64 key;
	__u64 goroutine;	/* the g pointer, 0 for a thread */
};

static __always_inline int hit_state(struct pt_regs *ctx, __u64 cookie, __u64 sp, bool create,
				     struct hit *h)
{
	h->goroutine = 0;
	h->key = sp;
	if (cookie & COOKIE_GO) {
#if defined(__TARGET_ARCH_x86)
		__u64 g = ctx->r14, hi = 0;

		if (!g || bpf_probe_read_user(&hi, sizeof(hi), (void *)(g + 8)) || !hi)
			return -1;
		h->goroutine = g;
		h->key = GO_KEY_BASE - (hi - sp);
		h->st = go_state_get(g, create);
#else
		return -1;
#endif
	} else {
		h->st = thread_state_get(create);
	}
	return h->st ? 0 : -1;
}

/* A goroutine's last frame closed: its state goes (it may never run again). */
static __always_inline void go_state_release(struct hit *h)
{
	if (h->goroutine && h->st && !h->st->depth)
		bpf_map_delete_elem(&go_state, &h->goroutine);
}
