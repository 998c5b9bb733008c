# The sockmap suite: sockmap_multi, a static libbpf program that measures the
# race behind the flaky sockmap_basic "multi channels" selftest (see
# sockmap_multi.c), with its BPF object sockmap_redir.bpf.c as a skeleton.
# Needs mk/bpf.mk (libbpf, skeletons); included by the top Makefile.
#
# The kernel options the binary checks at start are generated from
# kernel-config/sockmap.config, so the fragment and the check cannot drift.
SOCKMAP_OUT := $(SUITE_OUT)/sockmap
SOCKMAP_SRCS := $(filter-out %.bpf.c,$(wildcard guest-tests/sockmap/*.c))
SOCKMAP_KCONFIG_INC := $(BPF_SKEL_DIR)/sockmap/sockmap_kconfig.inc
SUITE_TARGETS += $(SOCKMAP_OUT)/sockmap_multi $(SOCKMAP_OUT)/suite.txt

.PHONY: guest-sockmap
guest-sockmap: $(SOCKMAP_OUT)/sockmap_multi $(SOCKMAP_OUT)/suite.txt

# One "CONFIG_X", line per CONFIG_X=y (or =m) of the fragment.
$(SOCKMAP_KCONFIG_INC): kernel-config/sockmap.config guest-tests/sockmap/sockmap.mk
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=[ym]$$/"\1",/p' $< > $@.tmp && \
		test -s $@.tmp && mv $@.tmp $@

$(SOCKMAP_OUT)/sockmap_multi: $(SOCKMAP_SRCS) $(wildcard guest-tests/sockmap/*.h) \
		guest-tests/kta_test.h $(LIBBPF_A) $(call bpf_skels,sockmap) $(SOCKMAP_KCONFIG_INC)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) $(call bpf_cflags,sockmap) -o $@ $(SOCKMAP_SRCS) \
		$(BPF_LDLIBS_STATIC)
