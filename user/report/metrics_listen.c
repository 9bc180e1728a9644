// SPDX-License-Identifier: MIT
/*
 * The endpoint's listening socket: see metrics_listen.h. Loopback is the
 * default and needs nothing; any other address, the wildcard included, is
 * a decision to expose internal symbol names and load figures to the
 * network, so it takes --allow-remote, checked on the address the name
 * resolves to, before anything is bound.
 */
#include "metrics_listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

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

/* 127.0.0.0/8, ::1, and 127.x mapped into IPv6: only this host. */
static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

static void describe(const struct sockaddr *sa, char *addr, size_t alen, unsigned int *port)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, addr, (socklen_t)alen);
		*port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const void *)sa;

		inet_ntop(AF_INET, &a->sin_addr, addr, (socklen_t)alen);
		*port = ntohs(a->sin_port);
	}
}

int metrics_listen_open(const char *spec, bool allow_remote, struct metrics_listener *out,
			char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8], addr[INET6_ADDRSTRLEN];
	unsigned int p;
	int fd = -1, one = 1, e, rc = -1;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
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
	out->loopback = is_loopback(ai->ai_addr);
	if (!out->loopback && !allow_remote) {
		describe(ai->ai_addr, addr, sizeof(addr), &p);
		snprintf(err, errlen, "--listen %s: %s is reachable from other hosts, and the "
			 "metrics name the service's internal functions: add --allow-remote to "
			 "serve there (with --tls-cert, --tls-key and --token-file to protect them), "
			 "or listen on 127.0.0.1", spec,
			 !host[0] ? "every address of the host" : addr);
		goto cleanup;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
		goto cleanup;
	}
	out->ipv6 = ss.ss_family == AF_INET6;
	describe((const struct sockaddr *)&ss, out->addr, sizeof(out->addr), &out->port);
	out->fd = fd;
	fd = -1;
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}
