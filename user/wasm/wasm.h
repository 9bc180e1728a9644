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

/* The version of the model input text this reader reads, the number on its
 * first line ("flowprof-model-input 8"); html_model_input.c writes it. */
#define MODEL_INPUT_VERSION 8

/* Reads the model input text (user/report/html_model_input.c describes it)
 * into s, a zeroed snapshot: every field the model reads, nothing else.
 * text is cut up in place (strtok_r). Refuses a text of another version.
 * Returns 0, or -1 with "model input line N: what" in err; free s with
 * snapshot_free() either way. */
int model_input_read(char *text, struct snapshot *s, char *err, size_t errlen);

#endif
