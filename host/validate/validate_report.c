/* What `kta validate` shows (validate.h): the table on the terminal, the
 * JSON report (--replay reads its command back), JUnit, and an SVG plot of
 * each test's failure rate with its interval, before and after. */
#include "validate/validate.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "run/report.h"
#include "base/stats.h"

static void rate(char *out, size_t n, unsigned long f, unsigned long runs, unsigned long skips, bool not_run)
{
	double lo, hi;

	if (not_run) {
		snprintf(out, n, "not run");
		return;
	}
	if (!runs) {
		snprintf(out, n, skips ? "skip x%lu" : "-", skips);
		return;
	}
	wilson95(f, runs, &lo, &hi);
	snprintf(out, n, "%lu/%lu (%.2f-%.2f)", f, runs, lo, hi);
}

static void verdict_text(const struct vrow *r, char *out, size_t n)
{
	if (r->v.kind == VERDICT_INCONCLUSIVE) {
		if (r->v.need >= VERDICT_NEED_MAX)
			snprintf(out, n, "inconclusive, needs over %lu runs", VERDICT_NEED_MAX);
		else
			snprintf(out, n, "inconclusive, needs about %lu runs", r->v.need);
	} else {
		snprintf(out, n, "%s", verdict_name(r->v.kind));
	}
}

static void pval(char *out, size_t n, double p, bool have)
{
	if (!have)
		snprintf(out, n, "-");
	else if (p >= 0.001)
		snprintf(out, n, "%.3f", p);
	else
		snprintf(out, n, "%.1e", p);
}

void validate_print_table(FILE *f, const struct vmerged *m, const struct verdict_rule *rule)
{
	int w = 40; /* the TEST column: as wide as the longest name */

	fprintf(f, "# kta validate: failures/runs without the series (before) and with it (after), Wilson 95%%;\n"
		   "# Fisher's exact test, one-sided each way, at %.3g (alpha %.3g over %u look%s); \"no change\": the\n"
		   "# %.0f%% Newcombe interval of the difference within +-%.3g\n",
		rule->alpha / (rule->looks ? rule->looks : 1), rule->alpha, rule->looks ? rule->looks : 1,
		rule->looks > 1 ? "s" : "", 100 * (1 - 2 * rule->alpha / (rule->looks ? rule->looks : 1)),
		rule->margin);
	for (size_t i = 0; i < m->nrows; i++)
		if (strlen(m->rows[i].test) > (size_t)w)
			w = (int)strlen(m->rows[i].test);
	fprintf(f, "%-*s %-8s %-20s %-20s %-8s %-8s %s\n", w, "TEST", "ARCH", "BEFORE", "AFTER", "P(FIXED)",
		"P(REGR)", "VERDICT");
	for (size_t i = 0; i < m->nrows; i++) {
		const struct vrow *r = &m->rows[i];
		char a[48], b[48], pf[16], pr[16], v[64];
		bool have = r->runs[0] && r->runs[1];

		rate(a, sizeof(a), r->fails[0], r->runs[0], r->skips[0], r->not_run[0]);
		rate(b, sizeof(b), r->fails[1], r->runs[1], r->skips[1], r->not_run[1]);
		pval(pf, sizeof(pf), r->v.p_fixed, have);
		pval(pr, sizeof(pr), r->v.p_regressed, have);
		verdict_text(r, v, sizeof(v));
		if (r->decided_at)
			snprintf(v + strlen(v), sizeof(v) - strlen(v), " (at %lu)", r->decided_at);
		fprintf(f, "%-*s %-8s %-20s %-20s %-8s %-8s %s\n", w, strcmp(r->test, "*") ? r->test : "(no test ran)",
			r->arch, a, b, pf, pr, v);
	}
	if (m->notes[0])
		fprintf(f, "# not run:\n%s", m->notes);
	if (m->retried[0])
		fprintf(f, "# booted twice (the first boot never reached the agent, so no test had started):\n%s", m->retried);
	if (m->stopped[0])
		fprintf(f, "# stopped early (the counts above hold the runs that finished; what never started is no "
			   "evidence):\n%s",
			m->stopped);
	if (m->problems[0])
		fprintf(f, "# results:\n%s", m->problems);
}

static json_t *side_json(unsigned long f, unsigned long n, unsigned long s, bool not_run)
{
	double lo, hi;

	wilson95(f, n, &lo, &hi);
	return json_pack("{s:I, s:I, s:I, s:b, s:[f,f]}", "failures", (json_int_t)f, "runs", (json_int_t)n, "skipped",
			 (json_int_t)s, "not_run", not_run, "ci95", lo, hi);
}

int validate_write_json(const char *path, const struct vmerged *m, const struct verdict_rule *rule,
			const struct vresult *r, size_t n, int argc, char **argv)
{
	json_t *root = json_object(), *cmd = json_array(), *cells = json_array(), *rows = json_array();
	int err;

	if (!root || !cmd || !cells || !rows) {
		json_decref(root);
		json_decref(cmd);
		json_decref(cells);
		json_decref(rows);
		return -ENOMEM;
	}
	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_pack(
			"{s:i, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:i, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			"index", r[i].index, "arch", r[i].arch, "side", vside_name(r[i].side), "shard", r[i].shard, "runs",
			r[i].runs, "round", r[i].round, "status", r[i].status, "reason", r[i].reason, "exit_code",
			r[i].exit_code, "wall_ms", (json_int_t)r[i].wall_ms, "build_ms", (json_int_t)r[i].build_ms,
			"boot_ms", (json_int_t)r[i].boot_ms, "kernel", r[i].kernel, "kernel_sha256", r[i].kernel_sha256,
			"series", r[i].tree_series, "qemu", r[i].qemu, "tree", r[i].tree, "tests_id", r[i].tests_id,
			"machine", r[i].machine);

		if (c && json_object_update_new(c, json_pack("{s:s, s:i, s:i, s:b}", "stopped", r[i].stopped,
							       "planned", r[i].planned, "started", r[i].started,
							       "kernel_died", r[i].died)))
			c = (json_decref(c), NULL);
		json_array_append_new(cells, c);
	}
	for (size_t i = 0; i < m->nrows; i++) {
		const struct vrow *x = &m->rows[i];

		json_array_append_new(
			rows, json_pack("{s:s, s:s, s:o, s:o, s:[f,f], s:f, s:f, s:s, s:I, s:I}", "test", x->test, "arch",
					x->arch, "before", side_json(x->fails[0], x->runs[0], x->skips[0], x->not_run[0]),
					"after", side_json(x->fails[1], x->runs[1], x->skips[1], x->not_run[1]),
					"difference_ci", x->v.diff_lo, x->v.diff_hi, "p_fixed", x->v.p_fixed,
					"p_regressed", x->v.p_regressed, "verdict", verdict_name(x->v.kind),
					"needs_runs", (json_int_t)x->v.need, "decided_at", (json_int_t)x->decided_at));
	}
	json_object_set_new(root, "kta_validate", json_integer(1));
	json_object_set_new(root, "command", cmd);
	json_object_set_new(root, "plan", json_string(m->plan));
	json_object_set_new(root, "rule", json_pack("{s:f, s:f, s:i, s:f}", "alpha", rule->alpha, "margin",
						    rule->margin, "looks", rule->looks, "level",
						    rule->alpha / (rule->looks ? rule->looks : 1)));
	json_object_set_new(root, "cells", cells);
	json_object_set_new(root, "rows", rows);
	json_object_set_new(root, "missing_cells", json_integer(m->missing));
	json_object_set_new(root, "duplicate_cells", json_integer(m->duplicates));
	json_object_set_new(root, "problems", json_string(m->problems));
	json_object_set_new(root, "not_run", json_string(m->notes));
	json_object_set_new(root, "boot_retried", json_string(m->retried));
	json_object_set_new(root, "stopped_early", json_string(m->stopped));
	err = validate_json_write(path, root, JSON_INDENT(1));
	json_decref(root);
	return err;
}

int validate_write_junit(const char *path, const struct vmerged *m)
{
	cleanup_buf struct buf b = { 0 };
	unsigned int failures = 0, skipped = 0, errors = 0;

	for (size_t i = 0; i < m->nrows; i++) {
		enum verdict_kind k = m->rows[i].v.kind;

		failures += k == VERDICT_REGRESSED;
		skipped += k == VERDICT_SKIPPED || k == VERDICT_INCONCLUSIVE;
		errors += k == VERDICT_NOT_RUN;
	}
	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<testsuite name=\"kta-validate\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" skipped=\"%u\">\n",
		   m->nrows, failures, errors, skipped);
	for (size_t i = 0; i < m->nrows; i++) {
		const struct vrow *r = &m->rows[i];
		char msg[256], v[64];

		verdict_text(r, v, sizeof(v));
		snprintf(msg, sizeof(msg), "%s: before %lu/%lu, after %lu/%lu, p(fixed) %.3g, p(regressed) %.3g", v,
			 r->fails[0], r->runs[0], r->fails[1], r->runs[1], r->v.p_fixed, r->v.p_regressed);
		buf_printf(&b, "  <testcase classname=\"validate.");
		report_xml_str(&b, r->arch, strlen(r->arch));
		buf_printf(&b, "\" name=\"");
		report_xml_str(&b, r->test, strlen(r->test));
		buf_printf(&b, "\">");
		if (r->v.kind == VERDICT_REGRESSED || r->v.kind == VERDICT_NOT_RUN ||
		    r->v.kind == VERDICT_SKIPPED || r->v.kind == VERDICT_INCONCLUSIVE) {
			const char *tag = r->v.kind == VERDICT_REGRESSED ? "failure"
					  : r->v.kind == VERDICT_NOT_RUN ? "error" : "skipped";

			buf_printf(&b, "<%s message=\"", tag);
			report_xml_str(&b, msg, strlen(msg));
			buf_printf(&b, "\"/>");
		}
		buf_printf(&b, "<system-out>");
		report_xml_str(&b, msg, strlen(msg));
		buf_printf(&b, "</system-out></testcase>\n");
	}
	buf_printf(&b, "</testsuite>\n");
	return write_file_atomic(path, b.data, b.len, 0644);
}

/* A row per test and arch: the failure rate's 95% interval as a bar and
 * the observed rate as a dot, before (grey) above after (blue), the
 * verdict at the right. Written by hand: a few dozen elements. */
int validate_write_svg(const char *path, const struct vmerged *m)
{
	const int left = 330, plot = 420, right = 300, row_h = 34, top = 56;
	int width = left + plot + right, height = top + (int)m->nrows * row_h + 30;
	cleanup_buf struct buf b = { 0 };

	buf_printf(&b,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
		   "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		   "<text x=\"10\" y=\"20\" font-size=\"14\">kta validate: failure rate with its 95%% interval, "
		   "before (grey) and after (blue) the series</text>\n",
		   width, height);
	for (int t = 0; t <= 10; t += 2) {
		int x = left + plot * t / 10;

		buf_printf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top - 10, x,
			   height - 24);
		buf_printf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d%%</text>\n", x, top - 14, t * 10);
	}
	for (size_t i = 0; i < m->nrows; i++) {
		const struct vrow *r = &m->rows[i];
		int y = top + (int)i * row_h;
		char v[64], label[256];

		snprintf(label, sizeof(label), "%s (%s)", strcmp(r->test, "*") ? r->test : "(no test ran)", r->arch);
		buf_printf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 8, y + 16);
		report_xml_str(&b, label, strlen(label));
		buf_printf(&b, "</text>\n");
		for (int s = 0; s < 2; s++) {
			double lo, hi, p;
			int yy = y + 8 + s * 12;
			const char *colour = s ? "#1f5fbf" : "#888";

			if (!r->runs[s])
				continue;
			wilson95(r->fails[s], r->runs[s], &lo, &hi);
			p = (double)r->fails[s] / (double)r->runs[s];
			buf_printf(&b,
				   "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
				   "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"%s\"/>\n",
				   left + plot * lo, yy, left + plot * hi, yy, colour, left + plot * p, yy, colour);
		}
		verdict_text(r, v, sizeof(v));
		buf_printf(&b, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", left + plot + 12, y + 16,
			   r->v.kind == VERDICT_REGRESSED ? "#b00" : r->v.kind == VERDICT_FIXED ? "#070" : "#333", v);
	}
	buf_printf(&b, "</svg>\n");
	return write_file_atomic(path, b.data, b.len, 0644);
}
