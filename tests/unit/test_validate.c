/* kta validate's pure parts: cell plans, result files, the merge. */
#include <stdlib.h>
#include <string.h>

#include "base/arch.h"
#include "unit.h"
#include "validate/validate.h"

static struct vresult result(unsigned int index, const char *arch, enum vside side, const char *status)
{
	struct vresult r;

	memset(&r, 0, sizeof(r));
	snprintf(r.plan, sizeof(r.plan), "0123456789abcdef");
	r.ncells = 4;
	r.index = index;
	snprintf(r.arch, sizeof(r.arch), "%s", arch);
	r.side = side;
	snprintf(r.status, sizeof(r.status), "%s", status);
	return r;
}

static void add(struct vresult *r, const char *name, unsigned long runs, unsigned long fails, unsigned long skips)
{
	r->t = realloc(r->t, (r->nt + 1) * sizeof(*r->t));
	memset(&r->t[r->nt], 0, sizeof(r->t[0]));
	snprintf(r->t[r->nt].name, sizeof(r->t[0].name), "%s", name);
	r->t[r->nt].runs = runs;
	r->t[r->nt].fails = fails;
	r->t[r->nt].skips = skips;
	r->nt++;
}

static const struct vrow *row(const struct vmerged *m, const char *arch, const char *test)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (!strcmp(m->rows[i].arch, arch) && !strcmp(m->rows[i].test, test))
			return &m->rows[i];
	return NULL;
}

static void test_cells(void)
{
	struct vopts o = { .runs = 10, .shards = 3, .narches = 2 };
	struct vcell *c;
	unsigned int n, total[2] = { 0 };

	o.arches[0] = arch_lookup("x86_64");
	o.arches[1] = arch_lookup("arm64");
	CHECK(validate_cells(&o, &c, &n) == 0 && n == 12, "2 arches x 2 sides x 3 shards: 12 cells");
	for (unsigned int i = 0; i < n; i++) {
		CHECK(c[i].index == i, "cells are numbered in order");
		if (c[i].arch == o.arches[0])
			total[c[i].side] += c[i].runs;
	}
	CHECK(total[0] == 10 && total[1] == 10, "the shards of a side add up to --runs");
	CHECK(c[0].runs == 4 && c[2].runs == 3 && c[4].runs == 3, "10 runs in 3 shards: 4, 3, 3");
	CHECK(c[0].side == VSIDE_BEFORE && c[1].side == VSIDE_AFTER && c[0].shard == c[1].shard,
	      "both sides of a shard are neighbours");
	free(c);
}

static void test_merge(void)
{
	struct verdict_rule rule = { .alpha = 0.05, .margin = 0.05, .looks = 1 };
	struct vresult r[5];
	struct vmerged m;
	const struct vrow *x;

	r[0] = result(0, "x86_64", VSIDE_BEFORE, "ran");
	add(&r[0], "a", 10, 10, 0);
	add(&r[0], "s", 0, 0, 10);
	r[1] = result(1, "x86_64", VSIDE_AFTER, "ran");
	add(&r[1], "a", 10, 0, 0);
	add(&r[1], "s", 0, 0, 10);
	r[2] = result(2, "arm64", VSIDE_BEFORE, "ran");
	add(&r[2], "a", 4, 4, 0);
	r[3] = result(3, "arm64", VSIDE_AFTER, "not-run");
	snprintf(r[3].reason, sizeof(r[3].reason), "the series does not apply");
	snprintf(r[1].retried, sizeof(r[1].retried), "Kernel panic - not syncing: Fatal exception in interrupt");
	r[4] = r[1];
	snprintf(r[4].path, sizeof(r[4].path), "again.json");

	CHECK(validate_merge(r, 5, &rule, &m) == 0, "merge");
	x = row(&m, "x86_64", "a");
	CHECK(x && x->runs[0] == 10 && x->fails[1] == 0 && x->runs[1] == 10, "a cell given twice counts once");
	CHECK(x && x->v.kind == VERDICT_FIXED, "10/10 then 0/10: fixed");
	CHECK(m.duplicates == 1 && strstr(m.problems, "cell 1 (x86_64 after shard 0) twice"), "the duplicate is named");
	x = row(&m, "x86_64", "s");
	CHECK(x && x->v.kind == VERDICT_SKIPPED, "skipped on both sides: skipped, not a pass");
	x = row(&m, "arm64", "a");
	CHECK(x && x->not_run[1] && !x->not_run[0] && x->v.kind == VERDICT_NOT_RUN,
	      "a side that did not run: not run, the other side's counts kept");
	CHECK(strstr(m.notes, "arm64 after shard 0: not-run: the series does not apply") != NULL,
	      "and why it did not run");
	CHECK(m.missing == 0, "every cell is there");
	CHECK(strstr(m.retried, "x86_64 after shard 0: Kernel panic") && !strstr(m.retried, "before"),
	      "a cell booted twice is listed, once");
	CHECK(!row(&m, "x86_64", VALIDATE_KERNEL_ROW) && !m.stopped[0], "no kernel died: no kernel row, nothing stopped");
	vmerged_free(&m);

	/* The after side's kernel panics in its 3rd of 10 runs: 3 started,
	 * 7 never did; the row counts runs started on each side. */
	r[0].planned = r[0].started = 10;
	r[1].planned = 10;
	r[1].started = 3;
	r[1].died = true;
	snprintf(r[1].stopped, sizeof(r[1].stopped), "kernel-panic: kernel panic during test t#3");
	CHECK(validate_merge(r, 2, &rule, &m) == 0, "merge with a kernel death");
	x = row(&m, "x86_64", VALIDATE_KERNEL_ROW);
	CHECK(x && x->runs[0] == 10 && x->fails[0] == 0 && x->runs[1] == 3 && x->fails[1] == 1,
	      "a kernel death: a row of runs started and runs the kernel died in, per side");
	CHECK(x && x->v.kind == VERDICT_INCONCLUSIVE, "0/10 against 1/3: inconclusive");
	CHECK(strstr(m.stopped, "x86_64 after shard 0: 3 of 10 started: kernel-panic: kernel panic during test t#3") &&
		      !strstr(m.stopped, "before"),
	      "the cell that stopped early is named, with how far it got and why");
	vmerged_free(&m);
	r[1].started = 0;
	CHECK(validate_merge(r, 2, &rule, &m) == 0 && !row(&m, "x86_64", VALIDATE_KERNEL_ROW),
	      "a death with no run started (a foreign result): no failure without a run");
	vmerged_free(&m);
	r[1].died = false;
	r[1].stopped[0] = '\0';
	r[1].planned = r[1].started = 0;

	snprintf(r[3].status, sizeof(r[3].status), "boot-failed");
	CHECK(validate_merge(r, 4, &rule, &m) == 0 && row(&m, "arm64", "a") && row(&m, "arm64", "a")->not_run[1] &&
		      strstr(m.notes, "arm64 after shard 0: boot-failed"),
	      "a side whose kernel did not boot twice: not run, and why");
	vmerged_free(&m);

	CHECK(validate_merge(r, 2, &rule, &m) == 0 && m.missing == 2 && strstr(m.problems, "cell 2: no result") &&
		      strstr(m.problems, "cell 3: no result"),
	      "missing cells are named");
	vmerged_free(&m);

	snprintf(r[2].plan, sizeof(r[2].plan), "fedcba9876543210");
	CHECK(validate_merge(r, 3, &rule, &m) == 0 && m.mismatched == 1 && !row(&m, "arm64", "a"),
	      "a result of another plan is left out");
	vmerged_free(&m);
	for (int i = 0; i < 4; i++)
		vresult_free(&r[i]);
}

static void test_parse(void)
{
	struct vresult r;
	char err[128];
	const char *good = "{\"kta_validate_cell\": 1, \"plan\": \"0123456789abcdef\", \"cells\": 2, \"index\": 1,"
			   " \"arch\": \"x86_64\", \"side\": \"after\", \"shard\": 0, \"runs\": 3, \"round\": 0,"
			   " \"exit_code\": 1, \"status\": \"ran\", \"wall_ms\": 5, \"build_ms\": 0, \"boot_ms\": 1,"
			   " \"tests\": [{\"name\": \"t\", \"runs\": 3, \"failures\": 1, \"skipped\": 0}]}";
	char bad[1024];

	CHECK(vresult_parse(good, strlen(good), &r, err, sizeof(err)) == 0 && r.nt == 1 && r.t[0].fails == 1 &&
		      r.side == VSIDE_AFTER,
	      "a result parses");
	CHECK(r.planned == 0 && !r.died && !r.stopped[0], "an older result without the stop fields: nothing stopped");
	vresult_free(&r);
	snprintf(bad, sizeof(bad), "%s", good);
	memcpy(strstr(bad, "\"failures\": 1"), "\"failures\": 4", 13);
	CHECK(vresult_parse(bad, strlen(bad), &r, err, sizeof(err)) < 0 && strstr(err, "failures <= runs"),
	      "more failures than runs: refused");
	snprintf(bad, sizeof(bad), "%s", good);
	memcpy(strstr(bad, "\"index\": 1"), "\"index\": 2", 10);
	CHECK(vresult_parse(bad, strlen(bad), &r, err, sizeof(err)) < 0, "an index outside the plan: refused");
	CHECK(vresult_parse("{\"a\":1,\"a\":2}", 13, &r, err, sizeof(err)) < 0, "a key twice: refused");
	snprintf(bad, sizeof(bad), "%.*s, \"planned\": 3, \"started\": 2, \"kernel_died\": true,"
		 " \"stopped\": \"kernel-panic: x\"}", (int)strlen(good) - 1, good);
	CHECK(vresult_parse(bad, strlen(bad), &r, err, sizeof(err)) == 0 && r.planned == 3 && r.started == 2 &&
		      r.died && !strcmp(r.stopped, "kernel-panic: x"),
	      "a run that stopped early: its fields read back");
	vresult_free(&r);
	memcpy(strstr(bad, "\"started\": 2"), "\"started\": 4", 12);
	CHECK(vresult_parse(bad, strlen(bad), &r, err, sizeof(err)) < 0 && strstr(err, "started <= planned"),
	      "more started than planned: refused");
	CHECK(vresult_parse("[", 1, &r, err, sizeof(err)) < 0 && strstr(err, "not JSON"), "not JSON: refused");
}

int main(void)
{
	test_cells();
	test_merge();
	test_parse();
	return unit_done();
}
