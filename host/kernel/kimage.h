/* Kernel image format detection: is this file something QEMU's -kernel can
 * boot on the guest architecture, and which kernel version does it say it
 * is? Catches the common mistakes (vmlinux instead of bzImage, an arm64
 * Image for an x86_64 guest) before QEMU fails obscurely.
 */
#ifndef KTA_KIMAGE_H
#define KTA_KIMAGE_H

#include <stddef.h>

#include "base/arch.h"

/* What a buffer looks like, including the non-bootable cases worth a
 * specific message. */
enum kimage_kind {
	KIMAGE_UNKNOWN,
	KIMAGE_BZIMAGE,
	KIMAGE_ARM64,
	KIMAGE_RISCV,
	KIMAGE_S390,
	KIMAGE_ELF,      /* vmlinux or another ELF file */
	KIMAGE_GZIP,     /* gzip-compressed (e.g. arch/arm64/boot/Image.gz) */
	KIMAGE_ZBOOT,    /* EFI zboot (vmlinuz.efi): compressed, EFI-only */
	KIMAGE_MODULE,   /* an ELF relocatable: a .ko */
};

/* Bytes kimage_probe_buf() needs to see to find everything it looks for
 * (the bzImage version string lives in the setup code, < 64 KiB; the s390
 * magic sits at 0x10008). */
#define KIMAGE_PROBE_BYTES (68 * 1024)

/* Pure: classify buf; for a bzImage copy the version (first word of the
 * header's version string) into version, "" when absent. Never reads past
 * len. */
enum kimage_kind kimage_probe_buf(const void *buf, size_t len, char *version, size_t vlen);

/* Probe a file: 0 with *fmt and version set, or a negative errno after
 * logging what is wrong and what to pass instead: -ENOENT (missing),
 * -EISDIR (a directory), -ENOEXEC (not a bootable kernel image). The format
 * is not checked against an architecture here; see kimage_check(). */
int kimage_probe(const char *path, enum image_format *fmt, char *version, size_t vlen);

/* kimage_probe() plus: the image's format must be arch's. */
int kimage_check(const struct arch_profile *arch, const char *path, char *version, size_t vlen);

const char *kimage_kind_name(enum kimage_kind kind);

#endif
