# The ASAN suite: the BPF selftests `token` and `test_bpffs` rebuilt as
# small programs with gcc -fsanitize=address, each run in a pre-fix
# (--exit) and a post-fix (--_exit) variant; see asan_child.h, suite.txt.
# ASAN cannot link statically: libbpf.a is linked in, and libasan, libelf,
# libz, libm, libgcc_s, libc and the loader are shared libraries that must
# be in the guest. asan_token embeds token_prog.bpf.c's skeleton.
ASAN_BINS := $(SUITE_OUT)/asan/asan_token $(SUITE_OUT)/asan/asan_bpffs
ASAN_CFLAGS = $(GUEST_CFLAGS) -fsanitize=address -fno-omit-frame-pointer -g \
	$(call bpf_cflags,asan)
SUITE_TARGETS += $(ASAN_BINS) $(SUITE_OUT)/asan/suite.txt

.PHONY: guest-asan
guest-asan: $(ASAN_BINS) $(SUITE_OUT)/asan/suite.txt

$(ASAN_BINS): $(SUITE_OUT)/asan/%: guest-tests/asan/%.c guest-tests/asan/asan_child.h \
		guest-tests/kta_test.h $(LIBBPF_A) $(call bpf_skels,asan)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC-ASAN $@")
	$(Q)$(GUEST_CC) $(ASAN_CFLAGS) -o $@ $< $(BPF_LDLIBS)
