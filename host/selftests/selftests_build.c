/* `kta selftests build`, step by step (selftests.h): the kernel first (its
 * BTF decides vmlinux.h, its build gives the test modules), then the tree:
 * a hard-link snapshot with the series applied, in a workspace of its own
 * ($KTA_CACHE/stbuild/<hash>-<arch>/: src/ and out/, kept between builds
 * so a one-file change rebuilds one file), then `make test_progs` inside
 * the toolchain root, then the payload root and its ext4 image, published
 * as $KTA_CACHE/selftests/<key>/ with one rename.
 *
 * The key is everything that decides the payload: the tree's identity,
 * the series, the toolchain root and its versions, ASAN, the arch, and the
 * kernel (its BTF and test modules).
 */
#include "base/kv.h"
#include "base/cache.h"
#include "base/centry.h"
#include "base/dirlock.h"
#include "kbuild/kbuild.h"
#include "kernel/kernel.h"
#include "kbuild/ksource.h"
#include "guest/libs.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "kbuild/patches.h"
#include "base/pathf.h"
#include "selftests/selftests.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "toolchain/sysroot.h"
#include "toolchain/troot.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* Changing how the payload is made changes this: every entry is stale. */
#define ST_FORMAT "kta-selftests-3"
#define BUILD_SPACE (4ull << 30)

/* The applets the tests' shell commands use (SYS(), system()): busybox
 * provides them in the payload; a test needing the real iproute2 or
 * iptables fails there the way it would on a minimal root. */
static const char *const applets[] = {
	"sh", "ash", "cat", "cp", "echo", "false", "grep", "head", "ip", "kill", "ls", "mkdir", "mount",
	"mv", "ping", "ps", "rm", "sed", "sleep", "sysctl", "tail", "tee", "true", "umount", "wc", "awk",
	"ln", "chmod", "dd", "printf", "test", "[", "env", "id", "uname", "tc", NULL,
};
/* Mount points the agent fills (proc, sys, dev, tmp, the bpffs) and what
 * the tests expect to exist. */
static const char *const dirs[] = {
	"proc", "sys", "dev", "tmp", "mnt", "run", "root", "etc", "var/tmp", "bin", "usr/bin", "sbin", NULL,
};
/* Files of the build's output the tests open by name from their working
 * directory, beside test_progs and the BPF objects. */
static const char *const extras[] = {
	"urandom_read", "liburandom_read.so", "uprobe_multi", "sign-file", "xdp_synproxy", "ima_setup.sh",
	"verify_sig_setup.sh", "btf_dump_test_case_*.c", NULL,
};

struct stb {
	const struct st_opts *o;
	const struct arch_profile *arch;
	struct troot root;
	char cache[PATH_MAX];
	struct ktree t;
	char ws[PATH_MAX], src[PATH_MAX], out[PATH_MAX], art[PATH_MAX];
	char btf[PATH_MAX];          /* the kernel's BTF (kta's vmlinux.btf, or extracted) */
	char testmods[PATH_MAX];     /* the kernel entry's testmods/, or "" */
	char kernel_id[256];
	struct patch_series series;
	bool have_series;
	char patches_sha[65];
	char **prefix;
};

static void stb_free(struct stb *b)
{
	troot_argv_free(b->prefix);
	if (b->have_series)
		patch_series_free(&b->series);
}

static int sha256_of(const char *path, char hex[65])
{
	return sha256_file(path, hex);
}

/* The kernel: kta's selftests kernel of the same tree and series, or a
 * Debian or given image with its BTF taken from the image. */
static int resolve_kernel(struct stb *b, struct st_result *res)
{
	const struct st_opts *o = b->o;
	char hex[65];
	int err;

	if (!o->kernel_path && !o->kernel_version) {
		struct kbuild_opts ko = {
			.arch = b->arch, .tree = o->tree, .source = o->source, .patches = o->patches,
			.fragments = KBUILD_SELFTESTS_FRAGMENT, .jobs = o->jobs, .progress = o->progress,
			.troot = o->host_toolchain ? NULL : &b->root,
		};
		struct kbuild_result kr;
		char kart[PATH_MAX];

		if (pathf(kart, sizeof(kart), "%s/kernel", b->art))
			return -ENAMETOOLONG;
		ko.artifacts = kart;
		err = kbuild_run(&ko, &kr);
		if (err)
			return err;
		if (!kr.btf[0])
			return pr_err("the kernel entry %s has no vmlinux.btf (built by an older kta?): rebuild "
				      "it with --force", kr.image), -ESTALE;
		snprintf(res->kernel, sizeof(res->kernel), "%s", kr.image);
		snprintf(res->kernel_config, sizeof(res->kernel_config), "%s", kr.config);
		snprintf(b->btf, sizeof(b->btf), "%s", kr.btf);
		snprintf(b->testmods, sizeof(b->testmods), "%s", kr.testmods);
		snprintf(b->kernel_id, sizeof(b->kernel_id), "kta:%s", kr.key);
		res->kernel_ms = kr.cached ? 0 : kr.build_ms;
		{
			cleanup_free char *info = NULL;
			cleanup_buf struct buf ib = { 0 };
			char ver[96] = "";

			info = xasprintf("%.*s/build.info", (int)(strrchr(kr.image, '/') - kr.image), kr.image);
			if (info && !read_file(info, &ib, 64 << 10) && ib.data)
				kv_value(ib.data, "version", ver, sizeof(ver));
			snprintf(res->kernel_version, sizeof(res->kernel_version), "%s", ver);
			snprintf(res->kernel_desc, sizeof(res->kernel_desc), "kta-built %s selftests kernel (key %.12s)",
				 ver, kr.key);
		}
		return 0;
	}
	{
		struct kernel k = { 0 };

		if (o->kernel_path)
			err = kernel_from_path(b->arch, o->kernel_path, &k);
		else
			err = kernel_fetch(b->arch, o->kernel_version, o->flavour, &k);
		if (err)
			return err;
		snprintf(res->kernel, sizeof(res->kernel), "%s", k.image);
		snprintf(res->kernel_config, sizeof(res->kernel_config), "%s", k.config);
		snprintf(res->kernel_version, sizeof(res->kernel_version), "%s", k.version);
		snprintf(res->kernel_desc, sizeof(res->kernel_desc), "%s", k.source);
		kernel_free(&k);
	}
	/* A kta build entry keeps its BTF beside the image. */
	{
		cleanup_free char *beside = xasprintf("%.*s/vmlinux.btf", (int)(strrchr(res->kernel, '/') - res->kernel),
						      res->kernel);
		cleanup_free char *mods = xasprintf("%.*s/testmods", (int)(strrchr(res->kernel, '/') - res->kernel),
						    res->kernel);

		if (beside && path_exists(beside)) {
			cleanup_free char *info = xasprintf("%.*s/build.info",
							    (int)(strrchr(res->kernel, '/') - res->kernel), res->kernel);
			cleanup_buf struct buf ib = { 0 };
			char key[65] = "";

			snprintf(b->btf, sizeof(b->btf), "%s", beside);
			if (mods && path_exists(mods))
				snprintf(b->testmods, sizeof(b->testmods), "%s", mods);
			/* A kta build: named as when it was built here. */
			if (info && !read_file(info, &ib, 64 << 10) && ib.data && !kv_value(ib.data, "key", key, sizeof(key)))
				snprintf(res->kernel_desc, sizeof(res->kernel_desc), "kta-built %s selftests kernel (key %.12s)",
					 res->kernel_version, key);
		}
	}
	if (!b->btf[0]) {
		err = sha256_of(res->kernel, hex);
		if (err)
			return err;
		if (pathf(b->btf, sizeof(b->btf), "%s/btf/%s.btf", b->cache, hex))
			return -ENAMETOOLONG;
		if (!path_exists(b->btf)) {
			cleanup_free char *dir = xasprintf("%s/btf", b->cache);

			err = dir ? mkdir_p(dir, 0755) : -ENOMEM;
			err = err ?: st_image_btf(res->kernel, b->btf);
			if (err)
				return err;
		}
	}
	err = sha256_of(b->btf, hex);
	if (err)
		return pr_err("cannot read `%s`: %s", b->btf, strerror(-err)), err;
	snprintf(b->kernel_id, sizeof(b->kernel_id), "btf:%s%s%s", hex, b->testmods[0] ? " testmods:" : "",
		 b->testmods[0] ? b->testmods : "");
	return 0;
}

/* The tree, and the BPF selftests in it. */
static int resolve_tree(struct stb *b)
{
	cleanup_free char *mk = NULL;
	int err = ktree_resolve(b->o->tree, b->o->source, b->arch->kbuild_srcarch, &b->t);

	if (err)
		return err;
	mk = xasprintf("%s/tools/testing/selftests/bpf/Makefile", b->t.tree);
	if (!mk)
		return -ENOMEM;
	if (!path_exists(mk))
		return pr_err("kernel tree `%s` (%s) has no BPF selftests (tools/testing/selftests/bpf/Makefile)",
			      b->t.tree, b->t.kversion), ST_ENOSELFTESTS;
	return 0;
}

/* The host's compilers as a "root": what names them in keys and reports. */
static int host_toolchain(struct stb *b)
{
	static const char *const progs[] = { "gcc", "clang" };
	size_t len = 0;

	snprintf(b->root.name, sizeof(b->root.name), "host");
	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		char *argv[] = { (char *)progs[i], "--version", NULL };
		cleanup_buf struct buf out = { 0 };

		if (spawn_run(argv, &(struct spawn_opts){ 0 }, &out) || !out.data) {
			if (i == 0)
				return pr_err("--toolchain host: no gcc"), -ENOENT;
			continue;
		}
		len += (size_t)snprintf(b->root.versions + len, sizeof(b->root.versions) - len, "%s%.*s",
					len ? "; " : "", (int)strcspn(out.data, "\n"), out.data);
	}
	return 0;
}

static void key_of(const struct stb *b, char hex[65])
{
	const char *parts[][2] = {
		{ "format", ST_FORMAT },           { "tree", b->t.identity },
		{ "patches", b->patches_sha },     { "toolchain", b->root.name },
		{ "versions", b->root.versions },  { "asan", b->o->asan ? "1" : "0" },
		{ "cc", b->arch->selftests_llvm && b->root.llvm[0] ? "llvm" : "gcc" },
		{ "arch", b->arch->name },         { "kernel", b->kernel_id },
	};
	struct sha256 h;

	sha256_init(&h);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		sha256_update(&h, parts[i][0], strlen(parts[i][0]) + 1);
		sha256_update(&h, parts[i][1], strlen(parts[i][1]) + 1);
	}
	sha256_hex(&h, hex);
}

static int fill_result(const char *dir, struct st_result *res)
{
	int err = pathf(res->dir, sizeof(res->dir), "%s", dir);

	err = err ?: pathf(res->root, sizeof(res->root), "%s/root", dir);
	err = err ?: pathf(res->image, sizeof(res->image), "%s/payload.ext4", dir);
	if (err)
		return err;
	return path_exists(res->image) ? 0 : -ENOENT;
}

int st_entry_load(const char *dir, struct st_result *res)
{
	cleanup_free char *path = path_join(dir, "selftests.info");
	cleanup_buf struct buf info = { 0 };
	char v[64];
	int err;

	if (!path)
		return -ENOMEM;
	err = read_file(path, &info, 64 << 10);
	if (err || !info.data)
		return -ENOENT;
	err = fill_result(dir, res);
	if (err)
		return err;
	kv_value(info.data, "key", res->key, sizeof(res->key));
	kv_value(info.data, "kernel", res->kernel, sizeof(res->kernel));
	kv_value(info.data, "kernel_config", res->kernel_config, sizeof(res->kernel_config));
	kv_value(info.data, "kernel_desc", res->kernel_desc, sizeof(res->kernel_desc));
	kv_value(info.data, "kernel_version", res->kernel_version, sizeof(res->kernel_version));
	kv_value(info.data, "tree_desc", res->tree_desc, sizeof(res->tree_desc));
	if (!kv_value(info.data, "payload_bytes", v, sizeof(v)))
		res->payload_bytes = strtoull(v, NULL, 10);
	if (!kv_value(info.data, "build_ms", v, sizeof(v)))
		res->build_ms = strtoull(v, NULL, 10);
	res->testmods = !kv_value(info.data, "testmods", v, sizeof(v)) && !strcmp(v, "yes");
	return 0;
}

int st_test_names(const struct st_result *res, struct buf *out)
{
	cleanup_free char *path = path_join(res->dir, "tests.txt");

	return path ? read_file(path, out, 1 << 20) : -ENOMEM;
}

/* The kernel's BTF in the workspace, rewritten only when it changed: its
 * mtime is what tells make to regenerate vmlinux.h. */
static int place_btf(struct stb *b, char *path, size_t size)
{
	cleanup_buf struct buf want = { 0 }, have = { 0 };
	int err;

	if (pathf(path, size, "%s/vmlinux.btf", b->ws))
		return -ENAMETOOLONG;
	err = read_file(b->btf, &want, 256 << 20);
	if (err)
		return err;
	if (!read_file(path, &have, 256 << 20) && have.len == want.len && !memcmp(have.data, want.data, want.len))
		return 0;
	return write_file_atomic(path, want.data, want.len, 0644);
}

static int run_make(struct stb *b, const char *btf, const char *log)
{
	const bool cross = arch_is_native(b->arch) != 1;
	char *argv[40];
	size_t n = 0;
	cleanup_free char *dir = xasprintf("%s/tools/testing/selftests/bpf", b->src);
	cleanup_free char *output = xasprintf("OUTPUT=%s/", b->out);
	cleanup_free char *vbtf = xasprintf("VMLINUX_BTF=%s", btf);
	const char *sfx = b->root.llvm[0] ? "-" : "";
	cleanup_free char *clang = xasprintf("CLANG=clang%s%s", sfx, b->root.llvm);
	cleanup_free char *llc = xasprintf("LLC=llc%s%s", sfx, b->root.llvm);
	cleanup_free char *strip = xasprintf("LLVM_STRIP=llvm-strip%s%s", sfx, b->root.llvm);
	cleanup_free char *objcopy = xasprintf("LLVM_OBJCOPY=llvm-objcopy%s%s", sfx, b->root.llvm);
	cleanup_free char *arch = xasprintf("ARCH=%s", b->arch->kbuild_arch);
	cleanup_free char *crossc = xasprintf("CROSS_COMPILE=%s", b->arch->cross_compile);
	cleanup_free char *llvm = xasprintf("LLVM=-%s", b->root.llvm);
	char jobs[32];

	if (!dir || !output || !vbtf || !clang || !llc || !strip || !objcopy || !arch || !crossc || !llvm)
		return -ENOMEM;
	snprintf(jobs, sizeof(jobs), "-j%u", b->o->jobs ? b->o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	argv[n++] = "make";
	argv[n++] = "-C";
	argv[n++] = dir;
	argv[n++] = output;
	argv[n++] = vbtf;
	argv[n++] = clang;
	argv[n++] = llc;
	argv[n++] = strip;
	argv[n++] = objcopy;
	if (cross) {
		argv[n++] = arch;
		argv[n++] = crossc;
	}
	if (b->o->asan)
		argv[n++] = "ASAN=1";
	/* The userspace with clang where the arch row says gcc fails. */
	if (b->arch->selftests_llvm && b->root.llvm[0]) {
		argv[n++] = llvm;
		pr_info("building the userspace with clang-%s for %s: %s", b->root.llvm, b->arch->name,
			b->arch->selftests_llvm);
	}
	/* The test modules come from the kernel's build (they must match
	 * it); LLVM's disassembler, libbfd and the docs are left out. A BPF
	 * object the kernel's BTF cannot compile (a Debian kernel lacks some
	 * structs) is skipped, and test_progs reports its tests as "not
	 * built", instead of failing everything. */
	argv[n++] = "TEST_KMODS=";
	argv[n++] = "SKIP_LLVM=1";
	argv[n++] = "SKIP_LIBBFD=1";
	argv[n++] = "SKIP_DOCS=1";
	argv[n++] = "BPF_STRICT_BUILD=0";
	argv[n++] = jobs;
	argv[n++] = "test_progs";
	argv[n] = NULL;
	pr_info("building test_progs%s for %s %s (%s); log: %s", b->o->asan ? " (ASAN)" : "", b->arch->name,
		b->prefix ? "in the toolchain root" : "with the host's compilers", b->root.versions, log);
	return kbuild_make(argv, b->prefix, NULL, log, b->o->progress, "selftests build");
}

static int copy_into(const char *from, const char *dir)
{
	const char *base = strrchr(from, '/');
	cleanup_free char *to = path_join(dir, base ? base + 1 : from);
	struct stat st;

	if (!to)
		return -ENOMEM;
	if (stat(from, &st) < 0)
		return -errno;
	return copy_file(from, to, st.st_mode & 0777);
}

static int copy_glob(const char *pattern, const char *dir, size_t *n)
{
	glob_t g;
	int err = 0;

	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (size_t i = 0; !err && i < g.gl_pathc; i++) {
		err = copy_into(g.gl_pathv[i], dir);
		*n += !err;
	}
	globfree(&g);
	return err;
}

struct lib_sink {
	const char *root;
};

static int add_lib(void *ctx, const char *guest, const char *host)
{
	struct lib_sink *s = ctx;
	cleanup_free char *to = xasprintf("%s%s", s->root, guest);
	char *slash;
	int err;

	if (!to)
		return -ENOMEM;
	slash = strrchr(to, '/');
	*slash = '\0';
	err = mkdir_p(to, 0755);
	*slash = '/';
	return err ?: copy_file(host, to, 0755);
}

/* tmp/root: the payload. */
static int make_payload(struct stb *b, const char *root, size_t *nobjs)
{
	cleanup_free char *st = path_join(root, "selftests");
	cleanup_free char *tp = xasprintf("%s/test_progs", b->out);
	cleanup_free char *pat = NULL;
	struct libset libs = { 0 };
	struct lib_sink sink = { root };
	char busybox[PATH_MAX];
	int err = 0;

	if (!st || !tp)
		return -ENOMEM;
	if (!path_exists(tp))
		return pr_err("the build made no test_progs in `%s`", b->out), KBUILD_EBUILD;
	for (size_t i = 0; !err && dirs[i]; i++) {
		cleanup_free char *d = path_join(root, dirs[i]);

		err = d ? mkdir_p(d, 0755) : -ENOMEM;
	}
	err = err ?: mkdir_p(st, 0755);
	err = err ?: copy_into(tp, st);
	pat = xasprintf("%s/*.bpf.o", b->out);
	err = err ?: pat ? copy_glob(pat, st, nobjs) : -ENOMEM;
	for (size_t i = 0; !err && extras[i]; i++) {
		cleanup_free char *p = xasprintf("%s/%s", b->out, extras[i]);
		size_t dummy = 0;

		err = p ? copy_glob(p, st, &dummy) : -ENOMEM;
	}
	{
		cleanup_free char *deny = xasprintf("%s/tools/testing/selftests/bpf/DENYLIST*", b->src);
		size_t dummy = 0;

		err = err ?: deny ? copy_glob(deny, st, &dummy) : -ENOMEM;
	}
	if (!err && b->testmods[0]) {
		cleanup_free char *ko = xasprintf("%s/*.ko", b->testmods);
		size_t nko = 0;

		err = ko ? copy_glob(ko, st, &nko) : -ENOMEM;
		if (!err)
			pr_info("payload: %zu test module%s from the kernel's build", nko, nko == 1 ? "" : "s");
	}
	/* The loader and libraries from the root that built them. */
	err = err ?: libs_resolve(&libs, b->arch, b->prefix ? b->root.root : NULL, tp, add_lib, &sink);
	for (size_t i = 0; !err && i < 3; i++) {
		static const char *const more[] = { "urandom_read", "uprobe_multi", "sign-file" };
		cleanup_free char *p = xasprintf("%s/%s", st, more[i]);

		/* Helpers some tests exec: best effort (liburandom_read.so is
		 * found beside them at run time). */
		if (p && path_exists(p) && libs_resolve(&libs, b->arch, b->prefix ? b->root.root : NULL, p, add_lib, &sink))
			pr_warn("the libraries of %s are incomplete in the payload: tests that run it may fail",
				more[i]);
	}
	libset_free(&libs);
	err = err ?: sysroot_busybox(b->arch, busybox, sizeof(busybox));
	if (!err) {
		cleanup_free char *bb = xasprintf("%s/bin/busybox", root);

		err = bb ? copy_file(busybox, bb, 0755) : -ENOMEM;
		for (size_t i = 0; !err && applets[i]; i++) {
			cleanup_free char *l = xasprintf("%s/bin/%s", root, applets[i]);

			if (!l)
				err = -ENOMEM;
			else if (symlink("busybox", l) < 0 && errno != EEXIST)
				err = -errno;
		}
	}
	{
		static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n", group[] = "root:x:0:\n";
		cleanup_free char *pw = xasprintf("%s/etc/passwd", root), *gr = xasprintf("%s/etc/group", root);

		err = err ?: pw && gr ? 0 : -ENOMEM;
		err = err ?: write_file_atomic(pw, passwd, strlen(passwd), 0644);
		err = err ?: write_file_atomic(gr, group, strlen(group), 0644);
	}
	return err;
}

/* root as an ext4 image, sized to fit with room for its metadata. The
 * guest mounts it read-only: no journal. */
static int make_image(const char *root, const char *image, uint64_t bytes)
{
	cleanup_buf struct buf out = { 0 };
	char size[32];
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-L", "kta-selftests", "-m", "0",
			 "-E", "root_owner=0:0", "-d", (char *)root, (char *)image, size, NULL };
	int st;

	snprintf(size, sizeof(size), "%lluk", (unsigned long long)((bytes + bytes / 4 + (64 << 20)) >> 10));
	st = spawn_run(argv, &(struct spawn_opts){ 0 }, &out);
	if (st)
		return pr_err("mke2fs could not make `%s` (exit %d): %s", image, st, out.data ? out.data : ""), -EIO;
	return 0;
}

static uint64_t du_bytes(const char *path)
{
	char *argv[] = { "du", "-sb", (char *)path, NULL };
	cleanup_buf struct buf b = { 0 };

	return spawn_run(argv, NULL, &b) || !b.data ? 0 : strtoull(b.data, NULL, 10);
}

/* DEFINE_TEST(name) lines of the generated prog_tests/tests.h. */
static int write_test_names(const struct stb *b, const char *path)
{
	cleanup_free char *hdr = xasprintf("%s/tools/testing/selftests/bpf/prog_tests/tests.h", b->src);
	cleanup_buf struct buf h = { 0 }, out = { 0 };
	int err;

	if (!hdr)
		return -ENOMEM;
	err = read_file(hdr, &h, 4 << 20);
	if (err)
		return pr_err("the build left no `%s`: %s", hdr, strerror(-err)), err;
	for (const char *p = h.data; p && (p = strstr(p, "DEFINE_TEST(")); p++) {
		const char *s = p + strlen("DEFINE_TEST("), *e = strchr(s, ')');

		if (e)
			buf_printf(&out, "%.*s\n", (int)(e - s), s);
	}
	return out.data ? write_file_atomic(path, out.data, out.len, 0644) : -ENOENT;
}

static int publish(struct stb *b, const char *key, struct st_result *res, uint64_t build_ms)
{
	cleanup_centry struct centry e = { .lock.fd = -1 };
	cleanup_free char *top = xasprintf("%s/selftests", b->cache);
	cleanup_free char *root = NULL, *image = NULL, *info = NULL, *names = NULL;
	const char *tmp = e.tmp, *dest = e.dir;
	size_t nobjs = 0;
	uint64_t bytes;
	int err;

	if (!top)
		return -ENOMEM;
	err = centry_init(&e, top, key);
	/* Another kta published the same key while we built: the same. */
	if (!err && !st_entry_load(dest, res))
		return centry_hold(dest), 0;
	err = err ?: centry_begin(&e);
	if (err)
		return err;
	root = path_join(tmp, "root");
	image = path_join(tmp, "payload.ext4");
	names = path_join(tmp, "tests.txt");
	err = root && image && names ? mkdir_p(root, 0755) : -ENOMEM;
	err = err ?: make_payload(b, root, &nobjs);
	bytes = du_bytes(root);
	err = err ?: make_image(root, image, bytes);
	err = err ?: write_test_names(b, names);
	/* The tree's selftests config files: what `kta run` checks a kernel
	 * against before running the tests. */
	if (!err) {
		cleanup_free char *cdir = path_join(tmp, "config");
		cleanup_free char *pat = xasprintf("%s/tools/testing/selftests/bpf/config*", b->src);
		size_t n = 0;

		err = cdir && pat ? mkdir_p(cdir, 0755) : -ENOMEM;
		err = err ?: copy_glob(pat, cdir, &n);
	}
	if (!err) {
		snprintf(res->tree_desc, sizeof(res->tree_desc), "%s (%s), series %s", b->t.tree, b->t.kversion,
			 b->have_series ? b->series.path : "none");
		info = xasprintf("# Written by kta selftests build.\nkey=%s\narch=%s\nasan=%d\ntree=%s\nidentity=%s\n"
				 "patches=%s\npatches_sha256=%s\ntree_desc=%s\ntoolchain=%s\nversions=%s\nkernel=%s\n"
				 "kernel_config=%s\nkernel_desc=%s\nkernel_version=%s\nkernel_id=%s\ntestmods=%s\n"
				 "bpf_objects=%zu\npayload_bytes=%llu\nbuild_ms=%llu\nbuilt=%lld\n",
				 key, b->arch->name, b->o->asan, b->t.tree, b->t.identity,
				 b->have_series ? b->series.path : "none", b->patches_sha, res->tree_desc, b->root.name,
				 b->root.versions, res->kernel, res->kernel_config, res->kernel_desc,
				 res->kernel_version, b->kernel_id, b->testmods[0] ? "yes" : "no", nobjs,
				 (unsigned long long)bytes, (unsigned long long)build_ms, (long long)time(NULL));
		cleanup_free char *ip = path_join(tmp, "selftests.info");

		err = info && ip ? write_file_atomic(ip, info, strlen(info), 0644) : -ENOMEM;
	}
	err = err ?: centry_publish(&e);
	if (err) {
		pr_err("cannot store the selftests in `%s`: %s", dest, strerror(err < 0 ? -err : EIO));
		return err;
	}
	err = st_entry_load(dest, res);
	if (!err)
		centry_hold(dest);
	if (!err)
		pr_info("payload: test_progs, %zu BPF objects, %.0f MB (ext4 image %s)", nobjs, bytes / 1e6,
			res->image);
	return err;
}

static int run(struct stb *b, struct st_result *res)
{
	const struct st_opts *o = b->o;
	char key[65], btf[PATH_MAX], log[PATH_MAX], wsname[65];
	cleanup_close int lock = -1;
	uint64_t t0;
	int err;

	err = cache_dir_abs(b->cache, sizeof(b->cache));
	if (err)
		return err;
	err = kbuild_load_series(o->patches, &b->series, &b->have_series, b->patches_sha);
	if (err)
		return err;
	err = resolve_tree(b);
	err = err ?: kbuild_artifacts_dir(o->artifacts, "selftests", b->arch->name, b->art, sizeof(b->art));
	if (err)
		return err;
	snprintf(res->artifacts, sizeof(res->artifacts), "%s", b->art);
	if (o->host_toolchain) {
		err = host_toolchain(b);
	} else {
		err = troot_ensure(&(struct troot_opts){ .arches = &b->arch, .narches = 1 }, &b->root);
		b->prefix = err ? NULL : troot_prefix(&b->root, NULL);
		err = err ?: b->prefix ? 0 : -ENOMEM;
	}
	if (err)
		return err;
	err = resolve_kernel(b, res);
	if (err)
		return err;
	key_of(b, key);
	snprintf(res->key, sizeof(res->key), "%s", key);
	if (!o->force) {
		cleanup_free char *dir = xasprintf("%s/selftests/%s", b->cache, key);

		if (dir && !st_entry_load(dir, res)) {
			centry_hold(dir);
			res->cached = true;
			if (!o->quiet)
				pr_info("cache hit: selftests (key %.12s) built before from the same tree, series, "
					"toolchain, flags and kernel: %s", key, dir);
			return 0;
		}
	}
	{
		struct sha256 h;
		const char *asan = o->asan ? "asan" : "plain";

		sha256_init(&h);
		sha256_update(&h, b->t.srcloc, strlen(b->t.srcloc) + 1);
		sha256_update(&h, asan, strlen(asan) + 1);
		sha256_update(&h, b->root.name, strlen(b->root.name) + 1);
		/* make does not notice another compiler: objects of gcc and of
		 * clang live in workspaces of their own. */
		if (b->arch->selftests_llvm && b->root.llvm[0])
			sha256_update(&h, "llvm", 5);
		sha256_hex(&h, wsname);
	}
	err = pathf(b->ws, sizeof(b->ws), "%s/stbuild/%.16s-%s", b->cache, wsname, b->arch->name);
	err = err ?: pathf(b->src, sizeof(b->src), "%s/src", b->ws);
	err = err ?: pathf(b->out, sizeof(b->out), "%s/out", b->ws);
	err = err ?: mkdir_p(b->out, 0755);
	if (err)
		return pr_err("cannot create the workspace `%s`: %s", b->ws, strerror(-err)), err;
	lock = kbuild_lock_workspace(b->ws);
	if (lock < 0)
		return lock;
	err = check_free_space(b->ws, BUILD_SPACE, "a selftests build");
	err = err ?: kbuild_prepare_src(b->ws, b->src, &b->t, b->patches_sha, b->have_series ? &b->series : NULL,
					b->art);
	err = err ?: place_btf(b, btf, sizeof(btf));
	if (err)
		return err;
	if (pathf(log, sizeof(log), "%s/build.log", b->art))
		return -ENAMETOOLONG;
	t0 = monotonic_ms();
	err = run_make(b, btf, log);
	res->build_ms = monotonic_ms() - t0;
	if (err)
		return err;
	pr_info("built test_progs in %llu:%02llu", (unsigned long long)(res->build_ms / 60000),
		(unsigned long long)(res->build_ms / 1000 % 60));
	return publish(b, key, res, res->build_ms);
}

int st_build(const struct st_opts *o, struct st_result *res)
{
	struct stb b = { .o = o, .arch = o->arch };
	int err;

	memset(res, 0, sizeof(*res));
	interrupt_begin();
	err = run(&b, res);
	if (interrupt_signal() && err)
		err = -EINTR;
	stb_free(&b);
	interrupt_end();
	cache_trim("stbuild");
	cache_trim("selftests");
	return err;
}
