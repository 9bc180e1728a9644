// SPDX-License-Identifier: MIT
#include "unwind_servicer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "flowprof.h"

struct unwind_worker {
	struct unwind_servicer *u;
	struct ring_buffer *rb;	/* one ring: bpf unwind_ring<ring> */
	pthread_t thread;
	int ring;
	int cpu;		/* pinned to it (-1: not pinned) */
	bool started;
};

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
		__atomic_fetch_add(&u->failed, 1, __ATOMIC_RELAXED);
		log_debug("unwinder fix-up for pid %u tid %u: %s", req->tgid, req->tid,
			  strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	__atomic_fetch_add(&u->served, 1, __ATOMIC_RELAXED);
	/* acknowledge even on failure: the thread must not wait for nothing */
	if (bpf_map_update_elem(u->done_fd, &req->tid, &req->id, BPF_ANY)) {
		/* the thread waits on, and counts the fix-up lost (CNT_UNWIND_LOST) */
		if (!__atomic_fetch_add(&u->ack_failed, 1, __ATOMIC_RELAXED))
			log_warn("cannot acknowledge an unwinder fix-up for pid %u tid %u: %s",
				 req->tgid, req->tid, strerror(errno));
	}
	return 0;
}

/*
 * One thread per ring, pinned to a CPU that does not feed its ring, at a low
 * real-time priority: a request must be served within microseconds even
 * when CPU hogs share the machine (bpf/flowprof.bpf.c, unwind_ring0..).
 */
static void *service_loop(void *arg)
{
	struct unwind_worker *w = arg;
	struct unwind_servicer *u = w->u;
	struct sched_param sp = { .sched_priority = 1 };
	int epfd = ring_buffer__epoll_fd(w->rb), e;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (e)
			log_debug("unwinder servicer %d: cannot pin to CPU %d: %s", w->ring, w->cpu,
				  strerror(e));
	}
	/* root (or CAP_SYS_NICE) may; CAP_BPF + CAP_PERFMON alone may not */
	e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (e && !__atomic_exchange_n(&u->said_no_rt, true, __ATOMIC_RELAXED))
		log_info("unwinder servicer: no real-time priority (%s): under CPU load, an "
			 "exception through a probed call may wait for it", strerror(e));
	log_debug("unwinder servicer %d: CPU %d, %s", w->ring, w->cpu,
		  e ? "SCHED_OTHER" : "SCHED_FIFO 1");
	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		struct epoll_event ev;

		/* the ring's wakeup, or unwind_servicer_stop()'s eventfd */
		if (epoll_wait(epfd, &ev, 1, 1000) < 0 && errno != EINTR) {
			log_warn("unwinder servicer %d: epoll_wait: %s", w->ring, strerror(errno));
			break;
		}
		ring_buffer__consume(w->rb);
	}
	return NULL;
}

/* The first CPU after ring that flowprof may run on and that feeds another
 * ring: ring r's servicer on CPU r + 1, as long as there are such CPUs. */
static int pick_cpu(const cpu_set_t *allowed, int ring)
{
	for (int k = 1; k <= CPU_SETSIZE; k++) {
		int c = (ring + k) % CPU_SETSIZE;

		if (CPU_ISSET(c, allowed) && c % UNWIND_RINGS != ring)
			return c;
	}
	return -1; /* allowed only on CPUs of this ring: leave it to the scheduler */
}

int unwind_servicer_start(struct unwind_servicer *u, struct bpf_object *obj)
{
	int possible = libbpf_num_possible_cpus(), e = 0;
	struct epoll_event ev = { .events = EPOLLIN };
	cpu_set_t allowed;

	memset(u, 0, sizeof(*u));
	u->stop_fd = -1;
	u->done_fd = bpf_object__find_map_fd_by_name(obj, "unwind_done");
	if (u->done_fd < 0)
		return u->done_fd;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	u->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->stop_fd < 0)
		return -errno;
	ev.data.fd = u->stop_fd;
	/* rings no CPU feeds need no thread */
	u->n_workers = possible > 0 && possible < UNWIND_RINGS ? possible : UNWIND_RINGS;
	u->workers = xcalloc((size_t)u->n_workers, sizeof(*u->workers));
	u->running = true;
	for (int i = 0; i < u->n_workers && !e; i++) {
		struct unwind_worker *w = &u->workers[i];
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "unwind_ring%d", i);
		fd = bpf_object__find_map_fd_by_name(obj, name);
		if (fd < 0) {
			e = fd;
			break;
		}
		w->u = u;
		w->ring = i;
		w->cpu = pick_cpu(&allowed, i);
		w->rb = ring_buffer__new(fd, serve_request, u, NULL);
		if (!w->rb || epoll_ctl(ring_buffer__epoll_fd(w->rb), EPOLL_CTL_ADD, u->stop_fd, &ev)) {
			e = -errno;
			break;
		}
		e = -pthread_create(&w->thread, NULL, service_loop, w);
		w->started = !e;
	}
	if (e)
		unwind_servicer_stop(u);
	return e;
}

void unwind_servicer_stop(struct unwind_servicer *u)
{
	uint64_t one = 1;

	if (!u->running)
		return;
	__atomic_store_n(&u->stop, true, __ATOMIC_RELEASE);
	if (write(u->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_debug("unwinder servicer: eventfd: %s", strerror(errno));
	for (int i = 0; i < u->n_workers; i++) {
		struct unwind_worker *w = &u->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->rb) {
			ring_buffer__consume(w->rb);
			ring_buffer__free(w->rb);
		}
	}
	close(u->stop_fd);
	free(u->workers);
	u->workers = NULL;
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
