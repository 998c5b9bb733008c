/* Checking that a file can run in the guest before we boot one. */
#ifndef KTA_EXE_H
#define KTA_EXE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arch.h"

struct exe_info {
	bool script;      /* starts with "#!" */
	bool elf;
	bool dynamic;     /* has PT_INTERP */
	unsigned int machine;
	char interp[128]; /* script interpreter or ELF loader */
};

/* Pure: classify the first bytes of a file (up to 64 KiB is plenty). */
int exe_inspect(const void *buf, size_t len, struct exe_info *info);
/* Fails with a message naming the file and what to do when it cannot run
 * on arch: missing, not executable, not a program, wrong architecture,
 * dynamically linked (the guest has no shared libraries). */
int exe_check(const char *path, const struct arch_profile *arch, bool allow_dynamic);

#endif
