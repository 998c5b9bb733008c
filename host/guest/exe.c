/* Test executables are checked on the host so that a wrong file gets a
 * clear message now instead of an ENOEXEC in a guest a few seconds later.
 */
#include "guest/exe.h"
#include "base/log.h"
#include "base/util.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rd(const unsigned char *p, int size, bool be)
{
	uint64_t v = 0;

	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

int exe_inspect(const void *buf, size_t len, struct exe_info *info)
{
	const unsigned char *p = buf;
	bool is64, be;
	uint64_t phoff, phentsize, phnum;

	memset(info, 0, sizeof(*info));
	if (len >= 2 && p[0] == '#' && p[1] == '!') {
		size_t i = 2, j = 0;

		info->script = true;
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (i < len && p[i] != '\n' && p[i] != ' ' && p[i] != '\t' &&
		       j + 1 < sizeof(info->interp))
			info->interp[j++] = (char)p[i++];
		info->interp[j] = '\0';
		return 0;
	}
	if (len < 52 || memcmp(p, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (p[EI_CLASS] != ELFCLASS32 && p[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	if (p[EI_DATA] != ELFDATA2LSB && p[EI_DATA] != ELFDATA2MSB)
		return -ENOEXEC;
	is64 = p[EI_CLASS] == ELFCLASS64;
	be = p[EI_DATA] == ELFDATA2MSB;
	if (is64 && len < 64)
		return -ENOEXEC;
	info->elf = true;
	info->machine = (unsigned int)rd(p + 18, 2, be);
	phoff = is64 ? rd(p + 32, 8, be) : rd(p + 28, 4, be);
	phentsize = rd(p + (is64 ? 54 : 42), 2, be);
	phnum = rd(p + (is64 ? 56 : 44), 2, be);
	if (phentsize < (is64 ? 56u : 32u))
		return 0;
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t off = phoff + i * phentsize;
		uint64_t ioff, isz;

		if (off > len || len - off < phentsize)
			break;
		if (rd(p + off, 4, be) != PT_INTERP)
			continue;
		info->dynamic = true;
		ioff = is64 ? rd(p + off + 8, 8, be) : rd(p + off + 4, 4, be);
		isz = is64 ? rd(p + off + 32, 8, be) : rd(p + off + 16, 4, be);
		if (ioff < len && isz < sizeof(info->interp) && len - ioff >= isz) {
			memcpy(info->interp, p + ioff, isz);
			info->interp[isz] = '\0';
		}
	}
	return 0;
}

int exe_check(const char *path, const struct arch_profile *arch, bool allow_dynamic)
{
	unsigned char head[65536];
	struct exe_info info;
	struct stat st;
	cleanup_close int fd = -1;
	ssize_t n;

	if (stat(path, &st) < 0) {
		pr_err("test `%s` does not exist: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("test `%s` is not a regular file", path);
		return -EINVAL;
	}
	if (!(st.st_mode & 0111)) {
		pr_err("test `%s` is not executable: chmod +x it", path);
		return -EACCES;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, head, sizeof(head))) < 0) {
		pr_err("cannot read test `%s`: %s", path, strerror(errno));
		return -errno;
	}
	if (exe_inspect(head, (size_t)n, &info)) {
		pr_err("test `%s` is neither an ELF executable nor a #! script", path);
		return -ENOEXEC;
	}
	if (info.script)
		return 0;
	if (info.machine != arch->elf_machine) {
		pr_err("test `%s` is built for ELF machine %u, not for %s (machine %u): "
		       "rebuild it for the guest, e.g. with %sgcc -static",
		       path, info.machine, arch->name, arch->elf_machine,
		       arch->cross_compile);
		return -ENOEXEC;
	}
	if (info.dynamic && !allow_dynamic) {
		pr_err("test `%s` is dynamically linked (%s) and the guest has no shared "
		       "libraries: link it with -static",
		       path, info.interp);
		return -ENOEXEC;
	}
	return 0;
}
