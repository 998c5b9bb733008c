/* What validate and bisect read back from a `kta run` child they
 * started: its log's last lines and whether its kernel died before the
 * guest's agent said hello (its results.json says so; exit 125 alone does
 * not, since a build that fails exits 125 too).
 */
#ifndef KTA_RUNCHILD_H
#define KTA_RUNCHILD_H

#include <stdbool.h>
#include <stddef.h>

/* The last `lines` lines of the log at path, newlines as spaces; "" if
 * there is nothing to read. */
void runchild_log_tail(const char *path, int lines, char *out, size_t n);
/* The run's report at json says "kernel-failed-to-boot". */
bool runchild_boot_failed(const char *json);

#endif
