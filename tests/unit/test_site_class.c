// SPDX-License-Identifier: MIT
/*
 * Probe-site classes (user/site_class.c): crafted instruction bytes, and
 * real functions built three ways (tests/fixtures/sites.c): -O2 (a
 * RIP-relative mov: single-step), -O2 -pg -mfentry -mnop-mcount (5-byte nop)
 * and -O0 (push %rbp: emulated).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fixtures/fixture_build.h"
#include "probe/probe.h"

struct case_ {
	const char *what;
	uint8_t bytes[16];
	size_t len;
	enum site_class want;
};

#define B(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct case_ cases[] = {
	/* can_optimize(): 5-byte nop / nopl */
	{ "nopl 0x0(%rax,%rax,1)", B(0x0f, 0x1f, 0x44, 0x00, 0x00), SITE_NOP5 },
	{ "data16 x4 nop (5 bytes)", B(0x66, 0x66, 0x66, 0x66, 0x90), SITE_NOP5 },
	{ "nopl 5 bytes then more", B(0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48), SITE_NOP5 },
	/* x86_nops[] other lengths: emulated */
	{ "nop", B(0x90), SITE_EMULATED },
	{ "xchg %ax,%ax", B(0x66, 0x90), SITE_EMULATED },
	{ "nopl (%rax)", B(0x0f, 0x1f, 0x00), SITE_EMULATED },
	{ "nopl 0x0(%rax)", B(0x0f, 0x1f, 0x40, 0x00), SITE_EMULATED },
	{ "nopw 0x0(%rax,%rax,1)", B(0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00), SITE_EMULATED },
	{ "nopl 0x0(%rax) disp32", B(0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00), SITE_EMULATED },
	{ "nopl 0x0(%rax,%rax,1) disp32", B(0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00),
	  SITE_EMULATED },
	{ "pause (prefix + nop)", B(0xf3, 0x90), SITE_EMULATED },
	/* push_setup_xol_ops() */
	{ "push %rbp", B(0x55, 0x48, 0x89, 0xe5), SITE_EMULATED },
	{ "push %rax", B(0x50), SITE_EMULATED },
	{ "push %r15", B(0x41, 0x57), SITE_EMULATED },
	{ "push %r12", B(0x41, 0x54), SITE_EMULATED },
	{ "rex.W push %rbp", B(0x48, 0x55), SITE_SINGLESTEP },
	{ "pushw %bp", B(0x66, 0x55), SITE_SINGLESTEP },
	/* branch_setup_xol_ops() */
	{ "jmp rel8", B(0xeb, 0x10), SITE_EMULATED },
	{ "jmp rel32", B(0xe9, 0x10, 0x00, 0x00, 0x00), SITE_EMULATED },
	{ "call rel32", B(0xe8, 0x10, 0x00, 0x00, 0x00), SITE_EMULATED },
	{ "je rel8", B(0x74, 0x05), SITE_EMULATED },
	{ "jne rel32", B(0x0f, 0x85, 0x10, 0x00, 0x00, 0x00), SITE_EMULATED },
	{ "callw (0x66 prefix, refused)", B(0x66, 0xe8, 0x10, 0x00), SITE_UNKNOWN },
	/* everything else: single-step */
	{ "endbr64", B(0xf3, 0x0f, 0x1e, 0xfa), SITE_SINGLESTEP },
	{ "mov 0x2eca(%rip),%eax", B(0x8b, 0x05, 0xca, 0x2e, 0x00, 0x00), SITE_SINGLESTEP },
	{ "sub $0x18,%rsp", B(0x48, 0x83, 0xec, 0x18), SITE_SINGLESTEP },
	{ "mov %rdi,%rax", B(0x48, 0x89, 0xf8), SITE_SINGLESTEP },
	{ "xor %eax,%eax", B(0x31, 0xc0), SITE_SINGLESTEP },
	{ "ret", B(0xc3), SITE_SINGLESTEP },
	{ "nopw 9 bytes (not in x86_nops)", B(0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00),
	  SITE_SINGLESTEP },
	/* refused by uprobe_init_insn() */
	{ "cs nopw (bad prefix)", B(0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00),
	  SITE_UNKNOWN },
	{ "lock add", B(0xf0, 0x01, 0x07), SITE_UNKNOWN },
	{ "int3", B(0xcc), SITE_UNKNOWN },
	{ "hlt", B(0xf4), SITE_UNKNOWN },
	{ "truncated two-byte opcode", B(0x0f), SITE_UNKNOWN },
};

static void test_crafted_bytes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum site_class got = site_classify_x86(cases[i].bytes, cases[i].len, 0x1000);

		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, site_class_name(got),
				 site_class_name(cases[i].want));
	}
	assert_int_equal(site_classify_x86(NULL, 0, 0), SITE_UNKNOWN);
}

static void test_nop5_crossing_a_page_is_emulated(void **state)
{
	static const uint8_t nopl[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

	(void)state;
	/* The kernel cannot rewrite 5 bytes atomically across a page. */
	assert_int_equal(site_classify_x86(nopl, 5, 0x1ffb), SITE_NOP5);
	assert_int_equal(site_classify_x86(nopl, 5, 0x1ffc), SITE_EMULATED);
	assert_int_equal(site_classify_x86(nopl, 5, 0x1fff), SITE_EMULATED);
	assert_int_equal(site_classify_x86(nopl, 5, 0x2000), SITE_NOP5);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(site_class_name(SITE_NOP5), "nop5");
	assert_string_equal(site_class_name(SITE_EMULATED), "emulated");
	assert_string_equal(site_class_name(SITE_SINGLESTEP), "single-step");
	assert_string_equal(site_class_name(SITE_UNKNOWN), "unknown");
	assert_string_equal(site_class_name((enum site_class)42), "unknown");
}

/* The class of read_global() in the sites fixture built with cflags. */
static enum site_class class_of_built(const char *dir, const char *name, const char *cflags)
{
	const struct elf_sym **m;
	struct elf_file *ef;
	enum site_class cls;
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* Two steps: -pg at link time would want gcrt1.o, which is not needed. */
	assert_int_equal(fx_system("cc %s -c -o '%s.o' '%s/sites.c' && cc -no-pie -o '%s' '%s.o'",
				   cflags, path, fixture_src_dir(), path, path), 0);
	ef = elf_file_open(path, err, sizeof(err));
	if (!ef)
		fail_msg("%s", err);
	assert_int_equal(elf_find_symbols(ef, "read_global", &m), 1);
	cls = elf_site_class(ef, m[0]->offset);
	free(m);
	elf_file_close(ef);
	return cls;
}

static void test_real_functions(void **state)
{
	char dir[64];

	(void)state;
	assert_int_equal(fx_mkdtemp(dir, sizeof(dir)), 0);
	/* -mnop-mcount needs non-PIC code. */
	assert_int_equal(class_of_built(dir, "sites-nop", "-O2 -fno-pie -pg -mfentry -mnop-mcount"),
			 SITE_NOP5);
	assert_int_equal(class_of_built(dir, "sites-o2", "-O2 -fno-pie"), SITE_SINGLESTEP);
	assert_int_equal(class_of_built(dir, "sites-o0", "-O0 -fno-pie"), SITE_EMULATED);
	fx_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crafted_bytes),
		cmocka_unit_test(test_nop5_crossing_a_page_is_emulated),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_real_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
