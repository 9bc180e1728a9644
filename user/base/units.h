/* SPDX-License-Identifier: MIT */
/*
 * Human formatting with honest units. Every number a person reads goes
 * through here, so every report labels its units the same way:
 *   durations  "812 ns", "1.24 µs", "3.10 ms", "2.00 s", "125 s"
 *   rates      "0.50/s", "40.0/s", "812/s", "1.2k/s", "24.5k/s", "3.1M/s"
 *   errors     "+4.2%", "-12%"
 */
#ifndef FLOWPROF_UNITS_H
#define FLOWPROF_UNITS_H

#include <stdbool.h>
#include <stddef.h>

/* Big enough for any formatted value of this file. */
#define UNITS_BUF 32

/* A duration given in ns, auto-scaled to ns/µs/ms/s with three significant
 * digits (ns are whole). ascii writes "us" for "µs". Not finite or negative
 * values print as "-". Returns buf. */
char *units_duration(char *buf, size_t len, double ns, bool ascii);

/* An event rate per second: "40.0/s", "1.2k/s", "3.1M/s". Returns buf. */
char *units_rate(char *buf, size_t len, double per_s);

/* A signed relative error, (predicted - measured) / measured, as a
 * percentage: "+4.2%" within 10%, "-12%" beyond (a tenth of a percent says
 * nothing there); "-" when not finite. Returns buf. */
char *units_relative_error(char *buf, size_t len, double error);

/* A share in [0, 1] as a whole percentage: "97%"; "<1%" for small non-zero
 * shares, so a reader never sees a misleading "0%". Returns buf. */
char *units_percent(char *buf, size_t len, double share);

/* How sure a value is, as a share of it: "±1.2%", "±15%", "±<0.1%"; as a
 * duration when the value is 0 or the share would pass 1000% ("±1.30 µs").
 * ascii writes "+-". Returns buf. */
char *units_uncertainty(char *buf, size_t len, double value, double err, bool ascii);

#endif
