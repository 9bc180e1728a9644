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
import json
import os
import select
import subprocess
import tempfile
import time

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
        raise AssertionError("build/flowprof not built (make)")


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


CHROMIUM = "/usr/bin/chromium"


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each a JSON
    message ended by NUL), with the flags a sandbox-less test host needs."""

    def __init__(self, width=1300, height=2000):
        need_tool(CHROMIUM, "chromium")
        self.profile = tempfile.mkdtemp(prefix="flowprof-chromium-")
        r_cmd, w_cmd = os.pipe()
        r_evt, w_evt = os.pipe()

        def child():
            a, b = os.dup(r_cmd), os.dup(w_evt)  # dup2 onto 3/4 keeps them open across exec
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe",
             "--window-size=%d,%d" % (width, height), "about:blank"],
            preexec_fn=child, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_evt)
        self.w, self.r = w_cmd, r_evt
        self.buf = b""
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self.session)
        self.call("Runtime.enable", session=self.session)

    def _read(self, timeout):
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.r], [], [], timeout)
            if not ready:
                raise AssertionError("chromium did not answer within %ss" % timeout)
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise AssertionError("chromium closed its DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m["result"]
            self.events.append(m)

    def eval(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True}, session=self.session)
        if "exceptionDetails" in r:
            raise AssertionError("page script failed: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def open(self, url, timeout=30.0):
        """Loads url afresh (never a same-page hash change) and waits until the
        report says ready (or error)."""
        self.call("Page.navigate", {"url": "about:blank"}, session=self.session)
        self.call("Page.navigate", {"url": url}, session=self.session)
        end = time.time() + timeout
        state = None
        while time.time() < end:
            state = self.eval("document.body && location.href.split('#')[0] === %s && "
                              "document.body.dataset.state" % json.dumps(url.split("#")[0]))
            if state in ("ready", "error"):
                return state
            time.sleep(0.05)
        raise AssertionError("page %s never became ready (state %r)" % (url, state))

    def screenshot(self, path):
        import base64
        png = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                        session=self.session)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(png["data"]))

    def dialogs(self):
        return [e for e in self.events if e.get("method") == "Page.javascriptDialogOpening"]

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.w)
        os.close(self.r)
