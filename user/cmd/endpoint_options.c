// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint's options, shared by `serve` and `record --listen`
 * (subcommand.h): where to listen, whether other hosts may connect, TLS,
 * the bearer token and how often the maps may be read. The values go to
 * metrics_server_start() (report/metrics.h) as they are; it reads the
 * files and checks the address, so that every error names its option.
 */
#include <argp.h>
#include <stdio.h>

#include "base/base.h"
#include "report/report.h"
#include "subcommand.h"

enum {
	OPT_LISTEN = 0x300,
	OPT_ALLOW_REMOTE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TOKEN_FILE,
	OPT_MIN_INTERVAL,
};

#define SECURITY_OPTIONS                                                                    \
	{ "allow-remote", OPT_ALLOW_REMOTE, NULL, 0,                                        \
	  "Let --listen take an address other hosts can reach (:PORT for every address, or " \
	  "an interface's); without it only loopback is accepted", 0 },                       \
	{ "tls-cert", OPT_TLS_CERT, "FILE", 0,                                              \
	  "Serve HTTPS with this PEM certificate (and --tls-key)", 0 },                      \
	{ "tls-key", OPT_TLS_KEY, "FILE", 0, "Its private key (PEM, unencrypted)", 0 },       \
	{ "token-file", OPT_TOKEN_FILE, "FILE", 0,                                          \
	  "Answer only requests with the token in FILE (Authorization: Bearer TOKEN); "      \
	  "never on the command line", 0 },                                                   \
	{ "min-interval", OPT_MIN_INTERVAL, "SECONDS", 0,                                   \
	  "Read the maps at most once per SECONDS: requests in between get the last answer " \
	  "again (default 0.5; 0: every request reads them)", 0 }

static const struct argp_option serve_endpoint_options[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve /metrics on ADDR:PORT (default 127.0.0.1:9464, loopback only; port 0 picks a "
	  "free one; :PORT, every address, with --allow-remote)", 0 },
	SECURITY_OPTIONS,
	{ 0 },
};

static const struct argp_option record_endpoint_options[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "While recording, serve live metrics for Prometheus on ADDR:PORT, e.g. 127.0.0.1:9464 "
	  "(as 'flowprof serve'; another address than loopback needs --allow-remote)", 0 },
	SECURITY_OPTIONS,
	{ 0 },
};

static error_t parse_endpoint(int key, char *arg, struct argp_state *state)
{
	struct metrics_endpoint *e = state->input;

	switch (key) {
	case OPT_LISTEN:
		e->listen = arg;
		break;
	case OPT_ALLOW_REMOTE:
		e->allow_remote = true;
		break;
	case OPT_TLS_CERT:
		e->tls_cert = arg;
		break;
	case OPT_TLS_KEY:
		e->tls_key = arg;
		break;
	case OPT_TOKEN_FILE:
		e->token_file = arg;
		break;
	case OPT_MIN_INTERVAL:
		if (parse_seconds(arg, &e->min_interval_s) || e->min_interval_s < 0 ||
		    e->min_interval_s > 3600)
			argp_error(state, "--min-interval %s: expected seconds from 0 to 3600", arg);
		break;
	case ARGP_KEY_END:
		if (!e->listen && (e->allow_remote || e->tls_cert || e->tls_key || e->token_file))
			argp_error(state, "%s applies to the metrics endpoint: add --listen ADDR:PORT",
				   e->tls_cert ? "--tls-cert" : e->tls_key ? "--tls-key"
				   : e->token_file ? "--token-file" : "--allow-remote");
		if (!e->tls_cert != !e->tls_key)
			argp_error(state, "%s: TLS needs both --tls-cert FILE and --tls-key FILE",
				   e->tls_cert ? "--tls-cert" : "--tls-key");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp serve_endpoint_argp = { serve_endpoint_options, parse_endpoint, NULL, NULL,
					  NULL, NULL, NULL };
const struct argp record_endpoint_argp = { record_endpoint_options, parse_endpoint, NULL, NULL,
					   NULL, NULL, NULL };
