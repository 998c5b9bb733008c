/* Fuzz target: the sanitizer frame reader (run/symbolize.c). Its input is
 * a guest's sanitizer log: text the guest wrote, any bytes. Each frame
 * found is then named, and the rewrite must keep every other byte. */
#include "run/symbolize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct san_frame f[64];
	static char *what[64];
	char *copy = malloc(size ? size : 1);
	struct buf out = { 0 };
	size_t n, added = 0, skipped = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	n = san_frames(copy, size, f, 64);
	for (size_t i = 0; i < n; i++) {
		if (f[i].at > size || f[i].skip > size - f[i].at || strlen(f[i].module) >= sizeof(f[i].module) ||
		    (i && f[i].at < f[i - 1].at + f[i - 1].skip))
			abort();
		what[i] = i % 2 ? NULL : "fn file.c:1";
		if (!(i % 2)) {
			added += strlen(" in fn file.c:1 ");
			skipped += f[i].skip;
		}
	}
	if (!san_insert(copy, size, f, what, n, &out) && out.len != size + added - skipped)
		abort();
	buf_free(&out);
	free(copy);
	return 0;
}
