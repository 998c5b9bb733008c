/* cpio "newc" archives, the format the kernel unpacks as an initramfs.
 * Output is deterministic: no timestamps, owners or host inode numbers leak
 * into it, so the same entries always give the same bytes.
 */
#ifndef KTA_CPIO_H
#define KTA_CPIO_H

#include <sys/types.h>

#include "base/util.h"

struct cpio {
	struct buf out;
	unsigned int ino;
	int finished;
};

void cpio_init(struct cpio *c);
void cpio_free(struct cpio *c);
int cpio_add_dir(struct cpio *c, const char *name, mode_t perm);
int cpio_add_file(struct cpio *c, const char *name, mode_t perm, const void *data,
		  size_t len);
int cpio_add_symlink(struct cpio *c, const char *name, const char *target);
/* Append the TRAILER!!! entry; no entry may follow. */
int cpio_finish(struct cpio *c);

#endif
