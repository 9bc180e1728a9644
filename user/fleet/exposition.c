// SPDX-License-Identifier: MIT
/*
 * One endpoint's window from the text of two of its expositions (fleet.h):
 * the Prometheus text format read into the series Prometheus's API would
 * give, then the same target snapshot as report --prometheus makes. The
 * round trip snapshot -> exposition -> snapshot is tested with it, field by
 * field (tests/unit/test_fleet.c), without a Prometheus in between.
 */
#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "fleet_int.h"

/* A label value's text, its escapes (\\, \", \n) undone; *p past the
 * closing quote. NULL when the quote never closes. */
static char *label_value(const char **p)
{
	const char *s = *p;
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	if (*s != '"') {
		free(out);
		return NULL;
	}
	*o = '\0';
	*p = s + 1;
	return out;
}

/* One sample line: name{labels} value. Returns 0, or -1 when malformed. */
static int parse_line(const char *line, struct prom_sample *out)
{
	size_t n = strcspn(line, "{ ");
	const char *p = line + n;
	char *name = xasprintf("%.*s", (int)n, line), *end;

	out->labels = json_object_new_object();
	json_object_object_add(out->labels, "__name__", json_object_new_string(name));
	free(name);
	if (*p == '{') {
		for (p++; *p && *p != '}';) {
			size_t k = strcspn(p, "=");
			char *key = xasprintf("%.*s", (int)k, p), *value;

			p += k;
			if (p[0] != '=' || p[1] != '"') {
				free(key);
				return -1;
			}
			p += 2;
			value = label_value(&p);
			if (!value) {
				free(key);
				return -1;
			}
			/* as Prometheus stores it: its own instance is the target */
			json_object_object_add(out->labels, strcmp(key, "instance") ? key
							      : "exported_instance",
					       json_object_new_string(value));
			free(key);
			free(value);
			if (*p == ',')
				p++;
		}
		if (*p++ != '}')
			return -1;
	}
	errno = 0;
	out->value = strtod(p, &end);
	return end == p || errno == ERANGE ? -1 : 0;
}

/* The samples of an exposition, owned by v->doc (a JSON array). */
static int parse_text(const char *text, struct prom_vector *v, char *err, size_t errlen)
{
	char *copy = xstrdup(text), *save = NULL;
	size_t cap = 0;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	v->doc = json_object_new_array();
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct prom_sample s = { 0 };

		if (line[0] == '#' || !line[0])
			continue;
		rc = parse_line(line, &s);
		json_object_array_add(v->doc, s.labels);
		if (rc) {
			snprintf(err, errlen, "not a sample line of the text format: %.80s", line);
			break;
		}
		grow_array((void **)&v->v, &cap, (size_t)v->n + 1, sizeof(*v->v));
		v->v[v->n++] = s;
	}
	free(copy);
	return rc ? -1 : 0;
}

int fleet_snapshot_from_text(const char *end, const char *start, struct snapshot *out,
			     char *err, size_t errlen)
{
	struct prom_vector e = { 0 }, s = { 0 };
	struct fleet_target t = { .instance = "text" };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (parse_text(end, &e, err, errlen) || (start && parse_text(start, &s, err, errlen)))
		goto cleanup;
	t.end = xcalloc((size_t)e.n + 1, sizeof(*t.end));
	for (int i = 0; i < e.n; i++)
		t.end[t.n_end++] = &e.v[i];
	if (start) {
		t.start = json_object_new_object();
		for (int i = 0; i < s.n; i++) {
			char *key = fleet_series_key(&s.v[i]);

			json_object_object_add(t.start, key, json_object_new_double(s.v[i].value));
			free(key);
		}
	}
	rc = fleet_target_snapshot(&t, (double)time(NULL), out, err, errlen);
cleanup:
	free(t.end);
	json_object_put(t.start);
	prom_vector_free(&e);
	prom_vector_free(&s);
	return rc;
}
