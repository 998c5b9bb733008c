/* Host-side symbolization of sanitizer frames (run/symbolize.c): the
 * frame parser and the rewrite on fixed text, then llvm-symbolizer on
 * this test program itself. */
#include "run/symbolize.h"
#include "unit.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static const char llvm_log[] =
	"==92==ERROR: LeakSanitizer: detected memory leaks\n"
	"\n"
	"Direct leak of 50 byte(s) in 1 object(s) allocated from:\n"
	"    #0 0xaaaac322a404  (/kta/tests/asan_token+0xda404) (BuildId: a7fb)\n"
	"    #1 0xffff9dc0777c  (/lib/aarch64-linux-gnu/libc.so.6+0x2777c) (BuildId: 67ad)\n"
	"    #2 0xaaaac318a92c in _start (/kta/tests/asan_token+0x3a92c)\n"
	"    #3 0xaaaac318a92c  (/kta/tests/asan_token+0xzz)\n"
	"not a frame (/kta/tests/x+0x10)\n"
	"    #4 0xaaaac318a92c  (/kta/tests/asan_token+0x11b60c)";

static void test_frames(void)
{
	struct san_frame f[8];
	size_t n = san_frames(llvm_log, strlen(llvm_log), f, 8);
	char *what[3] = { "__interceptor_malloc", NULL, "kta_child_leak asan_child.h:97:15" };
	struct buf out = { 0 };

	CHECK_EQ_INT(n, 3, "three frames without a function (not _start's, not 0xzz, not prose)");
	CHECK_EQ_STR(f[0].module, "/kta/tests/asan_token", "the module");
	CHECK_EQ_INT(f[0].offset, 0xda404, "its offset");
	CHECK_EQ_STR(f[1].module, "/lib/aarch64-linux-gnu/libc.so.6", "a library's frame");
	CHECK_EQ_INT(f[2].offset, 0x11b60c, "the last line, without a newline");
	CHECK_EQ_INT(san_frames(llvm_log, strlen(llvm_log), f, 1), 1, "at most max");
	n = san_frames(llvm_log, strlen(llvm_log), f, 8);
	CHECK_EQ_INT(san_insert(llvm_log, strlen(llvm_log), f, what, n, &out), 0, "rewritten");
	CHECK(out.data && strstr(out.data, "    #0 0xaaaac322a404 in __interceptor_malloc (/kta/tests/asan_token+0xda404)"),
	      "a named frame reads as ASAN's own");
	CHECK(strstr(out.data, "    #1 0xffff9dc0777c  (/lib/aarch64-linux-gnu/libc.so.6+0x2777c)"),
	      "an unnamed one is left as it was");
	CHECK(strstr(out.data, "#4 0xaaaac318a92c in kta_child_leak asan_child.h:97:15 (/kta/tests/asan_token+0x11b60c)"),
	      "the last one too");
	CHECK(strstr(out.data, "#2 0xaaaac318a92c in _start (/kta/tests/asan_token+0x3a92c)\n"), "a named frame kept");
	buf_free(&out);
	CHECK_EQ_INT(san_frames("", 0, f, 8), 0, "an empty log");
	CHECK_EQ_INT(san_frames("#1 0x1 (m+0x", 12, f, 8), 0, "a frame cut short");
	CHECK_EQ_INT(san_frames("  #1 0x1 (m+0x11111111111111111)", 33, f, 8), 0, "an offset past 64 bits");
}

static const char *resolve(const char *guest, void *ctx)
{
	return strcmp(guest, "/kta/tests/self") ? NULL : ctx;
}

static void test_symbolize_self(void)
{
	Dl_info di;
	struct buf log = { 0 };
	/* Its own path: llvm-symbolizer's /proc/self/exe is llvm-symbolizer. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (!CHECK(n > 0, "this program's path"))
		return;
	self[n] = '\0';

	if (!dladdr((void *)(uintptr_t)test_frames, &di) || !di.dli_fbase) {
		CHECK(0, "dladdr finds this program");
		return;
	}
	buf_printf(&log, "    #0 0x1  (/kta/tests/self+0x%lx)\n    #1 0x2  (/kta/tests/other+0x10)\n",
		   (unsigned long)((uintptr_t)test_frames - (uintptr_t)di.dli_fbase));
	CHECK_EQ_INT(san_symbolize(&log, resolve, self), 0, "symbolized");
	if (!CHECK(log.data && strstr(log.data, "#0 0x1 in test_frames ") && strstr(log.data, "test_symbolize.c:"),
		   "llvm-symbolizer names the function and its file"))
		printf("#   %s", log.data ? log.data : "(nothing)\n");
	CHECK(strstr(log.data, "#1 0x2  (/kta/tests/other+0x10)"), "a module the host does not have: unchanged");
	buf_free(&log);
}

int main(void)
{
	test_frames();
	test_symbolize_self();
	return unit_done();
}
