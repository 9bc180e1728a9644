// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ELF symbol reader (user/probe/elf_symbols.c) on malformed
 * files. flowprof opens whatever binary a flow file or /proc names, so a
 * truncated or hostile ELF file must end in a clear error, never a crash,
 * leak or undefined behaviour. The input goes into a memfd (no disk I/O per
 * run) opened by path, exactly as flowprof opens binaries; then every reader
 * of struct elf_file runs on what was read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input_path(int *fd_out)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	*fd_out = fd;
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct elf_sym **found = NULL;
	const char *names[5];
	struct elf_file *ef;
	char err[512];
	int fd;
	const char *path = input_path(&fd);

	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(err, 'X', sizeof(err));
	ef = elf_file_open(path, err, sizeof(err) - 1);
	if (!ef) {
		if (err[sizeof(err) - 1] != 'X' || !memchr(err, '\0', sizeof(err) - 1) ||
		    strncmp(err, path, strlen(path)) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < ef->n_syms; i++) {
		const struct elf_sym *s = &ef->syms[i];
		uint64_t off;

		if (!s->name || (i && strcmp(ef->syms[i - 1].name, s->name) > 0))
			abort(); /* sorted by name */
		if (elf_vaddr_to_offset(ef, s->vaddr, &off) == 0 && off != s->offset)
			abort();
		(void)elf_site_class(ef, s->offset);
	}
	if (ef->n_syms) {
		size_t n = elf_find_symbols(ef, ef->syms[ef->n_syms / 2].name, &found);

		if (!n)
			abort(); /* a symbol that was read is found by its name */
		free(found);
		if (ef->syms[0].base) {
			elf_find_symbols(ef, ef->syms[0].base, &found);
			free(found);
		}
	}
	free(found = NULL);
	elf_glob_symbols(ef, "*a*", &found);
	free(found);
	elf_closest_names(ef, "mian", names, 5);
	elf_file_close(ef);
	return 0;
}
