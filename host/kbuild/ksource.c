/* Debian's linux-source-<M.m> packages as kernel trees in the kta cache.
 * The package is a binary one (Architecture: all) holding one tarball, so
 * it comes through the same private apt configuration as Debian's kernels
 * (their package lists and lock), never the system's sources. The tarball
 * is unpacked in a .tmp-* directory that becomes the cache entry with one
 * rename: an interrupted or failed fetch leaves no half tree, and the next
 * fetch removes any .tmp-* a killed one left.
 */
#include "apt/apt.h"
#include "base/kv.h"
#include "base/arch.h"
#include "base/dirlock.h"
#include "kbuild/ksource.h"
#include "base/centry.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "base/util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define INFO_NAME ".kta-source"
#define DAY_S (24 * 3600)

int ksource_package(const char *want, char *out, size_t size)
{
	size_t i = 0, dots = 0;

	if (!want || !isdigit((unsigned char)want[0]))
		return -EINVAL;
	for (const char *p = want; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".+~-", *p))
			return -EINVAL;
	/* Major.minor: digits, one dot, digits. */
	while (want[i] && (isdigit((unsigned char)want[i]) || (want[i] == '.' && !dots++)))
		i++;
	if (!dots || want[i - 1] == '.')
		return -EINVAL;
	return pathf(out, size, "linux-source-%.*s", (int)i, want);
}

bool ksource_version_matches(const char *v, const char *want)
{
	size_t n = strlen(want);

	/* "7.3" matches "7.3.4-1~bpo13+1", not "7.30"; a full version itself. */
	return !strcmp(v, want) || (!strncmp(v, want, n) && v[n] && strchr(".-+~", v[n]));
}

static void tmpdirp(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}
#define cleanup_tmpdir __attribute__((cleanup(tmpdirp)))

static int entry_load(const char *dir, struct ksource *k)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, INFO_NAME);
	cleanup_buf struct buf b = { 0 };
	char sha[65];
	int err = path ? read_file(path, &b, 1 << 16) : -ENOMEM;

	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	if (kv_value(b.data, "package", k->package, sizeof(k->package)) ||
	    kv_value(b.data, "version", k->version, sizeof(k->version)) ||
	    kv_value(b.data, "tarball_sha256", sha, sizeof(sha)))
		return -ENOENT;
	snprintf(k->identity, sizeof(k->identity), "debian:%s=%s tarball-sha256:%s", k->package, k->version, sha);
	k->cached = true;
	return pathf(k->dir, sizeof(k->dir), "%s", dir);
}

/* The newest cached tree of package matching want. */
static int cached_best(const char *sdir, const char *package, const char *want, struct ksource *out)
{
	DIR *d = opendir(sdir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct ksource k;
		cleanup_free char *dir = NULL;

		if (strncmp(de->d_name, package, strlen(package)) || de->d_name[strlen(package)] != '-')
			continue;
		dir = path_join(sdir, de->d_name);
		if (!dir || entry_load(dir, &k) || strcmp(k.package, package) ||
		    !ksource_version_matches(k.version, want))
			continue;
		if (found && deb_version_cmp(k.version, out->version) <= 0)
			continue;
		*out = k;
		found = true;
	}
	closedir(d);
	return found ? 0 : -ENOENT;
}

/* The highest version of package matching want in `apt-cache show`
 * output, and its size. */
static int pick(const struct buf *b, const char *package, const char *want, char *version, size_t vsize,
		uint64_t *size)
{
	size_t len;
	bool found = false;

	for (const char *cur = b->data, *s; (s = deb822_next(&cur, &len));) {
		char name[128], ver[96], sz[32];

		if (!deb822_field(s, len, "Package", name, sizeof(name)) && !strcmp(name, package) &&
		    !deb822_field(s, len, "Version", ver, sizeof(ver)) && ksource_version_matches(ver, want) &&
		    (!found || deb_version_cmp(ver, version) > 0)) {
			found = true;
			snprintf(version, vsize, "%s", ver);
			*size = deb822_field(s, len, "Size", sz, sizeof(sz)) ? 0 : strtoull(sz, NULL, 10);
		}
	}
	return found ? 0 : -ENOENT;
}

static void report_available(const struct apt *apt, const char *package, const char *want,
			     const struct buf *shown)
{
	cleanup_buf struct buf names = { 0 }, list = { 0 }, vs = { 0 };

	if (!apt_pkgnames(apt, "linux-source-", &names) && names.data)
		for (char *save = NULL, *l = strtok_r(names.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			buf_printf(&list, "%s%s", list.len ? ", " : "", l + strlen("linux-source-"));
	deb822_versions(shown ? shown->data : NULL, &vs);
	if (vs.len)
		pr_err("Debian has no %s matching %s; it has:%s", package, want, vs.data);
	else
		pr_err("Debian has no %s (bookworm to sid); kernel sources it has: %s", package,
		       list.data ? list.data : "none");
}

static int run_step(char *const argv[], const char *what)
{
	cleanup_buf struct buf out = { 0 };
	int st = spawn_run(argv, &(struct spawn_opts){ 0 }, &out);

	if (interrupt_signal())
		return -EINTR;
	if (st == 0)
		return 0;
	if (out.data && strstr(out.data, "No space left on device"))
		return pr_err("%s: no space left on device", what), -ENOSPC;
	pr_err("%s failed (%s %d): %s", what, st < 0 ? "error" : "exit", st < 0 ? -st : st,
	       out.data ? out.data : "");
	return st < 0 ? st : -EIO;
}

static int unpack(const struct apt *apt, const char *sdir, const char *package, const char *version,
		  uint64_t size, struct ksource *out)
{
	cleanup_tmpdir char *tmp = xasprintf("%s/.tmp-%s-XXXXXX", sdir, package);
	cleanup_free char *dl = NULL, *x = NULL, *tarball = NULL, *src = NULL, *spec = NULL, *dst = NULL,
			  *info = NULL, *unpacked = NULL;
	char sha[65], debsha[65];
	glob_t g;
	int err;

	/* The .deb, the tarball it holds, and the tree (~11x the tarball). */
	err = check_free_space(sdir, 14 * size + (64u << 20), "the Debian kernel source");
	if (err)
		return err;
	if (!tmp || !mkdtemp(tmp)) {
		err = tmp ? -errno : -ENOMEM;
		free(steal_pointer(&tmp));
		return pr_err("cannot create a temporary directory in `%s`: %s", sdir, strerror(-err)), err;
	}
	dl = path_join(tmp, "dl");
	x = path_join(tmp, "x");
	src = path_join(tmp, "src");
	spec = xasprintf("%s=%s", package, version);
	tarball = xasprintf("%s/usr/src/%s.tar.xz", x ? x : "", package);
	unpacked = xasprintf("%s/%s", src ? src : "", package);
	dst = xasprintf("%s/%s-%s", sdir, package, version);
	if (!dl || !x || !src || !spec || !tarball || !unpacked || !dst)
		return -ENOMEM;
	if (mkdir(dl, 0755) < 0 || mkdir(src, 0755) < 0)
		return -errno;
	pr_info("downloading %s %s (%.1f MB)", package, version, (double)size / 1e6);
	err = apt_download(apt, (const char *const[]){ spec, NULL }, dl);
	if (err)
		return interrupt_signal() ? -EINTR : err;
	{
		cleanup_free char *pat = path_join(dl, "*.deb");

		if (!pat || glob(pat, 0, NULL, &g) || g.gl_pathc != 1) {
			if (pat)
				globfree(&g);
			return pr_err("apt-get download of %s left no single .deb in `%s`", spec, dl), -ENOENT;
		}
	}
	err = sha256_file(g.gl_pathv[0], debsha);
	{
		char *argv[] = { "dpkg-deb", "-x", g.gl_pathv[0], x, NULL };

		err = err ?: run_step(argv, "dpkg-deb -x");
	}
	if (!err)
		unlink(g.gl_pathv[0]);
	globfree(&g);
	if (err)
		return err;
	if (!path_exists(tarball))
		return pr_err("%s %s has no `/usr/src/%s.tar.xz`", package, version, package), -ENOENT;
	pr_info("unpacking %s.tar.xz", package);
	err = sha256_file(tarball, sha);
	{
		char *argv[] = { "tar", "-xf", tarball, "-C", src, "--no-same-owner", NULL };

		err = err ?: run_step(argv, "unpacking the kernel source tarball");
	}
	if (err)
		return err;
	if (!path_exists(unpacked))
		return pr_err("`%s.tar.xz` did not unpack to `%s/`", package, package), -ENOENT;
	info = xasprintf("# Written by kta: where this kernel tree came from.\npackage=%s\nversion=%s\n"
			 "deb_sha256=%s\ntarball_sha256=%s\narchive=%s\nfetched=%lld\n",
			 package, version, debsha, sha, apt->uri, (long long)time(NULL));
	if (!info)
		return -ENOMEM;
	{
		cleanup_free char *ipath = xasprintf("%s/%s", unpacked, INFO_NAME);

		err = ipath ? write_file_atomic(ipath, info, strlen(info), 0644) : -ENOMEM;
	}
	if (err)
		return err;
	if (interrupt_signal())
		return -EINTR;
	/* The one step that publishes the tree. */
	err = centry_replace(sdir, unpacked, dst);
	if (err)
		return err;
	err = entry_load(dst, out);
	if (!err)
		out->cached = false;
	return err;
}

/* Under the sources lock: look the package up and unpack it, unless
 * another kta did while we waited. */
static int fetch_locked(struct dirlock *lock, const char *root, const char *sdir, const char *package,
			const char *want, struct ksource *out)
{
	const struct arch_profile *host = arch_default();
	cleanup_buf struct buf shown = { 0 };
	char version[96];
	struct apt apt;
	uint64_t size = 0;
	bool updated = false;
	int err, apt_err;

	if (!cached_best(sdir, package, want, out))
		return 0;
	dirlock_clean_stale(lock);
	apt_err = apt_init(&apt, root, host->deb_arch);
	err = apt_ensure_lists(&apt, apt_err, DAY_S, lock, &updated);
	if (err)
		return err;
	err = apt_show(&apt, (const char *const[]){ package, NULL }, &shown);
	if (err && err != -ENOENT)
		return pr_err("cannot look up %s: %s", package, strerror(-err)), err;
	if (err || pick(&shown, package, want, version, sizeof(version), &size)) {
		report_available(&apt, package, want, err ? NULL : &shown);
		return -ENOPKG;
	}
	err = unpack(&apt, sdir, package, version, size, out);
	if (err == -EINTR || interrupt_signal())
		return pr_err("interrupted; the partial kernel source was removed"), -EINTR;
	return err;
}

int ksource_fetch(const char *want, struct ksource *out)
{
	struct dirlock lock = { .fd = -1, .stopped = interrupt_signal };
	char root[PATH_MAX], sdir[PATH_MAX], package[64];
	uint64_t t0 = monotonic_ms();
	int err;

	if (ksource_package(want, package, sizeof(package)))
		return pr_err("invalid kernel source version `%s` (expected e.g. debian:7.3, debian:7.3.4, "
			      "debian:6.12)", want), -EINVAL;
	err = cache_dir(root, sizeof(root));
	err = err ?: pathf(sdir, sizeof(sdir), "%s/sources", root);
	err = err ?: mkdir_p(sdir, 0755);
	if (err)
		return pr_err("cannot create the kta cache's sources directory: %s", strerror(-err)), err;
	if (!cached_best(sdir, package, want, out)) {
		pr_info("using cached %s %s from %s", out->package, out->version, out->dir);
		centry_hold(out->dir);
		return 0;
	}
	lock.dir = sdir;
	err = dirlock_take(&lock);
	if (err)
		return interrupt_signal() ? -EINTR : err;
	err = fetch_locked(&lock, root, sdir, package, want, out);
	dirlock_release(&lock);
	if (!err) {
		/* Builds snapshot it: a refresh by another kta leaves it. */
		centry_hold(out->dir);
		pr_info("fetched %s %s in %.1f s into %s", out->package, out->version,
			(double)(monotonic_ms() - t0) / 1000, out->dir);
	}
	return err;
}
