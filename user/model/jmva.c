// SPDX-License-Identifier: MIT
/* The model as a JMT JMVA document: see jmva.h. */
#include "jmva.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct out {
	char *buf;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grow_array((void **)&o->buf, &o->cap, o->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/*
 * Text for an XML attribute or element: markup characters as entities, and
 * what XML 1.0 cannot carry at all (C0 controls but tab, newline and CR;
 * U+FFFE, U+FFFF; bytes that are not UTF-8) as U+FFFD. Caller frees.
 */
static char *xml_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	struct out o = { 0 };

	put(&o, "%s", "");
	while (n) {
		uint32_t cp;
		size_t len = utf8_decode(p, n, &cp);

		if (!len) {
			put(&o, "\xef\xbf\xbd");
			len = 1;
		} else if (cp == '&') {
			put(&o, "&amp;");
		} else if (cp == '<') {
			put(&o, "&lt;");
		} else if (cp == '>') {
			put(&o, "&gt;");
		} else if (cp == '"') {
			put(&o, "&quot;");
		} else if (cp == '\'') {
			put(&o, "&apos;");
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
			   cp == 0xFFFF) {
			put(&o, "\xef\xbf\xbd");
		} else {
			put(&o, "%.*s", (int)len, (const char *)p);
		}
		p += len;
		n -= len;
	}
	return o.buf;
}

/* The shortest text that reads back as the same double, in plain decimals
 * where that is readable ("120.0", "0.0021"), else in exponent form
 * ("6.4e-08"), as JMT's own files write them. */
static void put_double(struct out *o, double v)
{
	char buf[48];
	bool found = false;

	if (!isfinite(v))
		v = 0;
	if (v == 0 || (fabs(v) >= 1e-4 && fabs(v) < 1e15)) {
		for (int dec = 1; dec <= 17 && !found; dec++) {
			snprintf(buf, sizeof(buf), "%.*f", dec, v);
			found = strtod(buf, NULL) == v;
		}
	}
	for (int prec = 1; prec <= 17 && !found; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		found = strtod(buf, NULL) == v;
	}
	put(o, "%s", buf);
}

void jmva_split_users(int users, const double *share, int n, int *out)
{
	double total = 0, *rem = xcalloc((size_t)n + 1, sizeof(double));
	int given = 0;

	for (int i = 0; i < n; i++)
		total += share[i] > 0 ? share[i] : 0;
	for (int i = 0; i < n; i++) {
		double exact = total > 0 && share[i] > 0 ? users * share[i] / total
							 : (total > 0 ? 0 : (double)users / n);

		out[i] = (int)floor(exact);
		rem[i] = exact - out[i];
		given += out[i];
	}
	/* largest remainders first; ties to the earlier flow */
	while (given < users && n > 0) {
		int best = 0;

		for (int i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		out[best]++;
		rem[best] = -1;
		given++;
	}
	free(rem);
}

static void put_station(struct out *o, const struct model *m, const struct model_station *st)
{
	char *name = xml_text(st->name);

	put(o, "      <listation name=\"%s\" servers=\"%d\">\n", name, st->servers);
	put(o, "        <servicetimes>\n");
	for (int f = 0; f < m->n_flows; f++) {
		char *cls = xml_text(m->flows[f].name);
		double d = st->demand_exclusive_ns[f] / 1e9, v = st->visits[f];

		if (!(v > 0))
			v = d > 0 ? 1 : 0;
		put(o, "          <servicetime customerclass=\"%s\">", cls);
		put_double(o, v > 0 ? d / v : 0);
		put(o, "</servicetime>\n");
		free(cls);
	}
	put(o, "        </servicetimes>\n        <visits>\n");
	for (int f = 0; f < m->n_flows; f++) {
		char *cls = xml_text(m->flows[f].name);
		double d = st->demand_exclusive_ns[f], v = st->visits[f];

		if (!(v > 0))
			v = d > 0 ? 1 : 0;
		put(o, "          <visit customerclass=\"%s\">", cls);
		put_double(o, v);
		put(o, "</visit>\n");
		free(cls);
	}
	put(o, "        </visits>\n      </listation>\n");
	free(name);
}

/* The think-time station's name: "think", unless a station has it. */
static const char *think_name(const struct model *m)
{
	static const char *const names[] = { "think", "think time", "users' think time" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (model_station_index(m, names[i]) < 0)
			return names[i];
	return "think (flowprof)";
}

char *jmva_document(const struct model *m, const struct jmva_opts *o)
{
	struct out out = { 0 };
	bool closed = o && o->users > 0;
	bool think = closed && o->think_s > 0;
	int *pop = xcalloc((size_t)m->n_flows + 1, sizeof(int));

	if (closed) {
		double *share = xcalloc((size_t)m->n_flows + 1, sizeof(double));

		for (int f = 0; f < m->n_flows; f++)
			share[f] = m->flows[f].measured_rate_per_s;
		jmva_split_users(o->users, share, m->n_flows, pop);
		free(share);
	}
	put(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	put(&out, "<model xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		  "xsi:noNamespaceSchemaLocation=\"JMTmodel.xsd\">\n");
	if (o && o->description) {
		char *d = xml_text(o->description);

		put(&out, "  <description>%s</description>\n", d);
		free(d);
	}
	put(&out, "  <parameters>\n    <classes number=\"%d\">\n", m->n_flows);
	for (int f = 0; f < m->n_flows; f++) {
		char *cls = xml_text(m->flows[f].name);

		if (closed) {
			put(&out, "      <closedclass name=\"%s\" population=\"%d\"/>\n", cls, pop[f]);
		} else {
			put(&out, "      <openclass name=\"%s\" rate=\"", cls);
			put_double(&out, m->flows[f].rate_per_s);
			put(&out, "\"/>\n");
		}
		free(cls);
	}
	put(&out, "    </classes>\n    <stations number=\"%d\">\n", m->n_stations + (think ? 1 : 0));
	if (think) {
		char *tn = xml_text(think_name(m));

		put(&out, "      <delaystation name=\"%s\">\n        <servicetimes>\n", tn);
		free(tn);
		for (int f = 0; f < m->n_flows; f++) {
			char *cls = xml_text(m->flows[f].name);

			put(&out, "          <servicetime customerclass=\"%s\">", cls);
			put_double(&out, o->think_s);
			put(&out, "</servicetime>\n");
			free(cls);
		}
		put(&out, "        </servicetimes>\n        <visits>\n");
		for (int f = 0; f < m->n_flows; f++) {
			char *cls = xml_text(m->flows[f].name);

			put(&out, "          <visit customerclass=\"%s\">1.0</visit>\n", cls);
			free(cls);
		}
		put(&out, "        </visits>\n      </delaystation>\n");
	}
	for (int k = 0; k < m->n_stations; k++)
		put_station(&out, m, &m->stations[k]);
	put(&out, "    </stations>\n  </parameters>\n</model>\n");
	free(pop);
	return out.buf;
}
