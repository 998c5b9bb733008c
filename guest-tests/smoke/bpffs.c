/* Guest smoke test: the BPF filesystem. A fresh bpffs instance is mounted
 * under /tmp, its magic checked, and a map pinned there must outlive its
 * last file descriptor: BPF_OBJ_GET returns the same map (same id, same
 * contents) until the pin is unlinked. Skips when the kernel has no bpf
 * filesystem.
 */
#include "kta_bpf.h"
#include "kta_test.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

static char dir[] = "/tmp/kta-bpffs.XXXXXX";
static char pin[sizeof(dir) + 16];

static void test_magic(void)
{
	struct statfs sf;

	if (ASSERT_OK(statfs(dir, &sf), "statfs"))
		ASSERT_EQ((unsigned long)sf.f_type, BPF_FS_MAGIC, "bpffs magic 0xcafe4a11");
}

static void test_pin_map(void)
{
	__u32 key = 2, id, id2;
	__u64 value = 0xdeadbeefcafe, got = 0;
	struct stat st;
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kta_pinned", sizeof(key), sizeof(value), 4);
	int fd2 = -1;

	if (fd < 0 && errno == ENOSYS) {
		test__skip("kernel built without CONFIG_BPF_SYSCALL");
		return;
	}
	if (!ASSERT_OK_FD(fd, "map_create"))
		return;
	id = bpf_map_id(fd);
	if (!ASSERT_GT(id, 0, "map id") ||
	    !ASSERT_OK(bpf_map_update(fd, &key, &value, BPF_ANY), "map update") ||
	    !ASSERT_OK(bpf_obj_pin(fd, pin), "BPF_OBJ_PIN"))
		goto cleanup;
	ASSERT_ERRNO(bpf_obj_pin(fd, pin), EEXIST, "pin twice");
	if (ASSERT_OK(stat(pin, &st), "stat the pin"))
		ASSERT_TRUE(S_ISREG(st.st_mode), "a pinned map is a regular file");
	/* The pin alone keeps the map alive. */
	close(fd);
	fd = -1;
	fd2 = bpf_obj_get(pin);
	if (!ASSERT_OK_FD(fd2, "BPF_OBJ_GET"))
		goto unpin;
	id2 = bpf_map_id(fd2);
	ASSERT_EQ(id2, id, "same map id through the pin");
	if (ASSERT_OK(bpf_map_lookup(fd2, &key, &got), "lookup through the pin"))
		ASSERT_EQ(got, value, "same contents through the pin");
unpin:
	if (ASSERT_OK(unlink(pin), "unlink the pin"))
		ASSERT_ERRNO(bpf_obj_get(pin), ENOENT, "BPF_OBJ_GET after unlink");
cleanup:
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
}

static const struct kta_subtest tests[] = {
	{ "magic", test_magic },
	{ "pin_map", test_pin_map },
};

int main(int argc, char **argv)
{
	int ret;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp under /tmp"))
		return KTA_EXIT_FAIL;
	snprintf(pin, sizeof(pin), "%s/map", dir);
	if (mount("bpf", dir, "bpf", 0, NULL)) {
		int err = errno;

		rmdir(dir);
		if (err == ENODEV)
			skip("kernel has no bpf filesystem (CONFIG_BPF_SYSCALL=n)");
		errno = err;
		ASSERT_OK(-1, "mount -t bpf");
		return KTA_EXIT_FAIL;
	}
	ret = KTA_RUN_SUBTESTS(tests, argc, argv);
	if (!ASSERT_OK(umount(dir), "umount") || !ASSERT_OK(rmdir(dir), "rmdir"))
		ret = KTA_EXIT_FAIL;
	return ret;
}
