// SPDX-License-Identifier: MIT
/*
 * The bundles' processes as the kernel accounts them outside the BPF maps:
 * their CPU time (sampled while they run, final when they are freed), the
 * CPUs they may use, and how often their threads went to sleep.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "collect.h"
#include "collect_int.h"
#include "base/base.h"
#include "probe/probe.h"

/* The last CPU time seen of each process (collect_cpu_sample). */
static struct cpu_seen {
	int pid;
	double cpu_s;
	bool final;
	bool exit_waited;	/* for its CPU time at its end (collect_exit_cpu) */
	uint64_t sleeps;	/* its threads' voluntary switches, last seen */
	double limit;		/* proc_cpu_limit's, once read (0: not yet) */
	char source[128], group[512];
} *cpu_seen;
static size_t n_cpu_seen, cap_cpu_seen;

void collect_cpu_forget(void)
{
	free(cpu_seen);
	cpu_seen = NULL;
	n_cpu_seen = cap_cpu_seen = 0;
}

static struct cpu_seen *cpu_entry(int pid)
{
	for (size_t i = 0; i < n_cpu_seen; i++)
		if (cpu_seen[i].pid == pid)
			return &cpu_seen[i];
	grow_array((void **)&cpu_seen, &cap_cpu_seen, n_cpu_seen + 1, sizeof(*cpu_seen));
	memset(&cpu_seen[n_cpu_seen], 0, sizeof(*cpu_seen));
	cpu_seen[n_cpu_seen].pid = pid;
	cpu_seen[n_cpu_seen].cpu_s = -1;
	return &cpu_seen[n_cpu_seen++];
}

/* The CPUs a process may use, as read while it ran. */
static int limit_of(int pid, double *lim, const char **source, const char **group)
{
	struct cpu_seen *e = cpu_entry(pid);

	if (!e->limit && proc_cpu_limit(pid, &e->limit, e->source, sizeof(e->source), e->group,
					sizeof(e->group)))
		e->limit = 0;
	if (!e->limit)
		return -1;
	*lim = e->limit;
	*source = e->source;
	*group = e->group;
	return 0;
}

/* A process's CPU time now, or the last seen when it is gone. */
static double cpu_of(int pid)
{
	struct cpu_seen *e = cpu_entry(pid);
	double t;

	if (e->final)
		return e->cpu_s;
	t = proc_cpu_seconds(pid);
	if (t >= 0)
		e->cpu_s = t;
	return e->cpu_s;
}

double collect_bundle_cpu(const struct snap_bundle *b)
{
	double sum = 0;

	for (int i = 0; i < b->n_pids; i++) {
		double t = cpu_of(b->pids[i]);

		if (t >= 0)
			sum += t;
	}
	return sum;
}

/* A process's sleeps now, or the last seen when it is gone. */
static uint64_t sleeps_of(int pid)
{
	struct cpu_seen *e = cpu_entry(pid);
	long long n = e->final ? -1 : proc_voluntary_switches(pid);

	if (n >= 0 && (uint64_t)n > e->sleeps)
		e->sleeps = (uint64_t)n; /* a thread that exits takes its count with it */
	return e->sleeps;
}

uint64_t collect_bundle_sleeps(const struct snap_bundle *b)
{
	uint64_t sum = 0;

	for (int i = 0; i < b->n_pids; i++)
		sum += sleeps_of(b->pids[i]);
	return sum;
}

void collect_cpu_final(int pid, double cpu_s)
{
	struct cpu_seen *e = cpu_entry(pid);

	e->cpu_s = cpu_s;
	e->final = true;
}

void collect_cpu_sample(struct recorder *r)
{
	int slots = recorder_map_fd(r, RMAP_INSTANCES);
	uint32_t key, next, *pkey = NULL;

	while (!bpf_map_get_next_key(slots, pkey, &next)) {
		const char *src, *grp;
		double lim;

		key = next;
		pkey = &key;
		cpu_of((int)key);
		limit_of((int)key, &lim, &src, &grp);
	}
}

/* CPU time of the bundle's processes so far, and the CPUs they may use:
 * processes that share a cgroup and affinity share those CPUs. */
void collect_bundle_cpus(struct snap_bundle *b, int nproc)
{
	char (*groups)[512] = xcalloc((size_t)b->n_pids + 1, sizeof(*groups));
	char source[128] = "";
	const char *src, *group;
	int n_groups = 0;
	double cpus = 0, lim;

	b->cpu_measured = b->n_pids > 0;
	b->cpu_s += collect_bundle_cpu(b);
	b->sleeps += collect_bundle_sleeps(b);
	for (int i = 0; i < b->n_pids; i++) {
		bool seen = false;

		if (limit_of(b->pids[i], &lim, &src, &group))
			continue;
		for (int g = 0; g < n_groups && !seen; g++)
			seen = !strcmp(groups[g], group);
		if (seen)
			continue;
		snprintf(groups[n_groups++], sizeof(*groups), "%s", group);
		cpus += lim;
		snprintf(source, sizeof(source), "%s", src);
	}
	if (cpus > nproc)
		cpus = nproc;
	if (cpus > 0) {
		b->cpus = cpus;
		b->cpus_source = xstrdup(n_groups > 1 ? "several cgroups or affinities" : source);
	}
	free(groups);
}

/*
 * A process that is gone: its CPU time as the kernel summed it when it was
 * freed (bpf/sched.bpf.h), which happens an RCU grace period after it was
 * reaped. Waited for once per process, at most EXIT_CPU_WAIT_MS; without
 * it the process keeps the last sample taken while it ran (every 50 ms).
 */
#define EXIT_CPU_WAIT_MS 500
void collect_exit_cpu(const struct recorder *r, uint32_t slot, struct inst_info *info)
{
	int infos = recorder_map_fd(r, RMAP_INSTANCE_INFO);
	struct cpu_seen *e;

	if (!info->tgid || !recorder_info(r)->exit_cpu)
		return;
	e = cpu_entry((int)info->tgid);
	if (e->final || !proc_has_exited((int)info->tgid, -1))
		return;
	for (int ms = 0; !info->exit_cpu_ns && !e->exit_waited && ms < EXIT_CPU_WAIT_MS; ms += 5) {
		usleep(5000);
		if (bpf_map_lookup_elem(infos, &slot, info))
			return;
	}
	e->exit_waited = true;
	if (info->exit_cpu_ns)
		collect_cpu_final((int)info->tgid, (double)info->exit_cpu_ns / 1e9);
}
