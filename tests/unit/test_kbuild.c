/* `kta kernel build` and `kta patches`: fragment parsing, .config values,
 * Kconfig expressions, the Kconfig walker on a small made-up tree, the
 * survival check's reasons, the cache key, patch parsing and the Debian
 * source names. */
#include "kbuild/kbuild.h"
#include "kbuild/kconf.h"
#include "kbuild/ksource.h"
#include "base/log.h"
#include "kbuild/patches.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char frag[] =
	"# A fragment\n"
	"CONFIG_A=y\n"
	"\n"
	"  CONFIG_S=\"hello world\"  \n"
	"# CONFIG_B is not set\n"
	"# a comment that names CONFIG_C=y\n"
	"CONFIG_N=n\n"
	"CONFIG_A=m\n";

static const char config[] =
	"CONFIG_A=y\n"
	"CONFIG_B=m\n"
	"# CONFIG_C is not set\n"
	"CONFIG_NUM=124\n"
	"CONFIG_STR=\"x86\"\n";

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file_atomic(path, text, strlen(text), 0644);
}

static void test_fragments(void)
{
	struct kopts o = { 0 };
	char err[512], v[64];

	CHECK_EQ_INT(kfrag_parse(frag, "f", &o, err, sizeof(err)), 0, "fragment parses");
	CHECK_EQ_INT(o.n, 4, "four options (a repeated one replaces the first)");
	CHECK_EQ_STR(o.v[0].sym, "A", "first symbol without CONFIG_");
	CHECK_EQ_STR(o.v[0].value, "m", "later line wins");
	CHECK_EQ_INT(o.v[0].line, 8, "and its line number is the later one");
	CHECK_EQ_STR(o.v[1].value, "\"hello world\"", "string value, trimmed");
	CHECK(o.v[2].unset && !strcmp(o.v[2].sym, "B"), "is not set");
	CHECK(o.v[3].unset && !strcmp(o.v[3].sym, "N"), "=n means not set");
	kopts_free(&o);
	CHECK_EQ_INT(kfrag_parse("CONFIG_A=y\nCONFIG_X\n", "bad", &o, err, sizeof(err)), -EINVAL,
		     "a line that is not a Kconfig line is an error");
	CHECK(strstr(err, "bad:2") != NULL, "the error names fragment and line");
	kopts_free(&o);
	CHECK_EQ_INT(kfrag_parse("hello\n", "g", &o, err, sizeof(err)), -EINVAL, "garbage is an error");
	kopts_free(&o);

	CHECK_EQ_INT(kconfig_value(config, "A", v, sizeof(v)), 1, "set value");
	CHECK_EQ_STR(v, "y", "its value");
	CHECK_EQ_INT(kconfig_value(config, "C", v, sizeof(v)), 0, "is not set");
	CHECK_EQ_INT(kconfig_value(config, "D", v, sizeof(v)), -ENOENT, "absent");
	CHECK_EQ_INT(kconfig_value(config, "NU", v, sizeof(v)), -ENOENT, "a prefix is not a match");
	CHECK_EQ_INT(kconfig_count(config), 4, "four options set");
}

static void test_expr(void)
{
	CHECK_EQ_INT(kexpr_eval("A", config), 2, "y");
	CHECK_EQ_INT(kexpr_eval("B", config), 1, "m");
	CHECK_EQ_INT(kexpr_eval("C", config), 0, "unset is n");
	{
		/* fuzz_kconf's crash: nesting deep enough to overflow the
		 * stack. Now n, whatever the depth. */
		static char deep[200001];

		memset(deep, '!', 100000);
		memset(deep + 100000, '(', 100000);
		CHECK_EQ_INT(kexpr_eval(deep, config), 0, "100000 ! and 100000 ( deep: n, no stack overflow");
		CHECK_EQ_INT(kexpr_eval("!!!!(((A)))", config), 2, "a few levels still count");
	}
	CHECK_EQ_INT(kexpr_eval("A && B", config), 1, "and is min");
	CHECK_EQ_INT(kexpr_eval("C || B", config), 1, "or is max");
	CHECK_EQ_INT(kexpr_eval("!C && (A || D)", config), 2, "not, parentheses");
	CHECK_EQ_INT(kexpr_eval("NUM >= 122", config), 2, "numeric comparison");
	CHECK_EQ_INT(kexpr_eval("NUM < 122", config), 0, "numeric comparison, false");
	CHECK_EQ_INT(kexpr_eval("STR = \"x86\"", config), 2, "string comparison");
	CHECK_EQ_INT(kexpr_eval("STR != \"x86\"", config), 0, "string inequality");
	CHECK_EQ_INT(kexpr_eval("A = y", config), 2, "comparison with y");
	CHECK_EQ_INT(kexpr_eval("", config), 2, "no dependency is y");
}

/* A made-up Kconfig tree: sources (one per arch), if blocks, menus with
 * depends, help text that looks like attributes, a select. */
static void test_index(void)
{
	char dir[] = "/tmp/kta-unit-kconfig.XXXXXX";
	struct kindex ix;
	struct kopts want = { 0 };
	struct buf r = { 0 };
	const struct ksym *s;
	char err[256];
	static const char cfg[] =
		"CONFIG_NET=y\n"
		"# CONFIG_BLOCK is not set\n"
		"CONFIG_SEL=y\n"
		"CONFIG_HIDDEN=y\n"
		"CONFIG_X86_ONLY=y\n";

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	mkdir_p(strcat(strcpy((char[600]){ 0 }, dir), "/arch/x86"), 0755);
	mkdir_p(strcat(strcpy((char[600]){ 0 }, dir), "/arch/arm64"), 0755);
	mkdir_p(strcat(strcpy((char[600]){ 0 }, dir), "/fs"), 0755);
	put(dir, "Kconfig",
	      "mainmenu \"test\"\n"
	      "source \"arch/$(SRCARCH)/Kconfig\"\n"
	      "config NET\n"
	      "\tbool \"net\"\n"
	      "config BLOCK\n"
	      "\tbool \"block\" if EXPERT\n"
	      "config HIDDEN\n"
	      "\tbool\n"
	      "config SEL\n"
	      "\tbool \"sel\"\n"
	      "\tselect HIDDEN if NET\n"
	      "if NET\n"
	      "menu \"fs\"\n"
	      "\tdepends on !BLOCK_OFF\n"
	      "source \"fs/Kconfig\"\n"
	      "endmenu\n"
	      "endif\n");
	put(dir, "fs/Kconfig",
	      "config EXT4\n"
	      "\ttristate \"ext4\"\n"
	      "\tdepends on BLOCK && \\\n"
	      "\t\tNET\n"
	      "\thelp\n"
	      "\t  This help says: depends on NOTHING\n"
	      "\t  config FAKE\n"
	      "\n"
	      "\t  still help.\n"
	      "config AFTER_HELP\n"
	      "\tbool \"after\" # a comment\n");
	put(dir, "arch/x86/Kconfig", "config X86_ONLY\n\tdef_bool y\n");
	put(dir, "arch/arm64/Kconfig", "config ARM_ONLY\n\tdef_bool y\n");

	CHECK_EQ_INT(kindex_load(dir, "x86", &ix), 0, "index loads");
	CHECK_EQ_INT(ix.nfiles, 3, "three files read (arm64's is not sourced)");
	CHECK(kindex_find(&ix, "X86_ONLY") != NULL, "the arch's symbol exists");
	CHECK(kindex_find(&ix, "ARM_ONLY") == NULL, "another arch's symbol does not");
	CHECK(kindex_find(&ix, "FAKE") == NULL, "help text is not parsed");
	s = kindex_find(&ix, "EXT4");
	CHECK(s && !strcmp(s->file, "fs/Kconfig") && s->line == 1, "file and line");
	CHECK(s && s->deps && strstr(s->deps, "NET") && strstr(s->deps, "!BLOCK_OFF") &&
		      strstr(s->deps, "BLOCK &&") && !strstr(s->deps, "NOTHING"),
	      "depends on, continuation, enclosing if and menu");
	s = kindex_find(&ix, "AFTER_HELP");
	CHECK(s && s->prompt, "a symbol after help text, with its prompt");
	s = kindex_find(&ix, "BLOCK");
	CHECK(s && s->prompt && s->prompt_if && !strcmp(s->prompt_if, "EXPERT"), "conditional prompt");
	CHECK(kindex_find(&ix, "HIDDEN") && !kindex_find(&ix, "HIDDEN")->prompt, "no prompt");
	CHECK_EQ_INT(ix.nsels, 1, "one select");

	kfrag_parse("CONFIG_EXT4=y\nCONFIG_NET=y\n# CONFIG_HIDDEN is not set\nCONFIG_NOPE=y\nCONFIG_BLOCK=y\n",
		    "t", &want, err, sizeof(err));
	CHECK_EQ_INT(kcheck_unknown(&want, &ix, &r, NULL), 1, "one unknown option");
	CHECK(r.data && strstr(r.data, "CONFIG_NOPE (t:4): no such option"), "named with fragment and line");
	buf_free(&r);
	CHECK_EQ_INT(kcheck_survival(&want, cfg, &ix, &r, NULL), 3,
		     "three did not survive (NET did; NOPE is unknown: kcheck_unknown says so)");
	CHECK(r.data && strstr(r.data, "CONFIG_EXT4=y (t:1)") && strstr(r.data, "unmet: BLOCK  (BLOCK is not set)"),
	      "the unmet dependency of a dropped option");
	CHECK(r.data && strstr(r.data, "selected by SEL=y"), "an option that stayed set: who selects it");
	CHECK(r.data && strstr(r.data, "can only be set by hand if EXPERT"), "a prompt behind EXPERT");
	if (unit_failed)
		printf("# report:\n%s", r.data ? r.data : "");
	buf_free(&r);
	/* The same options from a fragment kta does not own: reported apart,
	 * not counted. */
	for (size_t i = 0; i < want.n; i++)
		want.v[i].advisory = strcmp(want.v[i].sym, "EXT4") != 0;
	{
		struct buf adv = { 0 };

		CHECK_EQ_INT(kcheck_unknown(&want, &ix, &r, &adv), 0, "an advisory unknown option is not counted");
		CHECK(adv.data && strstr(adv.data, "CONFIG_NOPE (t:4)") && !r.data, "but reported apart");
		buf_free(&adv);
		CHECK_EQ_INT(kcheck_survival(&want, cfg, &ix, &r, &adv), 1, "only the strict EXT4 counts");
		CHECK(r.data && strstr(r.data, "CONFIG_EXT4=y") && !strstr(r.data, "HIDDEN"), "strict report");
		CHECK(adv.data && strstr(adv.data, "CONFIG_HIDDEN") && !strstr(adv.data, "CONFIG_EXT4"),
		      "advisory report");
		buf_free(&adv);
		buf_free(&r);
		CHECK_EQ_INT(kcheck_survival(&want, cfg, &ix, &r, NULL), 1, "NULL: advisory ones dropped");
		buf_free(&r);
	}
	kopts_free(&want);
	kindex_free(&ix);
	rm_rf(dir);
}

static void test_key(void)
{
	struct kbuild_key_in a = { "git:abc clean", "none", "cfg1", "gcc 12", "x86_64" }, b = a;
	char k1[65], k2[65];

	kbuild_key(&a, k1);
	kbuild_key(&b, k2);
	CHECK_EQ_STR(k1, k2, "same inputs, same key");
	CHECK_EQ_INT(strlen(k1), 64, "a sha256");
	b.tree = "git:abc dirty:123";
	kbuild_key(&b, k2);
	CHECK(strcmp(k1, k2), "another tree, another key");
	b = a;
	b.patches = "0123";
	kbuild_key(&b, k2);
	CHECK(strcmp(k1, k2), "another series, another key");
	b = a;
	b.config = "cfg2";
	kbuild_key(&b, k2);
	CHECK(strcmp(k1, k2), "another config, another key");
	b = a;
	b.toolchain = "gcc 13";
	kbuild_key(&b, k2);
	CHECK(strcmp(k1, k2), "another compiler, another key");
	b = a;
	b.tree = "git:abc clean" "none";
	b.patches = "";
	kbuild_key(&b, k2);
	CHECK(strcmp(k1, k2), "fields cannot run into each other");
}

static const char patch[] =
	"From 1 Mon Sep 17 00:00:00 2001\n"
	"Subject: [PATCH] x\n"
	"---\n"
	"diff --git a/tools/a.c b/tools/a.c\n"
	"index 1..2 100644\n"
	"--- a/tools/a.c\n"
	"+++ b/tools/a.c\n"
	"@@ -10,7 +10,7 @@ static void outer_fn(int x)\n"
	" \tint y;\n"
	"-\texit(1);\n"
	"+\t_exit(1);\n"
	"@@ -40,6 +40,8 @@ end:\n"
	" static int helper(int fd, unsigned int timeout_ms)\n"
	" {\n"
	"+\tfoo(bar);\n"
	"diff --git a/new.c b/new.c\n"
	"new file mode 100644\n"
	"--- /dev/null\n"
	"+++ b/new.c\n"
	"@@ -0,0 +1 @@\n"
	"+int x;\n";

static void test_patches(void)
{
	struct buf files = { 0 };
	char fn[256];
	const char *h2 = strstr(patch, "@@ -40");

	CHECK(patch_text_is_patch(patch), "a git patch is a patch");
	CHECK(patch_text_is_patch("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"), "a plain diff is a patch");
	CHECK(!patch_text_is_patch("hello\nworld\n"), "text is not a patch");
	CHECK(!patch_text_is_patch("--- a/x\n+++ b/x\n"), "headers without a hunk are not a patch");
	CHECK_EQ_INT(patch_text_files(patch, 1, &files), 0, "files parse");
	CHECK_EQ_STR(files.data, "tools/a.c\nnew.c\n", "each file once, /dev/null left out");
	buf_free(&files);
	patch_text_files(patch, 2, &files);
	CHECK_EQ_STR(files.data, "a.c\n", "-p2 strips two components");
	buf_free(&files);
	patch_hunk_functions(patch, (size_t)(h2 - patch), fn, sizeof(fn));
	CHECK(strstr(fn, " outer_fn ") != NULL, "the function of a hunk's heading");
	patch_hunk_functions(h2, strlen(h2), fn, sizeof(fn));
	CHECK(strstr(fn, " helper ") != NULL, "a definition among the context lines");
	CHECK(!strstr(fn, "foo") && !strstr(fn, "end"), "not calls, not labels");
	CHECK_EQ_STR(patch_status_name(PATCH_ALREADY_APPLIED), "already-applied", "status names");
}

static void test_source_names(void)
{
	char pkg[64];

	CHECK(!ksource_package("7.3", pkg, sizeof(pkg)) && !strcmp(pkg, "linux-source-7.3"), "7.3");
	CHECK(!ksource_package("7.3.4", pkg, sizeof(pkg)) && !strcmp(pkg, "linux-source-7.3"), "7.3.4");
	CHECK(!ksource_package("6.12", pkg, sizeof(pkg)) && !strcmp(pkg, "linux-source-6.12"), "6.12");
	CHECK_EQ_INT(ksource_package("7", pkg, sizeof(pkg)), -EINVAL, "a major alone is not enough");
	CHECK_EQ_INT(ksource_package("x.y", pkg, sizeof(pkg)), -EINVAL, "not a version");
	CHECK_EQ_INT(ksource_package("7.3/../x", pkg, sizeof(pkg)), -EINVAL, "no path tricks");
	CHECK(ksource_version_matches("7.3.4-1~bpo13+1", "7.3"), "7.3 matches 7.3.4-1~bpo13+1");
	CHECK(ksource_version_matches("7.3.4-1~bpo13+1", "7.3.4"), "7.3.4 matches");
	CHECK(!ksource_version_matches("7.30.1-1", "7.3"), "7.3 does not match 7.30");
	CHECK(ksource_version_matches("6.12.117-1", "6.12"), "6.12");
}

int main(void)
{
	log_set_level(LOG_ERROR);
	test_fragments();
	test_expr();
	test_index();
	test_key();
	test_patches();
	test_source_names();
	return unit_done();
}
