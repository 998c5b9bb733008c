/* What a compressed kernel image carries: the vmlinux inside a bzImage's
 * payload (which its setup header locates), or any stretch of an image a
 * decompressor accepts. The decompressors are the system's tools (zstd,
 * gzip, xz, lz4, ...), run as child processes.
 */
#ifndef KTA_KPAYLOAD_H
#define KTA_KPAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* Pure: where a bzImage's payload lies in img. 0 with *off and *len, or
 * -ENOEXEC when img is not a bzImage or its header points outside it. */
int kpayload_locate(const void *img, size_t len, size_t *off, size_t *plen);

/* If p starts with a compressor's magic, its decompressed bytes appended to
 * out: 0; -ENOENT when no magic matches (scan_only: only the magics long
 * and rare enough to look for anywhere in an image), -ENOEXEC when the
 * tool yields nothing, another negative errno when it cannot run. */
int kpayload_decompress(const void *p, size_t len, bool scan_only, struct buf *out);

/* A bzImage's payload, decompressed: x86's vmlinux, an ELF file. */
int kpayload_bzimage(const void *img, size_t len, struct buf *out);

#endif
