/* SPDX-License-Identifier: MIT */
/*
 * The model built for the browser (user/wasm/): its entry points
 * (model_wasm.c) are exported to the page's script, not declared here. What
 * native code may use is the model input reader, plain C, for the
 * round-trip test of the page's private format (tests/unit/test_model_input.c).
 */
#ifndef FLOWPROF_WASM_H
#define FLOWPROF_WASM_H

#include <stddef.h>

#include "snapshot/snapshot.h"

/* Reads the model input text (html_report.h, "model input") into s, a
 * zeroed snapshot: what the page's model needs, nothing else. text is cut
 * up in place (strtok_r). Returns 0, or -1 with "model input line N: what"
 * in err; free s with snapshot_free() either way. */
int model_input_read(char *text, struct snapshot *s, char *err, size_t errlen);

#endif
