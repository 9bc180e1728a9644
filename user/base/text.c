// SPDX-License-Identifier: MIT
/* Text from targets, made safe for each output: see text.h. */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

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

bool is_spoofing_code_point(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||	  /* C1 controls (CSI, ...) */
	       (cp >= 0x202a && cp <= 0x202e) ||  /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||  /* bidi isolates */
	       cp == 0x2028 || cp == 0x2029 ||	  /* line and paragraph separators */
	       cp == 0x200e || cp == 0x200f || cp == 0x061c; /* direction marks */
}

static void put_ascii(FILE *out, unsigned char c, const struct text_escaping *how)
{
	char buf[TEXT_ESCAPE_BUF];
	const char *r = how->ascii ? how->ascii(c, buf) : NULL;

	if (r)
		fputs(r, out);
	else
		fputc(c, out);
}

void escape_text_to(FILE *out, const char *s, const struct text_escaping *how)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	while (n) {
		uint32_t cp = 0;
		size_t len = utf8_decode(p, n, &cp);

		if (!len) {
			if (how->invalid_as_hex)
				fprintf(out, "\\x%02X", *p);
			else
				fputs("\xef\xbf\xbd", out);
			len = 1;
		} else if (cp < 0x80) {
			put_ascii(out, (unsigned char)cp, how);
		} else if (how->spoofing_as_text && is_spoofing_code_point(cp)) {
			char esc[TEXT_ESCAPE_BUF];

			snprintf(esc, sizeof(esc), "\\u{%04X}", (unsigned int)cp);
			for (const char *e = esc; *e; e++)
				put_ascii(out, (unsigned char)*e, how);
		} else {
			fwrite(p, 1, len, out);
		}
		p += len;
		n -= len;
	}
}

char *escape_text(const char *s, const struct text_escaping *how, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = xopen_memstream(&buf, &size);

	escape_text_to(out, s, how);
	fclose(out);
	if (len)
		*len = size;
	return buf;
}

const struct text_escaping escape_invalid_utf8 = { 0 };

/* C0 controls and DEL, which a terminal would act on, as visible text. */
static const char *terminal_ascii(unsigned char c, char buf[TEXT_ESCAPE_BUF])
{
	switch (c) {
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, TEXT_ESCAPE_BUF, "\\x%02X", c);
		return buf;
	}
	return NULL;
}

const struct text_escaping escape_for_terminal = {
	.invalid_as_hex = true,
	.spoofing_as_text = true,
	.ascii = terminal_ascii,
};

char *term_escape(const char *s)
{
	return escape_text(s, &escape_for_terminal, NULL);
}

/* Walks s one code point (or one byte that is not UTF-8) at a time, each
 * one column, until cols columns: the bytes walked, and the columns in
 * *width. */
static size_t walk_columns(const char *s, size_t cols, size_t *width)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0, w = 0;

	for (; i < n && w < cols; w++) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);

		i += len ? len : 1;
	}
	*width = w;
	return i;
}

size_t display_width(const char *s)
{
	size_t w;

	walk_columns(s, SIZE_MAX, &w);
	return w;
}

size_t display_prefix(const char *s, size_t cols)
{
	size_t w;

	return walk_columns(s, cols, &w);
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
