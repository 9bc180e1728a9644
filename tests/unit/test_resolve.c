// SPDX-License-Identifier: MIT
/*
 * resolve_flowfile() on real binaries and real processes: the shop fixture
 * (tests/fixtures/shop.c + libshopdb.c) is built at run time and started as
 * a child where a test needs a running process. Flow files are filled in by
 * hand (the parser has its own tests). Messages are checked exactly.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fixtures/fixture_build.h"
#include "probe/probe.h"

static char dir[PATH_MAX];	/* realpath of the temporary directory */
static char ffpath[PATH_MAX + 32];

struct test_ff {
	struct flowfile ff;
	struct ff_bundle bundles[4];
	struct ff_handler handlers[16];
	char ids[16][64];
};

static int setup(void **state)
{
	char tmp[64];

	(void)state;
	if (fx_mkdtemp(tmp, sizeof(tmp)) < 0 || !realpath(tmp, dir))
		return -1;
	snprintf(ffpath, sizeof(ffpath), "%s/flows.yaml", dir);
	if (fx_build_shop(dir) != 0)
		return -1;
	if (fx_system("cp '%s/shop' '%s/shop-idle' && ln -s shop '%s/shop-link'", dir, dir, dir) != 0)
		return -1;
	if (fx_system("cc -O0 -g -o '%s/probes' '%s/probes.c'", dir, fixture_src_dir()) != 0)
		return -1;
	return fx_system("g++ -O0 -o '%s/cart' '%s/cart.cpp'", dir, fixture_src_dir());
}

static int teardown(void **state)
{
	(void)state;
	fx_rmrf(dir);
	return 0;
}

static void ff_init(struct test_ff *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->ff.path = (char *)path;
	t->ff.bundles = t->bundles;
	t->ff.handlers = t->handlers;
}

static int add_bundle(struct test_ff *t, const char *name, const char *exe, const char *comm,
		      int *pids, int n_pids, int line, int col)
{
	struct ff_bundle *b = &t->bundles[t->ff.n_bundles];

	b->name = (char *)name;
	b->exe = (char *)exe;
	b->comm = (char *)comm;
	b->pids = pids;
	b->n_pids = n_pids;
	b->first_handler = t->ff.n_handlers;
	b->loc = (struct ff_loc){ line, col };
	return t->ff.n_bundles++;
}

static struct ff_handler *add_handler(struct test_ff *t, int bundle, const char *name,
				      const char *symbol, const char *library, int line, int col)
{
	int i = t->ff.n_handlers++;
	struct ff_handler *h = &t->handlers[i];

	snprintf(t->ids[i], sizeof(t->ids[i]), "%s.%s", t->bundles[bundle].name, name);
	h->name = (char *)name;
	h->id = t->ids[i];
	h->bundle = bundle;
	h->kind = FF_PROBE_SYMBOL;
	h->symbol = (char *)symbol;
	h->is_glob = symbol && strpbrk(symbol, "*?[") != NULL;
	h->library = (char *)library;
	h->loc = (struct ff_loc){ line, col };
	t->bundles[bundle].n_handlers++;
	return h;
}

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

static uint64_t offset_of(const char *binary, const char *symbol)
{
	struct elf_file *ef = elf_file_open(binary, NULL, 0);
	const struct elf_sym **m;
	uint64_t off;

	assert_non_null(ef);
	assert_int_equal(elf_find_symbols(ef, symbol, &m), 1);
	off = m[0]->offset;
	free(m);
	elf_file_close(ef);
	return off;
}

static int site_cmp(const void *a, const void *b)
{
	const struct probe_site *x = a, *y = b;

	if (x->handler != y->handler)
		return x->handler - y->handler;
	return strcmp(x->symbol, y->symbol);
}

static void test_exe_bundle_is_every_process(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, ffpath);
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "price", "price_*", NULL, 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 3);
	qsort(res.sites, res.n_sites, sizeof(*res.sites), site_cmp);
	assert_int_equal(res.sites[0].handler, 0);
	assert_string_equal(res.sites[0].symbol, "shop_browse");
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	assert_int_equal(res.sites[0].offset, offset_of(p("%s/shop", dir), "shop_browse"));
	assert_null(res.sites[0].demangled);
	assert_int_not_equal(res.sites[0].cls, SITE_UNKNOWN);
	assert_int_equal(res.sites[1].handler, 1);
	assert_string_equal(res.sites[1].symbol, "price_base");
	assert_int_equal(res.sites[1].offset, offset_of(p("%s/shop", dir), "price_base"));
	assert_string_equal(res.sites[2].symbol, "price_discount");
	assert_int_equal(res.sites[2].pid, -1);
	assert_int_equal(res.n_bundles, 1);
	assert_int_equal(res.bundles[0].n_pids, 0);
	assert_string_equal(res.bundles[0].binary, p("%s/shop", dir));
	resolution_free(&res);
}

static void test_missing_symbol_names_closest(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkot", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:7:7: shop.checkout: symbol 'shop_checkot' not found "
				   "in %s/shop; closest: shop_checkout, shop_check", dir));
	assert_int_equal(res.n_sites, 0);

	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	opts.pids = &child;
	opts.n_pids = 1;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	fx_stop(child);
	assert_string_equal(err, p("flows.yaml:7:7: shop.checkout: symbol 'shop_checkot' not found "
				   "in %s/shop (pid %d); closest: shop_checkout, shop_check", dir,
				   child));
}

static void test_missing_exe(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", "/srv/shop/bin/shop", NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "flows.yaml:3:10: bundle shop: exe /srv/shop/bin/shop: "
				 "No such file or directory");
}

static void test_exe_not_elf(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", fixture_src_dir(), NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": Is a directory"));
	ff_init(&t, ffpath);
	add_bundle(&t, "shop", "libshopdb.c", NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(fx_system("cp '%s/libshopdb.c' '%s/'", fixture_src_dir(), dir), 0);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("%s:3:10: bundle shop: exe %s/libshopdb.c: not an ELF file",
				   ffpath, dir));
}

/* A pid that existed and does not any more. */
static int dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	assert_int_equal(kill(pid, 0), -1);
	return pid;
}

static void test_pid_that_does_not_exist(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1] = { dead_pid() };

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:2:3: pid %d (bundle shop): no such process", pids[0]));
}

static void test_pid_bundle(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1];

	(void)state;
	pids[0] = fx_start_waiting(p("%s/shop", dir));
	assert_true(pids[0] > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, pids[0]);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], pids[0]);
	resolution_free(&res);
}

static void test_exe_by_symlink_finds_the_same_processes(void **state)
{
	const char *spellings[] = { "shop", "shop-link", "./shop", "../%s/shop" };
	struct resolution res;
	struct test_ff t;
	char err[1024], up[PATH_MAX + 8];
	pid_t child;
	size_t i;

	(void)state;
	child = fx_start_waiting(p("%s/shop-link", dir));
	assert_true(child > 0);
	snprintf(up, sizeof(up), "../%s/shop", strrchr(dir, '/') + 1);
	spellings[3] = up;
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		/* Relative to the flow file's directory, whatever the spelling. */
		ff_init(&t, ffpath);
		add_bundle(&t, "shop", spellings[i], NULL, NULL, 0, 2, 3);
		add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
		assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
		assert_int_equal(res.bundles[0].n_pids, 1);
		assert_int_equal(res.bundles[0].pids[0], child);
		assert_string_equal(res.bundles[0].binary, p("%s/shop", dir));
		assert_int_equal(res.n_sites, 1);
		assert_int_equal(res.sites[0].pid, -1);
		resolution_free(&res);
	}
	fx_stop(child);
}

static void test_p_restricts_every_bundle(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int self = getpid();
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_bundle(&t, "idle", p("%s/shop-idle", dir), NULL, NULL, 0, 8, 3);
	add_handler(&t, 1, "browse", "shop_browse", NULL, 10, 7);
	opts.pids = &child;
	opts.n_pids = 1;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].handler, 0);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:8:3: warning: bundle idle: none of its processes is among "
			      "-p %d; its handlers are not attached", child));
	assert_int_equal(res.problem_kinds[0], PROBLEM_WARNING);
	resolution_free(&res);

	/* Nothing left at all: an error. */
	opts.pids = &self;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("-p %d: none of these processes belongs to a bundle of flows.yaml",
				   self));
	self = dead_pid();
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("-p %d: no such process", self));
	fx_stop(child);
}

static void test_comm_bundle(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop-idle", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, "shop-idle", NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(child);
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], child);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/shop-idle", dir));
	resolution_free(&res);

	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "flows.yaml:2:3: bundle shop: no running process has comm "
				 "'shop-idle'");
}

static void test_library_of_running_process(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 9, 7);
	add_handler(&t, 0, "nolib", "db_persist", "libnothere.so", 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:10:7: shop.nolib: library libnothere.so is not mapped "
				   "by pid %d (%s/shop)", child, dir));
	t.ff.n_handlers = 1;
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(child);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/libshopdb.so", dir));
	assert_string_equal(res.sites[0].symbol, "db_persist");
	assert_int_equal(res.sites[0].offset, offset_of(p("%s/libshopdb.so", dir), "db_persist"));
	resolution_free(&res);
}

static void test_library_without_process_uses_runpath(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop-idle", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 9, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].binary, p("%s/libshopdb.so", dir));
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:9:7: note: shop.persist: no process of bundle shop is "
			      "running: %s/libshopdb.so is probed in every process that uses it", dir));
	resolution_free(&res);
}

static void test_stripped_library_says_so(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop-idle", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_static_helpr", p("%s/libshopdb-stripped.so", dir), 9, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:9:7: shop.persist: symbol 'db_static_helpr' not found "
				   "in %s/libshopdb-stripped.so, which is stripped: only .dynsym was "
				   "searched", dir));
	/* The same library unstripped has it. */
	t.handlers[0].library = p("%s/libshopdb.so", dir);
	t.handlers[0].symbol = "db_static_helper";
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	resolution_free(&res);
}

static void test_aliases_attached_once(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 8, 7);
	add_handler(&t, 0, "pay", "shop_checkout_alias", NULL, 9, 7);
	add_handler(&t, 0, "all", "shop_check*", NULL, 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].handler, 0);
	assert_string_equal(res.sites[0].symbol, "shop_checkout");
	assert_int_equal(res.sites[1].handler, 2);
	assert_string_equal(res.sites[1].symbol, "shop_check");
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:9:7: note: shop.pay: symbol 'shop_checkout_alias' is at the "
			      "same address as 'shop_checkout' of shop.checkout in %s/shop: attached "
			      "once, counted as shop.checkout", dir));
	assert_string_equal(res.problems[1],
			    p("flows.yaml:10:7: note: shop.all: symbol 'shop_checkout' is at the "
			      "same address as 'shop_checkout' of shop.checkout in %s/shop: attached "
			      "once, counted as shop.checkout", dir));
	assert_string_equal(res.problems[2],
			    p("flows.yaml:10:7: note: shop.all: symbol 'shop_checkout_alias' is at "
			      "the same address as 'shop_checkout' of shop.checkout in %s/shop: "
			      "attached once, counted as shop.checkout", dir));
	for (int i = 0; i < 3; i++) /* notes: `check` does not count them as problems */
		assert_int_equal(res.problem_kinds[i], PROBLEM_NOTE);
	resolution_free(&res);

	/* Within one handler: a glob over a symbol and its alias. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout*", NULL, 8, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_string_equal(res.sites[0].symbol, "shop_checkout");
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:8:7: note: shop.checkout: symbol 'shop_checkout_alias' is "
			      "an alias of 'shop_checkout' in %s/shop: attached once", dir));
	resolution_free(&res);
}

static void test_cxx_glob(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "cart", p("%s/cart", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "cart", "Shop::Cart::*", NULL, 4, 7);
	add_handler(&t, 0, "place", "Shop::Order::place", NULL, 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 3);
	qsort(res.sites, res.n_sites, sizeof(*res.sites), site_cmp);
	assert_string_equal(res.sites[0].symbol, "_ZN4Shop4Cart3addEi");
	assert_string_equal(res.sites[0].demangled, "Shop::Cart::add(int)");
	assert_string_equal(res.sites[1].symbol, "_ZNK4Shop4Cart5totalEv");
	assert_string_equal(res.sites[1].demangled, "Shop::Cart::total() const");
	assert_int_equal(res.sites[2].handler, 1);
	assert_string_equal(res.sites[2].demangled, "Shop::Order::place(Shop::Cart const&)");
	resolution_free(&res);
}

static struct ff_handler *add_usdt(struct test_ff *t, int bundle, const char *name,
				   const char *entry, const char *ret, int line)
{
	struct ff_handler *h = add_handler(t, bundle, name, NULL, NULL, line, 7);

	h->kind = FF_PROBE_USDT;
	h->usdt = (char *)entry;
	h->usdt_return = (char *)ret;
	return h;
}

static struct ff_handler *add_lang(struct test_ff *t, int bundle, const char *name,
				   enum ff_probe_kind kind, const char *pattern, int line)
{
	struct ff_handler *h = add_handler(t, bundle, name, NULL, NULL, line, 7);

	h->kind = kind;
	h->pattern = (char *)pattern;
	return h;
}

/* The note of provider:name in a binary (the test's reference). */
static struct usdt_note note_of(const char *binary, const char *provider, const char *name)
{
	const struct usdt_note *n;
	struct elf_file *ef = elf_file_open(binary, NULL, 0);
	struct usdt_note copy;

	assert_non_null(ef);
	assert_int_equal(usdt_find(ef, provider, name, &n, 1), 1);
	copy = *n;
	copy.provider = copy.name = copy.args = NULL;
	elf_file_close(ef);
	return copy;
}

static void test_usdt_pair(void **state)
{
	struct usdt_note start = note_of(p("%s/probes", dir), "shop", "order__start");
	struct usdt_note done = note_of(p("%s/probes", dir), "shop", "order__done");
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/probes", dir), NULL, NULL, 0, 2, 3);
	add_usdt(&t, 0, "order", "shop:order__start", "shop:order__done", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].kind, PROBE_USDT_ENTRY);
	assert_string_equal(res.sites[0].symbol, "shop:order__start");
	assert_int_equal(res.sites[0].offset, start.offset);
	assert_int_equal(res.sites[0].ref_ctr_offset, start.sema_offset);
	assert_int_not_equal(res.sites[0].ref_ctr_offset, 0);
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].usdt_args, "-4@-4(%rbp) -8@-16(%rbp) -4@$42");
	assert_int_equal(res.sites[1].kind, PROBE_USDT_RETURN);
	assert_string_equal(res.sites[1].symbol, "shop:order__done");
	assert_int_equal(res.sites[1].offset, done.offset);
	assert_int_equal(res.sites[1].ref_ctr_offset, done.sema_offset);
	resolution_free(&res);
}

static void test_usdt_errors(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/probes", dir), NULL, NULL, 0, 2, 3);
	add_usdt(&t, 0, "order", "shop:order__stert", "shop:order__done", 4);
	add_usdt(&t, 0, "tick", "shop:tick", "shop:tick", 5);
	add_bundle(&t, "plain", p("%s/shop", dir), NULL, NULL, 0, 7, 3);
	add_usdt(&t, 1, "q", "db:query__start", "db:query__done", 8);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_errors, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: shop.order: USDT probe shop:order__stert not found in "
			      "%s/probes; it has 3 USDT probes, closest: shop:order__start, "
			      "shop:order__done", dir));
	assert_string_equal(res.problems[1],
			    "flows.yaml:5:7: shop.tick: usdt and return name the same probe shop:tick: "
			    "a call needs one probe where it starts and another where it ends");
	assert_string_equal(res.problems[2],
			    p("flows.yaml:8:7: plain.q: USDT probe db:query__start not found in %s/shop; "
			      "it has no USDT probes (no .note.stapsdt section)", dir));
	/* shop.order's return probe exists, but half a pair is not attached. */
	assert_int_equal(res.n_sites, 0);
	resolution_free(&res);
}

static void test_python_handler(void **state)
{
	struct usdt_note entry, ret, line, park;
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	if (access("/usr/bin/python3.11", R_OK) != 0)
		skip(); /* Debian 12's python3 */
	entry = note_of("/usr/bin/python3.11", "python", "function__entry");
	ret = note_of("/usr/bin/python3.11", "python", "function__return");
	line = note_of("/usr/bin/python3.11", "python", "line");
	park = note_of("/usr/bin/python3.11", "python", "import__find__load__done");
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "app", "/usr/bin/python3.11", NULL, NULL, 0, 2, 3);
	add_lang(&t, 0, "view", FF_PROBE_PYTHON, "*/views.py:checkout", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 3);
	assert_int_equal(res.sites[0].kind, PROBE_PYTHON_ENTRY);
	assert_string_equal(res.sites[0].symbol, "python:function__entry");
	assert_int_equal(res.sites[0].offset, entry.offset);
	assert_int_equal(res.sites[0].ref_ctr_offset, entry.sema_offset);
	assert_string_equal(res.sites[0].usdt_args, "8@%rbp 8@%r12 -4@%eax");
	assert_int_equal(res.sites[1].kind, PROBE_PYTHON_RETURN);
	assert_int_equal(res.sites[1].offset, ret.offset);
	assert_int_equal(res.sites[1].ref_ctr_offset, ret.sema_offset);
	/* 3.11: line's semaphore held up from a probe that never runs. */
	assert_int_equal(res.sites[2].kind, PROBE_PYTHON_LINE_GATE);
	assert_string_equal(res.sites[2].symbol, "python:line");
	assert_int_equal(res.sites[2].offset, park.offset);
	assert_int_equal(res.sites[2].ref_ctr_offset, line.sema_offset);
	resolution_free(&res);
}

static void test_python_errors(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "app", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_lang(&t, 0, "view", FF_PROBE_PYTHON, "*/views.py:checkout", 4);
	add_lang(&t, 0, "many", FF_PROBE_PYTHON, "views.py:check*", 5);
	add_lang(&t, 0, "brackets", FF_PROBE_PYTHON, "[vw]iews.py:checkout", 6);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_errors, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: app.view: %s/shop has no CPython USDT probes "
			      "(python:function__entry): this Python was built without --with-dtrace "
			      "(Debian's /usr/bin/python3 has them)", dir));
	assert_string_equal(res.problems[1],
			    "flows.yaml:5:7: app.many: python function name 'check*' must be an exact "
			    "name (only the file part may be a glob)");
	assert_string_equal(res.problems[2],
			    "flows.yaml:6:7: app.brackets: file pattern '[vw]iews.py': only * and ? are "
			    "supported, not [...]");
	resolution_free(&res);
}

static void test_java_needs_the_flag(void **state)
{
	char *plain[] = { p("%s/shop", dir), "wait", NULL };
	char *flagged[] = { p("%s/shop", dir), "wait", "-XX:+ExtendedDTraceProbes", NULL };
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[3];

	(void)state;
	pids[0] = fx_start_argv(plain);
	pids[1] = fx_start_argv(flagged);
	setenv("JAVA_TOOL_OPTIONS", "-Xmx64m -XX:+DTraceMethodProbes", 1);
	pids[2] = fx_start_argv(plain);
	unsetenv("JAVA_TOOL_OPTIONS");
	assert_true(pids[0] > 0 && pids[1] > 0 && pids[2] > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "orders", NULL, NULL, pids, 3, 2, 3);
	add_lang(&t, 0, "place", FF_PROBE_JAVA, "com.example.Orders::place", 4);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	fx_stop(pids[1]);
	fx_stop(pids[2]);
	/* Only the first lacks the option; none of these processes is a JVM. */
	assert_int_equal(res.n_errors, 4);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: orders.place: pid %d (%s/shop) runs without "
			      "-XX:+ExtendedDTraceProbes: HotSpot fires its method__entry/method__return "
			      "probes only when the JVM starts with that option (or "
			      "-XX:+DTraceMethodProbes); restart it with the option, e.g. in "
			      "JAVA_TOOL_OPTIONS", pids[0], dir));
	for (int i = 0; i < 3; i++)
		assert_string_equal(res.problems[1 + i],
				    p("flows.yaml:4:7: orders.place: library libjvm.so is not mapped "
				      "by pid %d (%s/shop)", pids[i], dir));
	resolution_free(&res);
}

static void test_java_jvm_without_process(void **state)
{
	const char *java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	if (access(java, X_OK) != 0)
		skip(); /* openjdk-17-jre-headless */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "orders", java, "no-such-comm", NULL, 0, 2, 3);
	add_lang(&t, 0, "place", FF_PROBE_JAVA, "com.example.Orders::place", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].kind, PROBE_JAVA_ENTRY);
	assert_string_equal(res.sites[0].symbol, "hotspot:method__entry");
	assert_string_equal(res.sites[0].binary,
			    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so");
	assert_int_equal(res.sites[0].ref_ctr_offset, 0);
	assert_int_equal(res.sites[1].kind, PROBE_JAVA_RETURN);
	assert_int_equal(res.n_problems, 2);
	assert_string_equal(res.problems[0],
			    "flows.yaml:4:7: note: orders.place: no JVM of bundle orders is running: it "
			    "must start with -XX:+ExtendedDTraceProbes for its methods to be seen");
	assert_string_equal(res.problems[1],
			    "flows.yaml:4:7: note: orders.place: no process of bundle orders is "
			    "running: /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so is probed "
			    "in every process that uses it");
	resolution_free(&res);
}

static void test_allow_missing_collects_everything(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	struct ff_handler *h;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkot", NULL, 4, 7);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 5, 7);
	add_handler(&t, 0, "price", "prize_*", NULL, 6, 7);
	h = add_handler(&t, 0, "py", NULL, NULL, 7, 7);
	h->kind = FF_PROBE_PYTHON;
	h->pattern = "app.py:run";
	add_bundle(&t, "gone", "/nonexistent/gone", NULL, NULL, 0, 9, 3);
	add_handler(&t, 1, "x", "x", NULL, 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_string_equal(res.sites[0].symbol, "shop_browse");
	assert_int_equal(res.n_errors, 4);
	assert_int_equal(res.n_problems, 4);
	assert_string_equal(res.problems[0], "flows.yaml:9:3: bundle gone: exe /nonexistent/gone: "
					     "No such file or directory");
	assert_string_equal(res.problems[1],
			    p("flows.yaml:4:7: shop.checkout: symbol 'shop_checkot' not found in "
			      "%s/shop; closest: shop_checkout, shop_check", dir));
	assert_string_equal(res.problems[2],
			    p("flows.yaml:6:7: shop.price: no symbol matches 'prize_*' in %s/shop; "
			      "closest: price_base, price_discount", dir));
	assert_string_equal(res.problems[3],
			    p("flows.yaml:7:7: shop.py: %s/shop has no CPython USDT probes "
			      "(python:function__entry): this Python was built without --with-dtrace "
			      "(Debian's /usr/bin/python3 has them)", dir));
	for (int i = 0; i < 4; i++)
		assert_int_equal(res.problem_kinds[i], PROBLEM_ERROR);
	resolution_free(&res);
}

static void test_binary_opened_once(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	unsigned long opened;
	pid_t kids[3];
	int i;

	(void)state;
	/* Three processes of one executable, two handlers: six sites, one binary. */
	for (i = 0; i < 3; i++) {
		kids[i] = fx_start_waiting(p("%s/shop", dir));
		assert_true(kids[i] > 0);
	}
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 5, 7);
	opts.pids = kids;
	opts.n_pids = 3;
	opened = elf_files_opened;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(elf_files_opened - opened, 1);
	for (i = 0; i < 3; i++)
		fx_stop(kids[i]);
	assert_int_equal(res.n_sites, 6);
	assert_int_equal(res.bundles[0].n_pids, 3);
	for (i = 0; i < 6; i++) {
		assert_true(res.sites[i].pid == kids[0] || res.sites[i].pid == kids[1] ||
			    res.sites[i].pid == kids[2]);
		assert_string_equal(res.sites[i].binary, p("%s/shop", dir));
	}
	resolution_free(&res);
}

static void test_other_mount_namespace(void **state)
{
	char *argv[] = { "unshare", "-m", "--propagation", "private", p("%s/shop", dir), "wait", NULL };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1];

	(void)state;
	pids[0] = fx_start_argv(argv);
	if (pids[0] <= 0)
		skip(); /* no CAP_SYS_ADMIN for a new mount namespace here */
	/* A pid bundle: its files are reached through /proc/PID/root. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_string_equal(res.sites[0].binary, p("/proc/%d/root%s/shop", pids[0], dir));
	assert_int_equal(res.sites[0].pid, pids[0]);
	assert_string_equal(res.sites[1].binary, p("/proc/%d/root%s/libshopdb.so", pids[0], dir));
	assert_string_equal(res.bundles[0].binary, p("/proc/%d/root%s/shop", pids[0], dir));
	resolution_free(&res);

	/* An exe bundle finds it by inode, whatever its mount namespace. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], pids[0]);
	resolution_free(&res);
}

static void test_ifunc_warns(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "pick", "shop_pick", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: warning: shop.pick: 'shop_pick' in %s/shop is an IFUNC: "
			      "the probe sits on its resolver, which runs once at load, not on the "
			      "implementation it picks", dir));
	resolution_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_bundle_is_every_process),
		cmocka_unit_test(test_missing_symbol_names_closest),
		cmocka_unit_test(test_missing_exe),
		cmocka_unit_test(test_exe_not_elf),
		cmocka_unit_test(test_pid_that_does_not_exist),
		cmocka_unit_test(test_pid_bundle),
		cmocka_unit_test(test_exe_by_symlink_finds_the_same_processes),
		cmocka_unit_test(test_p_restricts_every_bundle),
		cmocka_unit_test(test_comm_bundle),
		cmocka_unit_test(test_library_of_running_process),
		cmocka_unit_test(test_library_without_process_uses_runpath),
		cmocka_unit_test(test_stripped_library_says_so),
		cmocka_unit_test(test_aliases_attached_once),
		cmocka_unit_test(test_cxx_glob),
		cmocka_unit_test(test_usdt_pair),
		cmocka_unit_test(test_usdt_errors),
		cmocka_unit_test(test_python_handler),
		cmocka_unit_test(test_python_errors),
		cmocka_unit_test(test_java_needs_the_flag),
		cmocka_unit_test(test_java_jvm_without_process),
		cmocka_unit_test(test_allow_missing_collects_everything),
		cmocka_unit_test(test_binary_opened_once),
		cmocka_unit_test(test_other_mount_namespace),
		cmocka_unit_test(test_ifunc_warns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
