// SPDX-License-Identifier: MIT
/*
 * Attach stage: skeleton lifecycle (open, set rodata and map sizes, load,
 * attach, destroy), the probe-cost calibration (calibrate.c) and mass
 * attachment of probe sites.
 *
 * Probe sites are grouped by (binary, process) so that one uprobe_multi or
 * uprobe.session link covers every handler of a binary: such a link
 * attaches and detaches in milliseconds, where per-site perf-event links
 * take ~0.1 s each to detach (see docs/internals.md).
 */
#include "attach.h"
#include "attach_int.h"
#include "attach_usdt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "flowprof.h"
#include "uprobe_multi_link.h"

#if defined(__x86_64__)
#define RET_SP_ADJUST 8 /* `ret` pops the return address */
#else
#define RET_SP_ADJUST 0 /* return address in a register (arm64 LR) */
#endif

/* ---- links ---------------------------------------------------------------- */

void recorder_keep_link(struct recorder *r, struct bpf_link *l)
{
	grow_array((void **)&r->links, &r->cap_links, r->n_links + 1, sizeof(*r->links));
	r->links[r->n_links++] = l;
}

void recorder_keep_fd(struct recorder *r, int fd)
{
	grow_array((void **)&r->link_fds, &r->cap_link_fds, r->n_link_fds + 1, sizeof(int));
	r->link_fds[r->n_link_fds++] = fd;
}

/*
 * Closing a uprobe link waits for the kernel's grace periods (RCU tasks
 * trace and SRCU): 20-30 ms for a uprobe_multi link, ~0.1 s for a
 * perf-event one, on the 2-vCPU EPYC guest. Waits that overlap share their
 * grace periods, so the links are closed by up to DETACH_THREADS threads at
 * once: 3 links in ~30 ms instead of ~75. Alone (a thread could not be
 * started, or there is one link) the calling thread closes what is left.
 */
#define DETACH_THREADS 64

struct detach_share {
	struct recorder *r;
	size_t first, step;
};

static void *detach_some(void *arg)
{
	const struct detach_share *d = arg;
	struct recorder *r = d->r;

	for (size_t i = d->first; i < r->n_link_fds + r->n_links; i += d->step) {
		if (i < r->n_link_fds)
			close(r->link_fds[i]);
		else
			bpf_link__destroy(r->links[i - r->n_link_fds]);
	}
	return NULL;
}

void detach_all(struct recorder *r)
{
	size_t n = r->n_link_fds + r->n_links, nt = n < DETACH_THREADS ? n : DETACH_THREADS;
	struct detach_share share[DETACH_THREADS];
	pthread_t th[DETACH_THREADS];
	size_t started = 0;

	for (size_t t = 1; t < nt; t++) {
		share[t] = (struct detach_share){ r, t, nt };
		if (pthread_create(&th[t], NULL, detach_some, &share[t]))
			break;
		started = t;
	}
	/* this thread takes share 0, and the shares no thread was started for */
	for (size_t t = 0; t < nt; t++) {
		if (t && t <= started)
			continue;
		share[t] = (struct detach_share){ r, t, nt };
		detach_some(&share[t]);
	}
	for (size_t t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
	free(r->link_fds);
	free(r->links);
	r->link_fds = NULL;
	r->links = NULL;
	r->n_link_fds = r->cap_link_fds = r->n_links = r->cap_links = 0;
}

static const char *describe_pid(int pid, char *buf, size_t len)
{
	if (pid > 0)
		snprintf(buf, len, "pid %d", pid);
	else
		snprintf(buf, len, "all processes");
	return buf;
}

/* Errors that no other attach mode would avoid. */
static bool error_is_final(int err)
{
	return err == ENOENT || err == EACCES || err == EPERM || err == ESRCH || err == ENOMEM ||
	       err == ENOEXEC;
}

/* 524 is the kernel's internal ENOTSUPP (no libc name), what uprobes answer
 * for an instruction they cannot probe, such as an int3. */
const char *attach_strerror(int e)
{
	if (e == 524)
		return "the kernel cannot probe the instruction there (ENOTSUPP)";
	return strerror(e);
}

/* Why a group's probes did not attach: a process that exited meanwhile
 * makes its /proc/PID/exe path vanish (ENOENT), which says it badly. */
static const char *group_strerror(const struct site_group *g, int e)
{
	if (e == ENOENT && g->pid > 0 && kill(g->pid, 0) && errno == ESRCH)
		return "the process has exited";
	return attach_strerror(e);
}

/* One multi link over a list (nothing when it is empty). */
static int multi_link(struct recorder *r, struct bpf_program *prog, uint32_t type, uint32_t flags,
		      const struct site_group *g, const struct site_list *l, char *err, size_t errlen)
{
	char who[32];
	int fd;

	if (!l->cnt)
		return 0;
	fd = create_multi_link(bpf_program__fd(prog), type, flags, g->binary, l->offsets,
			       l->ref_ctrs, l->cookies, l->cnt, g->pid);
	if (fd < 0) {
		snprintf(err, errlen, "%s link on %s (%s, %u probes): %s", attach_mode_name(r->info.mode),
			 g->display, describe_pid(g->pid, who, sizeof(who)), l->cnt,
			 group_strerror(g, -fd));
		return fd;
	}
	recorder_keep_fd(r, fd);
	return 0;
}

static int single_links(struct recorder *r, struct bpf_program *prog, bool ret,
			const struct site_group *g, const struct site_list *l, char *err,
			size_t errlen)
{
	char who[32];

	for (uint32_t i = 0; i < l->cnt; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = l->cookies[i], .retprobe = ret,
			    .ref_ctr_offset = l->ref_ctrs ? l->ref_ctrs[i] : 0);
		struct bpf_link *lk = bpf_program__attach_uprobe_opts(
			prog, g->pid > 0 ? g->pid : -1, g->binary, (size_t)l->offsets[i], &uo);

		if (!lk) {
			int e = errno;

			snprintf(err, errlen, "attach %s to %s offset 0x%llx (%s): %s",
				 ret ? "uretprobe" : "uprobe", g->display,
				 (unsigned long long)l->offsets[i],
				 describe_pid(g->pid, who, sizeof(who)), group_strerror(g, e));
			return -e;
		}
		recorder_keep_link(r, lk);
	}
	return 0;
}

int attach_entries_with(struct recorder *r, struct bpf_program *prog, const struct site_group *g,
			char *err, size_t errlen)
{
	if (r->info.mode == ATTACH_SINGLE)
		return single_links(r, prog, false, g, &g->entries, err, errlen);
	return multi_link(r, prog, FP_BPF_TRACE_UPROBE_MULTI, 0, g, &g->entries, err, errlen);
}

int attach_site_group(struct recorder *r, const struct site_group *g, char *err, size_t errlen)
{
	struct flowprof_bpf *skel = r->skel;
	int e = 0;

	switch (r->info.mode) {
	case ATTACH_SESSION: {
		/* one link: entries and exit sites, with one program */
		struct site_list all = { 0 };

		for (uint32_t i = 0; i < g->entries.cnt; i++)
			site_list_add(&all, g->entries.offsets[i], 0, g->entries.cookies[i]);
		for (uint32_t i = 0; i < g->exits.cnt; i++)
			site_list_add(&all, g->exits.offsets[i], 0, g->exits.cookies[i]);
		e = multi_link(r, skel->progs.handler_session, FP_BPF_TRACE_UPROBE_SESSION, 0, g,
			       &all, err, errlen);
		site_list_free(&all);
		break;
	}
	case ATTACH_MULTI:
		e = multi_link(r, skel->progs.handler_entry, FP_BPF_TRACE_UPROBE_MULTI, 0, g,
			       &g->entries, err, errlen);
		if (!e)
			e = multi_link(r, skel->progs.handler_exit_site, FP_BPF_TRACE_UPROBE_MULTI, 0,
				       g, &g->exits, err, errlen);
		if (!e)
			e = multi_link(r, skel->progs.handler_return, FP_BPF_TRACE_UPROBE_MULTI,
				       FP_BPF_F_UPROBE_MULTI_RETURN, g, &g->returns, err, errlen);
		break;
	default:
		e = single_links(r, skel->progs.handler_entry, false, g, &g->entries, err, errlen);
		if (!e)
			e = single_links(r, skel->progs.handler_exit_site, false, g, &g->exits, err,
					 errlen);
		if (!e)
			e = single_links(r, skel->progs.handler_return, true, g, &g->returns, err,
					 errlen);
		break;
	}
	return e;
}

static int attach_tracepoints(struct recorder *r)
{
	struct bpf_program *progs[] = {
		r->skel->progs.on_sched_switch,
		r->skel->progs.on_sched_switch_btf,
		r->skel->progs.on_thread_exit,
		r->skel->progs.on_exec,
		r->skel->progs.on_process_free,
	};

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		struct bpf_link *l;

		if (!bpf_program__autoload(progs[i]))
			continue;
		l = bpf_program__attach(progs[i]);
		if (!l) {
			log_warn("cannot attach %s: %s%s", bpf_program__name(progs[i]),
				 strerror(errno),
				 i <= 1 ? "; on-CPU time will not be measured" : "");
			if (i <= 1)
				r->info.oncpu = false;
			continue;
		}
		recorder_keep_link(r, l);
		if (progs[i] == r->skel->progs.on_process_free)
			r->info.exit_cpu = true;
		if (progs[i] == r->skel->progs.on_sched_switch_btf)
			r->info.wakeups = true;
	}
	return 0;
}

static int open_and_load(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
			 const struct attach_opts *o, char *err, size_t errlen)
{
	struct flowprof_bpf *skel;
	uint32_t nh = (uint32_t)(r->n_flow_handlers + CALIB_HANDLERS);
	uint32_t inst = (uint32_t)r->max_instances;
	bool session = r->info.mode == ATTACH_SESSION, multi = r->info.mode == ATTACH_MULTI;
	int e;

	skel = flowprof_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "open BPF object: %s", strerror(errno));
		return -errno;
	}
	r->skel = skel;
	skel->rodata->n_handlers = nh;
	skel->rodata->n_flows = (uint32_t)ff->n_flows;
	skel->rodata->max_instances = inst;
	skel->rodata->use_task_storage = r->info.feat.task_storage;
	skel->rodata->self_tgid = (uint32_t)getpid();
	skel->rodata->root_tgid = o->root_tgid > 0 ? (uint32_t)o->root_tgid : 0;
	skel->rodata->track_oncpu = r->info.oncpu;
	skel->rodata->ret_sp_adjust = RET_SP_ADJUST;
	skel->rodata->n_flow_handlers = (uint32_t)r->n_flow_handlers;

	bpf_map__set_max_entries(skel->maps.handler_stats, nh);
	bpf_map__set_max_entries(skel->maps.flow_visits, (uint32_t)(ff->n_flows ? ff->n_flows : 1) * nh);
	/* one slot per process up to max_instances, then one pooling the rest */
	bpf_map__set_max_entries(skel->maps.instances, inst);
	bpf_map__set_max_entries(skel->maps.instance_info, inst + 1);
	bpf_map__set_max_entries(skel->maps.instance_stats, (inst + 1) * nh);
	if (r->info.feat.task_storage)
		bpf_map__set_max_entries(skel->maps.thread_state_hash, 1);
	else
		bpf_map__set_autocreate(skel->maps.task_state, false);
	/* an LRU map is allocated whole at creation (tens of MB of locked
	 * memory at full size): only as large as Go handlers need */
	{
		bool any_go = false;

		for (size_t i = 0; i < res->n_sites && !any_go; i++)
			any_go = res->sites[i].go;
		if (!any_go)
			bpf_map__set_max_entries(skel->maps.go_state, 1);
	}

	bpf_program__set_autoload(skel->progs.handler_session, session);
	bpf_program__set_autoload(skel->progs.handler_entry, !session);
	bpf_program__set_autoload(skel->progs.handler_return, !session);
	bpf_program__set_autoload(skel->progs.handler_exit_site, !session);
	if (session)
		bpf_program__set_expected_attach_type(skel->progs.handler_session,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_SESSION);
	if (multi || session)
		bpf_program__set_expected_attach_type(skel->progs.count_entry,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	if (multi) {
		bpf_program__set_expected_attach_type(skel->progs.handler_entry,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.handler_return,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.handler_exit_site,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	}
	/* with task storage and BTF tracepoints, the switch of two untracked
	 * threads costs two lookups (bpf/sched.bpf.h) */
	{
		bool btf_switch = r->info.feat.task_storage && r->info.feat.tp_btf;

		bpf_program__set_autoload(skel->progs.on_sched_switch,
					  r->info.feat.raw_tp && r->info.oncpu && !btf_switch);
		bpf_program__set_autoload(skel->progs.on_sched_switch_btf,
					  r->info.oncpu && btf_switch);
	}
	bpf_program__set_autoload(skel->progs.on_thread_exit, r->info.feat.raw_tp);
	bpf_program__set_autoload(skel->progs.on_exec, r->info.feat.raw_tp);
	bpf_program__set_autoload(skel->progs.on_process_free, r->info.feat.raw_tp);

	rt_prepare_load(r, ff, res);

	e = flowprof_bpf__load(skel);
	if (e && bpf_program__autoload(skel->progs.on_sched_switch_btf)) {
		/* the empty BTF tracepoint program loaded at start-up; a verifier
		 * may still refuse this one: once more, on the raw tracepoint */
		int first = e < 0 ? -e : e;

		flowprof_bpf__destroy(skel);
		r->skel = NULL;
		r->info.feat.tp_btf = false;
		e = open_and_load(r, ff, res, o, err, errlen);
		if (!e)
			log_info("the tp_btf sched_switch program did not load (%s): raw tracepoint "
				 "instead", strerror(first));
		else
			r->info.feat.tp_btf = true; /* not its fault: the next mode tries it */
		return e;
	}
	if (e) {
		e = e < 0 ? -e : e;
		snprintf(err, errlen, "load BPF programs (%s mode): %s", attach_mode_name(r->info.mode),
			 strerror(e));
		return -e;
	}
	return 0;
}

static void unload(struct recorder *r)
{
	detach_all(r);
	flowprof_bpf__destroy(r->skel);
	r->skel = NULL;
	r->info.n_probes = 0;
	r->info.wakeups = false;
	for (int h = 0; h < r->info.n_handlers; h++) {
		free(r->info.handlers[h].fallback);
		free(r->info.handlers[h].partial);
		memset(&r->info.handlers[h], 0, sizeof(r->info.handlers[h]));
	}
}

/*
 * The cost slots the handlers' probes can take, whatever the exits'
 * choice: the calibration measures cold only the stubs these depend on.
 */
static unsigned slots_possible(const struct resolution *res)
{
	unsigned slots = 1U << SLOT_EXIT_URETPROBE;

	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];

		if (s->kind != PROBE_FUNCTION) {
			slots |= 1U << SLOT_ENTRY_USDT | 1U << SLOT_EXIT_USDT;
			continue;
		}
		slots |= 1U << s->entry_slot;
		if (s->alt_entry_offset)
			slots |= 1U << s->alt_entry_slot;
		for (size_t k = 0; k < s->n_exits; k++) {
			slots |= 1U << s->exits[k].slot;
			if (s->exits[k].alt_offset)
				slots |= 1U << s->exits[k].alt_slot;
		}
	}
	return slots;
}

/* Initial calibration rounds, before the handlers are attached. */
#define CALIB_FIRST_ROUNDS 3

static int try_mode(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		    const struct attach_opts *o, char *err, size_t errlen)
{
	struct group_list calib = { 0 }, gl = { 0 };
	size_t done = 0, total = 0;
	uint64_t t0 = now_ns(), t1;
	int e;

	e = open_and_load(r, ff, res, o, err, errlen);
	if (e) {
		unload(r); /* the skeleton that did not load */
		return e;
	}
	r->info.load_ms = (double)(now_ns() - t0) / 1e6;
	e = slots_assign(r, err, errlen);
	if (e) {
		unload(r);
		return e;
	}
	if (r->info.feat.raw_tp)
		attach_tracepoints(r);

	/* What probes cost here, measured on flowprof's own functions, before
	 * the handlers' probes go in: the choice of their exits depends on it. */
	if (!calib_prepare(r, &calib, r->n_flow_handlers, slots_possible(res))) {
		for (size_t i = 0; i < calib.n && !e; i++)
			e = attach_site_group(r, &calib.g[i], err, errlen);
		if (!e)
			e = calib_attach_usdt(r, err, errlen);
		if (e)
			goto out;
		r->cal.ready = true;
		t1 = now_ns();
		calib_measure(r, CALIB_FIRST_ROUNDS);
		r->info.calib_ms = (double)(now_ns() - t1) / 1e6;
	}

	build_groups(r, &gl, ff, res, o->exits);
	for (size_t i = 0; i < gl.n; i++)
		total += gl.g[i].entries.cnt + gl.g[i].exits.cnt;
	for (size_t i = 0; i < gl.n && !o->plan_only; i++) {
		e = attach_site_group(r, &gl.g[i], err, errlen);
		if (e)
			break;
		done += gl.g[i].entries.cnt + gl.g[i].exits.cnt;
		if (o->progress)
			o->progress(o->progress_ctx, done, total);
	}
	if (o->progress && done < total && !o->plan_only) /* failed: the line still goes */
		o->progress(o->progress_ctx, total, total);
	r->info.n_probes = done;
	if (!e && !o->plan_only)
		e = rt_attach(r, ff, res, err, errlen);
out:
	groups_free(&calib);
	groups_free(&gl);
	r->info.attach_ms = (double)(now_ns() - t0) / 1e6;
	if (e)
		unload(r);
	return e;
}

int recorder_start(struct recorder **out, const struct flowfile *ff,
		   const struct resolution *res, const struct attach_opts *o, char *err,
		   size_t errlen)
{
	enum attach_mode first = o->mode, last = o->mode, next;
	struct recorder *r = xcalloc(1, sizeof(*r));
	int e = -EINVAL;

	*out = NULL;
	detect_kernel_features(&r->info.feat);
	r->n_flow_handlers = ff->n_handlers;
	r->info.n_handlers = ff->n_handlers;
	r->info.handlers = xcalloc((size_t)ff->n_handlers + 1, sizeof(*r->info.handlers));
	/* --max-instances given (0 when not; it takes 2 to 65536) */
	bool slots_given = o->max_instances > 1;

	r->max_instances = slots_given ? o->max_instances : DEFAULT_MAX_INSTANCES;
	slots_plan(r, res, slots_given);
	r->entry_first = o->entry_first;
	if (o->mode == ATTACH_AUTO) {
		first = r->info.feat.uprobe_session ? ATTACH_SESSION
			: r->info.feat.uprobe_multi ? ATTACH_MULTI
						    : ATTACH_SINGLE;
		last = ATTACH_SINGLE;
	}
	for (enum attach_mode m = first; m <= last; m++) {
		if (m == ATTACH_MULTI && !r->info.feat.uprobe_multi && o->mode == ATTACH_AUTO)
			continue;
		r->info.mode = m;
		r->info.oncpu = !o->no_oncpu && r->info.feat.raw_tp;
		e = try_mode(r, ff, res, o, err, errlen);
		if (!e) {
			/* every probe is in: the handlers are counted from here */
			r->skel->bss->armed = !o->plan_only;
			log_info("attach mode: %s (%zu probe points in %.1f ms: BPF load and "
				 "verification %.1f ms, probe-cost calibration %.1f ms)", attach_mode_name(m),
				 r->info.n_probes, r->info.attach_ms, r->info.load_ms, r->info.calib_ms);
			*out = r;
			return 0;
		}
		if (error_is_final(-e) || m == last)
			break;
		/* said without -v: the kernel refused a mode it offers, and the next
		 * one costs more (single links take ~0.1 s each to detach) */
		next = m + 1 == ATTACH_MULTI && !r->info.feat.uprobe_multi && o->mode == ATTACH_AUTO
			? ATTACH_SINGLE : m + 1;
		log_warn("%s; falling back to %s", err, attach_mode_name(next));
	}
	recorder_free(r);
	return -1;
}

void recorder_recalibrate(struct recorder *r)
{
	if (r && r->skel && r->cal.ready && (r->n_links || r->n_link_fds))
		calib_measure(r, 1);
}

void recorder_arm(struct recorder *r)
{
	if (r && r->skel)
		r->skel->bss->armed = true;
}

void recorder_disarm(struct recorder *r)
{
	if (r && r->skel)
		r->skel->bss->armed = false;
}

void recorder_detach(struct recorder *r)
{
	uint64_t t0 = now_ns();

	if (!r || (!r->n_links && !r->n_link_fds))
		return;
	detach_all(r);
	r->info.detach_ms = (double)(now_ns() - t0) / 1e6;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	if (r->skel) {
		recorder_detach(r);
		unload(r);
	}
	calib_free(&r->cal);
	free(r->slot_pids);
	for (int h = 0; h < r->info.n_handlers; h++) {
		free(r->info.handlers[h].fallback);
		free(r->info.handlers[h].partial);
	}
	free(r->info.handlers);
	free(r);
}

const struct recorder_info *recorder_info(const struct recorder *r)
{
	return &r->info;
}

int recorder_map_fd(const struct recorder *r, enum recorder_map m)
{
	switch (m) {
	case RMAP_HANDLER_STATS: return bpf_map__fd(r->skel->maps.handler_stats);
	case RMAP_EDGES: return bpf_map__fd(r->skel->maps.edges);
	case RMAP_FLOW_VISITS: return bpf_map__fd(r->skel->maps.flow_visits);
	case RMAP_INSTANCES: return bpf_map__fd(r->skel->maps.instances);
	case RMAP_INSTANCE_INFO: return bpf_map__fd(r->skel->maps.instance_info);
	case RMAP_INSTANCE_STATS: return bpf_map__fd(r->skel->maps.instance_stats);
	default: return -1;
	}
}

const uint64_t *recorder_counters(const struct recorder *r)
{
	return (const uint64_t *)r->skel->bss->counters;
}

int recorder_n_handlers(const struct recorder *r)
{
	return r->n_flow_handlers;
}

int recorder_bpf_handlers(const struct recorder *r)
{
	return r->n_flow_handlers + CALIB_HANDLERS;
}

int recorder_max_instances(const struct recorder *r)
{
	return r->max_instances;
}
