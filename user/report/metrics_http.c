// SPDX-License-Identifier: MIT
/*
 * The HTTP endpoint of the metrics (metrics.h), on libmicrohttpd with its
 * own polling thread: one thread answers every request in turn, so the
 * endpoint never takes more than one CPU, and at most MAX_CONNECTIONS
 * connections are open at once.
 *
 * A request collects afresh (reads the maps, builds the model's window,
 * renders) only when the last collection is at least --min-interval old;
 * otherwise it gets that collection's text again. A flood of requests
 * thus costs one collection per interval plus the sending of bytes, and
 * Prometheus, scraping more slowly than the interval, always gets fresh
 * counters. With --token-file, a request without the token is answered 401
 * before anything is collected.
 *
 * libmicrohttpd is loaded (dlopen) when the first server starts, not
 * linked: it brings GnuTLS and seven more libraries, 2.4 MiB of RSS that
 * every other flowprof (record without --listen, report, ...) would map.
 */
#include "metrics.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/base.h"
#include "metrics_auth.h"
#include "metrics_listen.h"

/* A few scrapers (an HA pair of Prometheus, a curl) need a handful; the
 * rest of the limit leaves room for a burst without letting a client hold
 * the endpoint with idle connections (each is closed after IDLE_TIMEOUT_S). */
#define MAX_CONNECTIONS 32U
#define MAX_PER_CLIENT 16U
#define IDLE_TIMEOUT_S 10U

/* libmicrohttpd's soname since 0.9.x (Debian 12: libmicrohttpd12); the
 * development symlink as a second chance. */
static const char *const mhd_libs[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };

static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_create_response_from_buffer_with_free_callback_cls) *create_response_shared;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_is_feature_supported) *is_feature_supported;
} mhd;

/* Loads libmicrohttpd once (servers start from the main thread). Returns 0,
 * or -1 with the loader's reason in err. */
static int load_mhd(char *err, size_t errlen)
{
	void *h;

	if (mhd.start_daemon)
		return 0;
	h = dlopen(mhd_libs[0], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libmicrohttpd: %s", dlerror());
		h = dlopen(mhd_libs[1], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return -1;
	}
#define SYM(f, name)                                                                        \
	if (!(*(void **)&mhd.f = dlsym(h, name))) {                                         \
		snprintf(err, errlen, "libmicrohttpd has no %s (0.9.73 or later needed): %s", \
			 name, dlerror());                                                  \
		goto fail;                                                                  \
	}
	SYM(stop_daemon, "MHD_stop_daemon");
	SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
	SYM(create_response_shared, "MHD_create_response_from_buffer_with_free_callback_cls");
	SYM(add_response_header, "MHD_add_response_header");
	SYM(queue_response, "MHD_queue_response");
	SYM(destroy_response, "MHD_destroy_response");
	SYM(lookup_connection_value, "MHD_lookup_connection_value");
	SYM(is_feature_supported, "MHD_is_feature_supported");
	SYM(start_daemon, "MHD_start_daemon"); /* last: it says the table is complete */
#undef SYM
	return 0; /* stays loaded: the handle is never closed */
fail:
	memset(&mhd, 0, sizeof(mhd));
	dlclose(h);
	return -1;
}

/* One rendered exposition, shared by the cache and the responses still
 * sending it: freed by whichever lets go last. */
struct body {
	atomic_int refs;
	size_t len;
	char *text;
};

static struct body *body_new(char *text)
{
	struct body *b = xcalloc(1, sizeof(*b));

	atomic_init(&b->refs, 1);
	b->text = text;
	b->len = strlen(text);
	return b;
}

static void body_unref(void *cls)
{
	struct body *b = cls;

	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->text);
		free(b);
	}
}

/* The last collection: its snapshot (to render the other format when a
 * scraper asks for it) and its texts, rendered when first asked for. */
struct cache {
	bool valid;
	uint64_t at_ns;
	struct snapshot s;
	struct metrics_extra x;
	struct body *text[2];	/* by enum metrics_format */
};

struct metrics_server {
	struct MHD_Daemon *daemon;
	int fd;
	metrics_collect_fn collect;
	metrics_release_fn release;
	void *ctx;
	uint64_t min_interval_ns;
	char *token;		/* NULL: no token needed */
	char *tls_cert, *tls_key;
	pthread_mutex_t lock;	/* the cache; one collection at a time */
	struct cache cache;
	atomic_ullong scrapes;
	atomic_ullong collections;
	char url[128];
	char start_error[256];	/* libmicrohttpd's last word while starting */
	atomic_bool started;
};

/* libmicrohttpd's messages: kept while the daemon starts (a certificate
 * GnuTLS refuses says why there), then only with -v (a client's broken
 * handshake is not flowprof's error). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics_server *srv = cls;
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	if (!atomic_load(&srv->started))
		snprintf(srv->start_error, sizeof(srv->start_error), "%s", msg);
	else
		log_debug("metrics endpoint: %s", msg);
}

static void cache_clear(struct metrics_server *srv)
{
	struct cache *c = &srv->cache;

	if (c->valid && srv->release)
		srv->release(srv->ctx, &c->x);
	snapshot_free(&c->s);
	for (int f = 0; f < 2; f++)
		body_unref(c->text[f]);
	memset(c, 0, sizeof(*c));
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status,
			     struct MHD_Response *r, const char *type)
{
	enum MHD_Result ok;

	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ok = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ok;
}

/* A short text answer (static text, copied). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *text,
			     const char *type)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);

	if (r && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return queue(c, status, r, type);
}

static enum MHD_Result unauthorized(struct MHD_Connection *c, bool had_header)
{
	struct MHD_Response *r;
	static const char text[] = "flowprof: this endpoint needs its bearer token "
				   "(Authorization: Bearer TOKEN)\n";

	r = mhd.create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r)
		mhd.add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					had_header ? "Bearer realm=\"flowprof\", error=\"invalid_token\""
						   : "Bearer realm=\"flowprof\"");
	return queue(c, MHD_HTTP_UNAUTHORIZED, r, "text/plain; charset=utf-8");
}

/* A fresh collection into the cache, unless the cached one is recent
 * enough. Returns 0, or -1 when the maps cannot be read (503). */
static int refresh(struct metrics_server *srv)
{
	struct cache *c = &srv->cache;
	uint64_t now = now_ns();

	if (c->valid && now - c->at_ns < srv->min_interval_ns)
		return 0;
	cache_clear(srv);
	if (srv->collect(srv->ctx, &c->s, &c->x)) {
		if (srv->release)
			srv->release(srv->ctx, &c->x);
		snapshot_free(&c->s);
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->x.collections = atomic_fetch_add(&srv->collections, 1) + 1;
	c->at_ns = now;
	c->valid = true;
	return 0;
}

static enum MHD_Result serve_metrics(struct metrics_server *srv, struct MHD_Connection *c)
{
	const char *accept = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	enum metrics_format fmt = metrics_negotiate(accept);
	struct body *b = NULL;
	struct MHD_Response *r;

	pthread_mutex_lock(&srv->lock);
	if (!refresh(srv)) {
		if (!srv->cache.text[fmt])
			srv->cache.text[fmt] = body_new(metrics_render(&srv->cache.s, &srv->cache.x,
								       fmt));
		b = srv->cache.text[fmt];
		atomic_fetch_add(&b->refs, 1);
	}
	pthread_mutex_unlock(&srv->lock);
	if (!b)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			     "flowprof: cannot read the BPF maps now\n", "text/plain");
	atomic_fetch_add(&srv->scrapes, 1);
	/* No copy of a large text per request: the response holds a reference. */
	r = mhd.create_response_shared(b->len, b->text, body_unref, b);
	if (!r)
		body_unref(b);
	return queue(c, MHD_HTTP_OK, r, metrics_content_type(fmt));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct metrics_server *srv = cls;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size)
		return MHD_NO; /* no request body is expected: drop the connection */
	if (srv->token) {
		const char *auth = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_AUTHORIZATION);

		if (!metrics_bearer_ok(auth, srv->token))
			return unauthorized(c, auth != NULL);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", "text/plain");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(srv, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK,
			     "<!doctype html><title>flowprof</title>"
			     "<p>flowprof: <a href=\"/metrics\">/metrics</a></p>\n",
			     "text/html; charset=utf-8");
	return reply(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", "text/plain");
}

/* Reads the token and the certificate and key of e into srv. Returns 0, or
 * -1 with err set. */
static int load_secrets(struct metrics_server *srv, const struct metrics_endpoint *e,
			char *err, size_t errlen)
{
	if (!e->tls_cert != !e->tls_key) {
		snprintf(err, errlen, "%s: TLS needs both --tls-cert FILE and --tls-key FILE",
			 e->tls_cert ? "--tls-cert" : "--tls-key");
		return -1;
	}
	if (e->tls_cert) {
		srv->tls_cert = metrics_pem_load("--tls-cert", e->tls_cert, "a certificate", err,
						 errlen);
		if (!srv->tls_cert)
			return -1;
		srv->tls_key = metrics_pem_load("--tls-key", e->tls_key, "a private key", err,
						errlen);
		if (!srv->tls_key)
			return -1;
	}
	if (e->token_file) {
		srv->token = metrics_token_load(e->token_file, err, errlen);
		if (!srv->token)
			return -1;
	}
	return 0;
}

static void server_free(struct metrics_server *srv)
{
	if (srv->fd >= 0 && !srv->daemon)
		close(srv->fd);
	cache_clear(srv);
	metrics_secret_free(srv->token);
	metrics_secret_free(srv->tls_cert);
	metrics_secret_free(srv->tls_key);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

struct metrics_server *metrics_server_start(const struct metrics_endpoint *e,
					    metrics_collect_fn collect, metrics_release_fn release,
					    void *ctx, char *err, size_t errlen)
{
	struct metrics_server *srv = xcalloc(1, sizeof(*srv));
	struct metrics_listener l;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	char why[512];

	srv->fd = -1;
	srv->collect = collect;
	srv->release = release;
	srv->ctx = ctx;
	srv->min_interval_ns = (uint64_t)(e->min_interval_s * 1e9);
	pthread_mutex_init(&srv->lock, NULL);
	if (load_secrets(srv, e, err, errlen))
		goto fail;
	/* Bound before libmicrohttpd loads: a busy port says so first. */
	if (metrics_listen_open(e->listen, e->allow_remote, &l, err, errlen))
		goto fail;
	srv->fd = l.fd;
	if (load_mhd(why, sizeof(why))) {
		snprintf(err, errlen, "--listen %s: %s", e->listen, why);
		goto fail;
	}
	if (srv->tls_cert && mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "--tls-cert: this libmicrohttpd was built without TLS "
			 "(Debian's libmicrohttpd12 has it, with GnuTLS)");
		goto fail;
	}
	if (!l.loopback && (!srv->tls_cert || !srv->token))
		log_warn("--listen %s: serving other hosts%s%s: anyone who can reach the port "
			 "can read the metrics%s", e->listen,
			 srv->tls_cert ? "" : " in clear text", srv->token ? "" : " without a token",
			 srv->token ? "" : " (--token-file)");
	if (l.ipv6)
		flags |= MHD_USE_IPv6;
	if (srv->tls_cert)
		flags |= MHD_USE_TLS;
	/* MHD_OPTION_EXTERNAL_LOGGER first, so that start-up errors reach it;
	 * the certificate options only with TLS (libmicrohttpd refuses them
	 * otherwise): an empty key stands for "no option" after END. */
	srv->daemon = mhd.start_daemon(flags, 0, NULL, NULL, on_request, srv,
				       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
				       MHD_OPTION_LISTEN_SOCKET, srv->fd,
				       MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
				       MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
				       MHD_OPTION_PER_IP_CONNECTION_LIMIT, MAX_PER_CLIENT,
				       srv->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				       srv->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		if (srv->tls_cert)
			snprintf(err, errlen, "--tls-cert %s --tls-key %s: TLS could not start "
				 "(%s): expected a PEM certificate and the unencrypted private key "
				 "that belongs to it", e->tls_cert, e->tls_key,
				 srv->start_error[0] ? srv->start_error : strerror(errno));
		else
			snprintf(err, errlen, "--listen %s: libmicrohttpd could not start: %s",
				 e->listen, srv->start_error[0] ? srv->start_error : strerror(errno));
		goto fail;
	}
	atomic_store(&srv->started, true);
	snprintf(srv->url, sizeof(srv->url), "%s://%s%s%s:%u/metrics",
		 srv->tls_cert ? "https" : "http", l.ipv6 ? "[" : "", l.addr, l.ipv6 ? "]" : "",
		 l.port);
	return srv;

fail:
	server_free(srv);
	return NULL;
}

const char *metrics_server_url(const struct metrics_server *srv)
{
	return srv->url;
}

uint64_t metrics_server_scrapes(const struct metrics_server *srv)
{
	return atomic_load(&srv->scrapes);
}

uint64_t metrics_server_collections(const struct metrics_server *srv)
{
	return atomic_load(&srv->collections);
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	mhd.stop_daemon(srv->daemon); /* closes the listening socket too */
	server_free(srv);
}
