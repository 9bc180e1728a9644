/* SPDX-License-Identifier: MIT */
/*
 * `flowprof report --html FILE` and `--dot FILE`: the snapshot and its model
 * for people who look before they read.
 *
 * The HTML report is one self-contained file (no network access): the flow
 * graph as SVG (laid out by Graphviz: handlers grouped by bundle, edges
 * labelled with visit ratios, nodes coloured by their station's utilization,
 * the bottleneck marked), a latency histogram per handler, the model's
 * tables, and sliders for each flow's rate and each bundle's instances and
 * workers. The sliders rerun the model in the page: user/model/ itself,
 * compiled to WebAssembly (user/wasm/model_wasm.c), so the page's numbers
 * equal `flowprof report --target ... --json` for the same settings. Every
 * name from the target is escaped (HTML, SVG, JSON inside <script>, DOT).
 *
 * The model input: the page hands the snapshot to the WebAssembly model as
 * text, one record per line, written by html_model_input.c (whose header
 * describes the format and its version) and read by
 * user/wasm/model_input_reader.c; tests/unit/test_model_input.c holds the
 * two to each other.
 */
#ifndef FLOWPROF_HTML_REPORT_H
#define FLOWPROF_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "model/model.h"
#include "snapshot/snapshot.h"

/* Writes the HTML report of s to path (atomically, mode 0600: it names
 * internal symbols, as the snapshot does), with the
 * model options of the command line as the page's starting settings (o may
 * be NULL). snapshot_path names the snapshot in the page's equivalent
 * command line. Returns 0, or -1 with the reason in err. */
int html_report_write(const struct snapshot *s, const struct model_opts *o,
		      const char *snapshot_path, const char *path, char *err, size_t errlen);

/* Writes the flow graph of the HTML report as a Graphviz DOT file. */
int dot_write(const struct snapshot *s, const struct model_opts *o, const char *path, char *err,
	      size_t errlen);

/* The model input text of s (see above; html_model_input.c). Caller frees. */
char *html_model_input(const struct snapshot *s);

/*
 * `flowprof report SWEEP.json --html FILE` (sweep_html.c): the sweep's page,
 * one self-contained file without any script: throughput and response time
 * against the step's level as SVG charts (measured as points, the model's
 * prediction as a line, the knee and the saturation marked) and a table per
 * step. sweep_path names the document in the page. Written atomically, mode
 * 0600. Returns 0, or -1 with the reason in err.
 */
struct sweep;
int sweep_html_write(const struct sweep *sw, const char *sweep_path, const char *path,
		     char *err, size_t errlen);

#endif
