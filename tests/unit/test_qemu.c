/* The QEMU command line for the x86_64 profile and every other row, and
 * the architecture table's invariants. */
#include "base/arch.h"
#include "guest/exe.h"
#include "run/qemu.h"
#include "unit.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

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
	CHECK(!after(v, "-sandbox"), "no -sandbox unless QEMU has it");
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
	CHECK(!strstr(after(v, "-append"), "acpi=off"), "two vCPUs: ACPI kept (it finds the second)");
	CHECK(!strstr(after(v, "-append"), "initcall_blacklist"), "certificates loaded unless told");
	joined = strv_shell_join(v);
	CHECK(joined && strstr(joined, "-append 'console=ttyS0 "), "shell-quoted join");
	free(joined);
	strv_free(v);

	o.smp = 1;
	o.no_certs = true;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "one vCPU, no certificates: builds");
	CHECK(strstr(after(v, "-append"), " acpi=off"), "one vCPU on x86_64: acpi=off");
	CHECK(strstr(after(v, "-append"), " initcall_blacklist=load_system_certificate_list"),
	      "no signed module loaded: no certificates");
	{
		const char *ap = after(v, "-append"), *e = strstr(ap, "kta.fault=garbage");

		CHECK(e && !strcmp(e, "kta.fault=garbage") && strstr(ap, "acpi=off") < e,
		      "the caller's arguments last (--append acpi=force wins)");
	}
	strv_free(v);
	o.arch = arch_lookup("arm64");
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "arm64, one vCPU: builds");
	CHECK(!strstr(after(v, "-append"), "acpi="), "arm64: no acpi=off (the row has none)");
	strv_free(v);
	o.arch = a;
	o.smp = 2;
	o.no_certs = false;

	/* x86 live patching races under thread-per-vCPU TCG (arch.c). */
	CHECK(a->tcg_one_thread && !arch_lookup("arm64")->tcg_one_thread, "x86_64's row asks for one TCG thread, arm64's not");
	o.tcg_one_thread = true;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "one TCG thread: builds");
	CHECK(has_pair(v, "-accel", "tcg,thread=single"), "two vCPUs on one TCG thread");
	strv_free(v);
	o.smp = 1;
	CHECK(qemu_build_argv(&o, &v) == 0 && has_pair(v, "-accel", "tcg"), "one vCPU: plain tcg");
	strv_free(v);
	o.smp = 2;
	o.kvm = true;
	CHECK(qemu_build_argv(&o, &v) == 0 && has_pair(v, "-accel", "kvm"), "KVM: no TCG threads");
	strv_free(v);
	o.kvm = false;
	o.tcg_one_thread = false;

	o.sandbox = true;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "builds with the sandbox");
	CHECK(has_pair(v, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"),
	      "seccomp: obsolete calls, privileges, spawning, resource control denied");
	strv_free(v);
	o.sandbox = false;

	/* --image: the overlay is the first disk (vda), writable; a payload
	 * disk after it stays read-only. */
	o.root_overlay = "/a/overlay.qcow2";
	o.disks = (const char *const[]){ "/c/payload.ext4", NULL };
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "builds with an overlay");
	CHECK(has_pair(v, "-drive", "file=/a/overlay.qcow2,if=none,id=root,format=qcow2"), "overlay drive, writable");
	CHECK(has_pair(v, "-drive", "file=/c/payload.ext4,if=none,id=disk0,format=raw,readonly=on"),
	      "payload disk read-only");
	{
		int root_at = -1, disk_at = -1;

		for (int i = 0; v[i]; i++) {
			if (!strcmp(v[i], "virtio-blk-pci,drive=root"))
				root_at = i;
			if (!strcmp(v[i], "virtio-blk-pci,drive=disk0"))
				disk_at = i;
		}
		CHECK(root_at > 0 && disk_at > root_at, "overlay before the payload: the guest's vda");
	}
	strv_free(v);
	o.root_overlay = NULL;
	o.disks = NULL;

	o.kvm = true;
	o.append_extra = NULL;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "kvm builds");
	CHECK(has_pair(v, "-accel", "kvm") && has_pair(v, "-cpu", "host"), "kvm with host cpu");
	strv_free(v);
	o.kernel = NULL;
	CHECK_EQ_INT(qemu_build_argv(&o, &v), -EINVAL, "no kernel refused");

	/* Every row is complete and reachable by all its names. */
	for (size_t i = 0; i < arch_count(); i++) {
		const struct arch_profile *r = arch_at(i);
		char path[256];
		int ok = r->name && r->aliases && r->uname_machine && r->deb_arch && r->deb_flavour &&
			 r->qemu_binary && r->machine && r->cpu_tcg && r->cpu_kvm && r->console &&
			 r->virtio_suffix && r->memory_mb && r->poweroff && r->deb_image && r->bpf_arch &&
			 r->bpf_endian && r->elf_machine && r->kconfig && r->kbuild_arch && r->kbuild_srcarch &&
			 r->kbuild_target && r->kbuild_image && r->cross_compile && r->multiarch &&
			 r->qemu_package && r->cross_packages && r->guest_modules && r->builtin_symbols;

		CHECK(ok, "a complete row");
		if (!ok)
			continue;
		CHECK(arch_lookup(r->name) == r && arch_lookup(r->deb_arch) == r, "found by name and Debian name");
		for (const char *p = r->aliases; *p;) {
			size_t n = strcspn(p, " ");

			snprintf(path, sizeof(path), "%.*s", (int)n, p);
			CHECK(arch_lookup(path) == r, "found by alias");
			p += n + (p[n] == ' ');
		}
		/* Unit tests run from the top of the tree. */
		snprintf(path, sizeof(path), "kernel-config/%s.config", r->kconfig);
		CHECK(access(path, R_OK) == 0, "its kernel-config fragment exists");
		CHECK(!strcmp(r->bpf_endian, "el") || !strcmp(r->bpf_endian, "eb"), "BPF byte order");

		o = (struct qemu_opts){ .arch = r, .kernel = "/k", .initrd = "/i", .console_path = "/c",
					.results_path = "/r" };
		CHECK_EQ_INT(qemu_build_argv(&o, &v), 0, "builds for every arch");
		CHECK_EQ_STR(v[0], r->qemu_binary, "the row's QEMU");
		CHECK(has_pair(v, "-M", r->machine) && has_pair(v, "-cpu", r->cpu_tcg), "machine and TCG cpu");
		snprintf(path, sizeof(path), "virtio-serial-%s,id=vser", r->virtio_suffix);
		CHECK(has_pair(v, "-device", path), "the row's virtio transport");
		snprintf(path, sizeof(path), "console=%s ", r->console);
		CHECK(after(v, "-append") && !strncmp(after(v, "-append"), path, strlen(path)), "the row's console");
		CHECK(!r->append || strstr(after(v, "-append"), r->append), "the row's kernel arguments");
		strv_free(v);
	}
	CHECK(arch_lookup("aarch64") == arch_lookup("arm64") && arch_lookup("riscv") == arch_lookup("riscv64") &&
		      arch_lookup("s390") == arch_lookup("s390x") && arch_lookup("ppc64el") == arch_lookup("ppc64le") &&
		      arch_lookup("powerpc") == arch_lookup("ppc64le"),
	      "Kbuild's and Debian's names");
	CHECK(arch_lookup("riscv64")->asan_unsupported && !arch_lookup("arm64")->asan_unsupported,
	      "ASAN support per row");

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
