/* Debian source packages in the kta cache. A fetch resolves the newest
 * version matching the request from the private deb-src lists (bookworm to
 * sid), downloads the .dsc and its files with `apt-get source
 * --download-only` (apt checks their hashes against the signed Sources
 * index), unpacks them with `dpkg-source -x` (Debian's patches applied) in
 * a .tmp-* directory and publishes the entry with one rename: a failed or
 * interrupted fetch never leaves a half entry. A cached match needs no
 * network and no apt run.
 */
#include "apt/apt.h"
#include "base/kv.h"
#include "base/dirlock.h"
#include "base/centry.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/spawn.h"
#include "base/pathf.h"
#include "kernel/source.h"
#include "base/util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define DAY_S (24 * 3600)
#define HOUR_S 3600
#define INFO_NAME ".kta-source"

struct sfetch {
	char sdir[PATH_MAX];    /* $cache/sources */
	struct apt apt;
	int apt_err;            /* apt_init_source()'s result */
	struct dirlock lock;
	bool updated;           /* lists refreshed by this process */
};


static void tmpdirp(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}
#define cleanup_tmpdir __attribute__((cleanup(tmpdirp)))

bool source_valid_name(const char *name)
{
	/* Debian policy: lower case letters, digits, + - . ; two or more
	 * characters, starting with an alphanumeric. */
	if (!name || strlen(name) < 2 || strlen(name) >= sizeof(((struct source_entry *)0)->name) ||
	    !isalnum((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("+-.", *p)))
			return false;
	return true;
}

static bool valid_version(const char *v)
{
	if (!*v || strlen(v) >= sizeof(((struct source_entry *)0)->version))
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".+~-:", *p))
			return false;
	return true;
}

static const char *strip_epoch(const char *v)
{
	const char *c = strchr(v, ':');

	return c ? c + 1 : v;
}

bool source_version_matches(const char *version, const char *want)
{
	const char *v = strip_epoch(version);
	size_t n;

	if (!want || !*want || !strcmp(want, "latest"))
		return true;
	if (!strcmp(version, want) || !strcmp(v, want))
		return true;
	/* An upstream prefix: "1.5" matches "1.5.0-3" but not "1.50-1". */
	n = strlen(want);
	return !strchr(want, ':') && !strncmp(v, want, n) && strchr(".-+~", v[n]);
}

int source_dir_name(const char *name, const char *version, char *out, size_t size)
{
	return pathf(out, size, "%s-%s", name, strip_epoch(version));
}

uint64_t source_files_size(const char *stanza, size_t len)
{
	const char *end = stanza + len;
	uint64_t total = 0;
	bool in_files = false;

	for (const char *p = stanza; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (*p == ' ' || *p == '\t') {
			/* " <md5> <size> <name>" */
			if (in_files) {
				const char *q = p;

				while (q < eol && isspace((unsigned char)*q))
					q++;
				while (q < eol && !isspace((unsigned char)*q))
					q++;
				total += strtoull(q, NULL, 10);
			}
		} else {
			in_files = (size_t)(eol - p) >= 6 && !strncasecmp(p, "Files:", 6);
		}
		p = eol + 1;
	}
	return total;
}

int source_pick(const char *text, const char *want, char *name, size_t name_size, char *version,
		size_t version_size, uint64_t *size)
{
	size_t len;
	bool found = false;

	for (const char *cur = text, *s; (s = deb822_next(&cur, &len));) {
		char pname[128], ver[96];

		if (!deb822_field(s, len, "Package", pname, sizeof(pname)) &&
		    !deb822_field(s, len, "Version", ver, sizeof(ver)) && source_valid_name(pname) &&
		    valid_version(ver) && source_version_matches(ver, want) &&
		    (!found || deb_version_cmp(ver, version) > 0)) {
			found = true;
			snprintf(name, name_size, "%s", pname);
			snprintf(version, version_size, "%s", ver);
			*size = source_files_size(s, len);
		}
	}
	return found ? 0 : -ENOENT;
}

static int sfetch_init(struct sfetch *f)
{
	char root[PATH_MAX];
	int err;

	memset(f, 0, sizeof(*f));
	f->lock = (struct dirlock){ .fd = -1, .dir = f->sdir, .stopped = interrupt_check };
	err = cache_dir(root, sizeof(root));
	if (err)
		return pr_err("cannot create the kta cache directory: %s", strerror(-err)), err;
	err = pathf(f->sdir, sizeof(f->sdir), "%s/sources", root);
	err = err ?: mkdir_p(f->sdir, 0755);
	if (err)
		return pr_err("cannot create `%s`: %s", f->sdir, strerror(-err)), err;
	/* Without a usable apt, cached sources still work. */
	f->apt_err = apt_init_source(&f->apt, root);
	return 0;
}

static void sfetch_done(struct sfetch *f)
{
	dirlock_release(&f->lock);
}

/* Fill e from the cache entry of name at version; -ENOENT when absent. */
static int entry_load(const struct sfetch *f, const char *name, const char *version, struct source_entry *e)
{
	cleanup_buf struct buf info = { 0 };
	char dname[256], path[PATH_MAX];
	int err = source_dir_name(name, version, dname, sizeof(dname));

	err = err ?: pathf(path, sizeof(path), "%s/%s/%s", f->sdir, dname, INFO_NAME);
	err = err ?: read_file(path, &info, 1 << 16);
	if (err)
		return err;
	memset(e, 0, sizeof(*e));
	if (kv_value(info.data, "package", e->name, sizeof(e->name)) ||
	    kv_value(info.data, "version", e->version, sizeof(e->version)))
		return -ENOENT;
	e->cached = true;
	return pathf(e->dir, sizeof(e->dir), "%s/%s", f->sdir, dname);
}

/* The newest cached entry whose package is name (or, for a binary package
 * name, whose binaries include it) matching want. */
static int cached_best(const struct sfetch *f, const char *name, const char *want, struct source_entry *e)
{
	DIR *d = opendir(f->sdir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		cleanup_buf struct buf info = { 0 };
		char path[PATH_MAX], pkg[128], ver[96], bins[1024];

		if (de->d_name[0] == '.' ||
		    pathf(path, sizeof(path), "%s/%s/%s", f->sdir, de->d_name, INFO_NAME) ||
		    read_file(path, &info, 1 << 16) || kv_value(info.data, "package", pkg, sizeof(pkg)) ||
		    kv_value(info.data, "version", ver, sizeof(ver)))
			continue;
		if (kv_value(info.data, "binaries", bins, sizeof(bins)))
			bins[0] = '\0';
		if (strcmp(pkg, name)) {
			char key[160];

			snprintf(key, sizeof(key), " %s ", name);
			if (!strstr(bins, key))
				continue;
		}
		if (!source_version_matches(ver, want) || (found && deb_version_cmp(ver, e->version) <= 0))
			continue;
		found = !entry_load(f, pkg, ver, e);
	}
	closedir(d);
	return found ? 0 : -ENOENT;
}

/* Package lists: refresh when missing or older than max_age_s. Failing to
 * refresh stale lists is a warning: they still name what they named. */
/* "latest" is remembered per package until the lists change:
 * $sdir/.latest-<name> holds the version, valid while it is newer than the
 * lists' stamp and the lists are fresh. */
static int latest_path(const struct sfetch *f, const char *name, char *out)
{
	return pathf(out, PATH_MAX, "%s/.latest-%s", f->sdir, name);
}

static int latest_load(const struct sfetch *f, const char *name, struct source_entry *e)
{
	cleanup_buf struct buf b = { 0 };
	char path[PATH_MAX], pkg[128], ver[96];
	struct stat st_rec, st_lists;
	int64_t age;

	if (f->apt_err || latest_path(f, name, path) || stat(path, &st_rec) < 0 ||
	    stat(f->apt.stamp, &st_lists) < 0 || st_rec.st_mtime < st_lists.st_mtime)
		return -ENOENT;
	age = apt_lists_age(&f->apt);
	if (age < 0 || age > DAY_S || read_file(path, &b, 4096) ||
	    kv_value(b.data, "package", pkg, sizeof(pkg)) || kv_value(b.data, "version", ver, sizeof(ver)))
		return -ENOENT;
	return entry_load(f, pkg, ver, e);
}

static void latest_store(const struct sfetch *f, const char *name, const char *pkg, const char *version)
{
	cleanup_free char *text = xasprintf("package=%s\nversion=%s\n", pkg, version);
	char path[PATH_MAX];

	if (text && !latest_path(f, name, path))
		write_file_atomic(path, text, strlen(text), 0644);
}

/* The versions in showsrc output, for "no such version". */
static void report_versions(const char *name, const char *want, const char *text)
{
	cleanup_buf struct buf vs = { 0 };

	deb822_versions(text, &vs);
	pr_err("Debian has no version %s of source package `%s` (bookworm to sid); available:%s", want, name,
	       vs.data ? vs.data : " none");
}

/* showsrc, refreshing lists older than an hour once when the name or the
 * version is unknown (it may have been uploaded today). */
static int resolve(struct sfetch *f, const char *name, const char *want, char *pkg, char *version,
		   uint64_t *size)
{
	int err = apt_ensure_lists(&f->apt, f->apt_err, DAY_S, &f->lock, &f->updated);

	if (err)
		return err;
	for (int pass = 0;; pass++) {
		cleanup_buf struct buf b = { 0 };

		err = apt_showsrc(&f->apt, name, &b);
		if (!err)
			err = source_pick(b.data, want, pkg, 128, version, 96, size);
		else if (err != -ENOENT)
			return pr_err("cannot look up source package `%s`: %s", name, strerror(-err)), err;
		if (!err)
			return 0;
		if (pass || f->updated || apt_ensure_lists(&f->apt, f->apt_err, HOUR_S, &f->lock, &f->updated) || !f->updated) {
			if (b.data && strstr(b.data, "Package:"))
				report_versions(name, want, b.data);
			else
				pr_err("Debian has no source package (nor a binary package) named `%s` in bookworm to sid",
				       name);
			return SOURCE_ENOPKG;
		}
	}
}

/* The binary packages a .dsc builds, as " a b c ": lets a later request by
 * a binary name ("libbpf-dev") hit the cache. */
static void dsc_binaries(const char *dsc, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	char bins[1024];
	size_t used;

	snprintf(out, size, " ");
	if (read_file(dsc, &b, 1 << 20) || deb822_field(b.data, b.len, "Binary", bins, sizeof(bins)))
		return;
	used = 1;
	for (char *save = NULL, *t = strtok_r(bins, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (used + strlen(t) + 2 < size)
			used += (size_t)snprintf(out + used, size - used, "%s ", t);
}

static int unpack(const struct sfetch *f, const char *pkg, const char *version, uint64_t size,
		  struct source_entry *e)
{
	cleanup_tmpdir char *tmp = NULL;
	cleanup_free char *dl = NULL, *src = NULL, *pattern = NULL, *spec = NULL, *info = NULL;
	cleanup_buf struct buf out = { 0 };
	char dname[256], dst[PATH_MAX], sha[65], bins[1024];
	time_t now = time(NULL);
	glob_t g;
	int st, err;

	/* The download, the unpacked tree (several times the compressed
	 * tarball) and the entry share the cache's file system. */
	err = check_free_space(f->sdir, 8 * size + (16u << 20), "the Debian source package");
	err = err ?: source_dir_name(pkg, version, dname, sizeof(dname));
	err = err ?: pathf(dst, sizeof(dst), "%s/%s", f->sdir, dname);
	if (err)
		return err;
	tmp = xasprintf("%s/.tmp-%s-XXXXXX", f->sdir, pkg);
	if (!tmp || !mkdtemp(tmp)) {
		err = tmp ? -errno : -ENOMEM;
		free(steal_pointer(&tmp));
		return pr_err("cannot create a temporary directory in `%s`: %s", f->sdir, strerror(-err)), err;
	}
	dl = path_join(tmp, "dl");
	src = path_join(tmp, "src");
	pattern = path_join(dl ? dl : "", "*.dsc");
	spec = xasprintf("%s=%s", pkg, version);
	if (!dl || !src || !pattern || !spec)
		return -ENOMEM;
	if (mkdir(dl, 0755) < 0)
		return -errno;
	pr_info("downloading source package %s %s (%.1f MB)", pkg, version, (double)size / 1e6);
	err = apt_source_download(&f->apt, spec, dl);
	err = err ?: interrupt_check();
	if (err)
		return err;
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != 1) {
		pr_err("apt-get source left %zu .dsc files in `%s`, expected 1", (size_t)g.gl_pathc, dl);
		globfree(&g);
		return -ENOENT;
	}
	{
		/* apt verified every file against the signed Sources index;
		 * dpkg-source checks them against the .dsc once more and, with
		 * no uploader keyring installed, only warns about the
		 * signature (in out, shown on failure). */
		char *argv[] = { "dpkg-source", "-x", g.gl_pathv[0], src, NULL };

		st = spawn_run(argv, NULL, &out);
	}
	err = st == 0 ? 0 : st < 0 ? st : -EIO;
	if (err && !interrupt_signal()) {
		if (st == 127 || st == -ENOENT)
			pr_err("cannot run dpkg-source: install the dpkg-dev package");
		else
			pr_err("cannot unpack `%s` into `%s`: %s", g.gl_pathv[0], src,
			       st < 0 ? strerror(-st) : out.data ? out.data : "dpkg-source failed");
	}
	err = err ?: sha256_file(g.gl_pathv[0], sha);
	dsc_binaries(g.gl_pathv[0], bins, sizeof(bins));
	globfree(&g);
	err = err ?: interrupt_check();
	if (err)
		return err;
	info = xasprintf("# Written by kta source fetch: where this tree came from.\n"
			 "package=%s\nversion=%s\nbinaries=%s\ndsc_sha256=%s\narchive=%s\nfetched=%lld\n",
			 pkg, version, bins, sha, f->apt.uri, (long long)now);
	if (!info)
		return -ENOMEM;
	{
		cleanup_free char *ipath = path_join(src, INFO_NAME);

		err = ipath ? write_file_atomic(ipath, info, strlen(info), 0644) : -ENOMEM;
	}
	err = err ?: interrupt_check();
	if (err)
		return err;
	/* The one step that publishes the entry. */
	err = centry_replace(f->sdir, src, dst);
	return err ?: entry_load(f, pkg, version, e);
}

static int fetch_locked(struct sfetch *f, const char *name, const char *want, struct source_entry *out)
{
	char pkg[128], version[96];
	uint64_t size = 0;
	uint64_t t0 = monotonic_ms();
	int err;

	err = resolve(f, name, want, pkg, version, &size);
	if (!err && !entry_load(f, pkg, version, out))
		goto hit;
	if (err == SOURCE_ENOPKG || interrupt_signal())
		return err ?: -EINTR;
	if (err) {
		/* No usable lists: choose among what is cached. */
		if (cached_best(f, name, want, out)) {
			pr_err("no cached source of `%s`%s%s and no package lists to fetch one", name,
			       want ? " matching " : "", want ? want : "");
			return err;
		}
		pr_warn("cannot reach the Debian archive; using the cached source %s %s", out->name, out->version);
		return 0;
	}
	/* Another kta may have fetched it while we waited for the lock. */
	err = dirlock_take(&f->lock);
	err = err ?: interrupt_check();
	if (err)
		return err;
	if (!entry_load(f, pkg, version, out))
		goto hit;
	dirlock_clean_stale(&f->lock);
	err = f->apt_err ?: unpack(f, pkg, version, size, out);
	if (err)
		return err;
	out->cached = false;
	pr_info("fetched source package %s %s in %.1f s into %s", pkg, version,
		(double)(monotonic_ms() - t0) / 1000, out->dir);
	if (!want)
		latest_store(f, name, pkg, version);
	return 0;
hit:
	if (!want)
		latest_store(f, name, pkg, version);
	pr_info("using cached source package %s %s from %s", out->name, out->version, out->dir);
	dirlock_try_clean_stale(&f->lock);
	return 0;
}

int source_fetch(const char *name, const char *want, struct source_entry *out, int *sig)
{
	struct sfetch f;
	int err;

	*sig = 0;
	if (!source_valid_name(name))
		return pr_err("invalid package name `%s` (Debian names: lower case letters, digits, + - .)",
			      name ? name : ""), -EINVAL;
	if (want && !strcmp(want, "latest"))
		want = NULL;
	if (want && !valid_version(want))
		return pr_err("invalid version `%s` (expected e.g. 1.5.0-3, 1.5.0, 1.5, latest)", want), -EINVAL;
	err = sfetch_init(&f);
	if (err)
		return err;
	/* A pinned version already in the cache: no apt at all. */
	if (want && !cached_best(&f, name, want, out)) {
		pr_info("using cached source package %s %s from %s", out->name, out->version, out->dir);
		dirlock_try_clean_stale(&f.lock);
		return 0;
	}
	if (!want && !latest_load(&f, name, out)) {
		pr_info("using cached source package %s %s from %s", out->name, out->version, out->dir);
		return 0;
	}
	interrupt_begin();
	err = fetch_locked(&f, name, want, out);
	if (interrupt_signal()) {
		*sig = interrupt_signal();
		err = -EINTR;
		pr_err("interrupted by %s; the partial fetch was removed", strsignal(*sig));
	}
	sfetch_done(&f);
	interrupt_end();
	return err;
}

int source_list(const char *name, struct source_avail **out, size_t *n, char *srcname, size_t size)
{
	size_t len;
	cleanup_buf struct buf b = { 0 };
	struct source_avail *v = NULL;
	struct sfetch f;
	size_t k = 0;
	int err;

	if (!source_valid_name(name))
		return pr_err("invalid package name `%s`", name ? name : ""), -EINVAL;
	err = sfetch_init(&f);
	err = err ?: apt_ensure_lists(&f.apt, f.apt_err, DAY_S, &f.lock, &f.updated);
	err = err ?: apt_showsrc(&f.apt, name, &b);
	sfetch_done(&f);
	if (err == -ENOENT) {
		pr_err("Debian has no source package (nor a binary package) named `%s` in bookworm to sid", name);
		return SOURCE_ENOPKG;
	}
	if (err)
		return err;
	snprintf(srcname, size, "%s", name);
	for (const char *cur = b.data, *s; (s = deb822_next(&cur, &len));) {
		struct source_entry e;
		char pkg[128], ver[96];
		bool ok = !deb822_field(s, len, "Package", pkg, sizeof(pkg)) &&
			  !deb822_field(s, len, "Version", ver, sizeof(ver)) && valid_version(ver);

		/* The same version in several suites is one version. */
		for (size_t i = 0; ok && i < k; i++)
			ok = strcmp(v[i].version, ver) != 0;
		if (ok) {
			struct source_avail *nv = realloc(v, (k + 1) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			snprintf(v[k].version, sizeof(v[k].version), "%s", ver);
			v[k].cached = !entry_load(&f, pkg, ver, &e);
			snprintf(srcname, size, "%s", pkg);
			k++;
		}
	}
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && deb_version_cmp(v[j - 1].version, v[j].version) > 0; j--) {
			struct source_avail t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	*n = k;
	return 0;
}
