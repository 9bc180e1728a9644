/* SPDX-License-Identifier: MIT */
/*
 * demo-store: the inventory service of the demo shop, which mostly waits.
 *
 *   RESERVE item=17 qty=2                      ->  OK left=999998
 *   PERSIST user=3 item=17 qty=2 cents=2781    ->  OK order=1042
 *
 * Reserving asks the stock database to take the units: here an in-memory
 * table, and a 1 ms sleep standing in for the database's round trip.
 * Persisting appends the order to a journal file and fdatasync()s it, a real
 * disk write. Both handlers spend their time off-CPU.
 *
 *   demo-store --listen SOCKET --journal FILE [--workers N]
 */
#include "demo.h"

#include <fcntl.h>
#include <getopt.h>

#define PROG "demo-store"
#define ITEMS 1000
#define INITIAL_STOCK 1000000
#define DB_ROUND_TRIP_NS 1000000

static struct {
	pthread_mutex_t lock;
	long units[ITEMS + 1];
} stock = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int journal_fd = -1;
static atomic_long next_order = 1000;

/* Takes qty units of item. Returns the units left, or -1 when out of stock. */
HANDLER long store_reserve(int item, int qty)
{
	long left = -1;

	sleep_ns(DB_ROUND_TRIP_NS);
	pthread_mutex_lock(&stock.lock);
	if (stock.units[item] >= qty) {
		stock.units[item] -= qty;
		left = stock.units[item];
	}
	pthread_mutex_unlock(&stock.lock);
	return left;
}

/* Writes the order durably. Returns its number, or -1 on an I/O error. */
HANDLER long store_persist(int user, int item, int qty, long cents)
{
	long order = next_order++;
	char line[128];
	int len = snprintf(line, sizeof(line), "order=%ld user=%d item=%d qty=%d cents=%ld\n",
			   order, user, item, qty, cents);

	/* O_APPEND makes each small write land whole, so workers need no lock. */
	if (write(journal_fd, line, (size_t)len) != len || fdatasync(journal_fd) < 0)
		return -1;
	return order;
}

static void store_serve(const char *request, char *reply, size_t size)
{
	long item = field_long(request, "item", -1), qty = field_long(request, "qty", -1);
	long user = field_long(request, "user", 0), cents = field_long(request, "cents", -1);

	if (item < 1 || item > ITEMS || qty < 1 || qty > 100) {
		snprintf(reply, size, "ERR bad request");
	} else if (strncmp(request, "RESERVE ", 8) == 0) {
		long left = store_reserve((int)item, (int)qty);

		if (left < 0)
			snprintf(reply, size, "ERR out of stock");
		else
			snprintf(reply, size, "OK left=%ld", left);
	} else if (strncmp(request, "PERSIST ", 8) == 0 && cents >= 0) {
		long order = store_persist((int)user, (int)item, (int)qty, cents);

		if (order < 0)
			snprintf(reply, size, "ERR journal: %s", strerror(errno));
		else
			snprintf(reply, size, "OK order=%ld", order);
	} else {
		snprintf(reply, size, "ERR bad request");
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "journal", required_argument, NULL, 'j' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server srv = { .prog = PROG, .workers = 4, .serve = store_serve };
	const char *journal = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "l:j:w:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': srv.path = optarg; break;
		case 'j': journal = optarg; break;
		case 'w': srv.workers = parse_positive(PROG, "--workers", optarg); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: %s --listen SOCKET --journal FILE [--workers N]   (default: 4 workers)\n",
				PROG);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!srv.path || !journal || optind != argc)
		die(PROG, "usage: %s --listen SOCKET --journal FILE [--workers N]", PROG);

	journal_fd = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (journal_fd < 0)
		die(PROG, "%s: %s", journal, strerror(errno));
	for (int i = 1; i <= ITEMS; i++)
		stock.units[i] = INITIAL_STOCK;
	return server_run(&srv);
}
