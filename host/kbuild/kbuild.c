/* `kta kernel build`, step by step: resolve the tree (a directory, or
 * Debian's linux-source fetched into the cache), load the fragments and the
 * patch series, snapshot the tree (hard links) in a per-tree workspace and
 * patch the snapshot, configure out of tree (tinyconfig, merge_config.sh
 * -m, olddefconfig), check that every requested option survived, then
 * build and publish $KTA_CACHE/builds/<key>/ with one rename (the config
 * step is kbuild_config.c, the cache kbuild_cache.c, make kbuild_make.c).
 *
 * The workspace ($KTA_CACHE/kbuild/<hash>-<arch>/: src/ and obj/, one per
 * tree, arch and fragment list) lives on between builds, so a second build
 * after a one-file change recompiles one file. A request index ($KTA_CACHE/builds/requests/) maps the inputs
 * that decide a config (tree, fragments, patches, toolchain) to the key,
 * so a repeated request is a hit without running Kconfig.
 */
#include "kbuild/kbuild.h"
#include "kbuild/kbuild_int.h"
#include "kbuild/kconf.h"
#include "kbuild/ksource.h"
#include "base/cache.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "kbuild/patches.h"
#include "base/pathf.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "toolchain/troot.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* Generous for a minimal kernel with DWARF (for BTF): obj/ is ~1.5 GB. */
#define BUILD_SPACE (3ull << 30)

static void build_free(struct build *b)
{
	troot_argv_free(b->prefix);
	kopts_free(&b->want);
	buf_free(&b->fraglist);
	if (b->have_series)
		patch_series_free(&b->series);
}

static int hex_of(const char *text, size_t len, char hex[65])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, text, len);
	sha256_hex(&h, hex);
	return 0;
}

/* The request key: what decides the config (and so the key) without
 * running Kconfig. */
static void request_key(struct build *b, char hex[65])
{
	struct sha256 h = b->fraghash;
	char frag[65];
	struct kbuild_key_in in = { .tree = b->t.identity, .patches = b->patches_sha, .config = frag,
				    .toolchain = b->toolchain, .arch = b->arch->name };

	sha256_hex(&h, frag);
	kbuild_key(&in, hex);
}

/* With the selftests fragment: the modules (Module.symvers), the tree's
 * test modules built against this kernel (bpf_testmod.ko, ...), and
 * vmlinux's BTF, into <ws>/extra/ for the cache entry: what building and
 * running the selftests for this kernel needs, kept with the image so that
 * later builds in the workspace cannot change it. */
static int build_selftests_extras(struct build *b, const char *log, char *extra, size_t size)
{
	cleanup_free char *kmods = xasprintf("%s/tools/testing/selftests/bpf/test_kmods", b->src);
	cleanup_free char *kmobj = path_join(b->ws, "testmods-obj");
	cleanup_free char *mdir = NULL, *mo = NULL, *btf = NULL, *vmlinux = path_join(b->obj, "vmlinux");
	char objcopy[128];
	int err;

	if (!kmods || !kmobj || !vmlinux || pathf(extra, size, "%s/extra", b->ws))
		return -ENOMEM;
	err = rm_rf(extra);
	err = err ?: rm_rf(kmobj);
	err = err ?: mkdir_p(extra, 0755);
	if (err)
		return pr_err("cannot empty `%s`: %s", extra, strerror(-err)), err;
	pr_info("building the kernel's modules (Module.symvers, for the test modules)");
	err = kbuild_make_in(b, "modules", log, "modules build", b->o->progress);
	if (err)
		return err;
	if (path_exists(kmods)) {
		cleanup_free char *m = xasprintf("M=%s", kmods);
		cleanup_free char *o = xasprintf("MO=%s", kmobj);
		char jobs[32], odir[PATH_MAX + 4], arch[64];

		if (!m || !o)
			return -ENOMEM;
		snprintf(jobs, sizeof(jobs), "-j%u", b->o->jobs ? b->o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
		snprintf(odir, sizeof(odir), "O=%s", b->obj);
		snprintf(arch, sizeof(arch), "ARCH=%s", b->arch->kbuild_arch);
		char *argv[] = { "make", "-C", b->src, odir, arch, b->cc, b->cross, jobs, m, o,
				 "KBUILD_BUILD_USER=kta", "KBUILD_BUILD_HOST=kta", "modules", NULL };

		pr_info("building the selftests' test modules (bpf_testmod.ko, ...) against this kernel");
		err = kbuild_make(argv, b->prefix, b->env, log, b->o->progress, "test modules build");
		if (err)
			return err;
		mdir = path_join(extra, "testmods");
		err = mdir ? mkdir_p(mdir, 0755) : -ENOMEM;
		{
			char *cp[] = { "sh", "-c", "cp \"$0\"/*.ko \"$1\"/", kmobj, mdir, NULL };

			err = err ?: (spawn_run(cp, &(struct spawn_opts){ 0 }, NULL) ? -EIO : 0);
		}
		if (err)
			return pr_err("cannot copy the test modules from `%s`", kmobj), err;
	} else {
		pr_warn("the tree has no tools/testing/selftests/bpf/test_kmods: no bpf_testmod.ko");
	}
	/* An ELF with only .BTF: what the selftests' VMLINUX_BTF needs
	 * (bpftool reads it), 1/30 of vmlinux with DWARF. */
	snprintf(objcopy, sizeof(objcopy), "%sobjcopy", b->cross + strlen("CROSS_COMPILE="));
	btf = path_join(extra, "vmlinux.btf");
	if (!btf)
		return -ENOMEM;
	{
		char *argv[] = { objcopy, "--only-section=.BTF", vmlinux, btf, NULL };
		cleanup_buf struct buf out = { 0 };

		if (spawn_run(argv, &(struct spawn_opts){ .prefix = b->prefix }, &out))
			return pr_err("cannot extract vmlinux's BTF with %s: %s", objcopy, out.data ? out.data : ""),
			       -EIO;
	}
	return 0;
}

static int run(struct build *b, struct kbuild_result *res)
{
	const struct kbuild_opts *o = b->o;
	char req[65], key[65], config[PATH_MAX], ccache_dir[PATH_MAX], wsname[65], extra[PATH_MAX] = "";
	cleanup_close int lock = -1;
	uint64_t t0;
	int err;

	/* make runs in the tree (O=, CCACHE_BASEDIR): a relative KTA_CACHE
	 * would point elsewhere there. */
	err = cache_dir_abs(b->cache, sizeof(b->cache));
	if (err)
		return err;
	if (o->troot) {
		b->prefix = troot_prefix(o->troot, NULL);
		if (!b->prefix)
			return -ENOMEM;
	}
	if (o->base && strcmp(o->base, "tinyconfig") && strcmp(o->base, "defaults"))
		return pr_err("unknown --base `%s` (tinyconfig or defaults)", o->base), -EINVAL;
	/* Bad input first: nothing is fetched, copied or created for it. */
	err = kbuild_load_fragments(b, NULL);
	err = err ?: kbuild_toolchain(b);
	if (err)
		return err;
	err = kbuild_load_series(o->patches, &b->series, &b->have_series, b->patches_sha);
	if (err)
		return err;
	err = ktree_resolve(o->tree, o->source, b->arch->kbuild_srcarch, &b->t);
	/* The selftests fragment's files come from the tree. */
	if (!err && b->selftests)
		err = kbuild_load_fragments(b, b->t.tree);
	err = err ?: kbuild_artifacts_dir(o->artifacts, "kbuild", b->arch->name, b->art, sizeof(b->art));
	if (err)
		return err;
	snprintf(res->artifacts, sizeof(res->artifacts), "%s", b->art);
	request_key(b, req);
	if (!o->force && !o->config_only && !kbuild_request_lookup(b->cache, req, res)) {
		pr_info("cache hit: kernel %s (key %.12s) built before from the same tree, fragments, patches "
			"and toolchain", b->t.kversion, res->key);
		return 0;
	}
	if (o->cached_only) {
		pr_info("kernel %s for %s is not in the cache (--cached: not building it)", b->t.kversion,
			b->arch->name);
		return -ENODATA;
	}
	/* Unknown options fail fast, before any copying or Kconfig run (with
	 * a series, after it is applied: it may add options). */
	if (!b->have_series) {
		struct kindex ix;
		cleanup_buf struct buf report = { 0 };
		size_t bad;

		err = kindex_load(b->t.tree, b->arch->kbuild_srcarch, &ix);
		if (err)
			return pr_err("cannot read the Kconfig files of `%s`: %s", b->t.tree, strerror(-err)), err;
		bad = kcheck_unknown(&b->want, &ix, &report, NULL);
		kindex_free(&ix);
		if (bad) {
			cleanup_free char *head = xasprintf("kernel config fragments ask for %zu option%s that %s (%s) "
							    "does not have:", bad, bad == 1 ? "" : "s", b->t.tree,
							    b->t.kversion);

			kbuild_log_report(head ? head : "unknown options:", report.data);
			return KBUILD_ECONFIG;
		}
	}
	/* One workspace per tree, arch and fragment list: switching between
	 * fragment sets (kasan or not) does not rebuild everything. */
	{
		cleanup_free char *wskey = xasprintf("%s\n%s\n%s", b->t.srcloc, b->arch->name,
						     b->fraglist.data ? b->fraglist.data : "");

		if (!wskey)
			return -ENOMEM;
		hex_of(wskey, strlen(wskey), wsname);
	}
	err = pathf(b->ws, sizeof(b->ws), "%s/kbuild/%.16s-%s", b->cache, wsname, b->arch->name);
	err = err ?: pathf(b->src, sizeof(b->src), "%s/src", b->ws);
	err = err ?: pathf(b->obj, sizeof(b->obj), "%s/obj", b->ws);
	err = err ?: mkdir_p(b->obj, 0755);
	if (err)
		return pr_err("cannot create the build workspace `%s`: %s", b->ws, strerror(-err)), err;
	/* ccache: paths relative to the workspaces' parent, so every
	 * workspace (same src/obj layout) shares the cache. */
	if (pathf(ccache_dir, sizeof(ccache_dir), "%s/kbuild", b->cache))
		return -ENAMETOOLONG;
	snprintf(b->env_basedir, sizeof(b->env_basedir), "CCACHE_BASEDIR=%s", ccache_dir);
	b->env[0] = b->env_basedir;
	b->env[1] = "CCACHE_NOHASHDIR=1";
	b->env[2] = NULL;
	/* In a toolchain root, HOME is a tmpfs: ccache's objects go to the
	 * cache, one directory per compiler (a root made again with the same
	 * compiler keeps its objects). */
	if (o->troot) {
		char tc[65];

		hex_of(b->toolchain, strlen(b->toolchain), tc);
		snprintf(b->env_ccache, sizeof(b->env_ccache), "CCACHE_DIR=%s/ccache/%.16s", b->cache, tc);
		b->env[2] = b->env_ccache;
		b->env[3] = NULL;
	}
	lock = kbuild_lock_workspace(b->ws);
	if (lock < 0)
		return lock;
	if (o->clean && !o->config_only) {
		pr_info("removing the previous build in %s", b->obj);
		err = rm_rf(b->obj);
		err = err ?: mkdir_p(b->obj, 0755);
		if (err)
			return pr_err("cannot empty `%s`: %s", b->obj, strerror(-err)), err;
	}
	err = check_free_space(b->ws, o->config_only ? 256u << 20 : BUILD_SPACE, "a kernel build");
	err = err ?: kbuild_prepare_src(b->ws, b->src, &b->t, b->patches_sha, b->have_series ? &b->series : NULL,
					b->art);
	/* A series may change the selftests' config files: the snapshot's. */
	if (!err && b->selftests && b->have_series)
		err = kbuild_load_fragments(b, b->src);
	if (err)
		return err;
	pr_info("configuring %s (%s) for %s: %s + %s%s", b->t.tree, b->t.kversion, b->arch->name, b->base,
		o->fragments ? o->fragments : KBUILD_DEFAULT_FRAGMENTS,
		o->troot ? " with the toolchain root's compilers" : "");
	err = kbuild_configure(b, config, sizeof(config), res);
	if (err)
		return err;
	if (o->config_only) {
		snprintf(res->config, sizeof(res->config), "%s", config);
		return 0;
	}
	{
		cleanup_buf struct buf cfg = { 0 };
		char cfghex[65];
		struct kbuild_key_in in = { .tree = b->t.identity, .patches = b->patches_sha, .config = cfghex,
					    .toolchain = b->toolchain, .arch = b->arch->name };

		err = read_file(config, &cfg, 16 << 20);
		if (err)
			return err;
		hex_of(cfg.data, cfg.len, cfghex);
		kbuild_key(&in, key);
	}
	if (!o->force && kbuild_cache_lookup(b->cache, key, res)) {
		kbuild_request_remember(b->cache, req, key);
		pr_info("cache hit: kernel %s (key %.12s) with this config was built before", b->t.kversion, key);
		return 0;
	}
	{
		char log[PATH_MAX];

		if (pathf(log, sizeof(log), "%s/build.log", b->art))
			return -ENAMETOOLONG;
		pr_info("building %s (%s, %zu options) with %s, -j%u; log: %s", b->t.kversion, b->arch->kbuild_target,
			res->options, b->cc + 3, o->jobs ? o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN), log);
		t0 = monotonic_ms();
		err = kbuild_make_in(b, b->arch->kbuild_target, log, "kernel build", o->progress);
		res->build_ms = monotonic_ms() - t0;
		if (err)
			return err;
		if (b->selftests) {
			err = build_selftests_extras(b, log, extra, sizeof(extra));
			res->build_ms = monotonic_ms() - t0;
			if (err)
				return err;
		}
		pr_info("built %zu objects in %llu:%02llu", kbuild_log_objects(log),
			(unsigned long long)(res->build_ms / 60000), (unsigned long long)(res->build_ms / 1000 % 60));
	}
	{
		cleanup_free char *info = xasprintf(
			"# Written by kta kernel build.\nkey=%s\nversion=%s\narch=%s\ntree=%s\nidentity=%s\n"
			"patches=%s\npatches_sha256=%s\nfragments=%s\nbase=%s\ntoolchain=%s\nbuild_ms=%llu\nbuilt=%lld\n",
			key, b->t.kversion, b->arch->name, b->t.tree, b->t.identity, b->have_series ? b->series.path : "none",
			b->patches_sha, o->fragments ? o->fragments : KBUILD_DEFAULT_FRAGMENTS, b->base, b->toolchain,
			(unsigned long long)res->build_ms, (long long)time(NULL));

		err = info ? kbuild_cache_store(b->cache, key, b->obj, b->arch->kbuild_image, extra[0] ? extra : NULL,
						info, res)
			   : -ENOMEM;
	}
	if (!err)
		kbuild_request_remember(b->cache, req, key);
	return err;
}

int kbuild_run(const struct kbuild_opts *o, struct kbuild_result *res)
{
	struct build b = { .o = o, .arch = o->arch };
	int err;

	memset(res, 0, sizeof(*res));
	interrupt_begin();
	err = run(&b, res);
	if (interrupt_signal() && err != 0)
		err = -EINTR;
	build_free(&b);
	interrupt_end();
	/* After the workspace's lock is gone: the one just used is the
	 * newest, never trimmed. */
	cache_trim("kbuild");
	cache_trim("builds");
	return err;
}
