/* Toolchain roots (troot.h). An entry is $KTA_CACHE/toolchains/<name>/
 * with root/ (the tree) and toolchain.info (what it is, how it was made),
 * built in a .tmp-* directory and published with one rename under the
 * directory's lock: a killed or failed mmdebstrap leaves no half root.
 */
#include "toolchain/troot.h"
#include "apt/apt.h"
#include "base/kv.h"
#include "base/centry.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/pathf.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* What the selftests and the kernel need from the suite, beside the
 * compilers named by version. libcap-dev, libssl-dev and openssl:
 * sign-file, the signing key verify_sig_setup.sh makes, the tests'
 * helpers; dwarves: pahole for vmlinux BTF; ccache for the kernel build.
 * lld and clang's runtime: liburandom_read.so is built by clang, linked
 * with -fuse-ld=lld, and with ASAN=1 against libclang_rt.asan. LLVM's -dev package is left out on purpose: without it
 * test_progs does not link LLVM statically (only its JIT disassembly
 * tests need it) and stays a third of the size. */
static const char *const base_packages =
	"gcc g++ make libc6-dev pkgconf libelf-dev zlib1g-dev libzstd-dev libcap-dev libssl-dev "
	"openssl dwarves bc bison flex cpio kmod python3 ccache file xz-utils zstd rsync";

/* The suite's Release file may be older than its Valid-Until (the mirror
 * these machines use serves a sid Release weeks old): apt would refuse it.
 * The signatures are still checked. */
static const char *const apt_valid_until = "Acquire::Check-Valid-Until \"false\"";

int troot_packages(const char *llvm, const struct arch_profile *const *arches, size_t n, char *out,
		   size_t size)
{
	struct buf b = { 0 };
	int err;

	buf_printf(&b, "clang-%s llvm-%s lld-%s libclang-rt-%s-dev %s", llvm, llvm, llvm, llvm, base_packages);
	for (size_t i = 0; i < n; i++) {
		const struct arch_profile *a = arches[i];

		if (arch_is_native(a) == 1)
			continue;
		/* The cross compiler and libc (with libasan) from the row, then
		 * the target's own libraries through multiarch (libcap: the
		 * target's bpftool links it when built with clang). */
		buf_printf(&b, " %s libelf-dev:%s zlib1g-dev:%s libzstd-dev:%s libssl-dev:%s libcap-dev:%s",
			   a->cross_packages, a->deb_arch, a->deb_arch, a->deb_arch, a->deb_arch, a->deb_arch);
	}
	if (!b.data)
		return -ENOMEM;
	err = pathf(out, size, "%s", b.data);
	buf_free(&b);
	return err;
}

/* The host's Debian arch first, then the others in table order. */
static size_t arch_set(const struct troot_opts *o, const struct arch_profile **set, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < arch_count() && n < cap; i++)
		if (arch_is_native(arch_at(i)) == 1)
			set[n++] = arch_at(i);
	/* arm64 always: x86_64 and arm64 are the pair people validate on,
	 * and one root for both costs ~150 MB and seconds, a second root
	 * 1.2 GB and a minute. */
	for (size_t i = 0; i < arch_count() && n < cap; i++) {
		const struct arch_profile *a = arch_at(i);
		bool want = !strcmp(a->name, "arm64");

		for (size_t j = 0; j < o->narches; j++)
			want = want || o->arches[j] == a;
		for (size_t j = 0; j < n; j++)
			want = want && set[j] != a;
		if (want)
			set[n++] = a;
	}
	return n;
}

static void arch_list(const struct arch_profile *const *set, size_t n, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "+" : "", set[i]->deb_arch);
}

static int info_read(const char *dir, struct troot *r)
{
	cleanup_free char *path = path_join(dir, "toolchain.info");
	cleanup_buf struct buf info = { 0 };

	if (!path)
		return -ENOMEM;
	if (read_file(path, &info, 64 << 10) < 0 || !info.data)
		return -ENOENT;
	if (kv_value(info.data, "versions", r->versions, sizeof(r->versions)) < 0)
		r->versions[0] = '\0';
	return 0;
}

char **troot_prefix(const struct troot *r, const char *const *binds)
{
	size_t nb = 0, n = 0;
	char **argv;

	while (binds && binds[nb])
		nb++;
	argv = calloc(32 + 3 * nb, sizeof(*argv));
	if (!argv)
		return NULL;
#define ARG(s) (argv[n++] = strdup(s))
	ARG("bwrap");
	/* Read-only: a build cannot damage the shared root; what it writes
	 * goes to the cache (bound read-write) or /tmp. */
	ARG("--ro-bind");
	ARG(r->root);
	ARG("/");
	ARG("--dev");
	ARG("/dev");
	ARG("--proc");
	ARG("/proc");
	ARG("--tmpfs");
	ARG("/tmp");
	ARG("--bind");
	ARG(r->cache);
	ARG(r->cache);
	for (size_t i = 0; i < nb; i++) {
		ARG("--bind");
		ARG(binds[i]);
		ARG(binds[i]);
	}
	ARG("--unshare-pid");
	ARG("--die-with-parent");
	ARG("--setenv");
	ARG("HOME");
	ARG("/tmp");
	ARG("--setenv");
	ARG("PATH");
	ARG("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
	ARG("--");
#undef ARG
	for (size_t i = 0; i < n; i++)
		if (!argv[i]) {
			troot_argv_free(argv);
			return NULL;
		}
	return argv;
}

void troot_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Mount points for the binds must exist in the read-only root. */
static int make_mountpoints(const struct troot *r, const char *const *binds)
{
	int err = 0;

	for (size_t i = 0; !err && (i == 0 || (binds && binds[i - 1])); i++) {
		const char *b = i == 0 ? r->cache : binds[i - 1];
		cleanup_free char *p = xasprintf("%s%s", r->root, b);

		err = p ? mkdir_p(p, 0755) : -ENOMEM;
	}
	return err;
}

/* First line of `prog --version` inside the root. */
static void version_of(const struct troot *r, const char *prog, char *out, size_t size)
{
	char **pre = troot_prefix(r, NULL);
	cleanup_buf struct buf b = { 0 };
	char *argv[40];
	size_t n = 0;

	out[0] = '\0';
	if (!pre)
		return;
	for (; pre[n] && n < ARRAY_SIZE(argv) - 3; n++)
		argv[n] = pre[n];
	argv[n++] = (char *)prog;
	argv[n++] = "--version";
	argv[n] = NULL;
	if (!spawn_run(argv, NULL, &b) && b.data)
		snprintf(out, size, "%.*s", (int)strcspn(b.data, "\n"), b.data);
	troot_argv_free(pre);
}

static uint64_t tree_bytes(const char *path)
{
	char *argv[] = { "du", "-sb", "--one-file-system", (char *)path, NULL };
	cleanup_buf struct buf b = { 0 };

	if (spawn_run(argv, NULL, &b) || !b.data)
		return 0;
	return strtoull(b.data, NULL, 10);
}

/* The tail of a log through the logger: what mmdebstrap said last. */
static void log_tail(const char *path, size_t lines)
{
	cleanup_buf struct buf b = { 0 };
	const char *p;
	size_t seen = 0;

	if (read_file(path, &b, 16 << 20) < 0 || !b.data || !b.len)
		return;
	p = b.data + b.len;
	while (p > b.data && seen <= lines)
		if (*--p == '\n')
			seen++;
	if (*p == '\n')
		p++;
	for (const char *l = p; *l;) {
		const char *e = strchrnul(l, '\n');

		pr_err("  %.*s", (int)(e - l), l);
		l = *e ? e + 1 : e;
	}
}

/* clang's sanitizer runtime for each foreign arch: liburandom_read.so and
 * urandom_read are built by clang with -fsanitize=address under ASAN=1.
 * libclang-rt-N-dev:<arch> conflicts with the host's (shared headers), so
 * only its runtime files are unpacked beside the host's, without
 * overwriting anything. */
static char *runtime_hook(const char *llvm, const char *arches)
{
	struct buf b = { 0 };
	cleanup_free char *list = strdup(arches);
	bool first = true;

	if (!list)
		return NULL;
	for (char *save = NULL, *a = strtok_r(list, "+", &save); a; a = strtok_r(NULL, "+", &save)) {
		if (first) { /* the host's arch comes first: it has the package */
			first = false;
			continue;
		}
		buf_printf(&b, "%sapt-get -o APT::Sandbox::User=root download libclang-rt-%s-dev:%s && "
			   "dpkg-deb -x libclang-rt-%s-dev_*_%s.deb x && cp -an x/usr/lib/llvm-%s/lib/clang/. "
			   "/usr/lib/llvm-%s/lib/clang/ && rm -rf x *.deb",
			   b.len ? " && " : "cd /tmp && ", llvm, a, llvm, a, llvm, llvm);
	}
	if (!b.data)
		return strdup("--customize-hook=true");
	{
		char *hook = xasprintf("--customize-hook=chroot \"$1\" sh -ec '%s'", b.data);

		buf_free(&b);
		return hook;
	}
}

static int make_root(const struct troot *r, struct centry *e, const char *packages, const char *arches,
		     const char *uri)
{
	const char *top = e->top, *tmp = e->tmp;
	cleanup_free char *root = NULL, *log = NULL, *include = NULL, *archopt = NULL, *info = NULL;
	cleanup_free char *failed = NULL, *aptopt = xasprintf("--aptopt=%s", apt_valid_until);
	cleanup_free char *hook = runtime_hook(r->llvm, arches);
	char ver[3][160];
	uint64_t t0 = monotonic_ms(), ms, bytes;
	int fd, st, err = 0;

	if (!aptopt || !hook)
		return -ENOMEM;
	root = path_join(tmp, "root");
	log = path_join(tmp, "mmdebstrap.log");
	include = xasprintf("--include=%s", packages);
	archopt = xasprintf("--architectures=%s", arches);
	failed = xasprintf("%s/%s.failed.log", top, r->name);
	if (!root || !log || !include || !archopt || !failed)
		return -ENOMEM;
	for (char *p = include; *p; p++)
		if (*p == ' ')
			*p = ',';
	for (char *p = archopt; *p; p++)
		if (*p == '+')
			*p = ',';
	pr_info("making the toolchain root %s: Debian %s from %s with %s (once; about a minute here)", r->name,
		r->suite, uri, packages);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create `%s`: %s", log, strerror(-err));
		return err;
	}
	{
		char *argv[] = { "mmdebstrap", "--variant=apt", archopt, aptopt, include, hook, (char *)r->suite, root,
				 (char *)uri, NULL };

		st = spawn_run(argv, &(struct spawn_opts){ .output = SPAWN_TO_FD, .out_fd = fd, .new_pgrp = true }, NULL);
	}
	close(fd);
	if (st) {
		pr_err("cannot make the toolchain root %s: mmdebstrap %s (exit %d); its last lines:", r->name,
		       st == 127 ? "is not installed (apt-get install mmdebstrap, or make deps-selftests)"
				 : "failed",
		       st);
		log_tail(log, 25);
		if (rename(log, failed) == 0)
			pr_err("the whole output: %s", failed);
		return st == 127 ? -ENOENT : -EIO;
	}
	ms = monotonic_ms() - t0;
	{
		struct troot probe = *r;

		snprintf(probe.root, sizeof(probe.root), "%s", root);
		err = make_mountpoints(&probe, NULL);
		cleanup_free char *clang = xasprintf("clang-%s", r->llvm);

		version_of(&probe, clang ? clang : "clang", ver[0], sizeof(ver[0]));
		version_of(&probe, "gcc", ver[1], sizeof(ver[1]));
		version_of(&probe, "pahole", ver[2], sizeof(ver[2]));
	}
	if (!err && !ver[0][0]) {
		pr_err("the toolchain root %s was made, but clang-%s does not run in it", r->name, r->llvm);
		err = -EIO;
	}
	bytes = tree_bytes(root);
	info = xasprintf("# Written by kta: a toolchain root made with mmdebstrap.\nname=%s\nsuite=%s\nllvm=%s\n"
			 "arches=%s\nmirror=%s\npackages=%s\nversions=%s; %s; pahole %s\nseconds=%.1f\n"
			 "size_bytes=%llu\ncreated=%lld\n",
			 r->name, r->suite, r->llvm, arches, uri, packages, ver[0], ver[1], ver[2], ms / 1000.0,
			 (unsigned long long)bytes, (long long)time(NULL));
	if (!err) {
		cleanup_free char *ipath = path_join(tmp, "toolchain.info");

		err = info && ipath ? write_file_atomic(ipath, info, strlen(info), 0644) : -ENOMEM;
	}
	err = err ?: centry_publish(e);
	if (err)
		return err;
	pr_info("toolchain root %s: %.1f GB, made in %.0f s (%s; %s; pahole %s)", r->dir, bytes / 1e9, ms / 1000.0,
		ver[0], ver[1], ver[2]);
	return 0;
}

/* Roots of the same suite, LLVM and arches made for another package list
 * (an older kta): never used again, 1.2 GB each. Under the directory's
 * lock, and only when no kta uses them (their use lock). */
static void remove_outdated(const struct troot *r, const char *top)
{
	size_t keep = strlen(r->name) - 8; /* the name without its hash */
	struct dirent *de;
	DIR *d = opendir(top);

	while (d && (de = readdir(d))) {
		cleanup_free char *p = NULL;

		if (strlen(de->d_name) != strlen(r->name) || strncmp(de->d_name, r->name, keep) ||
		    !strcmp(de->d_name, r->name))
			continue;
		p = path_join(top, de->d_name);
		{
			int err = p ? centry_remove(p) : -ENOMEM;

			if (err == -EBUSY)
				pr_info("keeping the outdated toolchain root %s: in use", p);
			else if (!err)
				pr_info("removed the outdated toolchain root %s", p);
		}
	}
	if (d)
		closedir(d);
}

/* <suite>-llvm<N>-<arch+arch...>-<hash of what it holds>: a root made by
 * another package list (another kta) has another name. */
static int root_name(const char *suite, const char *llvm, const struct arch_profile *const *set, size_t n,
		     char *out, size_t size, char *packages, size_t psize)
{
	char arches[128], hex[65];
	struct sha256 h;
	int err;

	arch_list(set, n, arches, sizeof(arches));
	err = troot_packages(llvm, set, n, packages, psize);
	if (err)
		return err;
	sha256_init(&h);
	sha256_update(&h, packages, strlen(packages) + 1);
	sha256_update(&h, apt_valid_until, strlen(apt_valid_until) + 1);
	sha256_update(&h, "runtime-hook-1", 15);
	sha256_hex(&h, hex);
	return pathf(out, size, "%s-llvm%s-%s-%.8s", suite, llvm, arches, hex);
}

/* An up-to-date root of more arches serves fewer: a root made for
 * riscv64 too is as good for x86_64 and arm64. Its name into out. */
static bool find_superset(const char *top, const char *suite, const char *llvm,
			  const struct arch_profile *const *want, size_t nwant, char *out, size_t size)
{
	cleanup_free char *prefix = xasprintf("%s-llvm%s-", suite, llvm);
	struct dirent *de;
	DIR *d = prefix ? opendir(top) : NULL;
	bool found = false;

	while (d && !found && (de = readdir(d))) {
		const struct arch_profile *set[16];
		char list[128], name[96], packages[2048], *dash;
		size_t n = 0;
		bool all = true;

		if (strncmp(de->d_name, prefix, strlen(prefix)) || strchr(de->d_name, '.'))
			continue;
		snprintf(list, sizeof(list), "%s", de->d_name + strlen(prefix));
		dash = strrchr(list, '-');
		if (!dash)
			continue;
		*dash = '\0';
		for (char *save = NULL, *a = strtok_r(list, "+", &save); a && n < ARRAY_SIZE(set);
		     a = strtok_r(NULL, "+", &save)) {
			set[n] = NULL;
			for (size_t i = 0; i < arch_count(); i++)
				if (!strcmp(arch_at(i)->deb_arch, a))
					set[n] = arch_at(i);
			if (!set[n])
				break;
			n++;
		}
		for (size_t i = 0; i < nwant; i++) {
			bool in = false;

			for (size_t j = 0; j < n; j++)
				in = in || set[j] == want[i];
			all = all && in;
		}
		if (!all || root_name(suite, llvm, set, n, name, sizeof(name), packages, sizeof(packages)) ||
		    strcmp(name, de->d_name))
			continue;
		{
			cleanup_free char *dir = path_join(top, de->d_name);
			struct troot probe = { 0 };

			found = dir && !info_read(dir, &probe) && !pathf(out, size, "%s", de->d_name);
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* Share-locked for as long as this process uses it, then its mount points. */
static int take_use(struct troot *r)
{
	int err = centry_hold(r->dir);

	if (err)
		return pr_err("cannot lock the toolchain root %s: %s", r->dir, strerror(-err)), err;
	return make_mountpoints(r, NULL);
}

int troot_ensure(const struct troot_opts *o, struct troot *r)
{
	const struct arch_profile *set[16];
	cleanup_centry struct centry e = { .lock.fd = -1 };
	char top[PATH_MAX], packages[2048], arches[128], uri[512];
	const char *suite = o->suite ? o->suite : getenv("KTA_TOOLCHAIN_SUITE");
	const char *llvm = o->llvm ? o->llvm : getenv("KTA_TOOLCHAIN_LLVM");
	size_t n;
	int err;

	memset(r, 0, sizeof(*r));
	suite = suite && *suite ? suite : TROOT_DEFAULT_SUITE;
	llvm = llvm && *llvm ? llvm : TROOT_DEFAULT_LLVM;
	if (strspn(suite, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(suite) || strlen(suite) >= sizeof(r->suite))
		return pr_err("invalid toolchain suite `%s` (a Debian suite name: sid, trixie, ...)", suite), -EINVAL;
	if (strspn(llvm, "0123456789") != strlen(llvm) || strlen(llvm) >= sizeof(r->llvm))
		return pr_err("invalid LLVM version `%s` (a major version: 22)", llvm), -EINVAL;
	snprintf(r->suite, sizeof(r->suite), "%s", suite);
	snprintf(r->llvm, sizeof(r->llvm), "%s", llvm);
	n = arch_set(o, set, ARRAY_SIZE(set));
	err = root_name(suite, llvm, set, n, r->name, sizeof(r->name), packages, sizeof(packages));
	if (err)
		return err;
	arch_list(set, n, arches, sizeof(arches));
	err = cache_dir_abs(r->cache, sizeof(r->cache));
	if (err)
		return err;
	err = pathf(top, sizeof(top), "%s/toolchains", r->cache);
	err = err ?: mkdir_p(top, 0755);
	/* The root made for exactly these arches, else one of more. */
	if (!err) {
		cleanup_free char *exact = path_join(top, r->name);
		struct troot probe = { 0 };

		if (exact && info_read(exact, &probe) && find_superset(top, suite, llvm, set, n, r->name, sizeof(r->name)))
			pr_debug("using the toolchain root %s, which has every arch asked for", r->name);
	}
	err = err ?: pathf(r->dir, sizeof(r->dir), "%s/%s", top, r->name);
	err = err ?: pathf(r->root, sizeof(r->root), "%s/root", r->dir);
	if (err)
		return pr_err("cannot set up the toolchain cache: %s", strerror(-err)), err;
	if (!info_read(r->dir, r))
		return take_use(r);
	if (o->no_create)
		return -ENOENT;
	err = centry_init(&e, top, r->name);
	err = err ?: centry_begin(&e);
	if (!err && !info_read(r->dir, r))
		return take_use(r);
	if (!err) {
		err = apt_archive_uri(uri, sizeof(uri));
		if (err)
			pr_err("cannot find the Debian archive in the system's apt sources (set KTA_APT_URI)");
	}
	err = err ?: check_free_space(top, 3ull << 30, "a toolchain root");
	err = err ?: make_root(r, &e, packages, arches, uri);
	if (!err)
		remove_outdated(r, top);
	err = err ?: info_read(r->dir, r);
	return err ?: take_use(r);
}

int troot_prepare_binds(const struct troot *r, const char *const *binds)
{
	return make_mountpoints(r, binds);
}
