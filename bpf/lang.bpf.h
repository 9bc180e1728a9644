/* SPDX-License-Identifier: GPL-2.0 */
/*
 * USDT, Python and Java handlers. Included by flowprof.bpf.c.
 */
/*
 * Probe points that are USDT probes rather than a function's entry and
 * return (include/flowprof_rt.h, docs/real-services.md). Each is a plain
 * entry-style uprobe, attached by user/attach_usdt.c; the return side of a
 * call is a probe point of its own, so these programs call on_entry() or
 * on_return() themselves, with frame key 0.
 */
#include "flowprof_rt.h"

/* Argument locations of each Python/Java probe point (cookie: its index). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized to the number of such probe points */
	__type(key, __u32);
	__type(value, struct rt_site_spec);
} rt_specs SEC(".maps");

/* (bundle, language, function name) -> the handlers of that name. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized to the number of distinct names */
	__type(key, struct rt_name_key);
	__type(value, struct rt_name_val);
} rt_names SEC(".maps");

/* File (Python) or class (Java) globs of the candidates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_glob);
} rt_globs SEC(".maps");

struct rt_scratch {
	struct rt_name_key key;
	char scope[RT_SCOPE_LEN];
};

/* Too large for the BPF stack; per CPU, as uprobe programs do not nest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_scratch);
} rt_scratch SEC(".maps");

/*
 * Function-name prefilter: one bit per hash of a name's first 8 bytes
 * (zero-padded), set by the loader for every python:/java: handler. Most
 * calls of a language runtime are not handlers: they stop here after one
 * 8-byte read, before the full name is read and looked up.
 */
__u64 rt_prefix_bits[RT_PREFIX_WORDS] = {};

/*
 * A register of the probed thread, by its offset in struct pt_regs. The
 * verifier refuses loads at variable offsets into ctx, so each register is
 * its own load at a constant offset; the empty asm keeps clang from merging
 * them back into one load at ctx + off.
 */
#define RT_REG_CASE(n, field)                  \
	case n: {                              \
		__u64 x = ctx->field;          \
		asm volatile("" : "+r"(x));    \
		*v = x;                        \
		return 0;                      \
	}

static __always_inline int rt_reg(struct pt_regs *ctx, __u32 off, __u64 *v)
{
#if defined(__TARGET_ARCH_x86)
	switch (off / 8) {
	RT_REG_CASE(0, r15)
	RT_REG_CASE(1, r14)
	RT_REG_CASE(2, r13)
	RT_REG_CASE(3, r12)
	RT_REG_CASE(4, bp)
	RT_REG_CASE(5, bx)
	RT_REG_CASE(6, r11)
	RT_REG_CASE(7, r10)
	RT_REG_CASE(8, r9)
	RT_REG_CASE(9, r8)
	RT_REG_CASE(10, ax)
	RT_REG_CASE(11, cx)
	RT_REG_CASE(12, dx)
	RT_REG_CASE(13, si)
	RT_REG_CASE(14, di)
	RT_REG_CASE(19, sp)
	default:
		return -1;
	}
#else
	return bpf_probe_read_kernel(v, sizeof(*v), (void *)ctx + off) ? -1 : 0;
#endif
}

/* One USDT argument, as the note's argument string located it. */
static __always_inline int rt_arg_read(struct pt_regs *ctx, const struct rt_arg *a, __u64 *out)
{
	__u64 v = 0, base = 0;
	__u32 sz = a->size;

	if (sz > 8)
		sz = 8;
	switch (a->kind) {
	case RT_ARG_CONST:
		v = (__u64)a->val;
		break;
	case RT_ARG_REG:
		if (rt_reg(ctx, a->reg_off, &v))
			return -1;
		break;
	case RT_ARG_DEREF:
		if (rt_reg(ctx, a->reg_off, &base))
			return -1;
		if (bpf_probe_read_user(&v, sz, (void *)(base + a->val)))
			return -1;
		break;
	default:
		return -1;
	}
	/* Keep the argument's own bytes (little-endian), sign-extended if signed. */
	if (sz < 8) {
		__u32 shift = 64 - sz * 8;

		v <<= shift;
		v = a->is_signed ? (__u64)((__s64)v >> shift) : v >> shift;
	}
	*out = v;
	return 0;
}

struct glob_walk {
	const char *pat;
	const char *str;
	__u32 plen, slen;
	__u32 i, j, mark;
	__s32 star;
	__u32 result; /* 0: running, 1: match, 2: no match */
};

/* One step of a * and ? wildcard match with backtracking to the last star
 * (linear in practice, slen * plen at worst). */
static long glob_step(__u32 k, void *arg)
{
	struct glob_walk *w = arg;
	char pc = 0, sc;

	if (w->j < w->plen)
		pc = w->pat[w->j & (RT_SCOPE_LEN - 1)];
	if (w->i < w->slen) {
		sc = w->str[w->i & (RT_SCOPE_LEN - 1)];
		if (w->j < w->plen && pc == '*') {
			w->star = (__s32)w->j;
			w->mark = w->i;
			w->j++;
			return 0;
		}
		if (w->j < w->plen && (pc == '?' || pc == sc)) {
			w->i++;
			w->j++;
			return 0;
		}
		if (w->star >= 0) {
			w->j = (__u32)w->star + 1;
			w->mark++;
			w->i = w->mark;
			return 0;
		}
		w->result = 2;
		return 1;
	}
	if (w->j < w->plen && pc == '*') {
		w->j++;
		return 0;
	}
	w->result = w->j == w->plen ? 1 : 2;
	return 1;
}

/* Zero, but not to the verifier: it starts glob_step's state, which the
 * verifier would otherwise follow value by value through every iteration
 * (newer kernels: "the sequence of 8193 jumps is too complex"). */
__u32 glob_zero = 0;

static __always_inline bool glob_match(const struct rt_glob *g, const char *str, __u32 slen)
{
	__u32 z = glob_zero;
	struct glob_walk w = {
		.pat = g->pat, .str = str, .plen = g->len, .slen = slen,
		.i = z, .j = z, .mark = z, .star = -1 + (__s32)z, .result = z,
	};

	bpf_loop(1 << 16, glob_step, &w, 0);
	return w.result == 1;
}

/*
 * CPython's function__entry/function__return and HotSpot's
 * method__entry/method__return. Every call of the language runtime comes
 * here; an unmatched one costs reading its name and one hash lookup.
 */
static __always_inline int rt_lang_probe(struct pt_regs *ctx, __u32 lang)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), name_ptr = 0, len = 0, scope_ptr = 0, prefix = 0, now, t0;
	__u32 spec_idx = RT_COOKIE_SPEC(cookie), zero = 0, slen = 0, hid = 0, flows = 0;
	struct rt_site_spec *spec;
	struct rt_scratch *sc;
	struct rt_name_val *val;
	struct thread_state *st;
	bool have_scope = false, found = false;
	long n;

	spec = bpf_map_lookup_elem(&rt_specs, &spec_idx);
	sc = bpf_map_lookup_elem(&rt_scratch, &zero);
	if (!spec || !sc)
		return 0;
	if (rt_arg_read(ctx, &spec->args[RT_SLOT_NAME], &name_ptr) || !name_ptr)
		return 0;
	if (lang == RT_LANG_JAVA &&
	    (rt_arg_read(ctx, &spec->args[RT_SLOT_NAME_LEN], &len) || !len || len > RT_NAME_LEN - 2))
		return 0;
	/* The prefilter. A read that fails (a short name at the end of a
	 * mapping) skips it: the full read below decides. */
	if (!bpf_probe_read_user(&prefix, sizeof(prefix), (void *)name_ptr)) {
		__u32 bit;

		if (lang == RT_LANG_JAVA) {
			if (len < 8)
				prefix &= (1ULL << (len * 8)) - 1;
		} else {
			for (int i = 0; i < 8; i++) {
				if (!((prefix >> (i * 8)) & 0xff)) {
					prefix &= i ? (1ULL << (i * 8)) - 1 : 0;
					break;
				}
			}
		}
		bit = RT_PREFIX_HASH(prefix);
		if (!(rt_prefix_bits[(bit / 64) & (RT_PREFIX_WORDS - 1)] & (1ULL << (bit % 64))))
			return 0;
	}
	__builtin_memset(&sc->key, 0, sizeof(sc->key));
	sc->key.bundle = (__u16)RT_COOKIE_BUNDLE(cookie);
	sc->key.lang = (__u16)lang;
	if (lang == RT_LANG_JAVA) {
		/* HotSpot's strings are not NUL-terminated: pointer and length. */
		if (bpf_probe_read_user(sc->key.name, len & (RT_NAME_LEN - 1), (void *)name_ptr))
			return 0;
	} else {
		/* n counts the NUL: a name filling the buffer is longer than any pattern. */
		n = bpf_probe_read_user_str(sc->key.name, RT_NAME_LEN, (void *)name_ptr);
		if (n <= 0 || n >= RT_NAME_LEN)
			return 0;
	}
	val = bpf_map_lookup_elem(&rt_names, &sc->key);
	if (!val)
		return 0;

	for (__u32 k = 0; k < RT_MAX_CANDIDATES; k++) {
		struct rt_candidate *c;
		struct rt_glob *g;
		__u32 gi;

		if (k >= val->n)
			break;
		c = &val->c[k];
		gi = c->glob;
		if (gi != RT_GLOB_ANY) {
			if (!have_scope) {
				have_scope = true;
				if (rt_arg_read(ctx, &spec->args[RT_SLOT_SCOPE], &scope_ptr) || !scope_ptr)
					break;
				if (lang == RT_LANG_JAVA) {
					if (rt_arg_read(ctx, &spec->args[RT_SLOT_SCOPE_LEN], &len))
						break;
					if (len > RT_SCOPE_LEN - 1)
						len = RT_SCOPE_LEN - 1;
					if (bpf_probe_read_user(sc->scope, len & (RT_SCOPE_LEN - 1),
								(void *)scope_ptr))
						break;
					slen = (__u32)len;
				} else {
					n = bpf_probe_read_user_str(sc->scope, RT_SCOPE_LEN,
								    (void *)scope_ptr);
					if (n <= 0)
						break;
					slen = (__u32)n - 1;
				}
			}
			g = bpf_map_lookup_elem(&rt_globs, &gi);
			if (!g || !glob_match(g, sc->scope, slen))
				continue;
		}
		hid = c->hid;
		flows = c->entry_flows;
		found = true;
		break;
	}
	if (!found)
		return 0;
	t0 = bpf_ktime_get_ns();
	st = thread_state_get(!RT_COOKIE_IS_RETURN(cookie));
	now = lookup_done(st, t0);
	if (RT_COOKIE_IS_RETURN(cookie))
		return on_exit(st, MAKE_COOKIE(hid, flows), 0, SLOT_NONE, now);
	on_entry(st, MAKE_COOKIE(hid, flows), 0, now);
	return 0;
}

/* usdt: / return: pairs; the cookie names the handler (see flowprof_rt.h). */
SEC("uprobe")
int BPF_KPROBE(usdt_pair)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), t0 = bpf_ktime_get_ns();
	struct thread_state *st = thread_state_get(!(cookie & RT_USDT_RETURN_BIT));
	__u64 now = lookup_done(st, t0);

	if (cookie & RT_USDT_RETURN_BIT)
		return on_exit(st, cookie & ~RT_USDT_RETURN_BIT, 0, SLOT_EXIT_USDT, now);
	on_entry(st, COOKIE_WITH_SLOT(cookie, SLOT_ENTRY_USDT), 0, now);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(python_probe)
{
	return rt_lang_probe(ctx, RT_LANG_PYTHON);
}

SEC("uprobe")
int BPF_KPROBE(java_probe)
{
	return rt_lang_probe(ctx, RT_LANG_JAVA);
}
