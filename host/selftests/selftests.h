/* The kernel's own BPF selftests (tools/testing/selftests/bpf): test_progs
 * built from a tree with a patch series applied, against the BTF of the
 * kernel that will run it, in a toolchain root (troot.h), and packed as a
 * small root filesystem (test_progs, its BPF objects and test modules, the
 * shared libraries it needs, busybox) in an ext4 image the guest mounts.
 * docs/selftests.md explains it.
 */
#ifndef KTA_SELFTESTS_H
#define KTA_SELFTESTS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arch.h"
#include "kbuild/kbuild.h"
#include "base/util.h"

/* The tree has no tools/testing/selftests/bpf (kbuild.h's code). */
#define ST_ENOSELFTESTS KBUILD_ENOTESTS

struct st_opts {
	const struct arch_profile *arch;
	const char *tree;            /* --tree DIR, or NULL */
	const char *source;          /* debian:VERSION (default: kbuild's) */
	const char *patches;         /* a series, or NULL: none */
	bool asan;                   /* ASAN=1 */
	/* Build with the host's compilers instead of the toolchain root's:
	 * enough for a tree whose selftests the host's clang and gcc can
	 * build (kta's own test fixtures), never for 7.3's. The test modules
	 * and the kernel still come as configured. */
	bool host_toolchain;
	/* The kernel the tests will run on, whose BTF they are built
	 * against: by default the kta-built selftests kernel of the same tree
	 * and series (`kta kernel build --fragments selftests`); or a Debian
	 * kernel (kernel_version, flavour); or an image (kernel_path). */
	const char *kernel_path;
	const char *kernel_version;
	const char *flavour;
	unsigned int jobs;
	const char *artifacts;       /* NULL: kta-out/selftests-<time>-<arch>-<pid> */
	bool force;
	bool progress;
	bool quiet;                  /* a cache hit says nothing */
};

struct st_result {
	char dir[PATH_MAX];          /* the cache entry $KTA_CACHE/selftests/<key> */
	char root[PATH_MAX];         /* dir/root: what the guest runs from */
	char image[PATH_MAX];        /* dir/payload.ext4: root as an ext4 image */
	char key[65];
	char kernel[PATH_MAX];       /* the kernel image they were built for */
	char kernel_config[PATH_MAX]; /* its .config ("" when unknown) */
	char kernel_desc[256];       /* "kta 7.3.4 (key ...)" or "debian 7.3.4+deb13-cloud-amd64" */
	char kernel_version[96];
	char tree_desc[PATH_MAX];    /* the tree and series, for reports */
	char artifacts[PATH_MAX];
	bool cached;
	bool testmods;               /* bpf_testmod.ko and friends are in the payload */
	uint64_t build_ms;           /* selftests build (0 on a hit) */
	uint64_t kernel_ms;          /* kernel build in this call (0: cached or Debian's) */
	uint64_t payload_bytes;
};

/* Build (or find in the cache) the selftests for o. 0, or a negative errno
 * / KBUILD_E* / ST_E* after saying what went wrong. */
int st_build(const struct st_opts *o, struct st_result *res);

/* Read an entry's selftests.info into res (dir is the entry). */
int st_entry_load(const char *dir, struct st_result *res);

/* The top-level tests test_progs has (tests.txt of the entry), one per
 * line; -ENOENT when the entry has no list. */
int st_test_names(const struct st_result *res, struct buf *out);

/* BTF of a kernel image: the raw .BTF blob found in the image (a bzImage's
 * compressed payload is unpacked first), written to out. Debian's images
 * keep it (CONFIG_DEBUG_INFO_BTF); -ENOENT when there is none. */
int st_image_btf(const char *image, const char *out);

/* cmd_selftests.c: the build options (argv[0] is the verb): -1 to go on,
 * else an exit code. (An st_build() error's exit code: kbuild_exit_code.) */
#include <stdio.h>
int st_parse_opts(int argc, char **argv, struct st_opts *o, void (*usage_fn)(FILE *));

#endif
