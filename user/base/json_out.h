/* SPDX-License-Identifier: MIT */
/*
 * Building flowprof's JSON documents with json-c, so that every writer
 * prints numbers the same way and every string from a target is escaped
 * (and made valid UTF-8) by one piece of code.
 */
#ifndef FLOWPROF_JSON_OUT_H
#define FLOWPROF_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

/* A string; NULL gives JSON null. Bytes that are not valid UTF-8 become
 * U+FFFD so the document stays valid JSON; json-c escapes the rest. */
json_object *jo_str(const char *s);

/* An unsigned integer, exact over the whole uint64 range. */
json_object *jo_u64(uint64_t v);

/* A signed integer. */
json_object *jo_int(int64_t v);

/* A derived figure, rounded to at most max_decimals and printed without
 * trailing zeros but with at least one decimal ("1234.5", "2.0"). Not
 * finite gives null (JSON has no NaN). */
json_object *jo_num(double v, int max_decimals);

/* A measured double printed with the fewest digits that read back as the
 * same double, so load -> write -> load is exact. */
json_object *jo_num_exact(double v);

/* A long double (e.g. a sum of squares) printed so that it reads back
 * exactly: whole values below 2^64 as integers, others in %.20Le form. */
json_object *jo_long_double(long double v);

/* Prints this array (of numbers) on one line even in pretty output: long
 * histogram arrays stay readable. Returns arr. */
json_object *jo_inline_array(json_object *arr);

/* Adds key -> val to obj (json-c copies the key; a later add of the same
 * key replaces the value). */
void jo_add(json_object *obj, const char *key, json_object *val);

/* Serializes: pretty (2-space indent) or compact, '/' never escaped, with a
 * final newline. Caller frees. */
char *jo_to_string(json_object *obj, bool pretty);

/* The same text without the final newline, in json-c's own buffer (no
 * copy: valid until obj is put or serialized again); its length in *len. */
const char *jo_text(json_object *obj, bool pretty, size_t *len);

#endif
