// SPDX-License-Identifier: MIT
#include "unwind_servicer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
