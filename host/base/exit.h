/* The exit codes of every kta command (README "Exit codes"). 0, 1 and 125
 * are what `git bisect run` understands: good, bad, cannot test. Every
 * problem with kta or the machine is 128 or above, so that bisect stops
 * instead of blaming a commit. 130 and 143 are what a shell reports for a
 * process that SIGINT or SIGTERM ended, and kta stopped by them says the
 * same; no other code of kta's lies in 129 to 192 (128 + a signal), so it
 * is never mistaken for a death by a signal: infrastructure is 200 up. */
#ifndef KTA_EXIT_H
#define KTA_EXIT_H

enum {
	EXIT_OK = 0,
	EXIT_TEST_FAILED = 1,
	EXIT_BOOT_FAILED = 125,
	EXIT_USAGE = 128,
	EXIT_INTERRUPTED = 130,
	EXIT_TERMINATED = 143,
	EXIT_INFRA = 200,
	EXIT_QEMU_FAILED = 201,
	EXIT_CHANNEL = 202,
	EXIT_GUEST_DIED = 203,
};

#include <stdbool.h>

/* The one mapping from a negative errno to an exit code, for every
 * command: 0 is EXIT_OK; -EINTR is the signal's (130, or 143 for
 * SIGTERM); bad input (-EINVAL, -ENOEXEC, -ENOPKG, and -ENOENT when the
 * caller's ENOENT means "what you named does not exist") is EXIT_USAGE;
 * anything else EXIT_INFRA. */
int exit_code_for(int err, bool enoent_is_input);

#endif
