/* SHA-256, for content-addressed caches and artifact hashes. */
#ifndef KTA_SHA256_H
#define KTA_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t block[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
