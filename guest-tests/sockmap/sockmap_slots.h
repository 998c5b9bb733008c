/* The sockmap slots that sockmap_redir.bpf.c and sockmap_multi agree on.
 * Included by both the BPF program and userspace: constants only.
 */
#ifndef KTA_SOCKMAP_SLOTS_H
#define KTA_SOCKMAP_SLOTS_H

#define SOCKMAP_SLOT_P0 0 /* receives c0's bytes, redirected to p1 */
#define SOCKMAP_SLOT_P1 1 /* receives c1's bytes natively, and p0's redirected */
#define SOCKMAP_NR_SLOTS 2

#endif
