/* Debian source packages in the kta cache: the guest toolchain builds
 * libbpf (and anything else a suite needs newer than Debian 12 ships) from
 * Debian's own source packages, fetched with the private apt configuration
 * and unpacked with dpkg-source into $KTA_CACHE/sources/<name>-<version>.
 */
#ifndef KTA_SOURCE_H
#define KTA_SOURCE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Not an errno apt or the file system produce here: the archive has no
 * such source package, or no version matching the request. */
#define SOURCE_ENOPKG (-ENOPKG)

struct source_entry {
	char dir[PATH_MAX];  /* $cache/sources/<name>-<version without epoch> */
	char name[128];      /* the source package's name */
	char version[96];    /* its Debian version (with epoch, if any) */
	bool cached;         /* found in the cache, nothing downloaded */
};

struct source_avail {
	char version[96];
	bool cached;
};

/* Fetch (or find in the cache) the source package name (a source or a
 * binary package name) at the newest version matching want: NULL or
 * "latest" for the newest in bookworm..sid, a full Debian version
 * ("1.5.0-3", epoch optional) or an upstream prefix ("1.5.0", "1.5").
 * A cached match is used without any apt run, except for "latest", which
 * is re-resolved when the package lists are refreshed (daily). Returns
 * SOURCE_ENOPKG when Debian has no such package or version, -EINTR when
 * interrupted (*sig says by which signal; nothing is left behind). */
int source_fetch(const char *name, const char *want, struct source_entry *out, int *sig);

/* The versions the archive has of name, oldest first (*out malloc'ed). */
int source_list(const char *name, struct source_avail **out, size_t *n, char *srcname, size_t size);

/* Pure helpers, for tests. */
bool source_version_matches(const char *version, const char *want);
/* The stanza of `apt-cache showsrc` output with the highest version
 * matching want; its Package in name (size name_size), Version in version,
 * and the summed sizes of its Files in *size. -ENOENT when none matches. */
int source_pick(const char *text, const char *want, char *name, size_t name_size, char *version,
		size_t version_size, uint64_t *size);
/* Sum of the sizes in a stanza's multi-line `Files:` field. */
uint64_t source_files_size(const char *stanza, size_t len);
/* "<name>-<version without epoch>": the cache entry's directory name. */
int source_dir_name(const char *name, const char *version, char *out, size_t size);
bool source_valid_name(const char *name);

#endif
