// SPDX-License-Identifier: MIT
/*
 * Process slots: each process the probes fire in gets a slot of its own in
 * the per-process maps, up to max_instances, then a pooled one
 * (bpf/state.bpf.h instance_slot). Here: how many there are, and the slots
 * of the processes known at start, given before the probes go in.
 */
#include "attach_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "base/base.h"
#include "flowprof.h"

/* Adds pid to the distinct pids (at most most of them); false when full. */
static bool add_known(int *pids, int *n, int most, int pid)
{
	int k = 0;

	while (k < *n && pids[k] != pid)
		k++;
	if (k < *n)
		return true;
	if (*n == most)
		return false;
	pids[(*n)++] = pid;
	return true;
}

/*
 * The processes known at start, the sites' and the bundles', up to most of
 * them (*pids, the caller frees); 0 when there are more. *only: every site
 * is filtered to one process (-p), so no other can take a slot.
 */
static int processes_known(const struct resolution *res, int most, int **pids, bool *only)
{
	int n = 0;

	*pids = xcalloc((size_t)most + 1, sizeof(**pids));
	*only = res->n_sites > 0;
	for (size_t i = 0; i < res->n_sites; i++) {
		*only &= res->sites[i].pid > 0;
		if (res->sites[i].pid > 0 && !add_known(*pids, &n, most, res->sites[i].pid))
			return 0;
	}
	for (int b = 0; b < res->n_bundles; b++)
		for (int i = 0; i < res->bundles[b].n_pids; i++)
			if (!add_known(*pids, &n, most, res->bundles[b].pids[i]))
				return 0;
	return n;
}

/*
 * Each process known at start gets its slot before the probes go in, where
 * they all fit: threads of one process that make their first calls at once
 * then find it, where they would otherwise each draw a slot number (the
 * losers' numbers wasted, and past the last slot, pooled: bpf/state.bpf.h
 * instance_slot). Processes that start later draw the numbers after.
 */
int slots_assign(struct recorder *r, char *err, size_t errlen)
{
	int slots = bpf_map__fd(r->skel->maps.instances);
	int infos = bpf_map__fd(r->skel->maps.instance_info);

	for (int i = 0; i < r->n_slot_pids; i++) {
		struct inst_info info = { .tgid = (__u32)r->slot_pids[i] };
		__u32 slot = (__u32)i, tgid = (__u32)r->slot_pids[i];

		if (bpf_map_update_elem(slots, &tgid, &slot, BPF_NOEXIST) ||
		    bpf_map_update_elem(infos, &slot, &info, BPF_ANY)) {
			int e = errno;

			snprintf(err, errlen, "process slot of pid %d: %s", r->slot_pids[i],
				 strerror(e));
			return -e;
		}
	}
	r->skel->bss->next_instance = (__u32)r->n_slot_pids;
	return 0;
}

void slots_plan(struct recorder *r, const struct resolution *res, bool limit_given)
{
	bool only;
	int *pids, n = processes_known(res, r->max_instances, &pids, &only);

	/* by default no more slots than processes where no other can call:
	 * per-process maps hold (slots + the pool) x handlers per CPU,
	 * allocated at load (65 x 1,000 took 25 ms to create here) */
	if (n > 0 && only && !limit_given)
		r->max_instances = n;
	if (n > 0) {
		r->slot_pids = pids;
		r->n_slot_pids = n;
	} else {
		free(pids);
	}
}
