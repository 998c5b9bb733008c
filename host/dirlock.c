/* Cache directory locks (dirlock.h). */
#include "dirlock.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
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

int dirlock_try(struct dirlock *l)
{
	int err;

	if (l->fd >= 0)
		return 0;
	err = open_lock(l);
	if (err)
		return err;
	if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		err = -errno;
		closep(&l->fd);
		return err;
	}
	return 0;
}

int dirlock_take(struct dirlock *l)
{
	int err;

	if (l->fd >= 0)
		return 0;
	err = open_lock(l);
	if (err)
		return err;
	if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		pr_info("waiting for another kta fetching into `%s`", l->dir);
		while (flock(l->fd, LOCK_EX) < 0) {
			if (errno != EINTR || (l->stop && *l->stop)) {
				err = -errno;
				closep(&l->fd);
				return err;
			}
		}
	}
	return 0;
}

void dirlock_release(struct dirlock *l)
{
	closep(&l->fd);
}
