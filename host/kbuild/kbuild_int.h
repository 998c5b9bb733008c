/* Internal to kbuild*.c: one `kta kernel build` request as it goes
 * through its steps (kbuild.c drives, kbuild_config.c configures).
 */
#ifndef KTA_KBUILD_INT_H
#define KTA_KBUILD_INT_H

#include <limits.h>

#include "kbuild/kbuild.h"
#include "kbuild/kconf.h"
#include "kbuild/patches.h"
#include "base/sha256.h"

struct build {
	const struct kbuild_opts *o;
	const struct arch_profile *arch;
	char cache[PATH_MAX];
	struct ktree t;
	char ws[PATH_MAX], src[PATH_MAX], obj[PATH_MAX];
	char art[PATH_MAX];
	char cc[128];               /* CC= for make */
	char cross[96];             /* CROSS_COMPILE= (LD, OBJCOPY, ...) */
	char toolchain[1024];
	struct kopts want;
	struct buf fraglist;        /* the fragment paths in merge order, one per line */
	struct sha256 fraghash;
	struct patch_series series;
	bool have_series;
	char patches_sha[65];
	char env_basedir[PATH_MAX + 32];
	char env_ccache[PATH_MAX + 32];
	const char *env[5];
	char **prefix;              /* the toolchain root's bwrap, or NULL */
	bool selftests;             /* the selftests fragment is in the list */
	const char *base;           /* "tinyconfig" or "defaults" */
};

/* Fragments (the arch's after base) into b->want, b->fraglist and
 * b->fraghash; -EINVAL for an unknown or malformed one. tree: where the
 * selftests fragment's files are (the tree, or the patched snapshot), or
 * NULL to check the others before the tree is known. */
int kbuild_load_fragments(struct build *b, const char *tree);
/* Compiler, linker and pahole versions into b->toolchain; CC= into b->cc. */
int kbuild_toolchain(struct build *b);
/* make -C src O=obj ARCH= CC= -jN target, output to log. */
int kbuild_make_in(struct build *b, const char *target, const char *log, const char *what, bool progress);
/* The merged, checked config of the workspace; its path in the artifacts. */
int kbuild_configure(struct build *b, char *config_path, size_t size, struct kbuild_result *res);
/* A long multi-line report through the log. */
void kbuild_log_report(const char *head, const char *report);

#endif
