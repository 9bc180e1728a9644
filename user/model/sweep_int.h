/* SPDX-License-Identifier: MIT */
/*
 * Private to user/model/: what the sweep's files share (sweep.h is the
 * interface; code outside the folder includes model/model.h only).
 *
 *   sweep.c        levels and names, a step's measured figures, freeing
 *   sweep_fit.c    the model fitted on the lowest step, the predictions of
 *                  every other step, and the run's summary
 *   sweep_write.c  the document (JSON), written atomically
 *   sweep_load.c   the document read back
 *   sweep_table.c  the table, and `flowprof report` of a sweep document
 */
#ifndef FLOWPROF_SWEEP_INT_H
#define FLOWPROF_SWEEP_INT_H

#include "sweep.h"

/* A level as a number: "8", or "2.5" for a level that is not whole. Caller
 * frees. */
char *sweep_level_text(double level);

/* Frees what a fit holds and zeroes it. */
void sweep_fit_free(struct sweep_fit *f);

#endif
