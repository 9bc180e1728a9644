/* SPDX-License-Identifier: MIT */
/*
 * The flow graph of the HTML report (and of `report --dot`): handlers
 * grouped by bundle, edges labelled with visit ratios, nodes coloured by
 * their station's utilization, the bottleneck marked.
 */
#ifndef FLOWPROF_FLOW_GRAPH_H
#define FLOWPROF_FLOW_GRAPH_H

#include <stddef.h>

#include "model/model.h"
#include "snapshot/snapshot.h"

/* The DOT text of the graph of s, coloured by m. Caller frees. */
char *flow_graph_dot(const struct snapshot *s, const struct model *m);

/* The SVG of a DOT text laid out by Graphviz, without the XML prolog; NULL
 * (and a note in err) when Graphviz cannot. Caller frees. */
char *flow_graph_svg(const char *dot, char *err, size_t errlen);

/* The model's CPU station, or -1. */
int cpu_station(const struct model *m);

#endif
