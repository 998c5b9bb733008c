/* The outcome model: what happened to each test and to the run as a whole.
 * Shared by the VM session (which fills it) and the reporters.
 */
#ifndef KTA_RESULTS_H
#define KTA_RESULTS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "run/splat.h"
#include "base/exit.h"
#include "base/util.h"

enum outcome {
	OUT_PENDING,   /* not started (yet) */
	OUT_PASS,
	OUT_FAIL,      /* non-zero exit, or a kernel splat during the test */
	OUT_SKIP,
	OUT_TIMEOUT,
	OUT_CRASH,     /* the test was killed by a signal */
	OUT_PANIC,     /* the kernel panicked while this test ran */
	OUT_ERROR,     /* no result: the guest died or the channel broke */
	OUT_SAN_OVERRIDE, /* failed only because LeakSanitizer rewrote a child's exit status */
	OUT_XFAIL,     /* failed exactly the way its manifest says it is known to */
	OUT__COUNT,
};

const char *outcome_name(enum outcome o);

/* One subtest of a test whose output is test_progs' (parse=test_progs):
 * it arrives as a `sub` frame when it ends. */
struct sub_result {
	unsigned int num;         /* KTAP number within its test, 1-based */
	char name[160];           /* "token/map_token", or a test without subtests */
	enum outcome raw;         /* what test_progs said (vm.c): the fact */
	char raw_reason[256];
	enum outcome outcome;     /* the judgement (classify.c) */
	char reason[256];
	unsigned int duration_ms;
	char tp[24];              /* test_progs' own number, "123/4" */
	char san[256];            /* its sanitizer logs, "asan.1234,asan.1240" */
	int main_pid;             /* test_progs' pid: another pid's log is a forked child's */
	enum splat_kind splat;
	char splat_line[256];
	size_t out_start, out_end; /* its part of the test's output */
};

struct test_result {
	unsigned int num;
	char name[128];
	char path[PATH_MAX];     /* host path of the executable */
	unsigned int timeout_s;
	/* What the agent's result said, or what the session saw of the test
	 * (vm.c, classify_run): the facts, never a judgement. */
	enum outcome raw;
	char raw_reason[512];
	/* The judgement (classify.c), made again from the facts whenever
	 * asked: a progress line asks early, the report at the end. */
	enum outcome outcome;
	char reason[512];        /* skip reason, failure summary, error cause */
	int exit_code;           /* -1 unknown */
	int signal;              /* 0 none */
	unsigned int duration_ms;
	bool begun;
	struct buf output;       /* everything the test wrote */
	enum splat_kind splat;   /* first kernel splat attributed to it */
	char splat_line[256];
	char expect[64];         /* known failure from the manifest, or "" */
	char suite[32];          /* its suite ("" for a bare --test) */
	struct buf san;          /* sanitizer logs, "=== sanitizer log FILE ===" sections */
	char san_last[128];      /* file of the last san frame */
	bool has_rate;           /* a "kta-rate:" line: a measurement */
	unsigned long rate_failures, rate_iterations;
	double rate_lo, rate_hi; /* 95% Wilson score interval of the failure rate */
	struct sub_result *subs; /* test_progs' subtests, in the order they ended */
	unsigned int nsubs, subcap;
	/* A run of the kernel's selftests: which build ('a' without the
	 * series, 'b' with it; 0 otherwise) and which repetition (1-based). */
	char variant;
	unsigned int run;
	/* test_progs ran without -v: a test's subtests arrive together when
	 * it ends, so their sanitizer logs belong to the test, not to one. */
	bool tp_per_test;
	struct buf tp_json;      /* test_progs' own -J summary */
};

enum run_status {
	RUN_COMPLETE,          /* end-of-run record received */
	RUN_BOOT_FAILED,       /* no hello from the agent */
	RUN_QEMU_FAILED,       /* QEMU did not start */
	RUN_CHANNEL_CORRUPT,   /* a frame failed its check, or the stream was cut */
	RUN_GUEST_DIED,        /* stream ended without an end-of-run record */
	RUN_KERNEL_PANIC,      /* kernel panic after boot */
	RUN_HUNG,              /* a test or the whole run exceeded its deadline on the host */
	RUN_INTERRUPTED,       /* SIGINT/SIGTERM to kta */
	RUN__COUNT,
};

const char *run_status_name(enum run_status s);

struct splat_event {
	enum splat_kind kind;
	unsigned int test;       /* 0: outside any test */
	unsigned int sub;        /* the subtest it came in (ended after it), 0: none */
	char line[256];
};

/* What the session saw of the run as a whole (vm.c records it; classify_run
 * judges it). */
struct run_facts {
	bool interrupted;        /* a signal to kta stopped it */
	bool hello, end;         /* the agent's hello; its end-of-run record */
	int channel_error;       /* PROTO_ERR_*, 0: none */
	char channel_msg[256];
	int qemu_status;         /* QEMU's wait status */
	size_t console_bytes;    /* what the console printed */
	char qemu_err[512];      /* the start of QEMU's stderr */
	bool panic;
	unsigned int panic_test; /* 0: outside any test */
	char panic_line[256];
	bool hung;               /* a deadline passed on the host */
	char hung_msg[256];
	unsigned int cur_test;   /* the test running then, 0: none */
	unsigned int test_grace_s;
};

struct run_result {
	struct test_result *tests;
	unsigned int ntests;
	enum run_status status;
	char status_msg[512];
	int interrupt_signal;
	/* From the agent's hello. */
	char guest_kernel[128];
	char guest_arch[32];
	uint64_t guest_uptime_ms;  /* guest's CLOCK_BOOTTIME at hello */
	/* Host wall clock, ms since QEMU was spawned. */
	uint64_t t_hello_ms, t_first_result_ms, t_end_ms, t_exit_ms;
	struct splat_event *splats;
	unsigned int nsplats;
	unsigned int nsplats_dropped; /* past the cap: counted, not kept */
	bool accel_kvm;
	char accel_reason[256];
};

void run_result_free(struct run_result *r);
/* Did this outcome fail the run? */
bool outcome_is_failure(enum outcome o);
/* The subtests' outcomes, counted over every test. */
void run_result_sub_counts(const struct run_result *r, unsigned int counts[OUT__COUNT], unsigned int *total);
/* Counts per outcome, and the process exit code for this run. */
void run_result_counts(const struct run_result *r, unsigned int counts[OUT__COUNT]);
int run_result_exit_code(const struct run_result *r);

#endif
