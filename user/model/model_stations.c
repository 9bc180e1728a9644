// SPDX-License-Identifier: MIT
/*
 * The model's stations (docs/model.md, "Stations"): each bundle's pool of
 * workers (or one server for a serial bundle), a one-server station per
 * serial handler inside a parallel bundle, and the CPUs (their demand is
 * model_cpu.c's). Then the waits the measured held times already contain
 * (for a CPU, for serial handlers) are taken out of the pools' own work,
 * and each station gets its demand per flow, its background load, the busy
 * servers the kernel measured and the variability of its service.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* ---- new stations; the pools' servers ---------------------------------------- */

int model_bundle_station(struct model *m, const char *bundle)
{
	for (int i = 0; i < m->n_stations; i++)
		if ((m->stations[i].kind == STATION_POOL || m->stations[i].kind == STATION_SERIAL) &&
		    !strcmp(m->stations[i].name, bundle))
			return i;
	return -1;
}

struct model_station *model_new_station(struct build *b, const char *name,
					enum model_station_kind kind)
{
	struct model *m = b->m;
	struct model_station *st;

	m->stations = xrealloc(m->stations, (size_t)(m->n_stations + 1) * sizeof(*m->stations));
	b->sp = xrealloc(b->sp, (size_t)(m->n_stations + 1) * sizeof(*b->sp));
	memset(&b->sp[m->n_stations], 0, sizeof(*b->sp));
	st = &m->stations[m->n_stations++];
	memset(st, 0, sizeof(*st));
	st->name = xstrdup(name);
	st->kind = kind;
	st->bundle = -1;
	st->handler = -1;
	st->demand_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->demand_measured_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->demand_exclusive_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->oncpu_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->wake_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->outside_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->visits = xcalloc((size_t)b->F + 1, sizeof(double));
	st->busy_sampled = NAN;
	return st;
}

static const struct model_servers *find_servers(const struct model_servers *arr, int n,
						const char *bundle)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(arr[i].bundle, bundle))
			return &arr[i];
	return NULL;
}

static double conc_mean(const uint64_t *levels)
{
	double total = 0, sum = 0;

	for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
		total += (double)levels[k];
		sum += (double)k * (double)levels[k];
	}
	return total > 0 ? sum / total : NAN;
}

/* The processes that ran its handlers (pid_threads > 0), or all of them
 * when the snapshot does not say. */
static int serving_processes(const struct snap_bundle *sb)
{
	int n = 0;

	for (int i = 0; sb->pid_threads && i < sb->n_pids; i++)
		n += sb->pid_threads[i] > 0;
	return n > 0 ? n : sb->n_pids > 0 ? sb->n_pids : 1;
}

/* A bundle's servers: command line > flow file > observed (docs/model.md). */
void model_size_pool(struct build *b, struct model_station *st, const struct snap_bundle *sb)
{
	const struct model_servers *ci = find_servers(b->o->instances, b->o->n_instances, st->name);
	const struct model_servers *cw = find_servers(b->o->workers, b->o->n_workers, st->name);
	int pids = sb && sb->n_pids > 0 ? sb->n_pids : 1;
	int threads = sb ? sb->threads : 0;
	int inst = ci ? ci->value : sb && sb->instances > 0 ? sb->instances : 0;
	int work = cw ? cw->value : sb && sb->workers > 0 ? sb->workers : 0;
	bool conc_source = false;

	st->concurrency_mean = NAN;
	if (sb && sb->conc_measured && sb->inflight_max > 0) {
		/* What can run at once, per process: the threads that ran its
		 * handlers and are alive (a pool's workers, busy or idle), time-
		 * weighted, and never fewer than the most inside its handlers at
		 * once. Not every thread ever seen: a thread-per-request server
		 * starts thousands, and they die after their request. */
		double live = conc_mean(sb->live_ns);
		int serving = serving_processes(sb);
		int per = isfinite(live) && lround(live) > sb->inflight_max ? (int)lround(live)
									       : sb->inflight_max;

		threads = per * serving;
		pids = serving;
		conc_source = true;
		st->concurrency_mean = conc_mean(sb->inflight_ns) * serving;
		st->concurrency_max = sb->inflight_max;
		st->servers_live = per > sb->inflight_max;
		if (st->servers_live && !inst && !work)
			model_note(b->m, "%s: counted %d workers a process: threads that ran its "
				   "handlers stayed alive, %d at once on average, though at most %d ran "
				   "them at a time; if fewer can serve at once, say workers: N in the "
				   "flow file (or --workers)", st->name, per, per, sb->inflight_max);
	}
	b->sp[st - b->m->stations].observed = sb && sb->serial ? 1 : threads > 0 ? threads : pids;
	if (sb && sb->serial) {
		st->kind = STATION_SERIAL;
		st->servers = st->instances = st->workers = 1;
		st->servers_source = "serial";
		return;
	}
	if (!inst && !work) {
		st->servers = threads > 0 ? threads : pids;
		st->instances = pids;
		st->workers = (st->servers + pids - 1) / pids;
		st->servers_source = "observed";
		st->servers_basis = !conc_source ? "threads"
				    : st->servers_live ? "live threads" : "concurrency";
		if (threads <= 0)
			model_note(b->m, "%s: no thread count in the snapshot; assuming one worker per "
				   "process (set workers: in the flow file or --workers)", st->name);
		/* a pool names its workers alike: more of them than were seen
		 * serving (a load that used two of memcached's four) */
		if (threads > 0 && sb && sb->worker_name && sb->named_threads > threads)
			model_note(b->m, "%s: %d servers, as many as were seen serving at once; its "
				   "processes have %d threads named %s, as the first to run a handler "
				   "was: if they all serve, the pool has %d (--workers %s=%d, or "
				   "workers: in the flow file)", st->name, st->servers,
				   sb->named_threads, sb->worker_name, sb->named_threads, st->name,
				   (sb->named_threads + pids - 1) / pids);
		return;
	}
	if (!inst)
		inst = pids;
	if (!work)
		work = threads > 0 ? (int)lround((double)threads / pids) : 1;
	if (work < 1)
		work = 1;
	st->instances = inst;
	st->workers = work;
	st->servers = inst * work;
	st->servers_source = ci || cw ? "command line" : "flow file";
}

/* ---- what a station counts of a handler -------------------------------------- */

static void station_add_handler(struct build *b, int st, int h)
{
	struct station_priv *p = &b->sp[st];

	p->handlers = xrealloc(p->handlers, (size_t)(p->n_handlers + 1) * sizeof(*p->handlers));
	p->handlers[p->n_handlers++] = h;
}

double model_station_time(const struct build *b, int st, int h, bool intrinsic)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[h];

	switch (S->kind) {
	case STATION_CPU:
		return mh->cpu_demand_ns;
	case STATION_LOCK:
		return mh->mean_ns;
	default:
		return intrinsic ? mh->held0_ns : mh->held_ns;
	}
}

double model_station_oncpu(const struct build *b, int st, int h)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[h];

	switch (S->kind) {
	case STATION_CPU:
		return mh->cpu_demand_ns;
	case STATION_LOCK:
		return isfinite(mh->oncpu_ns) ? mh->oncpu_ns : 0;
	default:
		return mh->held_oncpu_ns;
	}
}

/* ---- building them ---------------------------------------------------------- */

/*
 * Of the waits to run the kernel measured while recording, the share that
 * the probes' own CPU time caused: without it the CPUs were busy with the
 * bundles' work (cpu_busy) and other processes', and a wait grows with
 * that as M/M/c's does (stretch - 1); at or past the CPUs' count with the
 * probes, all of it. Other processes' waits stay: they go on without the
 * probes (a load generator on the same CPUs, say).
 */
static double probed_wait_share(const struct build *b, double cpu_busy, double dur)
{
	const struct model *m = b->m;
	double probes = 0, others, with, without;
	int c;

	if (b->cpu_station < 0 || !(dur > 0))
		return 0;
	c = m->stations[b->cpu_station].servers;
	others = m->stations[b->cpu_station].others_busy;
	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_POOL && m->stations[k].cpu_used_s > 0)
			probes += isfinite(m->stations[k].probes_measured_s)
					  ? m->stations[k].probes_measured_s
					  : m->stations[k].probes_cpu_s;
	if (!(probes > 0))
		return 0;
	without = mmc_stretch(c, cpu_busy + others) - 1;
	with = mmc_stretch(c, cpu_busy + others + probes / dur) - 1;
	if (!isfinite(with))
		return isfinite(without) ? 1 : 0;
	return with > 0 ? fmax(0, 1 - without / with) : 0;
}

void model_build_stations(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	double dur = s->duration_s;

	b->cpu_station = -1;
	b->lock_station = xcalloc((size_t)b->H + 1, sizeof(int));
	b->lock_wait_meas = xcalloc((size_t)b->H + 1, sizeof(double));
	for (int h = 0; h < b->H; h++) {
		b->lock_station[h] = -1;
		station_add_handler(b, b->bundle_of[h], h);
	}
	/* a serial handler inside a parallel bundle: a one-server station */
	for (int h = 0; h < b->H; h++) {
		struct model_station *st;

		if (!m->handlers[h].serial || m->stations[b->bundle_of[h]].kind == STATION_SERIAL)
			continue;
		st = model_new_station(b, m->handlers[h].id, STATION_LOCK);
		st->handler = h;
		st->bundle = m->stations[b->bundle_of[h]].bundle;
		st->servers = st->instances = st->workers = 1;
		st->servers_source = "serial";
		b->sp[m->n_stations - 1].observed = 1;
		b->lock_station[h] = m->n_stations - 1;
		station_add_handler(b, m->n_stations - 1, h);
	}
	if (b->cpu_known) {
		double cpus = s->nproc;
		const char *source = "nproc";

		model_cpu_demands(b, &cpus, &source);
		if (s->nproc > 0) {
			const char *name = model_station_index(m, "cpu") < 0 ? "cpu" : "host-cpu";
			struct model_station *st = model_new_station(b, name, STATION_CPU);

			st->servers = (int)ceil(cpus - 1e-9);
			st->cpus = cpus;
			st->servers_source = source;
			st->others_busy = model_others_cpu_busy(b, cpus);
			b->sp[m->n_stations - 1].observed = st->servers;
			b->cpu_station = m->n_stations - 1;
			for (int h = 0; h < b->H; h++)
				station_add_handler(b, b->cpu_station, h);
			if (s->n_hosts > 1)
				model_note(m, "%s: the CPUs of %d hosts pooled as one station of %d",
					   name, s->n_hosts, s->nproc);
		} else {
			model_note(m, "the snapshot does not say how many CPUs the host has: no CPU "
				   "station");
		}
	}
	/* waits that the measured held times contain: for the CPU and for serial
	 * handlers (their callers wait for them) */
	{
		double cpu_busy = 0, servers = b->cpu_station >= 0
						  ? m->stations[b->cpu_station].servers : s->nproc;

		/* in units of the station's servers (a quota's slower CPUs) */
		for (int h = 0; h < b->H; h++)
			cpu_busy += (double)m->handlers[h].calls * m->handlers[h].cpu_demand_ns;
		cpu_busy /= dur * NS;
		b->stretch_meas = model_cpu_stretch(b, b->cpu_station, cpu_busy, true);
		b->probed_wait_share = probed_wait_share(b, cpu_busy, dur);
		if (b->cpu_station >= 0 && servers > 0 && cpu_busy / servers > 0.8)
			model_note(m, "the bundles kept their CPUs %.0f%% busy while recording: the waits "
				   "for a CPU inside their times are estimated (M/M/c, capped by the "
				   "workers that exist) and taken out of the pools' own demand",
				   100 * cpu_busy / servers);
	}
	for (int h = 0; h < b->H; h++) {
		int l = b->lock_station[h];
		double A;

		if (l < 0)
			continue;
		A = (double)m->handlers[h].calls * m->handlers[h].mean_ns / (dur * NS);
		b->lock_wait_meas[h] = model_lock_wait(b, l, A, true);
		if (A > 1.02)
			model_note(m, "%s: serial, yet busy %.0f%% of the time, more than one server can "
				   "be: its time includes waiting for itself; probe only the serialized "
				   "part", m->handlers[h].id, 100 * A);
	}
	for (int h = 0; h < b->H; h++) {
		struct model_handler *mh = &m->handlers[h];
		double wait, calls = (double)mh->calls;

		if (!mh->calls)
			continue;
		/* the waits for a CPU in its held time at the measured load, as
		 * the model's CPU station has them (its own work's: M/M/c), and
		 * where the kernel told a preemption from a sleep, those that
		 * the probes' CPU time added (without them, no such wait) */
		mh->cpu_wait0_ns = mh->held_oncpu_ns * (b->stretch_meas - 1);
		if (isfinite(mh->held_runq_ns))
			mh->cpu_wait0_ns = fmin(mh->cpu_wait0_ns + mh->held_runq_ns *
							   b->probed_wait_share,
						mh->held_ns - mh->held_oncpu_ns);
		wait = mh->cpu_wait0_ns;
		for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
			int to = b->edges[e].to;

			if (b->lock_station[to] >= 0 && b->bundle_of[to] == b->bundle_of[h])
				wait += b->edges[e].calls / calls * b->lock_wait_meas[to];
		}
		mh->held0_ns = mh->held_ns - fmin(mh->held_ns - mh->held_oncpu_ns, wait);
	}
	/* demands per flow, background, busy checks, service variability */
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];
		struct station_priv *p = &b->sp[k];
		double w_sum = 0, m1 = 0, m2 = 0, sampled = 0, raw = 0;

		for (int i = 0; i < p->n_handlers; i++) {
			int h = p->handlers[i];
			const struct model_handler *mh = &m->handlers[h];
			double t0 = model_station_time(b, k, h, true);
			double tm = model_station_time(b, k, h, false);
			bool held = st->kind == STATION_POOL || st->kind == STATION_SERIAL;
			double calls = (double)mh->calls, share = held ? mh->top_share : 1;
			/* a worker is held for each kind of a flow entry's calls
			 * at its own time (flow_visits_extra_ns); the CPU's
			 * demand is the calls' measured CPU time */
			double other = held ? b->elsewhere_extra[h] : 0;

			if (!mh->calls)
				continue;
			for (int f = 0; f < b->F; f++) {
				double v = V(b, f, h), extra = held && v > 0 ? flow_visits_extra_ns(b, f, h, v)
									      : 0;

				st->demand_ns[f] += v * t0 + extra;
				st->demand_measured_ns[f] += v * tm + extra;
				st->oncpu_ns[f] += v * model_station_oncpu(b, k, h);
				st->visits[f] += v * share;
			}
			p->bg0 += mh->unattributed_calls * (t0 + other) / (dur * NS);
			p->bgm += mh->unattributed_calls * (tm + other) / (dur * NS);
			p->bg_visits += mh->unattributed_calls * share / dur;
			st->busy_measured += calls * tm / (dur * NS);
			raw += calls * share * mh->raw_mean_ns / (dur * NS);
			sampled += s->handlers[h].inflight_mean * share;
			if (st->kind != STATION_CPU) {
				double w = calls * share;

				w_sum += w;
				m1 += w * mh->mean_ns;
				m2 += w * (mh->stddev_ns * mh->stddev_ns + mh->mean_ns * mh->mean_ns);
			}
		}
		st->busy_raw = raw;
		if (st->kind != STATION_CPU && (sampled > 0 || st->busy_measured == 0))
			st->busy_sampled = sampled;
		/* the kernel's own count of threads inside the bundle's handlers,
		 * time-weighted: exact where the samples were a handful */
		if (st->kind == STATION_POOL && isfinite(st->concurrency_mean))
			st->busy_sampled = st->concurrency_mean;
		st->utilization_measured = st->servers ? st->busy_measured / st->servers : 0;
		st->scv = 1;
		if (st->kind != STATION_CPU && w_sum > 0 && m1 > 0) {
			m1 /= w_sum;
			m2 /= w_sum;
			st->scv = fmax(0, m2 / (m1 * m1) - 1);
		}
		for (int f = 0; f < b->F; f++)
			st->busy_model += m->flows[f].measured_rate_per_s * st->demand_measured_ns[f] / NS;
	}
	model_wake_baseline(b);
}
