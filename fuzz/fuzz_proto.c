/* Fuzz target: the results-channel decoder, fed in uneven chunks as the
 * guest's bytes arrive. */
#include "run/proto.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const struct rec *r, void *ctx)
{
	size_t *n = ctx;

	/* Touch every payload byte so ASAN sees out-of-bounds lengths. */
	for (size_t i = 0; i < r->len; i++)
		*n += (unsigned char)r->payload[i];
	*n += r->payload[r->len] == '\0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_decoder d;
	size_t acc = 0, off = 0, step = size ? (data[0] % 17) + 1 : 1;

	proto_decoder_init(&d);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		if (proto_feed(&d, data + off, n, sink, &acc) < 0)
			break;
		off += n;
	}
	proto_finish(&d);
	proto_decoder_free(&d);
	return 0;
}
