/* Module resolution for a prebuilt kernel: which modules the guest needs
 * (virtio PCI and console unless built in), where they are in an unpacked
 * package tree, their dependencies (read from each module's .modinfo, as
 * Debian's split 7.x packages ship no modules.dep), and decompressed copies
 * in load order.
 */
#ifndef KTA_MODULES_H
#define KTA_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arch.h"

/* A NULL-terminated list of malloc'ed strings. */
void modules_list_free(char **list);
size_t modules_list_len(char *const *list);

/* Whether modules.builtin text lists module `name` ('-' and '_' equal). */
int modules_builtin_has(const char *builtin_text, const char *name);

/* "virtio-pci.ko.xz" or "virtio_pci" -> "virtio_pci". */
void module_name_normalise(const char *file, char *out, size_t size);

/* Which of arch->guest_modules (and with disk, arch->disk_modules) the
 * kernel needs: none when all of arch->builtin_symbols (and
 * disk_builtin_symbols) are =y in the config, else those modules.builtin
 * does not list. config_path and builtin_path may be NULL or missing
 * (then every guest module is needed). *names is an empty list (not
 * NULL) when none are needed. */
int modules_wanted(const struct arch_profile *arch, const char *config_path,
		   const char *builtin_path, bool disk, char ***names);

/* Find names and, recursively, their dependencies under tree (.ko, .ko.xz,
 * .ko.zst, .ko.gz), write uncompressed copies to outdir/<name>.ko and
 * return the names in load order (dependencies first, no duplicates) in
 * *order. Fails on a missing module, a dependency cycle, or a module for
 * another machine than arch's. */
int modules_resolve(const struct arch_profile *arch, const char *tree, char *const *names,
		    const char *outdir, char ***order);

#endif
