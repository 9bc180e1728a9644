/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi and uprobe.session links through a raw BPF_LINK_CREATE.
 * libbpf 1.1 has no API for them and Debian's linux/bpf.h (6.1) lacks the
 * fields, so the attribute layout is spelled out here: the kernel's union
 * bpf_attr link_create header, then its uprobe_multi member at offset 16.
 * Used by the loader (user/attach.c) and the benchmark's floor programs.
 */
#ifndef FLOWPROF_UPROBE_MULTI_LINK_H
#define FLOWPROF_UPROBE_MULTI_LINK_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#define FP_BPF_TRACE_UPROBE_MULTI 48
#define FP_BPF_TRACE_UPROBE_SESSION 57
#define FP_BPF_F_UPROBE_MULTI_RETURN 1U

struct uprobe_multi_link_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

/* Returns the link fd, or -errno. pid <= 0: every process running path.
 * ref_ctrs (USDT semaphores) and cookies may be NULL. */
static inline int create_multi_link(int prog_fd, uint32_t attach_type, uint32_t multi_flags,
				    const char *path, const uint64_t *offsets,
				    const uint64_t *ref_ctrs, const uint64_t *cookies, uint32_t cnt,
				    int pid)
{
	struct uprobe_multi_link_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = attach_type;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.ref_ctr_offsets = (uint64_t)(uintptr_t)ref_ctrs;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.multi_flags = multi_flags;
	attr.pid = pid > 0 ? (uint32_t)pid : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : (int)fd;
}

#endif
