/* Raw bpf(2) helpers for kta's guest tests: no libbpf, only the syscall
 * and <linux/bpf.h>, so a test binary is one static file that runs on any
 * kernel and tells "the kernel lacks BPF" (ENOSYS) apart from a bug.
 * Like the syscall, each helper returns -1 with errno set on failure.
 */
#ifndef KTA_BPF_H
#define KTA_BPF_H

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static inline int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	/* The full size of our union: newer kernels take it as long as the
	 * fields they do not know are zero, and older ones the same. */
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static inline int bpf_map_create(enum bpf_map_type type, const char *name, __u32 key_size,
				 __u32 value_size, __u32 max_entries)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = max_entries;
	strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
	return sys_bpf(BPF_MAP_CREATE, &attr);
}

static inline int bpf_map_update(int fd, const void *key, const void *value, __u64 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = ptr_to_u64(key);
	attr.value = ptr_to_u64(value);
	attr.flags = flags;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

static inline int bpf_map_lookup(int fd, const void *key, void *value)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = ptr_to_u64(key);
	attr.value = ptr_to_u64(value);
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
}

static inline int bpf_map_delete(int fd, const void *key)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = ptr_to_u64(key);
	return sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
}

/* key NULL: the first key. */
static inline int bpf_map_next_key(int fd, const void *key, void *next)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = ptr_to_u64(key);
	attr.next_key = ptr_to_u64(next);
	return sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr);
}

/* info: a struct bpf_map_info, bpf_btf_info... of *len bytes. */
static inline int bpf_obj_info(int fd, void *info, __u32 *len)
{
	union bpf_attr attr;
	int err;

	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = *len;
	attr.info.info = ptr_to_u64(info);
	err = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
	if (!err)
		*len = attr.info.info_len;
	return err;
}

static inline int bpf_obj_pin(int fd, const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.bpf_fd = (__u32)fd;
	attr.pathname = ptr_to_u64(path);
	return sys_bpf(BPF_OBJ_PIN, &attr);
}

static inline int bpf_obj_get(const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = ptr_to_u64(path);
	return sys_bpf(BPF_OBJ_GET, &attr);
}

/* The id of a map, or 0 with errno set. */
static inline __u32 bpf_map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_info(fd, &info, &len) ? 0 : info.id;
}

#endif
