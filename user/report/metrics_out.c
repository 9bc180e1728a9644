// SPDX-License-Identifier: MIT
/*
 * The text exposition's writer (metrics_out.h): one place decides how a
 * family is announced, how labels are escaped and how durations print, so
 * every family of both formats reads the same.
 */
#include "metrics_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* In a label value, the text formats escape \, " and newline. */
static const char *label_ascii(unsigned char c, char buf[TEXT_ESCAPE_BUF])
{
	(void)buf;
	switch (c) {
	case '\\': return "\\\\";
	case '"': return "\\\"";
	case '\n': return "\\n";
	}
	return NULL;
}

/* A label value: valid UTF-8 (other bytes become U+FFFD), escaped as the
 * text formats require. */
static const struct text_escaping escape_for_label = { .ascii = label_ascii };

void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *unit,
		    const char *help)
{
	const char *suffix = !strcmp(type, "counter") && o->fmt == METRICS_PROMETHEUS ? "_total"
										      : "";

	fprintf(o->m, "# HELP %s%s %s\n", name, suffix, help);
	fprintf(o->m, "# TYPE %s%s %s\n", name, suffix, type);
	if (o->fmt == METRICS_OPENMETRICS && unit && *unit)
		fprintf(o->m, "# UNIT %s %s\n", name, unit);
}

/* name{host="...",labels...} (no value yet). */
static void sample_start(struct metrics_out *o, const char *name, const char *suffix,
			 const struct metrics_label *l, int n)
{
	fprintf(o->m, "%s%s{host=\"", name, suffix);
	escape_text_to(o->m, o->host, &escape_for_label);
	fputc('"', o->m);
	for (int i = 0; i < n; i++) {
		fprintf(o->m, ",%s=\"", l[i].key);
		escape_text_to(o->m, l[i].value, &escape_for_label);
		fputc('"', o->m);
	}
	fputc('}', o->m);
}

void metrics_u64(struct metrics_out *o, const char *name, const char *suffix,
		 const struct metrics_label *l, int n, uint64_t v)
{
	sample_start(o, name, suffix, l, n);
	fprintf(o->m, " %llu\n", (unsigned long long)v);
}

const char *metrics_seconds_text(char buf[32], uint64_t ns)
{
	char frac[16];
	int len;

	len = snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % 1000000000ULL));
	while (len > 1 && frac[len - 1] == '0')
		frac[--len] = '\0';
	snprintf(buf, 32, "%llu.%s", (unsigned long long)(ns / 1000000000ULL), frac);
	return buf;
}

void metrics_seconds(struct metrics_out *o, const char *name, const char *suffix,
		     const struct metrics_label *l, int n, uint64_t ns)
{
	char buf[32];

	sample_start(o, name, suffix, l, n);
	fprintf(o->m, " %s\n", metrics_seconds_text(buf, ns));
}

void metrics_double(struct metrics_out *o, const char *name, const char *suffix,
		    const struct metrics_label *l, int n, double v)
{
	if (!isfinite(v))
		return;
	sample_start(o, name, suffix, l, n);
	fprintf(o->m, " %.17g\n", v);
}
