// SPDX-License-Identifier: MIT
/*
 * kernel_btf_find (user/kernel_btf.c): the names the kernel-feature
 * detection asks for, read through the BTF file, give libbpf's answers.
 * On the running kernel's BTF when there is one, and on small BTF files
 * written here (a second enum of the same name, a name that is the tail of
 * a longer string, a name across the reader's 64 KiB chunks, a kind the
 * reader does not know, another byte order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "attach/attach.h"
#include "base/base.h"

/* libbpf's answer to one query */
static bool libbpf_answer(const struct btf *btf, const struct kbtf_query *q)
{
	int id = btf__find_by_name_kind(btf, q->name, q->kind);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id <= 0)
		return false;
	if (!q->member)
		return true;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), q->member))
			return true;
	return false;
}

static void same_as_libbpf(const char *path, struct kbtf_query *q, int n)
{
	struct btf *btf = btf__parse_raw(path);

	assert_non_null(btf);
	assert_int_equal(kernel_btf_find(path, q, n), 0);
	for (int i = 0; i < n; i++)
		if (q[i].found != libbpf_answer(btf, &q[i]))
			fail_msg("%s %s%s%s: %d, libbpf says %d", path, q[i].name,
				 q[i].member ? "." : "", q[i].member ? q[i].member : "",
				 q[i].found, !q[i].found);
		else if (q[i].found && !q[i].member &&
			 (int)q[i].id != btf__find_by_name_kind(btf, q[i].name, q[i].kind))
			fail_msg("%s %s: id %u, libbpf says %d", path, q[i].name, q[i].id,
				 btf__find_by_name_kind(btf, q[i].name, q[i].kind));
	btf__free(btf);
}

static void test_running_kernel(void **state)
{
	struct kbtf_query q[] = {
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI", false, 0 },
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION", false, 0 },
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_CGROUP_INET_INGRESS", false, 0 },
		{ BTF_KIND_ENUM, "bpf_attach_type", "BPF_NO_SUCH_ATTACH_TYPE", false, 0 },
		{ BTF_KIND_FUNC, "bpf_session_cookie", NULL, false, 0 },
		{ BTF_KIND_FUNC, "bpf_session_is_return", NULL, false, 0 },
		{ BTF_KIND_STRUCT, "task_struct", NULL, false, 0 },
		{ BTF_KIND_FUNC, "no_such_function_in_any_kernel", NULL, false, 0 },
		{ BTF_KIND_TYPEDEF, "btf_trace_sched_switch", NULL, false, 0 },
	};

	(void)state;
	if (access(KERNEL_BTF_PATH, R_OK))
		skip();
	same_as_libbpf(KERNEL_BTF_PATH, q, (int)ARRAY_SIZE(q));
	assert_true(q[2].found);	/* there since BPF cgroups */
	assert_true(q[6].found);
	assert_false(q[3].found);
	assert_false(q[7].found);
}

static char *write_raw(const void *data, size_t len)
{
	char *path = xstrdup("/tmp/flowprof-test-btf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static char *write_btf(const struct btf *btf)
{
	uint32_t len;
	const void *raw = btf__raw_data(btf, &len);

	assert_non_null(raw);
	return write_raw(raw, len);
}

/* int, enum e { A }, enum e { B }, int f(void), and filler strings before
 * the names so that "f" and "A" sit across the reader's 64 KiB chunks. */
static struct btf *small_btf(int filler)
{
	struct btf *btf = btf__new_empty();
	char s[64];
	int len = 0, proto;

	assert_non_null(btf);
	/* the string section starts with "" (1 byte): strings of 15 bytes
	 * (+ NUL) until `filler` bytes are used */
	for (int i = 0; len + 16 <= filler; i++, len += 16) {
		snprintf(s, sizeof(s), "filler_%08d", i);
		assert_true(btf__add_str(btf, s) > 0);
	}
	assert_true(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
	assert_true(btf__add_enum(btf, "e", 4) > 0);
	assert_int_equal(btf__add_enum_value(btf, "A_VALUE_ACROSS_THE_CHUNK", 1), 0);
	assert_true(btf__add_enum(btf, "e", 4) > 0);
	assert_int_equal(btf__add_enum_value(btf, "B", 2), 0);
	proto = btf__add_func_proto(btf, 1);
	assert_true(proto > 0);
	assert_true(btf__add_func(btf, "a_function", BTF_FUNC_GLOBAL, proto) > 0);
	assert_true(btf__add_str(btf, "prefix_of_tail_name") > 0);
	return btf;
}

static void test_small_files(void **state)
{
	(void)state;
	/* names at several places relative to the 64 KiB boundary */
	for (int filler = 0; filler <= 65536 + 64; filler += filler < 65400 ? 65400 : 8) {
		struct kbtf_query q[] = {
			{ BTF_KIND_ENUM, "e", "A_VALUE_ACROSS_THE_CHUNK", false, 0 },
			{ BTF_KIND_ENUM, "e", "B", false, 0 },	/* in the second enum e: no */
			{ BTF_KIND_ENUM, "e", NULL, false, 0 },
			{ BTF_KIND_FUNC, "a_function", NULL, false, 0 },
			{ BTF_KIND_FUNC, "int", NULL, false, 0 },	/* an INT, not a FUNC */
			{ BTF_KIND_INT, "int", NULL, false, 0 },
			{ BTF_KIND_FUNC, "function", NULL, false, 0 }, /* a tail, no type */
		};
		struct btf *btf = small_btf(filler);
		char *path = write_btf(btf);

		same_as_libbpf(path, q, (int)ARRAY_SIZE(q));
		assert_true(q[0].found);
		assert_false(q[1].found);
		assert_true(q[2].found && q[3].found && q[5].found);
		assert_false(q[4].found || q[6].found);
		unlink(path);
		free(path);
		btf__free(btf);
	}
}

/* A type whose name_off points into a longer string, at its tail. */
static void test_name_is_a_tail(void **state)
{
	struct kbtf_query q[] = { { BTF_KIND_FUNC, "tail_name", NULL, false, 0 } };
	struct btf *btf = small_btf(0);
	uint32_t len;
	const struct btf_header *h;
	unsigned char *raw;
	struct btf_type *t;
	int id = btf__find_by_name_kind(btf, "a_function", BTF_KIND_FUNC);
	int off = btf__find_str(btf, "prefix_of_tail_name");
	char *path;

	(void)state;
	assert_true(id > 0 && off > 0);
	raw = xmalloc(btf__raw_data(btf, &len) ? len : 0);
	memcpy(raw, btf__raw_data(btf, &len), len);
	h = (const struct btf_header *)raw;
	/* the last type is the function: header, then the types in order */
	t = (struct btf_type *)(raw + h->hdr_len + h->type_off + h->type_len -
				sizeof(struct btf_type));
	assert_int_equal(BTF_INFO_KIND(t->info), BTF_KIND_FUNC);
	t->name_off = (uint32_t)off + strlen("prefix_of_");
	path = write_raw(raw, len);
	same_as_libbpf(path, q, 1);
	assert_true(q[0].found);
	unlink(path);
	free(path);
	free(raw);
	btf__free(btf);
}

/* What the reader does not know: the caller asks libbpf instead. */
static void test_unknown_kind_and_byte_order(void **state)
{
	struct kbtf_query q[] = { { BTF_KIND_FUNC, "a_function", NULL, false, 0 } };
	struct btf *btf = small_btf(0);
	uint32_t len;
	unsigned char *raw;
	struct btf_header *h;
	struct btf_type *t;
	char *path;

	(void)state;
	raw = xmalloc(btf__raw_data(btf, &len) ? len : 0);
	memcpy(raw, btf__raw_data(btf, &len), len);
	h = (struct btf_header *)raw;
	t = (struct btf_type *)(raw + h->hdr_len + h->type_off); /* the int */
	t->info = 31u << 24; /* kind 31, vlen 0 */
	path = write_raw(raw, len);
	assert_int_equal(kernel_btf_find(path, q, 1), -1);
	unlink(path);
	free(path);
	memcpy(raw, btf__raw_data(btf, &len), len);
	h->magic = 0x9feb;
	path = write_raw(raw, len);
	assert_int_equal(kernel_btf_find(path, q, 1), -1);
	unlink(path);
	free(path);
	assert_int_equal(kernel_btf_find("/nonexistent/vmlinux", q, 1), -1);
	free(raw);
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_running_kernel),
		cmocka_unit_test(test_small_files),
		cmocka_unit_test(test_name_is_a_tail),
		cmocka_unit_test(test_unknown_kind_and_byte_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
