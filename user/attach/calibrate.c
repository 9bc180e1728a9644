// SPDX-License-Identifier: MIT
/*
 * What a probe costs on this host, measured (never read off an instruction).
 *
 * flowprof probes tiny functions of its own, one per kind of probe (the
 * slots of include/flowprof.h), with the same programs and attach mode as
 * the handlers, and calls each of them and an unprobed twin of identical
 * code in turn. Per round and stub:
 *   added   what a probed call costs its caller more than the twin, in the
 *           thread's CPU time (the kernel's uprobe work runs in the thread,
 *           and CPU time leaves out what other processes take meanwhile);
 *   window  the median duration the BPF programs measured for the probed
 *           calls of an empty function: the probes' own share of a window.
 * Each stub pairs one entry with one exit, so these are sums of an entry
 * slot's and an exit slot's costs; the nop5 stub's pair is split in halves
 * and every other slot follows from it (a call always has one entry and one
 * exit, so the split cancels out of every correction). The table the BPF
 * programs subtract holds the median over the last rounds, so a change of
 * load moves it only as far as it really moves a probe's cost.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach_int.h"
#include "base/base.h"
#include "cost_slot.h"
#include "flowprof.h"
#include "flowprof_rt.h"
#include "uprobe_multi_link.h"

/* The table follows the median of this many most recent rounds. */
#define CALIB_WINDOW 9
/* Cold calls per stub and round, and how often a round measures them (the
 * first, then every COLD_EVERY-th). Before each, a read as large as the
 * last-level cache pushes the probe's path (kernel, BPF program, maps) out
 * of the caches; EVICT_BYTES where the CPU does not say (1.6 ms a read
 * here). The buffer lives for the cold round only: kept, it would be most
 * of flowprof's resident memory while recording. */
#define COLD_CALLS 7
#define COLD_EVERY 6
#define EVICT_BYTES (32u << 20)
/* CPU time per batch of calls. */
#define BATCH_NS 1000000.0
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#if defined(__x86_64__)
/*
 * The stubs, written in assembly so that each instruction is exactly the
 * kind it stands for, 16-byte aligned (a nop5 must not cross a page). The
 * twin of each (prefix fp_cb_) is the same code, never probed.
 *   0 nop5    5-byte nop; ret                 nop5 entry, uretprobe exit
 *   1 nop     nop; ret                        nop entry, uretprobe exit
 *   2 push    push %rbp; pop %rbp; ret        push entry, uretprobe exit
 *   3 branch  jmp .+2; ret                    branch entry, uretprobe exit
 *   4 step    lea 0(%rip),%rax; ret           single-stepped entry, uretprobe exit
 *   5 ret     5-byte nop; ret                 nop5 entry, exit at the ret (+5)
 *   6 jmp     5-byte nop; jmp tail            nop5 entry, exit at the tail call (+5)
 *   7 canary  5-byte nop; cmp %rsp,%rsp;      nop5 entry, exit at the jcc (+8), as at
 *             jne 1f; ret; 1: ud2              a stack-protector check before a ret
 *   8 usdt    nop; nop; ret                   USDT-style entry (+0) and return (+1)
 */
#define STUB(p, name, body)                                                   \
	".globl " p name "\n.type " p name ",@function\n.p2align 4\n" p name ":\n" \
	body ".size " p name ", .-" p name "\n"
#define STUBS(p)                                                              \
	STUB(p, "nop5", "\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tret\n")           \
	STUB(p, "nop", "\tnop\n\tret\n")                                       \
	STUB(p, "push", "\tpush %rbp\n\tpop %rbp\n\tret\n")                    \
	STUB(p, "branch", "\tjmp 1f\n1:\tret\n")                               \
	STUB(p, "step", "\tlea 0(%rip), %rax\n\tret\n")                        \
	STUB(p, "ret", "\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tret\n")            \
	STUB(p, "jmp", "\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tjmp " p "tail\n")  \
	STUB(p, "tail", "\tret\n")                                             \
	STUB(p, "canary", "\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tcmp %rsp, %rsp\n" \
			  "\tjne 1f\n\tret\n1:\tud2\n")                          \
	STUB(p, "usdt", "\tnop\n\tnop\n\tret\n")

__asm__(".text\n" STUBS("fp_cs_") STUBS("fp_cb_"));

#define DECLARE_STUBS(p)                                                      \
	void p##nop5(void), p##nop(void), p##push(void), p##branch(void),     \
		p##step(void), p##ret(void), p##jmp(void), p##canary(void), p##usdt(void)
DECLARE_STUBS(fp_cs_);
DECLARE_STUBS(fp_cb_);

static const struct stub {
	void (*probed)(void);
	void (*twin)(void);
	enum cost_slot entry, exit;
	uint64_t exit_at;	/* exit site or USDT return: bytes after the entry; 0: uretprobe */
} stubs[CALIB_STUBS] = {
	{ fp_cs_nop5, fp_cb_nop5, SLOT_ENTRY_NOP5, SLOT_EXIT_URETPROBE, 0 },
	{ fp_cs_nop, fp_cb_nop, SLOT_ENTRY_NOP, SLOT_EXIT_URETPROBE, 0 },
	{ fp_cs_push, fp_cb_push, SLOT_ENTRY_PUSH, SLOT_EXIT_URETPROBE, 0 },
	{ fp_cs_branch, fp_cb_branch, SLOT_ENTRY_BRANCH, SLOT_EXIT_URETPROBE, 0 },
	{ fp_cs_step, fp_cb_step, SLOT_ENTRY_STEP, SLOT_EXIT_URETPROBE, 0 },
	{ fp_cs_ret, fp_cb_ret, SLOT_ENTRY_NOP5, SLOT_EXIT_RET, 5 },
	{ fp_cs_jmp, fp_cb_jmp, SLOT_ENTRY_NOP5, SLOT_EXIT_JMP, 5 },
	{ fp_cs_canary, fp_cb_canary, SLOT_ENTRY_NOP5, SLOT_EXIT_CANARY, 8 },
	{ fp_cs_usdt, fp_cb_usdt, SLOT_ENTRY_USDT, SLOT_EXIT_USDT, 1 },
};
#define STUB_USDT CALIB_STUB_USDT
/* The stubs that stand for an exit kind (nop5 entry, exit at a site) run
 * from here to the USDT stub. */
#define STUB_FIRST_EXIT 5

static int self_offset(void (*fn)(void), uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t addr = (uintptr_t)fn;
	char line[4096];
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, o;

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &o) == 3 && addr >= lo && addr < hi) {
			*off = addr - lo + o;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Is flowprof itself run by an instruction-set emulator such as valgrind?
 * Then the code it runs is not the code the kernel probes: a probe's
 * breakpoint would reach the emulator as a trap. */
static bool self_emulated(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/vgpreload_") != NULL;
	fclose(f);
	return found;
}

int calib_prepare(struct recorder *r, struct group_list *gl, int first_hid, unsigned slots)
{
	struct calibration *c = &r->cal;
	ssize_t n = readlink("/proc/self/exe", r->self_exe, sizeof(r->self_exe) - 1);
	struct site_group *g;

	if (self_emulated()) {
		log_warn("calibration: flowprof runs under valgrind, which executes its own copy "
			 "of flowprof's code: probe cost not measured, times not corrected");
		return -1;
	}
	if (n <= 0)
		goto unknown;
	r->self_exe[n] = '\0';
	c->first_hid = first_hid;
	/* cold: the stubs the slots in use are split from (split_slots) */
	c->cold_stubs = 1U << 0;
	for (int k = 1; k < CALIB_STUBS; k++)
		if (slots & (1U << (stubs[k].entry == SLOT_ENTRY_NOP5 ? stubs[k].exit : stubs[k].entry)))
			c->cold_stubs |= 1U << k;
	for (int k = 0; k < CALIB_STUBS; k++) {
		if (self_offset(stubs[k].probed, &c->offsets[k][0]))
			goto unknown;
		c->offsets[k][1] = c->offsets[k][0] + stubs[k].exit_at;
	}
	g = group_for(gl, r->self_exe, NULL, getpid());
	for (int k = 0; k < CALIB_STUBS; k++) {
		uint64_t base = MAKE_COOKIE((uint32_t)(first_hid + k), 0);
		uint64_t entry = COOKIE_WITH_SLOT(base, stubs[k].entry);

		if (k == STUB_USDT)
			continue; /* calib_attach_usdt() */
		if (stubs[k].exit == SLOT_EXIT_URETPROBE) {
			site_list_add(&g->entries, c->offsets[k][0], 0, entry);
			site_list_add(&g->returns, c->offsets[k][0], 0, entry);
		} else {
			site_list_add(&g->entries, c->offsets[k][0], 0, entry | COOKIE_EXITS_AT_SITES);
			site_list_add(&g->exits, c->offsets[k][1], 0,
				      COOKIE_WITH_SLOT(base, stubs[k].exit) | COOKIE_EXIT_SITE);
		}
	}
	return 0;
unknown:
	log_info("calibration: cannot find flowprof's own code; probe cost unknown");
	return -1;
}

/* The USDT stub goes to the program USDT handlers use (bpf/lang.bpf.h). */
int calib_attach_usdt(struct recorder *r, char *err, size_t errlen)
{
	struct bpf_program *prog = r->skel->progs.usdt_pair;
	const struct calibration *c = &r->cal;
	uint64_t cookie = MAKE_COOKIE((uint32_t)(c->first_hid + STUB_USDT), 0);
	uint64_t offs[2] = { c->offsets[STUB_USDT][0], c->offsets[STUB_USDT][1] };
	uint64_t cookies[2] = { cookie, cookie | RT_USDT_RETURN_BIT };

	if (c->n_stubs <= STUB_USDT)
		return 0;
	if (r->info.feat.uprobe_multi && r->info.mode != ATTACH_SINGLE) {
		int fd = create_multi_link(bpf_program__fd(prog), FP_BPF_TRACE_UPROBE_MULTI, 0,
					   r->self_exe, offs, NULL, cookies, 2, getpid());

		if (fd < 0) {
			snprintf(err, errlen, "calibration probes in %s: %s", r->self_exe,
				 attach_strerror(-fd));
			return fd;
		}
		recorder_keep_fd(r, fd);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookies[i]);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(prog, getpid(), r->self_exe,
								     (size_t)offs[i], &uo);

		if (!l) {
			int e = errno;

			snprintf(err, errlen, "calibration probe in %s: %s", r->self_exe,
				 attach_strerror(e));
			return -e;
		}
		recorder_keep_link(r, l);
	}
	return 0;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU ns per call of fn over n calls. */
static double per_call(void (*volatile fn)(void), int n)
{
	uint64_t t0 = cpu_ns();

	for (int i = 0; i < n; i++)
		fn();
	return (double)(cpu_ns() - t0) / n;
}

/* What a stub's probes measured so far, summed over CPUs. */
struct stub_stats {
	uint64_t hist[HIST_BUCKETS];
	uint64_t calls, therm_ns, probe_cpu_ns;
};

static int read_stub(struct recorder *r, uint32_t hid, struct stub_stats *out)
{
	static struct handler_stats hs;

	if (recorder_read_handler(r, hid, &hs))
		return -1;
	memcpy(out->hist, hs.hist, sizeof(out->hist));
	out->calls = hs.calls;
	out->therm_ns = hs.therm_ns;
	out->probe_cpu_ns = hs.probe_cpu_ns;
	return 0;
}

/* The calls between two reads: after becomes their histogram; returns their
 * mean state-lookup time. */
static double stub_delta(struct stub_stats *after, const struct stub_stats *before)
{
	uint64_t calls = after->calls - before->calls;

	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		after->hist[b] -= before->hist[b];
	return calls ? (double)(after->therm_ns - before->therm_ns) / (double)calls : NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	if (n <= 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The largest cache the CPU reports (sysfs), in bytes; 0 if it does not. */
static size_t last_level_cache(void)
{
	size_t best = 0;

	for (int i = 0; i < 8; i++) {
		char path[96], text[32], unit = 0;
		unsigned long v;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f) && sscanf(text, "%lu%c", &v, &unit) >= 1) {
			size_t b = unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : v;

			if (b > best)
				best = b;
		}
		fclose(f);
	}
	return best;
}

/* Reads the eviction buffer, a cache line at a time. */
static void clear_caches(const struct calibration *c)
{
	volatile char sink = 0;

	for (size_t i = 0; i < c->evict_bytes; i += 64)
		sink ^= c->evict[i];
	(void)sink;
}

/* Median CPU ns of single calls of stub k, each after the caches were
 * cleared (the unprobed twin's cold cost, a few cache lines, is left in: it
 * is tens of ns against the probes' microseconds); the median of their
 * state lookups' time (one interrupt in a lookup must not move the
 * thermometer's cold end) and the histogram of their windows. The stub's
 * figures are read before the caches are cleared: reading them touches the
 * probe's maps. NAN when they could not be read. */
static double cold_call(struct recorder *r, int k, double *therm, uint64_t *hist)
{
	static struct stub_stats before, after;
	struct calibration *c = &r->cal;
	uint32_t hid = (uint32_t)(c->first_hid + k);
	double t[COLD_CALLS], th[COLD_CALLS];
	int nt = 0;

	memset(hist, 0, HIST_BUCKETS * sizeof(*hist));
	for (int i = 0; i < COLD_CALLS; i++) {
		bool read = !read_stub(r, hid, &before);
		uint64_t t0;

		clear_caches(c);
		t0 = cpu_ns();
		stubs[k].probed();
		t[i] = (double)(cpu_ns() - t0);
		if (!read || read_stub(r, hid, &after))
			return NAN;
		if (after.calls > before.calls)
			th[nt++] = stub_delta(&after, &before);
		hist_add(hist, after.hist);
	}
	*therm = median(th, nt);
	return median(t, COLD_CALLS);
}

/*
 * Probe costs as a handler that does real work between its probes meets
 * them: each call after the caches were cleared. On some hosts a probe
 * costs twice as much cold as in a tight loop (a paravirtualized guest
 * with page-table isolation: every trap enters the hypervisor too).
 */
static void cold_round(struct recorder *r, struct calib_round *out)
{
	static uint64_t hist[HIST_BUCKETS];
	struct calibration *c = &r->cal;
	size_t llc = last_level_cache();

	c->evict_bytes = llc >= (1u << 20) && llc <= (256u << 20) ? llc : EVICT_BYTES;
	/* mapped and unmapped here, never left in the allocator's arenas */
	c->evict = mmap(NULL, c->evict_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (c->evict == MAP_FAILED) {
		c->evict = NULL;
		return; /* no cold figures this round: the warm ones stand */
	}
	/* Huge pages where the kernel has them: a guest that shadows the page
	 * tables pays a hypervisor exit per 4 KiB page touched (the buffer's
	 * first fill took 93 ms in 4 KiB pages, 3-57 ms in 2 MiB ones, on a
	 * 2-vCPU EPYC guest); a hint, ignored where THP is off. */
	madvise(c->evict, c->evict_bytes, MADV_HUGEPAGE);
	/* pages of its own (a page never written reads the shared zero page):
	 * the kernel's zeroing is the only write where it can populate them */
	if (madvise(c->evict, c->evict_bytes, MADV_POPULATE_WRITE))
		memset(c->evict, 1, c->evict_bytes);
	for (int k = 0; k < c->n_stubs; k++) {
		double probe, twin;

		if (!(c->cold_stubs & (1U << k)))
			continue;
		probe = cold_call(r, k, &out->cold_therm_ns[k], hist);
		if (isnan(probe))
			continue;
		twin = per_call(stubs[k].twin, 64);
		out->cold_added_ns[k] = probe > twin ? probe - twin : 0;
		out->cold_window_ns[k] = hist_count(hist) ? hist_percentile(hist, 50, 0, 0) : NAN;
	}
	munmap(c->evict, c->evict_bytes);
	c->evict = NULL;
}

static void *call_once(void *fn)
{
	(*(void (**)(void))fn)();
	return NULL;
}

/* Process CPU ns per thread started, that calls fn once and ends. */
static double per_thread(void (*fn)(void), int n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, call_once, &fn))
			return NAN;
		pthread_join(t, NULL);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n;
}

/*
 * What one more thread costs beyond its hits (probe_costs.thread_start_ns):
 * threads that each make one probed call of stub k, against threads that
 * make one unprobed call, less what the BPF programs charged those calls'
 * probes (as warm or cold as they ran). The process's CPU clock takes in
 * the thread's state, the kernel's per-thread uprobe state and the work at
 * its exit. Median of rounds that alternate the two kinds; 0 when the
 * difference is not above the charge.
 */
static double thread_start_cost(struct recorder *r, int k)
{
	enum { ROUNDS = 5, THREADS = 8 };
	static struct stub_stats before, after;
	uint32_t hid = (uint32_t)(r->cal.first_hid + k);
	double d[ROUNDS];
	int n = 0;

	/* On one CPU, with the threads it starts (they inherit it): started
	 * on another CPU, a thread's start and its join bring that CPU's
	 * wake-up and cold caches into the figure, a few to tens of us at
	 * random (12 runs here read 14-80 us so, 12-20 us on one CPU). */
	cpu_set_t was, one;
	int cpu = sched_getcpu();
	bool pinned = cpu >= 0 && !pthread_getaffinity_np(pthread_self(), sizeof(was), &was);

	if (pinned) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned = !pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	}
	per_thread(stubs[k].twin, 4); /* the first threads' stacks come from the kernel */
	for (int i = 0; i < ROUNDS; i++) {
		double probed, twin, charged;

		if (read_stub(r, hid, &before))
			break;
		probed = per_thread(stubs[k].probed, THREADS);
		if (read_stub(r, hid, &after) || after.calls <= before.calls)
			break;
		charged = (double)(after.probe_cpu_ns - before.probe_cpu_ns) /
			  (double)(after.calls - before.calls);
		twin = per_thread(stubs[k].twin, THREADS);
		if (isfinite(probed) && isfinite(twin))
			d[n++] = probed - twin - charged;
	}
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	return n ? fmax(0, median(d, n)) : 0;
}

static void one_round(struct recorder *r, struct calib_round *out)
{
	static struct stub_stats before, after;

	for (int k = 0; k < CALIB_STUBS; k++)
		out->added_ns[k] = out->window_ns[k] = out->therm_ns[k] = NAN;
	for (int k = 0; k < r->cal.n_stubs; k++) {
		uint32_t hid = (uint32_t)(r->cal.first_hid + k);
		double probe, twin;
		int n;

		/* size the batch from a short probe of the cost */
		probe = per_call(stubs[k].probed, 32);
		n = (int)(BATCH_NS / (probe > 1 ? probe : 1));
		n = n < 64 ? 64 : n > 20000 ? 20000 : n;
		if (read_stub(r, hid, &before))
			continue;
		probe = per_call(stubs[k].probed, n);
		if (read_stub(r, hid, &after))
			continue;
		twin = per_call(stubs[k].twin, n);
		out->therm_ns[k] = stub_delta(&after, &before);
		out->added_ns[k] = probe > twin ? probe - twin : 0;
		out->window_ns[k] = hist_count(after.hist) ? hist_percentile(after.hist, 50, 0, 0) : NAN;
	}
	for (int k = 0; k < CALIB_STUBS; k++)
		out->cold_added_ns[k] = out->cold_window_ns[k] = out->cold_therm_ns[k] = NAN;
	if (r->cal.n_rounds % COLD_EVERY == 1) /* n_rounds counts this one */
		cold_round(r, out);
}

/* Medians over the last CALIB_WINDOW rounds (and over the first ones). */
static void summarize(const struct calibration *c, int from, int to, bool cold, double *added,
		      double *window, double *therm, double *spread, double *wspread)
{
	double a[CALIB_WINDOW * 4], w[CALIB_WINDOW * 4], t[CALIB_WINDOW * 4];

	for (int k = 0; k < CALIB_STUBS; k++) {
		int na = 0, nw = 0, nt = 0;
		double lo = INFINITY, hi = -INFINITY, wlo = INFINITY, whi = -INFINITY;

		for (int i = from; i < to && na < (int)ARRAY_SIZE(a); i++) {
			const struct calib_round *rd = &c->rounds[i];
			double ad = cold ? rd->cold_added_ns[k] : rd->added_ns[k];
			double wi = cold ? rd->cold_window_ns[k] : rd->window_ns[k];
			double th = cold ? rd->cold_therm_ns[k] : rd->therm_ns[k];

			if (isfinite(ad)) {
				a[na++] = ad;
				lo = fmin(lo, ad);
				hi = fmax(hi, ad);
			}
			if (isfinite(wi)) {
				w[nw++] = wi;
				wlo = fmin(wlo, wi);
				whi = fmax(whi, wi);
			}
			if (isfinite(th))
				t[nt++] = th;
		}
		added[k] = median(a, na);
		window[k] = median(w, nw);
		therm[k] = median(t, nt);
		if (spread)
			spread[k] = na > 1 ? (hi - lo) / 2 : NAN;
		if (wspread)
			wspread[k] = nw > 1 ? (whi - wlo) / 2 : NAN;
	}
}

/* What the kernel does at a kind of probe, judged by its cost against the
 * emulated nop (a trap) and the single-stepped lea of the same run. */
static const char *behaviour(double cost, double trap, double step, bool may_optimize)
{
	if (!isfinite(cost) || !isfinite(trap) || !isfinite(step))
		return "unknown";
	if (may_optimize && cost < 0.8 * trap)
		return "optimized";
	if (cost >= sqrt(trap * step))
		return "single-step";
	return "emulated";
}

static void set_slot(struct slot_cost *s, double hit, double window, double jitter,
		     double window_jitter, bool first)
{
	if (!isfinite(hit))
		return;
	s->measured = true;
	s->hit_ns = fmax(0, hit);
	s->in_window_ns = isfinite(window) ? window : 0;
	s->jitter_ns = isfinite(jitter) ? jitter : 0;
	s->in_window_jitter_ns = isfinite(window_jitter) ? window_jitter : 0;
	if (first)
		s->first_hit_ns = s->hit_ns;
}

/*
 * Per slot, from the stubs' pairs: the nop5 stub's pair split in halves
 * (entry nop5 and the uretprobe), every other slot what its stub adds to
 * the half it shares with it. NAN where a stub has no figure.
 */
static void split_slots(const double *added, const double *window, double *hit, double *win)
{
	for (int s = 0; s < SLOT_COUNT; s++)
		hit[s] = win[s] = NAN;
	hit[SLOT_ENTRY_NOP5] = added[0] / 2;
	win[SLOT_ENTRY_NOP5] = window[0] / 2;
	hit[SLOT_EXIT_URETPROBE] = added[0] - hit[SLOT_ENTRY_NOP5];
	win[SLOT_EXIT_URETPROBE] = window[0] - win[SLOT_ENTRY_NOP5];
	for (int k = 1; k <= 4; k++) {
		hit[stubs[k].entry] = added[k] - hit[SLOT_EXIT_URETPROBE];
		win[stubs[k].entry] = window[k] - win[SLOT_EXIT_URETPROBE];
	}
	for (int k = STUB_FIRST_EXIT; k < STUB_USDT; k++) {
		hit[stubs[k].exit] = added[k] - hit[SLOT_ENTRY_NOP5];
		win[stubs[k].exit] = window[k] - win[SLOT_ENTRY_NOP5];
	}
	hit[SLOT_ENTRY_USDT] = hit[SLOT_EXIT_USDT] = added[STUB_USDT] / 2;
	win[SLOT_ENTRY_USDT] = win[SLOT_EXIT_USDT] = window[STUB_USDT] / 2;
}

/* Per slot, a stub's spread as split_slots splits its figures: halved where
 * the slots split a stub's pair, whole where a slot is what its stub adds
 * (the share it rests on is uncertain too). */
static void split_spread(const double *spread, double *out)
{
	for (int s = 0; s < SLOT_COUNT; s++)
		out[s] = NAN;
	out[SLOT_ENTRY_NOP5] = out[SLOT_EXIT_URETPROBE] = spread[0] / 2;
	for (int k = 1; k <= 4; k++)
		out[stubs[k].entry] = spread[k];
	for (int k = STUB_FIRST_EXIT; k < STUB_USDT; k++)
		out[stubs[k].exit] = spread[k];
	out[SLOT_ENTRY_USDT] = out[SLOT_EXIT_USDT] = spread[STUB_USDT] / 2;
}

static __s32 table_ns(double v)
{
	return isfinite(v) ? (__s32)lround(v) : 0;
}

/* The median of the stubs' figures that exist, the USDT stub's left out (its
 * program looks its state up another way). */
static double stubs_median(const double *v)
{
	double have[CALIB_STUBS];
	int n = 0;

	for (int k = 0; k < CALIB_STUBS; k++)
		if (k != STUB_USDT && isfinite(v[k]))
			have[n++] = v[k];
	return median(have, n);
}

/* The table the BPF programs correct each call with: the warm and the cold
 * row, and the thermometer's two ends (include/cost_slot.h). A stub
 * without cold figures has its warm ones in both rows; without a
 * thermometer (no cold lookups slower than the warm ones) both rows hold
 * the middle. */
static void write_table(struct recorder *r, const double *warm, const double *warm_window,
			const double *cold, const double *cold_window, const double *therm,
			const double *cold_therm)
{
	struct probe_cost_table *t = &r->skel->bss->probe_costs;
	double wh[SLOT_COUNT], ww[SLOT_COUNT], ch[SLOT_COUNT], cw[SLOT_COUNT];
	double c[CALIB_STUBS], cwin[CALIB_STUBS], tw, tc;
	bool have_cold = false;

	for (int k = 0; k < CALIB_STUBS; k++) {
		bool ok = isfinite(cold[k]) && isfinite(cold_window[k]);

		c[k] = ok ? cold[k] : warm[k];
		cwin[k] = ok ? cold_window[k] : warm_window[k];
		have_cold |= ok;
	}
	split_slots(warm, warm_window, wh, ww);
	/* kept for choosing probe places (attach.c choice_cost): the rows
	 * below may hold the middle instead */
	memcpy(r->cal.warm_hit_ns, wh, sizeof(wh));
	split_slots(c, cwin, ch, cw);
	tw = stubs_median(therm);
	tc = stubs_median(cold_therm);
	t->therm_warm_ns = have_cold && isfinite(tw) && isfinite(tc) && tc > tw ? table_ns(tw) : 0;
	t->therm_cold_ns = t->therm_warm_ns ? table_ns(tc) : 0;
	for (int s = 0; s < SLOT_COUNT && !t->therm_warm_ns; s++) {
		wh[s] = ch[s] = (wh[s] + ch[s]) / 2;
		ww[s] = cw[s] = (ww[s] + cw[s]) / 2;
	}
	for (int s = 0; s < SLOT_COUNT; s++) {
		t->hit_ns[s] = table_ns(fmax(0, wh[s]));
		t->in_window_ns[s] = table_ns(ww[s]);
		t->hit_cold_ns[s] = table_ns(fmax(0, ch[s]));
		t->in_window_cold_ns[s] = table_ns(cw[s]);
	}
}

void calib_measure(struct recorder *r, int rounds)
{
	struct calibration *c = &r->cal;
	struct slot_cost *cost = r->info.costs;
	double added[CALIB_STUBS], window[CALIB_STUBS], spread[CALIB_STUBS], therm[CALIB_STUBS];
	double wspread[CALIB_STUBS], wjitter[SLOT_COUNT];
	double warm[CALIB_STUBS], warm_window[CALIB_STUBS];
	double cold[CALIB_STUBS], cold_window[CALIB_STUBS], cold_therm[CALIB_STUBS];
	double hit[SLOT_COUNT], win[SLOT_COUNT], jitter[SLOT_COUNT], trap, step;
	bool first = c->n_rounds == 0;
	int from;

	if (!c->ready)
		return;
	for (int i = 0; i < rounds; i++) {
		grow_array((void **)&c->rounds, &c->cap_rounds, (size_t)c->n_rounds + 1,
			   sizeof(*c->rounds));
		one_round(r, &c->rounds[c->n_rounds++]);
	}
	r->info.calib_rounds = c->n_rounds;
	from = c->n_rounds > CALIB_WINDOW ? c->n_rounds - CALIB_WINDOW : 0;
	summarize(c, from, c->n_rounds, false, added, window, therm, spread, wspread);
	summarize(c, from, c->n_rounds, true, cold, cold_window, cold_therm, NULL, NULL);
	memcpy(warm, added, sizeof(warm));
	memcpy(warm_window, window, sizeof(warm_window));
	write_table(r, warm, warm_window, cold, cold_window, therm, cold_therm);

	/* A probe costs its least in a tight loop and more after the caches
	 * were cleared; a handler's calls meet something in between. The BPF
	 * programs place each call on that line; what flowprof shows of a
	 * slot is the middle, with an uncertainty that covers both ends. */
	for (int k = 0; k < CALIB_STUBS; k++) {
		if (!isfinite(cold[k]) || !isfinite(cold_window[k]) || !isfinite(added[k]))
			continue;
		added[k] = (warm[k] + cold[k]) / 2;
		window[k] = (window[k] + cold_window[k]) / 2;
		spread[k] = fmax(isfinite(spread[k]) ? spread[k] : 0, fabs(cold[k] - warm[k]) / 2);
		wspread[k] = fmax(isfinite(wspread[k]) ? wspread[k] : 0,
				  fabs(cold_window[k] - warm_window[k]) / 2);
	}
	/* each round's window is a histogram's median: as good as its bucket */
	for (int k = 0; k < CALIB_STUBS; k++)
		wspread[k] = (isfinite(wspread[k]) ? wspread[k] : 0) + hist_half_bucket(window[k]);
	split_slots(added, window, hit, win);
	split_spread(spread, jitter);
	split_spread(wspread, wjitter);
	for (int s = 0; s < SLOT_COUNT; s++)
		set_slot(&cost[s], hit[s], win[s], jitter[s], wjitter[s], first);

	/* what the kernel does at each kind: judged in the tight loop, where
	 * the cost is least noisy */
	trap = warm[1];		/* nop entry: a trap, emulated */
	step = warm[4];		/* lea entry: a trap and a single step */
	cost[SLOT_ENTRY_NOP5].behaves_as = behaviour(warm[0], trap, step, true);
	cost[SLOT_ENTRY_NOP].behaves_as = behaviour(warm[1], trap, step, false);
	cost[SLOT_ENTRY_PUSH].behaves_as = behaviour(warm[2], trap, step, false);
	cost[SLOT_ENTRY_BRANCH].behaves_as = behaviour(warm[3], trap, step, false);
	cost[SLOT_ENTRY_STEP].behaves_as = behaviour(warm[4], trap, step, false);
	cost[SLOT_EXIT_URETPROBE].behaves_as = "uretprobe";
	/* exits against the entries' scale: the exit stubs enter at the nop5 */
	for (int k = STUB_FIRST_EXIT; k < STUB_USDT; k++)
		cost[stubs[k].exit].behaves_as = behaviour(warm[k] - warm[0] + warm[1], trap, step,
							   false);
	cost[SLOT_ENTRY_USDT].behaves_as = cost[SLOT_EXIT_USDT].behaves_as = "emulated";

	if (first) {
		/* at the nop5 entry + uretprobe pair: every host has it */
		r->skel->bss->probe_costs.thread_start_ns = table_ns(thread_start_cost(r, 0));
		log_info("probe cost of a thread: %d ns beyond its hits (its state, the kernel's, "
			 "its exit), charged to its first call",
			 r->skel->bss->probe_costs.thread_start_ns);
		for (int s = 0; s < SLOT_COUNT; s++) {
			/* only pairs are measured (split_slots): a slot's own
			 * share of a window can read below 0, its pair's not */
			bool entry = s < SLOT_EXIT_URETPROBE;
			int with = entry ? SLOT_EXIT_URETPROBE : SLOT_ENTRY_NOP5;

			if (cost[s].measured)
				log_info("probe cost (%s %s, %s): %.0f ns a hit (+-%.0f)%s; with a %s "
					 "%s, %.0f ns of a call's measured time (+-%.0f)",
					 entry ? "entry" : "exit", cost_slot_name((enum cost_slot)s),
					 cost[s].behaves_as, cost[s].hit_ns, cost[s].jitter_ns,
					 s == SLOT_ENTRY_NOP5 || s == SLOT_EXIT_URETPROBE
						 ? " (half the nop5 entry + uretprobe pair)" : "",
					 cost_slot_name((enum cost_slot)with), entry ? "exit" : "entry",
					 cost[s].in_window_ns + cost[with].in_window_ns,
					 cost[s].in_window_jitter_ns + cost[with].in_window_jitter_ns);
		}
		log_info("probe temperature: a call's state lookups take %d ns warm, %d ns cold",
			 r->skel->bss->probe_costs.therm_warm_ns,
			 r->skel->bss->probe_costs.therm_cold_ns);
	}
}
#else
int calib_prepare(struct recorder *r, struct group_list *gl, int first_hid, unsigned slots)
{
	(void)r;
	(void)gl;
	(void)first_hid;
	(void)slots;
	log_info("calibration: not implemented on this architecture; probe cost unknown");
	return -1;
}

int calib_attach_usdt(struct recorder *r, char *err, size_t errlen)
{
	(void)r;
	(void)err;
	(void)errlen;
	return 0;
}

void calib_measure(struct recorder *r, int rounds)
{
	(void)r;
	(void)rounds;
}
#endif

void calib_free(struct calibration *c)
{
	free(c->rounds);
	memset(c, 0, sizeof(*c));
}
