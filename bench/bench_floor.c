// SPDX-License-Identifier: MIT
/*
 * bench_floor: attaches empty BPF programs (floor.bpf.c) to probe sites of a
 * process, so that `make bench` can measure what a probe hit costs before
 * any accounting is done.
 *
 *   bench_floor MODE PID BINARY OFFSET...
 *
 * MODE is `pair` (a perf-event uprobe and uretprobe per site, libbpf's
 * single links), `multi` (one uprobe_multi entry link and one return link)
 * or `session` (one uprobe.session link). Prints "attached N links in X ms"
 * once everything is attached, then waits until stdin reaches end of file or
 * SIGINT/SIGTERM arrives, detaches and prints "detached in X ms".
 */
#include <errno.h>
#include <signal.h>
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

enum mode { MODE_PAIR, MODE_MULTI, MODE_SESSION };

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
	fprintf(stderr, "usage: bench_floor pair|multi|session PID BINARY OFFSET...\n");
	return 2;
}

int main(int argc, char **argv)
{
	static uint64_t offsets[MAX_SITES];
	static struct bpf_link *links[2 * MAX_SITES];
	static int link_fds[2];
	struct floor_bpf *skel = NULL;
	struct sigaction sa = { 0 };
	int n_links = 0, n_fds = 0, pid, n, rc = 1;
	enum mode mode;
	const char *binary;
	double t0;
	char buf[64];

	if (argc < 5)
		return usage();
	if (!strcmp(argv[1], "pair"))
		mode = MODE_PAIR;
	else if (!strcmp(argv[1], "multi"))
		mode = MODE_MULTI;
	else if (!strcmp(argv[1], "session"))
		mode = MODE_SESSION;
	else
		return usage();
	pid = atoi(argv[2]);
	binary = argv[3];
	n = argc - 4;
	if (pid <= 0 || n > MAX_SITES)
		return usage();
	for (int i = 0; i < n; i++)
		offsets[i] = strtoull(argv[4 + i], NULL, 0);

	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_floor: open: %s\n", strerror(errno));
		goto cleanup;
	}
	bpf_program__set_autoload(skel->progs.empty_session, mode == MODE_SESSION);
	bpf_program__set_autoload(skel->progs.empty_entry, mode != MODE_SESSION);
	bpf_program__set_autoload(skel->progs.empty_return, mode != MODE_SESSION);
	if (mode == MODE_SESSION)
		bpf_program__set_expected_attach_type(skel->progs.empty_session,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_SESSION);
	if (mode == MODE_MULTI) {
		bpf_program__set_expected_attach_type(skel->progs.empty_entry,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.empty_return,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	}
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "bench_floor: load (%s): %s\n", argv[1], strerror(errno));
		goto cleanup;
	}

	t0 = now_ms();
	if (mode == MODE_PAIR) {
		for (int i = 0; i < n; i++) {
			for (int ret = 0; ret <= 1; ret++) {
				LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret);
				struct bpf_program *p = ret ? skel->progs.empty_return
							    : skel->progs.empty_entry;
				struct bpf_link *l =
					bpf_program__attach_uprobe_opts(p, pid, binary, offsets[i], &uo);

				if (!l) {
					fprintf(stderr, "bench_floor: uprobe %s+0x%llx: %s\n", binary,
						(unsigned long long)offsets[i], strerror(errno));
					goto cleanup;
				}
				links[n_links++] = l;
			}
		}
	} else {
		int entry_fd = bpf_program__fd(mode == MODE_SESSION ? skel->progs.empty_session
								    : skel->progs.empty_entry);
		int fd = create_multi_link(entry_fd,
					   mode == MODE_SESSION ? FP_BPF_TRACE_UPROBE_SESSION
								: FP_BPF_TRACE_UPROBE_MULTI,
					   0, binary, offsets, NULL, NULL, (uint32_t)n, pid);

		if (fd < 0) {
			fprintf(stderr, "bench_floor: %s link: %s\n", argv[1], strerror(-fd));
			goto cleanup;
		}
		link_fds[n_fds++] = fd;
		if (mode == MODE_MULTI) {
			fd = create_multi_link(bpf_program__fd(skel->progs.empty_return),
					       FP_BPF_TRACE_UPROBE_MULTI, FP_BPF_F_UPROBE_MULTI_RETURN,
					       binary, offsets, NULL, NULL, (uint32_t)n, pid);
			if (fd < 0) {
				fprintf(stderr, "bench_floor: multi return link: %s\n", strerror(-fd));
				goto cleanup;
			}
			link_fds[n_fds++] = fd;
		}
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
