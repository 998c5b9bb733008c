/* A user's disk image as the guest's root (`kta run --image`, docs/image.md):
 * checks before any boot (qemu-img), what libguestfs's inspection says about
 * it (cached by the image's hash), the copy-on-write overlay the guest
 * writes instead of the image, and the files pulled out of that overlay
 * after the run. libguestfs itself is in the kta-guestfs helper beside kta
 * (host/guestfs/kta-guestfs.c): kta never links it.
 */
#ifndef KTA_IMAGE_H
#define KTA_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where tests write what the host pulls after the run (KTA_OUT). */
#define IMAGE_OUT_DIR "/var/lib/kta/out"
/* Where the agent mounts the image's root in the guest. */
#define IMAGE_GUEST_ROOT "/mnt/root"

struct image {
	char path[PATH_MAX];     /* absolute */
	char format[16];         /* qemu-img's: qcow2, raw, ... */
	uint64_t virtual_size;
	bool read_only;          /* the file is read-only: fine, kta never writes it */
	char sha256[65];
	/* Inspection. */
	char root[128];          /* libguestfs's device: /dev/sda1 */
	char guest_dev[32];      /* the guest's: vda1 */
	char fstype[32];
	char distro[64], product[160], os_arch[32], hostname[64];
	int major, minor;
	bool cached;             /* inspection came from the cache */
	double t_hash_s, t_inspect_s;
	char helper_env[PATH_MAX + 32]; /* LIBGUESTFS_CACHEDIR=... for kta-guestfs */
	/* The run's overlay, "" when none. */
	char overlay[PATH_MAX];
};

/* Check path before any boot and inspect it: -ENOENT missing, -ENOTBLK
 * not a disk image or a corrupt one (qemu-img check), -EBUSY in use by another process (QEMU's lock),
 * -ENOMEDIUM no root filesystem libguestfs recognises or one the guest
 * cannot mount (LVM, btrfs subvolume), -ENOEXEC no kta-guestfs helper;
 * each said once. Nothing is written except kta's cache. */
int image_open(const char *path, const char *cache, struct image *img);

/* <dir>/overlay.qcow2 over the image; img->overlay names it. */
int image_overlay_create(struct image *img, const char *dir);

/* Remove the overlay unless keep; either way say where it is or was. */
void image_overlay_drop(struct image *img, bool keep);

/* Copy paths (absolute, in the image's root) out of the overlay into
 * <dir>/image-files/: one libguestfs launch. Missing paths are listed in
 * the log, not an error. *secs: the launch's time. */
int image_pull(const struct image *img, const char *dir, const char *const *paths, size_t n,
	       double *secs);

/* "debian 12.15, x86_64", "unknown 1.0 (kta small image 1.0), x86_64":
 * what libguestfs's inspection says, for reports. */
void image_os_name(const struct image *img, char *out, size_t n);

/* Pure, for unit tests. libguestfs's device of a root ("/dev/sda1") as
 * the guest sees it on virtio-blk ("vda1"): the image is the guest's first
 * disk. -ENOTSUP for what the agent cannot mount (LVM, md, btrfs
 * subvolumes, a second disk). */
int image_guest_dev(const char *root, char *out, size_t n);

#endif
