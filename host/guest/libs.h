/* Shared libraries for dynamically linked guest programs (the ASAN suites:
 * ASAN cannot be fully static). Finds the loader and the DT_NEEDED closure
 * in the architecture's library directories and adds them to the guest root
 * at the same paths.
 */
#ifndef KTA_LIBS_H
#define KTA_LIBS_H

#include <stddef.h>

#include "base/arch.h"
#include "guest/initramfs.h"

struct elf_deps {
	char interp[256];
	char needed[32][128];
	unsigned int nneeded;
};

/* Pure: PT_INTERP and DT_NEEDED of an ELF image in memory. */
int elf_deps_parse(const void *buf, size_t len, struct elf_deps *out);

struct libset {
	char (*guest)[256]; /* guest paths already added */
	size_t n;
};

void libset_free(struct libset *s);
/* Add exe's loader and libraries (recursively) to fs, once each. */
int libs_add(struct initramfs *fs, struct libset *s, const struct arch_profile *arch,
	     const char *exe);

/* The same closure for any destination: add(ctx, guest path, host path)
 * for each file, looked up under sysroot (a toolchain root: its
 * multiarch and cross directories hold the arch's libraries) or, when
 * sysroot is NULL, in the host's directories. */
typedef int (*libs_add_fn)(void *ctx, const char *guest, const char *host);
int libs_resolve(struct libset *s, const struct arch_profile *arch, const char *sysroot, const char *exe,
		 libs_add_fn add, void *ctx);

#endif
