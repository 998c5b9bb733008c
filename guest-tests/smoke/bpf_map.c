/* Guest smoke test: BPF maps through the raw bpf(2) syscall. An array map
 * and a hash map are created, written, read back, iterated and described
 * (BPF_OBJ_GET_INFO_BY_FD), checking the errors the API promises on the way.
 * Skips when the kernel has no bpf() at all (CONFIG_BPF_SYSCALL=n).
 */
#include "kta_bpf.h"
#include "kta_test.h"

#define HASH_MAX 16

static void require_bpf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kta_probe", 4, 4, 1);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOSYS)
		skip("kernel built without CONFIG_BPF_SYSCALL (bpf() returns ENOSYS)");
	/* Anything else is for the subtests to report in detail. */
}

static void test_array_map(void)
{
	struct bpf_map_info info;
	__u32 key, len = sizeof(info);
	__u64 value = 0x1122334455667788ull, got;
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kta_array", sizeof(key), sizeof(value), 4);

	if (!ASSERT_OK_FD(fd, "array map_create"))
		return;
	key = 1;
	if (!ASSERT_OK(bpf_map_update(fd, &key, &value, BPF_ANY), "array update"))
		goto cleanup;
	got = 0;
	if (!ASSERT_OK(bpf_map_lookup(fd, &key, &got), "array lookup"))
		goto cleanup;
	ASSERT_EQ(got, value, "array round trip");
	/* Array elements exist from the start, zeroed. */
	key = 0;
	got = 1;
	if (ASSERT_OK(bpf_map_lookup(fd, &key, &got), "array lookup unwritten"))
		ASSERT_EQ(got, 0, "array unwritten element is zero");
	key = 4;
	ASSERT_ERRNO(bpf_map_lookup(fd, &key, &got), ENOENT, "array lookup out of range");
	ASSERT_ERRNO(bpf_map_update(fd, &key, &value, BPF_ANY), E2BIG, "array update out of range");
	key = 1;
	ASSERT_ERRNO(bpf_map_update(fd, &key, &value, BPF_NOEXIST), EEXIST, "array NOEXIST");
	ASSERT_ERRNO(bpf_map_delete(fd, &key), EINVAL, "array delete");

	memset(&info, 0, sizeof(info));
	if (!ASSERT_OK(bpf_obj_info(fd, &info, &len), "array get_info"))
		goto cleanup;
	ASSERT_EQ(info.type, BPF_MAP_TYPE_ARRAY, "info type");
	ASSERT_EQ(info.key_size, sizeof(key), "info key_size");
	ASSERT_EQ(info.value_size, sizeof(value), "info value_size");
	ASSERT_EQ(info.max_entries, 4, "info max_entries");
	ASSERT_GT(info.id, 0, "info id");
	ASSERT_STREQ(info.name, "kta_array", "info name");
cleanup:
	close(fd);
}

static void test_hash_map(void)
{
	__u32 key, next, seen = 0, count = 0;
	__u64 value, got;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "kta_hash", sizeof(key), sizeof(value),
				HASH_MAX);

	if (!ASSERT_OK_FD(fd, "hash map_create"))
		return;
	key = 7;
	ASSERT_ERRNO(bpf_map_lookup(fd, &key, &got), ENOENT, "hash lookup in empty map");
	for (key = 0; key < HASH_MAX; key++) {
		value = (__u64)key * key + 1000;
		if (!ASSERT_OK(bpf_map_update(fd, &key, &value, BPF_NOEXIST), "hash insert"))
			goto cleanup;
	}
	value = 1;
	ASSERT_ERRNO(bpf_map_update(fd, &key, &value, BPF_NOEXIST), E2BIG, "hash insert when full");
	key = 3;
	ASSERT_ERRNO(bpf_map_update(fd, &key, &value, BPF_NOEXIST), EEXIST, "hash NOEXIST");
	ASSERT_OK(bpf_map_update(fd, &key, &value, BPF_EXIST), "hash update existing");
	if (ASSERT_OK(bpf_map_lookup(fd, &key, &got), "hash lookup updated"))
		ASSERT_EQ(got, 1, "hash updated value");
	key = 5;
	if (ASSERT_OK(bpf_map_lookup(fd, &key, &got), "hash lookup"))
		ASSERT_EQ(got, 5 * 5 + 1000, "hash round trip");
	if (!ASSERT_OK(bpf_map_delete(fd, &key), "hash delete"))
		goto cleanup;
	ASSERT_ERRNO(bpf_map_lookup(fd, &key, &got), ENOENT, "hash lookup deleted");
	ASSERT_ERRNO(bpf_map_delete(fd, &key), ENOENT, "hash delete twice");

	/* Iteration visits each remaining key once. */
	for (int err = bpf_map_next_key(fd, NULL, &next); !err && count <= HASH_MAX;
	     err = bpf_map_next_key(fd, &key, &next)) {
		ASSERT_LT(next, HASH_MAX, "hash iterated key in range");
		if (next < HASH_MAX && (seen & (1u << next)))
			ASSERT_TRUE(false, "hash iteration repeats a key");
		if (next < HASH_MAX)
			seen |= 1u << next;
		key = next;
		count++;
	}
	ASSERT_EQ(errno, ENOENT, "hash iteration ends with ENOENT");
	ASSERT_EQ(count, HASH_MAX - 1, "hash iteration count");
	ASSERT_FALSE(seen & (1u << 5), "hash iteration skips the deleted key");
cleanup:
	close(fd);
}

static const struct kta_subtest tests[] = {
	{ "array_map", test_array_map },
	{ "hash_map", test_hash_map },
};

int main(int argc, char **argv)
{
	require_bpf();
	return KTA_RUN_SUBTESTS(tests, argc, argv);
}
