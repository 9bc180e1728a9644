"""Shared by the tests of the views (top, serve, HTML report): a small target
whose calls are driven from stdin and which counts and times its own calls,
so every figure a view shows can be checked against the target's own clock.

    viewtarget           prints "ready PID", then reads commands:
      loop               one thread calls vt_request() until "stop"; prints "looping"
      stop               ends the loop; prints "stopped REQUESTS SLOW SLOW_MEDIAN_NS"
      run N              calls vt_request() N times; prints "done REQUESTS SLOW SLOW_MEDIAN_NS"
      count              prints "count REQUESTS"
      quit               exits 0

vt_request() calls vt_fast() (a short spin) every time and vt_slow() (a
3 ms sleep) every 4th time. REQUESTS and SLOW are the calls made since the
start; SLOW_MEDIAN_NS is the median of vt_slow()'s durations by the target's
own clock.
"""
import os
import subprocess
import tempfile

import fptest

SLOW_US = 3000

SOURCE = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOW 100000
static volatile unsigned long sink;
static atomic_ulong requests, slow_calls;
static atomic_int stop_loop;
static unsigned long long slow_ns[MAX_SLOW];

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

__attribute__((noinline)) void vt_fast(void)
{
	for (int i = 0; i < 2000; i++)
		sink += (unsigned long)i;
}

__attribute__((noinline)) void vt_slow(void)
{
	unsigned long long t0 = now_ns();
	unsigned long n;

	usleep(SLOW_US);
	n = atomic_fetch_add(&slow_calls, 1);
	if (n < MAX_SLOW)
		slow_ns[n] = now_ns() - t0;
}

__attribute__((noinline)) void vt_request(void)
{
	unsigned long n = atomic_fetch_add(&requests, 1);

	vt_fast();
	if (n % 4 == 0)
		vt_slow();
}

static void *loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_loop))
		vt_request();
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

static unsigned long long slow_median(void)
{
	unsigned long n = atomic_load(&slow_calls);
	unsigned long long *c;
	unsigned long long m;

	if (n > MAX_SLOW)
		n = MAX_SLOW;
	if (!n)
		return 0;
	c = malloc(n * sizeof(*c));
	memcpy(c, slow_ns, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp);
	m = c[(n - 1) / 2];
	free(c);
	return m;
}

int main(void)
{
	char line[128];
	pthread_t t;
	int looping = 0;

	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "loop", 4) && !looping) {
			atomic_store(&stop_loop, 0);
			pthread_create(&t, NULL, loop, NULL);
			looping = 1;
			printf("looping\n");
		} else if (!strncmp(line, "stop", 4) && looping) {
			atomic_store(&stop_loop, 1);
			pthread_join(t, NULL);
			looping = 0;
			printf("stopped %lu %lu %llu\n", atomic_load(&requests),
			       atomic_load(&slow_calls), slow_median());
		} else if (!strncmp(line, "run ", 4)) {
			long n = atol(line + 4);
			for (long i = 0; i < n; i++)
				vt_request();
			printf("done %lu %lu %llu\n", atomic_load(&requests),
			       atomic_load(&slow_calls), slow_median());
		} else if (!strncmp(line, "count", 5)) {
			printf("count %lu\n", atomic_load(&requests));
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
		fflush(stdout);
	}
	return 0;
}
"""

FLOWS = """\
bundles:
  vt:
    exe: {exe}
    handlers:
      request: vt_request
      fast: vt_fast
      slow: vt_slow
flows:
  serve:
    entry: vt.request
    calls:
      - vt.request -> vt.fast
      - vt.request -> vt.slow
"""


def need_flowprof():
    if not os.access(fptest.FLOWPROF, os.X_OK):
        raise fptest.Skip("build/flowprof not built")


def need_tool(path, package):
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is missing: install Debian's %s (scripts/install-deps.sh test)"
                             % (path, package))


class Target:
    """The compiled target, started and driven line by line."""

    def __init__(self, d=None):
        self.dir = d or tempfile.mkdtemp(prefix="flowprof-views-")
        self.exe = os.path.join(self.dir, "viewtarget")
        src = fptest.write(os.path.join(self.dir, "viewtarget.c"),
                           SOURCE.replace("SLOW_US", str(SLOW_US)))
        subprocess.run(["cc", "-O1", "-g", "-fno-inline", "-pthread", src, "-o", self.exe],
                       check=True)
        self.flows = fptest.write(os.path.join(self.dir, "flows.yaml"), FLOWS.format(exe=self.exe))
        self.proc = None
        self.pid = None

    def start(self):
        self.proc = fptest.start([self.exe], stdin=subprocess.PIPE)
        line = fptest.read_line(self.proc).split()
        assert line[0] == "ready", line
        self.pid = int(line[1])
        return self

    def ask(self, command, timeout=60.0):
        """Sends a command; returns the reply's words."""
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()
        return fptest.read_line(self.proc, timeout=timeout).split()


def slow_bucket(median_ns):
    """The classic bucket (power-of-two bounds, flowprof's metrics) that holds
    a duration: (lower, upper] in seconds."""
    upper = 1 << 9
    while upper <= median_ns:
        upper <<= 1
    return (upper >> 1) / 1e9, upper / 1e9
