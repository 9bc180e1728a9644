// SPDX-License-Identifier: MIT
/*
 * A handler's figures, as the BPF programs keep them: one struct
 * handler_stats per CPU (include/flowprof.h), summed here for everyone who
 * reads them (the collection, the calibration's stubs, the counting probes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach_int.h"
#include "base/base.h"
#include "flowprof.h"

void handler_stats_sum(const void *percpu, size_t stride, int ncpu, struct handler_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpu; c++) {
		const struct handler_stats *hs = (const void *)((const char *)percpu +
								 (size_t)c * stride);
		uint64_t lo;

		out->entries += hs->entries;
		out->calls += hs->calls;
		out->incomplete += hs->incomplete;
		out->total_ns += hs->total_ns;
		out->self_ns += hs->self_ns;
		out->oncpu_ns += hs->oncpu_ns;
		out->unwound += hs->unwound;
		out->probe_ns += hs->probe_ns;
		out->self_probe_ns += hs->self_probe_ns;
		out->nested_calls += hs->nested_calls;
		out->probe_cpu_ns += hs->probe_cpu_ns;
		out->therm_ns += hs->therm_ns;
		out->probe_wait_ns += hs->probe_wait_ns;
		out->runq_ns += hs->runq_ns;
		out->arrival_calls += hs->arrival_calls;
		out->arrival_ns += hs->arrival_ns;
		out->arrival_probe_ns += hs->arrival_probe_ns;
		out->arrival_self_ns += hs->arrival_self_ns;
		out->arrival_self_probe_ns += hs->arrival_self_probe_ns;
		if (hs->min_ns && (!out->min_ns || hs->min_ns < out->min_ns))
			out->min_ns = hs->min_ns;
		if (hs->max_ns > out->max_ns)
			out->max_ns = hs->max_ns;
		/* a 128-bit sum: carry when the low half wraps */
		lo = out->sumsq_lo + hs->sumsq_lo;
		out->sumsq_hi += hs->sumsq_hi + (lo < out->sumsq_lo);
		out->sumsq_lo = lo;
		hist_add((uint64_t *)out->hist, (const uint64_t *)hs->hist);
	}
}

int recorder_read_handler(const struct recorder *r, uint32_t hid, struct handler_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (sizeof(struct handler_stats) + 7) & ~(size_t)7; /* the kernel's */
	void *buf;
	int e = 0;

	memset(out, 0, sizeof(*out));
	if (!r || !r->skel)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	buf = xcalloc((size_t)ncpu, stride);
	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.handler_stats), &hid, buf))
		e = -errno;
	else
		handler_stats_sum(buf, stride, ncpu, out);
	free(buf);
	return e;
}
