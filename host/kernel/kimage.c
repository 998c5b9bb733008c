/* Kernel image detection: kta boots whatever a developer points --kernel
 * at, and the usual mistakes (vmlinux instead of bzImage, an image for the
 * wrong architecture, a module, a directory) should be caught here with a
 * message saying what to pass, not by QEMU or a silent guest. The header
 * parser is pure and bounds-checked so it can be unit-tested and fuzzed.
 */
#include "kernel/kimage.h"
#include "base/log.h"
#include "base/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static unsigned int le16(const uint8_t *p)
{
	return (unsigned int)p[0] | (unsigned int)p[1] << 8;
}

static void bzimage_version(const uint8_t *p, size_t len, char *version, size_t vlen)
{
	size_t off, n = 0;

	if (!version || !vlen)
		return;
	version[0] = '\0';
	/* kernel_version (0x20E) exists from boot protocol 2.00. */
	if (len < 0x210 || le16(p + 0x206) < 0x200)
		return;
	off = 0x200 + (size_t)le16(p + 0x20E);
	if (off == 0x200 || off >= len)
		return;
	while (off + n < len && n + 1 < vlen && p[off + n] > ' ' && p[off + n] < 0x7f)
		n++;
	memcpy(version, p + off, n);
	version[n] = '\0';
}

enum kimage_kind kimage_probe_buf(const void *buf, size_t len, char *version, size_t vlen)
{
	const uint8_t *p = buf;

	if (version && vlen)
		version[0] = '\0';
	if (!buf)
		return KIMAGE_UNKNOWN;
	/* EFI zboot: a PE "MZ" header with "zimg" and the payload's
	 * compression type; QEMU's -kernel cannot boot it directly. */
	if (len >= 8 && p[0] == 'M' && p[1] == 'Z' && !memcmp(p + 4, "zimg", 4))
		return KIMAGE_ZBOOT;
	if (len >= 0x206 && !memcmp(p + 0x202, "HdrS", 4)) {
		bzimage_version(p, len, version, vlen);
		return KIMAGE_BZIMAGE;
	}
	if (len >= 0x3c && !memcmp(p + 0x38, "ARM\x64", 4))
		return KIMAGE_ARM64;
	if (len >= 0x3c && !memcmp(p + 0x38, "RSC\x05", 4))
		return KIMAGE_RISCV;
	/* QEMU's s390 loader looks for the same magic. */
	if (len >= 0x1000e && !memcmp(p + 0x10008, "S390EP", 6))
		return KIMAGE_S390;
	if (len >= 18 && !memcmp(p, "\177ELF", 4)) {
		unsigned int type = p[5] == 2 ? (unsigned int)p[16] << 8 | p[17] : le16(p + 16);

		return type == 1 ? KIMAGE_MODULE : KIMAGE_ELF;
	}
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return KIMAGE_GZIP;
	return KIMAGE_UNKNOWN;
}

const char *kimage_kind_name(enum kimage_kind kind)
{
	switch (kind) {
	case KIMAGE_BZIMAGE: return "x86 bzImage";
	case KIMAGE_ARM64: return "arm64 Image";
	case KIMAGE_RISCV: return "RISC-V Image";
	case KIMAGE_S390: return "s390 image";
	case KIMAGE_ELF: return "ELF file (vmlinux?)";
	case KIMAGE_GZIP: return "gzip-compressed file";
	case KIMAGE_ZBOOT: return "EFI zboot image";
	case KIMAGE_MODULE: return "kernel module";
	case KIMAGE_UNKNOWN: return "unknown file";
	default: return "?";
	}
}

/* Each bootable format: what the probe calls it, what a wrong file lacks,
 * and what to pass instead. Indexed by enum image_format. */
static const struct {
	enum kimage_kind kind;
	const char *header;
	const char *hint;
} formats[] = {
	[IMAGE_BZIMAGE] = { KIMAGE_BZIMAGE, "no bzImage header",
			    "pass the bzImage from arch/x86/boot/ or a vmlinuz from /boot" },
	[IMAGE_ARM64] = { KIMAGE_ARM64, "no arm64 Image header",
			  "pass the uncompressed Image from arch/arm64/boot/ or a vmlinuz from /boot" },
	[IMAGE_RISCV] = { KIMAGE_RISCV, "no RISC-V Image header",
			  "pass the uncompressed Image from arch/riscv/boot/ or a vmlinuz from /boot" },
	[IMAGE_S390] = { KIMAGE_S390, "no s390 image magic",
			 "pass arch/s390/boot/bzImage or a vmlinuz from /boot" },
	[IMAGE_ELF] = { KIMAGE_ELF, "not an ELF executable",
			"pass the vmlinux from the top of the build tree or from /boot" },
};

static const char *format_hint(enum image_format fmt)
{
	return (size_t)fmt < ARRAY_SIZE(formats) ? formats[fmt].hint : "pass a bootable kernel image";
}

static const char *format_header(enum image_format fmt)
{
	return (size_t)fmt < ARRAY_SIZE(formats) ? formats[fmt].header : "no kernel header";
}

static enum kimage_kind format_kind(enum image_format fmt)
{
	return (size_t)fmt < ARRAY_SIZE(formats) ? formats[fmt].kind : KIMAGE_UNKNOWN;
}

static int kind_to_format(enum kimage_kind kind, enum image_format *fmt)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		if (formats[i].kind == kind) {
			*fmt = (enum image_format)i;
			return 0;
		}
	}
	return -ENOEXEC;
}

static unsigned int elf_machine(const uint8_t *p, size_t len)
{
	if (len < 20)
		return 0;
	return p[5] == 2 ? (unsigned int)p[18] << 8 | p[19] : le16(p + 18);
}

/* arch may be NULL: then the messages name no architecture. */
static int probe(const struct arch_profile *arch, const char *path, enum image_format *fmt,
		 char *version, size_t vlen)
{
	const char *for_arch = arch ? arch->name : "any supported architecture";
	const char *hint = arch ? format_hint(arch->image_format)
				: "pass arch/x86/boot/bzImage, arch/arm64/boot/Image or a vmlinuz from /boot";
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free uint8_t *buf = NULL;
	enum kimage_kind kind;
	struct stat st;
	size_t len = 0;

	if (fd < 0) {
		int err = -errno;

		if (err == -ENOENT)
			pr_err("kernel image `%s` does not exist; build the kernel first or check the path", path);
		else
			pr_err("cannot open kernel image `%s`: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		pr_err("kernel image `%s` is a directory; %s", path, hint);
		return -EISDIR;
	}
	buf = malloc(KIMAGE_PROBE_BYTES);
	if (!buf)
		return -ENOMEM;
	while (len < KIMAGE_PROBE_BYTES) {
		ssize_t n = read(fd, buf + len, KIMAGE_PROBE_BYTES - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			pr_err("cannot read kernel image `%s`: %s", path, strerror(-err));
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!len) {
		pr_err("kernel image `%s` is empty; %s", path, hint);
		return -ENOEXEC;
	}
	kind = kimage_probe_buf(buf, len, version, vlen);
	/* An ELF vmlinux is bootable only where the arch boots ELF, and
	 * only if it is that arch's. */
	if (kind == KIMAGE_ELF && arch && arch->image_format == IMAGE_ELF) {
		if (elf_machine(buf, len) == arch->elf_machine) {
			*fmt = IMAGE_ELF;
			return 0;
		}
		pr_err("`%s` is an ELF file for machine %u, not a %s vmlinux; %s", path,
		       elf_machine(buf, len), arch->name, hint);
		return -ENOEXEC;
	}
	if (kind != KIMAGE_ELF && !kind_to_format(kind, fmt))
		return 0;
	switch (kind) {
	case KIMAGE_ELF:
		pr_err("`%s` is an ELF file (vmlinux?), not a bootable kernel image for %s; %s", path,
		       for_arch, hint);
		break;
	case KIMAGE_MODULE:
		pr_err("`%s` is a kernel module, not a kernel image; %s", path, hint);
		break;
	case KIMAGE_GZIP:
		pr_err("`%s` is gzip-compressed, not a kernel image for %s; decompress it or %s", path,
		       for_arch, hint);
		break;
	case KIMAGE_ZBOOT:
		pr_err("`%s` is an EFI zboot image, which QEMU cannot boot with -kernel; %s", path, hint);
		break;
	case KIMAGE_UNKNOWN:
	case KIMAGE_BZIMAGE:
	case KIMAGE_ARM64:
	case KIMAGE_RISCV:
	case KIMAGE_S390:
	default:
		pr_err("`%s` is not a Linux kernel image for %s (%s); %s", path, for_arch,
		       arch ? format_header(arch->image_format) : "no bzImage or arm64 Image header", hint);
		break;
	}
	return -ENOEXEC;
}

int kimage_probe(const char *path, enum image_format *fmt, char *version, size_t vlen)
{
	return probe(NULL, path, fmt, version, vlen);
}

int kimage_check(const struct arch_profile *arch, const char *path, char *version, size_t vlen)
{
	enum image_format fmt;
	int err = probe(arch, path, &fmt, version, vlen);

	if (err)
		return err;
	if (fmt != arch->image_format) {
		pr_err("`%s` is an %s, not a kernel image for %s; %s", path,
		       kimage_kind_name(format_kind(fmt)), arch->name,
		       format_hint(arch->image_format));
		return -ENOEXEC;
	}
	return 0;
}
