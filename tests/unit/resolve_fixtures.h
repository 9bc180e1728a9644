/* SPDX-License-Identifier: MIT */
/*
 * What the unit tests of resolve_flowfile() share (test_resolve_bundles.c,
 * test_resolve_functions.c, test_resolve_runtimes.c): the shop fixture
 * (tests/fixtures/shop.c + libshopdb.c, with a copy shop-idle and a symlink
 * shop-link), probes.c and cart.cpp, built at run time into a temporary
 * directory by the group setup; flow files filled in by hand (the parser
 * has its own tests); formatted strings for the exact messages; and sites
 * in a stable order. Header-only: each test_*.c is linked on its own.
 */
#ifndef FLOWPROF_TEST_RESOLVE_FIXTURES_H
#define FLOWPROF_TEST_RESOLVE_FIXTURES_H

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

static __attribute__((unused)) int setup(void **state)
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

static __attribute__((unused)) int teardown(void **state)
{
	(void)state;
	fx_rmrf(dir);
	return 0;
}

static __attribute__((unused)) void ff_init(struct test_ff *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->ff.path = (char *)path;
	t->ff.bundles = t->bundles;
	t->ff.handlers = t->handlers;
}

static __attribute__((unused)) int add_bundle(struct test_ff *t, const char *name,
					      const char *exe, const char *comm, int *pids,
					      int n_pids, int line, int col)
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

static __attribute__((unused)) struct ff_handler *add_handler(struct test_ff *t, int bundle,
							      const char *name, const char *symbol,
							      const char *library, int line, int col)
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

static __attribute__((unused)) char *p(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static __attribute__((unused)) char *p(const char *fmt, ...)
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

static __attribute__((unused)) int site_cmp(const void *a, const void *b)
{
	const struct probe_site *x = a, *y = b;

	if (x->handler != y->handler)
		return x->handler - y->handler;
	return strcmp(x->symbol, y->symbol);
}

#endif
