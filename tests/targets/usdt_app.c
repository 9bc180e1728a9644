// SPDX-License-Identifier: MIT
/*
 * usdt_app: a target with USDT probes (sys/sdt.h, systemtap-sdt-dev), for
 * tests/e2e/test_realworld_usdt.py and the 3-process bundle test.
 *
 *   usdt_app [-w] [-l] [-n REQUESTS] [-q QUERIES]
 *
 * Runs REQUESTS x handle_request(), each calling QUERIES x db_query().
 * Probes:
 *   app:req__start / app:req__done    around each request, semaphore-gated:
 *                                     they fire only while a tracer has
 *                                     raised app_req__start_semaphore
 *   app:query__start / app:query__done around each query, no semaphore
 * -w: print "ready PID" and wait for one byte on stdin before the requests.
 * -l: after the report, stay until a byte or EOF arrives on stdin.
 * At the end it prints one JSON line: its pid, the requests and queries it
 * made, and how many requests saw the semaphore raised.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

/* sdt.h names the semaphore of provider:name "provider_name_semaphore". */
volatile unsigned short app_req__start_semaphore __attribute__((section(".probes")));
volatile unsigned short app_req__done_semaphore __attribute__((section(".probes")));

static volatile unsigned long sink;

void db_query(int q);

__attribute__((noinline)) int handle_request(int id, int queries)
{
	int gated = 0;

	if (app_req__start_semaphore) {
		gated = 1;
		STAP_PROBE1(app, req__start, id);
	}
	for (int q = 0; q < queries; q++)
		db_query(q);
	if (app_req__done_semaphore)
		STAP_PROBE2(app, req__done, id, queries);
	return gated;
}

/* From here on, probes without a semaphore (sdt.h's own macros, redefined). */
#undef _SDT_NOTE_SEMAPHORE_USE
#define _SDT_NOTE_SEMAPHORE_USE(provider, name)
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n) _SDT_ASM_1(_SDT_ASM_ADDR 0)

__attribute__((noinline)) void db_query(int q)
{
	STAP_PROBE1(app, query__start, q);
	for (int i = 0; i < 200; i++)
		sink += (unsigned long)i * (unsigned long)q;
	STAP_PROBE1(app, query__done, q);
}

int main(int argc, char **argv)
{
	int requests = 100, queries = 2, wait = 0, linger = 0, opt, gated = 0;
	char byte;

	while ((opt = getopt(argc, argv, "wln:q:")) != -1) {
		switch (opt) {
		case 'w': wait = 1; break;
		case 'l': linger = 1; break;
		case 'n': requests = atoi(optarg); break;
		case 'q': queries = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-w] [-l] [-n REQUESTS] [-q QUERIES]\n", argv[0]);
			return 2;
		}
	}
	if (wait) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (read(0, &byte, 1) != 1)
			return 1;
	}
	for (int i = 0; i < requests; i++)
		gated += handle_request(i, queries);
	printf("{\"target\": \"usdt_app\", \"pid\": %d, \"requests\": %d, \"queries\": %d, "
	       "\"gated\": %d}\n", (int)getpid(), requests, requests * queries, gated);
	fflush(stdout);
	if (linger)
		(void)!read(0, &byte, 1);
	return 0;
}
