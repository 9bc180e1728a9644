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
#include <stdio.h>

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

/* The text of jo_num(v, max_decimals) for finite v, in buf (returned):
 * "%.*f", trailing zeros dropped but one decimal kept, no "-0.0". For
 * writers without json-c (the WebAssembly model). */
#define JSON_NUMBER_BUF 64
const char *json_number_text(char buf[JSON_NUMBER_BUF], double v, int max_decimals);

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

/* ---- JSON inside an HTML page; and without json-c (the WebAssembly model) - */

/* Copies the JSON text json to o so that it can sit inside an HTML <script>
 * element: '<', '>' and '&' (only ever inside strings) as \u003c, \u003e,
 * \u0026, which mean the same; so no "</script>" or "<!--" can appear. */
void json_put_script_safe(FILE *o, const char *json);

/* s as a JSON string literal (NULL: null), script-safe as above: '"' and
 * '\\' escaped, C0 controls and DEL as \u00NN; bytes from 0x80 up copied
 * as they are (unlike jo_str(), nothing is made valid UTF-8). */
void json_put_string(FILE *o, const char *s);

#endif
