/* SPDX-License-Identifier: MIT */
/*
 * Human formatting with honest units, and safe terminal output of names
 * taken from targets. Every number a person reads goes through here, so
 * every report labels its units the same way:
 *   durations  "812 ns", "1.24 µs", "3.10 ms", "2.00 s", "125 s"
 *   rates      "0.50/s", "40.0/s", "812/s", "1.2k/s", "24.5k/s", "3.1M/s"
 */
#ifndef FLOWPROF_UNITS_H
#define FLOWPROF_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Big enough for any formatted value of this file. */
#define UNITS_BUF 32

/* A duration given in ns, auto-scaled to ns/µs/ms/s with three significant
 * digits (ns are whole). ascii writes "us" for "µs". Not finite or negative
 * values print as "-". Returns buf. */
char *units_duration(char *buf, size_t len, double ns, bool ascii);

/* An event rate per second: "40.0/s", "1.2k/s", "3.1M/s". Returns buf. */
char *units_rate(char *buf, size_t len, double per_s);

/* A share in [0, 1] as a whole percentage: "97%"; "<1%" for small non-zero
 * shares, so a reader never sees a misleading "0%". Returns buf. */
char *units_percent(char *buf, size_t len, double share);

/* A copy of s that is safe to print on a terminal: C0 controls and DEL
 * become \n, \t, \r or \xNN; bytes that are not valid UTF-8 become \xNN;
 * C1 controls and the bidirectional overrides (which can make a name
 * display as another) become \u{NNNN}. Everything else, a backslash
 * included, is kept as it is. Caller frees; NULL gives "". */
char *term_escape(const char *s);

/* Decodes one UTF-8 sequence at s (n bytes left, n >= 1). Returns its
 * length and stores the code point, or returns 0 when the bytes are not
 * valid UTF-8 (overlong forms, surrogates, past U+10FFFF, truncated). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Display width of a UTF-8 string, in terminal columns (one per code point;
 * good enough for the names flowprof prints, which term_escape made safe). */
size_t display_width(const char *s);

/* Prints s padded with spaces to width columns, on the left (right_align) or
 * the right; never truncates. */
void print_padded(FILE *out, const char *s, size_t width, bool right_align);

#endif
