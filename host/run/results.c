/* Outcome names and the mapping from a run to an exit code. */
#include "run/results.h"

#include <signal.h>

static const char *const outcome_names[OUT__COUNT] = {
	[OUT_PENDING] = "pending", [OUT_PASS] = "pass",     [OUT_FAIL] = "fail",
	[OUT_SKIP] = "skip",	   [OUT_TIMEOUT] = "timeout", [OUT_CRASH] = "crash",
	[OUT_PANIC] = "kernel-panic", [OUT_ERROR] = "error",
	[OUT_SAN_OVERRIDE] = "sanitizer-exit-override", [OUT_XFAIL] = "xfail",
};

static const char *const status_names[RUN__COUNT] = {
	[RUN_COMPLETE] = "complete",
	[RUN_BOOT_FAILED] = "kernel-failed-to-boot",
	[RUN_QEMU_FAILED] = "qemu-failed-to-start",
	[RUN_CHANNEL_CORRUPT] = "channel-corrupted",
	[RUN_GUEST_DIED] = "guest-died-without-end-record",
	[RUN_KERNEL_PANIC] = "kernel-panic",
	[RUN_HUNG] = "guest-hung",
	[RUN_INTERRUPTED] = "interrupted",
};

const char *outcome_name(enum outcome o)
{
	return (unsigned)o < OUT__COUNT ? outcome_names[o] : "?";
}

const char *run_status_name(enum run_status s)
{
	return (unsigned)s < RUN__COUNT ? status_names[s] : "?";
}

void run_result_free(struct run_result *r)
{
	for (unsigned int i = 0; i < r->ntests; i++) {
		buf_free(&r->tests[i].output);
		buf_free(&r->tests[i].san);
		free(r->tests[i].subs);
		buf_free(&r->tests[i].tp_json);
	}
	free(r->tests);
	free(r->splats);
	r->tests = NULL;
	r->splats = NULL;
	r->ntests = r->nsplats = 0;
}

void run_result_counts(const struct run_result *r, unsigned int counts[OUT__COUNT])
{
	for (int i = 0; i < OUT__COUNT; i++)
		counts[i] = 0;
	for (unsigned int i = 0; i < r->ntests; i++)
		counts[r->tests[i].outcome]++;
}

void run_result_sub_counts(const struct run_result *r, unsigned int counts[OUT__COUNT], unsigned int *total)
{
	*total = 0;
	for (int i = 0; i < OUT__COUNT; i++)
		counts[i] = 0;
	for (unsigned int i = 0; i < r->ntests; i++)
		for (unsigned int j = 0; j < r->tests[i].nsubs; j++) {
			counts[r->tests[i].subs[j].outcome]++;
			(*total)++;
		}
}

int run_result_exit_code(const struct run_result *r)
{
	unsigned int c[OUT__COUNT];

	switch (r->status) {
	case RUN_BOOT_FAILED:
		return EXIT_BOOT_FAILED;
	case RUN_QEMU_FAILED:
		return EXIT_QEMU_FAILED;
	case RUN_CHANNEL_CORRUPT:
		return EXIT_CHANNEL;
	case RUN_GUEST_DIED:
		return EXIT_GUEST_DIED;
	case RUN_INTERRUPTED:
		return r->interrupt_signal == SIGTERM ? EXIT_TERMINATED : EXIT_INTERRUPTED;
	case RUN_KERNEL_PANIC:
	case RUN_HUNG:
		/* The kernel or a test misbehaved: that is the commit's fault. */
		return EXIT_TEST_FAILED;
	case RUN_COMPLETE:
	default:
		break;
	}
	run_result_counts(r, c);
	for (int i = 0; i < OUT__COUNT; i++)
		if (c[i] && outcome_is_failure((enum outcome)i))
			return EXIT_TEST_FAILED;
	return EXIT_OK;
}

bool outcome_is_failure(enum outcome o)
{
	return o != OUT_PASS && o != OUT_SKIP && o != OUT_XFAIL;
}
