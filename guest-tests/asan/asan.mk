# The ASAN suite: the BPF selftests `token` and `test_bpffs` rebuilt as
# small programs with -fsanitize=address (gcc, or clang where the arch's
# row says why: ASAN_CC), each run in a pre-fix (--exit) and a post-fix
# (--_exit) variant; see asan_child.h, suite.txt. They are dynamic
# executables: libbpf.a is linked in, and libc, libm, libgcc_s, the loader
# and (gcc's) libasan are shared libraries that must be in the guest;
# clang links LLVM's runtime statically. asan_token embeds
# token_prog.bpf.c's skeleton.
ASAN_BINS := $(SUITE_OUT)/asan/asan_token $(SUITE_OUT)/asan/asan_bpffs
ASAN_CFLAGS = $(GUEST_CFLAGS) -fsanitize=address -fno-omit-frame-pointer -g \
	$(call bpf_cflags,asan)
SUITE_TARGETS += $(ASAN_BINS) $(SUITE_OUT)/asan/suite.txt

.PHONY: guest-asan
guest-asan: $(ASAN_BINS) $(SUITE_OUT)/asan/suite.txt

# The compiler as a file, rewritten only when it changes: a new ASAN_CC
# (gcc to clang) rebuilds the programs.
ASAN_CC_STAMP := $(SUITE_OUT)/asan/.cc
.PHONY: asan-cc-check
asan-cc-check:
	@mkdir -p $(SUITE_OUT)/asan
	@echo '$(ASAN_CC)' | cmp -s - $(ASAN_CC_STAMP) || echo '$(ASAN_CC)' > $(ASAN_CC_STAMP)
$(ASAN_CC_STAMP): asan-cc-check

$(ASAN_BINS): $(SUITE_OUT)/asan/%: guest-tests/asan/%.c guest-tests/asan/asan_child.h \
		guest-tests/kta_test.h $(LIBBPF_A) $(call bpf_skels,asan) $(ASAN_CC_STAMP) | $(ASAN_CC_DEPS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC-ASAN $@")
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -o $@ $< $(BPF_LDLIBS)
