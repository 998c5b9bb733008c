/* Fragments, .config values, Kconfig expressions and the survival check.
 * Pure functions over texts (the Kconfig index comes from kconf_index.c),
 * so the unit tests exercise them without a kernel tree.
 */
#include "kbuild/kconf.h"
#include "base/log.h"

#include <ctype.h>
#include <string.h>

static bool sym_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int kopts_add(struct kopts *o, const struct kopt *k)
{
	struct kopt *v;

	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].sym, k->sym)) {
			o->v[i] = *k;
			return 0;
		}
	v = realloc(o->v, (o->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->v = v;
	o->v[o->n++] = *k;
	return 0;
}

void kopts_free(struct kopts *o)
{
	if (!o)
		return;
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

/* "CONFIG_" then a symbol name: its length, 0 if p is not that. */
static size_t sym_len(const char *p)
{
	size_t n = 0;

	if (strncmp(p, "CONFIG_", 7))
		return 0;
	while (sym_char(p[7 + n]))
		n++;
	return n;
}

int kfrag_parse(const char *text, const char *frag, struct kopts *out, char *err, size_t errsize)
{
	unsigned int lineno = 0;

	for (const char *p = text ? text : ""; *p;) {
		const char *eol = strchrnul(p, '\n'), *q = p, *end = eol;
		struct kopt k = { .line = ++lineno };
		size_t n;

		snprintf(k.frag, sizeof(k.frag), "%s", frag);
		while (q < end && isspace((unsigned char)*q))
			q++;
		while (end > q && isspace((unsigned char)end[-1]))
			end--;
		if (q == end)
			goto next;
		if (*q == '#') {
			const char *s = q + 1;

			while (s < end && *s == ' ')
				s++;
			/* "# CONFIG_X is not set"; any other comment is a comment. */
			n = sym_len(s);
			if (!n || (size_t)(end - (s + 7 + n)) != strlen(" is not set") ||
			    strncmp(s + 7 + n, " is not set", 11))
				goto next;
			if (n >= sizeof(k.sym))
				goto bad;
			memcpy(k.sym, s + 7, n);
			k.unset = true;
		} else {
			n = sym_len(q);
			if (!n || q[7 + n] != '=' || n >= sizeof(k.sym) ||
			    (size_t)(end - (q + 8 + n)) >= sizeof(k.value) || q + 8 + n >= end)
				goto bad;
			memcpy(k.sym, q + 7, n);
			memcpy(k.value, q + 8 + n, (size_t)(end - (q + 8 + n)));
			if (!strcmp(k.value, "n")) {
				/* CONFIG_X=n means "not set", as in Kconfig. */
				k.value[0] = '\0';
				k.unset = true;
			}
		}
		if (kopts_add(out, &k))
			return -ENOMEM;
next:
		p = *eol ? eol + 1 : eol;
		continue;
bad:
		snprintf(err, errsize, "%s:%u: not a Kconfig line (expected CONFIG_NAME=value or "
			 "# CONFIG_NAME is not set): %.*s", frag, lineno, (int)(eol - p), p);
		return -EINVAL;
	}
	return 0;
}

int kconfig_value(const char *config, const char *sym, char *out, size_t size)
{
	size_t n = strlen(sym);

	for (const char *p = config ? config : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (!strncmp(p, "CONFIG_", 7) && !strncmp(p + 7, sym, n) && p[7 + n] == '=') {
			snprintf(out, size, "%.*s", (int)(eol - (p + 8 + n)), p + 8 + n);
			return 1;
		}
		if (!strncmp(p, "# CONFIG_", 9) && !strncmp(p + 9, sym, n) &&
		    !strncmp(p + 9 + n, " is not set", 11)) {
			if (size)
				out[0] = '\0';
			return 0;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (size)
		out[0] = '\0';
	return -ENOENT;
}

size_t kconfig_count(const char *config)
{
	size_t n = 0;

	for (const char *p = config ? config : ""; *p;) {
		const char *eol = strchrnul(p, '\n');

		n += !strncmp(p, "CONFIG_", 7);
		p = *eol ? eol + 1 : eol;
	}
	return n;
}

/* Kconfig expressions: a recursive-descent evaluator over tristate values
 * (0 n, 1 m, 2 y). */
/* Nesting of ( and ! the evaluator follows: real Kconfig goes a few levels
 * deep; a tree with more (or a fuzzer's) gets n instead of a stack
 * overflow (fuzz_kconf found one). */
#define EV_MAX_DEPTH 64

struct ev {
	const char *p;
	const char *config;
	unsigned int depth;
	bool too_deep;
};

/* Enter one level; false (and the rest of the expression given up) past
 * EV_MAX_DEPTH. */
static bool ev_enter(struct ev *e)
{
	if (e->too_deep || ++e->depth > EV_MAX_DEPTH) {
		e->too_deep = true;
		e->p += strlen(e->p);
		return false;
	}
	return true;
}

static void ev_ws(struct ev *e)
{
	while (isspace((unsigned char)*e->p))
		e->p++;
}

static int ev_or(struct ev *e);

/* An atom's string value (a symbol's .config value, a literal) and its
 * tristate value. */
static void ev_atom(struct ev *e, char *s, size_t size, int *tri)
{
	const char *start;
	char name[128];
	size_t n;

	ev_ws(e);
	*tri = 0;
	s[0] = '\0';
	if (*e->p == '"' || *e->p == '\'') {
		char q = *e->p++;

		start = e->p;
		while (*e->p && *e->p != q)
			e->p++;
		snprintf(s, size, "%.*s", (int)(e->p - start), start);
		if (*e->p)
			e->p++;
	} else if (e->p[0] == '$' && e->p[1] == '(') {
		int depth = 0;

		/* A macro ($(cc-option,...)): evaluated by Kconfig, not here. */
		for (; *e->p; e->p++) {
			depth += *e->p == '(' ? 1 : *e->p == ')' ? -1 : 0;
			if (*e->p == ')' && !depth) {
				e->p++;
				break;
			}
		}
		return;
	} else {
		start = e->p;
		while (sym_char(*e->p) || *e->p == '-')
			e->p++;
		n = (size_t)(e->p - start);
		if (!n) {
			if (*e->p)
				e->p++; /* skip what we cannot parse */
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, start);
		if (!strcmp(name, "y") || !strcmp(name, "m") || !strcmp(name, "n")) {
			snprintf(s, size, "%s", name);
		} else if (kconfig_value(e->config, name, s, size) != 1) {
			/* Unset: "n" for bool/tristate, which is what comparisons
			 * against y/m/n need. Digits alone are a number. */
			bool num = true;

			for (size_t i = 0; i < n; i++)
				num = num && (isdigit((unsigned char)name[i]) || name[i] == '-');
			snprintf(s, size, "%s", num ? name : "n");
		} else if (s[0] == '"') {
			size_t l = strlen(s);

			memmove(s, s + 1, l);
			if (l >= 2 && s[l - 2] == '"')
				s[l - 2] = '\0';
		}
	}
	*tri = !strcmp(s, "y") ? 2 : !strcmp(s, "m") ? 1 : 0;
}

static bool is_number(const char *s, long long *v)
{
	char *end;

	if (!*s)
		return false;
	*v = strtoll(s, &end, 0);
	return !*end;
}

static int ev_primary(struct ev *e)
{
	char a[256], b[256];
	int ta, tb;
	long long na, nb;
	int cmp;

	ev_ws(e);
	if (*e->p == '(') {
		int v;

		e->p++;
		if (!ev_enter(e))
			return 0;
		v = ev_or(e);
		e->depth--;
		ev_ws(e);
		if (*e->p == ')')
			e->p++;
		return v;
	}
	ev_atom(e, a, sizeof(a), &ta);
	ev_ws(e);
	if (!strncmp(e->p, "!=", 2) || !strncmp(e->p, "<=", 2) || !strncmp(e->p, ">=", 2) ||
	    *e->p == '=' || *e->p == '<' || *e->p == '>') {
		char op[3] = { e->p[0], e->p[1] == '=' && e->p[0] != '=' ? '=' : '\0', '\0' };

		e->p += strlen(op);
		ev_atom(e, b, sizeof(b), &tb);
		cmp = is_number(a, &na) && is_number(b, &nb) ? (na > nb) - (na < nb) : strcmp(a, b);
		if (!strcmp(op, "="))
			return cmp == 0 ? 2 : 0;
		if (!strcmp(op, "!="))
			return cmp != 0 ? 2 : 0;
		if (!strcmp(op, "<"))
			return cmp < 0 ? 2 : 0;
		if (!strcmp(op, "<="))
			return cmp <= 0 ? 2 : 0;
		if (!strcmp(op, ">"))
			return cmp > 0 ? 2 : 0;
		return cmp >= 0 ? 2 : 0;
	}
	return ta;
}

static int ev_not(struct ev *e)
{
	ev_ws(e);
	if (*e->p == '!' && e->p[1] != '=') {
		int v;

		e->p++;
		if (!ev_enter(e))
			return 0;
		v = 2 - ev_not(e);
		e->depth--;
		return v;
	}
	return ev_primary(e);
}

static int ev_and(struct ev *e)
{
	int v = ev_not(e);

	for (;;) {
		ev_ws(e);
		if (strncmp(e->p, "&&", 2))
			return v;
		e->p += 2;
		int r = ev_not(e);

		v = r < v ? r : v;
	}
}

static int ev_or(struct ev *e)
{
	int v = ev_and(e);

	for (;;) {
		ev_ws(e);
		if (strncmp(e->p, "||", 2))
			return v;
		e->p += 2;
		int r = ev_and(e);

		v = r > v ? r : v;
	}
}

int kexpr_eval(const char *expr, const char *config)
{
	struct ev e = { .p = expr ? expr : "", .config = config };

	int v;

	if (!expr || !*expr)
		return 2;
	v = ev_or(&e);
	return e.too_deep ? 0 : v;
}

const struct ksym *kindex_find(const struct kindex *ix, const char *name)
{
	size_t lo = 0, hi = ix ? ix->nsyms : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ix->syms[mid].name, name);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ix && lo < ix->nsyms && !strcmp(ix->syms[lo].name, name) ? &ix->syms[lo] : NULL;
}

size_t kcheck_unknown(const struct kopts *want, const struct kindex *ix, struct buf *report,
		      struct buf *advisory)
{
	size_t bad = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct kopt *k = &want->v[i];
		struct buf *r = k->advisory ? advisory : report;

		if (kindex_find(ix, k->sym) || !r)
			continue;
		bad += !k->advisory;
		buf_printf(r, "  CONFIG_%s (%s:%u): no such option in this tree's Kconfig\n", k->sym,
			   k->frag, k->line);
	}
	return bad;
}

/* Split the top-level "&&" conjuncts of expr (outer parentheses removed)
 * and append those evaluating below need to out, each with the values of
 * the symbols in it. */
static void strip_parens(const char **s, const char **e)
{
	for (;;) {
		int depth = 0;
		bool wraps = true;

		while (*s < *e && isspace((unsigned char)**s))
			(*s)++;
		while (*e > *s && isspace((unsigned char)(*e)[-1]))
			(*e)--;
		if (*e - *s < 2 || **s != '(' || (*e)[-1] != ')')
			return;
		for (const char *p = *s; p < *e - 1; p++) {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			if (!depth) {
				wraps = false;
				break;
			}
		}
		if (!wraps)
			return;
		(*s)++;
		(*e)--;
	}
}

static void sym_values(const char *s, const char *e, const char *config, struct buf *out)
{
	bool first = true;

	for (const char *p = s; p < e;) {
		const char *t = p;
		char name[128], val[256];

		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++)
				;
			p++;
			continue;
		}
		while (p < e && sym_char(*p))
			p++;
		if (p == t) {
			p++;
			continue;
		}
		if ((size_t)(p - t) >= sizeof(name) || isdigit((unsigned char)*t))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(p - t), t);
		if (!strcmp(name, "y") || !strcmp(name, "m") || !strcmp(name, "n"))
			continue;
		if (kconfig_value(config, name, val, sizeof(val)) == 1)
			buf_printf(out, "%s%s=%s", first ? "" : ", ", name, val);
		else
			buf_printf(out, "%s%s is not set", first ? "" : ", ", name);
		first = false;
	}
}

static void unmet_conjuncts(const char *s, const char *e, const char *config, int need, struct buf *out)
{
	int depth = 0;
	const char *part = s;

	strip_parens(&s, &e);
	part = s;
	for (const char *p = s; p <= e; p++) {
		if (p < e && (*p == '(' || *p == ')')) {
			depth += *p == '(' ? 1 : -1;
			continue;
		}
		if (p < e && !(depth == 0 && p + 1 < e && p[0] == '&' && p[1] == '&'))
			continue;
		{
			const char *ps = part, *pe = p;
			cleanup_free char *expr = NULL;
			bool nested = false;
			int d = 0;

			strip_parens(&ps, &pe);
			for (const char *q = ps; q + 1 < pe; q++) {
				d += *q == '(' ? 1 : *q == ')' ? -1 : 0;
				nested = nested || (!d && q[0] == '&' && q[1] == '&');
			}
			expr = strndup(ps, (size_t)(pe - ps));
			if (expr && nested) {
				unmet_conjuncts(ps, pe, config, need, out);
			} else if (expr && kexpr_eval(expr, config) < need) {
				buf_printf(out, "      unmet: %s  (", expr);
				sym_values(ps, pe, config, out);
				buf_printf(out, ")\n");
			}
		}
		part = p + 2;
		p++;
	}
}

static void explain(const struct kopt *k, const char *config, const struct kindex *ix, struct buf *r)
{
	const struct ksym *d = kindex_find(ix, k->sym);
	int need = k->unset ? 0 : !strcmp(k->value, "m") ? 1 : 2;
	bool selected = false;

	if (!ix)
		return;
	if (!d) {
		buf_printf(r, "    not defined by the Kconfig files of this architecture\n");
		return;
	}
	if (k->unset) {
		for (size_t i = 0; i < ix->nsels; i++) {
			const struct kselect *s = &ix->sels[i];
			char v[64];

			if (strcmp(s->target, k->sym) || kconfig_value(config, s->by, v, sizeof(v)) != 1 ||
			    (s->cond && !kexpr_eval(s->cond, config)))
				continue;
			buf_printf(r, "    selected by %s=%s (%s:%u)%s%s\n", s->by, v, s->file, s->line,
				   s->cond ? " if " : "", s->cond ? s->cond : "");
			selected = true;
		}
		if (!selected)
			buf_printf(r, "    %s:%u: its default or a choice set it\n", d->file, d->line);
		return;
	}
	if (d->deps && kexpr_eval(d->deps, config) < need) {
		buf_printf(r, "    %s:%u: depends on %s\n", d->file, d->line, d->deps);
		unmet_conjuncts(d->deps, d->deps + strlen(d->deps), config, need, r);
		return;
	}
	if (d->prompt && d->prompt_if && kexpr_eval(d->prompt_if, config) < need) {
		buf_printf(r, "    %s:%u: can only be set by hand if %s, and nothing selects it\n", d->file,
			   d->line, d->prompt_if);
		unmet_conjuncts(d->prompt_if, d->prompt_if + strlen(d->prompt_if), config, need, r);
		return;
	}
	if (!d->prompt) {
		size_t shown = 0;

		buf_printf(r, "    %s:%u: has no prompt: only `select` or its default sets it\n", d->file, d->line);
		for (size_t i = 0; i < ix->nsels && shown < 8; i++) {
			const struct kselect *s = &ix->sels[i];
			char v[64];

			if (strcmp(s->target, k->sym))
				continue;
			if (kconfig_value(config, s->by, v, sizeof(v)) != 1)
				snprintf(v, sizeof(v), "n");
			buf_printf(r, "      selected by %s (now %s) at %s:%u%s%s\n", s->by, v, s->file, s->line,
				   s->cond ? " if " : "", s->cond ? s->cond : "");
			shown++;
		}
		return;
	}
	buf_printf(r, "    %s:%u: dependencies met; a choice, a range or another option's "
		      "`select` decided the value\n", d->file, d->line);
}

size_t kcheck_survival(const struct kopts *want, const char *config, const struct kindex *ix,
		       struct buf *strict_report, struct buf *advisory)
{
	size_t bad = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct kopt *k = &want->v[i];
		struct buf *report = k->advisory ? advisory : NULL;
		char have[256];
		int st = kconfig_value(config, k->sym, have, sizeof(have));

		if (k->unset ? st != 1 || !strcmp(have, "n") : st == 1 && !strcmp(have, k->value))
			continue;
		/* An option the tree does not have is kcheck_unknown()'s. */
		if (ix && !kindex_find(ix, k->sym))
			continue;
		if (!k->advisory)
			report = strict_report;
		if (!report)
			continue;
		bad += !k->advisory;
		if (k->unset)
			buf_printf(report, "  # CONFIG_%s is not set (%s:%u): the config has CONFIG_%s=%s\n", k->sym,
				   k->frag, k->line, k->sym, have);
		else if (st == 1)
			buf_printf(report, "  CONFIG_%s=%s (%s:%u): the config has CONFIG_%s=%s\n", k->sym,
				   k->value, k->frag, k->line, k->sym, have);
		else
			buf_printf(report, "  CONFIG_%s=%s (%s:%u): the config has %s\n", k->sym, k->value, k->frag,
				   k->line, st == 0 ? "it unset" : "no line for it (a dependency hides it)");
		explain(k, config, ix, report);
	}
	return bad;
}
