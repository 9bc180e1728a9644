/* SPDX-License-Identifier: MIT */
/*
 * demo-gateway: the front door of the demo shop.
 *
 *   BROWSE user=3 item=17                        ->  OK item=17 cents=1545
 *   CHECKOUT user=3 item=17 qty=2 coupon=SPRING  ->  OK order=1042 cents=2781
 *
 * A browse asks demo-pricing for a quote. A checkout asks demo-pricing for a
 * quote with the coupon, then demo-store to reserve the stock and to persist
 * the order. Each backend call is a synchronous round trip made by the
 * worker thread itself, so a worker is busy (mostly waiting) until the whole
 * request is done.
 *
 *   demo-gateway --listen SOCKET --pricing SOCKET --store SOCKET [--workers N]
 */
#include "demo.h"

#include <getopt.h>

#define PROG "demo-gateway"

enum request_kind { REQ_BROWSE, REQ_CHECKOUT };

struct request {
	enum request_kind kind;
	int user;
	int item;
	int qty;
	char coupon[32];
};

static const char *pricing_path;
static const char *store_path;

/* Reads the request's fields and checks them. 0, or -1 for a bad request. */
HANDLER int gw_parse_request(const char *line, struct request *req)
{
	memset(req, 0, sizeof(*req));
	if (strncmp(line, "BROWSE ", 7) == 0)
		req->kind = REQ_BROWSE;
	else if (strncmp(line, "CHECKOUT ", 9) == 0)
		req->kind = REQ_CHECKOUT;
	else
		return -1;
	req->user = (int)field_long(line, "user", 0);
	req->item = (int)field_long(line, "item", 0);
	req->qty = (int)field_long(line, "qty", 1);
	if (field(line, "coupon", req->coupon, sizeof(req->coupon)) < 0)
		req->coupon[0] = '\0';
	if (req->user < 1 || req->item < 1 || req->item > 1000 || req->qty < 1 || req->qty > 100)
		return -1;
	return 0;
}

HANDLER void gw_handle_browse(const char *line, char *reply, size_t size)
{
	struct request req;
	char call[LINE_MAX_LEN], answer[LINE_MAX_LEN];
	long cents;

	if (gw_parse_request(line, &req) < 0 || req.kind != REQ_BROWSE) {
		snprintf(reply, size, "ERR bad request");
		return;
	}
	snprintf(call, sizeof(call), "QUOTE item=%d qty=1", req.item);
	if (call_service(pricing_path, call, answer, sizeof(answer)) < 0 ||
	    (cents = field_long(answer, "cents", -1)) < 0) {
		snprintf(reply, size, "ERR pricing unavailable");
		return;
	}
	snprintf(reply, size, "OK item=%d cents=%ld", req.item, cents);
}

HANDLER void gw_handle_checkout(const char *line, char *reply, size_t size)
{
	struct request req;
	char call[LINE_MAX_LEN], answer[LINE_MAX_LEN];
	long cents, order;

	if (gw_parse_request(line, &req) < 0 || req.kind != REQ_CHECKOUT) {
		snprintf(reply, size, "ERR bad request");
		return;
	}

	snprintf(call, sizeof(call), "QUOTE item=%d qty=%d%s%s", req.item, req.qty,
		 req.coupon[0] ? " coupon=" : "", req.coupon);
	if (call_service(pricing_path, call, answer, sizeof(answer)) < 0 ||
	    (cents = field_long(answer, "cents", -1)) < 0) {
		snprintf(reply, size, "ERR pricing unavailable");
		return;
	}

	snprintf(call, sizeof(call), "RESERVE item=%d qty=%d", req.item, req.qty);
	if (call_service(store_path, call, answer, sizeof(answer)) < 0) {
		snprintf(reply, size, "ERR store unavailable");
		return;
	}
	if (strncmp(answer, "OK", 2) != 0) {
		snprintf(reply, size, "%s", answer);   /* out of stock */
		return;
	}

	snprintf(call, sizeof(call), "PERSIST user=%d item=%d qty=%d cents=%ld", req.user,
		 req.item, req.qty, cents);
	if (call_service(store_path, call, answer, sizeof(answer)) < 0 ||
	    (order = field_long(answer, "order", -1)) < 0) {
		snprintf(reply, size, "ERR order not saved");
		return;
	}
	snprintf(reply, size, "OK order=%ld cents=%ld", order, cents);
}

/* Routes a request line to its handler. */
static void gw_route(const char *line, char *reply, size_t size)
{
	if (strncmp(line, "BROWSE ", 7) == 0)
		gw_handle_browse(line, reply, size);
	else if (strncmp(line, "CHECKOUT ", 9) == 0)
		gw_handle_checkout(line, reply, size);
	else
		snprintf(reply, size, "ERR unknown request");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "pricing", required_argument, NULL, 'p' },
		{ "store", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char usage[] =
		"--listen SOCKET --pricing SOCKET --store SOCKET [--workers N]";
	struct server srv = { .prog = PROG, .workers = 4, .serve = gw_route };
	int opt;

	while ((opt = getopt_long(argc, argv, "l:p:s:w:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': srv.path = optarg; break;
		case 'p': pricing_path = optarg; break;
		case 's': store_path = optarg; break;
		case 'w': srv.workers = parse_positive(PROG, "--workers", optarg); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr, "Usage: %s %s   (default: 4 workers)\n",
				PROG, usage);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!srv.path || !pricing_path || !store_path || optind != argc)
		die(PROG, "usage: %s %s", PROG, usage);
	return server_run(&srv);
}
