// SPDX-License-Identifier: MIT
/* Human formatting with honest units; terminal-safe names. See units.h. */
#include "units.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t need, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need;
}

/* Code points that would let a name change how the terminal shows it. */
static bool is_unsafe_code_point(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||	  /* C1 controls (CSI, ...) */
	       (cp >= 0x202a && cp <= 0x202e) ||  /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||  /* bidi isolates */
	       cp == 0x2028 || cp == 0x2029 ||	  /* line and paragraph separators */
	       cp == 0x200e || cp == 0x200f || cp == 0x061c; /* direction marks */
}

char *term_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), cap = n * 4 + 1, o = 0;
	/* Worst case: every byte becomes \xNN (4 bytes), or a 2..4-byte code
	 * point becomes \u{NNNN} (8 bytes, at most 4 per input byte). */
	char *out = xmalloc(cap);

	while (*p) {
		uint32_t cp = 0;
		size_t len = utf8_decode(p, n, &cp);

		if (len == 0) {
			o += (size_t)sprintf(out + o, "\\x%02X", *p);
			len = 1;
		} else if (cp == '\n') {
			o += (size_t)sprintf(out + o, "\\n");
		} else if (cp == '\t') {
			o += (size_t)sprintf(out + o, "\\t");
		} else if (cp == '\r') {
			o += (size_t)sprintf(out + o, "\\r");
		} else if (cp < 0x20 || cp == 0x7f) {
			o += (size_t)sprintf(out + o, "\\x%02X", (unsigned int)cp);
		} else if (is_unsafe_code_point(cp)) {
			o += (size_t)sprintf(out + o, "\\u{%04X}", (unsigned int)cp);
		} else {
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	out[o] = '\0';
	return out;
}

size_t display_width(const char *s)
{
	size_t w = 0;

	/* Count every byte that does not continue a UTF-8 sequence. */
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		w += (*p & 0xc0) != 0x80;
	return w;
}

void print_padded(FILE *out, const char *s, size_t width, bool right_align)
{
	size_t w = display_width(s);

	if (right_align)
		for (; w < width; w++)
			fputc(' ', out);
	fputs(s ? s : "", out);
	if (!right_align)
		for (; w < width; w++)
			fputc(' ', out);
}
