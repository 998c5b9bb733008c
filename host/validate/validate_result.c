/* Cell result files and their merge (validate.h). A result file is small
 * JSON written with jansson; reading checks every field's type, since a
 * result may come back from another machine's CI job. */
#include "validate/validate.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define VRESULT_FORMAT 1

const char *vside_name(enum vside s)
{
	return s == VSIDE_BEFORE ? "before" : "after";
}

int vresult_write(const char *path, const struct vresult *r)
{
	json_t *root = json_object(), *tests = json_array();
	int err;

	if (!root || !tests) {
		json_decref(root);
		json_decref(tests);
		return -ENOMEM;
	}
	json_object_set_new(root, "kta_validate_cell", json_integer(VRESULT_FORMAT));
	json_object_set_new(root, "plan", json_string(r->plan));
	json_object_set_new(root, "cells", json_integer(r->ncells));
	json_object_set_new(root, "index", json_integer(r->index));
	json_object_set_new(root, "arch", json_string(r->arch));
	json_object_set_new(root, "side", json_string(vside_name(r->side)));
	json_object_set_new(root, "shard", json_integer(r->shard));
	json_object_set_new(root, "runs", json_integer(r->runs));
	json_object_set_new(root, "round", json_integer(r->round));
	json_object_set_new(root, "exit_code", json_integer(r->exit_code));
	json_object_set_new(root, "status", json_string(r->status));
	json_object_set_new(root, "reason", json_string(r->reason));
	if (r->retried[0])
		json_object_set_new(root, "boot_retried", json_string(r->retried));
	json_object_set_new(root, "stopped", json_string(r->stopped));
	json_object_set_new(root, "planned", json_integer(r->planned));
	json_object_set_new(root, "started", json_integer(r->started));
	json_object_set_new(root, "kernel_died", json_boolean(r->died));
	json_object_set_new(root, "wall_ms", json_integer((json_int_t)r->wall_ms));
	json_object_set_new(root, "build_ms", json_integer((json_int_t)r->build_ms));
	json_object_set_new(root, "boot_ms", json_integer((json_int_t)r->boot_ms));
	json_object_set_new(root, "kernel", json_string(r->kernel));
	json_object_set_new(root, "kernel_sha256", json_string(r->kernel_sha256));
	json_object_set_new(root, "series", json_string(r->tree_series));
	json_object_set_new(root, "qemu", json_string(r->qemu));
	json_object_set_new(root, "tree", json_string(r->tree));
	json_object_set_new(root, "tests_id", json_string(r->tests_id));
	json_object_set_new(root, "machine", json_string(r->machine));
	for (size_t i = 0; i < r->nt; i++)
		json_array_append_new(tests, json_pack("{s:s, s:I, s:I, s:I}", "name", r->t[i].name, "runs",
						       (json_int_t)r->t[i].runs, "failures",
						       (json_int_t)r->t[i].fails, "skipped", (json_int_t)r->t[i].skips));
	json_object_set_new(root, "tests", tests);
	/* Invalid UTF-8 in a name makes jansson refuse the string: the
	 * field is then missing and the reader says so. */
	err = validate_json_write(path, root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return err;
}

int validate_json_write(const char *path, json_t *root, unsigned long flags)
{
	char *text = json_dumps(root, flags);
	int err;

	if (!text)
		return -ENOMEM;
	err = write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	return err;
}

static int get_str(json_t *o, const char *key, char *out, size_t n, bool required)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= n)
		return -EINVAL;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_uint(json_t *o, const char *key, unsigned long long max, unsigned long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || (unsigned long long)json_integer_value(v) > max)
		return -EINVAL;
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

int vresult_parse(const char *text, size_t len, struct vresult *r, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root, *tests, *t;
	unsigned long long v[11] = { 0 };
	char side[16];
	size_t i;
	int e = 0;

	memset(r, 0, sizeof(*r));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errsz, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -EINVAL;
	}
#define FAIL(what)                                                 \
	do {                                                       \
		snprintf(err, errsz, "%s", what);                  \
		e = -EINVAL;                                       \
		goto out;                                          \
	} while (0)
	if (get_uint(root, "kta_validate_cell", 1000, &v[0]) || v[0] != VRESULT_FORMAT)
		FAIL("not a kta validate cell result (kta_validate_cell: 1)");
	if (get_str(root, "plan", r->plan, sizeof(r->plan), true) || strlen(r->plan) != 16)
		FAIL("plan: a 16-digit fingerprint");
	if (get_uint(root, "cells", 1u << 20, &v[1]) || !v[1] || get_uint(root, "index", v[1] - 1, &v[2]))
		FAIL("cells/index: index < cells");
	if (get_str(root, "arch", r->arch, sizeof(r->arch), true) || !r->arch[0])
		FAIL("arch");
	if (get_str(root, "side", side, sizeof(side), true) || (strcmp(side, "before") && strcmp(side, "after")))
		FAIL("side: before or after");
	if (get_uint(root, "shard", 1u << 20, &v[3]) || get_uint(root, "runs", 1u << 24, &v[4]) ||
	    get_uint(root, "round", 64, &v[5]))
		FAIL("shard/runs/round");
	if (get_uint(root, "wall_ms", ~0ULL >> 1, &v[6]) || get_uint(root, "build_ms", ~0ULL >> 1, &v[7]) ||
	    get_uint(root, "boot_ms", ~0ULL >> 1, &v[8]))
		FAIL("wall_ms/build_ms/boot_ms");
	if (!json_is_integer(json_object_get(root, "exit_code")))
		FAIL("exit_code");
	if (get_str(root, "status", r->status, sizeof(r->status), true) ||
	    (strcmp(r->status, "ran") && strcmp(r->status, "not-run") && strcmp(r->status, "interrupted") &&
	     strcmp(r->status, "infra") && strcmp(r->status, "boot-failed")))
		FAIL("status: ran, not-run, boot-failed, interrupted or infra");
	if (get_str(root, "reason", r->reason, sizeof(r->reason), false) ||
	    get_str(root, "kernel", r->kernel, sizeof(r->kernel), false) ||
	    get_str(root, "kernel_sha256", r->kernel_sha256, sizeof(r->kernel_sha256), false) ||
	    get_str(root, "series", r->tree_series, sizeof(r->tree_series), false) ||
	    get_str(root, "qemu", r->qemu, sizeof(r->qemu), false) ||
	    get_str(root, "tree", r->tree, sizeof(r->tree), false) ||
	    get_str(root, "tests_id", r->tests_id, sizeof(r->tests_id), false) ||
	    get_str(root, "machine", r->machine, sizeof(r->machine), false) ||
	    get_str(root, "boot_retried", r->retried, sizeof(r->retried), false) ||
	    get_str(root, "stopped", r->stopped, sizeof(r->stopped), false))
		FAIL("reason/kernel/series/qemu/tree/tests_id/machine/boot_retried/stopped: strings");
	/* Absent from an older kta's result: nothing known stopped it. */
	if ((json_object_get(root, "planned") && get_uint(root, "planned", 1u << 30, &v[9])) ||
	    (json_object_get(root, "started") && get_uint(root, "started", v[9], &v[10])) ||
	    (json_object_get(root, "kernel_died") && !json_is_boolean(json_object_get(root, "kernel_died"))))
		FAIL("planned/started: started <= planned; kernel_died: a boolean");
	r->ncells = (unsigned int)v[1];
	r->index = (unsigned int)v[2];
	r->side = strcmp(side, "before") ? VSIDE_AFTER : VSIDE_BEFORE;
	r->shard = (unsigned int)v[3];
	r->runs = (unsigned int)v[4];
	r->round = (unsigned int)v[5];
	r->wall_ms = v[6];
	r->build_ms = v[7];
	r->boot_ms = v[8];
	r->planned = (unsigned int)v[9];
	r->started = (unsigned int)v[10];
	r->died = json_is_true(json_object_get(root, "kernel_died"));
	r->exit_code = (int)json_integer_value(json_object_get(root, "exit_code"));
	tests = json_object_get(root, "tests");
	if (!json_is_array(tests) || json_array_size(tests) > 100000)
		FAIL("tests: an array");
	r->t = calloc(json_array_size(tests) + 1, sizeof(*r->t));
	if (!r->t) {
		e = -ENOMEM;
		goto out;
	}
	json_array_foreach(tests, i, t) {
		struct vtally *x = &r->t[r->nt];
		unsigned long long n, f, s;

		if (get_str(t, "name", x->name, sizeof(x->name), true) || !x->name[0] ||
		    get_uint(t, "runs", 1u << 30, &n) || get_uint(t, "failures", n, &f) ||
		    get_uint(t, "skipped", 1u << 30, &s))
			FAIL("tests[]: name, runs, failures <= runs, skipped");
		for (size_t j = 0; j < r->nt; j++)
			if (!strcmp(r->t[j].name, x->name))
				FAIL("tests[]: a name twice");
		x->runs = n;
		x->fails = f;
		x->skips = s;
		r->nt++;
	}
#undef FAIL
out:
	json_decref(root);
	if (e)
		vresult_free(r);
	return e;
}

int vresult_read(const char *path, struct vresult *r)
{
	cleanup_buf struct buf b = { 0 };
	char err[256];
	int e = read_file(path, &b, 64 << 20);

	if (e)
		return pr_err("cannot read `%s`: %s", path, strerror(-e)), e;
	e = vresult_parse(b.data ? b.data : "", b.len, r, err, sizeof(err));
	if (e)
		return pr_err("`%s`: %s", path, err), e;
	snprintf(r->path, sizeof(r->path), "%s", path);
	return 0;
}

void vresult_free(struct vresult *r)
{
	free(r->t);
	r->t = NULL;
	r->nt = 0;
}

static struct vrow *row_for(struct vmerged *m, const char *arch, const char *test)
{
	struct vrow *n;

	for (size_t i = 0; i < m->nrows; i++)
		if (!strcmp(m->rows[i].arch, arch) && !strcmp(m->rows[i].test, test))
			return &m->rows[i];
	n = realloc(m->rows, (m->nrows + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->rows = n;
	n = &m->rows[m->nrows++];
	memset(n, 0, sizeof(*n));
	snprintf(n->arch, sizeof(n->arch), "%s", arch);
	snprintf(n->test, sizeof(n->test), "%s", test);
	return n;
}

static void note(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct vrow *x = a, *y = b;
	int c = strcmp(x->test, y->test);

	return c ? c : strcmp(x->arch, y->arch);
}

int validate_merge(const struct vresult *r, size_t n, const struct verdict_rule *rule, struct vmerged *m)
{
	const struct vresult *first = n ? &r[0] : NULL;
	unsigned int *who;

	memset(m, 0, sizeof(*m));
	if (!first)
		return 0;
	snprintf(m->plan, sizeof(m->plan), "%s", first->plan);
	m->ncells = first->ncells;
	m->seen = calloc(m->ncells, sizeof(*m->seen));
	who = calloc(m->ncells, sizeof(*who));
	if (!m->seen || !who) {
		free(who);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vresult *x = &r[i];

		if (strcmp(x->plan, m->plan) || x->ncells != m->ncells) {
			m->mismatched++;
			note(m->problems, sizeof(m->problems), "%s: of another plan (%s, %u cells), left out\n",
			     x->path[0] ? x->path : "a result", x->plan, x->ncells);
			continue;
		}
		if (m->seen[x->index]) {
			m->duplicates++;
			note(m->problems, sizeof(m->problems), "cell %u (%s %s shard %u) twice: %s and %s; counted once\n",
			     x->index, x->arch, vside_name(x->side), x->shard, r[who[x->index]].path, x->path);
			continue;
		}
		m->seen[x->index] = true;
		who[x->index] = (unsigned int)i;
		if (x->retried[0])
			note(m->retried, sizeof(m->retried), "%s %s shard %u: %s\n", x->arch, vside_name(x->side),
			     x->shard, x->retried);
		if (strcmp(x->status, "ran")) {
			note(m->notes, sizeof(m->notes), "%s %s shard %u: %s%s%s\n", x->arch, vside_name(x->side),
			     x->shard, x->status, x->reason[0] ? ": " : "", x->reason);
			/* Mark the arch's rows (known or to come) not run
			 * on this side. */
			for (size_t j = 0; j < m->nrows; j++)
				if (!strcmp(m->rows[j].arch, x->arch))
					m->rows[j].not_run[x->side] = true;
			if (!row_for(m, x->arch, "*"))
				goto nomem;
			row_for(m, x->arch, "*")->not_run[x->side] = true;
			continue;
		}
		for (size_t j = 0; j < x->nt; j++) {
			struct vrow *row = row_for(m, x->arch, x->t[j].name);

			if (!row)
				goto nomem;
			row->runs[x->side] += x->t[j].runs;
			row->fails[x->side] += x->t[j].fails;
			row->skips[x->side] += x->t[j].skips;
		}
		/* Every cell counts towards its arch's kernel row; the row
		 * stays only where a kernel died (below). */
		{
			struct vrow *row = row_for(m, x->arch, VALIDATE_KERNEL_ROW);

			if (!row)
				goto nomem;
			/* A death with nothing started (a result file
			 * from elsewhere) is no run: failures never
			 * exceed runs. */
			row->runs[x->side] += x->started;
			row->fails[x->side] += x->died && x->started;
		}
		if (x->stopped[0])
			note(m->stopped, sizeof(m->stopped), "%s %s shard %u: %u of %u started: %s\n", x->arch,
			     vside_name(x->side), x->shard, x->started, x->planned, x->stopped);
	}
	for (unsigned int i = 0; i < m->ncells; i++) {
		if (m->seen[i])
			continue;
		m->missing++;
		note(m->problems, sizeof(m->problems), "cell %u: no result\n", i);
	}
	free(who);
	who = NULL;
	/* "*" rows carry a side that did not run to the arch's tests, and
	 * stay as the arch's line when it has no test at all. */
	for (size_t i = 0; i < m->nrows; i++) {
		if (strcmp(m->rows[i].test, "*"))
			continue;
		for (size_t j = 0; j < m->nrows; j++) {
			if (strcmp(m->rows[j].arch, m->rows[i].arch))
				continue;
			m->rows[j].not_run[0] |= m->rows[i].not_run[0];
			m->rows[j].not_run[1] |= m->rows[i].not_run[1];
		}
	}
	for (size_t i = 0; i < m->nrows; i++) {
		if (!strcmp(m->rows[i].test, VALIDATE_KERNEL_ROW) && !m->rows[i].fails[0] && !m->rows[i].fails[1])
			m->rows[i--] = m->rows[--m->nrows];
	}
	for (size_t i = 0; i < m->nrows; i++) {
		struct vrow *row = &m->rows[i];
		bool only_star = true;

		if (!strcmp(row->test, "*")) {
			for (size_t j = 0; j < m->nrows; j++)
				if (j != i && !strcmp(m->rows[j].arch, row->arch))
					only_star = false;
			if (!only_star) {
				m->rows[i] = m->rows[--m->nrows];
				i--;
				continue;
			}
		}
		verdict_judge(rule, row->fails[0], row->runs[0], row->fails[1], row->runs[1], &row->v);
		if (row->v.kind == VERDICT_NOT_RUN && !row->not_run[0] && !row->not_run[1] &&
		    (row->skips[0] || row->skips[1]))
			row->v.kind = VERDICT_SKIPPED;
	}
	if (m->nrows)
		qsort(m->rows, m->nrows, sizeof(*m->rows), cmp_rows);
	return 0;
nomem:
	free(who);
	vmerged_free(m);
	return -ENOMEM;
}

void vmerged_free(struct vmerged *m)
{
	free(m->rows);
	free(m->seen);
	m->rows = NULL;
	m->seen = NULL;
	m->nrows = 0;
}
