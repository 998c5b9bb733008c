/* DT_NEEDED resolution for the guest. The guest has no ld.so.cache, so
 * every library goes to /lib/<multiarch>/, a directory the Debian loader
 * searches by default, and the loader to its PT_INTERP path.
 */
#include "guest/libs.h"
#include "base/log.h"
#include "base/util.h"

#include <elf.h>
#include <string.h>

static uint64_t rd(const unsigned char *p, int size, int be)
{
	uint64_t v = 0;

	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

struct seg {
	uint64_t off, vaddr, filesz;
};

int elf_deps_parse(const void *buf, size_t len, struct elf_deps *out)
{
	const unsigned char *p = buf;
	int is64, be, W;
	uint64_t phoff, phentsize, phnum, dyn_off = 0, dyn_size = 0, strtab = 0;
	struct seg loads[16];
	unsigned int nloads = 0;
	uint64_t needed_off[32];
	unsigned int nneeded = 0;

	memset(out, 0, sizeof(*out));
	if (len < 52 || memcmp(p, ELFMAG, SELFMAG))
		return -ENOEXEC;
	is64 = p[EI_CLASS] == ELFCLASS64;
	be = p[EI_DATA] == ELFDATA2MSB;
	if ((!is64 && p[EI_CLASS] != ELFCLASS32) || (is64 && len < 64))
		return -ENOEXEC;
	W = is64 ? 8 : 4;
	phoff = is64 ? rd(p + 32, 8, be) : rd(p + 28, 4, be);
	phentsize = rd(p + (is64 ? 54 : 42), 2, be);
	phnum = rd(p + (is64 ? 56 : 44), 2, be);
	if (phentsize < (is64 ? 56u : 32u))
		return phnum ? -ENOEXEC : 0;
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t off = phoff + i * phentsize, type, o, va, fs;
		const unsigned char *ph;

		if (phoff > len || off > len || len - off < phentsize)
			return -ENOEXEC;
		ph = p + off;
		type = rd(ph, 4, be);
		o = is64 ? rd(ph + 8, 8, be) : rd(ph + 4, 4, be);
		va = is64 ? rd(ph + 16, 8, be) : rd(ph + 8, 4, be);
		fs = is64 ? rd(ph + 32, 8, be) : rd(ph + 16, 4, be);
		if (type == PT_INTERP) {
			if (o >= len || fs >= sizeof(out->interp) || len - o < fs)
				return -ENOEXEC;
			memcpy(out->interp, p + o, fs);
			out->interp[fs] = '\0';
		} else if (type == PT_DYNAMIC) {
			dyn_off = o;
			dyn_size = fs;
		} else if (type == PT_LOAD && nloads < 16) {
			loads[nloads++] = (struct seg){ o, va, fs };
		}
	}
	if (!dyn_size)
		return 0;
	if (dyn_off > len || len - dyn_off < dyn_size)
		return -ENOEXEC;
	for (uint64_t d = 0; d + 2 * (uint64_t)W <= dyn_size; d += 2 * (uint64_t)W) {
		uint64_t tag = rd(p + dyn_off + d, W, be), val = rd(p + dyn_off + d + W, W, be);

		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strtab = val;
		else if (tag == DT_NEEDED && nneeded < 32)
			needed_off[nneeded++] = val;
	}
	if (!nneeded)
		return 0;
	for (unsigned int i = 0; i < nloads; i++) {
		if (strtab >= loads[i].vaddr && strtab - loads[i].vaddr < loads[i].filesz) {
			uint64_t base = loads[i].off + (strtab - loads[i].vaddr);

			for (unsigned int k = 0; k < nneeded; k++) {
				uint64_t s = base + needed_off[k];
				size_t n = 0;

				if (s >= len)
					return -ENOEXEC;
				while (s + n < len && p[s + n] && n + 1 < sizeof(out->needed[0]))
					n++;
				if (s + n >= len || p[s + n])
					return -ENOEXEC;
				memcpy(out->needed[out->nneeded], p + s, n);
				out->needed[out->nneeded++][n] = '\0';
			}
			return 0;
		}
	}
	return -ENOEXEC;
}

void libset_free(struct libset *s)
{
	free(s->guest);
	s->guest = NULL;
	s->n = 0;
}

static int libset_has(struct libset *s, const char *guest)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->guest[i], guest))
			return 1;
	return 0;
}

static int libset_add(struct libset *s, const char *guest)
{
	void *p = realloc(s->guest, (s->n + 1) * sizeof(*s->guest));

	if (!p)
		return -ENOMEM;
	s->guest = p;
	snprintf(s->guest[s->n++], sizeof(s->guest[0]), "%s", guest);
	return 0;
}

/* Host directories for the arch's libraries: a cross sysroot first. In a
 * toolchain root every directory may hold the arch's (multiarch). */
static int find_lib(const struct arch_profile *arch, const char *sysroot, const char *soname, char *out,
		    size_t n)
{
	const char *ma = arch->multiarch, *top = sysroot ? sysroot : "";
	char dirs[6][128];

	snprintf(dirs[0], sizeof(dirs[0]), "/usr/%s/lib", ma);
	snprintf(dirs[1], sizeof(dirs[1]), "/lib/%s", ma);
	snprintf(dirs[2], sizeof(dirs[2]), "/usr/lib/%s", ma);
	snprintf(dirs[3], sizeof(dirs[3]), "/usr/%s/lib64", ma);
	snprintf(dirs[4], sizeof(dirs[4]), "/lib64");
	snprintf(dirs[5], sizeof(dirs[5]), "/usr/lib64");
	for (int i = 0; i < 6; i++) {
		/* The native directories hold the host's libraries: only use
		 * them when the guest has the host's architecture. */
		if (i >= 1 && !sysroot && !arch_is_native(arch))
			break;
		if (i >= 4 && sysroot && !arch_is_native(arch))
			break;
		snprintf(out, n, "%s%s/%s", top, dirs[i], soname);
		if (path_exists(out))
			return 0;
	}
	return -ENOENT;
}

struct resolver {
	struct libset *s;
	const struct arch_profile *arch;
	const char *sysroot;
	libs_add_fn add;
	void *ctx;
};

static int add_file(struct resolver *r, const char *guest, const char *host)
{
	char real[PATH_MAX];
	int err;

	if (libset_has(r->s, guest))
		return 0;
	if (!realpath(host, real))
		return -errno;
	err = r->add(r->ctx, guest, real);
	return err ?: libset_add(r->s, guest);
}

static int add_deps(struct resolver *r, const char *host_path, int depth)
{
	const struct arch_profile *arch = r->arch;
	cleanup_buf struct buf b = { 0 };
	struct elf_deps d;
	int err;

	if (depth > 16)
		return -ELOOP;
	err = read_file(host_path, &b, 256 << 20);
	if (err)
		return err;
	/* Scripts run under the guest's busybox: nothing to add. */
	if (!depth && b.len >= 2 && b.data[0] == '#' && b.data[1] == '!')
		return 0;
	err = elf_deps_parse(b.data, b.len, &d);
	if (err) {
		pr_err("`%s` is not an ELF file kta can read", host_path);
		return err;
	}
	if (d.interp[0] && !libset_has(r->s, d.interp)) {
		char host[PATH_MAX];
		const char *base = strrchr(d.interp, '/');

		if (find_lib(arch, r->sysroot, base ? base + 1 : d.interp, host, sizeof(host))) {
			pr_err("loader `%s` of `%s` not found for %s (install libc6%s)", d.interp,
			       host_path, arch->name, arch_is_native(arch) ? "" : "-<arch>-cross");
			return -ENOENT;
		}
		err = add_file(r, d.interp, host);
		if (err)
			return err;
	}
	for (unsigned int i = 0; i < d.nneeded; i++) {
		char host[PATH_MAX], guest[512];

		snprintf(guest, sizeof(guest), "/lib/%s/%s", arch->multiarch, d.needed[i]);
		if (libset_has(r->s, guest))
			continue;
		if (find_lib(arch, r->sysroot, d.needed[i], host, sizeof(host))) {
			/* Beside the executable, found through its rpath (the
			 * selftests' urandom_read and liburandom_read.so). */
			const char *slash = strrchr(host_path, '/');

			if (snprintf(host, sizeof(host), "%.*s/%s", (int)(slash ? slash - host_path : 1),
				     slash ? host_path : ".", d.needed[i]) < (int)sizeof(host) && path_exists(host))
				continue;
			pr_err("library `%s` needed by `%s` not found in %s's library directories%s%s",
			       d.needed[i], host_path, arch->name, r->sysroot ? " of " : "", r->sysroot ? r->sysroot : "");
			return -ENOENT;
		}
		err = add_file(r, guest, host);
		err = err ?: add_deps(r, host, depth + 1);
		if (err)
			return err;
	}
	return 0;
}

int libs_resolve(struct libset *s, const struct arch_profile *arch, const char *sysroot, const char *exe,
		 libs_add_fn add, void *ctx)
{
	struct resolver r = { .s = s, .arch = arch, .sysroot = sysroot, .add = add, .ctx = ctx };

	return add_deps(&r, exe, 0);
}

static int add_to_initramfs(void *ctx, const char *guest, const char *host)
{
	return initramfs_add_file(ctx, guest, host, 0755);
}

int libs_add(struct initramfs *fs, struct libset *s, const struct arch_profile *arch,
	     const char *exe)
{
	return libs_resolve(s, arch, NULL, exe, add_to_initramfs, fs);
}
