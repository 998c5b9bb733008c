/* Assemble the guest root. The archive is rebuilt in memory on every run
 * (a few MB, milliseconds) and written only when its hash is new, so a run
 * with unchanged inputs touches no disk and the cache is keyed by content,
 * never by mtimes.
 */
#include "guest/initramfs.h"
#include "guest/cpio.h"
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

size_t initramfs_cache_pick(const struct initramfs_cached *e, size_t n, uint64_t cap_bytes, int64_t now,
			    bool *victim)
{
	uint64_t total = 0;
	size_t picked = 0;

	for (size_t i = 0; i < n; i++) {
		total += e[i].bytes;
		victim[i] = false;
	}
	while (total > cap_bytes) {
		size_t oldest = n;

		for (size_t i = 0; i < n; i++)
			if (!victim[i] && now - e[i].mtime >= INITRAMFS_CACHE_GRACE_S &&
			    (oldest == n || e[i].mtime < e[oldest].mtime))
				oldest = i;
		if (oldest == n)
			break;
		victim[oldest] = true;
		total -= e[oldest].bytes;
		picked++;
	}
	return picked;
}

static uint64_t cache_cap(void)
{
	const char *v = getenv("KTA_INITRAMFS_CACHE_MB");
	char *end;
	unsigned long long mb = v ? strtoull(v, &end, 10) : INITRAMFS_CACHE_MB;

	if (v && (*end || !*v))
		mb = INITRAMFS_CACHE_MB;
	return (uint64_t)mb << 20;
}

/* Trimming is best effort: a failure costs disk, not the run. */
static void cache_trim(const char *dir)
{
	struct initramfs_cached *e = NULL;
	bool *victim = NULL;
	size_t n = 0, cap = 0, freed = 0;
	uint64_t bytes = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		struct stat st;
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".cpio") || len >= sizeof(e->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (ARRAY_RESERVE(e, cap, n, 64))
			break;
		memcpy(e[n].name, de->d_name, len + 1);
		e[n].bytes = (uint64_t)st.st_size;
		e[n].mtime = st.st_mtim.tv_sec;
		n++;
	}
	victim = n ? calloc(n, sizeof(*victim)) : NULL;
	if (victim && initramfs_cache_pick(e, n, cache_cap(), time(NULL), victim)) {
		for (size_t i = 0; i < n; i++) {
			if (victim[i] && !unlinkat(dirfd(d), e[i].name, 0)) {
				freed++;
				bytes += e[i].bytes;
			}
		}
		pr_debug("initramfs cache: removed %zu least recently used archives (%.1f MB)", freed,
			 (double)bytes / 1e6);
	}
	if (d)
		closedir(d);
	free(victim);
	free(e);
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
		cache_trim(dir);
out:
	cpio_free(&c);
	return err;
}
