// SPDX-License-Identifier: MIT
/*
 * flowprof: a kernel-assisted profiler for request-handling services.
 * Command table (as bpftool does it); each command parses its own options.
 */
#include <argp.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "base/base.h"
#include "commands.h"

#define FLOWPROF_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "record", cmd_record, "attach to processes, measure every handler, write a snapshot" },
	{ "report", cmd_report, "print a snapshot as tables, model it, or re-emit it as JSON" },
	{ "check", cmd_check, "resolve a flow file against the running processes, attach nothing" },
	{ "merge", cmd_merge, "merge snapshots from several hosts or runs exactly" },
	{ "sweep", cmd_sweep, "drive load at several levels, measure each, hold the model against it" },
	{ "export", cmd_export, "write the fitted model for Java Modelling Tools (JMVA)" },
	{ "top", cmd_top, "watch handlers live, refreshed every interval, like top(1)" },
	{ "serve", cmd_serve, "serve live metrics to Prometheus (OpenMetrics over HTTP)" },
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < 1)
		return 0;
	if (level == LIBBPF_WARN && log_verbosity < 1)
		return 0; /* fallbacks are reported by flowprof itself */
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: flowprof COMMAND [OPTION...]\n"
		"Measure the handlers of running services with eBPF, find the bottleneck,\n"
		"and model what happens at another load.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nExamples:\n"
		"  sudo flowprof record -f flows.yaml -p 4242 -d 30 -o snap.json\n"
		"  flowprof report snap.json\n"
		"  flowprof report snap.json --target checkout=800/s\n"
		"\n'flowprof COMMAND --help' describes each command; see also flowprof(1).\n");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	/* Large blocks (the 5.5 MB kernel BTF that libbpf reads and frees, a
	 * snapshot's handler array, the JSON text) get their own mappings and go
	 * back to the kernel when freed. Without this, glibc raises the
	 * threshold to the largest block freed so far, and later large blocks
	 * stay resident in the heap after free. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	remember_command_line(argc, argv);
	libbpf_set_print(libbpf_log);
	/* argp exits with EX_USAGE (64) on a bad command line; flowprof
	 * documents 2, as most command-line tools do. */
	argp_err_exit_status = EXIT_USAGE;
	if (!name) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
		printf("flowprof %s (libbpf %s)\n", FLOWPROF_VERSION, libbpf_version_string());
		return EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(name, commands[i].name)) {
			char prog[64];

			/* argp names the program in messages: "flowprof record: ..." */
			snprintf(prog, sizeof(prog), "flowprof %s", name);
			argv[1] = prog;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "flowprof: unknown command '%s'\n\n", name);
	usage(stderr);
	return EXIT_USAGE;
}
