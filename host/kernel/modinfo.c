/* The module dependency reader: kta resolves a module's dependencies from
 * the `depends=` entry the kernel build embeds in every .ko, because the
 * split Debian packages (7.x) ship no modules.dep. A tiny ELF reader for
 * both classes and byte orders; the input is untrusted, so every access
 * goes through a bounds check and nothing is assumed about alignment.
 */
#include "kernel/modinfo.h"

#include <errno.h>
#include <string.h>

struct elf_view {
	const uint8_t *p;
	size_t len;
	int is64;
	int big;
};

static int rd(const struct elf_view *e, uint64_t off, unsigned int size, uint64_t *v)
{
	uint64_t r = 0;

	if (off > e->len || size > e->len - off)
		return -ENOEXEC;
	for (unsigned int i = 0; i < size; i++) {
		unsigned int shift = e->big ? 8 * (size - 1 - i) : 8 * i;

		r |= (uint64_t)e->p[off + i] << shift;
	}
	*v = r;
	return 0;
}

static int elf_open(struct elf_view *e, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!buf || len < 52 || memcmp(p, "\177ELF", 4))
		return -ENOEXEC;
	if (p[4] != 1 && p[4] != 2)
		return -ENOEXEC;
	if (p[5] != 1 && p[5] != 2)
		return -ENOEXEC;
	e->p = p;
	e->len = len;
	e->is64 = p[4] == 2;
	e->big = p[5] == 2;
	if (e->is64 && len < 64)
		return -ENOEXEC;
	return 0;
}

int elf_machine(const void *buf, size_t len, uint16_t *machine)
{
	struct elf_view e;
	uint64_t v;
	int err = elf_open(&e, buf, len);

	err = err ?: rd(&e, 18, 2, &v);
	if (err)
		return err;
	*machine = (uint16_t)v;
	return 0;
}

struct shdr {
	uint64_t name, offset, size;
};

static int read_shdr(const struct elf_view *e, uint64_t shoff, uint64_t shentsize, uint64_t i,
		     struct shdr *s)
{
	uint64_t base = shoff + i * shentsize;
	int err;

	if (e->is64) {
		err = rd(e, base + 0, 4, &s->name);
		err = err ?: rd(e, base + 24, 8, &s->offset);
		err = err ?: rd(e, base + 32, 8, &s->size);
	} else {
		err = rd(e, base + 0, 4, &s->name);
		err = err ?: rd(e, base + 16, 4, &s->offset);
		err = err ?: rd(e, base + 20, 4, &s->size);
	}
	if (err)
		return err;
	/* The section's bytes must lie inside the buffer. */
	if (s->offset > e->len || s->size > e->len - s->offset)
		return -ENOEXEC;
	return 0;
}

/* Find the .modinfo section: offset and size in the buffer. */
static int find_modinfo(const struct elf_view *e, uint64_t *off, uint64_t *size)
{
	uint64_t shoff, shentsize, shnum, shstrndx;
	struct shdr strtab;
	int err;

	if (e->is64) {
		err = rd(e, 40, 8, &shoff);
		err = err ?: rd(e, 58, 2, &shentsize);
		err = err ?: rd(e, 60, 2, &shnum);
		err = err ?: rd(e, 62, 2, &shstrndx);
	} else {
		err = rd(e, 32, 4, &shoff);
		err = err ?: rd(e, 46, 2, &shentsize);
		err = err ?: rd(e, 48, 2, &shnum);
		err = err ?: rd(e, 50, 2, &shstrndx);
	}
	if (err)
		return err;
	if (shentsize < (e->is64 ? 64u : 40u) || shnum == 0 || shstrndx >= shnum)
		return -ENOEXEC;
	/* The whole table must fit (shnum < 65536 and shentsize < 65536, so
	 * the product cannot overflow). */
	if (shoff > e->len || shnum * shentsize > e->len - shoff)
		return -ENOEXEC;
	err = read_shdr(e, shoff, shentsize, shstrndx, &strtab);
	if (err)
		return err;
	for (uint64_t i = 0; i < shnum; i++) {
		static const char want[] = ".modinfo";
		struct shdr s;

		err = read_shdr(e, shoff, shentsize, i, &s);
		if (err)
			return err;
		if (s.name >= strtab.size || sizeof(want) > strtab.size - s.name)
			continue;
		if (memcmp(e->p + strtab.offset + s.name, want, sizeof(want)))
			continue;
		*off = s.offset;
		*size = s.size;
		return 0;
	}
	return -ENOENT;
}

int modinfo_get(const void *elf, size_t len, const char *key, char *out, size_t outsz)
{
	struct elf_view e;
	uint64_t off, size;
	size_t klen = strlen(key);
	int err = elf_open(&e, elf, len);

	err = err ?: find_modinfo(&e, &off, &size);
	if (err)
		return err;
	/* NUL-separated "key=value" strings, possibly padded with NULs. */
	for (uint64_t i = 0; i < size;) {
		const uint8_t *s = e.p + off + i;
		const uint8_t *nul = memchr(s, '\0', (size_t)(size - i));
		size_t n = nul ? (size_t)(nul - s) : (size_t)(size - i);

		if (n > klen && !memcmp(s, key, klen) && s[klen] == '=') {
			size_t vlen = n - klen - 1;

			if (!out || vlen >= outsz)
				return -ENAMETOOLONG;
			memcpy(out, s + klen + 1, vlen);
			out[vlen] = '\0';
			return (int)(vlen > INT32_MAX ? INT32_MAX : vlen);
		}
		i += n + 1;
	}
	return -ENOENT;
}
