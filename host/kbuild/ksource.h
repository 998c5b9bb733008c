/* Kernel source trees from Debian: `--source debian:7.3` is the
 * linux-source-7.3 binary package (its /usr/src/linux-source-7.3.tar.xz),
 * fetched with kta's private apt configuration and unpacked once into
 * $KTA_CACHE/sources/linux-source-<M.m>-<debian version>/.
 */
#ifndef KTA_KSOURCE_H
#define KTA_KSOURCE_H

#include <limits.h>
#include <stdbool.h>

struct ksource {
	char dir[PATH_MAX];     /* the unpacked kernel tree */
	char package[64];       /* linux-source-7.3 */
	char version[96];       /* 7.3.4-1~bpo13+1 */
	char identity[256];     /* package, version and the tarball's sha256 */
	bool cached;            /* found in the cache: nothing downloaded */
};

/* want: "7.3" (the newest 7.3 there is: a cached one if any, else the
 * archive's), "7.3.4", "6.12". Returns -ENOPKG after listing what Debian
 * has when no package matches, -EINTR when interrupted (nothing left
 * behind), -ENOSPC when the cache's disk is too small. */
int ksource_fetch(const char *want, struct ksource *out);

/* Pure helpers, for tests: "7.3.4" -> "linux-source-7.3"; -EINVAL for
 * something that is not a version. */
int ksource_package(const char *want, char *out, size_t size);
/* Does Debian version v ("7.3.4-1~bpo13+1") match want ("7.3", "7.3.4")? */
bool ksource_version_matches(const char *v, const char *want);

#endif
