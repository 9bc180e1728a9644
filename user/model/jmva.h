/* SPDX-License-Identifier: MIT */
/*
 * The fitted model as a Java Modelling Tools JMVA document (the XML that
 * JMT's exact MVA solver opens: JMTmodel.xsd), so people can go on with it
 * in the standard tool. `flowprof export snap.json --jmt model.jmva`.
 *
 *   classes   one per flow: open at the flow's rate, or closed (users
 *             spread over the flows by their measured mix)
 *   stations  one per model station: each bundle's worker pool, serial
 *             bundles and handlers, the host's CPUs; "listation" with its
 *             servers; a "delaystation" for the think time of closed classes
 *   demands   per class and station: servicetime x visit = the model's
 *             demand (seconds), visits = the model's queueing points
 *
 * The layout follows JMT's own writer and examples (tests/jmt/).
 */
#ifndef FLOWPROF_JMVA_H
#define FLOWPROF_JMVA_H

#include "model.h"

struct jmva_opts {
	int users;		/* > 0: closed classes with this many users in all */
	double think_s;		/* closed: think time, a delay station when > 0 */
	const char *description; /* free text for <description>; NULL: none */
};

/* The document (UTF-8, newline-terminated). Caller frees. */
char *jmva_document(const struct model *m, const struct jmva_opts *o);

/* Closed populations per flow: users split by the measured mix with the
 * largest-remainder method, so they add up to users exactly. share has n
 * entries (any scale); out gets n integers. */
void jmva_split_users(int users, const double *share, int n, int *out);

#endif
