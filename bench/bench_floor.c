// SPDX-License-Identifier: MIT
/*
 * bench_floor: attaches empty BPF programs (floor.bpf.c) to probe sites of a
 * process, so that `make bench` can measure what a probe hit costs before
 * any accounting is done.
 *
 *   bench_floor MODE PID BINARY SITE...
 *   bench_floor switch
 *
 * Each SITE is a function's entry, ENTRY (its exit seen by a uretprobe), or
 * ENTRY:EXIT (its exit seen by a uprobe at the exit site EXIT, a `ret` or a
 * tail-call `jmp`): file offsets, as flowprof attaches them.
 *
 * MODE is `pair` (perf-event uprobes and uretprobes, libbpf's single links),
 * `multi` (uprobe_multi links: entries, exit sites, returns) or `session`
 * (one uprobe.session link over entries and exit sites). Prints "attached N
 * links in X ms" once everything is attached, then waits until stdin reaches
 * end of file or SIGINT/SIGTERM arrives, detaches and prints "detached in X
 * ms". `switch` attaches an empty program to the sched_switch BTF
 * tracepoint instead (the floor of flowprof's on-CPU tracking), and waits.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "uprobe_multi_link.h"

#define MAX_SITES 4096

enum mode { MODE_PAIR, MODE_MULTI, MODE_SESSION, MODE_SWITCH };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_floor pair|multi|session PID BINARY ENTRY[:EXIT]...\n"
			"       bench_floor switch\n");
	return 2;
}

/* Attaches prog at each offset as perf-event uprobes (or uretprobes). */
static int single_links(struct bpf_program *prog, bool ret, int pid, const char *binary,
			const uint64_t *offsets, int n, struct bpf_link **links, int *n_links)
{
	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(prog, pid, binary,
								     (size_t)offsets[i], &uo);

		if (!l) {
			fprintf(stderr, "bench_floor: %s %s+0x%llx: %s\n", ret ? "uretprobe" : "uprobe",
				binary, (unsigned long long)offsets[i], strerror(errno));
			return -1;
		}
		links[(*n_links)++] = l;
	}
	return 0;
}

/* One uprobe_multi (or session) link of prog over the offsets; 0 if none. */
static int multi_link(struct bpf_program *prog, uint32_t type, uint32_t flags, int pid,
		      const char *binary, const uint64_t *offsets, const uint64_t *cookies,
		      int n, int *fds, int *n_fds)
{
	int fd;

	if (!n)
		return 0;
	fd = create_multi_link(bpf_program__fd(prog), type, flags, binary, offsets, NULL, cookies,
			       (uint32_t)n, pid);
	if (fd < 0) {
		fprintf(stderr, "bench_floor: %s link over %d sites: %s\n", bpf_program__name(prog),
			n, strerror(-fd));
		return -1;
	}
	fds[(*n_fds)++] = fd;
	return 0;
}

int main(int argc, char **argv)
{
	/* entries with a uretprobe exit, entries whose exit is a site, exit sites,
	 * and every session probe point with its cookie (1: no return probe) */
	static uint64_t uret[MAX_SITES], at_sites[MAX_SITES], exits[MAX_SITES];
	static uint64_t all[2 * MAX_SITES], cookies[2 * MAX_SITES];
	static struct bpf_link *links[2 * MAX_SITES];
	static int link_fds[3];
	struct floor_bpf *skel = NULL;
	struct sigaction sa = { 0 };
	int n_links = 0, n_fds = 0, pid = 0, n = 0, n_uret = 0, n_sites = 0, n_all = 0, rc = 1;
	enum mode mode;
	const char *binary = NULL;
	bool pairs;
	double t0;
	char buf[64];

	if (argc == 2 && !strcmp(argv[1], "switch"))
		mode = MODE_SWITCH;
	else if (argc < 5)
		return usage();
	else if (!strcmp(argv[1], "pair"))
		mode = MODE_PAIR;
	else if (!strcmp(argv[1], "multi"))
		mode = MODE_MULTI;
	else if (!strcmp(argv[1], "session"))
		mode = MODE_SESSION;
	else
		return usage();
	if (mode != MODE_SWITCH) {
		pid = atoi(argv[2]);
		binary = argv[3];
		n = argc - 4;
		if (pid <= 0 || n > MAX_SITES)
			return usage();
	}
	for (int i = 0; i < n; i++) {
		char *end;
		uint64_t entry = strtoull(argv[4 + i], &end, 0);

		if (*end == ':') {
			at_sites[n_sites] = entry;
			exits[n_sites++] = strtoull(end + 1, &end, 0);
			all[n_all] = entry;
			cookies[n_all++] = 1;
		} else {
			uret[n_uret++] = entry;
			all[n_all] = entry;
			cookies[n_all++] = 0;
		}
		if (*end)
			return usage();
	}
	for (int i = 0; i < n_sites; i++) {
		all[n_all] = exits[i];
		cookies[n_all++] = 1;
	}

	/* the entry, return and exit-site programs: single links and uprobe_multi */
	pairs = mode == MODE_PAIR || mode == MODE_MULTI;
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_floor: open: %s\n", strerror(errno));
		goto cleanup;
	}
	bpf_program__set_autoload(skel->progs.empty_session, mode == MODE_SESSION);
	bpf_program__set_autoload(skel->progs.empty_entry, pairs);
	bpf_program__set_autoload(skel->progs.empty_return, pairs);
	bpf_program__set_autoload(skel->progs.empty_exit_site, pairs);
	bpf_program__set_autoload(skel->progs.empty_switch, mode == MODE_SWITCH);
	if (mode == MODE_SESSION)
		bpf_program__set_expected_attach_type(skel->progs.empty_session,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_SESSION);
	if (mode == MODE_MULTI) {
		bpf_program__set_expected_attach_type(skel->progs.empty_entry,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.empty_return,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.empty_exit_site,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	}
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "bench_floor: load (%s): %s\n", argv[1], strerror(errno));
		goto cleanup;
	}

	t0 = now_ms();
	switch (mode) {
	case MODE_PAIR:
		if (single_links(skel->progs.empty_entry, false, pid, binary, uret, n_uret, links,
				 &n_links) ||
		    single_links(skel->progs.empty_entry, false, pid, binary, at_sites, n_sites,
				 links, &n_links) ||
		    single_links(skel->progs.empty_exit_site, false, pid, binary, exits, n_sites,
				 links, &n_links) ||
		    single_links(skel->progs.empty_return, true, pid, binary, uret, n_uret, links,
				 &n_links))
			goto cleanup;
		break;
	case MODE_MULTI:
		/* the entries in one link, as flowprof does */
		if (multi_link(skel->progs.empty_entry, FP_BPF_TRACE_UPROBE_MULTI, 0, pid, binary,
			       all, NULL, n, link_fds, &n_fds) ||
		    multi_link(skel->progs.empty_exit_site, FP_BPF_TRACE_UPROBE_MULTI, 0, pid,
			       binary, exits, NULL, n_sites, link_fds, &n_fds) ||
		    multi_link(skel->progs.empty_return, FP_BPF_TRACE_UPROBE_MULTI,
			       FP_BPF_F_UPROBE_MULTI_RETURN, pid, binary, uret, NULL, n_uret,
			       link_fds, &n_fds))
			goto cleanup;
		break;
	case MODE_SWITCH:
		links[n_links] = bpf_program__attach(skel->progs.empty_switch);
		if (!links[n_links]) {
			fprintf(stderr, "bench_floor: attach sched_switch: %s\n", strerror(errno));
			goto cleanup;
		}
		n_links++;
		break;
	case MODE_SESSION:
		if (multi_link(skel->progs.empty_session, FP_BPF_TRACE_UPROBE_SESSION, 0, pid,
			       binary, all, cookies, n_all, link_fds, &n_fds))
			goto cleanup;
		break;
	}
	printf("attached %d links in %.3f ms\n", n_links + n_fds, now_ms() - t0);
	fflush(stdout);

	/* No SA_RESTART: a signal must end the read() below. */
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Held until the benchmark closes our stdin (or signals us). */
	while (!stop && read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	rc = 0;

cleanup:
	t0 = now_ms();
	for (int i = 0; i < n_fds; i++)
		close(link_fds[i]);
	for (int i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	if (!rc) {
		printf("detached in %.3f ms\n", now_ms() - t0);
		fflush(stdout);
	}
	floor_bpf__destroy(skel);
	return rc;
}
