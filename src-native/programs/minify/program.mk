# programs/minify/program.mk — the minify guest program → $(BUILD)/programs/minify (static glibc ELF)
include programs/common/common.mk

MINIFY_SRCS := programs/minify/main.c programs/minify/minify.c programs/minify/mbuf.c programs/minify/minify_json.c \
               programs/minify/css.c programs/minify/js.c programs/minify/html.c programs/minify/bench.c \
               $(PROGRAMS_COMMON_SRCS)

MINIFY_DEPS := $(MINIFY_SRCS) programs/minify/minify.h programs/minify/bench.h $(PROGRAMS_COMMON_HDRS) \
               programs/common/common.mk programs/minify/program.mk

$(BUILD)/programs/minify: $(MINIFY_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -static -o $@ $(MINIFY_SRCS)

PROGRAM_TARGETS += $(BUILD)/programs/minify
# Tests need node (nodejs), node-css and node-domino (mk/packages-test.txt). The second run sends the same cases
# through kvmrun into the sandbox (it says SKIP while kvmrun is not built).
TEST_COMMANDS += 'programs/minify/tests/run-tests.sh $(BUILD)/programs/minify'
TEST_COMMANDS += 'MINIFY_TEST_MODE=sandbox KVMRUN=$(BUILD)/bin/kvmrun programs/minify/tests/run-tests.sh $(BUILD)/programs/minify'
BENCH_COMMANDS += 'programs/minify/tests/bench.sh $(BUILD)/programs/minify'
