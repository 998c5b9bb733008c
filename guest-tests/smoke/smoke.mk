# The smoke suite: static C programs, no libbpf (raw bpf(2) only), so they
# also run on kernels and architectures where nothing else is built yet.
SMOKE_BINS := $(patsubst guest-tests/smoke/%.c,$(SUITE_OUT)/smoke/%,$(wildcard guest-tests/smoke/*.c))
SUITE_TARGETS += $(SMOKE_BINS) $(SUITE_OUT)/smoke/suite.txt

$(SUITE_OUT)/smoke/%: guest-tests/smoke/%.c $(wildcard guest-tests/*.h)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -static -o $@ $<
