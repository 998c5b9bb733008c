/* Architecture profiles: everything that differs between guest
 * architectures, as data. Adding an architecture is adding a row in arch.c
 * and a kernel-config/<arch>.config fragment.
 */
#ifndef KTA_ARCH_H
#define KTA_ARCH_H

#include <stdint.h>

enum image_format {
	IMAGE_BZIMAGE,     /* x86 boot protocol: "HdrS" at 0x202 */
	IMAGE_ARM64,       /* arm64 Image: "ARM\x64" at 0x38 */
};

struct arch_profile {
	const char *name;          /* Kbuild's name: x86_64, arm64, ... */
	const char *aliases;       /* space-separated: "amd64 x86-64" */
	const char *uname_machine; /* what `uname -m` says in the guest */
	const char *deb_arch;      /* Debian's architecture name */
	const char *deb_flavour;   /* default Debian kernel flavour */
	const char *qemu_binary;
	const char *machine;       /* -M */
	const char *cpu_tcg;       /* -cpu under TCG: the fastest that boots */
	const char *cpu_kvm;
	const char *console;       /* console= device */
	const char *virtio_suffix; /* "pci" for virtio-serial-pci, ... */
	unsigned int memory_mb;
	uint16_t elf_machine;      /* e_machine of guest executables */
	enum image_format image_format;
	const char *kconfig;       /* kernel-config/<this>.config */
	const char *kbuild_arch;   /* make ARCH= for kta kernel build */
	const char *kbuild_srcarch; /* arch/<this>/ in the kernel tree ($(SRCARCH)) */
	const char *kbuild_target; /* make target of the bootable image */
	const char *kbuild_image;  /* where it lands, relative to O= */
	const char *cross_compile; /* Debian cross-compiler prefix */
	const char *multiarch;     /* Debian multiarch triplet: library directories */
	/* Modules the guest needs when the kernel does not build them in,
	 * NULL-terminated, in no particular order (dependencies are resolved
	 * from the modules themselves). */
	const char *const *guest_modules;
	/* Kconfig symbols that make guest_modules unnecessary when all are =y. */
	const char *const *builtin_symbols;
};

const struct arch_profile *arch_lookup(const char *name);
const struct arch_profile *arch_default(void);
/* "x86_64 arm64 ..." for error messages. */
const char *arch_names(void);
/* Does the host run this architecture's binaries natively? */
int arch_is_native(const struct arch_profile *arch);

#endif
