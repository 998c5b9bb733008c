/* The architecture table. */
#include "base/arch.h"
#include "base/log.h"
#include "base/util.h"

#include <elf.h>
#include <string.h>
#include <sys/utsname.h>

static const char *const virtio_pci_modules[] = { "virtio_pci", "virtio_console", NULL };
static const char *const virtio_pci_builtin[] = { "CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_CONSOLE", NULL };
/* A --image run's root: Debian's cloud kernels build virtio-blk as a
 * module, in a package (linux-modules, 23 MB for 7.3.4) that only such a
 * run fetches. */
static const char *const virtio_blk_modules[] = { "virtio_blk", NULL };
static const char *const virtio_blk_builtin[] = { "CONFIG_VIRTIO_BLK", NULL };

static const struct arch_profile arches[] = {
	{
		.name = "x86_64",
		.aliases = "amd64 x86-64 x64",
		.uname_machine = "x86_64",
		.deb_arch = "amd64",
		.deb_flavour = "cloud-amd64",
		.qemu_binary = "qemu-system-x86_64",
		/* q35 would bring AHCI and more PCI probing; pc boots faster. */
		.machine = "pc",
		.cpu_tcg = "max",
		.cpu_kvm = "host",
		.console = "ttyS0",
		/* The IO-APIC timer check counts ticks against a busy loop: on
		 * a loaded host under TCG it misses and panics ("IO-APIC +
		 * timer doesn't work!"; seen in make soak, 8 guests on 2
		 * cores). QEMU's timers work; the check is skipped. */
		.append = "no_timer_check",
		/* -M pc loads a PVH vmlinux through its own option ROM, after
		 * SeaBIOS: 0.72-0.76 of a bzImage boot of Debian's kernel. */
		.pvh = true,
		/* Only with one vCPU. acpi=off: no ACPI tables to parse
		 * (acpi_init alone is 124 ms of Debian's boot; 0.72-0.88 of
		 * the run), but Debian's kernel has no MP-table parser, so
		 * without ACPI it brings up one CPU whatever -smp says;
		 * power-off does not need ACPI (above). nolapic_timer: the
		 * PIT drives the tick instead of a local APIC timer the
		 * minimal kernel calibrates for 230 ms (its first result
		 * 555 against 789 ms; no change on Debian's); with more
		 * CPUs they would all wait on its broadcasts. --append
		 * acpi=force undoes the first. */
		.append_one_cpu = "acpi=off nolapic_timer",
		/* x86 patches live kernel code (static keys, tracepoints,
		 * which BPF programs switch on and off) through a transient
		 * int3 and IPIs to sync the other CPUs; under QEMU 7.2's
		 * thread-per-vCPU TCG another vCPU now and then runs that
		 * int3 after the patch is done: "Oops: int3", "Fatal
		 * exception in interrupt". A guest flipping a static key 300
		 * times died 5 of 5 times, 0 of 15 on one thread; plain boots
		 * of Debian's 7.3.4 died 2 of 80 times (static keys switched
		 * at late init). Arm64, riscv64 and s390x patch under
		 * stop_machine, ppc64 one word at a time: not affected. One
		 * thread costs about 0.25 s of a 3.5 s two-vCPU boot here,
		 * 3% of make vm-test's suites, the guest's parallelism, and
		 * much more where CPUs wait on each other's IPIs (300 flips
		 * take 25 s: a vCPU runs until QEMU's round-robin switches):
		 * --tcg-thread multi takes it back. */
		.tcg_one_thread = "x86 live code patching (int3) races under multi-threaded TCG: Oops: int3",
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.poweroff = "reboot(2) + -no-reboot (no ACPI needed)",
		.deb_image = "vmlinuz",
		.bpf_arch = "x86",
		.bpf_endian = "el",
		.elf_machine = EM_X86_64,
		.image_format = IMAGE_BZIMAGE,
		.kconfig = "x86_64",
		.selftests_arch = "x86_64",
		.kbuild_arch = "x86_64",
		.kbuild_srcarch = "x86",
		.kbuild_target = "bzImage",
		.kbuild_image = "arch/x86/boot/bzImage",
		.cross_compile = "x86_64-linux-gnu-",
		.multiarch = "x86_64-linux-gnu",
		.qemu_package = "qemu-system-x86",
		.cross_packages = "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
		.guest_modules = virtio_pci_modules,
		.disk_modules = virtio_blk_modules,
		.disk_builtin_symbols = virtio_blk_builtin,
		.builtin_symbols = virtio_pci_builtin,
	},
	{
		.name = "arm64",
		.aliases = "aarch64",
		.uname_machine = "aarch64",
		.deb_arch = "arm64",
		.deb_flavour = "cloud-arm64",
		.qemu_binary = "qemu-system-aarch64",
		.machine = "virt",
		/* max emulates pointer authentication (QARMA) in software:
		 * 8.8 s to boot Debian's cloud kernel against 3.2 s. */
		.cpu_tcg = "cortex-a57",
		.cpu_kvm = "host",
		.console = "ttyAMA0",
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.poweroff = "reboot(2) + -no-reboot (PSCI)",
		.deb_image = "vmlinuz",
		.bpf_arch = "arm64",
		.bpf_endian = "el",
		.elf_machine = EM_AARCH64,
		.image_format = IMAGE_ARM64,
		.kconfig = "arm64",
		.selftests_arch = "aarch64",
		/* Measured under TCG (cortex-a57 and max) on kta's 7.3.4 kernel:
		 * every program built with sid's gcc 16 -fsanitize=address, a
		 * one-line one too, dies of SIGSEGV in libasan's start-up; clang
		 * 22's runtime runs (and bookworm's gcc 12 ASAN does). */
		.selftests_llvm = "gcc 16's libasan dies at start-up on arm64 under TCG; clang 22's runs",
		/* GCC 12's aarch64 libasan has the 32-bit allocator: its leak
		 * check walks every 1 MiB region of a 48-bit address space
		 * (2^28 steps, five times per check), 9 to 31 s per test
		 * process under TCG against 0.2 to 0.4 s on x86_64. LLVM's
		 * aarch64 runtime has the 64-bit one (docs/boot.md). */
		.asan_clang = "gcc 12's aarch64 libasan spends 9-31 s per leak check under TCG (32-bit allocator)",
		.kbuild_arch = "arm64",
		.kbuild_srcarch = "arm64",
		.kbuild_target = "Image",
		.kbuild_image = "arch/arm64/boot/Image",
		.cross_compile = "aarch64-linux-gnu-",
		.multiarch = "aarch64-linux-gnu",
		.qemu_package = "qemu-system-arm",
		.cross_packages = "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
		.guest_modules = virtio_pci_modules,
		.disk_modules = virtio_blk_modules,
		.disk_builtin_symbols = virtio_blk_builtin,
		.builtin_symbols = virtio_pci_builtin,
	},
	{
		.name = "riscv64",
		.aliases = "riscv",
		.uname_machine = "riscv64",
		.deb_arch = "riscv64",
		.deb_flavour = "riscv64",
		.qemu_binary = "qemu-system-riscv64",
		/* OpenSBI from QEMU's firmware directory (-bios default). */
		.machine = "virt",
		.cpu_tcg = "rv64",
		.cpu_kvm = "host",
		.console = "ttyS0",
		/* Sv39, like the riscv64 boards people run: GCC 12's ASAN
		 * allocator assumes a 39-bit address space and aborts under
		 * the Sv57 QEMU 7.2 offers (it has no CPU switch for it). */
		.append = "no4lvl",
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.poweroff = "reboot(2) + -no-reboot (SBI system reset)",
		.deb_image = "vmlinuz",
		/* Checked: gcc -fsanitize=address emits `li 536870912` before each
		 * shadow access, and the test dies with SEGV on the first. */
		.asan_unsupported = "GCC 12 instruments riscv64 code with shadow offset 0x20000000, "
				    "but its libasan maps the shadow at 0xd55550000, so every checked access "
				    "faults (GCC 13 fixed the offset; Debian 12's cross compiler is 12)",
		.bpf_arch = "riscv",
		.bpf_endian = "el",
		.elf_machine = EM_RISCV,
		.image_format = IMAGE_RISCV,
		.kconfig = "riscv64",
		.selftests_arch = "riscv64",
		.kbuild_arch = "riscv",
		.kbuild_srcarch = "riscv",
		.kbuild_target = "Image",
		.kbuild_image = "arch/riscv/boot/Image",
		.cross_compile = "riscv64-linux-gnu-",
		.multiarch = "riscv64-linux-gnu",
		.qemu_package = "qemu-system-misc",
		.cross_packages = "gcc-riscv64-linux-gnu libc6-dev-riscv64-cross",
		.guest_modules = virtio_pci_modules,
		.disk_modules = virtio_blk_modules,
		.disk_builtin_symbols = virtio_blk_builtin,
		.builtin_symbols = virtio_pci_builtin,
	},
	{
		.name = "s390x",
		.aliases = "s390",
		.uname_machine = "s390x",
		.deb_arch = "s390x",
		.deb_flavour = "s390x",
		.qemu_binary = "qemu-system-s390x",
		/* QEMU's first -serial is the SCLP console. Debian's s390x
		 * kernel has no virtio-ccw but builds virtio-pci in (zPCI). */
		.machine = "s390-ccw-virtio",
		.cpu_tcg = "max",
		.cpu_kvm = "host",
		.console = "ttysclp0",
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.poweroff = "reboot(2) + -no-reboot (SCLP/diag reset)",
		.deb_image = "vmlinuz",
		.bpf_arch = "s390",
		.bpf_endian = "eb",
		.elf_machine = EM_S390,
		.image_format = IMAGE_S390,
		.kconfig = "s390x",
		.selftests_arch = "s390x",
		.kbuild_arch = "s390",
		.kbuild_srcarch = "s390",
		.kbuild_target = "bzImage",
		.kbuild_image = "arch/s390/boot/bzImage",
		.cross_compile = "s390x-linux-gnu-",
		.multiarch = "s390x-linux-gnu",
		.qemu_package = "qemu-system-misc",
		.cross_packages = "gcc-s390x-linux-gnu libc6-dev-s390x-cross",
		.guest_modules = virtio_pci_modules,
		.disk_modules = virtio_blk_modules,
		.disk_builtin_symbols = virtio_blk_builtin,
		.builtin_symbols = virtio_pci_builtin,
	},
	{
		.name = "ppc64le",
		.aliases = "powerpc ppc64el powerpc64le",
		.uname_machine = "ppc64le",
		.deb_arch = "ppc64el",
		.deb_flavour = "powerpc64le",
		.qemu_binary = "qemu-system-ppc64",
		/* VOF, QEMU's minimal Open Firmware, instead of SLOF: no
		 * firmware boot menu and device probing before the kernel. */
		/* The spectre-mitigation capabilities default to "workaround",
		 * which TCG cannot provide: QEMU warns on every boot. */
		.machine = "pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off",
		.cpu_tcg = "power9",
		.cpu_kvm = "host",
		.console = "hvc0",
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.poweroff = "reboot(2) + -no-reboot (RTAS)",
		.deb_image = "vmlinux",
		.bpf_arch = "powerpc",
		.bpf_endian = "el",
		.elf_machine = EM_PPC64,
		.image_format = IMAGE_ELF,
		.kconfig = "ppc64le",
		.selftests_arch = "ppc64el",
		.kbuild_arch = "powerpc",
		.kbuild_srcarch = "powerpc",
		.kbuild_target = "vmlinux",
		.kbuild_image = "vmlinux",
		.cross_compile = "powerpc64le-linux-gnu-",
		.multiarch = "powerpc64le-linux-gnu",
		.qemu_package = "qemu-system-ppc",
		.cross_packages = "gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross",
		.guest_modules = virtio_pci_modules,
		.disk_modules = virtio_blk_modules,
		.disk_builtin_symbols = virtio_blk_builtin,
		.builtin_symbols = virtio_pci_builtin,
	},
};

size_t arch_count(void)
{
	return ARRAY_SIZE(arches);
}

const struct arch_profile *arch_at(size_t i)
{
	return i < ARRAY_SIZE(arches) ? &arches[i] : NULL;
}

const struct arch_profile *arch_default(void)
{
	return &arches[0];
}

static int word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, w, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

const struct arch_profile *arch_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].name, name) || word_in(arches[i].aliases, name) ||
		    !strcmp(arches[i].deb_arch, name))
			return &arches[i];
	return NULL;
}

const struct arch_profile *arch_from_arg(const char *name)
{
	const struct arch_profile *a = arch_lookup(name);

	if (!a)
		pr_err("unknown architecture `%s`; known: %s (or an alias: `kta arch`)", name, arch_names());
	return a;
}

const char *arch_names(void)
{
	static char names[256];

	if (!names[0]) {
		for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
			if (i)
				strcat(names, " ");
			strcat(names, arches[i].name);
		}
	}
	return names;
}

int arch_is_native(const struct arch_profile *arch)
{
	struct utsname u;

	return uname(&u) == 0 && !strcmp(u.machine, arch->uname_machine);
}
