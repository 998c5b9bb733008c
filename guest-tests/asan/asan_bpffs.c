/* ASAN suite: the BPF selftest `test_bpffs` flow (prog_tests/test_bpffs.c,
 * fn()), built with -fsanitize=address, with the child ending in exit()
 * or _exit() (see asan_child.h).
 *
 * The child enters a private mount namespace, mounts a tmpfs with two
 * bpffs instances under it, creates directories and pins a map in one,
 * gets the map back through its pin, and checks that rename with
 * RENAME_EXCHANGE works for directories and for a directory and a pin,
 * and that RENAME_NOREPLACE refuses to replace; then it unlinks the pin,
 * unmounts, leaks, reports its assertion count and ends.
 *
 *   asan_bpffs --exit|--_exit
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "asan_child.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

static char tdir[] = "/tmp/kta-asan-bpffs.XXXXXX";

/* A path under the test directory, in one of a few rotating buffers. */
static const char *at(const char *rel)
{
	static char bufs[4][sizeof(tdir) + 32];
	static unsigned int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tdir, rel);
	return p;
}

/* Is there an entry NAME in directory DIR (relative to the test dir)? */
static bool dir_has(const char *dir, const char *name)
{
	DIR *d = opendir(at(dir));
	struct dirent *de;
	bool found = false;

	if (!ASSERT_TRUE(d != NULL, dir))
		return false;
	while (!found && (de = readdir(d)))
		found = !strcmp(de->d_name, name);
	closedir(d);
	return found;
}

/* bpffs shows maps.debug and progs.debug only with CONFIG_BPF_PRELOAD
 * (upstream's selftest config has it, Debian's kernels do not): check
 * them where the directory lists them. (Looking them up where they do
 * not exist fails with EPERM, not ENOENT: bpffs reserves names with a
 * dot.) */
static void check_preload_file(const char *dir, const char *name)
{
	char rel[64], buf[1024];
	int fd, found = 0;
	ssize_t n;

	snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	if (!dir_has(dir, name)) {
		printf("child: no %s (kernel without CONFIG_BPF_PRELOAD): not checked\n", rel);
		return;
	}
	fd = open(at(rel), O_RDONLY | O_CLOEXEC);
	if (!ASSERT_OK_FD(fd, rel))
		return;
	while (!found && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		found = strstr(buf, "iter") != NULL;
	}
	close(fd);
	ASSERT_TRUE(found, rel);
}

static bool is_dir(const char *rel)
{
	struct stat st;

	return ASSERT_OK(stat(at(rel), &st), rel) && ASSERT_TRUE(S_ISDIR(st.st_mode), rel);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_map_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Pin a map at fs1/c and get it back by its pin. */
static bool pin_map(void)
{
	struct stat st;
	__u32 id, id2;
	int map, map2;
	bool ok = false;

	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	if (!ASSERT_OK_FD(map, "create_map(ARRAY)"))
		return false;
	id = map_id(map);
	if (!ASSERT_GT(id, 0, "map id") || !ASSERT_OK(bpf_obj_pin(map, at("fs1/c")), "pin map"))
		goto out;
	if (!ASSERT_OK(stat(at("fs1/c"), &st), "stat the pin") ||
	    !ASSERT_TRUE(S_ISREG(st.st_mode), "a pinned map is a regular file"))
		goto out;
	map2 = bpf_obj_get(at("fs1/c"));
	if (!ASSERT_OK_FD(map2, "bpf_obj_get(fs1/c)"))
		goto out;
	id2 = map_id(map2);
	close(map2);
	ok = ASSERT_EQ(id2, id, "the pin gives back the same map");
	printf("child: map id %u pinned at fs1/c and got back through the pin\n", id);
out:
	close(map);
	return ok;
}

static bool same_inode(const char *rel, ino_t ino, const char *name)
{
	struct stat st;

	return ASSERT_OK(stat(at(rel), &st), rel) && ASSERT_EQ(st.st_ino, ino, name);
}

/* upstream's checks, in its order. */
static void bpffs_checks(void)
{
	struct stat a, c;

	if (!ASSERT_OK(mount("bpf", at("fs1"), "bpf", 0, NULL), "mount bpffs fs1") ||
	    !ASSERT_OK(mount("bpf", at("fs2"), "bpf", 0, NULL), "mount bpffs fs2"))
		return;
	check_preload_file("fs1", "maps.debug");
	check_preload_file("fs2", "progs.debug");

	if (!ASSERT_OK(mkdir(at("fs1/a"), 0777), "mkdir fs1/a") ||
	    !ASSERT_OK(mkdir(at("fs1/a/1"), 0777), "mkdir fs1/a/1") ||
	    !ASSERT_OK(mkdir(at("fs1/b"), 0777), "mkdir fs1/b") ||
	    !is_dir("fs1/a") || !is_dir("fs1/a/1") || !is_dir("fs1/b"))
		return;
	if (!pin_map())
		return;

	/* RENAME_EXCHANGE works for directories. */
	if (!ASSERT_OK(stat(at("fs1/a"), &a), "stat fs1/a") ||
	    !ASSERT_OK(renameat2(AT_FDCWD, at("fs1/a"), AT_FDCWD, at("fs1/b"), RENAME_EXCHANGE),
		       "renameat2(fs1/a, fs1/b, RENAME_EXCHANGE)") ||
	    !same_inode("fs1/b", a.st_ino, "b should have a's inode") ||
	    !ASSERT_OK(access(at("fs1/b/1"), F_OK), "access fs1/b/1"))
		return;

	/* ... and for a pin and a directory. */
	if (!ASSERT_OK(stat(at("fs1/c"), &c), "stat fs1/c") ||
	    !ASSERT_OK(renameat2(AT_FDCWD, at("fs1/c"), AT_FDCWD, at("fs1/b"), RENAME_EXCHANGE),
		       "renameat2(fs1/c, fs1/b, RENAME_EXCHANGE)") ||
	    !same_inode("fs1/b", c.st_ino, "b should have c's inode") ||
	    !ASSERT_OK(access(at("fs1/c/1"), F_OK), "access fs1/c/1"))
		return;

	/* RENAME_NOREPLACE does not replace. */
	if (!ASSERT_ERRNO(renameat2(AT_FDCWD, at("fs1/b"), AT_FDCWD, at("fs1/a"),
				    RENAME_NOREPLACE), EEXIST, "renameat2(RENAME_NOREPLACE)") ||
	    !ASSERT_OK(access(at("fs1/b"), F_OK), "access fs1/b"))
		return;

	/* fs1/b is the pin now: unlinking it drops the map. */
	if (ASSERT_OK(unlink(at("fs1/b")), "unlink the pin"))
		ASSERT_ERRNO(bpf_obj_get(at("fs1/b")), ENOENT, "bpf_obj_get after unlink");
}

static __attribute__((noreturn)) void child(enum kta_child_end end, int result_fd)
{
	kta__env.failed_asserts = 0;
	if (!ASSERT_OK(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)") ||
	    !ASSERT_OK(mount("", "/", "", MS_REC | MS_PRIVATE, NULL), "mount / private"))
		goto out;
	if (!ASSERT_OK(mount("none", tdir, "tmpfs", 0, NULL), "mount tmpfs"))
		goto out;
	if (ASSERT_OK(mkdir(at("fs1"), 0777), "mkdir fs1") &&
	    ASSERT_OK(mkdir(at("fs2"), 0777), "mkdir fs2"))
		bpffs_checks();
	umount(at("fs1"));
	umount(at("fs2"));
	rmdir(at("fs1"));
	rmdir(at("fs2"));
	ASSERT_OK(umount(tdir), "umount the tmpfs");
out:
	kta_child_finish(end, result_fd, "bpffs child's note");
}

int main(int argc, char **argv)
{
	enum kta_child_end end = kta_child_parse_args(argc, argv);
	int res[2], status = 0, failed, err;
	pid_t pid;

	kta_child_setup_stdio();
	err = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	if (err == -ENOSYS)
		skip("no bpf(2): kernel built without CONFIG_BPF_SYSCALL");
	if (err >= 0)
		close(err);
	err = kta_have_fs("bpf");
	if (err == 0)
		skip("kernel has no bpf filesystem");
	if (!ASSERT_GE(err, 0, "read /proc/filesystems") ||
	    !ASSERT_TRUE(mkdtemp(tdir) != NULL, "mkdtemp under /tmp") ||
	    !ASSERT_OK(pipe2(res, O_CLOEXEC), "pipe"))
		return KTA_EXIT_FAIL;
	fflush(NULL);
	pid = fork();
	if (!ASSERT_GE(pid, 0, "fork")) {
		rmdir(tdir);
		return KTA_EXIT_FAIL;
	}
	if (pid == 0) {
		close(res[0]);
		child(end, res[1]);
	}
	close(res[1]);
	failed = kta_parent_read_count(res[0]);
	close(res[0]);
	err = kta_parent_wait(pid, &status);
	/* upstream: CHECK(err == -1 && errno != ECHILD, "waitpid") */
	if (!ASSERT_FALSE(err == -1 && errno != ECHILD, "waitpid"))
		return KTA_EXIT_FAIL;
	rmdir(tdir);
	kta_parent_print_child(pid, status, failed);
	/* upstream checks WEXITSTATUS only, which passes a child killed by a
	 * signal; we check that it exited too. */
	if (ASSERT_TRUE(WIFEXITED(status), "bpffs test child exited")) {
		int exit_status = WEXITSTATUS(status);

		ASSERT_EQ(exit_status, 0, "bpffs test");
	}
	return kta__env.failed_asserts ? KTA_EXIT_FAIL : KTA_EXIT_PASS;
}
