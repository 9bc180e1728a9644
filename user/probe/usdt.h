/* SPDX-License-Identifier: MIT */
/*
 * USDT (SystemTap SDT) probes of an ELF file: the .note.stapsdt notes, with
 * the .stapsdt.base adjustment (prelinked files), semaphores as the file
 * offsets the kernel's ref_ctr_offset takes, and the argument strings
 * ("8@%rbp -4@%eax 8@-16(%rbp)") decoded into locations the BPF side can
 * read (struct rt_arg, include/flowprof_rt.h).
 *
 * The note format is SystemTap's:
 *   https://sourceware.org/systemtap/wiki/UserSpaceProbeImplementation
 */
#ifndef FLOWPROF_USDT_H
#define FLOWPROF_USDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowprof_rt.h"

struct elf_file;

#define USDT_MAX_ARGS 12 /* sdt.h allows 12 arguments */

struct usdt_note {
	char *provider;
	char *name;
	char *args;		/* the argument string as in the note ("" if none) */
	uint64_t pc;		/* virtual address of the probe, adjusted */
	uint64_t offset;	/* its file offset: where the uprobe goes (0: not in a segment) */
	uint64_t sema;		/* virtual address of the semaphore, adjusted; 0 = none */
	uint64_t sema_offset;	/* its file offset (the kernel's ref_ctr_offset) */
};

/*
 * The USDT notes of ef, read on first use and kept with ef (freed by
 * elf_file_close). Returns the count (0 if the file has none) and points
 * *out at them; -1 with err set when the notes are malformed.
 */
int usdt_notes(struct elf_file *ef, const struct usdt_note **out, char *err, size_t errlen);

/* Frees what usdt_notes() read (elf_file_close calls it). */
void usdt_notes_free(struct elf_file *ef);

/* The notes of ef for provider:name ("python:function__entry"), in file
 * order: how many, with pointers into ef's notes stored in out (up to max). */
int usdt_find(struct elf_file *ef, const char *provider, const char *name,
	      const struct usdt_note **out, int max);

/*
 * Decodes one argument string into up to max locations. Returns the number
 * of arguments, or -1 with err set, e.g.
 *   "argument 2 '8@(%rax,%rbx,8)': indexed addressing is not supported".
 * x86-64 only (other architectures: -1, "... not implemented for <arch>").
 */
int usdt_parse_args(const char *args, struct rt_arg *out, int max, char *err, size_t errlen);

#endif
