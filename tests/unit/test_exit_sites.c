// SPDX-License-Identifier: MIT
/*
 * A function's exits and first instruction (user/probe/exit_sites.c):
 * hand-assembled x86-64 functions fed to function_code_decode_bytes(), each
 * with the exits it must find (or the reason it must give), and the kind of
 * its entry slot. Then the same on a real ELF file, this test binary
 * (/proc/self/exe): elf_symbol_at(), which the decoder asks where a jump
 * lands, and function_code_decode() on one of the test's own functions.
 *
 * The bytes sit at FUNC_VADDR with a file offset FUNC_BIAS away, so that a
 * test sees whether an exit is reported as a file offset (it must be).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/probe.h"

#define FUNC_VADDR 0x401000u
#define FUNC_BIAS (-0x400000)
/* The file offset of the byte at rel in the function. */
#define OFF(rel) ((uint64_t)(FUNC_VADDR + FUNC_BIAS + (rel)))

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

struct want_exit {
	uint64_t rel;		/* offset in the function */
	enum cost_slot slot;
};

static int decode(const uint8_t *code, size_t size, struct function_code *fc)
{
	const struct code_region r = { code, FUNC_VADDR, size, FUNC_BIAS };

	return function_code_decode_bytes(&r, 1, fc);
}

static void assert_exits(const struct function_code *fc, const struct want_exit *want, size_t n)
{
	assert_int_equal(fc->n_exits, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fc->exits[i].offset, OFF(want[i].rel));
		assert_int_equal(fc->exits[i].slot, want[i].slot);
	}
}

static void test_plain_ret(void **state)
{
	static const struct want_exit want[] = { { 0, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0xc3), &fc), 0); /* ret */
	assert_exits(&fc, want, 1);
	assert_string_equal(fc.reason, "");
	assert_int_equal(fc.n_insns, 1);
	function_code_free(&fc);
}

static void test_several_rets(void **state)
{
	static const struct want_exit want[] = { { 0x6, SLOT_EXIT_RET }, { 0xc, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x85, 0xff,			/* 0: test %edi,%edi */
				      0x74, 0x03,			/* 2: je 7 */
				      0x31, 0xc0,			/* 4: xor %eax,%eax */
				      0xc3,				/* 6: ret */
				      0xb8, 0x01, 0x00, 0x00, 0x00,	/* 7: mov $1,%eax */
				      0xc3),				/* c: ret */
				&fc), 0);
	assert_exits(&fc, want, 2);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);
}

/* The frame is popped, then a jmp to another function: a tail call, which
 * ends this call as surely as a ret. */
static void test_tail_call_at_height_0_is_an_exit(void **state)
{
	static const struct want_exit want[] = { { 0x5, SLOT_EXIT_JMP } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x55,				/* 0: push %rbp */
				      0x48, 0x89, 0xe5,			/* 1: mov %rsp,%rbp */
				      0x5d,				/* 4: pop %rbp */
				      0xe9, 0xf6, 0x0f, 0x00, 0x00),	/* 5: jmp +0x1000 */
				&fc), 0);
	assert_exits(&fc, want, 1);
	/* where it goes, for a handler that is one tail call (resolve_functions.c) */
	assert_int_equal(fc.exits[0].jmp_target, FUNC_VADDR + 0x1000);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);
}

static void test_jmp_back_inside_is_not_an_exit(void **state)
{
	static const struct want_exit want[] = { { 0xb, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x31, 0xc0,			/* 0: xor %eax,%eax */
				      0xff, 0xc0,			/* 2: inc %eax */
				      0x83, 0xf8, 0x0a,			/* 4: cmp $10,%eax */
				      0x7d, 0x02,			/* 7: jge b */
				      0xeb, 0xf7,			/* 9: jmp 2 */
				      0xc3),				/* b: ret */
				&fc), 0);
	assert_exits(&fc, want, 1);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);
}

/* A computed jmp with the frame up is a switch's jump table: it stays in
 * the function, whatever %rax holds. */
static void test_switch_jump_inside_frame_is_not_an_exit(void **state)
{
	static const struct want_exit want[] = { { 0x7, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x55,				/* 0: push %rbp */
				      0x48, 0x89, 0xe5,			/* 1: mov %rsp,%rbp */
				      0xff, 0xe0,			/* 4: jmp *%rax */
				      0x5d,				/* 6: pop %rbp */
				      0xc3),				/* 7: ret */
				&fc), 0);
	assert_exits(&fc, want, 1);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);
}

/* The same computed jmp with nothing pushed may be an indirect tail call:
 * the exits are not known for sure, but the ret found is kept. */
static void test_computed_jmp_at_height_0_is_uncertain(void **state)
{
	static const struct want_exit want[] = { { 0x4, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x85, 0xff,			/* 0: test %edi,%edi */
				      0x74, 0x01,			/* 2: je 5 */
				      0xc3,				/* 4: ret */
				      0xff, 0xe0),			/* 5: jmp *%rax */
				&fc), -1);
	assert_string_equal(fc.reason, "a computed jump at +0x5 may leave the function (an "
				       "indirect tail call)");
	assert_exits(&fc, want, 1);
	function_code_free(&fc);
}

/* A probe on a conditional jump out fires whether or not it is taken. */
static void test_conditional_jump_out_is_refused(void **state)
{
	static const struct want_exit want[] = { { 0x8, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x85, 0xff,			/* 0: test %edi,%edi */
				      0x0f, 0x84, 0x00, 0x10, 0x00, 0x00, /* 2: je +0x1008 */
				      0xc3),				/* 8: ret */
				&fc), -1);
	assert_string_equal(fc.reason, "a conditional jump at +0x2 leaves the function (a "
				       "conditional tail call)");
	assert_exits(&fc, want, 1);
	function_code_free(&fc);
}

/* A function that calls exit() (or always throws): the compiler leaves out
 * the epilogue. No exit at all is the right answer, not a failure. */
static void test_never_returns(void **state)
{
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(0x55,				/* 0: push %rbp */
				      0x48, 0x89, 0xe5,			/* 1: mov %rsp,%rbp */
				      0xe8, 0x00, 0x10, 0x00, 0x00),	/* 4: call +0x1009 */
				&fc), 0);
	assert_int_equal(fc.n_exits, 0);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);

	assert_int_equal(decode(BYTES(0xeb, 0xfe), &fc), 0);		/* 0: jmp 0 */
	assert_int_equal(fc.n_exits, 0);
	assert_string_equal(fc.reason, "");
	function_code_free(&fc);
}

static void test_bytes_that_do_not_decode(void **state)
{
	struct function_code fc;

	(void)state;
	/* 0x06 (push %es) does not exist in 64-bit mode */
	assert_int_equal(decode(BYTES(0x31, 0xc0, 0x06, 0xc3), &fc), -1);
	assert_string_equal(fc.reason, "bytes at +0x2 do not decode as x86-64 code");
	function_code_free(&fc);

	/* int3 / nop / zero padding after the last instruction is not code */
	assert_int_equal(decode(BYTES(0xc3, 0xcc, 0xcc, 0x90), &fc), 0);
	assert_int_equal(fc.n_exits, 1);
	function_code_free(&fc);
}

static void test_symbol_without_size(void **state)
{
	static const uint8_t ret = 0xc3;
	const struct code_region r = { &ret, FUNC_VADDR, 0, FUNC_BIAS };
	struct function_code fc;

	(void)state;
	assert_int_equal(function_code_decode_bytes(&r, 1, &fc), -1);
	assert_string_equal(fc.reason, "the symbol has no size");
	assert_int_equal(fc.n_exits, 0);
	function_code_free(&fc);
}

/* A function split by the compiler: the conditional jump into its cold part
 * stays inside the function, and the cold part's ret is an exit at the cold
 * part's own file offset. */
static void test_cold_part(void **state)
{
	static const uint8_t hot[] = {
		0x55,				/* 0: push %rbp */
		0x85, 0xff,			/* 1: test %edi,%edi */
		0x0f, 0x85, 0xf7, 0x1f, 0x00, 0x00, /* 3: jne hot + 0x2000 (the cold part) */
		0x5d,				/* 9: pop %rbp */
		0xc3,				/* a: ret */
	};
	static const uint8_t cold[] = {
		0x5d,				/* 0: pop %rbp */
		0xc3,				/* 1: ret */
	};
	const int64_t cold_bias = FUNC_BIAS - 0x100000; /* elsewhere in the file */
	const struct code_region r[2] = {
		{ hot, FUNC_VADDR, sizeof(hot), FUNC_BIAS },
		{ cold, FUNC_VADDR + 0x2000, sizeof(cold), cold_bias },
	};
	struct function_code fc;

	(void)state;
	assert_int_equal(function_code_decode_bytes(r, 2, &fc), 0);
	assert_int_equal(fc.n_exits, 2);
	assert_int_equal(fc.exits[0].offset, OFF(0xa));
	assert_int_equal(fc.exits[1].offset, (uint64_t)(FUNC_VADDR + 0x2000 + 1 + cold_bias));
	assert_int_equal(fc.exits[0].slot, SLOT_EXIT_RET);
	assert_int_equal(fc.exits[1].slot, SLOT_EXIT_RET);
	assert_int_equal(fc.n_insns, 7);
	function_code_free(&fc);
}

/* The entry slot: what the kernel does at the first instruction. */
static void test_entry_slot(void **state)
{
	static const struct {
		const char *what;
		uint8_t code[8];
		size_t size;
		enum cost_slot want;
	} cases[] = {
		{ "nopl 0x0(%rax,%rax,1); ret", { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 }, 6,
		  SLOT_ENTRY_NOP5 },
		{ "push %rbp; pop %rbp; ret", { 0x55, 0x5d, 0xc3 }, 3, SLOT_ENTRY_PUSH },
		{ "endbr64; ret", { 0xf3, 0x0f, 0x1e, 0xfa, 0xc3 }, 5, SLOT_ENTRY_STEP },
		{ "jmp 2; ret", { 0xeb, 0x00, 0xc3 }, 3, SLOT_ENTRY_BRANCH },
		{ "nop; ret", { 0x90, 0xc3 }, 2, SLOT_ENTRY_NOP },
		{ "mov %rdi,%rax; ret", { 0x48, 0x89, 0xf8, 0xc3 }, 4, SLOT_ENTRY_STEP },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct function_code fc;

		print_message("%s\n", cases[i].what);
		assert_int_equal(decode(cases[i].code, cases[i].size, &fc), 0);
		assert_int_equal(fc.entry_slot, cases[i].want);
		assert_int_equal(fc.n_exits, 1);
		assert_int_equal(fc.exits[0].offset, OFF(cases[i].size - 1));
		function_code_free(&fc);
	}
}

/*
 * The entry's cheaper place: past single-stepped instructions that neither
 * move the stack pointer, branch nor call, to the first the kernel does not
 * single-step; none where a call comes first (its callee would run before
 * the entry), or a jump lands in between.
 */
static void test_alt_entry(void **state)
{
	static const struct {
		const char *what;
		uint8_t code[24];
		size_t size;
		uint64_t skip;		/* 0: no cheaper place */
		enum cost_slot slot;
	} cases[] = {
		/* nginx's ngx_http_handler: four loads and a test, then its jne */
		{ "mov 8(%rdi),%rax; mov 0x50(%rax),%rax; movq $0,0x40(%rax); "
		  "movzbl 0x51a(%rdi),%eax; test $0x10,%al; jne +1; nop; ret",
		  { 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x40, 0x50, 0x48, 0xc7, 0x40, 0x40, 0x00,
		    0x00, 0x00, 0x00, 0x0f, 0xb6, 0x87, 0x1a, 0x05, 0x00, 0x00 }, 23, 0, 0 },
		{ "endbr64; push %rbp; pop %rbp; ret",
		  { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x5d, 0xc3 }, 7, 4, SLOT_ENTRY_PUSH },
		{ "mov 8(%rdi),%rax; call *%rax; test %eax,%eax; jne +1; nop; ret",
		  { 0x48, 0x8b, 0x47, 0x08, 0xff, 0xd0, 0x85, 0xc0, 0x75, 0x01, 0x90, 0xc3 }, 12, 0,
		  0 },
		{ "mov %rdi,%rax; sub $8,%rsp; push %rbp; pop %rbp; add $8,%rsp; ret",
		  { 0x48, 0x89, 0xf8, 0x48, 0x83, 0xec, 0x08, 0x55, 0x5d, 0x48, 0x83, 0xc4, 0x08,
		    0xc3 }, 14, 0, 0 },
	};
	/* the first case's tail, after its 16-byte movq and movzbl: test, jne, nop, ret */
	static const uint8_t tail[] = { 0xa8, 0x10, 0x75, 0x01, 0x90, 0xc3 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t code[32];
		size_t size = cases[i].size;
		uint64_t skip = cases[i].skip;
		enum cost_slot slot = cases[i].slot;
		struct function_code fc;

		memcpy(code, cases[i].code, size);
		if (i == 0) {
			memcpy(code + size, tail, sizeof(tail));
			size += sizeof(tail);
			skip = 25;	/* the jne */
			slot = SLOT_ENTRY_BRANCH;
		}
		print_message("%s\n", cases[i].what);
		assert_int_equal(decode(code, size, &fc), 0);
		assert_int_equal(fc.entry_slot, SLOT_ENTRY_STEP);
		if (skip) {
			assert_int_equal(fc.alt_entry_offset, OFF(skip));
			assert_int_equal(fc.alt_entry_skip, skip);
			assert_int_equal(fc.alt_entry_slot, slot);
		} else {
			assert_int_equal(fc.alt_entry_offset, 0);
		}
		function_code_free(&fc);
	}
}

/* ------------------------------------------------------ on a real ELF file */

/* A function of this binary with a known shape: unsigned arithmetic (UBSan
 * adds no check to it) and one way out. */
__attribute__((noinline, used)) unsigned exit_sites_marker(unsigned x);
__attribute__((noinline, used)) unsigned exit_sites_marker(unsigned x)
{
	return x * 3u + 1u;
}

int main(void);

static const struct elf_sym *only_symbol(const struct elf_file *ef, const char *name)
{
	const struct elf_sym **syms = NULL, *s;

	assert_int_equal(elf_find_symbols(ef, name, &syms), 1);
	s = syms[0];
	free(syms);
	return s;
}

/* A function that checks its stack canary before it returns (gcc
 * -fstack-protector): its ret's probe may go to the check's jne, 40 bytes
 * below the entry's stack pointer; not when a jump lands between the jne
 * and the ret, nor at a jcc that follows no read of the canary. */
#define CANARY_PROLOGUE(second)                                                 \
	0x55,					/* 0: push %rbp */              \
	0x53,					/* 1: push %rbx */              \
	0x48, 0x83, 0xec, 0x18,			/* 2: sub $0x18,%rsp */         \
	0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, /* 6: mov %fs:0x28,%rax */ \
	0x48, 0x89, 0x44, 0x24, 0x08,		/* f: mov %rax,0x8(%rsp) */     \
	second,					/* 14: 2 bytes */               \
	0x48, 0x8b, 0x54, 0x24, 0x08		/* 16: mov 0x8(%rsp),%rdx */
#define CANARY_EPILOGUE                                                         \
	0x75, 0x07,				/* 24: jne 2d */                \
	0x48, 0x83, 0xc4, 0x18,			/* 26: add $0x18,%rsp */        \
	0x5b,					/* 2a: pop %rbx */              \
	0x5d,					/* 2b: pop %rbp */              \
	0xc3,					/* 2c: ret */                   \
	0xe8, 0x00, 0x01, 0x00, 0x00		/* 2d: call __stack_chk_fail */
#define XOR_EAX 0x31, 0xc0
#define JE_TO_ADD 0x74, 0x10			/* je 26 */

static void test_canary_exit(void **state)
{
	static const struct want_exit want[] = { { 0x2c, SLOT_EXIT_RET } };
	struct function_code fc;

	(void)state;
	assert_int_equal(decode(BYTES(CANARY_PROLOGUE(XOR_EAX),
				      0x64, 0x48, 0x2b, 0x14, 0x25, 0x28, 0, 0, 0, /* 1b: sub %fs:0x28,%rdx */
				      CANARY_EPILOGUE), &fc), 0);
	assert_exits(&fc, want, 1);
	assert_int_equal(fc.exits[0].alt_offset, OFF(0x24));
	assert_int_equal(fc.exits[0].alt_slot, SLOT_EXIT_CANARY);
	assert_int_equal(fc.exits[0].alt_sp_below, 40);
	function_code_free(&fc);

	/* a jump lands on the add: that path would pass no probe */
	assert_int_equal(decode(BYTES(CANARY_PROLOGUE(JE_TO_ADD),
				      0x64, 0x48, 0x2b, 0x14, 0x25, 0x28, 0, 0, 0,
				      CANARY_EPILOGUE), &fc), 0);
	assert_exits(&fc, want, 1);
	assert_int_equal(fc.exits[0].alt_offset, 0);
	function_code_free(&fc);

	/* the jne follows a plain compare: its taken side may return */
	assert_int_equal(decode(BYTES(CANARY_PROLOGUE(XOR_EAX),
				      0x90, 0x48, 0x2b, 0x14, 0x25, 0x28, 0, 0, 0, /* 1b: nop; sub 0x28,%rdx */
				      CANARY_EPILOGUE), &fc), 0);
	assert_exits(&fc, want, 1);
	assert_int_equal(fc.exits[0].alt_offset, 0);
	function_code_free(&fc);
}

static void test_elf_symbol_at_self(void **state)
{
	const struct elf_sym *main_sym, *marker, *s;
	struct elf_file *ef;
	char err[512];
	bool starts;

	(void)state;
	ef = elf_file_open("/proc/self/exe", err, sizeof(err));
	assert_non_null(ef);
	main_sym = only_symbol(ef, "main");
	marker = only_symbol(ef, "exit_sites_marker");
	assert_true(main_sym->size > 1);

	/* The file's addresses are the loaded code's, less one load bias. */
	assert_int_equal((uintptr_t)exit_sites_marker - (uintptr_t)main,
			 marker->vaddr - main_sym->vaddr);

	s = elf_symbol_at(ef, main_sym->vaddr, &starts);
	assert_non_null(s);
	assert_int_equal(s->vaddr, main_sym->vaddr);
	assert_true(starts);
	s = elf_symbol_at(ef, main_sym->vaddr + 1, &starts);
	assert_non_null(s);
	assert_int_equal(s->vaddr, main_sym->vaddr);
	assert_false(starts);
	s = elf_symbol_at(ef, marker->vaddr + marker->size - 1, &starts);
	assert_ptr_equal(s, marker);
	assert_false(starts);

	/* Below every symbol: nothing there, nothing starts there. */
	assert_null(elf_symbol_at(ef, 0, &starts));
	assert_false(starts);
	assert_null(elf_symbol_at(ef, 1, NULL));

	/* Every function: its first byte starts a symbol, its last byte is held
	 * by one, and the byte after it is held only by a symbol that holds it. */
	for (size_t i = 0; i < ef->n_syms; i++) {
		const struct elf_sym *f = &ef->syms[i];
		uint64_t end = f->vaddr + f->size;

		if (!f->size)
			continue;
		assert_non_null(elf_symbol_at(ef, f->vaddr, &starts));
		assert_true(starts);
		s = elf_symbol_at(ef, end - 1, NULL);
		assert_non_null(s);
		assert_true(s->vaddr <= end - 1 && end - 1 < s->vaddr + s->size);
		s = elf_symbol_at(ef, end, &starts);
		if (s)
			assert_true(s->vaddr <= end && end < s->vaddr + s->size);
	}
	elf_file_close(ef);
}

/* function_code_decode() reads the function from the file: the same answer
 * as its bytes given in memory, and every exit is a ret or jmp there. */
static void test_decode_own_function(void **state)
{
	const struct elf_sym *marker;
	struct function_code from_file, from_bytes;
	struct code_region r;
	struct elf_file *ef;
	enum site_class cls;
	uint8_t *code;
	char err[512];

	(void)state;
	ef = elf_file_open("/proc/self/exe", err, sizeof(err));
	assert_non_null(ef);
	marker = only_symbol(ef, "exit_sites_marker");
	assert_int_equal(function_code_decode(ef, marker, &from_file), 0);
	assert_string_equal(from_file.reason, "");
	assert_true(from_file.n_exits >= 1);
	for (size_t i = 0; i < from_file.n_exits; i++) {
		uint8_t op;

		assert_true(from_file.exits[i].offset >= marker->offset &&
			    from_file.exits[i].offset < marker->offset + marker->size);
		assert_int_equal(elf_read_at(ef, from_file.exits[i].offset, &op, 1), 1);
		if (from_file.exits[i].slot == SLOT_EXIT_RET)
			assert_int_equal(op, 0xc3);
		else
			assert_true(op == 0xe9 || op == 0xeb);
	}
	/* The entry slot says what the probe-site class says. */
	cls = elf_site_class(ef, marker->offset);
	if (cls == SITE_NOP5)
		assert_int_equal(from_file.entry_slot, SLOT_ENTRY_NOP5);
	else if (cls == SITE_SINGLESTEP)
		assert_int_equal(from_file.entry_slot, SLOT_ENTRY_STEP);
	else
		assert_true(from_file.entry_slot == SLOT_ENTRY_PUSH ||
			    from_file.entry_slot == SLOT_ENTRY_NOP ||
			    from_file.entry_slot == SLOT_ENTRY_BRANCH);

	code = malloc(marker->size);
	assert_non_null(code);
	assert_int_equal(elf_read_at(ef, marker->offset, code, marker->size), (ssize_t)marker->size);
	r = (struct code_region){ code, marker->vaddr, marker->size,
				  (int64_t)marker->offset - (int64_t)marker->vaddr };
	assert_int_equal(function_code_decode_bytes(&r, 1, &from_bytes), 0);
	assert_int_equal(from_bytes.entry_slot, from_file.entry_slot);
	assert_int_equal(from_bytes.n_exits, from_file.n_exits);
	for (size_t i = 0; i < from_file.n_exits; i++) {
		assert_int_equal(from_bytes.exits[i].offset, from_file.exits[i].offset);
		assert_int_equal(from_bytes.exits[i].slot, from_file.exits[i].slot);
	}
	function_code_free(&from_bytes);
	function_code_free(&from_file);
	free(code);
	elf_file_close(ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ret),
		cmocka_unit_test(test_several_rets),
		cmocka_unit_test(test_tail_call_at_height_0_is_an_exit),
		cmocka_unit_test(test_jmp_back_inside_is_not_an_exit),
		cmocka_unit_test(test_switch_jump_inside_frame_is_not_an_exit),
		cmocka_unit_test(test_computed_jmp_at_height_0_is_uncertain),
		cmocka_unit_test(test_conditional_jump_out_is_refused),
		cmocka_unit_test(test_never_returns),
		cmocka_unit_test(test_bytes_that_do_not_decode),
		cmocka_unit_test(test_symbol_without_size),
		cmocka_unit_test(test_cold_part),
		cmocka_unit_test(test_entry_slot),
		cmocka_unit_test(test_alt_entry),
		cmocka_unit_test(test_canary_exit),
		cmocka_unit_test(test_elf_symbol_at_self),
		cmocka_unit_test(test_decode_own_function),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
