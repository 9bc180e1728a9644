// SPDX-License-Identifier: MIT
/*
 * What this kernel allows, found at start-up (never assumed): the attach
 * modes (uprobe.session, uprobe_multi, per-point uprobes), task storage,
 * raw and BTF tracepoints; and the names of the attach modes and of the
 * exit choices the options take.
 */
#include "attach.h"

#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "kernel_btf.h"

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

/*
 * Whether a tracing program on the BTF tracepoint whose typedef is btf_id
 * loads and attaches here: some kernels refuse the tracing types (EPERM)
 * where raw tracepoints work. An empty program, detached at once.
 */
static bool probe_tp_btf(int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = (__u32)btf_id);
	int prog, link;

	if (btf_id <= 0)
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, ARRAY_SIZE(insns), &opts);
	if (prog < 0)
		return false;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link >= 0)
		close(link);
	close(prog);
	return link >= 0;
}

void detect_kernel_features(struct kernel_features *f)
{
	struct kbtf_query q[] = {
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI", false, 0 },
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION", false, 0 },
		{ BTF_KIND_FUNC, "bpf_session_cookie", NULL, false, 0 },
		{ BTF_KIND_FUNC, "bpf_session_is_return", NULL, false, 0 },
		{ BTF_KIND_TYPEDEF, "btf_trace_sched_switch", NULL, false, 0 },
	};
	struct btf *btf;
	int switch_id = 0;

	memset(f, 0, sizeof(*f));
	/* Four names: read through the file, not parsed into 11 MB (libbpf
	 * parses it once more to load the programs anyway). */
	if (!kernel_btf_find(KERNEL_BTF_PATH, q, (int)ARRAY_SIZE(q))) {
		f->uprobe_multi = q[0].found;
		f->uprobe_session = q[1].found && q[2].found && q[3].found;
		switch_id = q[4].found ? (int)q[4].id : 0;
	} else if ((btf = btf__load_vmlinux_btf())) { /* elsewhere, or unknown to the reader */
		f->uprobe_multi = btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI");
		f->uprobe_session =
			btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION") &&
			btf__find_by_name_kind(btf, "bpf_session_cookie", BTF_KIND_FUNC) > 0 &&
			btf__find_by_name_kind(btf, "bpf_session_is_return", BTF_KIND_FUNC) > 0;
		switch_id = btf__find_by_name_kind(btf, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
		btf__free(btf);
	}
	f->task_storage = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_task_storage_get,
						  NULL) == 1;
	f->raw_tp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1;
	f->tp_btf = probe_tp_btf(switch_id);
	log_info("kernel features: uprobe.session %s, uprobe_multi %s, task storage %s, raw tracepoints "
		 "%s, BTF tracepoints %s", f->uprobe_session ? "yes" : "no",
		 f->uprobe_multi ? "yes" : "no", f->task_storage ? "yes" : "no",
		 f->raw_tp ? "yes" : "no", f->tp_btf ? "yes" : "no");
}


static const char *const exits_names[] = {
	[EXITS_AUTO] = "auto",
	[EXITS_SITES] = "sites",
	[EXITS_URETPROBE] = "uretprobe",
};

const char *exits_choice_name(enum exits_choice e)
{
	return e >= EXITS_AUTO && e <= EXITS_URETPROBE ? exits_names[e] : "auto";
}

int exits_choice_parse(const char *s)
{
	for (int i = EXITS_AUTO; i <= EXITS_URETPROBE; i++)
		if (!strcmp(s, exits_names[i]))
			return i;
	return -1;
}
