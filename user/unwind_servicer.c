// SPDX-License-Identifier: MIT
#include "unwind_servicer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowprof.h"
#include "util.h"

static int serve_request(void *ctx, void *data, size_t size)
{
	struct unwind_servicer *u = ctx;
	const struct unwind_request *req = data;
	char path[64];
	int fd, ok = 1;

	if (size < sizeof(*req) || req->n > MAX_DEPTH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/mem", req->tgid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	for (uint32_t i = 0; fd >= 0 && i < req->n; i++) {
		if (pwrite(fd, &req->writes[i].value, sizeof(req->writes[i].value),
			   (off_t)req->writes[i].addr) != sizeof(req->writes[i].value))
			ok = 0;
	}
	if (fd < 0 || !ok) {
		u->failed++;
		log_debug("unwinder fix-up for pid %u tid %u: %s", req->tgid, req->tid,
			  strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	u->served++;
	/* acknowledge even on failure: the thread must not wait for nothing */
	bpf_map_update_elem(u->done_fd, &req->tid, &req->seq, BPF_ANY);
	return 0;
}

static void *service_loop(void *arg)
{
	struct unwind_servicer *u = arg;

	while (!u->stop)
		ring_buffer__poll(u->rb, 100);
	return NULL;
}

int unwind_servicer_start(struct unwind_servicer *u, int ringbuf_fd, int done_fd)
{
	int e;

	memset(u, 0, sizeof(*u));
	u->done_fd = done_fd;
	u->rb = ring_buffer__new(ringbuf_fd, serve_request, u, NULL);
	if (!u->rb)
		return -errno;
	e = pthread_create(&u->thread, NULL, service_loop, u);
	if (e) {
		ring_buffer__free(u->rb);
		u->rb = NULL;
		return -e;
	}
	u->running = true;
	return 0;
}

void unwind_servicer_stop(struct unwind_servicer *u)
{
	if (!u->running)
		return;
	u->stop = true;
	pthread_join(u->thread, NULL);
	ring_buffer__consume(u->rb);
	ring_buffer__free(u->rb);
	u->running = false;
}

/* The kernel's uretprobe trampoline in a process: its [uprobes] page. */
static uint64_t trampoline_of(uint32_t tgid)
{
	char path[64], line[512];
	uint64_t lo = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", tgid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a;

		if (strstr(line, "[uprobes]") && sscanf(line, "%lx-", &a) == 1) {
			lo = a;
			break;
		}
	}
	fclose(f);
	return lo;
}

struct open_entry {
	struct open_return_key key;
	struct open_return val;
};

static int by_tid(const void *a, const void *b)
{
	const struct open_entry *x = a, *y = b;

	return (x->key.tid > y->key.tid) - (x->key.tid < y->key.tid);
}

/* Puts back the real return addresses of one thread's open calls, with the
 * thread stopped. Returns how many it restored, or -1. */
static int restore_thread(const struct open_entry *e, size_t n)
{
	uint32_t tid = e[0].key.tid, tgid = e[0].val.tgid;
	uint64_t tramp = trampoline_of(tgid);
	char path[64];
	int status, fd, done = 0;

	if (!tramp)
		return 0; /* no uprobe was ever hit there: nothing was replaced */
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL))
		return -1;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) || waitpid((pid_t)tid, &status, __WALL) < 0 ||
	    !WIFSTOPPED(status)) {
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%u/mem", tgid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < n; i++) {
		uint64_t cur = 0;

		if (pread(fd, &cur, sizeof(cur), (off_t)e[i].key.sp) == sizeof(cur) && cur == tramp &&
		    pwrite(fd, &e[i].val.ret_addr, sizeof(e[i].val.ret_addr), (off_t)e[i].key.sp) ==
			    sizeof(e[i].val.ret_addr))
			done++;
	}
	if (fd >= 0)
		close(fd);
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	return fd < 0 ? -1 : done;
}

int unwind_restore_open_returns(int open_returns_fd)
{
	struct open_return_key key, next, *pkey = NULL;
	struct open_entry *e = NULL;
	size_t n = 0, cap = 0;
	int restored = 0;

	while (!bpf_map_get_next_key(open_returns_fd, pkey, &next)) {
		key = next;
		pkey = &key;
		grow_array((void **)&e, &cap, n + 1, sizeof(*e));
		if (!bpf_map_lookup_elem(open_returns_fd, &key, &e[n].val)) {
			e[n].key = key;
			n++;
		}
	}
	qsort(e, n, sizeof(*e), by_tid);
	for (size_t i = 0, j; i < n; i = j) {
		int r;

		for (j = i; j < n && e[j].key.tid == e[i].key.tid; j++)
			;
		r = restore_thread(&e[i], j - i);
		if (r < 0 && !kill((pid_t)e[i].val.tgid, 0))
			log_warn("pid %u thread %u: %zu probed call%s still open keep the kernel's "
				 "return trampoline (ptrace refused: %s); an exception thrown through "
				 "them would end the process", e[i].val.tgid, e[i].key.tid, j - i,
				 j - i == 1 ? "" : "s", strerror(errno));
		else if (r > 0)
			restored += r;
	}
	if (restored)
		log_info("gave %d open call%s back their return address before detaching", restored,
			 restored == 1 ? "" : "s");
	free(e);
	return restored;
}
