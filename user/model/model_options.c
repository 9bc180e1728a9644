// SPDX-License-Identifier: MIT
/*
 * The model's options (model.h: model_parse_option): the strings of
 * `flowprof report`'s and `export`'s command line, and of the HTML page's
 * sliders (user/wasm/), into struct model_opts; and, once the snapshot is
 * known, the flows and bundles they name checked against it (model_build()).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* ---- the command line's strings -------------------------------------------- */

/* "FLOW=REST": the name (caller frees) and REST; -1 if malformed. */
static int split_assignment(const char *value, char **name, const char **rest)
{
	const char *eq = strchr(value, '=');

	if (!eq || eq == value || !eq[1])
		return -1;
	*name = xasprintf("%.*s", (int)(eq - value), value);
	*rest = eq + 1;
	return 0;
}

/* "800", "800/s", "2.4k/s", "48000/min", "3/h": events per second. */
static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0 || *s == '+' || *s == '-')
		return -1;
	if (*end == 'k')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	if (!*end || !strcmp(end, "/s"))
		;
	else if (!strcmp(end, "/min") || !strcmp(end, "/m"))
		v /= 60;
	else if (!strcmp(end, "/h"))
		v /= 3600;
	else
		return -1;
	*out = v;
	return 0;
}

static int parse_positive_int(const char *s, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 1 || v > max || *s == '+' || *s == ' ')
		return -1;
	*out = (int)v;
	return 0;
}

static int add_servers(struct model_servers **arr, int *n, const char *opt, const char *value,
		       char *err, size_t errlen)
{
	char *name = NULL;
	const char *rest;
	int v;

	if (split_assignment(value, &name, &rest) || parse_positive_int(rest, 1000000, &v)) {
		snprintf(err, errlen, "--%s '%s': expected BUNDLE=N with N a positive integer, e.g. shop=%s",
			 opt, value, strcmp(opt, "workers") ? "3" : "16");
		free(name);
		return -1;
	}
	for (int i = 0; i < *n; i++) {
		if (!strcmp((*arr)[i].bundle, name)) {
			snprintf(err, errlen, "--%s: bundle '%s' given twice", opt, name);
			free(name);
			return -1;
		}
	}
	*arr = xrealloc(*arr, (size_t)(*n + 1) * sizeof(**arr));
	(*arr)[*n].bundle = name;
	(*arr)[*n].value = v;
	(*n)++;
	return 0;
}

int model_parse_option(struct model_opts *o, const char *opt, const char *value, char *err,
		       size_t errlen)
{
	const char *name = opt;

	while (*name == '-')
		name++;
	if (!value)
		value = "";
	if (!strcmp(name, "target")) {
		char *flow = NULL;
		const char *rest;
		double rate;

		if (split_assignment(value, &flow, &rest)) {
			snprintf(err, errlen, "--target '%s': expected FLOW=RATE, e.g. checkout=800/s",
				 value);
			free(flow);
			return -1;
		}
		if (parse_rate(rest, &rate)) {
			snprintf(err, errlen,
				 "--target '%s': '%s' is not a rate; write e.g. 800, 800/s, 2.4k/s, "
				 "48000/min or 30/h", value, rest);
			free(flow);
			return -1;
		}
		for (int i = 0; i < o->n_targets; i++) {
			if (!strcmp(o->targets[i].flow, flow)) {
				snprintf(err, errlen, "--target: flow '%s' given twice", flow);
				free(flow);
				return -1;
			}
		}
		o->targets = xrealloc(o->targets, (size_t)(o->n_targets + 1) * sizeof(*o->targets));
		o->targets[o->n_targets].flow = flow;
		o->targets[o->n_targets].rate_per_s = rate;
		o->n_targets++;
		return 0;
	}
	if (!strcmp(name, "scale")) {
		char *end;
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (end != value && *end == 'x')
			end++;
		if (end == value || *end || errno || !isfinite(v) || !(v > 0)) {
			snprintf(err, errlen, "--scale '%s': expected a positive number, e.g. 2 or 1.5x",
				 value);
			return -1;
		}
		o->scale = v;
		return 0;
	}
	if (!strcmp(name, "instances"))
		return add_servers(&o->instances, &o->n_instances, "instances", value, err, errlen);
	if (!strcmp(name, "workers"))
		return add_servers(&o->workers, &o->n_workers, "workers", value, err, errlen);
	if (!strcmp(name, "util-limit")) {
		char *end;
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (end != value && !strcmp(end, "%"))
			v /= 100, end++;
		if (end == value || *end || errno || !(v > 0) || v > 1) {
			snprintf(err, errlen,
				 "--util-limit '%s': expected a fraction in (0, 1] or a percentage, "
				 "e.g. 0.7 or 70%%", value);
			return -1;
		}
		o->util_limit = v;
		return 0;
	}
	if (!strcmp(name, "users")) {
		const char *p = value;
		int *users = NULL, n = 0;

		do {
			size_t len = strcspn(p, ",");
			char *item = xasprintf("%.*s", (int)len, p);
			int v;

			if (parse_positive_int(item, MODEL_MAX_USERS, &v)) {
				snprintf(err, errlen,
					 "--users '%s': '%s' is not a number of users (1 to %d)",
					 value, item, MODEL_MAX_USERS);
				free(item);
				free(users);
				return -1;
			}
			free(item);
			users = xrealloc(users, (size_t)(n + 1) * sizeof(*users));
			users[n++] = v;
			p += len;
		} while (*p++ == ',');
		free(o->users);
		o->users = users;
		o->n_users = n;
		return 0;
	}
	if (!strcmp(name, "think")) {
		double v;

		if (parse_seconds(value, &v)) {
			snprintf(err, errlen, "--think '%s': expected seconds, e.g. 1, 500ms or 2s",
				 value);
			return -1;
		}
		o->think_s = v;
		return 0;
	}
	snprintf(err, errlen, "unknown model option '--%s'; expected one of: --target, --scale, "
		 "--instances, --workers, --util-limit, --users, --think", name);
	return -1;
}

void model_opts_free(struct model_opts *o)
{
	for (int i = 0; i < o->n_targets; i++)
		free(o->targets[i].flow);
	free(o->targets);
	for (int i = 0; i < o->n_instances; i++)
		free(o->instances[i].bundle);
	free(o->instances);
	for (int i = 0; i < o->n_workers; i++)
		free(o->workers[i].bundle);
	free(o->workers);
	free(o->users);
	memset(o, 0, sizeof(*o));
}

/* ---- the names, against the snapshot --------------------------------------- */

/* "unknown flow 'x'; did you mean 'y'?" or "...; flows are: a, b". */
static void unknown_name(char *err, size_t errlen, const char *opt, const char *what,
			 const char *name, const char *const *names, int n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t used;

	for (int i = 0; i < n; i++) {
		size_t d = edit_distance(name, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	if (best && best_d <= 2 && best_d < strlen(name)) {
		snprintf(err, errlen, "--%s: unknown %s '%s'; did you mean '%s'?", opt, what, name,
			 best);
		return;
	}
	used = (size_t)snprintf(err, errlen, "--%s: unknown %s '%s'; ", opt, what, name);
	if (!n) {
		snprintf(err + (used < errlen ? used : errlen), used < errlen ? errlen - used : 0,
			 "the snapshot has no %ss", what);
		return;
	}
	used += (size_t)snprintf(err + (used < errlen ? used : errlen),
				 used < errlen ? errlen - used : 0, "%ss are: ", what);
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(err + (used < errlen ? used : errlen),
					 used < errlen ? errlen - used : 0, "%s%s", i ? ", " : "",
					 names[i]);
}

int model_check_names(const struct snapshot *s, const struct model_opts *o, char *err,
		      size_t errlen)
{
	const char **flows = xcalloc((size_t)s->n_flows + 1, sizeof(*flows));
	const char **bundles = xcalloc((size_t)s->n_bundles + 1, sizeof(*bundles));
	int rc = -1;

	for (int i = 0; i < s->n_flows; i++)
		flows[i] = s->flows[i].name ? s->flows[i].name : "";
	for (int i = 0; i < s->n_bundles; i++)
		bundles[i] = s->bundles[i].name ? s->bundles[i].name : "";
	for (int i = 0; i < o->n_targets; i++) {
		if (!snapshot_flow(s, o->targets[i].flow)) {
			unknown_name(err, errlen, "target", "flow", o->targets[i].flow, flows,
				     s->n_flows);
			goto cleanup;
		}
	}
	for (int i = 0; i < o->n_instances; i++) {
		if (!snapshot_bundle(s, o->instances[i].bundle)) {
			unknown_name(err, errlen, "instances", "bundle", o->instances[i].bundle,
				     bundles, s->n_bundles);
			goto cleanup;
		}
	}
	for (int i = 0; i < o->n_workers; i++) {
		if (!snapshot_bundle(s, o->workers[i].bundle)) {
			unknown_name(err, errlen, "workers", "bundle", o->workers[i].bundle, bundles,
				     s->n_bundles);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	free(flows);
	free(bundles);
	return rc;
}
