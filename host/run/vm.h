/* One guest session: start QEMU, follow the console and the results channel
 * until the guest powers off, dies or runs out of time, and classify what
 * happened. QEMU never outlives vm_run().
 */
#ifndef KTA_VM_H
#define KTA_VM_H

#include <stdbool.h>

#include "base/arch.h"
#include "run/results.h"

struct vm_config {
	const struct arch_profile *arch;
	const char *kernel;
	const char *initrd;
	bool kvm;
	const char *append_extra;
	bool no_certs;               /* qemu.h */
	bool tcg_one_thread;         /* qemu.h */
	unsigned int memory_mb;
	unsigned int smp;
	unsigned int boot_timeout_s; /* until the agent's hello */
	unsigned int test_grace_s;   /* host margin over a test's own timeout */
	unsigned int run_timeout_s;  /* the whole session */
	const char *artifacts;       /* directory for logs, or NULL */
	bool probe;                  /* stop at the agent's hello (KVM probe) */
	const char *const *disks;    /* read-only virtio-blk images (qemu.h), or NULL */
	const char *root_overlay;    /* writable qcow2, the guest's vda (qemu.h), or NULL */
	const char *cpu;             /* -cpu instead of the arch's, or NULL */
	bool quiet;                  /* no progress lines */
};

/* res->tests must hold the plan (num, name, timeout_s); everything else is
 * filled in. Returns 0 when the session ran (whatever its outcome: see
 * res->status), or a negative errno when it could not be set up. */
int vm_run(const struct vm_config *cfg, struct run_result *res);

#endif
