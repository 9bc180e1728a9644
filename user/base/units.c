// SPDX-License-Identifier: MIT
/* Human formatting with honest units. See units.h. */
#include "units.h"

#include <math.h>
#include <stdio.h>

#include "util.h"

/* Three significant digits: the decimals to print v (>= 0) with. */
static int sig3_decimals(double v)
{
	if (v < 9.995)
		return 2;
	if (v < 99.95)
		return 1;
	return 0;
}

char *units_duration(char *buf, size_t len, double ns, bool ascii)
{
	static const struct {
		double div;
		const char *utf8, *ascii;
	} scale[] = {
		{ 1e3, "µs", "us" },
		{ 1e6, "ms", "ms" },
		{ 1e9, "s", "s" },
	};

	if (!isfinite(ns) || ns < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	/* Whole ns below a microsecond: sub-ns digits would be noise. */
	if (ns < 999.5) {
		snprintf(buf, len, "%.0f ns", ns);
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(scale); i++) {
		double v = ns / scale[i].div;

		/* Move up a unit when rounding would print 1000 of this one. */
		if (v < 999.5 || i + 1 == ARRAY_SIZE(scale)) {
			snprintf(buf, len, "%.*f %s", sig3_decimals(v), v,
				 ascii ? scale[i].ascii : scale[i].utf8);
			break;
		}
	}
	return buf;
}

char *units_rate(char *buf, size_t len, double per_s)
{
	static const struct {
		double div;
		const char *suffix;
	} scale[] = { { 1e3, "k" }, { 1e6, "M" }, { 1e9, "G" } };

	if (!isfinite(per_s) || per_s < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (per_s == 0) {
		snprintf(buf, len, "0/s");
		return buf;
	}
	if (per_s < 999.5) {
		snprintf(buf, len, "%.*f/s", sig3_decimals(per_s), per_s);
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(scale); i++) {
		double v = per_s / scale[i].div;

		if (v < 999.5 || i + 1 == ARRAY_SIZE(scale)) {
			/* "1.2k/s" rather than "1.23k/s": rates are never that exact. */
			snprintf(buf, len, "%.*f%s/s", v < 99.95 ? 1 : 0, v, scale[i].suffix);
			break;
		}
	}
	return buf;
}

char *units_relative_error(char *buf, size_t len, double error)
{
	if (!isfinite(error))
		snprintf(buf, len, "-");
	else if (fabs(error) < 0.1)
		snprintf(buf, len, "%+.1f%%", error * 100);
	else
		snprintf(buf, len, "%+.0f%%", error * 100);
	return buf;
}

char *units_percent(char *buf, size_t len, double share)
{
	double pct = share * 100.0;

	if (!isfinite(pct) || pct < 0)
		snprintf(buf, len, "-");
	else if (pct > 0 && pct < 0.5)
		snprintf(buf, len, "<1%%");
	else if (pct >= 99.5 && pct < 100)
		snprintf(buf, len, ">99%%");
	else
		snprintf(buf, len, "%.0f%%", pct > 100 ? 100.0 : pct);
	return buf;
}

char *units_uncertainty(char *buf, size_t len, double value, double err, bool ascii)
{
	const char *pm = ascii ? "+-" : "±";
	double pct;

	if (!isfinite(err) || err < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	pct = value > 0 ? 100 * err / value : INFINITY;
	/* an uncertainty larger than the value: the duration itself ("1.02 µs
	 * ±9.37 µs" reads better than "±919%", and the same in every column) */
	if (!isfinite(pct) || pct > 100) {
		char d[UNITS_BUF];

		snprintf(buf, len, "%s%s", pm, units_duration(d, sizeof(d), err, ascii));
	} else if (pct < 0.1) {
		snprintf(buf, len, "%s<0.1%%", pm);
	} else {
		snprintf(buf, len, pct < 9.95 ? "%s%.1f%%" : "%s%.0f%%", pm, pct);
	}
	return buf;
}
