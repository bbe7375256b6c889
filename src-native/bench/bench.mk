# bench/bench.mk — the sandbox core's benchmark: `make bench` prints its Markdown table.
$(BUILD)/bench/guests/cpubound: bench/guests/cpubound.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(BUILD)/bench/guests/cpubound-page: bench/guests/cpubound.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -DABI_API_PAGE -static -o $@ $<

# Allocation-heavy work with both libcs (issue #14: the memory system calls they make).
$(BUILD)/bench/guests/allocloop: bench/guests/allocloop.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(BUILD)/bench/guests/allocloop-musl: bench/guests/allocloop.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	musl-gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(BUILD)/bench/bench_core: bench/bench_core.c include/kvmfilter.h $(BUILD)/lib/libkvmfilter.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/bench_core.c $(BUILD)/lib/libkvmfilter.a -lpthread -lrt

# It borrows four guests from the test suite.
$(BUILD)/bench/guests/%: $(BUILD)/tests/guests/%
	@mkdir -p $(@D)
	cp $< $@

BENCH_TARGETS += $(BUILD)/bench/bench_core $(BUILD)/bench/guests/cpubound $(BUILD)/bench/guests/empty \
                 $(BUILD)/bench/guests/cpubound-page $(BUILD)/bench/guests/empty-page \
                 $(BUILD)/bench/guests/counter $(BUILD)/bench/guests/hello \
                 $(BUILD)/bench/guests/allocloop $(BUILD)/bench/guests/allocloop-musl
BENCH_COMMANDS += '$(BUILD)/bench/bench_core $(BUILD)/bench/guests'
