/* The Kconfig symbols of a kernel tree, for the survival check: starting
 * at the top-level Kconfig, follow `source` statements the way Kconfig does
 * for one architecture ($(SRCARCH)), and record for every `config` and
 * `menuconfig` its file and line, its dependencies (its own `depends on`
 * plus those of the enclosing `if`, `menu` and `choice` blocks), whether it
 * has a prompt, and every `select` of it. Not a Kconfig implementation: no
 * defaults, no macros, no types; enough to say which option exists and
 * which dependency dropped it.
 */
#include "kbuild/kconf.h"
#include "base/log.h"
#include "base/pathf.h"
#include "base/sha256.h"

#include <ctype.h>
#include <glob.h>
#include <limits.h>
#include <string.h>

#define MAX_DEPTH 40
#define MAX_NEST 64

enum block { B_IF, B_MENU, B_CHOICE };

struct walker {
	struct sha256 files;      /* the Kconfig files read: what decides a config */
	const char *tree;
	const char *srcarch;
	struct kindex *ix;
	size_t cap_syms, cap_sels;
	int err;
};

struct fstate {
	const char *rel;          /* this file, relative to the tree */
	const char *inherited;    /* condition of the `source` line, NULL if none */
	char *conds[MAX_NEST];    /* if/menu/choice conditions, NULL for none */
	enum block kinds[MAX_NEST];
	size_t depth;
	long cur;                 /* index of the symbol being defined, -1 none */
	bool in_menu_attrs;       /* after `menu`/`choice`: its depends go on the stack */
	int help_indent;          /* > 0: skipping help text indented this much */
	bool in_help;
};

static int indent_of(const char *line)
{
	int n = 0;

	for (; *line == ' ' || *line == '\t'; line++)
		n = *line == '\t' ? (n / 8 + 1) * 8 : n + 1;
	return n;
}

/* Join two conditions with &&, parenthesised. */
static char *cond_and(const char *a, const char *b)
{
	if (!a || !*a)
		return b && *b ? xasprintf("%s", b) : NULL;
	if (!b || !*b)
		return xasprintf("%s", a);
	return xasprintf("%s && (%s)", a, b);
}

/* The condition in force for a new entry: inherited, then the blocks. */
static char *current_cond(const struct fstate *f)
{
	char *c = f->inherited ? strdup(f->inherited) : NULL;

	for (size_t i = 0; i < f->depth; i++) {
		char *n;

		if (!f->conds[i])
			continue;
		n = cond_and(c, f->conds[i]);
		free(c);
		c = n;
	}
	return c;
}

static int add_sym(struct walker *w, struct fstate *f, const char *name, unsigned int line)
{
	struct kindex *ix = w->ix;
	struct ksym *s;

	if (ARRAY_RESERVE(ix->syms, w->cap_syms, ix->nsyms, 4096))
		return -ENOMEM;
	s = &ix->syms[ix->nsyms];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->file = strdup(f->rel);
	s->line = line;
	s->deps = current_cond(f);
	if (!s->name || !s->file)
		return -ENOMEM;
	f->cur = (long)ix->nsyms++;
	return 0;
}

static int add_sel(struct walker *w, const struct fstate *f, const char *target, const char *cond,
		   unsigned int line)
{
	struct kindex *ix = w->ix;
	struct kselect *s;

	if (f->cur < 0)
		return 0;
	if (ARRAY_RESERVE(ix->sels, w->cap_sels, ix->nsels, 4096))
		return -ENOMEM;
	s = &ix->sels[ix->nsels++];
	s->target = strdup(target);
	s->by = strdup(ix->syms[f->cur].name);
	s->cond = cond && *cond ? strdup(cond) : NULL;
	s->file = strdup(f->rel);
	s->line = line;
	return s->target && s->by && s->file ? 0 : -ENOMEM;
}

/* Trailing "# comment" outside quotes goes. */
static void strip_comment(char *s)
{
	char q = 0;

	for (char *p = s; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '#') {
			*p = '\0';
			break;
		}
	}
	for (size_t n = strlen(s); n && isspace((unsigned char)s[n - 1]); n--)
		s[n - 1] = '\0';
}

static bool kw(const char *s, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(s, word, n) || (s[n] && !isspace((unsigned char)s[n])))
		return false;
	for (s += n; isspace((unsigned char)*s); s++)
		;
	*rest = s;
	return true;
}

/* After a quoted prompt: " if COND" -> COND. */
static const char *after_quoted(const char *s)
{
	char q;

	if (*s != '"' && *s != '\'')
		return NULL;
	q = *s++;
	while (*s && *s != q)
		s += *s == '\\' && s[1] ? 2 : 1;
	if (*s)
		s++;
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void set_prompt(struct walker *w, struct fstate *f, const char *quoted)
{
	const char *after = after_quoted(quoted), *cond;
	struct ksym *s;

	if (f->cur < 0 || !after)
		return;
	s = &w->ix->syms[f->cur];
	s->prompt = true;
	if (kw(after, "if", &cond) && *cond) {
		free(s->prompt_if);
		s->prompt_if = strdup(cond);
	}
}

static void add_dep(struct walker *w, struct fstate *f, const char *expr)
{
	if (f->in_menu_attrs && f->depth) {
		char *n = cond_and(f->conds[f->depth - 1], expr);

		free(f->conds[f->depth - 1]);
		f->conds[f->depth - 1] = n;
	} else if (f->cur >= 0) {
		struct ksym *s = &w->ix->syms[f->cur];
		char *n = cond_and(s->deps, expr);

		free(s->deps);
		s->deps = n;
	}
}

static int push(struct fstate *f, enum block kind, const char *cond)
{
	if (f->depth == MAX_NEST)
		return -E2BIG;
	f->kinds[f->depth] = kind;
	f->conds[f->depth++] = cond && *cond ? strdup(cond) : NULL;
	return 0;
}

static void pop(struct fstate *f)
{
	if (f->depth)
		free(f->conds[--f->depth]);
}

static int walk_file(struct walker *w, const char *rel, const char *inherited, int depth);

/* source/rsource/osource/orsource "path": $(SRCARCH) expanded, globs
 * allowed, optional ones may be missing. */
static int do_source(struct walker *w, struct fstate *f, const char *arg, bool relative, bool optional,
		     int depth)
{
	char path[PATH_MAX], pat[PATH_MAX * 2];
	cleanup_free char *cond = current_cond(f);
	const char *q = arg;
	size_t n = 0;
	glob_t g;
	int err = 0, gr;

	if (*q == '"')
		q++;
	while (*q && *q != '"' && n + 1 < sizeof(path)) {
		if (!strncmp(q, "$(SRCARCH)", 10) || !strncmp(q, "$(HEADER_ARCH)", 14)) {
			n += (size_t)snprintf(path + n, sizeof(path) - n, "%s", w->srcarch);
			q += q[2] == 'S' ? 10 : 14;
			continue;
		}
		path[n++] = *q++;
	}
	path[n] = '\0';
	if (relative) {
		const char *slash = strrchr(f->rel, '/');

		char joined[PATH_MAX];

		if (pathf(joined, sizeof(joined), "%.*s%s", slash ? (int)(slash - f->rel + 1) : 0, f->rel, path))
			return -ENAMETOOLONG;
		memcpy(path, joined, sizeof(path));
	}
	if (pathf(pat, sizeof(pat), "%s/%s", w->tree, path))
		return -ENAMETOOLONG;
	gr = glob(pat, 0, NULL, &g);
	if (gr == GLOB_NOMATCH) {
		if (!optional && !strpbrk(path, "*?["))
			pr_debug("Kconfig: %s sources missing `%s`", f->rel, path);
		return 0;
	}
	if (gr)
		return -ENOMEM;
	for (size_t i = 0; !err && i < g.gl_pathc; i++)
		err = walk_file(w, g.gl_pathv[i] + strlen(w->tree) + 1, cond, depth + 1);
	globfree(&g);
	return err;
}

static int walk_line(struct walker *w, struct fstate *f, char *line, unsigned int lineno, int depth)
{
	const char *s = line, *rest;
	char name[128];

	while (isspace((unsigned char)*s))
		s++;
	if (f->in_help) {
		int ind = indent_of(line);

		if (!*s)
			return 0;
		if (f->help_indent < 0)
			f->help_indent = ind;
		if (ind >= f->help_indent && ind > 0)
			return 0;
		f->in_help = false;
	}
	if (!*s || *s == '#')
		return 0;
	strip_comment(line);
	if (kw(s, "config", &rest) || kw(s, "menuconfig", &rest)) {
		size_t n = 0;

		while (rest[n] && !isspace((unsigned char)rest[n]) && n + 1 < sizeof(name))
			n++;
		snprintf(name, sizeof(name), "%.*s", (int)n, rest);
		f->in_menu_attrs = false;
		return add_sym(w, f, name, lineno);
	}
	if (kw(s, "help", &rest) || kw(s, "---help---", &rest)) {
		f->in_help = true;
		f->help_indent = -1;
		return 0;
	}
	if (kw(s, "depends", &rest)) {
		if (kw(rest, "on", &rest))
			add_dep(w, f, rest);
		return 0;
	}
	if (kw(s, "select", &rest)) {
		const char *cond = "";
		size_t n = 0;

		while (rest[n] && !isspace((unsigned char)rest[n]) && n + 1 < sizeof(name))
			n++;
		snprintf(name, sizeof(name), "%.*s", (int)n, rest);
		rest += n;
		while (isspace((unsigned char)*rest))
			rest++;
		if (!kw(rest, "if", &cond))
			cond = "";
		return add_sel(w, f, name, cond, lineno);
	}
	if (kw(s, "bool", &rest) || kw(s, "tristate", &rest) || kw(s, "string", &rest) ||
	    kw(s, "int", &rest) || kw(s, "hex", &rest) || kw(s, "prompt", &rest)) {
		set_prompt(w, f, rest);
		return 0;
	}
	if (kw(s, "if", &rest)) {
		f->cur = -1;
		f->in_menu_attrs = false;
		return push(f, B_IF, rest);
	}
	if (kw(s, "menu", &rest) || kw(s, "choice", &rest)) {
		f->cur = -1;
		f->in_menu_attrs = true;
		return push(f, s[0] == 'm' ? B_MENU : B_CHOICE, NULL);
	}
	if (kw(s, "endif", &rest) || kw(s, "endmenu", &rest) || kw(s, "endchoice", &rest)) {
		f->cur = -1;
		f->in_menu_attrs = false;
		pop(f);
		return 0;
	}
	if (kw(s, "comment", &rest) || kw(s, "mainmenu", &rest)) {
		f->cur = -1;
		f->in_menu_attrs = false;
		return 0;
	}
	if (kw(s, "source", &rest) || kw(s, "osource", &rest) || kw(s, "rsource", &rest) ||
	    kw(s, "orsource", &rest)) {
		bool rel = s[0] == 'r' || (s[0] == 'o' && s[1] == 'r');
		bool opt = s[0] == 'o';

		f->cur = -1;
		f->in_menu_attrs = false;
		return do_source(w, f, rest, rel, opt, depth);
	}
	return 0;
}

static int walk_file(struct walker *w, const char *rel, const char *inherited, int depth)
{
	cleanup_buf struct buf text = { 0 };
	struct fstate f = { .rel = rel, .inherited = inherited, .cur = -1 };
	cleanup_free char *path = NULL;
	unsigned int lineno = 0;
	int err;

	if (depth > MAX_DEPTH)
		return pr_err("Kconfig: `source` nested deeper than %d at `%s`", MAX_DEPTH, rel), -ELOOP;
	path = xasprintf("%s/%s", w->tree, rel);
	if (!path)
		return -ENOMEM;
	err = read_file(path, &text, 16 << 20);
	if (err)
		return pr_err("cannot read `%s`: %s", path, strerror(-err)), err;
	w->ix->nfiles++;
	sha256_update(&w->files, rel, strlen(rel) + 1);
	sha256_update(&w->files, text.data ? text.data : "", text.len + 1);
	for (char *p = text.data; !err && *p;) {
		char *eol = strchrnul(p, '\n');
		char *next = *eol ? eol + 1 : eol;
		unsigned int first = ++lineno;

		*eol = '\0';
		/* Backslash continuations join lines. */
		while (eol > p && eol[-1] == '\\' && *next) {
			char *e2 = strchrnul(next, '\n');

			eol[-1] = ' ';
			memmove(eol, next, (size_t)(e2 - next));
			eol += e2 - next;
			*eol = '\0';
			next = *e2 ? e2 + 1 : e2;
			lineno++;
		}
		err = walk_line(w, &f, p, first, depth);
		p = next;
	}
	while (f.depth)
		pop(&f);
	return err;
}

/* Sort by name, keeping definition order among equal names (a bottom-up
 * merge sort: qsort is not stable). */
static int sort_syms(struct kindex *ix)
{
	struct ksym *tmp = ix->nsyms ? malloc(ix->nsyms * sizeof(*tmp)) : NULL;

	if (ix->nsyms && !tmp)
		return -ENOMEM;
	for (size_t width = 1; width < ix->nsyms; width *= 2) {
		for (size_t lo = 0; lo < ix->nsyms; lo += 2 * width) {
			size_t mid = lo + width < ix->nsyms ? lo + width : ix->nsyms;
			size_t hi = lo + 2 * width < ix->nsyms ? lo + 2 * width : ix->nsyms;
			size_t a = lo, b = mid, k = lo;

			while (a < mid && b < hi)
				tmp[k++] = strcmp(ix->syms[b].name, ix->syms[a].name) < 0 ? ix->syms[b++]
											    : ix->syms[a++];
			while (a < mid)
				tmp[k++] = ix->syms[a++];
			while (b < hi)
				tmp[k++] = ix->syms[b++];
		}
		memcpy(ix->syms, tmp, ix->nsyms * sizeof(*tmp));
	}
	free(tmp);
	return 0;
}

int kindex_load(const char *tree, const char *srcarch, struct kindex *ix)
{
	struct walker w = { .tree = tree, .srcarch = srcarch, .ix = ix };
	cleanup_free char *top = xasprintf("%s/Kconfig", tree);
	int err;

	memset(ix, 0, sizeof(*ix));
	if (!top)
		return -ENOMEM;
	if (!path_exists(top))
		return -ENOENT;
	sha256_init(&w.files);
	err = walk_file(&w, "Kconfig", NULL, 0);
	if (err) {
		kindex_free(ix);
		return err;
	}
	err = sort_syms(ix);
	if (err) {
		kindex_free(ix);
		return err;
	}
	sha256_hex(&w.files, ix->sha256);
	pr_debug("Kconfig: %zu symbols, %zu selects in %zu files", ix->nsyms, ix->nsels, ix->nfiles);
	return 0;
}

void kindex_free(struct kindex *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nsyms; i++) {
		free(ix->syms[i].name);
		free(ix->syms[i].file);
		free(ix->syms[i].deps);
		free(ix->syms[i].prompt_if);
	}
	for (size_t i = 0; i < ix->nsels; i++) {
		free(ix->sels[i].target);
		free(ix->sels[i].by);
		free(ix->sels[i].cond);
		free(ix->sels[i].file);
	}
	free(ix->syms);
	free(ix->sels);
	memset(ix, 0, sizeof(*ix));
}
