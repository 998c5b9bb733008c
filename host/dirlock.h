/* One writer at a time in a cache directory: an flock on <dir>/.lock,
 * held until released (or the process exits). Readers of finished entries
 * need no lock: entries are published with one rename.
 */
#ifndef KTA_DIRLOCK_H
#define KTA_DIRLOCK_H

#include <signal.h>

struct dirlock {
	int fd;                               /* -1: not held */
	const char *dir;
	const volatile sig_atomic_t *stop;    /* set by a signal handler: stop waiting */
};

/* Take the lock (no-op when held), saying so when another kta has it. */
int dirlock_take(struct dirlock *l);
/* Take it only if free: 0, or -EWOULDBLOCK. */
int dirlock_try(struct dirlock *l);
void dirlock_release(struct dirlock *l);

#endif
