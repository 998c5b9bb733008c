/* `kta source`: version matching, picking a stanza from `apt-cache
 * showsrc` output, the Files sizes, entry names. */
#include "kernel/source.h"
#include "unit.h"

#include <errno.h>

static const char showsrc[] =
	"W: a warning apt printed first\n"
	"Package: libbpf\n"
	"Binary: libbpf-dev, libbpf1\n"
	"Version: 1.1.2-0+deb12u1\n"
	"Files:\n"
	" 0123 2000 libbpf_1.1.2-0+deb12u1.dsc\n"
	" 4567 900000 libbpf_1.1.2.orig.tar.gz\n"
	"\n"
	"Package: libbpf\n"
	"Binary: libbpf-dev, libbpf1\n"
	"Version: 1.5.0-3\n"
	"Files:\n"
	" aaaa 1921 libbpf_1.5.0-3.dsc\n"
	" bbbb 1036613 libbpf_1.5.0.orig.tar.gz\n"
	" cccc 9064 libbpf_1.5.0-3.debian.tar.xz\n"
	"Checksums-Sha256:\n"
	" dddd 99999999 libbpf_1.5.0.orig.tar.gz\n"
	"\n"
	"Package: libbpf\n"
	"Version: 1.4.6-1~bpo12+1\n"
	"Files:\n"
	" eeee 10 x.dsc\n"
	"\n"
	"Package: libbpf\n"
	"Version: 1:0.9-1\n"
	"\n";

int main(void)
{
	char name[128], ver[96], dir[256];
	uint64_t size = 0;

	CHECK(source_version_matches("1.5.0-3", NULL), "no version: anything");
	CHECK(source_version_matches("1.5.0-3", "latest"), "latest: anything");
	CHECK(source_version_matches("1.5.0-3", "1.5.0-3"), "exact");
	CHECK(source_version_matches("1:1.5.0-3", "1.5.0-3"), "epoch may be left out");
	CHECK(source_version_matches("1:1.5.0-3", "1:1.5.0-3"), "epoch given");
	CHECK(source_version_matches("1.5.0-3", "1.5.0"), "upstream version");
	CHECK(source_version_matches("1.5.0-3", "1.5"), "upstream prefix");
	CHECK(source_version_matches("1.5.0-3+deb13u1", "1.5.0-3"), "a stable update of a pinned revision");
	CHECK(!source_version_matches("1.50-1", "1.5"), "1.5 is not 1.50");
	CHECK(!source_version_matches("1.5.0-3", "1.5.0-"), "trailing dash is no prefix");
	CHECK(!source_version_matches("1.4.6-1", "1.5"), "other version");
	CHECK(!source_version_matches("2:1.5.0-3", "1:1.5"), "epoch prefix is exact only");

	CHECK_EQ_INT(source_files_size(showsrc, sizeof(showsrc) - 1), 902000 + 1921 + 1036613 + 9064 + 10,
		     "Files sizes of every stanza, not Checksums-*");
	CHECK_EQ_INT(source_pick(showsrc, NULL, name, sizeof(name), ver, sizeof(ver), &size), 0, "newest");
	CHECK_EQ_STR(ver, "1:0.9-1", "epoch beats everything");
	CHECK_EQ_INT(source_pick(showsrc, "1.5", name, sizeof(name), ver, sizeof(ver), &size), 0, "1.5");
	CHECK_EQ_STR(name, "libbpf", "package");
	CHECK_EQ_STR(ver, "1.5.0-3", "1.5 -> 1.5.0-3");
	CHECK_EQ_INT(size, 1921 + 1036613 + 9064, "its Files sizes");
	CHECK_EQ_INT(source_pick(showsrc, "1", name, sizeof(name), ver, sizeof(ver), &size), 0, "1");
	CHECK_EQ_STR(ver, "1.5.0-3", "1 -> the newest 1.x (no epoch)");
	CHECK_EQ_INT(source_pick(showsrc, "1.4", name, sizeof(name), ver, sizeof(ver), &size), 0, "backport");
	CHECK_EQ_STR(ver, "1.4.6-1~bpo12+1", "1.4 -> the backport");
	CHECK_EQ_INT(source_pick(showsrc, "9.9", name, sizeof(name), ver, sizeof(ver), &size), -ENOENT,
		     "no such version");
	CHECK_EQ_INT(source_pick("W: Unable to locate package x\n", NULL, name, sizeof(name), ver, sizeof(ver),
				 &size), -ENOENT, "no stanza");

	CHECK(!source_dir_name("libbpf", "1:1.5.0-3", dir, sizeof(dir)) && !strcmp(dir, "libbpf-1.5.0-3"),
	      "entry name without the epoch (no ':' in make paths)");
	CHECK(source_valid_name("libbpf") && source_valid_name("gcc-12") && source_valid_name("libc++"),
	      "valid names");
	CHECK(!source_valid_name("Libbpf") && !source_valid_name("a") && !source_valid_name("-x") &&
	      !source_valid_name("../x") && !source_valid_name("a b") && !source_valid_name(""),
	      "invalid names");
	return unit_done();
}
