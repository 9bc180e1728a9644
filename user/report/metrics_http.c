// SPDX-License-Identifier: MIT
/*
 * The HTTP endpoint of the metrics (metrics.h), on libmicrohttpd with its
 * own polling thread. We bind the listening socket ourselves so that errors
 * name the address and the reason, and port 0 reports the port it got.
 * Each GET /metrics collects a fresh snapshot: nothing is cached, so two
 * scrapes never disagree with the maps.
 *
 * libmicrohttpd is loaded (dlopen) when the first server starts, not
 * linked: it brings GnuTLS and seven more libraries, 2.4 MiB of RSS that
 * every other flowprof (record without --listen, report, ...) would map.
 */
#include "metrics.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>

#include "base/base.h"

/* libmicrohttpd's soname since 0.9.x (Debian 12: libmicrohttpd12); the
 * development symlink as a second chance. */
static const char *const mhd_libs[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };

static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
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
#define SYM(f)                                                                              \
	if (!(*(void **)&mhd.f = dlsym(h, "MHD_" #f))) {                                    \
		snprintf(err, errlen, "libmicrohttpd has no MHD_" #f ": %s", dlerror());   \
		goto fail;                                                                  \
	}
	SYM(stop_daemon);
	SYM(create_response_from_buffer);
	SYM(add_response_header);
	SYM(queue_response);
	SYM(destroy_response);
	SYM(lookup_connection_value);
	SYM(start_daemon); /* last: it says the table is complete */
#undef SYM
	return 0; /* stays loaded: the handle is never closed */
fail:
	memset(&mhd, 0, sizeof(mhd));
	dlclose(h);
	return -1;
}

struct metrics_server {
	struct MHD_Daemon *daemon;
	int fd;
	metrics_collect_fn collect;
	metrics_release_fn release;
	void *ctx;
	pthread_mutex_t lock;	/* one collection at a time */
	atomic_ullong scrapes;
	char url[128];
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, char *body,
			     const char *type)
{
	struct MHD_Response *r =
		mhd.create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ok;
}

static enum MHD_Result serve_metrics(struct metrics_server *srv, struct MHD_Connection *c)
{
	const char *accept = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	enum metrics_format fmt = metrics_negotiate(accept);
	struct snapshot s = { 0 };
	struct metrics_extra x = { 0 };
	char *body;
	int e;

	pthread_mutex_lock(&srv->lock);
	e = srv->collect(srv->ctx, &s, &x);
	body = e ? NULL : metrics_render(&s, &x, fmt);
	if (srv->release)
		srv->release(srv->ctx, &x);
	pthread_mutex_unlock(&srv->lock);
	snapshot_free(&s);
	if (!body)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			     xstrdup("flowprof: cannot read the BPF maps now\n"), "text/plain");
	atomic_fetch_add(&srv->scrapes, 1);
	return reply(c, MHD_HTTP_OK, body, metrics_content_type(fmt));
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
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, xstrdup("only GET and HEAD\n"),
			     "text/plain");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(srv, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK,
			     xstrdup("<!doctype html><title>flowprof</title>"
				     "<p>flowprof: <a href=\"/metrics\">/metrics</a></p>\n"),
			     "text/html; charset=utf-8");
	return reply(c, MHD_HTTP_NOT_FOUND, xstrdup("not found: try /metrics\n"), "text/plain");
}

/* Splits "host:port", "[v6]:port" or ":port". Returns 0 or -1. */
static int split_listen(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int)(close - spec - 1), spec + 1);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
			return -1; /* no port, or a bare IPv6 address without brackets */
		snprintf(host, hlen, "%.*s", (int)(colon - spec), spec);
	}
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atol(colon + 1) > 65535)
		return -1;
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* A listening socket on spec; fills the URL with the address and the port
 * actually bound. Returns the fd, or -1 with err set. */
static int open_listener(const char *spec, bool *ipv6, char *url, size_t ulen, char *err,
			 size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8], addr[INET6_ADDRSTRLEN];
	int fd = -1, one = 1, e;

	if (split_listen(spec, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:9464, "
			 "[::1]:9464 or :9464", spec);
		return -1;
	}
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	*ipv6 = ss.ss_family == AF_INET6;
	if (*ipv6) {
		const struct sockaddr_in6 *a = (const void *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		snprintf(url, ulen, "http://[%s]:%u/metrics", addr, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		snprintf(url, ulen, "http://%s:%u/metrics", addr, ntohs(a->sin_port));
	}
	return fd;
}

struct metrics_server *metrics_server_start(const char *listen, metrics_collect_fn collect,
					    metrics_release_fn release, void *ctx, char *err,
					    size_t errlen)
{
	struct metrics_server *srv = xcalloc(1, sizeof(*srv));
	bool ipv6 = false;
	char why[512];

	srv->collect = collect;
	srv->release = release;
	srv->ctx = ctx;
	pthread_mutex_init(&srv->lock, NULL);
	srv->fd = open_listener(listen, &ipv6, srv->url, sizeof(srv->url), err, errlen);
	if (srv->fd < 0)
		goto fail;
	if (load_mhd(why, sizeof(why))) {
		snprintf(err, errlen, "--listen %s: %s", listen, why);
		close(srv->fd);
		goto fail;
	}
	srv->daemon = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (ipv6 ? MHD_USE_IPv6 : 0),
				       0, NULL, NULL, on_request, srv,
				       MHD_OPTION_LISTEN_SOCKET, srv->fd,
				       MHD_OPTION_CONNECTION_TIMEOUT, 30U,
				       MHD_OPTION_CONNECTION_LIMIT, 32U,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errlen, "--listen %s: libmicrohttpd could not start: %s", listen,
			 strerror(errno));
		close(srv->fd);
		goto fail;
	}
	return srv;

fail:
	pthread_mutex_destroy(&srv->lock);
	free(srv);
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

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	mhd.stop_daemon(srv->daemon); /* closes the listening socket too */
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
