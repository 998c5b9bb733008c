/* The BTF of a kernel image, for building the selftests against a kernel
 * kta did not build (Debian's). The image keeps vmlinux's .BTF section in
 * its data (a bzImage inside its compressed payload, an arm64 Image as
 * is), so it is found by its header: the magic, version 1, a 24-byte
 * header, and section offsets that add up inside the image.
 */
#include "base/log.h"
#include "kernel/kpayload.h"
#include "selftests/selftests.h"
#include "base/util.h"

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

/* The BTF of an image's bytes: as they are (arm64's Image), or inside the
 * compressed vmlinux: a bzImage's payload, which its header locates, or
 * (s390's image and others) the first stretch a decompressor accepts. */
static int find_in(const struct buf *img, struct buf *btf)
{
	const unsigned char *p = (const unsigned char *)img->data;
	size_t off, size;

	if (!st_btf_find(img->data, img->len, &off, &size))
		return buf_append(btf, img->data + off, size);
	if (!kpayload_locate(img->data, img->len, &off, &size)) {
		cleanup_buf struct buf data = { 0 };

		if (!kpayload_bzimage(img->data, img->len, &data) && !st_btf_find(data.data, data.len, &off, &size))
			return buf_append(btf, data.data + off, size);
		return -ENOENT;
	}
	for (size_t i = 0; i + 8 < img->len; i++) {
		cleanup_buf struct buf data = { 0 };

		/* Only what holds a kernel's BTF ends the search. */
		if (!kpayload_decompress(p + i, img->len - i, true, &data) && data.len > (1u << 20) &&
		    !st_btf_find(data.data, data.len, &off, &size))
			return buf_append(btf, data.data + off, size);
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
