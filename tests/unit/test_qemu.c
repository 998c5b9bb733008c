/* The QEMU command line for the x86_64 profile. */
#include "arch.h"
#include "exe.h"
#include "qemu.h"
#include "unit.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>

static int has_pair(char **v, const char *a, const char *b)
{
	for (int i = 0; v[i] && v[i + 1]; i++)
		if (!strcmp(v[i], a) && !strcmp(v[i + 1], b))
			return 1;
	return 0;
}

static const char *after(char **v, const char *a)
{
	for (int i = 0; v[i] && v[i + 1]; i++)
		if (!strcmp(v[i], a))
			return v[i + 1];
	return NULL;
}

int main(void)
{
	const struct arch_profile *a = arch_lookup("x86_64");
	struct qemu_opts o = {
		.arch = a, .kernel = "/k/bzImage", .initrd = "/c/i.cpio",
		.append_extra = "kta.fault=garbage", .smp = 2,
		.console_path = "/tmp/r/console", .results_path = "/tmp/r/results",
	};
	char **v = NULL;
	char *joined;

	CHECK(a && arch_lookup("amd64") == a && arch_lookup("x86-64") == a, "aliases");
	CHECK(arch_lookup("vax") == NULL, "unknown arch");
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "builds");
	CHECK_EQ_STR(v[0], "qemu-system-x86_64", "binary");
	CHECK(has_pair(v, "-accel", "tcg") && has_pair(v, "-cpu", "max"), "tcg with its cpu");
	CHECK(has_pair(v, "-nic", "none"), "no network");
	CHECK(has_pair(v, "-smp", "2") && has_pair(v, "-m", "1024"), "smp and memory");
	CHECK(has_pair(v, "-kernel", "/k/bzImage") && has_pair(v, "-initrd", "/c/i.cpio"), "images");
	{
		int noreboot = 0, nodef = 0;

		for (int i = 0; v[i]; i++) {
			noreboot |= !strcmp(v[i], "-no-reboot");
			nodef |= !strcmp(v[i], "-nodefaults");
		}
		CHECK(noreboot && nodef, "-no-reboot and -nodefaults");
	}
	CHECK(after(v, "-append") && strstr(after(v, "-append"), "console=ttyS0") &&
		      strstr(after(v, "-append"), "panic=-1") &&
		      strstr(after(v, "-append"), " kta.fault=garbage"),
	      "kernel command line");
	CHECK(has_pair(v, "-device", "virtserialport,bus=vser.0,chardev=res,name=kta.results"),
	      "results port by name");
	CHECK(has_pair(v, "-chardev", "pipe,id=res,path=/tmp/r/results"), "results FIFO");
	joined = strv_shell_join(v);
	CHECK(joined && strstr(joined, "-append 'console=ttyS0 "), "shell-quoted join");
	free(joined);
	strv_free(v);

	o.kvm = true;
	o.append_extra = NULL;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "kvm builds");
	CHECK(has_pair(v, "-accel", "kvm") && has_pair(v, "-cpu", "host"), "kvm with host cpu");
	strv_free(v);
	o.kernel = NULL;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), -EINVAL, "no kernel refused");

	{
		static unsigned char elf[128] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, 1 };
		struct exe_info info;

		elf[18] = EM_AARCH64;
		elf[54] = 56; /* phentsize, phnum = 0 */
		CHECK_EQ_INT(exe_inspect(elf, sizeof(elf), &info), 0, "elf parsed");
		CHECK(info.elf && info.machine == EM_AARCH64 && !info.dynamic, "machine read");
		CHECK_EQ_INT(exe_inspect("#!/bin/sh -e\n", 13, &info), 0, "script");
		CHECK_EQ_STR(info.interp, "/bin/sh", "interpreter");
		CHECK_EQ_INT(exe_inspect("hello", 5, &info), -ENOEXEC, "not a program");
	}
	return unit_done();
}
