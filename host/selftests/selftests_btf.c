/* The BTF of a kernel image, for building the selftests against a kernel
 * kta did not build (Debian's). The image keeps vmlinux's .BTF section in
 * its data (a bzImage inside its compressed payload, an arm64 Image as
 * is), so it is found by its header: the magic, version 1, a 24-byte
 * header, and section offsets that add up inside the image.
 */
#include "base/log.h"
#include "selftests/selftests.h"
#include "base/spawn.h"
#include "base/util.h"

#include <fcntl.h>
#include <string.h>

struct btf_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

static uint32_t rd32(const unsigned char *p, bool be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Pure: the largest plausible vmlinux BTF blob in buf; its offset and size. */
int st_btf_find(const void *buf, size_t len, size_t *off, size_t *size);

int st_btf_find(const void *buf, size_t len, size_t *off, size_t *size)
{
	static const unsigned char le[] = { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0 }, be[] = { 0xeb, 0x9f, 1, 0, 0, 0, 0, 24 };
	const unsigned char *p = buf;
	size_t best = 0;

	for (size_t i = 0; len >= 24 && i <= len - 24; i++) {
		bool big;
		uint32_t type_off, type_len, str_off, str_len;
		uint64_t total;

		if (!memcmp(p + i, le, sizeof(le)))
			big = false;
		else if (!memcmp(p + i, be, sizeof(be)))
			big = true;
		else
			continue;
		type_off = rd32(p + i + 8, big);
		type_len = rd32(p + i + 12, big);
		str_off = rd32(p + i + 16, big);
		str_len = rd32(p + i + 20, big);
		/* vmlinux's layout: types first, then strings, which start
		 * with the empty string. */
		if (type_off != 0 || str_off != type_len || !str_len)
			continue;
		total = 24ull + str_off + str_len;
		if (total > len - i || p[i + 24 + str_off] != '\0')
			continue;
		if (total > best) {
			best = total;
			*off = i;
			*size = (size_t)total;
		}
	}
	return best ? 0 : -ENOENT;
}

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

/* len bytes at p, which start with the magic of comp[c], decompressed by
 * its tool into out. */
static int decompress(const unsigned char *p, size_t len, size_t c, struct buf *out)
{
	char tmpl[] = "/tmp/kta-payload-XXXXXX";
	int fd = mkstemp(tmpl), err;

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
	return err ?: out->len ? 0 : -ENOEXEC;
}

/* The BTF of an image's bytes: as they are (arm64's Image), or inside the
 * compressed vmlinux: a bzImage's payload, which its header locates, or
 * (s390's image and others) the first stretch a decompressor accepts. */
static int find_in(const struct buf *img, struct buf *btf)
{
	const unsigned char *p = (const unsigned char *)img->data;
	size_t off, size;

	if (!st_btf_find(img->data, img->len, &off, &size))
		return buf_append(btf, img->data + off, size);
	if (img->len >= 0x250 && !memcmp(p + 0x202, "HdrS", 4)) {
		uint32_t setup = (p[0x1f1] ? p[0x1f1] : 4) + 1, poff = rd32(p + 0x248, false), plen = rd32(p + 0x24c, false);

		if ((uint64_t)setup * 512 + poff + plen > img->len)
			return -ENOEXEC;
		for (size_t c = 0; c < ARRAY_SIZE(comp); c++) {
			cleanup_buf struct buf data = { 0 };
			const unsigned char *q = p + (size_t)setup * 512 + poff;

			if (plen >= comp[c].n && !memcmp(q, comp[c].magic, comp[c].n) && !decompress(q, plen, c, &data) &&
			    !st_btf_find(data.data, data.len, &off, &size))
				return buf_append(btf, data.data + off, size);
		}
		return -ENOENT;
	}
	for (size_t i = 0; i + 8 < img->len; i++) {
		for (size_t c = 0; c < ARRAY_SIZE(comp); c++) {
			cleanup_buf struct buf data = { 0 };

			if (!comp[c].scan || memcmp(p + i, comp[c].magic, comp[c].n))
				continue;
			/* Only what holds a kernel's BTF ends the search. */
			if (!decompress(p + i, img->len - i, c, &data) && data.len > (1u << 20) &&
			    !st_btf_find(data.data, data.len, &off, &size))
				return buf_append(btf, data.data + off, size);
		}
	}
	return -ENOENT;
}

int st_image_btf(const char *image, const char *out)
{
	cleanup_buf struct buf img = { 0 }, btf = { 0 };
	int err = read_file(image, &img, 512 << 20);

	if (err)
		return pr_err("cannot read the kernel image `%s`: %s", image, strerror(-err)), err;
	err = find_in(&img, &btf);
	if (err == -ENOENT || (!err && !btf.len))
		return pr_err("kernel image `%s` holds no BTF (a kernel without CONFIG_DEBUG_INFO_BTF cannot run "
			      "the BPF selftests)", image), -ENOENT;
	if (err)
		return pr_err("kta cannot read the kernel image `%s`: %s", image, strerror(-err)), err;
	return write_file_atomic(out, btf.data, btf.len, 0644);
}
