// SPDX-License-Identifier: MIT
/*
 * A multithreaded target whose output depends on every value its handlers
 * compute (tests/e2e/test_faults_interference.py): profiled or not, it must print the same
 * bytes. The handlers use what a probe could disturb if it were wrong:
 * floating-point registers, a large struct returned by value, variadic
 * arguments, arguments on the stack, a leaf function's red zone, recursion
 * and errno.
 *
 *   mt_output THREADS ITERATIONS
 *
 * Each thread runs ITERATIONS rounds and prints one line every 1000 rounds
 * into its own buffer; main prints the buffers in thread order, then a total.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 16

struct big {
	uint64_t words[12];
	double scale;
};

__attribute__((noinline)) double fp_mix(double a, double b, float c)
{
	return sqrt(a * a + b * b) / (1.0 + c);
}

__attribute__((noinline)) struct big big_make(uint64_t seed)
{
	struct big b;

	for (int i = 0; i < 12; i++)
		b.words[i] = seed * 6364136223846793005ULL + (uint64_t)i * 1442695040888963407ULL;
	b.scale = (double)(seed % 1000) / 7.0;
	return b;
}

__attribute__((noinline)) uint64_t var_sum(int n, ...)
{
	va_list ap;
	uint64_t s = 0;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s = s * 31 + va_arg(ap, uint64_t);
	va_end(ap);
	return s;
}

__attribute__((noinline)) uint64_t many_args(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
					     uint64_t e, uint64_t f, uint64_t g, uint64_t h,
					     double x, double y)
{
	return a ^ (b << 1) ^ (c << 2) ^ (d << 3) ^ (e << 4) ^ (f << 5) ^ (g << 6) ^ (h << 7) ^
	       (uint64_t)(x * 1000.0) ^ (uint64_t)(y * 10.0);
}

/* A leaf with locals below the stack pointer (the x86-64 red zone). */
__attribute__((noinline)) uint64_t leaf_red_zone(uint64_t x)
{
	volatile uint64_t tmp[8];

	for (int i = 0; i < 8; i++)
		tmp[i] = x + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	return tmp[0] ^ tmp[3] ^ tmp[7];
}

__attribute__((noinline)) uint64_t recurse(uint64_t x, int depth)
{
	if (depth == 0)
		return leaf_red_zone(x);
	return recurse(x * 3 + 1, depth - 1) + 1;
}

__attribute__((noinline)) int set_errno(int v)
{
	errno = v;
	return -1;
}

__attribute__((noinline)) uint64_t round_body(uint64_t seed, int i)
{
	struct big b = big_make(seed);
	double f = fp_mix(b.scale, (double)i, (float)(i % 13) * 0.5f);
	uint64_t v = var_sum(5, b.words[0], b.words[5], b.words[11], (uint64_t)i, seed);

	v ^= many_args(b.words[1], b.words[2], b.words[3], b.words[4], b.words[6], b.words[7],
		       b.words[8], b.words[9], f, b.scale);
	v += recurse(v, i % 8);
	if (set_errno(i % 100) != -1 || errno != i % 100)
		abort();
	return v ^ (uint64_t)(f * 1e6);
}

struct worker {
	pthread_t tid;
	int index;
	int iterations;
	char *out;
	size_t len, cap;
	uint64_t total;
};

static void emit(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(w->out + w->len, w->cap - w->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < w->cap - w->len)
			break;
		w->cap = w->cap * 2 + (size_t)n + 64;
		w->out = realloc(w->out, w->cap);
		if (!w->out)
			abort();
	}
	w->len += (size_t)n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t seed = 0x1234 + (uint64_t)w->index;

	w->cap = 4096;
	w->out = malloc(w->cap);
	if (!w->out)
		abort();
	for (int i = 0; i < w->iterations; i++) {
		seed = round_body(seed, i);
		w->total += seed;
		if (i % 1000 == 999)
			emit(w, "thread %d round %d: %016llx %.6f\n", w->index, i + 1,
			     (unsigned long long)seed, fp_mix((double)(seed % 1000), 1.5, 0.25f));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS] = { 0 };
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	int iterations = argc > 2 ? atoi(argv[2]) : 10000;
	uint64_t total = 0;

	if (threads < 1 || threads > MAX_THREADS || iterations < 1) {
		fprintf(stderr, "usage: mt_output THREADS(1..%d) ITERATIONS\n", MAX_THREADS);
		return 2;
	}
	for (int t = 0; t < threads; t++) {
		w[t].index = t;
		w[t].iterations = iterations;
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]))
			return 1;
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(w[t].tid, NULL);
		fwrite(w[t].out, 1, w[t].len, stdout);
		total += w[t].total;
		free(w[t].out);
	}
	printf("total %016llx\n", (unsigned long long)total);
	return 0;
}
