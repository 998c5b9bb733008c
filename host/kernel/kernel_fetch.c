/* Debian prebuilt kernels in the kta cache: pick the highest package
 * matching a version like "7.3" for an arch/flavour, download only the
 * packages the guest needs (Debian 7.x splits a kernel into base, binary and
 * modules packages; older ones ship one package), keep the image, config
 * and the few modules needed, and publish the entry with one rename so an
 * interrupted fetch never leaves a half entry. Cache hits need no network
 * and no apt-cache run.
 */
#include "apt/apt.h"
#include "base/kv.h"
#include "base/centry.h"
#include "base/dirlock.h"
#include "kernel/kernel.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/pathf.h"
#include "base/util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define DAY_S (24 * 3600)
#define HOUR_S 3600

struct fetch {
	const struct arch_profile *arch;
	const char *flavour;
	char kdir[PATH_MAX];      /* $cache/kernels/<deb_arch> */
	struct apt apt;
	int apt_err;              /* apt_init()'s result */
	struct dirlock lock;
	bool updated;             /* lists refreshed by this process */
	/* No version was asked for: when the arch has no kernel of the
	 * default series yet (Debian ports lag behind), take its newest. */
	bool default_version;
};

static void listp(char ***p)
{
	modules_list_free(*p);
}
#define cleanup_list __attribute__((cleanup(listp)))

bool kernel_version_matches(const char *abi, const char *want)
{
	size_t n;

	if (!want || !strcmp(want, "latest"))
		return true;
	n = strlen(want);
	return n && !strncmp(abi, want, n) && strchr(".-+", abi[n]);
}

int kernel_abi_from_pkg(const char *pkg, const char *flavour, char *abi, size_t size)
{
	static const char prefix[] = "linux-image-";
	size_t len = strlen(pkg), fl = strlen(flavour), plen = sizeof(prefix) - 1, n;
	const char *v = pkg + plen;

	if (len <= plen + fl + 1 || strncmp(pkg, prefix, plen) || strcmp(pkg + len - fl, flavour) ||
	    pkg[len - fl - 1] != '-')
		return -EINVAL;
	n = len - plen - fl - 1;
	if (!isdigit((unsigned char)v[0]) || n >= size)
		return -EINVAL;
	/* "6.1.0-47", "7.3.4+deb13": after the first, every '-'-separated
	 * part is numeric, so "6.12.1+deb13-cloud" is not an "amd64" ABI. */
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)v[i]) && !strchr(".+~-", v[i]))
			return -EINVAL;
		if (v[i] == '-' && (i + 1 >= n || !isdigit((unsigned char)v[i + 1])))
			return -EINVAL;
	}
	memcpy(abi, v, n);
	abi[n] = '\0';
	return 0;
}

static int abi_cmp(const void *a, const void *b)
{
	return deb_version_cmp(*(char *const *)a, *(char *const *)b);
}

static int avail_cmp(const void *a, const void *b)
{
	return deb_version_cmp(((const struct kernel_avail *)a)->abi, ((const struct kernel_avail *)b)->abi);
}

static int list_add(char ***list, size_t *n, const char *s)
{
	char **v = realloc(*list, (*n + 2) * sizeof(char *));

	if (!v)
		return -ENOMEM;
	*list = v;
	if (!(v[*n] = strdup(s)))
		return -ENOMEM;
	v[++*n] = NULL;
	return 0;
}

static int fetch_init(struct fetch *f, const struct arch_profile *arch, const char *flavour)
{
	char root[PATH_MAX];
	int err;

	memset(f, 0, sizeof(*f));
	f->arch = arch;
	f->flavour = flavour ? flavour : arch->deb_flavour;
	f->lock = (struct dirlock){ .fd = -1, .dir = f->kdir };
	for (const char *p = f->flavour; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return pr_err("invalid kernel flavour `%s`", f->flavour), -EINVAL;
	err = cache_dir(root, sizeof(root));
	if (err) {
		pr_err("cannot create the kta cache directory: %s", strerror(-err));
		return err;
	}
	if (snprintf(f->kdir, sizeof(f->kdir), "%s/kernels/%s", root, arch->deb_arch) >= (int)sizeof(f->kdir))
		return -ENAMETOOLONG;
	err = mkdir_p(f->kdir, 0755);
	if (err)
		return pr_err("cannot create `%s`: %s", f->kdir, strerror(-err)), err;
	/* Without a usable apt, cached kernels still work. */
	f->apt_err = apt_init(&f->apt, root, arch->deb_arch);
	return 0;
}

static void fetch_done(struct fetch *f)
{
	dirlock_release(&f->lock);
}

/* Entries hold one apt selection: "<abi>-<flavour>". */
static char *entry_path(const struct fetch *f, const char *abi)
{
	return xasprintf("%s/%s-%s", f->kdir, abi, f->flavour);
}

void kernel_modules_for(const struct arch_profile *arch, bool disk, char *out, size_t size)
{
	const char *const *sets[] = { arch->guest_modules, disk ? arch->disk_modules : NULL };
	size_t used = 0;

	out[0] = '\0';
	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; sets[s] && sets[s][i]; i++) {
			if (used + strlen(sets[s][i]) + 2 > size)
				return;
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? " " : "", sets[s][i]);
		}
	}
}

/* Fill k from a complete cache entry; -ENOENT when dir is not one, -ESTALE
 * when it was fetched for a different set of guest modules (an entry
 * fetched for a disk serves a run without one). */
static int entry_load(const struct arch_profile *arch, const char *dir, bool disk, struct kernel *k)
{
	cleanup_free char *info_path = path_join(dir, "kernel.info");
	cleanup_buf struct buf info = { 0 };
	char mods[1024], want[1024], with_disk[1024], pkg[160], pver[96], layout[32];
	int err;

	if (!info_path)
		return -ENOMEM;
	err = read_file(info_path, &info, 1 << 16);
	if (err)
		return err == -ENOENT ? -ENOENT : err;
	kernel_modules_for(arch, disk, want, sizeof(want));
	kernel_modules_for(arch, true, with_disk, sizeof(with_disk));
	if (kv_value(info.data, "modules_for", mods, sizeof(mods)))
		mods[0] = '\0';
	if (strcmp(mods, want) && strcmp(mods, with_disk))
		return -ESTALE;
	memset(k, 0, sizeof(*k));
	if (kv_value(info.data, "version", k->version, sizeof(k->version)) ||
	    kv_value(info.data, "sha256", k->sha256, sizeof(k->sha256)) ||
	    kv_value(info.data, "package", pkg, sizeof(pkg)) ||
	    kv_value(info.data, "package_version", pver, sizeof(pver)))
		return -ENOENT;
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	snprintf(k->image, sizeof(k->image), "%s/vmlinuz", dir);
	k->image_only = !kv_value(info.data, "layout", layout, sizeof(layout)) && !strcmp(layout, "image-only");
	snprintf(k->config, sizeof(k->config), "%s/config", dir);
	if (!path_exists(k->config))
		k->config[0] = '\0';
	if (pathf(k->source, sizeof(k->source), "debian:%s %s", pkg, pver))
		return -ENAMETOOLONG;
	if (!path_exists(k->image))
		return -ENOENT;
	if (kv_value(info.data, "modules", mods, sizeof(mods)))
		mods[0] = '\0';
	for (char *save = NULL, *m = strtok_r(mods, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
		cleanup_free char *p = xasprintf("%s/modules/%s.ko", dir, m);

		if (!p || !path_exists(p)) {
			kernel_free(k);
			return p ? -ENOENT : -ENOMEM;
		}
		err = list_add(&k->modules, &k->nr_modules, p);
		if (err) {
			kernel_free(k);
			return err;
		}
	}
	/* This run boots it: a refresh or a prune leaves it alone. */
	centry_hold(dir);
	return 0;
}

/* The ABIs of the cached entries for this arch/flavour matching want. */
static int cached_abis(const struct fetch *f, const char *want, char ***out, size_t *n)
{
	DIR *d = opendir(f->kdir);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		cleanup_free char *info_path = NULL;
		cleanup_buf struct buf info = { 0 };
		char abi[128], fl[64];

		if (de->d_name[0] == '.')
			continue;
		info_path = xasprintf("%s/%s/kernel.info", f->kdir, de->d_name);
		if (!info_path || read_file(info_path, &info, 1 << 16))
			continue;
		if (kv_value(info.data, "abi", abi, sizeof(abi)) ||
		    kv_value(info.data, "flavour", fl, sizeof(fl)) || strcmp(fl, f->flavour) ||
		    !kernel_version_matches(abi, want))
			continue;
		err = list_add(out, n, abi);
	}
	closedir(d);
	return err;
}

/* Package lists: refresh when missing or older than max_age_s. Failing to
 * refresh stale lists is a warning: they still name the cached kernels. */
static bool has_line(const struct buf *names, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = names->data; p && (p = strstr(p, line)); p++)
		if ((p == names->data || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* The archive's ABIs for this flavour, oldest first. A 7.x-layout kernel
 * whose linux-base package is gone (Debian's 6.19 to 7.1 backports) is
 * incomplete: no config, no modules.builtin, so kta cannot tell what the
 * guest needs. */
static int archive_abis(struct fetch *f, struct kernel_avail **out, size_t *n)
{
	cleanup_buf struct buf names = { 0 }, bases = { 0 }, bins = { 0 };
	struct kernel_avail *v = NULL;
	size_t cap = 0;
	int err = apt_pkgnames(&f->apt, "linux-image-", &names);

	err = err ?: apt_pkgnames(&f->apt, "linux-base-", &bases);
	err = err ?: apt_pkgnames(&f->apt, "linux-binary-", &bins);
	if (err)
		return pr_err("cannot list Debian kernel packages: %s", strerror(-err)), err;
	*n = 0;
	for (char *save = NULL, *line = strtok_r(names.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char abi[128], bin[256], base[256];

		if (kernel_abi_from_pkg(line, f->flavour, abi, sizeof(abi)))
			continue;
		if (ARRAY_RESERVE(v, cap, *n, 64)) {
			free(v);
			return -ENOMEM;
		}
		memset(&v[*n], 0, sizeof(v[0]));
		snprintf(v[*n].abi, sizeof(v[0].abi), "%s", abi);
		snprintf(bin, sizeof(bin), "linux-binary-%s-%s", abi, f->flavour);
		snprintf(base, sizeof(base), "linux-base-%s-%s", abi, f->flavour);
		v[*n].complete = !has_line(&bins, bin) || has_line(&bases, base);
		(*n)++;
	}
	if (v)
		qsort(v, *n, sizeof(*v), avail_cmp);
	*out = v;
	return 0;
}

/* The flavours the archive has, for "no such flavour": the part after the
 * ABI of linux-image-<abi>-<flavour>, without -dbg/-unsigned packages. */
static void report_flavours(const struct fetch *f)
{
	cleanup_buf struct buf names = { 0 }, seen = { 0 };

	if (apt_pkgnames(&f->apt, "linux-image-", &names))
		return;
	for (char *save = NULL, *l = strtok_r(names.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *fl = l + strlen("linux-image-");
		char key[80];

		if (!isdigit((unsigned char)*fl))
			continue;
		while (*fl && !(fl[0] == '-' && isalpha((unsigned char)fl[1])))
			fl++;
		if (!*fl || strstr(fl, "-dbg") || strstr(fl, "-unsigned"))
			continue;
		snprintf(key, sizeof(key), " %s ", fl + 1);
		if (!seen.data || !strstr(seen.data, key))
			buf_printf(&seen, "%s", key + (seen.data ? 1 : 0));
	}
	if (seen.data)
		pr_err("flavours Debian has for %s:%s", f->arch->deb_arch, seen.data);
}

/* "6.12.107+deb13" -> "6.12" */
static void major_minor(const char *abi, char *out, size_t size)
{
	size_t dots = 0, j = 0;

	while (abi[j] && j + 1 < size && (isdigit((unsigned char)abi[j]) || (abi[j] == '.' && ++dots < 2)))
		j++;
	snprintf(out, size, "%.*s", (int)j, abi);
}

/* " 6.1 6.12 ..." for the complete (or incomplete) kernels in v. */
static void list_series(const struct kernel_avail *v, size_t n, bool complete, char *out, size_t size)
{
	char last[32] = "";
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char mm[32];

		if (v[i].complete != complete)
			continue;
		major_minor(v[i].abi, mm, sizeof(mm));
		if (!strcmp(mm, last))
			continue;
		snprintf(last, sizeof(last), "%s", mm);
		if (used + strlen(mm) + 2 > size)
			break;
		used += (size_t)snprintf(out + used, size - used, " %s", mm);
	}
}

static void report_unknown(const struct fetch *f, const char *want, const struct kernel_avail *v,
			   size_t n)
{
	char ok[1024], partial[512];

	list_series(v, n, true, ok, sizeof(ok));
	list_series(v, n, false, partial, sizeof(partial));
	pr_err("Debian has no %s kernel for %s (flavour %s); available:%s%s%s%s", want, f->arch->deb_arch,
	       f->flavour, ok[0] ? ok : " none", partial[0] ? " (and, image only:" : "", partial,
	       partial[0] ? ")" : "");
	if (!n)
		report_flavours(f);
}

/* The highest ABI matching want: from the archive, else (offline) from the
 * cache. */
static int select_abi(struct fetch *f, const char *want, char *abi, size_t size)
{
	cleanup_list char **all = NULL;
	size_t n = 0;
	int err = apt_ensure_lists(&f->apt, f->apt_err, DAY_S, &f->lock, &f->updated);

	if (err) {
		/* No usable lists: fall back to what is cached. */
		int lists_err = err;

		err = cached_abis(f, want, &all, &n);
		if (err || !n) {
			if (lists_err != -ENOSPC)
				pr_err("no cached %s kernel for %s/%s and no package lists to fetch one",
				       want, f->arch->deb_arch, f->flavour);
			return lists_err;
		}
		qsort(all, n, sizeof(char *), abi_cmp);
		pr_warn("cannot reach the Debian archive; choosing among cached kernels");
		snprintf(abi, size, "%s", all[n - 1]);
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		cleanup_free struct kernel_avail *v = NULL;
		size_t nv = 0;

		err = archive_abis(f, &v, &nv);
		if (err)
			return err;
		for (size_t i = nv; i-- > 0;) {
			if (!kernel_version_matches(v[i].abi, want))
				continue;
			snprintf(abi, size, "%s", v[i].abi);
			return 0;
		}
		if (f->default_version) {
			for (size_t i = nv; i-- > 0;) {
				if (!v[i].complete)
					continue;
				pr_warn("Debian has no %s kernel for %s (flavour %s) yet; using its newest, %s "
					"(ask for one with --kernel-version)", want, f->arch->deb_arch, f->flavour,
					v[i].abi);
				snprintf(abi, size, "%s", v[i].abi);
				return 0;
			}
		}
		/* A version published within the day: refresh lists older than an hour once. */
		if (pass || f->updated || apt_ensure_lists(&f->apt, f->apt_err, HOUR_S, &f->lock, &f->updated) || !f->updated) {
			report_unknown(f, want, v, nv);
			break;
		}
	}
	return -ENOENT;
}

static int fetch(const struct arch_profile *arch, const char *version, const char *flavour, bool disk,
		 struct kernel *out)
{
	struct fetch f;
	cleanup_free char *dir = NULL;
	char abi[128];
	uint64_t t0 = monotonic_ms();
	int err;

	bool dflt = !version || !*version;

	version = dflt ? KERNEL_DEFAULT_VERSION : version;
	for (const char *p = version; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".+~-", *p))
			return pr_err("invalid kernel version `%s` (expected e.g. 7.3, 6.1, 6.12.107, latest)",
				      version), -EINVAL;
	err = fetch_init(&f, arch, flavour);
	f.default_version = dflt;
	err = err ?: select_abi(&f, version, abi, sizeof(abi));
	if (!err && !(dir = entry_path(&f, abi)))
		err = -ENOMEM;
	if (err)
		goto out;
	err = entry_load(arch, dir, disk, out);
	if (!err) {
		pr_info("using cached kernel %s (%s) from %s", out->version, out->source, dir);
		dirlock_try_clean_stale(&f.lock);
		goto out;
	}
	if (err != -ENOENT && err != -ESTALE)
		goto out;
	/* Another kta may have fetched it while we waited for the lock. */
	err = dirlock_take(&f.lock);
	if (!err && !(err = entry_load(arch, dir, disk, out))) {
		pr_info("using cached kernel %s (%s) from %s", out->version, out->source, dir);
		goto out;
	}
	if (err == -ENOENT || err == -ESTALE) {
		dirlock_clean_stale(&f.lock);
		err = f.apt_err ?: kernel_unpack(arch, &f.apt, f.kdir, f.flavour, abi, dir, disk);
		err = err ?: entry_load(arch, dir, disk, out);
		if (!err)
			pr_info("fetched kernel %s (%s) in %.1f s into %s", out->version, out->source,
				(double)(monotonic_ms() - t0) / 1000, dir);
	}
out:
	fetch_done(&f);
	return err;
}

int kernel_list(const struct arch_profile *arch, const char *version, const char *flavour,
		struct kernel_avail **out, size_t *n)
{
	struct fetch f;
	struct kernel_avail *v = NULL;
	size_t nv = 0, k = 0;
	int err = fetch_init(&f, arch, flavour);

	err = err ?: apt_ensure_lists(&f.apt, f.apt_err, DAY_S, &f.lock, &f.updated);
	err = err ?: archive_abis(&f, &v, &nv);
	for (size_t i = 0; !err && i < nv; i++) {
		cleanup_free char *info = NULL;

		if (!kernel_version_matches(v[i].abi, version))
			continue;
		info = xasprintf("%s/%s-%s/kernel.info", f.kdir, v[i].abi, f.flavour);
		v[i].cached = info && path_exists(info);
		if (!v[i].complete)
			kernel_boot_note(arch, f.flavour, v[i].abi, v[i].boot, sizeof(v[i].boot));
		v[k++] = v[i];
	}
	fetch_done(&f);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = k;
	return 0;
}

int kernel_fetch(const struct arch_profile *arch, const char *version, const char *flavour,
		 struct kernel *out)
{
	return fetch(arch, version, flavour, false, out);
}

int kernel_fetch_disk(const struct arch_profile *arch, const char *version, const char *flavour,
		      struct kernel *out)
{
	return fetch(arch, version, flavour, true, out);
}
