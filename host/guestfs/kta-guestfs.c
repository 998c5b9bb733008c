/* kta-guestfs: the only part of kta that links libguestfs (docs/image.md).
 * `kta run --image` calls it to look into a user's disk image and to pull
 * files out of the run's overlay; `make image` calls it to turn a root
 * tarball into a partitioned qcow2. A separate program so that kta itself,
 * and every run without --image, never loads libguestfs.
 *
 *   kta-guestfs inspect IMAGE FORMAT OUT          key=value facts to OUT
 *   kta-guestfs pull IMAGE FORMAT ROOT DIR PATH... copy PATHs of ROOT to DIR
 *   kta-guestfs mkimage TAR OUT SIZE_MB            a qcow2: MBR, one ext4
 *
 * Each command is one appliance launch. Exit status: 0 done, 1 failure,
 * 2 usage, 3 (inspect) no operating system found, 4 (pull) some paths
 * were missing. The appliance runs under TCG unless KTA_GUESTFS_KVM=1:
 * kta's machines have a /dev/kvm whose nested guests hang, and libguestfs
 * would pick it.
 */
#include <errno.h>
#include <guestfs.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NO_OS 3
#define EXIT_MISSING 4

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void close_handle(guestfs_h **g)
{
	if (*g)
		guestfs_close(*g);
}

#define cleanup_guestfs __attribute__((cleanup(close_handle)))

/* A handle on one drive, launched: the direct backend (no libvirtd), TCG
 * unless asked otherwise, and the launch time on stderr for kta's report. */
static guestfs_h *open_drive(const char *path, const char *format, int readonly)
{
	guestfs_h *g = guestfs_create();
	const char *kvm = getenv("KTA_GUESTFS_KVM");
	double t0;

	if (!g) {
		fprintf(stderr, "kta-guestfs: cannot create a libguestfs handle\n");
		return NULL;
	}
	if (!getenv("LIBGUESTFS_BACKEND"))
		guestfs_set_backend(g, "direct");
	if (!kvm || strcmp(kvm, "1"))
		guestfs_set_backend_setting(g, "force_tcg", "1");
	if (guestfs_add_drive_opts(g, path, GUESTFS_ADD_DRIVE_OPTS_FORMAT, format,
				   GUESTFS_ADD_DRIVE_OPTS_READONLY, readonly, -1)) {
		guestfs_close(g);
		return NULL;
	}
	t0 = now_s();
	if (guestfs_launch(g)) {
		guestfs_close(g);
		return NULL;
	}
	fprintf(stderr, "kta-guestfs: appliance launched in %.2f s\n", now_s() - t0);
	return g;
}

/* The facts kta needs to boot the image's root and to name its OS. */
static int inspect(const char *image, const char *format, const char *out)
{
	cleanup_guestfs guestfs_h *g = open_drive(image, format, 1);
	char **roots, **fs;
	const char *root;
	char *v;
	FILE *f;

	if (!g)
		return 1;
	roots = guestfs_inspect_os(g);
	if (!roots)
		return 1;
	if (!roots[0]) {
		fs = guestfs_list_filesystems(g);
		fprintf(stderr, "kta-guestfs: no operating system found in %s; its filesystems:", image);
		for (size_t i = 0; fs && fs[i]; i += 2)
			fprintf(stderr, " %s (%s)", fs[i], fs[i + 1]);
		fprintf(stderr, "%s\n", fs && fs[0] ? "" : " none");
		free_strings(fs);
		free_strings(roots);
		return EXIT_NO_OS;
	}
	root = roots[0];
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "kta-guestfs: cannot write %s: %s\n", out, strerror(errno));
		free_strings(roots);
		return 1;
	}
	fprintf(f, "root=%s\nroots=", root);
	for (size_t i = 0; roots[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", roots[i]);
	fprintf(f, "\n");
#define STR(key, call)                                           \
	do {                                                     \
		v = call;                                        \
		fprintf(f, "%s=%s\n", key, v ? v : "");          \
		free(v);                                         \
	} while (0)
	STR("fstype", guestfs_vfs_type(g, root));
	STR("os_type", guestfs_inspect_get_type(g, root));
	STR("distro", guestfs_inspect_get_distro(g, root));
	STR("product", guestfs_inspect_get_product_name(g, root));
	STR("os_arch", guestfs_inspect_get_arch(g, root));
	STR("hostname", guestfs_inspect_get_hostname(g, root));
#undef STR
	fprintf(f, "major=%d\nminor=%d\n", guestfs_inspect_get_major_version(g, root),
		guestfs_inspect_get_minor_version(g, root));
	free_strings(roots);
	if (fclose(f)) {
		fprintf(stderr, "kta-guestfs: cannot write %s: %s\n", out, strerror(errno));
		return 1;
	}
	return guestfs_shutdown(g) ? 1 : 0;
}

static int mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

/* Each PATH lands at DIR/PATH: a directory with what is under it. The
 * overlay is read-only here, so a pull never changes what it reads. */
static int pull(const char *image, const char *format, const char *root, const char *dir,
		char **paths, int npaths)
{
	cleanup_guestfs guestfs_h *g = open_drive(image, format, 1);
	int rc = 0;

	if (!g)
		return 1;
	/* A crashed guest's journal is not replayed: norecovery reads what
	 * reached the disk, the way the guest's last sync left it. */
	if (guestfs_mount_options(g, "ro,norecovery", root, "/") &&
	    guestfs_mount_ro(g, root, "/"))
		return 1;
	for (int i = 0; i < npaths; i++) {
		char local[4096], *parent;
		int isdir;

		if (paths[i][0] != '/' || strstr(paths[i], "..")) {
			fprintf(stderr, "kta-guestfs: %s: want an absolute path without `..`\n", paths[i]);
			rc = EXIT_MISSING;
			continue;
		}
		if (guestfs_exists(g, paths[i]) != 1) {
			printf("missing %s\n", paths[i]);
			rc = EXIT_MISSING;
			continue;
		}
		isdir = guestfs_is_dir(g, paths[i]);
		snprintf(local, sizeof(local), "%s%s", dir, paths[i]);
		/* copy-out puts a file or a directory into a local directory:
		 * that is PATH's parent under DIR. */
		parent = dirname(local);
		if (mkdirs(parent)) {
			fprintf(stderr, "kta-guestfs: cannot create %s: %s\n", parent, strerror(errno));
			return 1;
		}
		if (guestfs_copy_out(g, paths[i], parent))
			return 1;
		printf("pulled %s%s\n", paths[i], isdir == 1 ? "/" : "");
	}
	return rc;
}

/* A root tarball as a partitioned qcow2: MBR, one ext4 partition labelled
 * root, an fstab that mounts it, so libguestfs's inspection (and a boot
 * with the image's own kernel) recognise it. */
static int mkimage(const char *tar, const char *out, long long size_mb)
{
	cleanup_guestfs guestfs_h *g = NULL;
	static const char fstab[] = "LABEL=root / ext4 defaults 0 1\n";
	char tmp[4096];
	double t0 = now_s();

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp))
		return 2;
	g = guestfs_create();
	if (!g)
		return 1;
	if (guestfs_disk_create(g, tmp, "qcow2", size_mb << 20, -1))
		return 1;
	guestfs_close(g);
	g = open_drive(tmp, "qcow2", 0);
	if (!g)
		goto fail;
	if (guestfs_part_disk(g, "/dev/sda", "mbr") ||
	    guestfs_mkfs_opts(g, "ext4", "/dev/sda1", GUESTFS_MKFS_OPTS_LABEL, "root", -1) ||
	    guestfs_mount(g, "/dev/sda1", "/") || guestfs_tar_in(g, tar, "/") ||
	    guestfs_write(g, "/etc/fstab", fstab, sizeof(fstab) - 1) ||
	    guestfs_umount_all(g) || guestfs_shutdown(g))
		goto fail;
	if (rename(tmp, out)) {
		fprintf(stderr, "kta-guestfs: cannot rename %s: %s\n", tmp, strerror(errno));
		goto fail;
	}
	fprintf(stderr, "kta-guestfs: %s made in %.1f s\n", out, now_s() - t0);
	return 0;
fail:
	unlink(tmp);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: kta-guestfs inspect IMAGE FORMAT OUT\n"
			"       kta-guestfs pull IMAGE FORMAT ROOT DIR PATH...\n"
			"       kta-guestfs mkimage TAR OUT.qcow2 SIZE_MB\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "inspect"))
		return inspect(argv[2], argv[3], argv[4]);
	if (argc >= 7 && !strcmp(argv[1], "pull"))
		return pull(argv[2], argv[3], argv[4], argv[5], argv + 6, argc - 6);
	if (argc == 5 && !strcmp(argv[1], "mkimage")) {
		char *end;
		long long mb = strtoll(argv[4], &end, 10);

		if (*end || mb < 16 || mb > (1 << 20))
			return usage();
		return mkimage(argv[2], argv[3], mb);
	}
	return usage();
}
