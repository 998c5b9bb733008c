/* Reporters. KTAP stays valid KTAP: everything that is not a result line is
 * a "# " diagnostic, so a KTAP consumer can read kta's stdout as it is.
 */
#include "report.h"
#include "ktap.h"
#include "log.h"
#include "util.h"

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
		fprintf(f, "# guest: %u vCPU%s, %u MB%s%s\n", m->smp, m->smp == 1 ? "" : "s", m->memory_mb,
			m->stress ? "; stress: " : "", m->stress ? m->stress : "");
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

void report_json_str(struct buf *b, const char *s, size_t len)
{
	buf_append(b, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = utf8_len((const unsigned char *)s + i, len - i);

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			buf_append(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
		} else if (!n) {
			buf_append(b, replacement, 3);
		} else {
			buf_append(b, &s[i], n);
			i += n;
			continue;
		}
		i++;
	}
	buf_append(b, "\"", 1);
}

static void json_kv(struct buf *b, const char *k, const char *v, bool comma)
{
	buf_printf(b, "\"%s\": ", k);
	report_json_str(b, v ? v : "", v ? strlen(v) : 0);
	if (comma)
		buf_append(b, ", ", 2);
}

int report_json(const char *path, const struct run_result *r, const struct report_meta *m)
{
	cleanup_buf struct buf b = { 0 };
	unsigned int c[OUT__COUNT];

	run_result_counts(r, c);
	buf_append(&b, "{", 1);
	json_kv(&b, "status", run_status_name(r->status), true);
	json_kv(&b, "status_message", r->status_msg, true);
	buf_printf(&b, "\"exit_code\": %d, ", run_result_exit_code(r));
	json_kv(&b, "arch", m->arch, true);
	json_kv(&b, "accel", r->accel_kvm ? "kvm" : "tcg", true);
	json_kv(&b, "accel_reason", r->accel_reason, true);
	json_kv(&b, "stress", m->stress ? m->stress : "", true);
	buf_printf(&b, "\"smp\": %u, \"memory_mb\": %u, ", m->smp, m->memory_mb);
	buf_append(&b, "\"kernel\": {", 11);
	json_kv(&b, "image", m->kernel_image, true);
	json_kv(&b, "version", m->kernel_version, true);
	json_kv(&b, "sha256", m->kernel_sha256, true);
	json_kv(&b, "source", m->kernel_source, true);
	json_kv(&b, "guest_uname", r->guest_kernel, false);
	buf_append(&b, "}, ", 3);
	if (m->image) {
		char os[320];

		image_os_name(m->image, os, sizeof(os));
		buf_append(&b, "\"image\": {", 10);
		json_kv(&b, "path", m->image->path, true);
		json_kv(&b, "format", m->image->format, true);
		json_kv(&b, "sha256", m->image->sha256, true);
		json_kv(&b, "os", os, true);
		json_kv(&b, "distro", m->image->distro, true);
		json_kv(&b, "product", m->image->product, true);
		buf_printf(&b, "\"major\": %d, \"minor\": %d, ", m->image->major, m->image->minor);
		json_kv(&b, "os_arch", m->image->os_arch, true);
		json_kv(&b, "root", m->image->root, true);
		json_kv(&b, "fstype", m->image->fstype, true);
		buf_printf(&b, "\"inspect_s\": %.3f, \"inspect_cached\": %s, \"pull_s\": %.3f}, ",
			   m->image->t_inspect_s, m->image->cached ? "true" : "false", m->image_pull_s);
	}
	buf_printf(&b, "\"times_ms\": {\"agent_hello\": %llu, \"guest_uptime_at_hello\": %llu, "
		       "\"first_result\": %llu, \"end_record\": %llu, \"qemu_exit\": %llu}, ",
		   (unsigned long long)r->t_hello_ms, (unsigned long long)r->guest_uptime_ms,
		   (unsigned long long)r->t_first_result_ms, (unsigned long long)r->t_end_ms,
		   (unsigned long long)r->t_exit_ms);
	buf_printf(&b, "\"counts\": {");
	for (int i = OUT_PASS; i < OUT__COUNT; i++)
		buf_printf(&b, "%s\"%s\": %u", i == OUT_PASS ? "" : ", ", outcome_name(i), c[i]);
	buf_printf(&b, "}, \"tests\": [");
	for (unsigned int i = 0; i < r->ntests; i++) {
		const struct test_result *t = &r->tests[i];

		buf_printf(&b, "%s{\"num\": %u, ", i ? ", " : "", t->num);
		json_kv(&b, "name", t->name, true);
		json_kv(&b, "outcome", outcome_name(t->outcome), true);
		json_kv(&b, "reason", t->reason, true);
		buf_printf(&b, "\"exit_code\": %d, \"signal\": %d, \"duration_ms\": %u, "
			       "\"timeout_s\": %u, ",
			   t->exit_code, t->signal, t->duration_ms, t->timeout_s);
		json_kv(&b, "kernel_splat", t->splat ? splat_name(t->splat) : "", true);
		json_kv(&b, "kernel_splat_line", t->splat_line, true);
		json_kv(&b, "expect", t->expect, true);
		if (t->has_rate)
			buf_printf(&b, "\"rate\": {\"failures\": %lu, \"iterations\": %lu, "
				       "\"ci95\": [%.6f, %.6f]}, ",
				   t->rate_failures, t->rate_iterations, t->rate_lo, t->rate_hi);
		if (t->variant)
			buf_printf(&b, "\"variant\": \"%c\", \"run\": %u, ", t->variant, t->run);
		buf_append(&b, "\"subtests\": [", 13);
		for (unsigned int j = 0; j < t->nsubs; j++) {
			const struct sub_result *u = &t->subs[j];

			buf_printf(&b, "%s{\"num\": %u, ", j ? ", " : "", u->num);
			json_kv(&b, "name", u->name, true);
			json_kv(&b, "outcome", outcome_name(u->outcome), true);
			json_kv(&b, "reason", u->reason, true);
			json_kv(&b, "test_progs_num", u->tp, true);
			json_kv(&b, "sanitizer_logs", u->san, true);
			json_kv(&b, "kernel_splat", u->splat ? splat_name(u->splat) : "", true);
			json_kv(&b, "kernel_splat_line", u->splat_line, true);
			buf_printf(&b, "\"duration_ms\": %u, \"output\": ", u->duration_ms);
			if (u->out_end >= u->out_start && u->out_end <= t->output.len)
				report_json_str(&b, t->output.data + u->out_start, u->out_end - u->out_start);
			else
				report_json_str(&b, "", 0);
			buf_append(&b, "}", 1);
		}
		buf_append(&b, "], ", 3);
		buf_append(&b, "\"sanitizer_log\": ", 17);
		report_json_str(&b, t->san.data ? t->san.data : "", t->san.len);
		buf_append(&b, ", ", 2);
		buf_append(&b, "\"output\": ", 10);
		report_json_str(&b, t->output.data ? t->output.data : "", t->output.len);
		buf_append(&b, "}", 1);
	}
	buf_append(&b, "], \"kernel_reports\": [", 22);
	for (unsigned int i = 0; i < r->nsplats; i++) {
		buf_printf(&b, "%s{\"test\": %u, \"subtest\": %u, ", i ? ", " : "", r->splats[i].test,
			   r->splats[i].sub);
		json_kv(&b, "kind", splat_name(r->splats[i].kind), true);
		json_kv(&b, "line", r->splats[i].line, false);
		buf_append(&b, "}", 1);
	}
	buf_append(&b, "]}\n", 3);
	return write_file_atomic(path, b.data, b.len, 0644);
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
