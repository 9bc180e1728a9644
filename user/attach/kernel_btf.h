/* SPDX-License-Identifier: MIT */
/*
 * Names in the running kernel's BTF, found by reading the file once through
 * a small buffer. The kernel-feature detection needs a few names only
 * (an enumerator of enum bpf_attach_type, two kfuncs); libbpf's
 * btf__load_vmlinux_btf() would parse the whole 5.5 MB and hold it twice
 * while doing so, a second time besides libbpf's own load.
 */
#ifndef FLOWPROF_KERNEL_BTF_H
#define FLOWPROF_KERNEL_BTF_H

#include <stdbool.h>

#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"
/* Queries one kernel_btf_find() answers at most. */
#define KBTF_MAX_QUERIES 16

struct kbtf_query {
	unsigned int kind;	/* BTF_KIND_ENUM, BTF_KIND_FUNC, ... */
	const char *name;	/* the type's name */
	const char *member;	/* BTF_KIND_ENUM only: an enumerator of the first
				 * enum of that name (btf__find_by_name_kind's);
				 * NULL: the type itself */
	bool found;		/* the answer */
	unsigned int id;	/* the type's id, when found (not for a member) */
};

/*
 * Answers each query (n <= KBTF_MAX_QUERIES) from the raw BTF file at path
 * (native byte order).
 * Returns 0 with every found set, or -1 when the file cannot be read or
 * holds something this reader does not know (another byte order, a kind
 * newer than BTF_KIND_ENUM64): then ask libbpf.
 */
int kernel_btf_find(const char *path, struct kbtf_query *q, int n);

#endif
