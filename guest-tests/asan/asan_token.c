/* ASAN suite: the BPF selftest `token` flow (prog_tests/token.c,
 * subtest_userns()), built with -fsanitize=address, with the child ending
 * in exit() or _exit() (see asan_child.h).
 *
 * The child enters a new user and mount namespace; the parent, still
 * privileged, writes the child's uid/gid maps. The child opens a bpffs
 * context (fsopen) and hands it to the parent over a unix socket; the
 * parent sets the delegation options, creates the superblock, mounts it
 * (fsmount) and hands the mount back. The child derives a BPF token from
 * it and uses it: a map and an XDP program that it may not create without
 * the token, the token's info, and a libbpf object loaded through
 * bpf_token_path whose program is run once. Then it leaks, reports its
 * assertion count and ends.
 *
 *   asan_token --exit|--_exit
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "asan_child.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "token_prog.skel.h"

#define bit(n) (1ULL << (n))

/* What the parent delegates: enough for the map and program below, and
 * for libbpf's feature probes (socket filters, BTF) when it loads the
 * object with the token. */
static const __u64 delegate_cmds = bit(BPF_MAP_CREATE) | bit(BPF_PROG_LOAD) | bit(BPF_BTF_LOAD);
static const __u64 delegate_maps = bit(BPF_MAP_TYPE_ARRAY) | bit(BPF_MAP_TYPE_STACK);
static const __u64 delegate_progs = bit(BPF_PROG_TYPE_XDP) | bit(BPF_PROG_TYPE_SOCKET_FILTER);
static const __u64 delegate_attachs = ~0ULL;

/* glibc 2.36 declares these in <sys/mount.h>, which clashes with
 * <linux/mount.h>; call the syscalls, as upstream does. */
static int sys_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		     const void *data)
{
	return (int)syscall(__NR_mount, src, dst, type, flags, data);
}

static int sys_fsopen(const char *fsname, unsigned int flags)
{
	return (int)syscall(__NR_fsopen, fsname, flags);
}

static int sys_fspick(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(__NR_fspick, dfd, path, flags);
}

static int sys_fsconfig(int fs_fd, unsigned int cmd, const char *key, const void *val, int aux)
{
	return (int)syscall(__NR_fsconfig, fs_fd, cmd, key, val, aux);
}

static int sys_fsmount(int fs_fd, unsigned int flags, unsigned int attr_flags)
{
	return (int)syscall(__NR_fsmount, fs_fd, flags, attr_flags);
}

static int set_delegate_mask(int fs_fd, const char *key, __u64 mask)
{
	char buf[32];

	if (mask == ~0ULL)
		snprintf(buf, sizeof(buf), "any");
	else
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)mask);
	return sys_fsconfig(fs_fd, FSCONFIG_SET_STRING, key, buf, 0);
}

/* One byte with one fd attached (SCM_RIGHTS). */
static int sendfd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'f';
	struct iovec io = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &io,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* The fd sent by sendfd(), or -1 (errno 0: the peer sent no fd or hung up). */
static int recvfd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec io = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &io,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = 0;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* A one-byte step message; 0 or -1 (errno 0: the peer hung up). */
static int send_byte(int sock, char c)
{
	return write(sock, &c, 1) == 1 ? 0 : -1;
}

static int recv_byte(int sock, char want)
{
	char c;
	ssize_t n = read(sock, &c, 1);

	if (n == 1 && c == want)
		return 0;
	if (n >= 0)
		errno = 0;
	return -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text), n;

	if (fd < 0)
		return -1;
	n = write(fd, text, (size_t)len);
	close(fd);
	return n == len ? 0 : -1;
}

/* ------------------------------------------------------------------ child */

/* An XDP program as in upstream's prog_token: the helpers need CAP_BPF and
 * CAP_PERFMON, the program type CAP_NET_ADMIN, which only the token
 * grants here. */
static const struct bpf_insn xdp_insns[] = {
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_jiffies64 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_task },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* struct bpf_token_info, which libbpf 1.5's UAPI header lacks: newer
 * kernels (7.3 does) report a token's delegation through
 * BPF_OBJ_GET_INFO_BY_FD. */
struct kta_token_info {
	__u64 allowed_cmds;
	__u64 allowed_maps;
	__u64 allowed_progs;
	__u64 allowed_attachs;
} __attribute__((aligned(8)));

/* The token's delegation is what the parent set. */
static void check_token_info(int token_fd)
{
	struct kta_token_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(token_fd, &info, &len);
	if (err == -EINVAL) {
		printf("child: this kernel cannot report a token's info (EINVAL): not checked\n");
		return;
	}
	if (!ASSERT_OK(err, "token_get_info"))
		return;
	printf("child: BPF token fd %d: allowed_cmds=0x%llx allowed_maps=0x%llx "
	       "allowed_progs=0x%llx allowed_attachs=0x%llx\n", token_fd,
	       (unsigned long long)info.allowed_cmds, (unsigned long long)info.allowed_maps,
	       (unsigned long long)info.allowed_progs, (unsigned long long)info.allowed_attachs);
	ASSERT_EQ(info.allowed_cmds, delegate_cmds, "token allowed_cmds");
	ASSERT_EQ(info.allowed_maps, delegate_maps, "token allowed_maps");
	ASSERT_EQ(info.allowed_progs, delegate_progs, "token allowed_progs");
	ASSERT_EQ(info.allowed_attachs, delegate_attachs, "token allowed_attachs");
}

/* upstream's map_token: in a user namespace, namespaced CAP_BPF is not
 * enough to create a stack map; with the token it is. */
static void use_token_map(int token_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_STACK, "wo_token", 0, 8, 1, &opts);
	if (!ASSERT_ERRNO(fd, EPERM, "stack map without token")) {
		if (fd >= 0)
			close(fd);
	}
	opts.map_flags = BPF_F_TOKEN_FD;
	opts.token_fd = token_fd;
	fd = bpf_map_create(BPF_MAP_TYPE_STACK, "w_token", 0, 8, 1, &opts);
	if (!ASSERT_OK_FD(fd, "stack map with token"))
		return;
	printf("child: stack map created with the token: fd %d\n", fd);
	close(fd);
}

/* upstream's prog_token. */
static void use_token_prog(int token_fd)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP);
	size_t n = sizeof(xdp_insns) / sizeof(xdp_insns[0]);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "wo_token", "GPL", xdp_insns, n, &opts);
	if (!ASSERT_ERRNO(fd, EPERM, "XDP program without token")) {
		if (fd >= 0)
			close(fd);
	}
	opts.prog_flags = BPF_F_TOKEN_FD;
	opts.token_fd = token_fd;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "w_token", "GPL", xdp_insns, n, &opts);
	if (!ASSERT_OK_FD(fd, "XDP program with token"))
		return;
	printf("child: XDP program loaded with the token: fd %d\n", fd);
	close(fd);
}

/* upstream's obj_priv_prog: libbpf derives its own token from
 * bpf_token_path and uses it for every map, BTF and program. The program
 * is run once and must count the packet in its map. */
static void use_token_object(int bpffs_fd)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	char path[64], pkt[64];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	struct token_prog *skel;
	__u32 key = 0;
	__u64 count = 0;

	memset(pkt, 0, sizeof(pkt));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", bpffs_fd);
	oopts.bpf_token_path = path;
	skel = token_prog__open_opts(&oopts);
	if (!ASSERT_TRUE(skel != NULL, "token_prog open with bpf_token_path"))
		return;
	if (!ASSERT_OK(token_prog__load(skel), "token_prog load with bpf_token_path"))
		goto cleanup;
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 5)
	ASSERT_GE(bpf_object__token_fd(skel->obj), 0, "libbpf object holds a token");
	printf("child: libbpf object loaded with its own token fd %d\n",
	       bpf_object__token_fd(skel->obj));
#endif
	if (!ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.kta_token_xdp), &topts),
		       "run the XDP program"))
		goto cleanup;
	ASSERT_EQ(topts.retval, XDP_PASS, "XDP program returned XDP_PASS");
	if (ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(skel->maps.kta_counts), &key, &count),
		      "lookup the packet count"))
		ASSERT_EQ(count, 1, "the program counted one packet");
	printf("child: XDP program from the object ran: retval %u, count %llu\n", topts.retval,
	       (unsigned long long)count);
cleanup:
	token_prog__destroy(skel);
}

static const char *const delegate_keys[] = {
	"delegate_cmds", "delegate_maps", "delegate_progs", "delegate_attachs",
};

static __attribute__((noreturn)) void child(enum kta_child_end end, int sock, int result_fd)
{
	int fs_fd = -1, mnt_fd = -1, bpffs_fd = -1, token_fd = -1;

	kta__env.failed_asserts = 0;
	/* Both at once: the new mount namespace belongs to the new user
	 * namespace, so we may mount in it (fsopen("bpf")). */
	if (!ASSERT_OK(unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)"))
		goto out;
	/* The parent writes our uid/gid maps: root inside is our uid outside. */
	if (!ASSERT_OK(send_byte(sock, 'u'), "tell the parent we unshared") ||
	    !ASSERT_OK(recv_byte(sock, 'm'), "wait for the parent's id maps"))
		goto out;
	if (!ASSERT_OK(setresgid(0, 0, 0), "setresgid(0)") ||
	    !ASSERT_OK(setresuid(0, 0, 0), "setresuid(0)"))
		goto out;
	if (!ASSERT_OK(sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "remount / private"))
		goto out;

	fs_fd = sys_fsopen("bpf", FSOPEN_CLOEXEC);
	if (!ASSERT_OK_FD(fs_fd, "fsopen(bpf)"))
		goto out;
	/* Delegation options need CAP_SYS_ADMIN in the initial namespace. */
	for (size_t i = 0; i < sizeof(delegate_keys) / sizeof(delegate_keys[0]); i++)
		ASSERT_ERRNO(set_delegate_mask(fs_fd, delegate_keys[i], 0x1), EPERM,
			     delegate_keys[i]);
	if (!ASSERT_OK(sendfd(sock, fs_fd), "send the bpffs context to the parent"))
		goto out;
	close(fs_fd);
	fs_fd = -1;

	mnt_fd = recvfd(sock);
	if (!ASSERT_OK_FD(mnt_fd, "receive the bpffs mount from the parent"))
		goto out;

	/* Nor can we add delegation by reconfiguring the mount. */
	fs_fd = sys_fspick(mnt_fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
	if (ASSERT_OK_FD(fs_fd, "fspick the bpffs mount")) {
		for (size_t i = 0; i < sizeof(delegate_keys) / sizeof(delegate_keys[0]); i++)
			ASSERT_ERRNO(set_delegate_mask(fs_fd, delegate_keys[i], ~0ULL), EPERM,
				     delegate_keys[i]);
		close(fs_fd);
		fs_fd = -1;
	}

	bpffs_fd = openat(mnt_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ASSERT_OK_FD(bpffs_fd, "open the bpffs root"))
		goto out;
	token_fd = bpf_token_create(bpffs_fd, NULL);
	if (!ASSERT_OK_FD(token_fd, "bpf_token_create"))
		goto out;
	printf("child: BPF token created: fd %d\n", token_fd);

	check_token_info(token_fd);
	use_token_map(token_fd);
	use_token_prog(token_fd);
	use_token_object(bpffs_fd);
out:
	if (token_fd >= 0)
		close(token_fd);
	if (bpffs_fd >= 0)
		close(bpffs_fd);
	if (mnt_fd >= 0)
		close(mnt_fd);
	if (fs_fd >= 0)
		close(fs_fd);
	close(sock);
	kta_child_finish(end, result_fd, "token child's note");
}

/* ----------------------------------------------------------------- parent */

static int write_id_maps(pid_t pid)
{
	char path[64], map[64];

	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)getuid());
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (!ASSERT_OK(write_file(path, map), "write the child's uid_map"))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)getgid());
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (!ASSERT_OK(write_file(path, map), "write the child's gid_map"))
		return -1;
	return 0;
}

/* The privileged half: maps, delegation, superblock, mount. */
static void parent_steps(pid_t pid, int sock)
{
	const __u64 masks[] = { delegate_cmds, delegate_maps, delegate_progs, delegate_attachs };
	int fs_fd = -1, mnt_fd = -1;

	if (!ASSERT_OK(recv_byte(sock, 'u'), "wait for the child to unshare") ||
	    write_id_maps(pid) || !ASSERT_OK(send_byte(sock, 'm'), "tell the child its maps"))
		return;
	fs_fd = recvfd(sock);
	if (!ASSERT_OK_FD(fs_fd, "receive the child's bpffs context"))
		return;
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		if (!ASSERT_OK(set_delegate_mask(fs_fd, delegate_keys[i], masks[i]),
			       delegate_keys[i]))
			goto out;
	if (!ASSERT_OK(sys_fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0),
		       "FSCONFIG_CMD_CREATE"))
		goto out;
	/* A detached mount: no path in anyone's namespace. */
	mnt_fd = sys_fsmount(fs_fd, FSMOUNT_CLOEXEC, 0);
	if (!ASSERT_OK_FD(mnt_fd, "fsmount"))
		goto out;
	ASSERT_OK(sendfd(sock, mnt_fd), "send the bpffs mount to the child");
out:
	if (mnt_fd >= 0)
		close(mnt_fd);
	close(fs_fd);
}

/* Can this kernel run the test at all? Skips (exits 4) if not. */
static void check_kernel(void)
{
	char buf[32] = "";
	FILE *f;
	int err;

	/* BPF_TOKEN_CREATE on a bad fd: EBADF where tokens exist (6.9+),
	 * EINVAL (unknown command) before. */
	err = bpf_token_create(-1, NULL);
	if (err == -ENOSYS)
		skip("no bpf(2): kernel built without CONFIG_BPF_SYSCALL");
	if (err == -EINVAL)
		skip("kernel has no BPF tokens (BPF_TOKEN_CREATE is EINVAL: Linux < 6.9)");
	if (err != -EBADF) {
		errno = -err;
		ASSERT_ERRNO(err, EBADF, "probe BPF_TOKEN_CREATE with fd -1");
		exit(KTA_EXIT_FAIL);
	}
	if (access("/proc/self/ns/user", F_OK) && errno == ENOENT)
		skip("no user namespaces: kernel built without CONFIG_USER_NS");
	f = fopen("/proc/sys/user/max_user_namespaces", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && atoi(buf) == 0)
			skip("user namespaces disabled: user.max_user_namespaces is 0");
		fclose(f);
	}
	err = kta_have_fs("bpf");
	if (err == 0)
		skip("kernel has no bpf filesystem");
	if (err < 0) {
		errno = -err;
		ASSERT_OK(-1, "read /proc/filesystems");
		exit(KTA_EXIT_FAIL);
	}
}

int main(int argc, char **argv)
{
	enum kta_child_end end = kta_child_parse_args(argc, argv);
	int sock[2], res[2], status = 0, failed, err;
	pid_t pid;

	kta_child_setup_stdio();
	check_kernel();
	if (!ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), "socketpair"))
		return KTA_EXIT_FAIL;
	if (!ASSERT_OK(pipe2(res, O_CLOEXEC), "pipe"))
		return KTA_EXIT_FAIL;
	fflush(NULL);
	pid = fork();
	if (!ASSERT_GE(pid, 0, "fork"))
		return KTA_EXIT_FAIL;
	if (pid == 0) {
		close(sock[0]);
		close(res[0]);
		child(end, sock[1], res[1]);
	}
	close(sock[1]);
	close(res[1]);
	parent_steps(pid, sock[0]);
	/* Closing our end lets a child stuck on a step we skipped go on. */
	close(sock[0]);
	failed = kta_parent_read_count(res[0]);
	close(res[0]);
	if (!ASSERT_OK(kta_parent_wait(pid, &status), "waitpid"))
		return KTA_EXIT_FAIL;
	kta_parent_print_child(pid, status, failed);
	/* What upstream's parent() checks: wait_for_pid() gives WEXITSTATUS,
	 * or -1 if the child did not exit. */
	err = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	errno = 0;
	ASSERT_OK(err, "waitpid_child");
	return kta__env.failed_asserts ? KTA_EXIT_FAIL : KTA_EXIT_PASS;
}
