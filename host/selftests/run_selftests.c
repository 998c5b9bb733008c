/* `kta run --selftests` (run_selftests.h). */
#include "selftests/run_selftests.h"
#include "run/classify.h"
#include "kbuild/kbuild.h"
#include "kbuild/kconf.h"
#include "base/ktap.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/pathf.h"
#include "run/plan.h"
#include "run/report.h"
#include "base/stats.h"
#include "base/util.h"

#include <dirent.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_SUBTIMEOUT_S 300

/* test_progs' glob has only '*'; the plan splits arguments at spaces:
 * "sockmap_basic/sockmap udp multi channels" -> "...sockmap*udp*...". */
static void as_glob(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = in[i] == ' ' || in[i] == '\t' ? '*' : in[i];
	out[i] = '\0';
}

/* The part of "test/sub" before the '/'. */
static void top_of(const char *item, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(item, "/"), item);
}

/* Every selected name against test_progs' list; an unknown one is an error
 * that shows what there is. */
static int check_names(const char *select, const struct st_result *b)
{
	cleanup_buf struct buf names = { 0 };
	cleanup_free char *list = strdup(select);
	int bad = 0;

	if (!list)
		return -ENOMEM;
	if (st_test_names(b, &names) || !names.data)
		return pr_err("the selftests entry %s has no test list", b->dir), -EIO;
	for (char *save = NULL, *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char top[160], glob[160];
		size_t n = 0;
		struct buf near = { 0 };

		top_of(item, top, sizeof(top));
		as_glob(top, glob, sizeof(glob));
		for (char *p = names.data; *p;) {
			char *nl = strchr(p, '\n'), name[160];

			snprintf(name, sizeof(name), "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
			if (!fnmatch(glob, name, 0))
				n++;
			else if (near.len < 400 && (strstr(name, top) || strstr(top, name) ||
						    (strlen(top) >= 4 && !strncmp(name, top, 4))))
				buf_printf(&near, "%s%s", near.len ? ", " : "", name);
			if (!nl)
				break;
			p = nl + 1;
		}
		if (!n) {
			size_t total = 0;

			for (const char *p = names.data; *p; p++)
				total += *p == '\n';
			pr_err("unknown selftest `%s`: test_progs (%zu tests, `kta selftests list`) has no test "
			       "matching `%s`%s%s", item, total, top, near.len ? "; similar: " : "",
			       near.len ? near.data : "");
			bad++;
		}
		buf_free(&near);
	}
	return bad ? -EINVAL : 0;
}

/* The selftests' config files of the entry, parsed. */
static int load_wanted(const struct st_result *b, const struct arch_profile *arch, struct kopts *want)
{
	char arch_file[64];
	const char *files[] = { "config", "config.vm", arch_file };

	snprintf(arch_file, sizeof(arch_file), "config.%s", arch->selftests_arch);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *p = xasprintf("%s/config/%s", b->dir, files[i]);
		cleanup_buf struct buf text = { 0 };
		char err[256];

		if (!p)
			return -ENOMEM;
		if (read_file(p, &text, 1 << 20))
			continue;
		kfrag_parse(text.data, files[i], want, err, sizeof(err));
	}
	return 0;
}

/* Is CONFIG_<sym> y or m (or exactly value, when given; "n": not set) in
 * config? */
static bool config_has(const char *config, const char *sym, const char *value)
{
	char v[256];
	int st = kconfig_value(config, sym, v, sizeof(v));

	if (value && !strcmp(value, "n"))
		return st != 1 || !strcmp(v, "n");
	if (st != 1)
		return false;
	return value ? !strcmp(v, value) : !strcmp(v, "y") || !strcmp(v, "m");
}

/* Do a selection item and a rule's name overlap? Both may be globs, both
 * "test" or "test/sub". */
static bool overlaps(const char *item, const char *rule)
{
	char it[160], rt[160], ig[160], rg[160];
	const char *is = strchr(item, '/'), *rs = strchr(rule, '/');

	top_of(item, it, sizeof(it));
	top_of(rule, rt, sizeof(rt));
	as_glob(it, ig, sizeof(ig));
	as_glob(rt, rg, sizeof(rg));
	if (fnmatch(ig, rt, 0) && fnmatch(rg, it, 0))
		return false;
	if (!is || !rs)
		return true;
	as_glob(is + 1, ig, sizeof(ig));
	as_glob(rs + 1, rg, sizeof(rg));
	return !fnmatch(ig, rs + 1, 0) || !fnmatch(rg, is + 1, 0);
}

static int add_skip(struct st_run *r, const char *name, const char *reason)
{
	struct skip_rule *v = realloc(r->skips, (r->nskips + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->skips = v;
	snprintf(v[r->nskips].name, sizeof(v[0].name), "%s", name);
	snprintf(v[r->nskips].reason, sizeof(v[0].reason), "%s", reason);
	r->nskips++;
	return 0;
}

/* kernel-config/selftests.requires: the selected tests whose options the
 * kernel lacks are skipped, with the reason. */
static int apply_requires(struct st_run *r, const char *select, const char *config)
{
	cleanup_buf struct buf text = { 0 };
	char path[PATH_MAX];

	if (kta_data_path("kernel-config/selftests.requires", path, sizeof(path)) || read_file(path, &text, 1 << 20))
		return pr_warn("kta's kernel-config/selftests.requires is missing: no test is skipped for the "
			       "kernel's config"), 0;
	for (char *l = text.data, *next; l && *l; l = next) {
		char *hash, *save = NULL, *name, *tok;
		char missing[256] = "", why[200] = "";
		size_t mlen = 0;
		bool selected = false;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		hash = strchr(l, '#');
		if (hash) {
			snprintf(why, sizeof(why), "%s", hash + 1 + strspn(hash + 1, " "));
			*hash = '\0';
		}
		name = strtok_r(l, " \t", &save);
		if (!name)
			continue;
		{
			cleanup_free char *sel = strdup(select);

			for (char *s2 = NULL, *it = sel ? strtok_r(sel, ",", &s2) : NULL; it; it = strtok_r(NULL, ",", &s2))
				selected = selected || overlaps(it, name);
		}
		if (!selected)
			continue;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			char sym[128], *eq = strchr(tok, '=');

			if (strncmp(tok, "CONFIG_", 7))
				continue;
			snprintf(sym, sizeof(sym), "%.*s", (int)((eq ? eq : tok + strlen(tok)) - tok - 7), tok + 7);
			if (config_has(config, sym, eq ? eq + 1 : NULL) || mlen >= sizeof(missing) - 1)
				continue;
			if (eq && !strcmp(eq + 1, "n"))
				mlen += (size_t)snprintf(missing + mlen, sizeof(missing) - mlen, "%ssets CONFIG_%s",
							 mlen ? ", " : "", sym);
			else
				mlen += (size_t)snprintf(missing + mlen, sizeof(missing) - mlen, "%slacks %s",
							 mlen ? ", " : "", tok);
		}
		if (missing[0]) {
			char reason[256];

			snprintf(reason, sizeof(reason), "the kernel's config %s: %s", missing, why);
			pr_warn("skipping %s: %s", name, reason);
			if (add_skip(r, name, reason))
				return -ENOMEM;
		}
	}
	return 0;
}

/* What of the selftests' config files the kernel does not have: said
 * before the run, so a failure of a test that needs it is no surprise. */
static void report_missing(const struct st_result *b, const struct arch_profile *arch, const char *config)
{
	struct kopts want = { 0 };
	struct buf list = { 0 };
	size_t n = 0, asked = 0;

	load_wanted(b, arch, &want);
	for (size_t i = 0; i < want.n; i++) {
		const struct kopt *k = &want.v[i];

		if (k->unset)
			continue;
		asked++;
		if (config_has(config, k->sym, NULL))
			continue;
		n++;
		if (n <= 12)
			buf_printf(&list, "%s%s", n > 1 ? " " : "", k->sym);
	}
	if (n)
		pr_warn("the kernel lacks %zu of the %zu options the tree's selftests config files ask for (%s%s); tests "
			"that need them fail or skip", n, asked, list.data ? list.data : "", n > 12 ? " ..." : "");
	else if (asked)
		pr_info("the kernel has every option the tree's selftests config files ask for (%zu)", asked);
	buf_free(&list);
	kopts_free(&want);
}

static int choose_payload(const struct st_run_opts *o, struct st_run *r, const char *config)
{
	const char *mode = o->payload ? o->payload : "auto";
	bool blk = config && config_has(config, "VIRTIO_BLK", "y") && config_has(config, "EXT4_FS", "y");

	if (strcmp(mode, "auto") && strcmp(mode, "ext4") && strcmp(mode, "initramfs"))
		return pr_err("--payload: auto, ext4 or initramfs, not `%s`", mode), -EINVAL;
	if (!strcmp(mode, "initramfs") || (!strcmp(mode, "auto") && !blk)) {
		r->initramfs = true;
		snprintf(r->payload_why, sizeof(r->payload_why), "%s",
			 !strcmp(mode, "initramfs") ? "as asked"
			 : config ? "the kernel does not build virtio-blk and ext4 in (CONFIG_VIRTIO_BLK, CONFIG_EXT4_FS)"
				  : "the kernel's config is unknown");
	} else {
		snprintf(r->payload_why, sizeof(r->payload_why), "%s",
			 !strcmp(mode, "ext4") ? "as asked" : "the kernel builds virtio-blk and ext4 in");
		if (!blk)
			pr_warn("--payload ext4: the kernel may not mount it (CONFIG_VIRTIO_BLK=y and CONFIG_EXT4_FS=y "
				"not both in its config)");
	}
	for (unsigned int i = 0; i < r->nv; i++) {
		struct st_variant *v = &r->v[i];

		snprintf(v->root, sizeof(v->root), "/kta/st/%c", v->id ? v->id : 's');
		if (!r->initramfs) {
			snprintf(v->dev, sizeof(v->dev), "vd%c", 'a' + i);
			r->disks[i] = v->b.image;
		}
	}
	return 0;
}

int st_run_prepare(struct st_run_opts *o, struct st_run *r)
{
	cleanup_buf struct buf config = { 0 };
	struct st_variant *last;
	int err;

	memset(r, 0, sizeof(*r));
	if (!o->select || !*o->select)
		return pr_err("--selftests: name the tests (token,test_bpffs,sockmap_basic/...)"), -EINVAL;
	if (o->compare && !o->build.patches)
		return pr_err("--compare-patches needs --patches SERIES"), -EINVAL;
	if (o->compare) {
		struct st_opts a = o->build;

		r->nv = 2;
		r->v[0] = (struct st_variant){ .id = 'a', .label = "unpatched" };
		r->v[1] = (struct st_variant){ .id = 'b', .label = "patched" };
		pr_info("building the selftests with the series %s", o->build.patches);
		err = st_build(&o->build, &r->v[1].b);
		if (err)
			return err;
		/* The same kernel for both: the series' (or the one asked for). */
		a.patches = NULL;
		if (!a.kernel_path && !a.kernel_version)
			a.kernel_path = r->v[1].b.kernel;
		pr_info("building the selftests without the series, for the same kernel");
		err = st_build(&a, &r->v[0].b);
		if (err)
			return err;
	} else {
		r->nv = 1;
		r->v[0] = (struct st_variant){ .id = 0, .label = "selftests" };
		err = st_build(&o->build, &r->v[0].b);
		if (err)
			return err;
	}
	last = &r->v[r->nv - 1];
	snprintf(r->kernel, sizeof(r->kernel), "%s", last->b.kernel);
	err = check_names(o->select, &last->b);
	if (err)
		return err;
	if (last->b.kernel_config[0] && !read_file(last->b.kernel_config, &config, 16 << 20) && config.data) {
		report_missing(&last->b, o->build.arch, config.data);
		err = apply_requires(r, o->select, config.data);
		if (err)
			return err;
	} else {
		pr_warn("the kernel's config is unknown: kta cannot say which selected tests it cannot support");
	}
	return choose_payload(o, r, config.data);
}

static void args_for(const struct st_run *r, const struct st_variant *v, const struct st_run_opts *o,
		     struct buf *b)
{
	cleanup_free char *list = strdup(o->select);
	char arch_deny[64];
	const char *denies[] = { "DENYLIST", o->build.asan ? "DENYLIST.asan" : NULL, arch_deny };

	snprintf(arch_deny, sizeof(arch_deny), "DENYLIST.%s", o->build.arch->selftests_arch);
	if (!o->ci_output)
		buf_printf(b, " -v");
	for (char *save = NULL, *it = list ? strtok_r(list, ",", &save) : NULL; it; it = strtok_r(NULL, ",", &save)) {
		char g[200];

		as_glob(it, g, sizeof(g));
		buf_printf(b, " -a %s", g);
	}
	/* BPF CI's layers: the tree's lists, then kta's skips, then the
	 * user's own arguments. */
	for (size_t i = 0; i < ARRAY_SIZE(denies); i++) {
		cleanup_free char *p = denies[i] ? xasprintf("%s/selftests/%s", v->b.root, denies[i]) : NULL;

		if (p && path_exists(p))
			buf_printf(b, " -d @%s", denies[i]);
	}
	for (unsigned int i = 0; i < r->nskips; i++) {
		char g[200];

		as_glob(r->skips[i].name, g, sizeof(g));
		buf_printf(b, " -d %s", g);
	}
	if (o->tp_args && *o->tp_args)
		buf_printf(b, " %s", o->tp_args);
}

/* One test_progs run: its options, then its test line. args: " -a x -d y"
 * (words without spaces, as the agent splits them). */
static int plan_test(struct buf *plan, const struct st_variant *v, const struct test_result *t,
		     unsigned int timeout_s, unsigned int subtimeout_s, const char *args)
{
	cleanup_free char *copy = strdup(args ? args : "");
	cleanup_free char *json = xasprintf("/tmp/kta-san/%u/test_progs.json", t->num);
	const char *argv[PLAN_MAX_ARGS];
	char sub[16];
	size_t n = 0;
	int err;

	if (!copy || !json)
		return -ENOMEM;
	argv[n++] = "-J";
	argv[n++] = json;
	for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == PLAN_MAX_ARGS)
			return -E2BIG;
		argv[n++] = w;
	}
	snprintf(sub, sizeof(sub), "%u", subtimeout_s);
	err = planw_topt(plan, PLAN_TOPT_ROOT, v->root);
	err = err ?: planw_topt(plan, PLAN_TOPT_CWD, "/selftests");
	err = err ?: planw_topt(plan, PLAN_TOPT_PARSE_TPROGS, NULL);
	err = err ?: planw_topt(plan, PLAN_TOPT_SUBTIMEOUT, sub);
	return err ?: planw_test(plan, timeout_s, t->name, "/selftests/test_progs", argv, n);
}

int st_run_plan(struct st_run *r, const struct st_run_opts *o, struct buf *plan, struct run_result *res,
		unsigned int timeout_s)
{
	unsigned int runs = o->runs ? o->runs : 1, total = runs * r->nv;
	struct test_result *tests = realloc(res->tests, (res->ntests + total) * sizeof(*tests));

	if (!tests)
		return -ENOMEM;
	res->tests = tests;
	memset(tests + res->ntests, 0, total * sizeof(*tests));
	for (unsigned int i = 0; i < r->nv; i++) {
		int err = r->v[i].dev[0] ? planw_disk(plan, r->v[i].dev, r->v[i].root) : planw_root(plan, r->v[i].root);

		if (err)
			return err;
	}
	r->first_test = res->ntests + 1;
	r->ntests = total;
	for (unsigned int run = 1; run <= runs; run++) {
		for (unsigned int k = 0; k < r->nv; k++) {
			/* ABBA: each build goes first in every other round, so a
			 * drift over the boot does not favour one. */
			const struct st_variant *v = &r->v[run % 2 || r->nv == 1 ? k : r->nv - 1 - k];
			struct test_result *t = &res->tests[res->ntests];
			cleanup_buf struct buf args = { 0 };

			t->num = res->ntests + 1;
			t->timeout_s = timeout_s;
			t->exit_code = -1;
			t->variant = v->id ? v->id : 's';
			t->run = run;
			t->tp_per_test = o->ci_output;
			if (runs > 1)
				snprintf(t->name, sizeof(t->name), "%s#%u", v->label, run);
			else
				snprintf(t->name, sizeof(t->name), "%s", v->label);
			snprintf(t->path, sizeof(t->path), "%s/selftests/test_progs", v->b.root);
			snprintf(t->suite, sizeof(t->suite), "selftests");
			args_for(r, v, o, &args);
			int err = plan_test(plan, v, t, timeout_s, o->subtimeout_s ? o->subtimeout_s : DEFAULT_SUBTIMEOUT_S,
					args.data);
			if (err)
				return pr_err("test_progs' arguments cannot go in the plan: %s", args.data), err;
			res->ntests++;
		}
	}
	return 0;
}

/* The files of root (a payload) under dest in the initramfs. */
static int add_tree(struct initramfs *fs, const char *root, const char *rel, const char *dest)
{
	cleanup_free char *dir = *rel ? xasprintf("%s/%s", root, rel) : strdup(root);
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		cleanup_free char *r2 = NULL, *src = NULL, *dst = NULL;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r2 = *rel ? xasprintf("%s/%s", rel, de->d_name) : strdup(de->d_name);
		src = r2 ? xasprintf("%s/%s", root, r2) : NULL;
		dst = r2 ? xasprintf("%s/%s", dest, r2) : NULL;
		if (!dst || !src) {
			err = -ENOMEM;
			break;
		}
		if (lstat(src, &st)) {
			err = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			cleanup_free char *keep = xasprintf("%s/.kta-dir", dst);

			/* An empty directory (a mount point) needs an entry. */
			err = keep ? initramfs_add_data(fs, keep, "", 0, 0644) : -ENOMEM;
			err = err ?: add_tree(fs, root, r2, dest);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(src, target, sizeof(target) - 1);

			err = n < 0 ? -errno : (target[n] = '\0', initramfs_add_symlink(fs, dst, target));
		} else if (S_ISREG(st.st_mode)) {
			err = initramfs_add_file(fs, dst, src, st.st_mode & 0777);
		}
	}
	closedir(d);
	return err;
}

int st_run_initramfs(const struct st_run *r, struct initramfs *fs)
{
	int err = 0;

	for (unsigned int i = 0; !err && r->initramfs && i < r->nv; i++)
		err = add_tree(fs, r->v[i].b.root, "", r->v[i].root);
	return err;
}

void st_run_finish(const struct st_run *r, struct run_result *res)
{
	for (unsigned int i = 0; i < r->ntests; i++) {
		struct test_result *t = &res->tests[r->first_test - 1 + i];

		/* Only runs that got going: a run that never started says so. */
		for (unsigned int k = 0; t->begun && k < r->nskips; k++) {
			struct sub_result *u;

			if (ARRAY_RESERVE(t->subs, t->subcap, t->nsubs, 16))
				return;
			u = &t->subs[t->nsubs++];
			memset(u, 0, sizeof(*u));
			u->num = t->nsubs;
			u->raw = OUT_SKIP;
			snprintf(u->name, sizeof(u->name), "%s", r->skips[k].name);
			snprintf(u->raw_reason, sizeof(u->raw_reason), "%s", r->skips[k].reason);
			u->out_start = u->out_end = t->output.len;
		}
		classify_test(t);
	}
}

/* Per subtest name and build: how often it ran and failed. */
struct tally_row {
	char name[160];
	unsigned long runs[2], fails[2], skips[2];
};

static struct tally_row *row_for(struct tally_row **rows, size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*rows)[i].name, name))
			return &(*rows)[i];
	if (ARRAY_RESERVE(*rows, *cap, *n, 32))
		return NULL;
	memset(&(*rows)[*n], 0, sizeof(**rows));
	snprintf((*rows)[*n].name, sizeof((*rows)[0].name), "%s", name);
	return &(*rows)[(*n)++];
}

static size_t tally(const struct st_run *r, const struct run_result *res, struct tally_row **rows)
{
	size_t n = 0, cap = 0;

	*rows = NULL;
	for (unsigned int i = 0; i < r->ntests; i++) {
		const struct test_result *t = &res->tests[r->first_test - 1 + i];
		unsigned int side = r->nv == 2 && t->variant == 'b';

		for (unsigned int j = 0; j < t->nsubs; j++) {
			const struct sub_result *u = &t->subs[j];
			struct tally_row *row = row_for(rows, &n, &cap, u->name);

			if (!row)
				return n;
			if (u->outcome == OUT_SKIP) {
				row->skips[side]++;
				continue;
			}
			row->runs[side]++;
			row->fails[side] += outcome_is_failure(u->outcome);
		}
	}
	return n;
}

static void cell(char *out, size_t size, unsigned long f, unsigned long n, unsigned long skips)
{
	double lo, hi;

	if (!n) {
		snprintf(out, size, skips ? "skip" : "-");
		return;
	}
	wilson95(f, n, &lo, &hi);
	snprintf(out, size, "%lu/%lu (%.0f-%.0f%%)", f, n, 100 * lo, 100 * hi);
}

void st_run_summary(FILE *f, const struct st_run *r, const struct st_run_opts *o, const struct run_result *res)
{
	struct tally_row *rows;
	size_t n = tally(r, res, &rows);
	unsigned int runs = o->runs ? o->runs : 1;

	fprintf(f, "# ---- selftests: %u run%s%s, payload %s (%s), test_progs %s ----\n", runs, runs == 1 ? "" : "s",
		r->nv == 2 ? " of each build, interleaved" : "", r->initramfs ? "in the initramfs" : "on ext4/virtio-blk",
		r->payload_why, o->ci_output ? "as BPF CI runs it (no -v)" : "-v");
	for (unsigned int i = 0; i < r->nv; i++)
		fprintf(f, "# build %s: %s; for %s\n", r->v[i].label, r->v[i].b.tree_desc, r->v[i].b.kernel_desc);
	if (r->nv == 2)
		fprintf(f, "# %-52s %-18s %-18s %s\n", "subtest", "unpatched fail/runs", "patched fail/runs",
			"difference (Fisher's exact test)");
	else
		fprintf(f, "# %-52s %s\n", "subtest", "failures/runs (95% CI)");
	for (size_t i = 0; i < n; i++) {
		char a[48], b[48];

		cell(a, sizeof(a), rows[i].fails[0], rows[i].runs[0], rows[i].skips[0]);
		if (r->nv == 1) {
			fprintf(f, "# %-52s %s\n", rows[i].name, a);
			continue;
		}
		cell(b, sizeof(b), rows[i].fails[1], rows[i].runs[1], rows[i].skips[1]);
		if (!rows[i].runs[0] || !rows[i].runs[1]) {
			fprintf(f, "# %-52s %-18s %-18s -\n", rows[i].name, a, b);
			continue;
		}
		{
			struct fisher fi;
			const char *verdict;

			fisher_exact(rows[i].fails[0], rows[i].runs[0], rows[i].fails[1], rows[i].runs[1], &fi);
			verdict = fi.less < 0.05 ? "fewer failures with the series, significant"
				  : fi.greater < 0.05 ? "more failures with the series, significant"
				  : rows[i].fails[0] == rows[i].fails[1] && !rows[i].fails[0] ? "none: no failures"
											: "not significant";
			fprintf(f, "# %-52s %-18s %-18s %s (p=%.3g one-sided fewer, %.3g more, %.3g two-sided)\n",
				rows[i].name, a, b, verdict, fi.less, fi.greater, fi.two);
		}
	}
	free(rows);
}

static json_t *jstr(const char *s)
{
	return report_jtext(s, strlen(s));
}

int st_run_json(const char *path, const struct st_run *r, const struct st_run_opts *o, const struct run_result *res)
{
	struct tally_row *rows;
	size_t n = tally(r, res, &rows);
	json_t *root = json_object(), *builds = json_array(), *subs = json_array();
	int err = root && builds && subs ? 0 : -ENOMEM;
	char *text = NULL;

	err = err ?: json_object_set_new(root, "runs", json_integer(o->runs ? o->runs : 1));
	err = err ?: json_object_set_new(root, "payload", json_string(r->initramfs ? "initramfs" : "ext4"));
	for (unsigned int i = 0; !err && i < r->nv; i++)
		err = json_array_append_new(builds, json_pack("{s:o, s:o, s:o}", "label", jstr(r->v[i].label), "key",
							      jstr(r->v[i].b.key), "dir", jstr(r->v[i].b.dir)));
	for (size_t i = 0; !err && i < n; i++) {
		json_t *row = json_pack("{s:o}", "name", report_jtext(rows[i].name, strlen(rows[i].name)));

		for (unsigned int k = 0; row && !err && k < r->nv; k++) {
			double lo, hi;

			wilson95(rows[i].fails[k], rows[i].runs[k], &lo, &hi);
			err = json_object_set_new(row, r->v[k].label,
						  json_pack("{s:I, s:I, s:I, s:[f, f]}", "failures",
							    (json_int_t)rows[i].fails[k], "runs", (json_int_t)rows[i].runs[k],
							    "skipped", (json_int_t)rows[i].skips[k], "ci95", lo, hi));
		}
		if (row && !err && r->nv == 2 && rows[i].runs[0] && rows[i].runs[1]) {
			struct fisher fi;

			fisher_exact(rows[i].fails[0], rows[i].runs[0], rows[i].fails[1], rows[i].runs[1], &fi);
			err = json_object_set_new(row, "fisher", json_pack("{s:f, s:f, s:f}", "fewer", fi.less, "more",
									   fi.greater, "two_sided", fi.two));
		}
		err = err ?: json_array_append_new(subs, row);
	}
	free(rows);
	if (!err) {
		err = json_object_set_new(root, "builds", builds);
		builds = NULL; /* taken, even on failure */
	}
	if (!err) {
		err = json_object_set_new(root, "subtests", subs);
		subs = NULL;
	}
	text = err ? NULL : json_dumps(root, JSON_PRESERVE_ORDER);
	json_decref(builds);
	json_decref(subs);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	{
		size_t len = strlen(text);
		int werr;

		text[len] = '\n'; /* json_dumps' NUL: the file ends in a newline */
		werr = write_file_atomic(path, text, len + 1, 0644);
		free(text);
		return werr;
	}
}

void st_run_free(struct st_run *r)
{
	free(r->skips);
	r->skips = NULL;
	r->nskips = 0;
}
