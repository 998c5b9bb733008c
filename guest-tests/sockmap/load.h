/* Busy-loop hogs: forked children that spin on the guest's vCPUs while a
 * measurement runs, so that the kernel's deferred work (here: the psock
 * backlog worker) competes for CPU time. Killed and reaped by load_stop().
 */
#ifndef KTA_SOCKMAP_LOAD_H
#define KTA_SOCKMAP_LOAD_H

#include <sys/types.h>

#define LOAD_MAX_HOGS 64

struct load {
	pid_t pids[LOAD_MAX_HOGS];
	int nr;
	int pinned; /* 1: the caller is on CPU 0 and hog i on CPU i + 1 */
	char what[160];
};

/* nr < 0: one hog pinned to each vCPU but the first, and the caller pinned
 * to the first; nr >= 0: nr unpinned hogs. Returns 0 or -errno (hogs
 * already started are stopped). */
int load_start(struct load *l, int nr);
void load_stop(struct load *l);

#endif
