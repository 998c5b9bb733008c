/* Cache entries (base/centry.c) and key=value info files in them: made,
 * published, replaced, held, pruned, on a real directory. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/centry.h"
#include "base/util.h"
#include "unit.h"

static char top[PATH_MAX];

static void age(const char *path, int64_t seconds)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

static int make_entry(const char *name, const char *content)
{
	struct centry e = { .lock.fd = -1 };
	cleanup_free char *f = NULL;
	int err = centry_init(&e, top, name);

	err = err ?: centry_begin(&e);
	f = path_join(e.tmp, "data");
	err = err ?: write_file_atomic(f, content, strlen(content), 0644);
	err = err ?: centry_publish(&e);
	centry_end(&e);
	return err;
}

static bool has(const char *name, const char *content)
{
	cleanup_free char *f = xasprintf("%s/%s/data", top, name);
	cleanup_buf struct buf b = { 0 };

	return f && !read_file(f, &b, 1024) && b.data && !strcmp(b.data, content);
}

static unsigned int count_dot(const char *prefix)
{
	cleanup_free char *cmd = xasprintf("ls -a %s | grep -c '^%s' > %s/.count", top, prefix, top);
	cleanup_free char *p = path_join(top, ".count");
	cleanup_buf struct buf b = { 0 };

	if (!cmd || system(cmd) < 0 || read_file(p, &b, 64))
		return 999;
	unlink(p);
	return (unsigned int)atoi(b.data);
}

int main(void)
{
	struct centry_prune_stats st;
	struct centry e = { .lock.fd = -1 };
	cleanup_free char *a = NULL, *b = NULL, *c = NULL, *lk = NULL;
	int fd, status;
	pid_t pid;

	snprintf(top, sizeof(top), "/tmp/kta-test-centry.XXXXXX");
	if (!CHECK(mkdtemp(top) != NULL, "a scratch cache"))
		return unit_done();
	a = path_join(top, "a");
	b = path_join(top, "b");
	c = path_join(top, "c");

	CHECK_EQ_INT(centry_init(&e, top, "../x"), -EINVAL, "a name cannot leave the cache");
	CHECK_EQ_INT(make_entry("a", "one"), 0, "an entry is built and published");
	CHECK(has("a", "one"), "with its content");
	CHECK_EQ_INT(count_dot(".tmp-"), 0, "and no temp dir left");

	/* A writer killed half-way leaves its temp dir; the next one cleans. */
	pid = fork();
	if (pid == 0) {
		struct centry k = { .lock.fd = -1 };

		if (centry_init(&k, top, "k") || centry_begin(&k))
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && count_dot(".tmp-") == 1, "a killed writer leaves its temp dir");
	CHECK_EQ_INT(make_entry("b", "two"), 0, "the next writer goes on");
	CHECK_EQ_INT(count_dot(".tmp-"), 0, "and removes the killed one's");

	CHECK_EQ_INT(make_entry("a", "one, again"), 0, "an entry is replaced");
	CHECK(has("a", "one, again"), "readers see the new one");
	CHECK_EQ_INT(count_dot(".old-"), 0, "the old one, unused, is gone");

	/* Held by another process (a run using it): replacing keeps it
	 * aside; pruning skips the one held and removes the rest. */
	pid = fork();
	if (pid == 0) {
		if (centry_hold(a))
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(200 * 1000);
	CHECK(centry_in_use(a), "an entry held by a run is in use");
	CHECK(!centry_in_use(b), "the others are not");
	CHECK_EQ_INT(make_entry("a", "three"), 0, "replacing a held entry works");
	CHECK_EQ_INT(count_dot(".old-"), 1, "and keeps the held one aside");
	CHECK_EQ_INT(make_entry("c", "four"), 0, "a third entry");
	age(a, 3600);
	age(b, 7200);
	age(c, 60);
	/* A builder's lock (kbuild workspaces). */
	lk = path_join(b, ".lock");
	fd = lk ? open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
	pid_t builder = fork();

	if (builder == 0) {
		int f = open(lk, O_RDWR | O_CLOEXEC);

		if (f < 0 || flock(f, LOCK_EX))
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(200 * 1000);
	age(b, 7200);
	CHECK(centry_in_use(b), "an entry with a builder's lock is in use");
	CHECK_EQ_INT(centry_prune(top, 0, true, &st), 0, "a dry run");
	CHECK_EQ_INT(st.entries, 3, "counts three entries");
	CHECK(has("a", "three") && has("b", "two"), "and removes nothing");
	CHECK_EQ_INT(centry_prune(top, 0, false, &st), 0, "pruning to nothing");
	CHECK_EQ_INT(st.busy, 1, "skips the entry a builder holds");
	CHECK(!path_exists(a) && path_exists(b) && path_exists(c), "removes the unused old one, spares the used");
	CHECK_EQ_INT(count_dot(".old-"), 1, "the replaced one, still held, stays aside");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	kill(builder, SIGTERM);
	waitpid(builder, NULL, 0);
	CHECK_EQ_INT(centry_prune(top, 0, false, &st), 0, "pruning once nobody holds them");
	CHECK(!path_exists(b) && path_exists(c), "removes the builder's, spares the one used a minute ago");
	CHECK_EQ_INT(count_dot(".old-"), 0, "and the replaced one");
	CHECK_EQ_INT(centry_hold(b), -ENOENT, "holding a removed entry says so");
	if (fd >= 0)
		close(fd);
	rm_rf(top);
	return unit_done();
}
