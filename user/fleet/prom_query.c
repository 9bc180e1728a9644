// SPDX-License-Identifier: MIT
/*
 * Prometheus's instant query API (GET /api/v1/query?query=Q&time=T): the
 * answer's JSON into series and values (fleet_int.h). Errors carry what
 * Prometheus said, or what else answered when it was not Prometheus.
 */
#include "fleet_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Prometheus writes sample values as strings: "1.5", "NaN", "+Inf". */
static int parse_value(json_object *pair, double *out)
{
	json_object *v = json_object_is_type(pair, json_type_array) &&
					 json_object_array_length(pair) == 2
				 ? json_object_array_get_idx(pair, 1) : NULL;
	const char *text = v && json_object_is_type(v, json_type_string)
				   ? json_object_get_string(v) : NULL;
	char *end;

	if (!text)
		return -1;
	errno = 0;
	*out = strtod(text, &end);
	return end == text || *end || errno == ERANGE ? -1 : 0;
}

/* The error of an answer that is not a successful vector. */
static void answer_error(json_object *doc, long status, const char *body, const char *what,
			 char *err, size_t errlen)
{
	json_object *e;

	if (doc && json_object_object_get_ex(doc, "error", &e))
		snprintf(err, errlen, "%s: Prometheus says: %s", what, json_object_get_string(e));
	else
		snprintf(err, errlen, "%s: not an answer of Prometheus's query API (HTTP %ld: "
			 "%.60s%s)", what, status, body, strlen(body) > 60 ? "..." : "");
}

int prom_query(const char *base, const char *query, double at, struct prom_vector *out,
	       char *err, size_t errlen)
{
	char *q = prom_url_escape(query), *url, *body;
	size_t blen = strlen(base);
	json_object *doc = NULL, *data, *type, *result;
	long status = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	while (blen && base[blen - 1] == '/')
		blen--;
	url = xasprintf("%.*s/api/v1/query?query=%s&time=%.3f", (int)blen, base, q, at);
	free(q);
	body = prom_http_get(url, &status, err, errlen);
	if (!body)
		goto cleanup;
	doc = json_tokener_parse(body);
	if (!doc || !json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_object_get_ex(data, "resultType", &type) ||
	    strcmp(json_object_get_string(type), "vector") ||
	    !json_object_object_get_ex(data, "result", &result) ||
	    !json_object_is_type(result, json_type_array)) {
		answer_error(doc, status, body, base, err, errlen);
		goto cleanup;
	}
	out->n = (int)json_object_array_length(result);
	out->v = xcalloc((size_t)out->n + 1, sizeof(*out->v));
	for (int i = 0; i < out->n; i++) {
		json_object *r = json_object_array_get_idx(result, (size_t)i), *metric, *value;

		if (!json_object_object_get_ex(r, "metric", &metric) ||
		    !json_object_object_get_ex(r, "value", &value) ||
		    parse_value(value, &out->v[i].value)) {
			snprintf(err, errlen, "%s: a series of the answer to %s has no value", base,
				 query);
			goto cleanup;
		}
		out->v[i].labels = metric;
	}
	out->doc = doc;
	doc = NULL;
	rc = 0;
cleanup:
	if (rc)
		prom_vector_free(out);
	json_object_put(doc);
	free(body);
	free(url);
	return rc;
}

void prom_vector_free(struct prom_vector *v)
{
	json_object_put(v->doc);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

const char *prom_label(const struct prom_sample *s, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(s->labels, key, &v) ? json_object_get_string(v) : NULL;
}
