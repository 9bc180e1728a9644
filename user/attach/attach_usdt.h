/* SPDX-License-Identifier: MIT */
/*
 * Attaching the probe sites that are USDT probes (usdt:, python:, java:
 * handlers; struct probe_site.kind != PROBE_FUNCTION). user/attach/attach.c calls
 * these around its own load and attach; see docs/real-services.md.
 */
#ifndef FLOWPROF_ATTACH_USDT_H
#define FLOWPROF_ATTACH_USDT_H

#include <stddef.h>

#include "attach.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"

/* Before the skeleton is loaded: which of the USDT, Python and Java
 * programs load (only those with sites), their attach type, map sizes. */
void rt_prepare_load(struct recorder *r, const struct flowfile *ff, const struct resolution *res);

/*
 * After load: fills the name tables and attaches every USDT probe site,
 * one uprobe_multi link per (binary, process, program) when the kernel has
 * them, else one perf-event uprobe per site (libbpf). Semaphores are
 * raised by the kernel (ref_ctr_offset) for as long as the probe is
 * attached. Links are kept in r (detached with the rest). On failure
 * returns -errno with a message in err.
 */
int rt_attach(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
	      char *err, size_t errlen);

/* true for a site attach.c must leave to rt_attach(). */
static inline int site_is_usdt(const struct probe_site *s)
{
	return s->kind >= PROBE_USDT_ENTRY && s->kind <= PROBE_JAVA_RETURN;
}

#endif
