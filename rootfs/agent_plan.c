/* Reading the test plan (host/run/plan.h, which documents the format and
 * which the host's writer shares) and building each test's environment
 * from it. A bad line is reported as a diag and skipped rather than
 * stopping the run: the host knows which tests it asked for, checks each
 * result's name, and reports one that never ran.
 *
 * Every test also gets ASAN_OPTIONS, LSAN_OPTIONS and UBSAN_OPTIONS with a
 * log_path in its own directory (agent_san.c), appended to any value the
 * plan gives, so sanitizer reports reach the host tagged with their test.
 */
#include "agent_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int add_env(char ***envp, size_t *nenv, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char **env;

	if (!eq || eq == kv)
		return -EINVAL;
	env = realloc(*envp, (*nenv + 1) * sizeof(*env));
	if (!env)
		return -ENOMEM;
	*envp = env;
	env[*nenv] = strdup(kv);
	if (!env[*nenv])
		return -ENOMEM;
	(*nenv)++;
	return 0;
}

/* words: timeout, name, path, args... */
static int add_test(struct plan *pl, char **words, size_t n)
{
	struct plan_test *tests, *t;
	unsigned long timeout;
	char *end;

	if (n < 3)
		return -EINVAL;
	errno = 0;
	timeout = strtoul(words[0], &end, 10);
	if (errno || *end || end == words[0] || words[0][0] == '-' || timeout > PLAN_MAX_TIMEOUT_S)
		return -EINVAL;
	tests = realloc(pl->tests, (pl->ntests + 1) * sizeof(*tests));
	if (!tests)
		return -ENOMEM;
	pl->tests = tests;
	t = &pl->tests[pl->ntests];
	memset(t, 0, sizeof(*t));
	t->num = (unsigned int)pl->ntests + 1;
	t->timeout_s = (unsigned int)timeout;
	t->name = strdup(words[1]);
	t->path = strdup(words[2]);
	t->argv = calloc(n - 1, sizeof(*t->argv)); /* path, args, NULL */
	if (!t->name || !t->path || !t->argv)
		goto nomem;
	for (size_t i = 2; i < n; i++) {
		t->argv[i - 2] = strdup(words[i]);
		if (!t->argv[i - 2])
			goto nomem;
	}
	t->env = pl->pending_env;
	t->nenv = pl->npending;
	pl->pending_env = NULL;
	pl->npending = 0;
	t->root = pl->pending_opt.root;
	t->cwd = pl->pending_opt.cwd;
	t->tprogs = pl->pending_opt.tprogs;
	t->subtimeout_s = pl->pending_opt.subtimeout_s;
	memset(&pl->pending_opt, 0, sizeof(pl->pending_opt));
	pl->ntests++;
	return 0;
nomem:
	if (t->argv)
		for (size_t i = 0; t->argv[i]; i++)
			free(t->argv[i]);
	free(t->argv);
	free(t->name);
	free(t->path);
	return -ENOMEM;
}

/* "root=DIR", "cwd=DIR", "parse=test_progs", "subtimeout=S". */
static int add_opt(struct plan *pl, const char *kv)
{
	struct plan_test *o = &pl->pending_opt;
	char **slot = NULL;
	char *end;

	if (!strncmp(kv, PLAN_TOPT_ROOT, strlen(PLAN_TOPT_ROOT)) && kv[strlen(PLAN_TOPT_ROOT)] == '/')
		slot = &o->root;
	else if (!strncmp(kv, PLAN_TOPT_CWD, strlen(PLAN_TOPT_CWD)) && kv[strlen(PLAN_TOPT_CWD)] == '/')
		slot = &o->cwd;
	if (slot) {
		free(*slot);
		*slot = strdup(strchr(kv, '=') + 1);
		return *slot ? 0 : -ENOMEM;
	}
	if (!strcmp(kv, PLAN_TOPT_PARSE_TPROGS)) {
		o->tprogs = true;
		return 0;
	}
	if (!strncmp(kv, PLAN_TOPT_SUBTIMEOUT, strlen(PLAN_TOPT_SUBTIMEOUT))) {
		const char *num = kv + strlen(PLAN_TOPT_SUBTIMEOUT);
		unsigned long v;

		errno = 0;
		v = strtoul(num, &end, 10);
		if (errno || *end || end == num || v > PLAN_MAX_TIMEOUT_S)
			return -EINVAL;
		o->subtimeout_s = (unsigned int)v;
		return 0;
	}
	return -EINVAL;
}

static int add_root(struct plan *pl, const char *dev, const char *dir, const char *fstype,
		    const char *out)
{
	struct plan_root *r;

	if (dir[0] != '/' || (dev && (strchr(dev, '/') || strncmp(dev, "vd", 2))) ||
	    (out && (out[0] != '/' || strstr(out, ".."))) || (fstype && strchr(fstype, '/')))
		return -EINVAL;
	r = realloc(pl->roots, (pl->nroots + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	pl->roots = r;
	r = &pl->roots[pl->nroots];
	r->dev = dev ? strdup(dev) : NULL;
	r->dir = strdup(dir);
	r->fstype = fstype ? strdup(fstype) : NULL;
	r->out = out ? strdup(out) : NULL;
	if (!r->dir || (dev && !r->dev) || (fstype && !r->fstype) || (out && !r->out)) {
		free(r->dev);
		free(r->dir);
		free(r->fstype);
		free(r->out);
		return -ENOMEM;
	}
	pl->writable_root |= fstype != NULL;
	pl->nroots++;
	return 0;
}

static bool keyword(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	return !strncmp(line, kw, n) && is_space(line[n]);
}

static int parse_line(struct plan *pl, char *line, plan_warn_fn warn, void *ctx)
{
	char *words[PLAN_MAX_ARGS + 4], *save = NULL, *rest;
	size_t n = 0;

	if (!strncmp(line, "# kta plan ", 11) && strcmp(line, PLAN_MAGIC) && warn)
		warn(ctx, 0, "plan format is not v1: reading it as v1", line);
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (keyword(line, PLAN_ENV)) {
		for (rest = line + strlen(PLAN_ENV); is_space(*rest); rest++)
			;
		return add_env(&pl->env, &pl->nenv, rest);
	}
	if (keyword(line, PLAN_TENV)) {
		for (rest = line + strlen(PLAN_TENV); is_space(*rest); rest++)
			;
		return add_env(&pl->pending_env, &pl->npending, rest);
	}
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(words) / sizeof(words[0]))
			return -E2BIG;
		words[n++] = w;
	}
	if (n && !strcmp(words[0], PLAN_TEST))
		return add_test(pl, words + 1, n - 1);
	if (n == 2 && !strcmp(words[0], PLAN_TOPT))
		return add_opt(pl, words[1]);
	if (n == 3 && !strcmp(words[0], PLAN_DISK))
		return add_root(pl, words[1], words[2], NULL, NULL);
	if (n == 2 && !strcmp(words[0], PLAN_ROOT))
		return add_root(pl, NULL, words[1], NULL, NULL);
	if (n == 5 && !strcmp(words[0], PLAN_IMAGE))
		return add_root(pl, words[1], words[3], words[2], words[4]);
	if (n >= 2 && !strcmp(words[0], PLAN_STRESS)) {
		for (size_t i = 1; i < n; i++) {
			char *end;
			long v;

			if (!strncmp(words[i], "hogs=", 5) && (v = strtol(words[i] + 5, &end, 10)) >= 0 && !*end &&
			    v <= PLAN_STRESS_MAX_HOGS)
				pl->stress.hogs = (unsigned int)v;
			else if (!strncmp(words[i], "nice=", 5) && (v = strtol(words[i] + 5, &end, 10)) >= -20 && !*end &&
				 v <= 19)
				pl->stress.nice = (int)v;
			else if (!strncmp(words[i], "mem=", 4) && (v = strtol(words[i] + 4, &end, 10)) >= 0 && !*end &&
				 v <= PLAN_STRESS_MAX_MEM_MB)
				pl->stress.mem_mb = (unsigned int)v;
			else
				return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

int plan_parse(struct plan *pl, char *buf, size_t len, plan_warn_fn warn, void *ctx)
{
	char *line, *next;
	unsigned int lineno = 0;
	int err = 0;

	if (memchr(buf, '\0', len)) {
		if (warn)
			warn(ctx, 0, "the test plan holds a NUL byte; running no tests", "");
		return -EINVAL;
	}
	for (line = buf; line && line < buf + len; line = next) {
		char copy[200], *end;

		next = memchr(line, '\n', (size_t)(buf + len - line));
		if (next)
			*next++ = '\0';
		else
			buf[len] = '\0';
		lineno++;
		while (is_space(*line))
			line++;
		end = line + strlen(line);
		while (end > line && is_space(end[-1]))
			*--end = '\0';
		snprintf(copy, sizeof(copy), "%s", line); /* parse_line splits line */
		err = parse_line(pl, line, warn, ctx);
		if (err == -ENOMEM)
			break;
		if (err && warn)
			warn(ctx, lineno, err == -E2BIG ? "too many arguments, line ignored" : "not a valid plan line, ignored",
			     copy);
	}
	return err == -ENOMEM ? err : 0;
}

/* Set KEY=VALUE in env[0..*n), replacing an earlier KEY. */
static void env_set(char **env, size_t *n, char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1, j;

	for (j = 0; j < *n; j++)
		if (!strncmp(env[j], kv, klen))
			break;
	env[j] = kv;
	if (j == *n)
		(*n)++;
}

static const char *env_get(char **env, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t j = 0; j < n; j++)
		if (!strncmp(env[j], key, klen) && env[j][klen] == '=')
			return env[j] + klen + 1;
	return NULL;
}

char **plan_env(const struct plan *pl, const struct plan_test *t, char ***owned)
{
	static const char *const san[][2] = {
		{ "ASAN_OPTIONS", "asan" }, { "LSAN_OPTIONS", "lsan" }, { "UBSAN_OPTIONS", "ubsan" },
	};
	size_t cap = pl->nenv + t->nenv + 8, n = 0, nowned = 0;
	char **env = calloc(cap, sizeof(*env));

	*owned = calloc(5, sizeof(**owned));
	if (!env || !*owned)
		goto nomem;
	(*owned)[nowned] = malloc(strlen(t->name) + sizeof("KTA_TEST="));
	if (!(*owned)[nowned])
		goto nomem;
	strcpy(stpcpy((*owned)[nowned], "KTA_TEST="), t->name);
	env[n++] = (char *)AGENT_PATH_ENV;
	env[n++] = (char *)"HOME=/tmp";
	env[n++] = (*owned)[nowned++];
	for (size_t i = 0; i < pl->nenv; i++)
		env_set(env, &n, pl->env[i]);
	for (size_t i = 0; i < t->nenv; i++)
		env_set(env, &n, t->env[i]);
	for (size_t i = 0; i < sizeof(san) / sizeof(san[0]); i++) {
		const char *old = env_get(env, n, san[i][0]);
		char *kv;

		if (asprintf(&kv, "%s=%s%slog_path=%s/%u/%s", san[i][0], old ? old : "",
			     old && *old ? ":" : "", AGENT_SAN_DIR, t->num, san[i][1]) < 0)
			goto nomem;
		(*owned)[nowned++] = kv;
		env_set(env, &n, kv);
	}
	return env;
nomem:
	if (*owned)
		for (size_t i = 0; i < nowned; i++)
			free((*owned)[i]);
	free(*owned);
	*owned = NULL;
	free(env);
	return NULL;
}

void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->ntests; i++) {
		struct plan_test *t = &pl->tests[i];

		for (size_t j = 0; t->argv && t->argv[j]; j++)
			free(t->argv[j]);
		for (size_t j = 0; j < t->nenv; j++)
			free(t->env[j]);
		free(t->argv);
		free(t->env);
		free(t->name);
		free(t->path);
		free(t->root);
		free(t->cwd);
	}
	for (size_t i = 0; i < pl->nenv; i++)
		free(pl->env[i]);
	for (size_t i = 0; i < pl->npending; i++)
		free(pl->pending_env[i]);
	for (size_t i = 0; i < pl->nroots; i++) {
		free(pl->roots[i].dev);
		free(pl->roots[i].dir);
		free(pl->roots[i].fstype);
		free(pl->roots[i].out);
	}
	free(pl->pending_opt.root);
	free(pl->pending_opt.cwd);
	free(pl->tests);
	free(pl->env);
	free(pl->pending_env);
	free(pl->roots);
}
