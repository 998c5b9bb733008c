/* The cache of built kernels: $KTA_CACHE/builds/<key>/ (vmlinuz, config,
 * System.map, build.info), published with one rename so that a failed or
 * interrupted build leaves no entry, and the request index
 * builds/requests/<request key> -> <key>, which lets a repeated request hit
 * without running Kconfig.
 */
#include "kbuild/kbuild.h"
#include "kbuild/kconf.h"
#include "base/centry.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/spawn.h"

#include <string.h>
#include <sys/stat.h>

static int entry_dir(const char *cache, const char *key, char *out)
{
	return pathf(out, PATH_MAX, "%s/builds/%s", cache, key);
}

bool kbuild_cache_lookup(const char *cache, const char *key, struct kbuild_result *res)
{
	char dir[PATH_MAX];
	cleanup_buf struct buf cfg = { 0 };

	if (entry_dir(cache, key, dir) || pathf(res->image, sizeof(res->image), "%s/vmlinuz", dir) ||
	    pathf(res->config, sizeof(res->config), "%s/config", dir) || !path_exists(res->image) ||
	    read_file(res->config, &cfg, 16 << 20))
		return false;
	/* Used from now on: a refresh or a prune leaves it alone. */
	centry_hold(dir);
	snprintf(res->key, sizeof(res->key), "%s", key);
	res->options = kconfig_count(cfg.data);
	res->cached = true;
	if (pathf(res->btf, sizeof(res->btf), "%s/vmlinux.btf", dir) || !path_exists(res->btf))
		res->btf[0] = '\0';
	if (pathf(res->testmods, sizeof(res->testmods), "%s/testmods", dir) || !path_exists(res->testmods))
		res->testmods[0] = '\0';
	return true;
}

int kbuild_cache_store(const char *cache, const char *key, const char *obj, const char *image,
		       const char *extra, const char *info, struct kbuild_result *res)
{
	cleanup_centry struct centry e = { .lock.fd = -1 };
	cleanup_free char *img = xasprintf("%s/%s", obj, image), *builds = path_join(cache, "builds");
	static const char *const files[][2] = { { "", "vmlinuz" }, { ".config", "config" },
						 { "System.map", "System.map" } };
	int err;

	if (!img || !builds)
		return -ENOMEM;
	err = centry_init(&e, builds, key);
	/* Another kta published the same key first: same content. */
	if (!err && kbuild_cache_lookup(cache, key, res)) {
		res->cached = false;
		return 0;
	}
	err = err ?: centry_begin(&e);
	for (size_t i = 0; !err && i < ARRAY_SIZE(files); i++) {
		cleanup_free char *from = i ? path_join(obj, files[i][0]) : strdup(img);
		cleanup_free char *to = path_join(e.tmp, files[i][1]);

		err = from && to ? copy_file(from, to, 0644) : -ENOMEM;
	}
	if (!err && extra) {
		char *argv[] = { "cp", "-a", "--", (char *)extra, NULL, NULL };
		cleanup_free char *dot = xasprintf("%s/.", extra);

		argv[3] = dot;
		argv[4] = e.tmp;
		err = dot ? (spawn_run(argv, &(struct spawn_opts){ 0 }, NULL) ? -EIO : 0) : -ENOMEM;
	}
	if (!err) {
		cleanup_free char *p = path_join(e.tmp, "build.info");

		err = p ? write_file_atomic(p, info, strlen(info), 0644) : -ENOMEM;
	}
	err = err ?: centry_publish(&e);
	if (err) {
		if (err == -ENOSPC)
			pr_err("no space left in `%s` for the built kernel", builds);
		else
			pr_err("cannot store the built kernel in `%s`: %s", e.dir, strerror(-err));
		return err;
	}
	if (!kbuild_cache_lookup(cache, key, res))
		return -EIO;
	res->cached = false;
	return 0;
}

void kbuild_request_remember(const char *cache, const char *req, const char *key)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (pathf(dir, sizeof(dir), "%s/builds/requests", cache) || mkdir_p(dir, 0755) ||
	    pathf(path, sizeof(path), "%s/%s", dir, req))
		return;
	write_file_atomic(path, key, strlen(key), 0644);
}

int kbuild_request_lookup(const char *cache, const char *req, struct kbuild_result *res)
{
	cleanup_buf struct buf key = { 0 };
	char path[PATH_MAX];

	if (pathf(path, sizeof(path), "%s/builds/requests/%s", cache, req) || read_file(path, &key, 128) ||
	    key.len != 64)
		return -ENOENT;
	return kbuild_cache_lookup(cache, key.data, res) ? 0 : -ENOENT;
}
