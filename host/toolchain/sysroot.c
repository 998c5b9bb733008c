/* Per-architecture sysroots of Debian packages (sysroot.h). An entry is
 * built in a temp dir and published with one rename, under the lock of
 * $KTA_CACHE/sysroot, so a killed fetch never leaves half a root. Its
 * sysroot.info names the packages and versions; a different package list
 * (a newer kta) makes the entry stale.
 */
#include "apt/apt.h"
#include "base/dirlock.h"
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

/* sysroot.info's first line, which names what the entry holds. */
static void packages_line(struct buf *b)
{
	buf_printf(b, "packages");
	for (size_t i = 0; packages[i]; i++)
		buf_printf(b, " %s", packages[i]);
	buf_printf(b, "\n");
}

static int info_matches(const char *dir)
{
	cleanup_free char *path = path_join(dir, "sysroot.info");
	cleanup_buf struct buf info = { 0 }, want = { 0 };

	if (!path)
		return -ENOMEM;
	if (read_file(path, &info, 4096) < 0)
		return -ENOENT;
	packages_line(&want);
	return info.data && want.data && !strncmp(info.data, want.data, want.len) ? 0 : -ESTALE;
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

static int write_info(const char *entry, const char *release)
{
	cleanup_buf struct buf b = { 0 };
	cleanup_free char *path = path_join(entry, "sysroot.info");

	packages_line(&b);
	/* apt's choice when no release is preferred: the newest. */
	buf_printf(&b, "release %s\n", *release ? release : "newest");
	if (!path || !b.data)
		return -ENOMEM;
	return write_file_atomic(path, b.data, b.len, 0644);
}

static int unpack(const struct arch_profile *arch, struct apt *apt, const char *top, const char *dest)
{
	cleanup_free char *tmp = xasprintf("%s/.tmp-%s-XXXXXX", top, arch->deb_arch);
	cleanup_free char *debs = NULL, *root = NULL;
	int err;

	if (!tmp)
		return -ENOMEM;
	if (!mkdtemp(tmp))
		return pr_err("cannot create a temp dir in `%s`: %s", top, strerror(errno)), -errno;
	debs = path_join(tmp, "debs");
	root = path_join(tmp, "root");
	err = debs && root ? 0 : -ENOMEM;
	err = err ?: mkdir_p(debs, 0755);
	err = err ?: mkdir_p(root, 0755);
	pr_info("fetching %s's busybox-static, libelf-dev, zlib1g-dev and libzstd-dev from Debian",
		arch->deb_arch);
	err = err ?: apt_download_unpack(apt, packages, debs, root);
	err = err ?: write_info(root, apt->release);
	if (!err && rename(root, dest) < 0) {
		err = -errno;
		pr_err("cannot publish `%s`: %s", dest, strerror(-err));
	}
	rm_rf(tmp);
	return err;
}

int sysroot_fetch(const struct arch_profile *arch, struct sysroot *out)
{
	struct dirlock lock = { .fd = -1 };
	struct apt apt;
	char root[PATH_MAX], top[PATH_MAX], dir[PATH_MAX];
	bool updated = false;
	int err, apt_err;

	err = cache_dir(root, sizeof(root));
	err = err ?: pathf(top, sizeof(top), "%s/sysroot", root);
	err = err ?: pathf(dir, sizeof(dir), "%s/%s", top, arch->deb_arch);
	err = err ?: mkdir_p(top, 0755);
	if (err)
		return pr_err("cannot create the sysroot cache: %s", strerror(-err)), err;
	if (!info_matches(dir) && !fill(dir, out))
		return 0;
	lock.dir = top;
	err = dirlock_take(&lock);
	if (!err && !info_matches(dir) && !fill(dir, out))
		goto out;
	if (!err)
		dirlock_clean_stale(&lock);
	apt_err = apt_init(&apt, root, arch->deb_arch);
	err = err ?: apt_ensure_lists(&apt, apt_err, DAY_S, &lock, &updated);
	if (!err && has_release(&apt, SYSROOT_RELEASE))
		snprintf(apt.release, sizeof(apt.release), "%s", SYSROOT_RELEASE);
	else if (!err)
		pr_warn("Debian %s has no %s: the sysroot takes the newest packages, whose static "
			"libraries may need a newer libc than the cross toolchain's", SYSROOT_RELEASE,
			arch->deb_arch);
	if (!err && path_exists(dir))
		err = rm_rf(dir);
	err = err ?: unpack(arch, &apt, top, dir);
	err = err ?: fill(dir, out);
	if (err == -ENOENT)
		pr_err("the sysroot in `%s` has no bin/busybox or usr/bin/busybox", dir);
	if (!err)
		pr_info("sysroot for %s in %s", arch->name, dir);
out:
	dirlock_release(&lock);
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
