/* The one way kta starts processes: QEMU, apt, dpkg, git, make, compilers,
 * libguestfs' helper, and the forked children that run kta's own code (the
 * matrix's architectures, validate's cells). argv only, never a shell; a
 * working directory and extra environment; optionally its own process
 * group; a parent-death signal, so nothing kta starts outlives it even if
 * kta is SIGKILLed; default signal dispositions and an empty signal mask
 * (kta blocks SIGINT while a guest runs); stdin from /dev/null and output
 * never inherited by accident: captured, or into a file kta names.
 */
#ifndef KTA_SPAWN_H
#define KTA_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/util.h"

enum spawn_output {
	SPAWN_CAPTURE = 0,  /* stdout and stderr merged into a pipe (spawn_run: into out) */
	SPAWN_TO_FD,        /* stdout and stderr merged into out_fd */
	SPAWN_STDERR,       /* stdout to /dev/null, stderr into the pipe (QEMU's complaints) */
	SPAWN_STDOUT,       /* stdout into the pipe, stderr to /dev/null (an answer read line by line) */
	SPAWN_INHERIT,      /* kta's own stdout and stderr, by choice (validate's cells) */
};

struct spawn_opts {
	const char *cwd;               /* NULL: the current directory */
	const char *const *env;        /* NULL-terminated "KEY=VALUE" to add; NULL: none */
	enum spawn_output output;
	int out_fd;                    /* SPAWN_TO_FD's file */
	bool new_pgrp;                 /* own process group (killable as a whole) */
	int pdeath_sig;                /* sent if kta dies first; 0: SIGTERM */
	/* NULL-terminated argv run in front of argv (a toolchain root's
	 * bwrap, troot.h); NULL: none. cwd is entered first, and bwrap keeps
	 * it when it is bound inside. */
	char *const *prefix;
	bool keep_stdin;               /* inherit stdin (default: /dev/null) */
};

/* Run argv and wait. Output (stdout and stderr merged) is appended to out
 * unless o->output is SPAWN_TO_FD (o NULL: defaults). Returns the exit status (>= 0; 128 + signal for a
 * killed child; 127 when argv[0] cannot be run) or a negative errno. */
int spawn_run(char *const argv[], const struct spawn_opts *o, struct buf *out);

/* Start argv without waiting; *pid is the child. Output as for spawn_run,
 * except that without SPAWN_TO_FD *out_pipe is the read end of the pipe
 * (close it when done; out_pipe NULL: the output is discarded). */
int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *out_pipe);

/* fork() for a child that runs kta's own code: o's group and parent-death
 * signal, default signal dispositions, nothing blocked, stdin /dev/null,
 * and with SPAWN_TO_FD stdout and stderr into out_fd. Returns 0 in the
 * child, the child's pid in the parent, or a negative errno. */
pid_t spawn_fork(const struct spawn_opts *o);

/* waitpid() retried on EINTR; the exit status as spawn_run returns it. */
int spawn_wait(pid_t pid);

/* A wait status as spawn_run returns it: the exit code, 128 + signal. */
int spawn_status(int wstatus);

/* waitpid(-1, WNOHANG); when no child has ended, sleep ms (a signal cuts
 * it short) and return 0. Schedulers of children poll with it, looking at
 * interrupt_signal() between calls: a blocking wait could sleep through a
 * signal that lands just before it. */
pid_t spawn_wait_any(int *status, unsigned int ms);

/* sig to the child and, when it leads one, its process group. */
void spawn_kill(pid_t pid, int sig);

#endif
