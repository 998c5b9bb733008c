/* `kta kernel build`'s configuration step: the fragments (kernel-config/
 * names or paths, the arch's right after base), the toolchain that decides
 * what Kconfig sees, and the config itself: tinyconfig, the tree's
 * merge_config.sh -m, olddefconfig (skipped when nothing that decides the
 * result changed), then the check that every requested option survived.
 */
#include "kbuild_int.h"
#include "log.h"
#include "pathf.h"
#include "spawn.h"

#include <fcntl.h>
#include <string.h>

static int first_line(char *const argv[], char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int st = spawn_run(argv, NULL, &b);

	out[0] = '\0';
	if (st || !b.data)
		return -ENOENT;
	snprintf(out, size, "%.*s", (int)strcspn(b.data, "\n"), b.data);
	return 0;
}

static bool in_path(const char *prog)
{
	char *argv[] = { (char *)prog, "--version", NULL };
	char line[256];

	return !first_line(argv, line, sizeof(line));
}

/* The compiler, linker and pahole versions: what decides the objects
 * beyond the sources and the config. */
int kbuild_toolchain(struct build *b)
{
	const char *cross = b->arch->cross_compile && arch_is_native(b->arch) != 1 ? b->arch->cross_compile : "";
	char gcc[128], ld[128], ver[3][256];
	char *a0[] = { gcc, "--version", NULL }, *a1[] = { ld, "--version", NULL },
	     *a2[] = { "pahole", "--version", NULL };

	snprintf(gcc, sizeof(gcc), "%sgcc", cross);
	snprintf(ld, sizeof(ld), "%sld", cross);
	if (first_line(a0, ver[0], sizeof(ver[0])))
		return pr_err("cannot run the compiler `%s`: install gcc (make deps)", gcc), -ENOENT;
	first_line(a1, ver[1], sizeof(ver[1]));
	if (first_line(a2, ver[2], sizeof(ver[2])))
		snprintf(ver[2], sizeof(ver[2]), "no pahole");
	snprintf(b->toolchain, sizeof(b->toolchain), "%s; %s; pahole %s", ver[0], ver[1], ver[2]);
	snprintf(b->cross, sizeof(b->cross), "CROSS_COMPILE=%s", cross);
	if (!b->o->no_ccache && in_path("ccache"))
		snprintf(b->cc, sizeof(b->cc), "CC=ccache %s", gcc);
	else
		snprintf(b->cc, sizeof(b->cc), "CC=%s", gcc);
	return 0;
}

/* "base,bpf" -> kernel-config/base.config, <arch>.config, bpf.config. */
static int add_fragment(struct build *b, const char *name)
{
	cleanup_buf struct buf text = { 0 };
	char path[PATH_MAX], rel[PATH_MAX], err[768];
	int e;

	if (strchr(name, '/')) {
		if (pathf(path, sizeof(path), "%s", name))
			return -ENAMETOOLONG;
	} else {
		if (pathf(rel, sizeof(rel), "kernel-config/%s%s", name, strstr(name, ".config") ? "" : ".config"))
			return -ENAMETOOLONG;
		if (kta_data_path(rel, path, sizeof(path))) {
			char dir[PATH_MAX];

			if (!kta_data_path("kernel-config", dir, sizeof(dir))) {
				char *argv[] = { "ls", dir, NULL };
				cleanup_buf struct buf ls = { 0 };

				spawn_run(argv, NULL, &ls);
				char *w = ls.data;

				/* "a.config\nb.config\n" -> "a b " */
				for (char *p = ls.data; p && *p; p++) {
					if (!strncmp(p, ".config\n", 8)) {
						*w++ = ' ';
						p += 7;
					} else {
						*w++ = *p;
					}
				}
				if (w)
					*w = '\0';
				pr_err("unknown kernel config fragment `%s`: no %s; known: %s", name, rel,
				       ls.data ? ls.data : "none");
			} else {
				pr_err("unknown kernel config fragment `%s`: kta's kernel-config/ not found", name);
			}
			return -EINVAL;
		}
	}
	e = read_file(path, &text, 1 << 20);
	if (e)
		return pr_err("cannot read kernel config fragment `%s`: %s", path, strerror(-e)), -EINVAL;
	if (kfrag_parse(text.data, name, &b->want, err, sizeof(err)))
		return pr_err("%s", err), -EINVAL;
	sha256_update(&b->fraghash, name, strlen(name) + 1);
	sha256_update(&b->fraghash, text.data ? text.data : "", text.len + 1);
	return buf_printf(&b->fraglist, "%s%s", b->fraglist.len ? "\n" : "", path);
}

int kbuild_load_fragments(struct build *b)
{
	cleanup_free char *list = strdup(b->o->fragments ? b->o->fragments : KBUILD_DEFAULT_FRAGMENTS);
	bool arch_done = false;
	int err = 0;

	if (!list)
		return -ENOMEM;
	sha256_init(&b->fraghash);
	for (char *save = NULL, *f = strtok_r(list, ",", &save); !err && f; f = strtok_r(NULL, ",", &save)) {
		if (!strcmp(f, b->arch->kconfig)) {
			if (arch_done)
				continue;
			arch_done = true;
		}
		err = add_fragment(b, f);
		/* The arch's fragment right after base (or first). */
		if (!err && !arch_done && !strcmp(f, "base")) {
			err = add_fragment(b, b->arch->kconfig);
			arch_done = true;
		}
	}
	if (!err && !arch_done)
		err = add_fragment(b, b->arch->kconfig);
	return err;
}

int kbuild_make_in(struct build *b, const char *target, const char *log, const char *what, bool progress)
{
	char jobs[32], odir[PATH_MAX + 4], arch[64];
	char *argv[16];
	size_t n = 0;

	snprintf(jobs, sizeof(jobs), "-j%u", b->o->jobs ? b->o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	snprintf(odir, sizeof(odir), "O=%s", b->obj);
	snprintf(arch, sizeof(arch), "ARCH=%s", b->arch->kbuild_arch);
	argv[n++] = "make";
	argv[n++] = "-C";
	argv[n++] = b->src;
	argv[n++] = odir;
	argv[n++] = arch;
	argv[n++] = b->cc;
	argv[n++] = b->cross;
	argv[n++] = jobs;
	argv[n++] = "KBUILD_BUILD_USER=kta";
	argv[n++] = "KBUILD_BUILD_HOST=kta";
	argv[n++] = (char *)target;
	argv[n] = NULL;
	return kbuild_make(argv, b->env, log, progress, what);
}

/* A multi-line report through the log, in pieces that fit its buffer. */
void kbuild_log_report(const char *head, const char *report)
{
	const char *p = report ? report : "";

	pr_err("%s", head);
	while (*p) {
		size_t n = strlen(p);

		if (n > 3000) {
			const char *cut = p + 3000;

			while (cut > p && cut[-1] != '\n')
				cut--;
			n = cut > p ? (size_t)(cut - p) : 3000;
		}
		pr_err("%.*s", (int)(n && p[n - 1] == '\n' ? n - 1 : n), p);
		p += n;
	}
}

/* Everything that decides the merged config: the fragments, the tree's
 * Kconfig files, the toolchain (Kconfig probes the compiler), the arch. */
static void config_inputs(const struct build *b, const struct kindex *ix, char hex[65])
{
	struct sha256 h = b->fraghash;

	sha256_update(&h, ix->sha256, sizeof(ix->sha256));
	sha256_update(&h, b->toolchain, strlen(b->toolchain) + 1);
	sha256_update(&h, b->cc, strlen(b->cc) + 1);
	sha256_update(&h, b->arch->name, strlen(b->arch->name) + 1);
	sha256_hex(&h, hex);
}

/* tinyconfig, merge_config.sh -m of the fragments, olddefconfig. */
static int make_config(struct build *b, const char *dotconfig, const char *log)
{
	cleanup_free char *frags = b->fraglist.data ? strdup(b->fraglist.data) : NULL;
	char *merge[64];
	size_t n = 0;
	int err, st;

	if (!frags)
		return -ENOMEM;
	unlink(dotconfig);
	err = kbuild_make_in(b, "tinyconfig", log, "tinyconfig", false);
	if (err)
		return err == KBUILD_EBUILD ? -EIO : err;
	merge[n++] = "scripts/kconfig/merge_config.sh";
	merge[n++] = "-m";
	merge[n++] = "-O";
	merge[n++] = b->obj;
	merge[n++] = (char *)dotconfig;
	for (char *save = NULL, *f = strtok_r(frags, "\n", &save); f && n + 1 < ARRAY_SIZE(merge);
	     f = strtok_r(NULL, "\n", &save))
		merge[n++] = f;
	merge[n] = NULL;
	{
		cleanup_close int fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);

		st = spawn_run(merge, &(struct spawn_opts){ .cwd = b->src, .out_fd = fd, .env = b->env }, NULL);
	}
	if (st)
		return pr_err("merge_config.sh failed (exit %d); log: %s", st, log), -EIO;
	err = kbuild_make_in(b, "olddefconfig", log, "olddefconfig", false);
	return err == KBUILD_EBUILD ? -EIO : err;
}

/* The merged config in obj/, made again only when its inputs changed (a
 * rebuild after editing a .c file skips Kconfig's ~10 s), then checked. */
int kbuild_configure(struct build *b, char *config_path, size_t size, struct kbuild_result *res)
{
	cleanup_buf struct buf cfg = { 0 }, report = { 0 }, stamp = { 0 };
	cleanup_free char *dotconfig = path_join(b->obj, ".config");
	cleanup_free char *stamp_path = path_join(b->ws, "config.inputs");
	char log[PATH_MAX], inputs[65];
	struct kindex ix;
	int err;

	if (!dotconfig || !stamp_path || pathf(log, sizeof(log), "%s/config.log", b->art))
		return -ENOMEM;
	err = kindex_load(b->src, b->arch->kbuild_srcarch, &ix);
	if (err)
		return pr_err("cannot read the Kconfig files of `%s`: %s", b->src, strerror(-err)), err;
	/* Again on the snapshot: a patch may add the options a fragment asks for. */
	if (kcheck_unknown(&b->want, &ix, &report)) {
		cleanup_free char *head = xasprintf("kernel config fragments ask for options that %s (%s) does "
						    "not have:", b->tree, b->kversion);

		kbuild_log_report(head ? head : "unknown options:", report.data);
		kindex_free(&ix);
		return KBUILD_ECONFIG;
	}
	config_inputs(b, &ix, inputs);
	if (path_exists(dotconfig) && !read_file(stamp_path, &stamp, 128) && stamp.data &&
	    !strcmp(stamp.data, inputs)) {
		cleanup_free char *note = xasprintf("kta: the config's inputs (fragments, Kconfig files, toolchain) "
						    "are unchanged (%s): reusing %s\n", inputs, dotconfig);

		pr_info("the config's inputs are unchanged: reusing %s", dotconfig);
		err = note ? write_file_atomic(log, note, strlen(note), 0644) : -ENOMEM;
		if (err) {
			kindex_free(&ix);
			return err;
		}
	} else {
		unlink(stamp_path);
		err = make_config(b, dotconfig, log);
		err = err ?: write_file_atomic(stamp_path, inputs, strlen(inputs), 0644);
		if (err) {
			kindex_free(&ix);
			return err;
		}
	}
	err = read_file(dotconfig, &cfg, 16 << 20);
	if (err) {
		kindex_free(&ix);
		return pr_err("no .config after olddefconfig in `%s`: %s", b->obj, strerror(-err)), err;
	}
	if (kcheck_survival(&b->want, cfg.data, &ix, &report)) {
		cleanup_free char *head = xasprintf("requested kernel options did not survive olddefconfig in %s "
						    "(%s):", b->tree, b->kversion);

		kindex_free(&ix);
		kbuild_log_report(head ? head : "requested kernel options did not survive:", report.data);
		return KBUILD_ECONFIG;
	}
	kindex_free(&ix);
	res->options = kconfig_count(cfg.data);
	if (pathf(config_path, size, "%s/config", b->art))
		return -ENAMETOOLONG;
	return write_file_atomic(config_path, cfg.data, cfg.len, 0644);
}

