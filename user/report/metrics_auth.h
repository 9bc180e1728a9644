/* SPDX-License-Identifier: MIT */
/*
 * The endpoint's secrets (metrics_auth.c): the bearer token and the TLS
 * certificate and key, read from files (a token on the command line would
 * show in ps and in shell histories), checked with clear errors, wiped
 * from memory when the server stops. Private to user/report/.
 */
#ifndef FLOWPROF_METRICS_AUTH_H
#define FLOWPROF_METRICS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the token of --token-file path: one line of visible ASCII,
 * surrounding whitespace dropped (as Prometheus's credentials_file).
 * Returns it (free with metrics_secret_free), or NULL with err set. */
char *metrics_token_load(const char *path, char *err, size_t errlen);

/* Whether an Authorization header value is "Bearer TOKEN" with the token
 * expected (the scheme in any case). The comparison takes the same time
 * wherever the first difference is. */
bool metrics_bearer_ok(const char *header, const char *token);

/* Reads a PEM file for TLS (opt names the option in errors). Returns its
 * text, or NULL with err = "OPT PATH: why". */
char *metrics_pem_load(const char *opt, const char *path, const char *what, char *err,
		       size_t errlen);

/* Wipes and frees a secret (NULL is fine). */
void metrics_secret_free(char *s);

#endif
