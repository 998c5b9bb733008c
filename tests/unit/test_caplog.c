/* Capped logs keep their first and last parts and say what was dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/caplog.h"
#include "unit.h"
#include "base/util.h"

static void check_log(size_t cap, size_t total, size_t chunk, const char *desc)
{
	char path[] = "/tmp/kta-unit-caplog.XXXXXX";
	int fd = mkstemp(path);
	struct caplog l;
	char *all = malloc(total + 1), expect_head[64], what[256];
	struct buf b = { 0 };
	size_t head = cap / 2, tail = cap - cap / 2;

	for (size_t i = 0; i < total; i++)
		all[i] = (char)('a' + (i * 7 + i / 13) % 26);
	caplog_init(&l, fd, cap);
	for (size_t off = 0; off < total; off += chunk)
		caplog_write(&l, all + off, off + chunk > total ? total - off : chunk);
	caplog_close(&l);
	read_file(path, &b, 1 << 24);
	if (total <= cap) {
		snprintf(what, sizeof(what), "%s: under the cap, the log is whole", desc);
		CHECK(b.len == total && !memcmp(b.data, all, total), what);
	} else {
		snprintf(expect_head, sizeof(expect_head), "[kta: %zu bytes dropped here", total - cap);
		snprintf(what, sizeof(what), "%s: the first %zu bytes", desc, head);
		CHECK(b.len > cap && !memcmp(b.data, all, head), what);
		snprintf(what, sizeof(what), "%s: says how much was dropped", desc);
		CHECK(b.data && strstr(b.data, expect_head) != NULL, what);
		snprintf(what, sizeof(what), "%s: the last %zu bytes, in order, at the end", desc, tail);
		CHECK(b.len >= tail && !memcmp(b.data + b.len - tail, all + total - tail, tail), what);
	}
	buf_free(&b);
	free(all);
	unlink(path);
}

int main(void)
{
	check_log(1000, 600, 7, "600 bytes, cap 1000");
	check_log(1000, 1000, 1000, "exactly the cap");
	check_log(1000, 5000, 7, "5000 bytes in small writes");
	check_log(1000, 5000, 3000, "5000 bytes in big writes");
	check_log(1001, 1733, 1, "an odd cap, byte by byte");
	return unit_done();
}
