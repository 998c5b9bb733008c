/* PVH direct boot on x86_64: QEMU jumps straight to the 32-bit entry an
 * uncompressed vmlinux names in its Xen PVH note, skipping firmware's
 * real-mode setup and the kernel's own decompression (770 ms of a Debian
 * kernel's boot under TCG: docs/boot.md). The vmlinux is taken once out of
 * the bzImage's payload and kept in the cache, keyed by the bzImage.
 */
#ifndef KTA_KPVH_H
#define KTA_KPVH_H

#include <stddef.h>
#include <stdint.h>

/* Pure: the PVH entry point in an ELF64 little-endian image's PT_NOTE
 * segments (a "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY). 0 with *entry,
 * -ENOEXEC when buf is no such ELF, -ENOENT when it has no PVH note. Never
 * reads past len. */
int kpvh_entry(const void *buf, size_t len, uint32_t *entry);

/* The PVH-bootable vmlinux of the bzImage at image (sha256: its hash, as a
 * kernel entry has it, or "" to compute it), extracted into
 * $KTA_CACHE/vmlinux/ unless already there; its path in out. -ENOENT when
 * the image cannot boot that way (not a bzImage, no PVH note: a kernel
 * without CONFIG_PVH), which is said at debug level only: the caller boots
 * the bzImage instead. */
int kpvh_image(const char *image, const char *sha256, char *out, size_t outsz);

#endif
