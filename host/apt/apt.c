/* Private apt: kta fetches Debian kernel packages (and, for the guest
 * toolchain, source packages such as libbpf) from several suites
 * (bookworm to sid) that must never be added to the system's sources, so
 * apt-get and apt-cache run with their own sources.list, lists and cache
 * under $cache/apt. Everything else about the host's apt (proxies, the
 * keyring) is kept; the archive URI is read from the system's sources so
 * that no mirror name lives in the code.
 */
#include "apt/apt.h"
#include "base/dirlock.h"
#include "base/log.h"
#include "base/spawn.h"
#include "base/pathf.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define APT_LISTS_SPACE (160ull << 20)
#define KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

static const char *const suites[] = {
	"bookworm", "bookworm-backports", "trixie", "trixie-backports", "sid",
};

/* Hooks and index targets from the system's apt.conf.d that have no
 * business running for a private kernel-package list. */
static const char apt_conf_text[] =
	"// Written by kta for its private apt (not the system's).\n"
	"#clear APT::Update::Pre-Invoke;\n"
	"#clear APT::Update::Post-Invoke;\n"
	"#clear APT::Update::Post-Invoke-Success;\n"
	"#clear Acquire::IndexTargets::deb::DEP-11;\n"
	"#clear Acquire::IndexTargets::deb::Contents-deb;\n"
	"#clear Acquire::IndexTargets::deb::Contents-udeb;\n"
	"Acquire::Languages \"none\";\n"
	"Acquire::GzipIndexes \"true\";\n"
	/* Snapshot and frozen mirrors serve Release files past their
	 * Valid-Until (sid's lasts a week); signatures are still checked. */
	"Acquire::Check-Valid-Until \"false\";\n"
	"Dir::Cache::pkgcache \"\";\n"
	"Dir::Cache::srcpkgcache \"\";\n";

/* Write path only when its content differs: keeps mtimes meaningful. */
static int write_if_changed(const char *path, const char *text)
{
	cleanup_buf struct buf old = { 0 };

	if (!read_file(path, &old, 1 << 20) && !strcmp(old.data, text))
		return 0;
	return write_file_atomic(path, text, strlen(text), 0644);
}

/* Paths, directories and the sources list of one private configuration:
 * binary packages of deb_arch ("deb" lines), or source packages ("deb-src"
 * lines, deb_arch empty). */
static int apt_setup(struct apt *apt, const char *cache_root, const char *deb_arch, bool source)
{
	cleanup_buf struct buf sl = { 0 };
	char partial[PATH_MAX + 16];
	int err;

	memset(apt, 0, sizeof(*apt));
	if (strlen(deb_arch) >= sizeof(apt->deb_arch))
		return -ENAMETOOLONG;
	strcpy(apt->deb_arch, deb_arch);
	apt->source = source;
	err = apt_archive_uri(apt->uri, sizeof(apt->uri));
	if (err)
		return err;
	if (access(KEYRING, R_OK) < 0) {
		pr_err("cannot read the Debian archive keyring `%s`: %s; install the debian-archive-keyring package",
		       KEYRING, strerror(errno));
		return -ENOENT;
	}
	err = pathf(apt->dir, PATH_MAX, "%s/apt", cache_root);
	err = err ?: pathf(apt->arch_dir, PATH_MAX, "%s/%s", apt->dir, source ? "source" : deb_arch);
	err = err ?: pathf(apt->sources, PATH_MAX, "%s/%s", apt->dir,
			   source ? "sources-src.list" : "sources.list");
	err = err ?: pathf(apt->conf, PATH_MAX, "%s/%s", apt->dir, "apt.conf");
	err = err ?: pathf(apt->lists, PATH_MAX, "%s/%s", apt->arch_dir, "lists");
	err = err ?: pathf(apt->cache, PATH_MAX, "%s/%s", apt->arch_dir, "cache");
	err = err ?: pathf(apt->stamp, PATH_MAX, "%s/%s", apt->arch_dir, "updated");
	if (err)
		return err;
	err = pathf(partial, sizeof(partial), "%s/partial", apt->lists);
	err = err ?: mkdir_p(partial, 0755);
	err = err ?: pathf(partial, sizeof(partial), "%s/archives/partial", apt->cache);
	err = err ?: mkdir_p(partial, 0755);
	if (err) {
		pr_err("cannot create `%s`: %s", partial, strerror(-err));
		return err;
	}
	buf_printf(&sl, "# Written by kta: Debian %s packages for kta's private apt.\n"
			"# The system's apt never reads this file.\n", source ? "source" : "kernel");
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++)
		buf_printf(&sl, "%s [signed-by=%s] %s %s main\n", source ? "deb-src" : "deb", KEYRING,
			   apt->uri, suites[i]);
	if (!sl.data)
		return -ENOMEM;
	err = write_if_changed(apt->sources, sl.data);
	err = err ?: write_if_changed(apt->conf, apt_conf_text);
	if (err)
		pr_err("cannot write `%s`: %s", apt->sources, strerror(-err));
	return err;
}

int apt_init(struct apt *apt, const char *cache_root, const char *deb_arch)
{
	return apt_setup(apt, cache_root, deb_arch, false);
}

int apt_init_source(struct apt *apt, const char *cache_root)
{
	return apt_setup(apt, cache_root, "", true);
}

/* Run apt-get or apt-cache with the private configuration; extra is a
 * NULL-terminated argument list appended after the options. */
static int apt_run(const struct apt *apt, const char *tool, const char *const *extra, struct buf *out)
{
	char opt[12][PATH_MAX + 48];
	const char *argv[40];
	size_t n = 0, k = 0;

	argv[n++] = tool;
	argv[n++] = "-q";
	argv[n++] = "-c";
	argv[n++] = apt->conf;
	snprintf(opt[k++], sizeof(opt[0]), "Dir::Etc::SourceList=%s", apt->sources);
	snprintf(opt[k++], sizeof(opt[0]), "Dir::Etc::SourceParts=/dev/null");
	snprintf(opt[k++], sizeof(opt[0]), "Dir::State::Lists=%s", apt->lists);
	snprintf(opt[k++], sizeof(opt[0]), "Dir::Cache=%s", apt->cache);
	snprintf(opt[k++], sizeof(opt[0]), "Dir::State::status=/dev/null");
	/* Source packages have no architecture: keep apt's own. */
	if (apt->deb_arch[0]) {
		snprintf(opt[k++], sizeof(opt[0]), "APT::Architecture=%s", apt->deb_arch);
		snprintf(opt[k++], sizeof(opt[0]), "APT::Architectures=%s", apt->deb_arch);
	}
	snprintf(opt[k++], sizeof(opt[0]), "Dir::Etc::Preferences=/dev/null");
	if (apt->release[0])
		snprintf(opt[k++], sizeof(opt[0]), "APT::Default-Release=%s", apt->release);
	/* apt drops privileges to _apt for downloads, which cannot write into
	 * a root-owned cache and warns; as root, download as root. */
	if (geteuid() == 0)
		snprintf(opt[k++], sizeof(opt[0]), "APT::Sandbox::User=root");
	for (size_t i = 0; i < k; i++) {
		argv[n++] = "-o";
		argv[n++] = opt[i];
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		if (n + 2 > ARRAY_SIZE(argv))
			return -E2BIG;
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	return spawn_run((char *const *)argv, NULL, out);
}

/* The first few error lines of apt's output, for a message a person can
 * act on ("W: Failed to fetch ... Could not connect ..."). */
static void apt_errors(const struct buf *b, char *out, size_t size)
{
	size_t used = 0, shown = 0, more = 0;

	out[0] = '\0';
	for (const char *p = b->data ? b->data : ""; *p;) {
		const char *eol = strchrnul(p, '\n');
		int n = (int)(eol - p);

		if (n > 3 && (!strncmp(p, "E: ", 3) || !strncmp(p, "W: ", 3))) {
			if (shown < 3 && used + (size_t)n + 4 < size) {
				used += (size_t)snprintf(out + used, size - used, "\n  %.*s", n, p);
				shown++;
			} else {
				more++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	if (more && used + 32 < size)
		snprintf(out + used, size - used, "\n  (%zu more)", more);
	if (!out[0] && b->len)
		snprintf(out, size, "\n  %.*s", (int)(b->len > 400 ? 400 : b->len), b->data);
}

static int read_stamp_uri(const struct apt *apt, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(apt->stamp, &b, 4096);

	if (err)
		return err;
	snprintf(out, size, "%.*s", (int)strcspn(b.data, "\n"), b.data);
	return 0;
}

int64_t apt_lists_age(const struct apt *apt)
{
	char uri[512];
	struct stat st;

	if (read_stamp_uri(apt, uri, sizeof(uri)) || strcmp(uri, apt->uri))
		return -ENOENT;
	if (stat(apt->stamp, &st) < 0)
		return -errno;
	return (int64_t)time(NULL) - (int64_t)st.st_mtime;
}

static int index_path(const struct apt *apt, char *out)
{
	return pathf(out, PATH_MAX, "%s/pkgnames-linux", apt->arch_dir);
}

/* Prefixes of the kernel packages the index keeps. */
static const char *const index_prefixes[] = {
	"linux-image-", "linux-base-", "linux-binary-", "linux-modules-",
};

static bool indexed_prefix(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(index_prefixes); i++)
		if (!strncmp(name, index_prefixes[i], strlen(index_prefixes[i])))
			return true;
	return false;
}

static int build_index(const struct apt *apt)
{
	static const char *const args[] = { "pkgnames", "linux-", NULL };
	cleanup_buf struct buf b = { 0 }, idx = { 0 };
	char path[PATH_MAX];
	int st = apt_run(apt, "apt-cache", args, &b), err = 0;

	if (st < 0)
		return st;
	if (st)
		return pr_err("apt-cache pkgnames failed (exit %d): %s", st, b.data ? b.data : ""), -EIO;
	for (const char *p = b.data ? b.data : ""; !err && *p;) {
		const char *eol = strchrnul(p, '\n');

		if (indexed_prefix(p))
			err = buf_printf(&idx, "%.*s\n", (int)(eol - p), p);
		p = *eol ? eol + 1 : eol;
	}
	err = err ?: index_path(apt, path);
	return err ?: write_file_atomic(path, idx.data ? idx.data : "", idx.len, 0644);
}

static bool update_failed(const struct buf *b)
{
	for (const char *p = b->data ? b->data : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (!strncmp(p, "Err:", 4) || !strncmp(p, "E: ", 3) ||
		    (!strncmp(p, "W: ", 3) && memmem(p, (size_t)(eol - p), "Failed to fetch", 15)))
			return true;
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

/* Index files apt has for this configuration: a failed suite leaves the
 * others usable (a mirror caught mid-sync serves one suite's Packages that
 * does not match its Release file, for hours). */
static int count_indexes(const struct apt *apt)
{
	const char *kind = apt->source ? "_Sources" : "_Packages";
	DIR *d = opendir(apt->lists);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, kind))
			n++;
	closedir(d);
	return n;
}

int apt_update(const struct apt *apt)
{
	static const char *const args[] = { "update", NULL };
	cleanup_buf struct buf b = { 0 };
	char errs[2048];
	uint64_t t0 = monotonic_ms();
	int st, err;

	/* Five suites' lists take about 70 MB (kept compressed), twice that
	 * while they are replaced; the Sources indexes about as much. */
	err = check_free_space(apt->arch_dir, APT_LISTS_SPACE, "the Debian package lists");
	if (err)
		return err;
	pr_info("updating the package lists of kta's private apt (%s, %s)", apt->uri,
		apt->source ? "sources" : apt->deb_arch);
	st = apt_run(apt, "apt-get", args, &b);
	if (st < 0) {
		pr_err("cannot run apt-get: %s", strerror(-st));
		return st;
	}
	/* apt-get update exits 0 when indexes fail to download ("W: Failed to
	 * fetch"), so its output decides too. */
	if (st || update_failed(&b)) {
		int have = count_indexes(apt);

		apt_errors(&b, errs, sizeof(errs));
		if (have > 0) {
			pr_warn("some of Debian's package lists could not be fetched; using the %d "
				"that were:%s", have, errs);
			goto done;
		}
		pr_err("apt-get update from `%s` failed; check the network or set KTA_APT_URI:%s",
		       apt->uri, errs);
		return -EIO;
	}
done:
	/* The kernel-package name index is for binary lists only. */
	err = apt->source ? 0 : build_index(apt);
	err = err ?: write_file_atomic(apt->stamp, apt->uri, strlen(apt->uri), 0644);
	if (err)
		return err;
	pr_debug("apt-get update took %llu ms", (unsigned long long)(monotonic_ms() - t0));
	return 0;
}

int apt_ensure_lists(const struct apt *apt, int apt_err, int64_t max_age_s, struct dirlock *lock,
		     bool *updated)
{
	int64_t age;
	int err;

	if (apt_err)
		return apt_err;
	age = apt_lists_age(apt);
	if (*updated || (age >= 0 && age <= max_age_s))
		return 0;
	err = dirlock_take(lock);
	/* Another process may have updated while we waited. */
	age = apt_lists_age(apt);
	if (!err && age >= 0 && age <= max_age_s)
		return 0;
	err = err ?: apt_update(apt);
	if (!err) {
		*updated = true;
		return 0;
	}
	if (age >= 0) {
		pr_warn("using %s package lists from %lld hours ago", apt->source ? "source" : apt->deb_arch,
			(long long)(age / 3600));
		return 0;
	}
	return err;
}

int apt_pkgnames(const struct apt *apt, const char *prefix, struct buf *out)
{
	cleanup_buf struct buf b = { 0 };
	char path[PATH_MAX];
	int err;

	if (!indexed_prefix(prefix)) {
		const char *args[] = { "pkgnames", prefix, NULL };
		int st = apt_run(apt, "apt-cache", args, &b);

		if (st)
			return st < 0 ? st : -EIO;
	} else {
		err = index_path(apt, path);
		if (err)
			return err;
		err = read_file(path, &b, 64 << 20);
		if (err == -ENOENT) {
			err = build_index(apt);
			err = err ?: read_file(path, &b, 64 << 20);
		}
		if (err)
			return err;
	}
	for (const char *p = b.data ? b.data : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (!strncmp(p, prefix, strlen(prefix)) && (size_t)(eol - p) >= strlen(prefix)) {
			err = buf_append(out, p, (size_t)(eol - p));
			err = err ?: buf_append(out, "\n", 1);
			if (err)
				return err;
		}
		p = *eol ? eol + 1 : eol;
	}
	return out->data ? 0 : buf_append(out, "", 0);
}

int apt_show(const struct apt *apt, const char *const *pkgs, struct buf *out)
{
	const char *args[16];
	size_t n = 0;
	int st;

	args[n++] = "show";
	for (size_t i = 0; pkgs[i]; i++) {
		if (n + 2 > ARRAY_SIZE(args))
			return -E2BIG;
		args[n++] = pkgs[i];
	}
	args[n] = NULL;
	st = apt_run(apt, "apt-cache", args, out);
	if (st < 0)
		return st;
	/* 100: none of the names is known at all. */
	return st ? -ENOENT : 0;
}

/* apt-get with args in dir (`download` and `source` write into the current
 * directory); what names the packages in messages. */
static int apt_get_in(const struct apt *apt, const char *const *args, const char *dir, const char *what)
{
	cleanup_buf struct buf b = { 0 };
	char errs[2048];
	uint64_t t0 = monotonic_ms();
	int cwd, st, err;

	/* kta is single threaded, so changing the directory around the child
	 * is safe. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return -errno;
	if (chdir(dir) < 0) {
		err = -errno;
		close(cwd);
		return pr_err("cannot enter `%s`: %s", dir, strerror(-err)), err;
	}
	st = apt_run(apt, "apt-get", args, &b);
	err = fchdir(cwd) < 0 ? -errno : 0;
	close(cwd);
	if (st) {
		apt_errors(&b, errs, sizeof(errs));
		pr_err("cannot download %s from `%s`%s%s", what, apt->uri, st < 0 ? ": " : "",
		       st < 0 ? strerror(-st) : errs);
		return st < 0 ? st : -EIO;
	}
	if (err)
		return err;
	pr_debug("downloaded %s in %llu ms", what, (unsigned long long)(monotonic_ms() - t0));
	return 0;
}

int apt_download(const struct apt *apt, const char *const *specs, const char *dir)
{
	const char *args[16];
	char what[256];
	size_t n = 0;

	args[n++] = "download";
	for (size_t i = 0; specs[i]; i++) {
		if (n + 2 > ARRAY_SIZE(args))
			return -E2BIG;
		args[n++] = specs[i];
	}
	args[n] = NULL;
	snprintf(what, sizeof(what), "%s%s", specs[0], specs[1] ? " ..." : "");
	return apt_get_in(apt, args, dir, what);
}

int apt_download_unpack(const struct apt *apt, const char *const *specs, const char *debs_dir,
			const char *dest)
{
	cleanup_free char *pattern = path_join(debs_dir, "*.deb");
	size_t n = 0;
	glob_t g;
	int err;

	while (specs[n])
		n++;
	if (!pattern)
		return -ENOMEM;
	err = apt_download(apt, specs, debs_dir);
	if (err)
		return err;
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != n) {
		pr_err("apt-get download left %zu .deb files in `%s`, expected %zu", (size_t)g.gl_pathc, debs_dir, n);
		globfree(&g);
		return -ENOENT;
	}
	for (size_t i = 0; !err && i < g.gl_pathc; i++) {
		cleanup_buf struct buf out = { 0 };
		char *argv[] = { "dpkg-deb", "-x", g.gl_pathv[i], (char *)dest, NULL };
		int st = spawn_run(argv, NULL, &out);

		if (st) {
			pr_err("cannot unpack `%s` into `%s`: %s", g.gl_pathv[i], dest,
			       st < 0 ? strerror(-st) : out.data ? out.data : "dpkg-deb failed");
			err = st < 0 ? st : -EIO;
		}
		unlink(g.gl_pathv[i]);
	}
	globfree(&g);
	return err;
}

int apt_showsrc(const struct apt *apt, const char *name, struct buf *out)
{
	const char *args[] = { "showsrc", name, NULL };
	int st = apt_run(apt, "apt-cache", args, out);

	if (st < 0)
		return st;
	if (st)
		return pr_err("apt-cache showsrc %s failed (exit %d): %s", name, st, out->data ? out->data : ""), -EIO;
	/* An unknown name is a warning and exit 0: no stanza means none. */
	for (const char *p = out->data; p && (p = strstr(p, "Package:")); p++)
		if (p == out->data || p[-1] == '\n')
			return 0;
	return -ENOENT;
}

int apt_source_download(const struct apt *apt, const char *spec, const char *dir)
{
	/* --only-source: spec names a source package, never a binary one. */
	const char *args[] = { "source", "--download-only", "--only-source", spec, NULL };

	if (!apt->source)
		return -EINVAL;
	return apt_get_in(apt, args, dir, spec);
}

const char *deb822_next(const char **cursor, size_t *len)
{
	const char *s = *cursor, *end;

	if (!s || !*s)
		return NULL;
	end = strstr(s, "\n\n");
	*len = end ? (size_t)(end - s) + 1 : strlen(s);
	*cursor = end ? end + 2 : s + *len;
	return s;
}

void deb822_versions(const char *text, struct buf *out)
{
	size_t len;

	for (const char *cur = text, *s; (s = deb822_next(&cur, &len));) {
		char ver[96];

		if (!deb822_field(s, len, "Version", ver, sizeof(ver)))
			buf_printf(out, " %s", ver);
	}
}

int deb822_field(const char *stanza, size_t len, const char *field, char *out, size_t size)
{
	size_t flen = strlen(field);

	for (const char *p = stanza, *end = stanza + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > flen && !strncasecmp(p, field, flen) && p[flen] == ':') {
			apt_field_value(p + flen + 1, eol, out, size);
			return 0;
		}
		p = eol + 1;
	}
	return -ENOENT;
}

/* dpkg's ordering: '~' before everything, even the end; letters before
 * other characters. */
static int ver_order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		int first_diff = 0;

		while ((a < ae && !isdigit((unsigned char)*a)) || (b < be && !isdigit((unsigned char)*b))) {
			int ac = a < ae ? ver_order((unsigned char)*a) : 0;
			int bc = b < be ? ver_order((unsigned char)*b) : 0;

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && b < be && isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && isdigit((unsigned char)*a))
			return 1;
		if (b < be && isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

int deb_version_cmp(const char *a, const char *b)
{
	const char *ac = strchr(a, ':'), *bc = strchr(b, ':');
	long ea = ac ? strtol(a, NULL, 10) : 0, eb = bc ? strtol(b, NULL, 10) : 0;
	const char *au = ac ? ac + 1 : a, *bu = bc ? bc + 1 : b;
	const char *ar = strrchr(au, '-'), *br = strrchr(bu, '-');
	const char *aend = ar ? ar : au + strlen(au), *bend = br ? br : bu + strlen(bu);
	int r;

	if (ea != eb)
		return ea < eb ? -1 : 1;
	r = verrevcmp(au, aend, bu, bend);
	if (r)
		return r;
	if (!ar && !br)
		return 0;
	ar = ar ? ar + 1 : "";
	br = br ? br + 1 : "";
	return verrevcmp(ar, ar + strlen(ar), br, br + strlen(br));
}
