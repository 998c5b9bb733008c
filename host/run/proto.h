/* The results channel: KTAP v1 and test output in checksummed, numbered
 * frames over a virtio-serial port (docs/protocol.md). Shared by the guest
 * agent (encoder) and the host (decoder); libc only, no allocation in the
 * encoder.
 */
#ifndef KTA_PROTO_H
#define KTA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC "KTA1"
#define PROTO_MAX_PAYLOAD 65536
#define PROTO_MAX_HEADER 64
#define PROTO_PORT_NAME "kta.results"

enum rec_type {
	REC_HELLO,  /* "version=1 kernel=R arch=M" */
	REC_PLAN,   /* "KTAP version 1\n1..N" */
	REC_BEGIN,  /* "N name" */
	REC_OUT,    /* "N\n" then raw output bytes of test N */
	REC_RESULT, /* one KTAP result line, then "key=value" lines */
	REC_DIAG,   /* free text from the agent */
	REC_END,    /* "pass=P fail=F skip=S total=T" */
	REC_SAN,    /* "N file\n" then a chunk of a sanitizer log of test N */
	REC_SUB,    /* "N\n" then one KTAP result line of a subtest of test N,
		     * then "key=value" lines (a test_progs subtest, as it ends) */
	REC__COUNT,
};

struct rec {
	uint32_t seq;
	enum rec_type type;
	const char *payload; /* NUL-terminated copy, len bytes */
	size_t len;
};

const char *rec_type_name(enum rec_type t);
int rec_type_from_name(const char *s, size_t len);

uint32_t crc32_ieee(uint32_t crc, const void *data, size_t len);

/* Write a frame into out; returns its full size (even when it does not fit,
 * like snprintf) or -EINVAL for an oversized payload. */
long proto_encode(char *out, size_t cap, uint32_t seq, enum rec_type type,
		  const void *payload, size_t len);

enum proto_error {
	PROTO_OK = 0,
	PROTO_ERR_GARBAGE,   /* bytes that are not a frame header */
	PROTO_ERR_HEADER,    /* a header that does not parse */
	PROTO_ERR_CRC,       /* checksum mismatch */
	PROTO_ERR_SEQ,       /* a frame missing or repeated */
	PROTO_ERR_TRAILER,   /* payload not followed by '\n' */
	PROTO_ERR_TRUNCATED, /* stream ended inside a frame */
	PROTO_ERR_CONTENT,   /* well-formed frames that contradict the plan (set by the host) */
};

struct proto_decoder {
	char *buf;
	size_t len, cap;
	uint32_t next_seq;
	uint64_t offset; /* stream offset of buf[0], for messages */
	enum proto_error error;
	char errmsg[160];
};

typedef int (*proto_rec_fn)(const struct rec *r, void *ctx);

void proto_decoder_init(struct proto_decoder *d);
void proto_decoder_free(struct proto_decoder *d);
/* Feed stream bytes; calls fn for each complete, verified frame. Returns 0,
 * a negative value from fn, or -EBADMSG once the stream is corrupt (see
 * d->error and d->errmsg; later calls keep returning -EBADMSG). */
int proto_feed(struct proto_decoder *d, const void *data, size_t len,
	       proto_rec_fn fn, void *ctx);
/* End of stream: -EBADMSG with PROTO_ERR_TRUNCATED if a frame is cut. */
int proto_finish(struct proto_decoder *d);

#endif
