# kta: the kernel test appliance.
#
#   make vm-test     install what is missing, fetch a kernel, build, boot, run
#                    (ARCH=arm64 for another architecture)
#   make vm-test-all the same on every architecture (ARCHES=a,b: a subset)
#   make check       the project's own tests (unit, sanitizers, fuzz replay, VM)
#   make bench       benchmarks against a bare QEMU boot (every architecture)
#   make acceptance  build the minimal patched 7.3 kernels (x86_64, arm64), boot
#                    them and run the suites; then all five architectures
#   make bench-build kernel build times (full, incremental + boot)
#   make guestfs     the libguestfs helper `kta run --image` needs
#   make image       a Debian 12 disk image for `kta run --image` (docs/image.md)
#   make bench-image what --image costs against a run without it
#   make soak        SOAK_N guests at once (8) for SOAK_ROUNDS rounds (3), each
#                    with a fault drawn at random, every outcome checked
#
# Variables: ARCH (x86_64; arm64, riscv64, s390x, ppc64le or an alias:
# `build/kta arch`), CROSS_COMPILE (default: Debian's cross compiler for a
# foreign ARCH), O (build dir), V=1, EXTRA_CFLAGS,
# KERNEL (a kernel image; default: fetch Debian's newest 7.3 cloud kernel),
# KVERSION (Debian kernel version to fetch, e.g. 6.1), KTA_ARGS (more flags
# for `kta run`); for kernel builds (scripts/kernel-source.sh): KSOURCE,
# KTREE, KFRAGMENTS, PATCHES, JOBS.

ARCH ?= x86_64
O ?= build
V ?= 0
KVERSION ?=
KTA_ARGS ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

CC ?= cc
HOST_CC := $(CC)
KTA := $(O)/kta

# The architecture rows come from host/base/arch.c (`kta arch make`): make
# regenerates this file when kta changes and restarts with it.
ARCH_MK := $(O)/arch.mk
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(ARCH_MK)
endif
ifneq ($(KTA_ARCHES),)
ifeq ($(KTA_ARCH_$(ARCH)),)
$(error unknown ARCH=$(ARCH); known: $(KTA_ARCHES) (or an alias: `$(KTA) arch`))
endif
override ARCH := $(KTA_ARCH_$(ARCH))
endif
ifeq ($(origin CROSS_COMPILE),undefined)
CROSS_COMPILE := $(if $(KTA_NATIVE_$(ARCH)),,$(KTA_CROSS_$(ARCH)))
endif
GUEST_CC := $(CROSS_COMPILE)gcc
# A foreign ARCH builds against a sysroot of that arch's Debian packages
# (busybox, static libelf/zlib/zstd for libbpf): `kta arch sysroot`.
GUEST_NATIVE := $(if $(CROSS_COMPILE),,1)
GUEST_SYSROOT_STAMP := $(O)/$(ARCH)/sysroot.dir
GUEST_SYSROOT = $(if $(GUEST_NATIVE),,$(shell cat $(GUEST_SYSROOT_STAMP) 2>/dev/null))
# The ASAN suite's compiler: the cross gcc, or where the arch's row says
# why (asan_clang), clang-19 with LLVM's runtime for the guest arch (the
# sysroot's libclang-rt-19-dev) through a resource directory of the
# host's clang headers and those libraries.
CLANG_RESOURCE := $(O)/$(ARCH)/clang-resource
ASAN_CC := $(if $(KTA_ASAN_CLANG_$(ARCH)),clang-19 --target=$(KTA_MULTIARCH_$(ARCH)) -resource-dir $(CLANG_RESOURCE),$(GUEST_CC))
ASAN_CC_DEPS := $(if $(KTA_ASAN_CLANG_$(ARCH)),$(CLANG_RESOURCE)/lib/linux)

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wformat=2 -Wno-format-truncation -Wswitch-default -Wundef
CFLAGS_COMMON := -std=gnu11 -O2 -g $(WARN) $(EXTRA_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# jansson: JSON that comes back from other machines (kta validate's cell
# results) is read with a maintained parser.
HOST_LIBS := -lm -ljansson
# host/ is grouped by concern (docs/design.md); host/guestfs/ is a separate
# program, the only one that links libguestfs.
HOST_SRCS := $(filter-out host/main.c host/guestfs/%,$(wildcard host/*.c host/*/*.c))
HOST_HDRS := $(wildcard host/*/*.h)
HOST_OBJS := $(patsubst host/%.c,$(O)/host/%.o,$(HOST_SRCS))
HOST_SAN_OBJS := $(patsubst host/%.c,$(O)/host-san/%.o,$(HOST_SRCS))

AGENT_SRCS := $(wildcard rootfs/*.c) host/run/proto.c host/selftests/tprogs.c
GUEST_DIR := $(O)/$(ARCH)
GUEST_CFLAGS := $(CFLAGS_COMMON) -D_GNU_SOURCE -Iguest-tests
# Each guest suite is guest-tests/<suite>/ with a suite.txt manifest and a
# <suite>.mk fragment that adds its binaries to SUITE_TARGETS; everything a
# suite needs lands in $(SUITE_OUT)/<suite>/ next to its manifest.
SUITE_OUT := $(GUEST_DIR)/suites
SUITE_TARGETS :=
GUEST_TESTDATA := $(patsubst tests/guest/%.c,$(GUEST_DIR)/testdata/%,$(wildcard tests/guest/*.c)) \
	$(patsubst tests/guest/%.sh,$(GUEST_DIR)/testdata/%,$(wildcard tests/guest/*.sh))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/unit/%,$(UNIT_SRCS))
UNIT_SAN_BINS := $(patsubst tests/unit/%.c,$(O)/unit-san/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))

-include mk/bpf.mk
include $(wildcard guest-tests/*/*.mk)

.PHONY: all host guest guest-base deps deps-check deps-arch guests-all vm-test-all vm-test check unit unit-san fuzz-replay \
	unit-bins unit-san-bins fuzz-bins \
	integration bench fuzz clean deps-image guestfs image bench-image format-check acceptance bench-build kernel-source bench-selftests soak

all: host guest

host: $(KTA)
# The agent and the integration tests' programs only: enough to boot an
# arch (make check's riscv64 case).
guest-base: $(GUEST_DIR)/kta-agent $(GUEST_TESTDATA)

guest: $(GUEST_DIR)/kta-agent $(GUEST_TESTDATA) $(GUEST_DIR)/bench/poweroff $(SUITE_TARGETS) $(if $(GUEST_NATIVE),,$(GUEST_SYSROOT_STAMP))

# Packages: installed once, then only checked (cheap) on every run.
deps:
	$(Q)scripts/deps.sh install

deps-check:
	$(Q)scripts/deps.sh ensure

# --image (docs/image.md): libguestfs, qemu-img, and a kernel of the host's
# for libguestfs's appliance (supermin builds it from the host's packages).
deps-image:
	$(Q)scripts/deps.sh ensure libguestfs-dev qemu-utils linux-image-$(shell dpkg --print-architecture)

guestfs: deps-image
	$(Q)$(MAKE) -s --no-print-directory $(GUESTFS)

# Debian 12 (python3, bpftool, iproute2, libasan8) as a partitioned qcow2,
# built once into the cache; prints its path.
image: guestfs host
	$(Q)scripts/image.sh debian $(ARCH)

# ARCH's QEMU and, for a foreign ARCH, its cross toolchain (host/base/arch.c).
deps-arch: $(ARCH_MK)
	$(Q)scripts/deps.sh ensure $(KTA_PACKAGES_$(ARCH))

$(O)/host/%.o: host/%.c $(HOST_HDRS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -Ihost -c -o $@ $<

$(O)/host-san/%.o: host/%.c $(HOST_HDRS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC-SAN  $@")
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -D_GNU_SOURCE -Ihost -c -o $@ $<

$(KTA): $(O)/host/main.o $(HOST_OBJS)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) -o $@ $^ $(HOST_LIBS)

$(ARCH_MK): $(KTA)
	$(Q)$(KTA) arch make > $@.tmp && mv $@.tmp $@

# The fetch is order-only: rebuilding kta must not re-fetch.
$(GUEST_SYSROOT_STAMP): | $(KTA)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  SYSROOT $(ARCH)")
	$(Q)dir=$$($(KTA) arch sysroot $(ARCH)) && test -d "$$dir" && \
		printf '%s\n' "$$dir" > $@.tmp && mv $@.tmp $@

# `kta arch sysroot` again: a sysroot fetched before the row asked for
# the runtime is stale, and refetched.
$(CLANG_RESOURCE)/lib/linux: | $(KTA)
	@mkdir -p $(CLANG_RESOURCE)/lib
	$(if $(Q),@echo "  CLANG-RT $(ARCH)")
	$(Q)dir=$$($(KTA) arch sysroot $(ARCH)) && rt=$$dir/usr/lib/llvm-19/lib/clang/19/lib/linux && \
		test -d "$$rt" && ln -sfn "$$(clang-19 -print-resource-dir)/include" $(CLANG_RESOURCE)/include && \
		ln -sfn "$$rt" $@

$(O)/kta-san: $(O)/host-san/main.o $(HOST_SAN_OBJS)
	$(if $(Q),@echo "  LD-SAN  $@")
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -o $@ $^ $(HOST_LIBS)

# `kta run --image`'s window into disk images (host/guestfs/, docs/image.md):
# the only program that links libguestfs, so kta and runs without --image
# never load it.
GUESTFS := $(O)/kta-guestfs
$(GUESTFS): host/guestfs/kta-guestfs.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -o $@ $< -lguestfs

# The agent is PID 1 in the guest: static, no loader, no libc on the rootfs.
$(GUEST_DIR)/kta-agent: $(AGENT_SRCS) $(wildcard rootfs/*.h) host/run/proto.h host/selftests/tprogs.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(GUEST_CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -Ihost -static -o $@ $(AGENT_SRCS)

$(SUITE_OUT)/%/suite.txt: guest-tests/%/suite.txt
	@mkdir -p $(dir $@)
	$(Q)install -m 0644 $< $@

$(GUEST_DIR)/testdata/%: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -static -o $@ $<

# The boot benchmark's baseline /init (bench/boot.sh).
$(GUEST_DIR)/bench/poweroff: bench/poweroff.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(CFLAGS_COMMON) -static -o $@ $<

$(GUEST_DIR)/testdata/%: tests/guest/%.sh
	@mkdir -p $(dir $@)
	$(Q)install -m 0755 $< $@

# test_plan reads what the host writes with the agent's own reader.
UNIT_EXTRA = $(if $(filter test_plan,$(notdir $@)),-Irootfs rootfs/agent_plan.c)
$(O)/unit/test_plan $(O)/unit-san/test_plan: rootfs/agent_plan.c $(wildcard rootfs/*.h)

$(O)/unit/%: tests/unit/%.c $(HOST_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -Ihost -o $@ $< $(UNIT_EXTRA) $(HOST_OBJS) $(HOST_LIBS)

$(O)/unit-san/%: tests/unit/%.c $(HOST_SAN_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -D_GNU_SOURCE -Ihost -o $@ $< $(UNIT_EXTRA) $(HOST_SAN_OBJS) $(HOST_LIBS)

# The plan's reader is the agent's own code, built for the host.
$(O)/fuzz/fuzz_plan: fuzz/fuzz_plan.c fuzz/replay.c rootfs/agent_plan.c $(wildcard rootfs/*.h) host/run/plan.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -D_GNU_SOURCE -Ihost -Irootfs -o $@ fuzz/fuzz_plan.c rootfs/agent_plan.c fuzz/replay.c

# Fuzz targets are built twice: with a replay driver under ASAN+UBSAN for
# `make check`, and with libFuzzer (clang) for `make fuzz`.
$(O)/fuzz/%: fuzz/%.c fuzz/replay.c $(HOST_SAN_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -D_GNU_SOURCE -Ihost -o $@ $< fuzz/replay.c $(HOST_SAN_OBJS) $(HOST_LIBS)

unit-bins: $(UNIT_BINS)
unit-san-bins: $(UNIT_SAN_BINS)
fuzz-bins: $(FUZZ_REPLAY)

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

unit-san: $(UNIT_SAN_BINS)
	$(Q)tests/run-unit.sh $(UNIT_SAN_BINS)

fuzz-replay: $(FUZZ_REPLAY)
	$(Q)for f in $(FUZZ_REPLAY); do $$f fuzz/corpus/$$(basename $$f) || exit 1; done

fuzz:
	$(Q)scripts/fuzz.sh $(FUZZ_SRCS)

# The main job: everything a kernel developer needs, from a clean clone.
vm-test: deps-check
	$(Q)$(MAKE) --no-print-directory deps-arch
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/vm-test.sh

# The integration tests also boot arm64 (the suites) and riscv64 (a test
# its row cannot run): their cross toolchains and guests too.
check: deps-check
	$(Q)$(MAKE) --no-print-directory deps-arch
	$(Q)$(MAKE) --no-print-directory deps-arch ARCH=arm64
	$(Q)$(MAKE) --no-print-directory deps-arch ARCH=riscv64
	$(Q)$(MAKE) --no-print-directory deps-image
	$(Q)$(MAKE) --no-print-directory all $(O)/kta-san $(GUESTFS)
	$(Q)$(MAKE) --no-print-directory guest ARCH=arm64
	$(Q)$(MAKE) --no-print-directory guest-base ARCH=riscv64
	$(Q)tests/check.sh

soak: deps-check
	$(Q)$(MAKE) --no-print-directory all $(O)/kta-san
	$(Q)tests/soak.sh

bench: guests-all
	$(Q)bench/boot.sh
	$(Q)bench/asan.sh
	$(Q)bench/sockmap.sh

# What --image costs against a run without it (docs/image.md).
bench-image: image
	$(Q)bench/image.sh

# The kernel's BPF selftests: ext4 payload against initramfs (builds the
# kernel and the selftests the first time: docs/selftests.md).
bench-selftests: host guest
	$(Q)bench/selftests.sh

# Every architecture's guest: the acceptance run and the matrix boot them all.
guests-all: deps-check
	$(Q)for a in $(KTA_ARCHES); do \
		$(MAKE) --no-print-directory deps-arch all ARCH=$$a || exit 1; done

acceptance: guests-all guestfs
	$(Q)tests/acceptance.sh

# `make vm-test` on every architecture at once (kta run --arch all): one
# table at the end. ARCHES=arm64,s390x for a subset.
vm-test-all: guests-all
	$(Q)ARCH=$(or $(ARCHES),all) scripts/vm-test.sh

# Full build, incremental rebuild + boot, boot to first result of the
# minimal patched kernel (docs/kernel-build.md); not part of `make bench`,
# which must stay short.
bench-build: deps-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/build.sh

# Build (or reuse) the minimal patched kernel; prints its image's path.
kernel-source: deps-check
	$(Q)$(MAKE) --no-print-directory host
	$(Q)scripts/kernel-source.sh

clean:
	rm -rf $(O)

export O ARCH KVERSION KERNEL KTA_ARGS SUITE ITERATIONS
