/* A guest architecture's build inputs that Debian 12's cross toolchains do
 * not carry: busybox (the guest's shell) and the static libraries libbpf
 * links (libelf, zlib, zstd), fetched as that architecture's Debian
 * packages through the private apt and unpacked into
 * $KTA_CACHE/sysroot/<deb_arch>/. Native builds use the system's own.
 */
#ifndef KTA_SYSROOT_H
#define KTA_SYSROOT_H

#include <limits.h>

#include "base/arch.h"

struct sysroot {
	char dir[PATH_MAX];      /* the root: usr/include, usr/lib/<multiarch> */
	char busybox[PATH_MAX];  /* its static busybox */
};

/* Fill out from the cache, fetching (once) when absent. */
int sysroot_fetch(const struct arch_profile *arch, struct sysroot *out);

/* The busybox for a guest of this arch: /bin/busybox (busybox-static) on
 * the host's own arch, else the sysroot's, fetched on first use. */
int sysroot_busybox(const struct arch_profile *arch, char *out, size_t size);

#endif
