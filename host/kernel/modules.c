/* Module resolution: the guest needs a handful of modules (virtio PCI and
 * console) when a kernel does not build them in, plus whatever they depend
 * on. Debian's split 7.x packages ship no modules.dep, so dependencies come
 * from each module's own `depends=`; modules are found by name in the
 * unpacked package, decompressed with the xz/zstd/gzip tools, and listed
 * dependencies first for the guest to load in order.
 */
#include "kernel/modules.h"
#include "base/kv.h"
#include "base/log.h"
#include "base/spawn.h"
#include "kernel/modinfo.h"
#include "base/util.h"

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 32

void modules_list_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

size_t modules_list_len(char *const *list)
{
	size_t n = 0;

	while (list && list[n])
		n++;
	return n;
}

static int list_push(char ***list, size_t *n, const char *s)
{
	char **v = realloc(*list, (*n + 2) * sizeof(char *));

	if (!v)
		return -ENOMEM;
	*list = v;
	v[*n] = strdup(s);
	if (!v[*n])
		return -ENOMEM;
	v[++*n] = NULL;
	return 0;
}

static char **list_new(void)
{
	return calloc(1, sizeof(char *));
}

static bool list_has(char *const *list, const char *s)
{
	for (size_t i = 0; list && list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

void module_name_normalise(const char *file, char *out, size_t size)
{
	const char *base = strrchr(file, '/');
	const char *ko;
	size_t n;

	base = base ? base + 1 : file;
	ko = strstr(base, ".ko");
	n = ko ? (size_t)(ko - base) : strlen(base);
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[n] = '\0';
}

int modules_builtin_has(const char *builtin_text, const char *name)
{
	char want[NAME_MAX + 1], got[NAME_MAX + 1];

	module_name_normalise(name, want, sizeof(want));
	for (const char *p = builtin_text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		char line[PATH_MAX];
		size_t n = (size_t)(eol - p);

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			module_name_normalise(line, got, sizeof(got));
			if (!strcmp(got, want))
				return 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static bool all_builtin(const char *config, const char *const *syms)
{
	for (size_t i = 0; syms && syms[i]; i++) {
		char v[64];

		if (kv_value(config, syms[i], v, sizeof(v)) || strcmp(v, "y"))
			return false;
	}
	return true;
}

static int push_needed(char ***list, size_t *n, const char *builtin, const char *const *mods)
{
	for (size_t i = 0; mods && mods[i]; i++) {
		int err;

		if (builtin && modules_builtin_has(builtin, mods[i]))
			continue;
		err = list_push(list, n, mods[i]);
		if (err)
			return err;
	}
	return 0;
}

int modules_wanted(const struct arch_profile *arch, const char *config_path,
		   const char *builtin_path, bool disk, char ***names)
{
	cleanup_buf struct buf config = { 0 }, builtin = { 0 };
	char **list = NULL;
	size_t n = 0;
	bool all_y = arch->builtin_symbols && arch->builtin_symbols[0];
	int err;

	bool disk_y = disk;

	if (!config_path || read_file(config_path, &config, 16 << 20)) {
		all_y = disk_y = false;
	} else {
		all_y = all_y && all_builtin(config.data, arch->builtin_symbols);
		disk_y = disk_y && all_builtin(config.data, arch->disk_builtin_symbols);
	}
	list = list_new();
	if (!list)
		return -ENOMEM;
	if (builtin_path)
		read_file(builtin_path, &builtin, 16 << 20);
	err = all_y ? 0 : push_needed(&list, &n, builtin.data, arch->guest_modules);
	if (!err && disk && !disk_y)
		err = push_needed(&list, &n, builtin.data, arch->disk_modules);
	if (err) {
		modules_list_free(list);
		return err;
	}
	*names = list;
	return 0;
}

/* Every module file under a tree, by normalised name. */
struct mod_file {
	char name[NAME_MAX + 1];
	char *path;
};

struct mod_index {
	struct mod_file *v;
	size_t n, cap;
};

static void mod_index_free(struct mod_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].path);
	free(ix->v);
}

static bool is_module_file(const char *name)
{
	static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t el = strlen(exts[i]);

		if (len > el && !strcmp(name + len - el, exts[i]))
			return true;
	}
	return false;
}

static int mod_index_scan(struct mod_index *ix, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (depth > 16)
		return 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		cleanup_free char *path = NULL;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		path = path_join(dir, de->d_name);
		if (!path) {
			err = -ENOMEM;
			break;
		}
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			err = mod_index_scan(ix, path, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !is_module_file(de->d_name))
			continue;
		err = ARRAY_RESERVE(ix->v, ix->cap, ix->n, 256);
		if (err)
			break;
		module_name_normalise(de->d_name, ix->v[ix->n].name, sizeof(ix->v[0].name));
		ix->v[ix->n].path = steal_pointer(&path);
		ix->n++;
	}
	closedir(d);
	return err;
}

static const char *mod_index_find(const struct mod_index *ix, const char *name)
{
	for (size_t i = 0; i < ix->n; i++)
		if (!strcmp(ix->v[i].name, name))
			return ix->v[i].path;
	return NULL;
}

/* Copy src to outdir/<name>.ko, decompressing with the matching tool. */
static int module_extract(const char *src, const char *outdir, const char *name)
{
	static const struct {
		const char *ext, *tool;
	} tools[] = { { ".ko.xz", "xz" }, { ".ko.zst", "zstd" }, { ".ko.gz", "gzip" } };
	cleanup_free char *dst = xasprintf("%s/%s.ko", outdir, name);
	size_t len = strlen(src);
	int err;

	if (!dst)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		size_t el = strlen(tools[i].ext);
		cleanup_free char *tmp = NULL;
		cleanup_buf struct buf out = { 0 };
		char *argv[6];
		int st;

		if (len <= el || strcmp(src + len - el, tools[i].ext))
			continue;
		/* The tools decompress file.ko.xz to file.ko next to it. */
		tmp = xasprintf("%s%s", dst, tools[i].ext + 3);
		if (!tmp)
			return -ENOMEM;
		err = copy_file(src, tmp, 0644);
		if (err) {
			pr_err("cannot copy module `%s` to `%s`: %s", src, tmp, strerror(-err));
			return err;
		}
		argv[0] = (char *)tools[i].tool;
		argv[1] = "-d";
		argv[2] = "-f";
		argv[3] = "-q";
		argv[4] = tmp;
		argv[5] = NULL;
		st = spawn_run(argv, NULL, &out);
		if (st) {
			unlink(tmp);
			pr_err("cannot decompress module `%s` with %s%s%s", src, tools[i].tool,
			       st < 0 ? ": " : ": ", st < 0 ? strerror(-st) : (out.data ? out.data : "failed"));
			return st < 0 ? st : -EIO;
		}
		return 0;
	}
	err = copy_file(src, dst, 0644);
	if (err)
		pr_err("cannot copy module `%s` to `%s`: %s", src, dst, strerror(-err));
	return err;
}

struct resolver {
	const struct arch_profile *arch;
	const struct mod_index *ix;
	const char *tree, *outdir;
	char **order;     /* done, in load order */
	size_t norder;
	char **stack;     /* being resolved: a repeat is a cycle */
	size_t nstack;
};

static int resolve_one(struct resolver *r, const char *name, int depth)
{
	cleanup_buf struct buf ko = { 0 };
	cleanup_free char *path = NULL;
	char depends[4096];
	const char *src;
	uint16_t machine;
	int err;

	if (list_has(r->order, name))
		return 0;
	if (list_has(r->stack, name)) {
		pr_err("module dependency cycle through `%s` in `%s`", name, r->tree);
		return -ELOOP;
	}
	if (depth > MAX_DEPTH) {
		pr_err("module dependencies nest deeper than %d at `%s`", MAX_DEPTH, name);
		return -ELOOP;
	}
	src = mod_index_find(r->ix, name);
	if (!src) {
		pr_err("module `%s` not found under `%s` (neither built in nor packaged)", name, r->tree);
		return -ENOENT;
	}
	err = module_extract(src, r->outdir, name);
	path = xasprintf("%s/%s.ko", r->outdir, name);
	if (!err && !path)
		err = -ENOMEM;
	err = err ?: read_file(path, &ko, 256 << 20);
	if (err)
		return err;
	if (elf_machine(ko.data, ko.len, &machine) || machine != r->arch->elf_machine) {
		pr_err("module `%s` is not an ELF module for %s", src, r->arch->name);
		return -ENOEXEC;
	}
	err = modinfo_get(ko.data, ko.len, "depends", depends, sizeof(depends));
	if (err == -ENOENT)
		depends[0] = '\0';
	else if (err < 0) {
		pr_err("cannot read .modinfo of module `%s`: %s", src, strerror(-err));
		return err;
	}
	pr_debug("module %s: depends=%s", name, depends);
	err = list_push(&r->stack, &r->nstack, name);
	for (char *save = NULL, *dep = strtok_r(depends, ",", &save); !err && dep;
	     dep = strtok_r(NULL, ",", &save)) {
		char norm[NAME_MAX + 1];

		module_name_normalise(dep, norm, sizeof(norm));
		if (norm[0])
			err = resolve_one(r, norm, depth + 1);
	}
	if (err)
		return err;
	free(r->stack[--r->nstack]);
	r->stack[r->nstack] = NULL;
	return list_push(&r->order, &r->norder, name);
}

int modules_resolve(const struct arch_profile *arch, const char *tree, char *const *names,
		    const char *outdir, char ***order)
{
	struct mod_index ix = { 0 };
	struct resolver r = { .arch = arch, .ix = &ix, .tree = tree, .outdir = outdir };
	int err = mkdir_p(outdir, 0755);

	if (err) {
		pr_err("cannot create `%s`: %s", outdir, strerror(-err));
		return err;
	}
	err = mod_index_scan(&ix, tree, 0);
	if (err) {
		pr_err("cannot scan `%s` for modules: %s", tree, strerror(-err));
		mod_index_free(&ix);
		return err;
	}
	pr_debug("%zu module files under %s", ix.n, tree);
	for (size_t i = 0; !err && names && names[i]; i++) {
		char norm[NAME_MAX + 1];

		module_name_normalise(names[i], norm, sizeof(norm));
		err = resolve_one(&r, norm, 0);
	}
	mod_index_free(&ix);
	modules_list_free(r.stack);
	if (!err && !r.order && !(r.order = list_new()))
		err = -ENOMEM;
	if (err) {
		modules_list_free(r.order);
		return err;
	}
	*order = r.order;
	return 0;
}
