// SPDX-License-Identifier: MIT
/*
 * `flowprof check`: resolve a flow file against the running processes and
 * show each handler's probe points, attaching nothing.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "commands.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"
#include "subcommand.h"

struct check_args {
	const char *flow_path;
	int *pids;
	int n_pids;
};

static const struct argp_option check_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow file (YAML: docs/flow-file.md)", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Resolve against these processes only", 0 },
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
	"Example:\n  flowprof check -f flows.yaml -p 4242";

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

int cmd_check(int argc, char **argv)
{
	struct check_args a = { 0 };
	struct argp argp = { check_options, parse_check, NULL, check_doc, NULL, NULL, NULL };
	struct resolve_opts ro = { .allow_missing = true };
	struct flowfile ff = { 0 };
	struct resolution res = { 0 };
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
		}
	}
	/* the kind after each site is read off its instruction; record
	 * measures what this kernel does there (and may move an entry) */
	if (res.n_sites)
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
	resolution_free(&res);
	flowfile_free(&ff);
	free(a.pids);
	return rc;
}
