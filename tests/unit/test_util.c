/* util.c's file helpers: what they must never do. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

static void test_atomic_write_no_symlink(void)
{
	char dir[] = "/tmp/kta-unit-util.XXXXXX", path[PATH_MAX], tmp[PATH_MAX + 32], victim[PATH_MAX];
	struct buf b = { 0 };

	if (!CHECK(mkdtemp(dir) != NULL, "a scratch directory"))
		return;
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	CHECK(write_file_atomic(victim, "precious\n", 9, 0644) == 0, "the victim file");
	/* Someone plants a symlink at the temporary name. */
	CHECK(symlink(victim, tmp) == 0, "a symlink at path.tmp.PID");
	CHECK(write_file_atomic(path, "new\n", 4, 0644) == 0, "write_file_atomic goes on");
	CHECK(read_file(victim, &b, 1024) == 0 && b.len == 9 && !memcmp(b.data, "precious\n", 9),
	      "the symlink's target is untouched");
	buf_free(&b);
	CHECK(read_file(path, &b, 1024) == 0 && b.len == 4 && !memcmp(b.data, "new\n", 4), "the file has the data");
	buf_free(&b);
	CHECK(access(tmp, F_OK) != 0, "no temporary left");
	rm_rf(dir);
}

int main(void)
{
	test_atomic_write_no_symlink();
	return unit_done();
}
