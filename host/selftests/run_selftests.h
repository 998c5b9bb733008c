/* `kta run --selftests SEL`: the kernel's own BPF selftests in the guest.
 * Before the boot: build them (selftests.h) once, or twice with
 * --compare-patches (without and with the series, for the same kernel);
 * check every selected name against the tests test_progs has; skip what
 * the kernel's configuration cannot support; choose the payload (an ext4
 * image on virtio-blk, or the initramfs). The plan runs test_progs -v in
 * the payload's root, N times, interleaving the builds, and the agent
 * reports each subtest as it ends. After the run: per-subtest failure
 * counts with 95% intervals, and for two builds Fisher's exact test.
 */
#ifndef KTA_RUN_SELFTESTS_H
#define KTA_RUN_SELFTESTS_H

#include <stdbool.h>
#include <stdio.h>

#include "guest/initramfs.h"
#include "kernel/kernel.h"
#include "run/results.h"
#include "selftests/selftests.h"

struct st_run_opts {
	const char *select;      /* comma-separated tests or test/subtest (globs) */
	const char *tp_args;     /* more test_progs arguments (-t X -d Y ...) */
	bool compare;            /* --compare-patches: without and with the series */
	unsigned int runs;       /* repetitions in one boot (0: 1) */
	const char *payload;     /* "auto", "ext4", "initramfs" */
	unsigned int subtimeout_s;
	/* test_progs without -v, as BPF CI runs it: its output is kept per
	 * test and printed when the test ends, so subtests are reported then
	 * (not as each ends), and a forked child inherits that buffer. */
	bool ci_output;
	struct st_opts build;
};

struct st_variant {
	char id;                 /* 'a' without the series, 'b' with it; 0: one build */
	const char *label;       /* "unpatched", "patched", "selftests" */
	struct st_result b;
	char root[64];           /* where the guest finds it: /kta/st/<id> */
	char dev[8];             /* "vda", or "" when it is in the initramfs */
};

struct skip_rule {
	char name[160];          /* the test or test/subtest skipped */
	char reason[256];
};

struct st_run {
	struct st_variant v[2];
	unsigned int nv;
	bool initramfs;          /* the payload goes in the initramfs */
	char payload_why[256];
	struct skip_rule *skips; /* what the kernel's config cannot support */
	unsigned int nskips;
	const char *disks[3];
	char kernel[4096];       /* the image to boot (the builds') */
	unsigned int first_test; /* the plan number of the first selftests run */
	unsigned int ntests;
};

/* Build, check the selection and the kernel's config, pick the payload.
 * kernel_path/kernel_version in o->build say which kernel to run on (else
 * the kta-built selftests kernel). 0 or a negative error (an st_build()
 * error, -EINVAL for a bad selection, after saying why). */
int st_run_prepare(struct st_run_opts *o, struct st_run *r);

/* Plan lines and result entries (appended to res->tests) for the runs;
 * timeout_s is each test_progs run's limit. */
int st_run_plan(struct st_run *r, const struct st_run_opts *o, struct buf *plan, struct run_result *res,
		unsigned int timeout_s);

/* The payloads' files, when they go in the initramfs. */
int st_run_initramfs(const struct st_run *r, struct initramfs *fs);

/* After the session: the skipped tests as skipped subtests of each run,
 * then reclassification (classify_test). */
void st_run_finish(const struct st_run *r, struct run_result *res);

/* The per-subtest table of failures/runs (and, with two builds, the
 * difference). */
void st_run_summary(FILE *f, const struct st_run *r, const struct st_run_opts *o, const struct run_result *res);
/* The same as JSON, for results.json: {"subtests": [...]}. */
int st_run_json(const char *path, const struct st_run *r, const struct st_run_opts *o, const struct run_result *res);

void st_run_free(struct st_run *r);

#endif
