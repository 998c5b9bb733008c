/* Applying a patch series with `git apply` (which works in any directory,
 * git repository or not), one status per patch. Forward `--check` passes:
 * apply. Else reverse `--check` passes: already applied. Else a conflict:
 * the files the patch touches are copied to a scratch directory where
 * `git apply --reject` writes the rejected hunks, which are saved in the
 * artifacts and explained.
 *
 * GIT_CEILING_DIRECTORIES is set to the tree's parent: in a tree that is
 * not a git repository but sits inside one, git would otherwise apply
 * relative to the outer repository, skip every path, print nothing and
 * exit 0 (patches/README).
 */
#include "kbuild/patches.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/sha256.h"
#include "base/spawn.h"

#include <ctype.h>
#include <string.h>
#include <sys/stat.h>

const char *patch_status_name(enum patch_status s)
{
	switch (s) {
	case PATCH_PENDING:
		return "pending";
	case PATCH_APPLIED:
		return "applied";
	case PATCH_APPLIES:
		return "applies";
	case PATCH_ALREADY_APPLIED:
		return "already-applied";
	case PATCH_CONFLICT:
		return "conflict";
	case PATCH_SKIPPED:
		return "not-tried";
	default:
		return "?";
	}
}

static bool starts(const char *p, const char *s)
{
	return !strncmp(p, s, strlen(s));
}

bool patch_text_is_patch(const char *text)
{
	bool header = false;

	for (const char *p = text ? text : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (starts(p, "diff --git ") || (starts(p, "+++ ") && header))
			header = true;
		else if (starts(p, "--- "))
			header = true;
		else if (header && (starts(p, "@@ -") || starts(p, "GIT binary patch")))
			return true;
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

/* "a/x/y.c" with -p1 -> "x/y.c"; NULL for /dev/null or too few parts. */
static char *strip_path(const char *p, size_t len, int strip)
{
	const char *end = p + len;

	while (end > p && (end[-1] == '\t' || end[-1] == ' ' || end[-1] == '\r'))
		end--;
	/* "+++ b/file\t2024-01-01 ..." (diff -u timestamps). */
	for (const char *t = p; t < end; t++)
		if (*t == '\t') {
			end = t;
			break;
		}
	if ((size_t)(end - p) == 9 && !strncmp(p, "/dev/null", 9))
		return NULL;
	for (int i = 0; i < strip; i++) {
		const char *slash = memchr(p, '/', (size_t)(end - p));

		if (!slash)
			return NULL;
		p = slash + 1;
	}
	return end > p ? strndup(p, (size_t)(end - p)) : NULL;
}

int patch_text_files(const char *text, int strip, struct buf *out)
{
	for (const char *p = text ? text : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (starts(p, "+++ ") || starts(p, "--- ")) {
			cleanup_free char *f = strip_path(p + 4, (size_t)(eol - p - 4), strip);
			bool dup = false;

			if (f && out->data) {
				cleanup_free char *key = xasprintf("\n%s\n", f);

				dup = key && (strstr(out->data, key + 1) == out->data || strstr(out->data, key));
			}
			if (f && !dup && buf_printf(out, "%s\n", f))
				return -ENOMEM;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static bool is_keyword(const char *w, size_t n)
{
	static const char *const kws[] = { "if", "for", "while", "switch", "return", "sizeof", "do",
					   "case", "else", "defined", "typeof", "__typeof__" };

	for (size_t i = 0; i < ARRAY_SIZE(kws); i++)
		if (strlen(kws[i]) == n && !strncmp(w, kws[i], n))
			return true;
	return false;
}

/* The identifier before the first '(' of a definition-looking line: not
 * indented, not a statement (no trailing ';'). */
static void add_function(const char *s, const char *end, char *out, size_t size)
{
	const char *paren, *e, *b;
	char key[136];

	if (s >= end || isspace((unsigned char)*s) || *s == '#' || *s == '/' || *s == '*' || *s == '{' ||
	    *s == '}')
		return;
	paren = memchr(s, '(', (size_t)(end - s));
	if (!paren)
		return;
	for (e = end; e > s && isspace((unsigned char)e[-1]); e--)
		;
	if (e > s && e[-1] == ';')
		return;
	for (e = paren; e > s && isspace((unsigned char)e[-1]); e--)
		;
	for (b = e; b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '_'); b--)
		;
	if (b == e || e - b > 120 || isdigit((unsigned char)*b) || is_keyword(b, (size_t)(e - b)))
		return;
	/* Something must come before the name (a type): "foo(x)" alone is a
	 * call or a macro at file scope. */
	if (b == s)
		return;
	snprintf(key, sizeof(key), " %.*s ", (int)(e - b), b);
	if (!strstr(out, key) && strlen(out) + strlen(key) < size) {
		if (!*out)
			strcat(out, key);
		else
			strcat(out, key + 1);
	}
}

void patch_hunk_functions(const char *hunk, size_t len, char *out, size_t size)
{
	const char *end = hunk + len;

	out[0] = '\0';
	for (const char *p = hunk; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (starts(p, "@@ ")) {
			const char *h = strstr(p + 3, "@@");

			if (h && h < eol) {
				for (h += 2; h < eol && *h == ' '; h++)
					;
				add_function(h, eol, out, size);
			}
		} else if (*p == ' ' || *p == '-') {
			add_function(p + 1, eol, out, size);
		}
		p = eol < end ? eol + 1 : end;
	}
}

static int hash_patch(struct sha256 *h, const struct patch *p)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(p->path, &b, 64 << 20);
	char strip[16];

	if (err)
		return err;
	snprintf(strip, sizeof(strip), "-p%d", p->strip);
	sha256_update(h, p->name, strlen(p->name) + 1);
	sha256_update(h, strip, strlen(strip) + 1);
	sha256_update(h, b.data ? b.data : "", b.len);
	sha256_update(h, "", 1);
	return 0;
}

static int series_add(struct patch_series *s, const char *dir, const char *name, int strip)
{
	struct patch *v = realloc(s->v, (s->n + 1) * sizeof(*v));
	struct patch *p;
	cleanup_buf struct buf b = { 0 };
	int err;

	if (!v)
		return -ENOMEM;
	s->v = v;
	p = &v[s->n];
	memset(p, 0, sizeof(*p));
	p->strip = strip;
	if (pathf(p->name, sizeof(p->name), "%s", name) ||
	    (name[0] == '/' ? pathf(p->path, sizeof(p->path), "%s", name)
			    : pathf(p->path, sizeof(p->path), "%s/%s", dir, name)))
		return -ENAMETOOLONG;
	err = read_file(p->path, &b, 64 << 20);
	if (err) {
		pr_err("patch `%s` named by series `%s`: cannot read `%s`: %s", name, s->path, p->path,
		       strerror(-err));
		return err == -ENOENT ? -ENOENT : err;
	}
	if (!patch_text_is_patch(b.data)) {
		pr_err("`%s` is not a patch: no file diff with a hunk (--- a/..., +++ b/..., @@ ... @@)",
		       p->path);
		return -EINVAL;
	}
	s->n++;
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int patch_series_load(const char *path, struct patch_series *s)
{
	cleanup_buf struct buf text = { 0 };
	cleanup_free char *dir = NULL;
	struct sha256 h;
	struct stat st;
	unsigned int lineno = 0;
	int err;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) < 0)
		return pr_err("cannot open patch series `%s`: %s", path, strerror(errno)), -errno;
	if (S_ISDIR(st.st_mode)) {
		err = pathf(s->path, sizeof(s->path), "%s/series", path);
		if (err)
			return err;
		if (!path_exists(s->path))
			return pr_err("`%s` is a directory without a `series` file", path), -ENOENT;
	} else if (!realpath(path, s->path)) {
		return pr_err("cannot resolve `%s`: %s", path, strerror(errno)), -errno;
	}
	err = read_file(s->path, &text, 1 << 20);
	if (err)
		return pr_err("cannot read patch series `%s`: %s", s->path, strerror(-err)), err;
	dir = strdup(s->path);
	if (!dir)
		return -ENOMEM;
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		strcpy(dir, ".");
	{
		/* git apply runs in the tree: patch paths must be absolute. */
		char *abs = realpath(*dir ? dir : "/", NULL);

		if (!abs)
			return pr_err("cannot resolve `%s`: %s", dir, strerror(errno)), -errno;
		free(dir);
		dir = abs;
	}
	if (patch_text_is_patch(text.data) || has_suffix(s->path, ".patch") || has_suffix(s->path, ".diff")) {
		/* A single patch file given instead of a series. */
		const char *base = strrchr(s->path, '/');

		err = series_add(s, dir, base ? base + 1 : s->path, 1);
	} else {
		err = 0;
		for (char *save = NULL, *l = strtok_r(text.data ? text.data : (char *)"", "\n", &save);
		     !err && l; l = strtok_r(NULL, "\n", &save)) {
			char *hash = strchr(l, '#'), *name, *opt, *sp = NULL;
			int strip = 1;

			lineno++;
			if (hash)
				*hash = '\0';
			name = strtok_r(l, " \t\r", &sp);
			if (!name)
				continue;
			while ((opt = strtok_r(NULL, " \t\r", &sp))) {
				char *end;

				if (opt[0] == '-' && opt[1] == 'p' && isdigit((unsigned char)opt[2]) &&
				    (strip = (int)strtol(opt + 2, &end, 10), !*end))
					continue;
				pr_err("%s: unsupported option `%s` for `%s` (only -pN)", s->path, opt, name);
				err = -EINVAL;
				break;
			}
			err = err ?: series_add(s, dir, name, strip);
		}
		if (!err && !s->n) {
			pr_err("patch series `%s` names no patch", s->path);
			err = -EINVAL;
		}
	}
	sha256_init(&h);
	for (size_t i = 0; !err && i < s->n; i++)
		err = hash_patch(&h, &s->v[i]);
	if (err) {
		patch_series_free(s);
		return err;
	}
	sha256_hex(&h, s->sha256);
	return 0;
}

void patch_series_free(struct patch_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].detail);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* `git apply ARGS... PATCH` in dir; output into out. */
static int git_apply(const char *dir, const struct patch *p, const char *const *args, struct buf *out)
{
	cleanup_free char *real = realpath(dir, NULL);
	cleanup_free char *ceiling = NULL, *strip = xasprintf("-p%d", p->strip);
	char *argv[12];
	const char *env[3];
	size_t n = 0;
	int st;

	if (!real || !strip)
		return real ? -ENOMEM : -errno;
	ceiling = xasprintf("GIT_CEILING_DIRECTORIES=%s", real);
	if (!ceiling)
		return -ENOMEM;
	/* The ceiling is the parent: git may look at dir/.git, never above. */
	if (strrchr(ceiling, '/') > ceiling + strlen("GIT_CEILING_DIRECTORIES="))
		*strrchr(ceiling, '/') = '\0';
	env[0] = ceiling;
	env[1] = "GIT_CONFIG_NOSYSTEM=1";
	env[2] = NULL;
	argv[n++] = "git";
	argv[n++] = "apply";
	argv[n++] = strip;
	argv[n++] = "--whitespace=nowarn";
	for (size_t i = 0; args[i] && n + 2 < ARRAY_SIZE(argv); i++)
		argv[n++] = (char *)args[i];
	argv[n++] = (char *)p->path;
	argv[n] = NULL;
	st = spawn_run(argv, &(struct spawn_opts){ .cwd = real, .env = env }, out);
	if (st == 127)
		pr_err("cannot run git: install the git package");
	return st == 127 ? -ENOENT : st;
}

static bool corrupt(const struct buf *b)
{
	return b->data && (strstr(b->data, "corrupt patch") || strstr(b->data, "No valid patches") ||
			   strstr(b->data, "unrecognized input") || strstr(b->data, "patch fragment without header"));
}

/* Copy the files p touches that exist in tree into scratch. */
static int mirror_files(const char *tree, const char *scratch, const char *files)
{
	cleanup_free char *list = strdup(files);
	int err = 0;

	if (!list)
		return -ENOMEM;
	for (char *save = NULL, *f = strtok_r(list, "\n", &save); !err && f; f = strtok_r(NULL, "\n", &save)) {
		cleanup_free char *src = xasprintf("%s/%s", tree, f), *dst = xasprintf("%s/%s", scratch, f);
		char *slash;

		if (!src || !dst)
			return -ENOMEM;
		if (!path_exists(src))
			continue;
		slash = strrchr(dst, '/');
		*slash = '\0';
		err = mkdir_p(dst, 0755);
		*slash = '/';
		err = err ?: copy_file(src, dst, 0644);
	}
	return err;
}

/* Count "@@ " lines of a file's section in a patch. */
static size_t count_hunks(const char *text, size_t len)
{
	size_t n = 0;

	for (const char *p = text; p && p < text + len; p = memchr(p, '\n', (size_t)(text + len - p))) {
		if (*p == '\n')
			p++;
		n += starts(p, "@@ ");
	}
	return n;
}

/* The section of patch text for file f: from its "diff --git" line (or,
 * in a plain diff, its "---" line) to the next file's; NULL if none. */
static const char *file_section(const char *text, const char *f, int strip, size_t *len)
{
	bool git = starts(text, "diff --git ") || strstr(text, "\ndiff --git ");
	const char *sec = NULL;
	bool match = false;

	for (const char *p = text;;) {
		const char *eol = strchrnul(p, '\n');
		bool boundary = !*p || (git ? starts(p, "diff --git ") : starts(p, "--- ") && starts(eol, "\n+++ "));

		if (boundary) {
			if (sec && match) {
				*len = (size_t)(p - sec);
				return sec;
			}
			if (!*p)
				return NULL;
			sec = p;
			match = false;
		}
		if (sec && (starts(p, "+++ ") || starts(p, "--- "))) {
			cleanup_free char *name = strip_path(p + 4, (size_t)(eol - p - 4), strip);

			match = match || (name && !strcmp(name, f));
		}
		p = *eol ? eol + 1 : eol;
	}
}

/* Explain a conflict: per file, missing file, rejected hunks, and the
 * functions those hunks change that the file does not have. */
static void explain(const char *tree, const char *scratch, const char *text, int strip, const char *files,
		    struct buf *detail, struct buf *rej)
{
	cleanup_free char *list = strdup(files ? files : "");

	for (char *save = NULL, *f = strtok_r(list, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		cleanup_free char *src = xasprintf("%s/%s", tree, f), *rpath = xasprintf("%s/%s.rej", scratch, f);
		cleanup_buf struct buf r = { 0 }, target = { 0 };
		size_t seclen = 0, total, bad;
		const char *sec = file_section(text, f, strip, &seclen);
		char funcs[512], missing[512] = "";

		if (!src || !rpath)
			return;
		total = sec ? count_hunks(sec, seclen) : 0;
		if (!path_exists(src)) {
			if (sec && !strstr(sec, "--- /dev/null")) {
				buf_printf(detail, "%s: no such file in this tree (%zu hunk%s)\n", f, total,
					   total == 1 ? "" : "s");
				buf_append(rej, sec, seclen);
			}
			continue;
		}
		if (read_file(rpath, &r, 16 << 20) || !r.len)
			continue;
		buf_append(rej, r.data, r.len);
		bad = count_hunks(r.data, r.len);
		read_file(src, &target, 64 << 20);
		buf_printf(detail, "%s: %zu of %zu hunk%s rejected:\n", f, bad, total, total == 1 ? "" : "s");
		for (const char *h = strstr(r.data, "\n@@ "); h; h = strstr(h + 1, "\n@@ ")) {
			const char *next = strstr(h + 1, "\n@@ ");
			const char *eol = strchrnul(h + 1, '\n');
			size_t hl = next ? (size_t)(next - h) : strlen(h);

			patch_hunk_functions(h + 1, hl - 1, funcs, sizeof(funcs));
			buf_printf(detail, "    %.*s\n", (int)(eol - h - 1), h + 1);
			for (char *s2 = NULL, *fn = strtok_r(funcs, " ", &s2); fn; fn = strtok_r(NULL, " ", &s2)) {
				cleanup_free char *call = xasprintf("%s(", fn), *key = xasprintf(" %s ", fn);
				bool have = false;

				/* "name(" or "name (" anywhere in the file. */
				for (const char *q = target.data; call && q && (q = strstr(q, fn)); q++) {
					const char *a = q + strlen(fn);

					while (*a == ' ')
						a++;
					if (*a == '(' && (q == target.data || !(isalnum((unsigned char)q[-1]) || q[-1] == '_'))) {
						have = true;
						break;
					}
				}
				if (!have && key && !strstr(missing, key) && strlen(missing) + strlen(key) < sizeof(missing))
					strcat(missing, *missing ? key + 1 : key);
			}
		}
		if (*missing) {
			size_t nmiss = 0;

			for (const char *c = missing + 1; *c; c++)
				nmiss += *c == ' ';
			buf_printf(detail, "    not in this tree's %s:", f);
			for (char *s2 = NULL, *fn = strtok_r(missing, " ", &s2); fn; fn = strtok_r(NULL, " ", &s2))
				buf_printf(detail, "%s %s()", detail->data[detail->len - 1] == ':' ? "" : ",", fn);
			buf_printf(detail, " (the function%s this patch changes %s not exist here)\n",
				   nmiss > 1 ? "s" : "", nmiss > 1 ? "do" : "does");
		}
	}
}

static int save_conflict(const char *tree, struct patch *p, size_t idx, const struct patch_opts *o,
			 const struct buf *check_out)
{
	cleanup_buf struct buf text = { 0 }, files = { 0 }, detail = { 0 }, rej = { 0 }, out = { 0 };
	cleanup_free char *scratch = NULL, *logp = NULL;
	static const char *const reject[] = { "--reject", NULL };
	char tmpl[] = "/tmp/kta-patch.XXXXXX";
	int err = read_file(p->path, &text, 64 << 20);

	err = err ?: patch_text_files(text.data, p->strip, &files);
	if (err)
		return err;
	if (!mkdtemp(tmpl))
		return -errno;
	scratch = strdup(tmpl);
	if (!scratch) {
		rm_rf(tmpl);
		return -ENOMEM;
	}
	err = mirror_files(tree, scratch, files.data ? files.data : "");
	if (!err)
		git_apply(scratch, p, reject, &out);
	if (!err)
		explain(tree, scratch, text.data, p->strip, files.data, &detail, &rej);
	rm_rf(scratch);
	if (err)
		return err;
	if (!detail.len)
		buf_printf(&detail, "%s", check_out->data ? check_out->data : "git apply --check failed\n");
	p->detail = detail.data ? strdup(detail.data) : NULL;
	if (!o->artifacts)
		return 0;
	err = mkdir_p(o->artifacts, 0755);
	if (err)
		return pr_err("cannot create `%s`: %s", o->artifacts, strerror(-err)), err;
	/* "0003-foo.patch.rej"; an index first when the name has none. */
	if (strspn(p->name, "0123456789") == 4 && p->name[4] == '-'
		    ? pathf(p->rej, sizeof(p->rej), "%s/%s.rej", o->artifacts, p->name)
		    : pathf(p->rej, sizeof(p->rej), "%s/%04zu-%s.rej", o->artifacts, idx + 1, p->name))
		return -ENAMETOOLONG;
	for (char *c = p->rej + strlen(o->artifacts) + 1; *c; c++)
		if (*c == '/')
			*c = '_';
	err = write_file_atomic(p->rej, rej.data ? rej.data : "", rej.len, 0644);
	logp = xasprintf("%.*s.log", (int)(strlen(p->rej) - 4), p->rej);
	if (!err && logp)
		write_file_atomic(logp, check_out->data ? check_out->data : "", check_out->len, 0644);
	return err;
}

int patches_apply(const char *tree, struct patch_series *s, const struct patch_opts *o)
{
	static const char *const check[] = { "--check", "-v", NULL };
	static const char *const rcheck[] = { "--check", "-R", NULL };
	static const char *const apply[] = { NULL };
	size_t conflicts = 0;
	bool stop = false;

	for (size_t i = 0; i < s->n; i++) {
		struct patch *p = &s->v[i];
		cleanup_buf struct buf out = { 0 }, rout = { 0 }, aout = { 0 };
		int st;

		if (stop) {
			p->status = PATCH_SKIPPED;
			continue;
		}
		st = git_apply(tree, p, check, &out);
		if (st < 0)
			return st;
		if (out.data && strstr(out.data, "can't open patch")) {
			pr_err("git apply cannot read `%s`: %s", p->path, out.data);
			return -ENOENT;
		}
		if (corrupt(&out)) {
			pr_err("`%s` is not a valid patch: %s", p->path, out.data);
			return -EINVAL;
		}
		if (st == 0) {
			if (o->dry_run) {
				p->status = PATCH_APPLIES;
				continue;
			}
			st = git_apply(tree, p, apply, &aout);
			if (st)
				return pr_err("git apply `%s` in `%s` failed after its check passed: %s", p->path, tree,
					      aout.data ? aout.data : ""), st < 0 ? st : -EIO;
			p->status = PATCH_APPLIED;
			continue;
		}
		st = git_apply(tree, p, rcheck, &rout);
		if (st < 0)
			return st;
		if (st == 0) {
			p->status = PATCH_ALREADY_APPLIED;
			continue;
		}
		p->status = PATCH_CONFLICT;
		conflicts++;
		st = save_conflict(tree, p, i, o, &out);
		if (st)
			pr_warn("cannot save the rejected hunks of `%s`: %s", p->name, strerror(-st));
		stop = !o->allow_conflicts;
	}
	return (int)conflicts;
}
