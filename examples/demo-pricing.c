/* SPDX-License-Identifier: MIT */
/*
 * demo-pricing: the CPU-bound service of the demo shop.
 *
 *   QUOTE item=17 qty=2                 ->  OK cents=3090
 *   QUOTE item=17 qty=2 coupon=SPRING   ->  OK cents=2781 discount=10
 *
 * A quote evaluates the item's price model, then runs every pricing rule
 * (price_rule_*). A quote with a coupon (the gateway's checkout sends one)
 * also verifies and applies it. It is all arithmetic: no I/O, no locks, so
 * each handler's time is on-CPU time.
 *
 *   demo-pricing --listen SOCKET [--workers N]
 */
#include "demo.h"

#include <getopt.h>

#define PROG "demo-pricing"

/* The CPU work of a pricing engine (model evaluation, rule tables), stood in
 * for by rounds of integer mixing: one round is a dependent multiply chain
 * of a couple of ns. The result feeds the price, so the compiler keeps it.
 * OPAQUE, like a call into a library: its callers save registers as usual,
 * so each handler starts with a push, which the kernel's uprobe emulates
 * cheaply, instead of a register move it would have to single-step. */
OPAQUE static uint64_t crunch(uint64_t x, long rounds)
{
	for (long i = 0; i < rounds; i++) {
		x ^= x >> 31;
		x *= 0x9e3779b97f4a7c15ull;
		x ^= (uint64_t)i;
	}
	return x;
}

/* Value-added tax on the line. */
HANDLER long price_rule_tax(long cents, int item)
{
	uint64_t h = crunch((uint64_t)item, 15000);

	return cents + cents * 19 / 100 + (long)(h & 1);
}

/* 5% off from ten units. */
HANDLER long price_rule_bulk(long cents, int qty)
{
	uint64_t h = crunch((uint64_t)qty, 10000);

	return (qty >= 10 ? cents * 95 / 100 : cents) + (long)(h & 1);
}

/* Seasonal adjustment from the item's sales history. */
HANDLER long price_rule_season(long cents, int item)
{
	uint64_t h = crunch((uint64_t)item + 1000003, 25000);

	return cents + cents * (long)(h % 7) / 100;
}

/* Verifies the coupon (a keyed hash over its code, the CPU-heavy part) and
 * applies it. Returns the discount in percent, 0 for an unknown coupon. */
HANDLER int price_apply_discount(long *cents, const char *coupon)
{
	static const struct { const char *code; int percent; } coupons[] = {
		{ "SPRING", 10 }, { "LOYAL", 5 }, { "WELCOME", 15 },
	};
	uint64_t h = 0;
	int percent = 0;

	for (const char *c = coupon; *c; c++)
		h = crunch(h ^ (uint64_t)*c, 6000);
	for (size_t i = 0; i < sizeof(coupons) / sizeof(coupons[0]); i++)
		if (strcmp(coupon, coupons[i].code) == 0)
			percent = coupons[i].percent;
	*cents = *cents * (100 - percent) / 100 + (long)(h & 1);
	return percent;
}

/* Price of qty units of item, in cents. */
HANDLER long price_quote(int item, int qty, const char *coupon, int *discount)
{
	uint64_t model = crunch((uint64_t)item, 50000);
	long cents = (long)(500 + (model % 9500)) * qty;

	cents = price_rule_tax(cents, item);
	cents = price_rule_bulk(cents, qty);
	cents = price_rule_season(cents, item);
	*discount = coupon ? price_apply_discount(&cents, coupon) : 0;
	return cents;
}

static void pricing_serve(const char *request, char *reply, size_t size)
{
	char coupon[32];
	long item = field_long(request, "item", -1), qty = field_long(request, "qty", -1);
	bool has_coupon = field(request, "coupon", coupon, sizeof(coupon)) == 0;
	int discount;
	long cents;

	if (strncmp(request, "QUOTE ", 6) != 0 || item < 1 || item > 100000 || qty < 1 || qty > 100) {
		snprintf(reply, size, "ERR bad request");
		return;
	}
	cents = price_quote((int)item, (int)qty, has_coupon ? coupon : NULL, &discount);
	if (has_coupon)
		snprintf(reply, size, "OK cents=%ld discount=%d", cents, discount);
	else
		snprintf(reply, size, "OK cents=%ld", cents);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server srv = { .prog = PROG, .workers = 2, .serve = pricing_serve };
	int opt;

	while ((opt = getopt_long(argc, argv, "l:w:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': srv.path = optarg; break;
		case 'w': srv.workers = parse_positive(PROG, "--workers", optarg); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: %s --listen SOCKET [--workers N]   (default: 2 workers)\n", PROG);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!srv.path || optind != argc)
		die(PROG, "usage: %s --listen SOCKET [--workers N]", PROG);
	return server_run(&srv);
}
