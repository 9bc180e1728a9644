// SPDX-License-Identifier: MIT
/* One way to print flowprof's JSON: see json_out.h. */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

json_object *jo_str(const char *s)
{
	json_object *j;
	size_t len;
	char *clean;

	if (!s)
		return NULL; /* json-c's null */
	clean = escape_text(s, &escape_invalid_utf8, &len);
	j = json_object_new_string_len(clean, (int)len);
	free(clean);
	return j;
}

json_object *jo_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

json_object *jo_int(int64_t v)
{
	return json_object_new_int64(v);
}

/* A json-c double that prints as exactly text. */
static json_object *double_as(double v, const char *text)
{
	return json_object_new_double_s(v, text);
}

const char *json_number_text(char buf[JSON_NUMBER_BUF], double v, int max_decimals)
{
	char *dot, *end;

	snprintf(buf, JSON_NUMBER_BUF, "%.*f", max_decimals, v);
	dot = strchr(buf, '.');
	end = buf + strlen(buf) - 1;
	while (dot && end > dot + 1 && *end == '0')
		*end-- = '\0';
	/* -0.0 after rounding a tiny negative value is just 0.0 */
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

json_object *jo_num(double v, int max_decimals)
{
	char buf[JSON_NUMBER_BUF];

	if (!isfinite(v))
		return NULL;
	if (max_decimals < 1)
		max_decimals = 1;
	return double_as(v, json_number_text(buf, v, max_decimals));
}

json_object *jo_num_exact(double v)
{
	char buf[64];
	bool found = false;

	if (!isfinite(v))
		return NULL;
	/* Plain decimals in the usual range ("30.0", "812.5"), else %g. */
	if (fabs(v) >= 1e-4 && fabs(v) < 1e15) {
		for (int dec = 1; dec <= 17 && !found; dec++) {
			snprintf(buf, sizeof(buf), "%.*f", dec, v);
			found = strtod(buf, NULL) == v;
		}
	}
	for (int prec = 1; prec <= 17 && !found; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		found = strtod(buf, NULL) == v;
	}
	/* Keep it visibly a number with a fraction: "30.0", not "30". */
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return double_as(v, buf);
}

json_object *jo_long_double(long double v)
{
	char buf[80];

	if (!isfinite(v))
		return NULL;
	if (v >= 0 && v < 18446744073709551616.0L && v == floorl(v))
		snprintf(buf, sizeof(buf), "%.0Lf", v);
	else
		snprintf(buf, sizeof(buf), "%.20Le", v);
	return double_as((double)v, buf);
}

static int inline_array_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	size_t n = json_object_array_length(jso);

	(void)level;
	printbuf_strappend(pb, "[");
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(jso, i);
		const char *s = json_object_to_json_string_ext(
			e, JSON_C_TO_STRING_PLAIN | (flags & JSON_C_TO_STRING_NOSLASHESCAPE));

		if (i)
			printbuf_strappend(pb, ", ");
		printbuf_memappend(pb, s, (int)strlen(s));
	}
	printbuf_strappend(pb, "]");
	return 0;
}

json_object *jo_inline_array(json_object *arr)
{
	json_object_set_serializer(arr, inline_array_to_string, NULL, NULL);
	return arr;
}

void jo_add(json_object *obj, const char *key, json_object *val)
{
	json_object_object_add(obj, key, val);
}

const char *jo_text(json_object *obj, bool pretty, size_t *len)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			    : JSON_C_TO_STRING_PLAIN);

	return json_object_to_json_string_length(obj, flags, len);
}

char *jo_to_string(json_object *obj, bool pretty)
{
	const char *text = jo_text(obj, pretty, &(size_t){ 0 });

	if (!text) { /* json-c is out of memory: as every other allocation failure */
		log_error("out of memory");
		exit(1);
	}
	return xasprintf("%s\n", text);
}

/* ---- JSON inside an HTML page; and without json-c (the WebAssembly model) ---- */

/* '<', '>' and '&' as \u escapes: inside a JSON string they mean the same,
 * and outside strings JSON has none; so no "</script>" or "<!--" can
 * appear where a page embeds the text. */
static void put_script_safe_char(FILE *o, unsigned char c)
{
	if (c == '<' || c == '>' || c == '&')
		fprintf(o, "\\u%04x", c);
	else
		fputc(c, o);
}

void json_put_script_safe(FILE *o, const char *json)
{
	for (const unsigned char *p = (const unsigned char *)json; *p; p++)
		put_script_safe_char(o, *p);
}

void json_put_string(FILE *o, const char *s)
{
	if (!s) {
		fputs("null", o);
		return;
	}
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(o, "\\u%04x", *p);
		else
			put_script_safe_char(o, *p);
	}
	fputc('"', o);
}
