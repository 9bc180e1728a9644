/* SPDX-License-Identifier: MIT */
/*
 * A capacity sweep (`flowprof sweep`, docs/sweep.md): the service measured
 * at several load levels, the queueing model fitted on the lowest one, and
 * the model's prediction for every other level held against what was
 * measured there. This header is the sweep's document ("flowprof_sweep": 1):
 * the analysis (fit, predictions, errors, knee and saturation: sweep_fit.c),
 * the JSON written by `sweep -o` (sweep_write.c) and read back by `report`
 * (sweep_load.c), and the table (sweep_table.c). Running the load and the
 * probes is cmd_sweep.c's.
 */
#ifndef FLOWPROF_SWEEP_H
#define FLOWPROF_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "snapshot/snapshot.h"

#define SWEEP_VERSION 1

enum sweep_variable {
	SWEEP_USERS,	/* closed load: {users} concurrent users */
	SWEEP_RATE,	/* open load: {rate} requests per second */
};

enum sweep_step_status {
	STEP_OK,		/* measured */
	STEP_FAILED,		/* the load command failed: not measured */
	STEP_INTERRUPTED,	/* Ctrl-C / SIGTERM during the step: not measured */
};

/* One flow during one step. */
struct sweep_flow {
	char *name;
	double rate_per_s;	/* entry-handler calls per second in the window */
	double mean_ns;		/* entry handler: mean, p50, p99 in the window (NAN: no call) */
	double p50_ns;
	double p99_ns;
	double pred_rate_per_s;	/* NAN: no prediction */
	double pred_response_ns;
};

struct sweep_step {
	double level;		/* users, or requests per second */
	char *command;		/* the load command as run */
	enum sweep_step_status status;
	int exit_status;	/* the load command's; -1 when killed by a signal */
	int signal;		/* the signal that ended it, 0 if none */
	bool stopped_by_sweep;	/* ended by --duration (SIGTERM from flowprof) */
	char *reason;		/* why a step failed; NULL when ok */
	char *output_tail;	/* last lines of a failed load command's output */
	char *started_at;	/* RFC 3339, when the window opened */
	double window_s;	/* measured window: after the settle time, until the load ended */
	struct snapshot snap;	/* the window: maps at its end minus maps at its start */

	/* measured */
	double throughput_per_s;	/* all flows */
	double response_ns;	/* users' view: N/X - Z (closed), or the mean entry time (open) */
	struct sweep_flow *flows;
	int n_flows;

	/* predicted (when the model could be fitted) */
	bool predicted;
	double pred_throughput_per_s;
	double pred_response_ns;
	char *pred_bottleneck;		/* station the model saturates first at this level */
	double pred_bottleneck_utilization;
	double err_throughput;		/* (predicted - measured) / measured */
	double err_response;
};

/* A station of the fitted model. */
struct sweep_station {
	char *name;
	int servers;
	double demand_ns;	/* per request of the measured mix */
	double demand_exclusive_ns; /* the part no other station counts (model.h), as
				       the JMVA export takes it; NAN when not known */
};

struct sweep_fit {
	int step;		/* the step the model was fitted on (lowest load measured) */
	double think_s;		/* Z used for the predictions */
	bool think_fitted;	/* Z from the fitted step (N/X - R), not --think */
	double demand_ns;	/* D: total demand per request */
	double max_throughput_per_s;	/* X_max = min over stations of servers / demand */
	double knee_users;	/* N* = (D + Z) * X_max */
	char *bottleneck;
	struct sweep_station *stations;
	int n_stations;
	char **flow_names;	/* the measured mix */
	double *flow_share;
	int n_flows;
};

struct sweep_summary {
	bool valid;		/* at least one step measured and a fit */
	double measured_saturation_per_s;	/* highest measured throughput */
	double measured_saturation_level;	/* at this step's level */
	bool saturated;		/* throughput stopped growing within the sweep */
	double predicted_saturation_per_s;	/* X_max */
	double saturation_error;	/* (predicted - measured) / measured */
	double measured_knee_users;	/* X_sat * (N_fit / X_fit): where the measured asymptotes meet */
	double predicted_knee_users;	/* N* */
	int measured_knee_step;	/* first step whose users >= the knee; -1 past the last */
	int predicted_knee_step;
	double max_abs_err_throughput;	/* over the predicted steps */
	double max_abs_err_response;
};

struct sweep {
	int version;
	char *host;
	char *kernel;
	char *started_at;
	char *flow_file;
	char *load;		/* the load command template, with {users} or {rate} */
	enum sweep_variable variable;
	double settle_s;
	double think_s;		/* --think; NAN when not given (fitted) */
	double max_window_s;	/* --duration per step; 0 = until the load command ends */
	bool partial;		/* a step failed or was interrupted: fewer steps than asked */
	bool interrupted;
	char *stop_reason;
	double *levels;		/* every level asked for, measured or not */
	int n_levels;
	struct sweep_step *steps;
	int n_steps;
	bool fitted;
	char *fit_error;	/* why no model could be fitted */
	struct sweep_fit fit;
	struct sweep_summary summary;
};

/* "users" or "rate". */
const char *sweep_variable_name(enum sweep_variable v);
const char *sweep_step_status_name(enum sweep_step_status s);

/* A level as a reader says it: "1 user", "8 users", "250/s". Caller frees. */
char *sweep_level_phrase(enum sweep_variable v, double level);

/* The load command with every {users} (or {rate}) replaced by level, printed
 * as an integer when it is one. Caller frees. */
char *sweep_expand(const char *load, enum sweep_variable v, double level);

/* Fills a step's measured figures from its snapshot (flows, throughput,
 * response). think_s is the Z to take off N/X for the users' view. */
void sweep_step_measure(struct sweep_step *st, enum sweep_variable v, double think_s);

/*
 * Fits the queueing model on the lowest measured step and predicts every
 * measured step: closed network, N = the step's users, think time --think or
 * fitted, exact MVA (model.h). servers_from, when not NULL, gives the
 * stations' servers as observed over the whole sweep (threads that ran
 * handlers at any load), since the lowest step may not have used every
 * worker. Fills fit, each step's predictions and errors, and the summary.
 * Returns 0, or -1 with fit_error set when there is nothing to fit.
 */
int sweep_analyze(struct sweep *sw, const struct snapshot *servers_from);

/* The document; sweep_write is atomic (0600). */
char *sweep_to_json(const struct sweep *sw, bool pretty);
int sweep_write(const struct sweep *sw, const char *path);

/* True when buf holds a sweep document (its "flowprof_sweep" key). */
bool sweep_is_document(const char *buf, size_t len);

/* Loads a document written by sweep_write. On error -1, "<path>: <what>" in err. */
int sweep_load(const char *path, struct sweep *sw, char *err, size_t errlen);
int sweep_parse(const char *path, const char *buf, size_t len, struct sweep *sw, char *err,
		size_t errlen);

/* The table: per step measured vs predicted, then the fit and the run's
 * saturation and knee. ascii: "us" for "µs". */
void sweep_print_table(FILE *out, const struct sweep *sw, bool ascii);

void sweep_free(struct sweep *sw);

/* For `flowprof report`: true when the file at path is a sweep document. */
bool sweep_file_is_document(const char *path);

/* `flowprof report SWEEP.json`: the table, or with json the document as
 * loaded and written again. Errors are logged; returns 0 or -1. */
int sweep_report(const char *path, bool json, FILE *out);

#endif
