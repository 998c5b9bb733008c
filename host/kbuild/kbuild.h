/* `kta kernel build`: a minimal kernel from a tree (a directory, or
 * Debian's linux-source package), with a patch series applied to a private
 * copy, configured from tinyconfig plus kernel-config/ fragments, checked
 * (every requested option survived), built out of tree and cached by a key
 * of everything that decides the image. docs/kernel-build.md explains it.
 */
#ifndef KTA_KBUILD_H
#define KTA_KBUILD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arch.h"
#include "base/util.h"

/* Project error codes (negative, beside -errno). */
#define KBUILD_EBUILD (-2001)     /* the kernel did not compile or link */
#define KBUILD_ECONFIG (-2002)    /* a requested option did not survive */
#define KBUILD_ECONFLICT (-2003)  /* the patch series does not apply */
#define KBUILD_ENOTESTS (-2004)   /* the tree has no BPF selftests (kta selftests) */

#define KBUILD_DEFAULT_SOURCE "debian:7.3"
#define KBUILD_DEFAULT_FRAGMENTS "base,bpf,sockmap,asan"
/* The fragment name that stands for the tree's BPF selftests config files
 * (tools/testing/selftests/bpf/config, config.vm, config.<arch>, advisory)
 * and kernel-config/selftests.config (kta's needs, strict). */
#define KBUILD_SELFTESTS_FRAGMENT "selftests"

struct troot;
struct patch_series;

struct kbuild_opts {
	const struct arch_profile *arch;
	const char *tree;         /* --tree DIR, or NULL */
	const char *source;       /* --source debian:VERSION (default when no tree) */
	const char *fragments;    /* comma-separated names or paths; the arch's is added */
	const char *patches;      /* a series file (or directory, or one patch), or NULL */
	unsigned int jobs;        /* make -j; 0: the number of CPUs */
	const char *artifacts;    /* logs and the merged config; NULL: kta-out/kbuild-<time> */
	bool config_only;         /* stop after the config check */
	bool cached_only;         /* a cache hit or -ENODATA: never build */
	bool force;               /* rebuild even if cached */
	bool clean;               /* empty the workspace's build directory first (a full build) */
	bool no_ccache;
	bool progress;            /* a progress line on stderr (a TTY) */
	/* Build with this toolchain root's compilers and pahole (troot.h);
	 * NULL: the host's. */
	const struct troot *troot;
	/* Where the fragments start from: "tinyconfig" (the default), or
	 * "defaults" (an empty .config: Kconfig's defaults, as BPF CI and the
	 * selftests' vmtest.sh configure; the default with `selftests`). */
	const char *base;
};

struct kbuild_result {
	char image[PATH_MAX];     /* the cached image (or, config_only, "") */
	char config[PATH_MAX];    /* its .config (config_only: in the artifacts) */
	char key[65];
	char artifacts[PATH_MAX];
	bool cached;              /* a cache hit: nothing was built */
	size_t options;           /* CONFIG_ lines set in the .config */
	uint64_t build_ms;        /* make's time (0 on a hit) */
	/* With the selftests fragment, the entry also keeps what building
	 * the selftests against this kernel needs: vmlinux's BTF (an ELF with
	 * only .BTF) and the test modules built with the kernel (bpf_testmod.ko
	 * ...), in testmods/. "" when the entry has none. */
	char btf[PATH_MAX];
	char testmods[PATH_MAX];
};

/* A kernel tree as a build sees it (kbuild_ws.c). */
struct ktree {
	char tree[PATH_MAX];        /* the tree as given (or fetched) */
	char srcloc[PATH_MAX + 16]; /* "tree:DIR" or "debian:PACKAGE": names workspaces */
	char identity[512];         /* the cache keys' view of its content */
	char kversion[96];          /* "7.3.4" */
};

/* --tree DIR or --source debian:V (default KBUILD_DEFAULT_SOURCE, fetched
 * if needed), checked as a kernel tree of srcarch, with its identity. */
int ktree_resolve(const char *tree, const char *source, const char *srcarch, struct ktree *t);
/* given, or kta-out/<kind>-<time>-<arch>-<pid>, made and resolved. */
int kbuild_artifacts_dir(const char *given, const char *kind, const char *arch, char *out, size_t size);
/* One build per workspace at a time: an flock on <ws>/.lock (waits, says
 * so); the fd, or a negative errno (-EINTR when a signal stops the wait). */
int kbuild_lock_workspace(const char *ws);
/* src: the tree's hard-link snapshot with the series (or none) applied,
 * reused while both are the same, patch statuses printed, rejected hunks
 * in <art>/patches; KBUILD_ECONFLICT when the series does not apply. */
int kbuild_prepare_src(const char *ws, const char *src, const struct ktree *t, const char *patches_sha,
		       struct patch_series *series, const char *art);

/* --patches: the series loaded into s (*have set), its sha256 into sha;
 * "none" without one. -EINVAL for a bad series (said why). */
int kbuild_load_series(const char *path, struct patch_series *s, bool *have, char sha[65]);
/* The process exit code of a build's error (kernel or selftests): 0,
 * 125 (does not apply or build: git bisect skips), 128 bad input, 200
 * infrastructure, 130/143 interrupted, 1 for --cached's miss. */
int kbuild_exit_code(int err);

/* Does a --fragments list name the selftests fragment? */
bool kbuild_fragments_have_selftests(const char *list);

/* Run the whole pipeline. 0, or a negative errno / KBUILD_E* code after
 * logging what went wrong. */
int kbuild_run(const struct kbuild_opts *o, struct kbuild_result *res);

/* The inputs of the cache key, each a short text. */
struct kbuild_key_in {
	const char *tree;         /* tree identity: git commit + dirty hash, or the tarball's hash */
	const char *patches;      /* the series' sha256, or "none" */
	const char *config;       /* sha256 of the merged .config */
	const char *toolchain;    /* compiler (and linker, pahole) versions */
	const char *arch;
};

/* sha256 over the inputs, in a fixed framing (pure). */
void kbuild_key(const struct kbuild_key_in *in, char hex[65]);

/* Identity of a source tree: "git:<commit> dirty:<sha256|clean>" for a git
 * work tree whose root is dir, else "files:<sha256>" of every file's path,
 * size and mtime (a content hash of 1.8 GB would cost seconds per build). */
int kbuild_tree_identity(const char *dir, char *out, size_t size);

/* Internal to kbuild_tree.c: a hard-link snapshot of src at dst (dst is
 * replaced; the top-level .git is left out), and the check that dir is a
 * kernel tree fit for an O= build (version: "7.3.4"). */
int kbuild_snapshot(const char *src, const char *dst);
int kbuild_check_tree(const char *dir, const char *srcarch, char *version, size_t vsize);
/* A snapshot made again after a series changed: make decides by mtime,
 * and a file a previous series had patched comes back as the tree's own,
 * with its old mtime. Before the new snapshot, _diverged() lists dst's
 * files that are not src's (NUL-separated); after the new series is
 * applied, _refresh() replaces those that are src's own again by copies
 * with a new mtime. */
int kbuild_snapshot_diverged(const char *src, const char *dst, struct buf *out);
int kbuild_snapshot_refresh(const char *src, const char *dst, const struct buf *paths);
/* The patch table of an applied series, through the log. */
void kbuild_print_patches(const struct patch_series *s);

/* Internal to kbuild_cache.c: the entry of key (fills res, cached=true),
 * publishing obj's image, .config and System.map (and the files of the
 * directory extra, when not NULL) with info as a new entry,
 * and the request index. */
bool kbuild_cache_lookup(const char *cache, const char *key, struct kbuild_result *res);
int kbuild_cache_store(const char *cache, const char *key, const char *obj, const char *image,
		       const char *extra, const char *info, struct kbuild_result *res);
void kbuild_request_remember(const char *cache, const char *req, const char *key);
int kbuild_request_lookup(const char *cache, const char *req, struct kbuild_result *res);

/* Internal to kbuild_make.c: run make with the output in log_path and,
 * when progress, a status line on stderr. On failure, print the last
 * compiler errors; KBUILD_EBUILD, -ENOSPC, -EINTR. */
int kbuild_make(char *const argv[], char *const *prefix, const char *const *env, const char *log_path,
		bool progress, const char *what);
/* How many objects the log shows compiled (CC/AS lines), for reports. */
size_t kbuild_log_objects(const char *log_path);

#endif
