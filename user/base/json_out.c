// SPDX-License-Identifier: MIT
/* One way to print flowprof's JSON: see json_out.h. */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

json_object *jo_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, o = 0;
	json_object *j;
	char *clean;

	if (!s)
		return NULL; /* json-c's null */
	n = strlen(s);
	/* U+FFFD is 3 bytes: at most 3 per invalid input byte. */
	clean = xmalloc(n * 3 + 1);
	while (n) {
		uint32_t cp;
		size_t len = utf8_decode(p, n, &cp);

		if (len == 0) {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			len = 1;
		} else {
			memcpy(clean + o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	j = json_object_new_string_len(clean, (int)o);
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

json_object *jo_num(double v, int max_decimals)
{
	char buf[64];
	char *dot, *end;

	if (!isfinite(v))
		return NULL;
	if (max_decimals < 1)
		max_decimals = 1;
	snprintf(buf, sizeof(buf), "%.*f", max_decimals, v);
	dot = strchr(buf, '.');
	end = buf + strlen(buf) - 1;
	while (dot && end > dot + 1 && *end == '0')
		*end-- = '\0';
	/* -0.0 after rounding a tiny negative value is just 0.0 */
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	return double_as(v, buf);
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
