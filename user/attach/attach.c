// SPDX-License-Identifier: MIT
/*
 * Attach stage: skeleton lifecycle (open, set rodata and map sizes, load,
 * attach, destroy) and mass attachment of probe sites.
 *
 * Probe sites are grouped by (binary, process) so that one uprobe_multi or
 * uprobe.session link covers every handler of a binary: such a link
 * attaches and detaches in milliseconds, where per-site perf-event links
 * take ~0.1 s each to detach (see docs/internals.md).
 */
#include "attach.h"
#include "attach_usdt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "flowprof.h"
#include "flowprof.skel.h"
#include "kernel_btf.h"
#include "uprobe_multi_link.h"

#if defined(__x86_64__)
#define RET_SP_ADJUST 8 /* `ret` pops the return address */
#else
#define RET_SP_ADJUST 0 /* return address in a register (arm64 LR) */
#endif

static const char *const mode_names[ATTACH_MODE_COUNT] = {
	[ATTACH_SESSION] = "uprobe.session",
	[ATTACH_MULTI] = "uprobe_multi",
	[ATTACH_SINGLE] = "uprobe",
};

const char *attach_mode_name(enum attach_mode m)
{
	if (m < 0 || m >= ATTACH_MODE_COUNT)
		return "auto";
	return mode_names[m];
}

int attach_mode_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return ATTACH_AUTO;
	if (!strcmp(s, "session") || !strcmp(s, "uprobe.session"))
		return ATTACH_SESSION;
	if (!strcmp(s, "multi") || !strcmp(s, "uprobe_multi"))
		return ATTACH_MULTI;
	if (!strcmp(s, "single") || !strcmp(s, "uprobe"))
		return ATTACH_SINGLE;
	return -2;
}

static bool btf_has_enum_value(const struct btf *btf, const char *enum_name, const char *value)
{
	int id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), value))
			return true;
	return false;
}

void detect_kernel_features(struct kernel_features *f)
{
	struct kbtf_query q[] = {
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI", false },
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION", false },
		{ BTF_KIND_FUNC, "bpf_session_cookie", NULL, false },
		{ BTF_KIND_FUNC, "bpf_session_is_return", NULL, false },
	};
	struct btf *btf;

	memset(f, 0, sizeof(*f));
	/* Four names: read through the file, not parsed into 11 MB (libbpf
	 * parses it once more to load the programs anyway). */
	if (!kernel_btf_find(KERNEL_BTF_PATH, q, (int)ARRAY_SIZE(q))) {
		f->uprobe_multi = q[0].found;
		f->uprobe_session = q[1].found && q[2].found && q[3].found;
	} else if ((btf = btf__load_vmlinux_btf())) { /* elsewhere, or unknown to the reader */
		f->uprobe_multi = btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI");
		f->uprobe_session =
			btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION") &&
			btf__find_by_name_kind(btf, "bpf_session_cookie", BTF_KIND_FUNC) > 0 &&
			btf__find_by_name_kind(btf, "bpf_session_is_return", BTF_KIND_FUNC) > 0;
		btf__free(btf);
	}
	f->task_storage = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_task_storage_get,
						  NULL) == 1;
	f->raw_tp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1;
	log_info("kernel features: uprobe.session %s, uprobe_multi %s, task storage %s, raw tracepoints %s",
		 f->uprobe_session ? "yes" : "no", f->uprobe_multi ? "yes" : "no",
		 f->task_storage ? "yes" : "no", f->raw_tp ? "yes" : "no");
}

/* One batch of probe points that can share a link. */
struct site_group {
	const char *binary;
	int pid;
	uint64_t *offsets;
	uint64_t *ref_ctrs;	/* NULL when no site has a semaphore */
	uint64_t *cookies;
	uint32_t cnt;
};

struct group_list {
	struct site_group *g;
	size_t n, cap;
};

static struct site_group *group_for(struct group_list *gl, const char *binary, int pid)
{
	for (size_t i = 0; i < gl->n; i++)
		if (gl->g[i].pid == pid && !strcmp(gl->g[i].binary, binary))
			return &gl->g[i];
	grow_array((void **)&gl->g, &gl->cap, gl->n + 1, sizeof(*gl->g));
	gl->g[gl->n].binary = binary;
	gl->g[gl->n].pid = pid;
	return &gl->g[gl->n++];
}

static void group_add(struct site_group *g, uint64_t offset, uint64_t ref_ctr, uint64_t cookie)
{
	g->offsets = xrealloc(g->offsets, (g->cnt + 1) * sizeof(uint64_t));
	g->cookies = xrealloc(g->cookies, (g->cnt + 1) * sizeof(uint64_t));
	if (ref_ctr && !g->ref_ctrs)
		g->ref_ctrs = xcalloc(g->cnt + 1, sizeof(uint64_t));
	if (g->ref_ctrs) {
		g->ref_ctrs = xrealloc(g->ref_ctrs, (g->cnt + 1) * sizeof(uint64_t));
		g->ref_ctrs[g->cnt] = ref_ctr;
	}
	g->offsets[g->cnt] = offset;
	g->cookies[g->cnt] = cookie;
	g->cnt++;
}

static void groups_free(struct group_list *gl)
{
	for (size_t i = 0; i < gl->n; i++) {
		free(gl->g[i].offsets);
		free(gl->g[i].ref_ctrs);
		free(gl->g[i].cookies);
	}
	free(gl->g);
	memset(gl, 0, sizeof(*gl));
}

static void build_groups(struct group_list *gl, const struct flowfile *ff,
			 const struct resolution *res, const struct attach_opts *o,
			 const char *self_exe)
{
	uint32_t *entry_flows = xcalloc((size_t)ff->n_handlers + 1, sizeof(uint32_t));

	/* The cookie tells the BPF side which flows a handler is the entry of. */
	for (int f = 0; f < ff->n_flows && f < MAX_FLOWS; f++)
		entry_flows[ff->flows[f].entry] |= 1U << f;
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];

		if (s->kind != PROBE_FUNCTION)
			continue; /* rt_attach(), attach_unwind_hooks() */
		group_add(group_for(gl, s->binary, s->pid), s->offset, s->ref_ctr_offset,
			  MAKE_COOKIE(s->handler, entry_flows[s->handler]) |
				  (s->saves_return ? COOKIE_SAVES_RETURN : 0));
	}
	for (int i = 0; i < o->n_extra; i++)
		group_add(group_for(gl, self_exe, getpid()), o->extra[i].offset, 0,
			  MAKE_COOKIE(o->extra[i].hid, 0));
	free(entry_flows);
}

static void keep_link(struct recorder *r, struct bpf_link *l)
{
	grow_array((void **)&r->links, &r->cap_links, r->n_links + 1, sizeof(*r->links));
	r->links[r->n_links++] = l;
}

static void keep_fd(struct recorder *r, int fd)
{
	grow_array((void **)&r->link_fds, &r->cap_link_fds, r->n_link_fds + 1, sizeof(int));
	r->link_fds[r->n_link_fds++] = fd;
}

static void detach_all(struct recorder *r)
{
	for (size_t i = 0; i < r->n_link_fds; i++)
		close(r->link_fds[i]);
	for (size_t i = 0; i < r->n_links; i++)
		bpf_link__destroy(r->links[i]);
	free(r->link_fds);
	free(r->links);
	r->link_fds = NULL;
	r->links = NULL;
	r->n_link_fds = r->cap_link_fds = r->n_links = r->cap_links = 0;
}

/* Detaches the first n_fds raw links and n_links libbpf links, keeping the rest. */
static void detach_prefix(struct recorder *r, size_t n_fds, size_t n_links)
{
	for (size_t i = 0; i < n_fds; i++)
		close(r->link_fds[i]);
	for (size_t i = 0; i < n_links; i++)
		bpf_link__destroy(r->links[i]);
	memmove(r->link_fds, r->link_fds + n_fds, (r->n_link_fds - n_fds) * sizeof(int));
	memmove(r->links, r->links + n_links, (r->n_links - n_links) * sizeof(*r->links));
	r->n_link_fds -= n_fds;
	r->n_links -= n_links;
	r->hook_fds_from = r->hook_links_from = 0;
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

/* The kernel's reasons for refusing a probe point, in words: 524 is its
 * internal ENOTSUPP (no libc name), what uprobes answer for an instruction
 * they cannot probe, such as an int3. */
static const char *attach_strerror(int e)
{
	if (e == 524)
		return "the kernel cannot probe the instruction there (ENOTSUPP)";
	return strerror(e);
}

static int attach_group(struct recorder *r, const struct site_group *g, char *err, size_t errlen)
{
	struct flowprof_bpf *skel = r->skel;
	char who[32];
	int fd, e;

	describe_pid(g->pid, who, sizeof(who));
	switch (r->mode) {
	case ATTACH_SESSION:
		fd = create_multi_link(bpf_program__fd(skel->progs.handler_session),
				       FP_BPF_TRACE_UPROBE_SESSION, 0, g->binary, g->offsets,
				       g->ref_ctrs, g->cookies, g->cnt, g->pid);
		if (fd < 0)
			goto multi_fail;
		keep_fd(r, fd);
		break;
	case ATTACH_MULTI:
		fd = create_multi_link(bpf_program__fd(skel->progs.handler_entry),
				       FP_BPF_TRACE_UPROBE_MULTI, 0, g->binary, g->offsets,
				       g->ref_ctrs, g->cookies, g->cnt, g->pid);
		if (fd < 0)
			goto multi_fail;
		keep_fd(r, fd);
		fd = create_multi_link(bpf_program__fd(skel->progs.handler_return),
				       FP_BPF_TRACE_UPROBE_MULTI, FP_BPF_F_UPROBE_MULTI_RETURN,
				       g->binary, g->offsets, g->ref_ctrs, g->cookies, g->cnt,
				       g->pid);
		if (fd < 0)
			goto multi_fail;
		keep_fd(r, fd);
		break;
	default:
		for (uint32_t i = 0; i < g->cnt; i++) {
			for (int ret = 0; ret <= 1; ret++) {
				LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = g->cookies[i],
					    .retprobe = ret,
					    .ref_ctr_offset = g->ref_ctrs ? g->ref_ctrs[i] : 0);
				struct bpf_program *p = ret ? skel->progs.handler_return
							    : skel->progs.handler_entry;
				struct bpf_link *l = bpf_program__attach_uprobe_opts(
					p, g->pid > 0 ? g->pid : -1, g->binary,
					(size_t)g->offsets[i], &uo);

				if (!l) {
					e = errno;
					snprintf(err, errlen,
						 "attach uprobe to %s offset 0x%llx (%s): %s",
						 g->binary, (unsigned long long)g->offsets[i], who,
						 attach_strerror(e));
					return -e;
				}
				keep_link(r, l);
			}
		}
		break;
	}
	r->n_probes += g->cnt;
	return 0;

multi_fail:
	e = -fd;
	snprintf(err, errlen, "%s link on %s (%s, %u probes): %s", mode_names[r->mode], g->binary,
		 who, g->cnt, attach_strerror(e));
	return -e;
}

static int attach_tracepoints(struct recorder *r)
{
	struct bpf_program *progs[] = {
		r->skel->progs.on_sched_switch,
		r->skel->progs.on_thread_exit,
		r->skel->progs.on_exec,
	};

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		struct bpf_link *l;

		if (!bpf_program__autoload(progs[i]))
			continue;
		l = bpf_program__attach(progs[i]);
		if (!l) {
			log_warn("cannot attach %s: %s%s", bpf_program__name(progs[i]),
				 strerror(errno),
				 i == 0 ? "; on-CPU time will not be measured" : "");
			if (i == 0)
				r->oncpu = false;
			continue;
		}
		keep_link(r, l);
	}
	return 0;
}

static int open_and_load(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
			 const struct attach_opts *o, char *err, size_t errlen)
{
	struct flowprof_bpf *skel;
	uint32_t nh = (uint32_t)r->n_handlers, inst = (uint32_t)r->max_instances;
	bool session = r->mode == ATTACH_SESSION, multi = r->mode == ATTACH_MULTI;
	int e;

	skel = flowprof_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "open BPF object: %s", strerror(errno));
		return -errno;
	}
	r->skel = skel;
	skel->rodata->n_handlers = nh;
	skel->rodata->n_flows = (uint32_t)r->n_flows;
	skel->rodata->max_instances = inst;
	skel->rodata->use_task_storage = r->feat.task_storage;
	skel->rodata->self_tgid = (uint32_t)getpid();
	skel->rodata->root_tgid = o->root_tgid > 0 ? (uint32_t)o->root_tgid : 0;
	skel->rodata->track_oncpu = r->oncpu;
	skel->rodata->ret_sp_adjust = RET_SP_ADJUST;

	bpf_map__set_max_entries(skel->maps.handler_stats, nh);
	bpf_map__set_max_entries(skel->maps.flow_visits, (uint32_t)(r->n_flows ? r->n_flows : 1) * nh);
	/* one slot per process up to max_instances, then one pooling the rest */
	bpf_map__set_max_entries(skel->maps.instances, inst);
	bpf_map__set_max_entries(skel->maps.instance_info, inst + 1);
	bpf_map__set_max_entries(skel->maps.instance_stats, (inst + 1) * nh);
	if (r->feat.task_storage)
		bpf_map__set_max_entries(skel->maps.thread_state_hash, 1);
	else
		bpf_map__set_autocreate(skel->maps.task_state, false);

	bpf_program__set_autoload(skel->progs.handler_session, session);
	bpf_program__set_autoload(skel->progs.handler_entry, !session);
	bpf_program__set_autoload(skel->progs.handler_return, !session);
	if (session)
		bpf_program__set_expected_attach_type(skel->progs.handler_session,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_SESSION);
	if (multi) {
		bpf_program__set_expected_attach_type(skel->progs.handler_entry,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.handler_return,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	}
	/* It waits for the agent's writes: it must be allowed to be preempted. */
	bpf_program__set_flags(skel->progs.unwind_hook,
			       bpf_program__flags(skel->progs.unwind_hook) | BPF_F_SLEEPABLE);
	if (session || multi)
		bpf_program__set_expected_attach_type(skel->progs.unwind_hook,
						      (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_autoload(skel->progs.on_sched_switch, r->feat.raw_tp && r->oncpu);
	bpf_program__set_autoload(skel->progs.on_thread_exit, r->feat.raw_tp);
	bpf_program__set_autoload(skel->progs.on_exec, r->feat.raw_tp);

	rt_prepare_load(r, ff, res);

	e = flowprof_bpf__load(skel);
	if (e) {
		e = e < 0 ? -e : e;
		snprintf(err, errlen, "load BPF programs (%s mode): %s", mode_names[r->mode],
			 strerror(e));
		return -e;
	}
	return 0;
}

static void unload(struct recorder *r)
{
	detach_all(r);
	unwind_servicer_stop(&r->unwind);
	flowprof_bpf__destroy(r->skel);
	r->skel = NULL;
	r->n_probes = 0;
}

/*
 * Entry-only probes on the unwinder (resolve.c: "exceptions and unwinding"),
 * so that exceptions and forced unwinds can walk stacks that uretprobes
 * have rewritten. One uprobe_multi link per (library, process) when the
 * kernel has them, else single links.
 */
static int attach_unwind_hooks(struct recorder *r, const struct resolution *res, char *err,
			       size_t errlen)
{
	struct bpf_program *prog = r->skel->progs.unwind_hook;
	struct group_list gl = { 0 };
	int e = 0;

	/* attached last, detached last: see recorder_detach() */
	r->hook_fds_from = r->n_link_fds;
	r->hook_links_from = r->n_links;
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];

		if (s->kind == PROBE_UNWIND_RAISE || s->kind == PROBE_UNWIND_CATCH)
			group_add(group_for(&gl, s->binary, s->pid), s->offset, 0,
				  s->kind == PROBE_UNWIND_RAISE ? UNWIND_HOOK_RAISE
								: UNWIND_HOOK_CATCH);
	}
	for (size_t i = 0; i < gl.n && !e; i++) {
		const struct site_group *g = &gl.g[i];

		if (r->mode != ATTACH_SINGLE) {
			int fd = create_multi_link(bpf_program__fd(prog), FP_BPF_TRACE_UPROBE_MULTI, 0,
						   g->binary, g->offsets, NULL, g->cookies, g->cnt,
						   g->pid);

			if (fd < 0) {
				e = fd;
				snprintf(err, errlen, "unwinder hooks on %s: %s", g->binary,
					 attach_strerror(-fd));
			} else {
				keep_fd(r, fd);
			}
			continue;
		}
		for (uint32_t k = 0; k < g->cnt && !e; k++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = g->cookies[k]);
			struct bpf_link *l = bpf_program__attach_uprobe_opts(
				prog, g->pid > 0 ? g->pid : -1, g->binary, (size_t)g->offsets[k], &uo);

			if (!l) {
				e = -errno;
				snprintf(err, errlen, "unwinder hook on %s offset 0x%llx: %s", g->binary,
					 (unsigned long long)g->offsets[k], attach_strerror(errno));
			} else {
				keep_link(r, l);
			}
		}
	}
	if (!e && gl.n) {
		e = unwind_servicer_start(&r->unwind, r->skel->obj);
		if (e)
			snprintf(err, errlen, "start the unwinder servicer: %s", strerror(-e));
	}
	groups_free(&gl);
	return e;
}

static int try_mode(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		    const struct attach_opts *o, char *err, size_t errlen)
{
	struct group_list gl = { 0 };
	char self_exe[4096];
	size_t done = 0, total = 0;
	ssize_t n;
	uint64_t t0;
	int e;

	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';

	e = open_and_load(r, ff, res, o, err, errlen);
	if (e)
		return e;
	if (r->feat.raw_tp)
		attach_tracepoints(r);

	t0 = now_ns();
	build_groups(&gl, ff, res, o, self_exe);
	/* Progress counts what this loop attaches; USDT pairs and unwinder
	 * hooks (below) are few. */
	for (size_t i = 0; i < gl.n; i++)
		total += gl.g[i].cnt;
	for (size_t i = 0; i < gl.n; i++) {
		e = attach_group(r, &gl.g[i], err, errlen);
		if (e)
			break;
		done += gl.g[i].cnt;
		if (o->progress)
			o->progress(o->progress_ctx, done, total);
	}
	if (o->progress && done < total) /* failed: the line still goes */
		o->progress(o->progress_ctx, total, total);
	if (!e)
		e = rt_attach(r, ff, res, err, errlen);
	if (!e)
		e = attach_unwind_hooks(r, res, err, errlen);
	groups_free(&gl);
	r->attach_ms = (double)(now_ns() - t0) / 1e6;
	if (e)
		unload(r);
	return e;
}

int recorder_start(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		   const struct attach_opts *o, char *err, size_t errlen)
{
	enum attach_mode first = o->mode, last = o->mode, next;
	int e = -EINVAL;

	memset(r, 0, sizeof(*r));
	detect_kernel_features(&r->feat);
	r->n_handlers = ff->n_handlers + o->n_extra;
	r->n_flows = ff->n_flows;
	r->max_instances = o->max_instances > 1 ? o->max_instances : DEFAULT_MAX_INSTANCES;
	if (o->mode == ATTACH_AUTO) {
		first = r->feat.uprobe_session ? ATTACH_SESSION
			: r->feat.uprobe_multi ? ATTACH_MULTI
					       : ATTACH_SINGLE;
		last = ATTACH_SINGLE;
	}
	for (enum attach_mode m = first; m <= last; m++) {
		if (m == ATTACH_MULTI && !r->feat.uprobe_multi && o->mode == ATTACH_AUTO)
			continue;
		r->mode = m;
		r->oncpu = !o->no_oncpu && r->feat.raw_tp;
		e = try_mode(r, ff, res, o, err, errlen);
		if (!e) {
			log_info("attach mode: %s (%zu probe points in %.1f ms)", mode_names[m],
				 r->n_probes, r->attach_ms);
			return 0;
		}
		if (error_is_final(-e) || m == last)
			break;
		/* said without -v: the kernel refused a mode it offers, and the next
		 * one costs more (single links take ~0.1 s each to detach) */
		next = m + 1 == ATTACH_MULTI && !r->feat.uprobe_multi && o->mode == ATTACH_AUTO
			? ATTACH_SINGLE : m + 1;
		log_warn("%s; falling back to %s", err, mode_names[next]);
	}
	return -1;
}

void recorder_detach(struct recorder *r)
{
	uint64_t t0 = now_ns();

	if (!r->n_links && !r->n_link_fds)
		return;
	if (r->unwind.running) {
		/* Probes first, then the calls they left open get their return
		 * address back, while the unwinder hooks still serve exceptions;
		 * the hooks and their servicer go last. */
		detach_prefix(r, r->hook_fds_from, r->hook_links_from);
		unwind_restore_open_returns(bpf_map__fd(r->skel->maps.open_returns));
	}
	detach_all(r);
	/* only now: a thread may have been waiting for it until the detach */
	unwind_servicer_stop(&r->unwind);
	if (r->skel->bss->counters[CNT_UNWIND_LOST])
		log_warn("%llu exception or unwind fix-up%s could not be made in time (request "
			 "ring full, or flowprof got no CPU within about 0.2 s): a C++ exception "
			 "thrown through a probed call may have ended its process",
			 (unsigned long long)r->skel->bss->counters[CNT_UNWIND_LOST],
			 r->skel->bss->counters[CNT_UNWIND_LOST] == 1 ? "" : "s");
	r->detach_ms = (double)(now_ns() - t0) / 1e6;
}

void recorder_destroy(struct recorder *r)
{
	if (!r->skel)
		return;
	recorder_detach(r);
	unload(r);
}
