/* SPDX-License-Identifier: MIT */
/*
 * The endpoint's listening socket (metrics_listen.c): ADDR:PORT parsed,
 * resolved and bound by us rather than by libmicrohttpd, so that errors
 * name the address and the reason, port 0 reports the port it got, and an
 * address other hosts can reach is refused unless asked for. Private to
 * user/report/.
 */
#ifndef FLOWPROF_METRICS_LISTEN_H
#define FLOWPROF_METRICS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

struct metrics_listener {
	int fd;
	bool ipv6;
	bool loopback;		/* only this host can connect */
	char addr[64];		/* as bound: "127.0.0.1", "::1", "0.0.0.0" */
	unsigned int port;
};

/* Binds and listens on spec ("127.0.0.1:9464", "[::1]:0", ":9464"). An
 * address that is not loopback fails unless allow_remote. Returns 0, or -1
 * with err = "--listen SPEC: why". */
int metrics_listen_open(const char *spec, bool allow_remote, struct metrics_listener *out,
			char *err, size_t errlen);

#endif
