// SPDX-License-Identifier: MIT
/* Names in the kernel's BTF without loading it: see kernel_btf.h. */
#include "kernel_btf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "base/base.h"

#define CHUNK (64 * 1024)
#define MAX_NAME 127		/* longest name a query may ask for */
#define MAX_OFFS 16		/* places one name may sit in the string section */

/* Sequential reads of one section of the file, CHUNK bytes at a time. */
struct reader {
	int fd;
	uint64_t off, left;	/* next file offset to read, bytes of the section left */
	unsigned char *buf;
	size_t pos, len;	/* unread bytes: buf[pos..len) */
};

static int fill(struct reader *r)
{
	size_t want = r->left < CHUNK ? (size_t)r->left : CHUNK;
	ssize_t n;

	if (!want)
		return -1;
	do
		n = pread(r->fd, r->buf, want, (off_t)r->off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	r->off += (uint64_t)n;
	r->left -= (uint64_t)n;
	r->pos = 0;
	r->len = (size_t)n;
	return 0;
}

/* Copies n bytes to dst (NULL: skips them). */
static int take(struct reader *r, void *dst, size_t n)
{
	unsigned char *d = dst;

	while (n) {
		size_t k;

		if (r->pos == r->len && fill(r))
			return -1;
		k = r->len - r->pos < n ? r->len - r->pos : n;
		if (d) {
			memcpy(d, r->buf + r->pos, k);
			d += k;
		}
		r->pos += k;
		n -= k;
	}
	return 0;
}

/* One name the queries ask for, and where the string section has it. */
struct wanted {
	const char *s;
	size_t len;
	uint32_t offs[MAX_OFFS];
	int n_offs;
};

static struct wanted *want(struct wanted *w, int *n, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(w[i].s, s))
			return &w[i];
	w[*n].s = s;
	w[*n].len = strlen(s);
	w[*n].n_offs = 0;
	return &w[(*n)++];
}

static bool at(const struct wanted *w, uint32_t off)
{
	for (int i = 0; i < w->n_offs; i++)
		if (w->offs[i] == off)
			return true;
	return false;
}

/*
 * Every offset where a wanted name starts and ends with a NUL: at the start
 * of a string, or as the tail of a longer one (a name_off may point into a
 * string whose suffix it is).
 */
static int scan_strings(struct reader *r, struct wanted *w, int n_w)
{
	char cur[2 * MAX_NAME + 2];
	size_t cur_len = 0;
	uint64_t pos = 0;	/* offset in the section of buf[r->pos] */

	for (;;) {
		const unsigned char *p, *nul;
		size_t k;

		if (r->pos == r->len) {
			if (!r->left)
				return 0;
			if (fill(r))
				return -1;
		}
		p = r->buf + r->pos;
		nul = memchr(p, 0, r->len - r->pos);
		k = nul ? (size_t)(nul - p) : r->len - r->pos;
		/* keep the current string's last MAX_NAME bytes at least */
		while (k) {
			size_t room = sizeof(cur) - cur_len, c = k < room ? k : room;

			memcpy(cur + cur_len, p, c);
			cur_len += c;
			p += c;
			k -= c;
			pos += c;
			if (cur_len == sizeof(cur)) {
				memmove(cur, cur + cur_len - MAX_NAME, MAX_NAME);
				cur_len = MAX_NAME;
			}
		}
		r->pos = (size_t)(p - r->buf);
		if (!nul)
			continue;
		for (int i = 0; i < n_w; i++) {
			struct wanted *x = &w[i];

			if (x->len > cur_len || memcmp(cur + cur_len - x->len, x->s, x->len))
				continue;
			if (x->n_offs == MAX_OFFS)
				return -1;
			x->offs[x->n_offs++] = (uint32_t)(pos - x->len);
		}
		cur_len = 0;
		pos++;
		r->pos++;
	}
}

/* Bytes after struct btf_type for each kind; -1: a kind this reader does not know. */
static long kind_extra(unsigned int kind, unsigned int vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * (long)sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * (long)sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * (long)sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * (long)sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return (long)vlen * (long)sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

/*
 * Walks the type section once. A query without a member is answered by the
 * first type of its kind and name; one with a member by the enumerators of
 * the first enum of that name (as btf__find_by_name_kind() picks it).
 */
static int scan_types(struct reader *r, struct kbtf_query *q, int n, struct wanted **names,
		      struct wanted **members)
{
	bool done[KBTF_MAX_QUERIES] = { false }, hit[KBTF_MAX_QUERIES];
	unsigned int id = 0; /* type ids count from 1, in file order */

	while (r->pos < r->len || r->left) {
		struct btf_type t;
		unsigned int kind, vlen;
		long extra;
		bool any = false;

		if (take(r, &t, sizeof(t)))
			return -1;
		id++;
		kind = BTF_INFO_KIND(t.info);
		vlen = BTF_INFO_VLEN(t.info);
		extra = kind_extra(kind, vlen);
		if (extra < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			hit[i] = !done[i] && q[i].kind == kind && at(names[i], t.name_off);
			if (!hit[i])
				continue;
			done[i] = true;
			if (!q[i].member) {
				q[i].found = true;
				q[i].id = id;
			} else
				any = true;
		}
		if (!any) {
			if (take(r, NULL, (size_t)extra))
				return -1;
			continue;
		}
		for (unsigned int m = 0; m < vlen; m++) { /* an enum that a query asks into */
			struct btf_enum e;

			if (take(r, &e, sizeof(e)))
				return -1;
			for (int i = 0; i < n; i++)
				if (hit[i] && q[i].member && at(members[i], e.name_off))
					q[i].found = true;
		}
	}
	return 0;
}

int kernel_btf_find(const char *path, struct kbtf_query *q, int n)
{
	struct wanted w[2 * KBTF_MAX_QUERIES];
	struct wanted *names[KBTF_MAX_QUERIES], *members[KBTF_MAX_QUERIES];
	struct reader r = { .fd = -1 };
	struct btf_header h;
	int n_w = 0, rc = -1;
	ssize_t got;

	if (n > KBTF_MAX_QUERIES)
		return -1;
	for (int i = 0; i < n; i++) {
		q[i].found = false;
		q[i].id = 0;
		if (strlen(q[i].name) > MAX_NAME || (q[i].member && (q[i].kind != BTF_KIND_ENUM ||
								      strlen(q[i].member) > MAX_NAME)))
			return -1;
		names[i] = want(w, &n_w, q[i].name);
		members[i] = q[i].member ? want(w, &n_w, q[i].member) : NULL;
	}
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return -1;
	do
		got = pread(r.fd, &h, sizeof(h), 0);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(h) || h.magic != BTF_MAGIC || h.version != BTF_VERSION ||
	    h.hdr_len < sizeof(h) || (h.type_off & 3))
		goto out;
	r.buf = xmalloc(CHUNK);
	r.off = (uint64_t)h.hdr_len + h.str_off;
	r.left = h.str_len;
	if (scan_strings(&r, w, n_w))
		goto out;
	r.off = (uint64_t)h.hdr_len + h.type_off;
	r.left = h.type_len;
	r.pos = r.len = 0;
	rc = scan_types(&r, q, n, names, members);
out:
	free(r.buf);
	close(r.fd);
	return rc;
}
