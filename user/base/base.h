/* SPDX-License-Identifier: MIT */
/*
 * The base every stage stands on: logging, checked allocation, atomic files
 * (util.h); units (units.h); text from targets made safe for each output,
 * and display widths (text.h); plain text tables (text_table.h); the JSON
 * writer (json_out.h); histogram math (histogram_math.h); command-line
 * value parsers (options.h). Code outside user/base/ includes this header
 * only.
 */
#ifndef FLOWPROF_BASE_H
#define FLOWPROF_BASE_H

#include "histogram_math.h"
#include "json_out.h"
#include "options.h"
#include "text.h"
#include "text_table.h"
#include "units.h"
#include "util.h"

#endif
