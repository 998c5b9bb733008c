/* Per-architecture sysroots of Debian packages (sysroot.h), entries of the
 * cache $KTA_CACHE/sysroot (base/centry.h): a killed fetch never leaves
 * half a root. Its sysroot.info names the packages and the release; a
 * different package list (a newer kta) makes the entry stale.
 */
#include "apt/apt.h"
#include "base/centry.h"
#include "base/kv.h"
#include "base/log.h"
#include "base/pathf.h"
#include "toolchain/sysroot.h"
#include "base/util.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_S (24 * 3600)

/* -dev packages only: their .a files are linked statically, so no shared
 * library of these needs to reach the guest. */
static const char *const packages[] = {
	"busybox-static", "libelf-dev", "zlib1g-dev", "libzstd-dev", NULL,
};
/* Libraries built against the cross toolchain's libc (Debian 12's 2.36):
 * bookworm's, where the architecture is in bookworm. */
#define SYSROOT_RELEASE "bookworm"

/* The ASAN suite's runtime where clang builds it (arch.h's asan_clang):
 * matches the host's clang-19. */
#define CLANG_RT_PACKAGE "libclang-rt-19-dev"

/* The arch's packages, NULL-terminated, into list (room for all). */
static void package_list(const struct arch_profile *arch, const char **list)
{
	size_t n = 0;

	for (size_t i = 0; packages[i]; i++)
		list[n++] = packages[i];
	if (arch->asan_clang)
		list[n++] = CLANG_RT_PACKAGE;
	list[n] = NULL;
}

/* What the entry holds, as sysroot.info says it. */
static int packages_value(const struct arch_profile *arch, struct buf *b)
{
	const char *list[ARRAY_SIZE(packages) + 1];

	package_list(arch, list);
	for (size_t i = 0; list[i]; i++)
		buf_printf(b, "%s%s", i ? " " : "", list[i]);
	return b->data ? 0 : -ENOMEM;
}

static int info_matches(const struct arch_profile *arch, const char *dir)
{
	cleanup_free char *path = path_join(dir, "sysroot.info");
	cleanup_buf struct buf want = { 0 };
	char have[512];
	int err;

	if (!path || packages_value(arch, &want))
		return -ENOMEM;
	err = kv_read(path, "packages", have, sizeof(have));
	if (err)
		return err == -ENOENT ? -ENOENT : -ESTALE;
	return strcmp(have, want.data) ? -ESTALE : 0;
}

static int fill(const char *dir, struct sysroot *out)
{
	int err = pathf(out->dir, sizeof(out->dir), "%s", dir);

	/* bookworm's package installs /bin/busybox, later ones /usr/bin. */
	err = err ?: pathf(out->busybox, sizeof(out->busybox), "%s/bin/busybox", dir);
	if (!err && !path_exists(out->busybox))
		err = pathf(out->busybox, sizeof(out->busybox), "%s/usr/bin/busybox", dir);
	if (!err && !path_exists(out->busybox))
		err = -ENOENT;
	return err;
}

/* apt refuses a Default-Release none of its lists comes from (riscv64
 * entered Debian after bookworm). */
static bool has_release(const struct apt *apt, const char *release)
{
	cleanup_free char *pattern = xasprintf("%s/*_dists_%s_main_binary-%s_Packages*", apt->lists,
					       release, apt->deb_arch);
	glob_t g;
	bool found;

	if (!pattern)
		return false;
	found = !glob(pattern, 0, NULL, &g) && g.gl_pathc > 0;
	globfree(&g);
	return found;
}

static int write_info(const struct arch_profile *arch, const char *entry, const char *release)
{
	cleanup_buf struct buf b = { 0 };
	cleanup_free char *path = path_join(entry, "sysroot.info");

	cleanup_buf struct buf pkgs = { 0 };
	int err = packages_value(arch, &pkgs);

	err = err ?: kv_add(&b, "packages", pkgs.data);
	/* apt's choice when no release is preferred: the newest. */
	err = err ?: kv_add(&b, "release", *release ? release : "newest");
	if (err || !path)
		return err ?: -ENOMEM;
	return write_file_atomic(path, b.data, b.len, 0644);
}

/* The packages unpacked into the entry being built; their .debs beside
 * it, in a directory its publication leaves out. */
static int unpack(const struct arch_profile *arch, struct apt *apt, struct centry *e)
{
	cleanup_free char *debs = path_join(e->tmp, ".debs");
	const char *list[ARRAY_SIZE(packages) + 1];
	int err = debs ? mkdir_p(debs, 0755) : -ENOMEM;

	package_list(arch, list);
	pr_info("fetching %s's busybox-static, libelf-dev, zlib1g-dev%s libzstd-dev%s from Debian",
		arch->deb_arch, arch->asan_clang ? "," : " and", arch->asan_clang ? " and " CLANG_RT_PACKAGE : "");
	err = err ?: apt_download_unpack(apt, list, debs, e->tmp);
	if (debs)
		rm_rf(debs);
	err = err ?: write_info(arch, e->tmp, apt->release);
	return err;
}

int sysroot_fetch(const struct arch_profile *arch, struct sysroot *out)
{
	cleanup_centry struct centry e = { .lock.fd = -1 };
	struct apt apt;
	char root[PATH_MAX], top[PATH_MAX];
	bool updated = false;
	int err, apt_err;

	err = cache_dir(root, sizeof(root));
	err = err ?: pathf(top, sizeof(top), "%s/sysroot", root);
	err = err ?: centry_init(&e, top, arch->deb_arch);
	if (err)
		return pr_err("cannot create the sysroot cache: %s", strerror(-err)), err;
	if (!info_matches(arch, e.dir) && !fill(e.dir, out))
		return centry_hold(e.dir), 0;
	err = centry_begin(&e);
	if (!err && !info_matches(arch, e.dir) && !fill(e.dir, out))
		return centry_hold(e.dir), 0;
	apt_err = apt_init(&apt, root, arch->deb_arch);
	err = err ?: apt_ensure_lists(&apt, apt_err, DAY_S, &e.lock, &updated);
	if (!err && has_release(&apt, SYSROOT_RELEASE))
		snprintf(apt.release, sizeof(apt.release), "%s", SYSROOT_RELEASE);
	else if (!err)
		pr_warn("Debian %s has no %s: the sysroot takes the newest packages, whose static "
			"libraries may need a newer libc than the cross toolchain's", SYSROOT_RELEASE,
			arch->deb_arch);
	err = err ?: unpack(arch, &apt, &e);
	err = err ?: centry_publish(&e);
	err = err ?: fill(e.dir, out);
	if (err == -ENOENT)
		pr_err("the sysroot in `%s` has no bin/busybox or usr/bin/busybox", e.dir);
	if (!err) {
		centry_hold(e.dir);
		pr_info("sysroot for %s in %s", arch->name, e.dir);
	}
	return err;
}

int sysroot_busybox(const struct arch_profile *arch, char *out, size_t size)
{
	struct sysroot s;
	int err;

	if (arch_is_native(arch) == 1) {
		snprintf(out, size, "/bin/busybox");
		return 0;
	}
	err = sysroot_fetch(arch, &s);
	if (!err)
		snprintf(out, size, "%s", s.busybox);
	return err;
}
