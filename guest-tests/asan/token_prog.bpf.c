// SPDX-License-Identifier: GPL-2.0
/* The BPF object asan_token loads through libbpf with bpf_token_path: an
 * XDP program (a type only a token can grant inside a user namespace)
 * that counts the packets it sees in an array map, so the test can run it
 * once and check that it really ran.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kta_counts SEC(".maps");

SEC("xdp")
int kta_token_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&kta_counts, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
