// SPDX-License-Identifier: MIT
/*
 * Permission check before anything touches BPF: one clear message naming
 * the capabilities that are missing and the exact command to retry with.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "base/base.h"
#include "commands.h"

static int saved_argc;
static char **saved_argv;
static const char *saved_command;	/* argv[1]: main() renames it for argp */

void remember_command_line(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = argv;
	saved_command = argc > 1 ? argv[1] : NULL;
}

/* The command line as the user typed it, quoted for a POSIX shell where needed. */
static char *command_line(const char *fallback)
{
	size_t len = 0;
	char *out;

	if (!saved_argv)
		return xasprintf("flowprof %s ...", fallback);
	for (int i = 0; i < saved_argc; i++)
		len += 4 * strlen(i == 1 ? saved_command : saved_argv[i]) + 3;
	out = xcalloc(len + 1, 1);
	for (int i = 0; i < saved_argc; i++) {
		const char *a = i == 1 ? saved_command : saved_argv[i];
		bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789_-./=:,+@%") == strlen(a);

		if (i)
			strcat(out, " ");
		if (plain) {
			strcat(out, a);
			continue;
		}
		strcat(out, "'");
		for (; *a; a++) {
			if (*a == '\'')
				strcat(out, "'\\''");
			else
				strncat(out, a, 1);
		}
		strcat(out, "'");
	}
	return out;
}

int require_bpf_capabilities(const char *cmd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	bool admin, bpf, perfmon;
	char *retry;

	if (syscall(SYS_capget, &hdr, data)) {
		log_error("cannot read this process's capabilities: %s", strerror(errno));
		return -1;
	}
#define HAS_CAP(c) ((data[(c) / 32].effective >> ((c) % 32)) & 1)
	admin = HAS_CAP(CAP_SYS_ADMIN);
	bpf = HAS_CAP(CAP_BPF);
	perfmon = HAS_CAP(CAP_PERFMON);
#undef HAS_CAP
	if (admin || (bpf && perfmon))
		return 0;
	retry = command_line(cmd);
	log_error("'flowprof %s' loads BPF programs and attaches uprobes: it needs CAP_BPF and "
		  "CAP_PERFMON (or root)%s%s; retry as root: sudo %s",
		  cmd, !bpf ? "; missing CAP_BPF" : "", !perfmon ? "; missing CAP_PERFMON" : "",
		  retry);
	free(retry);
	return -1;
}
