/* kta bisect: one step is one boot of a kernel running the selection N
 * times (a `kta run --runs N` child, so its run.log holds the command a
 * person would type); the driver (cmd_bisect.c) decides where to step and
 * judges steps with bisect_stats.h.
 */
#ifndef KTA_BISECT_H
#define KTA_BISECT_H

#include <stdbool.h>

struct bisect_sel {
	const char *kta;            /* the kta executable the steps run */
	const char *arch;
	const char *flavour;        /* NULL: the arch's */
	char *items[32];            /* --suite NAME / --test PATH */
	char kind[32];              /* 's' suite, 't' test, per item */
	unsigned int nitems;
	const char *only;           /* fnmatch glob over test names: only these count */
	const char *env[16];        /* --env KEY=VALUE for the tests */
	unsigned int nenv;
	unsigned int iterations, timeout_s;
};

/* What one boot gave. */
struct bisect_boot {
	int exit_code;              /* the kta run child's */
	bool booted;                /* the agent said hello */
	unsigned long runs, fails;  /* rounds run, rounds in which a counted test failed */
	unsigned long skips;        /* rounds in which a counted test skipped (not counted) */
	char kernel[128];           /* the kernel the run says it booted */
	unsigned long long wall_ms, boot_ms;
	char why[256];              /* not booted, or no result: the log's last line */
	char retried[256];          /* the first boot died before the agent: how */
};

/* Append the selection's kta run options (--iterations, --timeout,
 * --env, --suite/--test) to argv at k, numbers kept in num; the new k.
 * One list for a step's `kta run` and for `kta bisect run`. */
unsigned int bisect_sel_args(const struct bisect_sel *s, char num[2][16], const char **argv, unsigned int k);

/* Count a run's rounds (results.json at path, runs rounds) into b. A
 * round fails when a counted test failed in it; a round in which a
 * counted test skipped and none failed is not counted at all; nor is a
 * round none of whose tests started. */
int bisect_read_rounds(const char *path, const struct bisect_sel *s, unsigned int runs, struct bisect_boot *b);

/* Boot Debian's kernel abi (exact), or image when not NULL, with the
 * selection runs times, in dir. */
int bisect_boot(const struct bisect_sel *s, const char *abi, const char *image, unsigned int runs, const char *dir,
		struct bisect_boot *out);

/* Every option of kta bisect, parsed once (cmd_bisect.c). */
struct bopts {
	struct bisect_sel sel;
	const struct arch_profile *arch;
	const char *old_v, *new_v, *line;
	bool fix, verify;
	unsigned int first, max_runs;
	double alpha, beta;
	char out[4096];
	/* Commits: --tree DIR, and `kta bisect run`'s rates and step log. */
	const char *tree, *fragments, *log;
	double p_old, p_new;
	int argc;
	char **argv;
};

/* `kta bisect run`: build the tree's HEAD, judge it, exit 0 (as at the
 * old end), 1 (as at the new), 125 (cannot build, boot or decide: skip),
 * >= 128 (infrastructure: git bisect stops). */
int bisect_run(const struct bopts *o);
/* `kta bisect --tree DIR --good REV --bad REV`: both ends, then git
 * bisect run with kta bisect run, the culprit and its evidence. */
int bisect_tree(struct bopts *o);

/* Run argv in its own process group, output to out_fd, and wait; a stop
 * (interrupt.h) is passed to the whole group. The exit status. */
int bisect_child(const char *const *argv, int out_fd);

/* A signal handler: stop the step's run (it keeps what it has) and start
 * no other. */

#endif
