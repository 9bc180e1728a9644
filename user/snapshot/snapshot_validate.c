// SPDX-License-Identifier: MIT
/*
 * What each value of a snapshot document must be, in one place: the
 * readers snapshot_load.c reads every value with check its type, sign,
 * range and format (integers that fit, finite numbers, RFC 3339 times,
 * histograms in flowprof's bucket layout, handler references that resolve)
 * and on failure write the error that names the file and the field:
 * "snap.json: handlers[3].calls: expected an integer". The loader runs
 * them in document order and stops at the first error, so of a document
 * with several errors the first is the one reported.
 */
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot_int.h"

/* ---- values ------------------------------------------------------------- */

/* "<path>: <ctx>.<key>: <what>", leaving out the parts that are empty. */
int __attribute__((format(printf, 4, 5)))
doc_fail(struct loader *ld, const char *ctx, const char *key, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ld->err || !ld->errlen)
		return -1;
	ctx = str_or_empty(ctx);
	key = str_or_empty(key);
	if (*ctx || *key)
		snprintf(ld->err, ld->errlen, "%s: %s%s%s: %s", ld->path, ctx,
			 *ctx && *key ? "." : "", key, what);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, what);
	return -1;
}

int doc_lookup(struct loader *ld, json_object *obj, const char *ctx, const char *key,
	       bool required, json_object **out)
{
	*out = NULL;
	if (json_object_object_get_ex(obj, key, out))
		return 1;
	return required ? doc_fail(ld, ctx, key, "missing") : 0;
}

int doc_as_u64(struct loader *ld, json_object *v, const char *ctx, const char *key,
	       uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return doc_fail(ld, ctx, key, "expected an integer");
	if (json_object_get_int64(v) < 0)
		return doc_fail(ld, ctx, key, "expected a non-negative integer");
	*out = json_object_get_uint64(v);
	/* json-c 0.16 saturates integers past 2^64 - 1 to UINT64_MAX instead of
	 * failing: take that value as what it almost surely is, an overflow. */
	if (*out == UINT64_MAX)
		return doc_fail(ld, ctx, key, "out of range (at most %llu)",
				(unsigned long long)(UINT64_MAX - 1));
	return 0;
}

int doc_as_int(struct loader *ld, json_object *v, const char *ctx, const char *key, int *out)
{
	uint64_t u;

	if (doc_as_u64(ld, v, ctx, key, &u))
		return -1;
	if (u > INT_MAX)
		return doc_fail(ld, ctx, key, "%llu is too large (at most %d)",
				(unsigned long long)u, INT_MAX);
	*out = (int)u;
	return 0;
}

int doc_as_number(struct loader *ld, json_object *v, const char *ctx, const char *key,
		  double *out)
{
	double d;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return doc_fail(ld, ctx, key, "expected a number");
	d = json_object_get_double(v);
	if (!isfinite(d))
		return doc_fail(ld, ctx, key, "expected a finite number");
	if (d < 0)
		return doc_fail(ld, ctx, key, "expected a non-negative number");
	*out = d;
	return 0;
}

int doc_get_u64(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, uint64_t *out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : doc_as_u64(ld, v, ctx, key, out);
}

int doc_get_int(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, int *out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : doc_as_int(ld, v, ctx, key, out);
}

int doc_get_number(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, double *out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : doc_as_number(ld, v, ctx, key, out);
}

int doc_get_signed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, double *out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, required, &v);

	if (r <= 0)
		return r;
	if ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
	    !isfinite(json_object_get_double(v)))
		return doc_fail(ld, ctx, key, "expected a finite number");
	*out = json_object_get_double(v);
	return 0;
}

int doc_get_bool(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		 bool *out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, false, &v);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return doc_fail(ld, ctx, key, "expected true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int doc_get_str(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, bool nullable, bool non_empty, char **out)
{
	json_object *v;
	int r = doc_lookup(ld, obj, ctx, key, required, &v);

	if (r <= 0)
		return r;
	if (!v && nullable)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return doc_fail(ld, ctx, key, "expected a string");
	if (non_empty && json_object_get_string_len(v) == 0)
		return doc_fail(ld, ctx, key, "expected a non-empty string");
	free(*out);
	*out = xstrdup(json_object_get_string(v));
	return 0;
}

int doc_get_typed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		  bool required, enum json_type type, json_object **out)
{
	int r = doc_lookup(ld, obj, ctx, key, required, out);

	if (r <= 0)
		return r;
	if (!json_object_is_type(*out, type))
		return doc_fail(ld, ctx, key, type == json_type_array ? "expected an array"
								   : "expected an object");
	return 1;
}

int doc_array_len(struct loader *ld, json_object *arr, const char *ctx, const char *key,
		  int *n)
{
	size_t len = json_object_array_length(arr);

	if (len > INT_MAX / 2)
		return doc_fail(ld, ctx, key, "too many elements (%zu)", len);
	*n = (int)len;
	return 0;
}

int doc_expect_object(struct loader *ld, json_object *v, const char *ctx)
{
	return json_object_is_type(v, json_type_object)
		       ? 0 : doc_fail(ld, ctx, NULL, "expected an object");
}

/* ---- formats and references --------------------------------------------- */

/* s matches shape, where 'd' stands for a digit. */
static bool has_shape(const char *s, const char *shape)
{
	for (; *shape; s++, shape++)
		if (*shape == 'd' ? !(*s >= '0' && *s <= '9') : *s != *shape)
			return false;
	return true;
}

int snap_parse_rfc3339(const char *s, double *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, sign = 0;
	double frac = 0;
	time_t t;

	if (!has_shape(s, "dddd-dd-dd") || !s[10] || !has_shape(s + 11, "dd:dd:dd") ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
		return -1;
	s += n;
	if (*s == '.') {
		double scale = 0.1;

		if (!(s[1] >= '0' && s[1] <= '9'))
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!has_shape(s + 1, "dd:dd") ||
		    sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
			return -1;
		s += 1 + n;
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    y < 0 || h < 0 || mi < 0 || sec < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (double)t + frac - sign * (oh * 3600 + om * 60);
	return 0;
}

int doc_check_time(struct loader *ld, const char *ctx, const char *key, const char *value)
{
	double t;

	if (*value && snap_parse_rfc3339(value, &t))
		return doc_fail(ld, ctx, key, "'%s' is not an RFC 3339 time "
				"(e.g. 2026-11-22T23:41:59Z)", value);
	return 0;
}

static int not_a_boundary(struct loader *ld, const char *ctx, uint64_t v)
{
	return doc_fail(ld, ctx, NULL, "%llu ns is not a bucket boundary of flowprof's "
			"histogram layout", (unsigned long long)v);
}

int doc_get_histogram(struct loader *ld, json_object *h, const char *hctx,
		      uint64_t hist[HIST_BUCKETS])
{
	json_object *o, *bounds, *counts;
	char ctx[96], ectx[128];
	int nb = 0, nc = 0, first = -1;

	snprintf(ctx, sizeof(ctx), "%s.histogram", hctx);
	if (doc_get_typed(ld, h, hctx, "histogram", true, json_type_object, &o) < 0 ||
	    doc_get_typed(ld, o, ctx, "bounds_ns", true, json_type_array, &bounds) < 0 ||
	    doc_get_typed(ld, o, ctx, "counts", true, json_type_array, &counts) < 0 ||
	    doc_array_len(ld, bounds, ctx, "bounds_ns", &nb) ||
	    doc_array_len(ld, counts, ctx, "counts", &nc))
		return -1;
	if (nb == 0 && nc == 0)
		return 0;
	if (nb != nc + 1)
		return doc_fail(ld, ctx, "bounds_ns",
				"%d edges for %d counts (expected %d: the lower bound of each "
				"bucket, then the upper end of the last)", nb, nc, nc + 1);
	for (int i = 0; i < nb; i++) {
		uint64_t v, want;
		int b;

		snprintf(ectx, sizeof(ectx), "%s.bounds_ns[%d]", ctx, i);
		if (doc_as_u64(ld, json_object_array_get_idx(bounds, i), ectx, NULL, &v))
			return -1;
		b = hist_boundary_index(v);
		if (i == 0) {
			if (b < 0 || b == HIST_BUCKETS)
				return not_a_boundary(ld, ectx, v);
			first = b;
			continue;
		}
		if (first + i > HIST_BUCKETS)
			return doc_fail(ld, ectx, NULL, "more buckets than flowprof's histogram "
					"layout has (%d)", HIST_BUCKETS);
		want = hist_bucket_lower((unsigned int)(first + i));
		if (v == want)
			continue;
		if (b < 0)
			return not_a_boundary(ld, ectx, v);
		return doc_fail(ld, ectx, NULL, "%llu ns is not the next bucket boundary "
				"(%llu ns): buckets must be contiguous", (unsigned long long)v,
				(unsigned long long)want);
	}
	for (int i = 0; i < nc; i++) {
		snprintf(ectx, sizeof(ectx), "%s.counts[%d]", ctx, i);
		if (doc_as_u64(ld, json_object_array_get_idx(counts, i), ectx, NULL,
			       &hist[first + i]))
			return -1;
	}
	return 0;
}

int doc_get_sumsq(struct loader *ld, json_object *o, const char *ctx, long double *out)
{
	json_object *v;
	double d;
	long double ld_v;

	if (doc_lookup(ld, o, ctx, "sumsq_ns2", true, &v) < 0 ||
	    doc_as_number(ld, v, ctx, "sumsq_ns2", &d))
		return -1;
	/* json-c keeps the number's text: read it at long double precision. */
	errno = 0;
	ld_v = strtold(json_object_get_string(v), NULL);
	if (errno || !isfinite(ld_v) || ld_v < 0)
		return doc_fail(ld, ctx, "sumsq_ns2", "expected a finite non-negative number");
	*out = ld_v;
	return 0;
}

int doc_check_handler_ref(struct loader *ld, struct lh_table *handlers, const char *ctx,
			  const char *key, const char *id)
{
	if (snap_index_get(handlers, id) >= 0)
		return 0;
	return doc_fail(ld, ctx, key, "unknown handler '%s' (not in handlers)", id);
}
