/* Reporters. KTAP stays valid KTAP: everything that is not a result line is
 * a "# " diagnostic, so a KTAP consumer can read kta's stdout as it is.
 */
#include "run/report.h"
#include "base/ktap.h"
#include "base/log.h"
#include "base/util.h"

#include <jansson.h>
#include <string.h>

static const char *directive_of(enum outcome o, enum splat_kind splat)
{
	switch (o) {
	case OUT_SKIP:
		return "SKIP";
	case OUT_TIMEOUT:
		return "TIMEOUT";
	case OUT_CRASH:
		return "CRASH";
	case OUT_PANIC:
		return "PANIC";
	case OUT_ERROR:
	case OUT_PENDING:
		return "ERROR";
	case OUT_FAIL:
		return splat != SPLAT_NONE ? "KERNEL" : "FAIL";
	case OUT_SAN_OVERRIDE:
		return "SANITIZER-EXIT-OVERRIDE";
	case OUT_XFAIL:
		return "XFAIL";
	case OUT_PASS:
	case OUT__COUNT:
	default:
		return NULL;
	}
}

static const char *directive(const struct test_result *t)
{
	return directive_of(t->outcome, t->splat);
}

#define OUTPUT_TAIL_LINES 60

/* The last lines of a test's output; the whole of it is in the artifacts. */
static void print_output_range(FILE *f, const char *indent, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t lines = 0;

	for (const char *q = p; q && q < end; q++)
		lines += *q == '\n';
	if (len && end[-1] != '\n')
		lines++;
	if (lines > OUTPUT_TAIL_LINES) {
		size_t skip = lines - OUTPUT_TAIL_LINES;

		fprintf(f, "%s#   [... %zu earlier lines: see the test's log in the artifacts]\n", indent, skip);
		while (skip && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl + 1 : end;
			skip--;
		}
	}

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		fprintf(f, "%s#   %.*s\n", indent, (int)(le - p), p);
		p = nl ? nl + 1 : end;
	}
}

static void print_output(FILE *f, const struct buf *out)
{
	print_output_range(f, "", out->data, out->len);
}

/* A subtest's name as test_progs gives it ("token/map_token", spaces
 * too), minus what KTAP cannot carry. */
static void sub_name(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = in[i] == '#' || (unsigned char)in[i] < ' ' || in[i] == 0x7f ? '_' : in[i];
	out[i] = '\0';
}

/* test_progs' subtests, as a KTAP subtest block before the test's line. */
static void print_subs(FILE *f, const struct test_result *t, const char *name, bool verbose)
{
	fprintf(f, "    # Subtest: %s\n    KTAP version 1\n    1..%u\n", name, t->nsubs);
	for (unsigned int i = 0; i < t->nsubs; i++) {
		const struct sub_result *u = &t->subs[i];
		const char *d = directive_of(u->outcome, u->splat);
		bool ok = !outcome_is_failure(u->outcome);
		char sname[160];

		sub_name(u->name, sname, sizeof(sname));
		if ((!ok || verbose) && u->out_end > u->out_start && u->out_end <= t->output.len) {
			fprintf(f, "    # output of %s:\n", sname);
			print_output_range(f, "    ", t->output.data + u->out_start, u->out_end - u->out_start);
		}
		if (d)
			fprintf(f, "    %sok %u %s # %s %s\n", ok ? "" : "not ", u->num, sname, d, u->reason);
		else
			fprintf(f, "    ok %u %s\n", u->num, sname);
	}
}

void report_ktap(FILE *f, const struct run_result *r, const struct report_meta *m)
{
	fprintf(f, "KTAP version 1\n1..%u\n", r->ntests);
	for (unsigned int i = 0; i < r->ntests; i++) {
		const struct test_result *t = &r->tests[i];
		const char *d = directive(t);
		bool ok = !outcome_is_failure(t->outcome);
		char name[128];

		ktap_sanitize_name(t->name, name, sizeof(name));
		if (t->nsubs) {
			print_subs(f, t, name, m->verbose);
			/* What came after the last subtest (the summary, a crash). */
			if ((!ok || m->verbose) && t->output.len > t->subs[t->nsubs - 1].out_end) {
				fprintf(f, "# output of %s after its last subtest:\n", name);
				print_output_range(f, "", t->output.data + t->subs[t->nsubs - 1].out_end,
						   t->output.len - t->subs[t->nsubs - 1].out_end);
			}
		} else if ((!ok || m->verbose) && t->output.len) {
			fprintf(f, "# output of %s:\n", name);
			print_output(f, &t->output);
		}
		if (t->outcome == OUT_XFAIL)
			fprintf(f, "# %s: %s\nok %u %s # XFAIL %s\n", name, t->reason, t->num, name,
				t->expect);
		else if (d)
			fprintf(f, "%sok %u %s # %s %s\n", ok ? "" : "not ", t->num, name, d,
				t->reason);
		else
			fprintf(f, "ok %u %s\n", t->num, name);
		if (t->has_rate)
			fprintf(f, "# %s: failure rate %lu/%lu = %.3f%% (95%% CI %.3f%%-%.3f%%)\n",
				name, t->rate_failures, t->rate_iterations,
				100.0 * (double)t->rate_failures / (double)t->rate_iterations,
				100.0 * t->rate_lo, 100.0 * t->rate_hi);
	}
}

void report_summary(FILE *f, const struct run_result *r, const struct report_meta *m)
{
	unsigned int c[OUT__COUNT];

	unsigned int nsub;

	run_result_counts(r, c);
	fprintf(f, "# ---- kta summary ----\n");
	fprintf(f, "# tests: %u  pass: %u  fail: %u  skip: %u  xfail: %u  timeout: %u  crash: %u  "
		   "kernel-panic: %u  sanitizer-exit-override: %u  error: %u\n",
		r->ntests, c[OUT_PASS], c[OUT_FAIL], c[OUT_SKIP], c[OUT_XFAIL], c[OUT_TIMEOUT],
		c[OUT_CRASH], c[OUT_PANIC], c[OUT_SAN_OVERRIDE], c[OUT_ERROR] + c[OUT_PENDING]);
	run_result_sub_counts(r, c, &nsub);
	if (nsub)
		fprintf(f, "# subtests: %u  pass: %u  fail: %u  skip: %u  timeout: %u  sanitizer-exit-override: %u\n",
			nsub, c[OUT_PASS], c[OUT_FAIL], c[OUT_SKIP], c[OUT_TIMEOUT], c[OUT_SAN_OVERRIDE]);
	for (unsigned int i = 0; i < r->ntests; i++) {
		const struct test_result *t = &r->tests[i];

		if (t->has_rate)
			fprintf(f, "# rate: %-28s %6lu/%-7lu failed  %.3f%% (95%% CI %.3f%%-%.3f%%)\n",
				t->name, t->rate_failures, t->rate_iterations,
				100.0 * (double)t->rate_failures / (double)t->rate_iterations,
				100.0 * t->rate_lo, 100.0 * t->rate_hi);
	}
	fprintf(f, "# run: %s%s%s\n", run_status_name(r->status), r->status_msg[0] ? ": " : "",
		r->status_msg);
	fprintf(f, "# kernel: %s (%s), guest says %s\n",
		m->kernel_version && *m->kernel_version ? m->kernel_version : "?",
		m->kernel_source ? m->kernel_source : "?",
		r->guest_kernel[0] ? r->guest_kernel : "nothing");
	if (m->image) {
		char os[320];

		image_os_name(m->image, os, sizeof(os));
		fprintf(f, "# image: %s, %s; root %s (%s); libguestfs: inspect %.1f s%s, pull %.1f s\n",
			m->image->path, os, m->image->root, m->image->fstype, m->image->t_inspect_s,
			m->image->cached ? " (cached)" : "", m->image_pull_s);
	}
	fprintf(f, "# arch: %s, accel: %s%s%s\n", m->arch, r->accel_kvm ? "kvm" : "tcg",
		r->accel_reason[0] ? " - " : "", r->accel_reason);
	if (m->smp || m->stress)
		fprintf(f, "# guest: %u vCPU%s%s, %u MB%s%s\n", m->smp, m->smp == 1 ? "" : "s",
			!m->tcg_thread ? "" : !strcmp(m->tcg_thread, "single") ? " on one TCG thread" : " on a TCG thread each",
			m->memory_mb, m->stress ? "; stress: " : "", m->stress ? m->stress : "");
	if (r->t_hello_ms)
		fprintf(f, "# time: agent up %.2f s (guest uptime %.2f s), first result %.2f s, "
			   "total %.2f s\n",
			r->t_hello_ms / 1000.0, r->guest_uptime_ms / 1000.0,
			r->t_first_result_ms / 1000.0, r->t_exit_ms / 1000.0);
	for (unsigned int i = 0; i < r->nsplats && i < 5; i++)
		fprintf(f, "# kernel report: %s%s%s: %s\n", splat_name(r->splats[i].kind),
			r->splats[i].test ? " in test " : " outside tests",
			r->splats[i].test ? r->tests[r->splats[i].test - 1].name : "",
			r->splats[i].line);
	if (r->nsplats + r->nsplats_dropped > 5)
		fprintf(f, "# ... %u more kernel reports in the console log\n", r->nsplats + r->nsplats_dropped - 5);
	if (m->artifacts)
		fprintf(f, "# artifacts: %s\n", m->artifacts);
	fprintf(f, "# exit code: %d\n", run_result_exit_code(r));
}

/* Invalid UTF-8 (a test may print any bytes) becomes U+FFFD: JSON and
 * XML must be UTF-8, and a reader that finds otherwise rejects the file. */
static const char replacement[] = "\xef\xbf\xbd";

/* A JSON string of any bytes a test printed: invalid UTF-8 becomes U+FFFD
 * first (jansson takes only UTF-8; it escapes control bytes itself). */
json_t *report_jtext(const char *s, size_t len)
{
	cleanup_buf struct buf b = { 0 };

	for (size_t i = 0; s && i < len;) {
		size_t n = utf8_len((const unsigned char *)s + i, len - i);

		if (n) {
			buf_append(&b, &s[i], n);
			i += n;
		} else {
			buf_append(&b, replacement, 3);
			i++;
		}
	}
	return json_stringn(b.data ? b.data : "", b.len);
}

static json_t *jstr(const char *s)
{
	return report_jtext(s ? s : "", s ? strlen(s) : 0);
}

/* Set key to v (a new reference), failing the whole document once. */
static void jset(json_t *o, const char *key, json_t *v, int *err)
{
	if (!v || json_object_set_new(o, key, v))
		*err = -ENOMEM;
}

static json_t *json_image(const struct report_meta *m, int *err)
{
	json_t *o = json_object();
	char os[320];

	if (!o)
		return NULL;
	image_os_name(m->image, os, sizeof(os));
	jset(o, "path", jstr(m->image->path), err);
	jset(o, "format", jstr(m->image->format), err);
	jset(o, "sha256", jstr(m->image->sha256), err);
	jset(o, "os", jstr(os), err);
	jset(o, "distro", jstr(m->image->distro), err);
	jset(o, "product", jstr(m->image->product), err);
	jset(o, "major", json_integer(m->image->major), err);
	jset(o, "minor", json_integer(m->image->minor), err);
	jset(o, "os_arch", jstr(m->image->os_arch), err);
	jset(o, "root", jstr(m->image->root), err);
	jset(o, "fstype", jstr(m->image->fstype), err);
	jset(o, "inspect_s", json_real(m->image->t_inspect_s), err);
	jset(o, "inspect_cached", json_boolean(m->image->cached), err);
	jset(o, "pull_s", json_real(m->image_pull_s), err);
	return o;
}

static json_t *json_sub(const struct test_result *t, const struct sub_result *u, int *err)
{
	json_t *o = json_object();
	bool in = u->out_end >= u->out_start && u->out_end <= t->output.len;

	if (!o)
		return NULL;
	jset(o, "num", json_integer(u->num), err);
	jset(o, "name", jstr(u->name), err);
	jset(o, "outcome", jstr(outcome_name(u->outcome)), err);
	jset(o, "reason", jstr(u->reason), err);
	jset(o, "test_progs_num", jstr(u->tp), err);
	jset(o, "sanitizer_logs", jstr(u->san), err);
	jset(o, "kernel_splat", jstr(u->splat ? splat_name(u->splat) : ""), err);
	jset(o, "kernel_splat_line", jstr(u->splat_line), err);
	jset(o, "duration_ms", json_integer(u->duration_ms), err);
	jset(o, "output", in ? report_jtext(t->output.data + u->out_start, u->out_end - u->out_start) : jstr(""), err);
	return o;
}

static json_t *json_test(const struct test_result *t, int *err)
{
	json_t *o = json_object(), *subs = json_array();

	if (!o || !subs) {
		json_decref(o);
		json_decref(subs);
		return NULL;
	}
	jset(o, "num", json_integer(t->num), err);
	jset(o, "name", jstr(t->name), err);
	jset(o, "suite", jstr(t->suite), err);
	jset(o, "outcome", jstr(outcome_name(t->outcome)), err);
	jset(o, "reason", jstr(t->reason), err);
	/* Whether the agent started it: a run that stopped early leaves
	 * tests that never ran, which are no evidence either way. */
	jset(o, "started", json_boolean(t->begun), err);
	jset(o, "exit_code", json_integer(t->exit_code), err);
	jset(o, "signal", json_integer(t->signal), err);
	jset(o, "duration_ms", json_integer(t->duration_ms), err);
	jset(o, "timeout_s", json_integer(t->timeout_s), err);
	jset(o, "kernel_splat", jstr(t->splat ? splat_name(t->splat) : ""), err);
	jset(o, "kernel_splat_line", jstr(t->splat_line), err);
	jset(o, "expect", jstr(t->expect), err);
	if (t->has_rate)
		jset(o, "rate", json_pack("{s:I, s:I, s:[f, f]}", "failures", (json_int_t)t->rate_failures,
					  "iterations", (json_int_t)t->rate_iterations, "ci95", t->rate_lo,
					  t->rate_hi), err);
	if (t->variant) {
		char v[2] = { t->variant, '\0' };

		jset(o, "variant", jstr(v), err);
		jset(o, "run", json_integer(t->run), err);
	}
	for (unsigned int j = 0; j < t->nsubs; j++)
		if (json_array_append_new(subs, json_sub(t, &t->subs[j], err)))
			*err = -ENOMEM;
	jset(o, "subtests", subs, err);
	jset(o, "sanitizer_log", report_jtext(t->san.data, t->san.len), err);
	jset(o, "output", report_jtext(t->output.data, t->output.len), err);
	return o;
}

int report_json(const char *path, const struct run_result *r, const struct report_meta *m)
{
	json_t *root = json_object(), *counts = json_object(), *tests = json_array(), *splats = json_array();
	unsigned int c[OUT__COUNT];
	char *text = NULL;
	int err = root && counts && tests && splats ? 0 : -ENOMEM;

	run_result_counts(r, c);
	if (err) {
		json_decref(counts);
		json_decref(tests);
		json_decref(splats);
		goto out;
	}
	jset(root, "status", jstr(run_status_name(r->status)), &err);
	jset(root, "status_message", jstr(r->status_msg), &err);
	jset(root, "exit_code", json_integer(run_result_exit_code(r)), &err);
	jset(root, "arch", jstr(m->arch), &err);
	jset(root, "accel", jstr(r->accel_kvm ? "kvm" : "tcg"), &err);
	jset(root, "accel_reason", jstr(r->accel_reason), &err);
	jset(root, "tcg_thread", jstr(m->tcg_thread ? m->tcg_thread : ""), &err);
	jset(root, "stress", jstr(m->stress), &err);
	jset(root, "smp", json_integer(m->smp), &err);
	jset(root, "memory_mb", json_integer(m->memory_mb), &err);
	jset(root, "kernel", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "image", jstr(m->kernel_image),
				       "version", jstr(m->kernel_version), "sha256", jstr(m->kernel_sha256),
				       "source", jstr(m->kernel_source), "guest_uname", jstr(r->guest_kernel),
				       "boot", jstr(m->boot)),
	     &err);
	if (m->image)
		jset(root, "image", json_image(m, &err), &err);
	jset(root, "times_ms", json_pack("{s:I, s:I, s:I, s:I, s:I}",
					 "agent_hello", (json_int_t)r->t_hello_ms,
					 "guest_uptime_at_hello", (json_int_t)r->guest_uptime_ms,
					 "first_result", (json_int_t)r->t_first_result_ms,
					 "end_record", (json_int_t)r->t_end_ms, "qemu_exit", (json_int_t)r->t_exit_ms),
	     &err);
	for (int i = OUT_PASS; i < OUT__COUNT; i++)
		jset(counts, outcome_name(i), json_integer(c[i]), &err);
	jset(root, "counts", counts, &err);
	for (unsigned int i = 0; i < r->ntests; i++)
		if (json_array_append_new(tests, json_test(&r->tests[i], &err)))
			err = -ENOMEM;
	jset(root, "tests", tests, &err);
	for (unsigned int i = 0; i < r->nsplats; i++)
		if (json_array_append_new(splats, json_pack("{s:i, s:i, s:o, s:o}", "test", r->splats[i].test,
							    "subtest", r->splats[i].sub, "kind",
							    jstr(splat_name(r->splats[i].kind)), "line",
							    jstr(r->splats[i].line))))
			err = -ENOMEM;
	jset(root, "kernel_reports", splats, &err);
	text = err ? NULL : json_dumps(root, JSON_PRESERVE_ORDER);
	if (!err && !text)
		err = -ENOMEM;
	if (!err) {
		cleanup_buf struct buf b = { 0 };

		buf_printf(&b, "%s\n", text);
		err = b.data ? write_file_atomic(path, b.data, b.len, 0644) : -ENOMEM;
	}
out:
	free(text);
	json_decref(root);
	return err;
}

void report_xml_str(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = utf8_len((const unsigned char *)s + i, len - i);

		switch (c) {
		case '<': buf_append(b, "&lt;", 4); break;
		case '>': buf_append(b, "&gt;", 4); break;
		case '&': buf_append(b, "&amp;", 5); break;
		case '"': buf_append(b, "&quot;", 6); break;
		default:
			/* XML 1.0 cannot carry most control characters at all. */
			if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) {
				buf_append(b, "?", 1);
			} else if (!n) {
				buf_append(b, replacement, 3);
			} else {
				buf_append(b, &s[i], n);
				i += n;
				continue;
			}
		}
		i++;
	}
}

int report_junit(const char *path, const struct run_result *r, const struct report_meta *m)
{
	cleanup_buf struct buf b = { 0 };
	unsigned int c[OUT__COUNT];
	unsigned int failures, errors;

	run_result_counts(r, c);
	failures = c[OUT_FAIL] + c[OUT_TIMEOUT] + c[OUT_CRASH] + c[OUT_PANIC] + c[OUT_SAN_OVERRIDE];
	errors = c[OUT_ERROR] + c[OUT_PENDING];
	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<testsuites><testsuite name=\"kta.%s\" tests=\"%u\" failures=\"%u\" "
		       "errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
		   m->arch, r->ntests, failures, errors, c[OUT_SKIP], r->t_exit_ms / 1000.0);
	for (unsigned int i = 0; i < r->ntests; i++) {
		const struct test_result *t = &r->tests[i];

		buf_printf(&b, "  <testcase classname=\"kta.%s\" name=\"", m->arch);
		report_xml_str(&b, t->name, strlen(t->name));
		buf_printf(&b, "\" time=\"%.3f\">", t->duration_ms / 1000.0);
		if (t->outcome == OUT_SKIP) {
			buf_append(&b, "<skipped message=\"", 18);
			report_xml_str(&b, t->reason, strlen(t->reason));
			buf_append(&b, "\"/>", 3);
		} else if (outcome_is_failure(t->outcome)) {
			const char *tag = t->outcome == OUT_ERROR || t->outcome == OUT_PENDING
						  ? "error" : "failure";

			buf_printf(&b, "<%s type=\"%s\" message=\"", tag, outcome_name(t->outcome));
			report_xml_str(&b, t->reason, strlen(t->reason));
			buf_printf(&b, "\"/>");
		}
		if (t->output.len) {
			buf_append(&b, "<system-out>", 12);
			report_xml_str(&b, t->output.data, t->output.len);
			buf_append(&b, "</system-out>", 13);
		}
		buf_append(&b, "</testcase>\n", 12);
		for (unsigned int j = 0; j < t->nsubs; j++) {
			const struct sub_result *u = &t->subs[j];

			buf_printf(&b, "  <testcase classname=\"kta.%s.", m->arch);
			report_xml_str(&b, t->name, strlen(t->name));
			buf_append(&b, "\" name=\"", 8);
			report_xml_str(&b, u->name, strlen(u->name));
			buf_printf(&b, "\" time=\"%.3f\">", u->duration_ms / 1000.0);
			if (u->outcome == OUT_SKIP) {
				buf_append(&b, "<skipped message=\"", 18);
				report_xml_str(&b, u->reason, strlen(u->reason));
				buf_append(&b, "\"/>", 3);
			} else if (outcome_is_failure(u->outcome)) {
				buf_printf(&b, "<failure type=\"%s\" message=\"", outcome_name(u->outcome));
				report_xml_str(&b, u->reason, strlen(u->reason));
				buf_printf(&b, "\"/>");
			}
			buf_append(&b, "</testcase>\n", 12);
		}
	}
	buf_append(&b, "</testsuite></testsuites>\n", 26);
	return write_file_atomic(path, b.data, b.len, 0644);
}

int report_test_logs(const char *dir, const struct run_result *r)
{
	cleanup_free char *tdir = path_join(dir, "tests");
	int err = tdir ? mkdir_p(tdir, 0755) : -ENOMEM;

	for (unsigned int i = 0; !err && i < r->ntests; i++) {
		const struct test_result *t = &r->tests[i];
		cleanup_free char *p = NULL;
		char name[128];

		ktap_sanitize_name(t->name, name, sizeof(name));
		p = xasprintf("%s/%03u-%s.log", tdir, t->num, name);
		if (!p)
			return -ENOMEM;
		err = write_file_atomic(p, t->output.data ? t->output.data : "", t->output.len,
					0644);
		if (!err && t->san.len) {
			cleanup_free char *sp = xasprintf("%s/%03u-%s.sanitizer.log", tdir, t->num, name);

			err = sp ? write_file_atomic(sp, t->san.data, t->san.len, 0644) : -ENOMEM;
		}
		if (!err && t->tp_json.len) {
			cleanup_free char *jp = xasprintf("%s/%03u-%s.test_progs.json", tdir, t->num, name);

			err = jp ? write_file_atomic(jp, t->tp_json.data, t->tp_json.len, 0644) : -ENOMEM;
		}
	}
	return err;
}
