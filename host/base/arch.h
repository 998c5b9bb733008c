/* Architecture profiles: everything that differs between guest
 * architectures, as data. Adding an architecture is adding a row in arch.c
 * and a kernel-config/<arch>.config fragment.
 */
#ifndef KTA_ARCH_H
#define KTA_ARCH_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

enum image_format {
	IMAGE_BZIMAGE,     /* x86 boot protocol: "HdrS" at 0x202 */
	IMAGE_ARM64,       /* arm64 Image: "ARM\x64" at 0x38 */
	IMAGE_RISCV,       /* RISC-V Image: "RSC\x05" at 0x38 */
	IMAGE_S390,        /* s390 image: "S390EP" at 0x10008 */
	IMAGE_ELF,         /* an ELF vmlinux (ppc64's -kernel boots it) */
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
	const char *console;       /* console= device, on QEMU's first -serial */
	const char *append;        /* kernel arguments this arch needs, or NULL */
	/* QEMU's -kernel on this machine boots an ELF vmlinux by its PVH
	 * note (kernel/kpvh.h): no firmware setup, no decompression. */
	bool pvh;
	/* More kernel arguments for a one-vCPU guest, or NULL. */
	const char *append_one_cpu;
	/* Why this arch's guests with more than one vCPU run them on one
	 * TCG thread (-accel tcg,thread=single) by default, or NULL:
	 * QEMU's default, a thread per vCPU. */
	const char *tcg_one_thread;
	const char *virtio_suffix; /* transport: "pci", "ccw", "device" (MMIO) */
	unsigned int memory_mb;
	/* How the guest ends the run: the agent always calls reboot(2), and
	 * -no-reboot turns that into a QEMU exit on every machine kta knows;
	 * kept as text for the documentation and `kta arch`. */
	const char *poweroff;
	/* The image's name in Debian's single-package kernels (6.x):
	 * boot/<this>-<abi>; the 7.x split packages call it vmlinuz on
	 * every arch. */
	const char *deb_image;
	/* Why the ASAN suite cannot run here, or NULL when it can. */
	const char *asan_unsupported;
	/* Why the ASAN suite is built with clang-19 and LLVM's runtime
	 * (the sysroot's libclang-rt-19-dev, linked statically) instead of
	 * the cross gcc and its libasan, or NULL: gcc. */
	const char *asan_clang;
	/* BPF: the kernel's name for __TARGET_ARCH_<x> and the byte order of
	 * BPF objects ("el" or "eb"). */
	const char *bpf_arch;
	const char *bpf_endian;
	uint16_t elf_machine;      /* e_machine of guest executables */
	enum image_format image_format;
	const char *kconfig;       /* kernel-config/<this>.config */
	/* The BPF selftests' name for it: tools/testing/selftests/bpf/
	 * config.<this> and DENYLIST.<this> (BPF CI's names). */
	const char *selftests_arch;
	/* Why the BPF selftests' userspace is built with clang (LLVM=) for
	 * this arch instead of gcc, or NULL: gcc. */
	const char *selftests_llvm;
	const char *kbuild_arch;   /* make ARCH= for kta kernel build */
	const char *kbuild_srcarch; /* arch/<this>/ in the kernel tree ($(SRCARCH)) */
	const char *kbuild_target; /* make target of the bootable image */
	const char *kbuild_image;  /* where it lands, relative to O= */
	const char *cross_compile; /* Debian cross-compiler prefix */
	const char *multiarch;     /* Debian multiarch triplet: library directories */
	/* Debian 12 packages: QEMU for this guest, and the cross toolchain
	 * (compiler, libc, ASAN runtime) when the host is another arch. */
	const char *qemu_package;
	const char *cross_packages;
	/* Modules the guest needs when the kernel does not build them in,
	 * NULL-terminated, in no particular order (dependencies are resolved
	 * from the modules themselves). */
	const char *const *guest_modules;
	/* Kconfig symbols that make guest_modules unnecessary when all are =y. */
	const char *const *builtin_symbols;
	/* What a run with a disk (--image) needs besides, fetched only then,
	 * and the symbols that make it unnecessary. */
	const char *const *disk_modules;
	const char *const *disk_builtin_symbols;
};

const struct arch_profile *arch_lookup(const char *name);
/* arch_lookup() for a command-line value: NULL after saying which names
 * exist. */
const struct arch_profile *arch_from_arg(const char *name);
const struct arch_profile *arch_default(void);
/* The table, in order, for `kta arch` and `--arch all`. */
size_t arch_count(void);
const struct arch_profile *arch_at(size_t i);
/* "x86_64 arm64 ..." for error messages. */
const char *arch_names(void);
/* Does the host run this architecture's binaries natively? */
int arch_is_native(const struct arch_profile *arch);

#endif
