/* What `kta kernel build` and `kta selftests build` do alike with a tree:
 * resolve it (a directory, or Debian's linux-source fetched into the
 * cache) and its identity, name the artifacts directory, lock a
 * workspace, and keep the workspace's src/ a hard-link snapshot of the tree
 * with the series applied, made again only when either changed.
 */
#include "kbuild/kbuild.h"
#include "kbuild/ksource.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "kbuild/patches.h"
#include "base/pathf.h"
#include "base/exit.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

int ktree_resolve(const char *tree, const char *source, const char *srcarch, struct ktree *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	if (tree && source)
		return pr_err("--tree and --source exclude each other"), -EINVAL;
	if (tree) {
		if (!realpath(tree, t->tree))
			return pr_err("`%s` is not a kernel tree: %s", tree, strerror(errno)), -EINVAL;
		snprintf(t->srcloc, sizeof(t->srcloc), "tree:%s", t->tree);
	} else {
		const char *src = source ? source : KBUILD_DEFAULT_SOURCE;
		struct ksource ks;

		if (strncmp(src, "debian:", 7))
			return pr_err("unknown --source `%s` (expected debian:VERSION, e.g. debian:7.3, debian:6.12)",
				      src), -EINVAL;
		err = ksource_fetch(src + 7, &ks);
		if (err)
			return err;
		snprintf(t->tree, sizeof(t->tree), "%s", ks.dir);
		snprintf(t->srcloc, sizeof(t->srcloc), "debian:%s", ks.package);
		snprintf(t->identity, sizeof(t->identity), "%s", ks.identity);
	}
	err = kbuild_check_tree(t->tree, srcarch, t->kversion, sizeof(t->kversion));
	if (!err && tree)
		err = kbuild_tree_identity(t->tree, t->identity, sizeof(t->identity));
	return err;
}

int kbuild_artifacts_dir(const char *given, const char *kind, const char *arch, char *out, size_t size)
{
	char stamp[32], rel[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int err;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (given)
		err = pathf(rel, sizeof(rel), "%s", given);
	else
		err = pathf(rel, sizeof(rel), "kta-out/%s-%s-%s-%d", kind, stamp, arch, (int)getpid());
	err = err ?: mkdir_p(rel, 0755);
	if (err)
		return pr_err("cannot create the artifacts directory `%s`: %s", rel, strerror(-err)), err;
	if (!realpath(rel, out) || strlen(out) >= size)
		return -errno ?: -ENAMETOOLONG;
	return 0;
}

int kbuild_lock_workspace(const char *ws)
{
	cleanup_free char *path = path_join(ws, ".lock");
	int fd;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return pr_err("cannot open `%s`: %s", path, strerror(errno)), -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		pr_info("waiting for another kta building in `%s`", ws);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR || interrupt_signal()) {
				close(fd);
				return -EINTR;
			}
	}
	/* Its last use, by which the cache is trimmed (base/cache.h). */
	utimensat(AT_FDCWD, ws, NULL, 0);
	return fd;
}

void kbuild_print_patches(const struct patch_series *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct patch *p = &s->v[i];

		pr_info("patch %zu/%zu %-16s %s", i + 1, s->n, patch_status_name(p->status), p->name);
		for (const char *l = p->detail; l && *l;) {
			const char *e = strchrnul(l, '\n');

			pr_err("  %.*s", (int)(e - l), l);
			l = *e ? e + 1 : e;
		}
		if (p->rej[0])
			pr_err("  rejected hunks: %s", p->rej);
	}
}

int kbuild_prepare_src(const char *ws, const char *src, const struct ktree *t, const char *patches_sha,
		       struct patch_series *series, const char *art)
{
	cleanup_buf struct buf old = { 0 }, changed = { 0 };
	cleanup_free char *idpath = path_join(ws, "src.id");
	cleanup_free char *id = xasprintf("%s\n%s\n", t->identity, patches_sha);
	int err;

	if (!idpath || !id)
		return -ENOMEM;
	if (!read_file(idpath, &old, 4096) && old.data && !strcmp(old.data, id) && path_exists(src))
		return 0;
	unlink(idpath);
	err = kbuild_snapshot_diverged(t->tree, src, &changed);
	if (err)
		return pr_err("cannot read the snapshot `%s`: %s", src, strerror(-err)), err;
	pr_info("snapshotting %s", t->tree);
	err = kbuild_snapshot(t->tree, src);
	if (err)
		return err;
	if (series) {
		char patch_art[PATH_MAX];
		struct patch_opts po = { 0 };

		if (pathf(patch_art, sizeof(patch_art), "%s/patches", art))
			return -ENAMETOOLONG;
		po.artifacts = patch_art;
		err = patches_apply(src, series, &po);
		if (err >= 0)
			kbuild_print_patches(series);
		if (err > 0) {
			pr_err("the patch series `%s` does not apply to %s (%s)", series->path, t->tree, t->kversion);
			return KBUILD_ECONFLICT;
		}
		if (err < 0)
			return err;
	}
	err = kbuild_snapshot_refresh(t->tree, src, &changed);
	return err ?: write_file_atomic(idpath, id, strlen(id), 0644);
}

int kbuild_load_series(const char *path, struct patch_series *s, bool *have, char sha[65])
{
	int err;

	*have = false;
	snprintf(sha, 65, "none");
	if (!path)
		return 0;
	err = patch_series_load(path, s);
	if (err)
		return err == -ENOMEM ? err : -EINVAL;
	*have = true;
	snprintf(sha, 65, "%s", s->sha256);
	return 0;
}

int kbuild_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case KBUILD_EBUILD:
	case KBUILD_ECONFLICT:
		return EXIT_BOOT_FAILED;
	case KBUILD_ECONFIG:
	case KBUILD_ENOTESTS:
		return EXIT_USAGE;
	case -ENODATA:
		return EXIT_TEST_FAILED;
	default:
		return exit_code_for(err, false);
	}
}
