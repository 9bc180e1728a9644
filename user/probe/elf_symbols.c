// SPDX-License-Identifier: MIT
/*
 * Function symbols of an ELF file, read once (libelf). See elf_symbols.h.
 *
 * File offsets: uprobes are placed at (inode, file offset). A symbol's
 * st_value is a virtual address (absolute for ET_EXEC, relative to the load
 * base for ET_DYN); the PT_LOAD header holding it gives
 *   offset = vaddr - p_vaddr + p_offset,
 * which is right for PIE, non-PIE and shared libraries alike.
 */
#include "elf_symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "usdt.h"

/* libstdc++'s demangler (abi::__cxa_demangle), callable from C. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#else
#define HOST_MACHINE EM_NONE
#endif

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif

unsigned long elf_files_opened;

const char *elf_machine_name(unsigned int machine)
{
	switch (machine) {
	case EM_X86_64: return "x86-64";
	case EM_386: return "i386";
	case EM_AARCH64: return "AArch64";
	case EM_ARM: return "ARM";
	case EM_RISCV: return "RISC-V";
	case EM_S390: return "s390";
	case EM_PPC64: return "PowerPC64";
	case EM_PPC: return "PowerPC";
	case EM_MIPS: return "MIPS";
	default: return "an unknown machine";
	}
}

/* Demangled name without its parameter list and what follows it
 * ("Shop::Cart::total() const" -> "Shop::Cart::total"); NULL if it has none. */
static char *strip_parameters(const char *demangled)
{
	const char *close = strrchr(demangled, ')');
	int depth = 0;
	const char *p;

	if (!close)
		return NULL;
	for (p = close; p >= demangled; p--) {
		if (*p == ')')
			depth++;
		else if (*p == '(' && --depth == 0)
			break;
	}
	if (p <= demangled)
		return NULL;
	return strndup(demangled, (size_t)(p - demangled));
}

static void demangle_into(struct elf_sym *s)
{
	int status = 0;
	char *d;

	if (strncmp(s->name, "_Z", 2) != 0)
		return;
	d = __cxa_demangle(s->name, NULL, NULL, &status);
	if (!d || status != 0) {
		free(d);
		return;
	}
	s->demangled = d;
	s->base = strip_parameters(d);
}

/* GCC's "foo.cold" parts are split-off code reached by jumps, never called:
 * probing one would pair an entry with no return. */
static bool is_cold_fragment(const char *name)
{
	const char *p = strstr(name, ".cold");

	if (!p)
		return false;
	p += 5;
	if (*p == '.')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0';
}

int elf_vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	size_t i;

	for (i = 0; i < ef->n_segs; i++) {
		const struct elf_segment *s = &ef->segs[i];

		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*offset = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -1;
}

static int read_segments(struct elf_file *ef, Elf *elf)
{
	size_t n, i, cap = 0;

	if (elf_getphdrnum(elf, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		grow_array((void **)&ef->segs, &cap, ef->n_segs + 1, sizeof(*ef->segs));
		ef->segs[ef->n_segs++] = (struct elf_segment){
			.vaddr = ph.p_vaddr,
			.memsz = ph.p_memsz,
			.offset = ph.p_offset,
			.filesz = ph.p_filesz,
			.flags = ph.p_flags,
		};
	}
	return 0;
}

static void read_dynamic(struct elf_file *ef, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	/* what a section before this one left (a file may have several): room
	 * for them at least, which grow_array keeps and builds on */
	size_t i, n, needed_cap = ef->n_needed;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Dyn dyn;
		char **slot = NULL;
		const char *s;

		if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_NEEDED) {
			s = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (!strncmp(s, "libstdc++", 9) || !strncmp(s, "libgcc_s", 8) ||
			    !strncmp(s, "libc++abi", 9) || !strncmp(s, "libunwind", 9))
				ef->needs_unwinder = true;
			grow_array((void **)&ef->needed, &needed_cap, ef->n_needed + 1,
				   sizeof(*ef->needed));
			ef->needed[ef->n_needed++] = xstrdup(s);
			continue;
		}
		if (dyn.d_tag == DT_RUNPATH)
			slot = &ef->runpath;
		else if (dyn.d_tag == DT_RPATH)
			slot = &ef->rpath;
		else if (dyn.d_tag == DT_SONAME)
			slot = &ef->soname;
		if (!slot || *slot)
			continue;
		s = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
		if (s)
			*slot = xstrdup(s);
	}
}

static void read_symbols(struct elf_file *ef, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
			 size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	bool dynamic = sh->sh_type == SHT_DYNSYM;
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		struct elf_sym *s;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name || is_cold_fragment(name))
			continue;
		grow_array((void **)&ef->syms, cap, ef->n_syms + 1, sizeof(*ef->syms));
		s = &ef->syms[ef->n_syms++];
		s->name = xstrdup(name);
		s->vaddr = sym.st_value;
		s->size = sym.st_size;
		s->dynamic = dynamic;
		s->ifunc = type == STT_GNU_IFUNC;
		if (elf_vaddr_to_offset(ef, sym.st_value, &s->offset) != 0)
			s->offset = 0;
	}
}

/* A stripped file's functions from its separate debug file's .symtab (the
 * same addresses: the file offsets come from ef's own segments). */
static bool read_debug_symbols(struct elf_file *ef, Elf *elf, size_t *cap)
{
	char *path = elf_debug_file(elf, ef->path);
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *dbg;
	int fd;

	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	dbg = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (dbg && (scn = elf_nextscn(dbg, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			read_symbols(ef, dbg, scn, &sh, cap);
			found = true;
		}
	}
	if (dbg)
		elf_end(dbg);
	if (fd >= 0)
		close(fd);
	if (found)
		ef->debug_path = path;
	else
		free(path);
	return found;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
}

/* Sorts by name and merges the .symtab and .dynsym copies of one symbol. */
static void sort_and_merge(struct elf_file *ef)
{
	size_t i, out = 0;

	if (!ef->n_syms)
		return;
	qsort(ef->syms, ef->n_syms, sizeof(*ef->syms), sym_cmp);
	for (i = 0; i < ef->n_syms; i++) {
		struct elf_sym *s = &ef->syms[i];

		if (out > 0 && sym_cmp(&ef->syms[out - 1], s) == 0) {
			ef->syms[out - 1].dynamic |= s->dynamic;
			free(s->name);
			continue;
		}
		ef->syms[out++] = *s;
	}
	ef->n_syms = out;
	for (i = 0; i < ef->n_syms; i++)
		demangle_into(&ef->syms[i]);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static struct elf_file *open_file(const char *path, bool symbols, char *err, size_t errlen)
{
	struct elf_file *ef = xcalloc(1, sizeof(*ef));
	size_t shstrndx, sym_cap = 0;
	bool have_symtab = false;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	struct stat st;
	Elf *elf;

	ef->path = xstrdup(path);
	/* O_NONBLOCK: opening a FIFO named by a flow file must not wait for a writer. */
	ef->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (ef->fd < 0 || fstat(ef->fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: %s", path, strerror(EISDIR));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		set_err(err, errlen, "%s: libelf: %s", path, elf_errmsg(-1));
		goto fail;
	}
	elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	ef->elf = elf;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		set_err(err, errlen, "%s: not an ELF file", path);
		goto fail;
	}
	ef->type = eh.e_type;
	ef->machine = eh.e_machine;
	if (eh.e_machine != HOST_MACHINE || gelf_getclass(elf) != HOST_CLASS) {
		set_err(err, errlen, "%s: ELF file for %s (%d-bit), but this host is %s (%d-bit)",
			path, elf_machine_name(eh.e_machine),
			gelf_getclass(elf) == ELFCLASS64 ? 64 : 32,
			elf_machine_name(HOST_MACHINE), HOST_CLASS == ELFCLASS64 ? 64 : 32);
		goto fail;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		set_err(err, errlen, "%s: not an executable or shared library (ELF type %u)",
			path, eh.e_type);
		goto fail;
	}
	if (read_segments(ef, elf) != 0 || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		set_err(err, errlen, "%s: malformed ELF file: %s", path, elf_errmsg(-1));
		goto fail;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		const char *sname;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		/* Go's linker writes both; either marks a Go program (its functions get
		 * no uretprobe: resolve_unwinding.c). */
		if (sname && (!strcmp(sname, ".go.buildinfo") || !strcmp(sname, ".note.go.buildid")))
			ef->go = true;
		if (symbols && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)) {
			have_symtab |= sh.sh_type == SHT_SYMTAB;
			read_symbols(ef, elf, scn, &sh, &sym_cap);
		} else if (sh.sh_type == SHT_DYNAMIC) {
			read_dynamic(ef, elf, scn, &sh);
		}
	}
	if (!symbols)
		return ef;
	if (!have_symtab)
		have_symtab = read_debug_symbols(ef, elf, &sym_cap);
	ef->stripped = !have_symtab;
	sort_and_merge(ef);
	elf_files_opened++;
	return ef;

fail:
	elf_file_close(ef);
	return NULL;
}

struct elf_file *elf_file_open(const char *path, char *err, size_t errlen)
{
	return open_file(path, true, err, errlen);
}

struct elf_file *elf_file_open_dynamic(const char *path, char *err, size_t errlen)
{
	return open_file(path, false, err, errlen);
}

void elf_file_close(struct elf_file *ef)
{
	size_t i;

	if (!ef)
		return;
	for (i = 0; i < ef->n_syms; i++) {
		free(ef->syms[i].name);
		free(ef->syms[i].demangled);
		free(ef->syms[i].base);
	}
	free(ef->by_addr);
	free(ef->syms);
	usdt_notes_free(ef);
	free(ef->segs);
	free(ef->soname);
	for (i = 0; i < ef->n_needed; i++)
		free(ef->needed[i]);
	free(ef->needed);
	free(ef->runpath);
	free(ef->rpath);
	free(ef->debug_path);
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->path);
	free(ef);
}

static int sym_addr_cmp(const void *a, const void *b)
{
	const struct elf_sym *x = *(const struct elf_sym *const *)a, *y = *(const struct elf_sym *const *)b;

	if (x->vaddr != y->vaddr)
		return (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
	return (x->size < y->size) - (x->size > y->size); /* the largest first */
}

const struct elf_sym *elf_symbol_at(const struct elf_file *ef, uint64_t vaddr, bool *starts)
{
	struct elf_file *mut = (struct elf_file *)ef; /* the index is a cache */
	size_t lo = 0, hi;

	if (!ef->by_addr && ef->n_syms) {
		mut->by_addr = xcalloc(ef->n_syms, sizeof(*ef->by_addr));
		for (size_t i = 0; i < ef->n_syms; i++)
			mut->by_addr[i] = &ef->syms[i];
		qsort(mut->by_addr, ef->n_syms, sizeof(*ef->by_addr), sym_addr_cmp);
		mut->n_by_addr = ef->n_syms;
	}
	hi = ef->n_by_addr;
	/* the first symbol above vaddr */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ef->by_addr[mid]->vaddr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (starts)
		*starts = lo > 0 && ef->by_addr[lo - 1]->vaddr == vaddr;
	/* the symbols at or below vaddr, nearest first: one that holds it? */
	for (size_t i = lo; i > 0 && i + 8 > lo; i--) {
		const struct elf_sym *s = ef->by_addr[i - 1];

		if (vaddr < s->vaddr + s->size)
			return s;
	}
	return NULL;
}

ssize_t elf_read_at(const struct elf_file *ef, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(ef->fd, (char *)buf + done, len - done, (off_t)(offset + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static void push_match(const struct elf_sym ***out, size_t *n, size_t *cap, const struct elf_sym *s)
{
	grow_array((void **)out, cap, *n + 1, sizeof(**out));
	(*out)[(*n)++] = s;
}

size_t elf_find_symbols(const struct elf_file *ef, const char *name, const struct elf_sym ***out)
{
	size_t n = 0, cap = 0, lo = 0, hi = ef->n_syms, i;

	*out = NULL;
	/* Sorted by name: the first entry not below name, then its equals. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ef->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < ef->n_syms && strcmp(ef->syms[i].name, name) == 0; i++)
		push_match(out, &n, &cap, &ef->syms[i]);
	if (n)
		return n;
	for (i = 0; i < ef->n_syms; i++) {
		const struct elf_sym *s = &ef->syms[i];

		if (s->demangled && (strcmp(s->demangled, name) == 0 ||
				     (s->base && strcmp(s->base, name) == 0)))
			push_match(out, &n, &cap, s);
	}
	return n;
}

size_t elf_glob_symbols(const struct elf_file *ef, const char *pattern, const struct elf_sym ***out)
{
	size_t n = 0, cap = 0, i;

	*out = NULL;
	for (i = 0; i < ef->n_syms; i++) {
		const struct elf_sym *s = &ef->syms[i];

		if (fnmatch(pattern, s->name, 0) == 0 ||
		    (s->demangled && fnmatch(pattern, s->demangled, 0) == 0) ||
		    (s->base && fnmatch(pattern, s->base, 0) == 0))
			push_match(out, &n, &cap, s);
	}
	return n;
}

struct candidate {
	const char *name;
	size_t dist;
};

/* The distance of symbol s to what was asked for, and the name to show. */
typedef size_t (*sym_distance_fn)(const char *key, const struct elf_sym *s, const char **shown);

/* Up to max names of ef by dist(key, ...), within limit, closest first,
 * ties by name, each shown name once. */
static int closest_by(const struct elf_file *ef, const char *key, size_t limit,
		      sym_distance_fn dist, const char **out, int max)
{
	struct candidate *best;
	int n = 0, j;
	size_t i;

	if (max <= 0)
		return 0;
	best = xcalloc((size_t)max, sizeof(*best));
	for (i = 0; i < ef->n_syms; i++) {
		const char *shown;
		size_t d = dist(key, &ef->syms[i], &shown);
		bool dup = false;

		if (d > limit)
			continue;
		for (j = 0; j < n; j++)
			dup |= strcmp(best[j].name, shown) == 0;
		if (dup)
			continue;
		/* Insertion into the sorted top-max list. */
		for (j = n; j > 0; j--) {
			struct candidate *c = &best[j - 1];

			if (c->dist < d || (c->dist == d && strcmp(c->name, shown) < 0))
				break;
			if (j < max)
				best[j] = *c;
		}
		if (j < max) {
			best[j] = (struct candidate){ shown, d };
			if (n < max)
				n++;
		}
	}
	for (j = 0; j < n; j++)
		out[j] = best[j].name;
	free(best);
	return n;
}

static size_t name_distance(const char *name, const struct elf_sym *s, const char **shown)
{
	*shown = s->base ? s->base : s->demangled ? s->demangled : s->name;
	return edit_distance(name, *shown);
}

int elf_closest_names(const struct elf_file *ef, const char *name, const char **out, int max)
{
	size_t limit = strlen(name) / 3;

	return closest_by(ef, name, limit < 2 ? 2 : limit, name_distance, out, max);
}

/* Where the fnmatch(3) token at p ends: "\\x", "[...]" or one character. */
static const char *glob_token_end(const char *p)
{
	const char *q;

	if (*p == '\\' && p[1])
		return p + 2;
	if (*p != '[')
		return p + 1;
	q = p + 1;
	if (*q == '!' || *q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']')
		q++;
	return *q ? q + 1 : p + 1; /* an unclosed '[' is a literal */
}

/* Edits (insert, delete, substitute a character) that make s match the
 * fnmatch(3) pattern: '*' takes any run for free, '?' any character, a
 * bracket expression any character of its set; 0 when s matches. */
static size_t glob_edit_distance(const char *pattern, const char *s)
{
	size_t ls = strlen(s), j, *row, d;
	const char *p, *end;

	row = xcalloc(ls + 1, sizeof(*row));
	for (j = 0; j <= ls; j++)
		row[j] = j;
	for (p = pattern; *p; p = end) {
		size_t diag = row[0];

		end = glob_token_end(p);
		if (*p == '*') { /* the run it takes, empty or longer: no edit */
			for (j = 1; j <= ls; j++)
				if (row[j - 1] < row[j])
					row[j] = row[j - 1];
			continue;
		}
		row[0]++;
		for (j = 1; j <= ls; j++) {
			size_t up = row[j];
			bool same;

			if (*p == '?') {
				same = true;
			} else if (*p == '[' && end - p > 1) {
				char set[256], c[2] = { s[j - 1], 0 };

				snprintf(set, sizeof(set), "%.*s", (int)(end - p), p);
				same = fnmatch(set, c, 0) == 0;
			} else {
				same = p[*p == '\\' && p[1]] == s[j - 1];
			}
			row[j] = edit_step(diag, up, row[j - 1], same);
			diag = up;
		}
	}
	d = row[ls];
	free(row);
	return d;
}

static size_t glob_distance(const char *pattern, const struct elf_sym *s, const char **shown)
{
	const char *names[3] = { s->name, s->demangled, s->base };
	size_t best = SIZE_MAX;

	*shown = s->name;
	for (int i = 0; i < 3; i++) {
		size_t d = names[i] ? glob_edit_distance(pattern, names[i]) : SIZE_MAX;

		if (d < best || (d == best && names[i] && i)) { /* a readable name on a tie */
			best = d;
			*shown = names[i];
		}
	}
	return best;
}

int elf_closest_to_glob(const struct elf_file *ef, const char *pattern, const char **out, int max)
{
	size_t literal = 0;

	for (const char *p = pattern; *p; p = glob_token_end(p))
		literal += *p != '*';
	if (literal < 3)
		return 0; /* "a*": too little to go by */
	return closest_by(ef, pattern, literal / 3, glob_distance, out, max);
}

enum site_class elf_site_class(const struct elf_file *ef, uint64_t offset)
{
	uint8_t insn[16];
	ssize_t n;

	if (ef->machine != EM_X86_64)
		return SITE_UNKNOWN;
	n = elf_read_at(ef, offset, insn, sizeof(insn));
	if (n <= 0)
		return SITE_UNKNOWN;
	return site_classify_x86(insn, (size_t)n, offset);
}
