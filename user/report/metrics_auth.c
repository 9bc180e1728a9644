// SPDX-License-Identifier: MIT
/*
 * The endpoint's secrets: see metrics_auth.h. A file readable by other
 * users gets a warning, as ssh gives for a key: whoever reads the token can
 * read the metrics.
 */
#include "metrics_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/base.h"

static void warn_if_shared(const char *opt, const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & 077))
		log_warn("%s %s: readable by other users (mode %04o): chmod 600 it", opt, path,
			 (unsigned int)(st.st_mode & 07777));
}

void metrics_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

char *metrics_token_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len), *start, *end;

	if (!text) {
		snprintf(err, errlen, "--token-file %s: %s", path, strerror(errno));
		return NULL;
	}
	start = text;
	while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			       end[-1] == '\r'))
		end--;
	if (end == start || strlen(text) != len) {
		snprintf(err, errlen, "--token-file %s: %s", path,
			 end == start ? "empty: put the token on its first line"
				      : "holds a NUL byte: expected one line of text");
		goto fail;
	}
	for (const char *p = start; p < end; p++) {
		if (*p < 0x21 || *p > 0x7e) {
			snprintf(err, errlen, "--token-file %s: the token must be one line of "
				 "visible ASCII characters (no spaces; e.g. openssl rand -hex 32)",
				 path);
			goto fail;
		}
	}
	warn_if_shared("--token-file", path);
	memmove(text, start, (size_t)(end - start));
	explicit_bzero(text + (end - start), len - (size_t)(end - start));
	text[end - start] = '\0';
	return text;
fail:
	explicit_bzero(text, len);
	free(text);
	return NULL;
}

bool metrics_bearer_ok(const char *header, const char *token)
{
	size_t want = strlen(token), got;
	unsigned char diff;

	if (!header || strncasecmp(header, "Bearer ", 7))
		return false;
	header += 7;
	while (*header == ' ')
		header++;
	got = strlen(header);
	while (got && header[got - 1] == ' ')
		got--;
	/* Every byte of the expected token is looked at whatever the header
	 * holds: the time says nothing of where they differ. */
	diff = got != want;
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < got ? header[i] : 0);
	return diff == 0;
}

char *metrics_pem_load(const char *opt, const char *path, const char *what, char *err,
		       size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len);

	if (!text) {
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return NULL;
	}
	if (!strstr(text, "-----BEGIN ") || strlen(text) != len) {
		snprintf(err, errlen, "%s %s: not a PEM file: expected %s (\"-----BEGIN ...\")",
			 opt, path, what);
		metrics_secret_free(text);
		return NULL;
	}
	if (!strcmp(opt, "--tls-key"))
		warn_if_shared(opt, path);
	return text;
}
