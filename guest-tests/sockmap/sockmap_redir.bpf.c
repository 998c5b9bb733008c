/* The BPF side of sockmap_multi: a two-slot SOCKMAP (0 = p0, 1 = p1) and the
 * stream verdict program of the upstream selftest's multi-channel test
 * (prog_skb_verdict_ingress in progs/test_sockmap_pass_prog.c): every skb
 * that reaches a socket of the map is redirected into the ingress queue of
 * the socket in slot 1.
 *
 * It does not tell p0 and p1 apart, and need not: for p1's own traffic the
 * redirect target is the receiving socket itself, and sk_psock_verdict_apply()
 * (net/core/skmsg.c) turns an ingress redirect to self into SK_PASS, which
 * queues the skb on p1 at once, in the softirq that received it. p0's traffic
 * is a real redirect: sk_psock_skb_redirect() puts it on p1's psock
 * ingress_skb list and schedules p1's backlog worker, which moves it to the
 * ingress_msg queue that recv() and FIONREAD see, later. That delay is the
 * race the suite measures.
 *
 * The same program serves TCP and UDP, attached as BPF_SK_SKB_STREAM_VERDICT
 * like the upstream test (for UDP the kernel runs it from
 * sk_psock_verdict_data_ready() through udp_read_skb()).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sockmap_slots.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, SOCKMAP_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sock_map SEC(".maps");

SEC("sk_skb/stream_verdict")
int redir_to_p1(struct __sk_buff *skb)
{
	return bpf_sk_redirect_map(skb, &sock_map, SOCKMAP_SLOT_P1, BPF_F_INGRESS);
}

/* bpf_sk_redirect_map is not GPL-only; GPL matches the upstream test. */
char _license[] SEC("license") = "GPL";
