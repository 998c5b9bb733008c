/* Reading kernel modules (.ko ELF files) without libelf: the `.modinfo`
 * section (depends=, vermagic=, ...) and the ELF header. Modules come from
 * downloaded packages or a user's tree, so every offset is bounds-checked.
 */
#ifndef KTA_MODINFO_H
#define KTA_MODINFO_H

#include <stddef.h>
#include <stdint.h>

/* The value of the first `key=value` entry in the ELF's .modinfo section,
 * NUL-terminated in out. Returns its length (>= 0), -ENOENT when the key or
 * the section is absent, -ENOEXEC for a malformed or non-ELF buffer,
 * -ENAMETOOLONG when outsz is too small. */
int modinfo_get(const void *elf, size_t len, const char *key, char *out, size_t outsz);

/* e_machine of an ELF32/ELF64 buffer of either byte order; -ENOEXEC if it
 * is not ELF. */
int elf_machine(const void *buf, size_t len, uint16_t *machine);

#endif
