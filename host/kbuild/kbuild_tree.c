/* Kernel trees for `kta kernel build`: is this directory a kernel tree,
 * what is its identity (for the cache key), and a snapshot of it made of
 * hard links, where patches are applied and from which kbuild reads, so
 * that the user's tree is never written to. `git apply` replaces the files
 * it patches (new inode), so the links of patched files break and the
 * originals stay as they were.
 */
#include "kbuild/kbuild.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/sha256.h"
#include "base/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

void kbuild_key(const struct kbuild_key_in *in, char hex[65])
{
	const char *parts[][2] = {
		{ "format", "kta-kbuild-1" },  { "tree", in->tree },
		{ "patches", in->patches },    { "config", in->config },
		{ "toolchain", in->toolchain }, { "arch", in->arch },
	};
	struct sha256 h;

	sha256_init(&h);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		const char *v = parts[i][1] ? parts[i][1] : "";

		/* name=value\0: no value can run into the next one. */
		sha256_update(&h, parts[i][0], strlen(parts[i][0]));
		sha256_update(&h, "=", 1);
		sha256_update(&h, v, strlen(v));
		sha256_update(&h, "", 1);
	}
	sha256_hex(&h, hex);
}

static int git_in(const char *dir, char *const argv[], struct buf *out)
{
	cleanup_free char *parent = strdup(dir), *ceiling = NULL;
	const char *env[3];

	if (!parent)
		return -ENOMEM;
	if (strrchr(parent, '/') && strrchr(parent, '/') != parent)
		*strrchr(parent, '/') = '\0';
	ceiling = xasprintf("GIT_CEILING_DIRECTORIES=%s", parent);
	if (!ceiling)
		return -ENOMEM;
	env[0] = ceiling;
	env[1] = "GIT_OPTIONAL_LOCKS=0";
	env[2] = NULL;
	return spawn_run(argv, &(struct spawn_opts){ .cwd = dir, .env = env }, out);
}

/* "git:<commit> dirty:<sha256 of the diff against HEAD and the untracked
 * files' names and contents>|clean". */
static int git_identity(const char *dir, char *out, size_t size)
{
	char *head[] = { "git", "rev-parse", "--verify", "HEAD", NULL };
	char *diff[] = { "git", "diff", "HEAD", "--binary", "--no-ext-diff", NULL };
	char *others[] = { "git", "ls-files", "-z", "--others", "--exclude-standard", NULL };
	cleanup_buf struct buf h = { 0 }, d = { 0 }, u = { 0 };
	struct sha256 s;
	char hex[65];
	int st;

	st = git_in(dir, head, &h);
	if (st || !h.data)
		return -ENOENT;
	h.data[strcspn(h.data, "\n")] = '\0';
	if (git_in(dir, diff, &d) || git_in(dir, others, &u))
		return pr_err("cannot read the state of the git tree `%s`", dir), -EIO;
	if (!d.len && !u.len)
		return pathf(out, size, "git:%s clean", h.data);
	sha256_init(&s);
	sha256_update(&s, d.data ? d.data : "", d.len);
	for (const char *f = u.data; f && f < u.data + u.len; f += strlen(f) + 1) {
		cleanup_buf struct buf c = { 0 };
		cleanup_free char *p = xasprintf("%s/%s", dir, f);

		sha256_update(&s, f, strlen(f) + 1);
		if (p && !read_file(p, &c, 0))
			sha256_update(&s, c.data ? c.data : "", c.len);
	}
	sha256_hex(&s, hex);
	return pathf(out, size, "git:%s dirty:%s", h.data, hex);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry under dir (sorted per directory, .git skipped at the top):
 * its relative path, type, size and mtime. */
static int stat_walk(const char *root, const char *rel, struct sha256 *h, size_t *nfiles)
{
	cleanup_free char *path = *rel ? xasprintf("%s/%s", root, rel) : strdup(root);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!path)
		return -ENOMEM;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || (!*rel && !strcmp(de->d_name, ".git")))
			continue;
		err = ARRAY_RESERVE(names, cap, n, 64);
		if (err)
			break;
		if (!(names[n++] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; !err && i < n; i++) {
		cleanup_free char *r = *rel ? xasprintf("%s/%s", rel, names[i]) : strdup(names[i]);
		cleanup_free char *p = r ? xasprintf("%s/%s", root, r) : NULL;
		struct stat st;
		char rec[96];

		if (!p) {
			err = -ENOMEM;
			break;
		}
		if (lstat(p, &st) < 0) {
			err = -errno;
			break;
		}
		snprintf(rec, sizeof(rec), "\t%o\t%lld\t%lld.%09ld\n", st.st_mode, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		sha256_update(h, r, strlen(r));
		sha256_update(h, rec, strlen(rec));
		(*nfiles)++;
		if (S_ISDIR(st.st_mode))
			err = stat_walk(root, r, h, nfiles);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int kbuild_tree_identity(const char *dir, char *out, size_t size)
{
	cleanup_free char *dotgit = xasprintf("%s/.git", dir);
	struct sha256 h;
	char hex[65];
	size_t nfiles = 0;
	uint64_t t0 = monotonic_ms();
	int err;

	if (!dotgit)
		return -ENOMEM;
	if (path_exists(dotgit) && !git_identity(dir, out, size))
		return 0;
	sha256_init(&h);
	err = stat_walk(dir, "", &h, &nfiles);
	if (err)
		return pr_err("cannot read the tree `%s`: %s", dir, strerror(-err)), err;
	sha256_hex(&h, hex);
	pr_debug("tree identity of %s: %zu entries in %llu ms", dir, nfiles,
		 (unsigned long long)(monotonic_ms() - t0));
	return pathf(out, size, "files:%s", hex);
}

/* Hard-link copy of src into dst (which must not exist); a copy when the
 * two are on different file systems. */
static int link_tree(const char *src, const char *dst, bool top)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	if (mkdir(dst, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		closedir(d);
		return err;
	}
	while (!err && (de = readdir(d))) {
		cleanup_free char *s = NULL, *t = NULL;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || (top && !strcmp(de->d_name, ".git")))
			continue;
		if (interrupt_signal()) {
			err = -EINTR;
			break;
		}
		s = path_join(src, de->d_name);
		t = path_join(dst, de->d_name);
		if (!s || !t) {
			err = -ENOMEM;
			break;
		}
		if (lstat(s, &st) < 0) {
			err = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			err = link_tree(s, t, false);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(s, target, sizeof(target) - 1);

			if (n < 0)
				err = -errno;
			else if (target[n] = '\0', symlink(target, t) < 0)
				err = -errno;
		} else if (S_ISREG(st.st_mode)) {
			if (link(s, t) < 0) {
				err = errno == EXDEV || errno == EPERM || errno == EMLINK ? copy_file(s, t, st.st_mode & 07777)
											  : -errno;
			}
		}
	}
	closedir(d);
	return err;
}

int kbuild_snapshot(const char *src, const char *dst)
{
	uint64_t t0 = monotonic_ms();
	int err;

	rm_rf(dst);
	err = link_tree(src, dst, true);
	if (err) {
		if (err != -EINTR)
			pr_err("cannot copy the tree `%s` to `%s`: %s", src, dst, strerror(-err));
		rm_rf(dst);
		return err;
	}
	pr_debug("snapshot of %s in %llu ms", src, (unsigned long long)(monotonic_ms() - t0));
	return 0;
}

/* Paths (relative, NUL-separated) of dst's regular files that are not
 * src's own file (another inode): what a series changed or added. */
static int diverged(const char *src, const char *dst, const char *rel, struct buf *out)
{
	cleanup_free char *d = *rel ? xasprintf("%s/%s", dst, rel) : strdup(dst);
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (!d)
		return -ENOMEM;
	dir = opendir(d);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(dir))) {
		cleanup_free char *r = NULL, *dp = NULL, *sp = NULL;
		struct stat ds, ss;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = *rel ? xasprintf("%s/%s", rel, de->d_name) : strdup(de->d_name);
		dp = r ? xasprintf("%s/%s", dst, r) : NULL;
		sp = r ? xasprintf("%s/%s", src, r) : NULL;
		if (!sp) {
			err = -ENOMEM;
			break;
		}
		if (lstat(dp, &ds) < 0)
			continue;
		if (S_ISDIR(ds.st_mode))
			err = diverged(src, dst, r, out);
		else if (S_ISREG(ds.st_mode) && (lstat(sp, &ss) < 0 || ss.st_ino != ds.st_ino || ss.st_dev != ds.st_dev))
			err = buf_append(out, r, strlen(r) + 1);
	}
	closedir(dir);
	return err;
}

int kbuild_snapshot_diverged(const char *src, const char *dst, struct buf *out)
{
	return path_exists(dst) ? diverged(src, dst, "", out) : 0;
}

int kbuild_snapshot_refresh(const char *src, const char *dst, const struct buf *paths)
{
	size_t n = 0;

	for (const char *r = paths->data; r && r < paths->data + paths->len; r += strlen(r) + 1) {
		cleanup_free char *dp = xasprintf("%s/%s", dst, r), *sp = xasprintf("%s/%s", src, r);
		cleanup_free char *tmp = dp ? xasprintf("%s.kta-fresh", dp) : NULL;
		struct stat ds, ss;

		if (!tmp || !sp)
			return -ENOMEM;
		/* Only a file that is the tree's own again (its old mtime
		 * would look older than the objects built from the patched
		 * one); a file patched now has a new mtime already. */
		if (lstat(dp, &ds) < 0 || lstat(sp, &ss) < 0 || ss.st_ino != ds.st_ino || !S_ISREG(ds.st_mode))
			continue;
		if (copy_file(dp, tmp, ds.st_mode & 07777) || rename(tmp, dp) < 0) {
			unlink(tmp);
			return pr_err("cannot refresh `%s` in the snapshot", dp), -EIO;
		}
		n++;
	}
	if (n)
		pr_info("%zu file%s the previous series had changed %s back to the tree's: copied with a new "
			"mtime so that make rebuilds what was built from the patched version",
			n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
	return 0;
}

/* "NAME = value" on the line [l, e): value, trimmed, into out. */
static void makefile_var(const char *l, const char *e, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	if (strncmp(l, name, n) || (l[n] != ' ' && l[n] != '='))
		return;
	for (l += n; l < e && (*l == ' ' || *l == '\t'); l++)
		;
	if (l == e || *l != '=')
		return;
	for (l++; l < e && (*l == ' ' || *l == '\t'); l++)
		;
	while (e > l && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	snprintf(out, size, "%.*s", (int)(e - l), l);
}

/* A kernel tree: a Makefile with VERSION/PATCHLEVEL, Kconfig,
 * merge_config.sh and arch/<srcarch>; clean enough for O= builds. */
int kbuild_check_tree(const char *dir, const char *srcarch, char *version, size_t vsize)
{
	static const char *const need[] = { "Makefile", "Kconfig", "scripts/kconfig/merge_config.sh" };
	cleanup_buf struct buf mk = { 0 };
	char v[16] = "", p[16] = "", s[16] = "", ev[64] = "";
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return pr_err("`%s` is not a kernel tree: %s", dir, errno ? strerror(errno) : "not a directory"),
		       -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		cleanup_free char *f = path_join(dir, need[i]);

		if (!f)
			return -ENOMEM;
		if (!path_exists(f))
			return pr_err("`%s` is not a kernel tree: it has no `%s`", dir, need[i]), -EINVAL;
	}
	{
		cleanup_free char *f = path_join(dir, "Makefile");

		if (!f || read_file(f, &mk, 1 << 20))
			return -EIO;
	}
	for (const char *l = mk.data; l && *l;) {
		const char *e = strchrnul(l, '\n');

		makefile_var(l, e, "VERSION", v, sizeof(v));
		makefile_var(l, e, "PATCHLEVEL", p, sizeof(p));
		makefile_var(l, e, "SUBLEVEL", s, sizeof(s));
		makefile_var(l, e, "EXTRAVERSION", ev, sizeof(ev));
		l = *e ? e + 1 : e;
	}
	if (!v[0] || !p[0])
		return pr_err("`%s` is not a kernel tree: its Makefile sets no VERSION/PATCHLEVEL", dir), -EINVAL;
	snprintf(version, vsize, "%s.%s%s%s%s", v, p, s[0] ? "." : "", s, ev);
	{
		cleanup_free char *a = xasprintf("%s/arch/%s", dir, srcarch);

		if (!a || !path_exists(a))
			return pr_err("kernel tree `%s` has no arch/%s", dir, srcarch), -EINVAL;
	}
	{
		cleanup_free char *c = path_join(dir, ".config"), *ac = path_join(dir, "include/config/auto.conf");

		if (c && ac && (path_exists(c) || path_exists(ac)))
			return pr_err("kernel tree `%s` has an in-tree configuration (.config or include/config/): "
				      "kbuild's out-of-tree builds (O=) need a clean source tree; run `make mrproper` "
				      "there (it deletes that build) or use a clean copy", dir), -EINVAL;
	}
	return 0;
}
