/* The plan as the agent holds it (agent_plan.c), apart from the rest of
 * the agent so that the host's tests and fuzzers can read plans with the
 * agent's own reader. */
#ifndef KTA_AGENT_PLAN_H
#define KTA_AGENT_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "run/plan.h"

#define AGENT_PATH_ENV "PATH=/bin:/sbin:/usr/bin:/usr/sbin:/kta/tests"
#define AGENT_SAN_DIR "/tmp/kta-san"  /* sanitizer logs: <dir>/<test number>/ */

struct plan_test {
	unsigned int num;        /* 1-based KTAP test number */
	unsigned int timeout_s;  /* 0: no deadline */
	char *name;
	char *path;
	char **argv;             /* path, args..., NULL */
	char **env;              /* KEY=VALUE from `tenv` lines before it */
	size_t nenv;
	/* From `topt` lines before it. */
	char *root;              /* chroot here first (a prepared root), or NULL */
	char *cwd;               /* working directory (in root), or NULL: /tmp */
	bool tprogs;             /* parse=test_progs: its subtests become sub frames */
	unsigned int subtimeout_s; /* 0: only the test's own deadline */
};

/* A root tests can chroot into: a disk mounted read-only, or a directory
 * of the initramfs, with /proc, /sys, /dev, /tmp and /run bound in. */
struct plan_root {
	char *dev;               /* "vda": /dev/vda, ext4, read-only; NULL: dir is in the initramfs */
	char *dir;
	char *fstype;            /* an `image` line's: mounted read-write; NULL: a `disk` or `root` */
	char *out;               /* an `image` line's KTA_OUT, made in the root */
};

/* Load beside every test (`stress` plan line), to make timing races show:
 * CPU-bound processes at a nice level, and memory kept in use. */
struct stress {
	unsigned int hogs;       /* busy loops, one process each */
	int nice;                /* their nice level (-20..19) */
	unsigned int mem_mb;     /* memory held and touched by one more process */
};

struct plan {
	struct stress stress;
	char **env;              /* KEY=VALUE, from `env` lines */
	size_t nenv;
	struct plan_test *tests;
	size_t ntests;
	char **pending_env;      /* `tenv` lines waiting for their test */
	size_t npending;
	struct plan_test pending_opt; /* `topt` settings waiting for their test */
	struct plan_root *roots;
	size_t nroots;
	bool writable_root;      /* an `image` root: sync after each test */
};

/* agent_plan.c: the plan's text (len bytes in buf, with room for one more)
 * into pl; buf is cut up. Each bad line is skipped and passed to warn (line
 * 0: about the whole plan). -EINVAL for a plan with a NUL byte, -ENOMEM. */
typedef void (*plan_warn_fn)(void *ctx, unsigned int line, const char *what, const char *text);
int plan_parse(struct plan *pl, char *buf, size_t len, plan_warn_fn warn, void *ctx);
/* A test's environment: PATH, HOME=/tmp and KTA_TEST=<name>, then the
 * plan's env lines and the test's tenv lines, which may override them, then
 * the sanitizer log paths. The array and the NULL-terminated *owned strings
 * are the caller's to free; NULL when out of memory. */
char **plan_env(const struct plan *pl, const struct plan_test *t, char ***owned);

/* Everything plan_parse() allocated. */
void plan_free(struct plan *pl);

#endif
