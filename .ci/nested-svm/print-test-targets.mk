# Make fragment for host-reference.sh: prints $(TEST_TARGETS), what `make test` builds before it tests.
.PHONY: print-test-targets
print-test-targets:
	@echo $(TEST_TARGETS)
