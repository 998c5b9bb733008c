/* The newc writer. Names are stored without a leading '/', as the kernel's
 * own usr/gen_init_cpio does; every header and every data block is padded
 * to 4 bytes.
 */
#include "guest/cpio.h"

#include <string.h>
#include <sys/stat.h>

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
	c->ino = 1;
}

void cpio_free(struct cpio *c)
{
	buf_free(&c->out);
}

static int pad4(struct cpio *c)
{
	static const char zeros[4];
	size_t r = c->out.len & 3;

	return r ? buf_append(&c->out, zeros, 4 - r) : 0;
}

static int add_entry(struct cpio *c, const char *name, mode_t mode, const void *data,
		     size_t len)
{
	char hdr[128];
	size_t namesz;
	int err;

	if (c->finished)
		return -EINVAL;
	while (*name == '/')
		name++;
	if (!*name || len > 0xffffffffu || strlen(name) > 4096)
		return -EINVAL;
	namesz = strlen(name) + 1;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 c->ino++, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u,
		 (unsigned)len, 0u, 0u, 0u, 0u, (unsigned)namesz, 0u);
	err = buf_append(&c->out, hdr, 110);
	err = err ?: buf_append(&c->out, name, namesz);
	err = err ?: pad4(c);
	if (len)
		err = err ?: buf_append(&c->out, data, len);
	return err ?: pad4(c);
}

int cpio_add_dir(struct cpio *c, const char *name, mode_t perm)
{
	return add_entry(c, name, S_IFDIR | (perm & 07777), NULL, 0);
}

int cpio_add_file(struct cpio *c, const char *name, mode_t perm, const void *data,
		  size_t len)
{
	return add_entry(c, name, S_IFREG | (perm & 07777), data, len);
}

int cpio_add_symlink(struct cpio *c, const char *name, const char *target)
{
	return add_entry(c, name, S_IFLNK | 0777, target, strlen(target));
}

int cpio_finish(struct cpio *c)
{
	int err;

	c->ino = 0;
	err = add_entry(c, "TRAILER!!!", 0, NULL, 0);
	c->finished = 1;
	return err;
}
