/* Private apt: kta fetches Debian kernel packages from several suites
 * (bookworm to sid) that must never be added to the system's sources, so
 * apt-get and apt-cache run with their own sources.list, lists and cache
 * under $cache/apt. Everything else about the host's apt (proxies, the
 * keyring) is kept; the archive URI is read from the system's sources so
 * that no mirror name lives in the code.
 */
#include "apt.h"
#include "log.h"
#include "pathf.h"

#include <ctype.h>
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
	"Dir::Cache::pkgcache \"\";\n"
	"Dir::Cache::srcpkgcache \"\";\n";

static bool word_in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t len;

		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\n");
		if (len == n && !strncmp(p, word, n))
			return true;
		p += len;
	}
	return false;
}

/* A suite of the main Debian archive: a codename or alias, possibly with
 * -updates/-backports, never -security (a separate archive). */
static bool debian_suite(const char *s, size_t len)
{
	static const char *const names[] = {
		"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
		"oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental",
	};
	size_t base = 0;

	while (base < len && s[base] != '-' && s[base] != '/')
		base++;
	if (memmem(s, len, "security", 8))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == base && !strncmp(s, names[i], base))
			return true;
	return false;
}

static bool any_debian_suite(const char *list)
{
	for (const char *p = list; *p;) {
		size_t len;

		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\n");
		if (len && debian_suite(p, len))
			return true;
		p += len;
	}
	return false;
}

static bool usable_uri(const char *uri, size_t len)
{
	if (!len || memmem(uri, len, "security", 8))
		return false;
	return (len > 7 && !strncmp(uri, "http://", 7)) || (len > 8 && !strncmp(uri, "https://", 8)) ||
	       (len > 5 && !strncmp(uri, "file:", 5));
}

static int copy_uri(const char *uri, size_t len, char *out, size_t size)
{
	while (len && uri[len - 1] == '/')
		len--;
	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, uri, len);
	out[len] = '\0';
	return 0;
}

/* Copy a field's value (rest of the line, trimmed) into out. */
static void field_value(const char *p, const char *end, char *out, size_t size)
{
	size_t n;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

int apt_uri_from_deb822(const char *text, char *out, size_t size)
{
	const char *p = text;

	while (*p) {
		char types[128] = "", uris[512] = "", suites_v[512] = "", enabled[16] = "";
		bool any = false;

		/* One stanza: lines up to a blank line. */
		while (*p) {
			const char *eol = strchrnul(p, '\n');
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			bool blank = true;

			for (const char *q = p; q < eol; q++)
				if (!isspace((unsigned char)*q))
					blank = false;
			if (blank) {
				p = *eol ? eol + 1 : eol;
				if (any)
					break;
				continue;
			}
			if (*p != '#' && !isspace((unsigned char)*p) && colon) {
				size_t klen = (size_t)(colon - p);

				any = true;
				if (klen == 5 && !strncasecmp(p, "Types", 5))
					field_value(colon + 1, eol, types, sizeof(types));
				else if (klen == 4 && !strncasecmp(p, "URIs", 4))
					field_value(colon + 1, eol, uris, sizeof(uris));
				else if (klen == 6 && !strncasecmp(p, "Suites", 6))
					field_value(colon + 1, eol, suites_v, sizeof(suites_v));
				else if (klen == 7 && !strncasecmp(p, "Enabled", 7))
					field_value(colon + 1, eol, enabled, sizeof(enabled));
			}
			p = *eol ? eol + 1 : eol;
		}
		if (!any || !word_in_list(types, "deb") || !strcasecmp(enabled, "no") ||
		    !any_debian_suite(suites_v))
			continue;
		for (const char *u = uris; *u;) {
			size_t len;

			while (*u && isspace((unsigned char)*u))
				u++;
			len = strcspn(u, " \t");
			if (usable_uri(u, len))
				return copy_uri(u, len, out, size);
			u += len;
		}
	}
	return -ENOENT;
}

int apt_uri_from_list(const char *text, char *out, size_t size)
{
	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		char line[1024];
		char *tok, *save = NULL, *uri = NULL, *suite = NULL;
		size_t n = (size_t)(eol - p);

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = *eol ? eol + 1 : eol;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		tok = strtok_r(line, " \t", &save);
		if (!tok || strcmp(tok, "deb"))
			continue;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			if (tok[0] == '[') {
				/* Options may contain spaces: skip to the closing ']'. */
				while (tok && !strchr(tok, ']'))
					tok = strtok_r(NULL, " \t", &save);
				continue;
			}
			if (!uri)
				uri = tok;
			else if (!suite)
				suite = tok;
			else
				break;
		}
		if (uri && suite && debian_suite(suite, strlen(suite)) && usable_uri(uri, strlen(uri)))
			return copy_uri(uri, strlen(uri), out, size);
	}
	return -ENOENT;
}

static int uri_from_file(const char *path, bool deb822, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(path, &b, 1 << 20);

	if (err)
		return err;
	return deb822 ? apt_uri_from_deb822(b.data, out, size) : apt_uri_from_list(b.data, out, size);
}

int apt_archive_uri(char *out, size_t size)
{
	const char *env = getenv("KTA_APT_URI");
	glob_t g;
	int err = -ENOENT;

	if (env && *env) {
		if (strpbrk(env, " \t\n"))
			return pr_err("KTA_APT_URI `%s` contains white space", env), -EINVAL;
		return copy_uri(env, strlen(env), out, size);
	}
	if (!glob("/etc/apt/sources.list.d/*.sources", 0, NULL, &g)) {
		for (size_t i = 0; err && i < g.gl_pathc; i++)
			err = uri_from_file(g.gl_pathv[i], true, out, size);
		globfree(&g);
	}
	if (err)
		err = uri_from_file("/etc/apt/sources.list", false, out, size);
	if (err && !glob("/etc/apt/sources.list.d/*.list", 0, NULL, &g)) {
		for (size_t i = 0; err && i < g.gl_pathc; i++)
			err = uri_from_file(g.gl_pathv[i], false, out, size);
		globfree(&g);
	}
	if (err)
		pr_err("no Debian archive found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources; "
		       "set KTA_APT_URI (e.g. to a Debian mirror's .../debian URI)");
	return err ? -ENOENT : 0;
}

/* Write path only when its content differs: keeps mtimes meaningful. */
static int write_if_changed(const char *path, const char *text)
{
	cleanup_buf struct buf old = { 0 };

	if (!read_file(path, &old, 1 << 20) && !strcmp(old.data, text))
		return 0;
	return write_file_atomic(path, text, strlen(text), 0644);
}

int apt_init(struct apt *apt, const char *cache_root, const char *deb_arch)
{
	cleanup_buf struct buf sl = { 0 };
	char partial[PATH_MAX + 16];
	int err;

	memset(apt, 0, sizeof(*apt));
	if (strlen(deb_arch) >= sizeof(apt->deb_arch))
		return -ENAMETOOLONG;
	strcpy(apt->deb_arch, deb_arch);
	err = apt_archive_uri(apt->uri, sizeof(apt->uri));
	if (err)
		return err;
	if (access(KEYRING, R_OK) < 0) {
		pr_err("cannot read the Debian archive keyring `%s`: %s; install the debian-archive-keyring package",
		       KEYRING, strerror(errno));
		return -ENOENT;
	}
	err = pathf(apt->dir, PATH_MAX, "%s/apt", cache_root);
	err = err ?: pathf(apt->arch_dir, PATH_MAX, "%s/%s", apt->dir, deb_arch);
	err = err ?: pathf(apt->sources, PATH_MAX, "%s/%s", apt->dir, "sources.list");
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
	buf_printf(&sl, "# Written by kta: Debian kernel packages for kta's private apt.\n"
			"# The system's apt never reads this file.\n");
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++)
		buf_printf(&sl, "deb [signed-by=%s] %s %s main\n", KEYRING, apt->uri, suites[i]);
	if (!sl.data)
		return -ENOMEM;
	err = write_if_changed(apt->sources, sl.data);
	err = err ?: write_if_changed(apt->conf, apt_conf_text);
	if (err)
		pr_err("cannot write `%s`: %s", apt->sources, strerror(-err));
	return err;
}

/* Run apt-get or apt-cache with the private configuration; extra is a
 * NULL-terminated argument list appended after the options. */
static int apt_run(const struct apt *apt, const char *tool, const char *const *extra, struct buf *out)
{
	char opt[9][PATH_MAX + 48];
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
	snprintf(opt[k++], sizeof(opt[0]), "APT::Architecture=%s", apt->deb_arch);
	snprintf(opt[k++], sizeof(opt[0]), "APT::Architectures=%s", apt->deb_arch);
	snprintf(opt[k++], sizeof(opt[0]), "Dir::Etc::Preferences=/dev/null");
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
	return run_command((char *const *)argv, out);
}

/* The error lines of apt's output, for a message a person can act on. */
static void apt_errors(const struct buf *b, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (const char *p = b->data ? b->data : ""; *p;) {
		const char *eol = strchrnul(p, '\n');
		int n = (int)(eol - p);

		if ((n > 3 && (!strncmp(p, "E: ", 3) || !strncmp(p, "W: ", 3) || !strncmp(p, "Err:", 4))) &&
		    used + (size_t)n + 4 < size)
			used += (size_t)snprintf(out + used, size - used, "\n  %.*s", n, p);
		p = *eol ? eol + 1 : eol;
	}
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
	return pathf(out, PATH_MAX, "%s/pkgnames-linux-image", apt->arch_dir);
}

static int build_index(const struct apt *apt)
{
	static const char *const args[] = { "pkgnames", "linux-image-", NULL };
	cleanup_buf struct buf b = { 0 };
	char path[PATH_MAX];
	int st = apt_run(apt, "apt-cache", args, &b);

	if (st < 0)
		return st;
	if (st)
		return pr_err("apt-cache pkgnames failed (exit %d): %s", st, b.data ? b.data : ""), -EIO;
	if (index_path(apt, path))
		return -ENAMETOOLONG;
	return write_file_atomic(path, b.data ? b.data : "", b.len, 0644);
}

int apt_update(const struct apt *apt)
{
	static const char *const args[] = { "update", NULL };
	cleanup_buf struct buf b = { 0 };
	char uri[512], path[PATH_MAX], errs[2048];
	uint64_t t0 = monotonic_ms();
	int st, err;

	/* Lists of another archive are about to be replaced: until the update
	 * succeeds there are none. */
	if (read_stamp_uri(apt, uri, sizeof(uri)) || strcmp(uri, apt->uri)) {
		unlink(apt->stamp);
		if (!index_path(apt, path))
			unlink(path);
	}
	/* Five suites' lists take about 70 MB (kept compressed), twice that
	 * while they are replaced. */
	err = check_free_space(apt->arch_dir, APT_LISTS_SPACE, "the Debian package lists");
	if (err)
		return err;
	pr_info("updating the package lists of kta's private apt (%s, %s)", apt->uri, apt->deb_arch);
	st = apt_run(apt, "apt-get", args, &b);
	if (st < 0) {
		pr_err("cannot run apt-get: %s", strerror(-st));
		return st;
	}
	if (st) {
		apt_errors(&b, errs, sizeof(errs));
		pr_err("apt-get update from `%s` failed (exit %d); check the network or set KTA_APT_URI:%s",
		       apt->uri, st, errs);
		return -EIO;
	}
	err = build_index(apt);
	err = err ?: write_file_atomic(apt->stamp, apt->uri, strlen(apt->uri), 0644);
	if (err)
		return err;
	pr_debug("apt-get update took %llu ms", (unsigned long long)(monotonic_ms() - t0));
	return 0;
}

int apt_pkgnames(const struct apt *apt, const char *prefix, struct buf *out)
{
	cleanup_buf struct buf b = { 0 };
	char path[PATH_MAX];
	int err;

	if (strncmp(prefix, "linux-image-", 12)) {
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

int apt_download(const struct apt *apt, const char *const *specs, const char *dir)
{
	cleanup_buf struct buf b = { 0 };
	const char *args[16];
	char errs[2048];
	uint64_t t0 = monotonic_ms();
	size_t n = 0;
	int cwd, st, err;

	args[n++] = "download";
	for (size_t i = 0; specs[i]; i++) {
		if (n + 2 > ARRAY_SIZE(args))
			return -E2BIG;
		args[n++] = specs[i];
	}
	args[n] = NULL;
	/* apt-get download writes into the current directory. kta is single
	 * threaded, so changing it around the child is safe. */
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
		pr_err("cannot download %s%s from `%s`%s%s", specs[0], specs[1] ? " ..." : "", apt->uri,
		       st < 0 ? ": " : "", st < 0 ? strerror(-st) : errs);
		return st < 0 ? st : -EIO;
	}
	if (err)
		return err;
	pr_debug("downloaded %s%s in %llu ms", specs[0], specs[1] ? " ..." : "",
		 (unsigned long long)(monotonic_ms() - t0));
	return 0;
}

int deb822_field(const char *stanza, size_t len, const char *field, char *out, size_t size)
{
	size_t flen = strlen(field);

	for (const char *p = stanza, *end = stanza + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > flen && !strncasecmp(p, field, flen) && p[flen] == ':') {
			field_value(p + flen + 1, eol, out, size);
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
