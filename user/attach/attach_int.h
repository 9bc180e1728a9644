/* SPDX-License-Identifier: MIT */
/*
 * Private to the attach stage (attach.c, attach_usdt.c, calibrate.c): the
 * recorder's insides and the probe-site groups they share.
 */
#ifndef FLOWPROF_ATTACH_INT_H
#define FLOWPROF_ATTACH_INT_H

#include <bpf/libbpf.h>

#include "attach.h"
#include "flowprof.skel.h"

/* Probes of one binary in one process (pid -1: every process running it)
 * that can share links: entries, exit sites, and the entries whose exit is
 * a uretprobe (listed again, for the return link). */
struct site_list {
	uint64_t *offsets;
	uint64_t *cookies;
	uint64_t *ref_ctrs;	/* NULL when no site has a semaphore */
	uint32_t cnt;
};

struct site_group {
	const char *binary;	/* what the links attach to */
	const char *display;	/* how messages name it */
	int pid;
	struct site_list entries, exits, returns;
};

struct group_list {
	struct site_group *g;
	size_t n, cap;
};

struct site_group *group_for(struct group_list *gl, const char *binary, const char *display,
			     int pid);
void site_list_add(struct site_list *l, uint64_t offset, uint64_t ref_ctr, uint64_t cookie);
bool site_list_has(const struct site_list *l, uint64_t offset);
void site_list_free(struct site_list *l);
void groups_free(struct group_list *gl);
/* Detaches every link the recorder holds (attach.c). */
void detach_all(struct recorder *r);
/* Every function site of res into groups, its entry, exits or return probe
 * placed as want says and the calibration measured (groups.c). */
void build_groups(struct recorder *r, struct group_list *gl, const struct flowfile *ff,
		  const struct resolution *res, enum exits_choice want);

/* The calibration's state (calibrate.c). */
#define CALIB_STUBS 9
/* The last stub, on the program USDT and runtime handlers use: measured
 * only when some handler uses that program (else it is not loaded). */
#define CALIB_STUB_USDT 8

struct calib_round {
	double added_ns[CALIB_STUBS];	/* probed minus unprobed call, CPU time */
	double window_ns[CALIB_STUBS];	/* median measured duration of the probed calls */
	/* the same, each call made after the caches were cleared (what a
	 * handler that does real work between its probes meets) */
	double cold_added_ns[CALIB_STUBS];
	double cold_window_ns[CALIB_STUBS];
	/* the probed calls' mean state-lookup time (include/cost_slot.h), warm and cold */
	double therm_ns[CALIB_STUBS];
	double cold_therm_ns[CALIB_STUBS];
};

struct calibration {
	bool ready;			/* stubs found and attached */
	int n_stubs;			/* measured: CALIB_STUBS, or all but CALIB_STUB_USDT */
	double warm_hit_ns[SLOT_COUNT];	/* each slot's hit in a tight loop (NAN: none) */
	int first_hid;
	/* bit k: stub k is measured cold too (each cold call reads a buffer the
	 * size of the last-level cache: ~1.6 ms, and the target's cache lost) */
	unsigned cold_stubs;
	uint64_t offsets[CALIB_STUBS][2]; /* entry (and exit site or USDT return), file offsets */
	struct calib_round *rounds;
	int n_rounds;
	size_t cap_rounds;
	char *evict;			/* what is read to clear the caches, in a cold round */
	size_t evict_bytes;
};

struct recorder {
	struct flowprof_bpf *skel;
	struct recorder_info info;
	int n_flow_handlers;	/* the flow file's; calibration stubs come after */
	int max_instances;
	/* processes given their slots before the probes go in (every probe
	 * filtered to one of them): slot i is slot_pids[i]; NULL: none */
	int *slot_pids;
	int n_slot_pids;
	bool entry_first;	/* attach_opts.entry_first */
	char self_exe[4096];
	struct bpf_link **links;
	size_t n_links, cap_links;
	int *link_fds;
	size_t n_link_fds, cap_link_fds;
	struct calibration cal;
};

void recorder_keep_link(struct recorder *r, struct bpf_link *l);
void recorder_keep_fd(struct recorder *r, int fd);
/* The kernel's reason for refusing a probe point, in words. */
const char *attach_strerror(int e);

/* Attaches one group with the recorder's mode; -errno with err set. */
int attach_site_group(struct recorder *r, const struct site_group *g, char *err, size_t errlen);
/* Attaches a group's entries only, to prog (loaded for the recorder's
 * mode: uprobe_multi links, or single uprobes); -errno with err set. */
int attach_entries_with(struct recorder *r, struct bpf_program *prog, const struct site_group *g,
			char *err, size_t errlen);
/* Where site s's entry is probed (its first instruction, or the cheaper
 * place after it, exit_sites.h), and that place's cost slot. */
uint64_t site_entry(const struct recorder *r, const struct probe_site *s, enum cost_slot *slot);

/* slots.c: how many process slots, and the known processes' (before load);
 * then, once loaded and before the probes go in, give them. */
void slots_plan(struct recorder *r, const struct resolution *res, bool limit_given);
int slots_assign(struct recorder *r, char *err, size_t errlen);

/* calibrate.c: find flowprof's own stub functions and add them to gl
 * (hids from first_hid); then, once attached, measure rounds and write the
 * cost table the BPF programs read. slots: a bit per enum cost_slot the
 * handlers' probes may take (cold rounds measure only what those need). */
int calib_prepare(struct recorder *r, struct group_list *gl, int first_hid, unsigned slots);
int calib_attach_usdt(struct recorder *r, char *err, size_t errlen);
void calib_measure(struct recorder *r, int rounds);
void calib_free(struct calibration *c);
#define CALIB_HANDLERS CALIB_STUBS

#endif
