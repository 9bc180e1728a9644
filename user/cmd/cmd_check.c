// SPDX-License-Identifier: MIT
/*
 * `flowprof check`: resolve a flow file against the running processes and
 * show each handler's probe points, attaching nothing. With --measure, what
 * each handler's probes will cost a call on this host too, from the
 * calibration record runs (flowprof's own functions, probed), with the kind
 * this kernel was seen to give each probe: still nothing on the targets.
 */
#include <argp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach.h"
#include "base/base.h"
#include "commands.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"
#include "subcommand.h"

/* Calibration rounds --measure runs beyond record's first ones (a few ms each). */
#define CHECK_CALIB_ROUNDS 8

struct check_args {
	const char *flow_path;
	int *pids;
	int n_pids;
	bool measure;
};

static const struct argp_option check_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow file (YAML: docs/flow-file.md)", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Resolve against these processes only", 0 },
	{ "measure", 'm', NULL, 0,
	  "Also measure what each handler's probes will cost a call on this host (loads "
	  "flowprof's BPF programs and times its own functions, probed; nothing is attached "
	  "to the targets; needs root)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more", 0 },
	{ 0 },
};

static error_t parse_check(int key, char *arg, struct argp_state *state)
{
	struct check_args *a = state->input;

	switch (key) {
	case 'f':
		a->flow_path = arg;
		break;
	case 'p':
		parse_pid_option(state, arg, &a->pids, &a->n_pids);
		break;
	case 'm':
		a->measure = true;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!a->flow_path)
			argp_error(state, "no flow file: use -f FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char check_doc[] =
	"Resolve every handler of a flow file to probe points without attaching.\v"
	"Prints each handler's symbols, binary, file offset and probe-site class,\n"
	"then everything that could not be resolved and why (\"N problems\"), and\n"
	"the warnings and notes apart. Exit status 0 when everything resolved,\n"
	"1 otherwise.\n\n"
	"With --measure (root), each handler also gets what its probes will cost\n"
	"its process a call here, entry and exit, and what this kernel does at\n"
	"each (optimized, emulated, single-step): measured, not read off the\n"
	"instruction, as record measures it when it attaches.\n\n"
	"Examples:\n  flowprof check -f flows.yaml -p 4242\n"
	"  flowprof check -m -f flows.yaml -p 4242";

/* "\nN <what>s:" and the messages of that kind, when there are any. */
static void print_problems(const struct resolution *res, enum problem_kind kind,
			   const char *what)
{
	int n = 0;

	for (int i = 0; i < res->n_problems; i++)
		n += res->problem_kinds[i] == kind;
	if (!n)
		return;
	printf("\n%d %s%s:\n", n, what, n == 1 ? "" : "s");
	for (int i = 0; i < res->n_problems; i++) {
		char *p;

		if (res->problem_kinds[i] != kind)
			continue;
		p = term_escape(res->problems[i]);
		printf("  %s\n", p);
		free(p);
	}
}

/* How a function site's calls will be seen to end (user/attach/groups.c
 * decides, with the calibration's costs): its exit sites, or a uretprobe
 * where nothing unwinds through it and that is measured cheaper. */
static void print_exits(const struct probe_site *s)
{
	size_t canary = 0;
	bool unwinds = s->unwinds || s->go;

	if (s->kind != PROBE_FUNCTION)
		return;
	for (size_t k = 0; k < s->n_exits; k++)
		canary += s->exits[k].alt_offset != 0;
	if (s->exits_unknown && !unwinds) {
		char *why = term_escape(s->exits_unknown);

		printf("  %-24s exits: a uretprobe (%s)\n", "", why);
		free(why);
		return;
	}
	printf("  %-24s exits: %zu site%s%s", "", s->n_exits, s->n_exits == 1 ? "" : "s",
	       s->n_exits && s->exits[0].foreign ? " of the function it jumps to" : "");
	if (canary)
		printf(" (%zu with a stack-protector check ahead)", canary);
	if (s->exits_unknown) {
		char *why = term_escape(s->exits_unknown);

		printf(", not all (%s)", why);
		free(why);
	}
	printf("%s\n", unwinds ? "; something unwinds here: never a uretprobe"
				: ", or a uretprobe, whichever is measured cheaper");
}

/* One slot of a handler's probes: "entry push, emulated". */
static void print_slot(const struct recorder_info *ri, enum cost_slot slot, bool entry)
{
	const char *as = ri->costs[slot].behaves_as;

	printf("%s %s", entry ? "entry" : "exit", cost_slot_name(slot));
	if (as && strcmp(as, cost_slot_name(slot)))
		printf(", %s", as);
}

/*
 * What a handler's probes cost its process a call (--measure): its dearest
 * entry and exit as placed (user/attach/groups.c), from the calibration's
 * tight loop (warm caches) to its rounds after the caches were cleared
 * (cold): each slot's hit_ns give or take its jitter_ns, which spans both
 * (user/attach/calibrate.c). A service's calls fall in between.
 */
static void print_cost(const struct recorder_info *ri, int h)
{
	const struct handler_probes *hp = &ri->handlers[h];
	const struct slot_cost *en = &ri->costs[hp->entry], *ex = &ri->costs[hp->exit];
	char lo[UNITS_BUF], hi[UNITS_BUF];
	double warm, cold;

	if (!hp->n_sites)
		return;
	if (!hp->entry || !en->measured || (hp->exit && !ex->measured)) {
		printf("  %-24s cost: not measured here\n", "");
		return;
	}
	warm = fmax(0, en->hit_ns - en->jitter_ns);
	cold = en->hit_ns + en->jitter_ns;
	if (hp->exit) {
		warm += fmax(0, ex->hit_ns - ex->jitter_ns);
		cold += ex->hit_ns + ex->jitter_ns;
	}
	printf("  %-24s cost: %s a call with warm caches to %s with cold ones (", "",
	       units_duration(lo, sizeof(lo), warm, !locale_is_utf8()),
	       units_duration(hi, sizeof(hi), cold, !locale_is_utf8()));
	print_slot(ri, hp->entry, true);
	if (hp->exit) {
		printf("; ");
		print_slot(ri, hp->exit, false);
	}
	printf(")\n");
}

int cmd_check(int argc, char **argv)
{
	struct check_args a = { 0 };
	struct argp argp = { check_options, parse_check, NULL, check_doc, NULL, NULL, NULL };
	struct resolve_opts ro = { .allow_missing = true };
	struct flowfile ff = { 0 };
	struct resolution res = { 0 };
	struct recorder *rec = NULL;
	const struct recorder_info *ri = NULL;
	int rc = EXIT_ERROR;
	char err[1024];

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	if (flowfile_load(a.flow_path, &ff, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	ro.pids = a.pids;
	ro.n_pids = a.n_pids;
	if (resolve_flowfile(&ff, &ro, &res, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	if (a.measure && res.n_sites) {
		/* the calibration record runs, and its choice of each site's
		 * probes, with nothing attached to the targets */
		struct attach_opts ao = { .mode = ATTACH_AUTO, .exits = EXITS_AUTO, .plan_only = true };

		if (require_bpf_capabilities("check"))
			goto cleanup;
		if (recorder_start(&rec, &ff, &res, &ao, err, sizeof(err))) {
			log_error("%s", err);
			goto cleanup;
		}
		/* record's first rounds are few (it re-measures as it goes):
		 * more here, for a steadier figure */
		for (int i = 0; i < CHECK_CALIB_ROUNDS; i++)
			recorder_recalibrate(rec);
		ri = recorder_info(rec);
	}
	/* Paths and symbols come from the target: escaped for the terminal. */
	for (int b = 0; b < ff.n_bundles; b++) {
		const struct resolved_bundle *rb = &res.bundles[b];
		char *exe = term_escape(rb->binary ? rb->binary : "(executable unknown)");

		printf("bundle %s: %s, %d process%s", ff.bundles[b].name, exe, rb->n_pids,
		       rb->n_pids == 1 ? "" : "es");
		free(exe);
		for (int i = 0; i < rb->n_pids; i++)
			printf("%s%d", i ? "," : " (pid ", rb->pids[i]);
		printf("%s\n", rb->n_pids ? ")" : "");
		for (int h = ff.bundles[b].first_handler;
		     h < ff.bundles[b].first_handler + ff.bundles[b].n_handlers; h++) {
			int n = 0;

			for (size_t i = 0; i < res.n_sites; i++) {
				const struct probe_site *s = &res.sites[i];
				char *sym, *bin;

				if (s->handler != h)
					continue;
				sym = term_escape(s->symbol);
				bin = term_escape(s->binary);
				printf("  %-24s %s", n++ ? "" : ff.handlers[h].id, sym);
				if (s->demangled) {
					char *dem = term_escape(s->demangled);

					printf(" (%s)", dem);
					free(dem);
				}
				printf("  %s+0x%llx  %s", bin, (unsigned long long)s->offset,
				       site_class_name(s->cls));
				if (s->pid > 0)
					printf("  pid %d", s->pid);
				printf("\n");
				print_exits(s);
				free(sym);
				free(bin);
			}
			if (!n)
				printf("  %-24s %s\n", ff.handlers[h].id,
				       rb->excluded ? "(left out: none of the bundle's processes is among -p)"
						    : "(unresolved)");
			else if (ri)
				print_cost(ri, h);
		}
	}
	/* the kind after each site is read off its instruction; record
	 * measures what this kernel does there (and may move an entry) */
	if (ri)
		printf("(site kinds as read off each first instruction; each cost as measured here "
		       "on flowprof's own functions, probed as record would place them: the CPU "
		       "time a call adds to its process)\n");
	else if (res.n_sites)
		printf("(site kinds as read off each first instruction: what this kernel does there "
		       "is measured when record attaches, and --entry auto may move an entry to a "
		       "cheaper instruction; record -v and the report's SITE column say)\n");
	/* Problems are what was left unresolved (the exit status); warnings and
	 * notes are listed apart, and not counted among them. */
	print_problems(&res, PROBLEM_ERROR, "problem");
	print_problems(&res, PROBLEM_WARNING, "warning");
	print_problems(&res, PROBLEM_NOTE, "note");
	rc = res.n_errors ? EXIT_ERROR : EXIT_OK;
cleanup:
	recorder_free(rec);
	resolution_free(&res);
	flowfile_free(&ff);
	free(a.pids);
	return rc;
}
