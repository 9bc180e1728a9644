// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the USDT note parser (user/probe/usdt.c). Two inputs in one
 * target, told apart by the ELF magic:
 *  - an ELF file: read through elf_file_open (from a memfd, as flowprof
 *    opens binaries), then its .note.stapsdt notes, each note's argument
 *    string, and a lookup of each probe by provider:name;
 *  - anything else: one SDT argument string ("-8@%rdi 4@-16(%rbp) ..."),
 *    NUL-terminated here.
 * Malformed notes and arguments must end in a clear error, never a crash,
 * leak or undefined behaviour (ASan + UBSan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* err must be a NUL-terminated message inside its buffer (guard byte intact). */
static void check_message(const char *err, size_t len)
{
	if (err[len - 1] != 'X' || !memchr(err, '\0', len - 1) || !err[0])
		abort();
}

static void fuzz_args(const char *args)
{
	struct rt_arg out[USDT_MAX_ARGS];
	char err[256];
	int n;

	memset(err, 'X', sizeof(err));
	/* The count may exceed max (only max are stored): usdt.h. */
	n = usdt_parse_args(args, out, USDT_MAX_ARGS, err, sizeof(err) - 1);
	if (n < 0)
		check_message(err, sizeof(err));
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	const struct usdt_note *notes, *found[4];
	struct elf_file *ef;
	char err[512];
	int n;

	if (fd < 0) {
		fd = memfd_create("fuzz-usdt", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	ef = elf_file_open(path, err, sizeof(err));
	if (!ef)
		return;
	memset(err, 'X', sizeof(err));
	n = usdt_notes(ef, &notes, err, sizeof(err) - 1);
	if (n < 0) {
		check_message(err, sizeof(err));
	} else {
		for (int i = 0; i < n; i++) {
			if (!notes[i].provider || !notes[i].name || !notes[i].args)
				abort();
			fuzz_args(notes[i].args);
			if (usdt_find(ef, notes[i].provider, notes[i].name, found, 4) < 1)
				abort(); /* a note that was read is found by its name */
		}
		/* Read once, kept with ef: a second call gives the same notes. */
		if (usdt_notes(ef, &notes, err, sizeof(err)) != n)
			abort();
	}
	elf_file_close(ef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args;

	if (size >= 4 && memcmp(data, "\177ELF", 4) == 0) {
		fuzz_file(data, size);
		return 0;
	}
	args = malloc(size + 1);
	if (!args)
		abort();
	memcpy(args, data, size);
	args[size] = '\0';
	fuzz_args(args);
	free(args);
	return 0;
}
