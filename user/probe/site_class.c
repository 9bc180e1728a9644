// SPDX-License-Identifier: MIT
/*
 * What the kernel does at a uprobe's first instruction on x86-64, decided
 * from the instruction bytes in the file. The cost differs ~15x between the
 * classes (docs: platform notes), so the report shows it per handler.
 *
 * This follows arch/x86/kernel/uprobes.c of Linux 6.18, the first release
 * with the uprobe nop5 optimization (read from a v6.18-era tree, gregkh/linux
 * at 663efc5a; the functions are named below):
 *
 *  - uprobe_init_insn(): instructions with an ES/CS/SS/DS segment or LOCK
 *    prefix (is_prefix_bad) and opcodes missing from good_insns_64 (int3,
 *    int, hlt, in/out, cli/sti...) are refused: the attach fails. We call
 *    those SITE_UNKNOWN.
 *  - can_optimize(): a 5-byte `nop` (prefixes + 0x90) or `nopl` (0f 1f /0),
 *    in 64-bit code, not crossing a page: after the first hit the int3 is
 *    rewritten into a call to the uprobe trampoline -> SITE_NOP5. The
 *    canonical one is `0f 1f 44 00 00`, what gcc -pg -mfentry -mnop-mcount
 *    (and USDT) emit.
 *  - branch_setup_xol_ops(): emulated, no single-step, for
 *      * an exact x86_nops[len] pattern (asm/nops.h, 64-bit: 90 | 66 90 |
 *        0f 1f 00 | 0f 1f 40 00 | 0f 1f 44 00 00 | 66 0f 1f 44 00 00 |
 *        0f 1f 80 00000000 | 0f 1f 84 00 00000000),
 *      * opcode 0x90 after any prefixes ("prefix* + nop", so pause too),
 *      * jmp rel8/rel32 (eb, e9), call rel32 (e8), jcc rel8 (70-7f) and
 *        jcc rel32 (0f 80-8f) -- but a branch with a 0x66 prefix is refused.
 *  - push_setup_xol_ops(): `push reg` (50-57) is emulated when it is one
 *    byte, or two bytes with exactly the REX prefix 0x41 (push r8-r15).
 *  - Everything else is executed out of line with a single-step trap. That
 *    includes `endbr64` (f3 0f 1e fa): it is not in the nop table, so on
 *    distributions that build with -fcf-protection every function entry is
 *    a single-step site.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "site_class.h"

#define X86_PAGE_SIZE 4096

const char *site_class_name(enum site_class c)
{
	switch (c) {
	case SITE_NOP5: return "nop5";
	case SITE_EMULATED: return "emulated";
	case SITE_SINGLESTEP: return "single-step";
	case SITE_UNKNOWN:
	default: return "unknown";
	}
}

/* The kernel's x86_nops[] for 64-bit (arch/x86/include/asm/nops.h). */
static const uint8_t nop1[] = { 0x90 };
static const uint8_t nop2[] = { 0x66, 0x90 };
static const uint8_t nop3[] = { 0x0f, 0x1f, 0x00 };
static const uint8_t nop4[] = { 0x0f, 0x1f, 0x40, 0x00 };
static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t nop6[] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t nop7[] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t nop8[] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 };

static const struct {
	const uint8_t *bytes;
	size_t len;
} x86_nops[] = {
	{ nop1, sizeof(nop1) }, { nop2, sizeof(nop2) }, { nop3, sizeof(nop3) },
	{ nop4, sizeof(nop4) }, { nop5, sizeof(nop5) }, { nop6, sizeof(nop6) },
	{ nop7, sizeof(nop7) }, { nop8, sizeof(nop8) },
};

static bool is_bad_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0xf0;
}

static bool is_good_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0x64 || b == 0x65;
}

/* One-byte opcodes good_insns_64 refuses that a function could start with. */
static bool is_refused_opcode(uint8_t op)
{
	switch (op) {
	case 0x6c: case 0x6d: case 0x6e: case 0x6f: /* ins/outs */
	case 0xcc: case 0xcd: case 0xce: case 0xcf: /* int3, int, into, iret */
	case 0xd6: case 0xf1: case 0xf4: case 0xfa: case 0xfb: /* hlt, cli, sti... */
	case 0xe4: case 0xe5: case 0xe6: case 0xe7: /* in/out imm */
	case 0xec: case 0xed: case 0xee: case 0xef: /* in/out dx */
		return true;
	default:
		return false;
	}
}

/* Bytes taken by a ModRM byte with its SIB and displacement (64-bit mode);
 * 0 if they run past len. */
static size_t modrm_len(const uint8_t *p, size_t len)
{
	uint8_t mod, rm;
	size_t n = 1;

	if (len < 1)
		return 0;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (mod != 3 && rm == 4) {
		if (len < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
	}
	if (mod == 0 && rm == 5)
		n += 4;	/* RIP-relative disp32 */
	else if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n <= len ? n : 0;
}

enum site_class site_classify_x86(const uint8_t *insn, size_t len, uint64_t vaddr)
{
	bool has66 = false, fits_page = X86_PAGE_SIZE - (vaddr % X86_PAGE_SIZE) >= 5;
	size_t i = 0, npfx, rex = 0, k;
	uint8_t op;

	if (!insn || len == 0)
		return SITE_UNKNOWN;
	while (i < len && (is_good_prefix(insn[i]) || is_bad_prefix(insn[i]))) {
		if (is_bad_prefix(insn[i]))
			return SITE_UNKNOWN;
		has66 |= insn[i] == 0x66;
		i++;
	}
	npfx = i;
	if (i < len && (insn[i] & 0xf0) == 0x40) {
		rex = insn[i];
		i++;
	}
	if (i >= len)
		return SITE_UNKNOWN;
	op = insn[i];
	if (is_refused_opcode(op) || (op == 0x0f && i + 1 >= len))
		return SITE_UNKNOWN;	/* refused, or cut short by the end of the file */

	/* can_optimize(): 5-byte nop or nopl, within one page. */
	if (op == 0x90 && i + 1 == 5 && fits_page)
		return SITE_NOP5;
	if (op == 0x0f && i + 2 < len && insn[i + 1] == 0x1f && ((insn[i + 2] >> 3) & 7) == 0) {
		size_t m = modrm_len(insn + i + 2, len - i - 2);

		if (m && i + 2 + m == 5 && fits_page)
			return SITE_NOP5;
	}

	/* branch_setup_xol_ops() */
	for (k = 0; k < sizeof(x86_nops) / sizeof(x86_nops[0]); k++) {
		if (len >= x86_nops[k].len && memcmp(insn, x86_nops[k].bytes, x86_nops[k].len) == 0)
			return SITE_EMULATED;
	}
	if (op == 0x90)
		return SITE_EMULATED;
	if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) ||
	    (op == 0x0f && i + 1 < len && insn[i + 1] >= 0x80 && insn[i + 1] <= 0x8f))
		return has66 ? SITE_UNKNOWN : SITE_EMULATED;

	/* push_setup_xol_ops() */
	if (op >= 0x50 && op <= 0x57) {
		if (npfx == 0 && (rex == 0 || rex == 0x41))
			return SITE_EMULATED;
	}
	return SITE_SINGLESTEP;
}
