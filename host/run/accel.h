/* Choosing between KVM and TCG. The existence of /dev/kvm proves nothing
 * (nested KVM here hangs right after the kernel decompresses), so "auto"
 * boots the real kernel once under KVM with a time limit and remembers the
 * answer.
 */
#ifndef KTA_ACCEL_H
#define KTA_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arch.h"

struct accel_request {
	const char *mode;           /* "auto", "kvm" or "tcg" */
	const struct arch_profile *arch;
	const char *kernel;
	const char *kernel_sha256;
	const char *initrd;
	const char *cache;
};

int accel_decide(const struct accel_request *req, bool *kvm, char *reason, size_t n);

#endif
