/* The payload of a compressed kernel image (kpayload.h). */
#include "kernel/kpayload.h"

#include "base/spawn.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* scan: looked for anywhere in an image (lzma's and bzip2's magic are too
 * short or too common in code to try each hit). */
static const struct {
	const unsigned char magic[6];
	size_t n;
	const char *tool;
	bool scan;
} comp[] = {
	{ { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd", true },    { { 0x1f, 0x8b, 0x08 }, 3, "gzip", true },
	{ { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, "xz", true }, { { 0x02, 0x21, 0x4c, 0x18 }, 4, "lz4", true },
	{ { 0x5d, 0x00, 0x00 }, 3, "lzma", false },         { { 'B', 'Z', 'h' }, 3, "bzip2", false },
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int kpayload_locate(const void *img, size_t len, size_t *off, size_t *plen)
{
	const unsigned char *p = img;
	uint64_t setup, poff, n;

	/* Boot protocol 2.08+ (payload_offset/length): every kernel since 2.6.26. */
	if (len < 0x250 || memcmp(p + 0x202, "HdrS", 4) || (p[0x206] | p[0x207] << 8) < 0x208)
		return -ENOEXEC;
	/* setup_sects 0 means 4, the real-mode sector not counted. */
	setup = ((uint64_t)(p[0x1f1] ? p[0x1f1] : 4) + 1) * 512;
	poff = le32(p + 0x248);
	n = le32(p + 0x24c);
	if (!n || setup + poff + n > len)
		return -ENOEXEC;
	*off = (size_t)(setup + poff);
	*plen = (size_t)n;
	return 0;
}

int kpayload_decompress(const void *p, size_t len, bool scan_only, struct buf *out)
{
	char tmpl[] = "/tmp/kta-payload-XXXXXX";
	size_t c, start = out->len;
	int fd, err;

	for (c = 0; c < ARRAY_SIZE(comp); c++)
		if ((comp[c].scan || !scan_only) && len >= comp[c].n && !memcmp(p, comp[c].magic, comp[c].n))
			break;
	if (c == ARRAY_SIZE(comp))
		return -ENOENT;
	fd = mkstemp(tmpl);
	if (fd < 0)
		return -errno;
	err = write(fd, p, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (!err) {
		/* stderr apart: the tools complain about trailing bytes (what
		 * follows the compressed data in an image) after writing all. */
		char *argv[] = { "sh", "-c", "\"$0\" -dc \"$1\" 2>/dev/null", (char *)comp[c].tool, tmpl, NULL };
		int fd_out;
		pid_t pid;

		err = spawn_start(argv, &(struct spawn_opts){ 0 }, &pid, &fd_out);
		if (!err) {
			char b[65536];
			ssize_t n;

			while ((n = read(fd_out, b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
				if (n > 0 && buf_append(out, b, (size_t)n))
					err = -ENOMEM;
			close(fd_out);
			spawn_wait(pid);
		}
	}
	unlink(tmpl);
	return err ?: out->len > start ? 0 : -ENOEXEC;
}

int kpayload_bzimage(const void *img, size_t len, struct buf *out)
{
	size_t off, n;
	int err = kpayload_locate(img, len, &off, &n);

	return err ?: kpayload_decompress((const char *)img + off, n, false, out);
}
