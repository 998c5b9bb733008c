/* Guest smoke test: the kernel's own BTF, /sys/kernel/btf/vmlinux. The
 * header must be sane and within the file, the string and type sections
 * must parse (every type of every known kind, names inside the string
 * section), struct task_struct must be there, and the BTF object the kernel
 * hands out through bpf(BPF_BTF_GET_FD_BY_ID) must be byte for byte the
 * file. Skips when the kernel was built without BTF.
 */
#include "kta_bpf.h"
#include "kta_test.h"

#include <fcntl.h>
#include <linux/btf.h>
#include <sys/stat.h>

#define BTF_PATH "/sys/kernel/btf/vmlinux"

static struct {
	unsigned char *data;
	size_t size;
	const struct btf_header *hdr;
	bool hdr_ok; /* the sections are within the file */
} btf;

static void load_btf(void)
{
	size_t cap = 1 << 20;
	int fd = open(BTF_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		skip("kernel built without CONFIG_DEBUG_INFO_BTF (no " BTF_PATH ")");
	if (!ASSERT_OK_FD(fd, "open " BTF_PATH))
		exit(KTA_EXIT_FAIL);
	for (;;) {
		ssize_t n;

		if (!btf.data || btf.size == cap) {
			if (btf.data)
				cap *= 2;
			btf.data = realloc(btf.data, cap);
			if (!ASSERT_TRUE(btf.data != NULL, "allocate the BTF buffer"))
				exit(KTA_EXIT_FAIL);
		}
		n = read(fd, btf.data + btf.size, cap - btf.size);
		if (n < 0 && errno == EINTR)
			continue;
		if (!ASSERT_GE(n, 0, "read " BTF_PATH))
			exit(KTA_EXIT_FAIL);
		if (n == 0)
			break;
		btf.size += (size_t)n;
	}
	close(fd);
	btf.hdr = (const struct btf_header *)btf.data;
	/* Whether the other subtests can walk the sections at all. */
	btf.hdr_ok = btf.size >= sizeof(*btf.hdr) && btf.hdr->magic == BTF_MAGIC &&
		     btf.hdr->hdr_len <= btf.size &&
		     (__u64)btf.hdr->type_off + btf.hdr->type_len <= btf.size - btf.hdr->hdr_len &&
		     (__u64)btf.hdr->str_off + btf.hdr->str_len <= btf.size - btf.hdr->hdr_len &&
		     btf.hdr->str_len > 0;
}

static const char *btf_str(__u32 off)
{
	return (const char *)btf.data + btf.hdr->hdr_len + btf.hdr->str_off + off;
}

static void test_header(void)
{
	const struct btf_header *h = btf.hdr;
	size_t body;

	if (!ASSERT_GE(btf.size, sizeof(*h), "file holds a BTF header"))
		return;
	ASSERT_EQ(h->magic, BTF_MAGIC, "magic 0xeB9F");
	ASSERT_EQ(h->version, BTF_VERSION, "version");
	if (!ASSERT_GE(h->hdr_len, sizeof(*h), "hdr_len") ||
	    !ASSERT_LE(h->hdr_len, btf.size, "hdr_len within the file"))
		return;
	body = btf.size - h->hdr_len;
	ASSERT_EQ(h->type_off % 4, 0, "type section aligned");
	ASSERT_GT(h->type_len, 0, "type section not empty");
	ASSERT_GT(h->str_len, 0, "string section not empty");
	ASSERT_LE((__u64)h->type_off + h->type_len, body, "type section within the file");
	ASSERT_LE((__u64)h->str_off + h->str_len, body, "string section within the file");
	ASSERT_TRUE(h->type_off + h->type_len <= h->str_off ||
		    h->str_off + h->str_len <= h->type_off, "sections do not overlap");
}

static void test_strings(void)
{
	const char *s, *end, *needle = "task_struct";
	bool found = false;

	if (!btf.hdr_ok) {
		test__skip("the header is broken");
		return;
	}
	s = btf_str(0);
	end = s + btf.hdr->str_len;
	ASSERT_EQ(s[0], '\0', "string section starts with the empty string");
	ASSERT_EQ(end[-1], '\0', "string section ends with a NUL");
	for (const char *p = s; p < end; p += strlen(p) + 1)
		if (!strcmp(p, needle)) {
			found = true;
			break;
		}
	ASSERT_TRUE(found, "string section names task_struct");
}

/* Bytes that follow a struct btf_type of this kind, or -1 if unknown. */
static long type_extra(const struct btf_type *t)
{
	__u32 vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
		return sizeof(__u32);
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return (long)(vlen * sizeof(struct btf_member));
	case BTF_KIND_ENUM:
		return (long)(vlen * sizeof(struct btf_enum));
	case BTF_KIND_FUNC_PROTO:
		return (long)(vlen * sizeof(struct btf_param));
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)(vlen * sizeof(struct btf_var_secinfo));
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64:
		return (long)(vlen * sizeof(struct btf_enum64));
	default:
		return -1;
	}
}

static void test_types(void)
{
	const unsigned char *p, *end;
	const struct btf_type *task = NULL;
	__u32 ntypes = 0, bad_names = 0;

	if (!btf.hdr_ok) {
		test__skip("the header is broken");
		return;
	}
	p = btf.data + btf.hdr->hdr_len + btf.hdr->type_off;
	end = p + btf.hdr->type_len;
	while (p < end) {
		const struct btf_type *t = (const struct btf_type *)p;
		long extra;

		if (!ASSERT_LE(p + sizeof(*t), end, "type header within the type section"))
			return;
		extra = type_extra(t);
		if (!kta__report(extra >= 0, __FILE__, __LINE__, "known kind",
				 "type %u has kind %u, unknown to this test", ntypes + 1,
				 BTF_INFO_KIND(t->info)))
			return;
		if (!ASSERT_LE(p + sizeof(*t) + extra, end, "type within the type section"))
			return;
		ntypes++;
		bad_names += t->name_off >= btf.hdr->str_len;
		if (!task && BTF_INFO_KIND(t->info) == BTF_KIND_STRUCT &&
		    t->name_off < btf.hdr->str_len && !strcmp(btf_str(t->name_off), "task_struct"))
			task = t;
		p += sizeof(*t) + (size_t)extra;
	}
	printf("# %u types in %u bytes\n", ntypes, btf.hdr->type_len);
	ASSERT_GT(ntypes, 1000, "vmlinux has many types");
	ASSERT_EQ(bad_names, 0, "every name offset within the string section");
	if (!ASSERT_TRUE(task != NULL, "struct task_struct found"))
		return;
	ASSERT_GT(task->size, 1000, "sizeof(struct task_struct)");
	ASSERT_GT(BTF_INFO_VLEN(task->info), 20, "task_struct members");
	for (__u32 i = 0; i < BTF_INFO_VLEN(task->info); i++) {
		const struct btf_member *m = (const struct btf_member *)(task + 1) + i;

		if (!ASSERT_LE(m->type, ntypes, "task_struct member type id") ||
		    !ASSERT_LT(m->name_off, btf.hdr->str_len, "task_struct member name"))
			break;
	}
}

/* The kernel's parsed vmlinux BTF is the same bytes as the sysfs file. */
static void test_kernel_object(void)
{
	union bpf_attr attr;
	__u32 id = 0;
	bool found = false;

	for (;;) {
		struct bpf_btf_info info;
		__u32 len = sizeof(info);
		char name[64] = "";
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_BTF_GET_NEXT_ID, &attr)) {
			if (errno == ENOSYS)
				test__skip("kernel built without CONFIG_BPF_SYSCALL");
			else
				ASSERT_ERRNO(-1, ENOENT, "BTF_GET_NEXT_ID ends with ENOENT");
			break;
		}
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.btf_id = id;
		fd = sys_bpf(BPF_BTF_GET_FD_BY_ID, &attr);
		if (fd < 0 && errno == ENOENT)
			continue; /* freed since */
		if (!ASSERT_OK_FD(fd, "BTF_GET_FD_BY_ID"))
			break;
		memset(&info, 0, sizeof(info));
		info.name = ptr_to_u64(name);
		info.name_len = sizeof(name);
		if (ASSERT_OK(bpf_obj_info(fd, &info, &len), "BTF get_info") &&
		    info.kernel_btf && !strcmp(name, "vmlinux")) {
			unsigned char *copy = malloc(btf.size);

			found = true;
			printf("# vmlinux BTF is object %u, %u bytes\n", id, info.btf_size);
			ASSERT_EQ(info.btf_size, btf.size, "kernel BTF size == file size");
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			info.btf = ptr_to_u64(copy);
			info.btf_size = (__u32)btf.size;
			if (ASSERT_TRUE(copy != NULL, "allocate") &&
			    ASSERT_OK(bpf_obj_info(fd, &info, &len), "BTF get_info with data"))
				ASSERT_TRUE(!memcmp(copy, btf.data, btf.size),
					    "kernel BTF bytes == file bytes");
			free(copy);
		}
		close(fd);
		if (found)
			break;
	}
	if (!kta__env.skip_reason[0])
		ASSERT_TRUE(found, "a kernel BTF object named vmlinux");
}

static const struct kta_subtest tests[] = {
	{ "header", test_header },
	{ "strings", test_strings },
	{ "types", test_types },
	{ "kernel_object", test_kernel_object },
};

int main(int argc, char **argv)
{
	int ret;

	load_btf();
	ret = KTA_RUN_SUBTESTS(tests, argc, argv);
	free(btf.data);
	return ret;
}
