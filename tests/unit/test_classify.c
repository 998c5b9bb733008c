/* The judgement of a whole run from its facts (classify.h): pure, and the
 * same answer however often it is asked. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run/classify.h"
#include "run/proto.h"
#include "unit.h"

#define NT 4

struct fixture {
	struct test_result t[NT];
	struct splat_event e[4];
	struct run_result r;
	struct run_facts f;
};

/* Four tests: 1 an expected LeakSanitizer override, 2 and 3 passes, 4 not
 * begun; the agent said hello and ended. */
static void setup(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	for (unsigned int i = 0; i < NT; i++) {
		x->t[i].num = i + 1;
		snprintf(x->t[i].name, sizeof(x->t[i].name), "t%u", i + 1);
		x->t[i].raw = OUT_PASS;
		x->t[i].begun = true;
		x->t[i].timeout_s = 10;
	}
	x->t[0].raw = OUT_FAIL;
	x->t[0].exit_code = 1;
	snprintf(x->t[0].expect, sizeof(x->t[0].expect), "sanitizer-exit-override");
	buf_printf(&x->t[0].output, "kta-child: pid=77 status=1 assertions_failed=0\n");
	san_append(&x->t[0], "asan.77", "==77==ERROR: LeakSanitizer: detected memory leaks\n", 50);
	x->t[3].raw = OUT_PENDING;
	x->t[3].begun = false;
	x->r = (struct run_result){ .tests = x->t, .ntests = NT, .splats = x->e };
	x->f = (struct run_facts){ .hello = true, .end = true, .test_grace_s = 30 };
}

static void teardown(struct fixture *x)
{
	for (unsigned int i = 0; i < NT; i++) {
		buf_free(&x->t[i].output);
		buf_free(&x->t[i].san);
	}
}

static void splat(struct fixture *x, unsigned int test, const char *line)
{
	struct splat_event *e = &x->e[x->r.nsplats++];

	*e = (struct splat_event){ .kind = SPLAT_WARN, .test = test };
	snprintf(e->line, sizeof(e->line), "%s", line);
}

int main(void)
{
	struct fixture x;

	setup(&x);
	x.t[3].raw = OUT_PASS;
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_COMPLETE, "hello and end: a complete run");
	CHECK_EQ_INT(x.t[0].outcome, OUT_XFAIL, "the expected override is XFAIL");
	CHECK_EQ_INT(run_result_exit_code(&x.r), EXIT_OK, "and the run passes");
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.t[0].outcome, OUT_XFAIL, "asked again, the same answer");
	teardown(&x);

	/* Fault 1: a splat while the XFAIL test ran fails it. */
	setup(&x);
	x.t[3].raw = OUT_PASS;
	classify_test(&x.t[0]); /* the progress line's early judgement */
	CHECK_EQ_INT(x.t[0].outcome, OUT_XFAIL, "before the splats: XFAIL");
	splat(&x, 1, "WARNING: CPU: 0 PID: 1 at net/core/skmsg.c:1");
	splat(&x, 2, "WARNING: CPU: 1 PID: 2 at kernel/bpf/x.c:2");
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.t[0].outcome, OUT_FAIL, "a kernel WARN during an XFAIL test fails it");
	CHECK(strstr(x.t[0].reason, "WARNING: CPU: 0") && strstr(x.t[0].reason, "sanitizer-exit-override"),
	      "and says both");
	CHECK_EQ_INT(x.t[1].outcome, OUT_FAIL, "a WARN during a passing test fails it");
	CHECK_EQ_INT(x.t[2].outcome, OUT_PASS, "a test with no splat is left alone");
	CHECK_EQ_INT(run_result_exit_code(&x.r), EXIT_TEST_FAILED, "the run is a failure");
	classify_run(&x.f, &x.r);
	CHECK(x.t[0].outcome == OUT_FAIL && x.t[1].outcome == OUT_FAIL, "asked again, the same answer");
	teardown(&x);

	/* The facts that end a run early. */
	setup(&x);
	x.f.end = false;
	x.f.panic = true;
	x.f.panic_test = 3;
	snprintf(x.f.panic_line, sizeof(x.f.panic_line), "Kernel panic - not syncing: test");
	x.t[2].raw = OUT_PENDING;
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_KERNEL_PANIC, "a panic");
	CHECK(strstr(x.r.status_msg, "during test t3"), "names the test it came in");
	CHECK_EQ_INT(x.t[2].outcome, OUT_PANIC, "that test panicked");
	CHECK_EQ_INT(x.t[3].outcome, OUT_ERROR, "the next was not run");
	CHECK(strstr(x.t[3].reason, "not run: kernel panic"), "and says why");
	CHECK_EQ_INT(x.t[1].outcome, OUT_PASS, "an earlier result stands");
	teardown(&x);

	setup(&x);
	x.f.end = false;
	x.f.hung = true;
	x.f.cur_test = 3;
	snprintf(x.f.hung_msg, sizeof(x.f.hung_msg), "test 3 gave no result in time");
	x.t[2].raw = OUT_PENDING;
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_HUNG, "a hang");
	CHECK_EQ_INT(x.t[2].outcome, OUT_TIMEOUT, "the running test timed out");
	CHECK(strstr(x.t[2].reason, "30 s after its 10 s timeout"), "with the grace and its timeout");
	teardown(&x);

	setup(&x);
	x.f.end = false;
	x.f.hello = false;
	x.f.qemu_status = 1 << 8; /* exit 1 */
	snprintf(x.f.qemu_err, sizeof(x.f.qemu_err), "qemu: could not load kernel");
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_QEMU_FAILED, "QEMU exited before any console output");
	CHECK_EQ_INT(run_result_exit_code(&x.r), EXIT_QEMU_FAILED, "exit 201");
	x.f.console_bytes = 100;
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_BOOT_FAILED, "with console output and no hello: the kernel did not boot");
	CHECK_EQ_INT(run_result_exit_code(&x.r), EXIT_BOOT_FAILED, "exit 125");
	teardown(&x);

	setup(&x);
	x.f.channel_error = PROTO_ERR_CONTENT;
	snprintf(x.f.channel_msg, sizeof(x.f.channel_msg), "the result of test 2 is named `t3`");
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_CHANNEL_CORRUPT, "an end record does not save a broken channel");
	CHECK(strstr(x.r.status_msg, "out of step with the plan"), "out of step with the plan");
	CHECK_EQ_INT(run_result_exit_code(&x.r), EXIT_CHANNEL, "exit 202");
	teardown(&x);

	setup(&x);
	x.f.interrupted = true;
	x.r.status = RUN_INTERRUPTED;
	x.f.end = false;
	classify_run(&x.f, &x.r);
	CHECK_EQ_INT(x.r.status, RUN_INTERRUPTED, "interrupted");
	CHECK(x.t[3].outcome == OUT_ERROR && strstr(x.t[3].reason, "not run: "), "its unstarted test: not run");
	teardown(&x);

	/* A test_progs run: subtests judged from their own facts. */
	{
		struct test_result t = { .num = 1, .raw = OUT_FAIL, .exit_code = 1, .begun = true };
		struct sub_result s[2] = { 0 };
		struct splat_event e = { .kind = SPLAT_BUG, .test = 1, .sub = 2 };
		struct run_result r = { .tests = &t, .ntests = 1, .splats = &e, .nsplats = 1 };
		struct run_facts f = { .hello = true, .end = true };

		snprintf(e.line, sizeof(e.line), "BUG: KASAN: slab-use-after-free in sk_psock_verdict_data_ready");
		t.subs = s;
		t.nsubs = 2;
		s[0] = (struct sub_result){ .num = 1, .raw = OUT_FAIL, .main_pid = 10 };
		snprintf(s[0].name, sizeof(s[0].name), "token/map_token");
		snprintf(s[0].san, sizeof(s[0].san), "asan.11");
		san_append(&t, "asan.11", "==11==ERROR: LeakSanitizer: detected memory leaks\n", 50);
		s[1] = (struct sub_result){ .num = 2, .raw = OUT_PASS, .main_pid = 10 };
		snprintf(s[1].name, sizeof(s[1].name), "sockmap_basic/multi channels");
		classify_run(&f, &r);
		CHECK_EQ_INT(s[0].outcome, OUT_SAN_OVERRIDE, "a forked child's leak report: the override");
		CHECK_EQ_INT(s[1].outcome, OUT_FAIL, "a KASAN report during a passing subtest fails it");
		CHECK(strstr(s[1].reason, "KASAN"), "with the kernel's line");
		CHECK_EQ_INT(t.outcome, OUT_FAIL, "the run fails, not only by the override");
		classify_run(&f, &r);
		CHECK(s[0].outcome == OUT_SAN_OVERRIDE && s[1].outcome == OUT_FAIL && t.outcome == OUT_FAIL,
		      "asked again, the same answer");
		buf_free(&t.san);
	}
	return unit_done();
}
