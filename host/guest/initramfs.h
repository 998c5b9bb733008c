/* The guest's root filesystem: a list of entries turned into a newc
 * archive, cached under $KTA_CACHE/initramfs/<sha256>.cpio.
 */
#ifndef KTA_INITRAMFS_H
#define KTA_INITRAMFS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct initramfs_entry {
	char *dest;    /* absolute path in the guest */
	char *src;     /* host file to copy, or NULL */
	char *data;    /* inline contents, or symlink target */
	size_t len;
	mode_t mode;   /* S_IFREG/S_IFDIR/S_IFLNK | perm */
};

struct initramfs {
	struct initramfs_entry *e;
	size_t n, cap;
};

void initramfs_free(struct initramfs *fs);
int initramfs_add_file(struct initramfs *fs, const char *dest, const char *src, mode_t perm);
int initramfs_add_data(struct initramfs *fs, const char *dest, const void *data,
		       size_t len, mode_t perm);
int initramfs_add_symlink(struct initramfs *fs, const char *dest, const char *target);
/* Build (or reuse) the archive; out gets its path. Parent directories are
 * added automatically; entries are sorted, so insertion order is irrelevant. */
int initramfs_build(struct initramfs *fs, const char *cache, char *out, size_t outsz,
		    char hash[65]);
/* The cache of archives is least-recently-used, capped at
 * $KTA_INITRAMFS_CACHE_GB (base/cache.c): every run with other tests or
 * options writes a new one (9.3 GB after a month of this project's own
 * runs). A hit refreshes the archive's mtime. */
/* The archive bytes alone, for tests. */
struct cpio;
int initramfs_write_cpio(struct initramfs *fs, struct cpio *c);

#endif
