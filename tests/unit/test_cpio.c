/* The newc writer and the initramfs builder, checked by parsing the output
 * back with an independent reader, and for determinism. */
#include "guest/cpio.h"
#include "base/centry.h"
#include "guest/initramfs.h"
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>

struct entry {
	char name[256];
	unsigned int mode, size, ino;
	const char *data;
};

static unsigned int hex8(const char *p)
{
	char t[9];

	memcpy(t, p, 8);
	t[8] = 0;
	return (unsigned int)strtoul(t, NULL, 16);
}

/* Returns number of entries parsed (including trailer), -1 on format error. */
static int parse(const char *b, size_t len, struct entry *out, int max)
{
	size_t off = 0;
	int n = 0;

	while (off + 110 <= len && n < max) {
		unsigned int namesz, size;

		if (memcmp(b + off, "070701", 6))
			return -1;
		out[n].ino = hex8(b + off + 6);
		out[n].mode = hex8(b + off + 14);
		size = hex8(b + off + 54);
		namesz = hex8(b + off + 94);
		out[n].size = size;
		if (off + 110 + namesz > len || namesz > 256 || b[off + 110 + namesz - 1])
			return -1;
		memcpy(out[n].name, b + off + 110, namesz);
		off = (off + 110 + namesz + 3) & ~(size_t)3;
		out[n].data = b + off;
		off = (off + size + 3) & ~(size_t)3;
		if (off > len)
			return -1;
		if (!strcmp(out[n++].name, "TRAILER!!!"))
			return off == len ? n : -1;
	}
	return -1;
}

static int build(struct cpio *c, int order)
{
	struct initramfs fs = { 0 };
	int err = 0;

	if (order) {
		err = err ?: initramfs_add_symlink(&fs, "/bin/sh", "busybox");
		err = err ?: initramfs_add_data(&fs, "/kta/plan", "test 1 a /kta/tests/a\n", 22, 0644);
		err = err ?: initramfs_add_data(&fs, "/init", "#!/bin/sh\n", 10, 0755);
	} else {
		err = err ?: initramfs_add_data(&fs, "/init", "#!/bin/sh\n", 10, 0755);
		err = err ?: initramfs_add_data(&fs, "/kta/plan", "test 1 a /kta/tests/a\n", 22, 0644);
		err = err ?: initramfs_add_symlink(&fs, "/bin/sh", "busybox");
	}
	err = err ?: initramfs_write_cpio(&fs, c);
	initramfs_free(&fs);
	return err;
}

/* The cache's trim: least recently used first, within the cap, sparing
 * what was used in the grace period. */
static void test_cache_pick(void)
{
	const int64_t now = 1000000;
	const struct centry_info e[] = {
		{ "a.cpio", 400 << 20, now - 86400 },      /* a day old */
		{ "b.cpio", 400 << 20, now - 3 * 86400 },  /* the oldest */
		{ "c.cpio", 400 << 20, now - 60 },         /* in use: spared */
		{ "d.cpio", 100 << 20, now - 2 * 86400 },
	};
	bool v[4];

	CHECK_EQ_INT((int)centry_pick_lru(e, 4, 2048ull << 20, now, v), 0, "within the cap: nothing");
	CHECK(!v[0] && !v[1] && !v[2] && !v[3], "no victims");
	CHECK_EQ_INT((int)centry_pick_lru(e, 4, 1024ull << 20, now, v), 1, "over by 276 MB: one goes");
	CHECK(v[1] && !v[0] && !v[2] && !v[3], "the least recently used");
	CHECK_EQ_INT((int)centry_pick_lru(e, 4, 300ull << 20, now, v), 3, "a small cap");
	CHECK(v[0] && v[1] && v[3] && !v[2], "all but the one in its grace period");
	CHECK_EQ_INT((int)centry_pick_lru(e, 0, 0, now, v), 0, "an empty cache");
}

int main(void)
{
	test_cache_pick();
	struct cpio c, d;
	struct entry e[16];
	int n;

	cpio_init(&c);
	CHECK_EQ_INT(cpio_add_dir(&c, "/kta", 0755), 0, "add dir");
	CHECK_EQ_INT(cpio_add_file(&c, "kta/x", 0644, "hello", 5), 0, "add file");
	CHECK_EQ_INT(cpio_add_symlink(&c, "/sh", "busybox"), 0, "add symlink");
	CHECK_EQ_INT(cpio_finish(&c), 0, "finish");
	CHECK_EQ_INT(cpio_add_file(&c, "late", 0644, "", 0), -EINVAL, "nothing after trailer");
	CHECK_EQ_INT(c.out.len % 4, 0, "archive is 4-byte aligned");
	n = parse(c.out.data, c.out.len, e, 16);
	CHECK_EQ_INT(n, 4, "parses back to 4 entries");
	if (n == 4) {
		CHECK_EQ_STR(e[0].name, "kta", "leading slash stripped");
		CHECK_EQ_INT(e[0].mode, S_IFDIR | 0755, "dir mode");
		CHECK(e[1].size == 5 && !memcmp(e[1].data, "hello", 5), "file contents");
		CHECK_EQ_INT(e[2].mode, S_IFLNK | 0777, "symlink mode");
		CHECK(e[2].size == 7 && !memcmp(e[2].data, "busybox", 7), "symlink target");
		CHECK(e[0].ino != e[1].ino && e[1].ino != e[2].ino, "distinct inode numbers");
	}
	cpio_free(&c);

	cpio_init(&c);
	cpio_init(&d);
	CHECK(build(&c, 0) == 0 && build(&d, 1) == 0, "initramfs builds");
	CHECK(c.out.len == d.out.len && !memcmp(c.out.data, d.out.data, c.out.len),
	      "same entries in any order give the same bytes");
	n = parse(c.out.data, c.out.len, e, 16);
	CHECK_EQ_INT(n, 6, "parents added: bin, kta, then files and trailer");
	if (n == 6) {
		CHECK_EQ_STR(e[0].name, "bin", "bin dir first");
		CHECK_EQ_STR(e[1].name, "bin/sh", "then its symlink");
		CHECK_EQ_STR(e[2].name, "init", "init");
		CHECK_EQ_STR(e[3].name, "kta", "kta dir before its file");
	}
	cpio_free(&c);
	cpio_free(&d);

	{
		struct initramfs fs = { 0 };

		CHECK_EQ_INT(initramfs_add_data(&fs, "/a", "x", 1, 0644), 0, "add /a");
		CHECK_EQ_INT(initramfs_add_data(&fs, "/a", "y", 1, 0644), -EEXIST, "duplicate refused");
		CHECK_EQ_INT(initramfs_add_data(&fs, "rel", "y", 1, 0644), -EINVAL, "relative refused");
		initramfs_free(&fs);
	}
	return unit_done();
}
