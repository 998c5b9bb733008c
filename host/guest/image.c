/* A user's disk image for `kta run --image`: checks, inspection (through
 * the kta-guestfs helper, cached), overlay, pull. */
#include "guest/image.h"

#include "base/kv.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/spawn.h"
#include "base/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HELPER "kta-guestfs"
#define HELPER_NO_OS 3
#define HELPER_MISSING 4

static double seconds_since(uint64_t t0_ms)
{
	return (double)(monotonic_ms() - t0_ms) / 1000.0;
}

int image_guest_dev(const char *root, char *out, size_t n)
{
	const char *p;

	if (strncmp(root, "/dev/sd", 7) && strncmp(root, "/dev/vd", 7))
		return -ENOTSUP;
	p = root + 7;
	/* The first disk: a, then an optional partition number. */
	if (*p != 'a')
		return -ENOTSUP;
	for (const char *d = p + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return -ENOTSUP;
	if (p[1] == '0' || strlen(p) > 4)
		return -ENOTSUP;
	return snprintf(out, n, "vd%s", p) >= (int)n ? -ENAMETOOLONG : 0;
}

void image_os_name(const struct image *img, char *out, size_t n)
{
	char version[32];

	/* libguestfs's product for Debian is /etc/debian_version: the
	 * version again. */
	snprintf(version, sizeof(version), "%d.%d", img->major, img->minor);
	snprintf(out, n, "%s %s%s%s%s, %s", img->distro[0] ? img->distro : "unknown", version,
		 img->product[0] && strcmp(img->product, version) ? " (" : "",
		 img->product[0] && strcmp(img->product, version) ? img->product : "",
		 img->product[0] && strcmp(img->product, version) ? ")" : "",
		 img->os_arch[0] ? img->os_arch : "?");
}

/* The helper's messages without its timing lines, for an error. */
static const char *helper_msg(struct buf *out)
{
	char *p;

	if (!out->data)
		return "";
	while ((p = strstr(out->data, "kta-guestfs: appliance launched")) != NULL) {
		char *nl = strchr(p, '\n');

		memmove(p, nl ? nl + 1 : p + strlen(p), strlen(nl ? nl + 1 : p + strlen(p)) + 1);
	}
	out->len = strlen(out->data);
	while (out->len && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return out->data;
}

/* libguestfs's appliance (built by supermin from the host's packages, 3 s)
 * is kept in kta's cache, not under $TMPDIR, which callers point at
 * throwaway directories. */
static int helper_env(const char *cache, char *out, size_t n)
{
	return snprintf(out, n, "LIBGUESTFS_CACHEDIR=%s/guestfs", cache) >= (int)n ? -ENAMETOOLONG : 0;
}

static int helper_path(char *out, size_t n)
{
	char dir[PATH_MAX];
	int err = self_dir(dir, sizeof(dir));

	if (err)
		return err;
	if (snprintf(out, n, "%s/%s", dir, HELPER) >= (int)n)
		return -ENAMETOOLONG;
	if (access(out, X_OK)) {
		pr_err("--image needs libguestfs's helper `%s`, which is not built: run `make guestfs` "
		       "(it installs libguestfs-dev)", out);
		return -ENOEXEC;
	}
	return 0;
}

/* qemu-img check reads a qcow2's metadata (17 ms for make image's Debian
 * image): a truncated or damaged image is refused here, not found out by
 * the guest's filesystem. Leaked clusters (exit 3) are harmless; 63 means
 * the format has nothing to check. */
static int check_metadata(const struct image *img)
{
	char *argv[] = { "qemu-img", "check", "-q", "-f", (char *)img->format, (char *)img->path, NULL };
	cleanup_buf struct buf out = { 0 };
	int rc = spawn_run(argv, NULL, &out);

	if (rc == 0 || rc == 3 || rc == 63)
		return 0;
	if (rc < 0)
		return rc;
	pr_err("image `%s` is corrupt (qemu-img check, exit %d): %.*s", img->path, rc,
	       out.data ? (int)strcspn(out.data, "\n") : 0, out.data ? out.data : "");
	return -ENOTBLK;
}

/* qemu-img's view: the format (never guessed later: the overlay names
 * it), and the refusals that must come before a boot. */
static int check_format(struct image *img)
{
	char *argv[] = { "qemu-img", "info", "--output=json", img->path, NULL };
	cleanup_buf struct buf out = { 0 };
	json_error_t jerr;
	json_t *j;
	const char *fmt;
	int rc = spawn_run(argv, NULL, &out);

	if (rc < 0 || rc == 127) {
		pr_err("cannot run qemu-img (Debian's qemu-utils): %s", rc < 0 ? strerror(-rc) : "not found");
		return rc < 0 ? rc : -ENOEXEC;
	}
	if (rc) {
		const char *msg = out.data ? out.data : "";

		if (strstr(msg, "lock")) {
			pr_err("image `%s` is in use by another process (QEMU's lock): %s", img->path, msg);
			return -EBUSY;
		}
		pr_err("`%s` is not a disk image qemu-img can read: %s", img->path, msg);
		return -ENOTBLK;
	}
	j = json_loadb(out.data, out.len, 0, &jerr);
	fmt = j ? json_string_value(json_object_get(j, "format")) : NULL;
	if (!fmt || snprintf(img->format, sizeof(img->format), "%s", fmt) >= (int)sizeof(img->format)) {
		json_decref(j);
		pr_err("qemu-img info on `%s` gave no format", img->path);
		return -ENOTBLK;
	}
	img->virtual_size = (uint64_t)json_integer_value(json_object_get(j, "virtual-size"));
	json_decref(j);
	/* qemu-img calls any file raw: a disk is whole sectors, at least
	 * a partition table's worth. */
	if (!strcmp(img->format, "raw") && (img->virtual_size % 512 || img->virtual_size < (1u << 20))) {
		pr_err("`%s` is not a disk image: no format qemu-img knows, and %llu bytes is not a raw "
		       "disk (whole 512-byte sectors, at least 1 MiB)",
		       img->path, (unsigned long long)img->virtual_size);
		return -ENOTBLK;
	}
	return check_metadata(img);
}

/* The image's sha256, memoised by (device, inode, size, mtime): hashing
 * a large image on every run would cost more than the boot. */
static int image_hash(struct image *img, const char *dir, const struct stat *st)
{
	cleanup_free char *memo = xasprintf("%s/memo-%llx-%llx-%llx-%llx.%09ld", dir,
					    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
					    (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
					    st->st_mtim.tv_nsec);
	cleanup_buf struct buf b = { 0 };
	uint64_t t0 = monotonic_ms();
	int err;

	if (!memo)
		return -ENOMEM;
	if (!read_file(memo, &b, 128) && b.len == 64) {
		memcpy(img->sha256, b.data, 64);
		img->sha256[64] = '\0';
		return 0;
	}
	err = sha256_file(img->path, img->sha256);
	if (err)
		return pr_err("cannot read `%s`: %s", img->path, strerror(-err)), err;
	img->t_hash_s = seconds_since(t0);
	pr_info("image sha256 %.12s... (%.1f s; remembered until the file changes)", img->sha256, img->t_hash_s);
	if (write_file_atomic(memo, img->sha256, 64, 0644))
		pr_debug("cannot write %s", memo);
	return 0;
}

static int info_str(const char *text, const char *key, char *out, size_t n)
{
	if (kv_value(text, key, out, n))
		out[0] = '\0';
	return 0;
}

static int load_inspection(struct image *img, const char *text)
{
	char num[16];
	int err;

	info_str(text, "root", img->root, sizeof(img->root));
	info_str(text, "fstype", img->fstype, sizeof(img->fstype));
	info_str(text, "distro", img->distro, sizeof(img->distro));
	info_str(text, "product", img->product, sizeof(img->product));
	info_str(text, "os_arch", img->os_arch, sizeof(img->os_arch));
	info_str(text, "hostname", img->hostname, sizeof(img->hostname));
	info_str(text, "major", num, sizeof(num));
	img->major = atoi(num);
	info_str(text, "minor", num, sizeof(num));
	img->minor = atoi(num);
	if (!img->root[0] || !img->fstype[0])
		return -EINVAL;
	err = image_guest_dev(img->root, img->guest_dev, sizeof(img->guest_dev));
	if (err) {
		pr_err("the root filesystem of `%s` is %s: the agent mounts a partition or whole disk "
		       "(not LVM, md or a btrfs subvolume)", img->path, img->root);
		return -ENOMEDIUM;
	}
	return 0;
}

/* One libguestfs launch for an image never seen before; then the cache
 * (keyed by the image's hash: a copy elsewhere hits it too). */
static int inspect(struct image *img, const char *dir)
{
	cleanup_free char *info = xasprintf("%s/inspect-%s.info", dir, img->sha256);
	cleanup_free char *tmp = xasprintf("%s/.inspect-%s.%d", dir, img->sha256, (int)getpid());
	cleanup_buf struct buf text = { 0 }, out = { 0 };
	char helper[PATH_MAX];
	uint64_t t0;
	int rc, err;

	if (!info || !tmp)
		return -ENOMEM;
	if (!read_file(info, &text, 1 << 16)) {
		img->cached = true;
		return load_inspection(img, text.data);
	}
	err = helper_path(helper, sizeof(helper));
	if (err)
		return err;
	pr_info("inspecting `%s` with libguestfs (one appliance launch; cached afterwards)", img->path);
	t0 = monotonic_ms();
	rc = spawn_run((char *const[]){ helper, "inspect", img->path, img->format, tmp, NULL },
		       &(struct spawn_opts){ .env = (const char *const[]){ img->helper_env, NULL } },
		       &out);
	img->t_inspect_s = seconds_since(t0);
	if (rc == HELPER_NO_OS) {
		unlink(tmp);
		pr_err("no root filesystem libguestfs recognises in `%s` (%.1f s): %s", img->path,
		       img->t_inspect_s, helper_msg(&out));
		return -ENOMEDIUM;
	}
	if (rc) {
		unlink(tmp);
		pr_err("libguestfs could not inspect `%s` (exit %d): %s", img->path, rc, helper_msg(&out));
		return rc < 0 ? rc : -EIO;
	}
	err = read_file(tmp, &text, 1 << 16);
	if (!err && rename(tmp, info))
		err = -errno;
	unlink(tmp);
	if (err)
		return pr_err("cannot keep the inspection of `%s`: %s", img->path, strerror(-err)), err;
	pr_info("inspected in %.1f s", img->t_inspect_s);
	return load_inspection(img, text.data);
}

int image_open(const char *path, const char *cache, struct image *img)
{
	cleanup_free char *dir = NULL;
	struct stat st;
	int err;

	memset(img, 0, sizeof(*img));
	if (stat(path, &st)) {
		err = -errno;
		pr_err("image `%s`: %s", path, strerror(-err));
		return err == -ENOENT ? -ENOENT : -ENOTBLK;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("image `%s` is not a regular file (a device or directory is not supported)", path);
		return -ENOTBLK;
	}
	if (!realpath(path, img->path))
		return -errno;
	/* The overlay opens it read-only: a read-only file is as good. */
	img->read_only = access(img->path, W_OK) != 0;
	if (img->read_only)
		pr_info("image `%s` is read-only: fine, kta writes only an overlay", img->path);
	err = check_format(img);
	if (err)
		return err;
	dir = xasprintf("%s/images", cache);
	if (!dir)
		return -ENOMEM;
	err = helper_env(cache, img->helper_env, sizeof(img->helper_env));
	err = err ?: mkdir_p(strchr(img->helper_env, '=') + 1, 0755);
	err = err ?: mkdir_p(dir, 0755);
	err = err ?: image_hash(img, dir, &st);
	return err ?: inspect(img, dir);
}

int image_overlay_create(struct image *img, const char *dir)
{
	cleanup_free char *ov = path_join(dir, "overlay.qcow2");
	cleanup_buf struct buf out = { 0 };
	int rc;

	if (!ov || snprintf(img->overlay, sizeof(img->overlay), "%s", ov) >= (int)sizeof(img->overlay))
		return -ENAMETOOLONG;
	rc = spawn_run((char *const[]){ "qemu-img", "create", "-q", "-f", "qcow2", "-F", img->format, "-b",
					img->path, img->overlay, NULL },
		       NULL, &out);
	if (rc) {
		pr_err("cannot create the overlay `%s`: %s", img->overlay,
		       rc < 0 ? strerror(-rc) : out.data ? out.data : "qemu-img failed");
		img->overlay[0] = '\0';
		return rc < 0 ? rc : strstr(out.data ? out.data : "", "lock") ? -EBUSY : -EIO;
	}
	return 0;
}

void image_overlay_drop(struct image *img, bool keep)
{
	if (!img->overlay[0])
		return;
	if (keep) {
		pr_info("overlay kept: %s (over %s)", img->overlay, img->path);
	} else if (unlink(img->overlay) && errno != ENOENT) {
		pr_warn("cannot remove the overlay `%s`: %s", img->overlay, strerror(errno));
	}
	img->overlay[0] = '\0';
}

int image_pull(const struct image *img, const char *dir, const char *const *paths, size_t n, double *secs)
{
	cleanup_free char *dest = path_join(dir, "image-files");
	cleanup_free char **argv = calloc(n + 7, sizeof(*argv));
	cleanup_buf struct buf out = { 0 };
	char helper[PATH_MAX];
	uint64_t t0;
	int rc, err = helper_path(helper, sizeof(helper));

	if (err)
		return err;
	if (!dest || !argv)
		return -ENOMEM;
	err = mkdir_p(dest, 0755);
	if (err)
		return err;
	argv[0] = helper;
	argv[1] = "pull";
	argv[2] = (char *)img->overlay;
	argv[3] = "qcow2";
	argv[4] = (char *)img->root;
	argv[5] = dest;
	for (size_t i = 0; i < n; i++)
		argv[6 + i] = (char *)paths[i];
	t0 = monotonic_ms();
	rc = spawn_run(argv, &(struct spawn_opts){ .env = (const char *const[]){ img->helper_env, NULL } },
		       &out);
	*secs = seconds_since(t0);
	for (char *save = NULL, *l = strtok_r(out.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "pulled ", 7))
			pr_info("pulled %s into %s", l + 7, dest);
		else if (!strncmp(l, "missing ", 8))
			pr_info("not in the image after the run: %s", l + 8);
		else
			pr_debug("%s", l);
	}
	if (rc && rc != HELPER_MISSING) {
		pr_err("cannot pull files out of the overlay (exit %d)", rc);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}
