/* The QEMU command line (a pure function of the options, unit-tested) and
 * the QEMU process, which is killed and reaped on every path out of kta.
 */
#ifndef KTA_QEMU_H
#define KTA_QEMU_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/arch.h"

struct qemu_opts {
	const struct arch_profile *arch;
	bool kvm;
	const char *kernel;
	const char *initrd;
	const char *append_extra; /* more kernel arguments, or NULL */
	/* No module the guest loads is signed by the kernel's key: skip
	 * loading its built-in certificates (kernel/kernel.h). */
	bool no_certs;
	unsigned int memory_mb;   /* 0: the profile's */
	unsigned int smp;         /* 0: 1 */
	const char *console_path; /* base of the console FIFO pair (.in/.out) */
	const char *results_path; /* base of the results FIFO pair */
	/* Raw disk images, read-only, as virtio-blk devices in this order
	 * (the guest's vda, vdb, ...); NULL-terminated, or NULL. */
	const char *const *disks;
	/* A writable qcow2 (the overlay of a --image run) as the first
	 * virtio-blk device, before disks: the guest's vda. NULL: none. */
	const char *root_overlay;
	const char *cpu;          /* -cpu instead of the profile's, or NULL */
	/* -sandbox on (seccomp): a QEMU built with it (qemu_has_sandbox()). */
	bool sandbox;
	/* TCG runs every vCPU on one thread (arch.h tcg_one_thread). */
	bool tcg_one_thread;
};

/* Does this QEMU take -sandbox (built with seccomp)? Asks `BIN -help`. */
bool qemu_has_sandbox(const char *binary);

/* NULL-terminated, heap-allocated argv; free with strv_free(). */
int qemu_build_argv(const struct qemu_opts *o, char ***argv);
void strv_free(char **v);
/* The argv as one shell-quoted line, for the artifacts and error messages. */
char *strv_shell_join(char *const *v);

struct qemu_proc {
	pid_t pid;        /* 0 once reaped */
	int stderr_fd;    /* QEMU's stderr, non-blocking; -1 if closed */
	int status;       /* wait status once reaped */
};

/* Start QEMU in its own process group with PR_SET_PDEATHSIG, so it dies
 * with kta even on SIGKILL. */
int qemu_spawn(char *const *argv, struct qemu_proc *p);
/* Non-blocking reap; 1 if it has exited (p->status valid), 0 if running. */
int qemu_try_reap(struct qemu_proc *p);
/* SIGKILL the group and reap; safe to call twice and on a NULL-pid proc. */
void qemu_kill(struct qemu_proc *p);

static inline void qemu_killp(struct qemu_proc *p)
{
	qemu_kill(p);
}
#define cleanup_qemu __attribute__((cleanup(qemu_killp)))

#endif
