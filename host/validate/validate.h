/* `kta validate`: does a patch series fix what it claims, on which
 * architectures, with what confidence, and does it break anything?
 *
 * The work is a list of cells: arch x side (before: the tree without the
 * series; after: with it) x shard of the runs. A cell is one `kta run`
 * child (tests repeated --runs times in one boot) on the kernel the side
 * calls for, and leaves a result file; any set of result files of the same
 * plan merges into one table of verdicts (verdict.h). Cells are
 * independent, so they run here (--jobs), or one per job of a CI engine
 * (--plan, --cell, --merge).
 */
#ifndef KTA_VALIDATE_H
#define KTA_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>

#include "base/arch.h"
#include "base/util.h"
#include "validate/verdict.h"

#define VALIDATE_MAX_ARCHES 8
#define VALIDATE_MAX_ITEMS 32

enum vside { VSIDE_BEFORE, VSIDE_AFTER };

/* What the user asked for: everything a cell needs to run the same way on
 * another machine (and what --replay repeats). */
struct vopts {
	const char *patches;     /* the series (required) */
	const char *tree;        /* a kernel tree, or NULL: source */
	const char *source;      /* debian:V (default debian:7.3) */
	const struct arch_profile *arches[VALIDATE_MAX_ARCHES];
	unsigned int narches;
	char kind;               /* 's' suites, 't' test paths, 'S' selftests */
	const char *items[VALIDATE_MAX_ITEMS]; /* suite names or test paths */
	unsigned int nitems;
	const char *selftests;   /* --selftests SEL */
	const char *st_toolchain; /* --selftests-toolchain root|host (NULL: run's default) */
	const char *kernel_version; /* Debian's prebuilt kernel on both sides (series in tools/ only) */
	bool asan;
	unsigned int runs;       /* per side (fixed N), or the budget's max */
	unsigned int shards;     /* runs split into this many cells per side */
	bool until_confident;
	unsigned int first;      /* --until-confident: runs at the first look */
	unsigned int budget_s;   /* --until-confident: wall-time budget (0: none) */
	struct verdict_rule rule;
	const char *stress;
	unsigned int iterations; /* KTA_ITERATIONS for the suites (0: theirs) */
	unsigned int timeout_s;  /* per test (0: kta run's default) */
	unsigned int jobs;       /* cells at once here (0: from cores) */
	const char *out;         /* the report's directory */
	const char *kta;         /* this executable, for the children */
	/* From the series: does it touch the kernel (anything outside
	 * tools/)? If not, both sides boot the same kernel. */
	bool series_kernel;
	char series_sha[65];
};

struct vcell {
	unsigned int index;
	const struct arch_profile *arch;
	enum vside side;
	unsigned int shard;
	unsigned int runs;
	unsigned int round;      /* --until-confident: the look it feeds (0 otherwise) */
};

/* One test's counts on one arch and side. */
struct vtally {
	char name[192];
	unsigned long runs, fails, skips;
};

/* A cell's result file, as written by a cell and read by --merge. */
struct vresult {
	char plan[17];           /* the plan's fingerprint: cells of one plan merge */
	unsigned int ncells;     /* cells in that plan */
	unsigned int index;
	char arch[16];
	enum vside side;
	unsigned int shard, runs, round;
	int exit_code;           /* the `kta run` child's, or the build's */
	char status[16];         /* ran | not-run | boot-failed | interrupted | infra */
	char reason[512];        /* not-run, infra: why */
	char retried[512];       /* the first boot failed and was retried: how */
	/* A run that ended before its last test (the kernel panicked, the
	 * guest stopped answering): its status and message, how many of
	 * its test entries (a test's run each) were planned and started,
	 * and whether the kernel died in one of them. */
	char stopped[512];
	unsigned int planned, started;
	bool died;
	unsigned long long wall_ms, build_ms, boot_ms;
	char kernel[256], kernel_sha256[65], tree_series[160], qemu[128];
	char tree[256];          /* --tree DIR, --source debian:V, or the default */
	char tests_id[160];      /* the guest root's content hash; + the selftests build's key */
	char machine[96];        /* the arch row's -M and -cpu */
	struct vtally *t;
	size_t nt;
	char path[4096];         /* where it was read from */
};

const char *vside_name(enum vside s);

/* The cells of opts for a fixed N (runs split over shards). */
int validate_cells(const struct vopts *o, struct vcell **cells, unsigned int *n);
/* A fingerprint of everything that decides what the cells run. */
void validate_fingerprint(const struct vopts *o, int argc, char **argv, char out[17]);

/* Run one cell: build (or reuse) its kernel, run `kta run`, read its
 * results, write dir/result.json. Returns the result's status code: 0
 * (ran, whatever the tests did), or EXIT_* for not-run/infra. */
int validate_run_cell(const struct vopts *o, const struct vcell *c, const char *plan, unsigned int ncells,
		      const char *dir, struct vresult *r);

/* Result files (JSON, through jansson). */
struct json_t;
/* Dump root (with jansson's flags) to path atomically; root is not freed. */
int validate_json_write(const char *path, struct json_t *root, unsigned long flags);
int vresult_write(const char *path, const struct vresult *r);
int vresult_read(const char *path, struct vresult *r);
void vresult_free(struct vresult *r);
/* The pure part of reading: text to a result (fuzzed). */
int vresult_parse(const char *text, size_t len, struct vresult *r, char *err, size_t errsz);

/* Merged counts: a row per arch x test, and where a kernel died during a
 * run, a row per arch for that: runs started, runs the kernel died in. */
#define VALIDATE_KERNEL_ROW "(kernel panic/hang)"
struct vrow {
	char arch[16];
	char test[192];
	unsigned long runs[2], fails[2], skips[2];
	bool not_run[2];         /* a side's cells could not run (reason in the report) */
	struct verdict v;
	unsigned long decided_at; /* --until-confident: runs per side at the deciding look */
};

struct vmerged {
	struct vrow *rows;
	size_t nrows;
	char plan[17];
	unsigned int ncells;
	bool *seen;              /* [ncells] */
	unsigned int missing, duplicates, mismatched;
	char problems[4096];     /* each missing, duplicated, foreign result named */
	char notes[4096];        /* per arch x side: why it did not run */
	char retried[4096];      /* cells whose first boot failed */
	char stopped[4096];      /* cells whose run ended early, and why */
};

/* Combine results (any order); a missing or duplicated cell is named in
 * m->problems, never counted twice. */
int validate_merge(const struct vresult *r, size_t n, const struct verdict_rule *rule, struct vmerged *m);
void vmerged_free(struct vmerged *m);

/* Reports. */
void validate_print_table(FILE *f, const struct vmerged *m, const struct verdict_rule *rule);
int validate_write_json(const char *path, const struct vmerged *m, const struct verdict_rule *rule,
			const struct vresult *r, size_t n, int argc, char **argv);
int validate_write_junit(const char *path, const struct vmerged *m);
int validate_write_svg(const char *path, const struct vmerged *m);

#endif
