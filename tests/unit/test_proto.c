/* Frame encoder/decoder: round trips, every corruption class, truncation,
 * and byte-at-a-time delivery. */
#include "run/proto.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

struct seen {
	int n;
	enum rec_type types[16];
	char payloads[16][128];
};

static int collect(const struct rec *r, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->types[s->n] = r->type;
		snprintf(s->payloads[s->n], 128, "%s", r->payload);
	}
	s->n++;
	return 0;
}

static size_t enc(char *out, size_t cap, uint32_t seq, enum rec_type t, const char *p)
{
	long n = proto_encode(out, cap, seq, t, p, strlen(p));

	return n > 0 && (size_t)n <= cap ? (size_t)n : 0;
}

static size_t stream3(char *b, size_t cap)
{
	size_t n = 0;

	n += enc(b + n, cap - n, 0, REC_HELLO, "version=1 kernel=7.3 arch=x86_64 tests=1");
	n += enc(b + n, cap - n, 1, REC_RESULT, "ok 1 smoke\nstatus=pass");
	n += enc(b + n, cap - n, 2, REC_END, "pass=1 fail=0 skip=0 total=1");
	return n;
}

int main(void)
{
	char b[4096], c[4096];
	struct proto_decoder d;
	struct seen s;
	size_t n;
	int err;

	CHECK_EQ_INT(crc32_ieee(0, "123456789", 9), 0xcbf43926, "crc32 check value");

	n = stream3(b, sizeof(b));
	memset(&s, 0, sizeof(s));
	proto_decoder_init(&d);
	err = proto_feed(&d, b, n, collect, &s);
	CHECK_EQ_INT(err, 0, "whole stream decodes");
	CHECK_EQ_INT(s.n, 3, "three records");
	CHECK_EQ_INT(s.types[2], REC_END, "last is end");
	CHECK_EQ_STR(s.payloads[1], "ok 1 smoke\nstatus=pass", "payload intact");
	CHECK_EQ_INT(proto_finish(&d), 0, "clean end");
	proto_decoder_free(&d);

	memset(&s, 0, sizeof(s));
	proto_decoder_init(&d);
	for (size_t i = 0; i < n; i++)
		err = err ?: proto_feed(&d, b + i, 1, collect, &s);
	CHECK(!err && s.n == 3, "byte-at-a-time delivery decodes");
	proto_decoder_free(&d);

	/* A payload may contain anything, including a fake frame header. */
	{
		const char tricky[] = "KTA1 9 end 3 00000000\nxyz\n\0binary";
		long m = proto_encode(c, sizeof(c), 0, REC_OUT, tricky, sizeof(tricky));

		memset(&s, 0, sizeof(s));
		proto_decoder_init(&d);
		CHECK(m > 0 && proto_feed(&d, c, (size_t)m, collect, &s) == 0 && s.n == 1 &&
			      s.types[0] == REC_OUT,
		      "payload with embedded header and NUL");
		proto_decoder_free(&d);
	}

	/* Flip one payload byte: checksum. */
	memcpy(c, b, n);
	c[n - 5] ^= 1;
	proto_decoder_init(&d);
	memset(&s, 0, sizeof(s));
	err = proto_feed(&d, c, n, collect, &s);
	CHECK(err == -EBADMSG && d.error == PROTO_ERR_CRC, "flipped byte is a checksum error");
	CHECK_EQ_INT(s.n, 2, "records before the bad one are kept");
	CHECK_EQ_INT(proto_feed(&d, "x", 1, collect, &s), -EBADMSG, "decoder stays failed");
	proto_decoder_free(&d);

	/* Garbage between frames. */
	{
		size_t a = enc(c, sizeof(c), 0, REC_HELLO, "v");

		memcpy(c + a, "oops\n", 5);
		a += 5 + enc(c + a + 5, sizeof(c) - a - 5, 1, REC_END, "x");
		proto_decoder_init(&d);
		memset(&s, 0, sizeof(s));
		err = proto_feed(&d, c, a, collect, &s);
		CHECK(err == -EBADMSG && d.error == PROTO_ERR_GARBAGE && s.n == 1,
		      "garbage between frames");
		proto_decoder_free(&d);
	}

	/* A missing frame: sequence. */
	{
		size_t a = enc(c, sizeof(c), 0, REC_HELLO, "v");

		a += enc(c + a, sizeof(c) - a, 2, REC_END, "x");
		proto_decoder_init(&d);
		memset(&s, 0, sizeof(s));
		err = proto_feed(&d, c, a, collect, &s);
		CHECK(err == -EBADMSG && d.error == PROTO_ERR_SEQ, "gap in sequence");
		proto_decoder_free(&d);
	}

	/* A renumbered frame whose checksum was left alone. */
	{
		size_t a = enc(c, sizeof(c), 0, REC_HELLO, "v");

		c[5] = '1';
		proto_decoder_init(&d);
		err = proto_feed(&d, c, a, collect, &s);
		CHECK(err == -EBADMSG && d.error == PROTO_ERR_CRC, "renumbered frame fails its checksum");
		proto_decoder_free(&d);
	}

	/* Cut in the middle of the last frame. */
	proto_decoder_init(&d);
	memset(&s, 0, sizeof(s));
	err = proto_feed(&d, b, n - 7, collect, &s);
	CHECK_EQ_INT(err, 0, "prefix decodes");
	CHECK_EQ_INT(s.n, 2, "two complete records");
	err = proto_finish(&d);
	CHECK(err == -EBADMSG && d.error == PROTO_ERR_TRUNCATED, "truncated at finish");
	proto_decoder_free(&d);

	/* Oversized length is refused as a header error, not buffered. */
	proto_decoder_init(&d);
	err = proto_feed(&d, "KTA1 0 out 99999999 00000000\n", 29, collect, &s);
	CHECK(err == -EBADMSG && d.error == PROTO_ERR_HEADER, "oversized length rejected");
	proto_decoder_free(&d);

	CHECK_EQ_INT(proto_encode(c, sizeof(c), 0, REC_OUT, NULL, PROTO_MAX_PAYLOAD + 1), -EINVAL,
		     "encoder refuses oversized payload");
	return unit_done();
}
