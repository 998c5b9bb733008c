/* The architecture table. */
#include "arch.h"

#include <elf.h>
#include <string.h>
#include <sys/utsname.h>

static const char *const virtio_pci_modules[] = { "virtio_pci", "virtio_console", NULL };
static const char *const virtio_pci_builtin[] = { "CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_CONSOLE", NULL };

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
		.virtio_suffix = "pci",
		.memory_mb = 1024,
		.elf_machine = EM_X86_64,
		.image_format = IMAGE_BZIMAGE,
		.kconfig = "x86_64",
		.kbuild_arch = "x86_64",
		.kbuild_srcarch = "x86",
		.kbuild_target = "bzImage",
		.kbuild_image = "arch/x86/boot/bzImage",
		.cross_compile = "",
		.multiarch = "x86_64-linux-gnu",
		.guest_modules = virtio_pci_modules,
		.builtin_symbols = virtio_pci_builtin,
	},
};

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
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(arches[i].name, name) || word_in(arches[i].aliases, name) ||
		    !strcmp(arches[i].deb_arch, name))
			return &arches[i];
	return NULL;
}

const char *arch_names(void)
{
	static char names[256];

	if (!names[0]) {
		for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
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
