/* One iteration of the multi-channel sockmap scenario (the upstream
 * sockmap_basic "sockmap {tcp,udp} multi channels" test): two connected
 * loopback socket pairs c0/p0 and c1/p1, p0 and p1 in the sockmap whose
 * verdict program redirects p0's ingress into p1's. 2 bytes go c1 -> p1 on the
 * native path, 8 bytes c0 -> p0 -> (redirect) p1, and p1 is read the way the
 * chosen variant reads it: the data phase, which the rate measures. The check
 * phase (check.h) may follow on the same sockets.
 *
 * Functions return 0 or a negative errno for errors of the setup (a socket
 * call that cannot fail on a sane kernel); what the kernel did to the data is
 * in struct sm_result, never an error.
 */
#ifndef KTA_SOCKMAP_SCENARIO_H
#define KTA_SOCKMAP_SCENARIO_H

#include <netinet/in.h>
#include <stdbool.h>

enum sm_proto { SM_TCP, SM_UDP };

enum sm_variant {
	SM_SINGLE,   /* one recv of all 10 bytes: the test before 7.3.4 */
	SM_TWOSTAGE, /* Debian's 7.3.4 test as it is: ~30 ms FIONREAD waits */
	SM_LOOP,     /* the fix: accumulate across recvs, 5 s poll each */
};

/* What can go wrong in a phase; a phase may show several. The data phase
 * uses SM_F_SHORT, _MISMATCH, _LOST and _ERROR; the check phase all but
 * SM_F_SHORT. */
enum sm_fail {
	SM_F_SHORT,    /* the variant's reads returned < 10 bytes; the rest came later */
	SM_F_MISMATCH, /* 10 bytes, but not the ones sent, or not in order */
	SM_F_LOST,     /* bytes still missing after waiting 5 s, and for good */
	SM_F_STALLED,  /* not readable for 5 s, but all there once more native data came */
	SM_F_PEEK,     /* MSG_PEEK saw less than a plain recv() then read */
	SM_F_FIONREAD, /* FIONREAD broke its promise with all data queued */
	SM_F_ERROR,    /* recv() or poll() failed (not a timeout) */
	SM_NR_FAIL
};

/* The upstream test's own assertions, by their names in sockmap_basic.c
 * (7.3.4; single: the test before it, which has no second stage). An
 * iteration of twostage fails exactly when one of them does. */
enum sm_assert {
	SM_A_PARTIAL,         /* "ioctl(FIONREAD) partial return": 2 after c1's 2 bytes */
	SM_A_FULL,            /* "ioctl(FIONREAD) full return": 10 (TCP) or 2 (UDP) */
	SM_A_RECV,            /* "recv_timeout(p1)": 10 (TCP) or 2 (UDP); single: 10 */
	SM_A_MISMATCH,        /* "data mismatch" */
	SM_A_SECOND,          /* "second ioctl(FIONREAD) full return": 8 (UDP) */
	SM_A_SECOND_RECV,     /* "second recv_timeout(p1)": 8 (UDP) */
	SM_A_SECOND_MISMATCH, /* "second data mismatch" */
	SM_NR_ASSERT
};

#define SM_BYTES 10           /* 2 native + 8 redirected */
#define SM_NATIVE_BYTES 2
#define SM_REDIR_BYTES (SM_BYTES - SM_NATIVE_BYTES)

struct sm_pairs {
	int c0, p0; /* c0 sends; p0 is in the map (slot 0), redirected to p1 */
	int c1, p1; /* c1 sends; p1 is in the map (slot 1) and is read */
};

/* The failures of one phase, with the first detail of each class. */
struct sm_phase {
	unsigned int fails; /* bit (1 << enum sm_fail) per failure seen */
	char detail[SM_NR_FAIL][320];
};

/* The data phase of one iteration. */
struct sm_result {
	struct sm_phase data;
	unsigned int asserts; /* bit (1 << enum sm_assert) per upstream assertion failed */
	char assert_detail[SM_NR_ASSERT][160];
	int got;              /* bytes the variant's own reads returned */
	long long late_us;    /* SM_F_SHORT: wait for the rest after the short read */
};

void sm_note(struct sm_phase *ph, enum sm_fail f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The guest's init may leave the loopback interface down: bring it up.
 * *was_down says whether it had to. 0 or -errno. */
int sm_loopback_up(bool *was_down);

/* TCP: the run's listening socket on 127.0.0.1 (pairs are accepted from
 * it). UDP: nothing (fd -1). 0 or -errno. */
struct sm_listener {
	int fd;
	struct sockaddr_in addr;
};
int sm_listener_open(enum sm_proto proto, struct sm_listener *l);
void sm_listener_close(struct sm_listener *l);

/* Fresh connected pairs (TCP: connected to the listener and accepted; UDP:
 * both ends bound and connected), all -1 on error. */
int sm_pairs_open(enum sm_proto proto, const struct sm_listener *l, struct sm_pairs *sp);
void sm_pairs_close(struct sm_pairs *sp);

/* The data phase: sends, reads p1 with the variant, records the upstream
 * assertions that failed, and classifies what arrived (waiting for the
 * rest of a short read, to tell late from lost). */
int sm_iteration(enum sm_proto proto, enum sm_variant variant, const struct sm_pairs *sp,
		 struct sm_result *res);

/* Does the iteration count as a failure in the variant's rate (kta-rate)?
 * The one place that says what the rate of each variant means. */
bool sm_failed(enum sm_variant variant, const struct sm_result *res);
const char *sm_rate_meaning(enum sm_variant variant);

/* Can the check phase run on these sockets? Not after lost data: their
 * state is unknown. */
bool sm_checkable(const struct sm_result *res);

const char *sm_proto_name(enum sm_proto proto);
const char *sm_variant_name(enum sm_variant variant);
const char *sm_fail_name(enum sm_fail f);
const char *sm_assert_name(enum sm_assert a);

#endif
