/* Fuzz target: the .ko ELF reader (modinfo_get, elf_machine), the kernel
 * image header probe, a bzImage's payload bounds and a vmlinux's PVH note.
 * All read files kta did not build: every offset in them is
 * attacker-controlled. */
#include "kernel/kimage.h"
#include "kernel/kpayload.h"
#include "kernel/kpvh.h"
#include "base/log.h" /* kimage.c's file-level probes log */
#include "kernel/modinfo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "depends", "vermagic", "name", "" };
	/* An exactly-sized copy: ASAN reports any read past size. */
	uint8_t *copy = malloc(size ? size : 1);
	char out[256], version[128];
	uint16_t machine;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int n = modinfo_get(copy, size, keys[i], out, sizeof(out));

		/* A found value is NUL-terminated within out. */
		if (n >= 0 && (size_t)n >= sizeof(out))
			abort();
		if (n >= 0 && strlen(out) != (size_t)n)
			abort();
	}
	modinfo_get(copy, size, "depends", out, 1);
	elf_machine(copy, size, &machine);
	kimage_probe_buf(copy, size, version, sizeof(version));
	if (strlen(version) >= sizeof(version))
		abort();
	kimage_probe_buf(copy, size, version, 1);
	{
		size_t off, len;
		uint32_t entry;

		if (!kpayload_locate(copy, size, &off, &len) && (off > size || len > size - off))
			abort();
		kpvh_entry(copy, size, &entry);
	}
	free(copy);
	return 0;
}
