// SPDX-License-Identifier: MIT
/*
 * A stripped binary's separate debug file (see elf_symbols.h), where gdb,
 * perf and bcc look for it: by build ID under /usr/lib/debug/.build-id/
 * (what Debian's -dbgsym packages install), then by the .gnu_debuglink
 * name beside the binary, in its .debug/ directory and under
 * /usr/lib/debug/ followed by the binary's directory. A debuglink file
 * counts only if its CRC-32 matches the link's; a build-ID file only if it
 * carries the same build ID.
 */
#include "elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/base.h"

#define DEBUG_ROOT "/usr/lib/debug"
#define MAX_BUILD_ID 64

/* The NT_GNU_BUILD_ID note's bytes, or 0 when there is none. */
static size_t build_id(Elf *elf, unsigned char *id, size_t max)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((const char *)data->d_buf + name_off, "GNU", 4) &&
			    nh.n_descsz > 0 && nh.n_descsz <= max) {
				memcpy(id, (const char *)data->d_buf + desc_off, nh.n_descsz);
				return nh.n_descsz;
			}
		}
	}
	return 0;
}

/* The .gnu_debuglink section: the debug file's name and its CRC-32. */
static const char *debuglink(Elf *elf, uint32_t *crc)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *name;
		size_t len;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || data->d_size < 8)
			return NULL;
		len = strnlen(data->d_buf, data->d_size);
		/* the name, its NUL, padding to 4 bytes, the CRC */
		if (!len || (len + 4) / 4 * 4 + 4 > data->d_size)
			return NULL;
		memcpy(crc, (const char *)data->d_buf + (len + 4) / 4 * 4, 4);
		return data->d_buf;
	}
	return NULL;
}

static bool file_crc_is(const char *path, uint32_t want)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)n);
	close(fd);
	return n == 0 && (uint32_t)crc == want;
}

static bool same_build_id(const char *path, const unsigned char *id, size_t n)
{
	unsigned char other[MAX_BUILD_ID];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	bool same = false;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		same = build_id(elf, other, sizeof(other)) == n && !memcmp(other, id, n);
	if (elf)
		elf_end(elf);
	close(fd);
	return same;
}

char *elf_debug_file(Elf *elf, const char *path)
{
	unsigned char id[MAX_BUILD_ID];
	size_t n = build_id(elf, id, sizeof(id));
	uint32_t crc = 0;
	const char *link;
	char *copy, *dir, *p;

	if (n > 1) {
		char hex[2 * MAX_BUILD_ID + 1];

		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", id[i]);
		p = xasprintf(DEBUG_ROOT "/.build-id/%.2s/%s.debug", hex, hex + 2);
		if (same_build_id(p, id, n))
			return p;
		free(p);
	}
	link = debuglink(elf, &crc);
	if (!link || strchr(link, '/'))
		return NULL;
	copy = xstrdup(path);
	dir = dirname(copy);
	{
		char *tries[] = {
			xasprintf("%s/%s", dir, link),
			xasprintf("%s/.debug/%s", dir, link),
			xasprintf(DEBUG_ROOT "%s%s/%s", *dir == '/' ? "" : "/", dir, link),
		};

		p = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(tries); i++) {
			/* beside the binary, its own name is the binary itself */
			if (!p && strcmp(tries[i], path) && file_crc_is(tries[i], crc))
				p = tries[i];
			else
				free(tries[i]);
		}
	}
	free(copy);
	return p;
}
