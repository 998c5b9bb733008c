/* The judgement of a run, pure: from the facts the session recorded (each
 * test's raw result, its output and sanitizer logs, the splats, the run's
 * facts) to each subtest's, test's and the run's outcome. The strings
 * matched here are the ones our guest suites print (kta-rate:, kta-child:)
 * and the sanitizers' own report banners; anything else in a test's output
 * is left alone. */
#include "run/classify.h"

#include "run/proto.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void san_append(struct test_result *t, const char *file, const char *data, size_t len)
{
	if (strcmp(t->san_last, file)) {
		snprintf(t->san_last, sizeof(t->san_last), "%s", file);
		buf_printf(&t->san, "=== sanitizer log %s ===\n", file);
	}
	buf_append(&t->san, data, len);
}

/* The last line starting with prefix; returns its start or NULL. */
static const char *last_line(const struct buf *b, const char *prefix)
{
	const char *found = NULL, *p = b->data, *end = b->data ? b->data + b->len : NULL;
	size_t n = strlen(prefix);

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) >= n && !memcmp(p, prefix, n))
			found = p;
		p = nl ? nl + 1 : NULL;
	}
	return found;
}

static void parse_rate(struct test_result *t)
{
	const char *l = last_line(&t->output, "kta-rate: ");
	unsigned long f, n;

	if (!l || sscanf(l, "kta-rate: failures=%lu iterations=%lu", &f, &n) != 2 || f > n)
		return;
	t->has_rate = true;
	t->rate_failures = f;
	t->rate_iterations = n;
	wilson95(f, n, &t->rate_lo, &t->rate_hi);
}

/* The section of t->san for a file named <tool>.<pid>, or NULL. */
static const char *san_section(const struct test_result *t, long pid, const char **end)
{
	const char *p = t->san.data, *e = t->san.data ? t->san.data + t->san.len : NULL;

	while (p && p < e) {
		const char *h = memmem(p, (size_t)(e - p), "=== sanitizer log ", 18), *nl, *dot;

		if (!h)
			return NULL;
		nl = memchr(h, '\n', (size_t)(e - h));
		if (!nl)
			return NULL;
		dot = memrchr(h, '.', (size_t)(nl - h));
		if (dot && strtol(dot + 1, NULL, 10) == pid) {
			const char *next = memmem(nl, (size_t)(e - nl), "=== sanitizer log ", 18);

			*end = next ? next : e;
			return nl + 1;
		}
		p = nl + 1;
	}
	return NULL;
}

static bool has(const char *p, const char *end, const char *needle)
{
	return p && memmem(p, (size_t)(end - p), needle, strlen(needle));
}

static void detect_override(struct test_result *t)
{
	const char *l = last_line(&t->output, "kta-child: "), *sec, *end = NULL;
	long pid;
	int status, failed;

	if (!l || sscanf(l, "kta-child: pid=%ld status=%d assertions_failed=%d", &pid, &status,
			 &failed) != 3)
		return;
	if (status != 1 || failed != 0)
		return;
	sec = san_section(t, pid, &end);
	if (!has(sec, end, "LeakSanitizer: detected memory leaks"))
		return;
	t->outcome = OUT_SAN_OVERRIDE;
	snprintf(t->reason, sizeof(t->reason),
		 "child %ld exited 1 only because LeakSanitizer reported leaks at exit(); "
		 "no assertion failed in it (use _exit() in forked children)",
		 pid);
}

/* A subtest's own sanitizer logs (the files written while it ran): an
 * AddressSanitizer or UBSan error fails it; a failure where a forked child
 * (a pid other than test_progs') reported only leaks is the LeakSanitizer
 * exit override of seed 1: the child's exit() ran LSan's leak check, which
 * replaced its status by 1, and the parent's assertion on that status is
 * what failed. */
static void classify_sub(const struct test_result *t, struct sub_result *u)
{
	char files[4 * sizeof(u->san)];
	long leak_pid = 0, err_pid = 0;

	snprintf(files, sizeof(files), "%s", u->san);
	/* Without -v every subtest of a test arrives at the test's end: the
	 * logs written while the test ran are the test's. */
	if (t->tp_per_test) {
		size_t len = strlen(files), n = strcspn(u->tp, "/");

		for (unsigned int i = 0; i < t->nsubs; i++) {
			const struct sub_result *o = &t->subs[i];

			if (o != u && o->san[0] && !strncmp(o->tp, u->tp, n) && (o->tp[n] == '/' || !o->tp[n]))
				len += (size_t)snprintf(files + len, len < sizeof(files) ? sizeof(files) - len : 0, "%s%s",
							len ? "," : "", o->san);
		}
	}
	for (char *save = NULL, *f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		const char *dot = strrchr(f, '.'), *sec, *end = NULL;
		long pid = dot ? strtol(dot + 1, NULL, 10) : 0;

		if (pid <= 0 || !(sec = san_section(t, pid, &end)))
			continue;
		if (has(sec, end, "ERROR: AddressSanitizer") || has(sec, end, "runtime error:"))
			err_pid = pid;
		else if (has(sec, end, "LeakSanitizer: detected memory leaks") && pid != u->main_pid)
			leak_pid = pid;
	}
	if (err_pid && (u->outcome == OUT_PASS || u->outcome == OUT_SKIP)) {
		u->outcome = OUT_FAIL;
		snprintf(u->reason, sizeof(u->reason), "a sanitizer reported an error in pid %ld (see the "
			 "sanitizer log)", err_pid);
	} else if (leak_pid && !err_pid && u->outcome == OUT_FAIL && !u->splat) {
		u->outcome = OUT_SAN_OVERRIDE;
		snprintf(u->reason, sizeof(u->reason),
			 "forked child %ld ended through LeakSanitizer's leak check at exit(), which reported "
			 "leaks and set its status to 1; the assertion on that status failed (use _exit() in "
			 "forked children)", leak_pid);
	}
}

/* A test_progs run as a whole: it fails when a subtest failed, and says
 * which; failing only by the override is the override. */
static void derive_from_subs(struct test_result *t)
{
	unsigned int fails = 0, overrides = 0;
	size_t len = 0;
	char names[sizeof(t->reason)] = "";

	for (unsigned int i = 0; i < t->nsubs; i++) {
		const struct sub_result *u = &t->subs[i];

		if (!outcome_is_failure(u->outcome))
			continue;
		fails++;
		overrides += u->outcome == OUT_SAN_OVERRIDE;
		if (fails <= 3 && len < sizeof(names) - 1)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", fails > 1 ? ", " : "",
						u->name);
	}
	if (t->outcome != OUT_PASS && t->outcome != OUT_FAIL && t->outcome != OUT_SAN_OVERRIDE)
		return;
	if (fails) {
		t->outcome = fails == overrides && !t->splat ? OUT_SAN_OVERRIDE : OUT_FAIL;
		if (t->splat == SPLAT_NONE)
			snprintf(t->reason, sizeof(t->reason), "%u of %u subtests failed: %s%s", fails, t->nsubs, names,
				 fails > 3 ? ", ..." : "");
	} else if (t->outcome == OUT_SAN_OVERRIDE) {
		t->outcome = OUT_FAIL;
	} else if (t->outcome == OUT_FAIL && t->splat == SPLAT_NONE && t->exit_code == 2) {
		/* test_progs' EXIT_NO_TEST: every selected test was denied. */
		t->outcome = OUT_SKIP;
		snprintf(t->reason, sizeof(t->reason), "test_progs had no test to run (exit 2): every selected "
			 "test is skipped or denied");
	} else if (t->outcome == OUT_FAIL && t->splat == SPLAT_NONE && t->exit_code > 0) {
		long pid = t->nsubs ? t->subs[0].main_pid : 0;
		const char *end = NULL, *sec = pid > 0 ? san_section(t, pid, &end) : NULL;

		if (t->exit_code == 1 && has(sec, end, "LeakSanitizer: detected memory leaks"))
			snprintf(t->reason, sizeof(t->reason), "no subtest failed, but LeakSanitizer reported leaks in "
				 "test_progs itself (pid %ld) when it exited, which set its status to 1", pid);
		else
			snprintf(t->reason, sizeof(t->reason), "test_progs exited %d with no failed subtest",
				 t->exit_code);
	}
}

/* A subtest's splat (classify_run attributed it): a pass or skip fails. */
static void judge_sub_splat(struct sub_result *u)
{
	if (u->splat == SPLAT_NONE || (u->outcome != OUT_PASS && u->outcome != OUT_SKIP))
		return;
	u->outcome = OUT_FAIL;
	snprintf(u->reason, sizeof(u->reason), "kernel %s during the subtest: %s", splat_name(u->splat),
		 u->splat_line);
}

/* The test's splat: an expected failure (XFAIL) expects the test's own
 * failure, never a kernel splat, which fails it like a pass. */
static void judge_splat(struct test_result *t)
{
	if (t->splat == SPLAT_NONE)
		return;
	if (t->outcome == OUT_XFAIL)
		snprintf(t->reason, sizeof(t->reason),
			 "kernel %s during the test (it failed as expected, %s, but no splat is): %s",
			 splat_name(t->splat), t->expect, t->splat_line);
	else if (t->outcome == OUT_PASS || t->outcome == OUT_SKIP)
		snprintf(t->reason, sizeof(t->reason), "kernel %s during the test: %s", splat_name(t->splat),
			 t->splat_line);
	else
		return;
	t->outcome = OUT_FAIL;
}

/* The manifest's expectation. */
static void judge_expect(struct test_result *t)
{
	if (!t->expect[0])
		return;
	if (!strcmp(t->expect, "sanitizer-exit-override") && t->outcome == OUT_SAN_OVERRIDE) {
		t->outcome = OUT_XFAIL;
		return;
	}
	if (t->outcome == OUT_PASS) {
		t->outcome = OUT_FAIL;
		snprintf(t->reason, sizeof(t->reason), "expected %s, but the test passed", t->expect);
	} else if (t->outcome != OUT_SKIP) {
		char r[sizeof(t->reason)];

		snprintf(r, sizeof(r), "expected %s, got %s: %s", t->expect, outcome_name(t->outcome), t->reason);
		snprintf(t->reason, sizeof(t->reason), "%s", r);
		if (t->outcome == OUT_FAIL || t->outcome == OUT_SAN_OVERRIDE)
			t->outcome = OUT_FAIL;
	}
}

void classify_test(struct test_result *t)
{
	/* No logs: no data pointer, and NULL + 0 is undefined (fuzz_classify
	 * under clang's UBSan). */
	const char *e = t->san.data ? t->san.data + t->san.len : NULL;

	/* Always from the facts: asking twice, or once more after the splats
	 * are attributed, gives the same answer from the same facts. */
	t->outcome = t->raw;
	snprintf(t->reason, sizeof(t->reason), "%s", t->raw_reason);
	if (t->nsubs || t->variant) {
		for (unsigned int i = 0; i < t->nsubs; i++) {
			struct sub_result *u = &t->subs[i];

			u->outcome = u->raw;
			snprintf(u->reason, sizeof(u->reason), "%s", u->raw_reason);
			judge_sub_splat(u);
		}
		for (unsigned int i = 0; i < t->nsubs; i++)
			classify_sub(t, &t->subs[i]);
		judge_splat(t);
		derive_from_subs(t);
		return;
	}
	parse_rate(t);
	if (t->outcome == OUT_FAIL && t->exit_code > 0)
		detect_override(t);
	if (t->outcome == OUT_PASS &&
	    (has(t->san.data, e, "ERROR: AddressSanitizer") || has(t->san.data, e, "runtime error:"))) {
		t->outcome = OUT_FAIL;
		snprintf(t->reason, sizeof(t->reason),
			 "the test passed but a sanitizer reported an error (see its sanitizer log)");
	}
	judge_expect(t);
	judge_splat(t);
}

/* Splats are facts about tests and subtests: the first of each is kept
 * with it; judging them is classify_test's. */
static void attribute_splats(struct run_result *res)
{
	for (unsigned int i = 0; i < res->nsplats; i++) {
		const struct splat_event *e = &res->splats[i];
		struct test_result *t = e->test >= 1 && e->test <= res->ntests ? &res->tests[e->test - 1] : NULL;

		if (!t)
			continue;
		if (e->sub && e->sub <= t->nsubs && t->subs[e->sub - 1].splat == SPLAT_NONE) {
			struct sub_result *u = &t->subs[e->sub - 1];

			u->splat = e->kind;
			snprintf(u->splat_line, sizeof(u->splat_line), "%s", e->line);
		}
		if (t->splat != SPLAT_NONE)
			continue;
		t->splat = e->kind;
		snprintf(t->splat_line, sizeof(t->splat_line), "%s", e->line);
	}
}

/* The run's status from what the session saw; *why, for the tests that
 * have no result, or NULL when the run completed. */
static const char *run_status(const struct run_facts *f, struct run_result *res)
{
	if (f->interrupted) {
		res->status = RUN_INTERRUPTED;
		return "interrupted";
	}
	if (f->end && !f->channel_error) {
		res->status = RUN_COMPLETE;
		return NULL;
	}
	if (!f->hello) {
		bool qemu_err = WIFEXITED(f->qemu_status) && WEXITSTATUS(f->qemu_status) != 0;

		if (qemu_err && !f->console_bytes) {
			res->status = RUN_QEMU_FAILED;
			snprintf(res->status_msg, sizeof(res->status_msg),
				 "QEMU exited with status %d before the guest printed anything: %.400s",
				 WEXITSTATUS(f->qemu_status), f->qemu_err[0] ? f->qemu_err : "(no message)");
		} else {
			res->status = RUN_BOOT_FAILED;
			snprintf(res->status_msg, sizeof(res->status_msg), "no hello from the guest agent%s%s%s",
				 f->hung ? " within the boot timeout" : "", f->panic ? "; kernel panic: " : "",
				 f->panic ? f->panic_line : "");
		}
		return "the kernel did not boot";
	}
	if (f->panic) {
		const struct test_result *t =
			f->panic_test >= 1 && f->panic_test <= res->ntests ? &res->tests[f->panic_test - 1] : NULL;

		res->status = RUN_KERNEL_PANIC;
		snprintf(res->status_msg, sizeof(res->status_msg), "kernel panic%s%s: %s",
			 t ? " during test " : " outside any test", t ? t->name : "", f->panic_line);
		return "the kernel panicked";
	}
	if (f->channel_error) {
		res->status = RUN_CHANNEL_CORRUPT;
		snprintf(res->status_msg, sizeof(res->status_msg), "results channel %s: %s",
			 f->channel_error == PROTO_ERR_TRUNCATED ? "truncated"
			 : f->channel_error == PROTO_ERR_CONTENT ? "out of step with the plan"
								  : "corrupted",
			 f->channel_msg);
		return "the results channel broke";
	}
	if (f->hung) {
		res->status = RUN_HUNG;
		snprintf(res->status_msg, sizeof(res->status_msg), "%s", f->hung_msg);
		return "the guest stopped answering";
	}
	res->status = RUN_GUEST_DIED;
	snprintf(res->status_msg, sizeof(res->status_msg), "the guest stopped (QEMU %s %d) without an end-of-run record",
		 WIFSIGNALED(f->qemu_status) ? "killed by signal" : "exit status",
		 WIFSIGNALED(f->qemu_status) ? WTERMSIG(f->qemu_status) : WEXITSTATUS(f->qemu_status));
	return "the guest died";
}

void classify_run(const struct run_facts *f, struct run_result *res)
{
	const char *why = run_status(f, res);

	for (unsigned int i = 0; why && i < res->ntests; i++) {
		struct test_result *t = &res->tests[i];

		if (f->panic && t->num == f->panic_test && (t->raw == OUT_PENDING || t->raw == OUT_PASS)) {
			t->raw = OUT_PANIC;
			snprintf(t->raw_reason, sizeof(t->raw_reason), "kernel panic: %s", f->panic_line);
		} else if (t->raw != OUT_PENDING) {
			continue;
		} else if (t->begun && f->hung && t->num == f->cur_test) {
			t->raw = OUT_TIMEOUT;
			snprintf(t->raw_reason, sizeof(t->raw_reason),
				 "no result %u s after its %u s timeout: the guest stopped answering", f->test_grace_s,
				 t->timeout_s);
		} else {
			t->raw = OUT_ERROR;
			snprintf(t->raw_reason, sizeof(t->raw_reason), "%s: %s", t->begun ? "no result" : "not run",
				 res->status_msg);
		}
	}
	attribute_splats(res);
	for (unsigned int i = 0; i < res->ntests; i++)
		classify_test(&res->tests[i]);
}
