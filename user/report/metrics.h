/* SPDX-License-Identifier: MIT */
/*
 * Live metrics for Prometheus and other OpenMetrics scrapers: the text
 * exposition of a snapshot (metrics.c) and the HTTP endpoint that serves it
 * (metrics_http.c, on libmicrohttpd). `flowprof serve` and
 * `flowprof record --listen` use them.
 *
 * Every family is named the Prometheus/OpenTelemetry way (flowprof_ prefix,
 * base units in the name, counters ending in _total), and carries the
 * label host; handler families add bundle and handler ("shop.checkout"),
 * flow families flow, per-process families instance (the pid). The full
 * list is in flowprof(1), section METRICS.
 */
#ifndef FLOWPROF_METRICS_H
#define FLOWPROF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

enum metrics_format {
	METRICS_PROMETHEUS,	/* text/plain; version=0.0.4 (promtool, older scrapers) */
	METRICS_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

/* Content-Type header of a format. */
const char *metrics_content_type(enum metrics_format f);

/* The format to answer an HTTP Accept header with (NULL: Prometheus text). */
enum metrics_format metrics_negotiate(const char *accept);

/*
 * Upper bounds (le) of the classic duration histogram buckets, in ns:
 * powers of two from 2^9 ns (512 ns) to 2^34 ns (17.2 s). Each is a bucket
 * boundary of flowprof's log-linear histogram (include/histogram.h), so
 * every classic bucket is an exact sum of kernel buckets. As in the kernel
 * histogram, a bucket counts the calls shorter than its bound.
 */
#define METRICS_BUCKETS 26
extern const uint64_t metrics_bucket_ns[METRICS_BUCKETS];

/* Calls of h shorter than bound_ns (a boundary of the log-linear layout). */
uint64_t metrics_calls_below(const struct snap_handler *h, uint64_t bound_ns);

/* Station figures from the model, shown as gauges when given. */
struct metrics_station {
	char *name;		/* the bundle, a serial handler, or "cpu" */
	char *bundle;		/* its bundle; NULL for the CPUs */
	double servers;
	double utilization;	/* 0..1 */
};

struct metrics_extra {
	struct metrics_station *stations;	/* owned: metrics_extra_free() */
	int n_stations;
	char *bottleneck;	/* station name, NULL when nothing is loaded */
	/* The endpoint's own collections so far, this one included (0: not
	 * served by an endpoint, no family). */
	uint64_t collections;
};

void metrics_extra_free(struct metrics_extra *x);

/*
 * The model's stations over the current window (since the start for the
 * first): the utilization gauges follow the load as it is now, not its
 * average since the start. A window closes at the first call at least
 * METRICS_MIN_WINDOW_S after it opened: with one Prometheus server
 * scraping, it is the scrape interval (or a multiple of it, for intervals
 * under METRICS_MIN_WINDOW_S); other scrapers in between do not shorten it.
 * s is the recording so far (as live_collect() gives it); x must be zeroed.
 */
#define METRICS_MIN_WINDOW_S 5.0
struct metrics_window {
	struct snapshot last;
	bool have_last;
};

void metrics_window_model(struct metrics_window *w, const struct snapshot *s,
			  struct metrics_extra *x);
void metrics_window_free(struct metrics_window *w);

/* The exposition of s (cumulative since the recording started), in format
 * f; extra may be NULL. Caller frees. */
char *metrics_render(const struct snapshot *s, const struct metrics_extra *extra,
		     enum metrics_format f);

/* ---- the HTTP endpoint (metrics_http.c) ----------------------------------- */

/* Fills a zeroed snapshot (and optionally the model's figures) for one
 * collection; extra is zeroed and may be left so. Returns 0, or -1 to answer
 * 503. Called from the server's thread, one collection at a time. */
typedef int (*metrics_collect_fn)(void *ctx, struct snapshot *s, struct metrics_extra *extra);
/* Frees what collect put into extra (may be NULL). */
typedef void (*metrics_release_fn)(void *ctx, struct metrics_extra *extra);

/* The default --min-interval: below the shortest scrape interval anyone
 * uses (1 s), so a scraper at that pace always gets a fresh collection,
 * while a flood of requests costs at most two collections a second. */
#define METRICS_MIN_INTERVAL_S 0.5

/* How the endpoint listens and whom it answers (serve and record --listen). */
struct metrics_endpoint {
	/* ADDR:PORT: "127.0.0.1:9464", "[::1]:9464", "localhost:9464", ":9464"
	 * for every address; port 0 picks a free one. */
	const char *listen;
	/* An address other hosts can reach (not loopback) is refused unless
	 * this is set (--allow-remote): the metrics name internal symbols. */
	bool allow_remote;
	/* --tls-cert, --tls-key: PEM files; HTTPS when both are given. */
	const char *tls_cert;
	const char *tls_key;
	/* --token-file: the bearer token every request must carry
	 * ("Authorization: Bearer TOKEN"); NULL: no token. */
	const char *token_file;
	/* --min-interval: requests within this many seconds of the last
	 * collection get its answer again (0: every request collects). */
	double min_interval_s;
};

struct metrics_server;

/*
 * Binds e->listen and answers GET /metrics from the collection at most
 * e->min_interval_s old (collecting afresh otherwise). On error returns
 * NULL with a message in err that names the option, e.g. "--listen
 * 127.0.0.1:9464: Address already in use", "--listen :9464: every address
 * of the host ...; add --allow-remote", "--tls-key k.pem: ...".
 */
struct metrics_server *metrics_server_start(const struct metrics_endpoint *e,
					    metrics_collect_fn collect, metrics_release_fn release,
					    void *ctx, char *err, size_t errlen);

/* "http://127.0.0.1:9464/metrics" (https with TLS), with the port bound. */
const char *metrics_server_url(const struct metrics_server *srv);

/* Requests answered with metrics so far (fresh or from the last collection). */
uint64_t metrics_server_scrapes(const struct metrics_server *srv);

/* Times the maps were read to answer them. */
uint64_t metrics_server_collections(const struct metrics_server *srv);

/* Stops listening (waits for a request in progress) and frees srv. */
void metrics_server_stop(struct metrics_server *srv);

#endif
