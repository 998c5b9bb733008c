/* Turning Debian kernel packages into a kta cache entry. Two layouts:
 * up to 6.x one linux-image package holds /boot/vmlinuz-V, /boot/config-V
 * and /lib/modules/V; from 7.x linux-image is a meta package over
 * linux-base (config, modules.builtin), linux-binary (vmlinuz) and
 * linux-modules (~25-100 MB), and the modules package is downloaded only
 * when the guest needs a module the config does not build in. Everything
 * happens in a .tmp-* dir removed on every error path; the finished entry
 * appears with one rename.
 */
#include "apt/apt.h"
#include "kernel/kernel.h"
#include "kernel/kimage.h"
#include "base/centry.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/pathf.h"
#include "base/util.h"

#include <glob.h>
#include <string.h>
#include <sys/stat.h>

struct pkg {
	char name[192];
	char version[96];
	char depends[4096];
	uint64_t size;
};

struct unpack {
	const struct arch_profile *arch;
	const struct apt *apt;
	const char *kdir;
	char kver[192];        /* <abi>-<flavour>: the modules directory name */
	char debs[PATH_MAX];   /* downloads */
	char x[PATH_MAX];      /* extracted packages */
	char entry[PATH_MAX];  /* what becomes the cache entry */
};

static void tmpdirp(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}
#define cleanup_tmpdir __attribute__((cleanup(tmpdirp)))

static void listp(char ***p)
{
	modules_list_free(*p);
}
#define cleanup_list __attribute__((cleanup(listp)))

/* From `apt-cache show` output: the stanza of package name with version
 * want (NULL: the highest version). */
static int pkg_pick(const struct buf *b, const char *name, const char *want, struct pkg *p)
{
	size_t len;
	bool found = false;

	for (const char *cur = b->data, *s; (s = deb822_next(&cur, &len));) {
		char pname[192], ver[96], size[32];

		if (!deb822_field(s, len, "Package", pname, sizeof(pname)) && !strcmp(pname, name) &&
		    !deb822_field(s, len, "Version", ver, sizeof(ver)) &&
		    (want ? !strcmp(ver, want) : !found || deb_version_cmp(ver, p->version) > 0)) {
			found = true;
			snprintf(p->name, sizeof(p->name), "%s", name);
			snprintf(p->version, sizeof(p->version), "%s", ver);
			p->size = deb822_field(s, len, "Size", size, sizeof(size)) ? 0 : strtoull(size, NULL, 10);
			if (deb822_field(s, len, "Depends", p->depends, sizeof(p->depends)))
				p->depends[0] = '\0';
		}
	}
	return found ? 0 : -ENOENT;
}

/* Downloads, the extracted tree and the entry all live on the cache's
 * filesystem at once: ask for three times the packages' size. */
static int need_space(const struct unpack *u, uint64_t bytes)
{
	return check_free_space(u->kdir, 3 * bytes, "the Debian kernel packages");
}

/* Download the packages (NULL-terminated) in one apt run and unpack them
 * into u->x; the .debs go as soon as they are unpacked. */
static int download_extract(const struct unpack *u, const struct pkg *const *ps)
{
	char *specs[4] = { 0 };
	uint64_t total = 0;
	size_t n = 0;
	int err = 0;

	for (; ps[n] && n + 1 < ARRAY_SIZE(specs); n++) {
		specs[n] = xasprintf("%s=%s", ps[n]->name, ps[n]->version);
		if (!specs[n])
			err = -ENOMEM;
		total += ps[n]->size;
		pr_info("downloading %s %s (%.1f MB)", ps[n]->name, ps[n]->version, (double)ps[n]->size / 1e6);
	}
	err = err ?: apt_download_unpack(u->apt, (const char *const *)specs, u->debs, u->x);
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	if (err)
		return err;
	pr_debug("downloaded and unpacked %.1f MB", (double)total / 1e6);
	return err;
}

static int move_file(const char *src, const char *dir, const char *name, bool optional)
{
	cleanup_free char *dst = path_join(dir, name);

	if (!dst)
		return -ENOMEM;
	if (rename(src, dst) < 0) {
		if (optional && errno == ENOENT)
			return 0;
		pr_err("cannot move `%s` to `%s`: %s", src, dst, strerror(errno));
		return -errno;
	}
	return 0;
}

static int write_info(const struct unpack *u, const struct pkg *meta, const char *abi,
		      const char *flavour, const char *layout, const char *sha, const char *hdr,
		      char *const *order, bool disk)
{
	char mods_for[1024];

	cleanup_buf struct buf b = { 0 };
	cleanup_free char *path = path_join(u->entry, "kernel.info");

	buf_printf(&b, "version=%s\nabi=%s\nflavour=%s\npackage=%s\npackage_version=%s\n"
		       "sha256=%s\nheader_version=%s\nlayout=%s\nmodules_for=",
		   u->kver, abi, flavour, meta->name, meta->version, sha, hdr, layout);
	kernel_modules_for(u->arch, disk, mods_for, sizeof(mods_for));
	buf_printf(&b, "%s\nmodules=", mods_for);
	for (size_t i = 0; order && order[i]; i++)
		buf_printf(&b, "%s%s", i ? " " : "", order[i]);
	buf_printf(&b, "\n");
	if (!path || !b.data)
		return -ENOMEM;
	return write_file_atomic(path, b.data, b.len, 0644);
}

static const char *base_name(const struct unpack *u, char *out, size_t n)
{
	return pathf(out, n, "linux-base-%s", u->kver) ? "" : out;
}

/* The packages of the split layout share the meta package's version. */
static int pick_part(const struct unpack *u, const struct buf *shown, const char *part,
		     const struct pkg *meta, struct pkg *p)
{
	char name[256];
	int err = pathf(name, sizeof(name), "linux-%s-%s", part, u->kver);

	err = err ?: pkg_pick(shown, name, meta->version, p);
	if (err == -ENOENT)
		pr_err("%s %s is not in the Debian archive (anymore: for Debian's 6.19 to 7.1 only the "
		       "linux-binary packages remain); pick another version",
		       name, meta->version);
	return err;
}

static int mkdir_in(char *out, const char *tmp, const char *name)
{
	if (pathf(out, PATH_MAX, "%s/%s", tmp, name))
		return -ENAMETOOLONG;
	return mkdir(out, 0755) < 0 ? -errno : 0;
}

/* Names of the packages a kernel may consist of, in `apt-cache show` order. */
enum { P_META, P_BASE, P_BINARY, P_MODULES, P__COUNT };

static int show_all(struct unpack *u, struct buf *shown)
{
	static const char *const parts[P__COUNT] = { "image", "base", "binary", "modules" };
	char names[P__COUNT][256];
	const char *argv[P__COUNT + 1];
	int err = 0;

	for (int i = 0; !err && i < P__COUNT; i++) {
		err = pathf(names[i], sizeof(names[i]), "linux-%s-%s", parts[i], u->kver);
		argv[i] = names[i];
	}
	argv[P__COUNT] = NULL;
	err = err ?: apt_show(u->apt, argv, shown);
	if (err)
		pr_err("cannot find %s in the package lists: %s", names[P_META], strerror(-err));
	return err;
}

static int make_tmp(struct unpack *u, char **tmp)
{
	int err;

	*tmp = xasprintf("%s/.tmp-%s-XXXXXX", u->kdir, u->kver);
	if (!*tmp)
		return -ENOMEM;
	if (!mkdtemp(*tmp)) {
		err = -errno;
		free(steal_pointer(tmp));
		return pr_err("cannot create a temp dir in `%s`: %s", u->kdir, strerror(-err)), err;
	}
	err = mkdir_in(u->debs, *tmp, "debs");
	err = err ?: mkdir_in(u->x, *tmp, "x");
	err = err ?: mkdir_in(u->entry, *tmp, "entry");
	if (err)
		pr_err("cannot create directories in `%s`: %s", *tmp, strerror(-err));
	return err;
}

static void log_order(char *const *order)
{
	cleanup_buf struct buf line = { 0 };

	for (size_t i = 0; order[i]; i++)
		buf_printf(&line, " %s", order[i]);
	pr_info("guest modules, in load order:%s", line.data ? line.data : " none");
}

int kernel_unpack(const struct arch_profile *arch, const struct apt *apt, const char *kdir,
		  const char *flavour, const char *abi, const char *dest, bool disk)
{
	struct unpack u = { .arch = arch, .apt = apt, .kdir = kdir };
	cleanup_tmpdir char *tmp = NULL;
	cleanup_list char **names = NULL;
	cleanup_list char **order = NULL;
	cleanup_buf struct buf shown = { 0 };
	struct pkg meta = { 0 }, base = { 0 }, bin = { 0 }, mods = { 0 };
	const struct pkg *ps_only[] = { NULL, NULL };
	char moddir[PATH_MAX], image[PATH_MAX], config[PATH_MAX], builtin[PATH_MAX];
	char entry_image[PATH_MAX], hdr[128], sha[65], needle[256], needle2[256];
	bool split = false, image_only = false;
	int err;

	err = pathf(u.kver, sizeof(u.kver), "%s-%s", abi, flavour);
	err = err ?: show_all(&u, &shown);
	if (err)
		return err;
	err = pathf(needle, sizeof(needle), "linux-image-%s", u.kver);
	err = err ?: pkg_pick(&shown, needle, NULL, &meta);
	if (err)
		return pr_err("cannot find %s in the package lists", needle), err;
	err = pathf(needle, sizeof(needle), "linux-binary-%s", u.kver);
	if (err)
		return err;
	/* 7.x: the meta package depends on linux-binary-<kver>. */
	for (const char *d = strstr(meta.depends, needle); d; d = strstr(d + 1, needle)) {
		char next = d[strlen(needle)];

		split = (d == meta.depends || d[-1] == ' ' || d[-1] == ',' || d[-1] == '|') &&
			(!next || next == ' ' || next == ',');
		if (split)
			break;
	}
	pr_debug("%s %s: %s layout", meta.name, meta.version, split ? "split (7.x)" : "single-package");
	err = make_tmp(&u, &tmp);
	if (err)
		return err;

	if (split) {
		const struct pkg *const ps[] = { &base, &bin, NULL };

		/* Debian's 6.19 to 7.1 kept only linux-binary: no config,
		 * no modules.builtin, no modules. Its cloud images build
		 * virtio PCI, the block device and the console in, so the
		 * image alone can boot; the first boot decides
		 * (kernel_note_boot), and says so when it does not. */
		image_only = pkg_pick(&shown, base_name(&u, needle2, sizeof(needle2)), meta.version, &base) == -ENOENT;
		if (image_only) {
			pr_info("%s: Debian keeps only its image (linux-binary); booting it without config or "
				"modules", u.kver);
			ps_only[0] = &bin;
		}
		err = pick_part(&u, &shown, "binary", &meta, &bin);
		err = err ?: image_only ? 0 : pick_part(&u, &shown, "base", &meta, &base);
		err = err ?: need_space(&u, base.size + bin.size);
		err = err ?: download_extract(&u, image_only ? ps_only : ps);
		err = err ?: pathf(moddir, sizeof(moddir), "%s/usr/lib/modules/%s", u.x, u.kver);
		err = err ?: pathf(image, sizeof(image), "%s/vmlinuz", moddir);
		err = err ?: pathf(config, sizeof(config), "%s/config", moddir);
	} else {
		const struct pkg *const ps[] = { &meta, NULL };

		err = need_space(&u, meta.size);
		err = err ?: download_extract(&u, ps);
		err = err ?: pathf(moddir, sizeof(moddir), "%s/lib/modules/%s", u.x, u.kver);
		if (!err && !path_exists(moddir))
			err = pathf(moddir, sizeof(moddir), "%s/usr/lib/modules/%s", u.x, u.kver);
		err = err ?: pathf(image, sizeof(image), "%s/boot/%s-%s", u.x, arch->deb_image, u.kver);
		err = err ?: pathf(config, sizeof(config), "%s/boot/config-%s", u.x, u.kver);
	}
	err = err ?: pathf(builtin, sizeof(builtin), "%s/modules.builtin", moddir);
	if (err)
		return err;
	/* 6.19 to 7.1's linux-binary put the image in /boot. */
	if (!path_exists(image) &&
	    pathf(image, sizeof(image), "%s/boot/%s-%s", u.x, arch->deb_image, u.kver))
		return -ENAMETOOLONG;
	if (!path_exists(image)) {
		pr_err("%s %s has no kernel image at `%s`", meta.name, meta.version, image + strlen(u.x));
		return -ENOENT;
	}
	if (image_only)
		err = (names = calloc(1, sizeof(*names))) ? 0 : -ENOMEM;
	else
		err = modules_wanted(arch, config, builtin, disk, &names);
	if (err)
		return err;
	if (image_only) {
		/* Nothing to load: what the image lacks shows at boot. */
	} else if (names[0]) {
		if (split) {
			const struct pkg *const ps[] = { &mods, NULL };

			err = pick_part(&u, &shown, "modules", &meta, &mods);
			if (err == -ENOENT)
				pr_err("this kernel builds %s as a module; choose a version whose modules "
				       "package Debian still has", names[0]);
			err = err ?: need_space(&u, mods.size);
			err = err ?: download_extract(&u, ps);
		}
		if (!err) {
			cleanup_free char *outdir = path_join(u.entry, "modules");

			err = outdir ? modules_resolve(arch, moddir, names, outdir, &order) : -ENOMEM;
		}
		if (err)
			return err;
		log_order(order);
	} else {
		pr_info("%s builds the guest's drivers in: no modules needed", u.kver);
	}
	err = move_file(image, u.entry, "vmlinuz", false);
	err = err ?: move_file(config, u.entry, "config", true);
	err = err ?: move_file(builtin, u.entry, "modules.builtin", true);
	if (err)
		return err;
	err = pathf(entry_image, sizeof(entry_image), "%s/vmlinuz", u.entry);
	err = err ?: kimage_check(arch, entry_image, hdr, sizeof(hdr));
	if (err)
		return err;
	if (hdr[0] && strcmp(hdr, u.kver))
		pr_warn("%s's image says it is %s, not %s", meta.name, hdr, u.kver);
	err = sha256_file(entry_image, sha);
	if (err)
		return err;
	/* Keep the cache small: the unpacked packages go now. */
	err = rm_rf(u.x);
	err = err ?: write_info(&u, &meta, abi, flavour, image_only ? "image-only" : split ? "split" : "single", sha,
				hdr, order, disk);
	if (err)
		return pr_err("cannot finish the cache entry in `%s`: %s", tmp, strerror(-err)), err;
	/* An entry already there is outdated (fetched for other guest
	 * modules): replaced, and removed once no run holds it. */
	return centry_replace(u.kdir, u.entry, dest);
}
