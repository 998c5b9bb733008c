/* The struct kernel of an image a developer built (kta run --kernel):
 * validated for the guest architecture, versioned from its header, hashed,
 * with its .config when one sits where kernel builds leave it. And the
 * destructor shared with kernel_fetch().
 */
#include "kernel/kernel.h"
#include "kernel/kimage.h"
#include "base/kv.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/util.h"

#include <string.h>

void kernel_free(struct kernel *k)
{
	if (!k)
		return;
	modules_list_free(k->modules);
	k->modules = NULL;
	k->nr_modules = 0;
}

/* The config of a kernel a developer built: <tree>/.config for
 * <tree>/arch/<arch>/boot/<image>, or config-<v> beside vmlinuz-<v>. */
static void find_config(const char *image, char *out, size_t size)
{
	cleanup_free char *copy = strdup(image);
	char *boot, *base, *cand = NULL;

	out[0] = '\0';
	if (!copy || !(base = strrchr(copy, '/')))
		return;
	*base++ = '\0';
	if (!strcmp(base, "vmlinuz")) {
		/* A kta cache entry. */
		cand = xasprintf("%s/config", copy);
	} else if (!strncmp(base, "vmlinuz-", 8)) {
		cand = xasprintf("%s/config-%s", copy, base + 8);
	} else if ((boot = strrchr(copy, '/')) && !strcmp(boot, "/boot")) {
		*boot = '\0';
		if ((boot = strrchr(copy, '/'))) {
			*boot = '\0';
			if ((boot = strrchr(copy, '/')) && !strcmp(boot, "/arch")) {
				*boot = '\0';
				cand = xasprintf("%s/.config", copy);
			}
		}
	}
	if (cand && path_exists(cand))
		snprintf(out, size, "%s", cand);
	free(cand);
}

/* Only x86's bzImage carries its version in a header; a kta build cache
 * entry says it in build.info beside the image, with its fragments. */
static void from_build_info(struct kernel *k)
{
	cleanup_free char *dir = strdup(k->image);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	cleanup_free char *path = NULL;
	cleanup_buf struct buf info = { 0 };
	char frags[128];

	if (!slash)
		return;
	*slash = '\0';
	path = path_join(dir, "build.info");
	if (!path || read_file(path, &info, 1 << 16) || !info.data)
		return;
	if (!k->version[0])
		kv_value(info.data, "version", k->version, sizeof(k->version));
	if (!kv_value(info.data, "fragments", frags, sizeof(frags)))
		snprintf(k->source, sizeof(k->source), "kta kernel build (%s)", frags);
}

int kernel_from_path(const struct arch_profile *arch, const char *path, struct kernel *out)
{
	char hdr[sizeof(out->version)];
	int err;

	memset(out, 0, sizeof(*out));
	err = kimage_check(arch, path, hdr, sizeof(hdr));
	if (err)
		return err;
	if (!realpath(path, out->image))
		return pr_err("cannot resolve `%s`: %s", path, strerror(errno)), -errno;
	snprintf(out->version, sizeof(out->version), "%s", hdr);
	err = sha256_file(out->image, out->sha256);
	if (err)
		return pr_err("cannot read kernel image `%s`: %s", out->image, strerror(-err)), err;
	find_config(out->image, out->config, sizeof(out->config));
	snprintf(out->source, sizeof(out->source), "file");
	from_build_info(out);
	return 0;
}

void kernel_note_boot(const struct kernel *k, bool booted, const char *why)
{
	cleanup_free char *path = NULL, *text = NULL;

	if (!k->image_only || !k->dir[0])
		return;
	path = path_join(k->dir, "kernel.boot");
	text = booted ? xasprintf("boots without modules\n") : xasprintf("did not boot: %s\n", why ? why : "");
	/* A note for `kta kernel list`: failing to write it loses nothing else. */
	if (path && text)
		(void)write_file_atomic(path, text, strlen(text), 0644);
}

void kernel_boot_note(const struct arch_profile *arch, const char *flavour, const char *abi, char *out, size_t n)
{
	cleanup_buf struct buf b = { 0 };
	cleanup_free char *path = NULL;
	char root[PATH_MAX];

	out[0] = '\0';
	if (cache_dir(root, sizeof(root)))
		return;
	path = xasprintf("%s/kernels/%s/%s-%s/kernel.boot", root, arch->deb_arch, abi,
			 flavour ? flavour : arch->deb_flavour);
	if (!path || read_file(path, &b, 4096) || !b.len)
		return;
	snprintf(out, n, "%.*s", (int)strcspn(b.data, "\n"), b.data);
}
