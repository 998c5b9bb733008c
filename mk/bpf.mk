# The BPF toolchain for guest suites, per ARCH: a static libbpf built from
# Debian's source package (Debian 12's libbpf-dev is 1.1, too old for the
# BPF token API), BPF objects compiled with clang, and skeletons generated
# with bpftool. Included by the top Makefile before the suites' fragments;
# docs/toolchain.md explains the choices.
#
# For a suite's <suite>.mk:
#   $(call bpf_skels,SUITE)    the skeleton headers of guest-tests/SUITE/*.bpf.c
#                              (a prerequisite: builds objects and skeletons)
#   $(call bpf_cflags,SUITE)   -isystem for libbpf's headers, -I for the skeletons
#   BPF_LDLIBS_STATIC          static link: -static libbpf.a -lelf -lz ...
#   BPF_LDLIBS                 libbpf.a static, libelf/libz dynamic (ASAN builds)
#   LIBBPF_A, LIBBPF_INC, BPF_SKEL_DIR, LIBBPF_VERSION_FILE
#
#   make libbpf                fetch (once) and build libbpf for $(ARCH)
#   make bpf-skels             every suite's BPF objects and skeletons
#   make bpf-toolchain-info    versions and paths, for bug reports
#
# Variables: LIBBPF_VERSION (Debian version or upstream prefix, or latest),
# BPF_CLANG, LLVM_STRIP, BPFTOOL, BPF_CPU, BPF_EXTRA_CFLAGS.

# libbpf >= 1.4 has bpf_token_create(). 1.5.0 is trixie's: it stays in the
# archive for the life of Debian 13, and the prefix also takes a later
# Debian revision of it (1.5.0-3+deb13u1) if the archive replaces 1.5.0-3.
LIBBPF_VERSION ?= 1.5.0
BPF_CLANG ?= clang-19
LLVM_STRIP ?= llvm-strip-19
BPFTOOL ?= $(or $(wildcard /usr/sbin/bpftool),bpftool)
BPF_CPU ?= v3
BPF_EXTRA_CFLAGS ?=
# Where <suite>/<name>.bpf.c live (another tree works too: docs/toolchain.md).
BPF_SRC_DIR ?= guest-tests
# A foreign arch's libelf, zlib and zstd come from its sysroot (Makefile):
# pkg-config reads that root's .pc files and prefixes their paths.
PKG_CONFIG ?= pkg-config
BPF_PKG_CONFIG = $(if $(GUEST_NATIVE),$(PKG_CONFIG),PKG_CONFIG_LIBDIR=$(GUEST_SYSROOT)/usr/lib/$(KTA_MULTIARCH_$(ARCH))/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(GUEST_SYSROOT) $(PKG_CONFIG))
BPF_SYSROOT_CFLAGS = $(if $(GUEST_NATIVE),,-isystem $(GUEST_SYSROOT)/usr/include)

# bpf_tracing.h's __TARGET_ARCH_<name> and the BPF byte order (bpfel,
# bpfeb) come from host/base/arch.c's rows (KTA_BPF_* in $(O)/arch.mk).
BPF_TARGET_ARCH := $(KTA_BPF_ARCH_$(ARCH))
BPF_TARGET := bpf$(KTA_BPF_ENDIAN_$(ARCH))

LIBBPF_DIR := $(O)/$(ARCH)/libbpf
LIBBPF_ROOT := $(LIBBPF_DIR)/root
LIBBPF_INC := $(LIBBPF_ROOT)/usr/include
LIBBPF_A := $(LIBBPF_ROOT)/usr/lib/libbpf.a
# "libbpf <Debian version>" of the tree libbpf.a was built from.
LIBBPF_VERSION_FILE := $(LIBBPF_DIR)/version
# Source packages are the same for every arch: one stamp per version,
# holding the unpacked tree's directory in the kta cache.
LIBBPF_SRC_STAMP := $(O)/sources/libbpf-$(LIBBPF_VERSION).dir
BPF_SKEL_DIR := $(O)/$(ARCH)/bpf

LIBBPF_FETCH = $(KTA) source fetch libbpf --version $(LIBBPF_VERSION)

# Debian 12's bpftool cannot open objects of the other byte order: for a
# guest whose BPF endianness is not the host's (s390x on x86_64), skeletons
# come from a bpftool built from the kernel tree (scripts/bpftool.sh).
BPF_HOST_ENDIAN := $(KTA_BPF_ENDIAN_$(KTA_ARCH_$(shell uname -m)))
BPFTOOL_TREE := $(O)/tools/bpftool/bpftool
BPF_SKEL_BPFTOOL := $(if $(filter $(BPF_HOST_ENDIAN),$(KTA_BPF_ENDIAN_$(ARCH))),$(BPFTOOL),$(BPFTOOL_TREE))

# Evaluated once, on first use: the guest compiler's system include dirs
# (without GCC's own), so that <linux/bpf.h> finds <asm/types.h> in the
# target's multiarch directory; clang -target bpf knows none of them.
BPF_SYS_INCLUDES = $(eval BPF_SYS_INCLUDES := $$(shell $(GUEST_CC) -E -v -x c /dev/null 2>&1 | \
	sed -n '/<\.\.\.> search starts here:/,/End of search list\./s|^ \(/.*\)|-isystem \1|p' | \
	grep -Ev '/lib/gcc(-cross)?/[^/]+/[0-9]+/include'))$(BPF_SYS_INCLUDES)
BPF_LIBS_STATIC = $(eval BPF_LIBS_STATIC := $$(shell $(BPF_PKG_CONFIG) --static --libs libelf zlib 2>/dev/null || echo -lelf -lz))$(BPF_LIBS_STATIC)

# libbpf.a before the libraries it uses; Debian 12's libelf needs zlib
# only (later ones add zstd: pkg-config knows). Programs that must link
# dynamically (ASAN) still take libelf and zlib statically: the guest then
# needs only the compiler's runtime and libc, on every arch.
# libktacompat.a last: what a newer Debian's static library needs from a
# newer libc than the cross toolchain's (guest-tests/compat/).
BPF_COMPAT_A := $(O)/$(ARCH)/compat/libktacompat.a
BPF_LDLIBS = $(LIBBPF_A) -Wl,-Bstatic $(BPF_LIBS_STATIC) $(BPF_COMPAT_A) -Wl,-Bdynamic
BPF_LDLIBS_STATIC = -static $(LIBBPF_A) $(BPF_LIBS_STATIC) $(BPF_COMPAT_A)

BPF_CFLAGS := -target $(BPF_TARGET) -mcpu=$(BPF_CPU) -O2 -g -Wall -Werror \
	-D__TARGET_ARCH_$(BPF_TARGET_ARCH) $(BPF_EXTRA_CFLAGS)

bpf_skels = $(patsubst $(BPF_SRC_DIR)/%.bpf.c,$(BPF_SKEL_DIR)/%.skel.h,$(wildcard $(BPF_SRC_DIR)/$(1)/*.bpf.c))
bpf_cflags = -isystem $(LIBBPF_INC) $(BPF_SYSROOT_CFLAGS) -I$(BPF_SKEL_DIR)/$(1)

BPF_ALL_SKELS := $(patsubst $(BPF_SRC_DIR)/%.bpf.c,$(BPF_SKEL_DIR)/%.skel.h,$(wildcard $(BPF_SRC_DIR)/*/*.bpf.c))

.PHONY: libbpf bpf-skels bpf-toolchain-info

$(BPFTOOL_TREE): | $(KTA)
	$(if $(Q),@echo "  BPFTOOL $@ (from the kernel tree: cross-endian skeletons)")
	$(Q)scripts/bpftool.sh $(KTA) $(dir $@)

libbpf: $(LIBBPF_A)

$(BPF_COMPAT_A): $(wildcard guest-tests/compat/*.c)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && for c in $^; do \
		$(GUEST_CC) $(CFLAGS_COMMON) -c -o $(dir $@)$$(basename $$c .c).o $$c || exit 1; \
		$(CROSS_COMPILE)ar rcs $@ $(dir $@)$$(basename $$c .c).o || exit 1; done
bpf-skels: $(BPF_ALL_SKELS)

bpf-toolchain-info: $(LIBBPF_A)
	@echo "ARCH             $(ARCH) (BPF target $(BPF_TARGET), __TARGET_ARCH_$(BPF_TARGET_ARCH))"
	@echo "libbpf           $$(cat $(LIBBPF_VERSION_FILE)) from $$(cat $(LIBBPF_SRC_STAMP))"
	@echo "LIBBPF_A         $(LIBBPF_A)"
	@echo "LIBBPF_INC       $(LIBBPF_INC)"
	@echo "BPF_SKEL_DIR     $(BPF_SKEL_DIR)"
	@echo "BPF_LDLIBS       $(BPF_LDLIBS)"
	@echo "BPF_LDLIBS_STATIC $(BPF_LDLIBS_STATIC)"
	@echo "clang            $$($(BPF_CLANG) --version | head -n1)"
	@echo "bpftool          $$($(BPF_SKEL_BPFTOOL) version | head -n1) ($(BPF_SKEL_BPFTOOL))"

bpf_check_arch = $(if $(BPF_TARGET_ARCH),,$(error mk/bpf.mk: no BPF fields for ARCH=$(ARCH) in host/base/arch.c))

# The fetch is order-only on kta and the package check: rebuilding kta must
# not re-fetch. kta prints the tree's directory as its last line.
$(LIBBPF_SRC_STAMP): | $(KTA) deps-check
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FETCH   libbpf $(LIBBPF_VERSION) (Debian source)")
	$(Q)out=$$($(LIBBPF_FETCH)) || exit 1; dir=$$(printf '%s\n' "$$out" | tail -n1); \
	test -f "$$dir/src/Makefile" || { echo "mk/bpf.mk: no libbpf tree at \`$$dir'" >&2; exit 1; }; \
	printf '%s\n' "$$dir" > $@.tmp && mv $@.tmp $@

# A clean build in its own directory (the source tree in the cache is never
# written to); install gives the headers, libbpf.a and the newer UAPI
# linux/bpf.h, btf.h, bpf_common.h. LIBSUBDIR=lib: one path on every arch.
# Before use, check that this libbpf has the token API.
$(LIBBPF_A): $(LIBBPF_SRC_STAMP) $(if $(GUEST_NATIVE),,$(GUEST_SYSROOT_STAMP)) $(BPF_COMPAT_A)
	$(call bpf_check_arch)
	$(if $(Q),@echo "  LIBBPF  $(LIBBPF_DIR) ($(ARCH))")
	$(Q)src=$$(cat $<); \
	if ! test -f "$$src/src/Makefile"; then \
		out=$$($(LIBBPF_FETCH)) || exit 1; src=$$(printf '%s\n' "$$out" | tail -n1); \
		printf '%s\n' "$$src" > $<; \
	fi; \
	rm -rf $(LIBBPF_DIR) && mkdir -p $(LIBBPF_DIR)/obj && \
	$(MAKE) --no-print-directory -C "$$src/src" BUILD_STATIC_ONLY=1 NO_PKG_CONFIG=1 \
		OBJDIR=$(abspath $(LIBBPF_DIR)/obj) DESTDIR=$(abspath $(LIBBPF_ROOT)) \
		PREFIX=/usr LIBSUBDIR=lib CC="$(GUEST_CC)" AR="$(CROSS_COMPILE)ar" \
		CFLAGS="-g -O2 -Wall $(BPF_SYSROOT_CFLAGS)" install install_uapi_headers $(if $(Q),>$(LIBBPF_DIR)/build.log 2>&1) || \
		{ $(if $(Q),tail -n 30 $(LIBBPF_DIR)/build.log;) echo "mk/bpf.mk: building libbpf from $$src failed" >&2; exit 1; }; \
	ver=$$(sed -n 's/^version=//p' "$$src/.kta-source"); \
	if ! grep -q 'bpf_token_create' $(LIBBPF_INC)/bpf/bpf.h || \
	   ! $(CROSS_COMPILE)nm $@ 2>/dev/null | grep -q ' T bpf_token_create$$'; then \
		echo "mk/bpf.mk: libbpf $$ver has no bpf_token_create(); need libbpf >= 1.4 (LIBBPF_VERSION=$(LIBBPF_VERSION))" >&2; \
		rm -f $@; exit 1; \
	fi; \
	echo "libbpf $$ver" > $(LIBBPF_VERSION_FILE)

# $(BPF_SRC_DIR)/<suite>/<name>.bpf.c -> $(BPF_SKEL_DIR)/<suite>/<name>.bpf.o:
# libbpf's headers (and its newer linux/bpf.h) first, then the guest's
# system headers (-isystem: before clang's own /usr/include, which is the
# host's when the guest is another arch). -g for BTF (CO-RE, BTF-defined maps); DWARF is stripped,
# BTF stays, so the skeleton embeds a small object.
$(BPF_SKEL_DIR)/%.bpf.o: $(BPF_SRC_DIR)/%.bpf.c $(LIBBPF_A)
	$(call bpf_check_arch)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  BPF     $@")
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -I$(LIBBPF_INC) -I$(dir $<) -I$(BPF_SRC_DIR) $(BPF_SYS_INCLUDES) \
		-MMD -MP -MT $@ -MF $@.d -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@

# The skeleton's struct is the file's name without .bpf.c ('-' -> '_'):
# foo.bpf.c gives "foo.skel.h" with struct foo, foo__open_and_load().
$(BPF_SKEL_DIR)/%.skel.h: $(BPF_SKEL_DIR)/%.bpf.o $(filter $(BPFTOOL_TREE),$(BPF_SKEL_BPFTOOL))
	$(if $(Q),@echo "  SKEL    $@")
	$(Q)$(BPF_SKEL_BPFTOOL) gen skeleton $< name $(subst -,_,$(notdir $*)) > $@.tmp && mv $@.tmp $@

# Objects are intermediate to make (only skeletons are asked for): keep
# them, so a second run does nothing and bpftool/llvm-objdump can look.
.PRECIOUS: $(BPF_SKEL_DIR)/%.bpf.o

-include $(wildcard $(BPF_SKEL_DIR)/*/*.bpf.o.d)
