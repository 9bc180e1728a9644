/* SPDX-License-Identifier: MIT */
/*
 * Private to user/collect/: the bundles' processes as the kernel accounts
 * them (collect_cpu.c), for the snapshot collect.c builds.
 */
#ifndef FLOWPROF_COLLECT_INT_H
#define FLOWPROF_COLLECT_INT_H

#include <stdint.h>

#include "collect.h"

/* A bundle's CPU time so far (cpu_s), its threads' sleeps (sleeps) and the
 * CPUs its processes may use: processes that share a cgroup and affinity
 * share those CPUs. */
void collect_bundle_cpus(struct snap_bundle *b, int nproc);

/* A process that is gone: its CPU time as the kernel summed it when it was
 * freed, waited for once. */
void collect_exit_cpu(const struct recorder *r, uint32_t slot, struct inst_info *info);

#endif
