/* Assemble the guest root. The archive is rebuilt in memory on every run
 * (a few MB, milliseconds) and written only when its hash is new, so a run
 * with unchanged inputs touches no disk and the cache is keyed by content,
 * never by mtimes.
 */
#include "guest/initramfs.h"
#include "guest/cpio.h"
#include "base/cache.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void initramfs_free(struct initramfs *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->e[i].dest);
		free(fs->e[i].src);
		free(fs->e[i].data);
	}
	free(fs->e);
	memset(fs, 0, sizeof(*fs));
}

static int add(struct initramfs *fs, const char *dest, const char *src, const void *data,
	       size_t len, mode_t mode)
{
	struct initramfs_entry *e;

	if (dest[0] != '/')
		return -EINVAL;
	for (size_t i = 0; i < fs->n; i++) {
		if (!strcmp(fs->e[i].dest, dest)) {
			pr_err("initramfs: `%s` added twice", dest);
			return -EEXIST;
		}
	}
	if (ARRAY_RESERVE(fs->e, fs->cap, fs->n, 64))
		return -ENOMEM;
	e = &fs->e[fs->n];
	memset(e, 0, sizeof(*e));
	e->dest = strdup(dest);
	e->src = src ? strdup(src) : NULL;
	if (data) {
		e->data = malloc(len + 1);
		if (e->data) {
			memcpy(e->data, data, len);
			e->data[len] = '\0';
		}
	}
	e->len = len;
	e->mode = mode;
	if (!e->dest || (src && !e->src) || (data && !e->data)) {
		free(e->dest);
		free(e->src);
		free(e->data);
		return -ENOMEM;
	}
	fs->n++;
	return 0;
}

int initramfs_add_file(struct initramfs *fs, const char *dest, const char *src, mode_t perm)
{
	return add(fs, dest, src, NULL, 0, S_IFREG | (perm & 07777));
}

int initramfs_add_data(struct initramfs *fs, const char *dest, const void *data,
		       size_t len, mode_t perm)
{
	return add(fs, dest, NULL, data ? data : "", len, S_IFREG | (perm & 07777));
}

int initramfs_add_symlink(struct initramfs *fs, const char *dest, const char *target)
{
	return add(fs, dest, NULL, target, strlen(target), S_IFLNK | 0777);
}

static int has_dest(struct initramfs *fs, const char *dest)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->e[i].dest, dest))
			return 1;
	return 0;
}

static int add_parents(struct initramfs *fs)
{
	size_t n = fs->n;

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s", fs->e[i].dest);
		for (char *s = strrchr(path, '/'); s && s != path; s = strrchr(path, '/')) {
			int err;

			*s = '\0';
			if (has_dest(fs, path))
				continue;
			err = add(fs, path, NULL, NULL, 0, S_IFDIR | 0755);
			if (err)
				return err;
		}
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct initramfs_entry *x = a, *y = b;

	return strcmp(x->dest, y->dest);
}

int initramfs_write_cpio(struct initramfs *fs, struct cpio *c)
{
	int err = add_parents(fs);

	if (err)
		return err;
	/* Sorted order puts every directory before what it contains. */
	qsort(fs->e, fs->n, sizeof(*fs->e), cmp_entry);
	for (size_t i = 0; i < fs->n && !err; i++) {
		struct initramfs_entry *e = &fs->e[i];

		if (S_ISDIR(e->mode)) {
			err = cpio_add_dir(c, e->dest, e->mode);
		} else if (S_ISLNK(e->mode)) {
			err = cpio_add_symlink(c, e->dest, e->data);
		} else if (e->src) {
			cleanup_buf struct buf b = { 0 };

			err = read_file(e->src, &b, 0);
			if (err) {
				pr_err("cannot read `%s` for the initramfs: %s", e->src,
				       strerror(-err));
				return err;
			}
			err = cpio_add_file(c, e->dest, e->mode, b.data, b.len);
		} else {
			err = cpio_add_file(c, e->dest, e->mode, e->data, e->len);
		}
	}
	return err ?: cpio_finish(c);
}

int initramfs_build(struct initramfs *fs, const char *cache, char *out, size_t outsz,
		    char hash[65])
{
	cleanup_free char *dir = path_join(cache, "initramfs");
	struct cpio c;
	struct sha256 s;
	int err;

	if (!dir)
		return -ENOMEM;
	cpio_init(&c);
	err = initramfs_write_cpio(fs, &c);
	if (err)
		goto out;
	sha256_init(&s);
	sha256_update(&s, c.out.data, c.out.len);
	sha256_hex(&s, hash);
	err = mkdir_p(dir, 0755);
	if (err)
		goto out;
	if ((size_t)snprintf(out, outsz, "%s/%s.cpio", dir, hash) >= outsz) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (path_exists(out)) {
		pr_debug("initramfs cache hit: %s", out);
		/* Used now: the last to be trimmed. */
		if (utimensat(AT_FDCWD, out, NULL, 0))
			pr_debug("cannot touch %s: %s", out, strerror(errno));
		goto out;
	}
	err = check_free_space(dir, c.out.len + (1 << 20), "the initramfs");
	if (!err)
		err = write_file_atomic(out, c.out.data, c.out.len, 0644);
	if (err)
		pr_err("cannot write initramfs `%s`: %s", out, strerror(-err));
	else
		pr_debug("initramfs written: %s (%zu bytes)", out, c.out.len);
	if (!err)
		cache_trim("initramfs");
out:
	cpio_free(&c);
	return err;
}
