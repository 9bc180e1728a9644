// SPDX-License-Identifier: MIT
/*
 * USDT notes and argument strings (user/usdt.c) on real binaries: the
 * probes fixture (tests/fixtures/probes.c, sys/sdt.h) built at run time as
 * PIE and non-PIE, checked against what readelf says; a copy whose note is
 * patched as prelink would leave it (.stapsdt.base moved); and Debian's
 * CPython.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/ptrace.h>

#include "../fixtures/fixture_build.h"
#include "probe/probe.h"

static char dir[PATH_MAX];

static char *p(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *p(const char *fmt, ...)
{
	static char bufs[4][1024];
	static int next;
	char *b = bufs[next++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static int setup(void **state)
{
	char tmp[64];

	(void)state;
	if (fx_mkdtemp(tmp, sizeof(tmp)) < 0 || !realpath(tmp, dir))
		return -1;
	if (fx_system("cc -O0 -g -fPIE -pie -o '%s/probes' '%s/probes.c'", dir, fixture_src_dir()))
		return -1;
	return fx_system("cc -O0 -g -fno-pie -no-pie -o '%s/probes-nopie' '%s/probes.c'", dir,
			 fixture_src_dir());
}

static int teardown(void **state)
{
	(void)state;
	fx_rmrf(dir);
	return 0;
}

/* A section's address and file offset, from readelf -SW. */
static void section(const char *path, const char *name, uint64_t *addr, uint64_t *off)
{
	char *out = fx_output("readelf -SW '%s' | sed -n 's/.*\\] %s  *[A-Z]*  *\\([0-9a-f]*\\) "
			      "\\([0-9a-f]*\\) .*/\\1 \\2/p'", path, name);
	unsigned long long a = 0, o = 0;

	assert_non_null(out);
	assert_int_equal(sscanf(out, "%llx %llx", &a, &o), 2);
	free(out);
	*addr = a;
	*off = o;
}

/* provider, name, location, semaphore and arguments of each note, as readelf prints them. */
struct rnote {
	char provider[64], name[64], args[256];
	unsigned long long pc, sema;
};

static int readelf_notes(const char *path, struct rnote *out, int max)
{
	char *text = fx_output("readelf -nW '%s'", path), *line, *save = NULL;
	int n = -1;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *prov = strstr(line, "Provider: ");
		unsigned long long base;

		if (prov && n + 1 < max &&
		    sscanf(prov, "Provider: %63s", out[n + 1].provider) == 1) {
			n++;
			out[n].args[0] = '\0';
		} else if (n >= 0) {
			if (sscanf(line, " Name: %63s", out[n].name) == 1)
				continue;
			if (sscanf(line, " Location: %llx, Base: %llx, Semaphore: %llx", &out[n].pc,
				   &base, &out[n].sema) == 3)
				continue;
			if (strncmp(line, "    Arguments:", 14) == 0)
				snprintf(out[n].args, sizeof(out[n].args), "%s",
					 line[14] == ' ' ? line + 15 : line + 14);
		}
	}
	free(text);
	return n + 1;
}

static void check_against_readelf(const char *path)
{
	struct rnote want[8];
	const struct usdt_note *notes;
	uint64_t text_addr, text_off, probes_addr, probes_off;
	struct elf_file *ef;
	char err[256];
	int n, i;

	n = readelf_notes(path, want, 8);
	assert_int_equal(n, 3);
	section(path, ".text", &text_addr, &text_off);
	section(path, ".probes", &probes_addr, &probes_off);
	ef = elf_file_open(path, err, sizeof(err));
	assert_non_null(ef);
	assert_int_equal(usdt_notes(ef, &notes, err, sizeof(err)), 3);
	for (i = 0; i < n; i++) {
		assert_string_equal(notes[i].provider, want[i].provider);
		assert_string_equal(notes[i].name, want[i].name);
		assert_string_equal(notes[i].args, want[i].args);
		assert_int_equal(notes[i].pc, want[i].pc);
		assert_int_equal(notes[i].offset, want[i].pc - text_addr + text_off);
		assert_int_equal(notes[i].sema, want[i].sema);
		if (want[i].sema)
			assert_int_equal(notes[i].sema_offset, want[i].sema - probes_addr + probes_off);
		else
			assert_int_equal(notes[i].sema_offset, 0);
	}
	/* Read once, kept with the file. */
	assert_ptr_equal(notes, ef->usdt);
	assert_int_equal(usdt_notes(ef, &notes, err, sizeof(err)), 3);
	assert_ptr_equal(notes, ef->usdt);
	elf_file_close(ef);
}

static void test_notes_pie(void **state)
{
	(void)state;
	check_against_readelf(p("%s/probes", dir));
}

static void test_notes_non_pie(void **state)
{
	(void)state;
	check_against_readelf(p("%s/probes-nopie", dir));
}

static void test_find(void **state)
{
	const struct usdt_note *found[2];
	struct elf_file *ef = elf_file_open(p("%s/probes", dir), NULL, 0);

	(void)state;
	assert_non_null(ef);
	assert_int_equal(usdt_find(ef, "shop", "order__start", found, 2), 1);
	assert_string_equal(found[0]->args, "-4@-4(%rbp) -8@-16(%rbp) -4@$42");
	assert_int_not_equal(found[0]->sema, 0);
	assert_int_equal(usdt_find(ef, "shop", "tick", found, 2), 1);
	assert_string_equal(found[0]->args, "");
	assert_int_equal(found[0]->sema, 0);
	assert_int_equal(usdt_find(ef, "shop", "order", found, 2), 0);
	assert_int_equal(usdt_find(ef, "shoq", "tick", found, 2), 0);
	elf_file_close(ef);
}

/* A file without notes has none; no error. */
static void test_no_notes(void **state)
{
	const struct usdt_note *notes;
	struct elf_file *ef = elf_file_open("/bin/true", NULL, 0);

	(void)state;
	assert_non_null(ef);
	assert_int_equal(usdt_notes(ef, &notes, NULL, 0), 0);
	elf_file_close(ef);
}

/*
 * Prelink moves sections and leaves the notes as linked: the note's base
 * field then differs from .stapsdt.base. Here the note's base is moved
 * down by 0x100 instead, which must move pc and semaphore up by 0x100.
 */
static void test_stapsdt_base_adjustment(void **state)
{
	const char *copy = p("%s/probes-moved", dir);
	uint64_t note_addr, note_off, base;
	const struct usdt_note *notes;
	struct elf_file *ef;
	struct rnote want[4];
	FILE *f;

	(void)state;
	assert_int_equal(fx_system("cp '%s/probes' '%s'", dir, copy), 0);
	readelf_notes(copy, want, 4);
	section(copy, ".note.stapsdt", &note_addr, &note_off);
	/* first note: namesz, descsz, type, "stapsdt\0", then pc, base, semaphore */
	f = fopen(copy, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)(note_off + 12 + 8 + 8), SEEK_SET), 0);
	assert_int_equal(fread(&base, 8, 1, f), 1);
	base -= 0x100;
	assert_int_equal(fseek(f, (long)(note_off + 12 + 8 + 8), SEEK_SET), 0);
	assert_int_equal(fwrite(&base, 8, 1, f), 1);
	fclose(f);

	ef = elf_file_open(copy, NULL, 0);
	assert_non_null(ef);
	assert_int_equal(usdt_notes(ef, &notes, NULL, 0), 3);
	assert_string_equal(notes[0].name, want[0].name);
	assert_int_equal(notes[0].pc, want[0].pc + 0x100);
	assert_int_equal(notes[0].sema, want[0].sema ? want[0].sema + 0x100 : 0);
	assert_int_equal(notes[1].pc, want[1].pc); /* the other notes are intact */
	elf_file_close(ef);
}

static void test_parse_args(void **state)
{
	struct rt_arg a[USDT_MAX_ARGS];
	char err[256];

	(void)state;
	assert_int_equal(usdt_parse_args("-4@-4(%rbp) -8@-16(%rbp) -4@$42", a, USDT_MAX_ARGS, err,
					 sizeof(err)), 3);
	assert_int_equal(a[0].kind, RT_ARG_DEREF);
	assert_int_equal(a[0].size, 4);
	assert_int_equal(a[0].is_signed, 1);
	assert_int_equal(a[0].reg_off, offsetof(struct pt_regs, rbp));
	assert_int_equal(a[0].val, -4);
	assert_int_equal(a[1].kind, RT_ARG_DEREF);
	assert_int_equal(a[1].size, 8);
	assert_int_equal(a[1].val, -16);
	assert_int_equal(a[2].kind, RT_ARG_CONST);
	assert_int_equal(a[2].val, 42);
	assert_int_equal(a[2].is_signed, 1);

	assert_int_equal(usdt_parse_args("8@%rbp 8@%r12 -4@%eax", a, USDT_MAX_ARGS, err,
					 sizeof(err)), 3);
	assert_int_equal(a[0].kind, RT_ARG_REG);
	assert_int_equal(a[0].reg_off, offsetof(struct pt_regs, rbp));
	assert_int_equal(a[0].is_signed, 0);
	assert_int_equal(a[1].reg_off, offsetof(struct pt_regs, r12));
	assert_int_equal(a[2].reg_off, offsetof(struct pt_regs, rax));
	assert_int_equal(a[2].size, 4);

	assert_int_equal(usdt_parse_args("1@%r8b 2@%si 8@(%rsp) -8@0x10(%r15) 8@$-3", a,
					 USDT_MAX_ARGS, err, sizeof(err)), 5);
	assert_int_equal(a[0].reg_off, offsetof(struct pt_regs, r8));
	assert_int_equal(a[0].size, 1);
	assert_int_equal(a[1].reg_off, offsetof(struct pt_regs, rsi));
	assert_int_equal(a[2].kind, RT_ARG_DEREF);
	assert_int_equal(a[2].reg_off, offsetof(struct pt_regs, rsp));
	assert_int_equal(a[2].val, 0);
	assert_int_equal(a[3].val, 16);
	assert_int_equal(a[4].val, -3);

	assert_int_equal(usdt_parse_args("", a, USDT_MAX_ARGS, err, sizeof(err)), 0);
	/* More arguments than room: counted, the first ones stored. */
	assert_int_equal(usdt_parse_args("8@%rax 8@%rbx", a, 1, err, sizeof(err)), 2);
	assert_int_equal(a[0].reg_off, offsetof(struct pt_regs, rax));
}

static void test_parse_args_errors(void **state)
{
	struct rt_arg a[USDT_MAX_ARGS];
	char err[256];

	(void)state;
	assert_int_equal(usdt_parse_args("8@%rax 8@(%rax,%rbx,8)", a, USDT_MAX_ARGS, err,
					 sizeof(err)), -1);
	assert_string_equal(err, "argument 2 '8@(%rax,%rbx,8)': indexed addressing is not supported");
	assert_int_equal(usdt_parse_args("3@%rax", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '3@%rax': expected SIZE@LOCATION with a size of 1, 2, "
				 "4 or 8 (negative: signed)");
	assert_int_equal(usdt_parse_args("8%rax", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '8%rax': expected SIZE@LOCATION with a size of 1, 2, "
				 "4 or 8 (negative: signed)");
	assert_int_equal(usdt_parse_args("8@%xmm0", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '8@%xmm0': register %xmm0 is not supported");
	assert_int_equal(usdt_parse_args("8@foo(%rip)", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '8@foo(%rip)': displacement 'foo' is not a number "
				 "(symbolic addresses are not supported)");
	assert_int_equal(usdt_parse_args("8@-8(%rip)", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '8@-8(%rip)': register %rip is not supported");
	assert_int_equal(usdt_parse_args("8@$x", a, USDT_MAX_ARGS, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 1 '8@$x': constant is not a number");
}

/* Debian's CPython: the probes flowprof's python: handlers use. */
static void test_debian_python(void **state)
{
	const struct usdt_note *found[2];
	struct rt_arg a[USDT_MAX_ARGS];
	struct elf_file *ef;

	(void)state;
	if (access("/usr/bin/python3.11", R_OK) != 0)
		skip();
	ef = elf_file_open("/usr/bin/python3.11", NULL, 0);
	assert_non_null(ef);
	assert_int_equal(usdt_find(ef, "python", "function__entry", found, 2), 1);
	assert_int_not_equal(found[0]->sema, 0);
	assert_int_not_equal(found[0]->sema_offset, 0);
	assert_int_equal(usdt_parse_args(found[0]->args, a, USDT_MAX_ARGS, NULL, 0), 3);
	assert_int_equal(usdt_find(ef, "python", "function__return", found, 2), 1);
	assert_int_equal(usdt_find(ef, "python", "line", found, 2), 1);
	elf_file_close(ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notes_pie),
		cmocka_unit_test(test_notes_non_pie),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_no_notes),
		cmocka_unit_test(test_stapsdt_base_adjustment),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_parse_args_errors),
		cmocka_unit_test(test_debian_python),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
