/* The PVH boot image of an x86_64 kernel (kpvh.h). */
#include "kernel/kpvh.h"

#include "base/cache.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"
#include "kernel/kpayload.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

/* xen/include/public/elfnote.h: the 32-bit physical entry of a PVH boot. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

static uint64_t rd(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Notes in [p, p + len): 4-byte aligned name and descriptor. */
static int find_note(const unsigned char *p, uint64_t len, uint32_t *entry)
{
	uint64_t i = 0;

	while (len - i >= 12) {
		uint64_t namesz = rd(p + i, 4), descsz = rd(p + i + 4, 4), type = rd(p + i + 8, 4);
		uint64_t name = i + 12, desc = name + ((namesz + 3) & ~3ULL), next = desc + ((descsz + 3) & ~3ULL);

		if (next > len)
			return -ENOENT;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(p + name, "Xen", 4) && descsz >= 4) {
			*entry = (uint32_t)rd(p + desc, 4);
			return 0;
		}
		i = next;
	}
	return -ENOENT;
}

int kpvh_entry(const void *buf, size_t len, uint32_t *entry)
{
	const unsigned char *p = buf;
	uint64_t phoff, phentsize, phnum;

	if (len < sizeof(Elf64_Ehdr) || memcmp(p, ELFMAG, SELFMAG) || p[EI_CLASS] != ELFCLASS64 ||
	    p[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	phoff = rd(p + offsetof(Elf64_Ehdr, e_phoff), 8);
	phentsize = rd(p + offsetof(Elf64_Ehdr, e_phentsize), 2);
	phnum = rd(p + offsetof(Elf64_Ehdr, e_phnum), 2);
	if (phentsize < sizeof(Elf64_Phdr) || phoff > len || phnum > (len - phoff) / phentsize)
		return -ENOEXEC;
	for (uint64_t i = 0; i < phnum; i++) {
		const unsigned char *ph = p + phoff + i * phentsize;
		uint64_t off = rd(ph + offsetof(Elf64_Phdr, p_offset), 8);
		uint64_t size = rd(ph + offsetof(Elf64_Phdr, p_filesz), 8);

		if (rd(ph + offsetof(Elf64_Phdr, p_type), 4) != PT_NOTE || off > len || size > len - off)
			continue;
		if (!find_note(p + off, size, entry))
			return 0;
	}
	return -ENOENT;
}

int kpvh_image(const char *image, const char *sha256, char *out, size_t outsz)
{
	cleanup_buf struct buf img = { 0 }, elf = { 0 };
	cleanup_free char *dir = NULL, *none = NULL;
	char cache[PATH_MAX], hex[65];
	uint32_t entry;
	int err;

	err = cache_dir(cache, sizeof(cache));
	if (err)
		return err;
	dir = path_join(cache, "vmlinux");
	if (!dir)
		return -ENOMEM;
	if (!sha256 || !*sha256) {
		struct sha256 s;

		err = read_file(image, &img, 512 << 20);
		if (err)
			return err;
		sha256_init(&s);
		sha256_update(&s, img.data, img.len);
		sha256_hex(&s, hex);
		sha256 = hex;
	}
	if ((size_t)snprintf(out, outsz, "%s/%s.elf", dir, sha256) >= outsz)
		return -ENAMETOOLONG;
	none = xasprintf("%s/%s.none", dir, sha256);
	if (!none)
		return -ENOMEM;
	if (path_exists(out)) {
		/* Used now: the last to be trimmed. */
		if (utimensat(AT_FDCWD, out, NULL, 0))
			pr_debug("cannot touch %s: %s", out, strerror(errno));
		return 0;
	}
	/* A kernel that cannot boot this way is looked at once. */
	if (path_exists(none))
		return -ENOENT;
	if (!img.len && (err = read_file(image, &img, 512 << 20)))
		return err;
	err = mkdir_p(dir, 0755);
	if (err)
		return err;
	err = kpayload_bzimage(img.data, img.len, &elf);
	err = err ?: kpvh_entry(elf.data, elf.len, &entry);
	if (err == -ENOENT || err == -ENOEXEC) {
		pr_debug("%s: no PVH entry (%s): booting the image itself", image,
			 err == -ENOENT ? "no PVH note: CONFIG_PVH is off" : "no vmlinux in its payload");
		write_file_atomic(none, "", 0, 0644);
		return -ENOENT;
	}
	if (err)
		return err;
	err = check_free_space(dir, elf.len + (1 << 20), "the kernel's vmlinux");
	err = err ?: write_file_atomic(out, elf.data, elf.len, 0644);
	if (err)
		return err;
	pr_debug("%s: vmlinux extracted for a PVH boot (entry %#x): %s", image, entry, out);
	cache_trim("vmlinux");
	return 0;
}
