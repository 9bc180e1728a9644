/* SPDX-License-Identifier: MIT */
/*
 * The kinds of probe flowprof measures the cost of (include/flowprof.h's
 * cookies carry one per probe point), and the table of their costs the BPF
 * programs read. Apart from flowprof.h so that userspace stages can name
 * the slots without the rest of the ABI.
 */
#ifndef FLOWPROF_COST_SLOT_H
#define FLOWPROF_COST_SLOT_H

/*
 * Cost slots: the kind of probe a hit is, by what the kernel does there.
 * Slots 1-7 are entries, 8-15 exits; 0 is a probe flowprof does not correct
 * for (USDT-style and language-runtime probes). user/attach (calibration)
 * measures each slot on the running kernel and writes its cost into
 * probe_cost_table below; the BPF programs subtract it per call.
 */
enum cost_slot {
	SLOT_NONE = 0,
	SLOT_ENTRY_NOP5 = 1,	 /* 5-byte nop: optimized into a call where the kernel can */
	SLOT_ENTRY_NOP = 2,	 /* another nop: trapped, emulated */
	SLOT_ENTRY_PUSH = 3,	 /* push reg: trapped, emulated on kernels that do */
	SLOT_ENTRY_BRANCH = 4,	 /* jmp/jcc/call rel: trapped, emulated */
	SLOT_ENTRY_STEP = 5,	 /* anything else: trapped and single-stepped */
	SLOT_ENTRY_USDT = 6,	 /* a USDT probe (a nop) opening a usdt: handler's call */
	SLOT_EXIT_URETPROBE = 8, /* the kernel's return trampoline (uretprobe, session) */
	SLOT_EXIT_RET = 9,	 /* a uprobe on a `ret` */
	SLOT_EXIT_JMP = 10,	 /* a uprobe on a tail-call `jmp rel` */
	SLOT_EXIT_JMP_IND = 11,	 /* a uprobe on an indirect tail-call jmp (single-stepped) */
	SLOT_EXIT_USDT = 12,	 /* a USDT probe closing a usdt: handler's call */
	SLOT_EXIT_CANARY = 13,	 /* a uprobe on the stack-protector check's jcc before a `ret`
				    (trapped, emulated): the exit moved ahead of the epilogue */
	SLOT_COUNT = 16,
};

/*
 * Per slot, in ns: hit_ns, what one hit costs the thread in all (the trap,
 * the BPF program, the emulation or single-step); in_window_ns, the share of
 * it that lies between an entry's and its exit's timestamps. A call's own
 * probes put in_window_ns[entry] + in_window_ns[exit] inside its measured
 * time; a nested call puts hit_ns[entry] + hit_ns[exit] there. Written by
 * userspace while recording (re-measured as load changes), read per call.
 *
 * A probe costs its least in a tight loop (warm) and several times that
 * after the caches were cleared (cold: 2.7 against 13.7 us for a nop5 pair
 * on a 2-vCPU EPYC guest). A call lies somewhere between, by what its
 * thread did since the last hit. Its two state lookups, timed, say where:
 * they are part of the same path, and ran 180-280 ns warm against
 * 1.0-2.6 us cold there. The BPF programs take each call's cost on the
 * line between the two rows at that point (bpf/account.bpf.h: probe_temperature).
 */
struct probe_cost_table {
	int hit_ns[SLOT_COUNT];		/* warm: as in a tight loop */
	int in_window_ns[SLOT_COUNT];	/* a slot's share may be < 0: only pairs are measured */
	int hit_cold_ns[SLOT_COUNT];	/* cold: each call after the caches were cleared */
	int in_window_cold_ns[SLOT_COUNT];
	/* A call's two state lookups, timed (struct frame's therm_ns), at the
	 * warm and the cold end: where a call's own lie between them places its
	 * probes' cost between the two rows, per call. */
	int therm_warm_ns, therm_cold_ns;
	/* What one more thread costs beyond its hits: its state's creation,
	 * the kernel's per-thread uprobe state, the work at its exit. Charged
	 * once to its first completed call's probe CPU (a thread-per-request
	 * server pays it every request). */
	int thread_start_ns;
};

#ifndef __VMLINUX_H__
/* "nop5", "push"... for an entry slot; "ret", "uretprobe"... for an exit's. */
static inline const char *cost_slot_name(enum cost_slot slot)
{
	switch (slot) {
	case SLOT_ENTRY_NOP5: return "nop5";
	case SLOT_ENTRY_NOP: return "nop";
	case SLOT_ENTRY_PUSH: return "push";
	case SLOT_ENTRY_BRANCH: return "branch";
	case SLOT_ENTRY_STEP: return "other";
	case SLOT_ENTRY_USDT: return "usdt";
	case SLOT_EXIT_URETPROBE: return "uretprobe";
	case SLOT_EXIT_RET: return "ret";
	case SLOT_EXIT_JMP: return "tail-call jmp";
	case SLOT_EXIT_JMP_IND: return "computed tail-call jmp";
	case SLOT_EXIT_USDT: return "usdt";
	case SLOT_EXIT_CANARY: return "canary jcc";
	case SLOT_NONE:
	default: return "none";
	}
}
#endif

#endif
