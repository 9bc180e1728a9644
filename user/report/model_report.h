/* SPDX-License-Identifier: MIT */
/*
 * The model (user/model/model.h) for readers: the tables `flowprof report`
 * prints after the snapshot's own report, and the "model" object that
 * `report --json` adds to the snapshot document (docs/model.md).
 */
#ifndef FLOWPROF_MODEL_REPORT_H
#define FLOWPROF_MODEL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "model/model.h"

/* A station's kind as every report names it: "pool", "serial", "serial
 * handler", "cpu". */
const char *station_kind_name(enum model_station_kind k);

/* The station whose utilization handler h shows (top's UTIL column, the
 * colour of its node in the page's graph): its serial-handler station,
 * else its bundle's; -1 when it has none. */
int station_shown_for_handler(const struct model *m, int h);

/* Prints the model's sections: target and bottleneck, stations, demand per
 * flow, flows at the target, the closed workload, self-checks, corrected
 * handler times and notes. ascii: "us" for "µs". Names are terminal-escaped;
 * a load beyond capacity prints "exceeds capacity", never a negative or
 * infinite number. */
void model_print(FILE *out, const struct model *m, bool ascii);

/* model_print() in two parts: the target, bottleneck and headroom lines,
 * then every other section. */
void model_print_summary(FILE *out, const struct model *m, bool ascii);
/* "  FLOW exceeds capacity: STATION would need U of its N servers", one line
 * per flow beyond capacity at the target. */
void model_print_exceeding(FILE *out, const struct model *m);
void model_print_details(FILE *out, const struct model *m, bool ascii);
/* The closed workload's table (--users, --think): one of the details. */
void model_print_closed(FILE *out, const struct model *m, bool ascii);

/*
 * The document's "model" object (caller puts it with json_object_put()):
 *   { "bottleneck": { "station", "handler", "utilization" } | null,
 *     "stations": [ { "name", "servers", "utilization", "demand_ns": {flow: ns}, ... } ],
 *     "flows": [ { "name", "rate_per_s", "max_rate_per_s", "predicted_mean_ns",
 *                  "predicted_p99_ns", ... } ],
 *     ... }
 * Numbers that do not exist (beyond capacity, unknown) are null; every
 * extra field is listed in docs/model.md.
 */
json_object *model_to_json(const struct model *m);

#endif
