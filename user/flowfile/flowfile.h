/* SPDX-License-Identifier: MIT */
/*
 * Stage 1: the flow definition file (YAML, docs/flow-file.md) parsed into
 * bundles, handlers and flows. Every element keeps its file position so that
 * later stages (resolve) can name file:line:col in their errors too.
 */
#ifndef FLOWPROF_FLOWFILE_H
#define FLOWPROF_FLOWFILE_H

#include <stdbool.h>
#include <stddef.h>

struct ff_loc {
	int line; /* 1-based */
	int col;  /* 1-based */
};

enum ff_probe_kind {
	FF_PROBE_SYMBOL, /* ELF symbol or glob, in the executable or a library */
	FF_PROBE_USDT,	 /* usdt: provider:name, with return: provider:name */
	FF_PROBE_PYTHON, /* python: "file-glob:function" */
	FF_PROBE_JAVA,	 /* java: "com.example.Orders::place" */
};

struct ff_handler {
	char *name;	/* "checkout" */
	char *id;	/* "shop.checkout" */
	int bundle;	/* index into flowfile.bundles */
	enum ff_probe_kind kind;
	char *symbol;	/* FF_PROBE_SYMBOL: exact name or glob */
	bool is_glob;	/* symbol contains *, ? or [ */
	char *library;	/* NULL: the bundle's executable; else a shared library name or path */
	char *usdt;	/* FF_PROBE_USDT: "provider:name" of the entry probe */
	char *usdt_return; /* FF_PROBE_USDT: "provider:name" of the return probe */
	char *pattern;	/* FF_PROBE_PYTHON / FF_PROBE_JAVA: the pattern as written */
	bool serial;	/* a one-server station (global lock, event loop) */
	struct ff_loc loc; /* position of the handler's key */
	struct ff_loc symbol_loc; /* of the symbol's value, where written (line 0: not) */
};

struct ff_bundle {
	char *name;
	char *exe;	/* NULL unless exe: given (path as written) */
	char *comm;	/* NULL unless comm: given */
	int *pids;	/* pid: [..]; NULL if not given */
	int n_pids;
	int instances;	/* 0 = observe */
	int workers;	/* 0 = observe */
	bool serial;
	int first_handler; /* handlers of a bundle are contiguous in flowfile.handlers */
	int n_handlers;
	struct ff_loc loc;
	struct ff_loc exe_loc;	/* of exe:'s value, where it is given */
	struct ff_loc pid_loc;	/* of pid:'s value, where it is given */
};

struct ff_call {
	int from;	/* handler index */
	int to;		/* handler index */
	bool async;	/* not nested on one thread: "a ~> b" (a message to another thread or
			   bundle) or "a => b"; counted from the handler counts */
	bool waits;	/* "a => b": a synchronous call to another thread or process (an
			   RPC), a holds its worker until b's reply */
	struct ff_loc loc;
};

struct ff_flow {
	char *name;
	int entry;	/* handler index */
	struct ff_call *calls;
	int n_calls;
	struct ff_loc loc;
};

struct flowfile {
	char *path;	/* as given, used in every message */
	struct ff_bundle *bundles;
	int n_bundles;
	struct ff_handler *handlers;
	int n_handlers;
	struct ff_flow *flows;
	int n_flows;
	int *handler_order; /* handler indices sorted by id, for flowfile_handler_index();
			       NULL (e.g. a flowfile built by hand): linear search */
};

/*
 * Parses a flow file. On error returns -1 and writes one message of the form
 *   "<path>:<line>:<col>: <what is wrong>" (optionally "; <hint>")
 * into err (never more than errlen bytes, always NUL-terminated); *ff is then
 * empty and needs no free. On success returns 0; free with flowfile_free().
 */
int flowfile_load(const char *path, struct flowfile *ff, char *err, size_t errlen);

/* The same from memory; path is only used in messages. */
int flowfile_parse(const char *path, const char *buf, size_t len, struct flowfile *ff,
		   char *err, size_t errlen);

void flowfile_free(struct flowfile *ff);

/* Handler index by "bundle.handler", or -1. */
int flowfile_handler_index(const struct flowfile *ff, const char *id);

/* Bundle index by name, or -1. */
int flowfile_bundle_index(const struct flowfile *ff, const char *name);

/*
 * A path from the flow file (a relative exe:) made relative to the flow
 * file's directory: "flows/shop.yaml" + "bin/shop" -> "flows/bin/shop".
 * Absolute paths, and any path when the flow file has no directory part,
 * come back unchanged. Caller frees.
 */
char *flowfile_path_relative(const struct flowfile *ff, const char *path);

#endif
