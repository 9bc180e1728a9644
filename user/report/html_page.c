// SPDX-License-Identifier: MIT
/* What the HTML pages and the DOT graph share: see html_page.h. */
#include "html_page.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Markup characters as entities; control bytes as visible text, never
 * markup. */
static const char *html_ascii(unsigned char c, char buf[TEXT_ESCAPE_BUF])
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, TEXT_ESCAPE_BUF, "\\x%02x", c);
		return buf;
	}
	return NULL;
}

static const struct text_escaping escape_for_html = {
	.spoofing_as_text = true,
	.ascii = html_ascii,
};

void html_text(FILE *o, const char *s)
{
	escape_text_to(o, s, &escape_for_html);
}

void html_pre_text(FILE *o, const char *s)
{
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char *line = xmalloc(n + 1);

		memcpy(line, s, n);
		line[n] = '\0';

		html_text(o, line);
		free(line);
		if (!nl)
			break;
		fputc('\n', o);
		s = nl + 1;
	}
}

static const char *dot_ascii(unsigned char c, char buf[TEXT_ESCAPE_BUF])
{
	if (c == '"' || c == '\\') {
		snprintf(buf, TEXT_ESCAPE_BUF, "\\%c", c);
		return buf;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, TEXT_ESCAPE_BUF, "\\\\x%02x", c);
		return buf;
	}
	return NULL;
}

static const struct text_escaping escape_for_dot = {
	.spoofing_as_text = true,
	.ascii = dot_ascii,
};

void dot_text(FILE *o, const char *s)
{
	escape_text_to(o, s, &escape_for_dot);
}

char *html_shortest(double v)
{
	char *t = NULL;

	for (int prec = 1; prec <= 17; prec++) {
		free(t);
		t = xasprintf("%.*g", prec, v);
		if (strtod(t, NULL) == v)
			break;
	}
	return t;
}

void html_number_attr(FILE *o, const char *name, double v)
{
	char *t;

	if (!isfinite(v)) {
		fprintf(o, " %s=\"null\"", name);
		return;
	}
	t = html_shortest(v);
	fprintf(o, " %s=\"%s\"", name, t);
	free(t);
}
