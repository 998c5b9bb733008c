/* One writer at a time in a cache directory: an flock on <dir>/.lock,
 * held until released (or the process exits). Readers of finished entries
 * need no lock: entries are published with one rename.
 */
#ifndef KTA_DIRLOCK_H
#define KTA_DIRLOCK_H

struct dirlock {
	int fd;                               /* -1: not held */
	const char *dir;
	int (*stopped)(void);                 /* non-zero: a signal asks to stop waiting */
};

/* Take the lock (no-op when held), saying so when another kta has it. */
int dirlock_take(struct dirlock *l);
/* Take it only if free: 0, or -EWOULDBLOCK. */
int dirlock_try(struct dirlock *l);
void dirlock_release(struct dirlock *l);

/* Writers build entries in <dir>/.tmp-* and rename them into place: with
 * the lock held, any .tmp-* is a killed writer's, removed here. */
void dirlock_clean_stale(const struct dirlock *l);
/* The same on a cache hit: only if no other kta holds the lock (never
 * waits for it). */
void dirlock_try_clean_stale(struct dirlock *l);

#endif
