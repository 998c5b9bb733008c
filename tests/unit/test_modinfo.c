/* Module .modinfo and ELF header parsing (all four ELF flavours, truncated
 * and corrupt input), kernel image probing, Debian version matching and
 * ordering, apt source parsing, and which guest modules a config needs.
 */
#include "apt/apt.h"
#include "kernel/kernel.h"
#include "kernel/kimage.h"
#include "base/log.h"
#include "kernel/modinfo.h"
#include "base/kv.h"
#include "kernel/modules.h"
#include "unit.h"
#include "base/util.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char modinfo_text[] =
	"license=GPL\0depends=virtio,virtio_ring\0\0name=virtio_console\0vermagic=6.1.0 SMP\0";
static const char shstrtab[] = "\0.shstrtab\0.modinfo\0.text\0";

static void put(uint8_t *p, size_t off, unsigned int size, uint64_t v, int big)
{
	for (unsigned int i = 0; i < size; i++)
		p[off + i] = (uint8_t)(v >> (8 * (big ? size - 1 - i : i)));
}

/* A relocatable ELF with sections: null, .shstrtab, .text, .modinfo
 * (section names in shstrtab at 1, 20, 11). Returns its length. */
static size_t build_elf(uint8_t *p, size_t cap, int is64, int big, const void *mi, size_t milen)
{
	size_t ehsize = is64 ? 64 : 52, shentsize = is64 ? 64 : 40;
	size_t str_off = ehsize, mi_off = str_off + sizeof(shstrtab);
	size_t shoff = (mi_off + milen + 7) & ~(size_t)7, len = shoff + 4 * shentsize;
	struct {
		uint32_t name;
		size_t off, size;
	} sec[4] = { { 0, 0, 0 }, { 1, str_off, sizeof(shstrtab) }, { 20, 0, 0 }, { 11, mi_off, milen } };

	if (len > cap)
		return 0;
	memset(p, 0, len);
	memcpy(p, "\177ELF", 4);
	p[4] = is64 ? 2 : 1;
	p[5] = big ? 2 : 1;
	p[6] = 1;
	put(p, 16, 2, ET_REL, big);
	put(p, 18, 2, is64 ? EM_X86_64 : EM_386, big);
	put(p, 20, 4, 1, big);
	if (is64) {
		put(p, 40, 8, shoff, big);
		put(p, 52, 2, ehsize, big);
		put(p, 58, 2, shentsize, big);
		put(p, 60, 2, 4, big);
		put(p, 62, 2, 1, big);
	} else {
		put(p, 32, 4, shoff, big);
		put(p, 40, 2, ehsize, big);
		put(p, 46, 2, shentsize, big);
		put(p, 48, 2, 4, big);
		put(p, 50, 2, 1, big);
	}
	memcpy(p + str_off, shstrtab, sizeof(shstrtab));
	memcpy(p + mi_off, mi, milen);
	for (int i = 0; i < 4; i++) {
		size_t b = shoff + (size_t)i * shentsize;

		put(p, b, 4, sec[i].name, big);
		if (is64) {
			put(p, b + 24, 8, sec[i].off, big);
			put(p, b + 32, 8, sec[i].size, big);
		} else {
			put(p, b + 16, 4, sec[i].off, big);
			put(p, b + 20, 4, sec[i].size, big);
		}
	}
	return len;
}

/* Exactly-sized heap copy, so ASAN flags any read past len. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c && len)
		memcpy(c, p, len);
	return c;
}

static void test_elf_flavours(void)
{
	static const char *const names[] = { "LE32", "BE32", "LE64", "BE64" };
	uint8_t buf[1024];
	char out[128], desc[96];

	for (int i = 0; i < 4; i++) {
		int is64 = i >= 2, big = i & 1;
		size_t len = build_elf(buf, sizeof(buf), is64, big, modinfo_text, sizeof(modinfo_text));
		uint8_t *c = dup_exact(buf, len);
		uint16_t m = 0;

		snprintf(desc, sizeof(desc), "%s: depends", names[i]);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), 18, desc);
		CHECK_EQ_STR(out, "virtio,virtio_ring", desc);
		snprintf(desc, sizeof(desc), "%s: entry after a NUL pad", names[i]);
		CHECK(modinfo_get(c, len, "name", out, sizeof(out)) > 0 && !strcmp(out, "virtio_console"), desc);
		snprintf(desc, sizeof(desc), "%s: missing key", names[i]);
		CHECK_EQ_INT(modinfo_get(c, len, "author", out, sizeof(out)), -ENOENT, desc);
		snprintf(desc, sizeof(desc), "%s: key prefix does not match", names[i]);
		CHECK_EQ_INT(modinfo_get(c, len, "depend", out, sizeof(out)), -ENOENT, desc);
		snprintf(desc, sizeof(desc), "%s: too small output", names[i]);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, 5), -ENAMETOOLONG, desc);
		snprintf(desc, sizeof(desc), "%s: e_machine", names[i]);
		CHECK(!elf_machine(c, len, &m) && m == (is64 ? EM_X86_64 : EM_386), desc);
		free(c);
	}
}

static void test_elf_edge(void)
{
	uint8_t buf[1024];
	char out[64];
	size_t len = build_elf(buf, sizeof(buf), 1, 0, "depends=\0", 9);
	int bad = 0;

	CHECK_EQ_INT(modinfo_get(buf, len, "depends", out, sizeof(out)), 0, "empty depends= is found");
	CHECK_EQ_STR(out, "", "empty depends value");
	/* .modinfo without a terminating NUL at the section end. */
	len = build_elf(buf, sizeof(buf), 1, 0, "depends=abc", 11);
	CHECK_EQ_INT(modinfo_get(buf, len, "depends", out, sizeof(out)), 3, "unterminated last entry");
	CHECK_EQ_STR(out, "abc", "unterminated value stays inside the section");

	/* Every truncation of a valid module is rejected without reading past it. */
	len = build_elf(buf, sizeof(buf), 1, 1, modinfo_text, sizeof(modinfo_text));
	for (size_t n = 0; n < len; n++) {
		uint8_t *c = dup_exact(buf, n);

		if (modinfo_get(c, n, "depends", out, sizeof(out)) >= 0)
			bad++;
		free(c);
	}
	CHECK_EQ_INT(bad, 0, "all truncations rejected");

	CHECK_EQ_INT(modinfo_get(NULL, 0, "depends", out, sizeof(out)), -ENOEXEC, "NULL buffer");
	CHECK_EQ_INT(modinfo_get("hello world, not an ELF file at all, long enough for a header......", 68,
				 "depends", out, sizeof(out)), -ENOEXEC, "not ELF");

	len = build_elf(buf, sizeof(buf), 1, 0, modinfo_text, sizeof(modinfo_text));
	{
		uint8_t c[1024];

		memcpy(c, buf, len);
		put(c, 40, 8, UINT64_MAX - 10, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "huge e_shoff");
		memcpy(c, buf, len);
		put(c, 60, 2, 0xffff, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "huge e_shnum");
		memcpy(c, buf, len);
		put(c, 62, 2, 9, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "e_shstrndx out of range");
		memcpy(c, buf, len);
		put(c, 58, 2, 8, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "tiny e_shentsize");
		/* .modinfo's sh_size points past the end of the file. */
		memcpy(c, buf, len);
		put(c, len - 64 + 32, 8, 1u << 20, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "section past the end");
		/* sh_name past the string table: section not recognised. */
		memcpy(c, buf, len);
		put(c, len - 64, 4, 0x7fffffff, 0);
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOENT, "bad sh_name skipped");
		memcpy(c, buf, len);
		c[4] = 3;
		CHECK_EQ_INT(modinfo_get(c, len, "depends", out, sizeof(out)), -ENOEXEC, "bad EI_CLASS");
	}

	/* Deterministic random corruption: no crash, no out-of-bounds read. */
	{
		uint32_t seed = 12345;

		for (int iter = 0; iter < 20000; iter++) {
			uint8_t *c = dup_exact(buf, len);
			int flips = 1 + iter % 4;
			uint16_t m;

			for (int k = 0; k < flips; k++) {
				seed = seed * 1103515245u + 12345u;
				c[(seed >> 8) % len] = (uint8_t)(seed >> 20);
			}
			modinfo_get(c, len, "depends", out, sizeof(out));
			elf_machine(c, len, &m);
			free(c);
		}
		CHECK(1, "20000 corrupted modules parsed without a crash");
	}
}

static void test_versions(void)
{
	char abi[64];

	CHECK(!kernel_version_matches("6.12.107+deb13", "6.1"), "6.1 does not match 6.12.107+deb13");
	CHECK(kernel_version_matches("6.1.0-47", "6.1"), "6.1 matches 6.1.0-47");
	CHECK(kernel_version_matches("7.3.4+deb13", "7.3"), "7.3 matches 7.3.4+deb13");
	CHECK(kernel_version_matches("7.3.4+deb13", "7.3.4"), "7.3.4 matches 7.3.4+deb13");
	CHECK(kernel_version_matches("7.3.4+deb13", "7.3.4+deb13"), "exact ABI matches");
	CHECK(!kernel_version_matches("7.3.40+deb13", "7.3.4"), "7.3.4 does not match 7.3.40");
	CHECK(!kernel_version_matches("7.30.1", "7.3"), "7.3 does not match 7.30.1");
	CHECK(kernel_version_matches("6.1.0-47", "latest"), "latest matches all");
	CHECK(!kernel_version_matches("6.1.0-47", ""), "empty matches nothing");

	CHECK(!kernel_abi_from_pkg("linux-image-7.3.4+deb13-cloud-amd64", "cloud-amd64", abi, sizeof(abi)) &&
		      !strcmp(abi, "7.3.4+deb13"), "ABI of a 7.x package");
	CHECK(!kernel_abi_from_pkg("linux-image-6.1.0-47-cloud-amd64", "cloud-amd64", abi, sizeof(abi)) &&
		      !strcmp(abi, "6.1.0-47"), "ABI of a 6.1 package");
	CHECK(kernel_abi_from_pkg("linux-image-6.12.107+deb13-cloud-amd64", "amd64", abi, sizeof(abi)),
	      "cloud-amd64 is not flavour amd64");
	CHECK(kernel_abi_from_pkg("linux-image-6.1.0-47-rt-amd64", "amd64", abi, sizeof(abi)),
	      "rt-amd64 is not flavour amd64");
	CHECK(kernel_abi_from_pkg("linux-image-7.3.4+deb13-cloud-amd64-dbg", "cloud-amd64", abi, sizeof(abi)),
	      "-dbg excluded");
	CHECK(kernel_abi_from_pkg("linux-image-7.3.4+deb13-cloud-amd64-unsigned", "cloud-amd64", abi, sizeof(abi)),
	      "-unsigned excluded");
	CHECK(kernel_abi_from_pkg("linux-image-cloud-amd64", "cloud-amd64", abi, sizeof(abi)), "meta package excluded");

	CHECK(deb_version_cmp("6.1.0-47", "6.1.0-50") < 0, "6.1.0-47 < 6.1.0-50");
	CHECK(deb_version_cmp("6.1.0-9", "6.1.0-47") < 0, "numeric, not lexical");
	CHECK(deb_version_cmp("6.12.43+deb13", "6.12.107+deb13") < 0, "6.12.43 < 6.12.107");
	CHECK(deb_version_cmp("7.2.13+deb14", "7.3.4+deb13") < 0, "7.2.13+deb14 < 7.3.4+deb13");
	CHECK(deb_version_cmp("7.3.4-1~bpo13+1", "7.3.4-1") < 0, "backport ~ sorts before");
	CHECK(deb_version_cmp("1:0.1", "9.9") > 0, "epoch wins");
	CHECK(deb_version_cmp("1.0~rc1", "1.0") < 0, "~rc before release");
	CHECK(deb_version_cmp("1.0a", "1.0+") < 0, "letters before other characters");
	CHECK_EQ_INT(deb_version_cmp("6.1.176-1", "6.1.176-1"), 0, "equal");
}

static size_t make_bzimage(uint8_t *p, size_t len, const char *ver)
{
	memset(p, 0, len);
	p[0x1fe] = 0x55;
	p[0x1ff] = 0xaa;
	memcpy(p + 0x202, "HdrS", 4);
	put(p, 0x206, 2, 0x020f, 0);
	if (ver) {
		put(p, 0x20e, 2, 0x3000 - 0x200, 0);
		memcpy(p + 0x3000, ver, strlen(ver));
	}
	return len;
}

static void test_kimage(void)
{
	static uint8_t b[0x4000];
	char v[64];
	int bad = 0;

	make_bzimage(b, sizeof(b), "6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP");
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_BZIMAGE, "bzImage");
	CHECK_EQ_STR(v, "6.1.0-50-cloud-amd64", "bzImage version: first word");
	CHECK_EQ_INT(kimage_probe_buf(b, 0x3004, v, sizeof(v)), KIMAGE_BZIMAGE, "version cut by the buffer");
	CHECK_EQ_STR(v, "6.1.", "version stops at the buffer end");
	CHECK_EQ_INT(kimage_probe_buf(b, 0x2000, v, sizeof(v)), KIMAGE_BZIMAGE, "version offset past buffer");
	CHECK_EQ_STR(v, "", "no version then");
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, 4), KIMAGE_BZIMAGE, "small version buffer");
	CHECK_EQ_STR(v, "6.1", "version truncated to vlen");
	make_bzimage(b, sizeof(b), NULL);
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_BZIMAGE, "bzImage without version");
	CHECK_EQ_STR(v, "", "empty version");

	memset(b, 0, sizeof(b));
	memcpy(b, "MZ", 2);
	memcpy(b + 0x38, "ARM\x64", 4);
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_ARM64, "arm64 Image");
	CHECK_EQ_STR(v, "", "arm64 has no version");
	memcpy(b + 4, "zimg", 4);
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_ZBOOT, "EFI zboot");
	memset(b, 0, sizeof(b));
	memcpy(b + 0x30, "RISCV\0\0\0RSC\x05", 12);
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_RISCV, "RISC-V Image");
	CHECK_EQ_INT(kimage_probe_buf(b, 0x3b, v, sizeof(v)), KIMAGE_UNKNOWN, "RISC-V magic cut off");
	{
		/* The s390 magic lies past 64 KiB: the probe must read that far. */
		static uint8_t s[KIMAGE_PROBE_BYTES];

		memcpy(s + 0x10008, "S390EP", 6);
		CHECK_EQ_INT(kimage_probe_buf(s, sizeof(s), v, sizeof(v)), KIMAGE_S390, "s390 image");
		CHECK_EQ_INT(kimage_probe_buf(s, 0x1000d, v, sizeof(v)), KIMAGE_UNKNOWN, "s390 magic cut off");
	}
	memset(b, 0, sizeof(b));
	memcpy(b, "\177ELF\2\1\1", 7);
	b[16] = ET_EXEC;
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_ELF, "vmlinux");
	b[16] = ET_REL;
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_MODULE, "module");
	memset(b, 0, sizeof(b));
	b[0] = 0x1f;
	b[1] = 0x8b;
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_GZIP, "gzip");
	memset(b, 'x', sizeof(b));
	CHECK_EQ_INT(kimage_probe_buf(b, sizeof(b), v, sizeof(v)), KIMAGE_UNKNOWN, "text");
	CHECK_EQ_INT(kimage_probe_buf(NULL, 0, v, sizeof(v)), KIMAGE_UNKNOWN, "NULL");

	/* Every prefix of a bzImage, exactly sized: no read past the end. */
	make_bzimage(b, sizeof(b), "7.3.4+deb13-cloud-amd64 x");
	for (size_t n = 0; n <= 0x3020; n++) {
		uint8_t *c = dup_exact(b, n);
		enum kimage_kind k = kimage_probe_buf(c, n, v, sizeof(v));

		if (n >= 0x206 && k != KIMAGE_BZIMAGE)
			bad++;
		free(c);
	}
	CHECK_EQ_INT(bad, 0, "all bzImage prefixes probed in bounds");
}

static int nlogs;

static void count_sink(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
	nlogs++;
}

static void test_kimage_files(void)
{
	static const struct arch_profile arm64 = { .name = "arm64", .image_format = IMAGE_ARM64 };
	static uint8_t b[0x4000];
	char dir[] = "/tmp/kta-test-kimage-XXXXXX", path[64], v[64];
	enum image_format fmt;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/bzImage", dir);
	make_bzimage(b, sizeof(b), "6.1.0-test");
	write_file_atomic(path, b, sizeof(b), 0644);
	log_set_sink(count_sink, NULL);
	CHECK(!kimage_probe(path, &fmt, v, sizeof(v)) && fmt == IMAGE_BZIMAGE && !strcmp(v, "6.1.0-test"),
	      "kimage_probe on a file");
	CHECK(!kimage_check(arch_default(), path, v, sizeof(v)), "bzImage accepted for x86_64");
	nlogs = 0;
	CHECK_EQ_INT(kimage_check(&arm64, path, v, sizeof(v)), -ENOEXEC, "bzImage rejected for arm64");
	CHECK_EQ_INT(nlogs, 1, "with one message");
	CHECK_EQ_INT(kimage_probe(dir, &fmt, v, sizeof(v)), -EISDIR, "directory");
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_EQ_INT(kimage_probe(path, &fmt, v, sizeof(v)), -ENOENT, "missing file");
	log_set_sink(NULL, NULL);
	rm_rf(dir);
}

static void test_modules_helpers(void)
{
	static const char config[] = "# CONFIG_FOO is not set\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO=y\n"
				     "CONFIG_VIRTIO_CONSOLE=y\nCONFIG_CMDLINE=\"a b\"\n";
	static const char builtin[] = "kernel/drivers/virtio/virtio.ko\nkernel/drivers/char/virtio_console.ko\n";
	char v[64], name[64];

	CHECK(!kv_value(config, "CONFIG_VIRTIO_PCI", v, sizeof(v)) && !strcmp(v, "m"), "kconfig =m");
	CHECK(!kv_value(config, "CONFIG_VIRTIO", v, sizeof(v)) && !strcmp(v, "y"), "kconfig prefix symbol");
	CHECK_EQ_INT(kv_value(config, "CONFIG_FOO", v, sizeof(v)), -ENOENT, "kconfig not set");
	CHECK(!kv_value(config, "CONFIG_CMDLINE", v, sizeof(v)) && !strcmp(v, "\"a b\""), "kconfig string");
	module_name_normalise("kernel/drivers/virtio/virtio-pci.ko.xz", name, sizeof(name));
	CHECK_EQ_STR(name, "virtio_pci", "normalised module name");
	CHECK(modules_builtin_has(builtin, "virtio-console"), "modules.builtin lists virtio_console");
	CHECK(!modules_builtin_has(builtin, "virtio_pci"), "modules.builtin lacks virtio_pci");
}

static void test_modules_wanted(void)
{
	char dir[] = "/tmp/kta-test-mods-XXXXXX", cfg[64], bi[64];
	const struct arch_profile *a = arch_default();
	char **names = NULL;
	static const char all_y[] = "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=y\nCONFIG_VIRTIO_BLK=y\n";
	static const char some_m[] = "CONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_CONSOLE=y\nCONFIG_VIRTIO_BLK=y\n";
	char mods_for[128];
	static const char builtin[] = "kernel/drivers/char/virtio_console.ko\nkernel/drivers/block/virtio_blk.ko\n";
	/* Debian's cloud kernels: virtio PCI and console built in, virtio-blk
	 * a module. */
	static const char blk_m[] = "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=y\nCONFIG_VIRTIO_BLK=m\n";
	static const char blk_builtin[] = "kernel/drivers/char/virtio_console.ko\nkernel/drivers/virtio/virtio_pci.ko\n";

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(cfg, sizeof(cfg), "%s/config", dir);
	snprintf(bi, sizeof(bi), "%s/modules.builtin", dir);
	write_file_atomic(cfg, all_y, strlen(all_y), 0644);
	CHECK(!modules_wanted(a, cfg, NULL, false, &names) && names && !names[0], "all =y: no modules");
	modules_list_free(names);
	CHECK(!modules_wanted(a, cfg, NULL, true, &names) && names && !names[0], "all =y: none with a disk either");
	modules_list_free(names);
	write_file_atomic(cfg, some_m, strlen(some_m), 0644);
	write_file_atomic(bi, builtin, strlen(builtin), 0644);
	CHECK(!modules_wanted(a, cfg, bi, false, &names) && modules_list_len(names) == 1 &&
		      !strcmp(names[0], "virtio_pci"), "=m: modules.builtin entries dropped");
	modules_list_free(names);
	CHECK(!modules_wanted(a, NULL, NULL, false, &names) && modules_list_len(names) == 2, "no config: all needed");
	modules_list_free(names);
	CHECK(!modules_wanted(a, NULL, NULL, true, &names) && modules_list_len(names) == 3,
	      "no config, a disk: virtio_blk too");
	modules_list_free(names);
	write_file_atomic(cfg, blk_m, strlen(blk_m), 0644);
	write_file_atomic(bi, blk_builtin, strlen(blk_builtin), 0644);
	CHECK(!modules_wanted(a, cfg, bi, false, &names) && names && !names[0],
	      "cloud kernel without a disk: nothing to load (no modules package to fetch)");
	modules_list_free(names);
	CHECK(!modules_wanted(a, cfg, bi, true, &names) && modules_list_len(names) == 1 &&
		      !strcmp(names[0], "virtio_blk"), "cloud kernel with a disk: virtio_blk only");
	modules_list_free(names);
	kernel_modules_for(a, false, mods_for, sizeof(mods_for));
	CHECK_EQ_STR(mods_for, "virtio_pci virtio_console", "an entry's modules_for without a disk");
	kernel_modules_for(a, true, mods_for, sizeof(mods_for));
	CHECK_EQ_STR(mods_for, "virtio_pci virtio_console virtio_blk", "with a disk");
	rm_rf(dir);
}

static void test_apt_sources(void)
{
	static const char deb822[] =
		"Types: deb\n"
		"# http://snapshot.example/archive/debian/20250520T000000Z\n"
		"URIs: http://mirror.example/debian-security\n"
		"Suites: bookworm-security\n"
		"Components: main\n\n"
		"Types: deb\n"
		"URIs: https://deb.nodesource.com/node_20.x\n"
		"Suites: nodistro\n\n"
		"Types: deb\n"
		"Enabled: no\n"
		"URIs: http://disabled.example/debian\n"
		"Suites: bookworm\n\n"
		"Types: deb deb-src\n"
		"URIs: http://mirror.example/debian/\n"
		"Suites: bookworm bookworm-updates\n"
		"Components: main\n";
	static const char list[] =
		"# deb http://commented.example/debian bookworm main\n"
		"deb http://security.example/debian-security bookworm-security main\n"
		"deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
		"deb [arch=amd64 signed-by=/x.gpg] http://list.example/debian bookworm main\n";
	char uri[256];

	CHECK(!apt_uri_from_deb822(deb822, uri, sizeof(uri)) && !strcmp(uri, "http://mirror.example/debian"),
	      "deb822: security, third-party and disabled skipped");
	CHECK(!apt_uri_from_list(list, uri, sizeof(uri)) && !strcmp(uri, "http://list.example/debian"),
	      "sources.list: options skipped");
	CHECK_EQ_INT(apt_uri_from_list("deb http://x/debian-security bookworm-security main\n", uri, sizeof(uri)),
		     -ENOENT, "security archive only: none");
}

int main(void)
{
	test_elf_flavours();
	test_elf_edge();
	test_versions();
	test_kimage();
	test_kimage_files();
	test_modules_helpers();
	test_modules_wanted();
	test_apt_sources();
	return unit_done();
}
