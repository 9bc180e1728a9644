/* SPDX-License-Identifier: MIT */
/*
 * Data shared by the BPF programs (bpf/flowprof.bpf.c) and the loader
 * (user/attach.c, user/collect.c). Everything here is aggregated in the
 * kernel: userspace reads the maps once per interval, never per call.
 */
#ifndef FLOWPROF_H
#define FLOWPROF_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* userspace; BPF gets the types from vmlinux.h */
#endif
#include "cost_slot.h"
#include "histogram.h"

/* Nesting depth tracked per thread (or goroutine). The kernel stops
 * installing uretprobes past 64 active ones per task, so with uretprobe
 * exits a deeper stack would never see returns. */
#define MAX_DEPTH 64
/* Flows whose entry handler is on a thread's stack; one bit each in the
 * upper half of the BPF cookie. */
#define MAX_FLOWS 32
#define MAX_HANDLERS 65536
#define DEFAULT_MAX_INSTANCES 64
#define DEFAULT_MAX_EDGES 16384
#define DEFAULT_MAX_THREADS 32768 /* hash fallback for per-thread state only */
#define DEFAULT_MAX_GOROUTINES 16384 /* goroutines inside Go handlers at once */

/*
 * BPF cookie of every probe point:
 *   bits 0-23   the handler index
 *   bits 24-27  the probe's cost slot (below): what one hit of it costs
 *   bit 28      COOKIE_EXIT_SITE: this uprobe is one of the function's exits
 *               (a `ret` or a tail-call `jmp`), not its entry
 *   bit 29      COOKIE_EXITS_AT_SITES: an entry whose call ends at exit sites,
 *               so the return address is left alone (no uretprobe)
 *   bit 30      COOKIE_GO: a Go function: frames belong to the goroutine
 *   bit 31      COOKIE_EXIT_FOREIGN: an exit site of the function a handler
 *               that is one tail call jumps to: other callers reach it too,
 *               and a hit that finds no frame of the handler's is theirs
 *   bits 32-63  the flows this handler is the entry of (no map lookup); on
 *               an exit site, bits 32-47: bytes its stack pointer is below
 *               the entry's (an exit moved ahead of the epilogue's pops)
 */
#define COOKIE_HANDLER(c) ((__u32)((c) & 0xffffffULL))
#define COOKIE_SLOT(c) ((__u32)(((c) >> 24) & 0xf))
#define COOKIE_EXIT_SITE (1ULL << 28)
#define COOKIE_EXITS_AT_SITES (1ULL << 29)
#define COOKIE_GO (1ULL << 30)
#define COOKIE_EXIT_FOREIGN (1ULL << 31)
#define COOKIE_ENTRY_FLOWS(c) ((__u32)((c) >> 32))
#define COOKIE_EXIT_SP(c) ((__u32)(((c) >> 32) & 0xffff))
#define COOKIE_WITH_EXIT_SP(c, bytes) ((c) | ((__u64)((bytes) & 0xffff) << 32))
#define MAKE_COOKIE(hid, flow_mask) (((__u64)(flow_mask) << 32) | (__u32)(hid))
#define COOKIE_WITH_SLOT(c, slot) ((c) | ((__u64)((slot) & 0xf) << 24))

/* Per handler, per CPU. Userspace sums the CPUs. */
struct handler_stats {
	__u64 entries;	      /* entry probes hit (in flight = entries - calls - incomplete) */
	__u64 calls;	      /* calls whose return was seen and matched */
	__u64 incomplete;     /* calls whose return was never seen (unwound, depth, exit) */
	__u64 total_ns;	      /* inclusive time of completed calls */
	__u64 self_ns;	      /* inclusive minus time in nested declared handlers */
	__u64 oncpu_ns;	      /* time the thread was on a CPU during the call */
	__u64 min_ns;	      /* 0 = no call yet (a real call is never 0 ns) */
	__u64 max_ns;
	__u64 sumsq_lo;	      /* sum of squared durations, 128-bit (ns^2) */
	__u64 sumsq_hi;
	__u64 unwound;	      /* of incomplete: closed by the stack pointer (exception, longjmp) */
	__u64 probe_ns;	      /* probes' time inside total_ns: own in-window share + nested hits */
	__u64 self_probe_ns;  /* probes' time inside self_ns: own share + direct children's rest */
	__u64 nested_calls;   /* probed calls nested inside completed calls, at any depth */
	__u64 probe_cpu_ns;   /* its own two probes' whole hits: the CPU they took of the thread */
	__u64 therm_ns;	      /* its calls' state lookups, timed (include/cost_slot.h) */
	__u64 probe_wait_ns;  /* waits inside probes taken out of its calls (bpf/account.bpf.h) */
	__u64 runq_ns;	      /* of its calls' time off the CPU, switched out runnable
				 (preempted): waiting for a CPU, probe waits aside */
	/* of its calls, those that were a flow's own arrivals: it is a flow's
	 * entry, called inside no flow (on its thread); their times as above */
	__u64 arrival_calls;
	__u64 arrival_ns;
	__u64 arrival_probe_ns;
	__u64 arrival_self_ns;
	__u64 arrival_self_probe_ns;
	__u64 hist[HIST_BUCKETS]; /* inclusive durations, histogram.h layout */
};

/* Per instance (process) slot and handler, per CPU. */
struct inst_stats {
	__u64 calls;
	__u64 total_ns;
};

/* Levels of the time-weighted histograms of concurrency (the last one
 * holds every level at or above it). */
#define CONC_LEVELS 64
/* Wake-ups kept per instance, by calls completed in them (struct inst_info). */
#define WAKE_BUCKETS 9

/*
 * One per instance slot (max_instances of them, then one pooling the rest):
 * which process it is, how many of its threads ran handlers, and how many
 * could run at once. A thread is "live" from its first handler call to its
 * exit (a goroutine: while it is inside a handler); "in flight" while it is
 * inside a handler. live_ns[k] and inflight_ns[k] are the time spent with k
 * of them, up to live_at and inflight_at (userspace adds the stretch since).
 * Kept without locks (tracing programs may not take one): two changes at
 * the same moment on two CPUs can give a few ns to the wrong level, never
 * lose or add time.
 */
struct inst_info {
	__u32 tgid;
	__u32 threads;		/* threads that ever ran a handler */
	__u32 live;
	__u32 inflight;
	__u32 live_max;
	__u32 inflight_max;
	__u64 live_at;		/* when live last changed (0: never) */
	__u64 inflight_at;
	__u64 live_ns[CONC_LEVELS];
	__u64 inflight_ns[CONC_LEVELS];
	__u64 exit_cpu_ns;	/* the process's CPU time when it was freed (0: not yet) */
	char first_comm[16];	/* the name of its first thread to run a handler: a pool
				   names its workers alike (memcached's "mc-worker") */
	/* Wake-ups: a thread's stretch from waking outside any handler to
	 * sleeping outside one again, by the top-level calls it completed
	 * (index k; WAKE_BUCKETS - 1 holds k and more). wake_cpu_ns: its time
	 * on a CPU, wake_probe_ns: what its calls' probes took of it
	 * (hit costs, as probe_cpu_ns). bpf/sched.bpf.h */
	__u64 wake_periods[WAKE_BUCKETS];
	__u64 wake_calls[WAKE_BUCKETS];
	__u64 wake_cpu_ns[WAKE_BUCKETS];
	__u64 wake_probe_ns[WAKE_BUCKETS];
};

/* Global event counters, kept in .bss (rare events only). */
enum fp_counter {
	CNT_UNMATCHED_RETURN,	/* a return with no matching entry (entered before attach) */
	CNT_DEPTH_OVERFLOW,	/* entries past MAX_DEPTH: counted incomplete */
	CNT_UNWOUND,		/* frames closed by the stack pointer (longjmp, exception) */
	CNT_EXITED_IN_CALL,	/* frames left when a thread exited or exec'd */
	CNT_EDGES_FULL,		/* edge map full: edge not counted */
	CNT_INSTANCES_FULL,	/* more processes than instance slots */
	CNT_STATE_FULL,		/* per-thread state could not be created */
	CNT_GO_STATE_FULL,	/* per-goroutine state could not be created */
	CNT_SWITCH_IN_UNSEEN,	/* a thread's switch-in had no stamp: the scheduler's account used */
	CNT_PROBE_WAITS,	/* a thread switched out inside a probe: its time off is the probe's */
	CNT_MAX,
};
/* The snapshot's old name for CNT_UNWOUND (counters.abandoned_frames). */
#define CNT_ABANDONED CNT_UNWOUND

struct frame {
	__u64 start_ns;
	__u64 child_ns;	      /* inclusive time of completed nested handlers */
	__u64 off_start_ns;   /* thread's off-CPU clock at entry */
	__u64 sp;	      /* frame key: the stack pointer at entry (see bpf/frames.h) */
	__u64 nested_cost_ns; /* full cost of the probe hits of completed nested calls */
	__u64 kids_out_ns;    /* of those, direct children's hits outside their own windows */
	__u32 nested_calls;   /* completed probed calls nested inside, at any depth */
	__u32 hid;
	__u32 entry_flows;    /* flows this frame is the entry of */
	__u32 flows_before;   /* thread's flow_mask when this frame was pushed */
	__u32 entry_slot;     /* cost slot of the entry probe */
	__u32 therm_ns;	      /* the entry hit's state lookup, timed (include/cost_slot.h) */
	__u64 probe_off_start_ns; /* thread's probe_off_ns at entry */
	__u64 runq_start_ns;  /* thread's runq_ns at entry */
};

struct thread_state {
	__u32 depth;
	__u32 inst;	  /* instance slot + 1 (0 = not yet assigned) */
	__u32 flow_mask;  /* flows with an entry frame on this stack */
	__u32 tgid;
	__u32 tid;
	__u32 ignored;	  /* not a process being recorded (record -- CMD): skip its events */
	__u32 goroutine;  /* keyed by goroutine (go_state), not by thread */
	__u32 therm_ns;	  /* the current hit's state lookup, timed (include/cost_slot.h) */
	__u64 off_ns;	  /* time switched out, up to the last switch-in seen */
	__u64 runq_ns;	  /* of it, switched out still runnable: waiting for a CPU */
	__u64 out_at;	  /* last switch-out not yet folded into off_ns, 0 = none */
	/* Time off the CPU that began inside a probe (bpf/sched.bpf.h) */
	__u64 probe_off_ns;	/* of off_ns, those waits */
	__u64 in_at;		/* the last switch-in folded into off_ns */
	__u64 last_off_ns;	/* the wait that switch-in ended */
	__u64 probe_until;	/* a switch-out before this lies in the last hit's tail */
	__u64 hit_ip;		/* the last hit's instruction pointer */
	__u64 hit_sp;		/* and stack pointer */
	__u64 out_ip;		/* where the pending switch-out left user space */
	__u64 last_out_ip;	/* and where last_off_ns's did */
	__u32 out_in_probe;	/* the pending switch-out (out_at) lies in a probe */
	__u32 out_preempted;	/* the pending switch-out left the thread runnable */
	__u32 last_off_probe;	/* last_off_ns is counted in probe_off_ns */
	__u32 last_off_preempted; /* last_off_ns was a wait to run, not a sleep */
	__u32 in_hit;		/* a probe's BPF program is running for the thread */
	__u32 hit_entry;	/* the last hit was an entry (hit_ip its first instruction) */
	__u32 start_unpaid;	/* its start's cost (thread_start_ns) not yet charged to a call */
	__u32 wake_calls;	/* top-level calls completed since it last woke outside a call */
	__u64 wake_cpu_ns;	/* its time on a CPU since then, up to its last switch-out */
	__u64 wake_out_at;	/* that switch-out: a slice is counted once */
	__u64 wake_probe_ns;	/* what those calls' probes took of it */
	struct frame frames[MAX_DEPTH];
};

/* Time of the last context switch on each CPU. */
struct cpu_switch {
	__u64 at;
};

#endif /* FLOWPROF_H */
