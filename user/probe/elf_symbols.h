/* SPDX-License-Identifier: MIT */
/*
 * The function symbols of one ELF file (executable or shared library), read
 * once with libelf: names, addresses and the FILE OFFSETS uprobes take.
 * Lookups (exact, glob, C++ demangled, closest names) work on that table;
 * nothing re-reads the file per symbol.
 *
 * The Elf handle stays open while the struct lives, so that further readers
 * of the same file (USDT notes in .note.stapsdt, next to the symbols) can be
 * added as functions over struct elf_file without opening it again.
 */
#ifndef FLOWPROF_ELF_SYMBOLS_H
#define FLOWPROF_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "site_class.h"

struct usdt_note;

struct elf_sym {
	char *name;	 /* as in the file (mangled for C++) */
	char *demangled; /* full demangled name ("Shop::Cart::add(int)"), NULL if not C++ */
	char *base;	 /* demangled name without the parameter list ("Shop::Cart::add"), or NULL */
	uint64_t vaddr;	 /* st_value */
	uint64_t size;	 /* st_size */
	uint64_t offset; /* file offset of vaddr, through the PT_LOAD headers */
	bool dynamic;	 /* found in .dynsym (possibly also in .symtab) */
	bool ifunc;	 /* STT_GNU_IFUNC: the resolver, not the implementation */
};

struct elf_segment {	/* a PT_LOAD program header */
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	uint32_t flags;	/* PF_X | PF_W | PF_R */
};

struct elf_file {
	char *path;	/* as opened (used in messages) */
	dev_t dev;	/* identity of the file, to share one elf_file per binary */
	ino_t ino;
	int fd;
	void *elf;	/* Elf *, kept open for later readers (USDT notes) */
	uint16_t type;	/* ET_EXEC (non-PIE) or ET_DYN (PIE, shared library) */
	uint16_t machine;
	bool stripped;	/* no .symtab, here or in a debug file: only .dynsym was read */
	char *debug_path; /* the separate debug file whose .symtab was read, or NULL */
	struct elf_sym *syms; /* sorted by name, then vaddr */
	size_t n_syms;
	struct elf_segment *segs;
	size_t n_segs;
	char *soname;	/* DT_SONAME or NULL */
	char *runpath;	/* DT_RUNPATH or NULL */
	char *rpath;	/* DT_RPATH or NULL */
	bool go;	/* a Go program (.go.buildinfo or a Go build ID note) */
	bool needs_unwinder; /* DT_NEEDED names libstdc++, libgcc_s, libc++abi or
				libunwind: exceptions can
				unwind through its functions (see resolve_unwinding.c) */
	char **needed;	/* DT_NEEDED, in order */
	size_t n_needed;
	const struct elf_sym **by_addr; /* syms sorted by vaddr, built on first use */
	size_t n_by_addr;
	struct usdt_note *usdt; /* USDT notes, read on first use (user/probe/usdt.c) */
	size_t n_usdt;
	bool usdt_read;
};

/*
 * Opens path and reads its function symbols (STT_FUNC and STT_GNU_IFUNC,
 * defined, non-zero value) from .symtab and .dynsym; without a .symtab, from
 * its separate debug file's (elf_debug_file()). On failure returns NULL
 * with one message in err: "<path>: No such file or directory",
 * "<path>: not an ELF file", "<path>: ELF file for <machine>, this host is
 * <machine>", ...
 */
struct elf_file *elf_file_open(const char *path, char *err, size_t errlen);

/* The same without the symbols: the segments and the dynamic section
 * (DT_NEEDED, RUNPATH, SONAME) only, as for the libraries a binary needs. */
struct elf_file *elf_file_open_dynamic(const char *path, char *err, size_t errlen);

/* The path of elf's separate debug file (debug_file.c), or NULL; path is
 * elf's own (debuglink names are looked up beside it). Caller frees. */
struct Elf;
char *elf_debug_file(struct Elf *elf, const char *path);

/* How many ELF files elf_file_open() has read so far (tests, -v logs). */
extern unsigned long elf_files_opened;
void elf_file_close(struct elf_file *ef);

/* Translates a virtual address to a file offset through PT_LOAD; -1 if no
 * loaded segment holds it in the file. */
int elf_vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset);

/* Reads len bytes at a file offset; returns the number read (short at EOF) or -1. */
ssize_t elf_read_at(const struct elf_file *ef, uint64_t offset, void *buf, size_t len);

/*
 * Symbols matching name: the mangled name exactly; if none, every symbol
 * whose demangled name equals it, with or without the parameter list
 * ("Shop::Cart::add" finds every overload). Returns how many were stored in
 * *out (xmalloc'ed array of pointers into ef->syms; free it), 0 if none.
 */
size_t elf_find_symbols(const struct elf_file *ef, const char *name, const struct elf_sym ***out);

/* Symbols whose mangled name, demangled name or demangled name without
 * parameters match the fnmatch(3) pattern. Same return convention. */
size_t elf_glob_symbols(const struct elf_file *ef, const char *pattern, const struct elf_sym ***out);

/*
 * Up to max names closest to name by edit distance (demangled names for
 * C++ symbols), closest first, ties by name; only names within
 * max(2, strlen(name) / 3) edits. Strings point into ef. Returns the count.
 */
int elf_closest_names(const struct elf_file *ef, const char *name, const char **out, int max);

/*
 * The same for a glob that matched nothing: the names closest to matching
 * the fnmatch(3) pattern, counting the edits to them ('*' takes any run for
 * free, '?' and a bracket expression one character), within a third of the
 * pattern's characters other than '*' (none for fewer than 3). Each symbol
 * is measured by its mangled, demangled and base names, and shown by the
 * closest of them.
 */
int elf_closest_to_glob(const struct elf_file *ef, const char *pattern, const char **out, int max);

/* The function symbol whose [vaddr, vaddr + size) holds vaddr, or NULL;
 * *starts says whether vaddr is a symbol's first byte (of any symbol, even
 * one without a size). */
const struct elf_sym *elf_symbol_at(const struct elf_file *ef, uint64_t vaddr, bool *starts);

/* "x86-64", "AArch64"... for an e_machine value. */
const char *elf_machine_name(unsigned int machine);

/* The class of the instruction at a file offset of ef (SITE_UNKNOWN when
 * unreadable, or when the host is not x86-64). */
enum site_class elf_site_class(const struct elf_file *ef, uint64_t offset);

#endif
