/* util.c's file helpers: what they must never do. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "run/report.h"
#include "unit.h"
#include "base/kv.h"
#include "base/util.h"

static void test_atomic_write_no_symlink(void)
{
	char dir[] = "/tmp/kta-unit-util.XXXXXX", path[PATH_MAX], tmp[PATH_MAX + 32], victim[PATH_MAX];
	struct buf b = { 0 };

	if (!CHECK(mkdtemp(dir) != NULL, "a scratch directory"))
		return;
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	CHECK(write_file_atomic(victim, "precious\n", 9, 0644) == 0, "the victim file");
	/* Someone plants a symlink at the temporary name. */
	CHECK(symlink(victim, tmp) == 0, "a symlink at path.tmp.PID");
	CHECK(write_file_atomic(path, "new\n", 4, 0644) == 0, "write_file_atomic goes on");
	CHECK(read_file(victim, &b, 1024) == 0 && b.len == 9 && !memcmp(b.data, "precious\n", 9),
	      "the symlink's target is untouched");
	buf_free(&b);
	CHECK(read_file(path, &b, 1024) == 0 && b.len == 4 && !memcmp(b.data, "new\n", 4), "the file has the data");
	buf_free(&b);
	CHECK(access(tmp, F_OK) != 0, "no temporary left");
	rm_rf(dir);
}

static void test_utf8(void)
{
	CHECK(utf8_len((const unsigned char *)"a", 1) == 1, "ASCII: 1");
	CHECK(utf8_len((const unsigned char *)"\xc3\xa9", 2) == 2, "e-acute: 2");
	CHECK(utf8_len((const unsigned char *)"\xe2\x82\xac", 3) == 3, "euro sign: 3");
	CHECK(utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4, "an emoji: 4");
	CHECK(utf8_len((const unsigned char *)"\xff", 1) == 0, "0xff: invalid");
	CHECK(utf8_len((const unsigned char *)"\x80", 1) == 0, "a stray continuation byte: invalid");
	CHECK(utf8_len((const unsigned char *)"\xc3(", 2) == 0, "a broken sequence: invalid");
	CHECK(utf8_len((const unsigned char *)"\xe2\x82", 2) == 0, "a truncated sequence: invalid");
	CHECK(utf8_len((const unsigned char *)"\xc0\xaf", 2) == 0, "an overlong '/': invalid");
	CHECK(utf8_len((const unsigned char *)"\xed\xa0\x80", 3) == 0, "a surrogate: invalid");
	CHECK(utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0, "past U+10FFFF: invalid");
}

/* What a test prints goes into results.json and the JUnit file: any bytes
 * must give valid JSON (checked with jansson, a strict parser) and XML
 * that is UTF-8 without control characters. */
static void test_reports_take_any_bytes(void)
{
	static const char nasty[] = "ok \xff\xfe \xc3( \x01\x1b[31m \xed\xa0\x80 \xc3\xa9 <&\"> end";
	struct buf j = { 0 }, x = { 0 };
	json_error_t err;
	json_t *v;
	bool clean = true;

	{
		json_t *a = json_array();
		char *text;

		json_array_append_new(a, report_jtext(nasty, sizeof(nasty) - 1));
		text = json_dumps(a, 0);
		buf_append(&j, text, strlen(text));
		free(text);
		json_decref(a);
	}
	v = json_loadb(j.data, j.len, 0, &err);
	CHECK(v != NULL, "JSON of invalid UTF-8 and control bytes parses");
	CHECK(v && strstr(json_string_value(json_array_get(v, 0)), "\xc3\xa9 <&\"> end") != NULL,
	      "and keeps the valid text");
	json_decref(v);
	report_xml_str(&x, nasty, sizeof(nasty) - 1);
	for (size_t i = 0; i < x.len;) {
		size_t n = utf8_len((const unsigned char *)x.data + i, x.len - i);
		unsigned char c = (unsigned char)x.data[i];

		if (!n || (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == '<' || c == '"')
			clean = false;
		i += n ? n : 1;
	}
	CHECK(clean, "XML text of the same bytes: UTF-8, no control characters, markup escaped");
	buf_free(&j);
	buf_free(&x);
}

/* results.json, written through jansson, of a test that printed the same
 * bytes: a strict parser reads it and finds the valid text. */
static void test_results_json_takes_any_bytes(void)
{
	static const char nasty[] = "ok \xff\xfe \xc3( \x01\x1b[31m \xed\xa0\x80 \xc3\xa9 <&\"> end\0tail";
	struct test_result t = { .num = 1, .outcome = OUT_FAIL };
	struct run_result r = { .tests = &t, .ntests = 1, .status = RUN_COMPLETE };
	struct report_meta m = { .arch = "x86_64", .kernel_version = "v\xff" };
	char path[] = "/tmp/kta-unit-json.XXXXXX";
	int fd = mkstemp(path);
	json_error_t err;
	json_t *v = NULL, *out;

	snprintf(t.name, sizeof(t.name), "nasty");
	buf_append(&t.output, nasty, sizeof(nasty) - 1);
	CHECK(fd >= 0, "temp file");
	if (fd >= 0) {
		close(fd);
		CHECK_EQ_INT(report_json(path, &r, &m), 0, "results.json written");
		v = json_load_file(path, JSON_ALLOW_NUL, &err);
	}
	out = json_object_get(json_array_get(json_object_get(v, "tests"), 0), "output");
	CHECK(v != NULL, "results.json of invalid UTF-8, control and NUL bytes parses");
	CHECK(out && strstr(json_string_value(out), "\xc3\xa9 <&\"> end") != NULL, "and keeps the valid text");
	CHECK(out && json_string_length(out) > strlen(json_string_value(out)), "the NUL byte kept (as \\u0000)");
	json_decref(v);
	buf_free(&t.output);
	unlink(path);
}

static void test_kv(void)
{
	const char *info = "# written by kta\nversion=7.3.4\nversion_long=a much longer value\nempty=\n";
	cleanup_buf struct buf b = { 0 };
	char v[8];

	CHECK(!kv_value(info, "version", v, sizeof(v)) && !strcmp(v, "7.3.4"), "kv_value: a key, not its prefix's");
	CHECK(!kv_value(info, "empty", v, sizeof(v)) && !strcmp(v, ""), "kv_value: an empty value");
	CHECK_EQ_INT(kv_value(info, "version_long", v, sizeof(v)), -ENAMETOOLONG, "kv_value: too long is an error");
	CHECK_EQ_INT(kv_value(info, "missing", v, sizeof(v)), -ENOENT, "kv_value: absent");
	CHECK_EQ_INT(kv_value(NULL, "version", v, sizeof(v)), -ENOENT, "kv_value: no text");
	CHECK_EQ_INT(kv_get(info, strlen(info), "version_long", v, sizeof(v)), 19, "kv_get: the full length");
	CHECK(!strcmp(v, "a much "), "kv_get: cut to fit");
	CHECK_EQ_INT(kv_add(&b, "k", "two\nlines"), -EINVAL, "kv_add: a value cannot forge a line");
	CHECK_EQ_INT(kv_add(&b, "a=b", "v"), -EINVAL, "kv_add: nor a key");
	CHECK(kv_add(&b, "n", "42") >= 0 && b.data && !strcmp(b.data, "n=42\n"), "kv_add");
}

int main(void)
{
	test_kv();
	test_utf8();
	test_reports_take_any_bytes();
	test_results_json_takes_any_bytes();
	test_atomic_write_no_symlink();
	return unit_done();
}
