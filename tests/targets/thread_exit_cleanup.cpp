// SPDX-License-Identifier: MIT
/*
 * pthread_exit() from a probed function, below C++ frames that hold a lock
 * through std::lock_guard (tests/e2e/test_faults_exceptions.py builds this
 * with g++ at test time). pthread_exit unwinds the thread's stack and runs the
 * destructors on the way; a return probe's trampoline must not stop it
 * halfway, or the lock is never released.
 *
 *   thread_exit_cleanup N   prints "ready PID", waits for a line on stdin,
 *                           then N times: a thread takes the lock, calls
 *                           leave_thread() (a handler) which calls
 *                           pthread_exit; main joins it and checks the lock
 *                           is free again. Prints "released N" (how many
 *                           times it was) and "guards N" (destructors run).
 */
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <unistd.h>

static std::mutex lock;
static std::atomic<int> guards;

struct Guard {
	~Guard() { guards++; }
};

extern "C" __attribute__((noinline)) void leave_thread(int x)
{
	if (x >= 0)
		pthread_exit(nullptr);
}

static void *worker(void *)
{
	Guard g;
	std::lock_guard<std::mutex> held(lock);

	leave_thread(1);
	return nullptr;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10, released = 0;
	char line[16];

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, nullptr, worker, nullptr))
			return 1;
		pthread_join(t, nullptr);
		if (lock.try_lock()) {
			released++;
			lock.unlock();
		} else {
			break; /* the next thread would block for ever */
		}
	}
	printf("released %d\nguards %d\n", released, guards.load());
	return 0;
}
