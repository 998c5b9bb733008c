/* Cache directory locks (dirlock.h). */
#include "base/dirlock.h"
#include "base/log.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>

static int open_lock(struct dirlock *l)
{
	cleanup_free char *path = path_join(l->dir, ".lock");

	if (!path)
		return -ENOMEM;
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		int err = -errno;

		pr_err("cannot open `%s`: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

static int lock(struct dirlock *l, bool wait)
{
	int err;

	if (l->fd >= 0)
		return 0;
	err = open_lock(l);
	if (err)
		return err;
	if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		err = -errno;
		if (wait) {
			pr_info("waiting for another kta fetching into `%s`", l->dir);
			while ((err = flock(l->fd, LOCK_EX) < 0 ? -errno : 0) == -EINTR && !(l->stopped && l->stopped()))
				;
		}
		if (err)
			closep(&l->fd);
	}
	return err;
}

int dirlock_try(struct dirlock *l)
{
	return lock(l, false);
}

int dirlock_take(struct dirlock *l)
{
	return lock(l, true);
}

void dirlock_clean_stale(const struct dirlock *l)
{
	DIR *d = opendir(l->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		cleanup_free char *p = NULL;

		if (strncmp(de->d_name, ".tmp-", 5))
			continue;
		p = path_join(l->dir, de->d_name);
		if (p) {
			pr_debug("removing `%s` left by an interrupted fetch", p);
			rm_rf(p);
		}
	}
	closedir(d);
}

void dirlock_try_clean_stale(struct dirlock *l)
{
	bool held = l->fd >= 0;

	if (!dirlock_try(l)) {
		dirlock_clean_stale(l);
		if (!held)
			dirlock_release(l);
	}
}

void dirlock_release(struct dirlock *l)
{
	closep(&l->fd);
}
