/* Cache entries (centry.h). */
#include "base/centry.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int centry_init(struct centry *e, const char *top, const char *name)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->lock = (struct dirlock){ .fd = -1, .dir = e->top, .stopped = interrupt_signal };
	if (!*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	err = pathf(e->top, sizeof(e->top), "%s", top);
	err = err ?: pathf(e->dir, sizeof(e->dir), "%s/%s", top, name);
	err = err ?: mkdir_p(top, 0755);
	return err;
}

int centry_begin(struct centry *e)
{
	const char *name = e->dir + strlen(e->top) + 1;
	int err = dirlock_take(&e->lock);

	if (err)
		return interrupt_signal() ? -EINTR : err;
	dirlock_clean_stale(&e->lock);
	err = pathf(e->tmp, sizeof(e->tmp), "%s/.tmp-%.64s-XXXXXX", e->top, name);
	if (!err && !mkdtemp(e->tmp))
		err = -errno;
	if (err) {
		e->tmp[0] = '\0';
		return pr_err("cannot create a directory in `%s`: %s", e->top, strerror(-err)), err;
	}
	/* mkdtemp's 0700 would hide the entry from other users of the cache. */
	chmod(e->tmp, 0755);
	return 0;
}

/* A name beside the entries for one being removed: never an entry's, never
 * a writer's (.tmp-, which clean_stale removes under the lock). */
static int aside_name(const char *top, const char *name, char *out, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return pathf(out, size, "%s/.old-%.64s-%d-%lld%09ld", top, name, (int)getpid(), (long long)ts.tv_sec,
		     ts.tv_nsec);
}

int centry_replace(const char *top, const char *built, const char *dest)
{
	const char *name = strrchr(dest, '/');
	char old[PATH_MAX];
	bool had = false;
	int err;

	name = name ? name + 1 : dest;
	if (path_exists(dest)) {
		err = aside_name(top, name, old, sizeof(old));
		if (err || rename(dest, old) < 0)
			return pr_err("cannot replace `%s`: %s", dest, strerror(err ? -err : errno)), err ?: -errno;
		had = true;
	}
	if (rename(built, dest) < 0) {
		err = -errno;
		if (had)
			rename(old, dest);
		return pr_err("cannot publish `%s`: %s", dest, strerror(-err)), err;
	}
	/* In use: a run holds it (centry_hold); pruning removes it later. */
	if (had && !centry_in_use(old))
		rm_rf(old);
	return 0;
}

int centry_publish(struct centry *e)
{
	int err;

	if (!e->tmp[0])
		return -EINVAL;
	err = centry_replace(e->top, e->tmp, e->dir);
	if (!err)
		e->tmp[0] = '\0';
	return err;
}

void centry_end(struct centry *e)
{
	if (e->tmp[0]) {
		rm_rf(e->tmp);
		e->tmp[0] = '\0';
	}
	dirlock_release(&e->lock);
}

/* Held until kta exits: the kernel, initramfs and roots a run uses stay
 * until QEMU and the children are done with them, whatever path they took
 * to get there. Each directory once. */
static struct {
	dev_t dev;
	ino_t ino;
} held[64];
static unsigned int nheld;

int centry_hold(const char *dir)
{
	struct stat st, now;
	int fd;

	fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	for (unsigned int i = 0; i < nheld; i++) {
		if (held[i].dev == st.st_dev && held[i].ino == st.st_ino) {
			close(fd);
			utimensat(AT_FDCWD, dir, NULL, 0);
			return 0;
		}
	}
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR || interrupt_signal()) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	/* Pruned while we waited for the lock: gone. */
	if (stat(dir, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		close(fd);
		return -ENOENT;
	}
	utimensat(AT_FDCWD, dir, NULL, 0);
	if (nheld < sizeof(held) / sizeof(held[0])) {
		held[nheld].dev = st.st_dev;
		held[nheld++].ino = st.st_ino;
		return 0; /* fd stays open on purpose */
	}
	/* More than 64 entries in one process: not held, but used. */
	close(fd);
	return 0;
}

/* An exclusive lock on path (or <path>/.lock) if nobody holds one: the fd,
 * -1 when busy, -2 when there is nothing to lock. */
static int lock_excl(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -2;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Both locks of an entry: on it, and a builder's on <dir>/.lock. */
static bool take_entry(const char *dir, int fds[2])
{
	cleanup_free char *lk = path_join(dir, ".lock");

	fds[0] = lock_excl(dir);
	fds[1] = -2;
	if (fds[0] == -1)
		return false;
	if (lk && path_exists(lk)) {
		fds[1] = lock_excl(lk);
		if (fds[1] == -1) {
			if (fds[0] >= 0)
				close(fds[0]);
			return false;
		}
	}
	return true;
}

static void drop_entry(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

bool centry_in_use(const char *dir)
{
	int fds[2];

	if (!take_entry(dir, fds))
		return true;
	drop_entry(fds);
	return false;
}

size_t centry_pick_lru(const struct centry_info *e, size_t n, uint64_t cap_bytes, int64_t now, bool *victim)
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
			if (!victim[i] && now - e[i].mtime >= CENTRY_GRACE_S &&
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

static uint64_t du_total;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	/* A hard link kept elsewhere too (a workspace's snapshot of a tree)
	 * frees nothing when this copy goes. */
	if (S_ISDIR(st->st_mode) || st->st_nlink == 1)
		du_total += (uint64_t)st->st_blocks * 512;
	return 0;
}

uint64_t centry_du(const char *path)
{
	du_total = 0;
	nftw(path, du_one, 32, FTW_PHYS | FTW_MOUNT);
	return du_total;
}

/* Under both locks: out of sight by one rename, then removed. */
static int remove_entry(const char *top, const char *name, bool *busy)
{
	cleanup_free char *dir = path_join(top, name);
	char aside[PATH_MAX];
	int fds[2], err = 0;

	*busy = false;
	if (!dir)
		return -ENOMEM;
	if (!take_entry(dir, fds)) {
		*busy = true;
		return 0;
	}
	if (!strncmp(name, ".old-", 5))
		err = rm_rf(dir);
	else if (!(err = aside_name(top, name, aside, sizeof(aside))))
		err = rename(dir, aside) < 0 ? -errno : rm_rf(aside);
	drop_entry(fds);
	return err;
}

int centry_remove(const char *dir)
{
	cleanup_free char *copy = strdup(dir);
	char *slash = copy ? strrchr(copy, '/') : NULL;
	bool busy;
	int err;

	if (!slash)
		return copy ? -EINVAL : -ENOMEM;
	*slash = '\0';
	err = remove_entry(copy, slash + 1, &busy);
	return err ?: busy ? -EBUSY : 0;
}

int centry_prune(const char *top, uint64_t cap_bytes, bool dry_run, struct centry_prune_stats *st)
{
	struct centry_info *e = NULL;
	bool *victim = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(top);
	struct dirent *de;
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		cleanup_free char *p = NULL;
		struct stat sb;
		bool busy;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (de->d_name[0] == '.' && strncmp(de->d_name, ".old-", 5)))
			continue;
		p = path_join(top, de->d_name);
		if (!p || lstat(p, &sb) < 0 || S_ISLNK(sb.st_mode))
			continue;
		if (!strncmp(de->d_name, ".old-", 5)) {
			if (!dry_run && !remove_entry(top, de->d_name, &busy) && !busy)
				st->removed++;
			continue;
		}
		if (ARRAY_RESERVE(e, cap, n + 1, 64)) {
			err = -ENOMEM;
			break;
		}
		snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
		e[n].bytes = S_ISDIR(sb.st_mode) ? centry_du(p) : (uint64_t)sb.st_blocks * 512;
		e[n].mtime = sb.st_mtime;
		st->bytes += e[n].bytes;
		n++;
	}
	closedir(d);
	st->entries = (unsigned int)n;
	victim = err ? NULL : calloc(n ? n : 1, sizeof(*victim));
	if (!err && !victim)
		err = -ENOMEM;
	if (!err && centry_pick_lru(e, n, cap_bytes, time(NULL), victim)) {
		for (size_t i = 0; i < n; i++) {
			bool busy = false;

			if (!victim[i])
				continue;
			if (dry_run) {
				cleanup_free char *p = path_join(top, e[i].name);

				busy = p && centry_in_use(p);
			} else if (remove_entry(top, e[i].name, &busy)) {
				continue;
			}
			if (busy) {
				st->busy++;
				continue;
			}
			st->removed++;
			st->freed += e[i].bytes;
		}
	}
	free(victim);
	free(e);
	return err;
}
