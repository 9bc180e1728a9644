/* SPDX-License-Identifier: MIT */
/*
 * The agent's half of exception safety: carries out the stack writes that
 * bpf/flowprof.bpf.c's unwind_hook asks for (through /proc/PID/mem, since
 * kernel lockdown refuses bpf_probe_write_user), then tells the waiting
 * thread it may go on. See resolve.c, "exceptions and unwinding".
 */
#ifndef FLOWPROF_UNWIND_SERVICER_H
#define FLOWPROF_UNWIND_SERVICER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct unwind_servicer {
	struct ring_buffer *rb;
	int done_fd;		/* the unwind_done map */
	pthread_t thread;
	volatile bool stop;
	bool running;
	uint64_t served;	/* requests carried out */
	uint64_t failed;	/* requests whose writes failed (process gone) */
};

/* Starts the servicing thread on the unwind_requests ring buffer. */
int unwind_servicer_start(struct unwind_servicer *u, int ringbuf_fd, int done_fd);

/* Stops it (after the hooks are detached: no thread is waiting any more). */
void unwind_servicer_stop(struct unwind_servicer *u);

/*
 * Before flowprof lets go of a process: the calls still open whose return
 * address the kernel replaced (the open_returns map) get their real one
 * back, so that an exception thrown through them later does not meet the
 * trampoline. Each thread is stopped with ptrace for the write (a running
 * thread could return and reuse the slot meanwhile). Returns how many were
 * restored; warns about those that could not be.
 */
int unwind_restore_open_returns(int open_returns_fd);

#endif
