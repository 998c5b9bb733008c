/* Frame encoder and streaming decoder for the results channel. The decoder
 * treats the guest as untrusted: every length is bounded, every frame is
 * checksummed and numbered, and the first bad byte stops the stream.
 */
#include "run/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[REC__COUNT] = {
	[REC_HELLO] = "hello", [REC_PLAN] = "plan", [REC_BEGIN] = "begin",
	[REC_OUT] = "out",     [REC_RESULT] = "result", [REC_DIAG] = "diag",
	[REC_END] = "end", [REC_SAN] = "san", [REC_SUB] = "sub",
};

const char *rec_type_name(enum rec_type t)
{
	return (unsigned)t < REC__COUNT ? type_names[t] : "?";
}

int rec_type_from_name(const char *s, size_t len)
{
	for (int i = 0; i < REC__COUNT; i++)
		if (strlen(type_names[i]) == len && !memcmp(type_names[i], s, len))
			return i;
	return -1;
}

uint32_t crc32_ieee(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = data;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The checksum covers the sequence number, the type and the payload, so a
 * frame moved, retyped or altered is caught. */
static uint32_t frame_crc(uint32_t seq, enum rec_type type, const void *payload,
			  size_t len)
{
	char hdr[40];
	int n = snprintf(hdr, sizeof(hdr), "%u %s %zu\n", seq, rec_type_name(type), len);

	return crc32_ieee(crc32_ieee(0, hdr, (size_t)n), payload, len);
}

long proto_encode(char *out, size_t cap, uint32_t seq, enum rec_type type,
		  const void *payload, size_t len)
{
	char hdr[PROTO_MAX_HEADER];
	int n;
	size_t total;

	if (len > PROTO_MAX_PAYLOAD || (unsigned)type >= REC__COUNT)
		return -EINVAL;
	n = snprintf(hdr, sizeof(hdr), PROTO_MAGIC " %u %s %zu %08x\n", seq,
		     rec_type_name(type), len, frame_crc(seq, type, payload, len));
	total = (size_t)n + len + 1;
	if (total <= cap) {
		memcpy(out, hdr, (size_t)n);
		if (len)
			memcpy(out + n, payload, len);
		out[n + len] = '\n';
	}
	return (long)total;
}

void proto_decoder_init(struct proto_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void proto_decoder_free(struct proto_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static int fail(struct proto_decoder *d, enum proto_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct proto_decoder *d, enum proto_error e, const char *fmt, ...)
{
	va_list ap;

	d->error = e;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int parse_uint(const char **p, const char *end, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

struct header {
	uint32_t seq;
	int type;
	size_t len;
	uint32_t crc;
};

/* Parse "KTA1 seq type len crc" (no newline). */
static int parse_header(const char *s, size_t n, struct header *h)
{
	const char *p = s, *end = s + n, *t;
	unsigned long long v;

	if (n < 5 || memcmp(p, PROTO_MAGIC " ", 5))
		return -1;
	p += 5;
	if (parse_uint(&p, end, UINT32_MAX, &v) || p >= end || *p++ != ' ')
		return -1;
	h->seq = (uint32_t)v;
	t = p;
	while (p < end && *p >= 'a' && *p <= 'z')
		p++;
	h->type = rec_type_from_name(t, (size_t)(p - t));
	if (h->type < 0 || p >= end || *p++ != ' ')
		return -1;
	if (parse_uint(&p, end, PROTO_MAX_PAYLOAD, &v) || p >= end || *p++ != ' ')
		return -1;
	h->len = (size_t)v;
	if (end - p != 8)
		return -1;
	h->crc = 0;
	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (x < 0)
			return -1;
		h->crc = h->crc << 4 | (uint32_t)x;
	}
	return 0;
}

static int decode_one(struct proto_decoder *d, size_t *used, proto_rec_fn fn, void *ctx)
{
	const char *nl;
	size_t hlen, need;
	struct header h;
	struct rec r;
	char *payload;
	int err;

	*used = 0;
	if (d->len && d->buf[0] != PROTO_MAGIC[0])
		return fail(d, PROTO_ERR_GARBAGE, "garbage at stream offset %llu (byte 0x%02x)",
			    (unsigned long long)d->offset, (unsigned char)d->buf[0]);
	if (d->len < 4)
		return 0;
	if (memcmp(d->buf, PROTO_MAGIC, 4))
		return fail(d, PROTO_ERR_GARBAGE, "garbage at stream offset %llu (byte 0x%02x)",
			    (unsigned long long)d->offset, (unsigned char)d->buf[0]);
	nl = memchr(d->buf, '\n', d->len < PROTO_MAX_HEADER ? d->len : PROTO_MAX_HEADER);
	if (!nl) {
		if (d->len >= PROTO_MAX_HEADER)
			return fail(d, PROTO_ERR_HEADER, "frame header too long at offset %llu",
				    (unsigned long long)d->offset);
		return 0;
	}
	hlen = (size_t)(nl - d->buf);
	if (parse_header(d->buf, hlen, &h))
		return fail(d, PROTO_ERR_HEADER, "malformed frame header at offset %llu",
			    (unsigned long long)d->offset);
	need = hlen + 1 + h.len + 1;
	if (d->len < need)
		return 0;
	payload = d->buf + hlen + 1;
	if (payload[h.len] != '\n')
		return fail(d, PROTO_ERR_TRAILER, "frame %llu at offset %llu has no trailing newline",
			    (unsigned long long)h.seq, (unsigned long long)d->offset);
	if (frame_crc(h.seq, (enum rec_type)h.type, payload, h.len) != h.crc)
		return fail(d, PROTO_ERR_CRC, "checksum mismatch in frame %llu at offset %llu",
			    (unsigned long long)h.seq, (unsigned long long)d->offset);
	if (h.seq != d->next_seq)
		return fail(d, PROTO_ERR_SEQ, "frame %u arrived where %u was expected",
			    h.seq, d->next_seq);
	d->next_seq++;
	payload[h.len] = '\0';
	r.seq = h.seq;
	r.type = (enum rec_type)h.type;
	r.payload = payload;
	r.len = h.len;
	*used = need;
	err = fn ? fn(&r, ctx) : 0;
	return err;
}

int proto_feed(struct proto_decoder *d, const void *data, size_t len,
	       proto_rec_fn fn, void *ctx)
{
	size_t start = 0;
	int err = 0;

	if (d->error)
		return -EBADMSG;
	if (d->len + len > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		char *p;

		while (cap < d->len + len)
			cap *= 2;
		p = realloc(d->buf, cap);
		if (!p)
			return -ENOMEM;
		d->buf = p;
		d->cap = cap;
	}
	if (len)
		memcpy(d->buf + d->len, data, len);
	d->len += len;

	/* Decode in place and compact once at the end. */
	for (;;) {
		size_t used;
		char *save = d->buf;
		size_t save_len = d->len;

		d->buf += start;
		d->len -= start;
		err = decode_one(d, &used, fn, ctx);
		d->buf = save;
		d->len = save_len;
		if (used) {
			start += used;
			d->offset += used;
		}
		if (err || !used)
			break;
	}
	if (start) {
		memmove(d->buf, d->buf + start, d->len - start);
		d->len -= start;
	}
	return err;
}

int proto_finish(struct proto_decoder *d)
{
	if (d->error)
		return -EBADMSG;
	if (d->len)
		return fail(d, PROTO_ERR_TRUNCATED,
			    "stream ended inside a frame (%zu bytes at offset %llu)",
			    d->len, (unsigned long long)d->offset);
	return 0;
}
