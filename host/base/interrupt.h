/* One interrupt model for every command. SIGINT, SIGTERM and SIGHUP only
 * note the first signal (so each step's cleanup runs) and pass it on to the
 * process groups of the children being watched; long loops poll
 * interrupt_signal(). Scopes nest: a kernel build inside a bisect shares
 * the bisect's catch, and the outermost end restores what was there.
 *
 * A poll loop that takes signals from a signalfd (run/vm.c) blocks them
 * instead and reports what it read through interrupt_note().
 */
#ifndef KTA_INTERRUPT_H
#define KTA_INTERRUPT_H

#include <stdbool.h>
#include <sys/types.h>

void interrupt_begin(void);
void interrupt_end(void);

/* 0, or the first signal caught since the outermost interrupt_begin(). */
int interrupt_signal(void);

/* -EINTR once a signal was caught, else 0: for dirlock's `stopped`. */
int interrupt_check(void);

void interrupt_note(int sig);

/* Pass signals caught from now on to the process group pgid (a child
 * started with its own group): a signal that came before is passed at
 * once. At most INTERRUPT_WATCH groups; -ENOSPC past that. */
#define INTERRUPT_WATCH 64
int interrupt_watch(pid_t pgid);
void interrupt_unwatch(pid_t pgid);

/* The exit code of a command stopped by sig: 143 for SIGTERM, 130 for
 * the others (128 + SIGINT, what a shell shows for Ctrl-C). */
int interrupt_exit_code(int sig);

/* In a forked child that runs kta's own code: default dispositions, no
 * watched groups, nothing noted, nothing blocked. */
void interrupt_child_reset(void);

#endif
