// SPDX-License-Identifier: MIT
/*
 * USDT notes (.note.stapsdt) and their argument strings. See usdt.h.
 *
 * Each note's descriptor holds three addresses (probe pc, the link-time
 * address of .stapsdt.base, semaphore), then "provider\0name\0args\0".
 * When the file was prelinked, .stapsdt.base moved and the note did not:
 * the difference is added to the pc and the semaphore, as SystemTap, bcc
 * and libbpf do. Both are then turned into file offsets through PT_LOAD,
 * which is what uprobes and the kernel's ref_ctr_offset take.
 */
#include "usdt.h"

#include <errno.h>
#include <gelf.h>
#include <stdarg.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <asm/ptrace.h>
#endif

#include "base/base.h"
#include "elf_symbols.h"

#define NT_STAPSDT 3

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

static uint64_t read_addr(const uint8_t *p, bool is64, bool swap)
{
	uint64_t v = 0;

	if (is64) {
		memcpy(&v, p, 8);
		if (swap)
			v = __builtin_bswap64(v);
	} else {
		uint32_t w;

		memcpy(&w, p, 4);
		v = swap ? __builtin_bswap32(w) : w;
	}
	return v;
}

/* Address of .stapsdt.base as linked now (0 if the file has none). */
static uint64_t stapsdt_base(Elf *elf, size_t shstrndx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && strcmp(name, ".stapsdt.base") == 0)
			return sh.sh_addr;
	}
	return 0;
}

static int read_note_section(struct elf_file *ef, Elf *elf, Elf_Scn *scn, uint64_t base_now,
			     size_t *cap, char *err, size_t errlen)
{
	bool is64 = gelf_getclass(elf) == ELFCLASS64;
	size_t asz = is64 ? 8 : 4, off = 0, name_off, desc_off;
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Ehdr eh;
	GElf_Nhdr nh;
	bool swap;

	if (!data || !gelf_getehdr(elf, &eh))
		return 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	swap = eh.e_ident[EI_DATA] != ELFDATA2LSB;
#else
	swap = eh.e_ident[EI_DATA] != ELFDATA2MSB;
#endif
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *desc = (const char *)data->d_buf + desc_off;
		const char *owner = (const char *)data->d_buf + name_off;
		const char *prov, *name, *args, *end = desc + nh.n_descsz;
		struct usdt_note *n;
		uint64_t pc, base, sema;

		if (nh.n_type != NT_STAPSDT || nh.n_namesz != 8 || memcmp(owner, "stapsdt", 8))
			continue;
		if (nh.n_descsz < 3 * asz + 3) {
			set_err(err, errlen, "%s: malformed USDT note (%u bytes)", ef->path,
				(unsigned)nh.n_descsz);
			return -1;
		}
		pc = read_addr((const uint8_t *)desc, is64, swap);
		base = read_addr((const uint8_t *)desc + asz, is64, swap);
		sema = read_addr((const uint8_t *)desc + 2 * asz, is64, swap);
		prov = desc + 3 * asz;
		name = memchr(prov, '\0', (size_t)(end - prov));
		args = name && name + 1 < end ? memchr(name + 1, '\0', (size_t)(end - name - 1)) : NULL;
		if (!args) {
			set_err(err, errlen, "%s: malformed USDT note at pc 0x%llx", ef->path,
				(unsigned long long)pc);
			return -1;
		}
		name++;
		args++; /* may be at end: no argument string */
		if (base_now && base) {
			pc += base_now - base;
			if (sema)
				sema += base_now - base;
		}
		grow_array((void **)&ef->usdt, cap, ef->n_usdt + 1, sizeof(*ef->usdt));
		n = &ef->usdt[ef->n_usdt++];
		n->provider = xstrdup(prov);
		n->name = xstrdup(name);
		n->args = args < end ? strndup(args, (size_t)(end - args)) : xstrdup("");
		if (!n->args)
			n->args = xstrdup("");
		n->pc = pc;
		n->sema = sema;
		if (elf_vaddr_to_offset(ef, pc, &n->offset))
			n->offset = 0;
		if (sema && elf_vaddr_to_offset(ef, sema, &n->sema_offset))
			n->sema_offset = 0;
	}
	return 0;
}

int usdt_notes(struct elf_file *ef, const struct usdt_note **out, char *err, size_t errlen)
{
	Elf *elf = ef->elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx, cap = 0;
	uint64_t base_now;

	*out = NULL;
	if (ef->usdt_read) {
		*out = ef->usdt;
		return (int)ef->n_usdt;
	}
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		set_err(err, errlen, "%s: cannot read its sections", ef->path);
		return -1;
	}
	base_now = stapsdt_base(elf, shstrndx);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".note.stapsdt") != 0)
			continue;
		if (read_note_section(ef, elf, scn, base_now, &cap, err, errlen) < 0) {
			usdt_notes_free(ef);
			return -1;
		}
	}
	ef->usdt_read = true;
	*out = ef->usdt;
	return (int)ef->n_usdt;
}

void usdt_notes_free(struct elf_file *ef)
{
	for (size_t i = 0; i < ef->n_usdt; i++) {
		free(ef->usdt[i].provider);
		free(ef->usdt[i].name);
		free(ef->usdt[i].args);
	}
	free(ef->usdt);
	ef->usdt = NULL;
	ef->n_usdt = 0;
	ef->usdt_read = false;
}

int usdt_find(struct elf_file *ef, const char *provider, const char *name,
	      const struct usdt_note **out, int max)
{
	const struct usdt_note *notes;
	int n, found = 0;

	n = usdt_notes(ef, &notes, NULL, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(notes[i].provider, provider) || strcmp(notes[i].name, name))
			continue;
		if (found < max)
			out[found] = &notes[i];
		found++;
	}
	return found;
}

/* ------------------------------------------------------------ arguments */

#if defined(__x86_64__)
struct x86_reg {
	const char *names[4]; /* 64, 32, 16 and 8-bit names */
	size_t off;
};

static const struct x86_reg x86_regs[] = {
	{ { "rax", "eax", "ax", "al" }, offsetof(struct pt_regs, rax) },
	{ { "rbx", "ebx", "bx", "bl" }, offsetof(struct pt_regs, rbx) },
	{ { "rcx", "ecx", "cx", "cl" }, offsetof(struct pt_regs, rcx) },
	{ { "rdx", "edx", "dx", "dl" }, offsetof(struct pt_regs, rdx) },
	{ { "rsi", "esi", "si", "sil" }, offsetof(struct pt_regs, rsi) },
	{ { "rdi", "edi", "di", "dil" }, offsetof(struct pt_regs, rdi) },
	{ { "rbp", "ebp", "bp", "bpl" }, offsetof(struct pt_regs, rbp) },
	{ { "rsp", "esp", "sp", "spl" }, offsetof(struct pt_regs, rsp) },
	{ { "r8", "r8d", "r8w", "r8b" }, offsetof(struct pt_regs, r8) },
	{ { "r9", "r9d", "r9w", "r9b" }, offsetof(struct pt_regs, r9) },
	{ { "r10", "r10d", "r10w", "r10b" }, offsetof(struct pt_regs, r10) },
	{ { "r11", "r11d", "r11w", "r11b" }, offsetof(struct pt_regs, r11) },
	{ { "r12", "r12d", "r12w", "r12b" }, offsetof(struct pt_regs, r12) },
	{ { "r13", "r13d", "r13w", "r13b" }, offsetof(struct pt_regs, r13) },
	{ { "r14", "r14d", "r14w", "r14b" }, offsetof(struct pt_regs, r14) },
	{ { "r15", "r15d", "r15w", "r15b" }, offsetof(struct pt_regs, r15) },
};

/* pt_regs offset of a register name (without '%'), or -1. */
static int x86_reg_offset(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(x86_regs); i++)
		for (int k = 0; k < 4; k++)
			if (strlen(x86_regs[i].names[k]) == len &&
			    !strncmp(x86_regs[i].names[k], name, len))
				return (int)x86_regs[i].off;
	return -1;
}

/* A signed decimal or 0x-hex number covering all of s[0..len). */
static bool parse_num(const char *s, size_t len, int64_t *v)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 0);
	return !errno && *end == '\0';
}

/* "%reg" inside a location; returns its pt_regs offset or -1 with err set. */
static int parse_reg(const char *s, size_t len, int argn, const char *spec, char *err,
		     size_t errlen)
{
	int off;

	if (len < 2 || s[0] != '%') {
		set_err(err, errlen, "argument %d '%s': expected a register, got '%.*s'", argn,
			spec, (int)len, s);
		return -1;
	}
	off = x86_reg_offset(s + 1, len - 1);
	if (off < 0)
		set_err(err, errlen, "argument %d '%s': register %.*s is not supported", argn,
			spec, (int)len, s);
	return off;
}

static int parse_one(const char *spec, int argn, struct rt_arg *a, char *err, size_t errlen)
{
	const char *at = strchr(spec, '@'), *loc, *open;
	int64_t size, v;
	int off;

	memset(a, 0, sizeof(*a));
	if (!at || !parse_num(spec, (size_t)(at - spec), &size) ||
	    (llabs(size) != 1 && llabs(size) != 2 && llabs(size) != 4 && llabs(size) != 8)) {
		set_err(err, errlen, "argument %d '%s': expected SIZE@LOCATION with a size of "
			"1, 2, 4 or 8 (negative: signed)", argn, spec);
		return -1;
	}
	a->size = (uint8_t)llabs(size);
	a->is_signed = size < 0;
	loc = at + 1;
	if (loc[0] == '$') {
		if (!parse_num(loc + 1, strlen(loc + 1), &v)) {
			set_err(err, errlen, "argument %d '%s': constant is not a number", argn, spec);
			return -1;
		}
		a->kind = RT_ARG_CONST;
		a->val = v;
		return 0;
	}
	if (loc[0] == '%') {
		if ((off = parse_reg(loc, strlen(loc), argn, spec, err, errlen)) < 0)
			return -1;
		a->kind = RT_ARG_REG;
		a->reg_off = (uint32_t)off;
		return 0;
	}
	open = strchr(loc, '(');
	if (!open || loc[strlen(loc) - 1] != ')') {
		set_err(err, errlen, "argument %d '%s': location '%s' is not understood", argn, spec,
			loc);
		return -1;
	}
	if (strchr(open, ',')) {
		set_err(err, errlen, "argument %d '%s': indexed addressing is not supported", argn,
			spec);
		return -1;
	}
	v = 0;
	if (open > loc && !parse_num(loc, (size_t)(open - loc), &v)) {
		set_err(err, errlen, "argument %d '%s': displacement '%.*s' is not a number "
			"(symbolic addresses are not supported)", argn, spec, (int)(open - loc), loc);
		return -1;
	}
	if ((off = parse_reg(open + 1, strlen(open + 1) - 1, argn, spec, err, errlen)) < 0)
		return -1;
	a->kind = RT_ARG_DEREF;
	a->reg_off = (uint32_t)off;
	a->val = v;
	return 0;
}

int usdt_parse_args(const char *args, struct rt_arg *out, int max, char *err, size_t errlen)
{
	char *copy = xstrdup(args), *save = NULL, *tok;
	int n = 0, ret = -1;

	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		struct rt_arg a;

		if (parse_one(tok, n + 1, &a, err, errlen) < 0)
			goto out;
		if (n < max)
			out[n] = a;
		n++;
	}
	ret = n;
out:
	free(copy);
	return ret;
}
#else
int usdt_parse_args(const char *args, struct rt_arg *out, int max, char *err, size_t errlen)
{
	(void)out;
	(void)max;
	set_err(err, errlen, "USDT arguments '%s': decoding is not implemented for this "
		"architecture (x86-64 only)", args);
	return -1;
}
#endif
