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
#include "histogram.h"

/* Nesting depth tracked per thread. The kernel stops installing uretprobes
 * past 64 active ones per task, so a deeper stack would never see returns. */
#define MAX_DEPTH 64
/* Flows whose entry handler is on a thread's stack; one bit each in the
 * upper half of the BPF cookie. */
#define MAX_FLOWS 32
#define MAX_HANDLERS 65536
#define DEFAULT_MAX_INSTANCES 64
#define DEFAULT_MAX_EDGES 16384
#define DEFAULT_MAX_THREADS 32768 /* hash fallback for per-thread state only */

/*
 * BPF cookie of every probe point: which handler it belongs to, and the flows
 * this handler is the entry of (so entries need no map lookup).
 */
#define COOKIE_HANDLER(c) ((__u32)((c) & 0xffffffULL))
/* The entry saves the real return address, for unwinders (unwind_hook). */
#define COOKIE_SAVES_RETURN (1ULL << 30)
#define COOKIE_ENTRY_FLOWS(c) ((__u32)((c) >> 32))
#define MAKE_COOKIE(hid, flow_mask) (((__u64)(flow_mask) << 32) | (__u32)(hid))

/* Cookies of the unwind_hook program's probe points. */
#define UNWIND_HOOK_RAISE 1	/* an unwinder starts walking the stack */
#define UNWIND_HOOK_CATCH 2	/* a catch block begins: the frames above it live on */

/* Per handler, per CPU. Userspace sums the CPUs. */
struct handler_stats {
	__u64 entries;	      /* entry probes hit (in flight = entries - calls - incomplete) */
	__u64 calls;	      /* calls whose return was seen and matched */
	__u64 incomplete;     /* calls whose return was never seen (longjmp, depth, exit) */
	__u64 total_ns;	      /* inclusive time of completed calls */
	__u64 self_ns;	      /* inclusive minus time in nested declared handlers */
	__u64 oncpu_ns;	      /* time the thread was on a CPU during the call */
	__u64 min_ns;	      /* 0 = no call yet (a real call is never 0 ns) */
	__u64 max_ns;
	__u64 sumsq_lo;	      /* sum of squared durations, 128-bit (ns^2) */
	__u64 sumsq_hi;
	__u64 hist[HIST_BUCKETS]; /* inclusive durations, histogram.h layout */
};

/* Per instance (process) slot and handler, per CPU. */
struct inst_stats {
	__u64 calls;
	__u64 total_ns;
};

/* One per instance slot (max_instances of them, then one pooling the rest):
 * which process it is and how many of its threads ran handlers. */
struct inst_info {
	__u32 tgid;
	__u32 threads;
};

/* Global event counters, kept in .bss (rare events only). */
enum fp_counter {
	CNT_UNMATCHED_RETURN,	/* a return with no matching entry (entered before attach) */
	CNT_DEPTH_OVERFLOW,	/* entries past MAX_DEPTH: counted incomplete */
	CNT_ABANDONED,		/* frames popped without their return (longjmp, exception) */
	CNT_EXITED_IN_CALL,	/* frames left when a thread exited or exec'd */
	CNT_EDGES_FULL,		/* edge map full: edge not counted */
	CNT_INSTANCES_FULL,	/* more processes than instance slots */
	CNT_STATE_FULL,		/* per-thread state could not be created */
	CNT_UNWIND_LOST,	/* an unwinder's return-address fix-up was not done in time */
	CNT_MAX,
};

struct frame {
	__u64 start_ns;
	__u64 child_ns;	   /* inclusive time of completed nested handlers */
	__u64 off_start_ns; /* thread's off-CPU clock at entry */
	__u64 sp;	   /* stack pointer at entry: matches the return exactly */
	__u32 hid;
	__u32 entry_flows; /* flows this frame is the entry of */
	__u32 flows_before; /* thread's flow_mask when this frame was pushed */
	__u32 restored;	   /* ret_addr is back on the stack for an unwinder */
	__u64 ret_addr;	   /* the real return address (COOKIE_SAVES_RETURN), else 0 */
};

struct thread_state {
	__u32 depth;
	__u32 inst;	  /* instance slot + 1 (0 = not yet assigned) */
	__u32 flow_mask;  /* flows with an entry frame on this stack */
	__u32 tgid;
	__u32 tid;
	__u32 ignored;	  /* not a process being recorded (record -- CMD): skip its events */
	__u64 unwind_id;  /* its last unwind_hook request (unique; 0 = none yet) */
	__u64 off_ns;	  /* time switched out, up to the last switch-in seen */
	__u64 out_at;	  /* last switch-out not yet folded into off_ns, 0 = none */
	struct frame frames[MAX_DEPTH];
};

/* Ring buffers of unwind_hook requests, by CPU (bpf: unwind_ring0..7). */
#define UNWIND_RINGS 8
#define UNWIND_RING_SIZE (16 * 1024)

/* Stack writes an unwinder needs (unwind_hook -> user/unwind_servicer.c). */
struct unwind_request {
	__u32 tgid;
	__u32 tid;
	__u64 id;	/* unique: the agent acknowledges it in the unwind_done map */
	__u32 n;
	__u32 pad;
	struct {
		__u64 addr;
		__u64 value;
	} writes[MAX_DEPTH];
};

/* An open call whose return address the kernel replaced, by thread and
 * stack slot (bpf: open_returns; user/unwind_servicer.c restores them). */
struct open_return_key {
	__u32 tid;
	__u32 pad;
	__u64 sp;
};

struct open_return {
	__u64 ret_addr;
	__u32 tgid;
	__u32 pad;
};

/* Time of the last context switch on each CPU. */
struct cpu_switch {
	__u64 at;
};

#endif /* FLOWPROF_H */
