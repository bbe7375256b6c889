# tests/sanitized.mk — `make test-sanitized`: the sandbox suite again, with the host code (the core and the
# suite itself) built with AddressSanitizer and UndefinedBehaviorSanitizer. The core parses what hostile
# guests hand it, so any report fails the run (CI runs it after the main build). The guests are the normal
# builds of tests.mk: sanitizers instrument the host only.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANITIZED_OBJS := $(patsubst core/%.c,$(BUILD)/sanitized/obj/%.o,$(CORE_SRCS)) $(BUILD)/obj/core/stub.o

$(BUILD)/sanitized/obj/%.o: core/%.c $(CORE_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANITIZE) -c $< -o $@

$(BUILD)/sanitized/run-tests: $(TEST_SUITE_SRCS) tests/harness.h include/kvmfilter.h $(SANITIZED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -D_GNU_SOURCE -o $@ $(TEST_SUITE_SRCS) $(SANITIZED_OBJS) -lpthread -lrt

.PHONY: test-sanitized
test-sanitized: prereqs prereqs-test
	@$(MAKE) --no-print-directory $(TEST_GUESTS) $(BUILD)/sanitized/run-tests
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(BUILD)/sanitized/run-tests $(BUILD)/tests/guests
