// SPDX-License-Identifier: MIT
/*
 * user/elf_symbols.c against binutils: the fixture programs of
 * tests/fixtures/ are built at run time (PIE, -no-pie, a shared library, a
 * stripped copy, C++) and every function symbol, address and file offset is
 * compared with what readelf reports. The expected file offset is computed
 * independently, from the section headers (value - sh_addr + sh_offset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fixtures/fixture_build.h"
#include <elf.h>
#include "probe/probe.h"

static char dir[64];

struct section {
	uint64_t addr, off, size;
};

struct expected_sym {
	char name[512];
	uint64_t value, size;
};

static int setup(void **state)
{
	(void)state;
	if (fx_mkdtemp(dir, sizeof(dir)) < 0 || fx_build_shop(dir) != 0)
		return -1;
	if (fx_system("g++ -O0 -g -o '%s/cart' '%s/cart.cpp'", dir, fixture_src_dir()) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_rmrf(dir);
	return 0;
}

static size_t read_sections(const char *path, struct section *out, size_t max)
{
	char *text = fx_output("readelf -SW '%s'", path), *line, *save = NULL;
	size_t n = 0;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], type[64];
		unsigned long long addr, off, size;
		char *p = strchr(line, ']');

		if (!strstr(line, "[") || !p)
			continue;
		if (sscanf(p + 1, "%255s %63s %llx %llx %llx", name, type, &addr, &off, &size) != 5)
			continue;
		if (strcmp(type, "PROGBITS") != 0 || addr == 0 || n == max)
			continue;
		out[n++] = (struct section){ addr, off, size };
	}
	free(text);
	return n;
}

static bool cold(const char *name)
{
	return strstr(name, ".cold") != NULL;
}

/* readelf -sW: defined FUNC/IFUNC symbols with a non-zero value, deduplicated. */
static size_t read_symbols(const char *path, const char *opt, struct expected_sym **out)
{
	char *text = fx_output("readelf %s -W '%s'", opt, path), *line, *save = NULL;
	size_t n = 0, cap = 0, i;

	assert_non_null(text);
	*out = NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char type[32], bind[32], vis[32], ndx[32], name[512] = "", *at;
		unsigned long long value, size;
		bool dup = false;

		if (sscanf(line, " %*d: %llx %llu %31s %31s %31s %31s %511s", &value, &size, type,
			   bind, vis, ndx, name) < 7)
			continue;
		if ((strcmp(type, "FUNC") != 0 && strcmp(type, "IFUNC") != 0) ||
		    strcmp(ndx, "UND") == 0 || value == 0 || cold(name))
			continue;
		at = strchr(name, '@');
		if (at)
			*at = '\0';
		for (i = 0; i < n; i++)
			dup |= strcmp((*out)[i].name, name) == 0 && (*out)[i].value == value;
		if (dup)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
			assert_non_null(*out);
		}
		snprintf((*out)[n].name, sizeof((*out)[n].name), "%s", name);
		(*out)[n].value = value;
		(*out)[n].size = size;
		n++;
	}
	free(text);
	return n;
}

static uint64_t offset_from_sections(const struct section *secs, size_t n, uint64_t value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (value >= secs[i].addr && value < secs[i].addr + secs[i].size)
			return value - secs[i].addr + secs[i].off;
	}
	fail_msg("no section holds 0x%llx", (unsigned long long)value);
	return 0;
}

static const struct elf_sym *lookup(const struct elf_file *ef, const char *name, uint64_t value)
{
	size_t i;

	for (i = 0; i < ef->n_syms; i++) {
		if (strcmp(ef->syms[i].name, name) == 0 && ef->syms[i].vaddr == value)
			return &ef->syms[i];
	}
	return NULL;
}

/* Every function readelf lists, with its value, size and file offset, and nothing else. */
static void check_against_binutils(const char *path, const char *readelf_opt, uint16_t type,
				   size_t at_least)
{
	struct section secs[64];
	struct expected_sym *exp;
	size_t n_secs = read_sections(path, secs, 64), n, i;
	char err[512] = "";
	struct elf_file *ef = elf_file_open(path, err, sizeof(err));

	assert_non_null(ef);
	assert_string_equal(err, "");
	assert_int_equal(ef->type, type);
	n = read_symbols(path, readelf_opt, &exp);
	assert_true(n >= at_least);
	assert_int_equal(ef->n_syms, n);
	for (i = 0; i < n; i++) {
		const struct elf_sym *s = lookup(ef, exp[i].name, exp[i].value);

		if (!s)
			fail_msg("%s: %s at 0x%llx missing", path, exp[i].name,
				 (unsigned long long)exp[i].value);
		assert_int_equal(s->size, exp[i].size);
		assert_int_equal(s->offset, offset_from_sections(secs, n_secs, exp[i].value));
	}
	free(exp);
	elf_file_close(ef);
}

static char *path_of(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void test_pie_matches_readelf(void **state)
{
	struct elf_file *ef;

	(void)state;
	check_against_binutils(path_of("shop"), "-s", ET_DYN, 8);
	ef = elf_file_open(path_of("shop"), NULL, 0);
	assert_non_null(ef);
	assert_false(ef->stripped);
	assert_string_equal(ef->runpath, "$ORIGIN");
	elf_file_close(ef);
}

static void test_nopie_matches_readelf(void **state)
{
	struct elf_file *ef;
	const struct elf_sym **m;

	(void)state;
	check_against_binutils(path_of("shop-nopie"), "-s", ET_EXEC, 8);
	/* Non-PIE: absolute addresses, file offset = vaddr - 0x400000 here. */
	ef = elf_file_open(path_of("shop-nopie"), NULL, 0);
	assert_int_equal(elf_find_symbols(ef, "shop_browse", &m), 1);
	assert_true(m[0]->vaddr >= 0x400000);
	assert_int_equal(m[0]->offset, m[0]->vaddr - 0x400000);
	free(m);
	elf_file_close(ef);
}

static void test_shared_library_matches_readelf(void **state)
{
	struct elf_file *ef;

	(void)state;
	check_against_binutils(path_of("libshopdb.so"), "-s", ET_DYN, 3);
	ef = elf_file_open(path_of("libshopdb.so"), NULL, 0);
	assert_string_equal(ef->soname, "libshopdb.so");
	elf_file_close(ef);
}

static void test_stripped_falls_back_to_dynsym(void **state)
{
	const struct elf_sym **m;
	struct elf_file *ef;

	(void)state;
	/* Only the dynamic symbols are left: exactly what readelf --dyn-syms lists. */
	check_against_binutils(path_of("libshopdb-stripped.so"), "--dyn-syms", ET_DYN, 2);
	ef = elf_file_open(path_of("libshopdb-stripped.so"), NULL, 0);
	assert_true(ef->stripped);
	assert_int_equal(elf_find_symbols(ef, "db_persist", &m), 1);
	assert_true(m[0]->dynamic);
	free(m);
	assert_int_equal(elf_find_symbols(ef, "db_static_helper", &m), 0);
	assert_null(m);
	elf_file_close(ef);

	ef = elf_file_open(path_of("libshopdb.so"), NULL, 0);
	assert_false(ef->stripped);
	assert_int_equal(elf_find_symbols(ef, "db_static_helper", &m), 1);
	assert_false(m[0]->dynamic);
	free(m);
	elf_file_close(ef);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct elf_sym *const *)a)->name, (*(const struct elf_sym *const *)b)->name);
}

static void test_glob(void **state)
{
	struct elf_file *ef = elf_file_open(path_of("shop"), NULL, 0);
	const struct elf_sym **m;
	size_t n;

	(void)state;
	n = elf_glob_symbols(ef, "price_*", &m);
	assert_int_equal(n, 2);
	qsort(m, n, sizeof(*m), by_name);
	assert_string_equal(m[0]->name, "price_base");
	assert_string_equal(m[1]->name, "price_discount");
	free(m);
	n = elf_glob_symbols(ef, "shop_check*", &m);
	assert_int_equal(n, 3); /* shop_check, shop_checkout, shop_checkout_alias */
	free(m);
	assert_int_equal(elf_glob_symbols(ef, "nothing_*", &m), 0);
	assert_int_equal(elf_find_symbols(ef, "shop_pick", &m), 1);
	assert_true(m[0]->ifunc);
	free(m);
	assert_int_equal(elf_find_symbols(ef, "shop_browse", &m), 1);
	assert_false(m[0]->ifunc);
	free(m);
	elf_file_close(ef);
}

static void test_cxx_demangled(void **state)
{
	struct elf_file *ef = elf_file_open(path_of("cart"), NULL, 0);
	const struct elf_sym **m;
	size_t n;

	(void)state;
	assert_non_null(ef);
	n = elf_glob_symbols(ef, "Shop::Cart::*", &m);
	assert_int_equal(n, 2);
	qsort(m, n, sizeof(*m), by_name);
	assert_string_equal(m[0]->name, "_ZN4Shop4Cart3addEi");
	assert_string_equal(m[0]->demangled, "Shop::Cart::add(int)");
	assert_string_equal(m[0]->base, "Shop::Cart::add");
	assert_string_equal(m[1]->name, "_ZNK4Shop4Cart5totalEv");
	assert_string_equal(m[1]->demangled, "Shop::Cart::total() const");
	assert_string_equal(m[1]->base, "Shop::Cart::total");
	free(m);

	/* Exact: mangled, demangled with and without the parameters. */
	assert_int_equal(elf_find_symbols(ef, "Shop::Order::place", &m), 1);
	assert_string_equal(m[0]->name, "_ZN4Shop5Order5placeERKNS_4CartE");
	free(m);
	assert_int_equal(elf_find_symbols(ef, "Shop::Order::place(Shop::Cart const&)", &m), 1);
	free(m);
	assert_int_equal(elf_find_symbols(ef, "_ZN4Shop4Cart3addEi", &m), 1);
	assert_string_equal(m[0]->demangled, "Shop::Cart::add(int)");
	free(m);
	assert_int_equal(elf_glob_symbols(ef, "Shop::*::place*", &m), 1);
	free(m);
	elf_file_close(ef);
}

static void test_closest_names(void **state)
{
	struct elf_file *ef = elf_file_open(path_of("shop"), NULL, 0);
	const char *names[3];
	int n;

	(void)state;
	n = elf_closest_names(ef, "shop_checkot", names, 3);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "shop_checkout");
	assert_string_equal(names[1], "shop_check");
	n = elf_closest_names(ef, "price_bse", names, 3);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "price_base");
	assert_int_equal(elf_closest_names(ef, "zzzzzzzzzzzzzz", names, 3), 0);
	elf_file_close(ef);

	ef = elf_file_open(path_of("cart"), NULL, 0);
	n = elf_closest_names(ef, "Shop::Cart::ad", names, 1);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "Shop::Cart::add");
	elf_file_close(ef);
}

static void test_closest_to_glob(void **state)
{
	struct elf_file *ef = elf_file_open(path_of("shop"), NULL, 0);
	const char *names[3];
	int n;

	(void)state;
	/* One edit from matching: both price_ functions, by name. */
	n = elf_closest_to_glob(ef, "prise_*", names, 3);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "price_base");
	assert_string_equal(names[1], "price_discount");
	/* '*' in front and inside, '?' and a bracket expression cost nothing. */
	n = elf_closest_to_glob(ef, "*_checkot", names, 3);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "shop_checkout");
	assert_string_equal(names[1], "shop_check");
	n = elf_closest_to_glob(ef, "sh?p_br[aeiou]wze", names, 3);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "shop_browse");
	n = elf_closest_to_glob(ef, "price_d*x", names, 1);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "price_discount");
	/* Far from everything, or too little literal text to go by. */
	assert_int_equal(elf_closest_to_glob(ef, "zzzzzz*", names, 3), 0);
	assert_int_equal(elf_closest_to_glob(ef, "q*", names, 3), 0);
	elf_file_close(ef);

	/* C++: measured by the demangled name too, shown by it. */
	ef = elf_file_open(path_of("cart"), NULL, 0);
	n = elf_closest_to_glob(ef, "Shop::Kart::add*", names, 1);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "Shop::Cart::add");
	elf_file_close(ef);
}

static void test_read_at(void **state)
{
	struct elf_file *ef = elf_file_open(path_of("shop"), NULL, 0);
	const struct elf_sym **m;
	uint8_t got[16], want[16];
	FILE *f;

	(void)state;
	assert_int_equal(elf_find_symbols(ef, "shop_browse", &m), 1);
	assert_int_equal(elf_read_at(ef, m[0]->offset, got, sizeof(got)), 16);
	f = fopen(path_of("shop"), "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)m[0]->offset, SEEK_SET), 0);
	assert_int_equal(fread(want, 1, sizeof(want), f), 16);
	fclose(f);
	assert_memory_equal(got, want, 16);
	free(m);
	elf_file_close(ef);
}

static void test_not_elf(void **state)
{
	char err[512], path[256], expect[600];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not an ELF file\n", f);
	fclose(f);
	assert_null(elf_file_open(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "%s: not an ELF file", path);
	assert_string_equal(err, expect);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_null(elf_file_open(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
	assert_string_equal(err, expect);
}

static void test_architecture_mismatch(void **state)
{
	char err[512], path[256], expect[600];
	const uint16_t aarch64 = 183; /* EM_AARCH64, little-endian like the file */
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/shop-arm", dir);
	assert_int_equal(fx_system("cp '%s/shop' '%s'", dir, path), 0);
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 18, SEEK_SET), 0); /* e_machine */
	assert_int_equal(fwrite(&aarch64, 2, 1, f), 1);
	fclose(f);
	assert_null(elf_file_open(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect),
		 "%s: ELF file for AArch64 (64-bit), but this host is x86-64 (64-bit)", path);
	assert_string_equal(err, expect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie_matches_readelf),
		cmocka_unit_test(test_nopie_matches_readelf),
		cmocka_unit_test(test_shared_library_matches_readelf),
		cmocka_unit_test(test_stripped_falls_back_to_dynsym),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_cxx_demangled),
		cmocka_unit_test(test_closest_names),
		cmocka_unit_test(test_closest_to_glob),
		cmocka_unit_test(test_read_at),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_architecture_mismatch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
