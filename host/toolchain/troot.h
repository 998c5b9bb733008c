/* Toolchain roots: a Debian tree of a newer suite (sid by default) holding
 * the compilers a kernel tree's BPF selftests need (clang 22 for BPF arena
 * ASAN, gcc, pahole, the cross compilers and the target's libraries), made
 * once with mmdebstrap from the archive the system's apt already uses and
 * cached in $KTA_CACHE/toolchains/<name>/. The system's apt sources are
 * never touched. Builds run inside it through bubblewrap (a private mount
 * namespace: nothing stays mounted when the build ends, whatever happens).
 */
#ifndef KTA_TROOT_H
#define KTA_TROOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/arch.h"

/* The default suite and LLVM major version. 7.3.4's selftests need LLVM
 * 22 for BPF arena ASAN (libarena/src/asan.bpf.c fails in clang-19's BPF
 * backend); sid has clang-22. */
#define TROOT_DEFAULT_SUITE "sid"
#define TROOT_DEFAULT_LLVM "22"

struct troot {
	char dir[PATH_MAX];     /* $KTA_CACHE/toolchains/<name> */
	char root[PATH_MAX];    /* dir/root: the Debian tree */
	char name[96];          /* <suite>-<llvm>-<hash>: names the root in cache keys */
	char suite[32];
	char llvm[8];           /* "22": clang-22, llc-22, ... */
	char cache[PATH_MAX];   /* the kta cache, bound read-write inside */
	char versions[512];     /* "clang 22.1.8; gcc 16.2.0; pahole v1.32" */
};

struct troot_opts {
	const char *suite;                     /* NULL: TROOT_DEFAULT_SUITE ($KTA_TOOLCHAIN_SUITE) */
	const char *llvm;                      /* NULL: TROOT_DEFAULT_LLVM ($KTA_TOOLCHAIN_LLVM) */
	const struct arch_profile *const *arches; /* guest arches to build for (their cross
						 * compilers and libraries); the host's is always in */
	size_t narches;
	bool no_create;                        /* only an existing root: -ENOENT otherwise */
};

/* The root for these arches: reused when it exists, else made (a lock
 * keeps two kta from making it twice; a failure leaves nothing behind and
 * names what failed, with mmdebstrap's output). 0 or a negative errno.
 * The root is held until the process ends (base/centry.h), so that a newer
 * kta replacing an outdated root never removes one in use. */
int troot_ensure(const struct troot_opts *o, struct troot *out);

/* The argv prefix that runs a command inside the root: bwrap with the root
 * as /, a fresh /dev, /proc and /tmp, the kta cache and each of binds (a
 * NULL-terminated list of host directories) at the same paths, its own PID
 * namespace, dying with its parent. Allocated; free with troot_argv_free(). */
char **troot_prefix(const struct troot *r, const char *const *binds);
void troot_argv_free(char **argv);
/* The mount points troot_prefix() binds need in the read-only root. */
int troot_prepare_binds(const struct troot *r, const char *const *binds);

/* The package list for these arches (pure, for tests and the info file):
 * space-separated, in mmdebstrap's --include syntax. */
int troot_packages(const char *llvm, const struct arch_profile *const *arches, size_t n, char *out,
		   size_t size);

#endif
