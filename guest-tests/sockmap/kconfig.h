/* Does the running kernel have the options a suite needs? Reads the
 * kernel's own configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC), else
 * the file named by $KTA_KERNEL_CONFIG (kta puts the booted kernel's .config
 * at /kta/kernel.config), gzip'd or plain.
 */
#ifndef KTA_SOCKMAP_KCONFIG_H
#define KTA_SOCKMAP_KCONFIG_H

#include <stddef.h>

/* Returns 0 when every option of required[] (names like "CONFIG_INET") is
 * =y or =m, 1 when one is not (*missing names the first), -ENOENT when no
 * configuration is available, another -errno when it cannot be read.
 * *source gets the file that was read. */
int kconfig_check(const char *const *required, size_t n, const char **missing,
		  const char **source);

#endif
