// SPDX-License-Identifier: MIT
/*
 * Finding a function's exits with Capstone (see exit_sites.h).
 *
 * The function's bytes (and its ".cold" part's, when the symbol table has
 * one) are decoded in one linear sweep: x86-64 compilers keep data out of
 * .text, and a byte that does not decode stops us with a reason. Then the
 * stack height (bytes pushed since the entry) is followed along the control
 * flow, because it tells the jumps apart:
 *
 *  - a tail call leaves with the stack back where the entry had it (height
 *    0): a direct `jmp` out of the function at height 0 is an exit;
 *  - a jump out of the function while its frame is still up (height > 0)
 *    goes to a part of the same function that has no symbol of its own (the
 *    cold part of a stripped binary): that code is decoded too, following
 *    its control flow, and its `ret`s are exits;
 *  - a computed `jmp` inside the frame is a switch's jump table; at height 0
 *    it may be an indirect tail call, and the exits are not known for sure.
 *    Likewise a conditional jump out of the function at height 0 (a probe on
 *    it would fire whether or not it is taken).
 */
#include "exit_sites.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "elf_symbols.h"
#include "site_class.h"

/* Larger functions are not decoded (a uretprobe is used instead). */
#define MAX_FUNCTION_BYTES (1u << 20)
/* Code followed outside the function's symbols (its hidden cold parts). */
#define MAX_FOLLOWED_INSNS 4096
#define HEIGHT_UNKNOWN INT32_MIN
#define HEIGHT_UNREACHED INT32_MAX

/* How an instruction moves the stack pointer (and rbp, for `leave`). */
enum height_op { H_NONE, H_PUSH, H_POP, H_ADD_SP, H_SET_FP, H_FROM_FP, H_LEAVE, H_POP_FP,
		 H_CLOBBER_FP, H_UNKNOWN };

struct insn {
	uint64_t addr;
	uint16_t size;
	int16_t region;		/* index into the regions; -1: followed outside them */
	bool jump, cond, indirect, ret, stop;
	bool call;		/* a call, a syscall or an interrupt: code runs elsewhere first */
	bool canary;		/* reads the stack protector's canary, %fs:0x28 */
	uint64_t target;	/* direct jumps */
	enum height_op op;
	int32_t imm;
};

struct height {
	int32_t sp;	/* bytes below the entry's stack pointer */
	int32_t fp;	/* rbp == entry sp - fp, when known */
};

struct decoder {
	csh cs;
	cs_insn *ci;
	const struct elf_file *ef;	/* NULL: only the regions' bytes exist */
	const struct code_region *regions;
	size_t n_regions;
	struct insn *insns;
	size_t n, cap;
	long *hash;			/* addr -> index + 1, open addressing */
	size_t hash_cap;
	size_t followed;
	struct height *ht;
	size_t ht_cap;
	char *why;
	size_t whylen;
};

static bool op_is_reg(const cs_x86 *x, int i, x86_reg r)
{
	return i < x->op_count && x->operands[i].type == X86_OP_REG && x->operands[i].reg == r;
}

static bool op_is_imm(const cs_x86 *x, int i)
{
	return i < x->op_count && x->operands[i].type == X86_OP_IMM;
}

static enum height_op height_op_of(csh h, const cs_insn *ci, int32_t *imm)
{
	const cs_x86 *x = &ci->detail->x86;
	cs_regs rr, rw;
	uint8_t nr = 0, nw = 0;
	bool writes_sp = true, writes_fp = true;

	if (cs_regs_access(h, ci, rr, &nr, rw, &nw) == CS_ERR_OK) {
		writes_sp = writes_fp = false;
		for (int i = 0; i < nw; i++) {
			writes_sp |= rw[i] == X86_REG_RSP || rw[i] == X86_REG_ESP;
			writes_fp |= rw[i] == X86_REG_RBP || rw[i] == X86_REG_EBP;
		}
	}
	switch (ci->id) {
	case X86_INS_PUSH:
	case X86_INS_PUSHFQ:
		return H_PUSH;
	case X86_INS_POP:
		if (op_is_reg(x, 0, X86_REG_RBP))
			return H_POP_FP;
		return op_is_reg(x, 0, X86_REG_RSP) ? H_UNKNOWN : H_POP;
	case X86_INS_POPFQ:
		return H_POP;
	case X86_INS_CALL:	/* the callee takes its return address back */
	case X86_INS_RET:
	case X86_INS_JMP:
		return H_NONE;
	case X86_INS_LEAVE:
		return H_LEAVE;
	case X86_INS_SUB:
	case X86_INS_ADD:
		if (op_is_reg(x, 0, X86_REG_RSP) && op_is_imm(x, 1)) {
			int64_t v = x->operands[1].imm;

			*imm = (int32_t)(ci->id == X86_INS_SUB ? v : -v);
			return H_ADD_SP;
		}
		break;
	case X86_INS_LEA: /* lea disp(%rsp), %rsp */
		if (op_is_reg(x, 0, X86_REG_RSP) && x->op_count == 2 &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base == X86_REG_RSP &&
		    x->operands[1].mem.index == X86_REG_INVALID) {
			*imm = (int32_t)-x->operands[1].mem.disp;
			return H_ADD_SP;
		}
		break;
	case X86_INS_MOV:
		if (op_is_reg(x, 0, X86_REG_RBP) && op_is_reg(x, 1, X86_REG_RSP))
			return H_SET_FP;
		if (op_is_reg(x, 0, X86_REG_RSP) && op_is_reg(x, 1, X86_REG_RBP))
			return H_FROM_FP;
		break;
	default:
		break;
	}
	return writes_sp ? H_UNKNOWN : writes_fp ? H_CLOBBER_FP : H_NONE;
}

static struct height apply(struct height s, const struct insn *in)
{
	if (s.sp == HEIGHT_UNKNOWN)
		return s;
	switch (in->op) {
	case H_PUSH: s.sp += 8; break;
	case H_POP: s.sp -= 8; break;
	case H_POP_FP: s.sp -= 8; s.fp = HEIGHT_UNKNOWN; break;
	case H_ADD_SP: s.sp += in->imm; break;
	case H_SET_FP: s.fp = s.sp; break;
	case H_FROM_FP: s.sp = s.fp; break;
	case H_LEAVE:
		s.sp = s.fp == HEIGHT_UNKNOWN ? HEIGHT_UNKNOWN : s.fp - 8;
		s.fp = HEIGHT_UNKNOWN;
		break;
	case H_CLOBBER_FP: s.fp = HEIGHT_UNKNOWN; break;
	case H_UNKNOWN: s.sp = HEIGHT_UNKNOWN; break;
	default: break;
	}
	return s;
}

static int region_of(const struct decoder *d, uint64_t addr)
{
	for (size_t r = 0; r < d->n_regions; r++)
		if (addr >= d->regions[r].vaddr && addr < d->regions[r].vaddr + d->regions[r].size)
			return (int)r;
	return -1;
}

static size_t hash_slot(const struct decoder *d, uint64_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ULL) >> 20) & (d->hash_cap - 1);
}

static long find_insn(const struct decoder *d, uint64_t addr)
{
	if (!d->hash_cap)
		return -1;
	for (size_t s = hash_slot(d, addr);; s = (s + 1) & (d->hash_cap - 1)) {
		if (!d->hash[s])
			return -1;
		if (d->insns[d->hash[s] - 1].addr == addr)
			return d->hash[s] - 1;
	}
}

static void index_insn(struct decoder *d, size_t i)
{
	if ((d->n + 1) * 2 > d->hash_cap) {
		size_t cap = d->hash_cap ? d->hash_cap * 2 : 256;

		free(d->hash);
		d->hash = xcalloc(cap, sizeof(*d->hash));
		d->hash_cap = cap;
		for (size_t k = 0; k < d->n; k++)
			if (k != i)
				index_insn(d, k);
	}
	for (size_t s = hash_slot(d, d->insns[i].addr);; s = (s + 1) & (d->hash_cap - 1))
		if (!d->hash[s]) {
			d->hash[s] = (long)i + 1;
			return;
		}
}

/* Appends the decoded instruction ci (region -1: followed outside). */
static size_t add_insn(struct decoder *d, const cs_insn *ci, int region)
{
	const cs_x86 *x = &ci->detail->x86;
	struct insn *in;

	grow_array((void **)&d->insns, &d->cap, d->n + 1, sizeof(*d->insns));
	in = &d->insns[d->n];
	memset(in, 0, sizeof(*in));
	in->addr = ci->address;
	in->size = ci->size;
	in->region = (int16_t)region;
	in->ret = ci->id == X86_INS_RET || ci->id == X86_INS_RETF;
	in->jump = cs_insn_group(d->cs, ci, X86_GRP_JUMP);
	in->call = cs_insn_group(d->cs, ci, X86_GRP_CALL) || cs_insn_group(d->cs, ci, X86_GRP_INT) ||
		   ci->id == X86_INS_SYSCALL || ci->id == X86_INS_SYSENTER;
	in->cond = in->jump && ci->id != X86_INS_JMP && ci->id != X86_INS_LJMP;
	if (in->jump) {
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			in->target = (uint64_t)x->operands[0].imm;
		else
			in->indirect = true;
	}
	in->stop = in->ret || (in->jump && !in->cond) || ci->id == X86_INS_HLT ||
		   ci->id == X86_INS_UD2 || ci->id == X86_INS_INT3;
	in->op = height_op_of(d->cs, ci, &in->imm);
	for (int k = 0; k < x->op_count; k++) {
		const x86_op_mem *mem = &x->operands[k].mem;

		in->canary |= x->operands[k].type == X86_OP_MEM && mem->segment == X86_REG_FS &&
			      mem->base == X86_REG_INVALID && mem->index == X86_REG_INVALID &&
			      mem->disp == 0x28;
	}
	d->n++;
	index_insn(d, d->n - 1);
	return d->n - 1;
}

/* Padding after the last instruction: int3, nop, zero bytes. */
static bool only_padding(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xcc && p[i] != 0x90 && p[i] != 0x00)
			return false;
	return true;
}

static int sweep(struct decoder *d, int region)
{
	const struct code_region *r = &d->regions[region];
	const uint8_t *p = r->code;
	size_t left = r->size;
	uint64_t addr = r->vaddr;

	while (left) {
		if (!cs_disasm_iter(d->cs, &p, &left, &addr, d->ci)) {
			if (only_padding(p, left))
				break;
			snprintf(d->why, d->whylen, "bytes at +0x%llx do not decode as x86-64 code",
				 (unsigned long long)(addr - d->regions[0].vaddr));
			return -1;
		}
		add_insn(d, d->ci, region);
	}
	return 0;
}

/*
 * The instruction at addr outside the regions: code of this function with
 * no symbol of its own, decoded from the file on demand. -1 when it cannot
 * be (no file, outside the segments, another function's code, too much).
 */
static long follow_insn(struct decoder *d, uint64_t addr)
{
	long i = find_insn(d, addr);
	uint8_t buf[16];
	const uint8_t *p = buf;
	size_t left;
	uint64_t off, a = addr;
	ssize_t got;
	bool starts = false;

	if (i >= 0)
		return i;
	if (!d->ef || d->followed >= MAX_FOLLOWED_INSNS ||
	    elf_symbol_at(d->ef, addr, &starts) || starts ||
	    elf_vaddr_to_offset(d->ef, addr, &off) != 0)
		return -1;
	got = elf_read_at(d->ef, off, buf, sizeof(buf));
	if (got <= 0)
		return -1;
	left = (size_t)got;
	if (!cs_disasm_iter(d->cs, &p, &left, &a, d->ci))
		return -1;
	d->followed++;
	return (long)add_insn(d, d->ci, -1);
}

/* Is a direct jump out of the regions, at this height, into a hidden part
 * of the function (rather than a tail call to another one)? */
static bool into_hidden_part(const struct decoder *d, const struct insn *in, struct height h)
{
	bool starts = false;

	if (!d->ef || h.sp == HEIGHT_UNKNOWN || h.sp <= 0)
		return false;
	return !elf_symbol_at(d->ef, in->target, &starts) && !starts;
}

static void set_height(struct decoder *d, size_t j, struct height out, size_t **work,
		       size_t *top, size_t *cap)
{
	struct height old;

	if (j >= d->ht_cap) {
		size_t ncap = d->ht_cap ? d->ht_cap : 64;

		while (ncap <= j)
			ncap *= 2;
		d->ht = xrealloc(d->ht, ncap * sizeof(*d->ht));
		for (size_t k = d->ht_cap; k < ncap; k++)
			d->ht[k] = (struct height){ HEIGHT_UNREACHED, HEIGHT_UNKNOWN };
		d->ht_cap = ncap;
	}
	old = d->ht[j];
	if (old.sp == HEIGHT_UNREACHED)
		d->ht[j] = out;
	else {
		if (old.sp != out.sp)
			d->ht[j].sp = HEIGHT_UNKNOWN;
		if (old.fp != out.fp)
			d->ht[j].fp = HEIGHT_UNKNOWN;
	}
	if (old.sp != d->ht[j].sp || old.fp != d->ht[j].fp) {
		grow_array((void **)work, cap, *top + 1, sizeof(**work));
		(*work)[(*top)++] = j;
	}
}

/* The stack height at every instruction reachable from the entry,
 * following jumps into the function's hidden parts as they come. */
static void follow_heights(struct decoder *d)
{
	size_t *work = NULL, top = 0, cap = 0;

	if (!d->n)
		return;
	set_height(d, 0, (struct height){ 0, HEIGHT_UNKNOWN }, &work, &top, &cap);
	while (top) {
		size_t i = work[--top];
		const struct insn in = d->insns[i];
		struct height out = apply(d->ht[i], &in);
		long succ[2];
		int ns = 0;

		if (!in.stop) {
			long next = in.region >= 0 ? (i + 1 < d->n && d->insns[i + 1].region == in.region &&
						      d->insns[i + 1].addr == in.addr + in.size
						      ? (long)i + 1 : -1)
						   : follow_insn(d, in.addr + in.size);

			if (next >= 0)
				succ[ns++] = next;
		}
		if (in.jump && !in.indirect) {
			if (region_of(d, in.target) >= 0)
				succ[ns++] = find_insn(d, in.target);
			else if (into_hidden_part(d, &in, out))
				succ[ns++] = follow_insn(d, in.target);
		}
		for (int k = 0; k < ns; k++)
			if (succ[k] >= 0)
				set_height(d, (size_t)succ[k], out, &work, &top, &cap);
	}
	free(work);
	/* instructions decoded but never reached */
	if (d->ht_cap < d->n) {
		size_t *w = NULL, t = 0, c = 0;

		set_height(d, d->n - 1, (struct height){ HEIGHT_UNREACHED, HEIGHT_UNKNOWN }, &w, &t, &c);
		free(w);
	}
}

static void add_exit(struct function_code *fc, size_t *cap, uint64_t offset, enum cost_slot slot)
{
	grow_array((void **)&fc->exits, cap, fc->n_exits + 1, sizeof(*fc->exits));
	fc->exits[fc->n_exits++] = (struct exit_site){ .offset = offset, .slot = slot };
}

/* File offset of an instruction. */
static int insn_offset(const struct decoder *d, const struct insn *in, uint64_t *off)
{
	if (in->region >= 0) {
		*off = (uint64_t)((int64_t)in->addr + d->regions[in->region].bias);
		return 0;
	}
	return d->ef ? elf_vaddr_to_offset(d->ef, in->addr, off) : -1;
}

static struct height height_at(const struct decoder *d, size_t i)
{
	return i < d->ht_cap ? d->ht[i] : (struct height){ HEIGHT_UNREACHED, 0 };
}

/* Does a direct jump of the function land after lo and at or before hi? */
static bool jump_lands_in(const struct decoder *d, uint64_t lo, uint64_t hi)
{
	for (size_t j = 0; j < d->n; j++)
		if (d->insns[j].jump && !d->insns[j].indirect && d->insns[j].target > lo &&
		    d->insns[j].target <= hi)
			return true;
	return false;
}

static enum cost_slot entry_slot_of(const struct code_region *r, const cs_insn *first)
{
	switch (site_classify_x86(r->code, r->size < 16 ? r->size : 16, r->vaddr)) {
	case SITE_NOP5:
		return SLOT_ENTRY_NOP5;
	case SITE_EMULATED:
		if (first && first->id == X86_INS_PUSH)
			return SLOT_ENTRY_PUSH;
		if (first && first->id == X86_INS_NOP)
			return SLOT_ENTRY_NOP;
		return SLOT_ENTRY_BRANCH;
	default:
		return SLOT_ENTRY_STEP;
	}
}

/* Every exit found; -1 with the reason when some way out is uncertain (the
 * exits found are kept: they are exits all the same). */
/* Instructions past the entry the entry probe may move over: the entry
 * block up to its branch, in practice (nginx's ngx_http_handler: four
 * loads, a test, then the jne that is its cheap place). */
#define ALT_ENTRY_LOOKAHEAD 16

/*
 * The entry probe's cheaper place (function_code.alt_entry_*): the first
 * instruction after a single-stepped one that the kernel would not
 * single-step, if every instruction before it leaves the stack pointer
 * alone, none branches or calls (a callee would run before the call's
 * entry: outside its time, and a probed one before its caller), and no
 * jump in the function lands after the entry and at or before it (so it
 * runs exactly once per call, with the entry's stack pointer: the frame
 * key stays the same).
 */
static void find_alt_entry(const struct decoder *d, struct function_code *out)
{
	const struct code_region *r = &d->regions[0];

	if (out->entry_slot != SLOT_ENTRY_STEP)
		return;
	for (size_t i = 1; i < d->n && i <= ALT_ENTRY_LOOKAHEAD; i++) {
		const struct insn *prev = &d->insns[i - 1], *in = &d->insns[i];
		uint64_t rel = in->addr - r->vaddr;
		enum cost_slot slot;

		if (in->region != 0 || prev->jump || prev->call || prev->ret || prev->stop ||
		    (prev->op != H_NONE && prev->op != H_SET_FP && prev->op != H_CLOBBER_FP))
			return;
		if (jump_lands_in(d, r->vaddr, in->addr) || rel + 16 > r->size + 16)
			return;
		switch (site_classify_x86(r->code + rel, r->size - rel < 16 ? r->size - rel : 16,
					  in->addr)) {
		case SITE_NOP5: slot = SLOT_ENTRY_NOP5; break;
		case SITE_EMULATED:
			slot = in->jump ? SLOT_ENTRY_BRANCH : in->op == H_PUSH ? SLOT_ENTRY_PUSH
									       : SLOT_ENTRY_NOP;
			break;
		default:
			continue;
		}
		out->alt_entry_offset = (uint64_t)((int64_t)in->addr + r->bias);
		out->alt_entry_skip = rel;
		out->alt_entry_slot = slot;
		return;
	}
}

/* Instructions between a stack-protector check's jcc and its `ret`: the
 * epilogue (stack adjustments and pops, a `leave`, register moves). */
#define CANARY_LOOKBACK 24

/*
 * The `ret` at insns[i] probed ahead of its epilogue (exit_sites.h): the
 * conditional jump right after an instruction that reads the canary
 * (`sub %fs:0x28,%rdx; jne fail`), taken to a call (__stack_chk_fail), with
 * only stack adjustments and moves from it to the ret, no branch, call or
 * jump landing in between (every path to the ret passes the check: the
 * compiler checks the canary on every way out), and known stack heights.
 * The jcc runs once per call, when the function leaves by this ret.
 */
static void find_canary_exit(const struct decoder *d, size_t i, struct exit_site *e)
{
	const struct insn *ret = &d->insns[i];
	struct height at_ret = height_at(d, i);

	if (at_ret.sp != 0)
		return;
	for (size_t k = i; k-- > 0 && i - k <= CANARY_LOOKBACK;) {
		const struct insn *in = &d->insns[k];
		struct height h = height_at(d, k);
		long target;
		uint64_t off;

		if (in->region != ret->region || in->addr + in->size != d->insns[k + 1].addr)
			return;
		if (!(in->jump && in->cond && !in->indirect)) {
			if (in->jump || in->call || in->ret || in->stop || in->op == H_UNKNOWN)
				return;
			continue;
		}
		target = find_insn(d, in->target);
		if (!k || !d->insns[k - 1].canary || d->insns[k - 1].region != in->region ||
		    target < 0 || !d->insns[target].call || h.sp == HEIGHT_UNKNOWN ||
		    h.sp == HEIGHT_UNREACHED || h.sp < 0 || h.sp > 0xffff ||
		    site_classify_x86(d->regions[in->region].code + (in->addr - d->regions[in->region].vaddr),
				      in->size, in->addr) != SITE_EMULATED)
			return;
		if (jump_lands_in(d, in->addr, ret->addr) || insn_offset(d, in, &off))
			return;
		e->alt_offset = off;
		e->alt_slot = SLOT_EXIT_CANARY;
		e->alt_sp_below = (uint32_t)h.sp;
		return;
	}
}

static int find_exits(struct decoder *d, struct function_code *out)
{
	size_t cap = 0;
	int ret = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct insn *in = &d->insns[i];
		struct height h = height_at(d, i);
		uint64_t rel = in->addr - d->regions[0].vaddr, off;

		if (!in->ret && !in->jump)
			continue;
		if (in->jump && !in->indirect &&
		    (region_of(d, in->target) >= 0 || find_insn(d, in->target) >= 0))
			continue; /* inside the function */
		if (in->jump && in->indirect) {
			/* inside the frame: a switch's jump table */
			if (h.sp != HEIGHT_UNKNOWN && h.sp != HEIGHT_UNREACHED && h.sp > 0)
				continue;
			if (!ret)
				snprintf(out->reason, sizeof(out->reason),
					 "a computed jump at +0x%llx may leave the function (an "
					 "indirect tail call)", (unsigned long long)rel);
			ret = -1;
			continue;
		}
		if (in->jump && in->cond) {
			if (!ret)
				snprintf(out->reason, sizeof(out->reason),
					 "a conditional jump at +0x%llx leaves the function%s",
					 (unsigned long long)rel,
					 h.sp == 0 ? " (a conditional tail call)" : "");
			ret = -1;
			continue;
		}
		if (insn_offset(d, in, &off)) {
			if (!ret)
				snprintf(out->reason, sizeof(out->reason),
					 "the exit at +0x%llx is outside the file's segments",
					 (unsigned long long)rel);
			ret = -1;
			continue;
		}
		add_exit(out, &cap, off, in->ret ? SLOT_EXIT_RET : SLOT_EXIT_JMP);
		if (in->jump)
			out->exits[out->n_exits - 1].jmp_target = in->target;
		if (in->ret && in->region >= 0)
			find_canary_exit(d, i, &out->exits[out->n_exits - 1]);
	}
	/* no exit at all: a function that never returns (it calls exit(), or
	 * one that always throws; the compiler left out the epilogue) */
	return ret;
}

static int decode(const struct elf_file *ef, const struct code_region *regions, size_t n_regions,
		  struct function_code *out)
{
	struct decoder d = { .ef = ef, .regions = regions, .n_regions = n_regions,
			     .why = out->reason, .whylen = sizeof(out->reason) };
	int ret = -1;

	if (!n_regions || !regions[0].size) {
		snprintf(out->reason, sizeof(out->reason), "the symbol has no size");
		return -1;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d.cs) != CS_ERR_OK) {
		snprintf(out->reason, sizeof(out->reason), "Capstone cannot decode x86-64");
		return -1;
	}
	cs_option(d.cs, CS_OPT_DETAIL, CS_OPT_ON);
	d.ci = cs_malloc(d.cs);
	for (size_t r = 0; r < n_regions; r++)
		if (sweep(&d, (int)r))
			goto done;
	{
		const uint8_t *p = regions[0].code;
		size_t left = regions[0].size;
		uint64_t a = regions[0].vaddr;

		out->entry_slot = entry_slot_of(&regions[0],
						cs_disasm_iter(d.cs, &p, &left, &a, d.ci) ? d.ci : NULL);
	}
	follow_heights(&d);
	out->n_insns = d.n;
	find_alt_entry(&d, out);
	ret = find_exits(&d, out);
done:
	cs_free(d.ci, 1);
	cs_close(&d.cs);
	free(d.insns);
	free(d.hash);
	free(d.ht);
	return ret;
}

int function_code_decode_bytes(const struct code_region *regions, size_t n_regions,
			       struct function_code *out)
{
	memset(out, 0, sizeof(*out));
	return decode(NULL, regions, n_regions, out);
}

/* The compiler's cold part of sym ("NAME.cold"), when the symbol table has it. */
static const struct elf_sym *cold_part(const struct elf_file *ef, const struct elf_sym *sym)
{
	const struct elf_sym **syms = NULL, *cold = NULL;
	char *name = xasprintf("%s.cold", sym->name);
	size_t n = elf_find_symbols(ef, name, &syms);

	if (n && syms[0]->size && syms[0]->offset)
		cold = syms[0];
	free(syms);
	free(name);
	return cold;
}

int function_code_decode(const struct elf_file *ef, const struct elf_sym *sym,
			 struct function_code *out)
{
	const struct elf_sym *parts[2] = { sym, NULL };
	uint8_t *code[2] = { NULL, NULL };
	struct code_region regions[2];
	size_t n;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (ef->machine != 62 /* EM_X86_64 */) {
		snprintf(out->reason, sizeof(out->reason), "exit sites are found on x86-64 only");
		return -1;
	}
	parts[1] = cold_part(ef, sym);
	n = parts[1] ? 2 : 1;
	for (size_t i = 0; i < n; i++) {
		if (!parts[i]->size || parts[i]->size > MAX_FUNCTION_BYTES) {
			snprintf(out->reason, sizeof(out->reason), parts[i]->size
				 ? "the function is larger than 1 MiB" : "the symbol has no size");
			goto out;
		}
		code[i] = xmalloc(parts[i]->size);
		if (elf_read_at(ef, parts[i]->offset, code[i], parts[i]->size) !=
		    (ssize_t)parts[i]->size) {
			snprintf(out->reason, sizeof(out->reason), "its code cannot be read from the file");
			goto out;
		}
		regions[i] = (struct code_region){ code[i], parts[i]->vaddr, parts[i]->size,
						   (int64_t)parts[i]->offset - (int64_t)parts[i]->vaddr };
	}
	ret = decode(ef, regions, n, out);
out:
	free(code[0]);
	free(code[1]);
	return ret;
}

void function_code_free(struct function_code *fc)
{
	free(fc->exits);
	memset(fc, 0, sizeof(*fc));
}
