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

struct unwind_worker;

struct unwind_servicer {
	struct unwind_worker *workers; /* one per ring (unwind_servicer.c) */
	int n_workers;
	int done_fd;		/* the unwind_done map */
	int stop_fd;		/* eventfd: wakes the workers to stop */
	bool stop;
	bool said_no_rt;	/* a worker could not get SCHED_FIFO (said once, -v) */
	bool running;
	uint64_t served;	/* requests carried out */
	uint64_t failed;	/* requests whose writes failed (process gone) */
	uint64_t ack_failed;	/* requests the unwind_done map refused to acknowledge */
};

struct bpf_object;

/*
 * Starts the servicing threads, one per request ring of obj (unwind_ring0..,
 * as many as there can be CPUs, up to UNWIND_RINGS), each pinned to a CPU
 * that does not feed its ring, at SCHED_FIFO priority 1 when allowed.
 */
int unwind_servicer_start(struct unwind_servicer *u, struct bpf_object *obj);

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
