/* Running helper programs (git, make, tar, dpkg-deb) in a given directory
 * with a few extra environment variables, for the kernel-build and patch
 * code. Like run_command() (util.h), but with a working directory and an
 * environment, and with a variant that streams output line by line.
 */
#ifndef KTA_SPAWN_H
#define KTA_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/util.h"

struct spawn_opts {
	const char *cwd;               /* NULL: the current directory */
	const char *const *env;        /* NULL-terminated "KEY=VALUE" to add; NULL: none */
	int out_fd;                    /* >= 0: stdout and stderr go here (out is ignored) */
	bool new_pgrp;                 /* own process group (killable as a whole) */
	/* NULL-terminated argv run in front of argv (a toolchain root's
	 * bwrap, troot.h); NULL: none. cwd is entered first, and bwrap keeps
	 * it when it is bound inside. */
	char *const *prefix;
	bool keep_stdin;               /* inherit stdin (default: /dev/null) */
};

/* Run argv and wait. Output (stdout and stderr merged) is appended to out
 * unless o->out_fd >= 0. Returns the exit status (>= 0; 128 + signal for a
 * killed child; 127 when argv[0] cannot be run) or a negative errno. */
int spawn_run(char *const argv[], const struct spawn_opts *o, struct buf *out);

/* Start argv without waiting; *pid is the child. Output as for spawn_run,
 * except that with out_fd < 0 *out_pipe is the read end of a pipe carrying
 * the merged output (close it when done). */
int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *out_pipe);

/* waitpid() retried on EINTR; the exit status as spawn_run returns it. */
int spawn_wait(pid_t pid);

#endif
