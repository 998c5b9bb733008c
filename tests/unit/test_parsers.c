/* KTAP result lines, key=value facts, console splats and markers. */
#include "base/kv.h"
#include "base/ktap.h"
#include "run/splat.h"
#include "unit.h"

#include <errno.h>

#define L(s) s, sizeof(s) - 1

int main(void)
{
	struct ktap_line k;
	char v[64];
	unsigned int num = 0;

	CHECK_EQ_INT(ktap_parse_result(L("ok 1 bpf_map"), &k), 0, "plain ok");
	CHECK(k.ok && k.num == 1 && !strcmp(k.name, "bpf_map") && !k.directive[0], "fields");
	CHECK_EQ_INT(ktap_parse_result(L("not ok 12 fail # exit=1\nstatus=fail"), &k), 0, "not ok");
	CHECK(!k.ok && k.num == 12 && !strcmp(k.name, "fail"), "not ok fields");
	CHECK_EQ_STR(k.text, "exit=1", "text after #, first line only");
	CHECK_EQ_INT(ktap_parse_result(L("ok 3 skip # SKIP widget not present"), &k), 0, "skip");
	CHECK_EQ_STR(k.directive, "SKIP", "SKIP directive");
	CHECK_EQ_STR(k.text, "widget not present", "skip reason");
	CHECK_EQ_INT(ktap_parse_result(L("ok 4 a # XFAIL sanitizer-exit-override"), &k), 0, "xfail");
	CHECK_EQ_STR(k.directive, "XFAIL", "XFAIL directive");
	CHECK_EQ_INT(ktap_parse_result(L("ok 5 - dashed"), &k), 0, "TAP-style dash");
	CHECK_EQ_STR(k.name, "dashed", "dash stripped");
	CHECK_EQ_INT(ktap_parse_result(L("okay 1 x"), &k), -EINVAL, "not a result");
	CHECK_EQ_INT(ktap_parse_result(L("ok x"), &k), -EINVAL, "no number");
	CHECK_EQ_INT(ktap_parse_result(L("ok 99999999999 x"), &k), -EINVAL, "huge number");
	CHECK_EQ_INT(ktap_parse_result(L("ok 1x"), &k), -EINVAL, "junk after number");

	CHECK_EQ_INT(kv_get(L("ok 1 a\nstatus=signal\nsignal=11\n"), "signal", v, sizeof(v)), 2,
		     "kv found");
	CHECK_EQ_STR(v, "11", "kv value");
	CHECK_EQ_INT(kv_get(L("ok 1 a\nstatus=pass"), "stat", v, sizeof(v)), -ENOENT,
		     "key prefix is not a match");
	CHECK_EQ_INT(kv_get_word(L("version=1 kernel=7.3.4+deb13 arch=x86_64"), "kernel", v,
				 sizeof(v)), 11, "word kv found");
	CHECK_EQ_STR(v, "7.3.4+deb13", "word kv value");
	{
		char name[16];

		ktap_sanitize_name("a b#c/d\x01", name, sizeof(name));
		CHECK_EQ_STR(name, "a_b_c_d_", "names sanitised");
	}

	CHECK_EQ_INT(splat_classify(L("[    3.141592] Kernel panic - not syncing: sysrq triggered crash")),
		     SPLAT_PANIC, "panic");
	CHECK_EQ_INT(splat_classify(L("[    1.0] BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2")),
		     SPLAT_KASAN, "KASAN before BUG");
	CHECK_EQ_INT(splat_classify(L("[    1.0] BUG: kernel NULL pointer dereference, address: 0")),
		     SPLAT_BUG, "BUG");
	CHECK_EQ_INT(splat_classify(L("[    1.0] Oops: 0002 [#1] PREEMPT SMP NOPTI")), SPLAT_OOPS,
		     "oops");
	CHECK_EQ_INT(splat_classify(L("[    1.0] WARNING: CPU: 1 PID: 77 at kernel/bpf/x.c:10 f+0x1")),
		     SPLAT_WARN, "warn");
	CHECK_EQ_INT(splat_classify(L("<4>[    1.0][  T77] UBSAN: shift-out-of-bounds in x.c:1:2")),
		     SPLAT_UBSAN, "ubsan with level and caller id");
	CHECK_EQ_INT(splat_classify(L("[   22.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!")),
		     SPLAT_LOCKUP, "soft lockup after the watchdog: prefix");
	CHECK_EQ_INT(splat_classify(L("[    1.0] INFO: task kworker:1 blocked for more than 120 seconds.")),
		     SPLAT_LOCKUP, "hung task");
	CHECK_EQ_INT(splat_classify(L("[    0.5] Run /init as init process")), SPLAT_NONE, "normal line");
	CHECK_EQ_INT(splat_classify(L("test said: Kernel panic - not syncing")), SPLAT_NONE,
		     "mid-line text is not a splat");
	CHECK_EQ_INT(splat_classify(L("")), SPLAT_NONE, "empty line");

	CHECK_EQ_INT(marker_parse(L("[    2.0] kta: begin 3 bpffs"), &num), MARKER_BEGIN, "begin");
	CHECK_EQ_INT(num, 3, "begin number");
	CHECK_EQ_INT(marker_parse(L("[    2.1] kta: end 3"), &num), MARKER_END, "end");
	CHECK_EQ_INT(marker_parse(L("kta: begin x"), &num), MARKER_NONE, "bad number");
	CHECK_EQ_INT(marker_parse(L("xkta: begin 1 a"), &num), MARKER_NONE, "not at start");
	return unit_done();
}
