/* `kta kernel build`'s configuration step: the fragments (kernel-config/
 * names or paths, the arch's right after base), the toolchain that decides
 * what Kconfig sees, and the config itself: tinyconfig, the tree's
 * merge_config.sh -m, olddefconfig (skipped when nothing that decides the
 * result changed), then the check that every requested option survived.
 */
#include "kbuild/kbuild_int.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/spawn.h"

#include <fcntl.h>
#include <string.h>

static int first_line(char *const argv[], char *const *prefix, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int st = spawn_run(argv, &(struct spawn_opts){ .prefix = prefix }, &b);

	out[0] = '\0';
	if (st || !b.data)
		return -ENOENT;
	snprintf(out, size, "%.*s", (int)strcspn(b.data, "\n"), b.data);
	return 0;
}

static bool in_path(const char *prog, char *const *prefix)
{
	char *argv[] = { (char *)prog, "--version", NULL };
	char line[256];

	return !first_line(argv, prefix, line, sizeof(line));
}

/* The compiler, linker and pahole versions: what decides the objects
 * beyond the sources and the config (inside the toolchain root when the
 * build uses one). */
int kbuild_toolchain(struct build *b)
{
	const char *cross = b->arch->cross_compile && arch_is_native(b->arch) != 1 ? b->arch->cross_compile : "";
	char gcc[128], ld[128], ver[3][256];
	char *a0[] = { gcc, "--version", NULL }, *a1[] = { ld, "--version", NULL },
	     *a2[] = { "pahole", "--version", NULL };

	snprintf(gcc, sizeof(gcc), "%sgcc", cross);
	snprintf(ld, sizeof(ld), "%sld", cross);
	if (first_line(a0, b->prefix, ver[0], sizeof(ver[0])))
		return pr_err("cannot run the compiler `%s`%s: install gcc (make deps)", gcc,
			      b->prefix ? " in the toolchain root" : ""), -ENOENT;
	first_line(a1, b->prefix, ver[1], sizeof(ver[1]));
	if (first_line(a2, b->prefix, ver[2], sizeof(ver[2])))
		snprintf(ver[2], sizeof(ver[2]), "no pahole");
	snprintf(b->toolchain, sizeof(b->toolchain), "%s%s; %s; pahole %s", b->prefix ? "root: " : "", ver[0],
		 ver[1], ver[2]);
	snprintf(b->cross, sizeof(b->cross), "CROSS_COMPILE=%s", cross);
	if (!b->o->no_ccache && in_path("ccache", b->prefix))
		snprintf(b->cc, sizeof(b->cc), "CC=ccache %s", gcc);
	else
		snprintf(b->cc, sizeof(b->cc), "CC=%s", gcc);
	return 0;
}

/* A fragment's name in messages (kopt.frag holds 63 characters): the
 * end of a long path. */
static void display_name(const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	if (n < size)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "...%s", name + n - (size - 4));
}

static int add_fragment_file(struct build *b, const char *path, const char *name, bool advisory)
{
	cleanup_buf struct buf text = { 0 };
	char err[768], shown[64];
	int e;

	e = read_file(path, &text, 1 << 20);
	if (e)
		return pr_err("cannot read kernel config fragment `%s`: %s", path, strerror(-e)), -EINVAL;
	display_name(name, shown, sizeof(shown));
	if (kfrag_parse(text.data, shown, &b->want, err, sizeof(err)))
		return pr_err("%s", err), -EINVAL;
	for (size_t i = 0; advisory && i < b->want.n; i++)
		if (!strcmp(b->want.v[i].frag, shown))
			b->want.v[i].advisory = true;
	sha256_update(&b->fraghash, name, strlen(name) + 1);
	sha256_update(&b->fraghash, text.data ? text.data : "", text.len + 1);
	return buf_printf(&b->fraglist, "%s%s", b->fraglist.len ? "\n" : "", path);
}

/* "base,bpf" -> kernel-config/base.config, <arch>.config, bpf.config. */
static int add_fragment(struct build *b, const char *name)
{
	char path[PATH_MAX], rel[PATH_MAX];

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
	return add_fragment_file(b, path, name, false);
}

/* The tree's own BPF selftests config files: config and config.vm must be
 * there; config.<arch> is BPF CI's machine config and may be absent. */
static int add_selftests_fragments(struct build *b, const char *tree)
{
	char arch_file[64];
	const char *files[] = { "config", "config.vm", arch_file };
	int err = 0;

	snprintf(arch_file, sizeof(arch_file), "config.%s", b->arch->selftests_arch);
	for (size_t i = 0; !err && i < ARRAY_SIZE(files); i++) {
		cleanup_free char *path = xasprintf("%s/tools/testing/selftests/bpf/%s", tree, files[i]);
		cleanup_free char *name = xasprintf("selftests/%s", files[i]);

		if (!path || !name)
			return -ENOMEM;
		if (!path_exists(path)) {
			if (i < 2)
				return pr_err("`%s` has no BPF selftests config (%s): not a kernel tree with "
					      "tools/testing/selftests/bpf", tree, path), -EINVAL;
			pr_warn("the tree has no %s: the kernel gets only config and config.vm", path);
			continue;
		}
		err = add_fragment_file(b, path, name, true);
	}
	return err ?: add_fragment(b, KBUILD_SELFTESTS_FRAGMENT);
}

bool kbuild_fragments_have_selftests(const char *list)
{
	size_t n = strlen(KBUILD_SELFTESTS_FRAGMENT);

	for (const char *p = list; p && *p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (!strncmp(p, KBUILD_SELFTESTS_FRAGMENT, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

int kbuild_load_fragments(struct build *b, const char *tree)
{
	cleanup_free char *list = strdup(b->o->fragments ? b->o->fragments : KBUILD_DEFAULT_FRAGMENTS);
	bool arch_done = false;
	int err = 0;

	if (!list)
		return -ENOMEM;
	kopts_free(&b->want);
	buf_free(&b->fraglist);
	sha256_init(&b->fraghash);
	b->selftests = false;
	for (char *save = NULL, *f = strtok_r(list, ",", &save); !err && f; f = strtok_r(NULL, ",", &save)) {
		if (!strcmp(f, KBUILD_SELFTESTS_FRAGMENT)) {
			b->selftests = true;
			/* Before the tree is known: kta's part only. */
			err = tree ? add_selftests_fragments(b, tree) : add_fragment(b, f);
			continue;
		}
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
	/* The arch's fragment is written for tinyconfig (it turns things
	 * off); a selftests kernel takes the tree's config.<arch> instead. */
	if (!err && !arch_done && !b->selftests)
		err = add_fragment(b, b->arch->kconfig);
	b->base = b->o->base ? b->o->base : b->selftests ? "defaults" : "tinyconfig";
	sha256_update(&b->fraghash, b->base, strlen(b->base) + 1);
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
	return kbuild_make(argv, b->prefix, b->env, log, progress, what);
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

/* tinyconfig (or an empty .config), merge_config.sh -m of the fragments,
 * olddefconfig. */
static int make_config(struct build *b, const char *dotconfig, const char *log)
{
	cleanup_free char *frags = b->fraglist.data ? strdup(b->fraglist.data) : NULL;
	cleanup_free char *fragdir = path_join(b->ws, "fragments");
	char *merge[64], *copies[64] = { 0 };
	size_t n = 0;
	int err, st;

	if (!frags || !fragdir)
		return -ENOMEM;
	unlink(dotconfig);
	if (!strcmp(b->base, "defaults")) {
		/* What is not in a fragment gets its Kconfig default at
		 * olddefconfig, with the fragments' values already in place
		 * (alldefconfig would fix `default y if DEBUG_KERNEL` options
		 * like FTRACE to n before DEBUG_KERNEL is merged in). */
		err = write_file_atomic(dotconfig, "", 0, 0644);
	} else {
		err = kbuild_make_in(b, "tinyconfig", log, "tinyconfig", false);
		err = err == KBUILD_EBUILD ? -EIO : err;
	}
	if (err)
		return err;
	merge[n++] = "scripts/kconfig/merge_config.sh";
	merge[n++] = "-m";
	merge[n++] = "-O";
	merge[n++] = b->obj;
	merge[n++] = (char *)dotconfig;
	/* Copies in the workspace: a toolchain root sees only the cache. */
	err = rm_rf(fragdir);
	err = err ?: mkdir_p(fragdir, 0755);
	for (char *save = NULL, *f = strtok_r(frags, "\n", &save); !err && f && n + 1 < ARRAY_SIZE(merge);
	     f = strtok_r(NULL, "\n", &save)) {
		const char *base = strrchr(f, '/');

		copies[n] = xasprintf("%s/%02zu-%s", fragdir, n, base ? base + 1 : f);
		err = copies[n] ? copy_file(f, copies[n], 0644) : -ENOMEM;
		merge[n] = copies[n];
		n++;
	}
	merge[n] = NULL;
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(copies[i]);
		return pr_err("cannot copy the fragments to `%s`: %s", fragdir, strerror(-err)), err;
	}
	{
		cleanup_close int fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);

		st = spawn_run(merge, &(struct spawn_opts){ .cwd = b->src, .output = SPAWN_TO_FD, .out_fd = fd, .env = b->env,
							     .prefix = b->prefix }, NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	if (st)
		return pr_err("merge_config.sh failed (exit %d); log: %s", st, log), -EIO;
	err = kbuild_make_in(b, "olddefconfig", log, "olddefconfig", false);
	return err == KBUILD_EBUILD ? -EIO : err;
}

/* The merged config in obj/, made again only when its inputs changed (a
 * rebuild after editing a .c file skips Kconfig's ~10 s), then checked. */
int kbuild_configure(struct build *b, char *config_path, size_t size, struct kbuild_result *res)
{
	cleanup_buf struct buf cfg = { 0 }, report = { 0 }, stamp = { 0 }, advisory = { 0 };
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
	if (kcheck_unknown(&b->want, &ix, &report, &advisory)) {
		cleanup_free char *head = xasprintf("kernel config fragments ask for options that %s (%s) does "
						    "not have:", b->t.tree, b->t.kversion);

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
	if (kcheck_survival(&b->want, cfg.data, &ix, &report, &advisory)) {
		cleanup_free char *head = xasprintf("requested kernel options did not survive olddefconfig in %s "
						    "(%s):", b->t.tree, b->t.kversion);

		kindex_free(&ix);
		kbuild_log_report(head ? head : "requested kernel options did not survive:", report.data);
		return KBUILD_ECONFIG;
	}
	kindex_free(&ix);
	if (advisory.len) {
		char adv[PATH_MAX];
		size_t n = 0;

		/* One paragraph per option, its first line indented by two. */
		for (const char *l = advisory.data; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
			n += !strncmp(l, "  C", 3) || !strncmp(l, "  #", 3);
		if (pathf(adv, sizeof(adv), "%s/config.advisory", b->art) ||
		    write_file_atomic(adv, advisory.data, advisory.len, 0644))
			adv[0] = '\0';
		pr_warn("%zu option%s of the tree's selftests config files %s not in the config (unknown to this "
			"tree, or Kconfig chose otherwise); the reasons: %s", n, n == 1 ? "" : "s",
			n == 1 ? "is" : "are", adv[0] ? adv : "(not written)");
	}
	res->options = kconfig_count(cfg.data);
	if (pathf(config_path, size, "%s/config", b->art))
		return -ENAMETOOLONG;
	return write_file_atomic(config_path, cfg.data, cfg.len, 0644);
}

