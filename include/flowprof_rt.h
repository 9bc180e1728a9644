/* SPDX-License-Identifier: MIT */
/*
 * Runtime probes: USDT probe pairs, and the Python and Java handlers that
 * CPython's and HotSpot's USDT probes deliver. Shared by the BPF programs
 * at the end of bpf/flowprof.bpf.c and the loader (user/attach_usdt.c).
 * See docs/real-services.md for the design.
 *
 * A USDT probe is a nop inside a function, not a function entry: each
 * probe point of a handler (its entry probe and its return probe) is its
 * own entry-style uprobe, and the cookie says which of the two it is. The
 * accounting is the same on_entry()/on_return() pair as for functions,
 * with frame key 0 (the return closes the innermost open frame of the
 * handler on that thread).
 */
#ifndef FLOWPROF_RT_H
#define FLOWPROF_RT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * usdt: pairs. The cookie is MAKE_COOKIE(hid, entry flows) as for
 * functions (handler indexes stay below MAX_HANDLERS = 2^16), plus this
 * bit on the return probe's sites.
 */
#define RT_USDT_RETURN_BIT (1ULL << 31)

/*
 * python: and java: probes. One probe point (CPython's function__entry,
 * HotSpot's method__entry, ...) serves every handler of the bundle, so the
 * cookie names no handler: it carries the index of the site's argument
 * spec (rt_specs), the bundle, and whether it is the return probe. The BPF
 * side reads the function name, looks it up in rt_names and checks the
 * candidates' file or class globs.
 */
#define RT_COOKIE(spec, bundle, ret) \
	((__u64)(spec) | ((__u64)(bundle) << 16) | ((__u64)((ret) ? 1 : 0) << 32))
#define RT_COOKIE_SPEC(c) ((__u32)((c) & 0xffff))
/* A site that only holds a semaphore up (it never runs): no spec. */
#define RT_SPEC_NONE 0xffff
#define RT_COOKIE_BUNDLE(c) ((__u32)(((c) >> 16) & 0xffff))
#define RT_COOKIE_IS_RETURN(c) (((c) >> 32) & 1)

enum rt_lang {
	RT_LANG_PYTHON = 1,
	RT_LANG_JAVA = 2,
};

/* One USDT argument location, decoded from the note's argument string
 * (user/usdt.c). */
enum rt_arg_kind {
	RT_ARG_NONE = 0,
	RT_ARG_CONST,	/* $imm */
	RT_ARG_REG,	/* %reg */
	RT_ARG_DEREF,	/* off(%reg) */
};

struct rt_arg {
	__u8 kind;	/* enum rt_arg_kind */
	__u8 size;	/* 1, 2, 4 or 8 bytes */
	__u8 is_signed;
	__u8 pad;
	__u32 reg_off;	/* offset of the register in struct pt_regs */
	__s64 val;	/* the constant, or the displacement */
};

/* The arguments a language handler needs, in this order whatever their
 * position in the probe: the function name, its length (Java; CPython's
 * strings are NUL-terminated), the scope (file or class) and its length. */
enum rt_arg_slot {
	RT_SLOT_NAME,
	RT_SLOT_NAME_LEN,
	RT_SLOT_SCOPE,
	RT_SLOT_SCOPE_LEN,
	RT_SLOTS,
};

struct rt_site_spec {
	struct rt_arg args[RT_SLOTS];
};

/* Function names longer than this never match: a pattern's name is at most
 * RT_NAME_LEN - 2 characters, so a name that fills the buffer is longer. */
#define RT_NAME_LEN 64
/* File names and class names are matched on their first RT_SCOPE_LEN - 1 bytes. */
#define RT_SCOPE_LEN 256
#define RT_MAX_CANDIDATES 8
#define RT_GLOB_ANY 0xffffffffU

/* The function-name prefilter: a bitmap over a hash of the first 8 bytes
 * of a name (little-endian, zero past its end). */
#define RT_PREFIX_WORDS 64 /* 4096 bits */
#define RT_PREFIX_HASH(v) ((__u32)(((__u64)(v) * 0x9E3779B97F4A7C15ULL) >> 52))

struct rt_name_key {
	__u16 bundle;
	__u16 lang;	/* enum rt_lang */
	__u32 pad;
	char name[RT_NAME_LEN];
};

/* A handler whose function name is the key's: it matches if its glob
 * (an index into rt_globs, or RT_GLOB_ANY) matches the file or class. */
struct rt_candidate {
	__u32 hid;
	__u32 entry_flows;
	__u32 glob;
	__u32 pad;
};

struct rt_name_val {
	__u32 n;
	__u32 pad;
	struct rt_candidate c[RT_MAX_CANDIDATES];
};

/* An fnmatch-style pattern with * and ? (no brackets), '/' not special. */
struct rt_glob {
	__u32 len;
	__u32 pad;
	char pat[RT_SCOPE_LEN];
};

#endif /* FLOWPROF_RT_H */
