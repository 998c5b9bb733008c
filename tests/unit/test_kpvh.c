/* The PVH boot image (kernel/kpvh.c) and bzImage payloads
 * (kernel/kpayload.c): synthetic ELF files and bzImages, real gzip. */
#include "kernel/kpayload.h"
#include "kernel/kpvh.h"
#include "base/util.h"
#include "unit.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* An ELF64 header, one PT_NOTE program header and its notes: first a
 * foreign note, then (if type) a "Xen" note of that type. */
static size_t make_elf(unsigned char *b, uint32_t type, uint32_t entry)
{
	Elf64_Ehdr *e = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*e));
	unsigned char *n = b + sizeof(*e) + sizeof(*ph), *p = n;

	memset(b, 0, 512);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_machine = EM_X86_64;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*ph);
	e->e_phnum = 1;
	/* GNU build id: name "GNU", 8 bytes of descriptor. */
	memcpy(p, (uint32_t[]){ 4, 8, 3 }, 12);
	memcpy(p + 12, "GNU", 4);
	p += 12 + 4 + 8;
	if (type) {
		/* A name of 3 bytes, padded to 4: "Xen" with its NUL. */
		memcpy(p, (uint32_t[]){ 4, 4, type }, 12);
		memcpy(p + 12, "Xen", 4);
		memcpy(p + 16, &entry, 4);
		p += 20;
	}
	ph->p_type = PT_NOTE;
	ph->p_offset = (uint64_t)(n - b);
	ph->p_filesz = (uint64_t)(p - n);
	return (size_t)(p - b);
}

static void test_entry(void)
{
	unsigned char b[512];
	uint32_t entry = 0;
	size_t n = make_elf(b, 18, 0x1000850);

	CHECK_EQ_INT(kpvh_entry(b, n, &entry), 0, "a PVH note is found");
	CHECK_EQ_INT(entry, 0x1000850, "its entry point");
	CHECK_EQ_INT(kpvh_entry(b, n - 1, &entry), -ENOENT, "a note cut by the buffer is not read");
	n = make_elf(b, 17, 1);
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOENT, "another Xen note: no PVH entry (CONFIG_PVH off)");
	n = make_elf(b, 0, 0);
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOENT, "no Xen note");
	CHECK_EQ_INT(kpvh_entry(b, 10, &entry), -ENOEXEC, "shorter than an ELF header");
	n = make_elf(b, 18, 1);
	b[EI_CLASS] = ELFCLASS32;
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOEXEC, "ELF32 is not x86_64's vmlinux");
	n = make_elf(b, 18, 1);
	((Elf64_Ehdr *)b)->e_phnum = 0xffff;
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOEXEC, "program headers past the end");
	n = make_elf(b, 18, 1);
	((Elf64_Phdr *)(b + sizeof(Elf64_Ehdr)))->p_filesz = ~0ULL;
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOENT, "a note segment past the end is skipped");
	n = make_elf(b, 18, 1);
	/* namesz near 2^32: its padding must not wrap. */
	memcpy(b + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), (uint32_t[]){ 0xfffffffd }, 4);
	CHECK_EQ_INT(kpvh_entry(b, n, &entry), -ENOENT, "a note's huge name size ends the walk");
}

/* A bzImage's header (boot protocol 2.15) in front of payload. */
static size_t make_bzimage(unsigned char *b, size_t cap, const void *payload, size_t plen)
{
	size_t setup = (4 + 1) * 512, off = 0x100;

	if (setup + off + plen > cap)
		return 0;
	memset(b, 0, setup + off);
	b[0x1f1] = 4;
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0f;
	b[0x207] = 0x02;
	memcpy(b + 0x248, (uint32_t[]){ (uint32_t)off, (uint32_t)plen }, 8);
	memcpy(b + setup + off, payload, plen);
	return setup + off + plen;
}

static int gzip_buf(const void *in, size_t n, struct buf *out)
{
	char path[] = "/tmp/kta-unit-gz-XXXXXX", *cmd;
	int fd = mkstemp(path), err = -EIO;
	FILE *f;

	if (fd < 0 || write(fd, in, n) != (ssize_t)n)
		return -EIO;
	close(fd);
	cmd = xasprintf("gzip -c %s", path);
	f = cmd ? popen(cmd, "r") : NULL;
	if (f) {
		char b[4096];
		size_t k;

		while ((k = fread(b, 1, sizeof(b), f)) > 0)
			buf_append(out, b, k);
		err = pclose(f) ? -EIO : 0;
	}
	free(cmd);
	unlink(path);
	return err;
}

static void test_payload_and_cache(void)
{
	static unsigned char img[64 << 10];
	unsigned char elf[512], elf2[512];
	struct buf gz = { 0 }, got = { 0 };
	char dir[] = "/tmp/kta-unit-pvh-XXXXXX", path[4096], out[4096], again[4096];
	size_t n = make_elf(elf, 18, 0x1000000), n2 = make_elf(elf2, 0, 0), len, off, plen;

	CHECK(mkdtemp(dir) != NULL, "a cache directory");
	setenv("KTA_CACHE", dir, 1);
	CHECK_EQ_INT(gzip_buf(elf, n, &gz), 0, "gzip'd vmlinux");
	len = make_bzimage(img, sizeof(img), gz.data, gz.len);
	CHECK_EQ_INT(kpayload_locate(img, len, &off, &plen), 0, "the payload is located");
	CHECK_EQ_INT(plen, gz.len, "its length");
	CHECK_EQ_INT(kpayload_locate(img, len - 1, &off, &plen), -ENOEXEC, "a payload past the end");
	CHECK_EQ_INT(kpayload_bzimage(img, len, &got), 0, "decompressed");
	CHECK(got.len == n && !memcmp(got.data, elf, n), "into the vmlinux itself");
	snprintf(path, sizeof(path), "%s/bzImage", dir);
	write_file_atomic(path, img, len, 0644);
	CHECK_EQ_INT(kpvh_image(path, "", out, sizeof(out)), 0, "a PVH kernel: its vmlinux");
	buf_free(&got);
	CHECK(!read_file(out, &got, 1 << 20) && got.len == n && !memcmp(got.data, elf, n), "kept in the cache");
	CHECK(strstr(out, "/vmlinux/") != NULL, "under the cache's vmlinux/");
	CHECK_EQ_INT(kpvh_image(path, "", again, sizeof(again)), 0, "asked again");
	CHECK_EQ_STR(again, out, "the same file");

	buf_free(&gz);
	CHECK_EQ_INT(gzip_buf(elf2, n2, &gz), 0, "gzip'd vmlinux without a PVH note");
	len = make_bzimage(img, sizeof(img), gz.data, gz.len);
	write_file_atomic(path, img, len, 0644);
	CHECK_EQ_INT(kpvh_image(path, "", out, sizeof(out)), -ENOENT, "no PVH note: the bzImage boots");
	snprintf(again, sizeof(again), "%.*s.none", (int)(strlen(out) - 4), out);
	CHECK(path_exists(again), "the answer is kept");
	CHECK_EQ_INT(kpvh_image(path, "", out, sizeof(out)), -ENOENT, "and given again");
	write_file_atomic(path, "not a kernel", 12, 0644);
	CHECK_EQ_INT(kpvh_image(path, "", out, sizeof(out)), -ENOENT, "not a bzImage: the image boots");

	buf_free(&gz);
	buf_free(&got);
	{
		char *cmd = xasprintf("rm -rf %s", dir);

		CHECK(cmd && !system(cmd), "cleaned up");
		free(cmd);
	}
}

int main(void)
{
	test_entry();
	test_payload_and_cache();
	return unit_done();
}
