/* SPDX-License-Identifier: MIT */
/*
 * demo-load: drives demo-gateway with concurrent clients and measures, from
 * the client's side, what a load-testing tool would: throughput, and latency
 * per request type. Its summary is the reference to hold flowprof's figures
 * against.
 *
 * Each client sends one request at a time on a fresh connection: a browse,
 * or with probability 1/(B+1) for --mix B:1 a checkout. Without --rate the
 * clients send back to back (a closed loop); with --rate they pace
 * themselves to that many requests per second in all.
 *
 *   demo-load --gateway SOCKET [--clients N] [--duration S] [--rate R] [--mix B:1]
 *
 * It stops after --duration seconds, or early on SIGTERM or SIGINT, and
 * prints its summary either way. Exit status 1 when any request failed.
 */
#include "demo.h"

#include <getopt.h>
#include <math.h>

#define PROG "demo-load"

enum { BROWSE, CHECKOUT, KINDS };
static const char *const kind_names[KINDS] = { "browse", "checkout" };
static const char *const coupons[] = { "SPRING", "LOYAL", "WELCOME", "EXPIRED" };

struct latencies {
	uint64_t *ns;
	size_t len, cap;
};

struct client {
	pthread_t thread;
	int id;
	uint64_t rng;
	struct latencies lat[KINDS];
	unsigned long errors;
};

static const char *gateway_path;
static int browse_per_checkout = 3;
static double rate_per_client;   /* requests/s, 0: back to back */
static uint64_t deadline_ns;
static volatile sig_atomic_t stop_requested;
static atomic_int errors_shown;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static void record(struct latencies *l, uint64_t ns)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->ns = realloc(l->ns, l->cap * sizeof(*l->ns));
		if (!l->ns)
			die(PROG, "out of memory");
	}
	l->ns[l->len++] = ns;
}

static bool should_stop(void)
{
	return stop_requested || now_ns() >= deadline_ns;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	uint64_t interval = rate_per_client > 0 ? (uint64_t)(1e9 / rate_per_client) : 0;
	/* Spread the clients' first sends over one interval. */
	uint64_t next_send = now_ns() + (interval ? next_random(&c->rng) % interval : 0);
	char request[LINE_MAX_LEN], reply[LINE_MAX_LEN];

	while (!should_stop()) {
		int kind = next_random(&c->rng) % (uint64_t)(browse_per_checkout + 1) == 0 ? CHECKOUT : BROWSE;
		int user = 1 + (int)(next_random(&c->rng) % 5000);
		int item = 1 + (int)(next_random(&c->rng) % 1000);
		uint64_t start;
		int rc;

		if (interval) {
			uint64_t now = now_ns();

			if (next_send > now)
				sleep_ns(next_send - now);
			next_send += interval;
			if (should_stop())
				break;
		}
		if (kind == BROWSE)
			snprintf(request, sizeof(request), "BROWSE user=%d item=%d", user, item);
		else
			snprintf(request, sizeof(request), "CHECKOUT user=%d item=%d qty=%d coupon=%s",
				 user, item, 1 + (int)(next_random(&c->rng) % 3),
				 coupons[next_random(&c->rng) % 4]);

		start = now_ns();
		rc = call_service(gateway_path, request, reply, sizeof(reply));
		if (rc == 0 && strncmp(reply, "OK", 2) == 0) {
			record(&c->lat[kind], now_ns() - start);
			continue;
		}
		c->errors++;
		if (++errors_shown <= 3)   /* the first few say what is wrong */
			fprintf(stderr, "%s: client %d: %s: %s\n", PROG, c->id, request,
				rc < 0 ? strerror(errno) : reply);
		sleep_ns(10000000);   /* do not spin on a gateway that is down */
	}
	return NULL;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile_ms(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	return sorted[rank ? rank - 1 : 0] / 1e6;
}

/* Prints the summary and returns the number of failed requests. */
static unsigned long print_summary(struct client *clients, int n, double seconds)
{
	struct latencies all[KINDS] = { 0 };
	unsigned long errors = 0;
	size_t total = 0;

	for (int k = 0; k < KINDS; k++) {
		for (int i = 0; i < n; i++) {
			struct latencies *l = &clients[i].lat[k];

			for (size_t j = 0; j < l->len; j++)
				record(&all[k], l->ns[j]);
		}
		total += all[k].len;
	}
	for (int i = 0; i < n; i++)
		errors += clients[i].errors;

	printf("%s: %d clients for %.1f s: %zu requests, %.1f/s, %lu errors\n", PROG, n, seconds,
	       total, (double)total / seconds, errors);
	for (int k = 0; k < KINDS; k++) {
		struct latencies *l = &all[k];
		double sum = 0;

		if (l->len == 0) {
			printf("  %-9s %7d requests\n", kind_names[k], 0);
			continue;
		}
		qsort(l->ns, l->len, sizeof(*l->ns), compare_u64);
		for (size_t j = 0; j < l->len; j++)
			sum += (double)l->ns[j];
		printf("  %-9s %7zu requests %8.1f/s   mean %6.3f ms   p50 %6.3f ms   p99 %6.3f ms\n",
		       kind_names[k], l->len, (double)l->len / seconds, sum / (double)l->len / 1e6,
		       percentile_ms(l->ns, l->len, 50), percentile_ms(l->ns, l->len, 99));
		free(l->ns);
	}
	return errors;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "mix", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char usage[] =
		"--gateway SOCKET [--clients N] [--duration S] [--rate R] [--mix B:1]\n"
		"  defaults: 8 clients, 10 s, back to back (no --rate), --mix 3:1 (browse:checkout)";
	struct sigaction sa = { .sa_handler = on_stop_signal };
	int nclients = 8, duration_s = 10, rate = 0, probe_fd, opt;
	unsigned long errors;
	struct client *clients;
	uint64_t start;

	while ((opt = getopt_long(argc, argv, "g:c:d:r:m:h", options, NULL)) != -1) {
		switch (opt) {
		case 'g': gateway_path = optarg; break;
		case 'c': nclients = parse_positive(PROG, "--clients", optarg); break;
		case 'd': duration_s = parse_positive(PROG, "--duration", optarg); break;
		case 'r': rate = parse_positive(PROG, "--rate", optarg); break;
		case 'm':
			if (sscanf(optarg, "%d:1", &browse_per_checkout) != 1 || browse_per_checkout < 0)
				die(PROG, "--mix: expected B:1 (browses per checkout), got '%s'", optarg);
			break;
		default:
			fprintf(opt == 'h' ? stdout : stderr, "Usage: %s %s\n", PROG, usage);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!gateway_path || optind != argc)
		die(PROG, "usage: %s %s", PROG, usage);

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rate_per_client = rate ? (double)rate / nclients : 0;
	clients = calloc((size_t)nclients, sizeof(*clients));
	if (!clients)
		die(PROG, "out of memory");

	/* Say so at once when the gateway is not there, rather than per request. */
	probe_fd = connect_unix(gateway_path);
	if (probe_fd < 0)
		die(PROG, "cannot reach the gateway at %s: %s", gateway_path, strerror(errno));
	close(probe_fd);

	start = now_ns();
	deadline_ns = start + (uint64_t)duration_s * 1000000000ull;
	for (int i = 0; i < nclients; i++) {
		clients[i].id = i;
		clients[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		if (pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) != 0)
			die(PROG, "cannot start client %d", i);
	}
	for (int i = 0; i < nclients; i++)
		pthread_join(clients[i].thread, NULL);

	errors = print_summary(clients, nclients, (double)(now_ns() - start) / 1e9);
	for (int i = 0; i < nclients; i++)
		for (int k = 0; k < KINDS; k++)
			free(clients[i].lat[k].ns);
	free(clients);
	return errors ? 1 : 0;
}
