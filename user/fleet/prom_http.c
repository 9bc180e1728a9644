// SPDX-License-Identifier: MIT
/*
 * GET over HTTP(S) for the Prometheus client (fleet_int.h), with libcurl.
 *
 * libcurl is loaded (dlopen) by the first query, not linked: it maps a TLS
 * library, libnghttp2, libssh2, LDAP and more (some 4 MiB of RSS) into a
 * process, and only `report --prometheus` needs it, never the recording
 * agent. A hand-written HTTP client would save the library but not the
 * work: Prometheus servers sit behind HTTPS, proxies and redirects that
 * curl already handles. Debian's libcurl3-gnutls (the GnuTLS build, as
 * libmicrohttpd's) is tried first, then libcurl4 (OpenSSL).
 */
#define CURL_DISABLE_TYPECHECK /* the calls go through pointers */
#include "fleet_int.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/base.h"

static const char *const curl_libs[] = { "libcurl-gnutls.so.4", "libcurl.so.4" };

/* Seconds a query may take: a Prometheus answering a fleet's series. */
#define QUERY_TIMEOUT_S 60L

static struct {
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
} curl;

static int load_curl(char *err, size_t errlen)
{
	void *h = NULL;

	if (curl.easy_init)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(curl_libs) && !h; i++)
		h = dlopen(curl_libs[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libcurl (Debian: libcurl3-gnutls): %s",
			 dlerror());
		return -1;
	}
#define SYM(f, name)                                                              \
	if (!(*(void **)&curl.f = dlsym(h, name))) {                              \
		snprintf(err, errlen, "libcurl has no %s: %s", name, dlerror());  \
		goto fail;                                                        \
	}
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_init, "curl_easy_init"); /* last: it says the table is complete */
#undef SYM
	return 0; /* stays loaded */
fail:
	memset(&curl, 0, sizeof(curl));
	dlclose(h);
	return -1;
}

static size_t on_data(char *data, size_t size, size_t n, void *cls)
{
	fwrite(data, size, n, cls);
	return size * n;
}

char *prom_http_get(const char *url, long *status, char *err, size_t errlen)
{
	char *body = NULL, why[CURL_ERROR_SIZE] = "";
	size_t len = 0;
	FILE *m;
	CURL *c;
	CURLcode rc;

	if (load_curl(err, errlen))
		return NULL;
	c = curl.easy_init();
	if (!c) {
		snprintf(err, errlen, "%s: libcurl could not start", url);
		return NULL;
	}
	m = xopen_memstream(&body, &len);
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl.easy_setopt(c, CURLOPT_TIMEOUT, QUERY_TIMEOUT_S);
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl.easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip: a fleet's answer is large */
	curl.easy_setopt(c, CURLOPT_USERAGENT, "flowprof");
	rc = curl.easy_perform(c);
	fclose(m);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, why[0] ? why : curl.easy_strerror(rc));
		free(body);
		body = NULL;
	} else {
		curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	}
	curl.easy_cleanup(c);
	return body;
}

char *prom_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	/* RFC 3986's unreserved characters as they are, every other byte as %XX */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
