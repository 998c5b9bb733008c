/* kta's cache and its limits (cache.h). The caps are about what one
 * developer's work keeps warm: two sides of a validate on two arches for
 * the kernel workspaces; the rest is cheap to make again or small. */
#include "base/cache.h"
#include "base/centry.h"
#include "base/log.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static const struct cache_kind kinds[] = {
	{ "kbuild", "kernel build workspaces (source snapshot and objects, 1 to 2.5 GB each)",
	  "KTA_KBUILD_CACHE_GB", 12 },
	{ "stbuild", "BPF selftests build workspaces", "KTA_STBUILD_CACHE_GB", 12 },
	{ "selftests", "built BPF selftests payloads (test_progs, BPF objects)", "KTA_SELFTESTS_CACHE_GB", 8 },
	{ "builds", "built kernels (vmlinuz, config, BTF, test modules)", "KTA_BUILDS_CACHE_GB", 4 },
	/* Archives, not directories; trimmed after each write (initramfs.c). */
	{ "initramfs", "guest roots (cpio archives)", "KTA_INITRAMFS_CACHE_GB", 1 },
	/* Files too, trimmed after each write (kernel/kpvh.c); 60 MB each. */
	{ "vmlinux", "x86_64 kernels uncompressed for a PVH boot", "KTA_VMLINUX_CACHE_GB", 2 },
	{ "kernels", "Debian kernels (vmlinuz, config, modules the guest needs)", NULL, 0 },
	{ "sources", "Debian source packages (linux-source, libbpf)", NULL, 0 },
	{ "toolchains", "toolchain roots the selftests build in (mmdebstrap)", NULL, 0 },
	{ "sysroot", "per-arch Debian packages guests link against", NULL, 0 },
	{ "images", "disk images for --image (make image)", NULL, 0 },
	{ "guestfs", "libguestfs' appliance", NULL, 0 },
	{ "apt", "apt lists and downloads", NULL, 0 },
	{ "ccache", "compiler cache of kernel builds", NULL, 0 },
};

const struct cache_kind *cache_kinds(unsigned int *n)
{
	*n = ARRAY_SIZE(kinds);
	return kinds;
}

const struct cache_kind *cache_kind(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

uint64_t cache_cap_bytes(const struct cache_kind *k)
{
	const char *v = k->env ? getenv(k->env) : NULL;
	char *end;
	double gb = k->cap_gb;

	if (v && *v) {
		gb = strtod(v, &end);
		if (*end || gb < 0)
			gb = k->cap_gb;
	}
	return (uint64_t)(gb * (1ull << 30));
}

void cache_trim(const char *name)
{
	const struct cache_kind *k = cache_kind(name);
	struct centry_prune_stats st;
	char root[PATH_MAX];
	cleanup_free char *top = NULL;
	uint64_t cap = k ? cache_cap_bytes(k) : 0;

	if (!cap || cache_dir(root, sizeof(root)) || !(top = path_join(root, name)))
		return;
	if (!centry_prune(top, cap, false, &st) && st.removed)
		pr_info("%s cache: removed %u least recently used entr%s (%.1f GB) to stay within %.1f GB (%s)", name,
			st.removed, st.removed == 1 ? "y" : "ies", (double)st.freed / 1e9, (double)cap / (1 << 30),
			k->env);
}
