/* The plan from both ends: what the host's writers (host/run/plan.c) put in
 * the plan is what the agent's reader (rootfs/agent_plan.c) takes out, and
 * what the reader would misread the writers refuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_plan.h"
#include "base/util.h"
#include "unit.h"

static unsigned int warnings;

static void count_warn(void *ctx, unsigned int line, const char *what, const char *text)
{
	(void)ctx;
	(void)line;
	(void)what;
	(void)text;
	warnings++;
}

int main(void)
{
	cleanup_buf struct buf b = { 0 };
	const char *args[] = { "-a", "token*", "-d", "@DENYLIST" };
	struct plan pl;
	char *copy;

	CHECK_EQ_INT(planw_begin(&b), 0, "magic");
	CHECK_EQ_INT(planw_image(&b, "vda1", "ext4", "/mnt/root", "/var/lib/kta/out"), 0, "an image line");
	CHECK_EQ_INT(planw_disk(&b, "vdb", "/mnt/st"), 0, "a disk line");
	CHECK_EQ_INT(planw_root(&b, "/payload"), 0, "a root line");
	CHECK_EQ_INT(planw_stress(&b, 2, 5, 256), 0, "a stress line");
	CHECK_EQ_INT(planw_env(&b, "GREETING=hello world", 0), 0, "an env value may hold spaces");
	CHECK_EQ_INT(planw_env(&b, "ONLY=first", 1), 0, "a tenv line");
	CHECK_EQ_INT(planw_topt(&b, PLAN_TOPT_ROOT, "/mnt/root"), 0, "topt root=");
	CHECK_EQ_INT(planw_topt(&b, PLAN_TOPT_PARSE_TPROGS, NULL), 0, "topt parse=test_progs");
	CHECK_EQ_INT(planw_topt(&b, PLAN_TOPT_SUBTIMEOUT, "30"), 0, "topt subtimeout=");
	CHECK_EQ_INT(planw_test(&b, 60, "first", "/kta/tests/first", args, 4), 0, "a test with arguments");
	CHECK_EQ_INT(planw_test(&b, 0, "second", "/kta/tests/second", NULL, 0), 0, "a test without a deadline");

	CHECK_EQ_INT(planw_test(&b, 1, "two words", "/x", NULL, 0), -EINVAL, "refused: a name with a space");
	CHECK_EQ_INT(planw_test(&b, 1, "n", "/x\ny", NULL, 0), -EINVAL, "refused: a newline in a path");
	CHECK_EQ_INT(planw_test(&b, 1, "n", "relative", NULL, 0), -EINVAL, "refused: a relative path");
	CHECK_EQ_INT(planw_test(&b, 1, "n", "/x", (const char *[]){ "a b" }, 1), -EINVAL,
		     "refused: an argument with a space");
	CHECK_EQ_INT(planw_test(&b, PLAN_MAX_TIMEOUT_S + 1, "n", "/x", NULL, 0), -EINVAL, "refused: a huge timeout");
	CHECK_EQ_INT(planw_env(&b, "NOEQUALS", 0), -EINVAL, "refused: env without '='");
	CHECK_EQ_INT(planw_env(&b, "A B=c", 0), -EINVAL, "refused: a key with a space");
	CHECK_EQ_INT(planw_env(&b, "A=b\ntest 1 x /x", 0), -EINVAL, "refused: a value that forges a line");
	CHECK_EQ_INT(planw_topt(&b, PLAN_TOPT_SUBTIMEOUT, "3s"), -EINVAL, "refused: a subtimeout not a number");
	CHECK_EQ_INT(planw_topt(&b, "color=", "red"), -EINVAL, "refused: an unknown option");
	CHECK_EQ_INT(planw_image(&b, "vda", "ext4", "/mnt/root", "/a/../b"), -EINVAL, "refused: KTA_OUT with ..");
	CHECK_EQ_INT(planw_stress(&b, 65, 0, 0), -EINVAL, "refused: too many hogs");

	memset(&pl, 0, sizeof(pl));
	copy = malloc(b.len + 1);
	memcpy(copy, b.data, b.len + 1);
	CHECK_EQ_INT(plan_parse(&pl, copy, b.len, count_warn, NULL), 0, "the agent reads it");
	CHECK_EQ_INT(warnings, 0, "without one warning");
	CHECK_EQ_INT(pl.ntests, 2, "two tests");
	CHECK_EQ_STR(pl.tests[0].name, "first", "the first's name");
	CHECK_EQ_INT(pl.tests[0].timeout_s, 60, "its deadline");
	CHECK(pl.tests[0].argv && !strcmp(pl.tests[0].argv[0], "/kta/tests/first") &&
	      !strcmp(pl.tests[0].argv[2], "token*") && !strcmp(pl.tests[0].argv[4], "@DENYLIST") &&
	      !pl.tests[0].argv[5], "its arguments, in order");
	CHECK(pl.tests[0].root && !strcmp(pl.tests[0].root, "/mnt/root") && pl.tests[0].tprogs &&
	      pl.tests[0].subtimeout_s == 30, "its options");
	CHECK(pl.tests[0].nenv == 1 && !strcmp(pl.tests[0].env[0], "ONLY=first"), "its own environment");
	CHECK(pl.tests[1].nenv == 0 && !pl.tests[1].root && !pl.tests[1].tprogs, "the second gets none of them");
	CHECK(pl.nenv == 1 && !strcmp(pl.env[0], "GREETING=hello world"), "env keeps the value's spaces");
	CHECK(pl.nroots == 3 && pl.writable_root && !strcmp(pl.roots[0].out, "/var/lib/kta/out") &&
	      !strcmp(pl.roots[1].dev, "vdb") && !pl.roots[2].dev, "the three roots");
	CHECK(pl.stress.hogs == 2 && pl.stress.nice == 5 && pl.stress.mem_mb == 256, "the stress load");

	/* What kta never writes, the agent skips line by line. */
	{
		char bad[] = "# kta plan v1\ntest 5 ok /x\ntest five bad /y\nbogus line\ntest 6 ok2 /z\n";
		struct plan p2;

		memset(&p2, 0, sizeof(p2));
		warnings = 0;
		CHECK_EQ_INT(plan_parse(&p2, bad, strlen(bad), count_warn, NULL), 0, "a plan with bad lines");
		CHECK(p2.ntests == 2 && warnings == 2, "keeps the good tests, warns of each bad line");
		CHECK(p2.ntests == 2 && p2.tests[1].num == 2, "numbering the kept ones in order");
		plan_free(&p2);
	}
	plan_free(&pl);
	free(copy);
	return unit_done();
}
