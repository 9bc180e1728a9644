/* SPDX-License-Identifier: MIT */
/* Private to user/model/: the uncertainty of a handler's corrected times. */
#ifndef FLOWPROF_MODEL_UNCERTAINTY_H
#define FLOWPROF_MODEL_UNCERTAINTY_H

#include "model.h"

/* Fills mh->unc from h's histogram and counts and mh's corrected times and
 * probe_unc_ns (set those first). Leaves it zero when h has no calls. */
void model_handler_uncertainty(const struct snap_handler *h, struct model_handler *mh);

#endif
