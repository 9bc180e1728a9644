// SPDX-License-Identifier: MIT
/*
 * Stage 1: the flow definition file (docs/flow-file.md) into struct flowfile.
 *
 * Two passes over a tree of the YAML that keeps every node's position
 * (yaml_tree.c), so that any element can be named by line and column. Pass
 * 1 (grammar.c) walks it in document order, checking the grammar as it
 * goes, so the first error reported is the first one in the file. Flow
 * entries and calls name handlers that may be defined further down, so
 * pass 2 (flow_check.c) checks them last, once every bundle is known:
 * handler names, duplicate calls, reachability from the entry, then cycles
 * among synchronous calls.
 *
 * Every error is one message "<path>:<line>:<col>: <what>[; <hint>]"
 * (messages.c). What the files share is in flowfile_int.h.
 */
#include "flowfile_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int flowfile_parse(const char *path, const char *buf, size_t len, struct flowfile *ff, char *err,
		   size_t errlen)
{
	struct parser p = {
		.path = path ? path : "<flow file>",
		.buf = buf,
		.len = len,
		.err = err,
		.errlen = errlen,
		.ff = ff,
	};
	struct ynode *root = NULL;
	int ret = -1, fi;

	memset(ff, 0, sizeof(*ff));
	if (err && errlen)
		err[0] = '\0';
	ff->path = xstrdup(p.path);
	if (ff_read_tree(&p, &root))
		goto cleanup;
	if (ff_parse_document(&p, root))
		goto cleanup;
	ff_build_handler_order(ff);
	for (fi = 0; fi < ff->n_flows; fi++) {
		if (ff_resolve_flow(&p, fi))
			goto cleanup;
	}
	ret = 0;
cleanup:
	ynode_free(root);
	if (ret)
		flowfile_free(ff);
	return ret;
}

int flowfile_load(const char *path, struct flowfile *ff, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file_said(path, &len, err, errlen);
	int ret;

	if (!buf) {
		memset(ff, 0, sizeof(*ff));
		return -1;
	}
	ret = flowfile_parse(path, buf, len, ff, err, errlen);
	free(buf);
	return ret;
}

void flowfile_free(struct flowfile *ff)
{
	int i;

	if (!ff)
		return;
	for (i = 0; i < ff->n_handlers; i++) {
		struct ff_handler *h = &ff->handlers[i];

		free(h->name);
		free(h->id);
		free(h->symbol);
		free(h->library);
		free(h->usdt);
		free(h->usdt_return);
		free(h->pattern);
	}
	for (i = 0; i < ff->n_bundles; i++) {
		free(ff->bundles[i].name);
		free(ff->bundles[i].exe);
		free(ff->bundles[i].comm);
		free(ff->bundles[i].pids);
	}
	for (i = 0; i < ff->n_flows; i++) {
		free(ff->flows[i].name);
		free(ff->flows[i].calls);
	}
	free(ff->handlers);
	free(ff->bundles);
	free(ff->flows);
	free(ff->handler_order);
	free(ff->path);
	memset(ff, 0, sizeof(*ff));
}

int flowfile_handler_index(const struct flowfile *ff, const char *id)
{
	int lo = 0, hi, i;

	if (!ff->handler_order) {
		for (i = 0; i < ff->n_handlers; i++)
			if (!strcmp(ff->handlers[i].id, id))
				return i;
		return -1;
	}
	hi = ff->n_handlers - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, h = ff->handler_order[mid];
		int c = strcmp(ff->handlers[h].id, id);

		if (!c)
			return h;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int flowfile_bundle_index(const struct flowfile *ff, const char *name)
{
	int i;

	for (i = 0; i < ff->n_bundles; i++)
		if (!strcmp(ff->bundles[i].name, name))
			return i;
	return -1;
}

char *flowfile_path_relative(const struct flowfile *ff, const char *path)
{
	const char *slash;

	if (!path)
		return NULL;
	if (path[0] == '/' || !ff->path)
		return xstrdup(path);
	slash = strrchr(ff->path, '/');
	if (!slash)
		return xstrdup(path);
	if (slash == ff->path)
		return xasprintf("/%s", path);
	return xasprintf("%.*s/%s", (int)(slash - ff->path), ff->path, path);
}
