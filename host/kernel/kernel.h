/* The kernel a run boots: a Debian prebuilt kernel fetched into the cache
 * (kernel_fetch) or an image a developer built (kernel_from_path), with its
 * config and the uncompressed modules the guest must load, in order.
 */
#ifndef KTA_KERNEL_H
#define KTA_KERNEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/arch.h"

/* What `kta run` and `kta kernel fetch` fetch when no version is given. */
#define KERNEL_DEFAULT_VERSION "7.3"

struct kernel {
	char image[PATH_MAX];     /* bzImage / Image to boot */
	char version[128];        /* "7.3.4+deb13-cloud-amd64", or from the image header */
	char config[PATH_MAX];    /* kernel .config, "" if unknown */
	char **modules;           /* uncompressed .ko paths, in load order (deps first); NULL if none */
	size_t nr_modules;
	char sha256[65];          /* of the image */
	char source[256];         /* "debian:linux-image-7.3.4+deb13-cloud-amd64 7.3.4-1~bpo13+1" or "file" */
	char dir[PATH_MAX];       /* the cache entry holding all of the above; "" for "file" */
	bool image_only;          /* Debian kept only its image: no config, no modules */
};

/* Resolve a Debian prebuilt kernel: version is "7.3", "7.3.4", "6.1",
 * "6.12", "latest" (NULL: KERNEL_DEFAULT_VERSION); flavour NULL means
 * arch->deb_flavour. Uses the cache when present; fetches (private apt)
 * otherwise. -ENOENT when the archive has no such version (after saying
 * which versions it has), -ENOSPC when the cache's disk is too small. */
int kernel_fetch(const struct arch_profile *arch, const char *version, const char *flavour,
		 struct kernel *out);
/* kernel_fetch() for a run with a disk (--image): also the modules of
 * arch->disk_modules the kernel does not build in. An entry fetched this
 * way serves runs without a disk too. */
int kernel_fetch_disk(const struct arch_profile *arch, const char *version, const char *flavour,
		      struct kernel *out);

/* "virtio_pci virtio_console" (+ " virtio_blk" with disk): a cache
 * entry's modules_for, what it was fetched for. */
void kernel_modules_for(const struct arch_profile *arch, bool disk, char *out, size_t size);

/* A kernel image a user built: validate it is a kernel for this arch (clear
 * error otherwise), fill version from the image header where the format
 * has one, and config from a .config found beside it (a kernel tree's
 * arch/<arch>/boot/ image, or config-<version> beside /boot/vmlinuz-<version>). */
int kernel_from_path(const struct arch_profile *arch, const char *path, struct kernel *out);

void kernel_free(struct kernel *k);

/* An image-only kernel's boot, recorded in its cache entry by the run
 * that tried it (kernel.boot: "boots" or "did not boot: WHY"), for
 * `kta kernel list` and bisect. A no-op for other kernels. */
void kernel_note_boot(const struct kernel *k, bool booted, const char *why);
/* What kernel_note_boot recorded for abi-flavour in arch's cache: "" if nothing. */
void kernel_boot_note(const struct arch_profile *arch, const char *flavour, const char *abi, char *out, size_t n);

/* A kernel the archive has, for `kta kernel list`. */
struct kernel_avail {
	char abi[128];   /* "6.1.0-47", "7.3.4+deb13", ... */
	bool complete;   /* false: only the image is left (no config, no modules) */
	char boot[160];  /* an image-only kernel's recorded boot: "", "boots", "did not boot: ..." */
	bool cached;
};

/* The kernels the archive has for arch/flavour matching version (NULL or
 * "latest": all), oldest first; *out is malloc'ed (NULL when n is 0). */
int kernel_list(const struct arch_profile *arch, const char *version, const char *flavour,
		struct kernel_avail **out, size_t *n);

/* Pure helpers, exposed for unit tests. */
/* "7.3" matches "7.3.4+deb13" and "7.3", not "7.30.1"; "6.1" does not
 * match "6.12.107+deb13"; "latest" matches everything. */
bool kernel_version_matches(const char *abi, const char *want);
/* The ABI version of "linux-image-<abi>-<flavour>", or -EINVAL when pkg is
 * another flavour, a -dbg/-unsigned package or a meta package. */
int kernel_abi_from_pkg(const char *pkg, const char *flavour, char *abi, size_t size);

/* Internal to kernel_fetch.c: download and unpack the packages of
 * linux-image-<abi>-<flavour> (either layout) in a temp dir under kdir and
 * rename the finished entry to dest. Holds no lock; the caller does. */
struct apt;
int kernel_unpack(const struct arch_profile *arch, const struct apt *apt, const char *kdir,
		  const char *flavour, const char *abi, const char *dest, bool disk);

/* `kta kernel fetch|list ...` subcommand entry (argv[0] is "kernel").
 * Returns a process exit code. */
int cmd_kernel(int argc, char **argv);

#endif
